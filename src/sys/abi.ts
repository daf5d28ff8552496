/**
 * The kernel ABI as data: byte offsets and sizes of the structs shared with
 * io_uring (include/uapi/linux/io_uring.h). Declared once; test/ring-abi.test.ts
 * checks them against the C compiler's offsetof/sizeof from the shim, and the
 * structs newer than the installed header against values derived by hand.
 *
 * The SQE is written through a Uint32Array, so each field also has a u32 word
 * index (`SQE_W_*`) = byte offset / 4. Sub-word fields (flags, ioprio,
 * buf_index, personality) share a word with a neighbour and are composed.
 */

/** struct io_uring_sqe: 64 bytes (128 with IORING_SETUP_SQE128). */
export const SQE = {
  size: 64,
  /** __u8 opcode: type of operation for this sqe */
  opcode: 0,
  /** __u8 flags: IOSQE_ flags */
  flags: 1,
  /** __u16 ioprio: ioprio for the request (also accept/recv/send/poll flags) */
  ioprio: 2,
  /** __s32 fd: file descriptor to do IO on */
  fd: 4,
  /** __u64 off / addr2 / cmd_op: offset into file */
  off: 8,
  /** __u64 addr / splice_off_in / level+optname: pointer to buffer or iovecs */
  addr: 16,
  /** __u32 len: buffer size or number of iovecs */
  len: 24,
  /** __u32 op-specific flags (rw_flags, fsync_flags, poll32_events, msg_flags, ...) */
  opFlags: 28,
  /** __u64 user_data: passed back in the CQE */
  userData: 32,
  /** __u16 buf_index / buf_group */
  bufIndex: 40,
  /** __u16 personality */
  personality: 42,
  /** __s32 splice_fd_in / __u32 file_index / optlen / addr_len(u16) */
  spliceFdIn: 44,
  /** __u64 addr3 / attr_ptr / optval; start of the 80-byte cmd area for URING_CMD (at 48) */
  addr3: 48,
  /** __u64 __pad2 / attr_type_mask */
  pad2: 56,
  /** cmd[]: URING_CMD payload starts here (16 bytes in a 64-byte SQE, 80 in a 128-byte one) */
  cmd: 48,
} as const;

/** u32 word indexes into an SQE (byte offset / 4). */
export const SQE_W = {
  /** opcode (byte 0) | flags (byte 1) << 8 | ioprio (bytes 2-3) << 16 */
  head: 0,
  fd: 1,
  offLo: 2,
  offHi: 3,
  addrLo: 4,
  addrHi: 5,
  len: 6,
  opFlags: 7,
  userDataLo: 8,
  userDataHi: 9,
  /** buf_index (bytes 40-41) | personality (bytes 42-43) << 16 */
  bufIndex: 10,
  spliceFdIn: 11,
  addr3Lo: 12,
  addr3Hi: 13,
  pad2Lo: 14,
  pad2Hi: 15,
} as const;

/** struct io_uring_cqe: 16 bytes (32 with IORING_SETUP_CQE32). */
export const CQE = {
  size: 16,
  /** __u64 user_data: sqe->user_data value passed back */
  userData: 0,
  /** __s32 res: result code for this event */
  res: 8,
  /** __u32 flags: IORING_CQE_F_* */
  flags: 12,
  /** __u64 big_cqe[2]: extra 16 bytes with CQE32 */
  bigCqe: 16,
} as const;

/** struct io_sqring_offsets (40 bytes), inside io_uring_params at 40. */
export const SQRING_OFFSETS = {
  size: 40,
  head: 0,
  tail: 4,
  ringMask: 8,
  ringEntries: 12,
  flags: 16,
  dropped: 20,
  array: 24,
  resv1: 28,
  /** __u64 user_addr: with IORING_SETUP_NO_MMAP, the SQE memory */
  userAddr: 32,
} as const;

/** struct io_cqring_offsets (40 bytes), inside io_uring_params at 80. */
export const CQRING_OFFSETS = {
  size: 40,
  head: 0,
  tail: 4,
  ringMask: 8,
  ringEntries: 12,
  overflow: 16,
  cqes: 20,
  flags: 24,
  resv1: 28,
  /** __u64 user_addr: with IORING_SETUP_NO_MMAP, the SQ+CQ ring memory */
  userAddr: 32,
} as const;

/** struct io_uring_params: 120 bytes, passed to io_uring_setup and filled in by it. */
export const PARAMS = {
  size: 120,
  sqEntries: 0,
  cqEntries: 4,
  flags: 8,
  sqThreadCpu: 12,
  sqThreadIdle: 16,
  features: 20,
  wqFd: 24,
  resv: 28,
  sqOff: 40,
  cqOff: 80,
} as const;

/** struct io_uring_probe header (16 bytes) followed by io_uring_probe_op[ops_len] (8 bytes each). */
export const PROBE = {
  size: 16,
  lastOp: 0,
  opsLen: 1,
  opSize: 8,
  /** io_uring_probe_op.op */
  opOp: 0,
  /** io_uring_probe_op.flags (IO_URING_OP_SUPPORTED) */
  opFlags: 2,
} as const;

/** struct io_uring_rsrc_register: 32 bytes (REGISTER_FILES2 / BUFFERS2). */
export const RSRC_REGISTER = { size: 32, nr: 0, flags: 4, resv2: 8, data: 16, tags: 24 } as const;

/** struct io_uring_rsrc_update2: 32 bytes (FILES_UPDATE2 / BUFFERS_UPDATE). */
export const RSRC_UPDATE2 = { size: 32, offset: 0, resv: 4, data: 8, tags: 16, nr: 24, resv2: 28 } as const;

/** struct io_uring_rsrc_update: 16 bytes (FILES_UPDATE, RING_FDS). */
export const RSRC_UPDATE = { size: 16, offset: 0, resv: 4, data: 8 } as const;

/** struct io_uring_getevents_arg: 24 bytes (IORING_ENTER_EXT_ARG). */
export const GETEVENTS_ARG = { size: 24, sigmask: 0, sigmaskSz: 8, minWaitUsec: 12, ts: 16 } as const;

/** struct __kernel_timespec: 16 bytes. */
export const TIMESPEC = { size: 16, sec: 0, nsec: 8 } as const;

/** struct iovec: 16 bytes. */
export const IOVEC = { size: 16, base: 0, len: 8 } as const;

/** struct io_uring_buf (16 bytes): one entry of a provided-buffer ring; the ring tail overlays bufs[0].resv at 14. */
export const BUF = { size: 16, addr: 0, len: 8, bid: 12, resv: 14 } as const;

/** struct io_uring_buf_reg: 40 bytes (REGISTER_PBUF_RING). */
export const BUF_REG = { size: 40, ringAddr: 0, ringEntries: 8, bgid: 12, flags: 14, minLeft: 16 } as const;

/** struct io_uring_restriction: 16 bytes. */
export const RESTRICTION = { size: 16, opcode: 0, arg: 2 } as const;

/** struct io_uring_sync_cancel_reg: 64 bytes. */
export const SYNC_CANCEL_REG = { size: 64, addr: 0, fd: 8, flags: 12, timeout: 16, opcode: 32 } as const;

/** struct io_uring_file_index_range: 16 bytes. */
export const FILE_INDEX_RANGE = { size: 16, off: 0, len: 4 } as const;

/**
 * struct io_uring_buf_status: 40 bytes, argument for IORING_REGISTER_PBUF_STATUS (6.8).
 * - bufGroup: `__u32 buf_group`, input
 * - head: `__u32 head`, output
 * - resv: `__u32 resv[8]`
 */
export const BUF_STATUS = { size: 40, bufGroup: 0, head: 4, resv: 8 } as const;

/**
 * struct io_uring_clone_buffers: 32 bytes, argument for IORING_REGISTER_CLONE_BUFFERS
 * (6.12; src_off and dst_off honoured from 6.13).
 * - srcFd: `__u32 src_fd`, the source ring's fd (a registered ring index with IORING_REGISTER_SRC_REGISTERED)
 * - flags: `__u32 flags`, IORING_REGISTER_SRC_REGISTERED / IORING_REGISTER_DST_REPLACE
 * - srcOff, dstOff, nr: `__u32 src_off, dst_off, nr`, the slot range copied
 * - pad: `__u32 pad[3]`
 */
export const CLONE_BUFFERS = { size: 32, srcFd: 0, flags: 4, srcOff: 8, dstOff: 12, nr: 16, pad: 20 } as const;

/**
 * struct io_uring_clock_register: 16 bytes, argument for IORING_REGISTER_CLOCK (6.12).
 * - clockid: `__u32 clockid`, CLOCK_MONOTONIC or CLOCK_BOOTTIME
 * - resv: `__u32 __resv[3]`
 */
export const CLOCK_REGISTER = { size: 16, clockid: 0, resv: 4 } as const;

/**
 * struct io_uring_napi: 16 bytes, argument for IORING_(UN)REGISTER_NAPI (6.9).
 * - busyPollTo: `__u32 busy_poll_to`
 * - preferBusyPoll: `__u8 prefer_busy_poll`
 * - opcode: `__u8 opcode`, a io_uring_napi_op value (6.13)
 * - pad: `__u8 pad[2]`
 * - opParam: `__u32 op_param` (6.13): for IO_URING_NAPI_REGISTER_OP a
 *   io_uring_napi_tracking_strategy value, for IO_URING_NAPI_STATIC_ADD_ID /
 *   STATIC_DEL_ID the napi id to add/del from napi_list
 * - resv: `__u32 resv`
 *
 * 6.9 declared the tail after prefer_busy_poll as `__u8 pad[3]; __u64 resv`;
 * 6.13 (static tracking) carved opcode and op_param out of it, and zero there
 * is the 6.9 behaviour. The copy of the header liburing ships still shows the
 * 6.9 tail.
 */
export const NAPI = { size: 16, busyPollTo: 0, preferBusyPoll: 4, opcode: 5, pad: 6, opParam: 8, resv: 12 } as const;

/** struct io_uring_recvmsg_out: 16 bytes, at the head of each multishot recvmsg buffer. */
export const RECVMSG_OUT = { size: 16, namelen: 0, controllen: 4, payloadlen: 8, flags: 12 } as const;

/** Size of the kernel's sigset as io_uring_enter wants it (_NSIG / 8). */
export const KERNEL_SIGSET_SIZE = 8;
