/**
 * io_uring_register_sync_cancel: cancel a pending READ on an empty pipe by
 * user_data and by fd, synchronously (the call returns once the request is
 * gone), with and without a timeout; -ENOENT when nothing matches.
 */
import { describe, expect, test } from "bun:test";
import { prepRw } from "../src/ops/rw.ts";
import { registerSyncCancel } from "../src/ring/register.ts";
import { CancelFlags, Op } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { CONFIGS, WAIT_MS, prep, reapOne, withRing } from "./op-helpers.ts";
import type { Ring } from "../src/ring/ring.ts";
import { pipePerTest, type Pipe } from "./register-helpers.ts";

/** A cancelled blocking read ends with -ECANCELED, or -EINTR if it was already running in a worker. */
const CANCELLED = [-Errno.ECANCELED, -Errno.EINTR];

/**
 * With SQPOLL, submit only queues: the kernel thread issues the SQEs later. It
 * publishes the SQ head after issuing a batch, so an empty SQ means the reads
 * are armed and cancellable. Bounded wait.
 */
function waitIssued(ring: Ring): void {
  const deadline = performance.now() + WAIT_MS;
  while (ring.sqReady() > 0) {
    if (performance.now() > deadline) throw new Error(`SQPOLL thread did not consume the SQ within ${WAIT_MS} ms`);
    Bun.sleepSync(1);
  }
}

let pipe: Pipe;
pipePerTest((p) => (pipe = p));

describe.each(CONFIGS)("sync cancel ($name)", ({ options }) => {
  test("cancels a pending pipe read by user_data, then by fd", () => {
    withRing(8, options, (ring) => {
      const buf = new Uint8Array(16);
      prep(ring, 42, (s) => prepRw(Op.READ, s, pipe.readFd, buf, 16, -1));
      expect(ring.submit()).toBe(1);
      waitIssued(ring);
      const ret = registerSyncCancel(ring, { userData: 42 });
      if (ret === -Errno.EINVAL) {
        console.log("register_sync_cancel: -EINVAL (needs Linux 6.0); skipped");
        return;
      }
      expect(ret).toBe(0);
      const c = reapOne(ring);
      expect(c.userData).toBe(42);
      expect(CANCELLED).toContain(c.res);

      // By fd, with a timeout (1 s, far more than cancelling needs).
      prep(ring, 43, (s) => prepRw(Op.READ, s, pipe.readFd, buf, 16, -1));
      expect(ring.submit()).toBe(1);
      waitIssued(ring);
      expect(registerSyncCancel(ring, { fd: pipe.readFd, flags: CancelFlags.FD, timeoutNs: 1e9 })).toBe(0);
      const d = reapOne(ring);
      expect(d.userData).toBe(43);
      expect(CANCELLED).toContain(d.res);

      // Nothing left to cancel.
      expect(registerSyncCancel(ring, { userData: 42 })).toBe(-Errno.ENOENT);
    });
  });

  test("ANY cancels every pending request and returns how many", () => {
    withRing(8, options, (ring) => {
      const bufs = [new Uint8Array(8), new Uint8Array(8), new Uint8Array(8)];
      bufs.forEach((b, i) => prep(ring, 50 + i, (s) => prepRw(Op.READ, s, pipe.readFd, b, 8, -1)));
      expect(ring.submit()).toBe(3);
      waitIssued(ring);
      const ret = registerSyncCancel(ring, { flags: CancelFlags.ANY });
      if (ret === -Errno.EINVAL) return; // before 6.0
      expect(ret).toBe(3);
      const res = [reapOne(ring), reapOne(ring), reapOne(ring)];
      expect(res.map((c) => c.userData).sort()).toEqual([50, 51, 52]);
      for (const c of res) expect(CANCELLED).toContain(c.res);
    });
  });
});
