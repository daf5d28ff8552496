/**
 * Legacy provided buffers (IORING_OP_PROVIDE_BUFFERS / REMOVE_BUFFERS, 5.7):
 * buffers handed to a group by an SQE rather than a ring, living in an
 * AlignedBuffer; READ with IOSQE_BUFFER_SELECT picks them, -ENOBUFS when none
 * are left, and REMOVE_BUFFERS takes the unused ones back.
 */
import { describe, expect, test } from "bun:test";
import { writeSync } from "node:fs";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import { prepProvideBuffers, prepRemoveBuffers } from "../src/ops/buffers.ts";
import { CQE_BUFFER_SHIFT, CqeFlags, Op } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { kernelHasOp } from "./helpers.ts";
import { CONFIGS, prep, reapOne, withRing } from "./op-helpers.ts";
import { pipePerTest, readSelect, type Pipe } from "./register-helpers.ts";

const hasProvide = kernelHasOp(Op.PROVIDE_BUFFERS) && kernelHasOp(Op.REMOVE_BUFFERS);

let pipe: Pipe;
pipePerTest((p) => (pipe = p));

describe.each(CONFIGS)("provided buffers ($name)", ({ options }) => {
  test.skipIf(!hasProvide)("provide, select, run out, remove", () => {
    using mem = new AlignedBuffer(4 * 32);
    withRing(8, options, (ring) => {
      // Four 32-byte buffers, bids 10..13, group 5.
      prep(ring, 1, (s) => prepProvideBuffers(s, mem.address, 32, 4, 5, 10));
      expect(reapOne(ring).res).toBe(0);
      const bids: number[] = [];
      for (let i = 0; i < 3; i++) {
        writeSync(pipe.writeFd, `msg${i}`);
        const c = readSelect(ring, 10 + i, pipe.readFd, 32, 5);
        expect(c.res).toBe(4);
        expect(c.flags & CqeFlags.BUFFER).toBe(CqeFlags.BUFFER);
        const bid = c.flags >>> CQE_BUFFER_SHIFT;
        expect(bid).toBeGreaterThanOrEqual(10);
        expect(bid).toBeLessThan(14);
        expect(Buffer.from(mem.subarray((bid - 10) * 32, 4)).toString()).toBe(`msg${i}`);
        bids.push(bid);
      }
      expect(new Set(bids).size).toBe(3);
      // One buffer is left: removing up to 8 takes back exactly one.
      prep(ring, 20, (s) => prepRemoveBuffers(s, 8, 5));
      expect(reapOne(ring).res).toBe(1);
      writeSync(pipe.writeFd, "late");
      expect(readSelect(ring, 21, pipe.readFd, 32, 5).res).toBe(-Errno.ENOBUFS);
      // Giving one back makes the read go through.
      prep(ring, 22, (s) => prepProvideBuffers(s, mem.address, 32, 1, 5, 10));
      expect(reapOne(ring).res).toBe(0);
      const c = readSelect(ring, 23, pipe.readFd, 32, 5);
      expect(c.res).toBe(4);
      expect(c.flags >>> CQE_BUFFER_SHIFT).toBe(10);
      expect(Buffer.from(mem.subarray(0, 4)).toString()).toBe("late");
      // The group now exists but is empty: removing finds nothing; a group never provided says ENOENT.
      prep(ring, 24, (s) => prepRemoveBuffers(s, 1, 5));
      expect(reapOne(ring).res).toBe(0);
      prep(ring, 25, (s) => prepRemoveBuffers(s, 1, 6));
      expect(reapOne(ring).res).toBe(-Errno.ENOENT);
    });
  });
});
