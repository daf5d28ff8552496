/** Pipes and the rest: SPLICE, TEE, PIPE and the 128-byte NOP. */
import { SQE_W } from "../sys/abi.ts";
import { Op } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkRoom } from "./bounds.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";
import { directFileIndex, rwWords } from "./fields.ts";

/**
 * io_uring_prep_splice: move `nbytes` from `fdIn` (at `offIn`, -1 for a pipe or
 * the current position) to `fdOut` (at `offOut`); one side must be a pipe.
 * `spliceFlags`: SPLICE_F_* and SPLICE_F_FD_IN_FIXED.
 */
export function prepSplice(sqe: Sqe, fdIn: number, offIn: number | bigint, fdOut: number, offOut: number | bigint, nbytes: number, spliceFlags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.SPLICE, fdOut, null, nbytes, offOut);
  setU64(w, SQE_W.addrLo, offIn);
  w[SQE_W.spliceFdIn] = fdIn;
  w[SQE_W.opFlags] = spliceFlags;
}

/** io_uring_prep_tee: duplicate `nbytes` from pipe `fdIn` to pipe `fdOut`. */
export function prepTee(sqe: Sqe, fdIn: number, fdOut: number, nbytes: number, spliceFlags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.TEE, fdOut, null, nbytes, 0);
  w[SQE_W.spliceFdIn] = fdIn;
  w[SQE_W.opFlags] = spliceFlags;
}

/** io_uring_prep_pipe (6.16): pipe2(fds, flags); `fds` is an Int32Array(2) the kernel fills. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepPipe(sqe: Sqe, fds: Addressable, pipeFlags = 0): void {
  checkRoom(fds, 8, "prepPipe", "fds");
  const w = sqe.u32;
  rwWords(w, Op.PIPE, 0, fds, 0, 0);
  w[SQE_W.opFlags] = pipeFlags;
}

/** io_uring_prep_pipe_direct: pipe2 into fixed-file slots from `fileIndex` (FILE_INDEX_ALLOC: any free ones). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepPipeDirect(sqe: Sqe, fds: Addressable, pipeFlags: number, fileIndex: number): void {
  checkRoom(fds, 8, "prepPipeDirect", "fds");
  prepPipe(sqe, fds, pipeFlags);
  sqe.u32[SQE_W.spliceFdIn] = directFileIndex(fileIndex);
}

/** io_uring_prep_nop128 (6.19): a NOP in a 128-byte SQE (SQE128 or SQE_MIXED rings). */
export function prepNop128(sqe: Sqe): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.NOP128;
  w[SQE_W.fd] = 0xffffffff;
}
