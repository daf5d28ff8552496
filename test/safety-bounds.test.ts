/**
 * Bounds (issue 13): wherever a buffer and a byte count meet, a count that is
 * negative, NaN, fractional or past the view's end (from its byteOffset) is a
 * RangeError naming the argument, thrown before the SQE is written; raw
 * addresses pass unchecked. Before this, `uring.read(fd, new Uint8Array(16),
 * 0, { length: 4096 })` overwrote neighbouring arrays.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Uring } from "../src/async/uring.ts";
import { prepFgetxattr } from "../src/ops/xattr.ts";
import { prepStatx } from "../src/ops/fs.ts";
import { prepAccept, prepBind, prepConnect, prepRecv, prepSend, prepSendmsg, prepSendZc } from "../src/ops/net.ts";
import { prepRead, prepReadFixed, prepReadv, prepWrite, prepWritev } from "../src/ops/rw.ts";
import { cstr } from "../src/ops/structs.ts";
import { Ring } from "../src/ring/ring.ts";
import { tempDirPerFile } from "./helpers.ts";

const tmp = tempDirPerFile();

/** Small arrays allocated around the target, filled with a pattern: any stray write shows. */
function canaries(n = 64): { arrays: Uint8Array[]; intact: () => boolean } {
  const arrays = Array.from({ length: n }, (_, i) => new Uint8Array(16).fill(i & 0xff));
  return { arrays, intact: () => arrays.every((a, i) => a.every((b) => b === (i & 0xff))) };
}

const BAD_COUNTS = [4096, 17, -1, NaN, 1.5, 2 ** 32, Infinity];

describe("Uring: lengths are checked against the buffer", () => {
  test("read and write with length past the end, negative, NaN or fractional reject with a RangeError naming `length`", async () => {
    const file = join(tmp.dir, "data");
    writeFileSync(file, new Uint8Array(8192).fill(0x5a));
    const fd = openSync(file, "r+");
    const uring = new Uring();
    try {
      const before = canaries();
      const buf = new Uint8Array(16);
      const after = canaries();
      for (const length of BAD_COUNTS) {
        for (const op of [() => uring.read(fd, buf, 0, { length }), () => uring.write(fd, buf, 0, { length })]) {
          const err = (await op().catch((e: unknown) => e)) as Error;
          expect(err).toBeInstanceOf(RangeError);
          expect(err.message).toContain("length");
        }
      }
      expect(uring.pending).toBe(0);
      // A view into the middle of a larger buffer: the limit counts from its byteOffset.
      const big = new Uint8Array(64);
      const tail = big.subarray(56);
      expect((await uring.read(fd, tail, 0, { length: 9 }).catch((e: unknown) => e)) as Error).toBeInstanceOf(RangeError);
      expect(await uring.read(fd, tail, 0, { length: 8 })).toBe(8);
      expect(big.subarray(0, 56).every((b) => b === 0)).toBe(true);
      expect(before.intact() && after.intact()).toBe(true);
      expect(buf.every((b) => b === 0)).toBe(true);
    } finally {
      uring.close();
      closeSync(fd);
    }
  });

  test("not a buffer, or a detached one, is a TypeError; the ring stays usable", async () => {
    const uring = new Uring();
    try {
      const detached = new Uint8Array(8);
      detached.buffer.transfer();
      for (const bad of [null, "text", 42, {}, detached]) {
        const err = (await uring.read(0, bad as unknown as Uint8Array, 0).catch((e: unknown) => e)) as Error;
        expect(err).toBeInstanceOf(TypeError);
      }
      expect(await uring.nop()).toBe(0);
    } finally {
      uring.close();
    }
  });
});

describe("preparers given a buffer check the range before writing the SQE", () => {
  const ring = new Ring(8);
  afterAll(() => ring.close());
  const cases: Array<[string, (sqe: Parameters<typeof prepRead>[0]) => void]> = [
    ["prepRead nbytes", (s) => prepRead(s, 0, new Uint8Array(16), 4096, 0)],
    ["prepRead on a subarray", (s) => prepRead(s, 0, new Uint8Array(64).subarray(60), 8, 0)],
    ["prepRead NaN", (s) => prepRead(s, 0, new Uint8Array(16), NaN, 0)],
    ["prepWrite negative", (s) => prepWrite(s, 0, new Uint8Array(16), -1, 0)],
    ["prepReadFixed", (s) => prepReadFixed(s, 0, new Uint8Array(16), 32, 0, 0)],
    ["prepReadv iovecs", (s) => prepReadv(s, 0, new Uint8Array(16), 2, 0)],
    ["prepWritev nrVecs", (s) => prepWritev(s, 0, new Uint8Array(16 * 4), -3, 0)],
    ["prepSend", (s) => prepSend(s, 0, new Uint8Array(4), 5)],
    ["prepRecv", (s) => prepRecv(s, 0, new Uint8Array(4), 1.5)],
    ["prepSendZc", (s) => prepSendZc(s, 0, new Uint8Array(4), 99)],
    ["prepSendmsg msghdr", (s) => prepSendmsg(s, 0, new Uint8Array(8))],
    ["prepConnect addrlen", (s) => prepConnect(s, 0, new Uint8Array(16), 28)],
    ["prepBind addrlen", (s) => prepBind(s, 0, new Uint8Array(16), -1)],
    ["prepAccept *addrlen", (s) => prepAccept(s, 0, new Uint8Array(16), new Uint32Array([128]))],
    ["prepStatx statxbuf", (s) => prepStatx(s, -100, cstr("/"), 0, 0x7ff, new Uint8Array(64))],
    ["prepStatx path without NUL", (s) => prepStatx(s, -100, new TextEncoder().encode("/tmp"), 0, 0x7ff, new Uint8Array(256))],
    ["prepFgetxattr len", (s) => prepFgetxattr(s, 0, cstr("user.x"), new Uint8Array(8), 64)],
  ];
  for (const [name, prep] of cases) {
    test(name, () => {
      const sqe = ring.getSqe()!;
      expect(() => prep(sqe)).toThrow(RangeError);
      // Nothing was written: the slot is as getSqe left it (zeroed, a NOP).
      expect(sqe.u32.every((w) => w === 0)).toBe(true);
      ring.submitAndWait(1);
      ring.cqAdvance(ring.cqReady());
    });
  }

  test("raw addresses (number, bigint) stay unchecked, as in liburing", () => {
    const sqe = ring.getSqe()!;
    expect(() => prepRead(sqe, 0, 0x1000, 1 << 20, 0)).not.toThrow();
    expect(() => prepRead(sqe, 0, 0x1000n, 1 << 20, 0)).not.toThrow();
    sqe.u32.fill(0); // leave a NOP behind
    ring.submitAndWait(1);
    ring.cqAdvance(ring.cqReady());
  });
});
