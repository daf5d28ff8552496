/**
 * The generic preparer (liburing's io_uring_prep_rw), NOP, and the file
 * read/write/fsync family: the hot path. Each writes the SQE as u32 words,
 * allocates nothing and uses no BigInt for number arguments. `getSqe` zeroes
 * the slot, so preparers only write the fields they set.
 *
 * Safety (every preparer here): buffers and iovec arrays passed in must stay
 * reachable, unmoved, until the request's final CQE.
 */
import { SQE_W } from "../sys/abi.ts";
import { FsyncFlags, Op, SqeFlags } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkSpan, checkIovecs } from "./bounds.ts";
import type { Sqe } from "../ring/sqe.ts";
import { putHead, rwWords } from "./fields.ts";

/**
 * io_uring_prep_rw: opcode, fd, addr, len and offset. `addr` is a buffer (its
 * address is taken) or a raw address (number, or bigint for all 64 bits);
 * `offset` a number (two's-complement 64-bit, so -1 means "current file
 * position") or a bigint.
 *
 * Safety: the caller keeps `addr`'s buffer alive until the request's final CQE.
 */
export function prepRw(op: number, sqe: Sqe, fd: number, addr: Addressable | null, len: number, offset: number | bigint): void {
  rwWords(sqe.u32, op, fd, addr, len, offset);
}

/** io_uring_prep_nop: a request that completes with res 0. */
export function prepNop(sqe: Sqe): void {
  sqe.u32[SQE_W.head] = Op.NOP;
  sqe.u32[SQE_W.fd] = 0xffffffff; // fd -1, as liburing's prep_rw(NOP, sqe, -1, ...)
}

/** io_uring_prep_read: read `nbytes` from `fd` at `offset` (-1: current position) into `buf`. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepRead(sqe: Sqe, fd: number, buf: Addressable | null, nbytes: number, offset: number | bigint): void {
  checkSpan(buf, nbytes, "prepRead", "nbytes");
  rwWords(sqe.u32, Op.READ, fd, buf, nbytes, offset);
}

/** io_uring_prep_write: write `nbytes` of `buf` to `fd` at `offset` (-1: current position). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepWrite(sqe: Sqe, fd: number, buf: Addressable | null, nbytes: number, offset: number | bigint): void {
  checkSpan(buf, nbytes, "prepWrite", "nbytes");
  rwWords(sqe.u32, Op.WRITE, fd, buf, nbytes, offset);
}

/** io_uring_prep_readv: preadv into `nrVecs` iovecs (see makeIovecs). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepReadv(sqe: Sqe, fd: number, iovecs: Addressable | null, nrVecs: number, offset: number | bigint): void {
  checkIovecs(iovecs, nrVecs, "prepReadv");
  rwWords(sqe.u32, Op.READV, fd, iovecs, nrVecs, offset);
}

/** io_uring_prep_readv2: preadv2, with `flags` from {@link RwFlags} (RWF_*). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepReadv2(sqe: Sqe, fd: number, iovecs: Addressable | null, nrVecs: number, offset: number | bigint, flags = 0): void {
  checkIovecs(iovecs, nrVecs, "prepReadv2");
  const w = sqe.u32;
  rwWords(w, Op.READV, fd, iovecs, nrVecs, offset);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_writev: pwritev from `nrVecs` iovecs. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepWritev(sqe: Sqe, fd: number, iovecs: Addressable | null, nrVecs: number, offset: number | bigint): void {
  checkIovecs(iovecs, nrVecs, "prepWritev");
  rwWords(sqe.u32, Op.WRITEV, fd, iovecs, nrVecs, offset);
}

/** io_uring_prep_writev2: pwritev2, with `flags` from {@link RwFlags} (RWF_*). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepWritev2(sqe: Sqe, fd: number, iovecs: Addressable | null, nrVecs: number, offset: number | bigint, flags = 0): void {
  checkIovecs(iovecs, nrVecs, "prepWritev2");
  const w = sqe.u32;
  rwWords(w, Op.WRITEV, fd, iovecs, nrVecs, offset);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_read_fixed: read into registered buffer `bufIndex`; `buf` must lie inside it. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepReadFixed(sqe: Sqe, fd: number, buf: Addressable | null, nbytes: number, offset: number | bigint, bufIndex: number): void {
  checkSpan(buf, nbytes, "prepReadFixed", "nbytes");
  const w = sqe.u32;
  rwWords(w, Op.READ_FIXED, fd, buf, nbytes, offset);
  w[SQE_W.bufIndex] = bufIndex & 0xffff;
}

/** io_uring_prep_write_fixed: write from registered buffer `bufIndex`; `buf` must lie inside it. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepWriteFixed(sqe: Sqe, fd: number, buf: Addressable | null, nbytes: number, offset: number | bigint, bufIndex: number): void {
  checkSpan(buf, nbytes, "prepWriteFixed", "nbytes");
  const w = sqe.u32;
  rwWords(w, Op.WRITE_FIXED, fd, buf, nbytes, offset);
  w[SQE_W.bufIndex] = bufIndex & 0xffff;
}

/** io_uring_prep_readv_fixed (6.15): preadv2 whose iovecs point into registered buffer `bufIndex`. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepReadvFixed(
  sqe: Sqe,
  fd: number,
  iovecs: Addressable | null,
  nrVecs: number,
  offset: number | bigint,
  flags: number,
  bufIndex: number,
): void {
  checkIovecs(iovecs, nrVecs, "prepReadvFixed");
  const w = sqe.u32;
  rwWords(w, Op.READV_FIXED, fd, iovecs, nrVecs, offset);
  w[SQE_W.opFlags] = flags;
  w[SQE_W.bufIndex] = bufIndex & 0xffff;
}

/** io_uring_prep_writev_fixed (6.15): pwritev2 whose iovecs point into registered buffer `bufIndex`. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepWritevFixed(
  sqe: Sqe,
  fd: number,
  iovecs: Addressable | null,
  nrVecs: number,
  offset: number | bigint,
  flags: number,
  bufIndex: number,
): void {
  checkIovecs(iovecs, nrVecs, "prepWritevFixed");
  const w = sqe.u32;
  rwWords(w, Op.WRITEV_FIXED, fd, iovecs, nrVecs, offset);
  w[SQE_W.opFlags] = flags;
  w[SQE_W.bufIndex] = bufIndex & 0xffff;
}

/**
 * io_uring_prep_read_multishot (6.7): repeated reads of up to `nbytes` (0: the
 * buffer's size) into buffers picked from provided-buffer group `bufGroup`;
 * sets IOSQE_BUFFER_SELECT itself.
 */
export function prepReadMultishot(sqe: Sqe, fd: number, nbytes: number, offset: number | bigint, bufGroup: number): void {
  const w = sqe.u32;
  rwWords(w, Op.READ_MULTISHOT, fd, null, nbytes, offset);
  putHead(w, Op.READ_MULTISHOT, SqeFlags.BUFFER_SELECT, 0);
  w[SQE_W.bufIndex] = bufGroup & 0xffff;
}

/** io_uring_prep_fsync: fsync `fd` (FsyncFlags.DATASYNC for fdatasync). */
export function prepFsync(sqe: Sqe, fd: number, fsyncFlags = 0): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.FSYNC;
  w[SQE_W.fd] = fd;
  w[SQE_W.opFlags] = fsyncFlags;
}

/** fdatasync `fd`: io_uring_prep_fsync with IORING_FSYNC_DATASYNC. */
export function prepFdatasync(sqe: Sqe, fd: number): void {
  prepFsync(sqe, fd, FsyncFlags.DATASYNC);
}
