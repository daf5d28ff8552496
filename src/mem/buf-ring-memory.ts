/**
 * Provided-buffer rings at liburing's level: io_uring_setup_buf_ring,
 * io_uring_free_buf_ring, io_uring_buf_ring_add / _advance / _cq_advance /
 * _mask / _init / _available. {@link BufferRing} (buffer-ring.ts) builds the
 * everyday API on top.
 *
 * The ring is an array of struct io_uring_buf (16 bytes: addr u64, len u32,
 * bid u16, resv u16) shared with the kernel. The application is the only
 * producer: it fills entries at its tail and publishes the tail; the kernel
 * consumes from its head (readable with `bufRingHead`). The tail overlays
 * bufs[0].resv, i.e. the u16 at byte 14, so `bufRingAdd` must never write resv.
 */
import { assertOpen } from "../sys/closed.ts";
import { BUF } from "../sys/abi.ts";
import { Mman, MmapOffset, PbufRingFlags } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import { memoryView, mmap, munmap } from "../sys/ffi.ts";
import { bufRingHead, registerBufRing, unregisterBufRing, type RegisterTarget } from "../ring/register.ts";
import type { Ring } from "../ring/ring.ts";
import { AlignedBuffer, PAGE_SIZE } from "./aligned.ts";

const TWO_32 = 4294967296;
/** Index of the tail in the ring's u16 view: byte 14 (bufs[0].resv). */
const TAIL_U16 = BUF.resv >>> 1;
/** The kernel's limit on ring entries (the tail and head are u16). */
export const BUF_RING_MAX_ENTRIES = 32768;

/** A ring and its fd: what mapping a kernel-allocated buffer ring needs. */
export type BufRingTarget = RegisterTarget & { readonly fd: number };

/** The shared memory of one provided-buffer ring. */
export class BufRing {
  /** Buffer group ID (sqe->buf_group). */
  readonly bgid: number;
  /** Number of entries (a power of two). */
  readonly entries: number;
  /** entries - 1: ring index mask. */
  readonly mask: number;
  /** The PbufRingFlags it was registered with. */
  readonly flags: number;
  /** Start address of the ring memory. */
  readonly address: number;
  /** The entries as u32 words (kernel-shared: `k` views, the kernel reads them). Zeroed JS memory after {@link freeBufRing}. */
  kU32: Uint32Array;
  /** The entries as u16 halves; [7] is the tail. Zeroed JS memory after {@link freeBufRing}. */
  kU16: Uint16Array;
  /** @internal How the memory is released. */
  readonly memory: AlignedBuffer | { mmapAddr: number; length: number };

  /** @internal Use {@link setupBufRing}. */
  constructor(bgid: number, entries: number, flags: number, address: number, length: number, memory: BufRing["memory"]) {
    this.bgid = bgid;
    this.entries = entries;
    this.mask = entries - 1;
    this.flags = flags;
    this.address = address;
    const ab = memory instanceof AlignedBuffer ? memory.bytes.buffer : memoryView(address, length);
    this.kU32 = new Uint32Array(ab, 0, (entries * BUF.size) >>> 2);
    this.kU16 = new Uint16Array(ab, 0, (entries * BUF.size) >>> 1);
    this.memory = memory;
  }

  /** The tail we last published (the kernel never writes it, so a plain read is exact). Throws ClosedError after {@link freeBufRing}. */
  get tail(): number {
    if (this.#freed) assertOpen(true, "BufRing", "tail");
    return this.kU16[TAIL_U16]!;
  }

  /** True after {@link freeBufRing}. (Never throws.) */
  get isClosed(): boolean {
    return this.#freed;
  }

  #freed = false;

  /**
   * @internal Called by {@link freeBufRing} before the memory goes: the views
   * move to zeroed JS memory, so the liburing-level functions on a freed
   * BufRing write nowhere the kernel or anyone else reads.
   */
  retire(): void {
    if (this.#freed) assertOpen(true, "BufRing", "retire");
    this.#freed = true;
    const dead = new ArrayBuffer(this.kU32.byteLength);
    this.kU32 = new Uint32Array(dead);
    this.kU16 = new Uint16Array(dead);
  }
}

/** io_uring_buf_ring_mask: the index mask for a ring of `entries`. */
export function bufRingMask(entries: number): number {
  return entries - 1;
}

/** io_uring_buf_ring_init: resets the tail to 0 (before registering, or after the kernel's head was reset). */
export function bufRingInit(br: BufRing): void {
  Atomics.store(br.kU16, TAIL_U16, 0);
}

/**
 * io_uring_buf_ring_add: fills the entry `bufOffset` slots past the tail with
 * a buffer (`addr`, `len`, `bid`) without publishing it. Publish a batch with
 * {@link bufRingAdvance}.
 *
 * Safety: the memory at `addr` must stay allocated while the kernel may pick it.
 */
export function bufRingAdd(br: BufRing, addr: number, len: number, bid: number, mask: number, bufOffset: number): void {
  const slot = (br.kU16[TAIL_U16]! + bufOffset) & mask;
  const w = slot * (BUF.size >>> 2);
  const u32 = br.kU32;
  u32[w] = addr >>> 0; // addr (u64), low word
  u32[w + 1] = (addr / TWO_32) >>> 0;
  u32[w + 2] = len; // len (u32)
  // bid (u16) only: the u16 after it is resv, which for slot 0 is the tail.
  br.kU16[slot * (BUF.size >>> 1) + (BUF.bid >>> 1)] = bid;
}

/**
 * io_uring_buf_ring_advance: publishes `count` entries added since the last
 * advance.
 */
export function bufRingAdvance(br: BufRing, count: number): void {
  const next = (br.kU16[TAIL_U16]! + count) & 0xffff;
  // Release: the entry stores above must be visible before the new tail.
  // Pairs with the kernel's smp_load_acquire(&br->tail) when it selects a
  // buffer. Atomics.store is sequentially consistent, which includes release.
  Atomics.store(br.kU16, TAIL_U16, next);
}

/**
 * io_uring_buf_ring_cq_advance: publishes `count` buffers and marks `count`
 * CQEs seen, for the common "recycle the buffer of each reaped CQE" loop.
 */
export function bufRingCqAdvance(ring: Ring, br: BufRing, count: number): void {
  bufRingAdvance(br, count);
  ring.cqAdvance(count);
}

/** io_uring_buf_ring_available: buffers published and not yet consumed, or -errno (needs PBUF_STATUS, 6.8). */
export function bufRingAvailable(ring: RegisterTarget, br: BufRing): number {
  const head = bufRingHead(ring, br.bgid);
  if (head < 0) return head;
  return (br.tail - head) & 0xffff;
}

/**
 * io_uring_setup_buf_ring: allocates a ring of `entries` (a power of two up to
 * 32768), registers it as group `bgid` and initialises it. `flags` takes
 * PbufRingFlags: MMAP lets the kernel allocate the ring (we then map it at
 * IORING_OFF_PBUF_RING | bgid << 16), INC asks for incremental consumption.
 * Returns the ring, or -errno (liburing returns NULL and the error separately).
 */
export function setupBufRing(ring: BufRingTarget, entries: number, bgid: number, flags = 0): BufRing | number {
  if (!Number.isInteger(entries) || entries < 1 || entries > BUF_RING_MAX_ENTRIES || (entries & (entries - 1)) !== 0) {
    return -Errno.EINVAL;
  }
  if (!Number.isInteger(bgid) || bgid < 0 || bgid > 0xffff) return -Errno.EINVAL;
  const length = entries * BUF.size;

  if (flags & PbufRingFlags.MMAP) {
    const ret = registerBufRing(ring, { ringAddr: 0, ringEntries: entries, bgid }, flags);
    if (ret < 0) return ret;
    const offset = MmapOffset.PBUF_RING + bgid * 2 ** MmapOffset.PBUF_SHIFT;
    const addr = mmap(0, length, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, ring.fd, offset);
    if (addr < 0) {
      unregisterBufRing(ring, bgid);
      return addr;
    }
    const br = new BufRing(bgid, entries, flags, addr, length, { mmapAddr: addr, length });
    bufRingInit(br);
    return br;
  }

  // The kernel pins these pages for the ring's lifetime (and writes them in
  // incremental mode): whole pages of an anonymous mapping, never heap.
  let mem: AlignedBuffer;
  try {
    mem = new AlignedBuffer(Math.ceil(length / PAGE_SIZE) * PAGE_SIZE, PAGE_SIZE, { mapped: true });
  } catch {
    return -Errno.ENOMEM;
  }
  const br = new BufRing(bgid, entries, flags, mem.address, length, mem);
  bufRingInit(br);
  const ret = registerBufRing(ring, { ringAddr: mem.address, ringEntries: entries, bgid }, flags);
  if (ret < 0) {
    mem.free();
    return ret;
  }
  return br;
}

/**
 * io_uring_free_buf_ring: unregisters the group and releases the ring memory.
 * Returns the unregister result. Pass `ring` null when the ring is already
 * closed (closing it dropped the registration): then only the memory is released.
 * `br` and its views must not be used afterwards: the memory is gone.
 */
export function freeBufRing(ring: RegisterTarget | null, br: BufRing): number {
  if (br.isClosed) assertOpen(true, "BufRing", "freeBufRing");
  const ret = ring === null ? 0 : unregisterBufRing(ring, br.bgid);
  br.retire();
  const m = br.memory;
  if (m instanceof AlignedBuffer) m.free();
  else munmap(m.mmapAddr, m.length);
  return ret;
}
