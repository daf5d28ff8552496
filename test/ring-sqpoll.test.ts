/** SQPOLL: the kernel thread consumes the SQ; steady-state submits make no syscall. */
import { afterEach, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { sqeSetData64 } from "../src/ring/sqe.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { waitFor } from "./helpers.ts";

const hasSqpoll = kernelHasSetupFlag(SetupFlags.SQPOLL);
let ring: Ring | null = null;
afterEach(() => {
  ring?.close();
  ring = null;
});

/** Busy-polls the CQ for one completion (bounded), without entering the kernel. */
function spinForCqe(r: Ring, limitMs = 5000) {
  const end = performance.now() + limitMs;
  while (performance.now() < end) {
    const cqe = r.cq.peek();
    if (cqe) return cqe;
  }
  return null;
}

test.skipIf(!hasSqpoll)("submits reach the kernel thread without io_uring_enter while it is awake", () => {
  ring = new Ring(16, { sqpoll: { idleMs: 2000 } });
  expect(ring.flags & SetupFlags.SQPOLL).toBeTruthy();
  let enterBefore = -1;
  for (let i = 0; i < 200; i++) {
    const sqe = ring.getSqe()!;
    prepNop(sqe);
    sqeSetData64(sqe, i);
    expect(ring.submit()).toBeGreaterThanOrEqual(0);
    const cqe = spinForCqe(ring);
    expect(cqe).not.toBeNull();
    expect(cqe!.userData).toBe(i);
    ring.cqeSeen(cqe!);
    if (i === 9) enterBefore = ring.enterCount;
  }
  // The first submits may have had to wake the thread; after that, no syscalls.
  expect(ring.enterCount - enterBefore).toBeLessThanOrEqual(2);
});

test.skipIf(!hasSqpoll)("a sleeping SQPOLL thread is woken by submit (NEED_WAKEUP)", async () => {
  ring = new Ring(4, { sqpoll: { idleMs: 1 } });
  const r = ring;
  await waitFor("the SQPOLL thread to go idle and set NEED_WAKEUP", () => r.sq.needsWakeup());
  expect(ring.sq.needsWakeup()).toBe(true);
  const sqe = ring.getSqe()!;
  prepNop(sqe);
  sqeSetData64(sqe, 7);
  const before = ring.enterCount;
  expect(ring.submit()).toBeGreaterThanOrEqual(0);
  expect(ring.enterCount).toBe(before + 1);
  const cqe = spinForCqe(ring);
  expect(cqe?.userData).toBe(7);
});
