/**
 * The echo benchmark as runner variants: one per server per cell. A cell's
 * servers start in its setup (each in its own pinned process) and stop in its
 * teardown; every repetition is a fresh load-generator process that connects
 * `c` sockets, warms up briefly, measures, and reports.
 */
import type { BenchVariant, Measurement } from "../harness/runner.ts";
import type { VariantResult } from "../harness/result.ts";
import type { LoadResult } from "./load.ts";
import { exitDescription, startServer, stopServer, type ServerProcess } from "./processes.ts";
import { runClients, threadNotes } from "./threads.ts";
import type { ClientName, ServerName } from "./servers.ts";

/** One workload cell: connections × message size. */
export interface EchoCell {
  connections: number;
  bytes: number;
}

/** The seed table's grid, in its row order. */
export const MATRIX_CONNECTIONS = [300, 500, 1000, 2000] as const;
/** The seed table's message sizes. */
export const MATRIX_BYTES = [128, 512, 1000] as const;

/** A client above this CPU share (of one core) is the bottleneck: its row is a lower bound. */
export const CLIENT_BOUND_CPU = 0.9;

/**
 * The load generator's own warm-up inside each repetition, after connecting
 * and before measuring: long enough for JSC to tier up its loop and for every
 * connection to be in steady state; the runner's --warmup run comes on top.
 */
export const CLIENT_RAMP_MS = 300;

/** Row label, as in the seed: "c:1000 bytes:512". */
export function cellLabel(cell: EchoCell): string {
  return `c:${cell.connections} bytes:${cell.bytes}`;
}

/** The seed grid's cells: bytes outer, connections inner. */
export function matrixCells(): EchoCell[] {
  return MATRIX_BYTES.flatMap((bytes) => MATRIX_CONNECTIONS.map((connections) => ({ connections, bytes })));
}

/** Where and how the processes run. */
export interface EchoPlacement {
  host: string;
  serverCpus?: readonly number[];
  clientCpus?: readonly number[];
  /** Ring setup of the `uring` server (a key of URING_SETUPS; default "defer"). */
  uringSetup?: string;
  /** Load generator (default ours, "uring"). */
  client?: ClientName;
  /** Server threads (--threads; default 1). */
  threads?: number;
  /**
   * Open loop, `--threads 1,2`: a cell per count, each server started in its
   * threaded form with exactly that many threads (1 included, see withThreads).
   */
  threadCounts?: readonly number[];
  /** Load generator processes splitting the connections (--client-threads; default 1). */
  clientThreads?: number;
}

/** LoadResult → the runner's Measurement (JSON nulls, i.e. unknown CPU, are left out). */
export function toMeasurement(r: LoadResult): Measurement {
  const notes = [...r.notes];
  const client = r.clientCpu;
  const cpu: Measurement["cpu"] = {};
  if (r.serverCpu !== null && Number.isFinite(r.serverCpu)) cpu.server = r.serverCpu;
  if (client !== null && Number.isFinite(client)) cpu.client = client;
  return {
    ops: r.roundTrips,
    seconds: r.seconds,
    bytes: r.bytes,
    latencyUs: r.latencyUs,
    cpu,
    errors: r.errors,
    notes,
    extra: {
      entersPerRoundTrip: r.entersPerRoundTrip ?? NaN,
      connectionsAlive: r.connectionsAlive,
      // CPU time per round trip: steadier than round trips/s when other
      // tenants take CPU time from both sides (a shared machine).
      serverUsPerRoundTrip: perRoundTripUs(cpu.server, r),
      clientUsPerRoundTrip: perRoundTripUs(cpu.client, r),
    },
  };
}

/**
 * Notes every row whose load generator was over {@link CLIENT_BOUND_CPU}
 * busy (median over its repetitions): its round trips/s is a lower bound.
 */
export function markClientBound(results: VariantResult[]): void {
  for (const r of results) {
    const c = r.cpu?.client;
    if (c !== undefined && c > CLIENT_BOUND_CPU) {
      (r.notes ??= []).push(`client-bound (load generator ${Math.round(c * 100)}% busy): a lower bound`);
    }
  }
}

/** CPU µs per round trip from a CPU share over the window (NaN when unknown). */
function perRoundTripUs(share: number | undefined, r: LoadResult): number {
  if (share === undefined || r.roundTrips <= 0) return NaN;
  return (share * r.seconds * 1e6) / r.roundTrips;
}

/**
 * A variant run against one of our servers: `start`ed (then `warm`ed, if
 * given) in setup, stopped in teardown; `run` gets the running server.
 */
export function serverVariant(
  name: ServerName,
  cell: string,
  start: () => Promise<ServerProcess>,
  run: (s: ServerProcess, durationMs: number) => Promise<Measurement>,
  warm?: (s: ServerProcess) => Promise<void>,
): BenchVariant {
  let server: ServerProcess | null = null;
  return {
    name,
    cell,
    async setup() {
      server = await start();
      if (warm) await warm(server);
    },
    async teardown() {
      if (server) await stopServer(server);
      server = null;
    },
    async run(durationMs, ctx) {
      const s = server;
      if (!s) throw new Error(`${name} server is not running`);
      ctx.report(0);
      return run(s, durationMs);
    },
  };
}

/**
 * Variants for every cell × server (servers in the order given); with
 * `where.threadCounts`, for every cell × count × server, the count in the cell's label.
 */
export function serverVariants(cells: EchoCell[], servers: ServerName[], where: EchoPlacement): BenchVariant[] {
  const out: BenchVariant[] = [];
  const counts = where.threadCounts !== undefined && where.threadCounts.length > 0 ? where.threadCounts : null;
  for (const cell of cells) {
    if (counts === null) {
      for (const name of servers) out.push(closedLoopVariant(cell, cellLabel(cell), name, where, where.threads, false));
      continue;
    }
    for (const n of counts) for (const name of servers) out.push(closedLoopVariant(cell, `${cellLabel(cell)} threads:${n}`, name, where, n, true));
  }
  return out;
}

/** One server in one closed-loop cell, on `threads` threads (`explicit`: the threaded form even for 1, see withThreads). */
function closedLoopVariant(
  cell: EchoCell,
  label: string,
  name: ServerName,
  where: EchoPlacement,
  threads: number | undefined,
  explicit: boolean,
): BenchVariant {
  return serverVariant(
    name,
    label,
    () => startServer(name, where.host, 0, where.serverCpus, where.uringSetup, threads, explicit),
    async (s, durationMs) => {
      const before = exitDescription(s.child);
      if (before) throw new Error(`${name} server died before the run (${before})`);
      const r = await runClients(
        {
          host: s.host,
          port: s.port,
          connections: cell.connections,
          bytes: cell.bytes,
          durationMs,
          warmupMs: CLIENT_RAMP_MS,
          serverPid: s.child.pid,
          cpus: where.clientCpus,
          client: where.client,
        },
        where.clientThreads ?? 1,
      );
      // Give a dying server a moment to be reaped, so its exit is seen here.
      await Bun.sleep(20);
      const after = exitDescription(s.child);
      if (after) throw new Error(`${name} server died during the run (${after}); ${r.notes.join("; ") || "the load generator saw it"}`);
      const m = toMeasurement(r);
      m.notes = [...(m.notes ?? []), ...threadNotes(name, threads)];
      if (s.detail) m.extra = { ...m.extra, setup: s.detail };
      return m;
    },
  );
}

/** One variant per cell that loads an external server at `host:port` (--connect). */
export function connectVariants(
  cells: EchoCell[],
  host: string,
  port: number,
  clientCpus?: readonly number[],
  client?: ClientName,
  clientThreads = 1,
): BenchVariant[] {
  return cells.map((cell) => ({
    name: `${host}:${port}`,
    cell: cellLabel(cell),
    async run(durationMs, ctx) {
      ctx.report(0);
      const r = await runClients(
        { host, port, connections: cell.connections, bytes: cell.bytes, durationMs, warmupMs: CLIENT_RAMP_MS, cpus: clientCpus, client },
        clientThreads,
      );
      return toMeasurement(r);
    },
  }));
}
