/**
 * Field writers the preparers share (internal to the library: src/ops and the
 * net layer's fused writers; not re-exported). `putHead` is the one writer of
 * the head word (opcode, IOSQE_* flags, ioprio) for a preparer.
 *
 * They reproduce C's integer conversions exactly, so a preparer fed the same
 * values as liburing writes the same bytes:
 * - 64-bit fields take a number (two's complement: -1 is all ones, like
 *   `(__u64)-1`) or a bigint; number inputs never touch BigInt.
 * - an `int` widened to `__u64` sign-extends (`v | 0` first);
 *   an `unsigned` widened to `__u64` zero-extends (`v >>> 0` first).
 */
import { setU64 } from "../ring/sqe.ts";
import { FILE_INDEX_ALLOC } from "../sys/constants.ts";
import { addressOf, type Addressable } from "../sys/ffi.ts";

const TWO_32 = 4294967296;

/**
 * Writes a pointer at u32 word `word`: a buffer's address, a raw address
 * (number or bigint, exact for bigint), or null for NULL.
 */
export function putAddr(w: Uint32Array, word: number, a: Addressable | null): void {
  if (typeof a === "number") {
    w[word] = a >>> 0;
    w[word + 1] = a >= 0 ? (a / TWO_32) >>> 0 : Math.floor(a / TWO_32) >>> 0;
  } else if (a === null) {
    w[word] = 0;
    w[word + 1] = 0;
  } else if (typeof a === "bigint") {
    setU64(w, word, a);
  } else {
    const n = addressOf(a);
    w[word] = n >>> 0;
    w[word + 1] = (n / TWO_32) >>> 0;
  }
}

/**
 * The sqe->file_index value of a "direct" preparer (liburing's
 * __io_uring_set_target_fixed_file after its ALLOC adjustment): slot + 1, and
 * IORING_FILE_INDEX_ALLOC stays ALLOC (the kernel then picks a free slot).
 */
export function directFileIndex(fileIndex: number): number {
  const i = fileIndex >>> 0;
  return i === FILE_INDEX_ALLOC ? FILE_INDEX_ALLOC : (i + 1) >>> 0;
}

/** Writes the SQE head word: opcode | flags << 8 | ioprio << 16. */
export function putHead(w: Uint32Array, op: number, flags: number, ioprio: number): void {
  w[0] = op | (flags << 8) | ((ioprio & 0xffff) << 16);
}

/**
 * io_uring_prep_rw on raw words, with exact 64-bit addresses (prepRw's public
 * behaviour is kept as it was; this is what the other preparers build on).
 * Writes opcode (flags and ioprio 0), fd, off, addr and len.
 */
export function rwWords(w: Uint32Array, op: number, fd: number, addr: Addressable | null, len: number, off: number | bigint): void {
  w[0] = op;
  w[1] = fd;
  setU64(w, 2, off);
  putAddr(w, 4, addr);
  w[6] = len;
}
