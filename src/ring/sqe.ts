/**
 * Submission queue entries as preallocated cursors over the mmapped SQE array.
 *
 * Each SQ slot gets one {@link Sqe} at setup, holding typed-array views of its
 * 64 (or 128) bytes; `getSqe()` hands out the slot's object, so preparing an op
 * allocates nothing. A `Sqe` is valid from `getSqe()` until the next submit.
 */
import { SQE, SQE_W } from "../sys/abi.ts";

const TWO_32 = 4294967296;

/** One SQE slot: views over its bytes in the shared SQE array. */
export class Sqe {
  /** Index of this slot in the SQE array. */
  readonly index: number;
  /** The SQE as u32 words (16, or 32 with SQE128): the preparers' fast path. */
  u32: Uint32Array;
  /** The SQE as bytes. */
  u8: Uint8Array;
  /** The SQE as u16 halves (ioprio, buf_index, personality). */
  u16: Uint16Array;

  /** @internal Built once per slot by the submission queue. */
  constructor(sqeArray: ArrayBuffer, byteOffset: number, size: number, index: number) {
    this.index = index;
    this.u32 = new Uint32Array(sqeArray, byteOffset, size >>> 2);
    this.u8 = new Uint8Array(sqeArray, byteOffset, size);
    this.u16 = new Uint16Array(sqeArray, byteOffset, size >>> 1);
  }

  /**
   * @internal The ring unmaps this slot (close or resize): the views move to
   * zeroed JS memory, so writing through a stale Sqe is harmless.
   */
  retire(): void {
    const dead = new ArrayBuffer(this.u8.length);
    this.u32 = new Uint32Array(dead);
    this.u8 = new Uint8Array(dead);
    this.u16 = new Uint16Array(dead);
  }
}

/**
 * Writes a 64-bit field as two u32 words: the one 64-bit writer of the ring
 * and the preparers. Numbers are taken as two's-complement 64-bit values (so
 * -1 becomes 0xffff_ffff_ffff_ffff, as liburing's `(__u64)-1`) and never touch
 * BigInt; a bigint is written exactly.
 */
export function setU64(u32: Uint32Array, word: number, value: number | bigint): void {
  if (typeof value === "number") {
    u32[word] = value >>> 0;
    // Math.floor is measurably slow here; only negatives (two's complement) need it.
    u32[word + 1] = value >= 0 ? (value / TWO_32) >>> 0 : Math.floor(value / TWO_32) >>> 0;
  } else {
    const v = BigInt.asUintN(64, value);
    u32[word] = Number(v & 0xffffffffn);
    u32[word + 1] = Number(v >> 32n);
  }
}

/** Reads a 64-bit field as a number (exact below 2^53). */
export function getU64(u32: Uint32Array, word: number): number {
  return u32[word]! + u32[word + 1]! * TWO_32;
}

/** io_uring_sqe_set_data64: sets user_data. A number must be a non-negative integer below 2^53. */
export function sqeSetData64(sqe: Sqe, data: number | bigint): void {
  setU64(sqe.u32, SQE_W.userDataLo, data);
}

/** Sets user_data from two u32 halves: the allocation-free path the async layer uses. */
export function sqeSetData32x2(sqe: Sqe, lo: number, hi: number): void {
  sqe.u32[SQE_W.userDataLo] = lo;
  sqe.u32[SQE_W.userDataHi] = hi;
}

/** io_uring_sqe_set_data (a number-only alias: JavaScript has no pointers to hand back). */
export const sqeSetData = sqeSetData64;

/**
 * io_uring_sqe_set_flags: sets sqe->flags (IOSQE_*), replacing what was there.
 * With {@link sqeAddFlags}, the one way to write the flags of a prepared SQE
 * (preparers write them with the opcode, in the head word).
 */
export function sqeSetFlags(sqe: Sqe, flags: number): void {
  sqe.u8[SQE.flags] = flags;
}

/**
 * ORs IOSQE_* `flags` into sqe->flags (C's `sqe->flags |= flags`), keeping
 * what the preparer set (BUFFER_SELECT, FIXED_FILE): how a link, a drain or
 * CQE_SKIP_SUCCESS is added to a prepared SQE.
 */
export function sqeAddFlags(sqe: Sqe, flags: number): void {
  sqe.u8[SQE.flags] = sqe.u8[SQE.flags]! | flags;
}

/** io_uring_sqe_set_buf_group: sets sqe->buf_group for IOSQE_BUFFER_SELECT. */
export function sqeSetBufGroup(sqe: Sqe, bgid: number): void {
  sqe.u16[SQE.bufIndex >>> 1] = bgid;
}

/** The bytes of an SQE as a Uint8Array view (64 or 128 bytes), for tests and debugging. */
export function sqeBytes(sqe: Sqe): Uint8Array {
  return sqe.u8;
}
