/**
 * uring-bench: io_uring for Bun. The public API.
 *
 * - {@link Ring}: the low-level ring with liburing's names.
 * - Preparers (`prepNop`, `prepRw`, ...) write SQEs; flags and opcodes are data.
 */
export { Ring, type RingOptions } from "./ring/ring.ts";
export { Sqe, sqeSetData, sqeSetData64, sqeSetData32x2, sqeSetFlags, sqeAddFlags, sqeSetBufGroup, sqeBytes } from "./ring/sqe.ts";
export {
  Cqe,
  cqeGetData,
  cqeGetData64,
  cqeMore,
  cqeHasBuffer,
  cqeBufferId,
  cqeNotif,
  cqeSockNonempty,
  cqeBufMore,
} from "./ring/cqe.ts";
export { Probe } from "./ring/probe.ts";
export { readIoUringDisabled, setupFlagNames, kernelHasSetupFlag } from "./ring/setup.ts";
export * from "./ring/register.ts";
export * from "./sys/constants.ts";
export { SyscallError, errnoName, Errno } from "./sys/errno.ts";
export { addressOf, shimBuild, type Addressable } from "./sys/ffi.ts";
export * from "./ops/index.ts";
export { AlignedBuffer, PAGE_SIZE } from "./mem/aligned.ts";
export { FixedBuffers, MAX_FIXED_BUFFERS } from "./mem/fixed-buffers.ts";
export * from "./mem/buf-ring-memory.ts";
export { BufferRing, type BufferRingOptions } from "./mem/buffer-ring.ts";
export * from "./async/index.ts";
export * from "./net/index.ts";
