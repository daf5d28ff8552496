/**
 * Client connections made through the ring: SOCKET then CONNECT for many
 * sockets at once (batched, bounded by a timeout), with TCP_NODELAY.
 */
import { errnoName, SyscallError } from "../sys/errno.ts";
import { closeFd } from "../sys/ffi.ts";
import type { Ring } from "../ring/ring.ts";
import { IpProto, SockOpt, SocketType } from "./constants.ts";
import { intOption } from "./listener.ts";
import { prepSetsockopt } from "./prep.ts";
import { prepConnect, prepSocket } from "../ops/net.ts";
import { AddressFamily, sockaddrIn } from "../ops/sockaddr.ts";
import { syncBatch } from "./sync.ts";

/** Options of {@link connectMany}. */
export interface ConnectOptions {
  /** Set TCP_NODELAY on each socket (default true). */
  noDelay?: boolean;
  /** Bound on the whole connect phase, ms (default 20 s: a full SYN queue retries after 1 s, then 3 s). */
  timeoutMs?: number;
  /**
   * SO_RCVBUF in bytes, set before CONNECT (default: the kernel's). Before,
   * because the SYN already advertises a window: shrinking the buffer of a
   * connected socket retracts a window the peer was promised, and on 6.17+
   * kernels a peer that then floods it can wedge (its window updates are
   * dropped as beyond the window; see test/net-faults.test.ts).
   */
  receiveBuffer?: number;
}

/**
 * Opens `n` TCP connections to `host:port` through the ring (which must be
 * otherwise idle) and returns their fds. On any failure every fd opened so far
 * is closed and the error says what happened (refused: nothing listens there;
 * EMFILE: raise RLIMIT_NOFILE).
 */
export function connectMany(ring: Ring, host: string, port: number, n: number, opts: ConnectOptions = {}): Int32Array {
  const addr = sockaddrIn(host, port);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const fds = syncBatch(ring, n, (sqe) => prepSocket(sqe, AddressFamily.INET, SocketType.STREAM | SocketType.CLOEXEC, IpProto.TCP), timeoutMs);
  const closeAll = () => {
    for (const fd of fds) if (fd >= 0) closeFd(fd);
  };
  const badSocket = fds.findIndex((fd) => fd < 0);
  if (badSocket >= 0) {
    const errno = -fds[badSocket]!;
    closeAll();
    const hint = errnoName(errno) === "EMFILE" ? ` (too many open files: raise RLIMIT_NOFILE, e.g. "ulimit -n ${n + 100}", or use fewer connections)` : "";
    throw new SyscallError("socket", errno, `could not create socket ${badSocket + 1} of ${n}: ${errnoName(errno)}${hint}`);
  }
  try {
    if (opts.noDelay !== false) {
      const one = intOption(1);
      syncBatch(ring, n, (sqe, i) => prepSetsockopt(sqe, fds[i]!, IpProto.TCP, SockOpt.TCP_NODELAY, one), timeoutMs);
    }
    if (opts.receiveBuffer !== undefined) {
      const bytes = intOption(opts.receiveBuffer);
      const rc = syncBatch(ring, n, (sqe, i) => prepSetsockopt(sqe, fds[i]!, SockOpt.SOL_SOCKET, SockOpt.SO_RCVBUF, bytes), timeoutMs);
      const bad = rc.findIndex((r) => r < 0);
      if (bad >= 0) throw new SyscallError("setsockopt", -rc[bad]!, `SO_RCVBUF ${opts.receiveBuffer} failed: ${errnoName(-rc[bad]!)}`);
    }
    const rc = syncBatch(ring, n, (sqe, i) => prepConnect(sqe, fds[i]!, addr, addr.byteLength), timeoutMs);
    const bad = rc.findIndex((r) => r < 0);
    if (bad >= 0) {
      const code = errnoName(-rc[bad]!);
      const failed = rc.filter((r) => r < 0).length;
      const why =
        code === "ECONNREFUSED"
          ? `nothing is listening on ${host}:${port} (ECONNREFUSED)`
          : code === "ETIMEDOUT"
            ? `the server at ${host}:${port} did not accept in time (ETIMEDOUT)`
            : code;
      throw new SyscallError("connect", -rc[bad]!, `${failed} of ${n} connections to ${host}:${port} failed: ${why}`);
    }
  } catch (err) {
    closeAll();
    throw err;
  }
  return fds;
}

/** Opens one connection (see {@link connectMany}). */
export function connect(ring: Ring, host: string, port: number, opts: ConnectOptions = {}): number {
  return connectMany(ring, host, port, 1, opts)[0]!;
}
