/**
 * Ownership (issue 13, docs/memory-safety.md): a buffer the kernel holds
 * cannot be freed or moved under it. The kernel only ever gets addresses of
 * library-owned memory, so detaching the caller's buffer while its read is
 * in flight (transfer(), structuredClone with transfer, postMessage with a
 * transfer list) or forcing GC is harmless: no other array changes, the
 * request still completes. Before this, an unrelated array was corrupted in
 * about one run of four, or Bun segfaulted at exit.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Uring } from "../src/async/uring.ts";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import { openFifo, tempDirPerFile } from "./helpers.ts";

const tmp = tempDirPerFile();

function canaries(n = 256): { intact: () => boolean } {
  const arrays = Array.from({ length: n }, (_, i) => new Uint8Array(64).fill(i & 0xff));
  return { intact: () => arrays.every((a, i) => a.every((b) => b === (i & 0xff))) };
}

/** The buffer behind a view the test made itself (never shared). */
const own = (buf: Uint8Array): ArrayBuffer => buf.buffer as ArrayBuffer;

const DETACHERS: Array<[string, (buf: Uint8Array) => unknown]> = [
  ["ArrayBuffer.prototype.transfer", (buf) => own(buf).transfer()],
  ["structuredClone with transfer", (buf) => structuredClone(own(buf), { transfer: [own(buf)] })],
  [
    "postMessage with a transfer list",
    (buf) => {
      const { port1, port2 } = new MessageChannel();
      port1.postMessage(own(buf), [own(buf)]);
      port1.close();
      port2.close();
      return null;
    },
  ],
];

describe("detaching a buffer while its read is in flight is harmless", () => {
  for (const [name, detach] of DETACHERS) {
    test(name, async () => {
      const uring = new Uring();
      const fifos = Array.from({ length: 8 }, () => openFifo(tmp.dir));
      try {
        const before = canaries();
        // Large buffers keep their storage in place when transferred (the new owner gets the same memory),
        // small ones are copied and freed: both kinds.
        const bufs = fifos.map((_, i) => new Uint8Array(i % 2 === 0 ? 64 : 1 << 20));
        const reads = fifos.map((f, i) => uring.read(f.fd, bufs[i]!, -1));
        await uring.nop(); // the reads are submitted and parked in the kernel
        const moved = bufs.map((b) => detach(b));
        for (let i = 0; i < 3; i++) Bun.gc(true);
        const after = canaries();
        for (const f of fifos) writeSync(f.fd, new Uint8Array(64).fill(0xee));
        const n = await Promise.all(reads);
        expect(n.every((r) => r === 64)).toBe(true);
        for (const b of bufs) expect(b.byteLength).toBe(0); // detached: nothing was copied into it
        for (const m of moved) if (m instanceof ArrayBuffer) expect(new Uint8Array(m).every((x) => x === 0)).toBe(true);
        for (let i = 0; i < 3; i++) Bun.gc(true);
        expect(before.intact() && after.intact()).toBe(true);
      } finally {
        for (const f of fifos) f.close();
        uring.close();
      }
    });
  }

  test("a detached buffer is refused at the call", async () => {
    const uring = new Uring();
    try {
      const buf = new Uint8Array(16);
      buf.buffer.transfer();
      const err = (await uring.read(0, buf, 0).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toContain("detached");
    } finally {
      uring.close();
    }
  });

  test("a write's bytes are taken at the call: detaching or changing the buffer afterwards does not reach the file", async () => {
    const uring = new Uring();
    const path = join(tmp.dir, "w");
    const fd = await uring.open(path, 0o102 /* O_RDWR|O_CREAT */, 0o644);
    try {
      const data = new Uint8Array(4096).fill(0x41);
      const p = uring.write(fd, data, 0);
      data.fill(0x42);
      data.buffer.transfer();
      expect(await p).toBe(4096);
      expect(readFileSync(path).every((b) => b === 0x41)).toBe(true);
    } finally {
      await uring.closeFd(fd);
      uring.close();
    }
  });

  test("Bun.gc(true) while thousands of reads are in flight: every byte lands, canaries unchanged", async () => {
    const uring = new Uring({ entries: 256 });
    const f = openFifo(tmp.dir);
    try {
      const before = canaries();
      const bufs = Array.from({ length: 512 }, () => new Uint8Array(8));
      const reads = bufs.map((b) => uring.read(f.fd, b, -1));
      for (let i = 0; i < 5; i++) {
        Bun.gc(true);
        await Bun.sleep(1);
      }
      for (let i = 0; i < bufs.length; i++) writeSync(f.fd, new Uint8Array(8).fill(i & 0xff));
      await Promise.all(reads);
      const seen = bufs.map((b) => b[0]!).sort((a, b) => a - b);
      expect(bufs.every((b) => b.every((x) => x === b[0]))).toBe(true);
      expect(seen.length).toBe(512);
      expect(before.intact()).toBe(true);
    } finally {
      f.close();
      uring.close();
    }
  });
});

describe("library memory outlives every view of it", () => {
  test("an AlignedBuffer's bytes transferred away stay valid after free() and GC", async () => {
    const buf = new AlignedBuffer(1 << 16, 4096, { mapped: true });
    buf.bytes.fill(7);
    const moved = new Uint8Array(own(buf.bytes).transfer());
    buf.free();
    for (let i = 0; i < 3; i++) {
      Bun.gc(true);
      await Bun.sleep(1);
    }
    // Still mapped (the contents own the mapping); free() dropped the pages, so they read zero.
    moved[0] = 1;
    expect(moved[0]).toBe(1);
    expect(moved[100]).toBe(0);
  });
});
