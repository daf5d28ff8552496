/**
 * Timeout preparers: TIMEOUT, TIMEOUT_REMOVE (remove and update) and
 * LINK_TIMEOUT. `ts` is a {@link Timespec} or a buffer holding a struct
 * __kernel_timespec; keep it alive until the CQE.
 */
import { SQE_W } from "../sys/abi.ts";
import { Op, TimeoutFlags } from "../sys/constants.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";
import { putAddr, rwWords } from "./fields.ts";
import { timespecAddress, type TimespecLike } from "./timespec.ts";

/**
 * io_uring_prep_timeout: completes after `ts` (-ETIME), or after `count`
 * other completions (res 0) if count > 0. `flags`: TimeoutFlags (ABS,
 * BOOTTIME, REALTIME, ETIME_SUCCESS, MULTISHOT).
 */
export function prepTimeout(sqe: Sqe, ts: TimespecLike, count = 0, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.TIMEOUT, -1, timespecAddress(ts), 1, count >>> 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_timeout_remove: cancel the timeout whose user_data is `userData`. */
export function prepTimeoutRemove(sqe: Sqe, userData: number | bigint, flags = 0): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.TIMEOUT_REMOVE;
  w[SQE_W.fd] = 0xffffffff;
  setU64(w, SQE_W.addrLo, userData);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_timeout_update: re-arm timeout `userData` with `ts` (IORING_TIMEOUT_UPDATE is added). */
export function prepTimeoutUpdate(sqe: Sqe, ts: TimespecLike, userData: number | bigint, flags = 0): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.TIMEOUT_REMOVE;
  w[SQE_W.fd] = 0xffffffff;
  putAddr(w, SQE_W.offLo, timespecAddress(ts));
  setU64(w, SQE_W.addrLo, userData);
  w[SQE_W.opFlags] = flags | TimeoutFlags.UPDATE;
}

/** io_uring_prep_link_timeout: a timeout for the previous SQE in a link (that SQE needs IOSQE_IO_LINK). */
export function prepLinkTimeout(sqe: Sqe, ts: TimespecLike, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.LINK_TIMEOUT, -1, timespecAddress(ts), 1, 0);
  w[SQE_W.opFlags] = flags;
}
