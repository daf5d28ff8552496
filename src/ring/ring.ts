/**
 * `Ring`: one io_uring instance. Owns the fd and the mappings; the SQ, CQ and
 * enter policy live in sq.ts, cq.ts and submit.ts. Method names follow
 * liburing (`getSqe`, `submitAndWait`, `peekCqe`, `cqAdvance`), so its man
 * pages describe them. Results are raw: >= 0 or -errno, as the kernel gives.
 */
import { RSRC_UPDATE } from "../sys/abi.ts";
import { CqeFlags, CqRingFlags, EnterFlags, Features, RegisterOp, SetupFlags } from "../sys/constants.ts";
import { Errno, SyscallError } from "../sys/errno.ts";
import { closeFd, ioUringRegister, type Addressable } from "../sys/ffi.ts";
import { CompletionQueue } from "./cq.ts";
import type { Cqe } from "./cqe.ts";
import { probeRing, type Probe } from "./probe.ts";
import { resizeRingsLayout } from "./register.ts";
import { releaseMappings, setupRing, type RingLayout, type RingOptions } from "./setup.ts";
import { SubmissionQueue } from "./sq.ts";
import type { Sqe } from "./sqe.ts";
import { Submitter } from "./submit.ts";
import { restoreIowqConcurrency } from "./iowq-limit.ts";

export type { RingOptions } from "./setup.ts";

/** An io_uring instance: SQ, CQ, and the fd that owns them. */
export class Ring {
  /** The ring's file descriptor (-1 after close). */
  fd: number;
  /** Setup flags in effect (IORING_SETUP_*). */
  readonly flags: number;
  /** Kernel feature bits (IORING_FEAT_*). */
  readonly features: number;
  /** The submission queue. */
  readonly sq: SubmissionQueue;
  /** The completion queue. */
  readonly cq: CompletionQueue;
  /** The enter policy. */
  readonly submitter: Submitter;
  private layout: RingLayout;
  private probeCache: Probe | null | undefined;
  private closed = false;

  /**
   * io_uring_queue_init_params: creates a ring with `entries` SQ entries.
   * Throws a {@link SyscallError} that says why when the kernel refuses.
   */
  constructor(entries: number, options: RingOptions = {}) {
    this.layout = setupRing(entries, options);
    this.fd = this.layout.fd;
    this.flags = this.layout.flags;
    this.features = this.layout.features;
    this.sq = new SubmissionQueue(this.layout);
    this.cq = new CompletionQueue(this.layout);
    this.submitter = new Submitter(this.fd, this.flags, this.sq);
    if (options.registerRingFd !== false && (this.flags & SetupFlags.REGISTERED_FD_ONLY) === 0) {
      this.registerRingFd();
    }
    // A smaller ring set up earlier on this thread (a probe, say) may have left io-wq one worker.
    if (options.restoreIowqConcurrency !== false && (this.flags & SetupFlags.SQPOLL) === 0) {
      restoreIowqConcurrency(this, this.sq.entries);
    }
  }

  /** SQ entries. */
  get sqEntries(): number {
    return this.sq.entries;
  }

  /** CQ entries. */
  get cqEntries(): number {
    return this.cq.entries;
  }

  // ---- submission -------------------------------------------------------

  /** io_uring_get_sqe: the next free, zeroed SQE, or null when the SQ is full. */
  getSqe(): Sqe | null {
    if (this.closed) this.assertOpen();
    return this.sq.getSqe();
  }

  /** Publishes prepared SQEs to the kernel without entering it; returns how many are pending. */
  flushSq(): number {
    return this.sq.flushSq();
  }

  /** io_uring_submit: submits prepared SQEs; returns how many, or -errno. */
  submit(): number {
    if (this.closed) return -Errno.EBADF;
    return this.submitter.submit(0, false);
  }

  /** io_uring_submit_and_wait: submits and waits for `waitNr` completions; returns submitted or -errno. */
  submitAndWait(waitNr: number): number {
    if (this.closed) return -Errno.EBADF;
    return this.submitter.submit(waitNr, false);
  }

  /** io_uring_submit_and_get_events: submits and flushes completions without waiting. */
  submitAndGetEvents(): number {
    return this.submitter.submit(0, true);
  }

  /**
   * io_uring_submit_and_wait_timeout: submits and waits for `waitNr` completions
   * for at most `timeoutNs` (null: no timeout), optionally with a signal mask
   * (8 bytes, one bit per signal). Returns submitted, or -ETIME on timeout, or -errno.
   */
  submitAndWaitTimeout(waitNr: number, timeoutNs: number | null, sigmask: BigUint64Array | null = null): number {
    this.requireExtArg();
    return this.submitter.submitAndWaitTimeout(waitNr, timeoutNs, sigmask);
  }

  /**
   * io_uring_submit_and_wait_min_timeout (6.12): wait up to `timeoutNs` for `waitNr`
   * completions, but return after `minWaitUsec` if at least one arrived.
   */
  submitAndWaitMinTimeout(waitNr: number, timeoutNs: number, minWaitUsec: number, sigmask: BigUint64Array | null = null): number {
    this.requireExtArg();
    return this.submitter.submitAndWaitTimeout(waitNr, timeoutNs, sigmask, minWaitUsec);
  }

  /** io_uring_sq_ready: SQEs not yet consumed by the kernel. */
  sqReady(): number {
    return this.sq.sqReady();
  }

  /** io_uring_sq_space_left: free SQ slots. */
  sqSpaceLeft(): number {
    return this.sq.sqSpaceLeft();
  }

  /**
   * io_uring_enter2 on this ring, as is: `arg` is null, a sigset (argSize 8) or,
   * with IORING_ENTER_EXT_ARG, an io_uring_getevents_arg (argSize 24).
   */
  enter(toSubmit: number, minComplete: number, flags: number, arg: ArrayBufferView | number | null = null, argSize = 0): number {
    return this.submitter.enter(toSubmit, minComplete, flags, arg, argSize);
  }

  // ---- completion -------------------------------------------------------

  /** io_uring_peek_cqe: the next CQE without waiting, or null. Flushes overflowed/deferred CQEs when needed. */
  peekCqe(): Cqe | null {
    if (this.closed) this.assertOpen();
    const cqe = this.cq.peek();
    if (cqe !== null || !this.submitter.cqNeedsEnter()) return cqe;
    this.getEvents();
    return this.cq.peek();
  }

  /** io_uring_wait_cqe: the next CQE, waiting for one if needed. Throws only if the enter itself fails. */
  waitCqe(): Cqe {
    return this.waitCqeNr(1);
  }

  /** io_uring_wait_cqe_nr: waits until `waitNr` CQEs are available; returns the first. */
  waitCqeNr(waitNr: number): Cqe {
    this.assertOpen();
    for (;;) {
      const cqe = this.cq.peek();
      if (cqe !== null && this.cq.cqReady() >= waitNr) return cqe;
      const ret = this.submitter.submit(waitNr, true);
      if (ret < 0 && ret !== -Errno.EINTR && ret !== -Errno.EAGAIN && ret !== -Errno.EBUSY) {
        throw new SyscallError("io_uring_enter", -ret);
      }
    }
  }

  /** io_uring_wait_cqe_timeout: the next CQE, or null if none arrives within `timeoutNs`. */
  waitCqeTimeout(timeoutNs: number): Cqe | null {
    this.requireExtArg();
    const cqe = this.cq.peek();
    if (cqe !== null) return cqe;
    const ret = this.submitter.submitAndWaitTimeout(1, timeoutNs, null);
    if (ret < 0 && ret !== -Errno.ETIME && ret !== -Errno.EINTR) throw new SyscallError("io_uring_enter", -ret);
    return this.cq.peek();
  }

  /**
   * io_uring_for_each_cqe: calls `fn` for every available CQE, in order, without
   * consuming them; returns how many were visited. Follow with `cqAdvance(n)`.
   */
  forEachCqe(fn: (cqe: Cqe) => void): number {
    if (this.closed) this.assertOpen();
    const cq = this.cq;
    const tail = cq.tail();
    let head = cq.head;
    const n = (tail - head) >>> 0;
    if (!cq.mixed) {
      const cqes = cq.cqes;
      const mask = cq.mask;
      for (; head !== tail; head = (head + 1) >>> 0) fn(cqes[head & mask]!);
      return n;
    }
    while (head !== tail) {
      const cqe = cq.cqes[head & cq.mask]!;
      if ((cqe.flags & CqeFlags.SKIP) === 0) fn(cqe);
      head = (head + cq.slotsOf(cqe)) >>> 0;
    }
    return n;
  }

  /**
   * Calls `fn` for every available CQE and consumes them with one head update
   * (the usual reap loop). Returns the number of slots consumed.
   */
  reapCqes(fn: (cqe: Cqe) => void): number {
    const n = this.forEachCqe(fn);
    if (n > 0) this.cq.advance(n);
    return n;
  }

  /** io_uring_peek_batch_cqe: fills `out` with up to `out.length` available CQEs; returns the count (no advance). */
  peekBatchCqe(out: Cqe[], max = out.length): number {
    const cq = this.cq;
    let ready = cq.cqReady();
    if (ready === 0 && this.submitter.cqNeedsEnter()) {
      this.getEvents();
      ready = cq.cqReady();
    }
    const n = Math.min(ready, max);
    for (let i = 0; i < n; i++) out[i] = cq.cqes[(cq.head + i) & cq.mask]!;
    return n;
  }

  /** io_uring_cq_advance: gives `n` CQE slots back to the kernel. */
  cqAdvance(n: number): void {
    this.cq.advance(n);
  }

  /** io_uring_cqe_seen: marks one CQE consumed. */
  cqeSeen(cqe: Cqe): void {
    this.cq.advance(this.cq.slotsOf(cqe));
  }

  /** io_uring_cq_ready: CQEs available to read. */
  cqReady(): number {
    return this.cq.cqReady();
  }

  /** CQEs are waiting in the kernel's overflow list or deferred task work. */
  cqHasOverflow(): boolean {
    return this.submitter.cqNeedsFlush();
  }

  /** Enters with GETEVENTS and no wait: posts overflowed and deferred CQEs. */
  getEvents(): number {
    return this.submitter.enter(0, 0, EnterFlags.GETEVENTS, null, 0);
  }

  /** io_uring_cq_eventfd_toggle: enable or disable eventfd notifications. */
  cqEventfdToggle(enabled: boolean): number {
    const cq = this.cq;
    if (cq.kFlags < 0) return -Errno.EOPNOTSUPP;
    const old = Atomics.load(cq.kring, cq.kFlags);
    const next = enabled ? old & ~CqRingFlags.EVENTFD_DISABLED : old | CqRingFlags.EVENTFD_DISABLED;
    // Plain store order suffices: the kernel reads the flag with READ_ONCE when signalling.
    Atomics.store(cq.kring, cq.kFlags, next);
    return 0;
  }

  // ---- registration -----------------------------------------------------

  /** io_uring_register on this ring; returns >= 0 or -errno. */
  register(opcode: number, arg: Addressable | null, nrArgs: number): number {
    this.assertOpen();
    // Registering through the ring index needs FEAT_REG_REG_RING (6.3); else use the fd.
    if (this.submitter.enterFlags & EnterFlags.REGISTERED_RING && this.features & Features.REG_REG_RING) {
      return ioUringRegister(this.submitter.enterFd, opcode | RegisterOp.USE_REGISTERED_RING, arg, nrArgs);
    }
    return ioUringRegister(this.fd, opcode, arg, nrArgs);
  }

  /**
   * io_uring_register_ring_fd: registers the ring fd with itself so each enter
   * skips the fd table lookup. Returns 1 on success or -errno.
   */
  registerRingFd(): number {
    if (this.submitter.enterFlags & EnterFlags.REGISTERED_RING) return -Errno.EEXIST;
    const up = new DataView(new ArrayBuffer(RSRC_UPDATE.size));
    up.setUint32(RSRC_UPDATE.offset, 0xffffffff, true); // -1: any free slot
    up.setBigUint64(RSRC_UPDATE.data, BigInt(this.fd), true);
    const ret = ioUringRegister(this.fd, RegisterOp.REGISTER_RING_FDS, up, 1);
    if (ret === 1) {
      this.submitter.enterFd = up.getUint32(RSRC_UPDATE.offset, true);
      this.submitter.enterFlags = EnterFlags.REGISTERED_RING;
    }
    return ret;
  }

  /** io_uring_unregister_ring_fd. */
  unregisterRingFd(): number {
    if ((this.submitter.enterFlags & EnterFlags.REGISTERED_RING) === 0) return -Errno.EINVAL;
    const up = new DataView(new ArrayBuffer(RSRC_UPDATE.size));
    up.setUint32(RSRC_UPDATE.offset, this.submitter.enterFd, true);
    const ret = ioUringRegister(this.fd, RegisterOp.UNREGISTER_RING_FDS, up, 1);
    if (ret === 1) {
      this.submitter.enterFd = this.fd;
      this.submitter.enterFlags = 0;
    }
    return ret;
  }

  /** True when enter uses the registered ring index. */
  get ringFdRegistered(): boolean {
    return (this.submitter.enterFlags & EnterFlags.REGISTERED_RING) !== 0;
  }

  /** io_uring_get_probe_ring: the opcodes this kernel supports (cached), or null before 5.6. */
  probe(): Probe | null {
    if (this.probeCache === undefined) this.probeCache = probeRing(this.fd);
    return this.probeCache;
  }

  /** io_uring_opcode_supported via this ring's probe. */
  opSupported(op: number): boolean {
    return this.probe()?.opSupported(op) ?? false;
  }

  /** Number of io_uring_enter calls this ring has made. */
  get enterCount(): number {
    return this.submitter.enters;
  }

  // ---- teardown ---------------------------------------------------------

  /** True after close(). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * io_uring_queue_exit: unmaps the rings and closes the fd. In-flight requests
   * are cancelled by the kernel; buffers they use must stay alive until then
   * (the async layer waits for them). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.submitter.enterFlags & EnterFlags.REGISTERED_RING) this.unregisterRingFd();
    releaseMappings(this.layout.mappings);
    closeFd(this.fd);
    this.fd = -1;
  }

  /** `using ring = new Ring(...)` support. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Throws once the ring is closed: its memory is unmapped, and touching the
   * old views would crash the process rather than raise an error.
   */
  private assertOpen(): void {
    if (this.closed) throw new SyscallError("io_uring", Errno.EBADF, "This Ring is closed: create a new one.");
  }

  private requireExtArg(): void {
    if ((this.features & Features.EXT_ARG) === 0) {
      throw new SyscallError("io_uring_enter", Errno.EOPNOTSUPP, "Timed waits need IORING_FEAT_EXT_ARG (Linux 5.11+).");
    }
  }

  // ---- resize (issue 3 part 2, added by the register/mem helper) -------------

  /**
   * io_uring_resize_rings (6.13): moves this ring to an SQ of `sqEntries` and a
   * CQ of `cqEntries` (default 2 × SQ). Prepared SQEs are published first, so
   * the kernel carries them (and unreaped CQEs) over. Returns 0 or -errno:
   * -EINVAL unless the ring was created with DEFER_TASKRUN, -EOVERFLOW when
   * what is pending does not fit; on failure the ring is unchanged.
   *
   * On success `sq`, `cq` and `submitter` are new objects over the new memory
   * and the old mappings are gone: drop every Sqe, Cqe, `ring.sq` or `ring.cq`
   * reference taken before (code that caches them must fetch them again).
   */
  resizeRings(sqEntries: number, cqEntries?: number): number {
    this.assertOpen();
    this.sq.flushSq();
    const next = resizeRingsLayout(this, sqEntries, cqEntries);
    if (typeof next === "number") return next;
    const old = this.submitter;
    const sq = new SubmissionQueue(next);
    const submitter = new Submitter(this.fd, this.flags, sq);
    submitter.enterFd = old.enterFd;
    submitter.enterFlags = old.enterFlags;
    submitter.enters = old.enters;
    // The queues are readonly to users; only a resize swaps them.
    const self = this as unknown as { sq: SubmissionQueue; cq: CompletionQueue; submitter: Submitter };
    self.sq = sq;
    self.cq = new CompletionQueue(next);
    self.submitter = submitter;
    releaseMappings(this.layout.mappings);
    this.layout = next;
    return 0;
  }
}
