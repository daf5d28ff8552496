/**
 * The echo load generator, on our ring: `connections` TCP connections, each
 * with exactly one `bytes`-byte message in flight (send, wait for the whole
 * echo, send the next). One thread, one ring, run loop:
 *
 * - sends go out with MSG_WAITALL and IOSQE_CQE_SKIP_SUCCESS: a send posts a
 *   CQE only when it fails, so a round trip costs one SQE and the recv CQEs;
 * - each connection has one multishot recv into a provided-buffer ring;
 *   buffers are checked and recycled at once (no copy);
 * - the sockets are registered files (IOSQE_FIXED_FILE): no file-table
 *   lookup and reference count per request (a shared table makes those
 *   atomic), a few percent of the load generator's CPU at 100k+ round trips/s;
 * - every echo's length is checked (a message completes at exactly `bytes`;
 *   anything more is an error), and its first 4 bytes (a per-message sequence
 *   number); every `checkEvery`-th message of a connection is compared byte for byte.
 *
 * Latency is stamped at batch granularity: the send time is the clock read
 * after the enter that delivered the previous echo, the receive time is the
 * clock read after the enter that delivered this one.
 */
import { CqeFlags, SqeFlags, TimeoutFlags } from "../../src/sys/constants.ts";
import { Errno, errnoName, SyscallError } from "../../src/sys/errno.ts";
import { addressOf, closeFd } from "../../src/sys/ffi.ts";
import { Ring, type RingOptions } from "../../src/ring/ring.ts";
import { SQE_W } from "../../src/sys/abi.ts";
import { sqeAddFlags } from "../../src/ring/sqe.ts";
import { BufferRing } from "../../src/mem/buffer-ring.ts";
import { registerFiles } from "../../src/ring/register.ts";
import { connectMany } from "../../src/net/client.ts";
import { TCP_SERVER_DEFAULTS } from "../../src/net/server.ts";
import { MsgFlags } from "../../src/net/constants.ts";
import { Kind, udLo } from "../../src/net/kinds.ts";
import { ensureFdLimit } from "../../src/net/limits.ts";
import { prepRecvSelectMultishot, prepSendRaw } from "../../src/net/prep.ts";
import { prepTimeout } from "../../src/ops/timeout.ts";
import { Timespec } from "../../src/ops/timespec.ts";
import { processCpuSeconds, selfCpuSeconds } from "../harness/cpu.ts";
import { LatencyRecorder } from "../harness/latency.ts";
import { toWire, type WireLatency } from "./latency-wire.ts";

/** Options of {@link runLoad}. */
export interface LoadOptions {
  host: string;
  port: number;
  connections: number;
  bytes: number;
  /** Measured window, ms. */
  durationMs: number;
  /** Run (unmeasured) this long after connecting before measuring, ms. */
  warmupMs: number;
  /** Server pid, to read its CPU time over the measured window. */
  serverPid?: number;
  /** Compare every n-th message of a connection byte for byte (default 8; 1 = all). */
  checkEvery?: number;
  /** Ring setup (default DEFER_TASKRUN + SINGLE_ISSUER). */
  ring?: RingOptions;
  /** Receive buffers on transparent huge pages (default true; see BufferRingOptions.hugePages). */
  hugePages?: boolean;
  /** Submit inside a CQE batch once this many sends are prepared (default 16; 0 = at the end), as TcpServer does. */
  submitEvery?: number;
}

/** Errors by kind: wrong length, wrong bytes, connection reset, early EOF, failed send. */
export interface EchoErrorKinds {
  length: number;
  content: number;
  reset: number;
  eof: number;
  send: number;
}

/** What one load run measured. */
export interface LoadResult {
  roundTrips: number;
  seconds: number;
  /** Payload bytes echoed back in the window (one direction). */
  bytes: number;
  latencyUs: { p50: number; p99: number; p999: number; mean: number };
  /** Load generator CPU, fraction of one core. */
  clientCpu: number;
  /** Server CPU, fraction of one core (NaN when no pid was given or it exited). */
  serverCpu: number;
  errors: number;
  /** Errors by kind. */
  errorKinds: EchoErrorKinds;
  /** Connections still working at the end. */
  connectionsAlive: number;
  /** io_uring_enter calls per round trip in the window. */
  entersPerRoundTrip: number;
  notes: string[];
  /** The window's latencies (ms) as a histogram, so parallel generators' results merge exactly (mergeLoadResults). */
  latencyHistogram?: WireLatency;
}

/** How often the loop wakes with no completions (a dead server must not hang us), ms. */
const TICK_MS = 100;
/** Receive buffer size: one buffer holds a whole echo up to 2 KiB (the seed's sizes), larger ones span 16 KiB buffers. */
const SMALL_BUFFER = 2048;
const LARGE_BUFFER = 16384;
/** Receive buffers: two per connection (one being refilled while one is checked), at least 1024, at most a ring's 32768. */
const BUFFERS_PER_CONNECTION = 2;

/** Pattern byte `j` of connection `c`'s message: differs between connections and positions. */
function patternByte(c: number, j: number): number {
  return (c * 31 + j * 7 + 1) & 0xff;
}

/** Runs the load (blocking: the loop owns this thread until done) and returns what it measured. */
export function runLoad(opts: LoadOptions): LoadResult {
  const c = opts.connections;
  const b = opts.bytes;
  ensureFdLimit(c);
  // SQ: a send per connection per turn plus re-arms fit without an early submit.
  const entries = Math.min(4096, Math.max(256, 2 ** Math.ceil(Math.log2(c * 2))));
  const ring = new Ring(entries, { cqEntries: entries * 4, ...(opts.ring ?? { deferTaskrun: true }) });
  let fds: Int32Array | null = null;
  let bufs: BufferRing | null = null;
  try {
    const bufSize = b <= SMALL_BUFFER ? SMALL_BUFFER : LARGE_BUFFER;
    const bufCount = Math.min(32768, Math.max(1024, 2 ** Math.ceil(Math.log2(c * BUFFERS_PER_CONNECTION))));
    bufs = new BufferRing(ring, { bgid: 1, count: bufCount, bufferSize: bufSize, hugePages: opts.hugePages !== false });
    fds = connectMany(ring, opts.host, opts.port, c);
    // Registered files where the kernel takes them (fd limits, old kernels: plain fds).
    const fixed = registerFiles(ring, Array.from(fds)) >= 0;
    return new LoadLoop(ring, bufs, fds, fixed, opts).run();
  } finally {
    if (fds) for (const fd of fds) closeFd(fd);
    ring.close();
    bufs?.close();
  }
}

/** The generator's state: struct of arrays over connections. */
class LoadLoop {
  private readonly ring: Ring;
  private readonly bufs: BufferRing;
  private readonly rx: Uint8Array;
  private readonly bufSize: number;
  /** What SQEs name connection i by: its registered index, or its fd. */
  private readonly target: Int32Array;
  /** IOSQE_FIXED_FILE when the sockets are registered, else 0. */
  private readonly fileFlag: number;
  private readonly c: number;
  private readonly b: number;
  private readonly checkEvery: number;
  private readonly submitEvery: number;
  /** Every connection's outgoing message, back to back (conn i at i*b). */
  private readonly tx: Uint8Array;
  private readonly txAddr: number;
  private readonly received: Int32Array;
  private readonly seq: Uint32Array;
  private readonly sentAt: Float64Array;
  private readonly alive: Uint8Array;
  private readonly badMsg: Uint8Array;
  private readonly tickTs = Timespec.fromMs(TICK_MS);
  private readonly lat = new LatencyRecorder();
  private readonly errorKinds: EchoErrorKinds = { length: 0, content: 0, reset: 0, eof: 0, send: 0 };
  private aliveCount: number;
  private roundTrips = 0;
  private now = 0;
  private readonly opts: LoadOptions;

  constructor(ring: Ring, bufs: BufferRing, fds: Int32Array, fixedFiles: boolean, opts: LoadOptions) {
    this.ring = ring;
    this.bufs = bufs;
    this.rx = bufs.memory.bytes;
    this.bufSize = bufs.bufferSize;
    this.target = fixedFiles ? Int32Array.from(fds, (_, i) => i) : fds;
    this.fileFlag = fixedFiles ? SqeFlags.FIXED_FILE : 0;
    this.opts = opts;
    this.c = opts.connections;
    this.b = opts.bytes;
    this.checkEvery = Math.max(1, opts.checkEvery ?? 8);
    this.submitEvery = opts.submitEvery === 0 ? Infinity : (opts.submitEvery ?? TCP_SERVER_DEFAULTS.submitEvery);
    this.tx = new Uint8Array(this.c * this.b);
    for (let i = 0; i < this.c; i++) for (let j = 0; j < this.b; j++) this.tx[i * this.b + j] = patternByte(i, j);
    this.txAddr = addressOf(this.tx);
    this.received = new Int32Array(this.c);
    this.seq = new Uint32Array(this.c);
    this.sentAt = new Float64Array(this.c);
    this.alive = new Uint8Array(this.c).fill(1);
    this.badMsg = new Uint8Array(this.c);
    this.aliveCount = this.c;
  }

  run(): LoadResult {
    const ring = this.ring;
    const notes: string[] = [];
    for (let i = 0; i < this.c; i++) this.armRecv(i);
    const t = this.sqe();
    prepTimeout(t, this.tickTs, 0, TimeoutFlags.MULTISHOT);
    t.u32[SQE_W.userDataLo] = udLo(Kind.TIMER, 0);
    this.now = performance.now();
    for (let i = 0; i < this.c; i++) this.sendNext(i);

    let measuring = false;
    let phaseEnd = this.now + this.opts.warmupMs;
    let t0 = 0;
    let cpu0 = 0;
    let srv0 = NaN;
    let enters0 = 0;
    let rt0 = 0;
    for (;;) {
      this.bufs.publish();
      const rc = ring.submitAndWait(1);
      if (rc < 0 && rc !== -Errno.EINTR && rc !== -Errno.EAGAIN && rc !== -Errno.EBUSY && rc !== -Errno.ETIME) {
        throw new SyscallError("io_uring_enter", -rc, `the load generator's ring failed: ${errnoName(-rc)}`);
      }
      this.now = performance.now();
      this.reap();
      if (this.now >= phaseEnd || this.aliveCount === 0) {
        if (!measuring && this.aliveCount > 0) {
          measuring = true;
          this.lat.reset();
          rt0 = this.roundTrips;
          t0 = this.now;
          cpu0 = selfCpuSeconds();
          srv0 = this.serverCpu();
          enters0 = ring.enterCount;
          phaseEnd = this.now + this.opts.durationMs;
          continue;
        }
        const seconds = measuring ? (this.now - t0) / 1000 : 0;
        const rts = measuring ? this.roundTrips - rt0 : 0;
        const clientCpu = measuring && seconds > 0 ? (selfCpuSeconds() - cpu0) / seconds : NaN;
        const serverCpu = measuring && seconds > 0 ? (this.serverCpu() - srv0) / seconds : NaN;
        if (this.aliveCount < this.c) {
          notes.push(`${this.c - this.aliveCount} of ${this.c} connections lost (${this.errorSummary()})`);
        }
        if (this.aliveCount === 0) notes.push("every connection was lost: did the server die?");
        const [p50, p99, p999] = this.lat.percentiles([50, 99, 99.9]) as [number, number, number];
        const errors = Object.values(this.errorKinds).reduce((a, v) => a + v, 0);
        return {
          roundTrips: rts,
          seconds,
          bytes: rts * this.b,
          latencyUs: { p50: p50 * 1000, p99: p99 * 1000, p999: p999 * 1000, mean: this.lat.mean * 1000 },
          clientCpu,
          serverCpu,
          errors,
          errorKinds: { ...this.errorKinds },
          connectionsAlive: this.aliveCount,
          entersPerRoundTrip: rts > 0 ? (ring.enterCount - enters0) / rts : NaN,
          notes,
          latencyHistogram: toWire(this.lat),
        };
      }
    }
  }

  private serverCpu(): number {
    if (this.opts.serverPid === undefined) return NaN;
    try {
      return processCpuSeconds(this.opts.serverPid);
    } catch {
      return NaN;
    }
  }

  private errorSummary(): string {
    return Object.entries(this.errorKinds)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
  }

  private sqe() {
    const ring = this.ring;
    let s = ring.getSqe();
    while (s === null) {
      ring.submit();
      s = ring.getSqe();
    }
    return s;
  }

  private armRecv(conn: number): void {
    const s = this.sqe();
    prepRecvSelectMultishot(s, this.target[conn]!, this.bufs.bgid);
    sqeAddFlags(s, this.fileFlag);
    s.u32[SQE_W.userDataLo] = udLo(Kind.RECV, conn);
  }

  /** Sends connection `conn`'s next message (new sequence number in its first 4 bytes). */
  private sendNext(conn: number): void {
    const b = this.b;
    const off = conn * b;
    const seq = (this.seq[conn]! + 1) >>> 0;
    this.seq[conn] = seq;
    const tx = this.tx;
    if (b >= 4) {
      tx[off] = seq & 0xff;
      tx[off + 1] = (seq >>> 8) & 0xff;
      tx[off + 2] = (seq >>> 16) & 0xff;
      tx[off + 3] = seq >>> 24;
    }
    this.received[conn] = 0;
    this.badMsg[conn] = 0;
    this.sentAt[conn] = this.now;
    const s = this.sqe();
    prepSendRaw(s, this.target[conn]!, this.txAddr + off, b, MsgFlags.NOSIGNAL | MsgFlags.WAITALL, SqeFlags.CQE_SKIP_SUCCESS | this.fileFlag);
    s.u32[SQE_W.userDataLo] = udLo(Kind.SEND, conn);
  }

  private reap(): void {
    // Views from ring.cq at each batch: the ring's one CQ walker (src/ring/cq.ts).
    const cq = this.ring.cq;
    const w = cq.words;
    const mask = cq.mask;
    const shift = cq.cqeShift;
    let head = cq.head;
    const tail = cq.tail();
    const n = (tail - head) >>> 0;
    const sq = this.ring.sq;
    const every = this.submitEvery;
    while (head !== tail) {
      if (sq.sqeTail - sq.sqeHead >= every) this.ring.submit();
      const i = (head & mask) << shift;
      const lo = w[i]!;
      const res = w[i + 2]!;
      const flags = w[i + 3]! >>> 0;
      head = (head + 1) >>> 0;
      const kind = lo >>> 24;
      const conn = lo & 0xffffff;
      if (kind === Kind.RECV) this.onRecv(conn, res, flags);
      else if (kind === Kind.SEND) this.onSendFailed(conn, res);
    }
    if (n > 0) cq.advance(n);
  }

  private onRecv(conn: number, res: number, flags: number): void {
    if (res > 0) {
      const bid = flags >>> 16;
      if (this.alive[conn] === 1) this.consume(conn, bid * this.bufSize, res);
      this.bufs.add(bid);
      if ((flags & CqeFlags.MORE) === 0 && this.alive[conn] === 1) this.armRecv(conn);
      return;
    }
    if (flags & CqeFlags.BUFFER) this.bufs.add(flags >>> 16);
    if (this.alive[conn] === 0) return;
    if (res === -Errno.ENOBUFS) {
      this.armRecv(conn);
      return;
    }
    if (res === 0) this.errorKinds.eof++;
    else this.errorKinds.reset++;
    this.lose(conn);
  }

  private onSendFailed(conn: number, res: number): void {
    if (res >= 0 || this.alive[conn] === 0) return;
    this.errorKinds.send++;
    this.lose(conn);
  }

  private lose(conn: number): void {
    this.alive[conn] = 0;
    this.aliveCount--;
  }

  /** Checks `n` echoed bytes at `boff` of the buffer arena against what `conn` sent. */
  private consume(conn: number, boff: number, n: number): void {
    const b = this.b;
    const got = this.received[conn]!;
    if (got + n > b) {
      // More bytes than were sent: the server duplicated or mixed up data.
      this.errorKinds.length++;
      this.lose(conn);
      return;
    }
    const rx = this.rx;
    const tx = this.tx;
    const toff = conn * b + got;
    const full = this.seq[conn]! % this.checkEvery === 0;
    // The sequence number (bytes 0-3) every time; the rest on sampled messages.
    const end = full ? n : Math.min(n, Math.max(0, 4 - got));
    for (let j = 0; j < end; j++) {
      if (rx[boff + j] !== tx[toff + j]) {
        if (this.badMsg[conn] === 0) this.errorKinds.content++;
        this.badMsg[conn] = 1;
        break;
      }
    }
    const total = got + n;
    if (total < b) {
      this.received[conn] = total;
      return;
    }
    const latMs = this.now - this.sentAt[conn]!;
    this.lat.record(latMs);
    this.roundTrips++;
    this.sendNext(conn);
  }
}
