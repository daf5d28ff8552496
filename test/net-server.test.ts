/**
 * The net layer's TcpServer (as the `uring` echo server, in a child process)
 * under the awkward cases: messages larger than one ring buffer, a client
 * that does not read (backpressure), half close, peer reset, 2000
 * connections, and the ring-made listener's errors (port in use).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as netConnect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { Ring } from "../src/ring/ring.ts";
import { Op } from "../src/sys/constants.ts";
import { closeFd } from "../src/sys/ffi.ts";
import { connectMany } from "../src/net/client.ts";
import { MsgFlags, SockOpt } from "../src/net/constants.ts";
import { openListener } from "../src/net/listener.ts";
import { prepSendRaw, prepSetsockopt } from "../src/net/prep.ts";
import { syncOp } from "../src/net/sync.ts";
import { addressOf } from "../src/sys/ffi.ts";
import { runLoad } from "../cli/echo/load.ts";
import { freePort, startServer, stopServer, type ServerProcess } from "../cli/echo/processes.ts";
import { kernelHasOp } from "./helpers.ts";

const HOST = "127.0.0.1";
const haveNetOps = kernelHasOp(Op.SOCKET) && kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN);

/** Sends `data` on a fresh node:net connection, half-closes, and collects the whole echo. */
function echoOnce(port: number, data: Uint8Array, opts: { readDelayMs?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s: Socket = netConnect({ host: HOST, port, allowHalfOpen: true }, () => {
      if (opts.readDelayMs) {
        s.pause();
        setTimeout(() => s.resume(), opts.readDelayMs);
      }
      s.end(data);
    });
    s.on("data", (d) => chunks.push(Buffer.from(d)));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
    setTimeout(() => reject(new Error("echo timed out")), 20_000).unref?.();
  });
}

function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed + (i >> 8)) & 0xff;
  return b;
}

describe.skipIf(!haveNetOps)("TcpServer (uring echo server)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer("uring", HOST, 0, undefined);
  });
  afterAll(async () => {
    await stopServer(server);
  });

  test("echoes a small message", async () => {
    const data = pattern(100);
    expect(await echoOnce(server.port, data)).toEqual(Buffer.from(data));
  });

  test("echoes a message far larger than one ring buffer (2 KiB), in order", async () => {
    const data = pattern(300_000, 7);
    const got = await echoOnce(server.port, data);
    expect(got.length).toBe(data.length);
    expect(got.equals(Buffer.from(data))).toBe(true);
  });

  test("backpressure: a client that reads late still gets every byte, in order", async () => {
    // 4 MiB with reading paused: the server's sends stall, its recv pauses, nothing is lost.
    const data = pattern(4 << 20, 3);
    const got = await echoOnce(server.port, data, { readDelayMs: 500 });
    expect(got.length).toBe(data.length);
    expect(got.equals(Buffer.from(data))).toBe(true);
  });

  test("half close: the echo is finished before the server closes", async () => {
    const data = pattern(50_000, 9);
    const got = await echoOnce(server.port, data);
    expect(got.equals(Buffer.from(data))).toBe(true);
  });

  test("peer reset: the server keeps serving", async () => {
    const ring = new Ring(64);
    try {
      for (let i = 0; i < 5; i++) {
        const [fd] = connectMany(ring, HOST, server.port, 1);
        // SO_LINGER {on, 0 s}: close() sends RST instead of FIN.
        const linger = new Uint8Array(8);
        new DataView(linger.buffer).setInt32(0, 1, true);
        expect(syncOp(ring, (sqe) => prepSetsockopt(sqe, fd!, SockOpt.SOL_SOCKET, 13 /* SO_LINGER */, linger))).toBe(0);
        const msg = pattern(10_000);
        expect(syncOp(ring, (sqe) => prepSendRaw(sqe, fd!, addressOf(msg), msg.length, MsgFlags.NOSIGNAL))).toBe(msg.length);
        closeFd(fd!);
      }
    } finally {
      ring.close();
    }
    await Bun.sleep(50);
    const data = pattern(1000, 5);
    expect(await echoOnce(server.port, data)).toEqual(Buffer.from(data));
    expect(server.child.exitCode).toBeNull();
  });

  test("2000 connections, one message each in flight, no errors", () => {
    const r = runLoad({ host: HOST, port: server.port, connections: 2000, bytes: 64, durationMs: 400, warmupMs: 100 });
    expect(r.errors).toBe(0);
    expect(r.connectionsAlive).toBe(2000);
    expect(r.roundTrips).toBeGreaterThan(0);
  });
});

describe.skipIf(!haveNetOps)("openListener", () => {
  test("a port in use is reported as such, with what to do", async () => {
    const port = await freePort(HOST);
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(port, HOST, resolve));
    const ring = new Ring(8);
    try {
      expect(() => openListener(ring, { host: HOST, port, reuseAddr: false })).toThrow(/in use \(EADDRINUSE\)/);
    } finally {
      ring.close();
      other.close();
    }
  });

  test("listens and accepts a plain connect", async () => {
    const port = await freePort(HOST);
    const ring = new Ring(8);
    const fd = openListener(ring, { host: HOST, port });
    try {
      await new Promise<void>((resolve, reject) => {
        const s = netConnect(port, HOST, () => {
          s.destroy();
          resolve();
        });
        s.on("error", reject);
      });
    } finally {
      closeFd(fd);
      ring.close();
    }
  });
});

/** Starts server-uring.ts with extra arguments; resolves with its port and READY details. */
async function startUringWith(args: string[]): Promise<{ child: ReturnType<typeof Bun.spawn>; port: number; detail: string }> {
  const port = await freePort(HOST);
  const child = Bun.spawn([process.execPath, SERVER_URING, "--host", HOST, "--port", String(port), ...args], { stdout: "pipe", stderr: "pipe" });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (!text.includes("\n") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const m = /^READY (\d+) ?(.*)$/m.exec(text);
  if (!m) {
    child.kill(9);
    throw new Error(`server did not start: ${text}`);
  }
  return { child, port: Number(m[1]), detail: m[2] ?? "" };
}

const SERVER_URING = join(import.meta.dir, "..", "cli", "echo", "server-uring.ts");

describe.skipIf(!haveNetOps)("TcpServer connection kinds", () => {
  test("direct descriptors by default: READY says so, and echoes work", async () => {
    const s = await startUringWith([]);
    try {
      expect(s.detail).toContain("direct-descriptors");
      const data = pattern(3000, 9);
      expect(await echoOnce(s.port, data)).toEqual(Buffer.from(data));
    } finally {
      s.child.kill();
      await s.child.exited;
    }
  });

  test("plain fds (--plain-fds): the same echo, many connections, no errors", async () => {
    const s = await startUringWith(["--plain-fds"]);
    try {
      expect(s.detail).not.toContain("direct-descriptors");
      const data = pattern(5000, 3);
      expect(await echoOnce(s.port, data)).toEqual(Buffer.from(data));
      const r = runLoad({ host: HOST, port: s.port, connections: 200, bytes: 100, durationMs: 200, warmupMs: 50 });
      expect(r.errors).toBe(0);
      expect(r.connectionsAlive).toBe(200);
    } finally {
      s.child.kill();
      await s.child.exited;
    }
  });
});

describe.skipIf(!haveNetOps)("TcpServer after close", () => {
  test("every public method throws ClosedError; close() again is a no-op", async () => {
    const { TcpServer } = await import("../src/net/server.ts");
    const { ClosedError } = await import("../src/sys/closed.ts");
    const server = new TcpServer({ host: HOST, port: await freePort(HOST), handler: { onData: () => false } });
    server.close();
    server.close();
    const calls: Array<[string, () => unknown]> = [
      ["connections", () => server.connections],
      ["stats", () => server.stats()],
      ["fdOf", () => server.fdOf(0)],
      ["queuedBytes", () => server.queuedBytes(0)],
      ["sendBuffer", () => server.sendBuffer(0, 0, 1)],
      ["send", () => server.send(0, new Uint8Array(1))],
      ["end", () => server.end(0)],
      ["run", () => server.run()],
      ["stop", () => server.stop()],
    ];
    for (const [name, call] of calls) {
      expect(call, name).toThrow(ClosedError);
    }
  });
});
