/**
 * `uring-bench echo`: TCP echo round trips on loopback. Servers (uring,
 * uring-sqpoll, bun, node, c-epoll, c-uring) each run in their own process pinned to
 * --server-cpu; the load generator (our ring) runs pinned to --client-cpu.
 * Output: the seed-style grid (cells × servers, round trips/s), the detail
 * table (latency, CPU of each side, errors, ratio to bun).
 *
 *   uring-bench echo -c 1000 -b 512
 *   uring-bench echo --matrix --repeat 3
 *   uring-bench echo --serve --server uring --port 9000     # server only
 *   uring-bench echo --connect 127.0.0.1:9000 -c 500        # client only
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { defaultServerClientCpus, cpuCount } from "./harness/affinity.ts";
import { interruptSignal, installInterruptHandlers } from "./harness/children.ts";
import { addCommonOptions, choiceList, commonSettings, cpuList } from "./harness/options.ts";
import { buildRun, finishRun } from "./harness/output.ts";
import { createProgress } from "./harness/progress.ts";
import { RunAborted, runInterleaved } from "./harness/runner.ts";
import { exitDescription, startServer } from "./echo/processes.ts";
import { CLIENT_NAMES, SERVER_NAMES, SERVERS, type ClientName, type ServerName } from "./echo/servers.ts";
import { DEFAULT_URING_SETUP, URING_SETUPS } from "./echo/setups.ts";
import { CLIENT_RAMP_MS, cellLabel, connectVariants, markClientBound, matrixCells, serverVariants, type EchoCell } from "./echo/variants.ts";
import { ensureFdLimit } from "../src/net/limits.ts";
import { setupFlagNames, setupFlagsFor } from "../src/ring/setup.ts";
import { drawTable } from "./harness/render-table.ts";
import { fmtNum } from "./harness/rows.ts";
import type { RunResult } from "./harness/result.ts";
import { parseHostPort, parseIpv4 } from "../src/ops/sockaddr.ts";

/** Largest message: the load generator keeps one per connection in memory, and echo is about round trips. */
export const MAX_BYTES = 1 << 20;

/** Parses a positive integer for `flag` ("-c/--connections"), with an optional upper bound. */
function intFlag(flag: string, max = Number.MAX_SAFE_INTEGER, what = "a positive integer"): (v: string) => number {
  return (value: string) => {
    const m = /^\s*(\d+)\s*([kKmM])?\s*$/.exec(value);
    const n = m ? Number(m[1]) * (m[2] ? (m[2].toLowerCase() === "k" ? 1024 : 1024 * 1024) : 1) : NaN;
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes ${what}, got "${value}".`);
    if (n > max) throw new InvalidArgumentError(`${flag} ${value} is too large: at most ${max}.`);
    return n;
  };
}

/** The host must be a loopback address: this benchmark never leaves the machine. */
function loopbackHost(value: string): string {
  let octets: number[];
  try {
    octets = parseIpv4(value);
  } catch (err) {
    throw new InvalidArgumentError(`--host: ${(err as Error).message}`);
  }
  if (octets[0] !== 127) throw new InvalidArgumentError(`--host ${value}: echo runs on loopback only; use 127.0.0.1.`);
  return value === "localhost" ? "127.0.0.1" : value;
}

function connectTarget(value: string): { host: string; port: number } {
  let t: { host: string; port: number };
  try {
    t = parseHostPort(value, "--connect");
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  loopbackHost(t.host);
  return t;
}

interface EchoOpts {
  connections: number;
  bytes: number;
  servers?: ServerName[];
  matrix?: boolean;
  serverCpu?: number[];
  clientCpu?: number[];
  serve?: boolean;
  server?: ServerName;
  port?: number;
  host: string;
  connect?: { host: string; port: number };
  uringSetup: string;
  client: ClientName;
  [k: string]: unknown;
}

/**
 * CPU per round trip on each side, and io_uring_enter calls per round trip of
 * the load generator: on a shared machine these hold steadier than round
 * trips/s, since other tenants' load slows both sides without changing them.
 */
export function renderEfficiency(run: RunResult): string {
  const num = (v: unknown) => (typeof v === "number" ? fmtNum(v) : "");
  const rows = run.results.map((r) => [
    r.cell,
    r.variant,
    num(r.extra?.serverUsPerRoundTrip),
    num(r.extra?.clientUsPerRoundTrip),
    num(r.extra?.entersPerRoundTrip),
    typeof r.extra?.setup === "string" ? r.extra.setup : "",
  ]);
  return drawTable({ head: ["cell", "variant", "server CPU µs/rt", "client CPU µs/rt", "client enters/rt", "ring setup"], rows });
}

/** The `echo` subcommand. */
export function echoCommand(): Command {
  const ncpu = cpuCount();
  const cmd = new Command("echo")
    .description("TCP echo round trips on loopback: io_uring servers vs Bun.listen, node:net and C epoll")
    .option("-c, --connections <n>", "connections, each with one message in flight", intFlag("-c/--connections"), 1000)
    .option("-b, --bytes <n>", "message size in bytes (at most 1 MiB)", intFlag("-b/--bytes", MAX_BYTES, "a message size from 1 byte to 1 MiB (1m)"), 512)
    .option("--servers <list>", `servers to compare, comma-separated (${SERVER_NAMES.join(", ")})`, choiceList("--servers", SERVER_NAMES) as (v: string) => ServerName[])
    .option("--matrix", "the seed grid: c 300/500/1000/2000 × bytes 128/512/1000 (overrides -c and -b)")
    .option("--server-cpu <cpus>", "CPUs for each server process (default 0)", cpuList("--server-cpu", ncpu))
    .option("--client-cpu <cpus>", "CPUs for the load generator (default 1)", cpuList("--client-cpu", ncpu))
    .addOption(
      new Option("--uring-setup <name>", "ring setup of the uring server: defer (DEFER_TASKRUN+SINGLE_ISSUER), coop (COOP_TASKRUN), none")
        .choices(Object.keys(URING_SETUPS).filter((k) => k !== "sqpoll"))
        .default(DEFAULT_URING_SETUP),
    )
    .addOption(
      new Option("--client <name>", "load generator: uring (ours, on io_uring) or c-epoll (the C reference, to check ours is not the limit)")
        .choices([...CLIENT_NAMES])
        .default("uring"),
    )
    .option("--serve", "run one server only (with --server and --port) until Ctrl-C")
    .addOption(new Option("--server <name>", "the server --serve runs").choices([...SERVER_NAMES]).default("uring"))
    .option("--port <port>", "port for --serve", intFlag("--port", 65535, "a TCP port from 1 to 65535"))
    .option("--host <ip>", "loopback address to use", loopbackHost, "127.0.0.1")
    .option("--connect <host:port>", "run the load generator only, against any echo server", connectTarget);
  addCommonOptions(cmd);
  cmd.addHelpText(
    "after",
    `\nServers:\n${SERVER_NAMES.map((n) => `  ${n.padEnd(13)} ${SERVERS[n].describe}`).join("\n")}\n\n` +
      "Each repetition runs a fresh load generator: connect, warm up, measure. --repeat runs servers interleaved\n" +
      "(A B C A B C) and reports the median and spread. A row whose load generator was over 90% busy is marked\n" +
      "client-bound: its number is a lower bound.",
  );
  cmd.action(async (raw: EchoOpts) => {
    const settings = commonSettings(raw);
    const layout = defaultServerClientCpus();
    const serverCpus = raw.serverCpu ?? layout.server;
    const clientCpus = raw.clientCpu ?? layout.client;
    const cells: EchoCell[] = raw.matrix ? matrixCells() : [{ connections: raw.connections, bytes: raw.bytes }];
    const maxConns = Math.max(...cells.map((c) => c.connections));

    if (raw.serve) {
      if (raw.port === undefined) throw new InvalidArgumentError("--serve needs --port <port>.");
      const name = raw.server ?? "uring";
      ensureFdLimit(4096);
      installInterruptHandlers();
      const server = await startServer(name, raw.host, raw.port, serverCpus, name === "uring" ? raw.uringSetup : undefined);
      process.stderr.write(
        `serving ${name} echo on ${raw.host}:${server.port} (pid ${server.child.pid}, CPU ${serverCpus.join(",")}${server.detail ? `, ${server.detail}` : ""}); Ctrl-C stops it\n`,
      );
      const code = await server.child.exited;
      // Ctrl-C: the interrupt handler stopped the server and exits with 130.
      if (interruptSignal().aborted) await new Promise(() => {});
      throw new Error(`${name} server exited (${exitDescription(server.child) ?? `code ${code}`})`);
    }

    // Fail fast, before starting anything, if the connections cannot get fds.
    ensureFdLimit(maxConns);
    installInterruptHandlers();
    const servers: ServerName[] = raw.servers ?? [...SERVER_NAMES];
    for (const s of servers) {
      const why = SERVERS[s].unavailable();
      if (why && raw.servers) throw new InvalidArgumentError(`--servers ${s}: ${why}`);
    }
    const usable = servers.filter((s) => SERVERS[s].unavailable() === null);
    if (!raw.connect && !settings.quiet) {
      for (const s of servers) if (!usable.includes(s)) process.stderr.write(`echo: skipping ${s}: ${SERVERS[s].unavailable()}\n`);
    }
    const variants = raw.connect
      ? connectVariants(cells, raw.connect.host, raw.connect.port, clientCpus, raw.client)
      : serverVariants(cells, usable, { host: raw.host, serverCpus, clientCpus, uringSetup: raw.uringSetup, client: raw.client });
    const perRun = settings.durationMs + CLIENT_RAMP_MS + 500;
    const totalMs = variants.length * (settings.repeat * perRun + (settings.warmupMs > 0 ? settings.warmupMs + CLIENT_RAMP_MS + 500 : 0));
    if (!settings.quiet && !settings.json) {
      const what = raw.connect ? `${raw.connect.host}:${raw.connect.port}` : usable.join(", ");
      process.stderr.write(
        `echo: ${cells.map(cellLabel).join(" | ")}; ${what}; ${settings.repeat}× ${settings.durationMs} ms each, interleaved; ` +
          `server CPU ${raw.connect ? "-" : serverCpus.join(",")}, client CPU ${clientCpus.join(",")}` +
          (layout.note ? ` (${layout.note})` : "") + ` (~${Math.ceil(totalMs / 1000)} s)\n`,
      );
    }
    let results;
    try {
      results = await runInterleaved({
        variants,
        repeat: settings.repeat,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
        signal: interruptSignal(),
        onProgress: createProgress({ quiet: settings.quiet || settings.json === true, totalMs }),
      });
    } catch (err) {
      if (err instanceof RunAborted) return;
      throw err;
    }
    markClientBound(results);
    const baseline = settings.baseline ?? (!raw.connect && usable.includes("bun") ? "bun" : undefined);
    const run = buildRun(
      "echo",
      {
        cells: cells.map(cellLabel),
        servers: raw.connect ? [] : usable,
        connect: raw.connect ? `${raw.connect.host}:${raw.connect.port}` : undefined,
        durationMs: settings.durationMs,
        warmupMs: settings.warmupMs,
        repeat: settings.repeat,
        serverCpus,
        clientCpus,
        baseline,
        driver: "run-loop",
        uringSetup: raw.uringSetup,
        client: raw.client,
      },
      results,
      setupFlagNames(setupFlagsFor(URING_SETUPS[raw.uringSetup] ?? {})),
    );
    finishRun(run, { ...settings, baseline });
    if (!settings.quiet && settings.json !== true && settings.markdown !== true) {
      process.stdout.write(`${renderEfficiency(run)}\n`);
    }
  });
  return cmd;
}
