/**
 * IORING_REGISTER_RESIZE_RINGS through Ring.resizeRings: pending SQEs and
 * unreaped CQEs survive the move, the new sizes take effect, the refusals
 * (no DEFER_TASKRUN: EINVAL; pending work that would not fit: EOVERFLOW) leave
 * the ring working.
 */
import { describe, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { sqeSetData64 } from "../src/ring/sqe.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { checkFdsPerTest } from "./helpers.ts";
import { prep, reap, reapOne } from "./op-helpers.ts";

const EOVERFLOW = 75;
const hasDefer = kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER);
/** Resize exists (6.13) when a DEFER_TASKRUN ring accepts resizing to its own size. */
const hasResize =
  hasDefer &&
  (() => {
    const ring = new Ring(4, { deferTaskrun: true });
    try {
      return ring.resizeRings(4, 8) === 0;
    } finally {
      ring.close();
    }
  })();

checkFdsPerTest();

describe("resize rings", () => {
  test.skipIf(!hasResize)("grows SQ and CQ, carrying pending SQEs and unreaped CQEs", () => {
    const ring = new Ring(4, { deferTaskrun: true });
    try {
      expect([ring.sqEntries, ring.cqEntries]).toEqual([4, 8]);
      for (let i = 1; i <= 3; i++) prep(ring, i, prepNop);
      expect(ring.submit()).toBe(3);
      ring.getEvents(); // post the three CQEs, and leave them unreaped
      expect(ring.cqReady()).toBe(3);
      prep(ring, 4, prepNop); // prepared, not submitted

      expect(ring.resizeRings(64, 256)).toBe(0);
      expect([ring.sqEntries, ring.cqEntries]).toEqual([64, 256]);
      expect(ring.cqReady()).toBe(3);
      const cqes = reap(ring, 4);
      expect(cqes.map((c) => c.userData).sort()).toEqual([1, 2, 3, 4]);

      // A batch larger than the old SQ goes through in one submit.
      for (let i = 0; i < 60; i++) {
        const sqe = ring.getSqe();
        expect(sqe).not.toBeNull();
        prepNop(sqe!);
        sqeSetData64(sqe!, 100 + i);
      }
      expect(ring.submitAndWait(60)).toBe(60);
      expect(ring.cqReady()).toBe(60);
      ring.cqAdvance(60);

      // Shrinking works too.
      expect(ring.resizeRings(8)).toBe(0);
      expect([ring.sqEntries, ring.cqEntries]).toEqual([8, 16]);
      prep(ring, 7, prepNop);
      expect(reapOne(ring).userData).toBe(7);
    } finally {
      ring.close();
    }
  });

  test.skipIf(!hasResize)("pending CQEs that would not fit: EOVERFLOW, ring unchanged", () => {
    const ring = new Ring(8, { deferTaskrun: true });
    try {
      for (let i = 0; i < 8; i++) prep(ring, i, prepNop);
      expect(ring.submitAndWait(8)).toBe(8);
      expect(ring.cqReady()).toBe(8);
      expect(ring.resizeRings(2, 4)).toBe(-EOVERFLOW);
      expect([ring.sqEntries, ring.cqEntries]).toEqual([8, 16]);
      expect(ring.cqReady()).toBe(8);
      ring.cqAdvance(8);
      prep(ring, 99, prepNop);
      expect(reapOne(ring).userData).toBe(99);
    } finally {
      ring.close();
    }
  });

  test("a ring without DEFER_TASKRUN is refused with EINVAL", () => {
    const ring = new Ring(4);
    try {
      expect(ring.resizeRings(16)).toBe(-Errno.EINVAL);
      prep(ring, 1, prepNop);
      expect(reapOne(ring).res).toBe(0);
    } finally {
      ring.close();
    }
  });
});
