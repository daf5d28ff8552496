/**
 * MSG_RING between two rings (data and fixed-file passing) and
 * FIXED_FD_INSTALL, in the spirit of liburing's msg-ring.c, msg-ring-fd.c,
 * msg-ring-flags.c and fd-install.c. Both rings use the same configuration.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepFixedFdInstall, prepMsgRing, prepMsgRingCqeFlags, prepMsgRingFd, prepMsgRingFdAlloc, prepRead } from "../src/ops/index.ts";
import { registerFiles, registerFilesSparse } from "../src/ring/register.ts";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { MsgRingFlags, Op, SqeFlags, FixedFdInstallFlags } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp, tempDir } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, closeAll, cqeWithin, prep, reap, reapOne, withRing } from "./op-helpers.ts";

const EBADFD = 77;
const O_CLOEXEC = 0x80000;

const hasMsgRing = kernelHasOp(Op.MSG_RING);
const hasFdInstall = kernelHasOp(Op.FIXED_FD_INSTALL);

let tmp: ReturnType<typeof tempDir>;
let filePath = "";
const CONTENT = "bytes behind a passed file";
beforeAll(() => {
  tmp = tempDir("uring-op-msg-");
  filePath = join(tmp.dir, "passed");
  writeFileSync(filePath, CONTENT);
});
afterAll(() => tmp.cleanup());

/** Two rings of the same configuration, both closed afterwards. */
function withTwoRings(options: RingOptions, body: (src: Ring, dst: Ring) => void): void {
  withRing(8, options, (src) => withRing(8, options, (dst) => body(src, dst)));
}

describe.each(CONFIGS)("MSG_RING on $name rings", ({ options }) => {
  test.skipIf(!hasMsgRing)("a data message posts a CQE on the target: user_data = data, res = len", () => {
    withTwoRings(options, (src, dst) => {
      prep(src, 1, (s) => prepMsgRing(s, dst.fd, 0x42, 0xcafe, 0));
      expect(reapOne(src)).toMatchObject({ userData: 1, res: 0 });
      expect(reapOne(dst)).toMatchObject({ userData: 0xcafe, res: 0x42, flags: 0 });
    });
  });

  test.skipIf(!hasMsgRing)("a batch of messages arrives in order", () => {
    withTwoRings(options, (src, dst) => {
      for (let i = 0; i < 5; i++) prep(src, i, (s) => prepMsgRing(s, dst.fd, i * 10, 1000 + i, 0));
      expect(reap(src, 5).every((c) => c.res === 0)).toBe(true);
      expect(reap(dst, 5).map((c) => [c.userData, c.res])).toEqual([0, 1, 2, 3, 4].map((i) => [1000 + i, i * 10]));
    });
  });

  test.skipIf(!hasMsgRing)("MSG_RING_CQE_SKIP is for passing files only: a data message with it is -EINVAL", () => {
    withTwoRings(options, (src, dst) => {
      prep(src, 1, (s) => prepMsgRing(s, dst.fd, 1, 0x5a, MsgRingFlags.CQE_SKIP));
      expect(reapOne(src).res).toBe(NEG.EINVAL);
      // fence: a normal message sent after it must be the first thing the target sees
      prep(src, 2, (s) => prepMsgRing(s, dst.fd, 2, 0x5b, 0));
      expect(reapOne(src).res).toBe(0);
      expect(reapOne(dst)).toMatchObject({ userData: 0x5b, res: 2 });
    });
  });

  test.skipIf(!hasMsgRing)("MSG_RING_CQE_SKIP with a passed file: the file lands, the target gets no CQE", () => {
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      withTwoRings(options, (src, dst) => {
        expect(registerFiles(src, [fd])).toBe(0);
        expect(registerFilesSparse(dst, 4)).toBe(0);
        prep(src, 1, (s) => prepMsgRingFd(s, dst.fd, 0, 1, 0x5a, MsgRingFlags.CQE_SKIP));
        expect(reapOne(src)).toMatchObject({ userData: 1, res: 0 });
        // the first CQE the target posts is its own read through the new slot
        const buf = new Uint8Array(64);
        prep(dst, 2, (s) => prepRead(s, 1, buf, buf.length, 0), SqeFlags.FIXED_FILE);
        const c = reapOne(dst);
        expect(c.userData).toBe(2);
        expect(new TextDecoder().decode(buf.subarray(0, c.res))).toBe(CONTENT);
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!hasMsgRing)("MSG_RING_FLAGS_PASS sets the target CQE's flags", () => {
    withTwoRings(options, (src, dst) => {
      prep(src, 1, (s) => prepMsgRingCqeFlags(s, dst.fd, 7, 0x77, 0, 0x12340000));
      const res = reapOne(src).res;
      expect(res).toBe(0);
      expect(reapOne(dst)).toMatchObject({ userData: 0x77, res: 7, flags: 0x12340000 });
    });
  });

  test.skipIf(!hasMsgRing)("a message to the ring itself posts both CQEs there", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepMsgRing(s, ring.fd, 3, 0x99, 0));
      const got = reap(ring, 2)
        .map((c) => [c.userData, c.res])
        .sort((a, b) => a[0]! - b[0]!);
      expect(got).toEqual([
        [1, 0],
        [0x99, 3],
      ]);
    });
  });

  test.skipIf(!hasMsgRing)("a target that is not a ring gives -EBADFD", () => {
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      withRing(8, options, (ring) => {
        prep(ring, 1, (s) => prepMsgRing(s, fd, 0, 0, 0));
        expect(reapOne(ring).res).toBe(-EBADFD);
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!hasMsgRing)("passing a fixed file: the target reads through the slot it was given", () => {
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      withTwoRings(options, (src, dst) => {
        expect(registerFiles(src, [fd])).toBe(0);
        expect(registerFilesSparse(dst, 4)).toBe(0);
        prep(src, 1, (s) => prepMsgRingFd(s, dst.fd, 0, 2, 0xf00d, 0));
        expect(reapOne(src)).toMatchObject({ userData: 1, res: 0 });
        expect(reapOne(dst)).toMatchObject({ userData: 0xf00d, res: 0 });
        const buf = new Uint8Array(64);
        prep(dst, 2, (s) => prepRead(s, 2, buf, buf.length, 0), SqeFlags.FIXED_FILE);
        const n = reapOne(dst).res;
        expect(new TextDecoder().decode(buf.subarray(0, n))).toBe(CONTENT);
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!hasMsgRing)("passing into an allocated slot reports the slot in the target CQE", () => {
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      withTwoRings(options, (src, dst) => {
        expect(registerFiles(src, [fd])).toBe(0);
        expect(registerFilesSparse(dst, 4)).toBe(0);
        prep(src, 1, (s) => prepMsgRingFdAlloc(s, dst.fd, 0, 0xa110c, 0));
        expect(reapOne(src).res).toBe(0);
        const slot = reapOne(dst);
        expect(slot.userData).toBe(0xa110c);
        expect(slot.res).toBeGreaterThanOrEqual(0);
        expect(slot.res).toBeLessThan(4);
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!hasMsgRing)("passing a file to a ring without a file table fails, and the target sees nothing", () => {
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      withTwoRings(options, (src, dst) => {
        expect(registerFiles(src, [fd])).toBe(0);
        prep(src, 1, (s) => prepMsgRingFd(s, dst.fd, 0, 0, 0xbad, 0));
        expect(reapOne(src).res).toBeLessThan(0);
        expect(cqeWithin(dst, 20)).toBeNull();
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!hasFdInstall)("FIXED_FD_INSTALL turns a fixed file into a normal fd (O_CLOEXEC unless NO_CLOEXEC)", () => {
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      withRing(8, options, (ring) => {
        expect(registerFiles(ring, [fd])).toBe(0);
        prep(ring, 1, (s) => prepFixedFdInstall(s, 0, 0));
        const installed = reapOne(ring).res;
        expect(installed).toBeGreaterThanOrEqual(0);
        prep(ring, 2, (s) => prepFixedFdInstall(s, 0, FixedFdInstallFlags.NO_CLOEXEC));
        const plain = reapOne(ring).res;
        expect(plain).toBeGreaterThanOrEqual(0);
        try {
          const flagsOf = (n: number) => Number.parseInt(readFileSync(`/proc/self/fdinfo/${n}`, "utf8").match(/flags:\s+(\d+)/)![1]!, 8);
          expect(flagsOf(installed) & O_CLOEXEC).toBe(O_CLOEXEC);
          expect(flagsOf(plain) & O_CLOEXEC).toBe(0);
          const b = new Uint8Array(64);
          const n = readSync(installed, b, 0, 64, 0);
          expect(new TextDecoder().decode(b.subarray(0, n))).toBe(CONTENT);
        } finally {
          closeAll(installed, plain);
        }
        prep(ring, 3, (s) => prepFixedFdInstall(s, 3, 0)); // slot 3 does not exist
        expect(reapOne(ring).res).toBeLessThan(0);
      });
    } finally {
      closeSync(fd);
    }
  });
});

test.skipIf(!hasMsgRing)("msg-ring tests leak no fds", async () => {
  const before = fdBaseline();
  const fd = openSync(filePath, constants.O_RDONLY);
  withTwoRings({}, (src, dst) => {
    expect(registerFiles(src, [fd])).toBe(0);
    expect(registerFilesSparse(dst, 2)).toBe(0);
    prep(src, 1, (s) => prepMsgRingFd(s, dst.fd, 0, 1, 1, 0));
    expect(reapOne(src).res).toBe(0);
    expect(reapOne(dst).res).toBe(0);
  });
  closeSync(fd);
  await expectNoNewFds(before);
});
