/**
 * `Ring`: one io_uring instance. Owns the fd and the mappings; the SQ, CQ and
 * enter policy live in sq.ts, cq.ts and submit.ts. Method names follow
 * liburing (`getSqe`, `submitAndWait`, `peekCqe`, `cqAdvance`), so its man
 * pages describe them. Results are raw: >= 0 or -errno, as the kernel gives.
 */
import { RSRC_UPDATE } from "../sys/abi.ts";
import { CqeFlags, CqRingFlags, EnterFlags, Features, RegisterOp, SetupFlags } from "../sys/constants.ts";
import { Errno, SyscallError } from "../sys/errno.ts";
import { assertOpen } from "../sys/closed.ts";
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
  #sq: SubmissionQueue;
  #cq: CompletionQueue;
  #submitter: Submitter;
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
    this.#sq = new SubmissionQueue(this.layout);
    this.#cq = new CompletionQueue(this.layout);
    this.#submitter = new Submitter(this.fd, this.flags, this.#sq);
    if (options.registerRingFd !== false && (this.flags & SetupFlags.REGISTERED_FD_ONLY) === 0) {
      this.registerRingFd();
    }
    // A smaller ring set up earlier on this thread (a probe, say) may have left io-wq one worker.
    if (options.restoreIowqConcurrency !== false && (this.flags & SetupFlags.SQPOLL) === 0) {
      restoreIowqConcurrency(this, this.#sq.entries);
    }
  }

  /**
   * The submission queue. Fetch it again after `resizeRings()` (or at each
   * batch, as the library's loops do): a resize or close retires the old
   * object, whose views then read zeros and whose getSqe answers null.
   */
  get sq(): SubmissionQueue {
    if (this.closed) assertOpen(true, "Ring", "sq");
    return this.#sq;
  }

  /**
   * The completion queue: the one CQ walker every reap loop takes its views
   * from, at each batch (see cq.ts). Same lifetime rule as {@link sq}.
   */
  get cq(): CompletionQueue {
    if (this.closed) assertOpen(true, "Ring", "cq");
    return this.#cq;
  }

  /** The enter policy (replaced by a resize, like {@link sq}). */
  get submitter(): Submitter {
    if (this.closed) assertOpen(true, "Ring", "submitter");
    return this.#submitter;
  }

  /** SQ entries. */
  get sqEntries(): number {
    assertOpen(this.closed, "Ring", "sqEntries");
    return this.#sq.entries;
  }

  /** CQ entries. */
  get cqEntries(): number {
    assertOpen(this.closed, "Ring", "cqEntries");
    return this.#cq.entries;
  }

  // ---- submission -------------------------------------------------------

  /** io_uring_get_sqe: the next free, zeroed SQE, or null when the SQ is full. */
  getSqe(): Sqe | null {
    if (this.closed) assertOpen(true, "Ring", "getSqe");
    return this.#sq.getSqe();
  }

  /** Publishes prepared SQEs to the kernel without entering it; returns how many are pending. */
  flushSq(): number {
    if (this.closed) assertOpen(true, "Ring", "flushSq");
    return this.#sq.flushSq();
  }

  /** io_uring_submit: submits prepared SQEs; returns how many, or -errno. Throws ClosedError after close(). */
  submit(): number {
    if (this.closed) assertOpen(true, "Ring", "submit");
    return this.#submitter.submit(0, false);
  }

  /** io_uring_submit_and_wait: submits and waits for `waitNr` completions; returns submitted or -errno. */
  submitAndWait(waitNr: number): number {
    if (this.closed) assertOpen(true, "Ring", "submitAndWait");
    return this.#submitter.submit(checkCount(waitNr, "waitNr"), false);
  }

  /** io_uring_submit_and_get_events: submits and flushes completions without waiting. */
  submitAndGetEvents(): number {
    if (this.closed) assertOpen(true, "Ring", "submitAndGetEvents");
    return this.#submitter.submit(0, true);
  }

  /**
   * io_uring_submit_and_wait_timeout: submits and waits for `waitNr` completions
   * for at most `timeoutNs` (null: no timeout), optionally with a signal mask
   * (8 bytes, one bit per signal). Returns submitted, or -ETIME on timeout, or -errno.
   */
  submitAndWaitTimeout(waitNr: number, timeoutNs: number | null, sigmask: BigUint64Array | null = null): number {
    assertOpen(this.closed, "Ring", "submitAndWaitTimeout");
    this.#requireExtArg();
    checkSigmask(sigmask);
    return this.#submitter.submitAndWaitTimeout(checkCount(waitNr, "waitNr"), checkTimeout(timeoutNs), sigmask);
  }

  /**
   * io_uring_submit_and_wait_min_timeout (6.12): wait up to `timeoutNs` for `waitNr`
   * completions, but return after `minWaitUsec` if at least one arrived.
   */
  submitAndWaitMinTimeout(waitNr: number, timeoutNs: number, minWaitUsec: number, sigmask: BigUint64Array | null = null): number {
    assertOpen(this.closed, "Ring", "submitAndWaitMinTimeout");
    this.#requireExtArg();
    checkSigmask(sigmask);
    return this.#submitter.submitAndWaitTimeout(checkCount(waitNr, "waitNr"), checkTimeout(timeoutNs), sigmask, checkCount(minWaitUsec, "minWaitUsec"));
  }

  /** io_uring_sq_ready: SQEs not yet consumed by the kernel. */
  sqReady(): number {
    if (this.closed) assertOpen(true, "Ring", "sqReady");
    return this.#sq.sqReady();
  }

  /** io_uring_sq_space_left: free SQ slots. */
  sqSpaceLeft(): number {
    if (this.closed) assertOpen(true, "Ring", "sqSpaceLeft");
    return this.#sq.sqSpaceLeft();
  }

  /**
   * io_uring_enter2 on this ring, as is: `arg` is null, a sigset (argSize 8) or,
   * with IORING_ENTER_EXT_ARG, an io_uring_getevents_arg (argSize 24).
   *
   * When `arg` is a TypedArray/ArrayBuffer, `argSize` must fit inside it
   * (RangeError otherwise). A raw address (number/bigint) is passed to the
   * kernel unchecked, as liburing would: the caller vouches for it.
   */
  enter(toSubmit: number, minComplete: number, flags: number, arg: ArrayBufferView | number | null = null, argSize = 0): number {
    assertOpen(this.closed, "Ring", "enter");
    checkCount(toSubmit, "toSubmit");
    checkCount(minComplete, "minComplete");
    checkCount(flags, "flags");
    checkCount(argSize, "argSize");
    if (arg !== null && typeof arg === "object" && argSize > arg.byteLength) {
      throw new RangeError(`Ring.enter: argSize (${argSize}) is larger than arg's ${arg.byteLength} bytes`);
    }
    return this.#submitter.enter(toSubmit, minComplete, flags, arg, argSize);
  }

  // ---- completion -------------------------------------------------------

  /** io_uring_peek_cqe: the next CQE without waiting, or null. Flushes overflowed/deferred CQEs when needed. */
  peekCqe(): Cqe | null {
    if (this.closed) assertOpen(true, "Ring", "peekCqe");
    const cqe = this.#cq.peek();
    if (cqe !== null || !this.#submitter.cqNeedsEnter()) return cqe;
    this.getEvents();
    return this.#cq.peek();
  }

  /** io_uring_wait_cqe: the next CQE, waiting for one if needed. Throws only if the enter itself fails. */
  waitCqe(): Cqe {
    assertOpen(this.closed, "Ring", "waitCqe");
    return this.waitCqeNr(1);
  }

  /** io_uring_wait_cqe_nr: waits until `waitNr` CQEs are available; returns the first. */
  waitCqeNr(waitNr: number): Cqe {
    assertOpen(this.closed, "Ring", "waitCqeNr");
    checkCount(waitNr, "waitNr");
    if (waitNr > this.#cq.entries) throw new RangeError(`Ring.waitCqeNr: waitNr (${waitNr}) exceeds the CQ's ${this.#cq.entries} entries`);
    for (;;) {
      const cq = this.#cq;
      const cqe = cq.peek();
      if (cqe !== null && cq.cqReady() >= waitNr) return cqe;
      const ret = this.#submitter.submit(waitNr, true);
      if (ret < 0 && ret !== -Errno.EINTR && ret !== -Errno.EAGAIN && ret !== -Errno.EBUSY) {
        throw new SyscallError("io_uring_enter", -ret);
      }
    }
  }

  /** io_uring_wait_cqe_timeout: the next CQE, or null if none arrives within `timeoutNs`. */
  waitCqeTimeout(timeoutNs: number): Cqe | null {
    assertOpen(this.closed, "Ring", "waitCqeTimeout");
    this.#requireExtArg();
    const cqe = this.#cq.peek();
    if (cqe !== null) return cqe;
    const ret = this.#submitter.submitAndWaitTimeout(1, checkTimeout(timeoutNs), null);
    if (ret < 0 && ret !== -Errno.ETIME && ret !== -Errno.EINTR) throw new SyscallError("io_uring_enter", -ret);
    return this.#cq.peek();
  }

  /**
   * io_uring_for_each_cqe: calls `fn` for every available CQE, in order, without
   * consuming them; returns how many slots were visited. Follow with `cqAdvance(n)`.
   */
  forEachCqe(fn: (cqe: Cqe) => void): number {
    if (this.closed) assertOpen(true, "Ring", "forEachCqe");
    if (typeof fn !== "function") throw new TypeError("Ring.forEachCqe: fn must be a function");
    const cq = this.#cq;
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
    if (this.closed) assertOpen(true, "Ring", "reapCqes");
    const cq = this.#cq;
    const n = this.forEachCqe(fn);
    // `fn` may have closed or resized the ring: only advance the queue we walked, if it is still ours.
    if (n > 0 && !this.closed && cq === this.#cq) cq.advance(n);
    return n;
  }

  /** io_uring_peek_batch_cqe: fills `out` with up to `out.length` available CQEs; returns the count (no advance). */
  peekBatchCqe(out: Cqe[], max?: number): number {
    if (this.closed) assertOpen(true, "Ring", "peekBatchCqe");
    if (!Array.isArray(out)) throw new TypeError("Ring.peekBatchCqe: out must be an array");
    if (max === undefined) max = out.length;
    checkCount(max, "max");
    const cq = this.#cq;
    let ready = cq.cqReady();
    if (ready === 0 && this.#submitter.cqNeedsEnter()) {
      this.getEvents();
      ready = cq.cqReady();
    }
    const n = Math.min(ready, max);
    for (let i = 0; i < n; i++) out[i] = cq.cqes[(cq.head + i) & cq.mask]!;
    return n;
  }

  /**
   * io_uring_cq_advance: gives `n` CQE slots back to the kernel. `n` may not
   * exceed the CQEs ready (RangeError): advancing past the tail would hand the
   * kernel slots it has not filled and make the ring report garbage CQEs.
   */
  cqAdvance(n: number): void {
    if (this.closed) assertOpen(true, "Ring", "cqAdvance");
    const cq = this.#cq;
    if (!(n >= 0 && n <= (cq.tail() - cq.head) >>> 0) || (n | 0) !== n) {
      throw new RangeError(`Ring.cqAdvance: n must be an integer from 0 to the ${cq.cqReady()} CQEs ready, got ${n}`);
    }
    cq.advance(n);
  }

  /** io_uring_cqe_seen: marks one CQE consumed. */
  cqeSeen(cqe: Cqe): void {
    if (this.closed) assertOpen(true, "Ring", "cqeSeen");
    const cq = this.#cq;
    if (cq.cqReady() === 0) throw new RangeError("Ring.cqeSeen: no CQE is ready to be marked seen");
    cq.advance(Math.min(cq.slotsOf(cqe), cq.cqReady()));
  }

  /** io_uring_cq_ready: CQEs available to read. */
  cqReady(): number {
    if (this.closed) assertOpen(true, "Ring", "cqReady");
    return this.#cq.cqReady();
  }

  /** CQEs are waiting in the kernel's overflow list or deferred task work. */
  cqHasOverflow(): boolean {
    if (this.closed) assertOpen(true, "Ring", "cqHasOverflow");
    return this.#cq.needsFlush();
  }

  /** Enters with GETEVENTS and no wait: posts overflowed and deferred CQEs. */
  getEvents(): number {
    if (this.closed) assertOpen(true, "Ring", "getEvents");
    return this.#submitter.enter(0, 0, EnterFlags.GETEVENTS, null, 0);
  }

  /** io_uring_cq_eventfd_toggle: enable or disable eventfd notifications. */
  cqEventfdToggle(enabled: boolean): number {
    if (this.closed) assertOpen(true, "Ring", "cqEventfdToggle");
    const cq = this.#cq;
    if (cq.kFlags < 0) return -Errno.EOPNOTSUPP;
    const old = Atomics.load(cq.kring, cq.kFlags);
    const next = enabled ? old & ~CqRingFlags.EVENTFD_DISABLED : old | CqRingFlags.EVENTFD_DISABLED;
    // Plain store order suffices: the kernel reads the flag with READ_ONCE when signalling.
    Atomics.store(cq.kring, cq.kFlags, next);
    return 0;
  }

  // ---- registration -----------------------------------------------------

  /**
   * io_uring_register on this ring; returns >= 0 or -errno. Raw: `arg` and
   * `nrArgs` go to the kernel as they are (an address the kernel writes
   * through is the caller's responsibility, as in liburing). The typed
   * helpers in register.ts check their arguments.
   */
  register(opcode: number, arg: Addressable | null, nrArgs: number): number {
    assertOpen(this.closed, "Ring", "register");
    const sub = this.#submitter;
    // Registering through the ring index needs FEAT_REG_REG_RING (6.3); else use the fd.
    if (sub.enterFlags & EnterFlags.REGISTERED_RING && this.features & Features.REG_REG_RING) {
      return ioUringRegister(sub.enterFd, opcode | RegisterOp.USE_REGISTERED_RING, arg, nrArgs);
    }
    return ioUringRegister(this.fd, opcode, arg, nrArgs);
  }

  /**
   * io_uring_register_ring_fd: registers the ring fd with itself so each enter
   * skips the fd table lookup. Returns 1 on success or -errno.
   */
  registerRingFd(): number {
    assertOpen(this.closed, "Ring", "registerRingFd");
    const sub = this.#submitter;
    if (sub.enterFlags & EnterFlags.REGISTERED_RING) return -Errno.EEXIST;
    const up = new DataView(new ArrayBuffer(RSRC_UPDATE.size));
    up.setUint32(RSRC_UPDATE.offset, 0xffffffff, true); // -1: any free slot
    up.setBigUint64(RSRC_UPDATE.data, BigInt(this.fd), true);
    const ret = ioUringRegister(this.fd, RegisterOp.REGISTER_RING_FDS, up, 1);
    if (ret === 1) {
      sub.enterFd = up.getUint32(RSRC_UPDATE.offset, true);
      sub.enterFlags = EnterFlags.REGISTERED_RING;
    }
    return ret;
  }

  /** io_uring_unregister_ring_fd. */
  unregisterRingFd(): number {
    assertOpen(this.closed, "Ring", "unregisterRingFd");
    return this.#unregisterRingFdOpen();
  }

  /** True when enter uses the registered ring index. */
  get ringFdRegistered(): boolean {
    assertOpen(this.closed, "Ring", "ringFdRegistered");
    return (this.#submitter.enterFlags & EnterFlags.REGISTERED_RING) !== 0;
  }

  /** io_uring_get_probe_ring: the opcodes this kernel supports (cached), or null before 5.6. */
  probe(): Probe | null {
    assertOpen(this.closed, "Ring", "probe");
    if (this.probeCache === undefined) this.probeCache = probeRing(this.fd);
    return this.probeCache;
  }

  /** io_uring_opcode_supported via this ring's probe. */
  opSupported(op: number): boolean {
    assertOpen(this.closed, "Ring", "opSupported");
    return this.probe()?.opSupported(op) ?? false;
  }

  /** Number of io_uring_enter calls this ring has made. */
  get enterCount(): number {
    assertOpen(this.closed, "Ring", "enterCount");
    return this.#submitter.enters;
  }

  // ---- teardown ---------------------------------------------------------

  /** True after close(). (Never throws.) */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * io_uring_queue_exit: unmaps the rings and closes the fd. In-flight requests
   * are cancelled by the kernel; buffers they use must stay alive until then
   * (the async layer waits for them). Idempotent. Afterwards every other
   * method and getter throws {@link ClosedError}, and `sq`/`cq`/`Sqe`/`Cqe`
   * objects taken before read zeroed JS memory instead of the unmapped rings.
   */
  close(): void {
    if (this.closed) return;
    if (this.#submitter.enterFlags & EnterFlags.REGISTERED_RING) this.#unregisterRingFdOpen();
    this.closed = true;
    this.#sq.retire();
    this.#cq.retire();
    releaseMappings(this.layout.mappings);
    closeFd(this.fd);
    this.fd = -1;
  }

  /** `using ring = new Ring(...)` support. */
  [Symbol.dispose](): void {
    this.close();
  }

  #unregisterRingFdOpen(): number {
    const sub = this.#submitter;
    if ((sub.enterFlags & EnterFlags.REGISTERED_RING) === 0) return -Errno.EINVAL;
    const up = new DataView(new ArrayBuffer(RSRC_UPDATE.size));
    up.setUint32(RSRC_UPDATE.offset, sub.enterFd, true);
    const ret = ioUringRegister(this.fd, RegisterOp.UNREGISTER_RING_FDS, up, 1);
    if (ret === 1) {
      sub.enterFd = this.fd;
      sub.enterFlags = 0;
    }
    return ret;
  }

  #requireExtArg(): void {
    if ((this.features & Features.EXT_ARG) === 0) {
      throw new SyscallError("io_uring_enter", Errno.EOPNOTSUPP, "Timed waits need IORING_FEAT_EXT_ARG (Linux 5.11+).");
    }
  }

  // ---- resize -------------------------------------------------------------

  /**
   * io_uring_resize_rings (6.13): moves this ring to an SQ of `sqEntries` and a
   * CQ of `cqEntries` (default 2 × SQ). Prepared SQEs are published first, so
   * the kernel carries them (and unreaped CQEs) over. Returns 0 or -errno:
   * -EINVAL unless the ring was created with DEFER_TASKRUN, -EOVERFLOW when
   * what is pending does not fit; on failure the ring is unchanged.
   *
   * On success `sq`, `cq` and `submitter` are new objects over the new memory;
   * the old ones are retired before their mappings go (their views read zeros,
   * their getSqe answers null), so a stale reference is harmless but useless:
   * fetch `ring.sq`/`ring.cq` again. The library's own loops (Uring, TcpServer)
   * do so at every batch, which is why a ring they drive may be resized with
   * requests in flight.
   */
  resizeRings(sqEntries: number, cqEntries?: number): number {
    assertOpen(this.closed, "Ring", "resizeRings");
    checkCount(sqEntries, "sqEntries");
    if (cqEntries !== undefined) checkCount(cqEntries, "cqEntries");
    this.#sq.flushSq();
    const next = resizeRingsLayout(this, sqEntries, cqEntries);
    if (typeof next === "number") return next;
    const old = this.#submitter;
    const sq = new SubmissionQueue(next);
    const submitter = new Submitter(this.fd, this.flags, sq);
    submitter.enterFd = old.enterFd;
    submitter.enterFlags = old.enterFlags;
    submitter.enters = old.enters;
    this.#sq.retire();
    this.#cq.retire();
    this.#sq = sq;
    this.#cq = new CompletionQueue(next);
    this.#submitter = submitter;
    releaseMappings(this.layout.mappings);
    this.layout = next;
    return 0;
  }
}

/** A count or flags word for the kernel: an integer in 0..2^32-1, else RangeError naming it. */
function checkCount(v: number, name: string): number {
  if (!(v >= 0 && v <= 0xffffffff) || Math.floor(v) !== v) {
    throw new RangeError(`Ring: ${name} must be an integer from 0 to 2^32-1, got ${String(v)}`);
  }
  return v;
}

/** A timeout in ns: null, or a finite number >= 0. */
function checkTimeout(ns: number | null): number | null {
  if (ns === null) return null;
  if (!(ns >= 0 && Number.isFinite(ns))) throw new RangeError(`Ring: timeoutNs must be null or a finite number >= 0, got ${String(ns)}`);
  return ns;
}

/** A signal mask the kernel reads 8 bytes of. */
function checkSigmask(sigmask: BigUint64Array | null): void {
  if (sigmask !== null && !(sigmask instanceof BigUint64Array && sigmask.length >= 1)) {
    throw new RangeError("Ring: sigmask must be null or a BigUint64Array of at least one element (8 bytes)");
  }
}
