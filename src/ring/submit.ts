/**
 * io_uring_enter policy: when a submit or a wait needs the syscall, and with
 * which flags. This is the only place that calls `io_uring_enter` on the hot
 * path, and it calls it at most once per batch.
 */
import { GETEVENTS_ARG, KERNEL_SIGSET_SIZE, TIMESPEC } from "../sys/abi.ts";
import { EnterFlags, SetupFlags } from "../sys/constants.ts";
import { addressOf, ioUringEnter, ioUringEnterFast } from "../sys/ffi.ts";
import type { SubmissionQueue } from "./sq.ts";

/** Owns the fd used for enter (the registered index when the ring fd is registered). */
export class Submitter {
  /** fd passed to io_uring_enter: the ring fd, or its registered index. */
  enterFd: number;
  /** IORING_ENTER_REGISTERED_RING when enterFd is a registered index, else 0. */
  enterFlags = 0;
  /** SQPOLL: submit without a syscall unless the kernel thread sleeps. */
  readonly sqpoll: boolean;
  /** IOPOLL: completions are only found by entering the kernel. */
  readonly iopoll: boolean;
  /** Count of io_uring_enter calls made (for benchmarks and stats). */
  enters = 0;
  private readonly sq: SubmissionQueue;
  /** struct io_uring_getevents_arg + __kernel_timespec, reused for every timed wait. */
  private readonly extArg = new Uint8Array(GETEVENTS_ARG.size + TIMESPEC.size);
  private readonly extView = new DataView(this.extArg.buffer);

  constructor(fd: number, setupFlags: number, sq: SubmissionQueue) {
    this.enterFd = fd;
    this.sqpoll = (setupFlags & SetupFlags.SQPOLL) !== 0;
    this.iopoll = (setupFlags & SetupFlags.IOPOLL) !== 0;
    this.sq = sq;
  }

  /** CQEs are waiting in the kernel (overflow list or deferred task work): an enter with GETEVENTS posts them. */
  cqNeedsFlush(): boolean {
    return this.sq.cqNeedsFlush();
  }

  /** Reaping needs an enter: IOPOLL always, otherwise only to flush. */
  cqNeedsEnter(): boolean {
    return this.iopoll || this.cqNeedsFlush();
  }

  /**
   * Publishes the SQ and enters the kernel if needed (liburing's __io_uring_submit).
   * Returns the number of SQEs submitted, or -errno.
   */
  submit(waitNr: number, getEvents: boolean): number {
    const submitted = this.sq.flushSq();
    let flags = this.enterFlags;
    let needEnter = false;
    if (!this.sqpoll) {
      needEnter = submitted > 0;
    } else if (submitted > 0 && this.sq.needsWakeup()) {
      flags |= EnterFlags.SQ_WAKEUP;
      needEnter = true;
    }
    if (waitNr > 0 || getEvents || this.cqNeedsEnter()) {
      flags |= EnterFlags.GETEVENTS;
      needEnter = true;
    }
    if (!needEnter) return submitted;
    this.enters++;
    return ioUringEnterFast(this.enterFd, submitted, waitNr, flags);
  }

  /** A raw io_uring_enter on this ring (enter2 form: arg is null, a sigset, or a getevents arg). */
  enter(toSubmit: number, minComplete: number, flags: number, arg: ArrayBufferView | number | null, argSize: number): number {
    this.enters++;
    return ioUringEnter(this.enterFd, toSubmit, minComplete, flags | this.enterFlags, arg, argSize);
  }

  /**
   * Submit and wait for `waitNr` completions with a timeout (ns) and/or sigmask,
   * through IORING_ENTER_EXT_ARG. `minWaitUsec` is the 6.12 min-timeout.
   * Returns the number submitted or -errno (-ETIME on timeout).
   */
  submitAndWaitTimeout(waitNr: number, timeoutNs: number | null, sigmask: BigUint64Array | null, minWaitUsec = 0, absolute = false): number {
    const submitted = this.sq.flushSq();
    const v = this.extView;
    const tsAddr = addressOf(this.extArg) + GETEVENTS_ARG.size;
    v.setBigUint64(GETEVENTS_ARG.sigmask, sigmask ? BigInt(addressOf(sigmask)) : 0n, true);
    v.setUint32(GETEVENTS_ARG.sigmaskSz, sigmask ? KERNEL_SIGSET_SIZE : 0, true);
    v.setUint32(GETEVENTS_ARG.minWaitUsec, minWaitUsec, true);
    if (timeoutNs !== null) {
      const sec = Math.floor(timeoutNs / 1e9);
      v.setBigInt64(GETEVENTS_ARG.size + TIMESPEC.sec, BigInt(sec), true);
      v.setBigInt64(GETEVENTS_ARG.size + TIMESPEC.nsec, BigInt(Math.floor(timeoutNs - sec * 1e9)), true);
      v.setBigUint64(GETEVENTS_ARG.ts, BigInt(tsAddr), true);
    } else {
      v.setBigUint64(GETEVENTS_ARG.ts, 0n, true);
    }
    let flags = EnterFlags.GETEVENTS | EnterFlags.EXT_ARG | this.enterFlags;
    if (absolute) flags |= EnterFlags.ABS_TIMER;
    if (this.sqpoll && submitted > 0 && this.sq.needsWakeup()) flags |= EnterFlags.SQ_WAKEUP;
    this.enters++;
    const ret = ioUringEnter(this.enterFd, this.sqpoll ? 0 : submitted, waitNr, flags, this.extArg, GETEVENTS_ARG.size);
    return ret < 0 ? ret : submitted;
  }
}
