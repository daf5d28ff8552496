/**
 * Opcodes and flag families of the io_uring UAPI, declared once as `as const`
 * objects (include/uapi/linux/io_uring.h, synced to kernel 6.19). Grouped by
 * the SQE or syscall field they belong to.
 */

/** IORING_OP_*: sqe->opcode. The comment gives the kernel that added each. */
export const Op = {
  NOP: 0, // 5.1
  READV: 1, // 5.1
  WRITEV: 2, // 5.1
  FSYNC: 3, // 5.1
  READ_FIXED: 4, // 5.1
  WRITE_FIXED: 5, // 5.1
  POLL_ADD: 6, // 5.1
  POLL_REMOVE: 7, // 5.1
  SYNC_FILE_RANGE: 8, // 5.2
  SENDMSG: 9, // 5.3
  RECVMSG: 10, // 5.3
  TIMEOUT: 11, // 5.4
  TIMEOUT_REMOVE: 12, // 5.5
  ACCEPT: 13, // 5.5
  ASYNC_CANCEL: 14, // 5.5
  LINK_TIMEOUT: 15, // 5.5
  CONNECT: 16, // 5.5
  FALLOCATE: 17, // 5.6
  OPENAT: 18, // 5.6
  CLOSE: 19, // 5.6
  FILES_UPDATE: 20, // 5.6
  STATX: 21, // 5.6
  READ: 22, // 5.6
  WRITE: 23, // 5.6
  FADVISE: 24, // 5.6
  MADVISE: 25, // 5.6
  SEND: 26, // 5.6
  RECV: 27, // 5.6
  OPENAT2: 28, // 5.6
  EPOLL_CTL: 29, // 5.6
  SPLICE: 30, // 5.7
  PROVIDE_BUFFERS: 31, // 5.7
  REMOVE_BUFFERS: 32, // 5.7
  TEE: 33, // 5.8
  SHUTDOWN: 34, // 5.11
  RENAMEAT: 35, // 5.11
  UNLINKAT: 36, // 5.11
  MKDIRAT: 37, // 5.15
  SYMLINKAT: 38, // 5.15
  LINKAT: 39, // 5.15
  MSG_RING: 40, // 5.18
  FSETXATTR: 41, // 5.19
  SETXATTR: 42, // 5.19
  FGETXATTR: 43, // 5.19
  GETXATTR: 44, // 5.19
  SOCKET: 45, // 5.19
  URING_CMD: 46, // 5.19
  SEND_ZC: 47, // 6.0
  SENDMSG_ZC: 48, // 6.1
  READ_MULTISHOT: 49, // 6.7
  WAITID: 50, // 6.7
  FUTEX_WAIT: 51, // 6.7
  FUTEX_WAKE: 52, // 6.7
  FUTEX_WAITV: 53, // 6.7
  FIXED_FD_INSTALL: 54, // 6.8
  FTRUNCATE: 55, // 6.9
  BIND: 56, // 6.11
  LISTEN: 57, // 6.11
  RECV_ZC: 58, // 6.15
  EPOLL_WAIT: 59, // 6.15
  READV_FIXED: 60, // 6.15
  WRITEV_FIXED: 61, // 6.15
  PIPE: 62, // 6.16
  NOP128: 63, // 6.19
  URING_CMD128: 64, // 6.19
} as const;

/** An opcode number. */
export type OpCode = (typeof Op)[keyof typeof Op];

/** Opcode number → name, for messages and the probe table. */
export const OP_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, code] of Object.entries(Op)) names[code] = name;
  return names;
})();

/** Kernel version that added each opcode (for doctor output and skip messages). */
export const OP_SINCE: Readonly<Record<keyof typeof Op, string>> = {
  NOP: "5.1",
  READV: "5.1",
  WRITEV: "5.1",
  FSYNC: "5.1",
  READ_FIXED: "5.1",
  WRITE_FIXED: "5.1",
  POLL_ADD: "5.1",
  POLL_REMOVE: "5.1",
  SYNC_FILE_RANGE: "5.2",
  SENDMSG: "5.3",
  RECVMSG: "5.3",
  TIMEOUT: "5.4",
  TIMEOUT_REMOVE: "5.5",
  ACCEPT: "5.5",
  ASYNC_CANCEL: "5.5",
  LINK_TIMEOUT: "5.5",
  CONNECT: "5.5",
  FALLOCATE: "5.6",
  OPENAT: "5.6",
  CLOSE: "5.6",
  FILES_UPDATE: "5.6",
  STATX: "5.6",
  READ: "5.6",
  WRITE: "5.6",
  FADVISE: "5.6",
  MADVISE: "5.6",
  SEND: "5.6",
  RECV: "5.6",
  OPENAT2: "5.6",
  EPOLL_CTL: "5.6",
  SPLICE: "5.7",
  PROVIDE_BUFFERS: "5.7",
  REMOVE_BUFFERS: "5.7",
  TEE: "5.8",
  SHUTDOWN: "5.11",
  RENAMEAT: "5.11",
  UNLINKAT: "5.11",
  MKDIRAT: "5.15",
  SYMLINKAT: "5.15",
  LINKAT: "5.15",
  MSG_RING: "5.18",
  FSETXATTR: "5.19",
  SETXATTR: "5.19",
  FGETXATTR: "5.19",
  GETXATTR: "5.19",
  SOCKET: "5.19",
  URING_CMD: "5.19",
  SEND_ZC: "6.0",
  SENDMSG_ZC: "6.1",
  READ_MULTISHOT: "6.7",
  WAITID: "6.7",
  FUTEX_WAIT: "6.7",
  FUTEX_WAKE: "6.7",
  FUTEX_WAITV: "6.7",
  FIXED_FD_INSTALL: "6.8",
  FTRUNCATE: "6.9",
  BIND: "6.11",
  LISTEN: "6.11",
  RECV_ZC: "6.15",
  EPOLL_WAIT: "6.15",
  READV_FIXED: "6.15",
  WRITEV_FIXED: "6.15",
  PIPE: "6.16",
  NOP128: "6.19",
  URING_CMD128: "6.19",
};

/** IOSQE_*: sqe->flags. */
export const SqeFlags = {
  /** use a registered (fixed) file: sqe->fd is an index into the file table */
  FIXED_FILE: 1 << 0,
  /** issue after all in-flight requests have completed */
  IO_DRAIN: 1 << 1,
  /** link the next SQE: it starts only after this one succeeds */
  IO_LINK: 1 << 2,
  /** like IO_LINK, but the chain continues even if this one fails */
  IO_HARDLINK: 1 << 3,
  /** always go async (punt to io-wq) */
  ASYNC: 1 << 4,
  /** select a buffer from the group in sqe->buf_group */
  BUFFER_SELECT: 1 << 5,
  /** post no CQE if the request succeeds */
  CQE_SKIP_SUCCESS: 1 << 6,
} as const;

/** IORING_SETUP_*: io_uring_params.flags. */
export const SetupFlags = {
  /** io_context is polled (busy-wait for completions; O_DIRECT on pollable devices) */
  IOPOLL: 1 << 0,
  /** a kernel thread polls the SQ */
  SQPOLL: 1 << 1,
  /** sq_thread_cpu is valid: pin the SQPOLL thread */
  SQ_AFF: 1 << 2,
  /** cq_entries is set by the application */
  CQSIZE: 1 << 3,
  /** clamp SQ/CQ sizes to the maximum instead of failing */
  CLAMP: 1 << 4,
  /** share the io-wq of the ring in wq_fd */
  ATTACH_WQ: 1 << 5,
  /** start disabled; enable with IORING_REGISTER_ENABLE_RINGS */
  R_DISABLED: 1 << 6,
  /** keep submitting a batch after an SQE fails to prepare */
  SUBMIT_ALL: 1 << 7,
  /** run task work cooperatively, without IPIs */
  COOP_TASKRUN: 1 << 8,
  /** set IORING_SQ_TASKRUN when task work is pending */
  TASKRUN_FLAG: 1 << 9,
  /** 128-byte SQEs */
  SQE128: 1 << 10,
  /** 32-byte CQEs */
  CQE32: 1 << 11,
  /** only one task submits */
  SINGLE_ISSUER: 1 << 12,
  /** run task work only when the application waits for events */
  DEFER_TASKRUN: 1 << 13,
  /** the application provides the ring memory */
  NO_MMAP: 1 << 14,
  /** register the ring fd in itself and return the index instead of an fd */
  REGISTERED_FD_ONLY: 1 << 15,
  /** no SQ index array: SQEs are consumed in ring order */
  NO_SQARRAY: 1 << 16,
  /** hybrid poll for IOPOLL */
  HYBRID_IOPOLL: 1 << 17,
  /** both 16- and 32-byte CQEs (6.18) */
  CQE_MIXED: 1 << 18,
  /** both 64- and 128-byte SQEs (6.19) */
  SQE_MIXED: 1 << 19,
  /** SQEs always fetched from index 0 (7.0) */
  SQ_REWIND: 1 << 20,
} as const;

/** IORING_ENTER_*: io_uring_enter flags. */
export const EnterFlags = {
  /** wait for min_complete completions (and flush the overflow list) */
  GETEVENTS: 1 << 0,
  /** wake the SQPOLL thread */
  SQ_WAKEUP: 1 << 1,
  /** wait for SQ space with SQPOLL */
  SQ_WAIT: 1 << 2,
  /** arg is an io_uring_getevents_arg (timeout, sigmask, min wait) */
  EXT_ARG: 1 << 3,
  /** fd is an index of a registered ring fd */
  REGISTERED_RING: 1 << 4,
  /** the EXT_ARG timeout is absolute */
  ABS_TIMER: 1 << 5,
  /** arg is an offset into a registered wait region */
  EXT_ARG_REG: 1 << 6,
  /** do not account the wait as iowait */
  NO_IOWAIT: 1 << 7,
} as const;

/** IORING_SQ_*: flags the kernel sets in the SQ ring. */
export const SqRingFlags = {
  /** the SQPOLL thread sleeps: enter with SQ_WAKEUP */
  NEED_WAKEUP: 1 << 0,
  /** the CQ overflowed: enter with GETEVENTS to flush */
  CQ_OVERFLOW: 1 << 1,
  /** task work is pending: enter to run it */
  TASKRUN: 1 << 2,
} as const;

/** IORING_CQ_*: flags the application sets in the CQ ring. */
export const CqRingFlags = {
  /** disable eventfd notifications */
  EVENTFD_DISABLED: 1 << 0,
} as const;

/** IORING_FEAT_*: io_uring_params.features. */
export const Features = {
  SINGLE_MMAP: 1 << 0,
  NODROP: 1 << 1,
  SUBMIT_STABLE: 1 << 2,
  RW_CUR_POS: 1 << 3,
  CUR_PERSONALITY: 1 << 4,
  FAST_POLL: 1 << 5,
  POLL_32BITS: 1 << 6,
  SQPOLL_NONFIXED: 1 << 7,
  EXT_ARG: 1 << 8,
  NATIVE_WORKERS: 1 << 9,
  RSRC_TAGS: 1 << 10,
  CQE_SKIP: 1 << 11,
  LINKED_FILE: 1 << 12,
  REG_REG_RING: 1 << 13,
  RECVSEND_BUNDLE: 1 << 14,
  MIN_TIMEOUT: 1 << 15,
  RW_ATTR: 1 << 16,
  NO_IOWAIT: 1 << 17,
} as const;

/** IORING_CQE_F_*: cqe->flags. */
export const CqeFlags = {
  /** the upper 16 bits hold the buffer ID */
  BUFFER: 1 << 0,
  /** the request will post more CQEs (multishot) */
  MORE: 1 << 1,
  /** the socket has more data after this recv */
  SOCK_NONEMPTY: 1 << 2,
  /** a zero-copy send's notification: the buffer may be reused */
  NOTIF: 1 << 3,
  /** incremental buffer ring: the buffer will be used for more completions */
  BUF_MORE: 1 << 4,
  /** padding CQE in a mixed-size CQ: ignore it */
  SKIP: 1 << 5,
  /** a 32-byte CQE in a CQE_MIXED ring */
  F_32: 1 << 15,
} as const;

/** cqe->flags >> CQE_BUFFER_SHIFT is the buffer ID. */
export const CQE_BUFFER_SHIFT = 16;

/** IORING_REGISTER_*: io_uring_register opcodes. */
export const RegisterOp = {
  REGISTER_BUFFERS: 0,
  UNREGISTER_BUFFERS: 1,
  REGISTER_FILES: 2,
  UNREGISTER_FILES: 3,
  REGISTER_EVENTFD: 4,
  UNREGISTER_EVENTFD: 5,
  REGISTER_FILES_UPDATE: 6,
  REGISTER_EVENTFD_ASYNC: 7,
  REGISTER_PROBE: 8,
  REGISTER_PERSONALITY: 9,
  UNREGISTER_PERSONALITY: 10,
  REGISTER_RESTRICTIONS: 11,
  REGISTER_ENABLE_RINGS: 12,
  REGISTER_FILES2: 13,
  REGISTER_FILES_UPDATE2: 14,
  REGISTER_BUFFERS2: 15,
  REGISTER_BUFFERS_UPDATE: 16,
  REGISTER_IOWQ_AFF: 17,
  UNREGISTER_IOWQ_AFF: 18,
  REGISTER_IOWQ_MAX_WORKERS: 19,
  REGISTER_RING_FDS: 20,
  UNREGISTER_RING_FDS: 21,
  REGISTER_PBUF_RING: 22,
  UNREGISTER_PBUF_RING: 23,
  REGISTER_SYNC_CANCEL: 24,
  REGISTER_FILE_ALLOC_RANGE: 25,
  REGISTER_PBUF_STATUS: 26,
  REGISTER_NAPI: 27,
  UNREGISTER_NAPI: 28,
  REGISTER_CLOCK: 29,
  REGISTER_CLONE_BUFFERS: 30,
  REGISTER_SEND_MSG_RING: 31,
  REGISTER_ZCRX_IFQ: 32,
  REGISTER_RESIZE_RINGS: 33,
  REGISTER_MEM_REGION: 34,
  REGISTER_QUERY: 35,
  REGISTER_ZCRX_CTRL: 36,
  REGISTER_BPF_FILTER: 37,
  /** OR-ed into the opcode: fd is a registered ring index */
  USE_REGISTERED_RING: 0x80000000,
} as const;

/** sqe->fsync_flags. */
export const FsyncFlags = {
  /** fdatasync semantics */
  DATASYNC: 1 << 0,
} as const;

/** RWF_*: sqe->rw_flags of READ/WRITE (and the `flags` of prepReadv2/prepWritev2), as preadv2/pwritev2 take them (linux/fs.h). */
export const RwFlags = {
  /** high priority: poll for the completion where the device allows (IOPOLL) */
  HIPRI: 1 << 0,
  /** per-write O_DSYNC: the data, and the metadata needed to read it, are durable on completion */
  DSYNC: 1 << 1,
  /** per-write O_SYNC: the data and all metadata are durable on completion */
  SYNC: 1 << 2,
  /** fail with EAGAIN instead of blocking (data not cached, a lock taken) */
  NOWAIT: 1 << 3,
  /** per-write O_APPEND: write at the end of the file, whatever the offset */
  APPEND: 1 << 4,
  /** per-write: ignore the file's O_APPEND and write at the offset (6.9) */
  NOAPPEND: 1 << 5,
  /** the write is atomic: all of it or none is persisted (6.11) */
  ATOMIC: 1 << 6,
  /** buffered but uncached: drop the page-cache pages once the I/O is done (6.14) */
  DONTCACHE: 1 << 7,
} as const;

/** sync_file_range(2) flags: sqe->sync_range_flags of SYNC_FILE_RANGE (prepSyncFileRange's `flags`). */
export const SyncFileRangeFlags = {
  /** first wait for writeback already in progress on the range */
  WAIT_BEFORE: 1 << 0,
  /** start writeback of the range's dirty pages */
  WRITE: 1 << 1,
  /** then wait for that writeback to finish */
  WAIT_AFTER: 1 << 2,
  /** all three (the kernel's SYNC_FILE_RANGE_WRITE_AND_WAIT): the range's data is on the device, with no metadata and no cache flush */
  WRITE_AND_WAIT: (1 << 0) | (1 << 1) | (1 << 2),
} as const;

/** sqe->timeout_flags. */
export const TimeoutFlags = {
  ABS: 1 << 0,
  UPDATE: 1 << 1,
  BOOTTIME: 1 << 2,
  REALTIME: 1 << 3,
  LINK_TIMEOUT_UPDATE: 1 << 4,
  ETIME_SUCCESS: 1 << 5,
  MULTISHOT: 1 << 6,
  IMMEDIATE_ARG: 1 << 7,
} as const;

/** POLL_ADD command flags (stored in sqe->len). */
export const PollFlags = {
  ADD_MULTI: 1 << 0,
  UPDATE_EVENTS: 1 << 1,
  UPDATE_USER_DATA: 1 << 2,
  ADD_LEVEL: 1 << 3,
} as const;

/** sqe->cancel_flags for ASYNC_CANCEL and sync cancel. */
export const CancelFlags = {
  ALL: 1 << 0,
  FD: 1 << 1,
  ANY: 1 << 2,
  FD_FIXED: 1 << 3,
  USERDATA: 1 << 4,
  OP: 1 << 5,
} as const;

/** send/recv flags in sqe->ioprio. */
export const RecvSendFlags = {
  POLL_FIRST: 1 << 0,
  RECV_MULTISHOT: 1 << 1,
  FIXED_BUF: 1 << 2,
  SEND_ZC_REPORT_USAGE: 1 << 3,
  BUNDLE: 1 << 4,
  SEND_VECTORIZED: 1 << 5,
} as const;

/** cqe->res bit of a SEND_ZC notification with REPORT_USAGE: the data was copied. */
export const NOTIF_USAGE_ZC_COPIED = 0x80000000;

/** accept flags in sqe->ioprio. */
export const AcceptFlags = {
  MULTISHOT: 1 << 0,
  DONTWAIT: 1 << 1,
  POLL_FIRST: 1 << 2,
} as const;

/** MSG_RING commands (sqe->addr). */
export const MsgRingCmd = {
  DATA: 0,
  SEND_FD: 1,
} as const;

/** sqe->msg_ring_flags. */
export const MsgRingFlags = {
  CQE_SKIP: 1 << 0,
  FLAGS_PASS: 1 << 1,
} as const;

/** sqe->install_fd_flags. */
export const FixedFdInstallFlags = {
  NO_CLOEXEC: 1 << 0,
} as const;

/** sqe->nop_flags. */
export const NopFlags = {
  INJECT_RESULT: 1 << 0,
  CQE32: 1 << 5,
} as const;

/** sqe->uring_cmd_flags. */
export const UringCmdFlags = {
  FIXED: 1 << 0,
} as const;

/** sqe->splice_flags extension: splice_fd_in is a fixed file. */
export const SPLICE_F_FD_IN_FIXED = 0x80000000;

/** sqe->file_index value asking the kernel to allocate a direct descriptor. */
export const FILE_INDEX_ALLOC = 0xffffffff;

/** fd value in a files update that leaves the slot unchanged. */
export const REGISTER_FILES_SKIP = -2;

/** IORING_RSRC_REGISTER_SPARSE: register an empty table of `nr` slots. */
export const RSRC_REGISTER_SPARSE = 1 << 0;

/** Provided-buffer ring registration flags. */
export const PbufRingFlags = {
  /** the kernel allocates the ring; mmap it at PBUF_RING offset */
  MMAP: 1,
  /** incremental consumption (CQE_F_BUF_MORE) */
  INC: 2,
} as const;

/** io_uring_restriction.opcode. */
export const RestrictionOp = {
  REGISTER_OP: 0,
  SQE_OP: 1,
  SQE_FLAGS_ALLOWED: 2,
  SQE_FLAGS_REQUIRED: 3,
} as const;

/** Socket URING_CMD sub-commands (sqe->cmd_op). */
export const SocketUringOp = {
  SIOCINQ: 0,
  SIOCOUTQ: 1,
  GETSOCKOPT: 2,
  SETSOCKOPT: 3,
  TX_TIMESTAMP: 4,
  GETSOCKNAME: 5,
} as const;

/** Magic mmap offsets. */
export const MmapOffset = {
  SQ_RING: 0,
  CQ_RING: 0x8000000,
  SQES: 0x10000000,
  PBUF_RING: 0x80000000,
  PBUF_SHIFT: 16,
} as const;

/** IO_URING_OP_SUPPORTED in io_uring_probe_op.flags. */
export const PROBE_OP_SUPPORTED = 1 << 0;

/** mmap(2) constants (Linux, x86-64 and arm64). */
export const Mman = {
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_ANONYMOUS: 0x20,
  MAP_POPULATE: 0x8000,
  MAP_HUGETLB: 0x40000,
  /** madvise: back this range with transparent huge pages. */
  MADV_HUGEPAGE: 14,
} as const;

/** Resource numbers for getrlimit/setrlimit (Linux). */
export const Rlimit = {
  NOFILE: 7,
  MEMLOCK: 8,
} as const;
