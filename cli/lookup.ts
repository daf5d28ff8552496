/**
 * `uring-bench lookup`: Uring inside a real Bun server. A Bun.serve app
 * answers `GET /lookup?pages=a,b,c` with the checksum of K random 4 KiB
 * pages of a large file (RocksDB MultiGet's pattern: batched random page
 * reads per request), reading them with Uring (one submission for the K
 * reads), node:fs/promises, Bun.file().slice() or a readSync loop. The
 * server runs in its own process pinned to --server-cpu, the load generator
 * (ours, which checks every checksum, or wrk) pinned to --client-cpu.
 *
 *   uring-bench lookup --keys 1,8 -c 64
 *   uring-bench lookup --keys 8 --cache warm,direct --client ours,wrk
 */
import { Command, Option } from "commander";
import { ARRIVAL_KINDS, parseRate, type ArrivalKind } from "./harness/arrivals.ts";
import { cpuCount, defaultServerClientCpus } from "./harness/affinity.ts";
import { installInterruptHandlers, interruptSignal } from "./harness/children.ts";
import { EXIT_CODES_HELP, exitCodeFor } from "./harness/exit-codes.ts";
import { addCommonOptions, checkBaseline, choiceList, commonSettings, cpuList, intList } from "./harness/options.ts";
import { OptionError } from "./harness/option-error.ts";
import { buildRun, checkOutputPaths, finishRun } from "./harness/output.ts";
import type { RunResult } from "./harness/result.ts";
import { fmtNum, type Rows } from "./harness/rows.ts";
import { runCommandVariants } from "./harness/runner.ts";
import { parseSize } from "./harness/size.ts";
import { prepareTarget } from "./read/target.ts";
import { MAX_KEYS, PAGE } from "./lookup/pages.ts";
import { wrkPath } from "./lookup/processes.ts";
import { ALL_VARIANT_NAMES, EXTRA_NAMES, PROFILE_NAMES, VARIANT_NAMES, type VariantName } from "./lookup/readers.ts";
import { cellLabel, lookupVariant, type CacheState, type ClientKind, type LookupCell } from "./lookup/variants.ts";

/** `--rate 1000,2k`: each item through the open-loop rate parser. */
function rateList(value: string): number[] {
  try {
    return value.split(",").map((v) => parseRate(v.trim()));
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
}

interface LookupOpts {
  keys: number[];
  connections: number[];
  cache: CacheState[];
  variants?: VariantName[];
  client: ClientKind[];
  rate?: number[];
  arrival: ArrivalKind;
  size: string;
  file?: string;
  dir?: string;
  serverCpu?: number[];
  clientCpu?: number[];
  [k: string]: unknown;
}

/** Server CPU and io_uring enters per request: where a variant's cost shows when the machine is shared. */
export function lookupEfficiencyRows(run: RunResult): Rows {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? fmtNum(v) : "");
  const rows = run.results.map((r) => [
    r.cell,
    r.variant,
    num(r.extra?.serverUsPerReq),
    num(r.extra?.entersPerReq),
    num(r.cpu?.server),
    num(r.cpu?.client),
    num(r.extra?.uncorrectedP99Us),
    num(r.extra?.sendLagP99Us),
  ]);
  const head = ["cell", "variant", "server CPU µs/req", "enters/req", "server CPU", "client CPU", "p99 from send µs", "send lag p99 µs"];
  // The last two are open-loop only (--rate): p99 from the actual send, and how late sends left.
  const open = run.results.some((r) => r.extra?.sendLagP99Us !== undefined);
  return open ? { head, rows } : { head: head.slice(0, 6), rows: rows.map((r) => r.slice(0, 6)) };
}

/** The `lookup` subcommand. */
export function lookupCommand(): Command {
  const ncpu = cpuCount();
  const cmd = addCommonOptions(new Command("lookup"), { durationMs: 2000, warmupMs: 500, repeat: 3 })
    .description("Uring inside a Bun.serve app: K random 4 KiB page reads per HTTP request vs fs/promises, Bun.file and readSync")
    .option("-k, --keys <list>", `pages per request, comma-separated (1..${MAX_KEYS})`, intList("--keys"), [1, 8])
    .option("-c, --connections <list>", "keep-alive connections, each with one request in flight, comma-separated", intList("-c/--connections"), [64])
    .option(
      "--cache <list>",
      "warm (buffered, file read beforehand) and/or direct (O_DIRECT: every read from the device)",
      choiceList("--cache", ["warm", "direct"]),
      ["warm"],
    )
    .option(
      "--variants <list>",
      `servers to compare: ${VARIANT_NAMES.join(",")} (default: all of them); on request: ${EXTRA_NAMES.join(",")}; profile: ${PROFILE_NAMES.join(",")}`,
      choiceList("--variants", ALL_VARIANT_NAMES),
    )
    .option(
      "--client <list>",
      "load generators: ours (checks every checksum) and/or wrk (the independent second client)",
      choiceList("--client", ["ours", "wrk"]),
      ["ours"],
    )
    .option("--rate <list>", "open loop: requests/s over all connections, comma-separated (e.g. 1000,2k); latency from the intended send time", rateList)
    .addOption(new Option("--arrival <kind>", "open-loop spacing").choices([...ARRIVAL_KINDS]).default("uniform"))
    .option("--size <size>", "size of the generated file (make it larger than memory for a cold cache without --cache direct)", "512m")
    .option("--file <path>", "read this pattern file (from `read --keep`) instead of generating one")
    .option("--dir <dir>", "where to generate the file")
    .option("--server-cpu <cpus>", "CPUs of each server process (default 0)", cpuList("--server-cpu", ncpu))
    .option("--client-cpu <cpus>", "CPUs of the load generator (default 1)", cpuList("--client-cpu", ncpu));
  cmd.addHelpText(
    "after",
    "\nEvery answer of our load generator is checked against the checksum computed from the pages it asked for.\n" +
      "Variants run interleaved per cell (A B C D A B C D ...); the efficiency table gives server CPU and io_uring enters per request.\n\n" +
      EXIT_CODES_HELP,
  );
  return cmd.action(async (raw: LookupOpts) => {
    const settings = commonSettings(raw);
    for (const k of raw.keys) if (k < 1 || k > MAX_KEYS) throw new OptionError(`--keys ${k}: a request reads 1 to ${MAX_KEYS} pages.`);
    const size = parseSize("--size", raw.size, { min: PAGE * 1024 });
    const clients = raw.client as ClientKind[];
    if (raw.rate !== undefined && clients.includes("wrk"))
      throw new OptionError("--rate runs with our client only: wrk has no fixed-rate mode (that is wrk2).");
    if (clients.includes("wrk") && wrkPath() === null) throw new OptionError("--client wrk: wrk is not installed (apt-get install -y wrk).");
    const direct = raw.cache.includes("direct");
    const servers = (raw.variants ?? [...VARIANT_NAMES]) as VariantName[];
    checkBaseline(settings.baseline, servers);
    checkOutputPaths(settings);
    const layout = defaultServerClientCpus();
    const serverCpus = raw.serverCpu ?? layout.server;
    const clientCpus = raw.clientCpu ?? layout.client;
    installInterruptHandlers();
    const target = prepareTarget({ file: raw.file, size, dir: raw.dir, bs: PAGE, direct, keep: false });
    try {
      if (!target.hasPattern) throw new OptionError(`${target.path} does not hold the read pattern: generate one (omit --file) so answers can be checked.`);
      const pageCount = Math.floor(target.size / PAGE);
      const ctx = { path: target.path, pageCount, host: "127.0.0.1", serverCpus, clientCpus, arrival: raw.arrival };
      const cells: LookupCell[] = [];
      const rates: Array<number | undefined> = raw.rate ?? [undefined];
      for (const cache of raw.cache)
        for (const keys of raw.keys) for (const connections of raw.connections) for (const rate of rates) cells.push({ keys, connections, cache, rate });
      const variants = cells.flatMap((cell) =>
        servers
          // Bun.file has no O_DIRECT: the direct cells run without it.
          .filter((s) => !(cell.cache === "direct" && s === "bun-file"))
          .flatMap((s) => clients.map((cl) => lookupVariant(cell, s, cl, ctx))),
      );
      const totalMs = variants.length * (settings.warmupMs + settings.repeat * (settings.durationMs + 400) + 1000);
      if (!settings.quiet && settings.json !== true) {
        process.stderr.write(
          `lookup: ${cells.map(cellLabel).join(" | ")}; ${servers.join(", ")}; file ${target.size >> 20} MiB; ` +
            `server CPU ${serverCpus.join(",")}, client CPU ${clientCpus.join(",")}${layout.note ? ` (${layout.note})` : ""} (~${Math.ceil(totalMs / 1000)} s)\n`,
        );
      }
      const signal = interruptSignal();
      const results = await runCommandVariants(variants, { ...settings, quiet: settings.quiet || settings.json === true }, signal, totalMs);
      const baseline = settings.baseline ?? "sync-pread";
      const run = buildRun(
        "lookup",
        {
          keys: raw.keys,
          connections: raw.connections,
          cache: raw.cache,
          rate: raw.rate,
          arrival: raw.rate ? raw.arrival : undefined,
          variants: servers,
          client: clients,
          fileSize: target.size,
          serverCpus,
          clientCpus,
          baseline,
          driver: "event-loop",
          durationMs: settings.durationMs,
          repeat: settings.repeat,
        },
        results,
        undefined,
        signal.aborted,
      );
      finishRun(run, { ...settings, baseline }, { tables: [lookupEfficiencyRows(run)] });
      process.exitCode = exitCodeFor(run);
    } finally {
      target.cleanup();
    }
  });
}
