/**
 * IPv4 socket addresses as the kernel reads them (struct sockaddr_in), and
 * parsing of `HOST:PORT` strings. The net layer is loopback-first, but any
 * IPv4 literal works.
 */
import { AddressFamily, SOCKADDR_IN_SIZE } from "./constants.ts";

/**
 * struct sockaddr_in for `host:port`: sin_family (u16, host order), sin_port
 * (u16, network order), sin_addr (4 bytes, network order), 8 bytes of zero.
 * Throws when `host` is not a dotted IPv4 literal or `port` is out of range.
 */
export function sockaddrIn(host: string, port: number): Uint8Array {
  const octets = parseIpv4(host);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port ${port} is not a TCP port: use an integer from 0 to 65535.`);
  }
  const sa = new Uint8Array(SOCKADDR_IN_SIZE);
  const v = new DataView(sa.buffer);
  v.setUint16(0, AddressFamily.INET, true);
  v.setUint16(2, port, false);
  sa.set(octets, 4);
  return sa;
}

/** The 4 octets of a dotted IPv4 literal ("localhost" is taken as 127.0.0.1); throws otherwise. */
export function parseIpv4(host: string): number[] {
  const h = host === "localhost" ? "127.0.0.1" : host;
  const parts = h.split(".");
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) {
    throw new RangeError(`"${host}" is not an IPv4 address: use a dotted literal such as 127.0.0.1.`);
  }
  return octets;
}

/** Splits `HOST:PORT` (port required); throws with a message naming `what` (e.g. "--connect"). */
export function parseHostPort(text: string, what = "address"): { host: string; port: number } {
  const i = text.lastIndexOf(":");
  if (i <= 0) throw new RangeError(`${what} "${text}" must be HOST:PORT, e.g. 127.0.0.1:9000.`);
  const host = text.slice(0, i);
  const port = Number(text.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RangeError(`${what} "${text}": port must be an integer from 1 to 65535.`);
  }
  parseIpv4(host);
  return { host, port };
}
