/**
 * The pending-op table: one preallocated slot per request in flight, as
 * parallel arrays (no per-op objects beyond the Promise itself).
 *
 * A request's user_data is its slot (low 32 bits) and the slot's generation
 * plus a tag (high 32 bits), written as two u32s. The generation advances
 * each time a slot is freed, so a stale CQE (a late cancel result, a linked
 * timeout that lost its race) can never resolve the slot's next request.
 *
 * The slot holds every buffer the kernel may touch (`keep`, `keep2`) until
 * the request's final CQE, so the garbage collector can neither free nor
 * move them while the kernel owns them.
 */

/** user_data high word: generation in the low 24 bits, tag in the top 8. */
export const GEN_MASK = 0xffffff;
/** Tag: the request itself. */
export const TAG_OP = 0;
/** Tag: the LINK_TIMEOUT attached to a request (its CQE is counted before the slot settles). */
export const TAG_LINK_TIMEOUT = 1;
/** Tag: an ASYNC_CANCEL or other internal request whose CQE is ignored. */
export const TAG_IGNORE = 2;
/**
 * Tag: one member of a batch (`uring.readMany`): the low word holds the slot
 * in its low {@link BATCH_SLOT_BITS} bits and the member's index above them.
 */
export const TAG_BATCH = 3;
/** Bits of a batch member's user_data low word that hold the slot. */
export const BATCH_SLOT_BITS = 24;
/** Mask of the slot in a batch member's user_data low word. */
export const BATCH_SLOT_MASK = (1 << BATCH_SLOT_BITS) - 1;
/** Most members in one batch: the index has the low word's top 8 bits. */
export const MAX_BATCH = 256;
/** A batch member's result before its CQE arrived (no -errno is this low). */
export const BATCH_PENDING = -0x80000000;

/** What the result of a settled request becomes. */
export const Mode = {
  /** res as a number (bytes, fd, count). */
  NUMBER: 0,
  /** undefined (fsync, close, ...). */
  VOID: 1,
  /** a statx result parsed from `keep2`. */
  STATX: 2,
  /** a timeout: -ETIME is success. */
  TIMEOUT: 3,
  /** a handler owns the slot's CQEs (multishot, chain step, SEND_ZC). */
  HANDLER: 4,
  /**
   * res as a number, after copying res bytes out of the bounce block in
   * `keep` into the caller's view (or views, for readv) in `keep2`.
   */
  COPY_OUT: 5,
  /** A batch (`readMany`): `batch` holds each member's res; resolves to it once every member's CQE arrived. */
  BATCH: 6,
  /** A batch read through the bounce block in `keep`: member i's bytes go to the caller's view in `keep2` at i × `batchSize`. */
  BATCH_COPY_OUT: 7,
} as const;

/** Per-slot state bits. */
export const State = {
  /** A LINK_TIMEOUT follows the request. */
  HAS_TIMEOUT: 1,
  /** The linked timeout fired (res -ETIME on its CQE). */
  TIMED_OUT: 2,
  /** The request's AbortSignal fired and an ASYNC_CANCEL went out. */
  ABORTED: 4,
} as const;

/** Something that takes a slot's CQEs itself (multishot iterators, chains, SEND_ZC). */
export interface SlotHandler {
  /** One CQE for the slot (tag TAG_OP). */
  onCqe(slot: number, res: number, flags: number): void;
}

/** The slots: grown by doubling when full. */
export class PendingTable {
  /** Number of slots. */
  capacity: number;
  /** Slots in use. */
  used = 0;
  gen: Uint32Array;
  op: Uint8Array;
  mode: Uint8Array;
  state: Uint8Array;
  /** CQEs still expected before the slot settles (1, 2 with a linked timeout, a batch's member count). */
  waiting: Uint16Array;
  /** The request's own res, kept while its linked timeout's CQE is still to come. */
  res: Int32Array;
  /** Timeout in ms (for messages). */
  timeoutMs: Float64Array;
  /** A batch's per-member results ({@link BATCH_PENDING} until each CQE). */
  batch: Array<Int32Array | null>;
  /** A batch's bytes per member (its stride in the buffer). */
  batchSize: Int32Array;
  resolve: Array<((value: any) => void) | null>;
  reject: Array<((reason: unknown) => void) | null>;
  keep: unknown[];
  keep2: unknown[];
  handler: Array<SlotHandler | null>;
  signal: Array<AbortSignal | null>;
  onAbort: Array<(() => void) | null>;
  private free: Int32Array;
  private top: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    // Generations start at 1 and skip 0 on wrap: a zeroed SQE (user_data 0)
    // can then never name a live request.
    this.gen = new Uint32Array(capacity).fill(1);
    this.op = new Uint8Array(capacity);
    this.mode = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.waiting = new Uint16Array(capacity);
    this.res = new Int32Array(capacity);
    this.timeoutMs = new Float64Array(capacity);
    this.batch = new Array(capacity).fill(null);
    this.batchSize = new Int32Array(capacity);
    this.resolve = new Array(capacity).fill(null);
    this.reject = new Array(capacity).fill(null);
    this.keep = new Array(capacity).fill(null);
    this.keep2 = new Array(capacity).fill(null);
    this.handler = new Array(capacity).fill(null);
    this.signal = new Array(capacity).fill(null);
    this.onAbort = new Array(capacity).fill(null);
    this.free = new Int32Array(capacity);
    // Pop order 0, 1, 2, ...: low slots stay hot in cache.
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.top = capacity;
  }

  /** Takes a free slot (growing the table when full) and returns it. */
  acquire(op: number, mode: number): number {
    if (this.top === 0) this.grow();
    const slot = this.free[--this.top]!;
    this.used++;
    this.op[slot] = op;
    this.mode[slot] = mode;
    this.state[slot] = 0;
    this.waiting[slot] = 1;
    return slot;
  }

  /** Frees a slot: drops every reference and advances the generation. */
  release(slot: number): void {
    this.gen[slot] = (this.gen[slot]! + 1) & GEN_MASK || 1;
    this.resolve[slot] = null;
    this.reject[slot] = null;
    this.keep[slot] = null;
    this.keep2[slot] = null;
    this.handler[slot] = null;
    this.batch[slot] = null;
    const signal = this.signal[slot];
    if (signal !== null && signal !== undefined) {
      signal.removeEventListener("abort", this.onAbort[slot]!);
      this.signal[slot] = null;
      this.onAbort[slot] = null;
    }
    this.free[this.top++] = slot;
    this.used--;
  }

  /** The slot is in use with generation `gen` (a CQE's user_data still names it). */
  live(slot: number, gen: number): boolean {
    return slot < this.capacity && this.gen[slot] === gen && this.waiting[slot]! > 0;
  }

  /** Slots in use, for close(). */
  usedSlots(): number[] {
    const inFree = new Uint8Array(this.capacity);
    for (let i = 0; i < this.top; i++) inFree[this.free[i]!] = 1;
    const out: number[] = [];
    for (let i = 0; i < this.capacity; i++) if (inFree[i] === 0) out.push(i);
    return out;
  }

  private grow(): void {
    const old = this.capacity;
    const cap = old * 2;
    const u32 = (a: Uint32Array) => {
      const b = new Uint32Array(cap).fill(1);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.gen = u32(this.gen);
    this.op = u8(this.op);
    this.mode = u8(this.mode);
    this.state = u8(this.state);
    const waiting = new Uint16Array(cap);
    waiting.set(this.waiting);
    this.waiting = waiting;
    const res = new Int32Array(cap);
    res.set(this.res);
    this.res = res;
    const batchSize = new Int32Array(cap);
    batchSize.set(this.batchSize);
    this.batchSize = batchSize;
    const tm = new Float64Array(cap);
    tm.set(this.timeoutMs);
    this.timeoutMs = tm;
    for (const arr of [this.resolve, this.reject, this.keep, this.keep2, this.handler, this.signal, this.onAbort, this.batch] as unknown[][]) {
      for (let i = old; i < cap; i++) arr.push(null);
    }
    const free = new Int32Array(cap);
    // Every old slot is in use (that is why we grow): the free stack is the new slots.
    for (let i = 0; i < old; i++) free[i] = cap - 1 - i;
    this.free = free;
    this.top = old;
    this.capacity = cap;
  }
}
