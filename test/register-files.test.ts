/**
 * Registered files: register, update (plain and tagged), sparse tables,
 * unregister, and direct descriptors allocated by the kernel inside the range
 * set with io_uring_register_file_alloc_range (openat-direct, then read and
 * close through the fixed slot).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepRw } from "../src/ops/rw.ts";
import {
  registerFileAllocRange,
  registerFiles,
  registerFilesSparse,
  registerFilesTags,
  registerFilesUpdate,
  registerFilesUpdateTag,
  unregisterFiles,
} from "../src/ring/register.ts";
import type { Ring } from "../src/ring/ring.ts";
import type { Sqe } from "../src/ring/sqe.ts";
import { SQE_W } from "../src/sys/abi.ts";
import { Features, FILE_INDEX_ALLOC, Op, REGISTER_FILES_SKIP, SqeFlags } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { expectNoNewFds, kernelHasOp, openFds, tempDir } from "./helpers.ts";
import { prep, reap, reapOne, withRing } from "./op-helpers.ts";
import { cstr } from "./register-helpers.ts";

const AT_FDCWD = -100;
const O_RDONLY = 0;

/** READ of `len` bytes at offset 0 from fixed file `slot`; returns res and the bytes. */
function readFixed(ring: Ring, slot: number, len: number): { res: number; text: string } {
  const buf = new Uint8Array(len);
  prep(ring, 100 + slot, (s) => prepRw(Op.READ, s, slot, buf, len, 0), SqeFlags.FIXED_FILE);
  const res = reapOne(ring).res;
  return { res, text: res > 0 ? Buffer.from(buf.subarray(0, res)).toString() : "" };
}

/** openat into a direct descriptor: file_index = slot + 1, or FILE_INDEX_ALLOC to let the kernel pick. */
function prepOpenDirect(sqe: Sqe, path: Uint8Array, fileIndex: number): void {
  prepRw(Op.OPENAT, sqe, AT_FDCWD, path, 0, 0);
  sqe.u32[SQE_W.opFlags] = O_RDONLY;
  sqe.u32[SQE_W.spliceFdIn] = fileIndex;
}

/** close of a direct descriptor. */
function prepCloseDirect(sqe: Sqe, slot: number): void {
  prepRw(Op.CLOSE, sqe, 0, null, 0, 0);
  sqe.u32[SQE_W.spliceFdIn] = slot + 1;
}

let tmp: ReturnType<typeof tempDir>;
let fdsBefore: Map<number, string>;
const paths: string[] = [];
const fds: number[] = [];
beforeEach(() => {
  tmp = tempDir();
  fdsBefore = openFds();
  paths.length = 0;
  for (let i = 0; i < 3; i++) {
    const p = join(tmp.dir, `file${i}`);
    writeFileSync(p, `contents of file ${i}`);
    paths.push(p);
    fds.push(openSync(p, "r"));
  }
});
afterEach(async () => {
  for (const fd of fds.splice(0)) closeSync(fd);
  tmp.cleanup();
  await expectNoNewFds(fdsBefore);
});

describe("register files", () => {
  test("register, read through slots, update, unregister", () => {
    withRing(8, {}, (ring) => {
      expect(registerFiles(ring, [fds[0]!, -1, fds[2]!])).toBe(0);
      expect(registerFiles(ring, [fds[0]!])).toBe(-Errno.EBUSY);
      expect(readFixed(ring, 0, 64).text).toBe("contents of file 0");
      expect(readFixed(ring, 1, 64).res).toBe(-Errno.EBADF); // the -1 slot is empty
      expect(readFixed(ring, 2, 64).text).toBe("contents of file 2");
      // Fill slot 1, skip slot 2 (-2), clear slot 0 (-1): three slots processed.
      expect(registerFilesUpdate(ring, 0, [-1, fds[1]!, REGISTER_FILES_SKIP])).toBe(3);
      expect(readFixed(ring, 0, 64).res).toBe(-Errno.EBADF);
      expect(readFixed(ring, 1, 64).text).toBe("contents of file 1");
      expect(readFixed(ring, 2, 64).text).toBe("contents of file 2");
      expect(unregisterFiles(ring)).toBe(0);
      expect(unregisterFiles(ring)).toBe(-Errno.ENXIO);
    });
  });

  test("sparse table filled by update", () => {
    withRing(8, {}, (ring) => {
      expect(registerFilesSparse(ring, 16)).toBe(0);
      expect(readFixed(ring, 5, 64).res).toBe(-Errno.EBADF);
      expect(registerFilesUpdate(ring, 5, [fds[1]!])).toBe(1);
      expect(readFixed(ring, 5, 64).text).toBe("contents of file 1");
      expect(registerFilesUpdate(ring, 16, [fds[1]!])).toBe(-Errno.EINVAL); // past the table
    });
  });

  test("tags: replacing a tagged file posts a CQE with its tag", () => {
    withRing(8, {}, (ring) => {
      if ((ring.features & Features.RSRC_TAGS) === 0) return;
      expect(registerFilesTags(ring, [fds[0]!, fds[1]!], [0x10n, 0x11n])).toBe(0);
      expect(registerFilesUpdateTag(ring, 1, [fds[2]!], [0x12n])).toBe(1);
      const [tagCqe] = reap(ring, 1);
      expect(tagCqe!.userData).toBe(0x11);
      expect(readFixed(ring, 1, 64).text).toBe("contents of file 2");
      // Untagged update through FILES_UPDATE2 works as well.
      expect(registerFilesUpdateTag(ring, 0, [fds[1]!])).toBe(1);
      const [tag0] = reap(ring, 1);
      expect(tag0!.userData).toBe(0x10);
      expect(readFixed(ring, 0, 64).text).toBe("contents of file 1");
    });
  });
});

describe("direct descriptors in the file alloc range", () => {
  test.skipIf(!kernelHasOp(Op.OPENAT))("openat-direct allocates inside [off, off + len) and stops with ENFILE when full", () => {
    withRing(8, {}, (ring) => {
      expect(registerFilesSparse(ring, 16)).toBe(0);
      const range = registerFileAllocRange(ring, 4, 2);
      if (range === -Errno.EINVAL) {
        console.log("register_file_alloc_range: -EINVAL (needs Linux 6.0); skipped");
        return;
      }
      expect(range).toBe(0);
      const p = cstr(paths[0]!);
      const slots: number[] = [];
      for (let i = 0; i < 3; i++) {
        prep(ring, i, (s) => prepOpenDirect(s, p, FILE_INDEX_ALLOC));
        slots.push(reapOne(ring).res);
      }
      expect(slots.slice(0, 2).sort()).toEqual([4, 5]);
      expect(slots[2]).toBe(-Errno.ENFILE);
      expect(readFixed(ring, 4, 64).text).toBe("contents of file 0");
      // An explicit slot outside the range is fine (file_index = slot + 1).
      const p2 = cstr(paths[2]!);
      prep(ring, 9, (s) => prepOpenDirect(s, p2, 10 + 1));
      expect(reapOne(ring).res).toBe(0);
      expect(readFixed(ring, 10, 64).text).toBe("contents of file 2");
      // Closing a direct descriptor frees its slot for the next allocation.
      prep(ring, 10, (s) => prepCloseDirect(s, 5));
      expect(reapOne(ring).res).toBe(0);
      prep(ring, 11, (s) => prepOpenDirect(s, p, FILE_INDEX_ALLOC));
      expect(reapOne(ring).res).toBe(5);
      // A range past the table is refused.
      expect(registerFileAllocRange(ring, 15, 4)).toBe(-Errno.EINVAL);
    });
  });
});
