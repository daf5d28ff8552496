/**
 * Readiness preparers: POLL_ADD / POLL_REMOVE (and update), EPOLL_CTL and
 * EPOLL_WAIT. Poll masks are written as-is (little-endian hosts; liburing
 * swaps halfwords only on big-endian ones).
 */
import { SQE_W } from "../sys/abi.ts";
import { Op, PollFlags } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkCount, checkRoom } from "./bounds.ts";
import { EPOLL_EVENT_SIZE } from "./structs.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";
import { rwWords } from "./fields.ts";

/** io_uring_prep_poll_add: one-shot poll of `fd` for `pollMask` (POLLIN, ...). */
export function prepPollAdd(sqe: Sqe, fd: number, pollMask: number): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.POLL_ADD;
  w[SQE_W.fd] = fd;
  w[SQE_W.opFlags] = pollMask;
}

/** io_uring_prep_poll_multishot: a poll that stays armed, one CQE per event (CQE_F_MORE). */
export function prepPollMultishot(sqe: Sqe, fd: number, pollMask: number): void {
  prepPollAdd(sqe, fd, pollMask);
  sqe.u32[SQE_W.len] = PollFlags.ADD_MULTI;
}

/** io_uring_prep_poll_remove: remove the poll request whose user_data is `userData`. */
export function prepPollRemove(sqe: Sqe, userData: number | bigint): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.POLL_REMOVE;
  w[SQE_W.fd] = 0xffffffff;
  setU64(w, SQE_W.addrLo, userData);
}

/**
 * io_uring_prep_poll_update: change the events (PollFlags.UPDATE_EVENTS) and/or
 * the user_data (PollFlags.UPDATE_USER_DATA) of the poll `oldUserData`.
 */
export function prepPollUpdate(sqe: Sqe, oldUserData: number | bigint, newUserData: number | bigint, pollMask: number, flags: number): void {
  const w = sqe.u32;
  rwWords(w, Op.POLL_REMOVE, -1, null, flags, newUserData);
  setU64(w, SQE_W.addrLo, oldUserData);
  w[SQE_W.opFlags] = pollMask;
}

/** io_uring_prep_epoll_ctl: epoll_ctl(epfd, op, fd, ev); `ev` is a struct epoll_event (see makeEpollEvent). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepEpollCtl(sqe: Sqe, epfd: number, fd: number, op: number, ev: Addressable | null): void {
  checkRoom(ev, EPOLL_EVENT_SIZE, "prepEpollCtl", "ev");
  // fd goes to off as (__u32): zero-extended.
  rwWords(sqe.u32, Op.EPOLL_CTL, epfd, ev, op, fd >>> 0);
}

/** io_uring_prep_epoll_wait (6.15): epoll_wait(fd, events, maxevents) without blocking a thread. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepEpollWait(sqe: Sqe, fd: number, events: Addressable, maxevents: number, flags = 0): void {
  if (typeof events === "object") {
    checkCount(maxevents, 0x7fffffff, "prepEpollWait", "maxevents");
    checkRoom(events, maxevents * EPOLL_EVENT_SIZE, "prepEpollWait", "events");
  }
  const w = sqe.u32;
  rwWords(w, Op.EPOLL_WAIT, fd, events, maxevents, 0);
  w[SQE_W.opFlags] = flags;
}
