/**
 * Builders for the small C structs the preparers point at: C strings,
 * struct msghdr, open_how, epoll_event and futex_waitv; and a reader for the
 * io_uring_recvmsg_out header of multishot recvmsg buffers.
 *
 * Safety: a struct that holds pointers (msghdr) does not keep the pointed-to
 * buffers alive; the caller keeps every one of them until the final CQE.
 */
import { IOVEC, RECVMSG_OUT } from "../sys/abi.ts";
import type { Addressable } from "../sys/ffi.ts";
import { setU64 } from "../ring/sqe.ts";
import { putAddr } from "./fields.ts";

const encoder = new TextEncoder();

/** A NUL-terminated UTF-8 copy of `s`, for path and name arguments. */
export function cstr(s: string): Uint8Array {
  if (s.includes("\0")) throw new TypeError(`cstr: the string contains a NUL byte, which would cut it short: ${JSON.stringify(s)}`);
  const b = encoder.encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** struct msghdr (x86-64 / arm64): 56 bytes. */
export const MSGHDR = { size: 56, name: 0, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 48 } as const;

/** The fields of a struct msghdr. Pointers are buffers or raw addresses. */
export interface MsghdrInit {
  /** msg_name: a sockaddr buffer (sendmsg destination, or where recvmsg writes the source). */
  name?: Addressable | null;
  /** msg_namelen (defaults to name's byteLength when name is a buffer). */
  namelen?: number;
  /** msg_iov: a struct iovec array (see makeIovecs). */
  iov?: Addressable | null;
  /** msg_iovlen: number of iovecs (defaults to iov's byteLength / 16 when iov is a buffer). */
  iovlen?: number;
  /** msg_control: ancillary data buffer. */
  control?: Addressable | null;
  /** msg_controllen (defaults to control's byteLength when control is a buffer). */
  controllen?: number;
  /** msg_flags. */
  flags?: number;
}

function byteLengthOf(a: Addressable | null | undefined): number {
  if (a === null || a === undefined || typeof a === "number" || typeof a === "bigint") return 0;
  return a.byteLength;
}

/** Builds a struct msghdr for sendmsg/recvmsg preparers. */
export function makeMsghdr(init: MsghdrInit): Uint8Array {
  const b = new Uint8Array(MSGHDR.size);
  const w = new Uint32Array(b.buffer);
  putAddr(w, MSGHDR.name / 4, init.name ?? null);
  w[MSGHDR.namelen / 4] = init.namelen ?? byteLengthOf(init.name);
  putAddr(w, MSGHDR.iov / 4, init.iov ?? null);
  setU64(w, MSGHDR.iovlen / 4, init.iovlen ?? Math.floor(byteLengthOf(init.iov) / IOVEC.size));
  putAddr(w, MSGHDR.control / 4, init.control ?? null);
  setU64(w, MSGHDR.controllen / 4, init.controllen ?? byteLengthOf(init.control));
  w[MSGHDR.flags / 4] = init.flags ?? 0;
  return b;
}

/** struct open_how for openat2: flags (O_*), mode, resolve (RESOLVE_*). 24 bytes. */
export function makeOpenHow(flags: number | bigint, mode: number | bigint = 0, resolve: number | bigint = 0): Uint8Array {
  const b = new Uint8Array(24);
  const w = new Uint32Array(b.buffer);
  setU64(w, 0, flags);
  setU64(w, 2, mode);
  setU64(w, 4, resolve);
  return b;
}

/** sizeof(struct epoll_event): packed to 12 bytes on x86-64, 16 elsewhere. */
export const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;

/** struct epoll_event for epoll_ctl: `events` (EPOLLIN, ...) and the 64-bit `data`. */
export function makeEpollEvent(events: number, data: number | bigint = 0): Uint8Array {
  const b = new Uint8Array(EPOLL_EVENT_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, events >>> 0, true);
  const off = EPOLL_EVENT_SIZE === 12 ? 4 : 8;
  const d = typeof data === "bigint" ? BigInt.asUintN(64, data) : BigInt.asUintN(64, BigInt(data));
  v.setBigUint64(off, d, true);
  return b;
}

/** One entry of a futex_waitv array. */
export interface FutexWaitvEntry {
  /** Expected value of the futex word. */
  val: number | bigint;
  /** The futex word: a buffer or address. */
  uaddr: Addressable;
  /** FUTEX2_* flags (size, PRIVATE). */
  flags: number;
}

/** struct futex_waitv[] (24 bytes each) for prepFutexWaitv. */
export function makeFutexWaitv(entries: readonly FutexWaitvEntry[]): Uint8Array {
  const b = new Uint8Array(24 * Math.max(1, entries.length));
  const w = new Uint32Array(b.buffer);
  entries.forEach((e, i) => {
    setU64(w, i * 6, e.val);
    putAddr(w, i * 6 + 2, e.uaddr);
    w[i * 6 + 4] = e.flags;
  });
  return b;
}

/** A decoded multishot recvmsg buffer: the io_uring_recvmsg_out header and views of its parts. */
export interface RecvmsgOut {
  /** Length of the source address the kernel had (may exceed the space given). */
  namelen: number;
  /** Length of the control data the kernel had. */
  controllen: number;
  /** Length of the payload the kernel had (may exceed what fit). */
  payloadlen: number;
  /** msg_flags of this message (MSG_TRUNC, MSG_CTRUNC, ...). */
  flags: number;
  /** The source address area (msg_namelen bytes reserved). */
  name: Uint8Array;
  /** The control data area (msg_controllen bytes reserved). */
  control: Uint8Array;
  /** The payload that fit in the buffer. */
  payload: Uint8Array;
}

/**
 * io_uring_recvmsg_validate + _name/_payload/_payload_length: decodes the
 * first `len` bytes (cqe->res) of a multishot recvmsg buffer, given the
 * msghdr's namelen/controllen used in the SQE. Returns null when `len` cannot
 * hold the header and reserved areas (liburing's validate failing).
 */
export function recvmsgOut(buf: Uint8Array, len: number, msgNamelen: number, msgControllen: number): RecvmsgOut | null {
  const hdr = RECVMSG_OUT.size;
  if (len < 0 || len < hdr || msgNamelen > len - hdr || msgControllen > len - hdr - msgNamelen) return null;
  const v = new DataView(buf.buffer, buf.byteOffset, len);
  const nameStart = hdr;
  const controlStart = nameStart + msgNamelen;
  const payloadStart = controlStart + msgControllen;
  return {
    namelen: v.getUint32(RECVMSG_OUT.namelen, true),
    controllen: v.getUint32(RECVMSG_OUT.controllen, true),
    payloadlen: v.getUint32(RECVMSG_OUT.payloadlen, true),
    flags: v.getUint32(RECVMSG_OUT.flags, true),
    name: buf.subarray(nameStart, controlStart),
    control: buf.subarray(controlStart, payloadStart),
    payload: buf.subarray(payloadStart, len),
  };
}
