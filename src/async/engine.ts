/**
 * The engine inside `Uring`: the pending-op table, the request plumbing
 * (slot, SQE, Promise), cancellation and teardown. When to submit, reap and
 * park is the Scheduler's business (driver.ts); draining the CQ and
 * settling each request by its tag is completion.ts's; readMany's batches
 * are read-many.ts's. `Uring` (uring.ts) composes one engine and adds one
 * small method per opcode; none of the plumbing here is reachable from a
 * `Uring`.
 *
 * Hot path, per request: take a slot, write the SQE through the Sqe's
 * Uint32Array, set user_data as two u32s, create the Promise. Per batch: one
 * io_uring_enter (queued as a microtask, so every request made in the same
 * tick shares it) and one pass over the CQ in shared memory, with one head
 * store at the end. Nothing else allocates or crosses FFI.
 */
import type { Ring } from "../ring/ring.ts";
import { sqeAddFlags, type Sqe } from "../ring/sqe.ts";
import { prepCancel64, prepCancelFd } from "../ops/cancel.ts";
import { prepNop } from "../ops/rw.ts";
import { prepLinkTimeout } from "../ops/timeout.ts";
import { Timespec } from "../ops/timespec.ts";
import { SQE_W } from "../sys/abi.ts";
import { CancelFlags, EnterFlags, Op, SqeFlags } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import { Scheduler, type DriverKind } from "./driver.ts";
import { Bounce, BouncePool } from "../mem/bounce.ts";
import { reap } from "./completion.ts";
import { createRing, DEFAULT_ENTRIES } from "./ring-setup.ts";
import { abortError, closedError, opName, unsupportedError, UringError } from "./errors.ts";
import type { CancelTarget, OpOptions, UringOptions } from "./options.ts";
import { Mode, PendingTable, State, TAG_IGNORE, TAG_LINK_TIMEOUT, type SlotHandler } from "./pending.ts";

const DEFAULT_RUN_WAIT_MS = 50;
/** close(): how long to wait for cancelled requests to post their CQEs. */
const CLOSE_DRAIN_MS = 2000;
const TWO_32 = 4294967296;

/** Buffers of requests abandoned at close() that the kernel may still touch: kept reachable for good. */
const graveyard: unknown[] = [];

/**
 * The engine. Internal: `Uring` holds one in a #private field, and Chain,
 * MultishotIterator and RingInbox are handed it by the Uring that creates them.
 */
export class UringEngine {
  /** The ring (for registering buffers, buffer rings, files). */
  readonly ring: Ring;
  /** Which driver runs this ring. */
  readonly driver: DriverKind;
  /** The setup flags chosen, as option names (for reports). */
  readonly setupChoice: string;
  /** The pending-op table. */
  readonly table: PendingTable;
  /** Library-owned memory standing in for callers' JS-heap buffers while the kernel holds them (see bounce.ts). */
  readonly bounces = new BouncePool();
  private readonly supported: Uint8Array;
  private readonly lastOp: number | null;
  /** The object wrapping this engine (a Uring), kept reachable while requests are in flight. */
  owner: object | null = null;
  /** When to submit, reap and park (driver.ts); read-many.ts queues its batches' flushes through it. */
  readonly sched: Scheduler;
  private closed = false;
  private closing = false;
  /** The executor's resolve/reject land here: one bound function instead of a closure per request. */
  private newResolve: ((value: any) => void) | null = null;
  private newReject: ((reason: unknown) => void) | null = null;
  private readonly captureResolvers = (resolve: (value: any) => void, reject: (reason: unknown) => void): void => {
    this.newResolve = resolve;
    this.newReject = reject;
  };
  private timespecs: Array<Timespec | undefined> = [];

  constructor(options: UringOptions = {}) {
    const entries = options.entries ?? DEFAULT_ENTRIES;
    this.driver = options.driver ?? "event-loop";
    if (this.driver !== "event-loop" && this.driver !== "run" && this.driver !== "sqpoll") {
      throw new TypeError(`Uring: driver must be "event-loop", "run" or "sqpoll", got ${JSON.stringify(this.driver)}`);
    }
    // Checked before the ring exists, so a bad option leaks nothing (wake too: the Scheduler takes it as given).
    const submit = options.submit ?? "microtask";
    if (submit !== "microtask" && submit !== "immediate")
      throw new TypeError(`Uring: submit must be "microtask" or "immediate", got ${JSON.stringify(submit)}`);
    if (options.wake !== undefined && options.wake !== "thread" && options.wake !== "stream")
      throw new TypeError(`Uring: wake must be "thread" or "stream", got ${JSON.stringify(options.wake)}`);
    const { ring, choice } = createRing(entries, this.driver, options);
    this.ring = ring;
    this.setupChoice = choice;
    this.table = new PendingTable(Math.max(64, entries * 2));
    const probe = ring.probe();
    this.lastOp = probe?.lastOp ?? null;
    this.supported = new Uint8Array(256);
    for (let op = 0; op < 256; op++) this.supported[op] = probe === null || probe.opSupported(op) ? 1 : 0;
    this.sched = new Scheduler(this, ring, this.driver, {
      runWaitNs: (options.runWaitMs ?? DEFAULT_RUN_WAIT_MS) * 1e6,
      wake: options.wake,
      submit,
    });
  }

  /** Requests in flight (including armed multishot requests). */
  get inFlight(): number {
    return this.table.used;
  }

  /** Wake-ups from idle delivered by the waiter thread. */
  get wakeups(): number {
    return this.sched.wakeups;
  }

  /** True after close(). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** close() has begun: a request's ECANCELED from here on is reported as a ClosedError (completion.ts, read-many.ts). */
  get isClosing(): boolean {
    return this.closing;
  }

  /** The kernel supports opcode `op` (probe). */
  opSupported(op: number): boolean {
    return this.supported[op] === 1;
  }

  // ---- request plumbing (used by the op methods) -------------------------

  /**
   * The one request path of the Uring's op methods: precheck, SQE (two when
   * a timeout links), slot holding what the kernel may touch (`keep`,
   * `keep2`), prepare, commit. A preparer that throws turns the SQE into an
   * ignored NOP and the call into a rejection; a bounce block of a request
   * refused at the precheck goes back to the pool.
   */
  run(op: number, mode: number, prep: (sqe: Sqe) => void, keep: unknown, keep2: unknown, options: OpOptions | undefined): Promise<number> {
    const pre = this.precheck(op, options);
    if (pre !== null) {
      if (keep instanceof Bounce) this.bounces.put(keep);
      return pre;
    }
    const sqe = this.sqe(options?.timeout !== undefined ? 2 : 1);
    const slot = this.acquire(op, mode, keep, keep2);
    try {
      prep(sqe);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }

  /**
   * Rejection for a request that must not be submitted (closed ring, opcode
   * the kernel lacks, signal already aborted), or null to go ahead.
   */
  precheck(op: number, options: OpOptions | undefined): Promise<never> | null {
    if (this.closed) return Promise.reject(closedError(op));
    if (this.supported[op] !== 1) return Promise.reject(unsupportedError(op, this.lastOp));
    if (options !== undefined) {
      const s = options.signal;
      if (s !== undefined && s.aborted) return Promise.reject(abortError(op, s.reason));
      const t = options.timeout;
      if (t !== undefined && !(t >= 0 && Number.isFinite(t))) {
        return Promise.reject(new UringError(opName(op), Errno.EINVAL, `${opName(op)}: timeout must be a finite number of ms >= 0, got ${t}`));
      }
    }
    return null;
  }

  /** Takes a slot for a request; `keep`/`keep2` are what the kernel may touch. */
  acquire(op: number, mode: number, keep: unknown, keep2: unknown = null): number {
    const t = this.table;
    this.sched.markBusy();
    const slot = t.acquire(op, mode);
    t.keep[slot] = keep;
    t.keep2[slot] = keep2;
    return slot;
  }

  /**
   * The next SQE, zeroed. `room` SQEs are guaranteed contiguous (a request
   * and its linked timeout must not be split across two submits).
   */
  sqe(room = 1): Sqe {
    const ring = this.ring;
    if (room > 1 && ring.sqSpaceLeft() < room) this.submitNow();
    let sqe = ring.sq.getSqe();
    if (sqe !== null) return sqe;
    for (let i = 0; i < 1000; i++) {
      this.submitNow();
      sqe = ring.sq.getSqe();
      if (sqe !== null) return sqe;
      // SQPOLL: the kernel thread has not consumed the SQ yet; wait for room.
      if (ring.submitter.sqpoll) ring.enter(0, 0, EnterFlags.SQ_WAIT);
    }
    throw new UringError("SUBMIT", Errno.EBUSY, "the submission queue stays full: the kernel is not consuming SQEs");
  }

  /**
   * Finishes a request: user_data, optional linked timeout and AbortSignal,
   * the Promise, and a flush for this tick.
   */
  commit<T>(sqe: Sqe, slot: number, options: OpOptions | undefined): Promise<T> {
    const t = this.table;
    const w = sqe.u32;
    w[SQE_W.userDataLo] = slot;
    w[SQE_W.userDataHi] = t.gen[slot]!;
    const p = this.promiseFor<T>(slot);
    if (options !== undefined) this.attachOptions(sqe, slot, options);
    this.sched.requestFlush();
    return p;
  }

  /**
   * The Promise of the request in `slot`, its resolve/reject stored in the
   * slot for the completion side to settle (commit, and readMany's batches).
   */
  promiseFor<T>(slot: number): Promise<T> {
    const t = this.table;
    const p = new Promise<T>(this.captureResolvers);
    t.resolve[slot] = this.newResolve;
    t.reject[slot] = this.newReject;
    return p;
  }

  /**
   * Undoes a request whose preparer threw (a bad argument): the SQE becomes
   * an ignored NOP, the slot is freed, and the error comes back as a rejection.
   */
  abandon(sqe: Sqe, slot: number, err: unknown): Promise<never> {
    sqe.u32.fill(0, 0, 16);
    prepNop(sqe);
    sqe.u32[SQE_W.userDataLo] = 0xffffffff;
    sqe.u32[SQE_W.userDataHi] = (TAG_IGNORE << 24) >>> 0;
    const op = opName(this.table.op[slot]!);
    this.releaseSlot(slot);
    if (!this.sched.flushQueued) this.sched.scheduleFlush();
    return Promise.reject(err instanceof TypeError || err instanceof RangeError ? new TypeError(`${op}: bad argument: ${err.message}`, { cause: err }) : err);
  }

  /** Registers a handler that takes the slot's CQEs (multishot, chains, SEND_ZC). */
  commitHandler(sqe: Sqe, slot: number, handler: SlotHandler): void {
    const t = this.table;
    sqe.u32[SQE_W.userDataLo] = slot;
    sqe.u32[SQE_W.userDataHi] = t.gen[slot]!;
    t.handler[slot] = handler;
    if (!this.sched.flushQueued) this.sched.scheduleFlush();
  }

  /** Re-points an SQE at a slot that already exists (a multishot re-arm). */
  rearm(sqe: Sqe, slot: number): void {
    sqe.u32[SQE_W.userDataLo] = slot;
    sqe.u32[SQE_W.userDataHi] = this.table.gen[slot]!;
    if (!this.sched.flushQueued) this.sched.scheduleFlush();
  }

  /**
   * Frees a slot after its final CQE; a bounce block it held goes back to the
   * pool (the kernel is done with it).
   */
  releaseSlot(slot: number): void {
    const t = this.table;
    const k = t.keep[slot];
    if (k instanceof Bounce) this.bounces.put(k);
    t.release(slot);
    if (t.used === 0) this.sched.noteMaybeIdle();
  }

  /**
   * A bounce block holding a copy of `len` bytes of `src` (writes, sends):
   * the kernel reads library memory, so detaching `src` afterwards is harmless.
   */
  copyIn(src: ArrayBufferView, len: number): Bounce {
    const b = this.bounces.take(len);
    b.bytes.set(len === src.byteLength && src instanceof Uint8Array ? src : new Uint8Array(src.buffer, src.byteOffset, len));
    return b;
  }

  /** Cancels one request by slot (ASYNC_CANCEL on its user_data). */
  cancelSlot(slot: number): void {
    if (this.closed) return;
    const gen = this.table.gen[slot]!;
    const sqe = this.sqe();
    prepCancel64(sqe, slot + gen * TWO_32, 0);
    sqe.u32[SQE_W.userDataLo] = slot;
    sqe.u32[SQE_W.userDataHi] = (gen | (TAG_IGNORE << 24)) >>> 0;
    if (!this.sched.flushQueued) this.sched.scheduleFlush();
  }

  private attachOptions(sqe: Sqe, slot: number, options: OpOptions): void {
    const t = this.table;
    const ms = options.timeout;
    if (ms !== undefined) {
      sqeAddFlags(sqe, SqeFlags.IO_LINK);
      const ts = (this.timespecs[slot] ??= new Timespec()).setMs(ms);
      const tsqe = this.sqe();
      prepLinkTimeout(tsqe, ts, 0);
      tsqe.u32[SQE_W.userDataLo] = slot;
      tsqe.u32[SQE_W.userDataHi] = (t.gen[slot]! | (TAG_LINK_TIMEOUT << 24)) >>> 0;
      t.state[slot] = t.state[slot]! | State.HAS_TIMEOUT;
      t.waiting[slot] = 2;
      t.timeoutMs[slot] = ms;
    }
    const signal = options.signal;
    if (signal !== undefined) {
      const gen = t.gen[slot]!;
      const onAbort = (): void => {
        if (!this.table.live(slot, gen)) return;
        this.table.state[slot] = this.table.state[slot]! | State.ABORTED;
        this.cancelSlot(slot);
      };
      t.signal[slot] = signal;
      t.onAbort[slot] = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
    }
  }

  /** CQEs are visible, or the kernel holds some (overflow list, deferred task work). */
  hasWork(): boolean {
    const cq = this.ring.cq;
    return cq.tail() !== cq.head || cq.needsFlush();
  }

  /** Submits what is queued (one enter, with GETEVENTS when the kernel holds CQEs). */
  private submitNow(): void {
    for (;;) {
      const ret = this.ring.submit();
      if (ret >= 0 || this.closed) return;
      if (ret === -Errno.EINTR) continue;
      if (ret === -Errno.EAGAIN || ret === -Errno.EBUSY) {
        // The kernel is short of resources or the CQ is backed up: reap, then retry next tick.
        reap(this);
        this.sched.retryLater();
        return;
      }
      this.failAll(new UringError("SUBMIT", -ret, `io_uring_enter failed (${-ret}): the ring is unusable; close it and create a new one`));
      return;
    }
  }

  /** One round: submit, flush kernel-held CQEs, reap. Returns CQEs reaped. */
  cycle(): number {
    const ring = this.ring;
    const sq = ring.sq;
    if (sq.sqeTail !== sq.sqeHead || sq.sqReady() > 0) this.submitNow();
    else if (ring.cq.needsFlush()) ring.getEvents();
    let n = reap(this);
    // Overflowed CQEs (NODROP kernels keep them) and deferred work: flush until quiet.
    while (!this.closed && ring.cq.needsFlush()) {
      this.ring.getEvents();
      const m = reap(this);
      if (m === 0) break;
      n += m;
    }
    return n;
  }

  // ---- cancellation and teardown ----------------------------------------

  /**
   * Cancels every matching request: `{ fd }` (requests on that fd), `{ all: true }`,
   * or `{ op }` (requests of that opcode, 6.6+). Resolves to how many were cancelled.
   */
  cancel(target: CancelTarget): Promise<number> {
    const pre = this.precheck(Op.ASYNC_CANCEL, undefined);
    if (pre !== null) return pre;
    const sqe = this.sqe();
    const slot = this.acquire(Op.ASYNC_CANCEL, Mode.NUMBER, null);
    if ("fd" in target) prepCancelFd(sqe, target.fd, CancelFlags.ALL);
    else if ("all" in target) prepCancel64(sqe, 0, CancelFlags.ANY | CancelFlags.ALL);
    else if ("op" in target) {
      prepCancel64(sqe, 0, CancelFlags.OP | CancelFlags.ALL);
      sqe.u32[SQE_W.len] = target.op;
    } else {
      return this.abandon(sqe, slot, new TypeError("uring.cancel: pass { fd }, { all: true } or { op }"));
    }
    return this.commit<number>(sqe, slot, undefined).catch((err: unknown) => {
      if (err instanceof UringError && err.errno === Errno.ENOENT) return 0;
      throw err;
    });
  }

  private failAll(err: UringError): void {
    const t = this.table;
    for (const slot of t.usedSlots()) {
      // The kernel may still touch these: reachable for good, and a bounce
      // block must not go back to the pool (releaseSlot would return it).
      graveyard.push(t.keep[slot], t.keep2[slot]);
      t.keep[slot] = null;
      const h = t.handler[slot];
      if (h !== null && h !== undefined) h.onCqe(slot, -err.errno, 0);
      else if (t.waiting[slot]! > 0) {
        const reject = t.reject[slot];
        this.releaseSlot(slot);
        reject?.(err);
      }
    }
  }

  /**
   * Cancels everything in flight, waits (bounded) for the kernel to let go
   * of the buffers, rejects what is left with ECANCELED, then closes the
   * ring. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closing = true;
    const ring = this.ring;
    if (this.table.used > 0) {
      const sqe = this.sqe();
      prepCancel64(sqe, 0, CancelFlags.ANY | CancelFlags.ALL);
      sqe.u32[SQE_W.userDataHi] = (TAG_IGNORE << 24) >>> 0;
      sqe.u32[SQE_W.userDataLo] = 0xffffffff;
      const deadline = performance.now() + CLOSE_DRAIN_MS;
      this.cycle();
      while (this.table.used > 0 && performance.now() < deadline) {
        this.sched.waitBounded(10e6);
        this.cycle();
      }
    }
    this.closed = true;
    // Whatever is left never completed: its buffers stay reachable forever,
    // since the kernel may still write them until the ring is torn down.
    this.failAll(new UringError("CLOSE", Errno.ECANCELED, "the request was cancelled: the Uring was closed"));
    this.sched.close();
    ring.close();
  }

  /** `using uring = new Uring()` support. */
  [Symbol.dispose](): void {
    this.close();
  }
}
