/**
 * GC safety: forced collections (Bun.gc(true)) while thousands of requests
 * are in flight. The pending slot holds every buffer until the final CQE, so
 * nothing the kernel writes may be freed or moved: zero corrupted bytes, and
 * no buffer finalized before its request completed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Uring } from "../src/async/index.ts";
import { prepRead } from "../src/ops/rw.ts";
import { Op, SqeFlags } from "../src/sys/constants.ts";
import { tempDir } from "./helpers.ts";

const BLOCK = 4096;
const BLOCKS = 1024;

let dir: string;
let cleanup: () => void;
let path: string;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  path = join(dir, "pattern.bin");
  // Every 4-byte word holds its own byte offset: any misplaced byte shows.
  const fd = openSync(path, "w");
  const words = new Uint32Array(BLOCK / 4);
  for (let b = 0; b < BLOCKS; b++) {
    for (let i = 0; i < words.length; i++) words[i] = b * BLOCK + i * 4;
    writeSync(fd, words);
  }
  closeSync(fd);
});
afterAll(() => cleanup());

/** Counts words that do not hold their own offset. */
function badWords(buf: Uint8Array, offset: number): number {
  const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
  let bad = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== offset + i * 4) bad++;
  return bad;
}

describe("forced GC with requests in flight", () => {
  test("4096 reads through io-wq (IOSQE_ASYNC) with Bun.gc(true) while the kernel copies: zero corrupted bytes", async () => {
    const uring = new Uring({ entries: 256 });
    const fd = openSync(path, "r");
    try {
      const N = 4096;
      const bufs: Uint8Array[] = [];
      const offsets: number[] = [];
      const ps: Promise<number>[] = [];
      for (let i = 0; i < N; i++) {
        // Small arrays (the GC may move their storage) and odd sizes.
        const len = i % 3 === 0 ? 64 : i % 3 === 1 ? 256 : BLOCK;
        const off = ((i * 7919) % BLOCKS) * BLOCK + (i % 8) * 64;
        const buf = new Uint8Array(Math.min(len, BLOCK - (i % 8) * 64));
        bufs.push(buf);
        offsets.push(off);
        ps.push(
          uring.submit(
            Op.READ,
            (sqe) => {
              prepRead(sqe, fd, buf, buf.byteLength, off);
              // Punt to the kernel's worker threads: they copy into our buffers
              // concurrently with the collections below.
              sqe.u8[1] = sqe.u8[1]! | SqeFlags.ASYNC;
            },
            buf,
          ),
        );
        if (i % 512 === 511) Bun.gc(true);
      }
      await null; // the batch is submitted in this microtask turn
      Bun.gc(true);
      Bun.gc(true);
      const res = await Promise.all(ps);
      Bun.gc(true);
      let bad = 0;
      for (let i = 0; i < N; i++) {
        expect(res[i]).toBe(bufs[i]!.byteLength);
        bad += badWords(bufs[i]!, offsets[i]!);
      }
      expect(bad).toBe(0);
      expect(uring.pending).toBe(0);
    } finally {
      closeSync(fd);
      uring.close();
    }
  });

  test("2000 reads into buffers only the ring holds: none is collected before its CQE, all bytes land", async () => {
    const uring = new Uring({ entries: 256 });
    const fifoPath = join(dir, "gc-fifo");
    if (Bun.spawnSync(["mkfifo", fifoPath]).exitCode !== 0) throw new Error("mkfifo failed");
    const fd = openSync(fifoPath, "r+");
    const completed = new Set<number>();
    const finalizedEarly: number[] = [];
    const registry = new FinalizationRegistry<number>((i) => {
      if (!completed.has(i)) finalizedEarly.push(i);
    });
    try {
      const N = 2000;
      const ps: Promise<void>[] = [];
      const refs: WeakRef<Uint8Array>[] = [];
      for (let i = 0; i < N; i++) {
        // The test keeps no strong reference: only the pending slot does.
        const buf = new Uint8Array(1);
        registry.register(buf, i);
        refs.push(new WeakRef(buf));
        ps.push(
          uring.read(fd, buf, -1).then((n) => {
            expect(n).toBe(1);
            const b = refs[i]!.deref();
            // Still reachable at completion (the slot held it until now).
            expect(b).toBeDefined();
            expect(b![0]).toBe(0x5a);
            completed.add(i);
          }),
        );
      }
      for (let r = 0; r < 5; r++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        Bun.gc(true);
        // Garbage of the same size class, to reuse any memory freed too early.
        for (let j = 0; j < 2000; j++) new Uint8Array(1).fill(0x11);
      }
      expect(uring.pending).toBe(N);
      expect(finalizedEarly).toEqual([]);
      // Every pending read takes one byte.
      writeSync(fd, new Uint8Array(N).fill(0x5a));
      await Promise.all(ps);
      Bun.gc(true);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(finalizedEarly).toEqual([]);
      expect(completed.size).toBe(N);
    } finally {
      closeSync(fd);
      uring.close();
    }
  });

  test("a Uring dropped by its caller with requests in flight stays alive until they complete", async () => {
    const fifoPath = join(dir, "gc-drop-fifo");
    if (Bun.spawnSync(["mkfifo", fifoPath]).exitCode !== 0) throw new Error("mkfifo failed");
    const fd = openSync(fifoPath, "r+");
    let collected = false;
    const registry = new FinalizationRegistry<string>(() => {
      collected = true;
    });
    try {
      // Nothing outside this function keeps the Uring: only its pending reads do.
      const start = (): Promise<number[]> => {
        const uring = new Uring();
        registry.register(uring, "uring");
        return Promise.all(Array.from({ length: 100 }, () => uring.read(fd, new Uint8Array(1), -1)));
      };
      const all = start();
      for (let r = 0; r < 5; r++) {
        await new Promise((resolve) => setTimeout(resolve, 2)); // parks on the waiter thread
        Bun.gc(true);
      }
      expect(collected).toBe(false);
      writeSync(fd, new Uint8Array(100).fill(1));
      expect((await all).every((n) => n === 1)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});
