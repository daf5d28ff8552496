/**
 * Completion queue entries as preallocated cursors over the mmapped CQ.
 * A {@link Cqe} is valid until it is marked seen (`cqeSeen` / `cqAdvance`):
 * after that the kernel may overwrite its slot.
 */
import { CQE_BUFFER_SHIFT, CqeFlags } from "../sys/constants.ts";

const TWO_32 = 4294967296;

/** One CQE slot: a view over its words in the shared CQ ring. */
export class Cqe {
  /** Index of this slot in the CQE array. */
  readonly index: number;
  /** The CQE as i32 words: [user_data lo, user_data hi, res, flags, (big_cqe ...)]. Zeroed JS memory once the ring is closed or resized. */
  i32: Int32Array;

  /** @internal Built once per slot by the completion queue. */
  constructor(cqRing: ArrayBuffer, byteOffset: number, size: number, index: number) {
    this.index = index;
    this.i32 = new Int32Array(cqRing, byteOffset, size >>> 2);
  }

  /** @internal The ring unmaps this slot: from now on the cursor reads zeros (see CompletionQueue.retire). */
  retire(): void {
    this.i32 = new Int32Array(this.i32.length);
  }

  /** cqe->res: the result (>= 0) or -errno. */
  get res(): number {
    return this.i32[2]!;
  }

  /** cqe->flags (IORING_CQE_F_*), as an unsigned number. */
  get flags(): number {
    return this.i32[3]! >>> 0;
  }

  /** Low 32 bits of user_data. */
  get userDataLo(): number {
    return this.i32[0]! >>> 0;
  }

  /** High 32 bits of user_data. */
  get userDataHi(): number {
    return this.i32[1]! >>> 0;
  }

  /** user_data as a number (exact below 2^53). */
  get userData(): number {
    return (this.i32[0]! >>> 0) + (this.i32[1]! >>> 0) * TWO_32;
  }

  /** The 16 extra bytes of a 32-byte CQE (CQE32 rings) as two u64 values. */
  bigCqe(): [bigint, bigint] {
    const w = this.i32;
    const u = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return [u(w[4] ?? 0, w[5] ?? 0), u(w[6] ?? 0, w[7] ?? 0)];
  }
}

/** io_uring_cqe_get_data64: user_data as a bigint (all 64 bits). */
export function cqeGetData64(cqe: Cqe): bigint {
  return (BigInt(cqe.userDataHi) << 32n) | BigInt(cqe.userDataLo);
}

/** io_uring_cqe_get_data: user_data as a number (exact below 2^53). */
export function cqeGetData(cqe: Cqe): number {
  return cqe.userData;
}

/** The request will post more CQEs (multishot still armed). */
export function cqeMore(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.MORE) !== 0;
}

/** The CQE carries a provided buffer's ID. */
export function cqeHasBuffer(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.BUFFER) !== 0;
}

/** The provided buffer's ID, or -1 when the CQE carries none. */
export function cqeBufferId(cqe: Cqe): number {
  const f = cqe.flags;
  return (f & CqeFlags.BUFFER) !== 0 ? f >>> CQE_BUFFER_SHIFT : -1;
}

/** A SEND_ZC notification: the kernel is done with the buffer. */
export function cqeNotif(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.NOTIF) !== 0;
}

/** The socket had more data after this recv. */
export function cqeSockNonempty(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.SOCK_NONEMPTY) !== 0;
}

/** Incremental buffer ring: the buffer will be used for more completions. */
export function cqeBufMore(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.BUF_MORE) !== 0;
}
