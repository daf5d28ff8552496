/**
 * The engine inside `Uring`: the pending-op table, the request plumbing
 * (slot, SQE, Promise), the completion loop and teardown. When to submit,
 * reap and park is the Scheduler's business (driver.ts). `Uring` (uring.ts)
 * composes one engine and adds one small method per opcode; none of the
 * plumbing here is reachable from a `Uring`.
 *
 * Hot path, per request: take a slot, write the SQE through the Sqe's
 * Uint32Array, set user_data as two u32s, create the Promise. Per batch: one
 * io_uring_enter (queued as a microtask, so every request made in the same
 * tick shares it) and one pass over the CQ in shared memory, with one head
 * store at the end. Nothing else allocates or crosses FFI.
 */
import type { CompletionQueue } from "../ring/cq.ts";
import { Ring, type RingOptions } from "../ring/ring.ts";
import { sqeAddFlags, type Sqe } from "../ring/sqe.ts";
import { prepCancel64, prepCancelFd } from "../ops/cancel.ts";
import { prepNop } from "../ops/rw.ts";
import { rwWords } from "../ops/fields.ts";
import { prepLinkTimeout } from "../ops/timeout.ts";
import { Timespec } from "../ops/timespec.ts";
import { SQE_W } from "../sys/abi.ts";
import { CancelFlags, EnterFlags, Op, SqeFlags } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import { Scheduler, type DriverKind, type WakeKind } from "./driver.ts";
import { Bounce, BouncePool, copyOut, type Scatter } from "../mem/bounce.ts";
import { abortError, closedError, errorFor, opName, timeoutError, unsupportedError, UringError } from "./errors.ts";
import {
  BATCH_PENDING,
  BATCH_SLOT_BITS,
  BATCH_SLOT_MASK,
  GEN_MASK,
  Mode,
  PendingTable,
  State,
  TAG_BATCH,
  TAG_IGNORE,
  TAG_LINK_TIMEOUT,
  TAG_OP,
  type SlotHandler,
} from "./pending.ts";
import { parseStatx } from "./statx.ts";

/** Options for `new Uring(options)`. */
export interface UringOptions {
  /** SQ entries (default 256). The CQ gets 4× as many. */
  entries?: number;
  /** How completions reach JavaScript (default "event-loop"; see driver.ts). */
  driver?: DriverKind;
  /** Extra io_uring_setup options; replaces the driver's default flag choice when given. */
  ring?: RingOptions;
  /** "run" driver: longest single block in io_uring_enter before timers get a turn (default 50 ms). */
  runWaitMs?: number;
  /** "sqpoll" driver: the kernel thread's idle time before it sleeps (default 1000 ms). */
  sqpollIdleMs?: number;
  /** Idle wake-up (default "thread"): "stream" lets Bun's own loop watch the ring's eventfd (src/async/wake-stream.ts). */
  wake?: WakeKind;
  /**
   * When requests made in a tick are submitted (default "microtask"):
   * "microtask" right after the code that made them (lowest latency: reads
   * of cached pages complete inside that enter and resolve in the same
   * tick); "immediate" at the end of the event-loop turn (setImmediate), so
   * the requests of every callback of the turn (a server's concurrent
   * requests) share one io_uring_enter, for one turn of latency.
   */
  submit?: SubmitKind;
}

/** See {@link UringOptions.submit}. */
export type SubmitKind = "microtask" | "immediate";

/** Per-request options every op accepts. */
export interface OpOptions {
  /** Aborting cancels the request (IORING_OP_ASYNC_CANCEL); an aborted signal rejects without submitting. */
  signal?: AbortSignal;
  /** Milliseconds before the request is cancelled (a linked IORING_OP_LINK_TIMEOUT); rejects with ETIME. */
  timeout?: number;
}

/** What `uring.cancel()` matches. */
export type CancelTarget = { fd: number } | { all: true } | { op: number };

/** Default SQ size: deep enough for a server's batch, small enough to stay in cache. */
const DEFAULT_ENTRIES = 256;
/** CQ = this × SQ: multishot requests post many CQEs per SQE. */
const CQ_FACTOR = 4;
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
  private readonly sched: Scheduler;
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
  /** submit: "immediate": a setImmediate is queued to hand this turn's requests to the scheduler. */
  private readonly deferSubmit: boolean;
  private deferQueued = false;
  private readonly deferredFlush = (): void => {
    this.deferQueued = false;
    if (!this.closed && !this.sched.flushQueued) this.sched.scheduleFlush();
  };

  constructor(options: UringOptions = {}) {
    const entries = options.entries ?? DEFAULT_ENTRIES;
    this.driver = options.driver ?? "event-loop";
    if (this.driver !== "event-loop" && this.driver !== "run" && this.driver !== "sqpoll") {
      throw new TypeError(`Uring: driver must be "event-loop", "run" or "sqpoll", got ${JSON.stringify(this.driver)}`);
    }
    // Checked before the ring exists, so a bad option leaks nothing.
    const submit = options.submit ?? "microtask";
    if (submit !== "microtask" && submit !== "immediate")
      throw new TypeError(`Uring: submit must be "microtask" or "immediate", got ${JSON.stringify(submit)}`);
    this.deferSubmit = submit === "immediate";
    const { ring, choice } = createRing(entries, this.driver, options);
    this.ring = ring;
    this.setupChoice = choice;
    this.table = new PendingTable(Math.max(64, entries * 2));
    const probe = ring.probe();
    this.lastOp = probe?.lastOp ?? null;
    this.supported = new Uint8Array(256);
    for (let op = 0; op < 256; op++) this.supported[op] = probe === null || probe.opSupported(op) ? 1 : 0;
    this.sched = new Scheduler(this, ring, this.driver, { runWaitNs: (options.runWaitMs ?? DEFAULT_RUN_WAIT_MS) * 1e6, wake: options.wake });
  }

  /** A request was queued: have it submitted (see {@link UringOptions.submit}). */
  private requestFlush(): void {
    if (this.deferSubmit) {
      if (!this.deferQueued) {
        this.deferQueued = true;
        setImmediate(this.deferredFlush);
      }
    } else if (!this.sched.flushQueued) this.sched.scheduleFlush();
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

  /** The kernel supports opcode `op` (probe). */
  opSupported(op: number): boolean {
    return this.supported[op] === 1;
  }

  // ---- request plumbing (used by the op methods) -------------------------

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
    const p = new Promise<T>(this.captureResolvers);
    t.resolve[slot] = this.newResolve;
    t.reject[slot] = this.newReject;
    if (options !== undefined) this.attachOptions(sqe, slot, options);
    this.requestFlush();
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

  /**
   * A batch of `n` reads as one request (`uring.readMany`): one slot, one
   * Promise, `n` SQEs. Member i reads `size` bytes at file offset
   * `offsets[i]` into address `base + i × size`; its user_data carries the
   * slot and i (TAG_BATCH), and its CQE only stores res and counts down.
   * The caller has checked everything: `n` in 1..MAX_BATCH, the span
   * `n × size` inside the memory `keep` holds (kept to the last CQE),
   * `offsets` non-negative safe integers. `view`: the caller's view for a
   * bounce block's copy-out (null when the kernel writes `keep` in place).
   */
  readBatch(
    fd: number,
    base: number,
    size: number,
    offsets: Float64Array,
    n: number,
    keep: unknown,
    view: ArrayBufferView | null,
    signal: AbortSignal | undefined,
  ): Promise<Int32Array> {
    const t = this.table;
    const slot = this.acquire(Op.READ, view === null ? Mode.BATCH : Mode.BATCH_COPY_OUT, keep, view);
    if (slot > BATCH_SLOT_MASK) {
      this.releaseSlot(slot);
      return Promise.reject(new UringError("READ", Errno.EBUSY, `uring.readMany: more than ${BATCH_SLOT_MASK + 1} requests in flight; wait for some first`));
    }
    const gen = t.gen[slot]!;
    const results = new Int32Array(n).fill(BATCH_PENDING);
    t.batch[slot] = results;
    t.batchSize[slot] = size;
    t.waiting[slot] = n;
    // The Promise exists before any SQE: a failing submit below (failAll) rejects it.
    const p = new Promise<Int32Array>(this.captureResolvers);
    t.resolve[slot] = this.newResolve;
    t.reject[slot] = this.newReject;
    const hi = (gen | (TAG_BATCH << 24)) >>> 0;
    let i = 0;
    try {
      for (; i < n; i++) {
        const w = this.sqe().u32;
        rwWords(w, Op.READ, fd, base + i * size, size, offsets[i]!);
        w[SQE_W.userDataLo] = (slot | (i << BATCH_SLOT_BITS)) >>> 0;
        w[SQE_W.userDataHi] = hi;
        // this.sqe() may submit when the SQ is full; a fatal submit error failed the slot: stop there.
        if (t.gen[slot] !== gen) return p;
      }
    } catch (err) {
      // No SQE for members i..n-1 (the SQ stayed full): they fail with that error's errno, and
      // the batch settles once the members already queued have completed (their memory is kept till then).
      if (t.gen[slot] !== gen) return p;
      const errno = err instanceof UringError ? err.errno : Errno.EBUSY;
      for (let j = i; j < n; j++) results[j] = -errno;
      const left = t.waiting[slot]! - (n - i);
      t.waiting[slot] = left;
      if (left === 0) this.settleBatch(slot);
      else this.requestFlush();
      return p;
    }
    if (signal !== undefined) {
      const onAbort = (): void => {
        if (!this.table.live(slot, gen)) return;
        this.table.state[slot] = this.table.state[slot]! | State.ABORTED;
        this.cancelBatch(slot, gen);
      };
      t.signal[slot] = signal;
      t.onAbort[slot] = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
    }
    this.requestFlush();
    return p;
  }

  /** Cancels the members of a batch still in flight (one ASYNC_CANCEL per member user_data). */
  private cancelBatch(slot: number, gen: number): void {
    if (this.closed) return;
    const results = this.table.batch[slot]!;
    for (let i = 0; i < results.length; i++) {
      if (results[i] !== BATCH_PENDING) continue;
      const sqe = this.sqe();
      prepCancel64(sqe, 0, 0);
      // The member's user_data as two words (it needs more than a double's 53 bits).
      sqe.u32[SQE_W.addrLo] = (slot | (i << BATCH_SLOT_BITS)) >>> 0;
      sqe.u32[SQE_W.addrLo + 1] = (gen | (TAG_BATCH << 24)) >>> 0;
      sqe.u32[SQE_W.userDataLo] = slot;
      sqe.u32[SQE_W.userDataHi] = (gen | (TAG_IGNORE << 24)) >>> 0;
    }
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

  // ---- completion --------------------------------------------------------

  /** Settles a one-shot request with its final result. */
  private settle(slot: number, res: number): void {
    const t = this.table;
    const resolve = t.resolve[slot]!;
    const reject = t.reject[slot]!;
    const mode = t.mode[slot]!;
    if (res >= 0 || (mode === Mode.TIMEOUT && res === -Errno.ETIME)) {
      let value: unknown = res;
      if (mode === Mode.VOID || mode === Mode.TIMEOUT) value = undefined;
      else if (mode === Mode.COPY_OUT) copyOut(t.keep[slot] as Bounce, t.keep2[slot] as ArrayBufferView | Scatter, res);
      else if (mode === Mode.STATX) value = parseStatx(t.keep2[slot] as Uint8Array);
      this.releaseSlot(slot);
      resolve(value);
      return;
    }
    const op = t.op[slot]!;
    const state = t.state[slot]!;
    let err: UringError;
    if (res === -Errno.ECANCELED && state & State.TIMED_OUT) err = timeoutError(op, t.timeoutMs[slot]!);
    else if (res === -Errno.ECANCELED && state & State.ABORTED) err = abortError(op, t.signal[slot]?.reason);
    else if (res === -Errno.ECANCELED && this.closing) err = closedError(op);
    else err = errorFor(op, res);
    this.releaseSlot(slot);
    reject(err);
  }

  /**
   * A batch settles once every member's CQE arrived: resolves to the
   * results, or rejects with the first failed member's error (in index
   * order). Either way no member is still in flight, so the caller's buffer
   * is free; a bounce block's bytes of every successful member are copied out.
   */
  private settleBatch(slot: number): void {
    const t = this.table;
    const results = t.batch[slot]!;
    const resolve = t.resolve[slot]!;
    const reject = t.reject[slot]!;
    if (t.mode[slot] === Mode.BATCH_COPY_OUT) {
      const b = t.keep[slot] as Bounce;
      const view = t.keep2[slot] as ArrayBufferView;
      const size = t.batchSize[slot]!;
      // Unless the caller detached or shrank the view meanwhile: then its bytes stay in the bounce block.
      if (view.byteLength >= results.length * size) {
        const dst = new Uint8Array(view.buffer, view.byteOffset, results.length * size);
        for (let i = 0; i < results.length; i++) {
          const r = results[i]!;
          if (r > 0) dst.set(b.bytes.subarray(i * size, i * size + r), i * size);
        }
      }
    }
    let first = -1;
    for (let i = 0; i < results.length; i++) {
      if (results[i]! < 0) {
        first = i;
        break;
      }
    }
    if (first < 0) {
      this.releaseSlot(slot);
      resolve(results);
      return;
    }
    const res = results[first]!;
    const state = t.state[slot]!;
    let err: UringError;
    if (res === -Errno.ECANCELED && state & State.ABORTED) err = abortError(Op.READ, t.signal[slot]?.reason);
    else if (res === -Errno.ECANCELED && this.closing) err = closedError(Op.READ);
    else {
      const e = errorFor(Op.READ, res);
      err = new UringError("READ", e.errno, `readMany: read ${first} of ${results.length}: ${e.message}`);
    }
    this.releaseSlot(slot);
    reject(err);
  }

  /** One batch member's CQE: store res, count down, settle after the last. */
  private onBatchCqe(lo: number, gen: number, res: number): void {
    const t = this.table;
    const slot = lo & BATCH_SLOT_MASK;
    if (slot >= t.capacity || t.gen[slot] !== gen) return; // stale
    const results = t.batch[slot];
    const i = lo >>> BATCH_SLOT_BITS;
    if (results === null || results === undefined || i >= results.length || results[i] !== BATCH_PENDING) return;
    results[i] = res;
    const left = t.waiting[slot]! - 1;
    t.waiting[slot] = left;
    if (left === 0) this.settleBatch(slot);
  }

  private onCqe(lo: number, hi: number, res: number, flags: number): void {
    const t = this.table;
    const gen = hi & GEN_MASK;
    const tag = hi >>> 24;
    if (tag === TAG_BATCH) {
      this.onBatchCqe(lo, gen, res);
      return;
    }
    if (lo >= t.capacity || t.gen[lo] !== gen) return; // stale: the slot moved on
    if (tag === TAG_OP) {
      const h = t.handler[lo];
      if (h !== null && h !== undefined) {
        h.onCqe(lo, res, flags);
        return;
      }
      if (t.waiting[lo] === 1) this.settle(lo, res);
      else {
        t.waiting[lo] = t.waiting[lo]! - 1;
        t.res[lo] = res;
      }
    } else if (tag === TAG_LINK_TIMEOUT) {
      if (res === -Errno.ETIME) t.state[lo] = t.state[lo]! | State.TIMED_OUT;
      if (t.waiting[lo] === 1) this.settle(lo, t.res[lo]!);
      else t.waiting[lo] = t.waiting[lo]! - 1;
    }
    // TAG_IGNORE: an ASYNC_CANCEL's own result; the target's CQE tells the story.
    void flags;
  }

  /**
   * Drains every CQE in shared memory (no syscall); one head store. Returns
   * how many slots. The views come from `ring.cq` at each batch (the one CQ
   * walker, cq.ts), so a resize between batches is picked up here.
   */
  private reap(): number {
    const cq = this.ring.cq;
    if (cq.mixed) return this.reapMixed(cq);
    const tail = cq.tail();
    let head = cq.head;
    if (head === tail) return 0;
    const n = (tail - head) >>> 0;
    const words = cq.words;
    const mask = cq.mask;
    const shift = cq.cqeShift;
    while (head !== tail) {
      const b = (head & mask) << shift;
      head = (head + 1) >>> 0;
      this.onCqe(words[b]! >>> 0, words[b + 1]! >>> 0, words[b + 2]!, words[b + 3]! >>> 0);
    }
    cq.advance(n);
    return n;
  }

  /** CQE_MIXED rings: padding CQEs are skipped and a 32-byte CQE takes two slots (peek and slotsOf know how). */
  private reapMixed(cq: CompletionQueue): number {
    let n = 0;
    for (;;) {
      const cqe = cq.peek();
      if (cqe === null) return n;
      const w = cqe.i32;
      const lo = w[0]! >>> 0,
        hi = w[1]! >>> 0,
        res = w[2]!,
        flags = w[3]! >>> 0;
      const slots = cq.slotsOf(cqe);
      cq.advance(slots);
      n += slots;
      this.onCqe(lo, hi, res, flags);
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
        this.reap();
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
    let n = this.reap();
    // Overflowed CQEs (NODROP kernels keep them) and deferred work: flush until quiet.
    while (!this.closed && ring.cq.needsFlush()) {
      this.ring.getEvents();
      const m = this.reap();
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

/** Setup flags per driver, best first; the first the kernel accepts wins. */
function createRing(entries: number, driver: DriverKind, options: UringOptions): { ring: Ring; choice: string } {
  const cqEntries = entries * CQ_FACTOR;
  if (options.ring !== undefined) {
    return { ring: new Ring(entries, { cqEntries, ...options.ring }), choice: "custom" };
  }
  // DEFER_TASKRUN | SINGLE_ISSUER: completion work runs only when this (the
  // only) JS thread enters the kernel, never interrupting it; the kernel
  // signals the registered eventfd when such work is queued, and our enter
  // with GETEVENTS posts the CQEs. COOP_TASKRUN alone is not used: its task
  // work waits for the thread's next syscall without waking it, and an idle
  // Bun thread sleeping in epoll_wait would not see it.
  const tries: Array<[string, RingOptions]> =
    driver === "sqpoll"
      ? [["sqpoll", { sqpoll: { idleMs: options.sqpollIdleMs ?? 1000 } }]]
      : [
          ["defer-taskrun+single-issuer", { deferTaskrun: true }],
          ["single-issuer", { singleIssuer: true }],
          ["plain", {}],
        ];
  let last: unknown;
  for (const [name, opts] of tries) {
    try {
      return { ring: new Ring(entries, { cqEntries, ...opts }), choice: name };
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
