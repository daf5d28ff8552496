/**
 * `FixedBuffers`: N aligned buffers of S bytes, registered with a ring as
 * fixed buffers 0..N-1, for READ_FIXED / WRITE_FIXED (and SEND/RECV with
 * FIXED_BUF). Registration pins the pages once, so each request skips the
 * per-I/O page pinning; buffer `i` is bytes [i × S, (i + 1) × S) of one
 * allocation.
 */
import { assertOpen } from "../sys/closed.ts";
import { errnoName, Errno, SyscallError } from "../sys/errno.ts";
import { registerBuffers, unregisterBuffers, type RegisterTarget } from "../ring/register.ts";
import { AlignedBuffer, PAGE_SIZE } from "./aligned.ts";

/** The kernel's limit on registered buffers per ring (IORING_MAX_REG_BUFFERS). */
export const MAX_FIXED_BUFFERS = 16384;

/** A registered-buffer table: index → memory. */
export class FixedBuffers {
  /** Number of buffers. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly bufferSize: number;
  /** Bytes between the starts of consecutive buffers (bufferSize rounded up to the alignment). */
  readonly stride: number;
  /** The backing memory (all buffers, contiguous). */
  readonly memory: AlignedBuffer;
  private readonly ring: RegisterTarget & { readonly isClosed?: boolean };
  private registered = false;

  /**
   * Allocates `count` buffers of `bufferSize` bytes aligned to `alignment`
   * (default a page: fit for O_DIRECT) and registers them with `ring`. With
   * `hugePages`, the memory is on transparent huge pages (see
   * AlignedBufferOptions.hugePages): the kernel then coalesces the
   * registration into 2 MiB pieces, so a large O_DIRECT READ_FIXED is one
   * device segment. Throws a {@link SyscallError} saying why if the kernel refuses.
   */
  constructor(
    ring: RegisterTarget & { readonly isClosed?: boolean },
    count: number,
    bufferSize: number,
    alignment = PAGE_SIZE,
    options: { hugePages?: boolean } = {},
  ) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_FIXED_BUFFERS) {
      throw new SyscallError("io_uring_register_buffers", Errno.EINVAL, `FixedBuffers count must be 1..${MAX_FIXED_BUFFERS}, got ${count}.`);
    }
    // Each registered buffer may be at most 1 GiB (the kernel's SZ_1G limit).
    if (!Number.isInteger(bufferSize) || bufferSize < 1 || bufferSize > 2 ** 30) {
      throw new SyscallError("io_uring_register_buffers", Errno.EINVAL, `FixedBuffers bufferSize must be 1..2^30 bytes, got ${bufferSize}.`);
    }
    this.ring = ring;
    this.count = count;
    this.bufferSize = bufferSize;
    // Round each buffer up to the alignment so every one starts aligned.
    const stride = Math.ceil(bufferSize / alignment) * alignment;
    this.stride = stride;
    // Mapped pages where the alignment allows: the kernel pins them, and a
    // request still in flight at unregister may write them after close().
    this.memory = new AlignedBuffer(stride * count, alignment, { mapped: alignment <= PAGE_SIZE, hugePages: options.hugePages === true });
    const iovecs = [];
    for (let i = 0; i < count; i++) iovecs.push({ address: this.memory.address + i * stride, length: bufferSize });
    const ret = registerBuffers(ring, iovecs);
    if (ret < 0) {
      this.memory.free();
      throw new SyscallError("io_uring_register_buffers", -ret, explainRegisterFailure(-ret, count, bufferSize));
    }
    this.registered = true;
  }

  /** Buffer `index` as bytes: valid until `close()`; the kernel writes it during READ_FIXED. */
  view(index: number): Uint8Array {
    this.check(index, "view");
    return this.memory.subarray(index * this.stride, this.bufferSize);
  }

  /** Address of buffer `index` (+ `offset`), for the SQE's addr field (must lie inside the registered buffer). */
  address(index: number, offset = 0): number {
    this.check(index, "address");
    if (!(offset >= 0 && offset <= this.bufferSize) || Math.floor(offset) !== offset)
      throw new RangeError(`Offset ${offset} is outside fixed buffer ${index} of ${this.bufferSize} bytes.`);
    return this.memory.address + index * this.stride + offset;
  }

  /**
   * Unregisters the table and frees the memory. Idempotent. No request may
   * still use a buffer. After the ring is closed only the memory is freed
   * (closing the ring dropped the registration).
   */
  close(): void {
    if (this.registered) {
      this.registered = false;
      if (this.ring.isClosed !== true) unregisterBuffers(this.ring);
    }
    this.memory.free();
  }

  /** `using bufs = new FixedBuffers(...)` support. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** True after close(). (Never throws.) */
  get isClosed(): boolean {
    return this.memory.freed;
  }

  private check(index: number, method: string): void {
    if (this.memory.freed) assertOpen(true, "FixedBuffers", method);
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`Fixed buffer index ${index} is not in this table (0..${this.count - 1}).`);
    }
  }
}

function explainRegisterFailure(errno: number, count: number, size: number): string {
  const base = `Registering ${count} fixed buffers of ${size} bytes failed: ${errnoName(errno)}`;
  if (errno === Errno.EBUSY) return `${base}. This ring already has registered buffers: unregister them (or close their FixedBuffers) first.`;
  if (errno === Errno.ENOMEM) return `${base}. Not enough lockable memory: raise RLIMIT_MEMLOCK (ulimit -l) or register fewer/smaller buffers.`;
  return `${base}.`;
}
