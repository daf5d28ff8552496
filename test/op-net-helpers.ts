/**
 * TCP on 127.0.0.1 made entirely by the ring (SOCKET, BIND, LISTEN, ACCEPT,
 * CONNECT), shared by the net opcode tests (op-net, op-epoll-fixedv-sockcmd).
 */
import { expect } from "bun:test";
import { fstatSync, readFileSync } from "node:fs";
import {
  AddressFamily,
  SOCKADDR_IN_SIZE,
  parseSockaddr,
  prepAccept,
  prepBind,
  prepConnect,
  prepListen,
  prepRecv,
  prepSocket,
  sockaddrIn,
} from "../src/ops/index.ts";
import type { Ring } from "../src/ring/ring.ts";
import { byUd, closeAll, prep, reap, run1 } from "./op-helpers.ts";

/** socket(2) type and flag values used by the tests. */
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0x80000;
/** recv flag: wait for the whole length. */
export const MSG_WAITALL = 0x100;

/**
 * The local port of TCP socket `fd`, found by its inode in /proc/self/net/tcp
 * (the getsockname socket command is 6.19; this kernel may not have it).
 */
export function localPort(fd: number): number {
  const ino = String(fstatSync(fd).ino);
  for (const line of readFileSync("/proc/self/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[9] === ino) return Number.parseInt(cols[1]!.split(":")[1]!, 16);
  }
  throw new Error(`socket fd ${fd} (inode ${ino}) is not in /proc/self/net/tcp`);
}

/** A TCP socket made by IORING_OP_SOCKET. */
export function tcpSocket(ring: Ring): number {
  const fd = run1(ring, (s) => prepSocket(s, AddressFamily.INET, SOCK_STREAM | SOCK_CLOEXEC, 0, 0));
  if (fd < 0) throw new Error(`IORING_OP_SOCKET failed: ${fd}`);
  return fd;
}

/** A listener on 127.0.0.1 (BIND + LISTEN through the ring) and its port. */
export function listener(ring: Ring, backlog = 16): { fd: number; port: number } {
  const fd = tcpSocket(ring);
  const addr = sockaddrIn("127.0.0.1", 0);
  const b = run1(ring, (s) => prepBind(s, fd, addr, SOCKADDR_IN_SIZE));
  const l = b === 0 ? run1(ring, (s) => prepListen(s, fd, backlog)) : b;
  if (l !== 0) {
    closeAll(fd);
    throw new Error(`bind/listen failed: ${l}`);
  }
  return { fd, port: localPort(fd) };
}

/** A connected pair: `client` from CONNECT, `server` from ACCEPT (with the peer address it reported). */
export interface Conn {
  listenFd: number;
  port: number;
  client: number;
  server: number;
  peer: ReturnType<typeof parseSockaddr>;
  /** Closes the pair and its listener. */
  close(): void;
}

/** Makes a listener and a connected pair through it (ACCEPT and CONNECT in one submission). */
export function connectPair(ring: Ring): Conn {
  const l = listener(ring);
  let client = -1;
  try {
    client = tcpSocket(ring);
  } catch (e) {
    closeAll(l.fd);
    throw e;
  }
  const peerBuf = new Uint8Array(SOCKADDR_IN_SIZE);
  const peerLen = new Uint32Array([SOCKADDR_IN_SIZE]);
  const dest = sockaddrIn("127.0.0.1", l.port);
  prep(ring, 10, (s) => prepAccept(s, l.fd, peerBuf, peerLen, SOCK_CLOEXEC));
  prep(ring, 11, (s) => prepConnect(s, client, dest, SOCKADDR_IN_SIZE));
  const got = byUd(reap(ring, 2));
  const server = got.get(10)!.res;
  if (server < 0 || got.get(11)!.res !== 0) {
    closeAll(l.fd, client, server);
    throw new Error(`accept ${server} / connect ${got.get(11)!.res}`);
  }
  expect(peerLen[0]).toBe(SOCKADDR_IN_SIZE);
  return {
    listenFd: l.fd,
    port: l.port,
    client,
    server,
    peer: parseSockaddr(peerBuf),
    close: () => closeAll(client, server, l.fd),
  };
}

/** Receives exactly `n` bytes on `fd` through RECV (MSG_WAITALL). */
export function recvAll(ring: Ring, fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const view = out.subarray(got);
    const r = run1(ring, (s) => prepRecv(s, fd, view, view.length, MSG_WAITALL));
    if (r <= 0) throw new Error(`recv returned ${r} after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}
