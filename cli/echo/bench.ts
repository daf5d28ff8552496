/**
 * `echo` as a benchmark: every server (or one --connect target) under every
 * cell, interleaved through the shared runner, then the shared output with
 * the efficiency table. With io_uring switched off, the servers that need it
 * are reported with the reason and the load generator is the C epoll client,
 * so the baselines (bun, node, c-epoll) still run.
 */
import { setupFlagNames, setupFlagsFor } from "../../src/ring/setup.ts";
import { defaultServerClientCpus } from "../harness/affinity.ts";
import { interruptSignal } from "../harness/children.ts";
import { exitCodeFor } from "../harness/exit-codes.ts";
import { findNodeBinary } from "../harness/node-version.ts";
import { OptionError } from "../harness/option-error.ts";
import { checkBaseline, type CommonSettings } from "../harness/options.ts";
import { buildRun, checkOutputPaths, finishRun } from "../harness/output.ts";
import { runCommandVariants, type BenchVariant } from "../harness/runner.ts";
import { uringUnavailable } from "../harness/uring-check.ts";
import { efficiencyRows } from "./efficiency.ts";
import { echoScope, type EchoOpts } from "./flags.ts";
import { C_CLIENT_PATH, SERVERS, URING_SERVERS, type ClientName } from "./servers.ts";
import { URING_SETUPS } from "./setups.ts";
import { checkThreads, threadPlan } from "./threads.ts";
import { CLIENT_RAMP_MS, cellLabel, connectVariants, markClientBound, serverVariants } from "./variants.ts";
import { existsSync } from "node:fs";

/** Where things run: server and client CPUs, and why (a one-CPU machine shares). */
interface Layout {
  serverCpus: number[];
  clientCpus: number[];
  note?: string;
}

/**
 * The load generator to use: ours needs io_uring, so with io_uring off the C
 * epoll client stands in (said on stderr); an explicit --client uring then fails clearly.
 */
function pickClient(raw: EchoOpts, uringOff: string | null, explicitClient: boolean, quiet: boolean): ClientName {
  if (raw.client !== "uring" || uringOff === null) return raw.client;
  if (explicitClient) throw new OptionError(`--client uring needs io_uring, which is unavailable here: ${uringOff}`, "no-uring");
  if (!existsSync(C_CLIENT_PATH)) {
    throw new OptionError(
      `io_uring is unavailable (${uringOff}) and the C epoll load generator ${C_CLIENT_PATH} is not built: run "npm run build:shim".`,
      "no-uring",
    );
  }
  if (!quiet) process.stderr.write(`echo: io_uring is unavailable, so the load generator is the C epoll client (--client c-epoll): ${uringOff}\n`);
  return "c-epoll";
}

/** Runs the echo benchmark, prints it, and sets the exit code. `explicitClient`: --client was given. */
export async function runEchoBench(raw: EchoOpts, settings: CommonSettings, explicitClient: boolean): Promise<void> {
  const layout0 = defaultServerClientCpus();
  const layout: Layout = { serverCpus: raw.serverCpu ?? layout0.server, clientCpus: raw.clientCpu ?? layout0.client, note: layout0.note };
  const { cells, servers, usable } = echoScope(raw);
  // --threads / --client-threads (cli/echo/threads.ts): checked before anything starts.
  const plan = threadPlan(raw.threads as number[] | undefined);
  const threads = plan.threads;
  const clientThreads = (raw.clientThreads as number | undefined) ?? 1;
  if (!raw.connect) checkThreads(usable, threads, plan.counts !== undefined);
  const names = raw.connect ? [`${raw.connect.host}:${raw.connect.port}`] : usable;
  checkBaseline(settings.baseline, names);
  checkOutputPaths(settings);
  // Looked up now, so the saved context names the node that ran the node server.
  if (usable.includes("node") && !raw.connect) findNodeBinary();
  const uringOff = uringUnavailable();
  const client = pickClient(raw, uringOff, explicitClient, settings.quiet);
  if (!raw.connect && !settings.quiet) {
    for (const s of servers) if (!usable.includes(s)) process.stderr.write(`echo: skipping ${s}: ${SERVERS[s].unavailable()}\n`);
  }
  const variants = raw.connect
    ? connectVariants(cells, raw.connect.host, raw.connect.port, layout.clientCpus, client, clientThreads)
    : serverVariants(cells, usable, {
        host: raw.host,
        serverCpus: layout.serverCpus,
        clientCpus: layout.clientCpus,
        uringSetup: raw.uringSetup,
        client,
        threads,
        threadCounts: plan.counts,
        clientThreads,
      });
  if (uringOff !== null) for (const v of variants) if ((URING_SERVERS as readonly string[]).includes(v.name)) failSetup(v, uringOff);
  const perRun = settings.durationMs + CLIENT_RAMP_MS + 500;
  const totalMs = variants.length * (settings.repeat * perRun + (settings.warmupMs > 0 ? settings.warmupMs + CLIENT_RAMP_MS + 500 : 0));
  if (!settings.quiet && !settings.json) {
    process.stderr.write(
      `echo: ${cells.map(cellLabel).join(" | ")}; ${names.join(", ")}; ${settings.repeat}× ${settings.durationMs} ms each, interleaved; ` +
        `server CPU ${raw.connect ? "-" : layout.serverCpus.join(",")}, client CPU ${layout.clientCpus.join(",")}` +
        (layout.note ? ` (${layout.note})` : "") +
        ` (~${Math.ceil(totalMs / 1000)} s)\n`,
    );
  }
  const signal = interruptSignal();
  const results = await runCommandVariants(variants, { ...settings, quiet: settings.quiet || settings.json === true }, signal, totalMs);
  markClientBound(results);
  const baseline = settings.baseline ?? (!raw.connect && usable.includes("bun") ? "bun" : undefined);
  const options = {
    cells: cells.map(cellLabel),
    servers: raw.connect ? [] : usable,
    connect: raw.connect ? `${raw.connect.host}:${raw.connect.port}` : undefined,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    repeat: settings.repeat,
    serverCpus: layout.serverCpus,
    clientCpus: layout.clientCpus,
    baseline,
    driver: "run-loop",
    uringSetup: raw.uringSetup,
    threads: plan.counts ?? threads,
    clientThreads,
    client,
  };
  const ringFlags = setupFlagNames(setupFlagsFor(URING_SETUPS[raw.uringSetup] ?? {}));
  const run = buildRun("echo", options, results, ringFlags, signal.aborted);
  finishRun(run, { ...settings, baseline }, { tables: [efficiencyRows(run)] });
  process.exitCode = exitCodeFor(run);
}

/** A variant that cannot run here: its setup fails with `why`, so its row says so and the others run. */
function failSetup(v: BenchVariant, why: string): void {
  v.setup = () => {
    throw new Error(`io_uring is unavailable: ${why}`);
  };
}
