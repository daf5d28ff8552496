/**
 * Multishot requests as async iterators: accept, recv into a buffer ring
 * (leases, ENOBUFS re-arm, incremental consumption), poll, repeating
 * timeouts, read multishot; `break` cancels; F_MORE dropping ends the loop.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, writeSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { Uring, UringError } from "../src/async/index.ts";
import { BufferRing } from "../src/mem/buffer-ring.ts";
import { sockaddrIn } from "../src/ops/sockaddr.ts";
import { Op } from "../src/sys/constants.ts";
import { kernelHasOp, tempDir } from "./helpers.ts";

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const POLLIN = 1;

/** A listening TCP socket on 127.0.0.1 made through the ring (socket, bind, listen). */
async function listen(uring: Uring): Promise<{ fd: number; port: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const fd = await uring.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC);
    const port = 20000 + Math.floor(Math.random() * 30000);
    try {
      await uring.bind(fd, sockaddrIn("127.0.0.1", port));
      await uring.listen(fd, 64);
      return { fd, port };
    } catch (err) {
      closeSync(fd);
      if (!(err instanceof UringError && err.code === "EADDRINUSE")) throw err;
    }
  }
  throw new Error("no free port");
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

const haveNet = kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN) && kernelHasOp(Op.SOCKET);

describe("multishot", () => {
  test.skipIf(!haveNet)("accept: one fd per connection; break cancels the request", async () => {
    const uring = new Uring();
    const { fd, port } = await listen(uring);
    const clients: Socket[] = [];
    try {
      const it = uring.accept(fd, { multishot: true });
      for (let i = 0; i < 3; i++) clients.push(await dial(port));
      const fds: number[] = [];
      for await (const conn of it) {
        fds.push(conn);
        if (fds.length === 3) break;
      }
      expect(new Set(fds).size).toBe(3);
      for (const c of fds) expect(c).toBeGreaterThan(2);
      fds.forEach((c) => closeSync(c));
      await waitFor(() => uring.pending === 0);
    } finally {
      clients.forEach((c) => c.destroy());
      closeSync(fd);
      uring.close();
    }
  });

  test.skipIf(!haveNet)("recv with a buffer ring: leases in order, ENOBUFS re-arms, ends when the peer closes", async () => {
    const uring = new Uring();
    const { fd, port } = await listen(uring);
    // Two 16-byte buffers: the kernel runs dry quickly and ends the request with ENOBUFS.
    const br = new BufferRing(uring.ring, { bgid: 7, count: 2, bufferSize: 16 });
    let client: Socket | null = null;
    try {
      const accepted = uring.accept(fd);
      client = await dial(port);
      const conn = await accepted;
      const payload = new Uint8Array(4000);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
      const got: number[] = [];
      const it = uring.recv(conn, { bufferRing: br });
      const reader = (async () => {
        for await (const lease of it) {
          expect(lease.data.byteLength).toBeLessThanOrEqual(16);
          for (const b of lease.data) got.push(b);
          // Slow consumer every so often: buffers run out meanwhile.
          if (got.length % 320 === 0) await new Promise((r) => setTimeout(r, 2));
        }
      })();
      client.write(payload);
      client.end();
      await reader;
      expect(got.length).toBe(payload.length);
      expect(Buffer.from(got).equals(Buffer.from(payload))).toBe(true);
      // 4000 bytes through two 16-byte buffers: the kernel ran dry and we re-armed.
      expect(it.rearms).toBeGreaterThan(0);
      closeSync(conn);
      await waitFor(() => uring.pending === 0);
    } finally {
      client?.destroy();
      br.close();
      closeSync(fd);
      uring.close();
    }
  });

  test.skipIf(!haveNet || !kernelHasOp(Op.SEND_ZC))("sendZc resolves after the notification; incremental buffer ring recv", async () => {
    const uring = new Uring();
    const { fd, port } = await listen(uring);
    let br: BufferRing | null = null;
    const client = await dial(port);
    try {
      const conn = await uring.accept(fd);
      const chunks: Buffer[] = [];
      client.on("data", (d: Buffer) => chunks.push(d));
      const data = new Uint8Array(5000).fill(0x42);
      expect(await uring.sendZc(conn, data)).toBe(5000);
      expect(await uring.send(conn, new Uint8Array([1, 2, 3]))).toBe(3);
      await waitFor(() => chunks.reduce((n, c) => n + c.length, 0) === 5003);
      // Incremental consumption (6.12): one 4 KiB buffer serves several receives.
      try {
        br = new BufferRing(uring.ring, { bgid: 9, count: 2, bufferSize: 4096, incremental: true });
      } catch {
        br = null; // kernel without IOU_PBUF_RING_INC
      }
      if (br !== null) {
        const got: number[] = [];
        const reader = (async () => {
          for await (const lease of uring.recv(conn, { bufferRing: br! })) got.push(...lease.data);
        })();
        for (let i = 0; i < 5; i++) {
          client.write(new Uint8Array(100).fill(i));
          await new Promise((r) => setTimeout(r, 5));
        }
        client.end();
        await reader;
        expect(got.length).toBe(500);
        for (let i = 0; i < 5; i++) expect(got.slice(i * 100, i * 100 + 100).every((b) => b === i)).toBe(true);
      }
      closeSync(conn);
      await waitFor(() => uring.pending === 0);
    } finally {
      client.destroy();
      br?.close();
      closeSync(fd);
      uring.close();
    }
  });

  test("poll: readiness events until break", async () => {
    const uring = new Uring();
    const { dir, cleanup } = tempDir();
    const path = join(dir, "fifo");
    Bun.spawnSync(["mkfifo", path]);
    const pfd = openSync(path, "r+");
    try {
      const it = uring.poll(pfd, POLLIN, { multishot: true });
      writeSync(pfd, "x");
      const first = await it.next();
      expect(first.done).toBe(false);
      expect((first.value as number) & POLLIN).toBe(POLLIN);
      await it.return!();
      await waitFor(() => uring.pending === 0);
      // One-shot form.
      expect((await uring.poll(pfd, POLLIN)) & POLLIN).toBe(POLLIN);
    } finally {
      closeSync(pfd);
      cleanup();
      uring.close();
    }
  });

  test("interval (TIMEOUT_MULTISHOT): counted ticks end cleanly when F_MORE drops", async () => {
    const uring = new Uring();
    try {
      const ticks: number[] = [];
      for await (const t of uring.interval(2, 3)) ticks.push(t);
      expect(ticks).toEqual([1, 2, 3]);
      expect(uring.pending).toBe(0);
      // Endless interval: break cancels.
      let seen = 0;
      for await (const _ of uring.interval(1)) if (++seen === 2) break;
      await waitFor(() => uring.pending === 0);
    } finally {
      uring.close();
    }
  });

  test("an AbortSignal ends an iterator with the abort error", async () => {
    const uring = new Uring();
    try {
      const ac = new AbortController();
      const it = uring.interval(1000, 0, { signal: ac.signal });
      const next = it.next();
      setTimeout(() => ac.abort(), 5);
      const err = (await next.catch((e: unknown) => e)) as UringError;
      expect(err).toBeInstanceOf(UringError);
      expect(err.code).toBe("ECANCELED");
      await waitFor(() => uring.pending === 0);
    } finally {
      uring.close();
    }
  });

  test.skipIf(!kernelHasOp(Op.READ_MULTISHOT))("read multishot from a FIFO into a buffer ring", async () => {
    const uring = new Uring();
    const { dir, cleanup } = tempDir();
    const path = join(dir, "fifo");
    Bun.spawnSync(["mkfifo", path]);
    const pfd = openSync(path, "r+");
    const br = new BufferRing(uring.ring, { bgid: 3, count: 4, bufferSize: 64 });
    try {
      const it = uring.readMultishot(pfd, br);
      writeSync(pfd, "hello");
      const a = await it.next();
      expect(new TextDecoder().decode((a.value as { data: Uint8Array }).data)).toBe("hello");
      writeSync(pfd, "again");
      const b = await it.next();
      expect(new TextDecoder().decode((b.value as { data: Uint8Array }).data)).toBe("again");
      await it.return!();
      await waitFor(() => uring.pending === 0);
    } finally {
      br.close();
      closeSync(pfd);
      cleanup();
      uring.close();
    }
  });
});
