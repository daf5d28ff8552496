/**
 * FUTEX_WAIT / FUTEX_WAKE / FUTEX_WAITV and WAITID (6.7), in the spirit of
 * liburing's futex.c and waitid.c. The futex words live in JavaScript typed
 * arrays (kept referenced until the CQEs); the waitid child is a `cat` whose
 * stdin we close, so it exits exactly when the test says.
 */
import { describe, expect, test } from "bun:test";
import {
  FUTEX2_PRIVATE,
  FUTEX2_SIZE_U32,
  FUTEX_BITSET_MATCH_ANY,
  makeFutexWaitv,
  prepCancel64,
  prepFutexWait,
  prepFutexWaitv,
  prepFutexWake,
  prepWaitid,
} from "../src/ops/index.ts";
import { Op } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, prep, reap, reapOne, withRing } from "./op-helpers.ts";

const F32 = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
const P_PID = 1;
const WEXITED = 4;
const WNOHANG = 1;
const WNOWAIT = 0x01000000;
const SIGCHLD = 17;
const CLD_EXITED = 1;
const ECHILD = 10;
/** siginfo_t fields for SIGCHLD (x86-64 / arm64 layout). */
const SI = { signo: 0, code: 8, pid: 16, status: 24 } as const;

const hasFutex = kernelHasOp(Op.FUTEX_WAIT) && kernelHasOp(Op.FUTEX_WAKE);
const hasWaitv = kernelHasOp(Op.FUTEX_WAITV);
const hasWaitid = kernelHasOp(Op.WAITID);

const byUd = (cqes: ReadonlyArray<{ userData: number; res: number }>) => new Map(cqes.map((c) => [c.userData, c.res]));

describe.each(CONFIGS)("futex on $name ring", ({ options }) => {
  test.skipIf(!hasFutex)("a waiter sleeps while the word holds its value and wakes on FUTEX_WAKE", () => {
    const word = new Uint32Array(1);
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepFutexWait(s, word, 0, FUTEX_BITSET_MATCH_ANY, F32, 0));
      // The word is left at 0: with SQPOLL the wait may be issued after this
      // line, and a changed word would make it -EAGAIN. SQEs issue in order, so
      // the wake below always finds the wait armed.
      expect(ring.submit()).toBe(1);
      prep(ring, 2, (s) => prepFutexWake(s, word, 1, FUTEX_BITSET_MATCH_ANY, F32, 0));
      const got = byUd(reap(ring, 2));
      expect(got.get(2)).toBe(1); // one waiter woken
      expect(got.get(1)).toBe(0);
    });
  });

  test.skipIf(!hasFutex)("a wait whose value does not match returns -EAGAIN at once", () => {
    const word = new Uint32Array([5]);
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepFutexWait(s, word, 4, FUTEX_BITSET_MATCH_ANY, F32, 0));
      expect(reapOne(ring)).toMatchObject({ userData: 1, res: NEG.EAGAIN });
    });
  });

  test.skipIf(!hasFutex)("FUTEX_WAKE returns how many it woke: none, then 2 of 3, then the last", () => {
    const word = new Uint32Array(1);
    withRing(16, options, (ring) => {
      prep(ring, 10, (s) => prepFutexWake(s, word, 1, FUTEX_BITSET_MATCH_ANY, F32, 0));
      expect(reapOne(ring)).toMatchObject({ userData: 10, res: 0 });
      for (let i = 1; i <= 3; i++) prep(ring, i, (s) => prepFutexWait(s, word, 0, FUTEX_BITSET_MATCH_ANY, F32, 0));
      expect(ring.submit()).toBe(3);
      prep(ring, 11, (s) => prepFutexWake(s, word, 2, FUTEX_BITSET_MATCH_ANY, F32, 0));
      const first = reap(ring, 3);
      expect(byUd(first).get(11)).toBe(2);
      expect(first.filter((c) => c.userData <= 3).every((c) => c.res === 0)).toBe(true);
      prep(ring, 12, (s) => prepFutexWake(s, word, 10, FUTEX_BITSET_MATCH_ANY, F32, 0));
      const second = byUd(reap(ring, 2));
      expect(second.get(12)).toBe(1);
    });
  });

  test.skipIf(!hasFutex)("wake masks: a wake whose bitset misses the waiter's wakes nobody", () => {
    const word = new Uint32Array(1);
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepFutexWait(s, word, 0, 0b01, F32, 0));
      ring.submit();
      prep(ring, 2, (s) => prepFutexWake(s, word, 1, 0b10, F32, 0));
      expect(reapOne(ring)).toMatchObject({ userData: 2, res: 0 });
      prep(ring, 3, (s) => prepFutexWake(s, word, 1, 0b01, F32, 0));
      const got = byUd(reap(ring, 2));
      expect(got.get(3)).toBe(1);
      expect(got.get(1)).toBe(0);
    });
  });

  test.skipIf(!hasFutex)("a pending futex wait can be cancelled", () => {
    const word = new Uint32Array(1);
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepFutexWait(s, word, 0, FUTEX_BITSET_MATCH_ANY, F32, 0));
      ring.submit();
      prep(ring, 2, (s) => prepCancel64(s, 1, 0));
      const got = byUd(reap(ring, 2));
      // 6.18 reports how many futex waits it removed (1); other kernels report 0 like most ops
      expect([0, 1]).toContain(got.get(2)!);
      expect(got.get(1)).toBe(NEG.ECANCELED);
    });
  });

  test.skipIf(!hasFutex)("invalid futex flags are rejected with -EINVAL", () => {
    const word = new Uint32Array(1);
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepFutexWait(s, word, 0, FUTEX_BITSET_MATCH_ANY, 0x7f00, 0));
      expect(reapOne(ring).res).toBe(NEG.EINVAL);
    });
  });

  test.skipIf(!hasWaitv || !hasFutex)("FUTEX_WAITV waits on several words and reports which one woke", () => {
    const words = new Uint32Array(3);
    const waitv = makeFutexWaitv([0, 1, 2].map((i) => ({ val: 0, uaddr: words.subarray(i, i + 1), flags: F32 })));
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepFutexWaitv(s, waitv, 3, 0));
      expect(ring.submit()).toBe(1);
      const third = words.subarray(2, 3);
      prep(ring, 2, (s) => prepFutexWake(s, third, 1, FUTEX_BITSET_MATCH_ANY, F32, 0));
      const got = byUd(reap(ring, 2));
      expect(got.get(2)).toBe(1);
      expect(got.get(1)).toBe(2); // the index of the futex that woke
    });
  });

  test.skipIf(!hasWaitv)("FUTEX_WAITV with a word that no longer matches returns -EAGAIN", () => {
    const words = new Uint32Array([0, 9]);
    const waitv = makeFutexWaitv([
      { val: 0, uaddr: words.subarray(0, 1), flags: F32 },
      { val: 0, uaddr: words.subarray(1, 2), flags: F32 },
    ]);
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepFutexWaitv(s, waitv, 2, 0));
      expect(reapOne(ring).res).toBe(NEG.EAGAIN);
    });
  });
});

describe.each(CONFIGS)("waitid on $name ring", ({ options }) => {
  test.skipIf(!hasWaitid)("waitid(P_PID) completes when the child exits, with its siginfo", async () => {
    // `exec cat` would exit 0; a shell that reads then exits 7 shows the status travels too.
    const child = Bun.spawn(["sh", "-c", "read x; exit 7"], { stdin: "pipe", stdout: "ignore", stderr: "ignore" });
    const info = new Uint8Array(128);
    try {
      withRing(8, options, (ring) => {
        // WNOWAIT leaves the child for Bun to reap, so Bun's own bookkeeping stays right.
        prep(ring, 1, (s) => prepWaitid(s, P_PID, child.pid, info, WEXITED | WNOWAIT, 0));
        expect(ring.submit()).toBe(1);
        child.stdin.end();
        expect(reapOne(ring)).toMatchObject({ userData: 1, res: 0 });
      });
    } finally {
      child.kill();
      await child.exited;
    }
    const dv = new DataView(info.buffer);
    expect(dv.getInt32(SI.signo, true)).toBe(SIGCHLD);
    expect(dv.getInt32(SI.code, true)).toBe(CLD_EXITED);
    expect(dv.getInt32(SI.pid, true)).toBe(child.pid);
    expect(dv.getInt32(SI.status, true)).toBe(7);
    expect(child.exitCode).toBe(7);
  });

  test.skipIf(!hasWaitid)("waitid on a process that is not our child gives -ECHILD", () => {
    withRing(8, options, (ring) => {
      const info = new Uint8Array(128);
      prep(ring, 1, (s) => prepWaitid(s, P_PID, 1, info, WEXITED, 0)); // pid 1 is never our child
      expect(reapOne(ring).res).toBe(-ECHILD);
    });
  });

  test.skipIf(!hasWaitid)("WNOHANG with a running child returns 0 at once and leaves siginfo's pid 0", async () => {
    const child = Bun.spawn(["cat"], { stdin: "pipe", stdout: "ignore", stderr: "ignore" });
    const info = new Uint8Array(128).fill(0xff);
    try {
      withRing(8, options, (ring) => {
        prep(ring, 1, (s) => prepWaitid(s, P_PID, child.pid, info, WEXITED | WNOHANG | WNOWAIT, 0));
        expect(reapOne(ring).res).toBe(0);
      });
    } finally {
      child.stdin.end();
      await child.exited;
    }
    expect(new DataView(info.buffer).getInt32(SI.pid, true)).toBe(0);
  });
});

test.skipIf(!hasFutex)("futex tests leak no fds", async () => {
  const before = fdBaseline();
  const word = new Uint32Array(1);
  withRing(8, {}, (ring) => {
    prep(ring, 1, (s) => prepFutexWait(s, word, 0, FUTEX_BITSET_MATCH_ANY, F32, 0));
    ring.submit(); // left pending: closing the ring must cancel it
  });
  await expectNoNewFds(before);
});
