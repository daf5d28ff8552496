/**
 * `Uring`: io_uring as Promises and async iterators on Bun's event loop.
 *
 * ```ts
 * const uring = new Uring();
 * const n = await uring.read(fd, buf, 0);
 * for await (const conn of uring.accept(listenFd, { multishot: true })) ...
 * const r = await uring.chain().write(fd, data, 0).fdatasync(fd).run();
 * ```
 *
 * Every op takes `{ signal, timeout }`; failures reject with a UringError.
 * Buffers passed in are held by the request until its final CQE.
 */
import type { BufferRing } from "../mem/buffer-ring.ts";
import { AT_FDCWD, prepClose, prepFallocate, prepFtruncate, prepMkdirat, prepOpenat, prepRenameat, prepStatx, prepUnlinkat } from "../ops/fs.ts";
import { prepAccept, prepBind, prepConnect, prepListen, prepMultishotAccept, prepRecv, prepRecvMultishot, prepSend, prepSendZc, prepShutdown, prepSocket } from "../ops/net.ts";
import { prepPollAdd, prepPollMultishot } from "../ops/poll.ts";
import { prepFdatasync, prepFsync, prepNop, prepRead, prepReadMultishot, prepReadv, prepWrite, prepWritev, prepRw } from "../ops/rw.ts";
import { cstr } from "../ops/structs.ts";
import { prepTimeout } from "../ops/timeout.ts";
import { Timespec } from "../ops/timespec.ts";
import { makeIovecs } from "../ring/register.ts";
import { sqeAddFlags, sqeSetBufGroup, type Sqe } from "../ring/sqe.ts";
import { Errno } from "../sys/errno.ts";
import { CqeFlags, Op, SqeFlags, TimeoutFlags } from "../sys/constants.ts";
import { Chain, type ChainOptions } from "./chain.ts";
import { UringEngine, type OpOptions, type UringOptions } from "./engine.ts";
import { abortError, errorFor } from "./errors.ts";
import { leaseFor, MultishotIterator, releaseLease, type RecvLease } from "./multishot.ts";
import { Mode, type SlotHandler } from "./pending.ts";
import { STATX_BASIC_STATS, STATX_SIZE, type StatxResult } from "./statx.ts";

export type { OpOptions, UringOptions } from "./engine.ts";

/** Read/write options: a byte count other than the buffer's length. */
export interface RwOptions extends OpOptions {
  /** Bytes to transfer (default: the buffer's byteLength). */
  length?: number;
}

/** Options for path operations. */
export interface PathOptions extends OpOptions {
  /** Directory fd the path is relative to (default AT_FDCWD). */
  dirfd?: number;
}

/** Options for multishot iterators. */
export interface MultishotOptions {
  /** Aborting ends the iterator (the request is cancelled). */
  signal?: AbortSignal;
}

const O_RDONLY = 0;

function notABuffer(method: string, value: unknown): Promise<never> {
  return Promise.reject(new TypeError(`uring.${method}: the buffer must be a TypedArray or DataView (e.g. a Uint8Array), got ${value === null ? "null" : typeof value}`));
}

/** io_uring for Bun: every op is an async method. See the module comment. */
export class Uring extends UringEngine {
  constructor(options: UringOptions = {}) {
    super(options);
  }

  /** A link chain builder: `.write(...).fdatasync(...).run()`. */
  chain(options: ChainOptions = {}): Chain {
    return new Chain(this, options);
  }

  /**
   * Any opcode: `prep` fills the SQE (leave user_data alone), `keep` is what
   * the kernel may touch. Resolves to the raw result (>= 0).
   */
  submit(op: number, prep: (sqe: Sqe) => void, keep: unknown = null, options?: OpOptions): Promise<number> {
    const pre = this.precheck(op, options);
    if (pre !== null) return pre;
    const sqe = this.sqe(options?.timeout !== undefined ? 2 : 1);
    const slot = this.acquire(op, Mode.NUMBER, keep);
    try {
      prep(sqe);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }

  /** NOP: completes with 0. */
  nop(options?: OpOptions): Promise<number> {
    const pre = this.precheck(Op.NOP, options);
    if (pre !== null) return pre;
    const sqe = this.sqe(options?.timeout !== undefined ? 2 : 1);
    const slot = this.acquire(Op.NOP, Mode.NUMBER, null);
    try {
      prepNop(sqe);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }

  // ---- files ---------------------------------------------------------------

  /** pread: reads into `buffer` at `offset` (-1: the file position). Resolves to bytes read (0 at EOF). */
  read(fd: number, buffer: ArrayBufferView, offset = -1, options?: RwOptions): Promise<number> {
    const pre = this.precheck(Op.READ, options);
    if (pre !== null) return pre;
    if (!ArrayBuffer.isView(buffer)) return notABuffer("read", buffer);
    const sqe = this.sqe(options?.timeout !== undefined ? 2 : 1);
    const slot = this.acquire(Op.READ, Mode.NUMBER, buffer);
    try {
      prepRead(sqe, fd, buffer, options?.length ?? buffer.byteLength, offset);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }

  /** pwrite: writes `buffer` at `offset` (-1: the file position). Resolves to bytes written. */
  write(fd: number, buffer: ArrayBufferView, offset = -1, options?: RwOptions): Promise<number> {
    const pre = this.precheck(Op.WRITE, options);
    if (pre !== null) return pre;
    if (!ArrayBuffer.isView(buffer)) return notABuffer("write", buffer);
    const sqe = this.sqe(options?.timeout !== undefined ? 2 : 1);
    const slot = this.acquire(Op.WRITE, Mode.NUMBER, buffer);
    try {
      prepWrite(sqe, fd, buffer, options?.length ?? buffer.byteLength, offset);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }

  /** preadv into several buffers. Resolves to bytes read. */
  readv(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    const iov = makeIovecs(buffers);
    return this.submit(Op.READV, (sqe) => prepReadv(sqe, fd, iov, buffers.length, offset), [iov, buffers], options);
  }

  /** pwritev from several buffers. Resolves to bytes written. */
  writev(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    const iov = makeIovecs(buffers);
    return this.submit(Op.WRITEV, (sqe) => prepWritev(sqe, fd, iov, buffers.length, offset), [iov, buffers], options);
  }

  /** fsync(fd). */
  fsync(fd: number, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.FSYNC, (sqe) => prepFsync(sqe, fd), null, options);
  }

  /** fdatasync(fd). */
  fdatasync(fd: number, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.FSYNC, (sqe) => prepFdatasync(sqe, fd), null, options);
  }

  /** fallocate(fd, mode, offset, len). */
  fallocate(fd: number, offset: number, length: number, mode = 0, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.FALLOCATE, (sqe) => prepFallocate(sqe, fd, mode, offset, length), null, options);
  }

  /** ftruncate(fd, length) (6.9). */
  ftruncate(fd: number, length: number, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.FTRUNCATE, (sqe) => prepFtruncate(sqe, fd, length), null, options);
  }

  /** openat: resolves to the new fd. `flags` are O_* (node:fs constants), `mode` for O_CREAT. */
  open(path: string, flags = O_RDONLY, mode = 0o644, options?: PathOptions): Promise<number> {
    const p = cstr(path);
    const dirfd = options?.dirfd ?? AT_FDCWD;
    return this.submit(Op.OPENAT, (sqe) => prepOpenat(sqe, dirfd, p, flags, mode), p, options);
  }

  /** close(fd) through the ring. (`close()` with no argument closes the Uring itself.) */
  closeFd(fd: number, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.CLOSE, (sqe) => prepClose(sqe, fd), null, options);
  }

  /** statx: a file's status. `flags` are AT_* (e.g. AT_SYMLINK_NOFOLLOW), `mask` STATX_* bits. */
  statx(path: string, options?: PathOptions & { flags?: number; mask?: number }): Promise<StatxResult> {
    const pre = this.precheck(Op.STATX, options);
    if (pre !== null) return pre;
    const p = cstr(path);
    const out = new Uint8Array(STATX_SIZE);
    const sqe = this.sqe(options?.timeout !== undefined ? 2 : 1);
    const slot = this.acquire(Op.STATX, Mode.STATX, p, out);
    try {
      prepStatx(sqe, options?.dirfd ?? AT_FDCWD, p, options?.flags ?? 0, options?.mask ?? STATX_BASIC_STATS, out);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }

  /** unlinkat (flags: AT_REMOVEDIR = 0x200 removes a directory). */
  unlink(path: string, options?: PathOptions & { flags?: number }): Promise<void> {
    const p = cstr(path);
    return this.voidOp(Op.UNLINKAT, (sqe) => prepUnlinkat(sqe, options?.dirfd ?? AT_FDCWD, p, options?.flags ?? 0), p, options);
  }

  /** mkdirat. */
  mkdir(path: string, mode = 0o755, options?: PathOptions): Promise<void> {
    const p = cstr(path);
    return this.voidOp(Op.MKDIRAT, (sqe) => prepMkdirat(sqe, options?.dirfd ?? AT_FDCWD, p, mode), p, options);
  }

  /** renameat. */
  rename(oldPath: string, newPath: string, options?: PathOptions): Promise<void> {
    const a = cstr(oldPath);
    const b = cstr(newPath);
    const d = options?.dirfd ?? AT_FDCWD;
    return this.voidOp(Op.RENAMEAT, (sqe) => prepRenameat(sqe, d, a, d, b, 0), [a, b], options);
  }

  /**
   * Multishot read (6.7) from a pipe, socket or other pollable fd into buffers
   * of `bufferRing`: yields leases; ends at EOF.
   */
  readMultishot(fd: number, bufferRing: BufferRing, options?: MultishotOptions): AsyncIterableIterator<RecvLease> {
    return new MultishotIterator<RecvLease>(
      this, Op.READ_MULTISHOT, bufferRing,
      (sqe) => prepReadMultishot(sqe, fd, 0, -1, bufferRing.bgid),
      (res, flags) => leaseFor(bufferRing, res, flags),
      { signal: options?.signal, release: releaseLease, skipZero: true },
    );
  }

  // ---- sockets ---------------------------------------------------------------

  /** accept4: resolves to the connection's fd; with `{ multishot: true }`, an iterator of fds. */
  accept(fd: number, options?: OpOptions & { flags?: number; multishot?: false }): Promise<number>;
  accept(fd: number, options: MultishotOptions & { flags?: number; multishot: true }): AsyncIterableIterator<number>;
  accept(
    fd: number,
    options?: OpOptions & { flags?: number; multishot?: boolean },
  ): Promise<number> | AsyncIterableIterator<number> {
    const flags = options?.flags ?? 0;
    if (options?.multishot) {
      return new MultishotIterator<number>(this, Op.ACCEPT, null, (sqe) => prepMultishotAccept(sqe, fd, null, null, flags), (res) => res, { signal: options.signal });
    }
    return this.submit(Op.ACCEPT, (sqe) => prepAccept(sqe, fd, null, null, flags), null, options);
  }

  /** connect(fd, sockaddr) (build it with sockaddrIn / sockaddrIn6 / sockaddrUn). */
  connect(fd: number, sockaddr: Uint8Array, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.CONNECT, (sqe) => prepConnect(sqe, fd, sockaddr, sockaddr.byteLength), sockaddr, options);
  }

  /** bind(fd, sockaddr) (6.11). */
  bind(fd: number, sockaddr: Uint8Array, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.BIND, (sqe) => prepBind(sqe, fd, sockaddr, sockaddr.byteLength), sockaddr, options);
  }

  /** listen(fd, backlog) (6.11). */
  listen(fd: number, backlog = 511, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.LISTEN, (sqe) => prepListen(sqe, fd, backlog), null, options);
  }

  /** socket(domain, type, protocol): resolves to the fd (5.19). */
  socket(domain: number, type: number, protocol = 0, options?: OpOptions): Promise<number> {
    return this.submit(Op.SOCKET, (sqe) => prepSocket(sqe, domain, type, protocol, 0), null, options);
  }

  /** shutdown(fd, how). */
  shutdown(fd: number, how: number, options?: OpOptions): Promise<void> {
    return this.voidOp(Op.SHUTDOWN, (sqe) => prepShutdown(sqe, fd, how), null, options);
  }

  /**
   * recv into `buffer`: resolves to bytes received (0: the peer closed).
   * With `{ bufferRing }` instead: a multishot recv yielding leases into the
   * ring's buffers, ending when the peer closes.
   */
  recv(fd: number, buffer: ArrayBufferView, options?: OpOptions & { flags?: number }): Promise<number>;
  recv(fd: number, options: MultishotOptions & { bufferRing: BufferRing; flags?: number }): MultishotIterator<RecvLease>;
  recv(
    fd: number,
    bufferOrOptions: ArrayBufferView | (MultishotOptions & { bufferRing: BufferRing; flags?: number }),
    options?: OpOptions & { flags?: number },
  ): Promise<number> | MultishotIterator<RecvLease> {
    if (!ArrayBuffer.isView(bufferOrOptions)) {
      const { bufferRing, signal } = bufferOrOptions;
      const flags = bufferOrOptions.flags ?? 0;
      return new MultishotIterator<RecvLease>(
        this, Op.RECV, bufferRing,
        (sqe) => {
          prepRecvMultishot(sqe, fd, null, 0, flags);
          sqeAddFlags(sqe, SqeFlags.BUFFER_SELECT);
          sqeSetBufGroup(sqe, bufferRing.bgid);
        },
        (res, cflags) => leaseFor(bufferRing, res, cflags),
        { signal, release: releaseLease, skipZero: true },
      );
    }
    const buffer = bufferOrOptions;
    const flags = options?.flags ?? 0;
    return this.submit(Op.RECV, (sqe) => prepRecv(sqe, fd, buffer, buffer.byteLength, flags), buffer, options);
  }

  /** send `buffer`: resolves to bytes sent. */
  send(fd: number, buffer: ArrayBufferView, options?: OpOptions & { flags?: number }): Promise<number> {
    const flags = options?.flags ?? 0;
    return this.submit(Op.SEND, (sqe) => prepSend(sqe, fd, buffer, buffer.byteLength, flags), buffer, options);
  }

  /**
   * Zero-copy send (6.0): resolves to bytes sent once the kernel has also
   * released the buffer (the notification CQE), so `buffer` may be reused then.
   */
  sendZc(fd: number, buffer: ArrayBufferView, options?: MultishotOptions & { flags?: number }): Promise<number> {
    const pre = this.precheck(Op.SEND_ZC, options);
    if (pre !== null) return pre;
    const flags = options?.flags ?? 0;
    return new Promise<number>((resolve, reject) => {
      let result = 0;
      const signal = options?.signal;
      const onAbort = (): void => this.cancelSlot(slot);
      const handler: SlotHandler = {
        onCqe: (done, res, cflags) => {
          // First CQE: the result (F_MORE when a notification follows); then F_NOTIF.
          if ((cflags & CqeFlags.NOTIF) === 0) result = res;
          if ((cflags & CqeFlags.MORE) !== 0) return;
          this.releaseSlot(done);
          signal?.removeEventListener("abort", onAbort);
          if (result < 0) reject(signal?.aborted && result === -Errno.ECANCELED ? abortError(Op.SEND_ZC, signal.reason) : errorFor(Op.SEND_ZC, result));
          else resolve(result);
        },
      };
      const sqe = this.sqe();
      const slot = this.acquire(Op.SEND_ZC, Mode.HANDLER, buffer);
      try {
        prepSendZc(sqe, fd, buffer, buffer.byteLength, flags, 0);
      } catch (err) {
        this.abandon(sqe, slot, err).catch(reject);
        return;
      }
      this.commitHandler(sqe, slot, handler);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  // ---- readiness and time ----------------------------------------------------

  /** poll(fd, events): resolves to the ready events; with `{ multishot: true }`, an iterator of them. */
  poll(fd: number, events: number, options?: OpOptions & { multishot?: false }): Promise<number>;
  poll(fd: number, events: number, options: MultishotOptions & { multishot: true }): AsyncIterableIterator<number>;
  poll(fd: number, events: number, options?: OpOptions & { multishot?: boolean }): Promise<number> | AsyncIterableIterator<number> {
    if (options?.multishot) {
      return new MultishotIterator<number>(this, Op.POLL_ADD, null, (sqe) => prepPollMultishot(sqe, fd, events), (res) => res, { signal: options.signal });
    }
    return this.submit(Op.POLL_ADD, (sqe) => prepPollAdd(sqe, fd, events), null, options);
  }

  /** A kernel timer: resolves after `ms`. */
  sleep(ms: number, options?: Pick<OpOptions, "signal">): Promise<void> {
    const pre = this.precheck(Op.TIMEOUT, options);
    if (pre !== null) return pre;
    const ts = Timespec.fromMs(ms);
    const sqe = this.sqe();
    const slot = this.acquire(Op.TIMEOUT, Mode.TIMEOUT, ts);
    try {
      prepTimeout(sqe, ts, 0, 0);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }

  /** A repeating kernel timer (TIMEOUT_MULTISHOT, 6.4): yields the tick count every `ms`; `count` > 0 stops after that many. */
  interval(ms: number, count = 0, options?: MultishotOptions): AsyncIterableIterator<number> {
    const ts = Timespec.fromMs(ms);
    let ticks = 0;
    return new MultishotIterator<number>(
      this, Op.TIMEOUT, ts,
      (sqe) => prepTimeout(sqe, ts, count, TimeoutFlags.MULTISHOT),
      () => ++ticks,
      { signal: options?.signal, okErrno: Errno.ETIME },
    );
  }

  /** A NOP with an opcode the caller picks (for probing and tests): NOP-shaped SQE, raw result. */
  rawNop(op: number, options?: OpOptions): Promise<number> {
    return this.submit(op, (sqe) => prepRw(op, sqe, -1, null, 0, 0), null, options);
  }

  private voidOp(op: number, prep: (sqe: Sqe) => void, keep: unknown, options?: OpOptions): Promise<void> {
    const pre = this.precheck(op, options);
    if (pre !== null) return pre;
    const sqe = this.sqe(options?.timeout !== undefined ? 2 : 1);
    const slot = this.acquire(op, Mode.VOID, keep);
    try {
      prep(sqe);
    } catch (err) {
      return this.abandon(sqe, slot, err);
    }
    return this.commit(sqe, slot, options);
  }
}
