/**
 * The fixed (registered) file table, with liburing's names: register it
 * whole, sparse or tagged, update slots, unregister, and set the range that
 * direct descriptors are allocated from. Each returns >= 0 on success,
 * -errno on failure.
 */
import { FILE_INDEX_RANGE, RSRC_UPDATE } from "../sys/abi.ts";
import { RegisterOp, RSRC_REGISTER_SPARSE } from "../sys/constants.ts";
import { addressOf } from "../sys/ffi.ts";
import { registerRsrc, updateRsrc, type RegisterTarget } from "./register-common.ts";

/** io_uring_register_files: registers `fds` as fixed files 0..n-1 (-1 leaves a slot empty). */
export function registerFiles(ring: RegisterTarget, fds: readonly number[]): number {
  const arr = Int32Array.from(fds);
  return ring.register(RegisterOp.REGISTER_FILES, arr, fds.length);
}

/** io_uring_register_files_sparse: an empty fixed-file table of `nr` slots (for direct descriptors). */
export function registerFilesSparse(ring: RegisterTarget, nr: number): number {
  return registerRsrc(ring, RegisterOp.REGISTER_FILES2, nr, RSRC_REGISTER_SPARSE, null);
}

/** io_uring_register_files_tags: fixed files with a tag each. */
export function registerFilesTags(ring: RegisterTarget, fds: readonly number[], tags: readonly bigint[]): number {
  return registerRsrc(ring, RegisterOp.REGISTER_FILES2, fds.length, 0, Int32Array.from(fds), tags);
}

/** io_uring_register_files_update: replaces fixed files from slot `offset` (-1 clears, -2 skips). Returns slots updated. */
export function registerFilesUpdate(ring: RegisterTarget, offset: number, fds: readonly number[]): number {
  const arr = Int32Array.from(fds);
  const up = new DataView(new ArrayBuffer(RSRC_UPDATE.size));
  up.setUint32(RSRC_UPDATE.offset, offset, true);
  up.setBigUint64(RSRC_UPDATE.data, BigInt(addressOf(arr)), true);
  return ring.register(RegisterOp.REGISTER_FILES_UPDATE, up, fds.length);
}

/** io_uring_register_files_update_tag: replaces fixed files from slot `offset`, with a tag each (FILES_UPDATE2). Returns slots updated. */
export function registerFilesUpdateTag(ring: RegisterTarget, offset: number, fds: readonly number[], tags?: readonly bigint[]): number {
  return updateRsrc(ring, RegisterOp.REGISTER_FILES_UPDATE2, offset, fds.length, Int32Array.from(fds), tags);
}

/** io_uring_unregister_files. */
export function unregisterFiles(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_FILES, null, 0);
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
