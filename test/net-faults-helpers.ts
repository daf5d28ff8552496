/**
 * Helpers of the fault-injection tests (net-faults.test.ts): an echo server
 * in a child process whose fds (and, for `uring`, counters) can be read, and
 * clients that misbehave on purpose: reset with data unread (SO_LINGER 0),
 * fill a socket and never read, half-close, trickle. Every wait polls until
 * a deadline; nothing assumes a sleep was long enough.
 */
import { readFileSync, rmSync, existsSync, mkdtempSync } from "node:fs";
import type { FaultClient } from "../cli/echo/fault-client.ts";
import { connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { trickle as trickleFrom } from "../cli/echo/fault-client.ts";
import { fdCount, openServerSockets } from "../cli/echo/faults.ts";
import type { TcpServerStats } from "../src/net/server-options.ts";
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
