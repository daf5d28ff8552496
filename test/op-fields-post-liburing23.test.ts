/**
 * Preparers newer than the system liburing (2.3), checked field by field
 * against a hand-derived table. Each row names the current liburing helper it
 * mirrors (src/include/liburing.h of liburing's master branch) or, where
 * liburing has none, the kernel UAPI field layout (include/uapi/linux/io_uring.h,
 * 6.19) it follows. Every field not listed in a row must be zero.
 *
 * Also here: the helpers around the preparers (Timespec, sockaddr builders,
 * struct builders, recvmsg_out decoding, CQE predicates).
 */
import { describe, expect, test } from "bun:test";
import * as ops from "../src/ops/index.ts";
import { Cqe } from "../src/ring/cqe.ts";
import { Sqe } from "../src/ring/sqe.ts";
import {
  CqeFlags,
  FILE_INDEX_ALLOC,
  MsgRingCmd,
  MsgRingFlags,
  NOTIF_USAGE_ZC_COPIED,
  Op,
  PollFlags,
  RecvSendFlags,
  SocketUringOp,
  SqeFlags,
  TimeoutFlags,
} from "../src/sys/constants.ts";
import { addressOf } from "../src/sys/ffi.ts";

/** The SQE decoded into its kernel fields (64-bit ones as bigint). */
interface Fields {
  opcode: number;
  flags: number;
  ioprio: number;
  fd: number;
  off: bigint;
  addr: bigint;
  len: number;
  opFlags: number;
  userData: bigint;
  bufIndex: number;
  personality: number;
  fileIndex: number;
  addr3: bigint;
  pad2: bigint;
}

const ZERO: Fields = {
  opcode: 0,
  flags: 0,
  ioprio: 0,
  fd: 0,
  off: 0n,
  addr: 0n,
  len: 0,
  opFlags: 0,
  userData: 0n,
  bufIndex: 0,
  personality: 0,
  fileIndex: 0,
  addr3: 0n,
  pad2: 0n,
};

function decode(sqe: Sqe): Fields {
  const v = new DataView(sqe.u8.buffer, sqe.u8.byteOffset, 64);
  return {
    opcode: v.getUint8(0),
    flags: v.getUint8(1),
    ioprio: v.getUint16(2, true),
    fd: v.getInt32(4, true),
    off: v.getBigUint64(8, true),
    addr: v.getBigUint64(16, true),
    len: v.getUint32(24, true),
    opFlags: v.getUint32(28, true),
    userData: v.getBigUint64(32, true),
    bufIndex: v.getUint16(40, true),
    personality: v.getUint16(42, true),
    fileIndex: v.getUint32(44, true),
    addr3: v.getBigUint64(48, true),
    pad2: v.getBigUint64(56, true),
  };
}

const U64_MAX = (1n << 64n) - 1n;
const BIG_ADDR = 0xfedcba9876543210n; // a 64-bit "address" no number can hold exactly
const AT_FDCWD = -100;

interface Row {
  /** What it mirrors: a current-liburing helper, or the UAPI for ops liburing has no helper for. */
  mirrors: string;
  prep: (sqe: Sqe) => void;
  want: Partial<Fields>;
}

const ROWS: Row[] = [
  // --- read/write family ---
  {
    mirrors: "io_uring_prep_readv_fixed(sqe, 7, iov, 3, 4096, RWF_NOWAIT=8, 5)",
    prep: (s) => ops.prepReadvFixed(s, 7, 0x1000, 3, 4096, 8, 5),
    want: { opcode: Op.READV_FIXED, fd: 7, addr: 0x1000n, len: 3, off: 4096n, opFlags: 8, bufIndex: 5 },
  },
  {
    mirrors: "io_uring_prep_writev_fixed(sqe, 7, iov, 2, -1, 0, 0xffff)",
    prep: (s) => ops.prepWritevFixed(s, 7, BIG_ADDR, 2, -1, 0, 0xffff),
    want: { opcode: Op.WRITEV_FIXED, fd: 7, addr: BIG_ADDR, len: 2, off: U64_MAX, bufIndex: 0xffff },
  },
  {
    mirrors: "io_uring_prep_read_multishot(sqe, 4, 0, -1, 9): flags = IOSQE_BUFFER_SELECT, buf_group = 9",
    prep: (s) => ops.prepReadMultishot(s, 4, 0, -1, 9),
    want: { opcode: Op.READ_MULTISHOT, flags: SqeFlags.BUFFER_SELECT, fd: 4, off: U64_MAX, bufIndex: 9 },
  },
  {
    mirrors: "io_uring_prep_fsync(sqe, 3, IORING_FSYNC_DATASYNC) (prepFdatasync)",
    prep: (s) => ops.prepFdatasync(s, 3),
    want: { opcode: Op.FSYNC, fd: 3, opFlags: 1 },
  },
  // --- file system ---
  {
    mirrors: "io_uring_prep_open(sqe, path, O_CREAT|O_WRONLY, 0644) = openat(AT_FDCWD, ...)",
    prep: (s) => ops.prepOpen(s, 0x2000, 0o101, 0o644),
    want: { opcode: Op.OPENAT, fd: AT_FDCWD, addr: 0x2000n, len: 0o644, opFlags: 0o101 },
  },
  {
    mirrors: "io_uring_prep_open_direct(sqe, path, 0, 0, 4): file_index = 4 + 1",
    prep: (s) => ops.prepOpenDirect(s, 0x2000, 0, 0, 4),
    want: { opcode: Op.OPENAT, fd: AT_FDCWD, addr: 0x2000n, fileIndex: 5 },
  },
  {
    mirrors: "io_uring_prep_openat_direct(..., IORING_FILE_INDEX_ALLOC): current liburing keeps ALLOC (2.3 wrapped to 0)",
    prep: (s) => ops.prepOpenatDirect(s, 3, 0x2000, 0, 0, FILE_INDEX_ALLOC),
    want: { opcode: Op.OPENAT, fd: 3, addr: 0x2000n, fileIndex: FILE_INDEX_ALLOC },
  },
  {
    mirrors: "io_uring_prep_openat2_direct(..., IORING_FILE_INDEX_ALLOC): len = sizeof(struct open_how) = 24",
    prep: (s) => ops.prepOpenat2Direct(s, 3, 0x2000, 0x3000, FILE_INDEX_ALLOC),
    want: { opcode: Op.OPENAT2, fd: 3, addr: 0x2000n, len: 24, off: 0x3000n, fileIndex: FILE_INDEX_ALLOC },
  },
  {
    mirrors: "io_uring_prep_ftruncate(sqe, 5, 1 << 40)",
    prep: (s) => ops.prepFtruncate(s, 5, 2 ** 40),
    want: { opcode: Op.FTRUNCATE, fd: 5, off: 1n << 40n },
  },
  {
    mirrors: "io_uring_prep_fadvise64(sqe, 5, 4096, (off_t)1 << 33, POSIX_FADV_DONTNEED=4): len in addr",
    prep: (s) => ops.prepFadvise64(s, 5, 4096, 2 ** 33, 4),
    want: { opcode: Op.FADVISE, fd: 5, off: 4096n, addr: 1n << 33n, opFlags: 4 },
  },
  {
    mirrors: "io_uring_prep_madvise64(sqe, addr, (off_t)1 << 33, MADV_DONTNEED=4): length in off",
    prep: (s) => ops.prepMadvise64(s, 0x7000, 2n ** 33n, 4),
    want: { opcode: Op.MADVISE, fd: -1, addr: 0x7000n, off: 1n << 33n, opFlags: 4 },
  },
  {
    mirrors: "io_uring_prep_fixed_fd_install(sqe, 3, IORING_FIXED_FD_NO_CLOEXEC): sets IOSQE_FIXED_FILE",
    prep: (s) => ops.prepFixedFdInstall(s, 3, 1),
    want: { opcode: Op.FIXED_FD_INSTALL, flags: SqeFlags.FIXED_FILE, fd: 3, opFlags: 1 },
  },
  // --- net ---
  {
    mirrors: "io_uring_prep_bind(sqe, 6, addr, 16): addrlen in off",
    prep: (s) => ops.prepBind(s, 6, 0x4000, 16),
    want: { opcode: Op.BIND, fd: 6, addr: 0x4000n, off: 16n },
  },
  {
    mirrors: "io_uring_prep_listen(sqe, 6, 128): backlog in len",
    prep: (s) => ops.prepListen(s, 6, 128),
    want: { opcode: Op.LISTEN, fd: 6, len: 128 },
  },
  {
    mirrors: "io_uring_prep_send_bundle(sqe, 6, 0, MSG_NOSIGNAL=0x4000): ioprio = IORING_RECVSEND_BUNDLE",
    prep: (s) => ops.prepSendBundle(s, 6, 0, 0x4000),
    want: { opcode: Op.SEND, fd: 6, ioprio: RecvSendFlags.BUNDLE, opFlags: 0x4000 },
  },
  {
    mirrors: "io_uring_prep_sendto(sqe, 6, buf, 100, 0, addr, 28): addr2 = addr, addr_len = 28",
    prep: (s) => ops.prepSendto(s, 6, 0x5000, 100, 0, 0x6000, 28),
    want: { opcode: Op.SEND, fd: 6, addr: 0x5000n, len: 100, off: 0x6000n, fileIndex: 28 },
  },
  {
    mirrors: "io_uring_prep_sendmsg_zc_fixed(sqe, 6, msg, 0, 3): ioprio = IORING_RECVSEND_FIXED_BUF",
    prep: (s) => ops.prepSendmsgZcFixed(s, 6, 0x5000, 0, 3),
    want: { opcode: Op.SENDMSG_ZC, fd: 6, addr: 0x5000n, len: 1, ioprio: RecvSendFlags.FIXED_BUF, bufIndex: 3 },
  },
  {
    mirrors: "io_uring_prep_accept_direct(..., IORING_FILE_INDEX_ALLOC): current liburing keeps ALLOC",
    prep: (s) => ops.prepAcceptDirect(s, 6, null, null, 0, FILE_INDEX_ALLOC),
    want: { opcode: Op.ACCEPT, fd: 6, fileIndex: FILE_INDEX_ALLOC },
  },
  {
    mirrors: "io_uring_prep_socket_direct(..., IORING_FILE_INDEX_ALLOC): current liburing keeps ALLOC",
    prep: (s) => ops.prepSocketDirect(s, 2, 1, 0, FILE_INDEX_ALLOC, 0),
    want: { opcode: Op.SOCKET, fd: 2, off: 1n, fileIndex: FILE_INDEX_ALLOC },
  },
  {
    mirrors: "UAPI RECV_ZC (liburing has no helper; its test/zcrx.c: prep_rw(RECV_ZC, fd, NULL, len, 0), ioprio |= RECV_MULTISHOT, zcrx_ifq_idx)",
    prep: (s) => ops.prepRecvZc(s, 6, 0, 2),
    want: { opcode: Op.RECV_ZC, fd: 6, ioprio: RecvSendFlags.RECV_MULTISHOT, fileIndex: 2 },
  },
  // --- poll / epoll ---
  {
    mirrors: "io_uring_prep_epoll_wait(sqe, 9, events, 64, 0)",
    prep: (s) => ops.prepEpollWait(s, 9, 0x8000, 64, 0),
    want: { opcode: Op.EPOLL_WAIT, fd: 9, addr: 0x8000n, len: 64 },
  },
  {
    mirrors: "io_uring_prep_poll_multishot(sqe, 9, POLLIN): len = IORING_POLL_ADD_MULTI",
    prep: (s) => ops.prepPollMultishot(s, 9, 1),
    want: { opcode: Op.POLL_ADD, fd: 9, opFlags: 1, len: PollFlags.ADD_MULTI },
  },
  // --- timeouts with a Timespec object ---
  {
    mirrors: "io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_ETIME_SUCCESS) with a Timespec: addr = &ts",
    prep: (s) => ops.prepTimeout(s, TS, 0, TimeoutFlags.ETIME_SUCCESS),
    want: { opcode: Op.TIMEOUT, fd: -1, addr: BigInt(0), len: 1, opFlags: TimeoutFlags.ETIME_SUCCESS },
  },
  // --- msg_ring ---
  {
    mirrors: "io_uring_prep_msg_ring_cqe_flags(sqe, 8, 42, 0x1234, 0, 0x10): msg_ring_flags = FLAGS_PASS, file_index = cqe_flags",
    prep: (s) => ops.prepMsgRingCqeFlags(s, 8, 42, 0x1234, 0, 0x10),
    want: { opcode: Op.MSG_RING, fd: 8, len: 42, off: 0x1234n, opFlags: MsgRingFlags.FLAGS_PASS, fileIndex: 0x10 },
  },
  {
    mirrors: "io_uring_prep_msg_ring_fd(sqe, 8, 3, 7, data, 0): addr = IORING_MSG_SEND_FD, addr3 = source, file_index = 7 + 1",
    prep: (s) => ops.prepMsgRingFd(s, 8, 3, 7, 99n, 0),
    want: { opcode: Op.MSG_RING, fd: 8, addr: BigInt(MsgRingCmd.SEND_FD), off: 99n, addr3: 3n, fileIndex: 8 },
  },
  {
    mirrors: "io_uring_prep_msg_ring_fd(sqe, 8, -1, ...): source_fd (int) sign-extends into addr3",
    prep: (s) => ops.prepMsgRingFd(s, 8, -1, 0, 0, MsgRingFlags.CQE_SKIP),
    want: { opcode: Op.MSG_RING, fd: 8, addr: 1n, addr3: U64_MAX, fileIndex: 1, opFlags: MsgRingFlags.CQE_SKIP },
  },
  {
    mirrors: "io_uring_prep_msg_ring_fd_alloc(sqe, 8, 3, data, 0): file_index = IORING_FILE_INDEX_ALLOC",
    prep: (s) => ops.prepMsgRingFdAlloc(s, 8, 3, 5, 0),
    want: { opcode: Op.MSG_RING, fd: 8, addr: 1n, off: 5n, addr3: 3n, fileIndex: FILE_INDEX_ALLOC },
  },
  // --- futex / waitid ---
  {
    mirrors: "io_uring_prep_futex_wait(sqe, futex, 1, FUTEX_BITSET_MATCH_ANY, FUTEX2_SIZE_U32|FUTEX2_PRIVATE, 0)",
    prep: (s) => ops.prepFutexWait(s, 0x9000, 1, ops.FUTEX_BITSET_MATCH_ANY, ops.FUTEX2_SIZE_U32 | ops.FUTEX2_PRIVATE, 0),
    want: { opcode: Op.FUTEX_WAIT, fd: 0x82, addr: 0x9000n, off: 1n, addr3: 0xffffffffn },
  },
  {
    mirrors: "io_uring_prep_futex_wake(sqe, futex, (u64)-1, (u64)-1, FUTEX2_SIZE_U32, 0)",
    prep: (s) => ops.prepFutexWake(s, 0x9000, -1, -1n, ops.FUTEX2_SIZE_U32, 0),
    want: { opcode: Op.FUTEX_WAKE, fd: 2, addr: 0x9000n, off: U64_MAX, addr3: U64_MAX },
  },
  {
    mirrors: "io_uring_prep_futex_waitv(sqe, waitv, 3, 0)",
    prep: (s) => ops.prepFutexWaitv(s, 0x9100, 3, 0),
    want: { opcode: Op.FUTEX_WAITV, fd: 0, addr: 0x9100n, len: 3 },
  },
  {
    mirrors: "io_uring_prep_waitid(sqe, P_PID=1, 1234, infop, WEXITED=4, 0): id in fd, idtype in len, options in file_index, infop in addr2",
    prep: (s) => ops.prepWaitid(s, 1, 1234, 0xa000, 4, 0),
    want: { opcode: Op.WAITID, fd: 1234, len: 1, fileIndex: 4, off: 0xa000n },
  },
  // --- pipe ---
  {
    mirrors: "io_uring_prep_pipe(sqe, fds, O_CLOEXEC=0x80000)",
    prep: (s) => ops.prepPipe(s, 0xb000, 0x80000),
    want: { opcode: Op.PIPE, fd: 0, addr: 0xb000n, opFlags: 0x80000 },
  },
  {
    mirrors: "io_uring_prep_pipe_direct(sqe, fds, 0, 2): file_index = 3",
    prep: (s) => ops.prepPipeDirect(s, 0xb000, 0, 2),
    want: { opcode: Op.PIPE, addr: 0xb000n, fileIndex: 3 },
  },
  {
    mirrors: "io_uring_prep_pipe_direct(sqe, fds, 0, IORING_FILE_INDEX_ALLOC): file_index = ALLOC",
    prep: (s) => ops.prepPipeDirect(s, 0xb000, 0, FILE_INDEX_ALLOC),
    want: { opcode: Op.PIPE, addr: 0xb000n, fileIndex: FILE_INDEX_ALLOC },
  },
  // --- uring_cmd ---
  {
    mirrors: "io_uring_prep_uring_cmd(sqe, 0x1234, 5): cmd_op in off's low word",
    prep: (s) => ops.prepUringCmd(s, 0x1234, 5),
    want: { opcode: Op.URING_CMD, fd: 5, off: 0x1234n },
  },
  {
    mirrors: "io_uring_prep_uring_cmd128(sqe, 7, 5)",
    prep: (s) => ops.prepUringCmd128(s, 7, 5),
    want: { opcode: Op.URING_CMD128, fd: 5, off: 7n },
  },
  {
    mirrors:
      "io_uring_prep_cmd_sock(sqe, SOCKET_URING_OP_SETSOCKOPT, 6, SOL_SOCKET=1, SO_REUSEADDR=2, optval, 4): level/optname in addr, optlen in file_index, optval in addr3",
    prep: (s) => ops.prepCmdSock(s, SocketUringOp.SETSOCKOPT, 6, 1, 2, 0xc000, 4),
    want: { opcode: Op.URING_CMD, fd: 6, off: BigInt(SocketUringOp.SETSOCKOPT), addr: (2n << 32n) | 1n, fileIndex: 4, addr3: 0xc000n },
  },
  {
    mirrors: "io_uring_prep_cmd_getsockname(sqe, 6, sa, &salen, 1): addr = sa, addr3 = &salen, optlen = peer",
    prep: (s) => ops.prepCmdGetsockname(s, 6, 0xc000, 0xc100, 1),
    want: { opcode: Op.URING_CMD, fd: 6, off: BigInt(SocketUringOp.GETSOCKNAME), addr: 0xc000n, addr3: 0xc100n, fileIndex: 1 },
  },
  {
    mirrors: "io_uring_prep_cmd_discard(sqe, 5, 1 << 30, 1 << 20): BLOCK_URING_CMD_DISCARD = _IO(0x12, 0)",
    prep: (s) => ops.prepCmdDiscard(s, 5, 2 ** 30, 2 ** 20),
    want: { opcode: Op.URING_CMD, fd: 5, off: 0x1200n, addr: 1n << 30n, addr3: 1n << 20n },
  },
  {
    mirrors: "io_uring_prep_cmd_zone_reset_all(sqe, 5): BLOCK_URING_CMD_ZONE_RESET_ALL = _IO(0x12, 1)",
    prep: (s) => ops.prepCmdZoneResetAll(s, 5),
    want: { opcode: Op.URING_CMD, fd: 5, off: 0x1201n },
  },
  {
    mirrors: "io_uring_prep_nop128(sqe): prep_rw(NOP128, -1, NULL, 0, 0)",
    prep: (s) => ops.prepNop128(s),
    want: { opcode: Op.NOP128, fd: -1 },
  },
];

const TS = new ops.Timespec(1, 500);
// The Timespec row's addr is only known at run time.
ROWS.find((r) => r.want.opcode === Op.TIMEOUT)!.want.addr = BigInt(addressOf(TS.bytes));

describe("preparers newer than liburing 2.3, field by field", () => {
  const sqe = new Sqe(new ArrayBuffer(64), 0, 64, 0);
  test.each(ROWS.map((r) => [r.mirrors, r] as const))("%s", (_m, row) => {
    sqe.u32.fill(0);
    row.prep(sqe);
    expect(decode(sqe)).toEqual({ ...ZERO, ...row.want });
  });

  test("prepSendSetAddr touches only addr2 and addr_len", () => {
    sqe.u8.fill(0xaa);
    ops.prepSendSetAddr(sqe, 0x1122334455n, 0xbeef);
    const f = decode(sqe);
    expect(f.off).toBe(0x1122334455n);
    expect(f.fileIndex).toBe(0xaaaabeef); // __pad3 untouched
    expect(f.addr).toBe(0xaaaaaaaaaaaaaaaan);
  });

  test("uringCmdArea is the payload from byte 48", () => {
    const big = new Sqe(new ArrayBuffer(128), 0, 128, 0);
    ops.prepUringCmd128(big, 1, 2);
    const area = ops.uringCmdArea(big);
    expect(area.length).toBe(80);
    area[0] = 0x5a;
    expect(big.u8[48]).toBe(0x5a);
  });
});

describe("Timespec", () => {
  test("set, fromMs, setNs encode tv_sec and tv_nsec as two i64", () => {
    const ts = ops.Timespec.fromMs(1500.25);
    const v = new DataView(ts.bytes.buffer, ts.bytes.byteOffset, 16);
    expect(v.getBigInt64(0, true)).toBe(1n);
    expect(v.getBigInt64(8, true)).toBe(500_250_000n);
    ts.set(-2, 7);
    expect(v.getBigInt64(0, true)).toBe(-2n);
    expect(ts.sec).toBe(-2);
    expect(ts.nsec).toBe(7);
    ts.setNs(3_000_000_001n);
    expect([ts.sec, ts.nsec]).toEqual([3, 1]);
    ts.setNs(2_500_000_000);
    expect([ts.sec, ts.nsec]).toEqual([2, 500_000_000]);
  });

  test("the address is stable and is the buffer's", () => {
    const ts = new ops.Timespec(1, 0);
    expect(ts.address).toBe(addressOf(ts.bytes));
    ts.set(5, 5);
    expect(ts.address).toBe(addressOf(ts.bytes));
  });

  test("bad values are refused with a message", () => {
    expect(() => new ops.Timespec(0, 1e9)).toThrow(/nsec must be in/);
    expect(() => ops.Timespec.fromMs(-1)).toThrow(/ms must be/);
  });
});

describe("sockaddr", () => {
  test("sockaddrIn: family, port in network order, address bytes", () => {
    const b = ops.sockaddrIn("127.0.0.1", 8080);
    expect(Array.from(b)).toEqual([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ops.parseSockaddr(b)).toEqual({ family: 2, host: "127.0.0.1", port: 8080 });
  });

  test("sockaddrIn6: '::', embedded IPv4, brackets, scope id", () => {
    const b = ops.sockaddrIn6("::1", 443, 3);
    expect(b.length).toBe(28);
    expect(Array.from(b.subarray(0, 4))).toEqual([10, 0, 0x01, 0xbb]);
    expect(Array.from(b.subarray(8, 24))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(new DataView(b.buffer).getUint32(24, true)).toBe(3);
    expect(ops.parseSockaddr(b)).toEqual({ family: 10, host: "0:0:0:0:0:0:0:1", port: 443 });
    const mapped = ops.sockaddrIn6("[::ffff:10.1.2.3]", 1);
    expect(Array.from(mapped.subarray(18, 24))).toEqual([0xff, 0xff, 10, 1, 2, 3]);
    expect(Array.from(ops.sockaddrIn6("fe80::1:2", 0).subarray(8, 24))).toEqual([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
  });

  test("sockaddrUn and its length", () => {
    const b = ops.sockaddrUn("/tmp/x.sock");
    expect(b.length).toBe(110);
    expect(ops.sockaddrUnLength("/tmp/x.sock")).toBe(2 + 11 + 1);
    expect(ops.parseSockaddr(b)).toEqual({ family: 1, host: "/tmp/x.sock", port: 0 });
  });

  test("bad input is refused with a message", () => {
    expect(() => ops.sockaddrIn("::1", 1)).toThrow(/not a dotted IPv4/);
    expect(() => ops.sockaddrIn("256.0.0.1", 1)).toThrow(/not a dotted IPv4/);
    expect(() => ops.sockaddrIn("1.2.3.4", 70000)).toThrow(/port must be/);
    expect(() => ops.sockaddrIn6("1::2::3", 1)).toThrow(/not an IPv6/);
    expect(() => ops.sockaddrIn6("1:2:3:4:5:6:7:8:9", 1)).toThrow(/not an IPv6/);
    expect(() => ops.sockaddrUn("x".repeat(200))).toThrow(/at most 107/);
  });
});

describe("struct builders", () => {
  test("cstr is NUL-terminated and refuses embedded NULs", () => {
    expect(Array.from(ops.cstr("ab"))).toEqual([0x61, 0x62, 0]);
    expect(() => ops.cstr("a\0b")).toThrow(/NUL/);
  });

  test("makeMsghdr lays out struct msghdr (56 bytes) with lengths from the buffers", () => {
    const name = new Uint8Array(16);
    const iov = new BigUint64Array(4); // two iovecs
    const control = new Uint8Array(32);
    const m = ops.makeMsghdr({ name, iov, control, flags: 7 });
    const v = new DataView(m.buffer);
    expect(m.length).toBe(56);
    expect(Number(v.getBigUint64(0, true))).toBe(addressOf(name));
    expect(v.getUint32(8, true)).toBe(16);
    expect(Number(v.getBigUint64(16, true))).toBe(addressOf(iov));
    expect(v.getBigUint64(24, true)).toBe(2n);
    expect(Number(v.getBigUint64(32, true))).toBe(addressOf(control));
    expect(v.getBigUint64(40, true)).toBe(32n);
    expect(v.getUint32(48, true)).toBe(7);
  });

  test("makeOpenHow, makeEpollEvent, makeFutexWaitv", () => {
    const how = new DataView(ops.makeOpenHow(0o2000000, 0o644, 0x08).buffer);
    expect([how.getBigUint64(0, true), how.getBigUint64(8, true), how.getBigUint64(16, true)]).toEqual([0o2000000n, 0o644n, 8n]);
    const ev = ops.makeEpollEvent(1, 0x1122334455667788n);
    expect(ev.length).toBe(ops.EPOLL_EVENT_SIZE);
    const evv = new DataView(ev.buffer);
    expect(evv.getUint32(0, true)).toBe(1);
    expect(evv.getBigUint64(ops.EPOLL_EVENT_SIZE === 12 ? 4 : 8, true)).toBe(0x1122334455667788n);
    const wv = new DataView(
      ops.makeFutexWaitv([
        { val: 5, uaddr: 0x1000, flags: 0x82 },
        { val: -1n, uaddr: 0x2000n, flags: 2 },
      ]).buffer,
    );
    expect([wv.getBigUint64(0, true), wv.getBigUint64(8, true), wv.getUint32(16, true)]).toEqual([5n, 0x1000n, 0x82]);
    expect([wv.getBigUint64(24, true), wv.getBigUint64(32, true), wv.getUint32(40, true)]).toEqual([U64_MAX, 0x2000n, 2]);
  });

  test("recvmsgOut mirrors io_uring_recvmsg_validate / _name / _payload / _payload_length", () => {
    const buf = new Uint8Array(64);
    const v = new DataView(buf.buffer);
    v.setUint32(0, 16, true); // namelen
    v.setUint32(4, 0, true); // controllen
    v.setUint32(8, 5, true); // payloadlen
    v.setUint32(12, 0, true); // flags
    buf.set([1, 2, 3, 4, 5], 16 + 16);
    const out = ops.recvmsgOut(buf, 16 + 16 + 5, 16, 0)!;
    expect(out.namelen).toBe(16);
    expect(out.payloadlen).toBe(5);
    expect(out.name.length).toBe(16);
    expect(out.control.length).toBe(0);
    expect(Array.from(out.payload)).toEqual([1, 2, 3, 4, 5]);
    expect(ops.recvmsgOut(buf, 15, 0, 0)).toBeNull(); // shorter than the header
    expect(ops.recvmsgOut(buf, 20, 16, 0)).toBeNull(); // name area does not fit
    expect(ops.recvmsgOut(buf, -1, 0, 0)).toBeNull();
  });
});

describe("CQE predicates", () => {
  const mem = new ArrayBuffer(16);
  const cqe = new Cqe(mem, 0, 16, 0);
  const set = (res: number, flags: number) => {
    cqe.i32[2] = res;
    cqe.i32[3] = flags;
  };

  test("cqeSkip, cqeIs32, cqeNr", () => {
    set(0, CqeFlags.SKIP);
    expect([ops.cqeSkip(cqe), ops.cqeIs32(cqe), ops.cqeNr(cqe)]).toEqual([true, false, 1]);
    set(0, CqeFlags.F_32);
    expect([ops.cqeSkip(cqe), ops.cqeIs32(cqe), ops.cqeNr(cqe)]).toEqual([false, true, 2]);
  });

  test("cqeNotifCopied needs the NOTIF flag and the ZC_COPIED bit", () => {
    set(NOTIF_USAGE_ZC_COPIED | 0, CqeFlags.NOTIF);
    expect(ops.cqeNotifCopied(cqe)).toBe(true);
    set(0, CqeFlags.NOTIF);
    expect(ops.cqeNotifCopied(cqe)).toBe(false);
    set(NOTIF_USAGE_ZC_COPIED | 0, 0);
    expect(ops.cqeNotifCopied(cqe)).toBe(false);
  });
});
