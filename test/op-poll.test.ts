/**
 * POLL_ADD (one-shot and multishot) and POLL_REMOVE (remove and update), in
 * the spirit of liburing's poll.c, poll-cancel.c, poll-mshot-update.c and
 * poll-mshot-wake.c. Readiness comes from pipes: a read end is readable once
 * the test writes, a write end is always writable.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, readSync, writeSync } from "node:fs";
import { prepPollAdd, prepPollMultishot, prepPollRemove, prepPollUpdate } from "../src/ops/index.ts";
import { CqeFlags, Op, PollFlags } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, makePipe, pipesPerFile, prep, reap, reapOne, withRing, type CqeRecord, type Pipe } from "./op-helpers.ts";

const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLHUP = 0x10;

const hasPoll = kernelHasOp(Op.POLL_ADD) && kernelHasOp(Op.POLL_REMOVE);
const more = (c: CqeRecord) => (c.flags & CqeFlags.MORE) !== 0;
const byUd = (cqes: readonly CqeRecord[]) => new Map(cqes.map((c) => [c.userData, c]));

const files = pipesPerFile("uring-op-poll-");
const pipe = files.pipe;

/** Empties a pipe's read end of `n` bytes. */
function drain(f: Pipe, n: number): void {
  const b = new Uint8Array(n);
  expect(readSync(f.readFd, b)).toBe(n);
}

describe.each(CONFIGS)("poll on $name ring", ({ options }) => {
  test.skipIf(!hasPoll)("POLLOUT on a writable fd completes at once with the ready mask", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollAdd(s, f.writeFd, POLLOUT));
      const c = reapOne(ring);
      expect(c.userData).toBe(1);
      expect(c.res & POLLOUT).toBe(POLLOUT);
      expect(more(c)).toBe(false);
    });
  });

  test.skipIf(!hasPoll)("POLLIN waits until data arrives", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollAdd(s, f.readFd, POLLIN));
      expect(ring.submit()).toBe(1);
      writeSync(f.writeFd, "ab");
      const c = reapOne(ring);
      expect(c.userData).toBe(1);
      expect(c.res & POLLIN).toBe(POLLIN);
      drain(f, 2);
    });
  });

  test.skipIf(!hasPoll)("a one-shot poll fires once: a second write posts nothing more", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollAdd(s, f.readFd, POLLIN));
      ring.submit();
      writeSync(f.writeFd, "a");
      expect(reapOne(ring).userData).toBe(1);
      drain(f, 1);
      writeSync(f.writeFd, "b");
      // fence: a POLLOUT poll completes at once; had the first poll re-fired, its CQE would come first
      prep(ring, 2, (s) => prepPollAdd(s, f.writeFd, POLLOUT));
      expect(reapOne(ring).userData).toBe(2);
      expect(ring.cqReady()).toBe(0);
      drain(f, 1);
    });
  });

  test.skipIf(!hasPoll)("multishot poll posts a CQE per readiness event, each with CQE_F_MORE", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollMultishot(s, f.readFd, POLLIN));
      expect(ring.submit()).toBe(1);
      for (let i = 0; i < 3; i++) {
        writeSync(f.writeFd, "x");
        const c = reapOne(ring);
        expect(c.userData).toBe(1);
        expect(c.res & POLLIN).toBe(POLLIN);
        expect(more(c)).toBe(true);
        drain(f, 1);
      }
      // removing it ends the stream: the remove gets 0, the poll a final -ECANCELED without MORE
      prep(ring, 2, (s) => prepPollRemove(s, 1));
      const got = byUd(reap(ring, 2));
      expect(got.get(2)?.res).toBe(0);
      expect(got.get(1)?.res).toBe(NEG.ECANCELED);
      expect(more(got.get(1)!)).toBe(false);
    });
  });

  test.skipIf(!hasPoll)("removing a poll that does not exist gives -ENOENT", () => {
    withRing(8, options, (ring) => {
      prep(ring, 2, (s) => prepPollRemove(s, 0x777));
      expect(reapOne(ring)).toMatchObject({ userData: 2, res: NEG.ENOENT });
    });
  });

  test.skipIf(!hasPoll)("POLL_REMOVE of a pending one-shot poll: the poll gets -ECANCELED", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollAdd(s, f.readFd, POLLIN));
      ring.submit();
      prep(ring, 2, (s) => prepPollRemove(s, 1));
      const got = byUd(reap(ring, 2));
      expect(got.get(2)?.res).toBe(0);
      expect(got.get(1)?.res).toBe(NEG.ECANCELED);
    });
  });

  test.skipIf(!hasPoll)("poll update of the events: POLLIN on a write end never fires, POLLOUT does at once", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollAdd(s, f.writeFd, POLLIN));
      ring.submit();
      prep(ring, 2, (s) => prepPollUpdate(s, 1, 0, POLLOUT, PollFlags.UPDATE_EVENTS));
      const got = byUd(reap(ring, 2));
      expect(got.get(2)?.res).toBe(0);
      expect(got.get(1)!.res & POLLOUT).toBe(POLLOUT);
    });
  });

  test.skipIf(!hasPoll)("poll update of the user_data: the poll completes under its new user_data", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollAdd(s, f.readFd, POLLIN));
      ring.submit();
      prep(ring, 2, (s) => prepPollUpdate(s, 1, 42, 0, PollFlags.UPDATE_USER_DATA));
      expect(reapOne(ring)).toMatchObject({ userData: 2, res: 0 });
      writeSync(f.writeFd, "u");
      const c = reapOne(ring);
      expect(c.userData).toBe(42);
      expect(c.res & POLLIN).toBe(POLLIN);
      drain(f, 1);
    });
  });

  test.skipIf(!hasPoll)("a multishot poll stays armed across an update of its events", () => {
    const f = pipe();
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollMultishot(s, f.readFd, POLLIN));
      ring.submit();
      // update to the same events and a new user_data, keeping it multishot
      prep(ring, 2, (s) => prepPollUpdate(s, 1, 7, POLLIN, PollFlags.UPDATE_EVENTS | PollFlags.UPDATE_USER_DATA | PollFlags.ADD_MULTI));
      expect(reapOne(ring)).toMatchObject({ userData: 2, res: 0 });
      for (let i = 0; i < 2; i++) {
        writeSync(f.writeFd, "m");
        const c = reapOne(ring);
        expect(c.userData).toBe(7);
        expect(more(c)).toBe(true);
        drain(f, 1);
      }
      prep(ring, 3, (s) => prepPollRemove(s, 7));
      expect(
        reap(ring, 2)
          .map((c) => c.userData)
          .sort(),
      ).toEqual([3, 7]);
    });
  });

  test.skipIf(!hasPoll)("updating a poll that does not exist gives -ENOENT", () => {
    withRing(8, options, (ring) => {
      prep(ring, 2, (s) => prepPollUpdate(s, 0x999, 0, POLLIN, PollFlags.UPDATE_EVENTS));
      expect(reapOne(ring).res).toBe(NEG.ENOENT);
    });
  });

  test.skipIf(!hasPoll)("closing the write end wakes a reader's poll with POLLHUP", () => {
    const f = makePipe(files.dir);
    try {
      withRing(8, options, (ring) => {
        prep(ring, 1, (s) => prepPollAdd(s, f.readFd, POLLIN));
        ring.submit();
        closeSync(f.writeFd); // only the write end
        f.writeFd = -1;
        const c = reapOne(ring);
        expect(c.res & POLLHUP).toBe(POLLHUP);
      });
    } finally {
      f.close();
    }
  });

  test.skipIf(!hasPoll)("a poll on a bad fd fails with -EBADF", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepPollAdd(s, 999_999, POLLIN));
      expect(reapOne(ring).res).toBe(NEG.EBADF);
    });
  });
});

test.skipIf(!hasPoll)("poll tests leak no fds (a pending multishot poll is torn down with the ring)", async () => {
  const before = fdBaseline();
  const f = makePipe(files.dir);
  withRing(8, {}, (ring) => {
    prep(ring, 1, (s) => prepPollMultishot(s, f.readFd, POLLIN));
    ring.submit();
    writeSync(f.writeFd, "z");
    expect(more(reapOne(ring))).toBe(true);
  });
  f.close();
  await expectNoNewFds(before);
});
