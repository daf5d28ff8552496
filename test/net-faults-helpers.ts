/**
 * Helpers of the fault-injection tests (net-faults.test.ts): an echo server
 * in a child process whose fds (and, for `uring`, counters) can be read, and
 * clients that misbehave on purpose: reset with data unread (SO_LINGER 0),
 * fill a socket and never read, half-close, trickle. Every wait polls until
 * a deadline; nothing assumes a sleep was long enough.
 */
import { readFileSync, readdirSync, readlinkSync, rmSync, existsSync, mkdtempSync } from "node:fs";
import type { FaultClient } from "../cli/echo/fault-client.ts";
import { connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { trickle as trickleFrom } from "../cli/echo/fault-client.ts";
import { fdCount, openServerSockets, procNetTcpRows } from "../cli/echo/faults.ts";
import type { TcpServerStats } from "../src/net/server-options.ts";
import { Op } from "../src/sys/constants.ts";
import { freePort } from "../cli/echo/processes.ts";
import { C_URING_PATH } from "../cli/echo/servers.ts";

/** Loopback only: fault tests never leave the machine. */
export const HOST = "127.0.0.1";
/** How long any one wait may take before the test fails with what it waited for. */
export const WAIT_MS = 15_000;

/** The servers under test: ours, and the C liburing reference where it was built. */
export type FaultServerName = "uring" | "uring-plain-fds" | "c-uring";

/** What `uring`'s --stats-file holds: TcpServer.stats() and the pool size. */
export type ServerStats = TcpServerStats & { bufferCount: number };

/** An echo server child whose descriptors and counters a test can watch. */
export interface FaultServer {
  name: FaultServerName;
  port: number;
  pid: number;
  /** The last counters the server wrote (uring only; null for c-uring). */
  stats(): ServerStats | null;
  /** Descriptors of the server process: fds plus direct descriptors in its rings (see fdCount). */
  fds(): number;
  /** Server-side sockets on its port not yet closed by the server (ESTABLISHED or CLOSE_WAIT). */
  openSockets(): number;
  /** Stops the child and removes its files. */
  stop(): Promise<void>;
  /** Whether the child still runs. */
  alive(): boolean;
}

/** Whether `name` can run here (c-uring needs build/echo_liburing). */
export function serverAvailable(name: FaultServerName): boolean {
  return name !== "c-uring" || existsSync(C_URING_PATH);
}

const SERVER_URING = join(import.meta.dir, "..", "cli", "echo", "server-uring.ts");

/** Starts `name` on a free loopback port with `args` (uring's policy flags) and waits for READY. */
export async function startFaultServer(name: FaultServerName, args: string[] = []): Promise<FaultServer> {
  const port = await freePort(HOST);
  const dir = mkdtempSync(join(tmpdir(), "uring-faults-"));
  const statsFile = join(dir, "stats.json");
  const cmd =
    name === "c-uring"
      ? [C_URING_PATH, String(port), HOST]
      : [
          process.execPath,
          SERVER_URING,
          "--host",
          HOST,
          "--port",
          String(port),
          "--tick-ms",
          "50",
          "--stats-file",
          statsFile,
          ...(name === "uring-plain-fds" ? ["--plain-fds"] : []),
          ...args,
        ];
  const child = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit" });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const deadline = Date.now() + WAIT_MS;
  while (!text.includes("\n") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  if (!/^READY /m.test(text)) {
    child.kill(9);
    throw new Error(`${name} did not start: ${text}`);
  }
  return {
    name,
    port,
    pid: child.pid,
    stats: () => {
      if (name === "c-uring" || !existsSync(statsFile)) return null;
      return JSON.parse(readFileSync(statsFile, "utf8")) as ServerStats;
    },
    fds: () => fdCount(child.pid),
    openSockets: () => openServerSockets(port),
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      child.kill();
      await child.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Peers that flood up to `maxBytes` each and never read. One pass of `fill()`
 * stops at the first EAGAIN, which on a quiet machine can come before the
 * server has read enough to block on its echo; so the returned function tops
 * every peer up again, and a wait calls it on each poll, as a flooding client
 * keeps sending.
 */
export function flooder(client: FaultClient, fds: readonly number[], maxBytes: number): () => void {
  const sent = new Map<number, number>(fds.map((fd) => [fd, 0]));
  return () => {
    for (const [fd, n] of sent) if (n < maxBytes) sent.set(fd, n + client.fill(fd, maxBytes - n));
  };
}

/** Polls `cond` every 10 ms until it holds; throws naming `what` (and the last `detail()`) at the deadline. */
export async function until(what: string, cond: () => boolean, detail: () => unknown = () => "", timeoutMs = WAIT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(detail())}`);
    await Bun.sleep(10);
  }
}

/** True when `s` shows no connection and every buffer back in the pool. */
export function atBaseline(s: ServerStats | null): boolean {
  return s !== null && s.open === 0 && s.buffersHeld === 0 && s.buffersFree === s.bufferCount && s.sendsInFlight === 0 && s.starved === 0 && s.paused === 0;
}

/** A test pattern of `n` bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed + (i >> 8)) & 0xff;
  return b;
}

/** Sends `data` on a fresh connection, half-closes, and resolves with the whole echo (rejects at the deadline). */
export function echoOnce(port: number, data: Uint8Array, timeoutMs = WAIT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s: Socket = netConnect({ host: HOST, port, allowHalfOpen: true }, () => s.end(data));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("echo timed out"));
    }, timeoutMs);
    s.on("data", (d) => chunks.push(Buffer.from(d)));
    s.on("end", () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    });
    s.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export { FaultClient } from "../cli/echo/fault-client.ts";

/** `n` loopback peers trickling a byte every `everyMs` (slowloris); returns the function that stops them. */
export function trickle(port: number, n: number, everyMs: number): () => void {
  return trickleFrom(HOST, port, n, everyMs);
}

/** One loopback connection to a server's port, both ends as /proc/net/tcp shows them. */
export interface ConnectionQueues {
  /** The peer's port. */
  peerPort: number;
  /** Bytes the server's kernel received that the server has not read (its socket's receive queue). */
  serverUnread: number;
  /** Bytes the server wrote that the peer has not acknowledged (its socket's send queue). */
  serverUnacked: number;
  /** Bytes the peer wrote that the server's kernel has not acknowledged (the peer socket's send queue, unsent bytes included). */
  peerUnacked: number;
}

/** Both ends of every established loopback connection to `port` (the peers run in this process, so both ends are on this machine). */
export function connectionQueues(port: number): ConnectionQueues[] {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const portOf = (addr: string): number => Number.parseInt(addr.slice(addr.lastIndexOf(":") + 1), 16);
  const queues = (f: string[]): [number, number] => {
    const [tx, rx] = f[4]!.split(":");
    return [Number.parseInt(tx!, 16), Number.parseInt(rx!, 16)];
  };
  const peerUnacked = new Map<number, number>();
  const servers: ConnectionQueues[] = [];
  for (const f of procNetTcpRows()) {
    if (f[3] !== "01") continue; // ESTABLISHED only
    const [tx, rx] = queues(f);
    if (f[1]!.endsWith(hex)) servers.push({ peerPort: portOf(f[2]!), serverUnread: rx, serverUnacked: tx, peerUnacked: 0 });
    else if (f[2]!.endsWith(hex)) peerUnacked.set(portOf(f[1]!), tx);
  }
  for (const c of servers) c.peerUnacked = peerUnacked.get(c.peerPort) ?? 0;
  return servers;
}

/**
 * Requests a process's rings hold armed in the kernel, counted by opcode:
 * the PollList of each io_uring fd's fdinfo (a multishot recv between
 * completions, a send waiting for room, the multishot accept). Null when no
 * ring listed one (the kernel prints it only when it gets the ring's lock).
 */
export function armedOps(pid: number): Map<number, number> | null {
  let listed = false;
  const ops = new Map<number, number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  for (const fd of fds) {
    let info: string;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== "anon_inode:[io_uring]") continue;
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
    } catch {
      continue; // closed meanwhile
    }
    const at = info.indexOf("\nPollList:");
    if (at < 0) continue;
    listed = true;
    for (const m of info.slice(at).matchAll(/^\s+op=(\d+),/gm)) ops.set(Number(m[1]), (ops.get(Number(m[1])) ?? 0) + 1);
  }
  return listed ? ops : null;
}

/** What a `uring` server and the kernel say about its connections, for a stalled-peer wait's failure message. */
export interface StallReport {
  stats: ServerStats | null;
  /** Recvs and sends the kernel holds armed for the server (null: not listed this time). */
  kernel: { recvs: number; sends: number } | null;
  /** Connections whose bytes wait unread in the server's socket. */
  unreadAtServer: number;
  /**
   * Connections whose server socket is empty while the peer holds bytes it
   * cannot get acknowledged: a stall in TCP between the two kernels, not in the
   * server, which waits with its recv armed and has nothing to echo.
   */
  stuckInPeer: number;
}

/** A {@link StallReport} of `srv` now. */
export function stallReport(srv: FaultServer): StallReport {
  const ops = armedOps(srv.pid);
  const conns = connectionQueues(srv.port);
  return {
    stats: srv.stats(),
    kernel: ops && { recvs: ops.get(Op.RECV) ?? 0, sends: ops.get(Op.SEND) ?? 0 },
    unreadAtServer: conns.filter((c) => c.serverUnread > 0).length,
    stuckInPeer: conns.filter((c) => c.serverUnread === 0 && c.peerUnacked > 0).length,
  };
}

/**
 * True when the server's account of its recvs matches the kernel's: one
 * armed recv for every open connection that is neither paused nor starved
 * (a lost re-arm shows as fewer), and one armed send per send in flight.
 */
export function recvsAccountedFor(r: StallReport): boolean {
  const s = r.stats;
  return s !== null && r.kernel !== null && r.kernel.recvs === s.open - s.paused - s.starved && r.kernel.sends === s.sendsInFlight;
}
