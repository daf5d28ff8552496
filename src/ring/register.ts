/**
 * io_uring_register(2) operations, with liburing's names (ring first). Each
 * returns the kernel's result: >= 0 on success, -errno on failure.
 *
 * This file only gathers them; each concern lives in its own file:
 * - register-common.ts: the ring they call through, buffer shapes, iovecs
 * - register-buffers.ts: the fixed-buffer table (register, sparse, tags, update, unregister, clone)
 * - register-files.ts: the fixed-file table and the direct-descriptor alloc range
 * - register-buf-ring.ts: provided-buffer rings (register, unregister, head)
 * - register-ctl.ts: eventfd, enable, personality, restrictions, io-wq, sync cancel, NAPI, clock
 * - resize.ts: IORING_REGISTER_RESIZE_RINGS
 *
 * Safety: registered buffers are pinned by the kernel until unregistered; the
 * caller keeps the JavaScript objects that own that memory alive until then
 * (`src/mem` provides off-heap memory for exactly this).
 */
export { makeIovecs, type BufferLike, type RegisterTarget } from "./register-common.ts";
export * from "./register-buffers.ts";
export * from "./register-files.ts";
export * from "./register-buf-ring.ts";
export * from "./register-ctl.ts";
export * from "./resize.ts";
