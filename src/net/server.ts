/**
 * `TcpServer`: a TCP server on one io_uring, driven by a run loop (blocking
 * `submitAndWait`, then one pass over every ready CQE). Per connection, all
 * through the ring: multishot ACCEPT on the listener; one multishot RECV with
 * buffer selection from a provided-buffer ring for the connection's life;
 * sends queued per connection (./send-queue.ts) and issued one at a time so
 * bytes leave in order, a short send resubmitted for the rest; CLOSE once
 * nothing of the connection is in flight. What one peer may take of the
 * shared pool and table is the resource policy (./policy.ts); the table's
 * slots are ./connection-table.ts, the ring's setup ./server-setup.ts.
 *
 * Connection states (bits of `st[conn]`): OPEN (the application may send),
 * ARMED (the recv is in flight), SENDING (the queue head's send is in flight),
 * CLOSING (close once neither is in flight), PAUSED (recv stopped by the
 * policy), STARVED (recv ended with -ENOBUFS, waiting for a buffer).
 *
 * | event                                  | in          | then                                                                    |
 * |----------------------------------------|-------------|-------------------------------------------------------------------------|
 * | accept                                 | (free slot) | OPEN + ARMED; over maxConnections: CLOSE at once (`refused`)            |
 * | recv data (res > 0)                    | any         | to the handler (given back if CLOSING); over a limit: PAUSED, cancel recv |
 * | sendBuffer while SENDING, pool low     | OPEN        | spill: bytes copied to a heap chunk at the queue's tail, buffer given back |
 * | recv final CQE (no MORE), any res      | ARMED       | clear ARMED, then the first that applies:                               |
 * |   · CLOSING                            |             | maybeClose                                                              |
 * |   · res = 0 (EOF)                      |             | onEnd or end(): CLOSING, OPEN kept so queued sends finish; maybeClose   |
 * |   · res < 0, not ENOBUFS/ECANCELED     |             | abort: CLOSING, not OPEN, cancel the send; maybeClose                   |
 * |   · PAUSED                             |             | re-arm if the sends drained meanwhile, else wait for them               |
 * |   · -ENOBUFS                           |             | STARVED: re-armed after the batch while a buffer is free                |
 * |   · otherwise (-ECANCELED, res > 0)    |             | re-arm                                                                  |
 * | send complete / short                  | SENDING     | pop and send the next / resubmit the rest                               |
 * | send queue empty                       | SENDING     | clear SENDING; CLOSING: maybeClose; PAUSED and drained: re-arm          |
 * | send failed (any errno, -ECANCELED too)| SENDING     | clear SENDING, drop the queue, abort (maybeClose)                       |
 * | idle timeout (tick sweep)              | any         | abort with reason `idle`: cancel recv and send                          |
 * | end() (application)                    | OPEN        | CLOSING (orderly), cancel recv; maybeClose                              |
 * | maybeClose                             | CLOSING, not ARMED, not SENDING | CLOSE the fd, slot free (generation + 1), onClose       |
 *
 * Why any order of failures ends closed: CLOSING is never cleared until the
 * close; ARMED and SENDING are each cleared only by their own final CQE, and
 * every final CQE of a CLOSING connection calls maybeClose, so whichever
 * finishes last closes, whatever its errno. A cancel's own outcome never
 * matters: the state bits, not the errno, decide what follows.
 *
 * The handler decides what to do with data: {@link TcpServer.sendBuffer}
 * sends a received buffer back without copying (the echo server), and
 * {@link TcpServer.send} sends any bytes.
 */
import { CqeFlags, EnterFlags, Features, SqeFlags, TimeoutFlags } from "../sys/constants.ts";
import { Errno, SyscallError, errnoName } from "../sys/errno.ts";
import { addressOf, closeFd } from "../sys/ffi.ts";
import { assertOpen } from "../sys/closed.ts";
import { Ring, type RingOptions } from "../ring/ring.ts";
import { sqeAddFlags, sqeSetFlags, type Sqe } from "../ring/sqe.ts";
import { SQE_W } from "../sys/abi.ts";
import { BufferRing } from "../mem/buffer-ring.ts";
import { prepClose, prepCloseDirect } from "../ops/fs.ts";
import { prepMultishotAccept, prepMultishotAcceptDirect } from "../ops/net.ts";
import { prepTimeout } from "../ops/timeout.ts";
import { Timespec } from "../ops/timespec.ts";
import { IpProto, MsgFlags, SockOpt, SocketType } from "./constants.ts";
import { Kind, udLo } from "./kinds.ts";
import { intOption, localPort, openListener } from "./listener.ts";
import { prepCancel32x2, prepRecvSelectMultishot, prepSendRaw, prepSetsockopt } from "./prep.ts";
import { CLOSE_REASON_NAMES, CloseReason, TCP_POLICY_DEFAULTS, type CloseReasonName } from "./policy.ts";
import { SPILL, SendQueue } from "./send-queue.ts";
import { TCP_SERVER_DEFAULTS, type TcpHandler, type TcpServerOptions, type TcpServerStats } from "./server-options.ts";
import { fastRingOptions, registerDirectTable } from "./server-setup.ts";
import { ConnectionTable, ST_ARMED, ST_CANCELING, ST_CLOSING, ST_OPEN, ST_PAUSED, ST_SENDING, ST_STARVED } from "./connection-table.ts";

export { TCP_SERVER_DEFAULTS, type TcpHandler, type TcpServerOptions, type TcpServerStats } from "./server-options.ts";
export { fastRingOptions } from "./server-setup.ts";

/** Bytes of one spill chunk: 32 pool buffers' worth, so a stalled peer's spilled backlog costs few sends and allocations. */
const SPILL_CHUNK = 64 * 1024;

/** An integer option of at least `min`, or its default; a RangeError naming it otherwise. */
function batchOption(value: number | undefined, fallback: number, min: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > 0xffffffff)
    throw new RangeError(`TcpServer: ${name} must be an integer from ${min} to 2^32-1, got ${value}`);
  return value;
}

/** A TCP server on one ring (see the module comment). Not thread-safe: one thread runs it. */
export class TcpServer {
  /** The ring everything runs on. */
  readonly ring: Ring;
  /** The provided buffers recvs land in (group 0): buffer `bid` is at `bid * bufferSize` of `buffers.memory.bytes`. */
  readonly buffers: BufferRing;
  /** The listening socket's fd. */
  readonly listenFd: number;
  /** The TCP port listened on. */
  readonly port: number;
  /** Connections are direct descriptors (fixed-file slots), not fds: see TcpServerOptions.directDescriptors. */
  readonly directDescriptors: boolean;

  readonly #bufBase: number;
  readonly #bufSize: number;
  /** Buffers recycled since the last publish. */
  #recycled = 0;
  /** Pool buffers out of the ring: taken by a recv CQE and not yet given back. */
  #buffersOut = 0;
  /** IOSQE_FIXED_FILE with direct descriptors, else 0. */
  readonly #fileFlag: number;
  readonly #handler: TcpHandler;
  readonly #sqpoll: boolean;
  readonly #noDelay: boolean;
  readonly #submitEvery: number;
  /** min_wait of each run-loop wait, µs (0: plain submitAndWait(1)). */
  readonly #batchWaitUs: number;
  readonly #batchWaitNr: number;
  /** Bound of a batched wait with nothing ready: the tick's own period (its timeout wakes the loop anyway). */
  readonly #batchWaitTimeoutNs: number;
  // The policy (see ./policy.ts).
  readonly #share: number;
  readonly #reserve: number;
  readonly #maxSendBytes: number;
  /** Idle timeout in ticks (0: none). */
  readonly #idleTicks: number;
  /** The connection table; the fields below alias its arrays, so the hot path reads them directly. */
  readonly #table: ConnectionTable;
  readonly #fd: Int32Array;
  readonly #gen: Uint32Array;
  readonly #st: Uint8Array;
  readonly #held: Int32Array;
  readonly #lastActive: Uint32Array;
  readonly #reason: Uint8Array;
  readonly #errno: Int32Array;
  readonly #q: SendQueue;
  // Connections whose recv waits for a buffer (STARVED), re-armed after a batch.
  readonly #rearm: Int32Array;
  #rearmCount = 0;
  readonly #tickTs: Timespec;
  #tickNo = 0;
  readonly #noDelayOpt = intOption(1);
  #running = false;
  #acceptArmed = false;
  /** Accept failed for want of fds: re-armed at the next tick, not at once (that would spin). */
  #acceptBackoff = false;
  #closed = false;
  // Totals for stats().
  #accepted = 0;
  readonly #closes: Float64Array = new Float64Array(CLOSE_REASON_NAMES.length);
  #noBuffers = 0;
  #pauses = 0;
  #partialSends = 0;
  #spills = 0;

  /** Opens the listener and arms multishot accept. Throws (port in use, ...) with a message that says what to do. */
  constructor(opts: TcpServerOptions) {
    this.#handler = opts.handler;
    // Checked before the ring exists, so a bad value leaks nothing.
    this.#batchWaitUs = batchOption(opts.batchWaitUs, TCP_SERVER_DEFAULTS.batchWaitUs, 0, "batchWaitUs");
    this.#batchWaitNr = batchOption(opts.batchWaitCompletions, TCP_SERVER_DEFAULTS.batchWaitCompletions, 1, "batchWaitCompletions");
    this.#batchWaitTimeoutNs = Math.round((opts.tickMs ?? TCP_SERVER_DEFAULTS.tickMs) * 1e6);
    const entries = opts.entries ?? TCP_SERVER_DEFAULTS.entries;
    const ringOpts: RingOptions = { cqEntries: entries * 4, ...(opts.ring ?? fastRingOptions()) };
    this.ring = new Ring(entries, ringOpts);
    this.#sqpoll = Boolean(ringOpts.sqpoll);
    if (this.#batchWaitUs > 0 && (this.ring.features & Features.MIN_TIMEOUT) === 0) {
      this.ring.close();
      throw new RangeError("TcpServer: batchWaitUs needs the kernel's min_wait (IORING_FEAT_MIN_TIMEOUT, Linux 6.12+); leave it at 0 on this kernel");
    }
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
          throw new SyscallError(
            "getsockname",
            -port,
            `port 0 needs getsockname through io_uring (Linux 6.19+) to learn the port: pass a port number instead (${errnoName(-port)})`,
          );
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
    const max = opts.maxConnections ?? TCP_POLICY_DEFAULTS.maxConnections;
    this.#share = opts.connectionBuffers ?? TCP_POLICY_DEFAULTS.connectionBuffers;
    this.#reserve = opts.reserveBuffers ?? Math.floor(buffers.count / 4);
    this.#maxSendBytes = opts.maxSendBytes ?? TCP_POLICY_DEFAULTS.maxSendBytes;
    const tickMs = opts.tickMs ?? TCP_SERVER_DEFAULTS.tickMs;
    const idleMs = opts.idleTimeoutMs ?? TCP_POLICY_DEFAULTS.idleTimeoutMs;
    this.#idleTicks = idleMs > 0 ? Math.max(1, Math.ceil(idleMs / tickMs)) : 0;
    this.directDescriptors = opts.directDescriptors !== false && registerDirectTable(this.ring, max);
    this.#fileFlag = this.directDescriptors ? SqeFlags.FIXED_FILE : 0;
    this.#submitEvery = opts.submitEvery ?? TCP_SERVER_DEFAULTS.submitEvery;
    this.#bufBase = this.buffers.memory.address;
    this.#bufSize = this.buffers.bufferSize;
    this.#noDelay = opts.noDelay !== false;
    const table = new ConnectionTable(max);
    this.#table = table;
    this.#fd = table.fd;
    this.#gen = table.gen;
    this.#st = table.st;
    this.#held = table.held;
    this.#lastActive = table.lastActive;
    this.#reason = table.reason;
    this.#errno = table.errno;
    this.#rearm = new Int32Array(max);
    this.#q = new SendQueue(max, Math.max(this.buffers.count * 2, 1024));
    if (this.ring.cq.mixed) {
      this.close();
      throw new RangeError("TcpServer: a CQE_MIXED ring is not supported (its reap loop reads one CQE per slot); leave cqeMixed out of the ring options");
    }
    this.#armAccept();
    this.#tickTs = Timespec.fromMs(tickMs);
    const s = this.#sqe();
    prepTimeout(s, this.#tickTs, 0, TimeoutFlags.MULTISHOT);
    this.#setUd(s, Kind.TIMER, 0, 0);
  }

  /** Connections open now. */
  get connections(): number {
    assertOpen(this.#closed, "TcpServer", "connections");
    return this.#table.open;
  }

  /** The server's counters now (see {@link TcpServerStats}); walks the connection table, so not for every request. */
  stats(): TcpServerStats {
    assertOpen(this.#closed, "TcpServer", "stats");
    const t = this.#table.tally();
    const closes = {} as Record<CloseReasonName, number>;
    for (const name of CLOSE_REASON_NAMES) closes[name] = this.#closes[CloseReason[name]]!;
    return {
      open: this.#table.open,
      buffersHeld: t.held,
      buffersFree: this.buffers.count - this.#buffersOut,
      sendsInFlight: t.sending,
      starved: t.starved,
      paused: t.paused,
      accepted: this.#accepted,
      closes,
      noBuffers: this.#noBuffers,
      pauses: this.#pauses,
      partialSends: this.#partialSends,
      spills: this.#spills,
    };
  }

  /** The fd of connection `conn`; with {@link directDescriptors}, its fixed-file index (use IOSQE_FIXED_FILE). */
  fdOf(conn: number): number {
    assertOpen(this.#closed, "TcpServer", "fdOf");
    return this.#fd[conn]!;
  }

  /** Bytes queued (not yet sent) on `conn`. */
  queuedBytes(conn: number): number {
    assertOpen(this.#closed, "TcpServer", "queuedBytes");
    return this.#q.bytes[conn]!;
  }

  /**
   * Queues provided buffer `bid` (bytes [0, len)) to be sent on `conn`, with
   * no copy; the buffer goes back to the ring when the send completes.
   */
  sendBuffer(conn: number, bid: number, len: number): void {
    assertOpen(this.#closed, "TcpServer", "sendBuffer");
    const st = this.#st[conn]!;
    if ((st & ST_OPEN) === 0) {
      // Closed under the caller: the buffer goes straight back.
      this.#held[conn]!--;
      this.#giveBack(bid);
      return;
    }
    if ((st & ST_SENDING) !== 0 && this.buffers.count - this.#buffersOut < this.#reserve) {
      this.#spill(conn, bid, len);
      return;
    }
    this.#enqueue(conn, this.#bufBase + bid * this.#bufSize, len, bid, null);
  }

  /**
   * Queues `data` to be sent on `conn`. `data` is kept referenced (not
   * copied) until its send completes: do not modify it meanwhile.
   */
  send(conn: number, data: Uint8Array): void {
    assertOpen(this.#closed, "TcpServer", "send");
    if (data.byteLength === 0 || (this.#st[conn]! & ST_OPEN) === 0) return;
    this.#enqueue(conn, addressOf(data), data.byteLength, -1, data);
  }

  /** Orderly close: finish pending sends, then close. */
  end(conn: number): void {
    assertOpen(this.#closed, "TcpServer", "end");
    const st = this.#st[conn]!;
    if ((st & ST_OPEN) === 0) return;
    if ((st & ST_CLOSING) === 0) this.#reason[conn] = CloseReason.orderly;
    this.#st[conn] = st | ST_CLOSING;
    if (st & ST_ARMED) this.#cancelRecv(conn);
    this.#maybeClose(conn);
  }

  /**
   * Runs the loop until {@link stop} is called (from a handler). Each turn:
   * publish recycled buffers, submit and wait for at least one CQE, handle
   * every ready CQE, re-arm starved recvs.
   */
  run(): void {
    assertOpen(this.#closed, "TcpServer", "run");
    const ring = this.ring;
    this.#running = true;
    while (this.#running) {
      if (this.#recycled > 0) {
        this.buffers.publish();
        this.#recycled = 0;
      }
      const rc = this.#batchWaitUs > 0 ? ring.submitAndWaitMinTimeout(this.#batchWaitNr, this.#batchWaitTimeoutNs, this.#batchWaitUs) : ring.submitAndWait(1);
      if (rc < 0 && rc !== -Errno.EINTR && rc !== -Errno.EAGAIN && rc !== -Errno.EBUSY && rc !== -Errno.ETIME) {
        throw new SyscallError("io_uring_enter", -rc, `the server's ring failed: ${errnoName(-rc)}`);
      }
      this.#reap();
      if (this.#rearmCount > 0) this.#rearmStarved();
      // Over maxConnections accept stays armed: a new connection is accepted and refused, not left in the backlog.
      if (!this.#acceptArmed && !this.#acceptBackoff) this.#armAccept();
    }
    // Requests prepared in the last batch (a CLOSE, say) still go out.
    ring.submit();
  }

  /** Makes {@link run} return after the current batch. */
  stop(): void {
    assertOpen(this.#closed, "TcpServer", "stop");
    this.#running = false;
  }

  /** Closes every connection, the listener, the buffers and the ring (blocking; not from inside run()). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ring.submit(); // CLOSEs still queued in the SQ run now (they complete inline)
    for (let c = 0; c < this.#table.highWater; c++) {
      if (this.#fd[c]! < 0) continue;
      this.#closes[CloseReason.shutdown]!++;
      // Direct descriptors go with the ring's file table.
      if (!this.directDescriptors) closeFd(this.#fd[c]!);
    }
    closeFd(this.listenFd);
    this.ring.close(); // cancels everything in flight; then the buffers are unused
    this.buffers.close();
  }

  // ---- submission ---------------------------------------------------------

  #sqe(): Sqe {
    const ring = this.ring;
    let s = ring.getSqe();
    while (s === null) {
      ring.submit();
      // With SQPOLL the kernel thread frees slots on its own time: wait for one.
      if (this.#sqpoll) ring.enter(0, 0, EnterFlags.SQ_WAIT);
      s = ring.getSqe();
    }
    return s;
  }

  #setUd(s: Sqe, kind: number, conn: number, gen: number): void {
    s.u32[SQE_W.userDataLo] = udLo(kind, conn);
    s.u32[SQE_W.userDataHi] = gen;
  }

  #armAccept(): void {
    const s = this.#sqe();
    if (this.directDescriptors) prepMultishotAcceptDirect(s, this.listenFd, null, null, 0);
    else prepMultishotAccept(s, this.listenFd, null, null, SocketType.CLOEXEC);
    this.#setUd(s, Kind.ACCEPT, 0, 0);
    this.#acceptArmed = true;
  }

  #armRecv(conn: number): void {
    const s = this.#sqe();
    prepRecvSelectMultishot(s, this.#fd[conn]!, this.buffers.bgid);
    sqeAddFlags(s, this.#fileFlag);
    this.#setUd(s, Kind.RECV, conn, this.#gen[conn]!);
    this.#st[conn] = (this.#st[conn]! | ST_ARMED) & ~(ST_PAUSED | ST_STARVED);
  }

  #cancelRecv(conn: number): void {
    if (this.#st[conn]! & ST_CANCELING) return;
    this.#st[conn]! |= ST_CANCELING;
    const s = this.#sqe();
    prepCancel32x2(s, udLo(Kind.RECV, conn), this.#gen[conn]!, 0);
    sqeSetFlags(s, SqeFlags.CQE_SKIP_SUCCESS);
    this.#setUd(s, Kind.CANCEL, conn, this.#gen[conn]!);
  }

  /** Cancels the send in flight (a peer that never reads would hold it forever); its CQE then ends in any errno. */
  #cancelSend(conn: number): void {
    const s = this.#sqe();
    prepCancel32x2(s, udLo(Kind.SEND, conn), this.#gen[conn]!, 0);
    sqeSetFlags(s, SqeFlags.CQE_SKIP_SUCCESS);
    this.#setUd(s, Kind.CANCEL_SEND, conn, this.#gen[conn]!);
  }

  #enqueue(conn: number, addr: number, len: number, bid: number, ref: Uint8Array | null): void {
    this.#q.push(conn, addr, len, bid, ref);
    if ((this.#st[conn]! & ST_SENDING) === 0) this.#submitSend(conn);
  }

  /**
   * The pool runs low and `conn` already waits on a send: queue a heap copy
   * and give the buffer back at once, so peers that do not read hold at most
   * their share plus one buffer each, and the rest of the pool stays for the
   * others. The copies count against maxSendBytes, which pauses the peer.
   */
  #spill(conn: number, bid: number, len: number): void {
    const src = this.buffers.view(bid, len);
    if (!this.#q.appendSpill(conn, src)) {
      // A new chunk; later spills fill it, so a stalled peer's backlog leaves in large sends, not one per buffer.
      const chunk = new Uint8Array(Math.max(SPILL_CHUNK, len));
      chunk.set(src);
      this.#enqueue(conn, addressOf(chunk), len, SPILL, chunk);
    }
    this.#held[conn]!--;
    this.#giveBack(bid);
    this.#spills++;
  }

  #submitSend(conn: number): void {
    const q = this.#q;
    const e = q.head[conn]!;
    const done = q.done[e]!;
    const s = this.#sqe();
    prepSendRaw(s, this.#fd[conn]!, q.addr[e]! + done, q.len[e]! - done, MsgFlags.NOSIGNAL, this.#fileFlag);
    this.#setUd(s, Kind.SEND, conn, this.#gen[conn]!);
    this.#st[conn]! |= ST_SENDING;
  }

  /** Pops the queue head, recycling its buffer. */
  #popSend(conn: number): void {
    const bid = this.#q.pop(conn);
    if (bid >= 0) {
      this.#giveBack(bid);
      this.#held[conn]!--;
    }
  }

  /** Queues the close of a connection's fd or direct descriptor (a CQE only on failure). */
  #closeConnection(fdOrIndex: number, conn: number, gen: number): void {
    const s = this.#sqe();
    if (this.directDescriptors) prepCloseDirect(s, fdOrIndex);
    else prepClose(s, fdOrIndex);
    sqeSetFlags(s, SqeFlags.CQE_SKIP_SUCCESS);
    this.#setUd(s, Kind.CLOSE, conn, gen);
  }

  // ---- completions --------------------------------------------------------

  #reap(): void {
    // Views, tail and head from the ring's one CQ primitive, fetched per batch (see src/ring/cq.ts).
    const cq = this.ring.cq;
    const w = cq.words;
    const mask = cq.mask;
    const shift = cq.cqeShift;
    let head = cq.head;
    const tail = cq.tail();
    const n = (tail - head) >>> 0;
    const sq = this.ring.sq;
    const every = this.#submitEvery > 0 ? this.#submitEvery : Infinity;
    while (head !== tail) {
      if (sq.sqeTail - sq.sqeHead >= every) this.ring.submit();
      const i = (head & mask) << shift;
      const lo = w[i]!;
      const hi = w[i + 1]! >>> 0;
      const res = w[i + 2]!;
      const flags = w[i + 3]! >>> 0;
      head = (head + 1) >>> 0;
      const kind = lo >>> 24;
      const conn = lo & 0xffffff;
      if (kind === Kind.RECV) this.#onRecv(conn, hi, res, flags);
      else if (kind === Kind.SEND) this.#onSend(conn, hi, res);
      else if (kind === Kind.ACCEPT) this.#onAccept(res, flags);
      else if (kind === Kind.TIMER) this.#onTick();
      else if (kind === Kind.CANCEL && hi === this.#gen[conn]) this.#st[conn]! &= ~ST_CANCELING;
      // CLOSE, SOCKOPT and CANCEL_SEND post CQEs only on failure; nothing to undo.
    }
    if (n > 0) cq.advance(n);
  }

  #onAccept(res: number, flags: number): void {
    if ((flags & CqeFlags.MORE) === 0) this.#acceptArmed = false;
    if (res >= 0) {
      this.#accepted++;
      const conn = this.#table.take(res, this.#tickNo);
      if (conn < 0) {
        // Over maxConnections: refuse (the peer sees its connection closed at once).
        this.#closeConnection(res, 0, 0);
        this.#closes[CloseReason.refused]!++;
        return;
      }
      if (this.#noDelay) {
        const s = this.#sqe();
        prepSetsockopt(s, res, IpProto.TCP, SockOpt.TCP_NODELAY, this.#noDelayOpt);
        sqeSetFlags(s, SqeFlags.CQE_SKIP_SUCCESS | this.#fileFlag);
        this.#setUd(s, Kind.SOCKOPT, conn, this.#gen[conn]!);
      }
      this.#armRecv(conn);
      this.#handler.onOpen?.(conn);
      return;
    }
    // EMFILE/ENFILE (fd limit or direct table full): the tick re-arms, since an
    // immediate retry would spin while nothing is free. Other errors re-arm after the batch.
    if (res === -Errno.EMFILE || res === -Errno.ENFILE) this.#acceptBackoff = true;
  }

  #onRecv(conn: number, gen: number, res: number, flags: number): void {
    if (flags & CqeFlags.BUFFER) this.#buffersOut++;
    if (gen !== this.#gen[conn]) {
      // A straggler for a slot that has been closed: only its buffer matters.
      if (flags & CqeFlags.BUFFER) this.#giveBack(flags >>> 16);
      return;
    }
    const more = (flags & CqeFlags.MORE) !== 0;
    if (res > 0) {
      const bid = flags >>> 16;
      this.#held[conn]!++;
      this.#lastActive[conn] = this.#tickNo;
      if ((this.#st[conn]! & ST_CLOSING) !== 0 || !this.#handler.onData(conn, bid, res)) {
        this.#held[conn]!--;
        this.#giveBack(bid);
      }
      const st = this.#st[conn]!;
      if ((st & (ST_CLOSING | ST_PAUSED)) === 0 && this.#overLimit(conn, st)) {
        this.#st[conn] = st | ST_PAUSED;
        this.#pauses++;
        if (more) this.#cancelRecv(conn);
      }
      if (!more) this.#recvEnded(conn, 1);
      return;
    }
    if (flags & CqeFlags.BUFFER) this.#giveBack(flags >>> 16);
    // res <= 0 always ends a multishot recv.
    this.#recvEnded(conn, res);
  }

  /**
   * The recv's final CQE: `res` is 0 for EOF, -errno, or 1 when it ended
   * after data. What follows is decided by the state bits first, the errno
   * second (see the table in the module comment).
   */
  #recvEnded(conn: number, res: number): void {
    const st = this.#st[conn]! & ~(ST_ARMED | ST_CANCELING);
    this.#st[conn] = st;
    if (res === -Errno.ENOBUFS) this.#noBuffers++;
    if (st & ST_CLOSING) {
      this.#maybeClose(conn);
    } else if (res === 0) {
      // EOF: the peer closed its sending side. It may still read: finish sending.
      if (this.#handler.onEnd) this.#handler.onEnd(conn);
      else this.end(conn);
    } else if (res < 0 && res !== -Errno.ENOBUFS && res !== -Errno.ECANCELED) {
      this.#abort(conn, -res, CloseReason.error);
    } else if (st & ST_PAUSED) {
      this.#resumeIfDrained(conn);
    } else if (res === -Errno.ENOBUFS) {
      this.#st[conn] = st | ST_STARVED;
      this.#rearm[this.#rearmCount++] = conn;
    } else {
      this.#armRecv(conn);
    }
  }

  #onSend(conn: number, gen: number, res: number): void {
    if (gen !== this.#gen[conn]) return;
    if (res < 0) {
      this.#st[conn]! &= ~ST_SENDING;
      while (this.#q.head[conn]! >= 0) this.#popSend(conn);
      this.#abort(conn, -res, CloseReason.error);
      return;
    }
    this.#lastActive[conn] = this.#tickNo;
    if (!this.#q.advance(conn, res)) {
      if (res > 0) {
        this.#partialSends++;
        this.#submitSend(conn);
        return;
      }
    }
    this.#popSend(conn);
    const st = this.#st[conn]!;
    // Closing after an error: drop the rest. Orderly (EOF, end()): keep sending.
    if (this.#q.head[conn]! >= 0 && (st & ST_OPEN) !== 0) {
      this.#submitSend(conn);
      return;
    }
    this.#st[conn] = st & ~ST_SENDING;
    if (st & ST_CLOSING) this.#maybeClose(conn);
    else if ((st & (ST_PAUSED | ST_ARMED)) === ST_PAUSED) this.#resumeIfDrained(conn);
  }

  /** True when `conn` must stop being read: over its buffer share or send bytes, or holding while the pool runs low. */
  #overLimit(conn: number, st: number): boolean {
    const held = this.#held[conn]!;
    if (held >= this.#share || this.#q.bytes[conn]! >= this.#maxSendBytes) return true;
    return held >= 2 && (st & ST_SENDING) !== 0 && this.buffers.count - this.#buffersOut < this.#reserve;
  }

  /** Re-arms a PAUSED connection's recv (none in flight) once its queue has drained to half its limits. */
  #resumeIfDrained(conn: number): void {
    const held = this.#held[conn]!;
    if (held * 2 > this.#share || this.#q.bytes[conn]! * 2 > this.#maxSendBytes) return;
    // Paused because the pool ran low: wait for an empty queue unless the pool has recovered.
    if (held > 0 && this.buffers.count - this.#buffersOut < this.#reserve) return;
    this.#armRecv(conn);
  }

  /** Stops `conn` for good: no more receiving, unsent data dropped, the send in flight cancelled; closes once nothing is in flight. */
  #abort(conn: number, errno: number, reason: number): void {
    const st = this.#st[conn]!;
    if (this.#fd[conn]! < 0) return;
    // The first failure names the close; an orderly close that then fails is an error.
    if ((st & ST_OPEN) !== 0) {
      this.#reason[conn] = reason;
      this.#errno[conn] = errno;
    }
    this.#st[conn] = (st | ST_CLOSING) & ~ST_OPEN;
    if (st & ST_ARMED) this.#cancelRecv(conn);
    if ((st & ST_SENDING) !== 0 && (st & ST_OPEN) !== 0) this.#cancelSend(conn);
    this.#maybeClose(conn);
  }

  /** Closes `conn` once it is closing and neither its recv nor a send is in flight. */
  #maybeClose(conn: number): void {
    const st = this.#st[conn]!;
    if ((st & ST_CLOSING) === 0 || (st & (ST_ARMED | ST_SENDING)) !== 0) return;
    if (this.#fd[conn]! < 0) return;
    while (this.#q.head[conn]! >= 0) this.#popSend(conn);
    this.#closeConnection(this.#fd[conn]!, conn, this.#gen[conn]!);
    this.#table.release(conn);
    this.#closes[this.#reason[conn]!]!++;
    this.#handler.onClose?.(conn, this.#errno[conn]!);
  }

  /** Re-arms STARVED recvs, no more of them than there are free buffers (none free: no re-arm, so no spin). */
  #rearmStarved(): void {
    const n = this.#rearmCount;
    let free = this.buffers.count - this.#buffersOut;
    this.#rearmCount = 0;
    for (let i = 0; i < n; i++) {
      const conn = this.#rearm[i]!;
      const st = this.#st[conn]!;
      if ((st & ST_STARVED) === 0 || (st & ST_CLOSING) !== 0) continue;
      if (free <= 0) {
        this.#rearm[this.#rearmCount++] = conn;
        continue;
      }
      free--;
      this.#armRecv(conn);
    }
  }

  /** Returns buffer `bid` to the ring (published once per loop turn). */
  #giveBack(bid: number): void {
    this.buffers.add(bid);
    this.#buffersOut--;
    this.#recycled++;
  }

  #onTick(): void {
    this.#tickNo = (this.#tickNo + 1) >>> 0;
    // After fd exhaustion stopped accept (see onAccept), the loop re-arms it now.
    this.#acceptBackoff = false;
    if (this.#idleTicks > 0) this.#sweepIdle();
    this.#handler.onTick?.();
  }

  /** Closes connections with no byte in or out for the idle timeout (reason `idle`). */
  #sweepIdle(): void {
    const now = this.#tickNo;
    for (let c = 0; c < this.#table.highWater; c++) {
      if (this.#fd[c]! < 0 || (now - this.#lastActive[c]!) >>> 0 < this.#idleTicks) continue;
      this.#abort(c, Errno.ETIMEDOUT, CloseReason.idle);
    }
  }
}
