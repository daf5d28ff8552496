/** The ABI declared in src/sys/abi.ts matches the C compiler's view of <linux/io_uring.h>. */
import { describe, expect, test } from "bun:test";
import {
  CQE,
  CQRING_OFFSETS,
  PARAMS,
  SQE,
  SQRING_OFFSETS,
  PROBE,
  RSRC_REGISTER,
  RSRC_UPDATE2,
  RESTRICTION,
  BUF,
  BUF_REG,
  GETEVENTS_ARG,
  SYNC_CANCEL_REG,
  FILE_INDEX_RANGE,
  RECVMSG_OUT,
  BUF_STATUS,
  CLONE_BUFFERS,
  CLOCK_REGISTER,
  NAPI,
} from "../src/sys/abi.ts";
import { shimAbi, shimBuild } from "../src/sys/ffi.ts";

const abi = shimAbi();
/**
 * A shim compiled where <linux/io_uring.h> is absent (a slim image, TinyCC) has no
 * compiler view of the ABI to compare with: skip, saying so, rather than fail.
 */
const noHeader = abi.size === 0;
if (noHeader) console.warn(`ring-abi: the shim (${shimBuild}) was compiled without <linux/io_uring.h>; offsetof checks skipped`);

const expected: Array<[string, number]> = [
  ["io_uring_sqe", SQE.size],
  ["io_uring_sqe.opcode", SQE.opcode],
  ["io_uring_sqe.flags", SQE.flags],
  ["io_uring_sqe.ioprio", SQE.ioprio],
  ["io_uring_sqe.fd", SQE.fd],
  ["io_uring_sqe.off", SQE.off],
  ["io_uring_sqe.addr2", SQE.off],
  ["io_uring_sqe.addr", SQE.addr],
  ["io_uring_sqe.splice_off_in", SQE.addr],
  ["io_uring_sqe.len", SQE.len],
  ["io_uring_sqe.rw_flags", SQE.opFlags],
  ["io_uring_sqe.user_data", SQE.userData],
  ["io_uring_sqe.buf_index", SQE.bufIndex],
  ["io_uring_sqe.buf_group", SQE.bufIndex],
  ["io_uring_sqe.personality", SQE.personality],
  ["io_uring_sqe.splice_fd_in", SQE.spliceFdIn],
  ["io_uring_sqe.file_index", SQE.spliceFdIn],
  ["io_uring_sqe.addr3", SQE.addr3],
  ["io_uring_cqe", CQE.size],
  ["io_uring_cqe.user_data", CQE.userData],
  ["io_uring_cqe.res", CQE.res],
  ["io_uring_cqe.flags", CQE.flags],
  ["io_uring_params", PARAMS.size],
  ["io_uring_params.sq_entries", PARAMS.sqEntries],
  ["io_uring_params.cq_entries", PARAMS.cqEntries],
  ["io_uring_params.flags", PARAMS.flags],
  ["io_uring_params.sq_thread_cpu", PARAMS.sqThreadCpu],
  ["io_uring_params.sq_thread_idle", PARAMS.sqThreadIdle],
  ["io_uring_params.features", PARAMS.features],
  ["io_uring_params.wq_fd", PARAMS.wqFd],
  ["io_uring_params.sq_off", PARAMS.sqOff],
  ["io_uring_params.cq_off", PARAMS.cqOff],
  ["io_sqring_offsets", SQRING_OFFSETS.size],
  ["io_sqring_offsets.head", SQRING_OFFSETS.head],
  ["io_sqring_offsets.tail", SQRING_OFFSETS.tail],
  ["io_sqring_offsets.ring_mask", SQRING_OFFSETS.ringMask],
  ["io_sqring_offsets.ring_entries", SQRING_OFFSETS.ringEntries],
  ["io_sqring_offsets.flags", SQRING_OFFSETS.flags],
  ["io_sqring_offsets.dropped", SQRING_OFFSETS.dropped],
  ["io_sqring_offsets.array", SQRING_OFFSETS.array],
  ["io_cqring_offsets", CQRING_OFFSETS.size],
  ["io_cqring_offsets.head", CQRING_OFFSETS.head],
  ["io_cqring_offsets.tail", CQRING_OFFSETS.tail],
  ["io_cqring_offsets.ring_mask", CQRING_OFFSETS.ringMask],
  ["io_cqring_offsets.ring_entries", CQRING_OFFSETS.ringEntries],
  ["io_cqring_offsets.overflow", CQRING_OFFSETS.overflow],
  ["io_cqring_offsets.cqes", CQRING_OFFSETS.cqes],
  ["io_cqring_offsets.flags", CQRING_OFFSETS.flags],
  ["io_uring_probe", PROBE.size],
  ["io_uring_probe_op", PROBE.opSize],
  ["io_uring_rsrc_register", RSRC_REGISTER.size],
  ["io_uring_rsrc_update2", RSRC_UPDATE2.size],
  ["io_uring_restriction", RESTRICTION.size],
  ["io_uring_buf", BUF.size],
  ["io_uring_buf_reg", BUF_REG.size],
  ["io_uring_getevents_arg", GETEVENTS_ARG.size],
  ["io_uring_sync_cancel_reg", SYNC_CANCEL_REG.size],
  ["io_uring_file_index_range", FILE_INDEX_RANGE.size],
  ["io_uring_recvmsg_out", RECVMSG_OUT.size],
];

test.skipIf(noHeader)(`the shim (${shimBuild}) describes every checked field`, () => {
  const missing = expected.map(([k]) => k).filter((k) => !abi.has(k));
  expect(missing).toEqual([]);
});

test.skipIf(noHeader).each(expected)("%s = %d", (name, value) => {
  expect(abi.get(name)).toBe(value);
});

/**
 * Structs the installed 6.1 header lacks, so the shim cannot offsetof them.
 * The values are worked out by hand from the UAPI header as liburing ships it
 * (synced to 6.19), from the C declaration each group quotes: every field is a
 * naturally aligned __u8/__u32/__u64, so there is no hidden padding. That copy
 * still has io_uring_napi's 6.9 tail; the 6.13 fields that reuse it follow the
 * kernel's own header.
 */
describe("newer than the installed header", () => {
  const handDerived: Array<[string, number, number]> = [
    // struct io_uring_buf_status { __u32 buf_group; __u32 head; __u32 resv[8]; } (6.8)
    ["io_uring_buf_status", BUF_STATUS.size, 4 + 4 + 8 * 4],
    ["io_uring_buf_status.buf_group", BUF_STATUS.bufGroup, 0],
    ["io_uring_buf_status.head", BUF_STATUS.head, 4],
    ["io_uring_buf_status.resv", BUF_STATUS.resv, 8],
    // struct io_uring_clone_buffers { __u32 src_fd, flags, src_off, dst_off, nr; __u32 pad[3]; } (6.12)
    ["io_uring_clone_buffers", CLONE_BUFFERS.size, 5 * 4 + 3 * 4],
    ["io_uring_clone_buffers.src_fd", CLONE_BUFFERS.srcFd, 0],
    ["io_uring_clone_buffers.flags", CLONE_BUFFERS.flags, 4],
    ["io_uring_clone_buffers.src_off", CLONE_BUFFERS.srcOff, 8],
    ["io_uring_clone_buffers.dst_off", CLONE_BUFFERS.dstOff, 12],
    ["io_uring_clone_buffers.nr", CLONE_BUFFERS.nr, 16],
    ["io_uring_clone_buffers.pad", CLONE_BUFFERS.pad, 20],
    // struct io_uring_clock_register { __u32 clockid; __u32 __resv[3]; } (6.12)
    ["io_uring_clock_register", CLOCK_REGISTER.size, 4 + 3 * 4],
    ["io_uring_clock_register.clockid", CLOCK_REGISTER.clockid, 0],
    ["io_uring_clock_register.__resv", CLOCK_REGISTER.resv, 4],
    // struct io_uring_napi { __u32 busy_poll_to; __u8 prefer_busy_poll; __u8 pad[3]; __u64 resv; } (6.9):
    // 4 + 1 + 3 = 8, so resv needs no padding to its 8-byte alignment.
    ["io_uring_napi", NAPI.size, 4 + 1 + 3 + 8],
    ["io_uring_napi.busy_poll_to", NAPI.busyPollTo, 0],
    ["io_uring_napi.prefer_busy_poll", NAPI.preferBusyPoll, 4],
    // 6.13 named pad[0] opcode, pad[1..2] pad[2], and split resv into __u32 op_param + __u32 resv.
    ["io_uring_napi.opcode (6.13; pad[0] in 6.9)", NAPI.opcode, 4 + 1],
    ["io_uring_napi.pad (6.13; pad[1] in 6.9)", NAPI.pad, 4 + 1 + 1],
    ["io_uring_napi.op_param (6.13; low half of resv in 6.9)", NAPI.opParam, 8],
    ["io_uring_napi.resv (6.13; high half of resv in 6.9)", NAPI.resv, 8 + 4],
  ];

  test.each(handDerived)("%s = %d", (_name, declared, derived) => {
    expect(declared).toBe(derived);
  });
});
