/** Submission queue: full SQ, batching, and index wrap-around over many laps. */
import { afterEach, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { sqeBytes, sqeSetData64, sqeSetFlags } from "../src/ring/sqe.ts";
import { Op, SqeFlags } from "../src/sys/constants.ts";

let ring: Ring | null = null;
afterEach(() => {
  ring?.close();
  ring = null;
});

test("getSqe returns null when the SQ is full, and space returns after submit", () => {
  ring = new Ring(8);
  expect(ring.sqEntries).toBe(8);
  for (let i = 0; i < 8; i++) {
    const sqe = ring.getSqe();
    expect(sqe).not.toBeNull();
    prepNop(sqe!);
  }
  expect(ring.getSqe()).toBeNull();
  expect(ring.sqReady()).toBe(8);
  expect(ring.sqSpaceLeft()).toBe(0);
  expect(ring.submit()).toBe(8);
  expect(ring.sqSpaceLeft()).toBe(8);
  expect(ring.getSqe()).not.toBeNull();
});

test("getSqe hands out a zeroed slot", () => {
  ring = new Ring(2);
  const first = ring.getSqe()!;
  sqeBytes(first).fill(0xab);
  ring.submitAndWait(0);
  // The kernel consumed it (as garbage): reap whatever it posted.
  ring.waitCqeTimeout(1e9);
  ring.reapCqes(() => {});
  ring.getSqe(); // slot 1
  const again = ring.getSqe()!; // slot 0 again, after a full lap
  expect(again.index).toBe(first.index);
  expect(Array.from(sqeBytes(again)).every((b) => b === 0)).toBe(true);
});

test("prepNop encodes like liburing and sqeSetFlags sets only the flags byte", () => {
  ring = new Ring(2);
  const sqe = ring.getSqe()!;
  prepNop(sqe);
  sqeSetData64(sqe, 0x1122334455667n);
  sqeSetFlags(sqe, SqeFlags.IO_LINK);
  const b = sqeBytes(sqe);
  expect(b[0]).toBe(Op.NOP);
  expect(b[1]).toBe(SqeFlags.IO_LINK);
  expect(Array.from(b.subarray(4, 8))).toEqual([0xff, 0xff, 0xff, 0xff]); // fd -1
  const dv = new DataView(b.buffer, b.byteOffset, 64);
  expect(dv.getBigUint64(32, true)).toBe(0x1122334455667n);
});

test("ring indices wrap around over many laps with nothing lost or reordered", () => {
  ring = new Ring(4);
  let next = 0;
  let expected = 0;
  const total = 20_000; // 5000 laps of a 4-entry SQ and 2500 of the 8-entry CQ
  while (expected < total) {
    let sqe;
    while (next < total && (sqe = ring.getSqe()) !== null) {
      prepNop(sqe);
      sqeSetData64(sqe, next++);
    }
    expect(ring.submitAndWait(1)).toBeGreaterThanOrEqual(0);
    ring.reapCqes((cqe) => {
      expect(cqe.res).toBe(0);
      expect(cqe.userData).toBe(expected++);
    });
  }
  expect(expected).toBe(total);
  // The free-running head and tail have advanced past the SQ size many times over.
  expect(ring.sq.sqeTail).toBe(total);
  expect(ring.cq.head).toBe(total);
});

test("user_data keeps all 64 bits", () => {
  ring = new Ring(4);
  const values = [0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0x8000000000000001n];
  for (const v of values) {
    const sqe = ring.getSqe()!;
    prepNop(sqe);
    sqeSetData64(sqe, v);
    ring.submitAndWait(1);
    const cqe = ring.waitCqe();
    const got = (BigInt(cqe.userDataHi) << 32n) | BigInt(cqe.userDataLo);
    expect(got).toBe(v);
    ring.cqeSeen(cqe);
  }
});
