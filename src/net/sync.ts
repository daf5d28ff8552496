/**
 * Blocking one-off requests on a ring that is otherwise idle: the setup steps
 * of the net layer (socket, bind, listen, setsockopt, connect) before a run
 * loop starts. Each call waits for its own CQEs, bounded by a timeout.
 */
import { Errno, SyscallError } from "../sys/errno.ts";
import type { Ring } from "../ring/ring.ts";
import type { Sqe } from "../ring/sqe.ts";
import { sqeSetData32x2 } from "../ring/sqe.ts";

/** user_data high word marking a synchronous request (no run-loop kind uses it). */
export const SYNC_TAG = 0x5359_4e43; // "SYNC"

/** Default bound on one synchronous batch: connects under a SYN backlog can take a few retries. */
export const SYNC_TIMEOUT_MS = 15_000;

/**
 * Prepares `n` requests with `prep(sqe, i)`, submits them (in SQ-sized
 * chunks) and waits for all their CQEs. Returns each request's res (>= 0 or
 * -errno) in submission order. Throws when the ring itself fails or the
 * batch does not complete within `timeoutMs`.
 *
 * Only for rings with nothing else in flight: any other CQE met here is an error.
 */
export function syncBatch(ring: Ring, n: number, prep: (sqe: Sqe, i: number) => void, timeoutMs = SYNC_TIMEOUT_MS): Int32Array {
  const results = new Int32Array(n);
  const deadline = performance.now() + timeoutMs;
  let next = 0;
  let done = 0;
  while (done < n) {
    while (next < n) {
      const sqe = ring.getSqe();
      if (sqe === null) break;
      prep(sqe, next);
      sqeSetData32x2(sqe, next, SYNC_TAG);
      next++;
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new SyscallError("io_uring_enter", Errno.ETIMEDOUT, `${n - done} of ${n} setup requests did not complete within ${timeoutMs} ms`);
    }
    const rc = ring.submitAndWaitTimeout(1, Math.min(left, 200) * 1e6);
    if (rc < 0 && rc !== -Errno.ETIME && rc !== -Errno.EINTR && rc !== -Errno.EBUSY) {
      throw new SyscallError("io_uring_enter", -rc);
    }
    ring.reapCqes((cqe) => {
      if (cqe.userDataHi !== SYNC_TAG) {
        throw new Error(`syncBatch met a CQE that is not its own (user_data ${cqe.userData}): the ring is not idle`);
      }
      results[cqe.userDataLo] = cqe.res;
      done++;
    });
  }
  return results;
}

/** One blocking request: returns its res (>= 0 or -errno). */
export function syncOp(ring: Ring, prep: (sqe: Sqe) => void, timeoutMs = SYNC_TIMEOUT_MS): number {
  return syncBatch(ring, 1, (sqe) => prep(sqe), timeoutMs)[0]!;
}
