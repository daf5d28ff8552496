/**
 * io_uring_register(2) operations, with liburing's names (ring first). Each
 * returns the kernel's result: >= 0 on success, -errno on failure.
 *
 * Safety: registered buffers are pinned by the kernel until unregistered; the
 * caller keeps the JavaScript objects that own that memory alive until then
 * (`src/mem` provides off-heap memory for exactly this).
 */
import {
  BUF_REG,
  CQRING_OFFSETS,
  FILE_INDEX_RANGE,
  IOVEC,
  RESTRICTION,
  RSRC_REGISTER,
  RSRC_UPDATE,
  PARAMS,
  RSRC_UPDATE2,
  SQRING_OFFSETS,
  SYNC_CANCEL_REG,
} from "../sys/abi.ts";
import { Features, Mman, MmapOffset, RegisterOp, RSRC_REGISTER_SPARSE, SetupFlags } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import { addressOf, memoryView, mmap, munmap, type Addressable } from "../sys/ffi.ts";
import type { RingLayout } from "./setup.ts";

/** The part of a ring the register calls need. */
export interface RegisterTarget {
  /** Calls io_uring_register on this ring (through the registered ring fd when there is one). */
  register(opcode: number, arg: Addressable | null, nrArgs: number): number;
}

/** A buffer the kernel may use: a typed array / ArrayBuffer, or a raw address with a length. */
export type BufferLike = ArrayBufferView | ArrayBuffer | { address: number; length: number };

function bufferAddressLength(b: BufferLike): [number, number] {
  if (b instanceof ArrayBuffer) return [addressOf(b), b.byteLength];
  if (ArrayBuffer.isView(b)) return [addressOf(b), b.byteLength];
  return [b.address, b.length];
}

/** Builds a struct iovec[] for `buffers`. Keep the result alive while the kernel may read it. */
export function makeIovecs(buffers: readonly BufferLike[]): BigUint64Array {
  const iov = new BigUint64Array(Math.max(1, buffers.length) * (IOVEC.size / 8));
  buffers.forEach((b, i) => {
    const [addr, len] = bufferAddressLength(b);
    iov[i * 2] = BigInt(addr);
    iov[i * 2 + 1] = BigInt(len);
  });
  return iov;
}

/** io_uring_register_buffers: registers `buffers` as fixed buffers 0..n-1. */
export function registerBuffers(ring: RegisterTarget, buffers: readonly BufferLike[]): number {
  const iov = makeIovecs(buffers);
  return ring.register(RegisterOp.REGISTER_BUFFERS, iov, buffers.length);
}

/** io_uring_register_buffers_sparse: an empty fixed-buffer table of `nr` slots, filled later by update. */
export function registerBuffersSparse(ring: RegisterTarget, nr: number): number {
  const reg = new DataView(new ArrayBuffer(RSRC_REGISTER.size));
  reg.setUint32(RSRC_REGISTER.nr, nr, true);
  reg.setUint32(RSRC_REGISTER.flags, RSRC_REGISTER_SPARSE, true);
  return ring.register(RegisterOp.REGISTER_BUFFERS2, reg, RSRC_REGISTER.size);
}

/** io_uring_register_buffers_tags: fixed buffers with a tag each (a CQE with the tag is posted when a buffer is released). */
export function registerBuffersTags(ring: RegisterTarget, buffers: readonly BufferLike[], tags: readonly bigint[]): number {
  const iov = makeIovecs(buffers);
  const tagArr = BigUint64Array.from(tags);
  const reg = new DataView(new ArrayBuffer(RSRC_REGISTER.size));
  reg.setUint32(RSRC_REGISTER.nr, buffers.length, true);
  reg.setBigUint64(RSRC_REGISTER.data, BigInt(addressOf(iov)), true);
  reg.setBigUint64(RSRC_REGISTER.tags, BigInt(addressOf(tagArr)), true);
  return ring.register(RegisterOp.REGISTER_BUFFERS2, reg, RSRC_REGISTER.size);
}

/** io_uring_register_buffers_update_tag: replaces fixed buffers from slot `offset`. */
export function registerBuffersUpdateTag(
  ring: RegisterTarget,
  offset: number,
  buffers: readonly BufferLike[],
  tags?: readonly bigint[],
): number {
  const iov = makeIovecs(buffers);
  const tagArr = tags ? BigUint64Array.from(tags) : null;
  const up = new DataView(new ArrayBuffer(RSRC_UPDATE2.size));
  up.setUint32(RSRC_UPDATE2.offset, offset, true);
  up.setBigUint64(RSRC_UPDATE2.data, BigInt(addressOf(iov)), true);
  up.setBigUint64(RSRC_UPDATE2.tags, tagArr ? BigInt(addressOf(tagArr)) : 0n, true);
  up.setUint32(RSRC_UPDATE2.nr, buffers.length, true);
  return ring.register(RegisterOp.REGISTER_BUFFERS_UPDATE, up, RSRC_UPDATE2.size);
}

/** io_uring_unregister_buffers. */
export function unregisterBuffers(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_BUFFERS, null, 0);
}

/** io_uring_register_files: registers `fds` as fixed files 0..n-1 (-1 leaves a slot empty). */
export function registerFiles(ring: RegisterTarget, fds: readonly number[]): number {
  const arr = Int32Array.from(fds);
  return ring.register(RegisterOp.REGISTER_FILES, arr, fds.length);
}

/** io_uring_register_files_sparse: an empty fixed-file table of `nr` slots (for direct descriptors). */
export function registerFilesSparse(ring: RegisterTarget, nr: number): number {
  const reg = new DataView(new ArrayBuffer(RSRC_REGISTER.size));
  reg.setUint32(RSRC_REGISTER.nr, nr, true);
  reg.setUint32(RSRC_REGISTER.flags, RSRC_REGISTER_SPARSE, true);
  return ring.register(RegisterOp.REGISTER_FILES2, reg, RSRC_REGISTER.size);
}

/** io_uring_register_files_tags: fixed files with a tag each. */
export function registerFilesTags(ring: RegisterTarget, fds: readonly number[], tags: readonly bigint[]): number {
  const arr = Int32Array.from(fds);
  const tagArr = BigUint64Array.from(tags);
  const reg = new DataView(new ArrayBuffer(RSRC_REGISTER.size));
  reg.setUint32(RSRC_REGISTER.nr, fds.length, true);
  reg.setBigUint64(RSRC_REGISTER.data, BigInt(addressOf(arr)), true);
  reg.setBigUint64(RSRC_REGISTER.tags, BigInt(addressOf(tagArr)), true);
  return ring.register(RegisterOp.REGISTER_FILES2, reg, RSRC_REGISTER.size);
}

/** io_uring_register_files_update: replaces fixed files from slot `offset` (-1 clears, -2 skips). Returns slots updated. */
export function registerFilesUpdate(ring: RegisterTarget, offset: number, fds: readonly number[]): number {
  const arr = Int32Array.from(fds);
  const up = new DataView(new ArrayBuffer(RSRC_UPDATE.size));
  up.setUint32(RSRC_UPDATE.offset, offset, true);
  up.setBigUint64(RSRC_UPDATE.data, BigInt(addressOf(arr)), true);
  return ring.register(RegisterOp.REGISTER_FILES_UPDATE, up, fds.length);
}

/** io_uring_unregister_files. */
export function unregisterFiles(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_FILES, null, 0);
}

/** io_uring_register_eventfd: the eventfd is signalled on every CQE. */
export function registerEventfd(ring: RegisterTarget, eventfd: number): number {
  return ring.register(RegisterOp.REGISTER_EVENTFD, Int32Array.of(eventfd), 1);
}

/** io_uring_register_eventfd_async: signalled only for completions that ran asynchronously. */
export function registerEventfdAsync(ring: RegisterTarget, eventfd: number): number {
  return ring.register(RegisterOp.REGISTER_EVENTFD_ASYNC, Int32Array.of(eventfd), 1);
}

/** io_uring_unregister_eventfd. */
export function unregisterEventfd(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_EVENTFD, null, 0);
}

/** io_uring_enable_rings: starts a ring created with R_DISABLED. */
export function enableRings(ring: RegisterTarget): number {
  return ring.register(RegisterOp.REGISTER_ENABLE_RINGS, null, 0);
}

// ---- layouts not (yet) in sys/abi.ts ---------------------------------------
// Small register-only structs, declared here with the header's field names.

/** struct io_uring_clone_buffers: 32 bytes (REGISTER_CLONE_BUFFERS, 6.12). */
const CLONE_BUFFERS = { size: 32, srcFd: 0, flags: 4, srcOff: 8, dstOff: 12, nr: 16 } as const;
/** struct io_uring_napi: 16 bytes (REGISTER_NAPI, 6.9). Bytes 5-7 are opcode/pad (6.13: static tracking). */
const NAPI = { size: 16, busyPollTo: 0, preferBusyPoll: 4, opcode: 5, opParam: 8 } as const;
/** struct io_uring_clock_register: 16 bytes (REGISTER_CLOCK, 6.12). */
const CLOCK_REGISTER = { size: 16, clockid: 0 } as const;
/** struct io_uring_buf_status: 40 bytes (REGISTER_PBUF_STATUS, 6.8). */
const BUF_STATUS = { size: 40, bufGroup: 0, head: 4 } as const;

/** Flags of io_uring_clone_buffers.flags. */
export const CloneBuffersFlags = {
  /** src_fd is a registered ring index of the calling task, not a file descriptor */
  SRC_REGISTERED: 1 << 0,
  /** replace buffers already present in the destination table (6.13) */
  DST_REPLACE: 1 << 1,
} as const;

/** io_uring_napi.opcode values (6.13); 0 keeps the original register/unregister behaviour. */
export const NapiOp = {
  REGISTER_OP: 0,
  STATIC_ADD_ID: 1,
  STATIC_DEL_ID: 2,
} as const;

/** io_uring_napi.op_param tracking strategies (6.13) for NapiOp.REGISTER_OP. */
export const NapiTracking = {
  DYNAMIC: 0,
  STATIC: 1,
  INACTIVE: 255,
} as const;

// ---- files: the rest -------------------------------------------------------

/** io_uring_register_files_update_tag: replaces fixed files from slot `offset`, with a tag each (FILES_UPDATE2). Returns slots updated. */
export function registerFilesUpdateTag(
  ring: RegisterTarget,
  offset: number,
  fds: readonly number[],
  tags?: readonly bigint[],
): number {
  const arr = Int32Array.from(fds);
  const tagArr = tags ? BigUint64Array.from(tags) : null;
  const up = new DataView(new ArrayBuffer(RSRC_UPDATE2.size));
  up.setUint32(RSRC_UPDATE2.offset, offset, true);
  up.setBigUint64(RSRC_UPDATE2.data, BigInt(addressOf(arr)), true);
  up.setBigUint64(RSRC_UPDATE2.tags, tagArr ? BigInt(addressOf(tagArr)) : 0n, true);
  up.setUint32(RSRC_UPDATE2.nr, fds.length, true);
  return ring.register(RegisterOp.REGISTER_FILES_UPDATE2, up, RSRC_UPDATE2.size);
}

/**
 * io_uring_register_file_alloc_range (6.0): direct descriptors allocated by the
 * kernel (FILE_INDEX_ALLOC on openat/accept/socket) come from slots [off, off + len).
 */
export function registerFileAllocRange(ring: RegisterTarget, off: number, len: number): number {
  const range = new DataView(new ArrayBuffer(FILE_INDEX_RANGE.size));
  range.setUint32(FILE_INDEX_RANGE.off, off, true);
  range.setUint32(FILE_INDEX_RANGE.len, len, true);
  return ring.register(RegisterOp.REGISTER_FILE_ALLOC_RANGE, range, 0);
}

// ---- buffers: clone ----------------------------------------------------------

/** The part of a source ring that clone needs. */
export interface CloneSource {
  /** The source ring's file descriptor. */
  readonly fd: number;
}

/**
 * io_uring_clone_buffers_offset (6.12; offsets and DST_REPLACE 6.13): copies
 * `nr` registered buffers of `src` from slot `srcOff` into `dst` at `dstOff`
 * (nr 0: all of them). Both rings then share the pinned pages. `flags` takes
 * {@link CloneBuffersFlags}; without DST_REPLACE the destination range must be empty.
 */
export function cloneBuffersOffset(
  dst: RegisterTarget,
  src: CloneSource,
  dstOff: number,
  srcOff: number,
  nr: number,
  flags = 0,
): number {
  const arg = new DataView(new ArrayBuffer(CLONE_BUFFERS.size));
  // We always pass the real fd: a registered index would be the caller's, and
  // the fd works whether or not the source registered its ring fd.
  arg.setUint32(CLONE_BUFFERS.srcFd, src.fd, true);
  arg.setUint32(CLONE_BUFFERS.flags, flags & ~CloneBuffersFlags.SRC_REGISTERED, true);
  arg.setUint32(CLONE_BUFFERS.srcOff, srcOff, true);
  arg.setUint32(CLONE_BUFFERS.dstOff, dstOff, true);
  arg.setUint32(CLONE_BUFFERS.nr, nr, true);
  return dst.register(RegisterOp.REGISTER_CLONE_BUFFERS, arg, 1);
}

/** io_uring_clone_buffers (6.12): `dst` gets all of `src`'s registered buffers (its table must be empty). */
export function cloneBuffers(dst: RegisterTarget, src: CloneSource): number {
  return cloneBuffersOffset(dst, src, 0, 0, 0, 0);
}

// ---- provided-buffer rings ---------------------------------------------------

/** Arguments of io_uring_register_buf_ring (struct io_uring_buf_reg). */
export interface BufRingReg {
  /** Address of the ring memory (page-aligned; 0 with PbufRingFlags.MMAP). */
  ringAddr: number;
  /** Number of entries: a power of two, at most 32768. */
  ringEntries: number;
  /** Buffer group ID the SQEs name in buf_group. */
  bgid: number;
  /** Minimum buffers left before the kernel reports low buffers (unused by current kernels). */
  minLeft?: number;
}

/**
 * io_uring_register_buf_ring (5.19): registers a provided-buffer ring for group
 * `reg.bgid`. `flags` takes PbufRingFlags (MMAP: the kernel allocates the ring;
 * INC: incremental consumption, 6.12).
 */
export function registerBufRing(ring: RegisterTarget, reg: BufRingReg, flags = 0): number {
  const arg = new DataView(new ArrayBuffer(BUF_REG.size));
  arg.setBigUint64(BUF_REG.ringAddr, BigInt(reg.ringAddr), true);
  arg.setUint32(BUF_REG.ringEntries, reg.ringEntries, true);
  arg.setUint16(BUF_REG.bgid, reg.bgid, true);
  arg.setUint16(BUF_REG.flags, flags, true);
  arg.setUint32(BUF_REG.minLeft, reg.minLeft ?? 0, true);
  return ring.register(RegisterOp.REGISTER_PBUF_RING, arg, 1);
}

/** io_uring_unregister_buf_ring: removes the buffer ring of group `bgid`. */
export function unregisterBufRing(ring: RegisterTarget, bgid: number): number {
  const arg = new DataView(new ArrayBuffer(BUF_REG.size));
  arg.setUint16(BUF_REG.bgid, bgid, true);
  return ring.register(RegisterOp.UNREGISTER_PBUF_RING, arg, 1);
}

/**
 * io_uring_buf_ring_head (6.8, REGISTER_PBUF_STATUS): the kernel's head of
 * group `bgid`'s buffer ring, i.e. how far it has consumed. Returns the head
 * (0..65535) or -errno (liburing returns it through an out parameter).
 */
export function bufRingHead(ring: RegisterTarget, bgid: number): number {
  const status = new DataView(new ArrayBuffer(BUF_STATUS.size));
  status.setUint32(BUF_STATUS.bufGroup, bgid, true);
  const ret = ring.register(RegisterOp.REGISTER_PBUF_STATUS, status, 1);
  return ret < 0 ? ret : status.getUint32(BUF_STATUS.head, true);
}

// ---- personality, restrictions, io-wq ------------------------------------------

/** io_uring_register_personality: registers the caller's credentials; returns the personality ID (> 0) or -errno. */
export function registerPersonality(ring: RegisterTarget): number {
  return ring.register(RegisterOp.REGISTER_PERSONALITY, null, 0);
}

/** io_uring_unregister_personality. */
export function unregisterPersonality(ring: RegisterTarget, id: number): number {
  return ring.register(RegisterOp.UNREGISTER_PERSONALITY, null, id);
}

/** One io_uring_restriction: `opcode` is a RestrictionOp, `arg` the register op, SQE op or SQE flags it allows. */
export interface Restriction {
  opcode: number;
  arg: number;
}

/**
 * io_uring_register_restrictions (5.10): limits which register ops, SQE ops and
 * SQE flags the ring accepts. Only on a ring created disabled (R_DISABLED),
 * once, before {@link enableRings}. A disallowed SQE completes with -EACCES.
 */
export function registerRestrictions(ring: RegisterTarget, restrictions: readonly Restriction[]): number {
  const buf = new Uint8Array(Math.max(1, restrictions.length) * RESTRICTION.size);
  const view = new DataView(buf.buffer);
  restrictions.forEach((r, i) => {
    view.setUint16(i * RESTRICTION.size + RESTRICTION.opcode, r.opcode, true);
    view.setUint8(i * RESTRICTION.size + RESTRICTION.arg, r.arg);
  });
  return ring.register(RegisterOp.REGISTER_RESTRICTIONS, buf, restrictions.length);
}

/**
 * io_uring_register_iowq_aff (5.14): the CPUs this ring's io-wq workers may run
 * on. `cpus` is a list of CPU numbers or a bit mask (bit n = CPU n).
 */
export function registerIowqAff(ring: RegisterTarget, cpus: readonly number[] | bigint): number {
  const list = typeof cpus === "bigint" ? maskToCpus(cpus) : cpus;
  if (list.length === 0) return -Errno.EINVAL; // an empty set could run nothing
  const maxCpu = Math.max(...list);
  // cpu_set_t is a bit array in unsigned longs; the kernel wants whole longs.
  const bytes = new Uint8Array(Math.ceil((maxCpu + 1) / 64) * 8);
  for (const cpu of list) {
    if (!Number.isInteger(cpu) || cpu < 0) return -Errno.EINVAL;
    bytes[cpu >>> 3]! |= 1 << (cpu & 7);
  }
  return ring.register(RegisterOp.REGISTER_IOWQ_AFF, bytes, bytes.length);
}

function maskToCpus(mask: bigint): number[] {
  const out: number[] = [];
  for (let cpu = 0; mask > 0n; cpu++, mask >>= 1n) if (mask & 1n) out.push(cpu);
  return out;
}

/** io_uring_unregister_iowq_aff: io-wq workers may run on any CPU again. */
export function unregisterIowqAff(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_IOWQ_AFF, null, 0);
}

/**
 * io_uring_register_iowq_max_workers (5.15): `values` = [bounded, unbounded]
 * worker limits; 0 leaves a limit unchanged. On success the array holds the
 * previous limits (so [0, 0] reads them).
 */
export function registerIowqMaxWorkers(ring: RegisterTarget, values: Uint32Array): number {
  if (values.length < 2) return -Errno.EINVAL;
  return ring.register(RegisterOp.REGISTER_IOWQ_MAX_WORKERS, values, 2);
}

// ---- sync cancel -------------------------------------------------------------

/** What io_uring_register_sync_cancel cancels (struct io_uring_sync_cancel_reg). */
export interface SyncCancelReg {
  /** user_data to match (CancelFlags.USERDATA or no key flag). */
  userData?: number | bigint;
  /** fd to match with CancelFlags.FD (a fixed-file index with FD_FIXED). */
  fd?: number;
  /** CancelFlags: ALL, FD, ANY, FD_FIXED, USERDATA, OP. */
  flags?: number;
  /** Give up after this many nanoseconds (-ETIME); omitted or null: wait as long as it takes. */
  timeoutNs?: number | null;
  /** Opcode to match with CancelFlags.OP. */
  opcode?: number;
}

/**
 * io_uring_register_sync_cancel (6.0): cancels matching requests and waits for
 * them to finish. Returns 0 (or the count with ALL/ANY), -ENOENT when nothing
 * matched, -EALREADY when a match is already running, -ETIME on timeout.
 */
export function registerSyncCancel(ring: RegisterTarget, reg: SyncCancelReg): number {
  const arg = new DataView(new ArrayBuffer(SYNC_CANCEL_REG.size));
  const ud = reg.userData ?? 0;
  arg.setBigUint64(SYNC_CANCEL_REG.addr, BigInt.asUintN(64, BigInt(ud)), true);
  arg.setInt32(SYNC_CANCEL_REG.fd, reg.fd ?? -1, true);
  arg.setUint32(SYNC_CANCEL_REG.flags, reg.flags ?? 0, true);
  const t = SYNC_CANCEL_REG.timeout;
  if (reg.timeoutNs === undefined || reg.timeoutNs === null) {
    // The kernel reads { -1, -1 } as "no timeout"; zero would time out at once.
    arg.setBigInt64(t, -1n, true);
    arg.setBigInt64(t + 8, -1n, true);
  } else {
    const ns = Math.max(0, Math.floor(reg.timeoutNs));
    arg.setBigInt64(t, BigInt(Math.floor(ns / 1e9)), true);
    arg.setBigInt64(t + 8, BigInt(ns % 1e9), true);
  }
  arg.setUint8(SYNC_CANCEL_REG.opcode, reg.opcode ?? 0);
  return ring.register(RegisterOp.REGISTER_SYNC_CANCEL, arg, 1);
}

// ---- NAPI, clock -------------------------------------------------------------

/** Settings of io_uring_register_napi (struct io_uring_napi). */
export interface NapiSettings {
  /** Busy-poll timeout in microseconds. */
  busyPollTo: number;
  /** Set SO_PREFER_BUSY_POLL semantics. */
  preferBusyPoll?: boolean;
  /** NapiOp (6.13); default REGISTER_OP. */
  opcode?: number;
  /** NapiTracking for REGISTER_OP, or a NAPI ID for STATIC_ADD/DEL_ID (6.13). */
  opParam?: number;
}

/**
 * io_uring_register_napi (6.9): busy-poll the network stack while waiting for
 * completions. Kernels without CONFIG_NET_RX_BUSY_POLL answer -EINVAL.
 */
export function registerNapi(ring: RegisterTarget, settings: NapiSettings): number {
  const arg = new DataView(new ArrayBuffer(NAPI.size));
  arg.setUint32(NAPI.busyPollTo, settings.busyPollTo, true);
  arg.setUint8(NAPI.preferBusyPoll, settings.preferBusyPoll ? 1 : 0);
  arg.setUint8(NAPI.opcode, settings.opcode ?? 0);
  arg.setUint32(NAPI.opParam, settings.opParam ?? 0, true);
  return ring.register(RegisterOp.REGISTER_NAPI, arg, 1);
}

/**
 * io_uring_unregister_napi: stops busy polling. When `out` is given, it
 * receives the settings that were in effect.
 */
export function unregisterNapi(ring: RegisterTarget, out?: NapiSettings): number {
  const arg = new DataView(new ArrayBuffer(NAPI.size));
  const ret = ring.register(RegisterOp.UNREGISTER_NAPI, arg, 1);
  if (ret >= 0 && out) {
    out.busyPollTo = arg.getUint32(NAPI.busyPollTo, true);
    out.preferBusyPoll = arg.getUint8(NAPI.preferBusyPoll) !== 0;
  }
  return ret;
}

/** Clocks io_uring_register_clock accepts. */
export const ClockId = {
  MONOTONIC: 1,
  BOOTTIME: 7,
} as const;

/** io_uring_register_clock (6.12): the clock that wait timeouts use (ClockId.MONOTONIC, the default, or BOOTTIME). */
export function registerClock(ring: RegisterTarget, clockid: number): number {
  const arg = new DataView(new ArrayBuffer(CLOCK_REGISTER.size));
  arg.setUint32(CLOCK_REGISTER.clockid, clockid, true);
  return ring.register(RegisterOp.REGISTER_CLOCK, arg, 0);
}

// ---- resize rings ------------------------------------------------------------

/** What resizing needs from a ring: the register call, its fd, setup flags and features. */
export interface ResizeTarget extends RegisterTarget {
  readonly fd: number;
  readonly flags: number;
  readonly features: number;
}

/**
 * IORING_REGISTER_RESIZE_RINGS (6.13) and the new mappings: asks the kernel to
 * move the SQ/CQ into rings of `sqEntries` / `cqEntries` (default 2 × SQ),
 * copying what is pending, then maps the new rings. Returns their layout, or
 * -errno (the old rings then stay in force).
 *
 * This is the low half of `Ring.resizeRings`, which swaps the ring's queues
 * over to the returned layout and unmaps the old one: call that, not this, or
 * the Ring keeps using memory the kernel no longer reads. The kernel allows it
 * only on DEFER_TASKRUN rings (-EINVAL otherwise), and answers -EOVERFLOW when
 * the pending SQEs or CQEs would not fit.
 */
export function resizeRingsLayout(ring: ResizeTarget, sqEntries: number, cqEntries?: number): RingLayout | number {
  if (ring.flags & SetupFlags.NO_MMAP) return -Errno.EINVAL; // would need new user memory, as liburing also refuses
  const paramBytes = new Uint8Array(PARAMS.size);
  const params = new DataView(paramBytes.buffer);
  params.setUint32(PARAMS.sqEntries, sqEntries, true);
  if (cqEntries !== undefined) {
    params.setUint32(PARAMS.cqEntries, cqEntries, true);
    params.setUint32(PARAMS.flags, SetupFlags.CQSIZE, true);
  }
  const ret = ring.register(RegisterOp.REGISTER_RESIZE_RINGS, paramBytes, 1);
  if (ret < 0) return ret;
  return mapRings(ring.fd, params, ring.flags, ring.features);
}

/** Maps SQ ring, CQ ring and SQE array as io_uring_params describes them (the mmap half of setup). */
function mapRings(fd: number, params: DataView, flags: number, features: number): RingLayout | number {
  const sqEntries = params.getUint32(PARAMS.sqEntries, true);
  const cqEntries = params.getUint32(PARAMS.cqEntries, true);
  const so = (f: number) => params.getUint32(PARAMS.sqOff + f, true);
  const co = (f: number) => params.getUint32(PARAMS.cqOff + f, true);
  const sqOff = {
    head: so(SQRING_OFFSETS.head),
    tail: so(SQRING_OFFSETS.tail),
    ringMask: so(SQRING_OFFSETS.ringMask),
    ringEntries: so(SQRING_OFFSETS.ringEntries),
    flags: so(SQRING_OFFSETS.flags),
    dropped: so(SQRING_OFFSETS.dropped),
    array: so(SQRING_OFFSETS.array),
  };
  const cqOff = {
    head: co(CQRING_OFFSETS.head),
    tail: co(CQRING_OFFSETS.tail),
    ringMask: co(CQRING_OFFSETS.ringMask),
    ringEntries: co(CQRING_OFFSETS.ringEntries),
    overflow: co(CQRING_OFFSETS.overflow),
    cqes: co(CQRING_OFFSETS.cqes),
    flags: co(CQRING_OFFSETS.flags),
  };
  const sqeSize = flags & SetupFlags.SQE128 ? 128 : 64;
  const cqeSize = flags & SetupFlags.CQE32 ? 32 : 16;
  const sqLen = flags & SetupFlags.NO_SQARRAY ? sqOff.array || cqOff.cqes : sqOff.array + sqEntries * 4;
  const sqRingLen = Math.max(sqLen, sqOff.flags + 4, sqOff.dropped + 4);
  const cqRingLen = cqOff.cqes + cqEntries * cqeSize;
  const single = (features & Features.SINGLE_MMAP) !== 0;
  const ringLen = single ? Math.max(sqRingLen, cqRingLen) : sqRingLen;
  const sqesLen = sqEntries * sqeSize;
  const rw = Mman.PROT_READ | Mman.PROT_WRITE;
  const shared = Mman.MAP_SHARED | Mman.MAP_POPULATE;

  const mappings: RingLayout["mappings"] = [];
  const unmapAll = (err: number): number => {
    for (const m of mappings) munmap(m.addr, m.len);
    return err;
  };
  const sqAddr = mmap(0, ringLen, rw, shared, fd, MmapOffset.SQ_RING);
  if (sqAddr < 0) return sqAddr;
  mappings.push({ addr: sqAddr, len: ringLen });
  let cqAddr = sqAddr;
  if (!single) {
    cqAddr = mmap(0, cqRingLen, rw, shared, fd, MmapOffset.CQ_RING);
    if (cqAddr < 0) return unmapAll(cqAddr);
    mappings.push({ addr: cqAddr, len: cqRingLen });
  }
  const sqesAddr = mmap(0, sqesLen, rw, shared, fd, MmapOffset.SQES);
  if (sqesAddr < 0) return unmapAll(sqesAddr);
  mappings.push({ addr: sqesAddr, len: sqesLen });

  const sqRing = memoryView(sqAddr, ringLen);
  return {
    fd,
    flags,
    features,
    sqEntries,
    cqEntries,
    sqeSize,
    cqeSize,
    sqRing,
    sqOff,
    cqRing: single ? sqRing : memoryView(cqAddr, cqRingLen),
    cqOff,
    sqes: memoryView(sqesAddr, sqesLen),
    mappings,
  };
}
