/** CQ overflow: with FEAT_NODROP every completion survives a full CQ and is flushed later. */
import { afterEach, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { sqeSetData64 } from "../src/ring/sqe.ts";
import { Features } from "../src/sys/constants.ts";
import { RING_CONFIGS } from "./helpers.ts";

let ring: Ring | null = null;
afterEach(() => {
  ring?.close();
  ring = null;
});

const configs = RING_CONFIGS.filter((c) => c.available && c.name !== "sqpoll");

test.each(configs.map((c) => [c.name, c.options] as const))("no completion is lost when the CQ overflows (%s)", (_name, options) => {
  ring = new Ring(8, { ...options, cqEntries: 8 });
  expect(ring.cqEntries).toBe(8);
  expect(ring.features & Features.NODROP).toBeTruthy();
  const total = 100; // 12× the CQ size, none reaped while submitting
  for (let i = 0; i < total; ) {
    for (let j = 0; j < 8 && i < total; j++, i++) {
      const sqe = ring.getSqe()!;
      prepNop(sqe);
      sqeSetData64(sqe, i);
    }
    const rc = ring.submit();
    // Once the overflow list is non-empty the kernel may refuse new work with -EBUSY until we reap.
    expect(rc === -16 || rc >= 0).toBe(true);
    if (rc === -16) break;
  }
  // Ask the kernel to post deferred completions, then observe the overflow.
  ring.getEvents();
  expect(ring.cqReady()).toBe(8);
  expect(ring.cqHasOverflow()).toBe(true);

  const seen = new Set<number>();
  for (let spins = 0; spins < 1000 && seen.size < ring.sq.sqeTail; spins++) {
    const cqe = ring.peekCqe(); // flushes the overflow list when the CQ is empty
    if (cqe === null) {
      ring.getEvents();
      continue;
    }
    seen.add(cqe.userData);
    ring.cqeSeen(cqe);
  }
  expect(seen.size).toBe(ring.sq.sqeTail);
  expect(ring.cqHasOverflow()).toBe(false);
  expect(ring.cq.overflow()).toBe(0); // nothing dropped
});
