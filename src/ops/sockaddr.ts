/**
 * Socket addresses as the kernel reads them: struct sockaddr_in (16 bytes),
 * sockaddr_in6 (28 bytes) and sockaddr_un (110 bytes), built into Uint8Arrays
 * for connect/bind/sendto, and decoded from accept/recvmsg results; and
 * `HOST:PORT` text parsed for them.
 */

/** Address families (socket(2) domain, sa_family), as Linux numbers them. */
export const AddressFamily = {
  /** AF_UNIX: local sockets named by a path (sockaddrUn). */
  UNIX: 1,
  /** AF_INET: IPv4 (sockaddrIn). */
  INET: 2,
  /** AF_INET6: IPv6 (sockaddrIn6). */
  INET6: 10,
} as const;

/** sizeof(struct sockaddr_in). */
export const SOCKADDR_IN_SIZE = 16;
/** sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN6_SIZE = 28;
/** sizeof(struct sockaddr_un). */
export const SOCKADDR_UN_SIZE = 110;
/** sizeof(struct sockaddr_storage): big enough for any address (accept/recvfrom buffers). */
export const SOCKADDR_STORAGE_SIZE = 128;

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`sockaddr: port must be an integer in 0..65535, got ${port}`);
  }
}

/** Parses dotted-quad IPv4 into 4 bytes, or null if `host` is not one. */
function dottedQuad(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

/** Parses IPv6 text (with "::" and an optional dotted IPv4 tail) into 16 bytes, or null. */
function parseIpv6(text: string): number[] | null {
  let host = text;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const items = s.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes(".")) {
        const v4 = dottedQuad(it);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes: number[] = [];
  for (const g of all) bytes.push(g >> 8, g & 0xff);
  return bytes;
}

/**
 * The 4 bytes of an IPv4 host, or null: a dotted quad, or "localhost" as
 * 127.0.0.1 (the benchmarks are loopback-only, and a sockaddr holds numbers).
 */
function ipv4Octets(host: string): number[] | null {
  return dottedQuad(host === "localhost" ? "127.0.0.1" : host);
}

/** The 4 octets of a dotted IPv4 literal ("localhost" is taken as 127.0.0.1); throws a TypeError otherwise. */
export function parseIpv4(host: string): number[] {
  const ip = ipv4Octets(host);
  if (!ip) throw new TypeError(`"${host}" is not an IPv4 address: use a dotted literal such as 127.0.0.1.`);
  return ip;
}

/** Splits `HOST:PORT` (an IPv4 host as {@link parseIpv4} takes it, port required); throws with a message naming `what` (e.g. "--connect"). */
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

/** struct sockaddr_in for `host` (dotted IPv4, e.g. "127.0.0.1", or "localhost") and `port`. */
export function sockaddrIn(host: string, port: number): Uint8Array {
  const ip = ipv4Octets(host);
  if (!ip) throw new TypeError(`sockaddrIn: "${host}" is not a dotted IPv4 address (like 127.0.0.1); use sockaddrIn6 for IPv6`);
  checkPort(port);
  const b = new Uint8Array(SOCKADDR_IN_SIZE);
  b[0] = AddressFamily.INET; // sa_family (u16, little-endian host)
  b[2] = port >> 8; // sin_port, network order
  b[3] = port & 0xff;
  b.set(ip, 4);
  return b;
}

/** struct sockaddr_in6 for `host` (IPv6 text, e.g. "::1"), `port`, and optional scope id and flow info. */
export function sockaddrIn6(host: string, port: number, scopeId = 0, flowinfo = 0): Uint8Array {
  const ip = parseIpv6(host);
  if (!ip) throw new TypeError(`sockaddrIn6: "${host}" is not an IPv6 address (like ::1 or fe80::1); use sockaddrIn for IPv4`);
  checkPort(port);
  const b = new Uint8Array(SOCKADDR_IN6_SIZE);
  const v = new DataView(b.buffer);
  v.setUint16(0, AddressFamily.INET6, true);
  v.setUint16(2, port, false);
  v.setUint32(4, flowinfo, false);
  b.set(ip, 8);
  v.setUint32(24, scopeId, true);
  return b;
}

/** struct sockaddr_un for a filesystem path (at most 107 bytes). Pass `sockaddrUnLength(path)` as the length. */
export function sockaddrUn(path: string): Uint8Array {
  const p = new TextEncoder().encode(path);
  if (p.length > SOCKADDR_UN_SIZE - 3) {
    throw new RangeError(`sockaddrUn: path is ${p.length} bytes; a unix socket path holds at most ${SOCKADDR_UN_SIZE - 3}`);
  }
  const b = new Uint8Array(SOCKADDR_UN_SIZE);
  b[0] = AddressFamily.UNIX;
  b.set(p, 2);
  return b;
}

/** The addrlen to pass with sockaddrUn(path): family + path + NUL. */
export function sockaddrUnLength(path: string): number {
  return 2 + new TextEncoder().encode(path).length + 1;
}

/** A decoded socket address. */
export interface SockAddress {
  /** AF_INET, AF_INET6 or AF_UNIX. */
  family: number;
  /** IPv4 dotted quad, IPv6 text (uncompressed groups, lowercase), or the unix path. */
  host: string;
  /** Port (0 for unix sockets). */
  port: number;
}

/** Decodes a sockaddr written by the kernel (accept, recvmsg name). Throws on an unknown family. */
export function parseSockaddr(bytes: Uint8Array): SockAddress {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = v.getUint16(0, true);
  if (family === AddressFamily.INET) {
    return { family, host: Array.from(bytes.subarray(4, 8)).join("."), port: v.getUint16(2, false) };
  }
  if (family === AddressFamily.INET6) {
    const g: string[] = [];
    for (let i = 0; i < 8; i++) g.push(v.getUint16(8 + i * 2, false).toString(16));
    return { family, host: g.join(":"), port: v.getUint16(2, false) };
  }
  if (family === AddressFamily.UNIX) {
    const path = bytes.subarray(2);
    const end = path.indexOf(0);
    return { family, host: new TextDecoder().decode(end < 0 ? path : path.subarray(0, end)), port: 0 };
  }
  throw new TypeError(`parseSockaddr: unknown address family ${family} (expected AF_INET, AF_INET6 or AF_UNIX)`);
}
