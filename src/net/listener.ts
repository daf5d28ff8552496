/**
 * A listening TCP socket made entirely with io_uring requests: SOCKET (5.19),
 * SO_REUSEADDR through URING_CMD setsockopt (6.7), BIND and LISTEN (6.11).
 */
import { Op } from "../sys/constants.ts";
import { errnoName, SyscallError } from "../sys/errno.ts";
import { closeFd } from "../sys/ffi.ts";
import type { Ring } from "../ring/ring.ts";
import { IpProto, SockOpt, SocketType } from "./constants.ts";
import { prepSetsockopt } from "./prep.ts";
import { prepBind, prepListen, prepSocket } from "../ops/net.ts";
import { prepCmdGetsockname } from "../ops/cmd.ts";
import { AddressFamily, parseSockaddr, SOCKADDR_IN_SIZE, sockaddrIn } from "../ops/sockaddr.ts";
import { syncOp } from "./sync.ts";

/** Options of {@link openListener}. */
export interface ListenOptions {
  /** IPv4 literal to bind (default 127.0.0.1: the benchmarks are loopback-only). */
  host?: string;
  /** TCP port (1-65535), or 0 for any free port where the kernel can tell which (getsockname through URING_CMD, 6.19). */
  port: number;
  /** listen(2) backlog; the kernel caps it at net.core.somaxconn. Default 4096. */
  backlog?: number;
  /** SO_REUSEADDR, so a restarted server can bind while old connections sit in TIME_WAIT. Default true. */
  reuseAddr?: boolean;
  /**
   * SO_REUSEPORT: several sockets (one per thread) listen on the same port and
   * the kernel spreads incoming connections across them by a hash of the
   * 4-tuple. Default false. Needs URING_CMD setsockopt (6.7+): refused with a
   * clear error where the kernel cannot set it.
   */
  reusePort?: boolean;
}

/** Default listen backlog: enough for 2000 connections arriving at once. */
export const DEFAULT_BACKLOG = 4096;

/** An int option value for setsockopt (kept alive by the caller until its CQE). */
export function intOption(value: number): Uint8Array {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, value, true);
  return v;
}

/** Kernel ops the net layer's listener needs, by name, for error messages. */
const NEEDS: Array<[number, string, string]> = [
  [Op.SOCKET, "SOCKET", "5.19"],
  [Op.BIND, "BIND", "6.11"],
  [Op.LISTEN, "LISTEN", "6.11"],
];

/**
 * The local port of socket `fd` (getsockname through URING_CMD, 6.19), or
 * -errno when the kernel cannot say.
 */
export function localPort(ring: Ring, fd: number): number {
  const sa = new Uint8Array(SOCKADDR_IN_SIZE);
  const len = new Uint32Array([sa.byteLength]);
  const rc = syncOp(ring, (sqe) => prepCmdGetsockname(sqe, fd, sa, len));
  if (rc < 0) return rc;
  return parseSockaddr(sa).port;
}

/**
 * Creates, binds and listens on a TCP socket; returns its fd. Throws a
 * {@link SyscallError} with an actionable message (port in use, permission,
 * kernel too old).
 */
export function openListener(ring: Ring, opts: ListenOptions): number {
  const host = opts.host ?? "127.0.0.1";
  const addr = sockaddrIn(host, opts.port);
  for (const [op, name, since] of NEEDS) {
    if (!ring.opSupported(op)) {
      throw new SyscallError("io_uring", 95, `this kernel lacks IORING_OP_${name} (Linux ${since}+), which the io_uring listener needs.`);
    }
  }
  const fd = syncOp(ring, (sqe) => prepSocket(sqe, AddressFamily.INET, SocketType.STREAM | SocketType.CLOEXEC, IpProto.TCP));
  if (fd < 0) throw new SyscallError("socket", -fd, `socket() failed: ${errnoName(-fd)}${-fd === 24 ? " (too many open files)" : ""}`);
  try {
    if (opts.reuseAddr !== false) {
      const one = intOption(1);
      // Best effort: without URING_CMD setsockopt (before 6.7) a fresh port binds fine anyway.
      syncOp(ring, (sqe) => prepSetsockopt(sqe, fd, SockOpt.SOL_SOCKET, SockOpt.SO_REUSEADDR, one));
    }
    if (opts.reusePort === true) {
      const one = intOption(1);
      const rc = syncOp(ring, (sqe) => prepSetsockopt(sqe, fd, SockOpt.SOL_SOCKET, SockOpt.SO_REUSEPORT, one));
      // Unlike SO_REUSEADDR this one matters: without it the second listener's bind fails.
      if (rc < 0)
        throw new SyscallError("setsockopt", -rc, `SO_REUSEPORT could not be set through io_uring (${errnoName(-rc)}; URING_CMD setsockopt needs Linux 6.7+)`);
    }
    const rb = syncOp(ring, (sqe) => prepBind(sqe, fd, addr, addr.byteLength));
    if (rb < 0) {
      const code = errnoName(-rb);
      const why =
        code === "EADDRINUSE"
          ? `port ${opts.port} on ${host} is in use (EADDRINUSE): pick another --port, or stop the program listening there.`
          : code === "EACCES"
            ? `binding port ${opts.port} needs privileges (EACCES): use a port above 1023.`
            : code === "EADDRNOTAVAIL"
              ? `${host} is not an address of this machine (EADDRNOTAVAIL): use 127.0.0.1.`
              : `bind(${host}:${opts.port}) failed: ${code}`;
      throw new SyscallError("bind", -rb, why);
    }
    const rl = syncOp(ring, (sqe) => prepListen(sqe, fd, opts.backlog ?? DEFAULT_BACKLOG));
    if (rl < 0) throw new SyscallError("listen", -rl, `listen(${host}:${opts.port}) failed: ${errnoName(-rl)}`);
    return fd;
  } catch (err) {
    closeFd(fd);
    throw err;
  }
}
