/**
 * The generic preparer every other one builds on (liburing's io_uring_prep_rw)
 * and NOP. `getSqe` zeroes the slot, so preparers only write the fields they set.
 */
import { SQE_W } from "../sys/abi.ts";
import { Op } from "../sys/constants.ts";
import { addressOf, type Addressable } from "../sys/ffi.ts";
import type { Sqe } from "../ring/sqe.ts";

const TWO_32 = 4294967296;

/**
 * io_uring_prep_rw: opcode, fd, addr, len and offset. `addr` is a buffer (its
 * address is taken) or a raw address; `offset` a number (two's-complement 64-bit,
 * so -1 means "current file position") or a bigint.
 *
 * Safety: the caller keeps `addr`'s buffer alive until the request's final CQE.
 */
export function prepRw(op: number, sqe: Sqe, fd: number, addr: Addressable | null, len: number, offset: number | bigint): void {
  const w = sqe.u32;
  w[SQE_W.head] = op; // opcode; flags and ioprio are zero from getSqe
  w[SQE_W.fd] = fd;
  if (typeof offset === "number") {
    w[SQE_W.offLo] = offset >>> 0;
    w[SQE_W.offHi] = Math.floor(offset / TWO_32) >>> 0;
  } else {
    const v = BigInt.asUintN(64, offset);
    w[SQE_W.offLo] = Number(v & 0xffffffffn);
    w[SQE_W.offHi] = Number(v >> 32n);
  }
  const a = addr === null ? 0 : typeof addr === "number" ? addr : addressOf(addr);
  w[SQE_W.addrLo] = a >>> 0;
  w[SQE_W.addrHi] = (a / TWO_32) >>> 0;
  w[SQE_W.len] = len;
}

/** io_uring_prep_nop: a request that completes with res 0. */
export function prepNop(sqe: Sqe): void {
  sqe.u32[SQE_W.head] = Op.NOP;
  sqe.u32[SQE_W.fd] = 0xffffffff; // fd -1, as liburing's prep_rw(NOP, sqe, -1, ...)
}
