/**
 * What a {@link TcpServer} is built from and reports: the handler interface,
 * the options (listener, ring, buffers, and the resource policy of
 * ./policy.ts), their defaults, and the counters `stats()` returns.
 */
import type { RingOptions } from "../ring/ring.ts";
import type { ListenOptions } from "./listener.ts";
import type { CloseReasonName, TcpPolicy } from "./policy.ts";

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

/** Options of a TcpServer: where it listens, how its ring and buffers are set up, and its resource policy. */
export interface TcpServerOptions extends ListenOptions, TcpPolicy {
  handler: TcpHandler;
  /** Ring setup (default: DEFER_TASKRUN + SINGLE_ISSUER where the kernel has them, see fastRingOptions). */
  ring?: RingOptions;
  /** SQ entries (default 4096; the CQ gets 4×). */
  entries?: number;
  /** Provided buffers (power of two, default 8192). */
  bufferCount?: number;
  /** Bytes per provided buffer (default 2048: one 1000-byte echo fits). */
  bufferSize?: number;
  /** Receive buffers on transparent huge pages (default true; see BufferRingOptions.hugePages). */
  hugePages?: boolean;
  /**
   * Accept into direct descriptors (default true where the kernel can, 5.19+):
   * connections live in the ring's fixed-file table, not in the process's fd
   * table, so no request looks its socket up and takes a reference (atomic in
   * a multi-threaded process such as Bun). TcpServer.fdOf then gives
   * the table index, used with IOSQE_FIXED_FILE. The table holds up to
   * min(maxConnections + a few, RLIMIT_NOFILE) connections.
   */
  directDescriptors?: boolean;
  /** Set TCP_NODELAY on accepted sockets (default true). */
  noDelay?: boolean;
  /** Interval of onTick and of the idle-timeout sweep, ms (default 500). */
  tickMs?: number;
  /**
   * While handling a batch of CQEs, submit as soon as this many requests are
   * prepared (default 16; 0 = only at the end of the batch). Sending early
   * lets the peer start on its part while we finish ours; without it both
   * sides settle into alternating waves and each idles half the time.
   */
  submitEvery?: number;
  /**
   * Batch the run loop's waits (IORING_ENTER_EXT_ARG min_wait, Linux 6.12+):
   * once a wait has begun, hold it up to this many µs for
   * {@link batchWaitCompletions} completions before handling what arrived (a
   * wait with nothing ready still ends at the first completion after that).
   * Fewer wake-ups per round trip, at up to this much added latency: for
   * servers below saturation where CPU matters more than the last 100 µs,
   * e.g. several Workers at a modest rate, each of whose wake-ups would
   * otherwise carry one or two completions. 0 (default): every wait returns
   * at the first completion. Throws at construction where the kernel lacks
   * min_wait (IORING_FEAT_MIN_TIMEOUT).
   */
  batchWaitUs?: number;
  /** Completions that end a batched wait early (default 32; only with {@link batchWaitUs}). */
  batchWaitCompletions?: number;
}

/** Defaults of {@link TcpServerOptions} (the policy's are in TCP_POLICY_DEFAULTS), with why. */
export const TCP_SERVER_DEFAULTS = {
  /** SQ entries: a send per connection per turn for thousands of connections without an early submit. */
  entries: 4096,
  /** Receive buffers: more than the connections that hold one at a time at c=2000, with room for bursts. */
  bufferCount: 8192,
  /** Bytes per receive buffer: the seed's largest message (1000 bytes) fits in one. */
  bufferSize: 2048,
  /** Housekeeping tick: exit-with-parent checks, accept re-arms and idle sweeps need no more. */
  tickMs: 500,
  /** Early submit inside a CQE batch (see TcpServerOptions.submitEvery). */
  submitEvery: 16,
  /** Waits return at the first completion: the lowest latency (see TcpServerOptions.batchWaitUs). */
  batchWaitUs: 0,
  /** A batched wait ends early once this many completions are in: a busy server is not held back. */
  batchWaitCompletions: 32,
} as const;

/** A snapshot of a server's counters (`TcpServer.stats()`): gauges now, and totals since it started. */
export interface TcpServerStats {
  /** Connections open now (including those closing). */
  open: number;
  /** Pool buffers held by connections (queued to send, or kept by the handler). */
  buffersHeld: number;
  /** Pool buffers free for the kernel to fill. */
  buffersFree: number;
  /** Sends submitted and not yet completed (at most one per connection). */
  sendsInFlight: number;
  /** Connections whose recv ran out of buffers and waits for one to come back. */
  starved: number;
  /** Connections whose recv is paused by the policy (backpressure). */
  paused: number;
  /** Connections accepted since start (refused ones included). */
  accepted: number;
  /** Closes since start, by reason (see CloseReason). */
  closes: Record<CloseReasonName, number>;
  /** Times a recv ran out of provided buffers. */
  noBuffers: number;
  /** Times the policy paused a connection's recv. */
  pauses: number;
  /** Short sends that were resubmitted. */
  partialSends: number;
  /** Received buffers copied to the heap (and given back) because the pool ran low while their connection's send waited. */
  spills: number;
}
