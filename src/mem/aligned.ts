/**
 * Off-heap aligned memory from the shim (`alignedAlloc` / `freeAligned`): the
 * memory the kernel may touch. It never moves (the garbage collector does not
 * own it), so its address can sit in an SQE, a registered-buffer table or a
 * provided-buffer ring for as long as the kernel needs it.
 *
 * Used for O_DIRECT reads (which need block-aligned addresses), fixed buffers
 * and buffer rings.
 *
 * Two sources. The heap (the shim's aligned allocator) suits short-lived
 * buffers. `mapped: true` takes whole pages from an anonymous mmap instead:
 * that is what memory the kernel pins (registered buffers, buffer rings) or may
 * still write after we let go (a request finishing during ring teardown) should
 * use. Unmapping only drops our mapping: pinned pages stay with the kernel until
 * it releases them, and a late write lands in them or faults, where freed heap
 * memory would already belong to someone else.
 */
import { Mman } from "../sys/constants.ts";
import { Errno, SyscallError } from "../sys/errno.ts";
import { alignedAlloc, madvise, mmap, munmap, ownedMemoryView } from "../sys/ffi.ts";
import { assertOpen } from "../sys/closed.ts";

/** The page size assumed for alignment (x86-64 and arm64 with 4 KiB pages). */
export const PAGE_SIZE = 4096;

/** madvise(2) advice: drop the pages now; the range stays mapped and reads zeros. */
const MADV_DONTNEED = 4;

/** A transparent huge page (x86-64 and arm64 with 4 KiB base pages). */
export const HUGE_PAGE_SIZE = 2 * 1024 * 1024;

/**
 * Who releases the memory: the ArrayBuffer behind `.bytes` owns it
 * (ffi.ownedMemoryView: the engine calls munmap/free when the last JS
 * reference to those contents is collected, and the ownership follows a
 * `transfer()`). So no JS view can ever point at released memory, whatever
 * the caller does. `free()` marks the object closed and, for mapped memory,
 * gives the physical pages back at once (MADV_DONTNEED: a stale view then
 * reads zeros); the address range goes when the views do.
 *
 * This registry only keeps {@link AlignedBuffer.live} honest for buffers
 * dropped without `free()`.
 */
const liveGuard = new FinalizationRegistry<{ freed: boolean }>((state) => {
  if (!state.freed) liveCount--;
});

/** Options for {@link AlignedBuffer}. */
export interface AlignedBufferOptions {
  /**
   * Take whole pages from an anonymous mmap instead of the heap (alignment at
   * most a page). Use it for memory the kernel pins or may write late: see the
   * module comment.
   */
  mapped?: boolean;
  /**
   * Ask for transparent huge pages (implies `mapped`): the mapping is 2 MiB
   * aligned, advised MADV_HUGEPAGE and touched once per huge page, so the
   * kernel backs it with physically contiguous 2 MiB pages where it can. Why:
   * an O_DIRECT read into 4 KiB pages that happen to be scattered becomes one
   * device segment per page (32 for a 128 KiB read); into a huge page it is
   * one segment, and a registered buffer is coalesced into one bvec. On a
   * virtio disk that decides the throughput of large reads. Where THP is off
   * (`transparent_hugepage=never`) the memory is ordinary pages; see
   * {@link AlignedBuffer.hugePages}.
   */
  hugePages?: boolean;
}

let liveCount = 0;

/** An anonymous read-write mapping of `length` bytes (a page multiple); the address or -errno. */
function mapAnonymous(length: number): number {
  return mmap(0, length, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
}

/**
 * An anonymous mapping of `length` bytes (a huge-page multiple) starting on a
 * huge-page boundary: map one huge page more, then unmap the slack on both
 * sides. The address or -errno.
 */
function mapHugeAligned(length: number): number {
  const raw = mapAnonymous(length + HUGE_PAGE_SIZE);
  if (raw <= 0) return raw;
  const start = Math.ceil(raw / HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE;
  if (start > raw) munmap(raw, start - raw);
  const tail = raw + length + HUGE_PAGE_SIZE - (start + length);
  if (tail > 0) munmap(start + length, tail);
  return start;
}

/**
 * Aligned off-heap memory with an explicit `free()`.
 *
 * Safety:
 * - After `free()` every method and getter (but `freed`) throws ClosedError.
 *   Views taken earlier stay valid memory (their contents own it, see above):
 *   mapped memory reads zeros from then on, heap memory keeps its bytes until
 *   the views are collected. Nothing dangles.
 * - `address` is a raw number: the kernel does not keep this object alive.
 *   Given to a Ring by address, the memory must stay reachable (keep the
 *   AlignedBuffer or a view) until the final CQE. The Uring methods never
 *   give the kernel the address of a caller's buffer (docs/memory-safety.md).
 */
export class AlignedBuffer {
  /** Byte length requested. */
  readonly length: number;
  /** Alignment of `address` (a power of two). */
  readonly alignment: number;
  /** True when the memory is an anonymous mapping rather than heap. */
  readonly mapped: boolean;
  /** True when huge pages were asked for and the kernel accepted the advice (it may still fall back to small pages under memory pressure). */
  readonly hugePages: boolean;
  private addr: number;
  private view: Uint8Array | null;
  private readonly mappedLength: number;
  private readonly state = { freed: false };

  /**
   * Allocates `length` zeroed bytes aligned to `alignment` (default: a page).
   * Throws a {@link SyscallError} when the arguments are invalid or memory runs out.
   */
  constructor(length: number, alignment = PAGE_SIZE, options: AlignedBufferOptions = {}) {
    if (!Number.isSafeInteger(length) || length <= 0) {
      throw new SyscallError("aligned_alloc", Errno.EINVAL, `AlignedBuffer length must be a positive integer, got ${length}.`);
    }
    if (!Number.isSafeInteger(alignment) || alignment < 8 || (alignment & (alignment - 1)) !== 0) {
      throw new SyscallError("aligned_alloc", Errno.EINVAL, `AlignedBuffer alignment must be a power of two >= 8, got ${alignment}.`);
    }
    const huge = options.hugePages === true;
    const mapped = huge || options.mapped === true;
    if (mapped && alignment > (huge ? HUGE_PAGE_SIZE : PAGE_SIZE)) {
      throw new SyscallError("mmap", Errno.EINVAL, `A mapped AlignedBuffer is page-aligned; alignment ${alignment} needs the heap (mapped: false).`);
    }
    const unit = huge ? HUGE_PAGE_SIZE : PAGE_SIZE;
    const mappedLength = mapped ? Math.ceil(length / unit) * unit : 0;
    const addr = huge ? mapHugeAligned(mappedLength) : mapped ? mapAnonymous(mappedLength) : alignedAlloc(alignment, length);
    if (addr <= 0) {
      const errno = addr < 0 ? -addr : Errno.ENOMEM;
      throw new SyscallError(mapped ? "mmap" : "aligned_alloc", errno, `Could not allocate ${length} bytes aligned to ${alignment}: out of memory.`);
    }
    // The advice fails only where THP is compiled out; the memory is still good.
    const advised = huge && madvise(addr, mappedLength, Mman.MADV_HUGEPAGE) === 0;
    this.length = length;
    this.alignment = alignment;
    this.mapped = mapped;
    this.hugePages = advised;
    this.addr = addr;
    this.mappedLength = mappedLength;
    // Mapped memory is released as a whole (munmap of every page we took); heap memory by free().
    const buffer = ownedMemoryView(addr, mapped ? mappedLength : length, mappedLength);
    this.view = new Uint8Array(buffer, 0, length);
    // First touch after the advice: each fault now takes a whole huge page.
    if (advised) for (let off = 0; off < length; off += HUGE_PAGE_SIZE) this.view[off] = 0;
    liveCount++;
    liveGuard.register(buffer, this.state, this);
  }

  /** Start address of the memory. Throws after `free()`. */
  get address(): number {
    if (this.view === null) this.throwFreed("address");
    return this.addr;
  }

  /** The memory as bytes. Throws after `free()`; a view taken before must not outlive `free()`. */
  get bytes(): Uint8Array {
    if (this.view === null) this.throwFreed("bytes");
    return this.view;
  }

  /** True after `free()`. (Never throws.) */
  get freed(): boolean {
    return this.view === null;
  }

  /** Address of byte `offset`, for SQE fields (bounds-checked). */
  addressAt(offset: number): number {
    if (this.view === null) this.throwFreed("addressAt");
    if (!(offset >= 0 && offset <= this.length) || Math.floor(offset) !== offset) {
      throw new RangeError(`Offset ${offset} is outside this AlignedBuffer of ${this.length} bytes.`);
    }
    return this.addr + offset;
  }

  /** A Uint8Array over `[offset, offset + length)` of this memory (same lifetime rule as `bytes`). */
  subarray(offset: number, length: number): Uint8Array {
    if (this.view === null) this.throwFreed("subarray");
    if (!(offset >= 0 && length >= 0 && offset + length <= this.length) || Math.floor(offset) !== offset || Math.floor(length) !== length) {
      throw new RangeError(`Range [${offset}, ${offset + length}) is outside this AlignedBuffer of ${this.length} bytes.`);
    }
    return this.view.subarray(offset, offset + length);
  }

  /**
   * Closes the buffer: methods throw from now on; mapped memory gives its
   * physical pages back at once; the address range is released when the
   * last view of it is collected (see the module comment). Idempotent.
   */
  free(): void {
    if (this.view === null) return;
    liveGuard.unregister(this);
    this.state.freed = true;
    this.view = null;
    if (this.mappedLength > 0) madvise(this.addr, this.mappedLength, MADV_DONTNEED);
    liveCount--;
    this.addr = 0;
  }

  /** `using buf = new AlignedBuffer(...)` support. */
  [Symbol.dispose](): void {
    this.free();
  }

  /** Number of AlignedBuffers allocated and not yet freed (explicitly or by the finalizer); for leak tests. */
  static get live(): number {
    return liveCount;
  }

  private throwFreed(method: string): never {
    assertOpen(true, "AlignedBuffer", method);
    throw new Error("unreachable");
  }
}
