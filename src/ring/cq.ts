/**
 * The completion queue: reads CQEs straight from the mmapped ring and hands
 * slots back to the kernel. `head` is ours (we are the only consumer); the
 * kernel publishes the tail.
 *
 * This is the one CQ walker (liburing's io_uring_cqe_iter): every reap loop,
 * however hand-inlined for speed, takes its word view, tail and head from a
 * `CompletionQueue` fetched from the ring at the start of each batch
 * (`ring.cq`), never from copies of its own, so a resize or close cannot leave
 * a loop reading unmapped memory:
 *
 * ```ts
 * const cq = ring.cq;                      // once per batch
 * if (cq.mixed) return slowPath();         // CQE_MIXED: peek()/slotsOf()
 * const words = cq.words, mask = cq.mask, shift = cq.cqeShift;
 * const tail = cq.tail();
 * let head = cq.head;
 * for (; head !== tail; head = (head + 1) >>> 0) {
 *   const b = (head & mask) << shift;      // words[b..b+3]: user_data lo/hi, res, flags
 * }
 * cq.advance(n);                            // one head store per batch
 * if (cq.needsFlush()) ring.getEvents();    // the OVERFLOW|TASKRUN rule
 * ```
 */
import { CqeFlags, SetupFlags, SqRingFlags } from "../sys/constants.ts";
import { storeRelease } from "./barrier.ts";
import { Cqe } from "./cqe.ts";
import type { RingLayout } from "./setup.ts";

/**
 * SQ-ring flags saying the kernel holds completions that are not in the CQ
 * yet: CQ_OVERFLOW (the overflow list, kept by NODROP kernels) and TASKRUN
 * (deferred task work, COOP/DEFER_TASKRUN). Either one means: enter with
 * GETEVENTS before concluding the CQ is empty.
 */
export const CQ_FLUSH_FLAGS = SqRingFlags.CQ_OVERFLOW | SqRingFlags.TASKRUN;

/** CQ state over the mmapped CQ ring. */
export class CompletionQueue {
  /** The CQ ring as u32 words (kernel-shared). Replaced by a zeroed dummy once the ring is closed or resized. */
  kring: Uint32Array;
  /** Word index of the head we publish. */
  readonly kHead: number;
  /** Word index of the kernel-owned tail. */
  readonly kTail: number;
  /** Word index of the overflow counter. */
  readonly kOverflow: number;
  /** Word index of the CQ flags (EVENTFD_DISABLED), or -1 if the kernel has none. */
  readonly kFlags: number;
  /** The SQ ring's words, for the flags word that says the kernel holds CQEs (see {@link needsFlush}). */
  private ksqRing: Uint32Array;
  /** Word index of the SQ flags in {@link ksqRing}. */
  private readonly kSqFlags: number;
  readonly mask: number;
  readonly entries: number;
  /**
   * The CQE array as i32 words (kernel-shared): the CQE in slot `head & mask`
   * starts at word `(head & mask) << cqeShift` and reads
   * [user_data lo, user_data hi, res, flags, (16 more bytes with CQE32)].
   */
  words: Int32Array;
  /** log2 of the words per CQE slot: 2 (16-byte CQEs, and CQE_MIXED slots) or 3 (CQE32). */
  readonly cqeShift: number;
  /** One preallocated cursor per slot. */
  readonly cqes: Cqe[];
  /** CQE_MIXED: a 32-byte CQE takes two slots and padding CQEs (F_SKIP) must be passed over. */
  readonly mixed: boolean;
  /** Local copy of the head (== the kernel's view after each publish). */
  head = 0;

  constructor(layout: RingLayout) {
    this.kring = new Uint32Array(layout.cqRing);
    this.kHead = layout.cqOff.head >>> 2;
    this.kTail = layout.cqOff.tail >>> 2;
    this.kOverflow = layout.cqOff.overflow >>> 2;
    this.kFlags = layout.cqOff.flags ? layout.cqOff.flags >>> 2 : -1;
    this.ksqRing = new Uint32Array(layout.sqRing);
    this.kSqFlags = layout.sqOff.flags >>> 2;
    this.mask = this.kring[layout.cqOff.ringMask >>> 2]!;
    this.entries = this.kring[layout.cqOff.ringEntries >>> 2]!;
    this.mixed = (layout.flags & SetupFlags.CQE_MIXED) !== 0;
    // In a mixed ring every slot is 16 bytes and a big CQE spans two; a
    // 32-byte view from the last slot would run past the ring, so clamp it.
    const slot = this.mixed ? 16 : layout.cqeSize;
    const viewSize = this.mixed ? 32 : layout.cqeSize;
    this.cqeShift = slot === 32 ? 3 : 2;
    this.words = new Int32Array(layout.cqRing, layout.cqOff.cqes, (this.entries * slot) >>> 2);
    this.cqes = [];
    for (let i = 0; i < this.entries; i++) {
      const size = this.mixed && i === this.entries - 1 ? 16 : viewSize;
      this.cqes.push(new Cqe(layout.cqRing, layout.cqOff.cqes + i * slot, size, i));
    }
    this.head = this.kring[this.kHead]!;
  }

  /** The kernel's tail. */
  tail(): number {
    // Acquire: pairs with the kernel's smp_store_release of the CQ tail after
    // it wrote the CQEs, so the CQE contents we read next are complete.
    return Atomics.load(this.kring, this.kTail);
  }

  /** io_uring_cq_ready: CQE slots available to read. */
  cqReady(): number {
    return (this.tail() - this.head) >>> 0;
  }

  /**
   * The kernel holds CQEs that are not in the ring yet (overflow list or
   * deferred task work): enter with GETEVENTS to have them posted. The one
   * place the OVERFLOW|TASKRUN rule is written.
   */
  needsFlush(): boolean {
    // Sequentially consistent load of the SQ flags word: ordered after our
    // head store in advance(), pairing with the kernel setting the flag.
    return (Atomics.load(this.ksqRing, this.kSqFlags) & CQ_FLUSH_FLAGS) !== 0;
  }

  /**
   * The CQE at the head, or null when the CQ is empty. Padding CQEs of a
   * mixed ring are consumed and skipped here.
   */
  peek(): Cqe | null {
    const tail = this.tail();
    let head = this.head;
    if (head === tail) return null;
    if (!this.mixed) return this.cqes[head & this.mask]!;
    for (;;) {
      const cqe = this.cqes[head & this.mask]!;
      if ((cqe.flags & CqeFlags.SKIP) === 0) return cqe;
      head = (head + 1) >>> 0;
      this.advance(1);
      if (head === tail) return null;
    }
  }

  /** io_uring_cq_advance: gives `n` slots back to the kernel. */
  advance(n: number): void {
    this.head = (this.head + n) >>> 0;
    // Release: pairs with the kernel's read of the head before it reuses a
    // slot, so our reads of those CQEs happen before it overwrites them.
    storeRelease(this.kring, this.kHead, this.head);
  }

  /** Slots a CQE occupies (2 for a 32-byte CQE in a mixed ring). */
  slotsOf(cqe: Cqe): number {
    return this.mixed && (cqe.flags & CqeFlags.F_32) !== 0 ? 2 : 1;
  }

  /** Slots the CQE whose flags word is `flags` occupies: for inline loops over {@link words} in a mixed ring. */
  slotsOfFlags(flags: number): number {
    return this.mixed && (flags & CqeFlags.F_32) !== 0 ? 2 : 1;
  }

  /** CQEs the kernel could not post because the CQ was full and dropped (kernels without FEAT_NODROP). */
  overflow(): number {
    return Atomics.load(this.kring, this.kOverflow);
  }

  /**
   * Called by the Ring just before it unmaps this queue's memory (close or
   * resize): every view this object and its cursors hand out is re-pointed at
   * zeroed JS memory, so a stale `cq` or `Cqe` held by a caller reads an
   * empty queue instead of unmapped pages.
   */
  retire(): void {
    this.kring = new Uint32Array(this.kring.length);
    this.ksqRing = new Uint32Array(this.kSqFlags + 1);
    this.words = new Int32Array(this.words.length);
    this.head = 0;
    for (const cqe of this.cqes) cqe.retire();
  }
}
