/**
 * Running one echo server and one load generator as pinned child processes
 * (tracked by children.ts: SIGINT stops them all, no orphans).
 */
import { createServer } from "node:net";
import { join } from "node:path";
import { finishWithin, readLineMatching, spawnChild, stopChild, type Child } from "../harness/children.ts";
import { existsSync } from "node:fs";
import { bunPath, C_CLIENT_PATH, SERVERS, type ClientName, type ServerName } from "./servers.ts";
import { parseResultLine } from "./load-worker.ts";
import { withThreads } from "./threads.ts";
import type { LoadOptions, LoadResult } from "./load.ts";

/** How long a server may take to print READY (Bun and node start in well under a second). */
export const SERVER_START_TIMEOUT_MS = 15_000;
/** Extra time a load run may take beyond warm-up + duration (connecting 2000 sockets, exiting). */
export const CLIENT_SLACK_MS = 30_000;

/** A free TCP port on `host`, found by binding port 0 and closing again. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A running echo server. */
export interface ServerProcess {
  name: ServerName;
  child: Child;
  host: string;
  port: number;
  /** What the server said after READY (the uring server prints its setup flags). */
  detail: string;
}

async function readAll(stream: unknown, timeoutMs = 1000): Promise<string> {
  if (!stream || typeof stream === "number") return "";
  const text = new Response(stream as ReadableStream).text();
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(""), timeoutMs));
  return Promise.race([text, timeout]);
}

/** The server's exit described in words, or null while it runs. */
export function exitDescription(child: Child): string | null {
  if (child.signalCode) return `killed by ${child.signalCode}`;
  if (child.exitCode !== null) return `exited with code ${child.exitCode}`;
  return null;
}

/**
 * Starts server `name` on `host:port` (a free port when port is 0) pinned to
 * `cpus`, and waits for READY. Throws with the server's own message when it
 * cannot start (port in use, missing binary, ...).
 */
export async function startServer(
  name: ServerName,
  host: string,
  port: number,
  cpus: readonly number[] | undefined,
  uringSetup?: string,
  threads?: number,
  threadsExplicit = false,
): Promise<ServerProcess> {
  const spec = SERVERS[name];
  const why = spec.unavailable();
  if (why) throw new Error(`${name}: ${why}`);
  const attempts = port === 0 ? 3 : 1;
  let last: Error | null = null;
  for (let i = 0; i < attempts; i++) {
    const p = port === 0 ? await freePort(host) : port;
    const child = spawnChild(withThreads(name, spec.command(host, p, uringSetup), threads, threadsExplicit), { cpus, stdout: "pipe", stderr: "pipe" });
    try {
      const m = await readLineMatching(child, /^READY (\d+) ?(.*)$/, SERVER_START_TIMEOUT_MS);
      return { name, child, host, port: Number(m[1]), detail: m[2] ?? "" };
    } catch (err) {
      await stopChild(child, 500);
      const stderr = (await readAll(child.stderr)).trim();
      last = new Error(`${name} server did not start on ${host}:${p}: ${stderr || (err instanceof Error ? err.message : String(err))}`);
      // A port taken between our probe and the server's bind: try another one.
      if (!/EADDRINUSE|in use/i.test(stderr)) break;
    }
  }
  throw last ?? new Error(`${name} server did not start`);
}

/** Stops a server (SIGTERM, then SIGKILL). */
export async function stopServer(server: ServerProcess): Promise<void> {
  await stopChild(server.child);
}

/** Options of {@link runClient}: the load shape of {@link LoadOptions}, plus where and which client runs. */
export interface ClientRun extends Pick<LoadOptions, "host" | "port" | "connections" | "bytes" | "durationMs" | "warmupMs" | "serverPid"> {
  cpus?: readonly number[];
  /** Which load generator (default "uring": ours). */
  client?: ClientName;
  /** Ring setup of our load generator (a key of URING_SETUPS; default "defer"). */
  clientSetup?: string;
  /** Our load generator's early-submit threshold (LoadOptions.submitEvery). */
  clientSubmitEvery?: number;
}

/** The command line of one load run. */
function clientCommand(run: ClientRun): string[] {
  if (run.client === "c-epoll") {
    if (!existsSync(C_CLIENT_PATH)) throw new Error(`${C_CLIENT_PATH} is missing: run "npm run build:shim" (needs a C compiler) or use --client uring`);
    return [
      C_CLIENT_PATH,
      run.host,
      String(run.port),
      String(run.connections),
      String(run.bytes),
      String(run.durationMs),
      String(run.warmupMs),
      String(run.serverPid ?? 0),
    ];
  }
  const cmd = [
    bunPath(),
    join(import.meta.dir, "load-worker.ts"),
    "--host",
    run.host,
    "--port",
    String(run.port),
    "-c",
    String(run.connections),
    "-b",
    String(run.bytes),
    "--duration",
    String(run.durationMs),
    "--warmup",
    String(run.warmupMs),
  ];
  if (run.serverPid !== undefined) cmd.push("--server-pid", String(run.serverPid));
  if (run.clientSetup !== undefined) cmd.push("--setup", run.clientSetup);
  if (run.clientSubmitEvery !== undefined) cmd.push("--submit-every", String(run.clientSubmitEvery));
  return cmd;
}

/**
 * Runs the load generator once as a pinned child and returns what it
 * measured. Throws with its error message when it fails (refused, fd limit...).
 */
export async function runClient(run: ClientRun): Promise<LoadResult> {
  const child = spawnChild(clientCommand(run), { cpus: run.cpus, stdout: "pipe", stderr: "pipe" });
  const stdout = new Response(child.stdout as ReadableStream).text();
  const stderr = new Response(child.stderr as ReadableStream).text();
  await finishWithin(child, run.warmupMs + run.durationMs + CLIENT_SLACK_MS, "the load generator");
  const out = await stdout;
  for (const line of out.split("\n")) {
    const r = parseResultLine(line);
    if (r) return r;
  }
  const err = (await stderr).trim();
  throw new Error(err || `the load generator ${exitDescription(child) ?? "stopped"} without a result`);
}
