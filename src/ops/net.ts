/**
 * Socket preparers: send/recv (plain, multishot, bundle, zero-copy), msghdr
 * variants, accept/connect/bind/listen, socket creation and shutdown.
 * liburing's names and argument order.
 *
 * Safety: data buffers, msghdrs (and everything they point to) and sockaddrs
 * stay alive until the final CQE; for SEND_ZC / SENDMSG_ZC until the
 * notification CQE (cqeNotif).
 */
import { SQE_W } from "../sys/abi.ts";
import { AcceptFlags, Op, RecvSendFlags } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkSpan, checkRoom, checkAcceptAddr, MSGHDR_SIZE } from "./bounds.ts";
import type { Sqe } from "../ring/sqe.ts";
import { directFileIndex, putAddr, putHead, rwWords } from "./fields.ts";

/** io_uring_prep_send: send(fd, buf, len, flags). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSend(sqe: Sqe, sockfd: number, buf: Addressable | null, len: number, flags = 0): void {
  checkSpan(buf, len, "prepSend", "len");
  const w = sqe.u32;
  rwWords(w, Op.SEND, sockfd, buf, len, 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_recv: recv(fd, buf, len, flags); buf may be null with IOSQE_BUFFER_SELECT. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepRecv(sqe: Sqe, sockfd: number, buf: Addressable | null, len: number, flags = 0): void {
  checkSpan(buf, len, "prepRecv", "len");
  const w = sqe.u32;
  rwWords(w, Op.RECV, sockfd, buf, len, 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_recv_multishot: a recv that re-arms; use with IOSQE_BUFFER_SELECT and a buffer group. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepRecvMultishot(sqe: Sqe, sockfd: number, buf: Addressable | null, len: number, flags = 0): void {
  checkSpan(buf, len, "prepRecvMultishot", "len");
  const w = sqe.u32;
  rwWords(w, Op.RECV, sockfd, buf, len, 0);
  putHead(w, Op.RECV, 0, RecvSendFlags.RECV_MULTISHOT);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_send_bundle (6.10): send as many buffers of the selected group as fit `len` (IOSQE_BUFFER_SELECT). */
export function prepSendBundle(sqe: Sqe, sockfd: number, len: number, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.SEND, sockfd, null, len, 0);
  putHead(w, Op.SEND, 0, RecvSendFlags.BUNDLE);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_send_set_addr: give a prepared SEND / SEND_ZC a destination (sendto). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSendSetAddr(sqe: Sqe, destAddr: Addressable | null, addrLen: number): void {
  checkSpan(destAddr, addrLen, "prepSendSetAddr", "addrLen");
  putAddr(sqe.u32, SQE_W.offLo, destAddr);
  sqe.u16[22] = addrLen; // addr_len: the low half of word 11 (byte 44)
}

/** io_uring_prep_sendto: sendto(fd, buf, len, flags, addr, addrlen). */
export function prepSendto(sqe: Sqe, sockfd: number, buf: Addressable | null, len: number, flags: number, addr: Addressable | null, addrlen: number): void {
  prepSend(sqe, sockfd, buf, len, flags);
  prepSendSetAddr(sqe, addr, addrlen);
}

/** io_uring_prep_send_zc (6.0): zero-copy send; `zcFlags` are IORING_RECVSEND_* / SEND_ZC_REPORT_USAGE. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSendZc(sqe: Sqe, sockfd: number, buf: Addressable | null, len: number, flags = 0, zcFlags = 0): void {
  checkSpan(buf, len, "prepSendZc", "len");
  const w = sqe.u32;
  rwWords(w, Op.SEND_ZC, sockfd, buf, len, 0);
  putHead(w, Op.SEND_ZC, 0, zcFlags);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_send_zc_fixed: zero-copy send from registered buffer `bufIndex`. */
export function prepSendZcFixed(sqe: Sqe, sockfd: number, buf: Addressable | null, len: number, flags: number, zcFlags: number, bufIndex: number): void {
  const w = sqe.u32;
  rwWords(w, Op.SEND_ZC, sockfd, buf, len, 0);
  putHead(w, Op.SEND_ZC, 0, zcFlags | RecvSendFlags.FIXED_BUF);
  w[SQE_W.opFlags] = flags;
  w[SQE_W.bufIndex] = bufIndex & 0xffff;
}

/** io_uring_prep_sendmsg: sendmsg(fd, msg, flags); `msg` is a struct msghdr (see makeMsghdr). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSendmsg(sqe: Sqe, fd: number, msg: Addressable, flags = 0): void {
  checkRoom(msg, MSGHDR_SIZE, "prepSendmsg", "msg");
  const w = sqe.u32;
  rwWords(w, Op.SENDMSG, fd, msg, 1, 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_recvmsg: recvmsg(fd, msg, flags). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepRecvmsg(sqe: Sqe, fd: number, msg: Addressable, flags = 0): void {
  checkRoom(msg, MSGHDR_SIZE, "prepRecvmsg", "msg");
  const w = sqe.u32;
  rwWords(w, Op.RECVMSG, fd, msg, 1, 0);
  w[SQE_W.opFlags] = flags;
}

/**
 * io_uring_prep_recvmsg_multishot: re-arming recvmsg into provided buffers;
 * each buffer starts with a struct io_uring_recvmsg_out (see recvmsgOut).
 *
 * Buffers are range-checked (RangeError); a raw address (number/bigint) is
 * not checked: the caller vouches for it.
 */
export function prepRecvmsgMultishot(sqe: Sqe, fd: number, msg: Addressable, flags = 0): void {
  checkRoom(msg, MSGHDR_SIZE, "prepRecvmsgMultishot", "msg");
  const w = sqe.u32;
  rwWords(w, Op.RECVMSG, fd, msg, 1, 0);
  putHead(w, Op.RECVMSG, 0, RecvSendFlags.RECV_MULTISHOT);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_sendmsg_zc (6.1): zero-copy sendmsg. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSendmsgZc(sqe: Sqe, fd: number, msg: Addressable, flags = 0): void {
  checkRoom(msg, MSGHDR_SIZE, "prepSendmsgZc", "msg");
  const w = sqe.u32;
  rwWords(w, Op.SENDMSG_ZC, fd, msg, 1, 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_sendmsg_zc_fixed: zero-copy sendmsg whose iovecs lie in registered buffer `bufIndex`. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSendmsgZcFixed(sqe: Sqe, fd: number, msg: Addressable, flags: number, bufIndex: number): void {
  checkRoom(msg, MSGHDR_SIZE, "prepSendmsgZcFixed", "msg");
  const w = sqe.u32;
  rwWords(w, Op.SENDMSG_ZC, fd, msg, 1, 0);
  putHead(w, Op.SENDMSG_ZC, 0, RecvSendFlags.FIXED_BUF);
  w[SQE_W.opFlags] = flags;
  w[SQE_W.bufIndex] = bufIndex & 0xffff;
}

/**
 * Zero-copy receive (6.15) from interface queue `zcrxIfqIdx` (registered with
 * IORING_REGISTER_ZCRX_IFQ). Not a liburing helper: liburing's tests and
 * examples build it by hand exactly like this (prep_rw, RECV_MULTISHOT in
 * ioprio, zcrx_ifq_idx). `len` 0 means unlimited.
 */
export function prepRecvZc(sqe: Sqe, fd: number, len: number, zcrxIfqIdx: number, ioprio = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.RECV_ZC, fd, null, len, 0);
  putHead(w, Op.RECV_ZC, 0, ioprio | RecvSendFlags.RECV_MULTISHOT);
  w[SQE_W.spliceFdIn] = zcrxIfqIdx;
}

/** io_uring_prep_accept: accept4(fd, addr, addrlen, flags); addr/addrlen may be null. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepAccept(sqe: Sqe, fd: number, addr: Addressable | null, addrlen: Addressable | null, flags = 0): void {
  checkAcceptAddr(addr, addrlen, "prepAccept");
  const w = sqe.u32;
  rwWords(w, Op.ACCEPT, fd, addr, 0, 0);
  putAddr(w, SQE_W.offLo, addrlen);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_accept_direct: accept into fixed-file slot `fileIndex` (FILE_INDEX_ALLOC: any free slot). */
export function prepAcceptDirect(sqe: Sqe, fd: number, addr: Addressable | null, addrlen: Addressable | null, flags: number, fileIndex: number): void {
  prepAccept(sqe, fd, addr, addrlen, flags);
  sqe.u32[SQE_W.spliceFdIn] = directFileIndex(fileIndex);
}

/** io_uring_prep_multishot_accept (5.19): one SQE, a CQE per accepted connection. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepMultishotAccept(sqe: Sqe, fd: number, addr: Addressable | null, addrlen: Addressable | null, flags = 0): void {
  checkAcceptAddr(addr, addrlen, "prepMultishotAccept");
  prepAccept(sqe, fd, addr, addrlen, flags);
  putHead(sqe.u32, Op.ACCEPT, 0, AcceptFlags.MULTISHOT);
}

/** io_uring_prep_multishot_accept_direct: multishot accept into freely allocated fixed-file slots. */
export function prepMultishotAcceptDirect(sqe: Sqe, fd: number, addr: Addressable | null, addrlen: Addressable | null, flags = 0): void {
  prepMultishotAccept(sqe, fd, addr, addrlen, flags);
  sqe.u32[SQE_W.spliceFdIn] = 0xffffffff; // (IORING_FILE_INDEX_ALLOC - 1) + 1
}

/** io_uring_prep_connect: connect(fd, addr, addrlen). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepConnect(sqe: Sqe, fd: number, addr: Addressable, addrlen: number): void {
  checkSpan(addr, addrlen, "prepConnect", "addrlen");
  // socklen_t is unsigned: zero-extended into the 64-bit off.
  rwWords(sqe.u32, Op.CONNECT, fd, addr, 0, addrlen >>> 0);
}

/** io_uring_prep_bind (6.11): bind(fd, addr, addrlen). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepBind(sqe: Sqe, fd: number, addr: Addressable, addrlen: number): void {
  checkSpan(addr, addrlen, "prepBind", "addrlen");
  rwWords(sqe.u32, Op.BIND, fd, addr, 0, addrlen >>> 0);
}

/** io_uring_prep_listen (6.11): listen(fd, backlog). */
export function prepListen(sqe: Sqe, fd: number, backlog: number): void {
  rwWords(sqe.u32, Op.LISTEN, fd, null, backlog, 0);
}

/** io_uring_prep_shutdown: shutdown(fd, how). */
export function prepShutdown(sqe: Sqe, fd: number, how: number): void {
  rwWords(sqe.u32, Op.SHUTDOWN, fd, null, how, 0);
}

/** io_uring_prep_socket (5.19): socket(domain, type, protocol); `flags` must be 0 today. */
export function prepSocket(sqe: Sqe, domain: number, type: number, protocol: number, flags = 0): void {
  const w = sqe.u32;
  // type is an int widened to the 64-bit off: sign-extends.
  rwWords(w, Op.SOCKET, domain, null, protocol, type | 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_socket_direct: socket into fixed-file slot `fileIndex` (FILE_INDEX_ALLOC: any free slot). */
export function prepSocketDirect(sqe: Sqe, domain: number, type: number, protocol: number, fileIndex: number, flags = 0): void {
  prepSocket(sqe, domain, type, protocol, flags);
  sqe.u32[SQE_W.spliceFdIn] = directFileIndex(fileIndex);
}

/** io_uring_prep_socket_direct_alloc: socket into a freely allocated fixed-file slot (index in cqe->res). */
export function prepSocketDirectAlloc(sqe: Sqe, domain: number, type: number, protocol: number, flags = 0): void {
  prepSocket(sqe, domain, type, protocol, flags);
  sqe.u32[SQE_W.spliceFdIn] = 0xffffffff;
}
