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
import { alignedAlloc, freeAligned, memoryView, mmap, munmap } from "../sys/ffi.ts";

/** The page size assumed for alignment (x86-64 and arm64 with 4 KiB pages). */
export const PAGE_SIZE = 4096;

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
}

let liveCount = 0;

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
    const mapped = options.mapped === true;
    if (mapped && alignment > PAGE_SIZE) {
      throw new SyscallError("mmap", Errno.EINVAL, `A mapped AlignedBuffer is page-aligned; alignment ${alignment} needs the heap (mapped: false).`);
    }
    const mappedLength = mapped ? Math.ceil(length / PAGE_SIZE) * PAGE_SIZE : 0;
    const addr = mapped
      ? mmap(0, mappedLength, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0)
      : alignedAlloc(alignment, length);
    if (addr <= 0) {
      const errno = addr < 0 ? -addr : Errno.ENOMEM;
      throw new SyscallError(mapped ? "mmap" : "aligned_alloc", errno, `Could not allocate ${length} bytes aligned to ${alignment}: out of memory.`);
    }
    this.length = length;
    this.alignment = alignment;
    this.mapped = mapped;
    this.addr = addr;
    this.allocation = { address: addr, mappedLength };
    const buffer = memoryView(addr, length);
    this.view = new Uint8Array(buffer);
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
