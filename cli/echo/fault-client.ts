/**
 * Clients that misbehave on purpose, for fault injection against an echo
 * server (`echo --faults` and test/net-faults.test.ts): reset with data
 * unread (SO_LINGER 0), fill a socket and never read, half-close, trickle.
 * Loopback only.
 */
import { connect as netConnect, type Socket } from "node:net";
import { Ring } from "../../src/ring/ring.ts";
import { addressOf, closeFd } from "../../src/sys/ffi.ts";
import { Errno } from "../../src/sys/errno.ts";
import { connectMany } from "../../src/net/client.ts";
import { MsgFlags, Shutdown, SockOpt } from "../../src/net/constants.ts";
import { prepSendRaw, prepSetsockopt } from "../../src/net/prep.ts";
import { syncOp } from "../../src/net/sync.ts";
import { prepShutdown } from "../../src/ops/net.ts";

/** SO_LINGER (level SOL_SOCKET). */
const SO_LINGER = 13;

/** Bytes `i` of a fault pattern (any bytes do: the faulty peers never check their echo). */
function filler(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + 5) & 0xff;
  return b;
}

/**
 * Raw client sockets driven through a ring of their own, synchronously: the
 * misbehaviour node:net will not do (a reset with SO_LINGER 0, a socket
 * filled without ever reading).
 */
export class FaultClient {
  /** A client of `host` (loopback). */
  constructor(private readonly host = "127.0.0.1") {}

  private readonly ring = new Ring(256);
  private readonly chunk = filler(64 * 1024);

  /**
   * Opens `n` connections to `port`. `receiveBuffer` (bytes) shrinks each
   * socket's receive buffer before it connects, so a peer that never reads
   * stalls the server early (set after connecting, it would retract an
   * advertised window: see ConnectOptions.receiveBuffer).
   */
  open(port: number, n: number, receiveBuffer?: number): number[] {
    return Array.from(connectMany(this.ring, this.host, port, n, { receiveBuffer }));
  }

  /** Sends `data` (blocking); returns the bytes sent or -errno. */
  send(fd: number, data: Uint8Array): number {
    return syncOp(this.ring, (sqe) => prepSendRaw(sqe, fd, addressOf(data), data.byteLength, MsgFlags.NOSIGNAL));
  }

  /** Sends without waiting until the socket takes no more (the peer stopped reading); returns the bytes sent. */
  fill(fd: number, maxBytes = 64 << 20): number {
    let total = 0;
    while (total < maxBytes) {
      const rc = syncOp(this.ring, (sqe) => prepSendRaw(sqe, fd, addressOf(this.chunk), this.chunk.byteLength, MsgFlags.NOSIGNAL | MsgFlags.DONTWAIT));
      if (rc === -Errno.EAGAIN) break;
      if (rc < 0) throw new Error(`fill: send failed (${-rc})`);
      total += rc;
    }
    return total;
  }

  /** Closes with a reset (SO_LINGER {1, 0}): unread data and all, the server's next op fails. */
  reset(fd: number): void {
    const linger = new Uint8Array(8);
    new DataView(linger.buffer).setInt32(0, 1, true);
    syncOp(this.ring, (sqe) => prepSetsockopt(sqe, fd, SockOpt.SOL_SOCKET, SO_LINGER, linger));
    closeFd(fd);
  }

  /** shutdown(SHUT_WR): the server sees EOF and may still send. */
  halfClose(fd: number): number {
    return syncOp(this.ring, (sqe) => prepShutdown(sqe, fd, Shutdown.WR));
  }

  /** Plain close. */
  close(fd: number): void {
    closeFd(fd);
  }

  /** Releases the client's ring. */
  dispose(): void {
    this.ring.close();
  }
}

/**
 * Opens `n` node:net connections that each send one byte every `everyMs`
 * (a slowloris trickle); returns a function that stops and destroys them.
 */
export function trickle(host: string, port: number, n: number, everyMs: number): () => void {
  const sockets: Socket[] = [];
  const timers: Array<ReturnType<typeof setInterval>> = [];
  for (let i = 0; i < n; i++) {
    const s = netConnect({ host, port });
    s.on("error", () => {});
    s.on("data", () => {});
    sockets.push(s);
    timers.push(setInterval(() => s.writable && s.write("x"), everyMs));
  }
  return () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
  };
}
