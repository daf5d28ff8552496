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
 *
 * Memory safety (docs/memory-safety.md): byte counts are range-checked
 * against the buffer before anything is submitted (RangeError naming the
 * argument); the kernel is never given the address of a caller's JS-heap
 * buffer, which JavaScript could detach or free while the kernel writes it.
 * Writes copy the bytes into library-owned memory at the call, reads land
 * there and are copied into the caller's view at completion. A view on a
 * SharedArrayBuffer (which cannot be detached or shrunk) is used in place.
 * After `close()` every method throws {@link ClosedError}.
 *
 * This file is the catalogue: one small method per op over the engine's
 * request path (engine.ts). What is more than that lives beside it: the
 * buffer argument checks and copies (view-args.ts), readMany's batches
 * (read-many.ts), sendZc's two-CQE request (send-zc.ts), the options types
 * (options.ts).
 */
import type { BufferRing } from "../mem/buffer-ring.ts";
import { AT_FDCWD, prepClose, prepFallocate, prepFtruncate, prepMkdirat, prepOpenat, prepRenameat, prepStatx, prepUnlinkat } from "../ops/fs.ts";
import {
  prepAccept,
  prepBind,
  prepConnect,
  prepListen,
  prepMultishotAccept,
  prepRecv,
  prepRecvMultishot,
  prepSend,
  prepShutdown,
  prepSocket,
} from "../ops/net.ts";
import { prepPollAdd, prepPollMultishot } from "../ops/poll.ts";
import { prepFdatasync, prepFsync, prepNop, prepRead, prepReadMultishot, prepReadv, prepWrite, prepWritev, prepRw } from "../ops/rw.ts";
import { cstr } from "../ops/structs.ts";
import { prepTimeout } from "../ops/timeout.ts";
import { Timespec } from "../ops/timespec.ts";
import { sqeAddFlags, sqeSetBufGroup, type Sqe } from "../ring/sqe.ts";
import { Errno } from "../sys/errno.ts";
import { Op, SqeFlags, TimeoutFlags } from "../sys/constants.ts";
import { assertOpen } from "../sys/closed.ts";
import type { Ring } from "../ring/ring.ts";
import { Chain, type ChainOptions } from "./chain.ts";
import { UringEngine } from "./engine.ts";
import type { DriverKind } from "./driver.ts";
import { leaseIterator, MultishotIterator, type RecvLease } from "./multishot.ts";
import type { CancelTarget, MultishotOptions, OpOptions, PathOptions, ReadManyOptions, RwOptions, UringOptions } from "./options.ts";
import { MAX_BATCH, Mode } from "./pending.ts";
import { readMany } from "./read-many.ts";
import { sendZc } from "./send-zc.ts";
import { STATX_BASIC_STATS, STATX_SIZE, type StatxResult } from "./statx.ts";
import { checkView, copySockaddr, pinned, vectors, viewError, viewLength, type Vectors } from "./view-args.ts";

export type { MultishotOptions, OpOptions, PathOptions, ReadManyOptions, RwOptions, UringOptions } from "./options.ts";

const O_RDONLY = 0;

/** The engine inside each Uring, for the async modules that build on it (RingInbox); not exported by the library. */
let engineOfUring: (uring: Uring) => UringEngine;

/** The engine of `uring` (internal to src/async). */
export function engineOf(uring: Uring): UringEngine {
  return engineOfUring(uring);
}

/** io_uring for Bun: every op is an async method. See the module comment. */
export class Uring {
  readonly #e: UringEngine;
  /** readMany's file offsets, read once from the caller's array and checked before any SQE is written. */
  readonly #offsets = new Float64Array(MAX_BATCH);

  static {
    engineOfUring = (u) => u.#e;
  }

  constructor(options: UringOptions = {}) {
    this.#e = new UringEngine(options);
    // While requests are in flight the engine is held by the scheduler's busy
    // set; through this the Uring is too, so a caller's FinalizationRegistry
    // or WeakRef on it cannot report it gone while the kernel works for it.
    this.#e.owner = this;
  }

  /** The ring (for registering buffers, buffer rings, files). Throws ClosedError after close(). */
  get ring(): Ring {
    this.#open("ring");
    return this.#e.ring;
  }

  /** Which driver runs this ring. */
  get driver(): DriverKind {
    this.#open("driver");
    return this.#e.driver;
  }

  /** The setup flags chosen, as option names (for reports). */
  get setupChoice(): string {
    this.#open("setupChoice");
    return this.#e.setupChoice;
  }

  /** Requests in flight (including armed multishot requests). */
  get pending(): number {
    this.#open("pending");
    return this.#e.inFlight;
  }

  /** Wake-ups from idle delivered by the waiter thread. */
  get wakeups(): number {
    this.#open("wakeups");
    return this.#e.wakeups;
  }

  /** True after close(). (Never throws.) */
  get isClosed(): boolean {
    return this.#e.isClosed;
  }

  /** The kernel supports opcode `op` (probe). */
  opSupported(op: number): boolean {
    this.#open("opSupported");
    return this.#e.opSupported(op);
  }

  /**
   * Cancels every matching request: `{ fd }` (requests on that fd), `{ all: true }`,
   * or `{ op }` (requests of that opcode, 6.6+). Resolves to how many were cancelled.
   */
  cancel(target: CancelTarget): Promise<number> {
    this.#open("cancel");
    if (typeof target !== "object" || target === null) throw new TypeError("uring.cancel: pass { fd }, { all: true } or { op }");
    return this.#e.cancel(target);
  }

  /**
   * Cancels everything in flight, waits (bounded) for the kernel to let go
   * of the buffers, rejects what is left with ECANCELED, then closes the
   * ring. Idempotent. The ring, the eventfd and the waiter thread are gone
   * when it returns; with `wake: "stream"`, Bun's own duplicate of the
   * eventfd (its stream reader's) is closed by Bun's loop at its next turn.
   */
  close(): void {
    this.#e.close();
  }

  /** `using uring = new Uring()` support. */
  [Symbol.dispose](): void {
    this.#e.close();
  }

  /** A link chain builder: `.write(...).fdatasync(...).run()`. */
  chain(options: ChainOptions = {}): Chain {
    this.#open("chain");
    return new Chain(this.#e, options);
  }

  /**
   * Any opcode: `prep` fills the SQE (leave user_data alone), `keep` is what
   * the kernel may touch. Resolves to the raw result (>= 0).
   *
   * Raw, as liburing: whatever addresses `prep` writes are unchecked, and
   * keeping their memory alive and attached until the CQE is the caller's
   * job (a JS-heap buffer passed here can be detached under the kernel). The
   * typed methods below are the safe way.
   */
  submit(op: number, prep: (sqe: Sqe) => void, keep: unknown = null, options?: OpOptions): Promise<number> {
    this.#open("submit");
    if (typeof prep !== "function") throw new TypeError("uring.submit: prep must be a function (sqe) => void");
    return this.#e.run(op, Mode.NUMBER, prep, keep, null, options);
  }

  /** NOP: completes with 0. */
  nop(options?: OpOptions): Promise<number> {
    this.#open("nop");
    return this.#e.run(Op.NOP, Mode.NUMBER, prepNop, null, null, options);
  }

  // ---- files ---------------------------------------------------------------

  /** pread: reads into `buffer` at `offset` (-1: the file position). Resolves to bytes read (0 at EOF). */
  read(fd: number, buffer: ArrayBufferView, offset = -1, options?: RwOptions): Promise<number> {
    this.#open("read");
    const len = viewLength(buffer, options?.length);
    if (len < 0) return Promise.reject(viewError("read", buffer, options?.length));
    if (len === 0 || pinned(buffer)) return this.#e.run(Op.READ, Mode.NUMBER, (sqe) => prepRead(sqe, fd, buffer, len, offset), buffer, null, options);
    const b = this.#e.bounces.take(len);
    return this.#e.run(Op.READ, Mode.COPY_OUT, (sqe) => prepRead(sqe, fd, b.address, len, offset), b, buffer, options);
  }

  /**
   * A batch of preads (RocksDB MultiGet's pattern) as one request: read i
   * fills bytes [i × size, (i + 1) × size) of `buffer` from file offset
   * `offsets[i]`, all queued in this tick (one io_uring_enter with the rest
   * of the tick's requests). One Promise and one pending slot for the batch
   * instead of one per read; each completion only stores its result.
   *
   * Resolves to the bytes each read returned (an Int32Array, index order;
   * less than `size` at the end of the file). If any read fails, rejects
   * with the first failure in index order (a UringError naming the read),
   * but only after every read of the batch has completed, so `buffer` is
   * never written after the Promise settles, either way.
   *
   * Checked before anything is submitted (TypeError/RangeError):
   * `offsets` an array (or TypedArray) of 0 to 256 non-negative safe
   * integers (no -1: a batch has no "current position"), `size` an integer
   * from 1 to 2^31 − 1, `offsets.length × size` within `buffer`. A view on a
   * SharedArrayBuffer is read into in place; any other view through one
   * bounce block copied out at the end. No linked `{ timeout }`: pass
   * `signal: AbortSignal.timeout(ms)` for a deadline.
   */
  readMany(fd: number, buffer: ArrayBufferView, offsets: ArrayLike<number>, size: number, options?: ReadManyOptions): Promise<Int32Array> {
    this.#open("readMany");
    return readMany(this.#e, this.#offsets, fd, buffer, offsets, size, options);
  }

  /** pwrite: writes `buffer` at `offset` (-1: the file position). Resolves to bytes written. */
  write(fd: number, buffer: ArrayBufferView, offset = -1, options?: RwOptions): Promise<number> {
    this.#open("write");
    const len = viewLength(buffer, options?.length);
    if (len < 0) return Promise.reject(viewError("write", buffer, options?.length));
    if (len === 0 || pinned(buffer)) return this.#e.run(Op.WRITE, Mode.NUMBER, (sqe) => prepWrite(sqe, fd, buffer, len, offset), buffer, null, options);
    const b = this.#e.copyIn(buffer, len);
    return this.#e.run(Op.WRITE, Mode.NUMBER, (sqe) => prepWrite(sqe, fd, b.address, len, offset), b, null, options);
  }

  /** preadv into several buffers (filled in order). Resolves to bytes read. */
  readv(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    this.#open("readv");
    let v: Vectors;
    try {
      v = vectors(this.#e.bounces, "readv", buffers, false);
    } catch (err) {
      return Promise.reject(err);
    }
    const { b, iov, lens } = v;
    // The Scatter also keeps the iovec array reachable until the CQE.
    return this.#e.run(Op.READV, Mode.COPY_OUT, (sqe) => prepReadv(sqe, fd, iov, lens.length, offset), b, { views: buffers.slice(), lens, iov }, options);
  }

  /** pwritev from several buffers. Resolves to bytes written. */
  writev(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    this.#open("writev");
    let v: Vectors;
    try {
      v = vectors(this.#e.bounces, "writev", buffers, true);
    } catch (err) {
      return Promise.reject(err);
    }
    const { b, iov, lens } = v;
    return this.#e.run(Op.WRITEV, Mode.NUMBER, (sqe) => prepWritev(sqe, fd, iov, lens.length, offset), b, iov, options);
  }

  /** fsync(fd). */
  fsync(fd: number, options?: OpOptions): Promise<void> {
    this.#open("fsync");
    return this.#void(Op.FSYNC, (sqe) => prepFsync(sqe, fd), null, options);
  }

  /** fdatasync(fd). */
  fdatasync(fd: number, options?: OpOptions): Promise<void> {
    this.#open("fdatasync");
    return this.#void(Op.FSYNC, (sqe) => prepFdatasync(sqe, fd), null, options);
  }

  /** fallocate(fd, mode, offset, len). */
  fallocate(fd: number, offset: number, length: number, mode = 0, options?: OpOptions): Promise<void> {
    this.#open("fallocate");
    return this.#void(Op.FALLOCATE, (sqe) => prepFallocate(sqe, fd, mode, offset, length), null, options);
  }

  /** ftruncate(fd, length) (6.9). */
  ftruncate(fd: number, length: number, options?: OpOptions): Promise<void> {
    this.#open("ftruncate");
    return this.#void(Op.FTRUNCATE, (sqe) => prepFtruncate(sqe, fd, length), null, options);
  }

  /** openat: resolves to the new fd. `flags` are O_* (node:fs constants), `mode` for O_CREAT. */
  open(path: string, flags = O_RDONLY, mode = 0o644, options?: PathOptions): Promise<number> {
    this.#open("open");
    const p = cstr(path);
    const dirfd = options?.dirfd ?? AT_FDCWD;
    return this.submit(Op.OPENAT, (sqe) => prepOpenat(sqe, dirfd, p, flags, mode), p, options);
  }

  /** close(fd) through the ring. (`close()` with no argument closes the Uring itself.) */
  closeFd(fd: number, options?: OpOptions): Promise<void> {
    this.#open("closeFd");
    return this.#void(Op.CLOSE, (sqe) => prepClose(sqe, fd), null, options);
  }

  /** statx: a file's status. `flags` are AT_* (e.g. AT_SYMLINK_NOFOLLOW), `mask` STATX_* bits. */
  statx(path: string, options?: PathOptions & { flags?: number; mask?: number }): Promise<StatxResult> {
    this.#open("statx");
    const p = cstr(path);
    // Library-owned: no caller can reach (and so detach) the buffer the kernel writes.
    const out = new Uint8Array(STATX_SIZE);
    const prep = (sqe: Sqe): void => prepStatx(sqe, options?.dirfd ?? AT_FDCWD, p, options?.flags ?? 0, options?.mask ?? STATX_BASIC_STATS, out);
    return this.#e.run(Op.STATX, Mode.STATX, prep, p, out, options) as Promise<unknown> as Promise<StatxResult>;
  }

  /** unlinkat (flags: AT_REMOVEDIR = 0x200 removes a directory). */
  unlink(path: string, options?: PathOptions & { flags?: number }): Promise<void> {
    this.#open("unlink");
    const p = cstr(path);
    return this.#void(Op.UNLINKAT, (sqe) => prepUnlinkat(sqe, options?.dirfd ?? AT_FDCWD, p, options?.flags ?? 0), p, options);
  }

  /** mkdirat. */
  mkdir(path: string, mode = 0o755, options?: PathOptions): Promise<void> {
    this.#open("mkdir");
    const p = cstr(path);
    return this.#void(Op.MKDIRAT, (sqe) => prepMkdirat(sqe, options?.dirfd ?? AT_FDCWD, p, mode), p, options);
  }

  /** renameat. */
  rename(oldPath: string, newPath: string, options?: PathOptions): Promise<void> {
    this.#open("rename");
    const a = cstr(oldPath);
    const b = cstr(newPath);
    const d = options?.dirfd ?? AT_FDCWD;
    return this.#void(Op.RENAMEAT, (sqe) => prepRenameat(sqe, d, a, d, b, 0), [a, b], options);
  }

  /**
   * Multishot read (6.7) from a pipe, socket or other pollable fd into buffers
   * of `bufferRing`: yields leases; ends at EOF.
   */
  readMultishot(fd: number, bufferRing: BufferRing, options?: MultishotOptions): AsyncIterableIterator<RecvLease> {
    this.#open("readMultishot");
    return leaseIterator(this.#e, Op.READ_MULTISHOT, bufferRing, (sqe) => prepReadMultishot(sqe, fd, 0, -1, bufferRing.bgid), options?.signal);
  }

  // ---- sockets ---------------------------------------------------------------

  /** accept4: resolves to the connection's fd; with `{ multishot: true }`, an iterator of fds. */
  accept(fd: number, options?: OpOptions & { flags?: number; multishot?: false }): Promise<number>;
  accept(fd: number, options: MultishotOptions & { flags?: number; multishot: true }): AsyncIterableIterator<number>;
  accept(fd: number, options?: OpOptions & { flags?: number; multishot?: boolean }): Promise<number> | AsyncIterableIterator<number> {
    this.#open("accept");
    const flags = options?.flags ?? 0;
    if (options?.multishot) {
      return new MultishotIterator<number>(
        this.#e,
        Op.ACCEPT,
        null,
        (sqe) => prepMultishotAccept(sqe, fd, null, null, flags),
        (res) => res,
        { signal: options.signal },
      );
    }
    return this.submit(Op.ACCEPT, (sqe) => prepAccept(sqe, fd, null, null, flags), null, options);
  }

  /** connect(fd, sockaddr) (build it with sockaddrIn / sockaddrIn6 / sockaddrUn). */
  connect(fd: number, sockaddr: Uint8Array, options?: OpOptions): Promise<void> {
    this.#open("connect");
    let sa: Uint8Array;
    try {
      sa = copySockaddr("connect", sockaddr);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#void(Op.CONNECT, (sqe) => prepConnect(sqe, fd, sa, sa.byteLength), sa, options);
  }

  /** bind(fd, sockaddr) (6.11). */
  bind(fd: number, sockaddr: Uint8Array, options?: OpOptions): Promise<void> {
    this.#open("bind");
    let sa: Uint8Array;
    try {
      sa = copySockaddr("bind", sockaddr);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#void(Op.BIND, (sqe) => prepBind(sqe, fd, sa, sa.byteLength), sa, options);
  }

  /** listen(fd, backlog) (6.11). */
  listen(fd: number, backlog = 511, options?: OpOptions): Promise<void> {
    this.#open("listen");
    return this.#void(Op.LISTEN, (sqe) => prepListen(sqe, fd, backlog), null, options);
  }

  /** socket(domain, type, protocol): resolves to the fd (5.19). */
  socket(domain: number, type: number, protocol = 0, options?: OpOptions): Promise<number> {
    this.#open("socket");
    return this.submit(Op.SOCKET, (sqe) => prepSocket(sqe, domain, type, protocol, 0), null, options);
  }

  /** shutdown(fd, how). */
  shutdown(fd: number, how: number, options?: OpOptions): Promise<void> {
    this.#open("shutdown");
    return this.#void(Op.SHUTDOWN, (sqe) => prepShutdown(sqe, fd, how), null, options);
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
    this.#open("recv");
    if (!ArrayBuffer.isView(bufferOrOptions)) {
      if (typeof bufferOrOptions !== "object" || bufferOrOptions === null) checkView("recv", bufferOrOptions, undefined);
      const { bufferRing, signal } = bufferOrOptions;
      const flags = bufferOrOptions.flags ?? 0;
      const prep = (sqe: Sqe): void => {
        prepRecvMultishot(sqe, fd, null, 0, flags);
        sqeAddFlags(sqe, SqeFlags.BUFFER_SELECT);
        sqeSetBufGroup(sqe, bufferRing.bgid);
      };
      return leaseIterator(this.#e, Op.RECV, bufferRing, prep, signal);
    }
    const buffer = bufferOrOptions;
    const flags = options?.flags ?? 0;
    const len = viewLength(buffer, undefined);
    if (len < 0) return Promise.reject(viewError("recv", buffer, undefined));
    if (len === 0 || pinned(buffer)) return this.#e.run(Op.RECV, Mode.NUMBER, (sqe) => prepRecv(sqe, fd, buffer, len, flags), buffer, null, options);
    const b = this.#e.bounces.take(len);
    return this.#e.run(Op.RECV, Mode.COPY_OUT, (sqe) => prepRecv(sqe, fd, b.address, len, flags), b, buffer, options);
  }

  /** send `buffer`: resolves to bytes sent. */
  send(fd: number, buffer: ArrayBufferView, options?: OpOptions & { flags?: number }): Promise<number> {
    this.#open("send");
    const flags = options?.flags ?? 0;
    const len = viewLength(buffer, undefined);
    if (len < 0) return Promise.reject(viewError("send", buffer, undefined));
    if (len === 0 || pinned(buffer)) return this.#e.run(Op.SEND, Mode.NUMBER, (sqe) => prepSend(sqe, fd, buffer, len, flags), buffer, null, options);
    const b = this.#e.copyIn(buffer, len);
    return this.#e.run(Op.SEND, Mode.NUMBER, (sqe) => prepSend(sqe, fd, b.address, len, flags), b, null, options);
  }

  /**
   * Zero-copy send (6.0): resolves to bytes sent once the kernel has also
   * released the buffer (the notification CQE), so `buffer` may be reused then.
   */
  sendZc(fd: number, buffer: ArrayBufferView, options?: MultishotOptions & { flags?: number }): Promise<number> {
    this.#open("sendZc");
    return sendZc(this.#e, fd, buffer, options);
  }

  // ---- readiness and time ----------------------------------------------------

  /** poll(fd, events): resolves to the ready events; with `{ multishot: true }`, an iterator of them. */
  poll(fd: number, events: number, options?: OpOptions & { multishot?: false }): Promise<number>;
  poll(fd: number, events: number, options: MultishotOptions & { multishot: true }): AsyncIterableIterator<number>;
  poll(fd: number, events: number, options?: OpOptions & { multishot?: boolean }): Promise<number> | AsyncIterableIterator<number> {
    this.#open("poll");
    if (options?.multishot) {
      return new MultishotIterator<number>(
        this.#e,
        Op.POLL_ADD,
        null,
        (sqe) => prepPollMultishot(sqe, fd, events),
        (res) => res,
        { signal: options.signal },
      );
    }
    return this.submit(Op.POLL_ADD, (sqe) => prepPollAdd(sqe, fd, events), null, options);
  }

  /** A kernel timer: resolves after `ms`. */
  sleep(ms: number, options?: Pick<OpOptions, "signal">): Promise<void> {
    this.#open("sleep");
    const e = this.#e;
    const pre = e.precheck(Op.TIMEOUT, options);
    if (pre !== null) return pre;
    const ts = Timespec.fromMs(ms);
    const sqe = e.sqe();
    const slot = e.acquire(Op.TIMEOUT, Mode.TIMEOUT, ts);
    try {
      prepTimeout(sqe, ts, 0, 0);
    } catch (err) {
      return e.abandon(sqe, slot, err);
    }
    return e.commit(sqe, slot, options);
  }

  /** A repeating kernel timer (TIMEOUT_MULTISHOT, 6.4): yields the tick count every `ms`; `count` > 0 stops after that many. */
  interval(ms: number, count = 0, options?: MultishotOptions): AsyncIterableIterator<number> {
    this.#open("interval");
    const ts = Timespec.fromMs(ms);
    let ticks = 0;
    return new MultishotIterator<number>(
      this.#e,
      Op.TIMEOUT,
      ts,
      (sqe) => prepTimeout(sqe, ts, count, TimeoutFlags.MULTISHOT),
      () => ++ticks,
      { signal: options?.signal, okErrno: Errno.ETIME },
    );
  }

  /** A NOP with an opcode the caller picks (for probing and tests): NOP-shaped SQE, raw result. */
  rawNop(op: number, options?: OpOptions): Promise<number> {
    this.#open("rawNop");
    return this.#e.run(op & 0xff, Mode.NUMBER, (sqe) => prepRw(op & 0xff, sqe, -1, null, 0, 0), null, null, options);
  }

  #open(method: string): void {
    if (this.#e.isClosed) assertOpen(true, "Uring", method);
  }

  #void(op: number, prep: (sqe: Sqe) => void, keep: unknown, options?: OpOptions): Promise<void> {
    return this.#e.run(op, Mode.VOID, prep, keep, null, options) as Promise<unknown> as Promise<void>;
  }
}
