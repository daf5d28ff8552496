/**
 * Range checks for preparers given a TypedArray, DataView or ArrayBuffer
 * (internal to src/ops and the async layer; not re-exported).
 *
 * The rule: wherever a buffer and a byte count (or a struct the kernel reads
 * or writes) meet, the count must be an integer from 0 to the view's
 * `byteLength` (which already counts from its `byteOffset`), or a RangeError
 * naming the argument is thrown before the SQE is written. A raw address
 * (number or bigint) is liburing-raw: nothing can be checked, and every
 * preparer's TSDoc says so.
 *
 * Cost: one `typeof`, one `>>>` and two compares per call; no allocation.
 */

/** A buffer object whose extent we know (views and ArrayBuffers), as opposed to a raw address. */
type Extent = { readonly byteLength: number };

/**
 * Checks that `len` bytes fit in `buf` when `buf` is a buffer object: `len`
 * must be an integer in 0..buf.byteLength. Raw addresses and null pass.
 */
export function checkSpan(buf: unknown, len: number, where: string, name: string): void {
  if (typeof buf === "object" && buf !== null) {
    const size = (buf as Extent).byteLength;
    if (len >>> 0 !== len || len > size) throw spanError(where, name, len, size);
  } else if (len >>> 0 !== len && buf !== null && typeof buf !== "number" && typeof buf !== "bigint") {
    throw new TypeError(`${where}: expected a buffer or an address, got ${typeof buf}`);
  }
}

/**
 * Checks that `buf` (when a buffer object) holds at least `need` bytes: the
 * size of a struct the kernel reads or writes (statx, msghdr, iovec array...).
 */
export function checkRoom(buf: unknown, need: number, where: string, name: string): void {
  if (typeof buf === "object" && buf !== null && !((buf as Extent).byteLength >= need)) {
    throw new RangeError(`${where}: ${name} must hold at least ${need} bytes, it has ${(buf as Extent).byteLength}`);
  }
}

/** Checks a count (nr iovecs, nr buffers, ...) is an integer in 0..max. Call it only when the matching buffer is an object: with a raw address the count is raw too. */
export function checkCount(n: number, max: number, where: string, name: string): void {
  if (n >>> 0 !== n || n > max) {
    throw new RangeError(`${where}: ${name} must be an integer from 0 to ${max}, got ${String(n)}`);
  }
}

/**
 * Checks that a path or name given as bytes is NUL-terminated inside the
 * buffer: the kernel reads a C string up to its NUL, past the end otherwise.
 */
export function checkCString(buf: unknown, where: string, name: string): void {
  if (typeof buf !== "object" || buf === null) return;
  const bytes = ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf instanceof ArrayBuffer ? new Uint8Array(buf) : null;
  if (bytes === null || bytes.indexOf(0) < 0) {
    throw new RangeError(`${where}: ${name} must be a NUL-terminated byte string (build it with cstr())`);
  }
}

function spanError(where: string, name: string, len: number, size: number): RangeError {
  if (len >>> 0 !== len) {
    return new RangeError(`${where}: ${name} must be an integer from 0 to the buffer's ${size} bytes, got ${String(len)}`);
  }
  return new RangeError(`${where}: ${name} (${len}) is past the end of the buffer (${size} bytes from its byteOffset)`);
}

/** sizeof(struct msghdr) on 64-bit Linux. */
export const MSGHDR_SIZE = 56;
/** sizeof(struct open_how). */
export const OPEN_HOW_SIZE = 24;
/** sizeof(struct statx): what the kernel writes. */
export const STATX_BUF_SIZE = 256;
/** sizeof(siginfo_t). */
export const SIGINFO_SIZE = 128;
/** sizeof(struct iovec). */
const IOVEC_SIZE = 16;
/** UIO_MAXIOV: the kernel refuses more iovecs anyway. */
const MAX_IOVECS = 1024;

/** An iovec array given as a buffer must hold `nrVecs` iovecs (the iovecs' own addresses are raw: build them with makeIovecs). */
export function checkIovecs(iovecs: unknown, nrVecs: number, where: string): void {
  if (typeof iovecs !== "object" || iovecs === null) return;
  checkCount(nrVecs, MAX_IOVECS, where, "nrVecs");
  checkRoom(iovecs, nrVecs * IOVEC_SIZE, where, "iovecs");
}

/**
 * accept/getsockname: the kernel writes up to `*addrlen` bytes into `addr`.
 * When both are buffers, `addrlen` must hold a u32 and `addr` that many bytes.
 */
export function checkAcceptAddr(addr: unknown, addrlen: unknown, where: string): void {
  if (typeof addrlen !== "object" || addrlen === null) return;
  checkRoom(addrlen, 4, where, "addrlen");
  if (typeof addr !== "object" || addr === null) return;
  const v = ArrayBuffer.isView(addrlen) ? addrlen : new Uint8Array(addrlen as ArrayBuffer);
  const n = new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
  checkRoom(addr, n, where, "addr (as large as *addrlen)");
}
