/**
 * Bounce buffers: library-owned off-heap memory that stands in for a caller's
 * JS-heap buffer while the kernel works on it (see docs/memory-safety.md).
 *
 * Why: an ArrayBuffer on the JS heap can be detached at any moment
 * (`buffer.transfer()`, `structuredClone(..., { transfer })`, `postMessage`
 * with a transfer list) and Bun/JSC offers no way to pin it: the memory then
 * moves to the new owner, or is freed with it. If the kernel held its address
 * it would write into someone else's memory. So the kernel is only ever
 * given addresses of memory the library owns and nobody else can reach: a
 * write copies the caller's bytes in at submit; a read lands here and is
 * copied out to the caller's view at completion, if that view is still
 * attached.
 *
 * Pooled by power-of-two size class per Uring, so the steady state allocates
 * nothing; blocks above {@link MAX_POOLED} are allocated per request and
 * released after it.
 */
import { AlignedBuffer, PAGE_SIZE } from "./aligned.ts";

/** Smallest block (64 B: a cache line, and the least alignment of any block). */
const MIN_SHIFT = 6;
/** Largest pooled block: 1 MiB. Bigger requests get a block of their own, freed afterwards. */
export const MAX_POOLED = 1 << 20;
const MAX_SHIFT = 20;
/** Blocks kept per size class: enough for a deep queue, bounded so a burst does not pin memory for good. */
const KEEP_PER_CLASS = 256;

/** One block of library-owned memory the kernel may read or write. */
export class Bounce {
  /** The block's bytes (off-heap, never exposed to callers). */
  readonly bytes: Uint8Array;
  /** Its address, for SQE fields and iovecs. */
  readonly address: number;
  /** Size class (log2 of the block size), or -1 for an unpooled block. */
  readonly sizeClass: number;
  readonly #mem: AlignedBuffer;

  constructor(size: number, sizeClass: number) {
    // Naturally aligned up to a page (a 512 B block on 512, 4 KiB and up on 4 KiB): an O_DIRECT
    // read or write through the Uring layer lands in a bounce block, and O_DIRECT needs the
    // memory aligned to the device's logical block size, as the caller's own buffer was.
    this.#mem = new AlignedBuffer(size, Math.max(1 << MIN_SHIFT, Math.min(PAGE_SIZE, sizeClass < 0 ? PAGE_SIZE : size)));
    this.bytes = this.#mem.bytes;
    this.address = this.#mem.address;
    this.sizeClass = sizeClass;
  }

  /** @internal Releases an unpooled block's memory. */
  free(): void {
    this.#mem.free();
  }
}

/** A per-Uring pool of {@link Bounce} blocks. */
export class BouncePool {
  readonly #free: Bounce[][] = [];

  constructor() {
    for (let i = 0; i <= MAX_SHIFT; i++) this.#free.push([]);
  }

  /** A block of at least `len` bytes (len >= 1). */
  take(len: number): Bounce {
    if (len > MAX_POOLED) return new Bounce(len, -1);
    const shift = len <= 1 << MIN_SHIFT ? MIN_SHIFT : 32 - Math.clz32(len - 1);
    const list = this.#free[shift]!;
    return list.pop() ?? new Bounce(1 << shift, shift);
  }

  /** Gives a block back once the kernel is done with it (its final CQE arrived). */
  put(b: Bounce): void {
    if (b.sizeClass < 0) {
      b.free();
      return;
    }
    const list = this.#free[b.sizeClass]!;
    if (list.length < KEEP_PER_CLASS) list.push(b);
  }
}

/** Bytes of `view` as a Uint8Array (same memory). */
export function bytesOf(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Where a readv's bytes go: the caller's views and, per view, the length the kernel was given. */
export interface Scatter {
  readonly views: readonly ArrayBufferView[];
  readonly lens: readonly number[];
}

/**
 * A read into a bounce block completed with `res` bytes: copy them to the
 * caller's view (or, for readv, across its views in order). A view detached
 * or shrunk meanwhile gets what still fits; the kernel never saw its memory.
 */
export function copyOut(b: Bounce, dst: ArrayBufferView | Scatter, res: number): void {
  if (res <= 0) return;
  if (ArrayBuffer.isView(dst)) {
    const n = Math.min(res, dst.byteLength);
    if (n > 0) new Uint8Array(dst.buffer, dst.byteOffset, n).set(b.bytes.subarray(0, n));
    return;
  }
  let off = 0;
  for (let i = 0; i < dst.views.length && off < res; i++) {
    const v = dst.views[i]!;
    const want = dst.lens[i]!;
    const n = Math.min(want, res - off, v.byteLength);
    if (n > 0) new Uint8Array(v.buffer, v.byteOffset, n).set(b.bytes.subarray(off, off + n));
    off += want;
  }
}
