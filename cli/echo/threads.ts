/**
 * `echo --threads N` and `--client-threads N`: servers that run on N threads
 * (each its own loop and listener on one SO_REUSEPORT port), and N load
 * generator processes splitting the connections.
 *
 * | server       | how it runs N ways                                              |
 * |--------------|-----------------------------------------------------------------|
 * | uring        | TcpServerGroup: N Bun Workers, a ring each (src/net/group.ts)   |
 * | bun          | N Bun.listen loops (main thread + N-1 Workers), reusePort       |
 * | node         | node:cluster, N worker processes (the primary hands out conns)  |
 * | c-epoll      | N pthreads, an epoll each (c/reference/echo_epoll.c THREADS)    |
 * | c-uring      | N pthreads, a ring each (c/reference/echo_liburing.c THREADS)   |
 * | uring-sqpoll | not offered: N SQPOLL threads would need N more cores           |
 *
 * Server CPU is read from the server's pid, so it covers every thread of a
 * threaded server; node's cluster workers are separate processes, so its
 * server CPU (the primary's) undercounts and is marked so.
 */
import { OptionError } from "../harness/option-error.ts";
import { sizeFlag } from "../harness/size.ts";
import { runClient, type ClientRun } from "./processes.ts";
import type { LoadResult } from "./load.ts";
import { mergeWire, toWire, type WireLatency } from "./latency-wire.ts";
import type { ServerName } from "./servers.ts";

/** Most threads a server or the load generator may be given (the C servers' MAX_THREADS). */
export const MAX_THREADS = 64;

/** --threads / --client-threads: 1 to {@link MAX_THREADS}. */
export const threadsFlag = (flag: string): ((value: string) => number) =>
  sizeFlag(flag, { min: 1, max: MAX_THREADS, what: `a thread count from 1 to ${MAX_THREADS}` });

/**
 * --threads: one count, or (open loop) a list such as `1,2`, each run as its
 * own cell so the counts compare in one interleaved run.
 */
export const threadsListFlag =
  (flag: string): ((value: string) => number[]) =>
  (value: string) =>
    value.split(",").map((v) => threadsFlag(flag)(v.trim()));

/** How each server takes a thread count: extra arguments, or null when it cannot run threaded. */
const THREAD_ARGS: Record<ServerName, ((n: number) => string[]) | null> = {
  uring: (n) => ["--threads", String(n)],
  "uring-sqpoll": null,
  bun: (n) => ["--threads", String(n)],
  node: (n) => ["--threads", String(n)],
  // The C servers take it as the third positional argument: PORT HOST THREADS.
  "c-epoll": (n) => [String(n)],
  "c-uring": (n) => [String(n)],
};

/** Servers that can run on several threads. */
export function threadedServers(): ServerName[] {
  return (Object.keys(THREAD_ARGS) as ServerName[]).filter((s) => THREAD_ARGS[s] !== null);
}

/**
 * `--threads` as a closed-loop run takes it: one count (default 1) runs every
 * server that way; a list (1,2) runs a cell per count, each server in its
 * threaded form (`counts`), so the counts compare in one interleaved run.
 */
export function threadPlan(list: readonly number[] | undefined): { threads: number; counts?: readonly number[] } {
  if (list === undefined || list.length === 0) return { threads: 1 };
  if (list.length === 1) return { threads: list[0]! };
  return { threads: Math.max(...list), counts: list };
}

/** Throws an OptionError when `--threads n` (n > 1, or any n when `explicit`: a list) asks a server that cannot run threaded. */
export function checkThreads(servers: readonly ServerName[], n: number, explicit = false): void {
  if (n <= 1 && !explicit) return;
  const bad = servers.filter((s) => THREAD_ARGS[s] === null);
  if (bad.length > 0) {
    throw new OptionError(
      `--threads ${n}: ${bad.join(", ")} cannot run threaded (threaded servers: ${threadedServers().join(", ")}); leave ${bad.length > 1 ? "them" : "it"} out of --servers`,
    );
  }
}

/**
 * `command` (a server's command line) with the arguments that make it run `n`
 * threads; unchanged for n = 1 unless `explicit`: then even 1 thread runs in
 * the threaded form (a TcpServerGroup of one Worker, one pinned pthread), so
 * a 1-thread row differs from the 2-thread row only in the count.
 */
export function withThreads(name: ServerName, command: string[], n: number | undefined, explicit = false): string[] {
  if (n === undefined || (n <= 1 && !explicit)) return command;
  const args = THREAD_ARGS[name];
  if (args === null) throw new Error(`${name} cannot run on ${n} threads`);
  return [...command, ...args(n)];
}

/** Notes a threaded server's rows carry: what its server CPU column covers. */
export function threadNotes(name: ServerName, n: number | undefined): string[] {
  if (n === undefined || n <= 1) return [];
  if (name === "node") return [`node cluster: server CPU is the primary process's only (its ${n} workers are separate processes): undercounted`];
  return [];
}

/**
 * Runs `n` load generators at once, each with its share of the connections
 * (generator i pinned to `cpus[i % cpus.length]`), and merges their results:
 * counts and CPU add up; the server CPU is the generators' mean (each read it
 * over nearly the same window); latency comes from the generators' merged
 * histograms (see {@link mergeLoadResults}).
 */
export async function runClients(run: ClientRun, n: number): Promise<LoadResult> {
  if (n <= 1) return runClient(run);
  if (run.connections < n) throw new OptionError(`--client-threads ${n}: needs at least ${n} connections (-c), got ${run.connections}`);
  const cpus = run.cpus;
  const shares = Array.from({ length: n }, (_, i) => Math.floor(run.connections / n) + (i < run.connections % n ? 1 : 0));
  const results = await Promise.all(
    shares.map((connections, i) => runClient({ ...run, connections, cpus: cpus !== undefined && cpus.length > 0 ? [cpus[i % cpus.length]!] : undefined })),
  );
  return mergeLoadResults(results);
}

/**
 * Merges results of load generators that ran at the same time (see
 * {@link runClients}). Latency: when every generator sent its histogram
 * (both of ours do), the percentiles are those of the merged histogram, the
 * combined load's own (to the histogram's 0.4%); otherwise the largest any
 * generator saw, an upper bound, and a note says so.
 */
export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const max = (f: (r: LoadResult) => number): number => Math.max(...results.map(f));
  const roundTrips = sum((r) => r.roundTrips);
  const merged = mergedLatency(results);
  const seconds = sum((r) => r.seconds) / results.length;
  const servers = results.map((r) => r.serverCpu).filter((v): v is number => v !== null && Number.isFinite(v));
  const errorKinds = { ...results[0]!.errorKinds };
  for (const r of results.slice(1))
    for (const [k, v] of Object.entries(r.errorKinds))
      (errorKinds as Record<string, number>)[k] = ((errorKinds as Record<string, number>)[k] ?? 0) + (v as number);
  return {
    roundTrips,
    seconds,
    bytes: sum((r) => r.bytes),
    latencyUs: merged?.latencyUs ?? {
      p50: max((r) => r.latencyUs.p50),
      p99: max((r) => r.latencyUs.p99),
      p999: max((r) => r.latencyUs.p999),
      mean: roundTrips > 0 ? sum((r) => r.latencyUs.mean * r.roundTrips) / roundTrips : NaN,
    },
    latencyHistogram: merged?.histogram,
    clientCpu: sum((r) => r.clientCpu ?? NaN),
    serverCpu: servers.length > 0 ? servers.reduce((a, v) => a + v, 0) / servers.length : NaN,
    errors: sum((r) => r.errors),
    errorKinds,
    connectionsAlive: sum((r) => r.connectionsAlive),
    entersPerRoundTrip: roundTrips > 0 ? sum((r) => (r.entersPerRoundTrip ?? 0) * r.roundTrips) / roundTrips : NaN,
    notes: [
      ...new Set(results.flatMap((r) => r.notes)),
      merged !== null
        ? `${results.length} load generators merged: latency percentiles of their merged histograms; client CPU is their sum`
        : `${results.length} load generators merged: latency percentiles are the largest any saw (upper bounds: not every generator sent its histogram); client CPU is their sum`,
    ],
  };
}

/** The combined latency of `results` from their histograms (ms in, µs out), or null when any lacks one. */
function mergedLatency(results: readonly LoadResult[]): { latencyUs: LoadResult["latencyUs"]; histogram: WireLatency } | null {
  const wires = results.map((r) => r.latencyHistogram);
  if (wires.some((w) => w === undefined || w === null)) return null;
  const rec = mergeWire(wires as WireLatency[]);
  const [p50, p99, p999] = rec.percentiles([50, 99, 99.9]) as [number, number, number];
  return { latencyUs: { p50: p50 * 1000, p99: p99 * 1000, p999: p999 * 1000, mean: rec.mean * 1000 }, histogram: toWire(rec) };
}
