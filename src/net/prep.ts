/**
 * The net layer's own request writers: the per-message hot path's fused
 * writers, each one straight run of u32 stores with nothing to branch on
 * (a multishot recv with buffer selection, a send from a raw address with SQE
 * flags, a cancel keyed by user_data's two u32 halves), and setsockopt on
 * URING_CMD. Every other preparer (socket, bind, listen, connect, close,
 * accept, timeout) is imported from src/ops where it is declared, not re-exported here.
 *
 * Safety: every buffer or address passed here must stay alive until the
 * request's final CQE; callers hold them in preallocated tables.
 */
import { SQE_W } from "../sys/abi.ts";
import { Op, RecvSendFlags, SocketUringOp, SqeFlags } from "../sys/constants.ts";
import type { Sqe } from "../ring/sqe.ts";
import { prepCmdSock } from "../ops/cmd.ts";
import { putHead } from "../ops/fields.ts";

const TWO_32 = 4294967296;

/**
 * io_uring_prep_recv_multishot with buffer selection: each CQE carries the
 * bytes of one provided buffer of group `bgid` (IORING_CQE_F_BUFFER), until a
 * CQE without IORING_CQE_F_MORE ends it. `bundle` asks for several buffers
 * per CQE (IORING_RECVSEND_BUNDLE, 6.10).
 */
export function prepRecvSelectMultishot(sqe: Sqe, fd: number, bgid: number, bundle = false): void {
  const w = sqe.u32;
  const ioprio = RecvSendFlags.RECV_MULTISHOT | (bundle ? RecvSendFlags.BUNDLE : 0);
  putHead(w, Op.RECV, SqeFlags.BUFFER_SELECT, ioprio);
  w[SQE_W.fd] = fd;
  w[SQE_W.bufIndex] = bgid; // buf_group; personality stays 0
}

/**
 * io_uring_prep_send from a raw address (off-heap, or a buffer the caller
 * keeps alive): send(fd, addr, len, msgFlags), with IOSQE_* `sqeFlags`
 * (e.g. CQE_SKIP_SUCCESS).
 */
export function prepSendRaw(sqe: Sqe, fd: number, addr: number, len: number, msgFlags: number, sqeFlags = 0): void {
  const w = sqe.u32;
  putHead(w, Op.SEND, sqeFlags, 0);
  w[SQE_W.fd] = fd;
  w[SQE_W.addrLo] = addr >>> 0;
  w[SQE_W.addrHi] = (addr / TWO_32) >>> 0;
  w[SQE_W.len] = len;
  w[SQE_W.opFlags] = msgFlags;
}

/** io_uring_prep_cancel64 for the request whose user_data is (hi << 32 | lo), with IORING_ASYNC_CANCEL_* flags. */
export function prepCancel32x2(sqe: Sqe, lo: number, hi: number, flags: number): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.ASYNC_CANCEL;
  w[SQE_W.fd] = 0xffffffff;
  w[SQE_W.addrLo] = lo;
  w[SQE_W.addrHi] = hi;
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_cmd_sock(SOCKET_URING_OP_SETSOCKOPT) (6.7): setsockopt through URING_CMD; `optval` lives until the CQE. */
export function prepSetsockopt(sqe: Sqe, fd: number, level: number, optname: number, optval: Uint8Array): void {
  prepCmdSock(sqe, SocketUringOp.SETSOCKOPT, fd, level, optname, optval, optval.byteLength);
}
