/**
 * FixedBuffers: a registered-buffer table, and the READ_FIXED / WRITE_FIXED
 * round trip through it on a temp file, under each ring configuration.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FixedBuffers } from "../src/mem/fixed-buffers.ts";
import { prepRw } from "../src/ops/rw.ts";
import type { Sqe } from "../src/ring/sqe.ts";
import { Op } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { kernelHasOp, tempDirPerTest } from "./helpers.ts";
import { CONFIGS, pattern, prep, reap, reapOne, withRing } from "./op-helpers.ts";

/** READ_FIXED / WRITE_FIXED: prep_rw plus sqe->buf_index (u16 at byte 40). */
function prepFixed(op: number, sqe: Sqe, fd: number, addr: number, len: number, offset: number, bufIndex: number): void {
  prepRw(op, sqe, fd, addr, len, offset);
  sqe.u16[20] = bufIndex;
}

const EFAULT = -Errno.EFAULT;
const hasFixed = kernelHasOp(Op.READ_FIXED) && kernelHasOp(Op.WRITE_FIXED);

const tmp = tempDirPerTest();

describe.each(CONFIGS)("FixedBuffers ($name)", ({ options }) => {
  test.skipIf(!hasFixed)("WRITE_FIXED then READ_FIXED round-trips through registered buffers", () => {
    const path = join(tmp.dir, "fixed");
    const fd = openSync(path, "w+");
    try {
      withRing(8, options, (ring) => {
        using bufs = new FixedBuffers(ring, 4, 4096);
        expect(bufs.count).toBe(4);
        for (let i = 0; i < 4; i++) {
          expect(bufs.address(i) % 4096).toBe(0);
          bufs.view(i).set(pattern(4096, i + 1));
        }
        // Write buffers 0..3 to file offsets 3,2,1,0 (× 4096).
        for (let i = 0; i < 4; i++) prep(ring, i, (s) => prepFixed(Op.WRITE_FIXED, s, fd, bufs.address(i), 4096, (3 - i) * 4096, i));
        for (const c of reap(ring, 4)) expect(c.res).toBe(4096);
        for (let i = 0; i < 4; i++) bufs.view(i).fill(0);
        // Read file offset k × 4096 into buffer k: buffer k must then hold pattern(4 - k).
        for (let k = 0; k < 4; k++) prep(ring, 10 + k, (s) => prepFixed(Op.READ_FIXED, s, fd, bufs.address(k), 4096, k * 4096, k));
        for (const c of reap(ring, 4)) expect(c.res).toBe(4096);
        for (let k = 0; k < 4; k++) expect(Buffer.from(bufs.view(k)).equals(Buffer.from(pattern(4096, 4 - k)))).toBe(true);
        // A partial buffer at an offset inside the registered range works too.
        prep(ring, 20, (s) => prepFixed(Op.READ_FIXED, s, fd, bufs.address(1, 100), 50, 0, 1));
        expect(reapOne(ring).res).toBe(50);
      });
      const file = readFileSync(path);
      expect(file.length).toBe(4 * 4096);
      expect(file.subarray(0, 4096).equals(Buffer.from(pattern(4096, 4)))).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});

describe("FixedBuffers on huge pages", () => {
  test.skipIf(!hasFixed)("buffers spanning a 2 MiB huge page register, and READ_FIXED at any offset in them reads the file", () => {
    const path = join(tmp.dir, "huge");
    writeFileSync(path, pattern(256 * 1024, 7));
    const fd = openSync(path, "r");
    try {
      withRing(8, {}, (ring) => {
        // 24 buffers of 128 KiB: 3 MiB, so the table crosses a huge-page boundary.
        using bufs = new FixedBuffers(ring, 24, 128 * 1024, 4096, { hugePages: true });
        expect(bufs.memory.address % (2 * 1024 * 1024)).toBe(0);
        for (const i of [0, 15, 16, 23]) {
          prep(ring, i, (s) => prepFixed(Op.READ_FIXED, s, fd, bufs.address(i), 128 * 1024, 128 * 1024, i));
          expect(reapOne(ring).res).toBe(128 * 1024);
          expect(Buffer.from(bufs.view(i)).equals(Buffer.from(pattern(256 * 1024, 7).subarray(128 * 1024)))).toBe(true);
        }
      });
    } finally {
      closeSync(fd);
    }
  });
});

describe("FixedBuffers errors", () => {
  test.skipIf(!hasFixed)("an address outside the buffer, or an index outside the table, gives -EFAULT", () => {
    const fd = openSync(join(tmp.dir, "f"), "w+");
    try {
      withRing(4, {}, (ring) => {
        using bufs = new FixedBuffers(ring, 1, 4096);
        prep(ring, 1, (s) => prepFixed(Op.READ_FIXED, s, fd, bufs.address(0) + 8192, 4096, 0, 0));
        expect(reapOne(ring).res).toBe(EFAULT);
        prep(ring, 2, (s) => prepFixed(Op.READ_FIXED, s, fd, bufs.address(0), 4096, 0, 5));
        expect(reapOne(ring).res).toBe(EFAULT); // no such buffer index
      });
    } finally {
      closeSync(fd);
    }
  });

  test("a second table on the same ring is refused with a message saying what to do", () => {
    withRing(4, {}, (ring) => {
      using bufs = new FixedBuffers(ring, 2, 1024);
      expect(() => new FixedBuffers(ring, 2, 1024)).toThrow(/already has registered buffers/);
      bufs.close();
      // After close the table is gone: registering again works.
      using again = new FixedBuffers(ring, 1, 1024);
      expect(again.view(0).byteLength).toBe(1024);
    });
  });

  test("bad arguments and indexes are explained", () => {
    withRing(4, {}, (ring) => {
      expect(() => new FixedBuffers(ring, 0, 1024)).toThrow(/count must be/);
      expect(() => new FixedBuffers(ring, 1, 0)).toThrow(/bufferSize must be/);
      using bufs = new FixedBuffers(ring, 2, 100, 512);
      expect(bufs.stride).toBe(512);
      expect(bufs.view(1).byteLength).toBe(100);
      expect(() => bufs.view(2)).toThrow(/not in this table/);
    });
  });

  test("close after the ring closed only frees memory", () => {
    let bufs: FixedBuffers | null = null;
    withRing(4, {}, (ring) => {
      bufs = new FixedBuffers(ring, 1, 4096);
    });
    (bufs as FixedBuffers | null)?.close();
    expect((bufs as FixedBuffers | null)?.memory.freed).toBe(true);
  });
});
