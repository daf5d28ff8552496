/**
 * Personalities: register the current credentials, run requests under them
 * (sqe->personality), unregister; unknown IDs give EINVAL.
 */
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { prepNop, prepRw } from "../src/ops/rw.ts";
import { registerPersonality, unregisterPersonality } from "../src/ring/register.ts";
import type { Sqe } from "../src/ring/sqe.ts";
import { SQE } from "../src/sys/abi.ts";
import { Op } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { tempDirPerTest } from "./helpers.ts";
import { CONFIGS, prep, reapOne, withRing } from "./op-helpers.ts";
import { cstr } from "./register-helpers.ts";

/** Sets sqe->personality (u16 at byte 42). */
function setPersonality(sqe: Sqe, id: number): void {
  sqe.u16[SQE.personality >>> 1] = id;
}

const tmp = tempDirPerTest();

describe.each(CONFIGS)("personality ($name)", ({ options }) => {
  test("requests run under a registered personality; unknown IDs are refused", () => {
    withRing(4, options, (ring) => {
      const id = registerPersonality(ring);
      expect(id).toBeGreaterThan(0);
      const id2 = registerPersonality(ring);
      expect(id2).toBeGreaterThan(0);
      expect(id2).not.toBe(id);

      prep(ring, 1, (s) => {
        prepNop(s);
        setPersonality(s, id);
      });
      expect(reapOne(ring).res).toBe(0);

      // A real file operation under the personality (mkdirat with our own credentials).
      const dir = cstr(join(tmp.dir, "made-under-personality"));
      prep(ring, 2, (s) => {
        prepRw(Op.MKDIRAT, s, -100, dir, 0o755, 0);
        setPersonality(s, id2);
      });
      expect(reapOne(ring).res).toBe(0);
      expect(statSync(join(tmp.dir, "made-under-personality")).isDirectory()).toBe(true);

      expect(unregisterPersonality(ring, id)).toBe(0);
      expect(unregisterPersonality(ring, id)).toBe(-Errno.EINVAL);
      prep(ring, 3, (s) => {
        prepNop(s);
        setPersonality(s, id);
      });
      expect(reapOne(ring).res).toBe(-Errno.EINVAL);
      expect(unregisterPersonality(ring, id2)).toBe(0);
    });
  });
});
