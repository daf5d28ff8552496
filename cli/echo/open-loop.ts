/**
 * `echo --rate`: the open-loop regime. Every server is offered the same
 * request rate by the C open-loop client (open-loop-client.ts), and compared
 * on what that load costs it (CPU per round trip, syscalls per round trip)
 * and on latency measured from the intended send time. Three modes:
 *
 * - `--rate 10k,30k`: each rate × server (× cell with `--matrix`), through the
 *   interleaved runner like the closed-loop runs.
 * - `--rate auto --slo p99=1ms`: per server, the highest rate meeting the
 *   objective (slo-search.ts), and the CPU at that rate.
 *
 * A rate the client could not sustain is labelled "client-limited" and says
 * nothing about the server; a rate the server could not sustain is labelled
 * "saturated".
 */
import type { ArrivalKind } from "../harness/arrivals.ts";
import type { RunResult, VariantResult } from "../harness/result.ts";
import { fmtNum, type Rows } from "../harness/rows.ts";
import type { BenchVariant, Measurement } from "../harness/runner.ts";
import { searchMaxRate, type Slo, type SloSearchResult } from "../harness/slo-search.ts";
import { syscallCountingUnavailable } from "../harness/syscalls.ts";
import { runOpenLoopClient, sustainedBy, type ClientLatency, type OpenLoopResult } from "./open-loop-client.ts";
import { exitDescription, startServer, stopServer, type ServerProcess } from "./processes.ts";
import type { ServerName } from "./servers.ts";
import { cellLabel, serverVariant, type EchoCell, type EchoPlacement } from "./variants.ts";

/** Warm-up inside each open-loop client run, before its window: connection buffers, the server's buffer ring. */
export const OPEN_LOOP_RAMP_MS = 1000;

/**
 * Load a freshly started server takes, at the cell's rate, before its first
 * measured run (a separate client run, discarded). Measured here: a fresh
 * Bun server's JIT threads (pinned to the server's core) used ~120 ms of CPU
 * in its first 5 s under load and ~10 ms per 4.5 s after; compiling inside
 * the window preempts the server thread and lands in the tail. C servers get
 * the same warm-up so every server is measured in the same state.
 */
export const SERVER_WARMUP_MS = 3000;

/** How an open-loop echo run is shaped. */
export interface OpenLoopShape {
  arrival: ArrivalKind;
  /** Per-connection cap on unanswered messages (0 = none). */
  maxInflight: number;
  /** Count the server's syscalls with perf during the window. */
  syscalls: boolean;
}

/** Cell label of an open-loop run: the closed-loop cell plus the offered rate. */
export function rateCellLabel(cell: EchoCell, rate: number): string {
  return `${cellLabel(cell)} rate:${rate}`;
}

function pct(l: ClientLatency, prefix: string): Record<string, number> {
  return { [`${prefix}P50Us`]: l.p50, [`${prefix}P90Us`]: l.p90, [`${prefix}P99Us`]: l.p99, [`${prefix}P999Us`]: l.p999, [`${prefix}MaxUs`]: l.max };
}

/** One open-loop client result as the runner's Measurement (corrected latency as the headline). */
export function toOpenLoopMeasurement(r: OpenLoopResult): Measurement {
  const cpu: Measurement["cpu"] = { client: r.clientCpu };
  if (r.serverCpu !== null) cpu.server = r.serverCpu;
  const perRt = (share: number | null) => (share === null || r.repliesInWindow === 0 ? NaN : (share * r.seconds * 1e6) / r.repliesInWindow);
  const perOp = (count: number | null | undefined, seconds: number | undefined) =>
    count === null || count === undefined || !seconds || r.achievedRate <= 0 ? NaN : count / (r.achievedRate * seconds);
  const sustained = sustainedBy(r);
  const notes: string[] = [];
  if (sustained === "client")
    notes.push(
      `client-limited at ${r.requestedRate}/s (fire lag p99 ${fmtNum(r.fireLagUs.p99)} µs, client CPU ${Math.round(r.clientCpu * 100)}%): says nothing about the server`,
    );
  if (sustained === "server") notes.push(`saturated at ${r.requestedRate}/s: achieved ${Math.round(r.achievedRate)}/s, ${r.unanswered} unanswered`);
  return {
    ops: r.repliesInWindow,
    seconds: r.seconds,
    latencyUs: { p50: r.correctedUs.p50, p99: r.correctedUs.p99, p999: r.correctedUs.p999, mean: r.correctedUs.mean },
    cpu,
    errors: r.errors,
    notes,
    extra: {
      requestedRate: r.requestedRate,
      achievedRate: r.achievedRate,
      ...pct(r.correctedUs, "corrected"),
      ...pct(r.uncorrectedUs, "uncorrected"),
      sendLagP99Us: r.sendLagUs.p99,
      fireLagP99Us: r.fireLagUs.p99,
      unanswered: r.unanswered,
      peakInflightPerConnection: r.peakInflightPerConnection,
      serverUsPerRoundTrip: perRt(r.serverCpu),
      clientUsPerRoundTrip: perRt(r.clientCpu),
      syscallsPerRoundTrip: perOp(r.syscalls?.all, r.syscalls?.seconds),
      entersPerRoundTrip: perOp(r.syscalls?.ioUringEnter, r.syscalls?.seconds),
      sustained,
    },
  };
}

async function checkedRun(server: ServerProcess, name: string, fn: () => Promise<OpenLoopResult>): Promise<OpenLoopResult> {
  const before = exitDescription(server.child);
  if (before) throw new Error(`${name} server died before the run (${before})`);
  const r = await fn();
  await Bun.sleep(20);
  const after = exitDescription(server.child);
  if (after) throw new Error(`${name} server died during the run (${after})`);
  return r;
}

/**
 * Variants for every cell × rate × thread count × server: the server starts
 * per cell, rate and count, the client runs per repetition. Without
 * `where.threadCounts` each server runs its one-thread form.
 */
export function openLoopVariants(cells: EchoCell[], rates: number[], servers: ServerName[], where: EchoPlacement, shape: OpenLoopShape): BenchVariant[] {
  const out: BenchVariant[] = [];
  const counts: (number | undefined)[] = where.threadCounts !== undefined && where.threadCounts.length > 0 ? [...where.threadCounts] : [undefined];
  for (const cell of cells) {
    for (const rate of rates) {
      for (const threads of counts) {
        for (const name of servers) out.push(openLoopVariant(cell, rate, threads, name, where, shape));
      }
    }
  }
  return out;
}

/** One server at one rate (and thread count, when given) as a runner variant. */
function openLoopVariant(
  cell: EchoCell,
  rate: number,
  threads: number | undefined,
  name: ServerName,
  where: EchoPlacement,
  shape: OpenLoopShape,
): BenchVariant {
  const label = threads === undefined ? rateCellLabel(cell, rate) : `${rateCellLabel(cell, rate)} threads:${threads}`;
  // The measured window and the server's warm-up differ only in length, ramp and what is counted.
  const client = (s: ServerProcess, durationMs: number, measured: boolean) =>
    runOpenLoopClient({
      host: s.host,
      port: s.port,
      connections: cell.connections,
      bytes: cell.bytes,
      rate,
      durationMs,
      warmupMs: measured ? OPEN_LOOP_RAMP_MS : 0,
      arrival: shape.arrival,
      maxInflight: shape.maxInflight,
      cpus: where.clientCpus,
      ...(measured ? { serverPid: s.child.pid, countSyscalls: shape.syscalls } : {}),
    });
  return serverVariant(
    name,
    label,
    () => startServer(name, where.host, 0, where.serverCpus, where.uringSetup, threads, threads !== undefined),
    async (s, durationMs) => {
      const m = toOpenLoopMeasurement(await checkedRun(s, name, () => client(s, durationMs, true)));
      // The READY line's tail: setup flags and, threaded, the CPU each thread or Worker is pinned to.
      if (s.detail) m.extra = { ...m.extra, setup: s.detail };
      return m;
    },
    async (s) => {
      await checkedRun(s, name, () => client(s, SERVER_WARMUP_MS, false));
    },
  );
}

const num = (v: unknown) => (typeof v === "number" ? fmtNum(v) : "");
const pctOf = (v: number | undefined) => (v === undefined ? "" : `${Math.round(v * 100)}%`);

/** Status word of a row: "ok", "saturated" (the server missed the rate) or "client-limited". */
function status(r: VariantResult): string {
  const s = r.extra?.sustained;
  return s === "client" ? "client-limited" : s === "server" ? "saturated" : r.errors > 0 ? "errors" : "ok";
}

/** The open-loop table rows: per cell, rate and server, latency from intended and actual send times, CPU, syscalls. */
export function openLoopRows(run: RunResult): Rows {
  const rows = run.results.map((r) => {
    const x = r.extra ?? {};
    return [
      r.cell,
      r.variant,
      num(x.achievedRate),
      num(x.correctedP50Us),
      num(x.correctedP90Us),
      num(x.correctedP99Us),
      num(x.correctedP999Us),
      num(x.correctedMaxUs),
      `${num(x.uncorrectedP50Us)} / ${num(x.uncorrectedP99Us)} / ${num(x.uncorrectedP999Us)}`,
      pctOf(r.cpu?.server),
      num(x.serverUsPerRoundTrip),
      pctOf(r.cpu?.client),
      num(x.syscallsPerRoundTrip),
      num(x.entersPerRoundTrip),
      status(r),
    ];
  });
  return {
    head: [
      "cell",
      "server",
      "achieved/s",
      "p50 µs",
      "p90 µs",
      "p99 µs",
      "p99.9 µs",
      "max µs",
      "uncorrected p50/p99/p99.9 µs",
      "server CPU",
      "server CPU µs/rt",
      "client CPU",
      "syscalls/rt",
      "io_uring_enter/rt",
      "status",
    ],
    rows,
  };
}

/** A footnote for the syscall columns: why they are empty, or what they cost. */
export function syscallNote(shape: OpenLoopShape): string {
  if (!shape.syscalls) return "syscalls/rt: not counted (add --syscalls; needs perf)";
  const why = syscallCountingUnavailable();
  return why
    ? `syscalls/rt: missing, ${why}`
    : "syscalls/rt: server's syscalls (all threads) counted by perf stat on raw_syscalls:sys_enter over the window; the tracepoint adds a little CPU to every syscall";
}

/** Latency percentile `p` of an open-loop result (corrected), µs. */
export function correctedPercentile(r: OpenLoopResult, p: number): number {
  if (p <= 50) return r.correctedUs.p50;
  if (p <= 90) return r.correctedUs.p90;
  if (p <= 99) return r.correctedUs.p99;
  if (p <= 99.9) return r.correctedUs.p999;
  if (p <= 99.99) return r.correctedUs.p9999;
  return r.correctedUs.max;
}

/** Options of {@link sloSearchPerServer}. */
export interface SloRun {
  cell: EchoCell;
  servers: ServerName[];
  where: EchoPlacement;
  shape: OpenLoopShape;
  slo: Slo;
  durationMs: number;
  startRate: number;
  maxRate: number;
  bisectSteps: number;
  signal?: AbortSignal;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

/** One server's SLO search as a VariantResult (the rate found as ops/s, the probe at it as the rest). */
export interface SloOutcome {
  server: ServerName;
  search: SloSearchResult<OpenLoopResult & { ok: boolean; clientLimited: boolean }>;
}

/**
 * For each server: start it, search for the highest rate whose corrected
 * percentile meets the objective and whose rate was achieved, stop it.
 * `percentile` values that the C client does not print are rounded up to
 * the next one it does (50, 90, 99, 99.9, 99.99, max).
 */
export async function sloSearchPerServer(run: SloRun): Promise<SloOutcome[]> {
  const out: SloOutcome[] = [];
  for (const name of run.servers) {
    const server = await startServer(name, run.where.host, 0, run.where.serverCpus, run.where.uringSetup);
    try {
      await runOpenLoopClient({
        host: server.host,
        port: server.port,
        connections: run.cell.connections,
        bytes: run.cell.bytes,
        rate: run.startRate,
        durationMs: SERVER_WARMUP_MS,
        warmupMs: 0,
        arrival: run.shape.arrival,
        maxInflight: run.shape.maxInflight,
        cpus: run.where.clientCpus,
      });
      const sloProbe = (rate: number) => sloProbeFor(server, name, rate);
      const search = await searchMaxRate({
        startRate: run.startRate,
        maxRate: run.maxRate,
        bisectSteps: run.bisectSteps,
        signal: run.signal,
        probe: async (rate) => {
          const first = await sloProbe(rate);
          // A shared machine has bursts: a miss (or a client that fell behind) is confirmed by a second run before it bounds the search.
          return first.ok ? first : sloProbe(rate);
        },
      });
      out.push({ server: name, search });
    } finally {
      await stopServer(server);
    }
  }
  return out;

  async function sloProbeFor(server: ServerProcess, name: ServerName, rate: number): Promise<OpenLoopResult & { ok: boolean; clientLimited: boolean }> {
    const r = await checkedRun(server, name, () =>
      runOpenLoopClient({
        host: server.host,
        port: server.port,
        connections: run.cell.connections,
        bytes: run.cell.bytes,
        rate,
        durationMs: run.durationMs,
        warmupMs: OPEN_LOOP_RAMP_MS,
        arrival: run.shape.arrival,
        maxInflight: run.shape.maxInflight,
        serverPid: server.child.pid,
        cpus: run.where.clientCpus,
        countSyscalls: run.shape.syscalls,
      }),
    );
    const who = sustainedBy(r);
    const value = correctedPercentile(r, run.slo.p);
    const ok = who === "ok" && r.errors === 0 && value <= run.slo.boundUs;
    run.log?.(
      `  ${name} @ ${rate}/s: p${run.slo.p} ${fmtNum(value)} µs, achieved ${Math.round(r.achievedRate)}/s${who === "ok" ? "" : ` (${who === "client" ? "client-limited" : "saturated"})`} → ${ok ? "meets" : "misses"} ${run.slo.text}`,
    );
    return Object.assign(r, { ok, clientLimited: who === "client" });
  }
}

/** SLO outcomes as VariantResults, so --json/--save keep them with their context. */
export function sloResults(outcomes: SloOutcome[], cell: EchoCell, slo: Slo): VariantResult[] {
  return outcomes.map(({ server, search }) => {
    const best = search.best;
    const m = best ? toOpenLoopMeasurement(best) : undefined;
    const notes = [
      `SLO ${slo.text}: ${search.outcome}; ${search.probes.length} probes (${search.probes.map((p) => `${p.rate}${p.result.ok ? "✓" : "✗"}`).join(" ")})`,
    ];
    return {
      variant: server,
      cell: `${cellLabel(cell)} slo:${slo.text}`,
      opsPerSec: search.rate,
      repetitions: [search.rate],
      latencyUs: m?.latencyUs,
      cpu: m?.cpu,
      errors: best?.errors ?? 0,
      notes: [...notes, ...(m?.notes ?? [])],
      extra: { ...(m?.extra ?? {}), sloRate: search.rate, sloOutcome: search.outcome, sloPercentileUs: best ? correctedPercentile(best, slo.p) : NaN },
    };
  });
}

/** The SLO table: per server, the highest rate meeting the objective and the CPU at it. */
export function sloRows(results: VariantResult[], slo: Slo): Rows {
  return {
    head: ["server", `max rate meeting ${slo.text} /s`, `p${slo.p} at it µs`, "server CPU", "server CPU µs/rt", "client CPU", "search"],
    rows: results.map((r) => {
      const x = r.extra ?? {};
      const outcome = String(x.sloOutcome ?? "");
      return [
        r.variant,
        outcome === "client-limited" ? `≥ ${r.opsPerSec} (client-limited)` : outcome === "ceiling" ? `≥ ${r.opsPerSec} (ceiling)` : String(r.opsPerSec),
        num(x.sloPercentileUs),
        pctOf(r.cpu?.server),
        num(x.serverUsPerRoundTrip),
        pctOf(r.cpu?.client),
        outcome,
      ];
    }),
  };
}

/** The lines under the open-loop tables: what the latency columns mean, the syscall column's source. (Per-row notes are shown by finishRun.) */
export function openLoopLines(run: RunResult, shape: OpenLoopShape): string[] {
  return [
    `latency: corrected (from the intended send time, ${shape.arrival} arrivals) unless marked uncorrected (from the actual send time); ` +
      `max in flight per connection: ${shape.maxInflight === 0 ? "no cap" : shape.maxInflight}; server CPU ${run.options.serverCpus ?? "-"}, client CPU ${run.options.clientCpus ?? "-"}`,
    syscallNote(shape),
  ];
}
