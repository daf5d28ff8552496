/**
 * Linked requests (IOSQE_IO_LINK / IO_HARDLINK), IO_DRAIN ordering, and
 * IOSQE_CQE_SKIP_SUCCESS, in the spirit of liburing's link.c, hardlink.c,
 * link_drain.c, submit-link-fail.c and skip-cqe.c. Failures are injected with
 * NOP's IORING_NOP_INJECT_RESULT so every case is deterministic.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync, openSync, closeSync, writeSync, constants } from "node:fs";
import { join } from "node:path";
import { prepNop, prepRead } from "../src/ops/index.ts";
import type { Ring } from "../src/ring/ring.ts";
import type { Sqe } from "../src/ring/sqe.ts";
import { SQE_W } from "../src/sys/abi.ts";
import { Features, NopFlags, SqeFlags } from "../src/sys/constants.ts";
import { expectNoNewFds, tempDir } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, makePipe, prep, reap, withRing, type CqeRecord } from "./op-helpers.ts";

const { IO_LINK, IO_HARDLINK, IO_DRAIN, CQE_SKIP_SUCCESS } = SqeFlags;

/** A NOP that completes with `res` (IORING_NOP_INJECT_RESULT; a negative res fails the request). */
function prepNopResult(sqe: Sqe, res: number): void {
  prepNop(sqe);
  sqe.u32[SQE_W.opFlags] = NopFlags.INJECT_RESULT;
  sqe.u32[SQE_W.len] = res >>> 0;
}

/** Prepares a chain of NOPs with user_data 1..n; `results[i]` is what NOP i+1 injects; `linkFlag` on all but the last. */
function prepChain(ring: Ring, results: readonly number[], linkFlag: number, extraFlags: readonly number[] = []): void {
  results.forEach((res, i) => {
    const flags = (i < results.length - 1 ? linkFlag : 0) | (extraFlags[i] ?? 0);
    prep(ring, i + 1, (sqe) => prepNopResult(sqe, res), flags);
  });
}

const pairs = (cqes: readonly CqeRecord[]) => cqes.map((c) => [c.userData, c.res]);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("uring-op-link-");
});
afterAll(() => tmp.cleanup());

describe.each(CONFIGS)("links on $name ring", ({ options }) => {
  test("a successful chain completes in submission order", () => {
    withRing(8, options, (ring) => {
      prepChain(ring, [0, 0, 0, 0], IO_LINK);
      expect(pairs(reap(ring, 4))).toEqual([
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
      ]);
    });
  });

  test("a failing head cancels the rest of the chain with -ECANCELED", () => {
    withRing(8, options, (ring) => {
      prepChain(ring, [NEG.EINVAL, 0, 0], IO_LINK);
      expect(pairs(reap(ring, 3))).toEqual([
        [1, NEG.EINVAL],
        [2, NEG.ECANCELED],
        [3, NEG.ECANCELED],
      ]);
    });
  });

  test("a failure in the middle cancels only what follows it", () => {
    withRing(8, options, (ring) => {
      prepChain(ring, [0, NEG.EBADF, 0, 0], IO_LINK);
      expect(pairs(reap(ring, 4))).toEqual([
        [1, 0],
        [2, NEG.EBADF],
        [3, NEG.ECANCELED],
        [4, NEG.ECANCELED],
      ]);
    });
  });

  test("the chain ends at the first SQE without IO_LINK: the next chain is independent", () => {
    withRing(8, options, (ring) => {
      // chain A: 1 -> 2 (1 fails); chain B: 3 -> 4 (both succeed)
      prep(ring, 1, (s) => prepNopResult(s, NEG.EINVAL), IO_LINK);
      prep(ring, 2, (s) => prepNopResult(s, 0));
      prep(ring, 3, (s) => prepNopResult(s, 0), IO_LINK);
      prep(ring, 4, (s) => prepNopResult(s, 0));
      const got = new Map(reap(ring, 4).map((c) => [c.userData, c.res]));
      expect([...got.entries()].sort((a, b) => a[0] - b[0])).toEqual([
        [1, NEG.EINVAL],
        [2, NEG.ECANCELED],
        [3, 0],
        [4, 0],
      ]);
    });
  });

  test("IO_HARDLINK keeps the chain going past failures", () => {
    withRing(8, options, (ring) => {
      prepChain(ring, [NEG.EINVAL, 0, NEG.ENOENT, 0], IO_HARDLINK);
      expect(pairs(reap(ring, 4))).toEqual([
        [1, NEG.EINVAL],
        [2, 0],
        [3, NEG.ENOENT],
        [4, 0],
      ]);
    });
  });

  test("the same failure propagation when members run on io-wq (IOSQE_ASYNC)", () => {
    withRing(8, options, (ring) => {
      const ASYNC = SqeFlags.ASYNC;
      prepChain(ring, [0, NEG.EINVAL, 0], IO_LINK, [ASYNC, ASYNC, ASYNC]);
      expect(pairs(reap(ring, 3))).toEqual([
        [1, 0],
        [2, NEG.EINVAL],
        [3, NEG.ECANCELED],
      ]);
      prepChain(ring, [NEG.EINVAL, 0], IO_HARDLINK, [ASYNC, ASYNC]);
      expect(pairs(reap(ring, 2))).toEqual([
        [1, NEG.EINVAL],
        [2, 0],
      ]);
    });
  });

  test("a short read breaks a link; the linked NOP gets -ECANCELED", () => {
    const path = join(tmp.dir, `short-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, "0123456789");
    const fd = openSync(path, constants.O_RDONLY);
    try {
      withRing(8, options, (ring) => {
        const buf = new Uint8Array(100);
        prep(ring, 1, (s) => prepRead(s, fd, buf, buf.length, 0), IO_LINK);
        prep(ring, 2, (s) => prepNop(s));
        expect(pairs(reap(ring, 2))).toEqual([
          [1, 10],
          [2, NEG.ECANCELED],
        ]);
        expect(new TextDecoder().decode(buf.subarray(0, 10))).toBe("0123456789");
      });
    } finally {
      closeSync(fd);
    }
  });

  test("an SQE that fails to prepare inside a chain fails it; the others get -ECANCELED", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepNop(s), IO_LINK);
      // opcode 255 does not exist: the kernel fails this SQE at submission
      prep(
        ring,
        2,
        (s) => {
          prepNop(s);
          s.u8[0] = 255;
        },
        IO_LINK,
      );
      prep(ring, 3, (s) => prepNop(s));
      const submitted = ring.submit();
      // Since 5.13 the whole batch is consumed and the failure reported in CQEs;
      // older kernels stop at the bad SQE (submitted == 2) and post fewer CQEs.
      expect(submitted).toBe(3);
      const got = new Map(reap(ring, 3).map((c) => [c.userData, c.res]));
      expect(got.get(1)).toBe(NEG.ECANCELED);
      expect(got.get(2)).toBeLessThan(0);
      expect(got.get(2)).not.toBe(NEG.ECANCELED);
      expect(got.get(3)).toBe(NEG.ECANCELED);
    });
  });

  test("IO_DRAIN waits for every earlier request, and later ones wait for the drain", () => {
    const pipe = makePipe(tmp.dir);
    try {
      withRing(8, options, (ring) => {
        const buf = new Uint8Array(4);
        prep(ring, 1, (s) => prepRead(s, pipe.readFd, buf, buf.length, 0)); // pends: the pipe is empty
        prep(ring, 2, (s) => prepNop(s), IO_DRAIN);
        prep(ring, 3, (s) => prepNop(s));
        expect(ring.submit()).toBe(3);
        // Nothing may complete before the read: unblock it, then check the order.
        expect(writeSync(pipe.writeFd, "abcd")).toBe(4);
        const cqes = reap(ring, 3);
        expect(pairs(cqes)).toEqual([
          [1, 4],
          [2, 0],
          [3, 0],
        ]);
        expect(new TextDecoder().decode(buf)).toBe("abcd");
      });
    } finally {
      pipe.close();
    }
  });

  test("a drained chain: IO_DRAIN on a link head waits for earlier requests", () => {
    const pipe = makePipe(tmp.dir);
    try {
      withRing(8, options, (ring) => {
        const buf = new Uint8Array(1);
        prep(ring, 1, (s) => prepRead(s, pipe.readFd, buf, 1, 0));
        prep(ring, 2, (s) => prepNop(s), IO_DRAIN | IO_LINK);
        prep(ring, 3, (s) => prepNop(s));
        expect(ring.submit()).toBe(3);
        writeSync(pipe.writeFd, "x");
        expect(pairs(reap(ring, 3))).toEqual([
          [1, 1],
          [2, 0],
          [3, 0],
        ]);
      });
    } finally {
      pipe.close();
    }
  });
});

describe.each(CONFIGS)("CQE_SKIP_SUCCESS on $name ring", ({ options }) => {
  const probeSkip = () => withRing(2, options, (r) => (r.features & Features.CQE_SKIP) !== 0);
  const hasSkip = probeSkip();

  test.skipIf(!hasSkip)("a successful request with CQE_SKIP_SUCCESS posts no CQE", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepNop(s), CQE_SKIP_SUCCESS);
      prep(ring, 2, (s) => prepNop(s), CQE_SKIP_SUCCESS);
      prep(ring, 3, (s) => prepNop(s));
      // and the same inside a link: only the tail (5) posts
      prep(ring, 4, (s) => prepNop(s), IO_LINK | CQE_SKIP_SUCCESS);
      prep(ring, 5, (s) => prepNop(s));
      const cqes = reap(ring, 2);
      expect(cqes.map((c) => c.userData).sort()).toEqual([3, 5]);
      expect(ring.cqReady()).toBe(0);
    });
  });

  test.skipIf(!hasSkip)("a failed request with CQE_SKIP_SUCCESS still posts its CQE", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepNopResult(s, NEG.EINVAL), CQE_SKIP_SUCCESS);
      expect(pairs(reap(ring, 1))).toEqual([[1, NEG.EINVAL]]);
    });
  });

  test.skipIf(!hasSkip)("a failing request with CQE_SKIP_SUCCESS posts its error, and the chain it cancels posts nothing", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepNopResult(s, NEG.ENOENT), IO_LINK | CQE_SKIP_SUCCESS);
      prep(ring, 2, (s) => prepNop(s), IO_LINK | CQE_SKIP_SUCCESS);
      prep(ring, 3, (s) => prepNop(s));
      expect(pairs(reap(ring, 1))).toEqual([[1, NEG.ENOENT]]);
      // a fence: had 2 or 3 posted a CQE, it would come before this one
      prep(ring, 9, (s) => prepNop(s));
      expect(pairs(reap(ring, 1))).toEqual([[9, 0]]);
    });
  });

  test.skipIf(!hasSkip)("a failing head without the flag: the skipped members it cancels do post -ECANCELED", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepNopResult(s, NEG.ENOENT), IO_LINK);
      prep(ring, 2, (s) => prepNop(s), IO_LINK | CQE_SKIP_SUCCESS);
      prep(ring, 3, (s) => prepNop(s), CQE_SKIP_SUCCESS);
      expect(pairs(reap(ring, 3))).toEqual([
        [1, NEG.ENOENT],
        [2, NEG.ECANCELED],
        [3, NEG.ECANCELED],
      ]);
    });
  });

  test.skipIf(!hasSkip)("a chain of skipped successes posts only the tail's CQE", () => {
    withRing(16, options, (ring) => {
      for (let i = 1; i <= 5; i++) prep(ring, i, (s) => prepNop(s), IO_LINK | CQE_SKIP_SUCCESS);
      prep(ring, 6, (s) => prepNop(s));
      expect(pairs(reap(ring, 1))).toEqual([[6, 0]]);
      expect(ring.cqReady()).toBe(0);
    });
  });
});

test("link tests leak no fds", async () => {
  const before = fdBaseline();
  const pipe = makePipe(tmp.dir);
  withRing(8, {}, (ring) => {
    const buf = new Uint8Array(1);
    prep(ring, 1, (s) => prepRead(s, pipe.readFd, buf, 1, 0), IO_LINK);
    prep(ring, 2, (s) => prepNop(s));
    ring.submit();
    writeSync(pipe.writeFd, "z");
    expect(pairs(reap(ring, 2))).toEqual([
      [1, 1],
      [2, 0],
    ]);
  });
  pipe.close();
  await expectNoNewFds(before);
});
