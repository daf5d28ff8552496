/** ASYNC_CANCEL preparers: by user_data, by fd, or by CancelFlags (ALL, ANY, OP, ...). */
import { SQE_W } from "../sys/abi.ts";
import { CancelFlags, Op } from "../sys/constants.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";

/** io_uring_prep_cancel64: cancel the request(s) whose user_data is `userData`. */
export function prepCancel64(sqe: Sqe, userData: number | bigint, flags = 0): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.ASYNC_CANCEL;
  w[SQE_W.fd] = 0xffffffff;
  setU64(w, SQE_W.addrLo, userData);
  w[SQE_W.opFlags] = flags;
}

/**
 * io_uring_prep_cancel: liburing's pointer-keyed form. JavaScript has no
 * pointers to hand back, so it takes the user_data value, like prepCancel64.
 */
export function prepCancel(sqe: Sqe, userData: number | bigint, flags = 0): void {
  prepCancel64(sqe, userData, flags);
}

/** io_uring_prep_cancel_fd: cancel requests on `fd` (IORING_ASYNC_CANCEL_FD is added; FD_FIXED for a fixed file). */
export function prepCancelFd(sqe: Sqe, fd: number, flags = 0): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.ASYNC_CANCEL;
  w[SQE_W.fd] = fd;
  w[SQE_W.opFlags] = flags | CancelFlags.FD;
}
