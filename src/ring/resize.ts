/**
 * IORING_REGISTER_RESIZE_RINGS (6.13): the kernel half of `Ring.resizeRings`.
 * The new rings are mapped by setup.ts's {@link mapRings}, the same code that
 * maps them at setup.
 */
import { PARAMS } from "../sys/abi.ts";
import { RegisterOp, SetupFlags } from "../sys/constants.ts";
import { Errno, SyscallError } from "../sys/errno.ts";
import type { RegisterTarget } from "./register-common.ts";
import { mapRings, type RingLayout } from "./setup.ts";

/** What resizing needs from a ring: the register call, its fd, setup flags and features. */
export interface ResizeTarget extends RegisterTarget {
  readonly fd: number;
  readonly flags: number;
  readonly features: number;
}

/**
 * IORING_REGISTER_RESIZE_RINGS (6.13) and the new mappings: asks the kernel to
 * move the SQ/CQ into rings of `sqEntries` / `cqEntries` (default 2 × SQ),
 * copying what is pending, then maps the new rings. Returns their layout, or
 * -errno (the old rings then stay in force).
 *
 * This is the low half of `Ring.resizeRings`, which swaps the ring's queues
 * over to the returned layout and unmaps the old one: call that, not this, or
 * the Ring keeps using memory the kernel no longer reads. The kernel allows it
 * only on DEFER_TASKRUN rings (-EINVAL otherwise), and answers -EOVERFLOW when
 * the pending SQEs or CQEs would not fit.
 */
export function resizeRingsLayout(ring: ResizeTarget, sqEntries: number, cqEntries?: number): RingLayout | number {
  if (ring.flags & SetupFlags.NO_MMAP) return -Errno.EINVAL; // would need new user memory, as liburing also refuses
  const paramBytes = new Uint8Array(PARAMS.size);
  const params = new DataView(paramBytes.buffer);
  params.setUint32(PARAMS.sqEntries, sqEntries, true);
  if (cqEntries !== undefined) {
    params.setUint32(PARAMS.cqEntries, cqEntries, true);
    params.setUint32(PARAMS.flags, SetupFlags.CQSIZE, true);
  }
  const ret = ring.register(RegisterOp.REGISTER_RESIZE_RINGS, paramBytes, 1);
  if (ret < 0) return ret;
  try {
    return mapRings(ring.fd, params, ring.flags, ring.features);
  } catch (err) {
    // Results here are -errno, not exceptions: hand back the failed mmap's.
    if (err instanceof SyscallError) return -err.errno;
    throw err;
  }
}
