/**
 * IORING_OP_ASYNC_CANCEL, in the spirit of liburing's io-cancel.c,
 * poll-cancel-all.c and cancel-fd-userdata.c: cancel by user_data, by fd, any,
 * all, by opcode, and the -ENOENT of cancelling nothing. Pending requests are
 * reads and polls on empty pipes, which wait forever until cancelled.
 */
import { describe, expect, test } from "bun:test";
import { prepCancel, prepCancel64, prepCancelFd, prepNop, prepPollAdd, prepRead, prepTimeout, Timespec } from "../src/ops/index.ts";
import type { Ring } from "../src/ring/ring.ts";
import { SQE_W } from "../src/sys/abi.ts";
import { CancelFlags, Op } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, makePipe, pipesPerFile, prep, reap, reapOne, withRing, type CqeRecord } from "./op-helpers.ts";

const POLLIN = 0x1;

/** Results of a cancelled read or poll: -ECANCELED, or -EINTR when a blocked read is interrupted. */
const CANCELLED = [NEG.ECANCELED, NEG.EINTR];

const hasCancel = kernelHasOp(Op.ASYNC_CANCEL);

/** Does the kernel accept `flags` on ASYNC_CANCEL? (Unknown flags give -EINVAL; nothing to cancel gives -ENOENT.) */
function cancelFlagsSupported(flags: number): boolean {
  if (!hasCancel) return false;
  return withRing(4, {}, (ring) => {
    prep(ring, 1, (s) => {
      prepCancel64(s, 0x1234, flags);
      if (flags & CancelFlags.FD) s.u32[SQE_W.fd] = 0;
    });
    return reapOne(ring).res !== NEG.EINVAL;
  });
}

const hasCancelAll = cancelFlagsSupported(CancelFlags.ALL); // 5.19
const hasCancelFd = cancelFlagsSupported(CancelFlags.FD);
const hasCancelAny = cancelFlagsSupported(CancelFlags.ANY);
const hasCancelOp = cancelFlagsSupported(CancelFlags.OP | CancelFlags.ALL); // 6.6
const hasCancelFdUserdata = cancelFlagsSupported(CancelFlags.FD | CancelFlags.USERDATA);

const files = pipesPerFile("uring-op-cancel-");
const pipe = files.pipe;

/** Arms a read on an empty pipe (it pends until data or cancel). */
function pendingRead(ring: Ring, userData: number, fd: number, keep: Uint8Array[]): void {
  const buf = new Uint8Array(16);
  keep.push(buf); // the kernel may write here until the read's CQE
  prep(ring, userData, (s) => prepRead(s, fd, buf, buf.length, 0));
}

const split = (cqes: readonly CqeRecord[], cancelUd: number) => ({
  cancel: cqes.filter((c) => c.userData === cancelUd),
  others: cqes.filter((c) => c.userData !== cancelUd),
});

describe.each(CONFIGS)("async cancel on $name ring", ({ options }) => {
  test.skipIf(!hasCancel)("cancel by user_data: the target gets -ECANCELED, the cancel 0", () => {
    const f = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 1, f.readFd, keep);
      expect(ring.submit()).toBe(1);
      prep(ring, 100, (s) => prepCancel64(s, 1, 0));
      const { cancel, others } = split(reap(ring, 2), 100);
      expect(cancel[0]!.res).toBe(0);
      expect(others.map((c) => c.userData)).toEqual([1]);
      expect(CANCELLED).toContain(others[0]!.res);
    });
  });

  test.skipIf(!hasCancel)("prepCancel (user_data as the target's value) cancels the same way", () => {
    const f = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 0x51, f.readFd, keep);
      ring.submit();
      prep(ring, 100, (s) => prepCancel(s, 0x51, 0));
      const { cancel, others } = split(reap(ring, 2), 100);
      expect(cancel[0]!.res).toBe(0);
      expect(CANCELLED).toContain(others[0]!.res);
    });
  });

  test.skipIf(!hasCancel)("cancelling nothing gives -ENOENT", () => {
    withRing(8, options, (ring) => {
      prep(ring, 100, (s) => prepCancel64(s, 0xabcdef, 0));
      expect(reapOne(ring)).toMatchObject({ userData: 100, res: NEG.ENOENT });
    });
  });

  test.skipIf(!hasCancel)("cancelling a request that already completed gives -ENOENT", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepNop(s));
      expect(reapOne(ring)).toMatchObject({ userData: 1, res: 0 });
      prep(ring, 100, (s) => prepCancel64(s, 1, 0));
      expect(reapOne(ring).res).toBe(NEG.ENOENT);
    });
  });

  test.skipIf(!hasCancel)("without ALL, only the first match of a shared user_data is cancelled", () => {
    const f = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 5, f.readFd, keep);
      pendingRead(ring, 5, f.readFd, keep);
      ring.submit();
      prep(ring, 100, (s) => prepCancel64(s, 5, 0));
      const { cancel, others } = split(reap(ring, 2), 100);
      expect(cancel[0]!.res).toBe(0);
      expect(others).toHaveLength(1);
      // the second read is still pending: cancel it too, so the ring closes clean
      prep(ring, 101, (s) => prepCancel64(s, 5, 0));
      expect(split(reap(ring, 2), 101).cancel[0]!.res).toBe(0);
    });
  });

  test.skipIf(!hasCancelAll)("CANCEL_ALL cancels every match and returns how many", () => {
    const f = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      for (let i = 0; i < 3; i++) pendingRead(ring, 5, f.readFd, keep);
      ring.submit();
      prep(ring, 100, (s) => prepCancel64(s, 5, CancelFlags.ALL));
      const { cancel, others } = split(reap(ring, 4), 100);
      expect(cancel[0]!.res).toBe(3);
      expect(others).toHaveLength(3);
      for (const c of others) expect(CANCELLED).toContain(c.res);
    });
  });

  test.skipIf(!hasCancelFd)("CANCEL_FD cancels by file: the other file's request stays", () => {
    const a = pipe();
    const b = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 1, a.readFd, keep);
      pendingRead(ring, 2, b.readFd, keep);
      ring.submit();
      prep(ring, 100, (s) => prepCancelFd(s, a.readFd, 0));
      const { cancel, others } = split(reap(ring, 2), 100);
      expect(cancel[0]!.res).toBe(0);
      expect(others.map((c) => c.userData)).toEqual([1]);
      // then all on b, which also shows b's read was still pending
      prep(ring, 101, (s) => prepCancelFd(s, b.readFd, CancelFlags.ALL));
      const second = split(reap(ring, 2), 101);
      expect(second.cancel[0]!.res).toBe(1);
      expect(second.others.map((c) => c.userData)).toEqual([2]);
    });
  });

  test.skipIf(!hasCancelFd || !hasCancelAll)("CANCEL_FD | CANCEL_ALL cancels every request on the file", () => {
    const a = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 1, a.readFd, keep);
      pendingRead(ring, 2, a.readFd, keep);
      prep(ring, 3, (s) => prepPollAdd(s, a.readFd, POLLIN));
      ring.submit();
      prep(ring, 100, (s) => prepCancelFd(s, a.readFd, CancelFlags.ALL));
      const { cancel, others } = split(reap(ring, 4), 100);
      expect(cancel[0]!.res).toBe(3);
      expect(others.map((c) => c.userData).sort()).toEqual([1, 2, 3]);
    });
  });

  test.skipIf(!hasCancelAny || !hasCancelAll)("CANCEL_ANY | CANCEL_ALL cancels every pending request, whatever its key", () => {
    const a = pipe();
    const b = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 1, a.readFd, keep);
      pendingRead(ring, 2, b.readFd, keep);
      prep(ring, 3, (s) => prepPollAdd(s, b.readFd, POLLIN));
      ring.submit();
      prep(ring, 100, (s) => prepCancel64(s, 0, CancelFlags.ANY | CancelFlags.ALL));
      const { cancel, others } = split(reap(ring, 4), 100);
      expect(cancel[0]!.res).toBe(3);
      expect(others.map((c) => c.userData).sort()).toEqual([1, 2, 3]);
    });
  });

  test.skipIf(!hasCancelAny)("CANCEL_ANY alone also cancels every request (ANY implies ALL)", () => {
    const a = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 1, a.readFd, keep);
      pendingRead(ring, 2, a.readFd, keep);
      ring.submit();
      prep(ring, 100, (s) => prepCancel64(s, 0, CancelFlags.ANY));
      const { cancel, others } = split(reap(ring, 3), 100);
      expect(cancel[0]!.res).toBe(2);
      expect(others.map((c) => c.userData).sort()).toEqual([1, 2]);
    });
  });

  test.skipIf(!hasCancelOp)("CANCEL_OP (opcode in sqe->len) cancels only that kind of request", () => {
    const a = pipe();
    const keep: Uint8Array[] = [];
    withRing(8, options, (ring) => {
      pendingRead(ring, 1, a.readFd, keep);
      prep(ring, 2, (s) => prepPollAdd(s, a.readFd, POLLIN));
      prep(ring, 3, (s) => prepPollAdd(s, a.readFd, POLLIN));
      ring.submit();
      prep(ring, 100, (s) => {
        prepCancel64(s, 0, CancelFlags.OP | CancelFlags.ALL);
        s.u32[SQE_W.len] = Op.POLL_ADD; // liburing has no preparer argument for the opcode key either
      });
      const { cancel, others } = split(reap(ring, 3), 100);
      expect(cancel[0]!.res).toBe(2);
      expect(others.map((c) => [c.userData, c.res]).sort()).toEqual([
        [2, NEG.ECANCELED],
        [3, NEG.ECANCELED],
      ]);
      // the read survived: cancel it by opcode too
      prep(ring, 101, (s) => {
        prepCancel64(s, 0, CancelFlags.OP);
        s.u32[SQE_W.len] = Op.READ;
      });
      const second = split(reap(ring, 2), 101);
      expect(second.cancel[0]!.res).toBe(0);
      expect(second.others.map((c) => c.userData)).toEqual([1]);
    });
  });

  test.skipIf(!hasCancelFdUserdata)("CANCEL_FD | CANCEL_USERDATA matches both keys", () => {
    const a = pipe();
    withRing(8, options, (ring) => {
      for (let i = 1; i <= 3; i++) prep(ring, i, (s) => prepPollAdd(s, a.readFd, POLLIN));
      ring.submit();
      prep(ring, 100, (s) => prepCancelFd(s, a.readFd, CancelFlags.USERDATA));
      // prepCancelFd leaves addr 0; the user_data key goes in sqe->addr
      ring.submit();
      const { cancel } = split(reap(ring, 1), 100);
      expect(cancel[0]!.res).toBe(NEG.ENOENT); // no poll has user_data 0
      prep(ring, 101, (s) => {
        prepCancelFd(s, a.readFd, CancelFlags.USERDATA);
        s.u32[SQE_W.addrLo] = 2;
      });
      const second = split(reap(ring, 2), 101);
      expect(second.cancel[0]!.res).toBe(0);
      expect(second.others.map((c) => [c.userData, c.res])).toEqual([[2, NEG.ECANCELED]]);
      prep(ring, 102, (s) => prepCancelFd(s, a.readFd, CancelFlags.ALL));
      expect(split(reap(ring, 3), 102).cancel[0]!.res).toBe(2);
    });
  });

  test.skipIf(!hasCancel)("a timeout can be cancelled by ASYNC_CANCEL", () => {
    withRing(8, options, (ring) => {
      prep(ring, 1, (s) => prepTimeout(s, new Timespec(60, 0), 0, 0));
      ring.submit();
      prep(ring, 100, (s) => prepCancel64(s, 1, 0));
      const got = new Map(reap(ring, 2).map((c) => [c.userData, c.res]));
      expect(got.get(100)).toBe(0);
      expect(got.get(1)).toBe(NEG.ECANCELED);
    });
  });
});

test.skipIf(!hasCancel)("cancel tests leak no fds", async () => {
  const before = fdBaseline();
  const f = makePipe(files.dir);
  const keep: Uint8Array[] = [];
  withRing(8, {}, (ring) => {
    pendingRead(ring, 1, f.readFd, keep);
    ring.submit();
    prep(ring, 100, (s) => prepCancel64(s, 1, 0));
    expect(reap(ring, 2)).toHaveLength(2);
  });
  f.close();
  await expectNoNewFds(before);
});
