/**
 * The fixed (registered) buffer table, with liburing's names: register it
 * whole, sparse or tagged, update slots, unregister, and clone it from another
 * ring. Each returns >= 0 on success, -errno on failure.
 *
 * Safety: registered buffers are pinned by the kernel until unregistered; the
 * caller keeps the JavaScript objects that own that memory alive until then
 * (`src/mem` provides off-heap memory for exactly this).
 */
import { CLONE_BUFFERS } from "../sys/abi.ts";
import { RegisterOp, RSRC_REGISTER_SPARSE } from "../sys/constants.ts";
import { makeIovecs, registerRsrc, updateRsrc, type BufferLike, type RegisterTarget } from "./register-common.ts";

/** io_uring_register_buffers: registers `buffers` as fixed buffers 0..n-1. */
export function registerBuffers(ring: RegisterTarget, buffers: readonly BufferLike[]): number {
  const iov = makeIovecs(buffers);
  return ring.register(RegisterOp.REGISTER_BUFFERS, iov, buffers.length);
}

/** io_uring_register_buffers_sparse: an empty fixed-buffer table of `nr` slots, filled later by update. */
export function registerBuffersSparse(ring: RegisterTarget, nr: number): number {
  return registerRsrc(ring, RegisterOp.REGISTER_BUFFERS2, nr, RSRC_REGISTER_SPARSE, null);
}

/** io_uring_register_buffers_tags: fixed buffers with a tag each (a CQE with the tag is posted when a buffer is released). */
export function registerBuffersTags(ring: RegisterTarget, buffers: readonly BufferLike[], tags: readonly bigint[]): number {
  return registerRsrc(ring, RegisterOp.REGISTER_BUFFERS2, buffers.length, 0, makeIovecs(buffers), tags);
}

/** io_uring_register_buffers_update_tag: replaces fixed buffers from slot `offset`. */
export function registerBuffersUpdateTag(ring: RegisterTarget, offset: number, buffers: readonly BufferLike[], tags?: readonly bigint[]): number {
  return updateRsrc(ring, RegisterOp.REGISTER_BUFFERS_UPDATE, offset, buffers.length, makeIovecs(buffers), tags);
}

/** io_uring_unregister_buffers. */
export function unregisterBuffers(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_BUFFERS, null, 0);
}

// ---- clone -------------------------------------------------------------------

/** Flags of io_uring_clone_buffers.flags. */
export const CloneBuffersFlags = {
  /** src_fd is a registered ring index of the calling task, not a file descriptor */
  SRC_REGISTERED: 1 << 0,
  /** replace buffers already present in the destination table (6.13) */
  DST_REPLACE: 1 << 1,
} as const;

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
export function cloneBuffersOffset(dst: RegisterTarget, src: CloneSource, dstOff: number, srcOff: number, nr: number, flags = 0): number {
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
