/**
 * `BufferRing`: a provided-buffer ring with its buffers. N buffers of S bytes
 * live in one aligned off-heap allocation; buffer `bid` is bytes
 * [bid × S, (bid + 1) × S). Reads and receives with IOSQE_BUFFER_SELECT and
 * `buf_group = bgid` pick a buffer themselves; the CQE says which
 * (`cqeBufferId`), and the application hands it back with `recycle(bid)`.
 *
 * With `incremental` (IOU_PBUF_RING_INC, 6.12) a buffer serves several
 * completions: each takes the next bytes of it, and IORING_CQE_F_BUF_MORE says
 * the buffer is still in use. {@link BufferRing.consume} tracks where each
 * completion's data starts.
 */
import { assertOpen } from "../sys/closed.ts";
import { PbufRingFlags } from "../sys/constants.ts";
import { errnoName, Errno, SyscallError } from "../sys/errno.ts";
import { AlignedBuffer, PAGE_SIZE } from "./aligned.ts";
import {
  BUF_RING_MAX_ENTRIES,
  bufRingAdd,
  bufRingAdvance,
  bufRingAvailable,
  freeBufRing,
  setupBufRing,
  type BufRing,
  type BufRingTarget,
} from "./buf-ring-memory.ts";

/** Options for {@link BufferRing}. */
export interface BufferRingOptions {
  /** Buffer group ID the SQEs select from (0..65535). */
  bgid: number;
  /** Number of buffers; the ring size is this rounded up to a power of two (max 32768). */
  count: number;
  /** Bytes per buffer. */
  bufferSize: number;
  /** IOU_PBUF_RING_INC (6.12): consume each buffer incrementally. */
  incremental?: boolean;
  /** IOU_PBUF_RING_MMAP: let the kernel allocate the ring entries (we map them). */
  kernelMemory?: boolean;
  /** Alignment of the buffer memory (default: a page, which also suits O_DIRECT). */
  alignment?: number;
  /**
   * Buffers on transparent huge pages (see AlignedBufferOptions.hugePages).
   * A ring hands its buffers out in turn, so every completion touches the
   * next buffer of a many-megabyte region: in 4 KiB pages that is a TLB miss
   * per copy (a nested page walk in a VM), in 2 MiB pages almost none.
   */
  hugePages?: boolean;
}

/** A provided-buffer ring and the buffers it hands out. */
export class BufferRing {
  /** Buffer group ID. */
  readonly bgid: number;
  /** Number of buffers (bids 0..count-1). */
  readonly count: number;
  /** Bytes per buffer. */
  readonly bufferSize: number;
  /** Incremental consumption is on. */
  readonly incremental: boolean;
  /** The ring's shared memory (for the liburing-level functions). */
  readonly br: BufRing;
  /** The buffers' memory. */
  readonly memory: AlignedBuffer;
  private readonly ring: BufRingTarget;
  private readonly base: number;
  /** Incremental mode: bytes of each buffer already handed out by earlier completions. */
  private readonly consumed: Uint32Array;
  /** Buffers added since the last publish. */
  private pending = 0;
  private closed = false;

  /**
   * Allocates the buffers, registers the ring as group `bgid` on `ring` and
   * publishes every buffer. Throws a {@link SyscallError} saying why if the
   * kernel refuses (e.g. the group is taken, or INC needs Linux 6.12).
   */
  constructor(ring: BufRingTarget, options: BufferRingOptions) {
    const { bgid, count, bufferSize } = options;
    if (!Number.isInteger(count) || count < 1 || count > BUF_RING_MAX_ENTRIES) {
      throw new SyscallError("io_uring_setup_buf_ring", Errno.EINVAL, `BufferRing count must be 1..${BUF_RING_MAX_ENTRIES}, got ${count}.`);
    }
    // The kernel takes at most 2^32-1 bytes per buffer (len is a u32).
    if (!Number.isInteger(bufferSize) || bufferSize < 1 || bufferSize > 0xffffffff) {
      throw new SyscallError("io_uring_setup_buf_ring", Errno.EINVAL, `BufferRing bufferSize must be a positive integer below 2^32, got ${bufferSize}.`);
    }
    const entries = 2 ** Math.ceil(Math.log2(count));
    const flags = (options.incremental ? PbufRingFlags.INC : 0) | (options.kernelMemory ? PbufRingFlags.MMAP : 0);
    const alignment = options.alignment ?? PAGE_SIZE;
    // Mapped pages where the alignment allows: a read racing close() then
    // faults or lands in pages nobody else owns, never in reused heap.
    this.memory = new AlignedBuffer(count * bufferSize, alignment, { mapped: alignment <= PAGE_SIZE, hugePages: options.hugePages === true });
    const br = setupBufRing(ring, entries, bgid, flags);
    if (typeof br === "number") {
      this.memory.free();
      throw new SyscallError("io_uring_setup_buf_ring", -br, explainSetupFailure(-br, bgid, flags));
    }
    this.ring = ring;
    this.br = br;
    this.bgid = bgid;
    this.count = count;
    this.bufferSize = bufferSize;
    this.incremental = options.incremental === true;
    this.base = this.memory.address;
    this.consumed = new Uint32Array(count);
    for (let bid = 0; bid < count; bid++) this.add(bid);
    this.publish();
  }

  /**
   * The bytes of buffer `bid` from `offset`, `len` long: a view over the
   * off-heap memory, valid until the buffer is recycled (the kernel may then
   * overwrite it) and never after `close()`.
   */
  view(bid: number, len: number, offset = 0): Uint8Array {
    this.checkBid(bid, "view");
    if (!(offset >= 0 && len >= 0 && offset + len <= this.bufferSize) || Math.floor(offset) !== offset || Math.floor(len) !== len) {
      throw new RangeError(`Range [${offset}, ${offset + len}) is outside buffer ${bid} of ${this.bufferSize} bytes.`);
    }
    return this.memory.subarray(bid * this.bufferSize + offset, len);
  }

  /**
   * The data of a completion that used buffer `bid` (`res` = bytes): in
   * incremental mode it starts where the previous completion on this buffer
   * ended. Recycle the buffer when `bufMore` is false and `res` > 0; while
   * `bufMore` is true the kernel still owns the rest of it. (A zero-byte
   * completion, such as end of file, consumes nothing: do not recycle then.)
   */
  consume(bid: number, res: number, bufMore: boolean): Uint8Array {
    if (this.closed) assertOpen(true, "BufferRing", "consume");
    if (!this.incremental) return this.view(bid, res);
    this.checkBid(bid, "consume");
    const start = this.consumed[bid]!;
    const data = this.view(bid, res, start);
    this.consumed[bid] = bufMore ? start + res : 0;
    return data;
  }

  /** Puts buffer `bid` back at the tail without publishing (batch several, then {@link publish}). */
  add(bid: number): void {
    this.checkBid(bid, "add");
    this.consumed[bid] = 0;
    bufRingAdd(this.br, this.base + bid * this.bufferSize, this.bufferSize, bid, this.br.mask, this.pending);
    this.pending++;
  }

  /** Publishes the buffers added since the last publish (one tail store). */
  publish(): void {
    if (this.closed) assertOpen(true, "BufferRing", "publish");
    if (this.pending === 0) return;
    bufRingAdvance(this.br, this.pending);
    this.pending = 0;
  }

  /** Gives buffer `bid` back to the kernel: add + publish. */
  recycle(bid: number): void {
    if (this.closed) assertOpen(true, "BufferRing", "recycle");
    this.add(bid);
    this.publish();
  }

  /** Buffers the kernel can still pick, or -errno (needs Linux 6.8). */
  available(): number {
    if (this.closed) assertOpen(true, "BufferRing", "available");
    return bufRingAvailable(this.ring, this.br);
  }

  /**
   * Unregisters the group and frees the ring and the buffers. Idempotent.
   * Afterwards every method throws ClosedError. Views from `view`/`consume`
   * stay valid memory (it is released when they are collected; see
   * AlignedBuffer) but read zeros. A request still selecting from the group
   * holds this BufferRing (Uring's iterators keep it in their slot), so its
   * memory outlives the request. Call before closing the ring when you can;
   * after the ring is closed only the memory is released.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const ringClosed = (this.ring as { isClosed?: boolean }).isClosed === true;
    freeBufRing(ringClosed ? null : this.ring, this.br);
    this.memory.free();
  }

  /** `using br = new BufferRing(...)` support. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** True after close(). (Never throws.) */
  get isClosed(): boolean {
    return this.closed;
  }

  private checkBid(bid: number, method: string): void {
    if (this.closed) assertOpen(true, "BufferRing", method);
    if (!Number.isInteger(bid) || bid < 0 || bid >= this.count) {
      throw new RangeError(`Buffer ID ${bid} is not in this BufferRing (0..${this.count - 1}).`);
    }
  }
}

function explainSetupFailure(errno: number, bgid: number, flags: number): string {
  const base = `Registering buffer ring group ${bgid} failed: ${errnoName(errno)}`;
  if (errno === Errno.EEXIST) return `${base}. Group ${bgid} is already in use on this ring: pick another bgid or free the old one.`;
  if (errno === Errno.EINVAL && flags & PbufRingFlags.INC) {
    return `${base}. Incremental buffer rings need Linux 6.12: drop the incremental option.`;
  }
  if (errno === Errno.EINVAL) return `${base}. Buffer rings need Linux 5.19 (kernel-allocated ones 6.4).`;
  if (errno === Errno.ENOMEM) return `${base}. Not enough lockable memory: raise RLIMIT_MEMLOCK (ulimit -l).`;
  return `${base}.`;
}
