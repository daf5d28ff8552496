/**
 * Socket constants the net layer passes to the kernel (Linux, x86-64 and
 * arm64 share these values). Declared once, as the kernel headers spell them.
 * Address families are in src/ops/sockaddr.ts, beside the sockaddr builders
 * that use them.
 */

/** Socket types, with the creation flags that may be OR-ed in. */
export const SocketType = {
  STREAM: 1,
  DGRAM: 2,
  /** close-on-exec: children spawned later do not inherit the socket */
  CLOEXEC: 0o2000000,
  NONBLOCK: 0o4000,
} as const;

/** Protocol numbers. */
export const IpProto = {
  TCP: 6,
} as const;

/** setsockopt levels and option names used here. */
export const SockOpt = {
  SOL_SOCKET: 1,
  SO_REUSEADDR: 2,
  SO_REUSEPORT: 15,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  /** level IPPROTO_TCP */
  TCP_NODELAY: 1,
} as const;

/** send/recv msg_flags used here. */
export const MsgFlags = {
  /** never raise SIGPIPE on a closed peer: the error comes back as -EPIPE */
  NOSIGNAL: 0x4000,
  /** stream sockets: complete only when every byte is sent (or an error) */
  WAITALL: 0x100,
  /** this call only: fail with -EAGAIN instead of waiting (fault-injecting clients fill a socket with it) */
  DONTWAIT: 0x40,
} as const;

/** shutdown(2) `how`. */
export const Shutdown = {
  RD: 0,
  WR: 1,
  RDWR: 2,
} as const;
