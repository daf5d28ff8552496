/**
 * The echo handler each Worker of `server-uring.ts --threads N` imports
 * (TcpServerGroup runs one per Worker): every received buffer goes straight
 * back from the ring buffer it landed in, no copy.
 */
import type { TcpHandler, TcpServer } from "../../src/net/index.ts";

/** One echo handler for one Worker's server. */
export function createHandler(server: TcpServer): TcpHandler {
  return {
    onData(conn: number, bid: number, len: number): boolean {
      server.sendBuffer(conn, bid, len);
      return true;
    },
  };
}
