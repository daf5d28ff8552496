/**
 * Registered buffers: register / unregister, tags (a CQE carrying the tag when
 * a tagged buffer is released), update, sparse tables, and cloning a table into
 * a second ring (IORING_REGISTER_CLONE_BUFFERS).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import { prepRw } from "../src/ops/rw.ts";
import {
  cloneBuffers,
  cloneBuffersOffset,
  CloneBuffersFlags,
  registerBuffers,
  registerBuffersSparse,
  registerBuffersTags,
  registerBuffersUpdateTag,
  unregisterBuffers,
} from "../src/ring/register.ts";
import { Ring } from "../src/ring/ring.ts";
import type { Sqe } from "../src/ring/sqe.ts";
import { Features, Op } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { expectNoNewFds, openFds, tempDir } from "./helpers.ts";
import { pattern, prep, reap, reapOne, withRing } from "./op-helpers.ts";

function prepFixed(op: number, sqe: Sqe, fd: number, addr: number, len: number, offset: number, bufIndex: number): void {
  prepRw(op, sqe, fd, addr, len, offset);
  sqe.u16[20] = bufIndex;
}

/** Clone exists (6.12) when cloning from a ring without buffers says ENXIO rather than EINVAL. */
const hasClone = (() => {
  const a = new Ring(2);
  const b = new Ring(2);
  try {
    return cloneBuffers(b, a) === -Errno.ENXIO;
  } finally {
    a.close();
    b.close();
  }
})();

let tmp: ReturnType<typeof tempDir>;
let fdsBefore: Map<number, string>;
let fd: number;
const held: AlignedBuffer[] = [];
function buffer(len: number, seed: number): AlignedBuffer {
  const b = new AlignedBuffer(len);
  b.bytes.set(pattern(len, seed));
  held.push(b);
  return b;
}
beforeEach(() => {
  tmp = tempDir();
  fdsBefore = openFds();
  fd = openSync(join(tmp.dir, "data"), "w+");
});
afterEach(async () => {
  closeSync(fd);
  for (const b of held.splice(0)) b.free();
  tmp.cleanup();
  await expectNoNewFds(fdsBefore);
});

describe("register buffers", () => {
  test("register, use, unregister; a second unregister says ENXIO", () => {
    withRing(4, {}, (ring) => {
      const b = buffer(4096, 5);
      expect(registerBuffers(ring, [b])).toBe(0);
      expect(registerBuffers(ring, [b])).toBe(-Errno.EBUSY);
      prep(ring, 1, (s) => prepFixed(Op.WRITE_FIXED, s, fd, b.address, 4096, 0, 0));
      expect(reapOne(ring).res).toBe(4096);
      expect(unregisterBuffers(ring)).toBe(0);
      expect(unregisterBuffers(ring)).toBe(-Errno.ENXIO);
      // Typed arrays work as well as raw addresses.
      expect(registerBuffers(ring, [new Uint8Array(256)])).toBe(0);
      expect(unregisterBuffers(ring)).toBe(0);
    });
    expect(readFileSync(join(tmp.dir, "data")).equals(Buffer.from(pattern(4096, 5)))).toBe(true);
  });

  test("sparse table, filled by update, then used", () => {
    withRing(4, {}, (ring) => {
      expect(registerBuffersSparse(ring, 4)).toBe(0);
      const b = buffer(4096, 9);
      prep(ring, 1, (s) => prepFixed(Op.WRITE_FIXED, s, fd, b.address, 4096, 0, 2));
      expect(reapOne(ring).res).toBe(-Errno.EFAULT); // slot 2 is still empty
      expect(registerBuffersUpdateTag(ring, 2, [b])).toBe(1);
      prep(ring, 2, (s) => prepFixed(Op.WRITE_FIXED, s, fd, b.address, 4096, 0, 2));
      expect(reapOne(ring).res).toBe(4096);
      expect(registerBuffersUpdateTag(ring, 4, [b])).toBe(-Errno.EINVAL); // past the table
    });
  });

  test("tags: replacing a tagged buffer posts a CQE with its tag", () => {
    withRing(4, {}, (ring) => {
      if ((ring.features & Features.RSRC_TAGS) === 0) return;
      const b0 = buffer(4096, 1);
      const b1 = buffer(4096, 2);
      const b2 = buffer(4096, 3);
      expect(registerBuffersTags(ring, [b0, b1], [0n, 0x77n])).toBe(0);
      expect(registerBuffersUpdateTag(ring, 1, [b2], [0n])).toBe(1);
      const [tagCqe] = reap(ring, 1);
      expect(tagCqe!.userData).toBe(0x77);
      expect(tagCqe!.res).toBe(0);
      // The table still works, with the new buffer in slot 1.
      prep(ring, 5, (s) => prepFixed(Op.WRITE_FIXED, s, fd, b2.address, 4096, 0, 1));
      expect(reapOne(ring).res).toBe(4096);
    });
  });
});

describe("clone buffers", () => {
  test.skipIf(!hasClone)("a second ring gets the first ring's table, all or a range", () => {
    const src = new Ring(4);
    const dst = new Ring(4);
    try {
      const b0 = buffer(4096, 11);
      const b1 = buffer(4096, 12);
      expect(registerBuffers(src, [b0, b1])).toBe(0);
      expect(cloneBuffers(dst, src)).toBe(0);
      prep(dst, 1, (s) => prepFixed(Op.WRITE_FIXED, s, fd, b1.address, 4096, 0, 1));
      expect(reapOne(dst).res).toBe(4096);
      // The destination is no longer empty: cloning again needs DST_REPLACE.
      expect(cloneBuffers(dst, src)).toBe(-Errno.EBUSY);
      expect(cloneBuffersOffset(dst, src, 0, 1, 1, CloneBuffersFlags.DST_REPLACE)).toBe(0);
      // Slot 0 of dst now holds src's buffer 1.
      prep(dst, 2, (s) => prepFixed(Op.WRITE_FIXED, s, fd, b1.address, 4096, 4096, 0));
      expect(reapOne(dst).res).toBe(4096);
      // The source can drop its table: the clone keeps the pages.
      expect(unregisterBuffers(src)).toBe(0);
      prep(dst, 3, (s) => prepFixed(Op.WRITE_FIXED, s, fd, b1.address, 4096, 8192, 1));
      expect(reapOne(dst).res).toBe(4096);
    } finally {
      dst.close();
      src.close();
    }
    const file = readFileSync(join(tmp.dir, "data"));
    expect(file.length).toBe(3 * 4096);
    expect(file.subarray(4096, 8192).equals(Buffer.from(pattern(4096, 12)))).toBe(true);
  });
});
