/**
 * Legacy provided buffers (PROVIDE_BUFFERS / REMOVE_BUFFERS). Buffer rings
 * (src/mem) are the faster, current mechanism; these remain for old kernels
 * and for tests. The memory stays the caller's until removed or consumed.
 */
import { SQE_W } from "../sys/abi.ts";
import { Op } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkCount, checkRoom } from "./bounds.ts";
import type { Sqe } from "../ring/sqe.ts";
import { rwWords } from "./fields.ts";

/**
 * io_uring_prep_provide_buffers: hand `nr` buffers of `len` bytes, laid out
 * back to back at `addr`, to group `bgid` with IDs starting at `bid`.
 *
 * Buffers are range-checked (RangeError); a raw address (number/bigint) is
 * not checked: the caller vouches for it.
 */
export function prepProvideBuffers(sqe: Sqe, addr: Addressable, len: number, nr: number, bgid: number, bid: number): void {
  if (typeof addr === "object") {
    checkCount(nr, 0xffff, "prepProvideBuffers", "nr");
    checkCount(len, 0xffffffff, "prepProvideBuffers", "len");
    checkRoom(addr, len * nr, "prepProvideBuffers", "addr");
  }
  const w = sqe.u32;
  // bid is an int widened to the 64-bit off: sign-extends.
  rwWords(w, Op.PROVIDE_BUFFERS, nr, addr, len, bid | 0);
  w[SQE_W.bufIndex] = bgid & 0xffff;
}

/** io_uring_prep_remove_buffers: take back up to `nr` unused buffers of group `bgid`. */
export function prepRemoveBuffers(sqe: Sqe, nr: number, bgid: number): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.REMOVE_BUFFERS;
  w[SQE_W.fd] = nr;
  w[SQE_W.bufIndex] = bgid & 0xffff;
}
