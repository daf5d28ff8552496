/**
 * The `echo --rate` action: parses the open-loop flags' values, runs the
 * fixed-rate comparison or the SLO search, and writes the result like every
 * other run (finishRun: --json, --markdown, --save), followed by the
 * open-loop table. cli/echo.ts hands over here when --rate is given.
 */
import type { Command } from "commander";
import { OptionError } from "../harness/option-error.ts";
import { setupFlagNames, setupFlagsFor } from "../../src/ring/setup.ts";
import { defaultServerClientCpus } from "../harness/affinity.ts";
import { parseRate, ARRIVAL_KINDS, type ArrivalKind } from "../harness/arrivals.ts";
import { interruptSignal } from "../harness/children.ts";
import type { CommonSettings } from "../harness/options.ts";
import { buildRun, finishRun } from "../harness/output.ts";
import { exitCodeFor } from "../harness/exit-codes.ts";
import { runCommandVariants } from "../harness/runner.ts";
import { parseSlo, type Slo } from "../harness/slo-search.ts";
import { openLoopClientUnavailable } from "./open-loop-client.ts";
import {
  OPEN_LOOP_RAMP_MS,
  SERVER_WARMUP_MS,
  openLoopLines,
  openLoopRows,
  openLoopVariants,
  sloResults,
  sloRows,
  sloSearchPerServer,
  type OpenLoopShape,
} from "./open-loop.ts";
import type { ServerName } from "./servers.ts";
import { URING_SETUPS } from "./setups.ts";
import { cellLabel, type EchoCell, type EchoPlacement } from "./variants.ts";
import { echoScope, type EchoOpts } from "./flags.ts";
import { checkThreads } from "./threads.ts";

/** First rate the SLO search tries, /s. */
export const SLO_START_RATE = 5000;
/** The SLO search never offers more than this, /s (far above what one core serves here). */
export const SLO_MAX_RATE = 400_000;
/** Bisection steps after bracketing: 5 halvings of a doubling bracket land within ~3%. */
export const SLO_BISECT_STEPS = 5;

/** `--rate` value: a list of rates, or "auto" (search, needs --slo). */
export type RateSpec = number[] | "auto";

/** Parses `--rate 30000`, `--rate 10k,30k`, `--rate auto`. */
export function parseRateSpec(value: string): RateSpec {
  if (value.trim().toLowerCase() === "auto") return "auto";
  try {
    return value.split(",").map((v) => parseRate(v, "--rate"));
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
}

/** Parses `--arrival`. */
export function parseArrival(value: string): ArrivalKind {
  if (!(ARRIVAL_KINDS as readonly string[]).includes(value)) throw new OptionError(`--arrival takes ${ARRIVAL_KINDS.join(" or ")}, got "${value}".`);
  return value as ArrivalKind;
}

/** Parses `--slo`. */
export function parseSloFlag(value: string): Slo {
  try {
    return parseSlo(value);
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
}

/** What the echo command hands over. */
export interface OpenLoopEchoRun {
  rate: RateSpec;
  slo?: Slo;
  shape: OpenLoopShape;
  cells: EchoCell[];
  servers: ServerName[];
  where: EchoPlacement;
  settings: CommonSettings;
  ringFlags: string[];
}

/** Runs `echo --rate ...` to the end (tables, files). */
export async function runOpenLoopEcho(o: OpenLoopEchoRun): Promise<void> {
  const why = openLoopClientUnavailable();
  if (why) throw new OptionError(`--rate: ${why}`);
  if (o.where.client && o.where.client !== "uring" && o.where.client !== "c-epoll")
    throw new OptionError("--rate uses the C open-loop client; --client does not apply");
  const { settings } = o;
  const log = (s: string) => {
    if (!settings.quiet && settings.json !== true) process.stderr.write(`${s}\n`);
  };
  const options = {
    cells: o.cells.map(cellLabel),
    servers: o.servers,
    rates: o.rate,
    slo: o.slo?.text,
    arrival: o.shape.arrival,
    maxInflight: o.shape.maxInflight,
    syscalls: o.shape.syscalls,
    durationMs: settings.durationMs,
    warmupMs: OPEN_LOOP_RAMP_MS,
    repeat: settings.repeat,
    serverCpus: o.where.serverCpus,
    clientCpus: o.where.clientCpus,
    uringSetup: o.where.uringSetup,
    threads: o.where.threadCounts,
    client: "c-openloop",
    regime: "open-loop",
  };
  if (o.rate === "auto") {
    if (!o.slo) throw new OptionError("--rate auto needs --slo, e.g. --slo p99=1ms");
    if (o.where.threadCounts !== undefined) throw new OptionError("--rate auto searches the one-thread servers: leave out --threads, or give fixed rates");
    if (o.cells.length !== 1) throw new OptionError("--rate auto runs one cell: leave out --matrix");
    const cell = o.cells[0]!;
    log(`echo: SLO search ${o.slo.text}, ${cellLabel(cell)}, ${o.servers.join(", ")}; ${settings.durationMs} ms per probe, up to ${SLO_MAX_RATE}/s`);
    const outcomes = await sloSearchPerServer({
      cell,
      servers: o.servers,
      where: o.where,
      shape: o.shape,
      slo: o.slo,
      durationMs: settings.durationMs,
      startRate: SLO_START_RATE,
      maxRate: SLO_MAX_RATE,
      bisectSteps: SLO_BISECT_STEPS,
      signal: interruptSignal(),
      log,
    });
    const results = sloResults(outcomes, cell, o.slo);
    const run = buildRun("echo", options, results, o.ringFlags, interruptSignal().aborted);
    finishRun(run, settings, { tables: [sloRows(results, o.slo)], lines: openLoopLines(run, o.shape) });
    process.exitCode = exitCodeFor(run);
    return;
  }
  if (o.slo) throw new OptionError("--slo goes with --rate auto");
  const variants = openLoopVariants(o.cells, o.rate, o.servers, o.where, o.shape);
  const perRun = settings.durationMs + OPEN_LOOP_RAMP_MS + 1000;
  const totalMs = variants.length * (settings.repeat * perRun + SERVER_WARMUP_MS + 3500);
  log(
    `echo open loop: ${o.cells.map(cellLabel).join(" | ")} at ${o.rate.join(", ")}/s (${o.shape.arrival}); ${o.servers.join(", ")}; ${settings.repeat}× ${settings.durationMs} ms (~${Math.ceil(totalMs / 1000)} s)`,
  );
  const signal = interruptSignal();
  // The client warms up inside every run (OPEN_LOOP_RAMP_MS); a separate warm-up run adds nothing.
  const timing = { ...settings, warmupMs: 0, quiet: settings.quiet || settings.json === true };
  const results = await runCommandVariants(variants, timing, signal, totalMs);
  const run = buildRun("echo", options, results, o.ringFlags, signal.aborted);
  finishRun(run, settings, { tables: [openLoopRows(run)], lines: openLoopLines(run, o.shape) });
  process.exitCode = exitCodeFor(run);
}

/** Adds the open-loop flags to the echo command. */
export function addOpenLoopOptions(cmd: Command): Command {
  return cmd
    .option("--rate <list|auto>", "open loop: offered requests/s (e.g. 30k or 10k,30k), or auto with --slo; uses the C open-loop client", parseRateSpec)
    .option("--arrival <kind>", "open loop: uniform or poisson arrivals", parseArrival, "uniform")
    .option("--slo <pN=bound>", "with --rate auto: the latency objective, e.g. p99=1ms or p99.9=500us", parseSloFlag)
    .option("--max-inflight <n>", "open loop: unanswered messages per connection before sends wait (0 = no cap)", parseMaxInflight, 0)
    .option("--syscalls", "open loop: count the server's syscalls per round trip with perf");
}

function parseMaxInflight(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new OptionError(`--max-inflight takes a count (0 = no cap), got "${value}".`);
  return n;
}

/** The echo options this mode reads: a subset of the echo command's, and the open-loop ones. */
export interface OpenLoopEchoFlags
  extends Pick<EchoOpts, "connections" | "bytes" | "servers" | "matrix" | "serverCpu" | "clientCpu" | "host" | "connect" | "uringSetup"> {
  /** --threads: counts to compare (a cell each); absent: the one-thread servers. */
  threads?: number[];
  rate?: RateSpec;
  arrival?: ArrivalKind;
  slo?: Slo;
  maxInflight?: number;
  syscalls?: boolean;
}

/** Entry from the echo command's action when --rate is given. */
export async function runOpenLoopFromEcho(raw: OpenLoopEchoFlags, settings: CommonSettings): Promise<void> {
  if (raw.rate === undefined) throw new OptionError("open loop needs --rate");
  if (raw.connect) throw new OptionError("--rate drives our servers with the C open-loop client; --connect is closed-loop only.");
  const layout = defaultServerClientCpus();
  const { cells, usable } = echoScope(raw);
  if (raw.threads !== undefined) checkThreads(usable, Math.max(...raw.threads), true);
  await runOpenLoopEcho({
    rate: raw.rate,
    slo: raw.slo,
    shape: { arrival: raw.arrival ?? "uniform", maxInflight: raw.maxInflight ?? 0, syscalls: raw.syscalls === true },
    cells,
    servers: usable,
    where: {
      host: raw.host,
      serverCpus: raw.serverCpu ?? layout.server,
      clientCpus: raw.clientCpu ?? layout.client,
      uringSetup: raw.uringSetup,
      threadCounts: raw.threads,
    },
    settings,
    ringFlags: setupFlagNames(setupFlagsFor(URING_SETUPS[raw.uringSetup] ?? {})),
  });
}
