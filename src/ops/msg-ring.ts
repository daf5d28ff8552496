/**
 * MSG_RING preparers (5.18): post a CQE into another ring (`fd` is that
 * ring's fd, or a registered ring index with IOSQE_FIXED_FILE), or pass it a
 * fixed file.
 */
import { SQE_W } from "../sys/abi.ts";
import { MsgRingCmd, MsgRingFlags, Op } from "../sys/constants.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";
import { directFileIndex, rwWords } from "./fields.ts";

/** io_uring_prep_msg_ring: the target ring gets a CQE with res = `len`, user_data = `data`. */
export function prepMsgRing(sqe: Sqe, fd: number, len: number, data: number | bigint, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.MSG_RING, fd, null, len, data);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_msg_ring_cqe_flags (6.3): like prepMsgRing, and the target CQE's flags are `cqeFlags`. */
export function prepMsgRingCqeFlags(sqe: Sqe, fd: number, len: number, data: number | bigint, flags: number, cqeFlags: number): void {
  const w = sqe.u32;
  rwWords(w, Op.MSG_RING, fd, null, len, data);
  w[SQE_W.opFlags] = MsgRingFlags.FLAGS_PASS | flags;
  w[SQE_W.spliceFdIn] = cqeFlags;
}

/**
 * io_uring_prep_msg_ring_fd (6.0): install this ring's fixed file `sourceFd`
 * into the target ring's fixed-file slot `targetFd` (FILE_INDEX_ALLOC: any free
 * slot); the target CQE carries user_data `data`.
 */
export function prepMsgRingFd(sqe: Sqe, fd: number, sourceFd: number, targetFd: number, data: number | bigint, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.MSG_RING, fd, MsgRingCmd.SEND_FD, 0, data);
  setU64(w, SQE_W.addr3Lo, sourceFd | 0); // an int stored in a __u64: sign-extends
  w[SQE_W.spliceFdIn] = directFileIndex(targetFd);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_msg_ring_fd_alloc: prepMsgRingFd into a freely allocated slot of the target ring. */
export function prepMsgRingFdAlloc(sqe: Sqe, fd: number, sourceFd: number, data: number | bigint, flags = 0): void {
  prepMsgRingFd(sqe, fd, sourceFd, 0xffffffff, data, flags);
}
