/**
 * Eventfd registration: every CQE signals the eventfd; the CQ flag toggle
 * (io_uring_cq_eventfd_toggle) mutes it; the async variant only counts
 * completions from io-wq workers, so an inline NOP does not signal it.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readSync } from "node:fs";
import { prepNop } from "../src/ops/rw.ts";
import { registerEventfd, registerEventfdAsync, unregisterEventfd } from "../src/ring/register.ts";
import { Errno } from "../src/sys/errno.ts";
import { closeFd, eventfd } from "../src/sys/ffi.ts";
import { expectNoNewFds, openFds } from "./helpers.ts";
import { prep, reapOne, withRing } from "./op-helpers.ts";

const EFD_NONBLOCK = 0x800;
const EFD_CLOEXEC = 0x80000;

/** Reads and resets the eventfd counter; 0 when it was not signalled (EAGAIN). */
function takeCount(efd: number): number {
  const buf = new BigUint64Array(1);
  try {
    readSync(efd, new Uint8Array(buf.buffer), 0, 8, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EAGAIN") return 0;
    throw err;
  }
  return Number(buf[0]);
}

let efd: number;
let fdsBefore: Map<number, string>;
beforeEach(() => {
  fdsBefore = openFds();
  efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) throw new Error(`eventfd failed: ${efd}`);
});
afterEach(async () => {
  closeFd(efd);
  await expectNoNewFds(fdsBefore);
});

describe("register eventfd", () => {
  test("each CQE signals; toggling the CQ flag mutes it; unregister stops it", () => {
    withRing(4, {}, (ring) => {
      expect(registerEventfd(ring, efd)).toBe(0);
      expect(registerEventfd(ring, efd)).toBe(-Errno.EBUSY);
      prep(ring, 1, prepNop);
      expect(reapOne(ring).res).toBe(0);
      expect(takeCount(efd)).toBeGreaterThanOrEqual(1);

      expect(ring.cqEventfdToggle(false)).toBe(0);
      prep(ring, 2, prepNop);
      expect(reapOne(ring).res).toBe(0);
      expect(takeCount(efd)).toBe(0);

      expect(ring.cqEventfdToggle(true)).toBe(0);
      prep(ring, 3, prepNop);
      expect(reapOne(ring).res).toBe(0);
      expect(takeCount(efd)).toBeGreaterThanOrEqual(1);

      expect(unregisterEventfd(ring)).toBe(0);
      expect(unregisterEventfd(ring)).toBe(-Errno.ENXIO);
      prep(ring, 4, prepNop);
      expect(reapOne(ring).res).toBe(0);
      expect(takeCount(efd)).toBe(0);
    });
  });

  test("async eventfd: an inline completion does not signal it", () => {
    withRing(4, {}, (ring) => {
      expect(registerEventfdAsync(ring, efd)).toBe(0);
      prep(ring, 1, prepNop);
      expect(reapOne(ring).res).toBe(0);
      expect(takeCount(efd)).toBe(0);
      expect(unregisterEventfd(ring)).toBe(0);
    });
  });

  test("a bad fd is refused", () => {
    withRing(4, {}, (ring) => {
      expect(registerEventfd(ring, 100000)).toBe(-Errno.EBADF);
    });
  });
});
