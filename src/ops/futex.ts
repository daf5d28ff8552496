/**
 * Futex and waitid preparers (6.7): wait for a futex word or a child process
 * without a blocked thread. `futexFlags` are FUTEX2_* (size | PRIVATE);
 * `flags` must be 0 today.
 */
import { SQE_W } from "../sys/abi.ts";
import { Op } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkCount, checkRoom, SIGINFO_SIZE } from "./bounds.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";
import { putAddr, rwWords } from "./fields.ts";

/** sizeof(struct futex_waitv): val, uaddr (u64 each), flags, reserved (u32 each). */
const FUTEX_WAITV_SIZE = 24;

/** FUTEX2_SIZE_U32: the futex word is 32 bits (the usual case). */
export const FUTEX2_SIZE_U32 = 0x02;
/** FUTEX2_PRIVATE: the futex is process-private. */
export const FUTEX2_PRIVATE = 128;
/** FUTEX_BITSET_MATCH_ANY: the wake/wait mask that matches every waiter. */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** io_uring_prep_futex_wait: wait while *futex == val (masked by `mask`). */
export function prepFutexWait(sqe: Sqe, futex: Addressable, val: number | bigint, mask: number | bigint, futexFlags: number, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.FUTEX_WAIT, futexFlags, futex, 0, val);
  w[SQE_W.opFlags] = flags;
  setU64(w, SQE_W.addr3Lo, mask);
}

/** io_uring_prep_futex_wake: wake up to `val` waiters on `futex` whose mask matches. */
export function prepFutexWake(sqe: Sqe, futex: Addressable, val: number | bigint, mask: number | bigint, futexFlags: number, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.FUTEX_WAKE, futexFlags, futex, 0, val);
  w[SQE_W.opFlags] = flags;
  setU64(w, SQE_W.addr3Lo, mask);
}

/** io_uring_prep_futex_waitv: wait on `nrFutex` futexes (struct futex_waitv[], see makeFutexWaitv). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepFutexWaitv(sqe: Sqe, futex: Addressable, nrFutex: number, flags = 0): void {
  if (typeof futex === "object") {
    checkCount(nrFutex, 128, "prepFutexWaitv", "nrFutex");
    checkRoom(futex, nrFutex * FUTEX_WAITV_SIZE, "prepFutexWaitv", "futex");
  }
  const w = sqe.u32;
  rwWords(w, Op.FUTEX_WAITV, 0, futex, nrFutex, 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_waitid: waitid(idtype, id, infop, options); `infop` a 128-byte siginfo_t or null. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepWaitid(sqe: Sqe, idtype: number, id: number, infop: Addressable | null, options: number, flags = 0): void {
  checkRoom(infop, SIGINFO_SIZE, "prepWaitid", "infop");
  const w = sqe.u32;
  rwWords(w, Op.WAITID, id, null, idtype, 0);
  w[SQE_W.opFlags] = flags;
  w[SQE_W.spliceFdIn] = options;
  putAddr(w, SQE_W.offLo, infop);
}
