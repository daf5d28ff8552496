/**
 * `TcpServer`: a TCP server on one io_uring, driven by a run loop (blocking
 * `submitAndWait`, then one pass over every ready CQE). What it does per
 * connection, all through the ring:
 *
 * - multishot ACCEPT on the listener: one request, one CQE per connection;
 * - multishot RECV with buffer selection from a provided-buffer ring: one
 *   request per connection for its whole life, data lands in ring buffers;
 * - sends queued per connection and issued one at a time, so bytes leave in
 *   order; a short send is resubmitted for the rest (partial sends);
 * - backpressure: a connection that holds more than `pauseAtBuffers` buffers
 *   in its send queue has its recv cancelled until the queue drains below half
 *   (one slow reader cannot starve the shared buffer ring); running out of
 *   buffers (-ENOBUFS) re-arms the recv once buffers come back;
 * - orderly close: the peer's EOF (half close) lets pending sends finish, then
 *   the fd is closed with IORING_OP_CLOSE; resets and errors cancel the recv
 *   and close. The server keeps serving the other connections throughout.
 *
 * The handler decides what to do with data: {@link TcpServer.sendBuffer}
 * sends a received buffer back without copying (the echo server), and
 * {@link TcpServer.send} sends any bytes.
 */
import { CqeFlags, EnterFlags, Rlimit, SqeFlags, TimeoutFlags } from "../sys/constants.ts";
import { Errno, SyscallError, errnoName } from "../sys/errno.ts";
import { addressOf, closeFd, getrlimit } from "../sys/ffi.ts";
import { Ring, type RingOptions } from "../ring/ring.ts";
import type { Sqe } from "../ring/sqe.ts";
import { BufferRing } from "../mem/buffer-ring.ts";
import { IpProto, MsgFlags, SockOpt, SocketType } from "./constants.ts";
import { Kind, udLo } from "./kinds.ts";
import { intOption, localPort, openListener, type ListenOptions } from "./listener.ts";
import { prepCancel32x2, prepClose, prepMultishotAccept, prepRecvSelectMultishot, prepSendRaw, prepSetsockopt, prepTimeout, Timespec } from "./prep.ts";
import { prepCloseDirect } from "../ops/fs.ts";
import { prepMultishotAcceptDirect } from "../ops/net.ts";
import { registerFilesSparse } from "../ring/register.ts";
import { SQE_W } from "../sys/abi.ts";

/** What the application does with a connection's events. */
export interface TcpHandler {
  /** A connection was accepted (slot `conn`). */
  onOpen?(conn: number): void;
  /**
   * `len` bytes arrived in provided buffer `bid` (`server.buffers.view(bid, len)`). Return true when the handler kept
   * the buffer (passed it to `sendBuffer`); false recycles it right away.
   */
  onData(conn: number, bid: number, len: number): boolean;
  /** The peer closed its sending side (EOF). Default: close once pending sends are done. */
  onEnd?(conn: number): void;
  /** The connection is gone; `errno` is 0 for an orderly close. The slot may be reused after this. */
  onClose?(conn: number, errno: number): void;
  /** Called every `tickMs` from the run loop (housekeeping; call `stop()` to end `run()`). */
  onTick?(): void;
}

/** Options of {@link TcpServer}. */
export interface TcpServerOptions extends ListenOptions {
  handler: TcpHandler;
  /** Ring setup (default: DEFER_TASKRUN + SINGLE_ISSUER where the kernel has them, see {@link fastRingOptions}). */
  ring?: RingOptions;
  /** SQ entries (default 4096; the CQ gets 4×). */
  entries?: number;
  /** Provided buffers (power of two, default 8192). */
  bufferCount?: number;
  /** Bytes per provided buffer (default 2048: one 1000-byte echo fits). */
  bufferSize?: number;
  /** Connection table size (default 65536). */
  maxConnections?: number;
  /** Pause a connection's recv when it holds this many buffers (default 64). */
  pauseAtBuffers?: number;
  /** Receive buffers on transparent huge pages (default true; see BufferRingOptions.hugePages). */
  hugePages?: boolean;
  /**
   * Accept into direct descriptors (default true where the kernel can, 5.19+):
   * connections live in the ring's fixed-file table, not in the process's fd
   * table, so no request looks its socket up and takes a reference (atomic in
   * a multi-threaded process such as Bun). {@link TcpServer.fdOf} then gives
   * the table index, used with IOSQE_FIXED_FILE. The table holds up to
   * min(maxConnections, RLIMIT_NOFILE) connections.
   */
  directDescriptors?: boolean;
  /** Set TCP_NODELAY on accepted sockets (default true). */
  noDelay?: boolean;
  /** Interval of onTick, ms (default 500). */
  tickMs?: number;
  /**
   * While handling a batch of CQEs, submit as soon as this many requests are
   * prepared (default 16; 0 = only at the end of the batch). Sending early
   * lets the peer start on its part while we finish ours; without it both
   * sides settle into alternating waves and each idles half the time.
   */
  submitEvery?: number;
}

/** Defaults of {@link TcpServerOptions}, with why. */
export const TCP_SERVER_DEFAULTS = {
  /** SQ entries: a send per connection per turn for thousands of connections without an early submit. */
  entries: 4096,
  /** Receive buffers: more than the connections that hold one at a time at c=2000, with room for bursts. */
  bufferCount: 8192,
  /** Bytes per receive buffer: the seed's largest message (1000 bytes) fits in one. */
  bufferSize: 2048,
  /** Connection table: 64 Ki slots cost ~1.5 MiB of typed arrays. */
  maxConnections: 65536,
  /** Buffers one connection may hold in its send queue before its recv pauses (128 KiB at 2 KiB each). */
  pauseAtBuffers: 64,
  /** Housekeeping tick: exit-with-parent checks and accept re-arms need no more. */
  tickMs: 500,
  /** Early submit inside a CQE batch (see TcpServerOptions.submitEvery). */
  submitEvery: 16,
} as const;

/** Connection state bits. */
const ST_OPEN = 1;
const ST_ARMED = 2; // multishot recv in flight
const ST_SENDING = 4; // a send in flight (queue head)
const ST_CLOSING = 8; // close once nothing is in flight
const ST_PAUSED = 16; // recv paused by backpressure
const ST_CANCELING = 32; // a cancel of the recv is in flight
const ST_REARM = 64; // recv ended with -ENOBUFS: re-arm when buffers return

/** Counters a server keeps (plain numbers; read them any time). */
export interface TcpServerStats {
  accepted: number;
  closed: number;
  /** Connections that ended with an error (reset, broken pipe). */
  errors: number;
  /** Accepts refused because the connection table or fd limit was full. */
  refused: number;
  /** Times a recv ran out of provided buffers. */
  noBuffers: number;
  /** Times backpressure paused a connection. */
  paused: number;
  /** Short sends that were resubmitted. */
  partialSends: number;
}

/**
 * Gives `ring` an empty fixed-file table for accepted connections: up to
 * `maxConnections` slots, at most the soft RLIMIT_NOFILE (the kernel's cap).
 * False when the kernel cannot (pre-5.19, or the limit refused): the server
 * then uses plain fds.
 */
function registerDirectTable(ring: Ring, maxConnections: number): boolean {
  const soft = getrlimit(Rlimit.NOFILE).soft;
  const slots = Math.max(1, Math.min(maxConnections, Number.isFinite(soft) && soft > 0 ? soft : maxConnections));
  return registerFilesSparse(ring, slots) >= 0;
}

/** Setup options that measured fastest for one-thread servers here: DEFER_TASKRUN (+ SINGLE_ISSUER). */
export function fastRingOptions(): RingOptions {
  return { deferTaskrun: true };
}

/** A TCP server on one ring (see the module comment). Not thread-safe: one thread runs it. */
export class TcpServer {
  readonly ring: Ring;
  /** The provided buffers recvs land in (group 0): buffer `bid` is at `bid * bufferSize` of `buffers.memory.bytes`. */
  readonly buffers: BufferRing;
  /** Address of buffer 0. */
  private readonly bufBase: number;
  private readonly bufSize: number;
  /** Buffers recycled since the last publish. */
  private recycled = 0;
  /** The listening socket's fd. */
  readonly listenFd: number;
  /** The TCP port listened on. */
  readonly port: number;
  /** Connections are direct descriptors (fixed-file slots), not fds: see TcpServerOptions.directDescriptors. */
  readonly directDescriptors: boolean;
  /** IOSQE_FIXED_FILE with direct descriptors, else 0. */
  private readonly fileFlag: number;
  readonly stats: TcpServerStats = { accepted: 0, closed: 0, errors: 0, refused: 0, noBuffers: 0, paused: 0, partialSends: 0 };

  private readonly handler: TcpHandler;
  private readonly sqpoll: boolean;
  private readonly pauseAt: number;
  private readonly noDelay: boolean;
  // Connection table (struct of arrays, preallocated).
  private readonly fd: Int32Array;
  private readonly gen: Uint32Array;
  private readonly st: Uint8Array;
  private readonly held: Int32Array;
  private readonly qHead: Int32Array;
  private readonly qTail: Int32Array;
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  // Send queue entries (a pool shared by all connections).
  private eNext: Int32Array;
  private eBid: Int32Array;
  private eLen: Int32Array;
  private eDone: Int32Array;
  private eAddr: Float64Array;
  private eRef: Array<Uint8Array | null>;
  private eFree: number;
  // Connections whose recv must be re-armed after the current CQE batch.
  private readonly rearm: Int32Array;
  private rearmCount = 0;
  private readonly cqWords: Int32Array;
  private readonly tickTs: Timespec;
  private readonly noDelayOpt = intOption(1);
  private running = false;
  private readonly submitEvery: number;
  private acceptArmed = false;
  private closed = false;

  /** Opens the listener and arms multishot accept. Throws (port in use, ...) with a message that says what to do. */
  constructor(opts: TcpServerOptions) {
    this.handler = opts.handler;
    const entries = opts.entries ?? TCP_SERVER_DEFAULTS.entries;
    const ringOpts: RingOptions = { cqEntries: entries * 4, ...(opts.ring ?? fastRingOptions()) };
    this.ring = new Ring(entries, ringOpts);
    this.sqpoll = Boolean(ringOpts.sqpoll);
    let buffers: BufferRing | null = null;
    let listenFd = -1;
    let port = opts.port;
    try {
      buffers = new BufferRing(this.ring, {
        bgid: 0,
        count: opts.bufferCount ?? TCP_SERVER_DEFAULTS.bufferCount,
        bufferSize: opts.bufferSize ?? TCP_SERVER_DEFAULTS.bufferSize,
        // Received data is copied in and sent back out of buffers taken in turn from 16 MiB: keep that TLB-friendly.
        hugePages: opts.hugePages !== false,
      });
      listenFd = openListener(this.ring, opts);
      if (port === 0) {
        port = localPort(this.ring, listenFd);
        if (port < 0) {
          throw new SyscallError("getsockname", -port, `port 0 needs getsockname through io_uring (Linux 6.19+) to learn the port: pass a port number instead (${errnoName(-port)})`);
        }
      }
    } catch (err) {
      if (listenFd >= 0) closeFd(listenFd);
      this.ring.close();
      buffers?.close();
      throw err;
    }
    this.buffers = buffers;
    this.listenFd = listenFd;
    this.port = port;
    this.directDescriptors = opts.directDescriptors !== false && registerDirectTable(this.ring, opts.maxConnections ?? TCP_SERVER_DEFAULTS.maxConnections);
    this.fileFlag = this.directDescriptors ? SqeFlags.FIXED_FILE : 0;
    this.submitEvery = opts.submitEvery ?? TCP_SERVER_DEFAULTS.submitEvery;
    this.bufBase = this.buffers.memory.address;
    this.bufSize = this.buffers.bufferSize;
    this.pauseAt = opts.pauseAtBuffers ?? TCP_SERVER_DEFAULTS.pauseAtBuffers;
    this.noDelay = opts.noDelay !== false;
    const max = opts.maxConnections ?? TCP_SERVER_DEFAULTS.maxConnections;
    this.fd = new Int32Array(max).fill(-1);
    this.gen = new Uint32Array(max);
    this.st = new Uint8Array(max);
    this.held = new Int32Array(max);
    this.qHead = new Int32Array(max).fill(-1);
    this.qTail = new Int32Array(max).fill(-1);
    this.freeSlots = new Int32Array(max);
    for (let i = 0; i < max; i++) this.freeSlots[i] = max - 1 - i;
    this.freeTop = max;
    this.rearm = new Int32Array(max);
    const maxEntries = Math.max(this.buffers.count * 2, 1024);
    this.eNext = new Int32Array(maxEntries);
    this.eBid = new Int32Array(maxEntries);
    this.eLen = new Int32Array(maxEntries);
    this.eDone = new Int32Array(maxEntries);
    this.eAddr = new Float64Array(maxEntries);
    this.eRef = new Array<Uint8Array | null>(maxEntries).fill(null);
    for (let i = 0; i < maxEntries; i++) this.eNext[i] = i + 1;
    this.eNext[maxEntries - 1] = -1;
    this.eFree = 0;
    // One flat view over the CQE array: word 4*slot + {0: ud lo, 1: ud hi, 2: res, 3: flags}.
    const c0 = this.ring.cq.cqes[0]!.i32;
    this.cqWords = new Int32Array(c0.buffer, c0.byteOffset, this.ring.cq.entries * (c0.length));
    this.armAccept();
    const tickMs = opts.tickMs ?? TCP_SERVER_DEFAULTS.tickMs;
    this.tickTs = Timespec.fromMs(tickMs);
    const s = this.sqe();
    prepTimeout(s, this.tickTs, 0, TimeoutFlags.MULTISHOT);
    this.setUd(s, Kind.TIMER, 0, 0);
  }

  /** Connections open now. */
  get connections(): number {
    return this.fd.length - this.freeTop;
  }

  /** The fd of connection `conn`; with {@link directDescriptors}, its fixed-file index (use IOSQE_FIXED_FILE). */
  fdOf(conn: number): number {
    return this.fd[conn]!;
  }

  /** Bytes queued (not yet sent) on `conn`. */
  queuedBytes(conn: number): number {
    let n = 0;
    for (let e = this.qHead[conn]!; e >= 0; e = this.eNext[e]!) n += this.eLen[e]! - this.eDone[e]!;
    return n;
  }

  /**
   * Queues provided buffer `bid` (bytes [0, len)) to be sent on `conn`, with
   * no copy; the buffer goes back to the ring when the send completes.
   */
  sendBuffer(conn: number, bid: number, len: number): void {
    if ((this.st[conn]! & ST_OPEN) === 0) {
      // Closed under the caller: the buffer goes straight back.
      this.held[conn]!--;
      this.giveBack(bid);
      return;
    }
    this.enqueue(conn, this.bufBase + bid * this.bufSize, len, bid, null);
  }

  /**
   * Queues `data` to be sent on `conn`. `data` is kept referenced (not
   * copied) until its send completes: do not modify it meanwhile.
   */
  send(conn: number, data: Uint8Array): void {
    if (data.byteLength === 0 || (this.st[conn]! & ST_OPEN) === 0) return;
    this.enqueue(conn, addressOf(data), data.byteLength, -1, data);
  }

  /** Orderly close: finish pending sends, then close. */
  end(conn: number): void {
    if ((this.st[conn]! & ST_OPEN) === 0) return;
    this.st[conn]! |= ST_CLOSING;
    if (this.st[conn]! & ST_ARMED) this.cancelRecv(conn);
    this.maybeClose(conn, 0);
  }

  /**
   * Runs the loop until {@link stop} is called (from a handler). Each turn:
   * publish recycled buffers, submit and wait for at least one CQE, handle
   * every ready CQE, re-arm starved recvs.
   */
  run(): void {
    const ring = this.ring;
    this.running = true;
    while (this.running) {
      if (this.recycled > 0) {
        this.buffers.publish();
        this.recycled = 0;
      }
      const rc = ring.submitAndWait(1);
      if (rc < 0 && rc !== -Errno.EINTR && rc !== -Errno.EAGAIN && rc !== -Errno.EBUSY && rc !== -Errno.ETIME) {
        throw new SyscallError("io_uring_enter", -rc, `the server's ring failed: ${errnoName(-rc)}`);
      }
      this.reap();
      if (this.rearmCount > 0) this.rearmStarved();
    }
    // Requests prepared in the last batch (a CLOSE, say) still go out.
    ring.submit();
  }

  /** Makes {@link run} return after the current batch. */
  stop(): void {
    this.running = false;
  }

  /** Closes every connection, the listener, the buffers and the ring (blocking; not from inside run()). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.submit(); // CLOSEs still queued in the SQ run now (they complete inline)
    // Direct descriptors go with the ring's file table.
    if (!this.directDescriptors) for (let c = 0; c < this.fd.length; c++) if (this.fd[c]! >= 0) closeFd(this.fd[c]!);
    closeFd(this.listenFd);
    this.ring.close(); // cancels everything in flight; then the buffers are unused
    this.buffers.close();
  }

  // ---- internals ----------------------------------------------------------

  private sqe(): Sqe {
    const ring = this.ring;
    let s = ring.getSqe();
    while (s === null) {
      ring.submit();
      // With SQPOLL the kernel thread frees slots on its own time: wait for one.
      if (this.sqpoll) ring.enter(0, 0, EnterFlags.SQ_WAIT);
      s = ring.getSqe();
    }
    return s;
  }

  private setUd(s: Sqe, kind: number, conn: number, gen: number): void {
    s.u32[SQE_W.userDataLo] = udLo(kind, conn);
    s.u32[SQE_W.userDataHi] = gen;
  }

  private armAccept(): void {
    const s = this.sqe();
    if (this.directDescriptors) prepMultishotAcceptDirect(s, this.listenFd, null, null, 0);
    else prepMultishotAccept(s, this.listenFd, null, null, SocketType.CLOEXEC);
    this.setUd(s, Kind.ACCEPT, 0, 0);
    this.acceptArmed = true;
  }

  private armRecv(conn: number): void {
    const s = this.sqe();
    prepRecvSelectMultishot(s, this.fd[conn]!, this.buffers.bgid);
    s.u8[1] = s.u8[1]! | this.fileFlag;
    this.setUd(s, Kind.RECV, conn, this.gen[conn]!);
    this.st[conn] = (this.st[conn]! | ST_ARMED) & ~(ST_PAUSED | ST_REARM);
  }

  private cancelRecv(conn: number): void {
    if (this.st[conn]! & ST_CANCELING) return;
    this.st[conn]! |= ST_CANCELING;
    const s = this.sqe();
    prepCancel32x2(s, udLo(Kind.RECV, conn), this.gen[conn]!, 0);
    s.u8[1] = SqeFlags.CQE_SKIP_SUCCESS;
    this.setUd(s, Kind.CANCEL, conn, this.gen[conn]!);
  }

  private enqueue(conn: number, addr: number, len: number, bid: number, ref: Uint8Array | null): void {
    if (this.eFree < 0) this.growSendPool();
    const e = this.eFree;
    this.eFree = this.eNext[e]!;
    this.eNext[e] = -1;
    this.eAddr[e] = addr;
    this.eLen[e] = len;
    this.eDone[e] = 0;
    this.eBid[e] = bid;
    this.eRef[e] = ref;
    const tail = this.qTail[conn]!;
    if (tail < 0) this.qHead[conn] = e;
    else this.eNext[tail] = e;
    this.qTail[conn] = e;
    if ((this.st[conn]! & ST_SENDING) === 0) this.submitSend(conn);
  }

  /** Doubles the send-entry pool (only reached with many send() calls queued: echo never gets here). */
  private growSendPool(): void {
    const n = this.eNext.length;
    const grow = <T extends Int32Array | Float64Array>(a: T, make: (k: number) => T): T => {
      const b = make(n * 2);
      b.set(a);
      return b;
    };
    this.eNext = grow(this.eNext, (k) => new Int32Array(k));
    this.eBid = grow(this.eBid, (k) => new Int32Array(k));
    this.eLen = grow(this.eLen, (k) => new Int32Array(k));
    this.eDone = grow(this.eDone, (k) => new Int32Array(k));
    this.eAddr = grow(this.eAddr, (k) => new Float64Array(k));
    for (let i = n; i < n * 2; i++) {
      this.eRef.push(null);
      this.eNext[i] = i + 1;
    }
    this.eNext[n * 2 - 1] = -1;
    this.eFree = n;
  }

  private submitSend(conn: number): void {
    const e = this.qHead[conn]!;
    const done = this.eDone[e]!;
    const s = this.sqe();
    prepSendRaw(s, this.fd[conn]!, this.eAddr[e]! + done, this.eLen[e]! - done, MsgFlags.NOSIGNAL, this.fileFlag);
    this.setUd(s, Kind.SEND, conn, this.gen[conn]!);
    this.st[conn]! |= ST_SENDING;
  }

  /** Pops the queue head, recycling its buffer. */
  private popSend(conn: number): void {
    const e = this.qHead[conn]!;
    const next = this.eNext[e]!;
    this.qHead[conn] = next;
    if (next < 0) this.qTail[conn] = -1;
    const bid = this.eBid[e]!;
    if (bid >= 0) {
      this.giveBack(bid);
      this.held[conn]!--;
    }
    this.eRef[e] = null;
    this.eNext[e] = this.eFree;
    this.eFree = e;
  }

  private reap(): void {
    const cq = this.ring.cq;
    const w = this.cqWords;
    const mask = cq.mask;
    const words = w.length / cq.entries;
    let head = cq.head;
    // Acquire: pairs with the kernel's release of the CQ tail (see cq.ts).
    const tail = Atomics.load(cq.kring, cq.kTail);
    const n = (tail - head) >>> 0;
    const sq = this.ring.sq;
    const every = this.submitEvery > 0 ? this.submitEvery : Infinity;
    while (head !== tail) {
      if (sq.sqeTail - sq.sqeHead >= every) this.ring.submit();
      const i = (head & mask) * words;
      const lo = w[i]!;
      const hi = w[i + 1]! >>> 0;
      const res = w[i + 2]!;
      const flags = w[i + 3]! >>> 0;
      head = (head + 1) >>> 0;
      const kind = lo >>> 24;
      const conn = lo & 0xffffff;
      if (kind === Kind.RECV) this.onRecv(conn, hi, res, flags);
      else if (kind === Kind.SEND) this.onSend(conn, hi, res);
      else if (kind === Kind.ACCEPT) this.onAccept(res, flags);
      else if (kind === Kind.TIMER) this.onTick();
      else if (kind === Kind.CANCEL && hi === this.gen[conn]) this.st[conn]! &= ~ST_CANCELING;
      // CLOSE and SOCKOPT post CQEs only on failure; nothing to undo.
    }
    if (n > 0) cq.advance(n);
  }

  private onAccept(res: number, flags: number): void {
    if ((flags & CqeFlags.MORE) === 0) this.acceptArmed = false;
    if (res >= 0) {
      if (this.freeTop === 0) {
        this.closeConnection(res, 0, 0);
        this.stats.refused++;
      } else {
        const conn = this.freeSlots[--this.freeTop]!;
        this.fd[conn] = res;
        this.st[conn] = ST_OPEN;
        this.held[conn] = 0;
        this.stats.accepted++;
        if (this.noDelay) {
          const s = this.sqe();
          prepSetsockopt(s, res, IpProto.TCP, SockOpt.TCP_NODELAY, this.noDelayOpt);
          s.u8[1] = SqeFlags.CQE_SKIP_SUCCESS | this.fileFlag;
          this.setUd(s, Kind.SOCKOPT, conn, this.gen[conn]!);
        }
        this.armRecv(conn);
        this.handler.onOpen?.(conn);
      }
    } else if (res === -Errno.EMFILE || res === -Errno.ENFILE) {
      this.stats.refused++;
    }
    // Re-arm a finished multishot accept. After EMFILE the next tick re-arms
    // (an immediate retry would spin while no fd is free).
    if (!this.acceptArmed && !(res === -Errno.EMFILE || res === -Errno.ENFILE)) this.armAccept();
  }

  private onRecv(conn: number, gen: number, res: number, flags: number): void {
    if (gen !== this.gen[conn]) {
      // A straggler for a slot that has been closed: only its buffer matters.
      if (flags & CqeFlags.BUFFER) this.giveBack(flags >>> 16);
      return;
    }
    const more = (flags & CqeFlags.MORE) !== 0;
    // The recv's last CQE also settles a cancel aimed at it (whose own CQE is skipped on success).
    if (!more) this.st[conn]! &= ~(ST_ARMED | ST_CANCELING);
    if (res > 0) {
      const bid = flags >>> 16;
      this.held[conn]!++;
      if ((this.st[conn]! & ST_CLOSING) !== 0 || !this.handler.onData(conn, bid, res)) {
        this.held[conn]!--;
        this.giveBack(bid);
      }
      const st = this.st[conn]!;
      if (st & ST_CLOSING) {
        if (!more) this.maybeClose(conn, 0);
      } else if (this.held[conn]! >= this.pauseAt) {
        if (more) this.cancelRecv(conn);
        this.st[conn]! |= ST_PAUSED;
        this.stats.paused++;
      } else if (!more) {
        this.armRecv(conn);
      }
      return;
    }
    if (flags & CqeFlags.BUFFER) this.giveBack(flags >>> 16);
    if (res === 0) {
      // EOF: the peer closed its sending side. It may still read: finish sending.
      if (this.handler.onEnd) this.handler.onEnd(conn);
      else this.end(conn);
      this.maybeClose(conn, 0);
    } else if (res === -Errno.ENOBUFS) {
      this.stats.noBuffers++;
      if ((this.st[conn]! & (ST_CLOSING | ST_REARM)) === 0) {
        this.st[conn]! |= ST_REARM;
        this.rearm[this.rearmCount++] = conn;
      }
    } else if (res === -Errno.ECANCELED) {
      this.maybeClose(conn, 0);
    } else {
      this.abort(conn, -res);
    }
  }

  private onSend(conn: number, gen: number, res: number): void {
    if (gen !== this.gen[conn]) return;
    if (res < 0) {
      this.st[conn]! &= ~ST_SENDING;
      while (this.qHead[conn]! >= 0) this.popSend(conn);
      this.abort(conn, -res);
      return;
    }
    const e = this.qHead[conn]!;
    const done = this.eDone[e]! + res;
    if (done < this.eLen[e]! && res > 0) {
      this.eDone[e] = done;
      this.stats.partialSends++;
      this.submitSend(conn);
      return;
    }
    this.popSend(conn);
    const st = this.st[conn]!;
    if (st & ST_CLOSING) {
      // Closing after an error: drop the rest. Orderly (EOF): keep sending.
      if (this.qHead[conn]! >= 0 && (st & ST_OPEN)) {
        this.submitSend(conn);
        return;
      }
      this.st[conn]! &= ~ST_SENDING;
      this.maybeClose(conn, 0);
      return;
    }
    if (this.qHead[conn]! >= 0) {
      this.submitSend(conn);
      return;
    }
    this.st[conn]! &= ~ST_SENDING;
    if ((st & ST_PAUSED) !== 0 && (st & (ST_ARMED | ST_CANCELING)) === 0 && this.held[conn]! * 2 <= this.pauseAt) {
      this.armRecv(conn);
    }
  }

  /** Error on a connection: stop receiving, drop unsent data, close. */
  private abort(conn: number, errno: number): void {
    if ((this.st[conn]! & ST_OPEN) === 0) return;
    if ((this.st[conn]! & ST_CLOSING) === 0) this.stats.errors++;
    this.st[conn]! |= ST_CLOSING;
    this.st[conn]! &= ~ST_OPEN;
    if (this.st[conn]! & ST_ARMED) this.cancelRecv(conn);
    this.maybeClose(conn, errno);
  }

  /** Closes `conn` once it is closing and nothing of it is in flight. */
  private maybeClose(conn: number, errno: number): void {
    const st = this.st[conn]!;
    if ((st & ST_CLOSING) === 0 || (st & (ST_ARMED | ST_SENDING | ST_CANCELING)) !== 0) return;
    if (this.fd[conn]! < 0) return;
    while (this.qHead[conn]! >= 0) this.popSend(conn);
    this.closeConnection(this.fd[conn]!, conn, this.gen[conn]!);
    this.fd[conn] = -1;
    this.st[conn] = 0;
    this.gen[conn] = (this.gen[conn]! + 1) >>> 0;
    this.freeSlots[this.freeTop++] = conn;
    this.stats.closed++;
    this.handler.onClose?.(conn, errno);
  }

  /** Queues the close of a connection's fd or direct descriptor (a CQE only on failure). */
  private closeConnection(fdOrIndex: number, conn: number, gen: number): void {
    const s = this.sqe();
    if (this.directDescriptors) prepCloseDirect(s, fdOrIndex);
    else prepClose(s, fdOrIndex);
    s.u8[1] = SqeFlags.CQE_SKIP_SUCCESS;
    this.setUd(s, Kind.CLOSE, conn, gen);
  }

  private rearmStarved(): void {
    const n = this.rearmCount;
    this.rearmCount = 0;
    // Only worth trying when buffers came back since they ran out.
    for (let i = 0; i < n; i++) {
      const conn = this.rearm[i]!;
      const st = this.st[conn]!;
      if ((st & ST_REARM) === 0 || (st & ST_OPEN) === 0) continue;
      if (this.recycled === 0 && this.held[conn]! > 0) {
        // Still starved and this connection's own sends will free buffers: wait for them.
        this.rearm[this.rearmCount++] = conn;
        continue;
      }
      this.armRecv(conn);
    }
    if (!this.acceptArmed && this.freeTop > 0) this.armAccept();
  }

  /** Returns buffer `bid` to the ring (published once per loop turn). */
  private giveBack(bid: number): void {
    this.buffers.add(bid);
    this.recycled++;
  }

  private onTick(): void {
    // Re-arm accept after fd exhaustion stopped it (see onAccept).
    if (!this.acceptArmed) this.armAccept();
    this.handler.onTick?.();
  }
}
