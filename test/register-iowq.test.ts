/**
 * io-wq controls: worker CPU affinity (register/unregister iowq_aff) and the
 * bounded/unbounded worker limits (iowq_max_workers, read back through the
 * in/out array). Limits belong to the task's io-wq, shared by every ring of
 * this process, so the test restores what it found.
 */
import { describe, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { registerIowqAff, registerIowqMaxWorkers, unregisterIowqAff } from "../src/ring/register.ts";
import { SqeFlags } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { checkFdsPerTest } from "./helpers.ts";
import { CONFIGS, prep, reapOne, withRing } from "./op-helpers.ts";

checkFdsPerTest();

describe.each(CONFIGS)("io-wq ($name)", ({ options }) => {
  test("max workers: set, read back, restore", () => {
    withRing(4, options, (ring) => {
      // Make sure the io-wq exists (it is created with the task context; a punted request uses it).
      prep(ring, 1, prepNop, SqeFlags.ASYNC);
      expect(reapOne(ring).res).toBe(0);

      const original = new Uint32Array([0, 0]); // 0 = leave unchanged, so this only reads
      expect(registerIowqMaxWorkers(ring, original)).toBe(0);
      console.log(`io-wq max workers (${ring.flags & 2 ? "sqpoll" : "task"}): bounded ${original[0]}, unbounded ${original[1]}`);
      expect(original[0]).toBeGreaterThan(0);
      expect(original[1]).toBeGreaterThan(0);

      const set = new Uint32Array([2, 3]);
      expect(registerIowqMaxWorkers(ring, set)).toBe(0);
      expect(Array.from(set)).toEqual(Array.from(original)); // the previous limits come back

      const readBack = new Uint32Array([0, 0]);
      expect(registerIowqMaxWorkers(ring, readBack)).toBe(0);
      expect(Array.from(readBack)).toEqual([2, 3]);

      expect(registerIowqMaxWorkers(ring, original.slice())).toBe(0);
      expect(registerIowqMaxWorkers(ring, new Uint32Array(1))).toBe(-Errno.EINVAL);
    });
  });

  test("worker affinity: a CPU list, a mask, unregister", () => {
    withRing(4, options, (ring) => {
      prep(ring, 1, prepNop, SqeFlags.ASYNC);
      expect(reapOne(ring).res).toBe(0);
      expect(registerIowqAff(ring, [0])).toBe(0);
      prep(ring, 2, prepNop, SqeFlags.ASYNC); // still runs, now on CPU 0
      expect(reapOne(ring).res).toBe(0);
      expect(registerIowqAff(ring, 0b11n)).toBe(0);
      expect(unregisterIowqAff(ring)).toBe(0);
      expect(registerIowqAff(ring, [])).toBe(-Errno.EINVAL);
    });
  });
});
