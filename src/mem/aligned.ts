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
import { alignedAlloc, freeAligned, madvise, memoryView, mmap, munmap } from "../sys/ffi.ts";

/** The page size assumed for alignment (x86-64 and arm64 with 4 KiB pages). */
export const PAGE_SIZE = 4096;

/** A transparent huge page (x86-64 and arm64 with 4 KiB base pages). */
export const HUGE_PAGE_SIZE = 2 * 1024 * 1024;

/**
 * Frees an allocation whose owner was collected without `free()`. The target
 * is the ArrayBuffer behind `.bytes`, not the AlignedBuffer: a caller who kept
 * only the view (`const v = new AlignedBuffer(n).bytes`) must not find the memory
 * freed under it. The AlignedBuffer holds that ArrayBuffer, so memory is freed
 * only once neither is reachable.
 */
const leakGuard = new FinalizationRegistry<Allocation>((a) => {
  release(a);
  liveCount--;
});

/** Where an allocation came from, for releasing it. */
interface Allocation {
  address: number;
  /** Mapped length (whole pages), or 0 for heap memory. */
  mappedLength: number;
}

function release(a: Allocation): void {
  if (a.mappedLength > 0) munmap(a.address, a.mappedLength);
  else freeAligned(a.address);
}

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
 * - `bytes` (and any view made from it or from `address`) must not be used
 *   after `free()`: the memory goes back to the allocator and the view dangles.
 *   After `free()`, `bytes` and `address` throw, but views taken earlier cannot
 *   be revoked: drop them.
 * - The kernel does not keep this object alive. While a request, a registered
 *   buffer table or a buffer ring uses the memory, keep the AlignedBuffer (or
 *   its `bytes`) reachable and do not `free()` it; the FinalizationRegistry
 *   fallback frees memory that became unreachable, which is only correct once
 *   the kernel is done with it.
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
  private readonly allocation: Allocation;

  /**
   * Allocates `length` zeroed bytes aligned to `alignment` (default: a page).
   * Throws a {@link SyscallError} when the arguments are invalid or memory runs out.
   */
  constructor(length: number, alignment = PAGE_SIZE, options: AlignedBufferOptions = {}) {
    if (!Number.isSafeInteger(length) || length <= 0) {
      throw new SyscallError("aligned_alloc", Errno.EINVAL, `AlignedBuffer length must be a positive integer, got ${length}.`);
    }
    if (!Number.isSafeInteger(alignment) || alignment < 8 || (alignment & (alignment - 1)) !== 0) {
      throw new SyscallError(
        "aligned_alloc",
        Errno.EINVAL,
        `AlignedBuffer alignment must be a power of two >= 8, got ${alignment}.`,
      );
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
    this.allocation = { address: addr, mappedLength };
    const buffer = memoryView(addr, length);
    this.view = new Uint8Array(buffer);
    // First touch after the advice: each fault now takes a whole huge page.
    if (advised) for (let off = 0; off < length; off += HUGE_PAGE_SIZE) this.view[off] = 0;
    liveCount++;
    leakGuard.register(buffer, this.allocation, this);
  }

  /** Start address of the memory. Throws after `free()`. */
  get address(): number {
    if (this.view === null) this.throwFreed();
    return this.addr;
  }

  /** The memory as bytes. Throws after `free()`; a view taken before must not outlive `free()`. */
  get bytes(): Uint8Array {
    if (this.view === null) this.throwFreed();
    return this.view;
  }

  /** True after `free()`. */
  get freed(): boolean {
    return this.view === null;
  }

  /** Address of byte `offset`, for SQE fields (bounds-checked). */
  addressAt(offset: number): number {
    if (this.view === null) this.throwFreed();
    if (offset < 0 || offset > this.length) {
      throw new RangeError(`Offset ${offset} is outside this AlignedBuffer of ${this.length} bytes.`);
    }
    return this.addr + offset;
  }

  /** A Uint8Array over `[offset, offset + length)` of this memory (same lifetime rule as `bytes`). */
  subarray(offset: number, length: number): Uint8Array {
    if (this.view === null) this.throwFreed();
    if (offset < 0 || length < 0 || offset + length > this.length) {
      throw new RangeError(`Range [${offset}, ${offset + length}) is outside this AlignedBuffer of ${this.length} bytes.`);
    }
    return this.view.subarray(offset, offset + length);
  }

  /**
   * Returns the memory to the allocator. Idempotent. Only call it when no
   * request, registered table or buffer ring uses the memory any more.
   */
  free(): void {
    if (this.view === null) return;
    leakGuard.unregister(this);
    this.view = null;
    release(this.allocation);
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

  private throwFreed(): never {
    throw new Error("This AlignedBuffer was freed: its memory is gone. Allocate a new one.");
  }
}
