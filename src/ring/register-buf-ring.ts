/**
 * Provided-buffer rings at the register level, with liburing's names:
 * register and unregister a buffer group's ring, and read the kernel's head.
 * `src/mem/buf-ring-memory.ts` builds the ring memory on top of these. Each returns
 * >= 0 on success, -errno on failure.
 */
import { BUF_REG, BUF_STATUS } from "../sys/abi.ts";
import { RegisterOp } from "../sys/constants.ts";
import type { RegisterTarget } from "./register-common.ts";

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
