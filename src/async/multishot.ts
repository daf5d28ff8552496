/**
 * Multishot requests as async iterators: one SQE, many CQEs (IORING_CQE_F_MORE
 * while the request stays armed). The iterator ends cleanly when F_MORE drops
 * with a non-error result, throws a UringError when it drops with an error,
 * re-arms itself after ENOBUFS (the buffer ring ran dry: once the consumer
 * asks for more, buffers have come back), and `break` (return()) cancels the
 * request. The slot, and with it every buffer, stays until the final CQE.
 */
import type { BufferRing } from "../mem/buffer-ring.ts";
import { CQE_BUFFER_SHIFT, CqeFlags } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import type { UringEngine } from "./engine.ts";
import { abortError, errorFor } from "./errors.ts";
import type { SlotHandler } from "./pending.ts";
import type { Sqe } from "../ring/sqe.ts";

/** Options of a {@link MultishotIterator}. */
export interface MultishotConfig<T> {
  /** Aborting ends the iterator (the request is cancelled). */
  signal?: AbortSignal | undefined;
  /** Called for a value the consumer is done with (a lease goes back to its ring). */
  release?: (value: T) => void;
  /** res 0 means end of stream (recv, read), not a value. */
  skipZero?: boolean;
  /** An errno that is a value, not an error (ETIME for timeouts). */
  okErrno?: number;
}

/** Turns one CQE into the value the iterator yields. */
export type CqeMapper<T> = (res: number, flags: number) => T;

/** A multishot request as an AsyncIterableIterator. */
export class MultishotIterator<T> implements AsyncIterableIterator<T>, SlotHandler {
  private readonly queue: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  /** The kernel posted the final CQE (F_MORE dropped) or the request never started. */
  private ended = false;
  /** The consumer is done (break / return()). */
  private stopped = false;
  private error: unknown = null;
  /** ENOBUFS ended the request: re-arm when the consumer asks for more. */
  private starved = false;
  private slot = -1;
  private rearmCount = 0;
  private valuesSinceRearm = 0;
  private readonly engine: UringEngine;
  private readonly prep: (sqe: Sqe) => void;
  private readonly map: CqeMapper<T>;
  private readonly op: number;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort: (() => void) | null = null;
  private readonly releaseValue: ((value: T) => void) | null;
  private lastYielded: T | undefined = undefined;
  /** res 0 is end of stream (recv, read), not a value. */
  private readonly skipZero: boolean;
  /** A negative res that is a value, not an error (-ETIME for timeouts); MIN_SAFE_INTEGER for none. */
  private readonly okRes: number;

  /** @internal Use the Uring methods (accept, recv, poll, ...) with { multishot: true }. */
  constructor(engine: UringEngine, op: number, keep: unknown, prep: (sqe: Sqe) => void, map: CqeMapper<T>, options: MultishotConfig<T> = {}) {
    const signal = options.signal;
    this.skipZero = options.skipZero ?? false;
    this.okRes = options.okErrno !== undefined ? -options.okErrno : Number.MIN_SAFE_INTEGER;
    this.engine = engine;
    this.releaseValue = options.release ?? null;
    this.op = op;
    this.prep = prep;
    this.map = map;
    this.signal = signal;
    const pre = engine.precheck(op, signal === undefined ? undefined : { signal });
    if (pre !== null) {
      pre.catch((err: unknown) => this.fail(err));
      return;
    }
    const sqe = engine.sqe();
    const slot = engine.acquire(op, 4 /* Mode.HANDLER */, keep);
    try {
      prep(sqe);
    } catch (err) {
      engine.abandon(sqe, slot, err).catch((e: unknown) => this.fail(e));
      return;
    }
    this.slot = slot;
    engine.commitHandler(sqe, slot, this);
    if (signal !== undefined) {
      this.onAbort = () => {
        this.error ??= abortError(op, signal.reason);
        void this.return();
      };
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  /** @internal A CQE for this request. */
  onCqe(slot: number, res: number, flags: number): void {
    if (res === this.okRes) res = 0;
    const more = (flags & CqeFlags.MORE) !== 0;
    if (res >= 0 || (more && res !== -Errno.ENOBUFS)) {
      if (res >= 0 && !this.stopped && !(res === 0 && this.skipZero)) {
        this.valuesSinceRearm++;
        this.push(this.map(res, flags));
      } else if (res < 0 && !this.stopped) this.error ??= errorFor(this.op, res);
    }
    if (more) return;
    // Final CQE: the kernel is done with the request and its buffers.
    if (res === -Errno.ENOBUFS && !this.stopped) {
      this.starved = true;
      if (this.waiter === null) return; // re-armed by the next next()
      // Dry again right after a re-arm: the consumer still holds every buffer.
      // Back off a millisecond instead of spinning through the event loop.
      if (this.valuesSinceRearm === 0) setTimeout(() => this.starved && !this.stopped && !this.ended && this.rearm(), 1);
      else this.rearm();
      return;
    }
    if (res < 0 && res !== -Errno.ECANCELED && !this.stopped) this.error ??= errorFor(this.op, res);
    this.finish(slot);
  }

  /** The next value; waits for the next CQE. */
  next(): Promise<IteratorResult<T>> {
    this.releaseLast();
    if (this.queue.length > 0) return Promise.resolve({ value: this.yielded(this.queue.shift()!), done: false });
    if (this.error !== null && (this.ended || this.stopped)) return this.takeError();
    if (this.ended || this.stopped) return Promise.resolve({ value: undefined, done: true });
    if (this.starved) this.rearm();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** `break`: cancels the request; the slot stays until the kernel's final CQE. */
  return(): Promise<IteratorResult<T>> {
    if (!this.stopped) {
      this.stopped = true;
      this.releaseLast();
      if (this.releaseValue !== null) for (const v of this.queue) this.releaseValue(v);
      this.queue.length = 0;
      if (!this.ended) {
        if (this.starved) this.finish(this.slot);
        else this.engine.cancelSlot(this.slot);
      }
      if (this.waiter !== null) {
        const w = this.waiter;
        this.waiter = null;
        if (this.error !== null) w.reject(this.error);
        else w.resolve({ value: undefined, done: true });
      }
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Times the request was re-armed after ENOBUFS (the buffer ring ran dry). */
  get rearms(): number {
    return this.rearmCount;
  }

  /** `for await` support. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  private yielded(value: T): T {
    if (this.releaseValue !== null) this.lastYielded = value;
    return value;
  }

  private releaseLast(): void {
    if (this.lastYielded !== undefined) {
      const v = this.lastYielded;
      this.lastYielded = undefined;
      this.releaseValue!(v);
    }
  }

  private push(value: T): void {
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: this.yielded(value), done: false });
    } else {
      this.queue.push(value);
    }
  }

  private rearm(): void {
    this.starved = false;
    this.rearmCount++;
    this.valuesSinceRearm = 0;
    const sqe = this.engine.sqe();
    this.prep(sqe);
    this.engine.rearm(sqe, this.slot);
  }

  private finish(slot: number): void {
    if (this.ended) return;
    this.ended = true;
    if (slot >= 0) this.engine.releaseSlot(slot);
    if (this.signal !== undefined && this.onAbort !== null) this.signal.removeEventListener("abort", this.onAbort);
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      if (this.error !== null && !this.stopped) {
        const e = this.error;
        this.error = null;
        w.reject(e);
      } else w.resolve({ value: undefined, done: true });
    }
  }

  private fail(err: unknown): void {
    this.error = err;
    this.ended = true;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      this.error = null;
      w.reject(err);
    }
  }

  private takeError(): Promise<never> {
    const e = this.error;
    this.error = null;
    this.ended = true;
    return Promise.reject(e);
  }
}

/**
 * One received chunk: a view into a buffer-ring buffer. Call `release()`
 * when done with `data` (the iterator also releases it when you ask for the
 * next chunk); after that the kernel may overwrite it.
 */
export interface RecvLease {
  /** The received bytes (a view into off-heap buffer memory). */
  readonly data: Uint8Array;
  /** The buffer's ID in the ring. */
  readonly bufferId: number;
  /** Gives the buffer back to the ring. Idempotent. */
  release(): void;
}

/**
 * Buffer-ring leases: maps buffer-selecting CQEs to {@link RecvLease}s. The
 * iterator releases a lease when the consumer asks for the next chunk (or
 * breaks), unless the consumer released it already.
 */
export function leaseFor(ring: BufferRing, res: number, flags: number): RecvLease {
  if ((flags & CqeFlags.BUFFER) === 0) return { data: new Uint8Array(0), bufferId: -1, release: () => {} };
  const bid = flags >>> CQE_BUFFER_SHIFT;
  // Incremental rings (6.12): while F_BUF_MORE is set the kernel keeps
  // filling the rest of this buffer, so it must not be recycled yet.
  const bufMore = (flags & CqeFlags.BUF_MORE) !== 0;
  const data = ring.consume(bid, res, bufMore);
  let live = true;
  return {
    data,
    bufferId: bid,
    release: () => {
      if (!live) return;
      live = false;
      if (!bufMore) ring.recycle(bid);
    },
  };
}

/** Releases a lease (the iterator's release hook). */
export function releaseLease(lease: RecvLease): void {
  lease.release();
}

/**
 * A multishot request whose CQEs pick buffers from `bufferRing` (recv, read):
 * yields {@link RecvLease}s, ends at EOF (res 0). `prep` sets the opcode's
 * own fields and the buffer selection; the ring is kept to the final CQE.
 */
export function leaseIterator(
  engine: UringEngine,
  op: number,
  bufferRing: BufferRing,
  prep: (sqe: Sqe) => void,
  signal: AbortSignal | undefined,
): MultishotIterator<RecvLease> {
  return new MultishotIterator<RecvLease>(engine, op, bufferRing, prep, (res, flags) => leaseFor(bufferRing, res, flags), {
    signal,
    release: releaseLease,
    skipZero: true,
  });
}
