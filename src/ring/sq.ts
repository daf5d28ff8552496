/**
 * The submission queue: hands out SQE slots and publishes them to the kernel.
 *
 * `sqeHead`/`sqeTail` are our local view (liburing's sqe_head/sqe_tail): SQEs
 * between them are prepared but not yet published. `flushSq` publishes the
 * tail once per batch. Indices are free-running u32 counters, masked on use.
 */
import { SqRingFlags, SetupFlags } from "../sys/constants.ts";
import type { RingLayout } from "./setup.ts";
import { storeRelease } from "./barrier.ts";
import { Sqe } from "./sqe.ts";
import { CQ_FLUSH_FLAGS } from "./cq.ts";

/** SQ state over the mmapped SQ ring. */
export class SubmissionQueue {
  /** The SQ ring as u32 words (kernel-shared). Replaced by a zeroed dummy once the ring is closed or resized. */
  kring: Uint32Array;
  /** Word index of the kernel-owned head (the kernel advances it as it consumes SQEs). */
  readonly kHead: number;
  /** Word index of the tail we publish. */
  readonly kTail: number;
  /** Word index of the SQ flags (NEED_WAKEUP, CQ_OVERFLOW, TASKRUN). */
  readonly kFlags: number;
  /** Word index of the dropped-SQE counter. */
  readonly kDropped: number;
  readonly mask: number;
  /** SQ entries (0 once retired: getSqe then always answers null). */
  entries: number;
  /** One preallocated cursor per slot. */
  readonly sqes: Sqe[];
  /** Words per SQE (16, or 32 with SQE128), for zeroing. */
  readonly sqeWords: number;
  /** SQPOLL: the kernel thread reads the tail concurrently, and the head must be read with acquire order. */
  readonly sqpoll: boolean;
  /** Local: first prepared-but-unpublished SQE. */
  sqeHead = 0;
  /** Local: one past the last SQE handed out by getSqe. */
  sqeTail = 0;
  /**
   * Last kernel head we read. The kernel only moves the head forward, so a stale
   * copy can only under-count free slots: getSqe re-reads it only when the
   * cached value says the SQ is full.
   */
  private cachedHead = 0;

  constructor(layout: RingLayout) {
    this.kring = new Uint32Array(layout.sqRing);
    this.kHead = layout.sqOff.head >>> 2;
    this.kTail = layout.sqOff.tail >>> 2;
    this.kFlags = layout.sqOff.flags >>> 2;
    this.kDropped = layout.sqOff.dropped >>> 2;
    this.mask = this.kring[layout.sqOff.ringMask >>> 2]!;
    this.entries = this.kring[layout.sqOff.ringEntries >>> 2]!;
    this.sqpoll = (layout.flags & SetupFlags.SQPOLL) !== 0;
    this.sqeWords = layout.sqeSize >>> 2;
    this.sqes = [];
    for (let i = 0; i < this.entries; i++) {
      this.sqes.push(new Sqe(layout.sqes, i * layout.sqeSize, layout.sqeSize, i));
    }
    // Without NO_SQARRAY the kernel reads SQEs through an index array. Fill it
    // once with the identity mapping (as liburing does since 2.5): slot i of
    // the ring always names SQE i, so submission never touches it again.
    if ((layout.flags & SetupFlags.NO_SQARRAY) === 0) {
      const array = new Uint32Array(layout.sqRing, layout.sqOff.array, this.entries);
      for (let i = 0; i < this.entries; i++) array[i] = i;
    }
    // Start where the kernel is (0 on a new ring).
    this.sqeHead = this.sqeTail = this.kring[this.kTail]!;
    this.cachedHead = this.kring[this.kHead]!;
  }

  /**
   * io_uring_get_sqe: the next free SQE, zeroed, or null when the SQ is full
   * (submit, then try again).
   */
  getSqe(): Sqe | null {
    const tail = this.sqeTail;
    if ((tail - this.cachedHead) >>> 0 >= this.entries) {
      // Acquire: pairs with the kernel's release store of the head after it has
      // read the SQEs, so a slot we reuse is really free. (Without SQPOLL the
      // head only moves inside our own io_uring_enter.)
      this.cachedHead = Atomics.load(this.kring, this.kHead);
      if ((tail - this.cachedHead) >>> 0 >= this.entries) return null;
    }
    this.sqeTail = (tail + 1) >>> 0;
    const sqe = this.sqes[tail & this.mask]!;
    const w = sqe.u32;
    // Unrolled zeroing: for 16 words this beats a fill() call.
    w[0] = 0;
    w[1] = 0;
    w[2] = 0;
    w[3] = 0;
    w[4] = 0;
    w[5] = 0;
    w[6] = 0;
    w[7] = 0;
    w[8] = 0;
    w[9] = 0;
    w[10] = 0;
    w[11] = 0;
    w[12] = 0;
    w[13] = 0;
    w[14] = 0;
    w[15] = 0;
    if (this.sqeWords > 16) w.fill(0, 16);
    return sqe;
  }

  /**
   * Publishes prepared SQEs to the kernel. Returns how many SQEs the kernel
   * has yet to consume (liburing's __io_uring_flush_sq).
   */
  flushSq(): number {
    const tail = this.sqeTail;
    if (this.sqeHead !== tail) {
      this.sqeHead = tail;
      // Release: pairs with the kernel's acquire load of the tail (io_submit_sqes
      // / the SQPOLL thread), so it sees the SQE contents written before it.
      // SQPOLL also needs the store ordered before our later NEED_WAKEUP read
      // (liburing's smp_mb): a seq-cst store is that full barrier.
      if (this.sqpoll) Atomics.store(this.kring, this.kTail, tail);
      else storeRelease(this.kring, this.kTail, tail);
    }
    // Acquire (see getSqe): how far the kernel has consumed.
    return (tail - Atomics.load(this.kring, this.kHead)) >>> 0;
  }

  /** io_uring_sq_ready: SQEs prepared or published but not yet consumed by the kernel. */
  sqReady(): number {
    return (this.sqeTail - Atomics.load(this.kring, this.kHead)) >>> 0;
  }

  /** io_uring_sq_space_left: free SQE slots. */
  sqSpaceLeft(): number {
    return this.entries - this.sqReady();
  }

  /** The SQ ring flags word (NEED_WAKEUP, CQ_OVERFLOW, TASKRUN). */
  flags(): number {
    // Sequentially consistent load: after the tail store in flushSq this is the
    // full barrier liburing puts between publishing the tail and reading
    // NEED_WAKEUP (pairs with the SQPOLL thread's smp_mb before it sleeps).
    return Atomics.load(this.kring, this.kFlags);
  }

  /** SQPOLL thread is asleep and needs IORING_ENTER_SQ_WAKEUP. */
  needsWakeup(): boolean {
    return (this.flags() & SqRingFlags.NEED_WAKEUP) !== 0;
  }

  /** The SQ-ring flags say the kernel holds CQEs (overflow list or deferred task work): see CompletionQueue.needsFlush. */
  cqNeedsFlush(): boolean {
    return (this.flags() & CQ_FLUSH_FLAGS) !== 0;
  }

  /**
   * Called by the Ring just before it unmaps this queue's memory (close or
   * resize): the views move to zeroed JS memory and the queue reports itself
   * full, so a stale `sq` or `Sqe` held by a caller can neither hand out a
   * slot nor touch unmapped pages.
   */
  retire(): void {
    this.kring = new Uint32Array(this.kring.length);
    this.entries = 0;
    this.sqeHead = this.sqeTail = this.cachedHead = 0;
    for (const sqe of this.sqes) sqe.retire();
  }

  /** The kernel's count of SQEs it dropped as invalid. */
  dropped(): number {
    return Atomics.load(this.kring, this.kDropped);
  }
}
