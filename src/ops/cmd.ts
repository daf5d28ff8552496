/**
 * URING_CMD preparers: driver-defined commands (`cmdOp`) on a file, the socket
 * commands (getsockopt/setsockopt/SIOCINQ/SIOCOUTQ/getsockname) and the block
 * device commands (discard, zone reset). Command payload beyond the fields set
 * here goes into {@link uringCmdArea}.
 */
import { SQE, SQE_W } from "../sys/abi.ts";
import { Op, SocketUringOp } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkRoom, checkAcceptAddr } from "./bounds.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";
import { putAddr } from "./fields.ts";

/** BLOCK_URING_CMD_DISCARD = _IO(0x12, 0) (linux/fs.h, 6.12). */
export const BLOCK_URING_CMD_DISCARD = 0x1200;
/** BLOCK_URING_CMD_ZONE_RESET_ALL = _IO(0x12, 1). */
export const BLOCK_URING_CMD_ZONE_RESET_ALL = 0x1201;

function uringCmd(sqe: Sqe, op: number, cmdOp: number, fd: number): void {
  const w = sqe.u32;
  w[SQE_W.head] = op;
  w[SQE_W.fd] = fd;
  w[SQE_W.offLo] = cmdOp; // cmd_op
  w[SQE_W.offHi] = 0; // __pad1
  w[SQE_W.addrLo] = 0;
  w[SQE_W.addrHi] = 0;
  w[SQE_W.len] = 0;
}

/** io_uring_prep_uring_cmd: command `cmdOp` on `fd`; the payload goes in the cmd area (16 bytes, 80 with SQE128). */
export function prepUringCmd(sqe: Sqe, cmdOp: number, fd: number): void {
  uringCmd(sqe, Op.URING_CMD, cmdOp, fd);
}

/** io_uring_prep_uring_cmd128 (6.19): URING_CMD with an 80-byte payload in a 128-byte SQE (SQE_MIXED rings). */
export function prepUringCmd128(sqe: Sqe, cmdOp: number, fd: number): void {
  uringCmd(sqe, Op.URING_CMD128, cmdOp, fd);
}

/** The URING_CMD payload bytes of `sqe` (from byte 48: 16 bytes, or 80 in a 128-byte SQE). */
export function uringCmdArea(sqe: Sqe): Uint8Array {
  return sqe.u8.subarray(SQE.cmd);
}

/**
 * io_uring_prep_cmd_sock (6.7): socket command `cmdOp` (SocketUringOp:
 * SIOCINQ, SIOCOUTQ, GETSOCKOPT, SETSOCKOPT) with sockopt-style arguments.
 */
export function prepCmdSock(sqe: Sqe, cmdOp: number, fd: number, level: number, optname: number, optval: Addressable | null, optlen: number): void {
  const w = sqe.u32;
  uringCmd(sqe, Op.URING_CMD, cmdOp, fd);
  putAddr(w, SQE_W.addr3Lo, optval); // optval
  w[SQE_W.addrHi] = optname; // optname
  w[SQE_W.spliceFdIn] = optlen; // optlen
  w[SQE_W.addrLo] = level; // level
}

/** io_uring_prep_cmd_getsockname (SOCKET_URING_OP_GETSOCKNAME): getsockname (or getpeername when `peer` is 1). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepCmdGetsockname(sqe: Sqe, fd: number, sockaddr: Addressable, sockaddrLen: Addressable, peer = 0): void {
  checkRoom(sockaddrLen, 4, "prepCmdGetsockname", "sockaddrLen");
  checkAcceptAddr(sockaddr, sockaddrLen, "prepCmdGetsockname");
  const w = sqe.u32;
  uringCmd(sqe, Op.URING_CMD, SocketUringOp.GETSOCKNAME, fd);
  putAddr(w, SQE_W.addrLo, sockaddr);
  putAddr(w, SQE_W.addr3Lo, sockaddrLen);
  w[SQE_W.spliceFdIn] = peer;
}

/** io_uring_prep_cmd_discard (6.12): discard `nbytes` at `offset` of block device `fd`. */
export function prepCmdDiscard(sqe: Sqe, fd: number, offset: number | bigint, nbytes: number | bigint): void {
  const w = sqe.u32;
  uringCmd(sqe, Op.URING_CMD, BLOCK_URING_CMD_DISCARD, fd);
  setU64(w, SQE_W.addrLo, offset);
  setU64(w, SQE_W.addr3Lo, nbytes);
}

/** io_uring_prep_cmd_zone_reset_all: reset every zone of zoned block device `fd`. */
export function prepCmdZoneResetAll(sqe: Sqe, fd: number): void {
  uringCmd(sqe, Op.URING_CMD, BLOCK_URING_CMD_ZONE_RESET_ALL, fd);
}
