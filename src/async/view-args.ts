/**
 * The Uring methods' buffer arguments: checked before anything is submitted
 * (TypeError for what is not a live view, RangeError naming the argument for
 * a byte count), and, where the kernel reads a structure or a vector of
 * them, copied into library-owned memory (docs/memory-safety.md).
 *
 * The checks on the read/write/recv/send hot path ({@link viewLength},
 * {@link pinned}) are plain functions of a few compares; the messages are
 * built only after a check refused ({@link viewError}).
 */
import { bytesOf, type Bounce, type BouncePool } from "../mem/bounce.ts";

/** sizeof(struct sockaddr_storage): no socket address is longer. */
const SOCKADDR_MAX = 128;
/** UIO_MAXIOV. */
const MAX_IOVECS = 1024;

/**
 * The byte count to use for a caller's buffer: `length` (default: the whole
 * view) when the buffer is a live TypedArray/DataView and the count an
 * integer in 0..byteLength; -1 otherwise (then {@link viewError} says why).
 * Two compares on the hot path.
 */
export function viewLength(buffer: unknown, length: number | undefined): number {
  if (!ArrayBuffer.isView(buffer)) return -1;
  const size = buffer.byteLength;
  if (size === 0 && (buffer.buffer as ArrayBuffer).detached === true) return -1;
  if (length === undefined) return size;
  return length >>> 0 !== length || length > size ? -1 : length;
}

/** Why {@link viewLength} refused: TypeError (not a view, detached) or RangeError naming the argument. */
export function viewError(method: string, buffer: unknown, length: number | undefined, argName = "length"): Error {
  if (!ArrayBuffer.isView(buffer)) {
    return new TypeError(`uring.${method}: the buffer must be a TypedArray or DataView (e.g. a Uint8Array), got ${buffer === null ? "null" : typeof buffer}`);
  }
  if (buffer.byteLength === 0 && (buffer.buffer as ArrayBuffer).detached === true) {
    return new TypeError(`uring.${method}: the buffer is detached (transferred): pass a live buffer`);
  }
  return new RangeError(`uring.${method}: ${argName} must be an integer from 0 to the buffer's ${buffer.byteLength} bytes, got ${String(length)}`);
}

/** {@link viewLength}, throwing {@link viewError}. */
export function checkView(method: string, buffer: unknown, length: number | undefined): number {
  const n = viewLength(buffer, length);
  if (n < 0) throw viewError(method, buffer, length);
  return n;
}

/** A view the kernel may use in place: its memory can be neither detached nor shrunk (SharedArrayBuffer). */
export function pinned(view: ArrayBufferView): boolean {
  return view.buffer instanceof SharedArrayBuffer;
}

/** A socket address the kernel reads: checked, then copied so the caller's array can change or detach. */
export function copySockaddr(method: string, sockaddr: Uint8Array): Uint8Array {
  const n = checkView(method, sockaddr, undefined);
  if (n === 0 || n > SOCKADDR_MAX) throw new RangeError(`uring.${method}: sockaddr must be 1 to ${SOCKADDR_MAX} bytes, got ${n}`);
  return bytesOf(sockaddr).slice();
}

/** A readv/writev in library memory: the bounce block, the iovec array into it, each buffer's length. */
export interface Vectors {
  b: Bounce | null;
  iov: Uint8Array;
  lens: number[];
}

/**
 * One bounce block for a readv/writev and an iovec array into it (one
 * segment per caller buffer). Both are library-owned: the kernel sees no
 * caller memory. `copy`: fill the block from the buffers (writev).
 */
export function vectors(pool: BouncePool, method: string, buffers: readonly ArrayBufferView[], copy: boolean): Vectors {
  if (!Array.isArray(buffers)) throw new TypeError(`uring.${method}: buffers must be an array of TypedArrays`);
  if (buffers.length > MAX_IOVECS) throw new RangeError(`uring.${method}: at most ${MAX_IOVECS} buffers (UIO_MAXIOV), got ${buffers.length}`);
  const lens: number[] = [];
  let total = 0;
  for (const v of buffers) {
    const n = checkView(method, v, undefined);
    lens.push(n);
    total += n;
  }
  const iov = new Uint8Array(16 * buffers.length);
  const dv = new DataView(iov.buffer);
  const b = total > 0 ? pool.take(total) : null;
  let off = 0;
  for (let i = 0; i < buffers.length; i++) {
    const n = lens[i]!;
    if (b !== null && n > 0) {
      if (copy) b.bytes.set(bytesOf(buffers[i]!), off);
      dv.setBigUint64(i * 16, BigInt(b.address + off), true);
    }
    dv.setBigUint64(i * 16 + 8, BigInt(n), true);
    off += n;
  }
  return { b, iov, lens };
}
