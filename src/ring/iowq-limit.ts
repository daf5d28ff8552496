/**
 * io-wq concurrency, restored per ring.
 *
 * Why: the kernel gives each thread one io-wq (the worker pool that runs
 * blocking requests: fsync, buffered writes, opens, ...) and creates it at the
 * thread's *first* io_uring_setup, with a bounded-worker limit of
 * min(that ring's SQ entries, 4 × CPUs). The pool then serves every later ring
 * of the thread. A 1-entry ring set up first, such as a feature probe, so
 * leaves the thread one worker for good: every blocking request of every ring
 * then runs one after another. Measured here: 16 fsync chains in flight ran at
 * ~11k commits/s on one worker against ~20k on eight.
 *
 * So each new ring raises the thread's bounded limit to what the kernel would
 * have chosen had that ring come first, unless the program has set limits
 * itself (registerIowqMaxWorkers with a non-zero value), which we never undo.
 * Module state is per thread: every Bun Worker has its own copy, as it has
 * its own io-wq.
 */
import { cpus } from "node:os";
import { RegisterOp } from "../sys/constants.ts";
import type { RegisterTarget } from "./register-common.ts";

/** Set once the program chose io-wq limits on this thread. */
let chosenByProgram = false;

/** Records that the program set io-wq worker limits itself (called by registerIowqMaxWorkers). */
export function noteIowqLimitsChosen(values: Uint32Array): void {
  if ((values[0] ?? 0) !== 0 || (values[1] ?? 0) !== 0) chosenByProgram = true;
}

/** The bounded-worker limit the kernel gives a thread whose first ring has `sqEntries` entries. */
export function naturalBoundedWorkers(sqEntries: number): number {
  return Math.min(sqEntries, 4 * Math.max(1, cpus().length));
}

/**
 * Raises this thread's bounded io-wq limit to {@link naturalBoundedWorkers}
 * when a smaller earlier ring left it lower. Returns the limit now in force,
 * or -errno when the kernel lacks IORING_REGISTER_IOWQ_MAX_WORKERS (5.15).
 * Not for SQPOLL rings (their requests are issued by the SQ thread, whose
 * io-wq was sized by this ring).
 */
export function restoreIowqConcurrency(ring: RegisterTarget, sqEntries: number): number {
  const values = new Uint32Array(2); // [0, 0] reads the limits in force
  const ret = ring.register(RegisterOp.REGISTER_IOWQ_MAX_WORKERS, values, 2);
  if (ret < 0) return ret;
  const want = naturalBoundedWorkers(sqEntries);
  if (chosenByProgram || values[0]! >= want) return values[0]!;
  values[0] = want;
  values[1] = 0; // unbounded: unchanged
  const set = ring.register(RegisterOp.REGISTER_IOWQ_MAX_WORKERS, values, 2);
  return set < 0 ? set : want;
}
