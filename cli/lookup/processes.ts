/**
 * Starting a lookup server and running one load generator (ours or wrk),
 * each as a pinned child process tracked by children.ts (SIGINT stops them
 * all, no orphans).
 */
import { join } from "node:path";
import { finishWithin, readLineMatching, spawnChild, stopChild, type Child } from "../harness/children.ts";
import { processCpuSeconds } from "../harness/cpu.ts";
import { RESULT_PREFIX, type LookupLoadResult } from "./load.ts";
import type { VariantName } from "./readers.ts";
import type { ArrivalKind } from "../harness/arrivals.ts";

/** A server takes well under a second to listen; this bounds a broken start. */
const SERVER_START_TIMEOUT_MS = 15_000;
/** A load run may take this much longer than warm-up + duration (connect, exit). */
const CLIENT_SLACK_MS = 20_000;

/** A running lookup server. */
export interface LookupServer {
  child: Child;
  port: number;
}

/** Where the server should read and how. */
export interface ServerSpec {
  variant: VariantName;
  path: string;
  direct: boolean;
  host: string;
  cpus?: readonly number[];
}

/** Starts the server of `spec.variant` on a free port and waits for READY. */
export async function startLookupServer(spec: ServerSpec): Promise<LookupServer> {
  const cmd = [process.execPath, join(import.meta.dir, "server.ts"), "--file", spec.path, "--variant", spec.variant, "--host", spec.host, "--port", "0"];
  if (spec.direct) cmd.push("--direct");
  const child = spawnChild(cmd, { cpus: spec.cpus, stdout: "pipe", stderr: "pipe" });
  try {
    const m = await readLineMatching(child, /^READY (\d+)/, SERVER_START_TIMEOUT_MS);
    return { child, port: Number(m[1]) };
  } catch (err) {
    await stopChild(child, 500);
    const stderr = child.stderr && typeof child.stderr !== "number" ? (await new Response(child.stderr).text()).trim() : "";
    throw new Error(`lookup server ${spec.variant} did not start: ${stderr || (err instanceof Error ? err.message : String(err))}`);
  }
}

/** One load run's shape. */
export interface LoadRun {
  host: string;
  port: number;
  serverPid: number;
  connections: number;
  keys: number;
  pageCount: number;
  durationMs: number;
  warmupMs: number;
  seed: number;
  cpus?: readonly number[];
  /** Open loop: requests per second (absent: closed loop). */
  rate?: number;
  arrival?: ArrivalKind;
}

/** Runs a child to its end (or kills it past `limitMs`) and returns its stdout. */
async function runToEnd(child: Child, limitMs: number, what: string): Promise<string> {
  const stdout = new Response(child.stdout as ReadableStream).text();
  const stderr = new Response(child.stderr as ReadableStream).text();
  await finishWithin(child, limitMs, what);
  const out = await stdout;
  if (child.exitCode !== 0) throw new Error(`${what} failed: ${(await stderr).trim() || `exit ${child.exitCode}`}`);
  return out;
}

/** Our load generator (load.ts), pinned to `run.cpus`. */
export async function runOurLoad(run: LoadRun): Promise<LookupLoadResult> {
  const cmd = [
    process.execPath,
    join(import.meta.dir, "load.ts"),
    "--host",
    run.host,
    "--port",
    String(run.port),
    "-c",
    String(run.connections),
    "--keys",
    String(run.keys),
    "--pages",
    String(run.pageCount),
    "--duration",
    String(run.durationMs),
    "--warmup",
    String(run.warmupMs),
    "--server-pid",
    String(run.serverPid),
    "--seed",
    String(run.seed),
  ];
  if (run.rate !== undefined) cmd.push("--rate", String(run.rate), "--arrival", run.arrival ?? "uniform");
  const child = spawnChild(cmd, { cpus: run.cpus, stdout: "pipe", stderr: "pipe" });
  const out = await runToEnd(child, run.warmupMs + run.durationMs + CLIENT_SLACK_MS, "the lookup load generator");
  const line = out.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error("the lookup load generator printed no result");
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as LookupLoadResult;
}

/** Is wrk installed? */
export function wrkPath(): string | null {
  return Bun.which("wrk");
}

/**
 * wrk (one thread, `run.connections` connections) with wrk.lua: the
 * independent second client. No warm-up phase of its own: the window is the
 * whole run, and server CPU is measured around it from here.
 */
export async function runWrk(run: LoadRun): Promise<LookupLoadResult> {
  const wrk = wrkPath();
  if (wrk === null) throw new Error("wrk is not installed (apt-get install -y wrk)");
  if (run.rate !== undefined) throw new Error("wrk has no fixed-rate mode (that is wrk2): --rate runs with our client only");
  const seconds = Math.max(1, Math.round(run.durationMs / 1000));
  const cmd = [wrk, "-t1", `-c${run.connections}`, `-d${seconds}s`, "-s", join(import.meta.dir, "wrk.lua"), `http://${run.host}:${run.port}/`];
  const srv0 = processCpuSeconds(run.serverPid);
  const t0 = performance.now();
  const child = spawnChild(cmd, {
    cpus: run.cpus,
    stdout: "pipe",
    stderr: "pipe",
    env: { LOOKUP_KEYS: String(run.keys), LOOKUP_PAGES: String(run.pageCount) },
  });
  const out = await runToEnd(child, seconds * 1000 + CLIENT_SLACK_MS, "wrk");
  const wall = (performance.now() - t0) / 1000;
  const srv1 = processCpuSeconds(run.serverPid);
  const line = out.split("\n").find((l) => l.startsWith("WRK "));
  if (line === undefined) throw new Error(`wrk printed no result: ${out.trim()}`);
  const w = JSON.parse(line.slice(4)) as { requests: number; us: number; errors: number; p50: number; p99: number; p999: number; mean: number };
  return {
    requests: w.requests,
    seconds: w.us / 1e6,
    errors: w.errors,
    latencyUs: { p50: w.p50, p99: w.p99, p999: w.p999, mean: w.mean },
    clientCpu: Number.NaN,
    serverCpu: (srv1 - srv0) / wall,
    enters: Number.NaN,
  };
}
