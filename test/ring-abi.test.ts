/** The ABI declared in src/sys/abi.ts matches the C compiler's view of <linux/io_uring.h>. */
import { expect, test } from "bun:test";
import { CQE, CQRING_OFFSETS, PARAMS, SQE, SQRING_OFFSETS, PROBE, RSRC_REGISTER, RSRC_UPDATE2, RESTRICTION, BUF, BUF_REG, GETEVENTS_ARG, SYNC_CANCEL_REG, FILE_INDEX_RANGE, RECVMSG_OUT } from "../src/sys/abi.ts";
import { shimAbi, shimBuild } from "../src/sys/ffi.ts";

const abi = shimAbi();

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

test(`the shim (${shimBuild}) describes every checked field`, () => {
  const missing = expected.map(([k]) => k).filter((k) => !abi.has(k));
  expect(missing).toEqual([]);
});

test.each(expected)("%s = %d", (name, value) => {
  expect(abi.get(name)).toBe(value);
});
