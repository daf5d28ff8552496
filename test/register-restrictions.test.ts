/**
 * Restrictions (io_uring_register_restrictions + io_uring_enable_rings): a ring
 * created disabled accepts restrictions once; after enabling, SQE opcodes and
 * flags and register opcodes outside the allow-list fail with EACCES.
 */
import { describe, expect, test } from "bun:test";
import { prepNop, prepRw } from "../src/ops/rw.ts";
import { enableRings, registerFiles, registerPersonality, registerRestrictions } from "../src/ring/register.ts";
import { Ring } from "../src/ring/ring.ts";
import { Op, RegisterOp, RestrictionOp, SetupFlags, SqeFlags } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { checkFdsPerTest } from "./helpers.ts";
import { prep, reapOne } from "./op-helpers.ts";

/** Linux errno values node:os does not list. */
const EBADFD = 77;
const EACCES = 13;

checkFdsPerTest();

describe("restrictions", () => {
  test("an R_DISABLED ring runs only what the restrictions allow", () => {
    // No registered ring fd: REGISTER_RING_FDS is itself a register op the
    // restrictions would have to allow.
    const ring = new Ring(8, { disabled: true, registerRingFd: false });
    try {
      expect(ring.flags & SetupFlags.R_DISABLED).toBe(SetupFlags.R_DISABLED);
      const ret = registerRestrictions(ring, [
        { opcode: RestrictionOp.SQE_OP, arg: Op.NOP },
        { opcode: RestrictionOp.SQE_FLAGS_ALLOWED, arg: SqeFlags.IO_LINK },
        { opcode: RestrictionOp.REGISTER_OP, arg: RegisterOp.REGISTER_PERSONALITY },
      ]);
      expect(ret).toBe(0);
      expect(registerRestrictions(ring, [{ opcode: RestrictionOp.SQE_OP, arg: Op.READ }])).toBe(-Errno.EBUSY);

      // A disabled ring refuses submissions.
      prep(ring, 1, prepNop);
      expect(ring.submit()).toBe(-EBADFD);

      expect(enableRings(ring)).toBe(0);
      // The NOP left in the SQ now goes through.
      expect(reapOne(ring)).toMatchObject({ userData: 1, res: 0 });

      // A disallowed opcode completes with -EACCES without running.
      const buf = new Uint8Array(8);
      prep(ring, 2, (s) => prepRw(Op.READ, s, 0, buf, 8, 0));
      expect(reapOne(ring)).toMatchObject({ userData: 2, res: -EACCES });

      // Allowed flag passes, a flag outside the list does not.
      prep(ring, 3, prepNop, SqeFlags.IO_LINK);
      prep(ring, 4, prepNop);
      const linked = [reapOne(ring), reapOne(ring)];
      expect(linked.map((c) => c.res)).toEqual([0, 0]);
      prep(ring, 5, prepNop, SqeFlags.ASYNC);
      expect(reapOne(ring)).toMatchObject({ userData: 5, res: -EACCES });

      // Register ops: only the allowed one works.
      const id = registerPersonality(ring);
      expect(id).toBeGreaterThan(0);
      expect(registerFiles(ring, [0])).toBe(-EACCES);
      // Restrictions can only be set before enabling.
      expect(registerRestrictions(ring, [{ opcode: RestrictionOp.SQE_OP, arg: Op.READ }])).toBeLessThan(0);
    } finally {
      ring.close();
    }
  });

  test("restrictions on an enabled ring are refused", () => {
    const ring = new Ring(4);
    try {
      expect(registerRestrictions(ring, [{ opcode: RestrictionOp.SQE_OP, arg: Op.NOP }])).toBe(-EBADFD);
    } finally {
      ring.close();
    }
  });
});
