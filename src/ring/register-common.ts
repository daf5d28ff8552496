/**
 * What every io_uring_register(2) wrapper shares: the ring they call through,
 * the buffer shapes they accept, the iovec builder, and the rsrc register and
 * update calls that the buffer and file tables both make.
 *
 * Safety: the kernel reads the structs and the arrays they point at during
 * the register call only; the registered memory itself stays pinned until
 * unregistered (see register-buffers.ts).
 */
import { IOVEC, RSRC_REGISTER, RSRC_UPDATE2 } from "../sys/abi.ts";
import { addressOf, type Addressable } from "../sys/ffi.ts";

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

/**
 * Registers a fixed-file or fixed-buffer table through struct
 * io_uring_rsrc_register (`op` REGISTER_FILES2 / REGISTER_BUFFERS2): `nr`
 * slots filled from `data` (fds or iovecs) with a tag each, or left empty
 * (data null, RSRC_REGISTER_SPARSE in `flags`).
 */
export function registerRsrc(ring: RegisterTarget, op: number, nr: number, flags: number, data: Addressable | null, tags?: readonly bigint[]): number {
  const tagArr = tags ? BigUint64Array.from(tags) : null;
  const reg = new DataView(new ArrayBuffer(RSRC_REGISTER.size));
  reg.setUint32(RSRC_REGISTER.nr, nr, true);
  reg.setUint32(RSRC_REGISTER.flags, flags, true);
  reg.setBigUint64(RSRC_REGISTER.data, data === null ? 0n : BigInt(addressOf(data)), true);
  reg.setBigUint64(RSRC_REGISTER.tags, tagArr === null ? 0n : BigInt(addressOf(tagArr)), true);
  return ring.register(op, reg, RSRC_REGISTER.size);
}

/**
 * Replaces `nr` slots from `offset` of a fixed-file or fixed-buffer table
 * through struct io_uring_rsrc_update2 (`op` FILES_UPDATE2 / BUFFERS_UPDATE),
 * with `data` (fds or iovecs) and optional tags.
 */
export function updateRsrc(ring: RegisterTarget, op: number, offset: number, nr: number, data: Addressable, tags?: readonly bigint[]): number {
  const tagArr = tags ? BigUint64Array.from(tags) : null;
  const up = new DataView(new ArrayBuffer(RSRC_UPDATE2.size));
  up.setUint32(RSRC_UPDATE2.offset, offset, true);
  up.setBigUint64(RSRC_UPDATE2.data, BigInt(addressOf(data)), true);
  up.setBigUint64(RSRC_UPDATE2.tags, tagArr === null ? 0n : BigInt(addressOf(tagArr)), true);
  up.setUint32(RSRC_UPDATE2.nr, nr, true);
  return ring.register(op, up, RSRC_UPDATE2.size);
}
