/**
 * Byte-exact proof of the preparers against liburing itself.
 *
 * test/c/prep_dump.c is compiled here (gcc, into a temp dir) against the
 * system liburing (/usr/include/liburing.h, 2.3 on this machine). For every
 * io_uring_prep_* helper of that header, a seeded table of argument sets
 * (edge values: 0, -1, 0xffffffff, 2^63, 2^64-1, ... then random ones) goes to
 * the C program on stdin; it prints the 64 SQE bytes liburing writes, and the
 * same arguments go through our preparer on a zeroed standalone Sqe. Every byte
 * must match. Pointers are fake addresses (numbers/bigints): nothing is read.
 *
 * Where liburing 2.3 and current liburing differ, we follow current liburing
 * and leave that value out here (it is checked in test/op-fields-post-liburing23.test.ts):
 * the *_direct preparers map file_index IORING_FILE_INDEX_ALLOC to ALLOC
 * (2.3 wrapped it to 0), so "fidx" values exclude 0xffffffff.
 *
 * Skips (does not fail) when gcc or liburing's header is missing.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ops from "../src/ops/index.ts";
import { prepNop, prepRw } from "../src/ops/rw.ts";
import { Sqe } from "../src/ring/sqe.ts";
import { addressOf } from "../src/sys/ffi.ts";

const LIBURING_H = "/usr/include/liburing.h";
const SOURCE = join(import.meta.dir, "c", "prep_dump.c");
const gcc = Bun.which("gcc");
const available = gcc !== null && existsSync(LIBURING_H);

// ---------------------------------------------------------------------------
// Argument kinds: the C parameter type each argument has, and its test values.

/** The C type of a preparer argument; decides which values are generated and how TS receives them. */
type Kind =
  | "i32" // int
  | "u32" // unsigned / socklen_t / mode_t
  | "u16" // __u16
  | "u8" // the opcode of io_uring_prep_rw
  | "fidx" // unsigned file_index of a *_direct preparer (no FILE_INDEX_ALLOC, see header)
  | "u64" // __u64
  | "i64" // int64_t / off_t
  | "size" // size_t (TS takes a number; both sides truncate to 32 bits)
  | "ptr" // a pointer (TS: Addressable number | bigint)
  | "ptrnum"; // a pointer TS can only take as a safe non-negative number (prepRw's contract)

const TWO_64 = 1n << 64n;
const EDGES: Record<Kind, readonly bigint[]> = {
  i32: [0n, -1n, 1n, 0x7fffffffn, -0x80000000n, -100n],
  u32: [0n, 1n, 0xffffffffn, 0x80000000n, 0x7fffffffn],
  u16: [0n, 1n, 0xffffn, 0x8000n],
  u8: [0n, 22n, 255n, 1n],
  fidx: [0n, 1n, 0xfffffffen, 0x7fffffffn],
  u64: [0n, 1n, TWO_64 - 1n, 1n << 63n, (1n << 53n) + 1n, 0x123456789abcdef0n, 0xffffffffn, 1n << 32n],
  i64: [0n, -1n, (1n << 63n) - 1n, -(1n << 63n), (1n << 53n) + 1n, -0x123456789n],
  size: [0n, 1n, 0xffffffffn, 1n << 32n, (1n << 32n) + 5n, (1n << 53n) - 1n],
  ptr: [0n, 0x1000n, 0x7ffd12345678n, 0xfffffffffffff000n, TWO_64 - 1n, 0xdeadbeefn],
  ptrnum: [0n, 0x1000n, 0x7ffd12345678n, 0xdeadbeefn, (1n << 53n) - 1n],
};

/** splitmix64: a seeded 64-bit generator, so the random rows are the same every run. */
function splitmix64(seed: bigint): () => bigint {
  let s = BigInt.asUintN(64, seed);
  return () => {
    s = BigInt.asUintN(64, s + 0x9e3779b97f4a7c15n);
    let z = s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
}

function randomOf(kind: Kind, next: () => bigint): bigint {
  const r = next();
  switch (kind) {
    case "i32":
      return BigInt.asIntN(32, r);
    case "u32":
      return BigInt.asUintN(32, r);
    case "u16":
      return BigInt.asUintN(16, r);
    case "u8":
      return BigInt.asUintN(8, r);
    case "fidx": {
      const v = BigInt.asUintN(32, r);
      return v === 0xffffffffn ? 0n : v;
    }
    case "u64":
      return r;
    case "i64":
      return BigInt.asIntN(64, r);
    case "size":
      return BigInt.asUintN(53, r);
    // Mostly user-space-looking 48-bit addresses, sometimes full 64-bit ones.
    case "ptr":
      return (r & 3n) === 0n ? r : BigInt.asUintN(47, r);
    case "ptrnum":
      return BigInt.asUintN(47, r);
  }
}

/** Values the TS side receives: numbers for 32-bit kinds; for 64-bit ones a bigint, or a number when exact and `asNumber`. */
function tsValue(kind: Kind, v: bigint, asNumber: boolean): number | bigint {
  switch (kind) {
    case "u64":
    case "i64":
    case "ptr":
      return asNumber && v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n ? Number(v) : v;
    default:
      return Number(v);
  }
}

// ---------------------------------------------------------------------------
// The table: liburing name (without io_uring_prep_), argument kinds in
// liburing's order, and the call of our preparer with those arguments.

type Args = readonly (number | bigint)[];
type Prep = (sqe: Sqe, a: Args) => void;
interface Row {
  name: string;
  kinds: readonly Kind[];
  call: Prep;
}

const n = (v: number | bigint | undefined): number => Number(v);
const big = (v: number | bigint | undefined): number | bigint => v as number | bigint;

const TABLE: Row[] = [
  { name: "rw", kinds: ["u8", "i32", "ptrnum", "u32", "i64"], call: (s, a) => prepRw(n(a[0]), s, n(a[1]), big(a[2]), n(a[3]), big(a[4])) },
  { name: "nop", kinds: [], call: (s) => prepNop(s) },
  { name: "read", kinds: ["i32", "ptr", "u32", "u64"], call: (s, a) => ops.prepRead(s, n(a[0]), big(a[1]), n(a[2]), big(a[3])) },
  { name: "write", kinds: ["i32", "ptr", "u32", "u64"], call: (s, a) => ops.prepWrite(s, n(a[0]), big(a[1]), n(a[2]), big(a[3])) },
  { name: "readv", kinds: ["i32", "ptr", "u32", "u64"], call: (s, a) => ops.prepReadv(s, n(a[0]), big(a[1]), n(a[2]), big(a[3])) },
  { name: "readv2", kinds: ["i32", "ptr", "u32", "u64", "i32"], call: (s, a) => ops.prepReadv2(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4])) },
  { name: "writev", kinds: ["i32", "ptr", "u32", "u64"], call: (s, a) => ops.prepWritev(s, n(a[0]), big(a[1]), n(a[2]), big(a[3])) },
  { name: "writev2", kinds: ["i32", "ptr", "u32", "u64", "i32"], call: (s, a) => ops.prepWritev2(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4])) },
  { name: "read_fixed", kinds: ["i32", "ptr", "u32", "u64", "i32"], call: (s, a) => ops.prepReadFixed(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4])) },
  { name: "write_fixed", kinds: ["i32", "ptr", "u32", "u64", "i32"], call: (s, a) => ops.prepWriteFixed(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4])) },
  { name: "fsync", kinds: ["i32", "u32"], call: (s, a) => ops.prepFsync(s, n(a[0]), n(a[1])) },
  { name: "sync_file_range", kinds: ["i32", "u32", "u64", "i32"], call: (s, a) => ops.prepSyncFileRange(s, n(a[0]), n(a[1]), big(a[2]), n(a[3])) },
  { name: "poll_add", kinds: ["i32", "u32"], call: (s, a) => ops.prepPollAdd(s, n(a[0]), n(a[1])) },
  { name: "poll_multishot", kinds: ["i32", "u32"], call: (s, a) => ops.prepPollMultishot(s, n(a[0]), n(a[1])) },
  { name: "poll_remove", kinds: ["u64"], call: (s, a) => ops.prepPollRemove(s, big(a[0])) },
  { name: "poll_update", kinds: ["u64", "u64", "u32", "u32"], call: (s, a) => ops.prepPollUpdate(s, big(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  { name: "sendmsg", kinds: ["i32", "ptr", "u32"], call: (s, a) => ops.prepSendmsg(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "recvmsg", kinds: ["i32", "ptr", "u32"], call: (s, a) => ops.prepRecvmsg(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "recvmsg_multishot", kinds: ["i32", "ptr", "u32"], call: (s, a) => ops.prepRecvmsgMultishot(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "sendmsg_zc", kinds: ["i32", "ptr", "u32"], call: (s, a) => ops.prepSendmsgZc(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "timeout", kinds: ["ptr", "u32", "u32"], call: (s, a) => ops.prepTimeout(s, big(a[0]), n(a[1]), n(a[2])) },
  { name: "timeout_remove", kinds: ["u64", "u32"], call: (s, a) => ops.prepTimeoutRemove(s, big(a[0]), n(a[1])) },
  { name: "timeout_update", kinds: ["ptr", "u64", "u32"], call: (s, a) => ops.prepTimeoutUpdate(s, big(a[0]), big(a[1]), n(a[2])) },
  { name: "link_timeout", kinds: ["ptr", "u32"], call: (s, a) => ops.prepLinkTimeout(s, big(a[0]), n(a[1])) },
  { name: "accept", kinds: ["i32", "ptr", "ptr", "i32"], call: (s, a) => ops.prepAccept(s, n(a[0]), big(a[1]), big(a[2]), n(a[3])) },
  {
    name: "accept_direct",
    kinds: ["i32", "ptr", "ptr", "i32", "fidx"],
    call: (s, a) => ops.prepAcceptDirect(s, n(a[0]), big(a[1]), big(a[2]), n(a[3]), n(a[4])),
  },
  { name: "multishot_accept", kinds: ["i32", "ptr", "ptr", "i32"], call: (s, a) => ops.prepMultishotAccept(s, n(a[0]), big(a[1]), big(a[2]), n(a[3])) },
  {
    name: "multishot_accept_direct",
    kinds: ["i32", "ptr", "ptr", "i32"],
    call: (s, a) => ops.prepMultishotAcceptDirect(s, n(a[0]), big(a[1]), big(a[2]), n(a[3])),
  },
  { name: "cancel64", kinds: ["u64", "i32"], call: (s, a) => ops.prepCancel64(s, big(a[0]), n(a[1])) },
  { name: "cancel", kinds: ["ptr", "i32"], call: (s, a) => ops.prepCancel(s, big(a[0]), n(a[1])) },
  { name: "cancel_fd", kinds: ["i32", "u32"], call: (s, a) => ops.prepCancelFd(s, n(a[0]), n(a[1])) },
  { name: "connect", kinds: ["i32", "ptr", "u32"], call: (s, a) => ops.prepConnect(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "files_update", kinds: ["ptr", "u32", "i32"], call: (s, a) => ops.prepFilesUpdate(s, big(a[0]), n(a[1]), n(a[2])) },
  { name: "fallocate", kinds: ["i32", "i32", "i64", "i64"], call: (s, a) => ops.prepFallocate(s, n(a[0]), n(a[1]), big(a[2]), big(a[3])) },
  { name: "openat", kinds: ["i32", "ptr", "i32", "u32"], call: (s, a) => ops.prepOpenat(s, n(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  {
    name: "openat_direct",
    kinds: ["i32", "ptr", "i32", "u32", "fidx"],
    call: (s, a) => ops.prepOpenatDirect(s, n(a[0]), big(a[1]), n(a[2]), n(a[3]), n(a[4])),
  },
  { name: "openat2", kinds: ["i32", "ptr", "ptr"], call: (s, a) => ops.prepOpenat2(s, n(a[0]), big(a[1]), big(a[2])) },
  { name: "openat2_direct", kinds: ["i32", "ptr", "ptr", "fidx"], call: (s, a) => ops.prepOpenat2Direct(s, n(a[0]), big(a[1]), big(a[2]), n(a[3])) },
  { name: "close", kinds: ["i32"], call: (s, a) => ops.prepClose(s, n(a[0])) },
  // close_direct has no ALLOC special case in either liburing: 0xffffffff is tested too.
  { name: "close_direct", kinds: ["u32"], call: (s, a) => ops.prepCloseDirect(s, n(a[0])) },
  { name: "statx", kinds: ["i32", "ptr", "i32", "u32", "ptr"], call: (s, a) => ops.prepStatx(s, n(a[0]), big(a[1]), n(a[2]), n(a[3]), big(a[4])) },
  // fadvise/madvise lengths: off_t in 2.3, __u32 today; both store 32 bits, so values are u32.
  { name: "fadvise", kinds: ["i32", "u64", "u32", "i32"], call: (s, a) => ops.prepFadvise(s, n(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  { name: "madvise", kinds: ["ptr", "u32", "i32"], call: (s, a) => ops.prepMadvise(s, big(a[0]), n(a[1]), n(a[2])) },
  { name: "send", kinds: ["i32", "ptr", "size", "i32"], call: (s, a) => ops.prepSend(s, n(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  { name: "recv", kinds: ["i32", "ptr", "size", "i32"], call: (s, a) => ops.prepRecv(s, n(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  { name: "recv_multishot", kinds: ["i32", "ptr", "size", "i32"], call: (s, a) => ops.prepRecvMultishot(s, n(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  { name: "send_zc", kinds: ["i32", "ptr", "size", "i32", "u32"], call: (s, a) => ops.prepSendZc(s, n(a[0]), big(a[1]), n(a[2]), n(a[3]), n(a[4])) },
  {
    name: "send_zc_fixed",
    kinds: ["i32", "ptr", "size", "i32", "u32", "u32"],
    call: (s, a) => ops.prepSendZcFixed(s, n(a[0]), big(a[1]), n(a[2]), n(a[3]), n(a[4]), n(a[5])),
  },
  { name: "send_set_addr", kinds: ["ptr", "u16"], call: (s, a) => ops.prepSendSetAddr(s, big(a[0]), n(a[1])) },
  { name: "epoll_ctl", kinds: ["i32", "i32", "i32", "ptr"], call: (s, a) => ops.prepEpollCtl(s, n(a[0]), n(a[1]), n(a[2]), big(a[3])) },
  {
    name: "splice",
    kinds: ["i32", "i64", "i32", "i64", "u32", "u32"],
    call: (s, a) => ops.prepSplice(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4]), n(a[5])),
  },
  { name: "tee", kinds: ["i32", "i32", "u32", "u32"], call: (s, a) => ops.prepTee(s, n(a[0]), n(a[1]), n(a[2]), n(a[3])) },
  {
    name: "provide_buffers",
    kinds: ["ptr", "i32", "i32", "i32", "i32"],
    call: (s, a) => ops.prepProvideBuffers(s, big(a[0]), n(a[1]), n(a[2]), n(a[3]), n(a[4])),
  },
  { name: "remove_buffers", kinds: ["i32", "i32"], call: (s, a) => ops.prepRemoveBuffers(s, n(a[0]), n(a[1])) },
  { name: "shutdown", kinds: ["i32", "i32"], call: (s, a) => ops.prepShutdown(s, n(a[0]), n(a[1])) },
  { name: "unlinkat", kinds: ["i32", "ptr", "i32"], call: (s, a) => ops.prepUnlinkat(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "unlink", kinds: ["ptr", "i32"], call: (s, a) => ops.prepUnlink(s, big(a[0]), n(a[1])) },
  {
    name: "renameat",
    kinds: ["i32", "ptr", "i32", "ptr", "u32"],
    call: (s, a) => ops.prepRenameat(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4])),
  },
  { name: "rename", kinds: ["ptr", "ptr"], call: (s, a) => ops.prepRename(s, big(a[0]), big(a[1])) },
  { name: "mkdirat", kinds: ["i32", "ptr", "u32"], call: (s, a) => ops.prepMkdirat(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "mkdir", kinds: ["ptr", "u32"], call: (s, a) => ops.prepMkdir(s, big(a[0]), n(a[1])) },
  { name: "symlinkat", kinds: ["ptr", "i32", "ptr"], call: (s, a) => ops.prepSymlinkat(s, big(a[0]), n(a[1]), big(a[2])) },
  { name: "symlink", kinds: ["ptr", "ptr"], call: (s, a) => ops.prepSymlink(s, big(a[0]), big(a[1])) },
  {
    name: "linkat",
    kinds: ["i32", "ptr", "i32", "ptr", "i32"],
    call: (s, a) => ops.prepLinkat(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4])),
  },
  { name: "link", kinds: ["ptr", "ptr", "i32"], call: (s, a) => ops.prepLink(s, big(a[0]), big(a[1]), n(a[2])) },
  { name: "msg_ring", kinds: ["i32", "u32", "u64", "u32"], call: (s, a) => ops.prepMsgRing(s, n(a[0]), n(a[1]), big(a[2]), n(a[3])) },
  { name: "getxattr", kinds: ["ptr", "ptr", "ptr", "u32"], call: (s, a) => ops.prepGetxattr(s, big(a[0]), big(a[1]), big(a[2]), n(a[3])) },
  {
    name: "setxattr",
    kinds: ["ptr", "ptr", "ptr", "i32", "u32"],
    call: (s, a) => ops.prepSetxattr(s, big(a[0]), big(a[1]), big(a[2]), n(a[3]), n(a[4])),
  },
  { name: "fgetxattr", kinds: ["i32", "ptr", "ptr", "u32"], call: (s, a) => ops.prepFgetxattr(s, n(a[0]), big(a[1]), big(a[2]), n(a[3])) },
  {
    name: "fsetxattr",
    kinds: ["i32", "ptr", "ptr", "i32", "u32"],
    call: (s, a) => ops.prepFsetxattr(s, n(a[0]), big(a[1]), big(a[2]), n(a[3]), n(a[4])),
  },
  { name: "socket", kinds: ["i32", "i32", "i32", "u32"], call: (s, a) => ops.prepSocket(s, n(a[0]), n(a[1]), n(a[2]), n(a[3])) },
  {
    name: "socket_direct",
    kinds: ["i32", "i32", "i32", "fidx", "u32"],
    call: (s, a) => ops.prepSocketDirect(s, n(a[0]), n(a[1]), n(a[2]), n(a[3]), n(a[4])),
  },
  { name: "socket_direct_alloc", kinds: ["i32", "i32", "i32", "u32"], call: (s, a) => ops.prepSocketDirectAlloc(s, n(a[0]), n(a[1]), n(a[2]), n(a[3])) },
];

/** The rows above cover liburing 2.3's helpers; the ones pushed below are newer. */
const BASE_ROWS = TABLE.length;

/** Random rows per preparer, after the edge rows. */
const RANDOM_ROWS = 16;

/** The argument sets for one preparer: every edge value of every argument, then seeded random ones. */
function argSets(row: Row, seed: number): bigint[][] {
  const next = splitmix64(BigInt(seed) * 0x100000001n + 12345n);
  const sets: bigint[][] = [];
  if (row.kinds.length === 0) return [[]];
  const edgeRows = Math.max(...row.kinds.map((k) => EDGES[k].length));
  for (let r = 0; r < edgeRows; r++) {
    // Offset each column by its position so edge values meet different neighbours.
    sets.push(row.kinds.map((k, c) => EDGES[k][(r + c) % EDGES[k].length]!));
  }
  for (let r = 0; r < RANDOM_ROWS; r++) sets.push(row.kinds.map((k) => randomOf(k, next)));
  return sets;
}

// ---------------------------------------------------------------------------
// Rows for helpers newer than 2.3: checked byte for byte only when the
// installed liburing has them (prep_dump.c compiles them in by version);
// test/op-fields-post-liburing23.test.ts checks them field by field everywhere.

TABLE.push(
  {
    name: "msg_ring_cqe_flags",
    kinds: ["i32", "u32", "u64", "u32", "u32"],
    call: (s, a) => ops.prepMsgRingCqeFlags(s, n(a[0]), n(a[1]), big(a[2]), n(a[3]), n(a[4])),
  },
  { name: "msg_ring_fd", kinds: ["i32", "i32", "fidx", "u64", "u32"], call: (s, a) => ops.prepMsgRingFd(s, n(a[0]), n(a[1]), n(a[2]), big(a[3]), n(a[4])) },
  { name: "msg_ring_fd_alloc", kinds: ["i32", "i32", "u64", "u32"], call: (s, a) => ops.prepMsgRingFdAlloc(s, n(a[0]), n(a[1]), big(a[2]), n(a[3])) },
  {
    name: "sendto",
    kinds: ["i32", "ptr", "size", "i32", "ptr", "u32"],
    call: (s, a) => ops.prepSendto(s, n(a[0]), big(a[1]), n(a[2]), n(a[3]), big(a[4]), n(a[5])),
  },
  {
    name: "cmd_sock",
    kinds: ["i32", "i32", "i32", "i32", "ptr", "i32"],
    call: (s, a) => ops.prepCmdSock(s, n(a[0]), n(a[1]), n(a[2]), n(a[3]), big(a[4]), n(a[5])),
  },
  { name: "fixed_fd_install", kinds: ["i32", "u32"], call: (s, a) => ops.prepFixedFdInstall(s, n(a[0]), n(a[1])) },
  { name: "ftruncate", kinds: ["i32", "i64"], call: (s, a) => ops.prepFtruncate(s, n(a[0]), big(a[1])) },
  { name: "futex_wait", kinds: ["ptr", "u64", "u64", "u32", "u32"], call: (s, a) => ops.prepFutexWait(s, big(a[0]), big(a[1]), big(a[2]), n(a[3]), n(a[4])) },
  { name: "futex_wake", kinds: ["ptr", "u64", "u64", "u32", "u32"], call: (s, a) => ops.prepFutexWake(s, big(a[0]), big(a[1]), big(a[2]), n(a[3]), n(a[4])) },
  { name: "futex_waitv", kinds: ["ptr", "u32", "u32"], call: (s, a) => ops.prepFutexWaitv(s, big(a[0]), n(a[1]), n(a[2])) },
  { name: "waitid", kinds: ["u32", "u32", "ptr", "i32", "u32"], call: (s, a) => ops.prepWaitid(s, n(a[0]), n(a[1]), big(a[2]), n(a[3]), n(a[4])) },
  { name: "read_multishot", kinds: ["i32", "u32", "u64", "i32"], call: (s, a) => ops.prepReadMultishot(s, n(a[0]), n(a[1]), big(a[2]), n(a[3])) },
  { name: "bind", kinds: ["i32", "ptr", "u32"], call: (s, a) => ops.prepBind(s, n(a[0]), big(a[1]), n(a[2])) },
  { name: "listen", kinds: ["i32", "i32"], call: (s, a) => ops.prepListen(s, n(a[0]), n(a[1])) },
  { name: "fadvise64", kinds: ["i32", "u64", "i64", "i32"], call: (s, a) => ops.prepFadvise64(s, n(a[0]), big(a[1]), big(a[2]), n(a[3])) },
  { name: "madvise64", kinds: ["ptr", "i64", "i32"], call: (s, a) => ops.prepMadvise64(s, big(a[0]), big(a[1]), n(a[2])) },
  { name: "send_bundle", kinds: ["i32", "size", "i32"], call: (s, a) => ops.prepSendBundle(s, n(a[0]), n(a[1]), n(a[2])) },
  { name: "cmd_discard", kinds: ["i32", "u64", "u64"], call: (s, a) => ops.prepCmdDiscard(s, n(a[0]), big(a[1]), big(a[2])) },
  { name: "open", kinds: ["ptr", "i32", "u32"], call: (s, a) => ops.prepOpen(s, big(a[0]), n(a[1]), n(a[2])) },
  { name: "open_direct", kinds: ["ptr", "i32", "u32", "fidx"], call: (s, a) => ops.prepOpenDirect(s, big(a[0]), n(a[1]), n(a[2]), n(a[3])) },
  { name: "epoll_wait", kinds: ["i32", "ptr", "i32", "u32"], call: (s, a) => ops.prepEpollWait(s, n(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  {
    name: "readv_fixed",
    kinds: ["i32", "ptr", "u32", "u64", "i32", "i32"],
    call: (s, a) => ops.prepReadvFixed(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4]), n(a[5])),
  },
  {
    name: "writev_fixed",
    kinds: ["i32", "ptr", "u32", "u64", "i32", "i32"],
    call: (s, a) => ops.prepWritevFixed(s, n(a[0]), big(a[1]), n(a[2]), big(a[3]), n(a[4]), n(a[5])),
  },
  { name: "sendmsg_zc_fixed", kinds: ["i32", "ptr", "u32", "u32"], call: (s, a) => ops.prepSendmsgZcFixed(s, n(a[0]), big(a[1]), n(a[2]), n(a[3])) },
  { name: "pipe", kinds: ["ptr", "i32"], call: (s, a) => ops.prepPipe(s, big(a[0]), n(a[1])) },
  { name: "pipe_direct", kinds: ["ptr", "i32", "fidx"], call: (s, a) => ops.prepPipeDirect(s, big(a[0]), n(a[1]), n(a[2])) },
  { name: "cmd_getsockname", kinds: ["i32", "ptr", "ptr", "i32"], call: (s, a) => ops.prepCmdGetsockname(s, n(a[0]), big(a[1]), big(a[2]), n(a[3])) },
  { name: "nop128", kinds: [], call: (s) => ops.prepNop128(s) },
  { name: "uring_cmd", kinds: ["i32", "i32"], call: (s, a) => ops.prepUringCmd(s, n(a[0]), n(a[1])) },
  { name: "uring_cmd128", kinds: ["i32", "i32"], call: (s, a) => ops.prepUringCmd128(s, n(a[0]), n(a[1])) },
  { name: "cmd_zone_reset_all", kinds: ["i32"], call: (s, a) => ops.prepCmdZoneResetAll(s, n(a[0])) },
);

// ---------------------------------------------------------------------------
// Run the C side once, at load, so each row can skip when liburing lacks it.

interface Case {
  row: Row;
  args: bigint[];
  expected: string;
}

/** Rows the installed liburing answered, by name. */
const cases = new Map<string, Case[]>();
/** Helpers the installed liburing does not have (answered "ERR unknown preparer"). */
const unknown = new Set<string>();
let setupError = "";
let liburingVersion = "";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Compiles test/c/prep_dump.c (or takes a prebuilt one from
 * URING_BENCH_PREP_DUMP, e.g. built against another liburing) and feeds it the table.
 */
function runHarness(): void {
  let exe = process.env.URING_BENCH_PREP_DUMP ?? "";
  let workDir = "";
  try {
    if (!exe) {
      workDir = mkdtempSync(join(tmpdir(), "uring-bench-prep-dump-"));
      exe = join(workDir, "prep_dump");
      const cc = Bun.spawnSync([gcc!, "-O1", "-Wall", "-o", exe, SOURCE, "-luring"], { stderr: "pipe" });
      if (cc.exitCode !== 0) {
        setupError = `gcc failed to build ${SOURCE}:\n${cc.stderr.toString()}`;
        return;
      }
    }
    const all: Case[] = [];
    const lines: string[] = ["version"];
    TABLE.forEach((row, i) => {
      for (const args of argSets(row, i + 1)) {
        all.push({ row, args, expected: "" });
        lines.push([row.name, ...args.map(String)].join(" "));
      }
    });
    const run = Bun.spawnSync([exe], { stdin: Buffer.from(lines.join("\n") + "\n"), stdout: "pipe", stderr: "pipe" });
    const out = run.stdout.toString().trim().split("\n");
    if (run.exitCode !== 0 || out.length !== all.length + 1) {
      setupError = `prep_dump exited ${run.exitCode} with ${out.length} lines for ${all.length + 1} inputs: ${run.stderr.toString()}`;
      return;
    }
    liburingVersion = out[0]!.replace(/^VERSION /, "");
    all.forEach((c, i) => {
      const line = out[i + 1]!;
      if (line.startsWith("ERR unknown preparer")) {
        unknown.add(c.row.name);
        return;
      }
      if (line.startsWith("ERR")) {
        setupError ||= `${c.row.name}: ${line}`;
        return;
      }
      c.expected = line;
      const list = cases.get(c.row.name) ?? [];
      list.push(c);
      cases.set(c.row.name, list);
    });
  } finally {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }
}

if (available) runHarness();

/** The field an SQE byte offset belongs to, for failure messages. */
function fieldAt(off: number): string {
  const f: Array<[number, string]> = [
    [0, "opcode"],
    [1, "flags"],
    [2, "ioprio"],
    [4, "fd"],
    [8, "off"],
    [16, "addr"],
    [24, "len"],
    [28, "op_flags"],
    [32, "user_data"],
    [40, "buf_index"],
    [42, "personality"],
    [44, "file_index"],
    [48, "addr3"],
    [56, "pad2"],
  ];
  let name = "?";
  for (const [o, nm] of f) if (off >= o) name = nm;
  return name;
}

describe.skipIf(!available)(`preparers match liburing (${liburingVersion || "unavailable"}) byte for byte`, () => {
  test("the C harness built and answered every row", () => {
    expect(setupError).toBe("");
    // Every helper of liburing 2.3 must be answered; newer ones only when the library has them.
    expect(
      TABLE.slice(0, BASE_ROWS)
        .filter((r) => unknown.has(r.name))
        .map((r) => r.name),
    ).toEqual([]);
  });

  test("every io_uring_prep_* of the system liburing.h is in the table", () => {
    const header = readFileSync(LIBURING_H, "utf8");
    const names = new Set([...header.matchAll(/\bvoid\s+io_uring_prep_([a-z0-9_]+)\s*\(/g)].map((m) => m[1]!));
    const covered = new Set(TABLE.map((r) => r.name));
    const missing = [...names].filter((x) => !covered.has(x));
    expect(missing).toEqual([]);
  });

  const buf = new ArrayBuffer(64);
  const sqe = new Sqe(buf, 0, 64, 0);
  const zero = () => sqe.u32.fill(0);

  for (const row of TABLE) {
    test.skipIf(unknown.has(row.name))(`io_uring_prep_${row.name}`, () => checkRow(row));
  }

  function checkRow(row: Row): void {
    const list = cases.get(row.name);
    if (!list) throw new Error(`no C output for ${row.name}: ${setupError}`);
    for (const [i, c] of list.entries()) {
      // Alternate number and bigint inputs for the 64-bit arguments: both paths must agree with C.
      for (const asNumber of [false, true]) {
        zero();
        const args = c.args.map((v, k) => tsValue(row.kinds[k]!, v, asNumber));
        row.call(sqe, args);
        const got = hex(sqe.u8);
        if (got !== c.expected) {
          let at = 0;
          while (at < 128 && got[at] === c.expected[at]) at++;
          const byte = at >> 1;
          throw new Error(
            `io_uring_prep_${row.name}(${c.args.join(", ")}) [row ${i}, ${asNumber ? "number" : "bigint"} inputs]: ` +
              `first difference at byte ${byte} (${fieldAt(byte)})\n  liburing: ${c.expected}\n  ours:     ${got}`,
          );
        }
      }
    }
    expect(list.length).toBeGreaterThan(row.kinds.length === 0 ? 0 : RANDOM_ROWS);
  }

  test("the comparison catches a difference (harness self-check)", () => {
    const read = cases.get("read")![1]!; // fd -1 row
    zero();
    ops.prepRead(sqe, Number(read.args[0]) + 1, read.args[1]!, Number(read.args[2]), read.args[3]!);
    expect(hex(sqe.u8)).not.toBe(read.expected);
    zero();
    ops.prepRead(sqe, Number(read.args[0]), read.args[1]!, Number(read.args[2]), read.args[3]!);
    expect(hex(sqe.u8)).toBe(read.expected);
  });

  test("a buffer argument puts the buffer's address in the SQE", () => {
    const data = new Uint8Array(64);
    zero();
    ops.prepRead(sqe, 3, data, 64, 0);
    expect(sqe.u32[4]! + sqe.u32[5]! * 2 ** 32).toBe(addressOf(data));
  });
});
