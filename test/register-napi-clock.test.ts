/**
 * NAPI busy polling (register/unregister) and the wait clock (REGISTER_CLOCK).
 * NAPI needs CONFIG_NET_RX_BUSY_POLL: where the kernel lacks it the register
 * call's documented -EINVAL / -EOPNOTSUPP is accepted and printed.
 */
import { describe, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { ClockId, registerClock, registerNapi, unregisterNapi, type NapiSettings } from "../src/ring/register.ts";
import { Ring } from "../src/ring/ring.ts";
import { Errno, errnoName } from "../src/sys/errno.ts";
import { checkFdsPerTest } from "./helpers.ts";
import { prep, reapOne, withRing } from "./op-helpers.ts";

/** REGISTER_CLOCK exists (6.12) when registering the default clock (MONOTONIC) succeeds. */
const hasClock = (() => {
  const ring = new Ring(2);
  try {
    return registerClock(ring, ClockId.MONOTONIC) === 0;
  } finally {
    ring.close();
  }
})();

checkFdsPerTest();

describe("NAPI", () => {
  test("register, read back on unregister (or the kernel's documented refusal)", () => {
    withRing(4, {}, (ring) => {
      const ret = registerNapi(ring, { busyPollTo: 50, preferBusyPoll: true });
      if (ret < 0) {
        console.log(`register_napi: -${errnoName(-ret)} on this kernel (no busy-poll support or Linux < 6.9)`);
        expect([-Errno.EINVAL, -Errno.EOPNOTSUPP]).toContain(ret);
        return;
      }
      expect(ret).toBe(0);
      console.log("register_napi: 0 (busy poll available)");
      // Waiting still works with busy polling on.
      prep(ring, 1, prepNop);
      expect(reapOne(ring).res).toBe(0);
      const out: NapiSettings = { busyPollTo: 0 };
      expect(unregisterNapi(ring, out)).toBe(0);
      expect(out.busyPollTo).toBe(50);
      expect(out.preferBusyPoll).toBe(true);
    });
  });
});

describe("clock", () => {
  test.skipIf(!hasClock)("BOOTTIME and MONOTONIC are accepted, other clocks refused; timed waits still work", () => {
    withRing(4, {}, (ring) => {
      expect(registerClock(ring, ClockId.BOOTTIME)).toBe(0);
      // A timed wait with nothing to wait for returns empty-handed (ETIME) on the new clock.
      expect(ring.waitCqeTimeout(1e6)).toBeNull();
      prep(ring, 1, prepNop);
      expect(reapOne(ring).res).toBe(0);
      expect(registerClock(ring, ClockId.MONOTONIC)).toBe(0);
      expect(registerClock(ring, 0 /* CLOCK_REALTIME */)).toBe(-Errno.EINVAL);
    });
  });
});
