/**
 * The resource policy of a {@link TcpServer}: how much of the server one peer
 * may take, and what happens at each limit. The server's shared resources are
 * the provided-buffer pool (every recv lands there), the connection table and
 * the fds or direct descriptors behind it. A peer that does not read, trickles
 * or floods must stall only itself.
 *
 * | limit              | option              | at the limit                                                        |
 * |--------------------|---------------------|---------------------------------------------------------------------|
 * | connections        | `maxConnections`    | refuse: a new connection is accepted and closed at once (`refused`) |
 * | buffer share       | `connectionBuffers` | backpressure: stop reading that peer until its sends drain to half |
 * | pool reserve       | `reserveBuffers`    | below this many free buffers: bytes for a peer whose send waits are copied to the heap and the buffer given back at once (a `spill`, counted against `maxSendBytes`); a peer with a send waiting and 2+ buffers stops being read until its queue is empty |
 * | send bytes         | `maxSendBytes`      | backpressure: stop reading that peer until its queue drains to half |
 * | idle time          | `idleTimeoutMs`     | close with reason `idle`: no byte received or sent for that long (a peer that never reads ends here) |
 *
 * Backpressure never drops data: the peer's bytes wait in its socket's
 * receive buffer (kernel memory, not the pool), and TCP flow control slows
 * the peer down. A stalled peer costs at most about `connectionBuffers` pool
 * buffers (plus what the kernel delivered before the pause landed) and
 * `maxSendBytes` of heap, and the idle timeout ends it. With the defaults,
 * 200 peers that never read leave the pool at its reserve (2048 of 8192
 * free) and fresh clients are served as before.
 */

/** The resource policy options (part of TcpServerOptions; every one has a default in {@link TCP_POLICY_DEFAULTS}). */
export interface TcpPolicy {
  /** Connections served at once; one more is accepted and closed (counted as `refused`). */
  maxConnections?: number;
  /** Buffers of the pool one connection may hold (queued to send or kept by the handler) before its recv pauses. */
  connectionBuffers?: number;
  /**
   * Free buffers kept for connections that hold few: when fewer are free, a
   * connection whose send waits has what it receives copied to the heap (the
   * pool buffer goes back at once), and one with 2 or more buffers pauses
   * until its send queue is empty. Default: a quarter of the pool.
   */
  reserveBuffers?: number;
  /** Bytes one connection may have queued to send before its recv pauses (caller data and buffers alike). */
  maxSendBytes?: number;
  /** Close a connection after this long with no byte received or sent, ms (0: never). */
  idleTimeoutMs?: number;
}

/** Defaults of {@link TcpPolicy}, with why. */
export const TCP_POLICY_DEFAULTS = {
  /** The connection table: 64 Ki slots cost ~2 MiB of typed arrays; the fd limit usually binds first. */
  maxConnections: 65536,
  /**
   * 32 buffers (64 KiB at 2 KiB): enough for a large message to stream
   * without pausing on every buffer, small enough that 192 stalled peers fit
   * in three quarters of the default 8192-buffer pool before the reserve bites.
   */
  connectionBuffers: 32,
  /** Bytes queued per connection before its recv pauses: 256 KiB, several socket send buffers' worth of a fast peer. */
  maxSendBytes: 256 * 1024,
  /** Two minutes: far beyond any live peer's pause, and a non-reader's buffers come back in bounded time. */
  idleTimeoutMs: 120_000,
} as const;

/** Why a connection was closed (the keys of TcpServerStats.closes). */
export const CloseReason = {
  /** The peer's EOF, or the application's end(): pending sends finished first. */
  orderly: 0,
  /** A recv or send failed (reset, broken pipe, ...). */
  error: 1,
  /** No byte moved for idleTimeoutMs. */
  idle: 2,
  /** Over maxConnections: accepted and closed at once. */
  refused: 3,
  /** The server itself closed (close() with the connection still open). */
  shutdown: 4,
} as const;

/** Names of {@link CloseReason}. */
export type CloseReasonName = keyof typeof CloseReason;

/** Close reasons by index. */
export const CLOSE_REASON_NAMES = Object.keys(CloseReason) as CloseReasonName[];
