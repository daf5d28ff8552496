/**
 * io_uring_register(2) operations, with liburing's names (ring first). Each
 * returns the kernel's result: >= 0 on success, -errno on failure.
 *
 * Safety: registered buffers are pinned by the kernel until unregistered; the
 * caller keeps the JavaScript objects that own that memory alive until then
 * (`src/mem` provides off-heap memory for exactly this).
 */
import { IOVEC, RSRC_REGISTER, RSRC_UPDATE, RSRC_UPDATE2 } from "../sys/abi.ts";
import { RegisterOp, RSRC_REGISTER_SPARSE } from "../sys/constants.ts";
import { addressOf, ioUringRegister, type Addressable } from "../sys/ffi.ts";

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
