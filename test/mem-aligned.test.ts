/**
 * AlignedBuffer: off-heap aligned memory from the shim. Alignment, zeroing,
 * bounds, explicit free (idempotent, access after free throws), and that the
 * memory really is what the kernel sees (a READ into it lands in `bytes`).
 */
import { ClosedError } from "../src/sys/closed.ts";
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AlignedBuffer, HUGE_PAGE_SIZE, PAGE_SIZE } from "../src/mem/aligned.ts";
import { prepRw } from "../src/ops/rw.ts";
import { Op } from "../src/sys/constants.ts";
import { tempDirPerTest } from "./helpers.ts";
import { pattern, prep, reapOne, withRing } from "./op-helpers.ts";

describe("AlignedBuffer", () => {
  test("is aligned, zeroed, and sized as asked", () => {
    for (const align of [8, 512, PAGE_SIZE, 65536]) {
      const buf = new AlignedBuffer(3000, align);
      try {
        expect(buf.address % align).toBe(0);
        expect(buf.length).toBe(3000);
        expect(buf.bytes.byteLength).toBe(3000);
        expect(buf.bytes.every((b) => b === 0)).toBe(true);
      } finally {
        buf.free();
      }
    }
  });

  test("defaults to page alignment", () => {
    using buf = new AlignedBuffer(100);
    expect(buf.alignment).toBe(PAGE_SIZE);
    expect(buf.address % PAGE_SIZE).toBe(0);
  });

  test("subarray and addressAt are bounds-checked views of the same memory", () => {
    using buf = new AlignedBuffer(64);
    const sub = buf.subarray(16, 8);
    sub.fill(7);
    expect(buf.bytes[16]).toBe(7);
    expect(buf.bytes[24]).toBe(0);
    expect(buf.addressAt(16)).toBe(buf.address + 16);
    expect(() => buf.subarray(60, 8)).toThrow(RangeError);
    expect(() => buf.addressAt(65)).toThrow(RangeError);
  });

  test("free is idempotent and access afterwards throws", () => {
    const live = AlignedBuffer.live;
    const buf = new AlignedBuffer(128);
    expect(AlignedBuffer.live).toBe(live + 1);
    buf.free();
    buf.free();
    expect(AlignedBuffer.live).toBe(live);
    expect(buf.freed).toBe(true);
    // The one closed-object rule (src/sys/closed.ts; test/safety-closed.test.ts covers every method).
    expect(() => buf.bytes).toThrow(ClosedError);
    expect(() => buf.address).toThrow(ClosedError);
  });

  test("mapped: whole pages from an anonymous mapping, page-aligned and zeroed", () => {
    const live = AlignedBuffer.live;
    const buf = new AlignedBuffer(5000, 512, { mapped: true });
    expect(buf.mapped).toBe(true);
    expect(buf.address % PAGE_SIZE).toBe(0);
    expect(buf.length).toBe(5000);
    expect(buf.bytes.every((b) => b === 0)).toBe(true);
    buf.bytes.fill(0xab);
    expect(buf.bytes[4999]).toBe(0xab);
    buf.free();
    expect(AlignedBuffer.live).toBe(live);
    expect(() => new AlignedBuffer(10, 2 * PAGE_SIZE, { mapped: true })).toThrow(/needs the heap/);
  });

  test("hugePages: a 2 MiB-aligned mapping advised for transparent huge pages, zeroed and freed", () => {
    const live = AlignedBuffer.live;
    const thp = thpMode();
    const buf = new AlignedBuffer(3 * 1024 * 1024, PAGE_SIZE, { hugePages: true });
    try {
      expect(buf.mapped).toBe(true);
      expect(buf.address % HUGE_PAGE_SIZE).toBe(0);
      // The advice is refused only where THP is compiled out.
      if (thp !== null) expect(buf.hugePages).toBe(true);
      expect(buf.bytes.length).toBe(3 * 1024 * 1024);
      expect(buf.bytes[0]).toBe(0);
      expect(buf.bytes[buf.length - 1]).toBe(0);
      buf.bytes.fill(7, buf.length - 100);
      expect(buf.bytes[buf.length - 1]).toBe(7);
    } finally {
      buf.free();
    }
    expect(AlignedBuffer.live).toBe(live);
    expect(new AlignedBuffer(10, PAGE_SIZE, { mapped: true }).hugePages).toBe(false);
  });

  test("rejects bad sizes and alignments with a clear message", () => {
    expect(() => new AlignedBuffer(0)).toThrow(/positive integer/);
    expect(() => new AlignedBuffer(10, 3)).toThrow(/power of two/);
    expect(() => new AlignedBuffer(1.5)).toThrow(/positive integer/);
  });
});

/** The kernel's THP mode ("always", "madvise", "never"), or null where THP is not built in. */
function thpMode(): string | null {
  try {
    return /\[(\w+)\]/.exec(readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Allocates `n` AlignedBuffers and drops them without free(). */
function forget(n: number): void {
  for (let i = 0; i < n; i++) new AlignedBuffer(4096).bytes[0] = 1;
}

describe("AlignedBuffer leak guard (FinalizationRegistry)", () => {
  test("forgotten buffers are freed after collection; a kept view keeps its memory", async () => {
    const before = AlignedBuffer.live;
    const kept = new AlignedBuffer(4096).bytes; // only the view survives
    kept[0] = 42;
    forget(100);
    expect(AlignedBuffer.live).toBe(before + 101);
    // Collection timing is the engine's: give it a bounded number of chances.
    for (let i = 0; i < 50 && AlignedBuffer.live > before + 1; i++) {
      Bun.gc(true);
      await new Promise((r) => setTimeout(r, 2));
    }
    // The conservative stack scan may pin a straggler; most must be gone. (Other
    // files' forgotten buffers may be freed meanwhile too: only an upper bound holds.)
    expect(AlignedBuffer.live).toBeLessThan(before + 51);
    expect(kept[0]).toBe(42);
  });
});

describe("AlignedBuffer as kernel memory", () => {
  const tmp = tempDirPerTest();

  test("a READ by address lands in bytes", () => {
    const path = join(tmp.dir, "data");
    const data = pattern(8192, 3);
    writeFileSync(path, data);
    const fd = openSync(path, "r");
    using buf = new AlignedBuffer(8192);
    try {
      withRing(4, {}, (ring) => {
        prep(ring, 1, (s) => prepRw(Op.READ, s, fd, buf.address, 8192, 0));
        expect(reapOne(ring).res).toBe(8192);
      });
      expect(Buffer.from(buf.bytes).equals(Buffer.from(data))).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});
