/** Waiting: timeouts through IORING_ENTER_EXT_ARG, signal masks, wait_nr. */
import { afterEach, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { sqeSetData64 } from "../src/ring/sqe.ts";

let ring: Ring | null = null;
afterEach(() => {
  ring?.close();
  ring = null;
});

test("waitCqeTimeout returns null after the timeout when nothing is pending", () => {
  ring = new Ring(4);
  const t0 = performance.now();
  expect(ring.waitCqeTimeout(20e6)).toBeNull();
  expect(performance.now() - t0).toBeGreaterThanOrEqual(15); // it did wait (not a timing target)
});

test("submitAndWaitTimeout reports -ETIME with nothing to wait for", () => {
  ring = new Ring(4);
  expect(ring.submitAndWaitTimeout(1, 5e6)).toBe(-62);
});

test("submitAndWaitTimeout submits and returns with the completions", () => {
  ring = new Ring(8);
  for (let i = 0; i < 5; i++) {
    const sqe = ring.getSqe()!;
    prepNop(sqe);
    sqeSetData64(sqe, i);
  }
  expect(ring.submitAndWaitTimeout(5, 1e9)).toBe(5);
  expect(ring.cqReady()).toBe(5);
});

test("a signal mask can be passed with the wait", () => {
  ring = new Ring(4);
  const mask = new BigUint64Array([1n << 1n]); // block SIGINT (bit signo-1) while waiting
  expect(ring.submitAndWaitTimeout(1, 2e6, mask)).toBe(-62);
});

test("waitCqeNr waits for several completions", () => {
  ring = new Ring(8);
  for (let i = 0; i < 4; i++) prepNop(ring.getSqe()!);
  ring.submit();
  ring.waitCqeNr(4);
  expect(ring.cqReady()).toBe(4);
  let n = 0;
  expect(ring.reapCqes(() => n++)).toBe(4);
  expect(n).toBe(4);
});

test("min-timeout wait returns once a completion is there", () => {
  ring = new Ring(4);
  prepNop(ring.getSqe()!);
  const rc = ring.submitAndWaitMinTimeout(4, 50e6, 100);
  expect(rc === 1 || rc === -62).toBe(true);
  expect(ring.cqReady()).toBe(1);
});

test("peekBatchCqe returns the ready completions in order", () => {
  ring = new Ring(8);
  for (let i = 0; i < 6; i++) {
    const sqe = ring.getSqe()!;
    prepNop(sqe);
    sqeSetData64(sqe, 100 + i);
  }
  ring.submitAndWait(6);
  const out: import("../src/ring/cqe.ts").Cqe[] = [];
  expect(ring.peekBatchCqe(out, 4)).toBe(4);
  expect(out.map((c) => c.userData)).toEqual([100, 101, 102, 103]);
  ring.cqAdvance(4);
  expect(ring.peekBatchCqe(out, 8)).toBe(2);
});
