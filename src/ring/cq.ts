/**
 * The completion queue: reads CQEs straight from the mmapped ring and hands
 * slots back to the kernel. `head` is ours (we are the only consumer); the
 * kernel publishes the tail.
 */
import { CqeFlags, SetupFlags } from "../sys/constants.ts";
import { storeRelease } from "./barrier.ts";
import { Cqe } from "./cqe.ts";
import type { RingLayout } from "./setup.ts";

/** CQ state over the mmapped CQ ring. */
export class CompletionQueue {
  /** The CQ ring as u32 words (kernel-shared). */
  readonly kring: Uint32Array;
  /** Word index of the head we publish. */
  readonly kHead: number;
  /** Word index of the kernel-owned tail. */
  readonly kTail: number;
  /** Word index of the overflow counter. */
  readonly kOverflow: number;
  /** Word index of the CQ flags (EVENTFD_DISABLED), or -1 if the kernel has none. */
  readonly kFlags: number;
  readonly mask: number;
  readonly entries: number;
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
    this.mask = this.kring[layout.cqOff.ringMask >>> 2]!;
    this.entries = this.kring[layout.cqOff.ringEntries >>> 2]!;
    this.mixed = (layout.flags & SetupFlags.CQE_MIXED) !== 0;
    // In a mixed ring every slot is 16 bytes and a big CQE spans two; a
    // 32-byte view from the last slot would run past the ring, so clamp it.
    const slot = this.mixed ? 16 : layout.cqeSize;
    const viewSize = this.mixed ? 32 : layout.cqeSize;
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

  /** CQEs the kernel could not post because the CQ was full and dropped (kernels without FEAT_NODROP). */
  overflow(): number {
    return Atomics.load(this.kring, this.kOverflow);
  }
}
