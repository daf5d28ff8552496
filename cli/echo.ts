/**
 * `uring-bench echo`: TCP echo round trips on loopback. Servers (uring,
 * uring-sqpoll, bun, node, c-epoll, c-uring) each run in their own process pinned to
 * --server-cpu; the load generator runs pinned to --client-cpu.
 * Output: the seed-style grid (cells × servers, round trips/s), the detail
 * table (latency, CPU of each side, errors, ratio to bun), the efficiency table.
 *
 *   uring-bench echo -c 1000 -b 512
 *   uring-bench echo --matrix --repeat 3
 *   uring-bench echo --serve --server uring --port 9000     # server only
 *   uring-bench echo --connect 127.0.0.1:9000 -c 500        # client only
 */
import { Command, Option } from "commander";
import { cpuCount, defaultServerClientCpus } from "./harness/affinity.ts";
import { EXIT_CODES_HELP } from "./harness/exit-codes.ts";
import { addCommonOptions, choiceList, commonSettings, cpuList } from "./harness/options.ts";
import { runEchoBench } from "./echo/bench.ts";
import { bytesFlag, connectionsFlag, connectTarget, loopbackHost, portFlag, type EchoOpts } from "./echo/flags.ts";
import { serveOnly } from "./echo/serve.ts";
import { FAULT_MIX_KINDS, runFaults, type FaultFlags } from "./echo/faults.ts";
import { threadedServers, threadsFlag, threadsListFlag } from "./echo/threads.ts";
import { addOpenLoopOptions, runOpenLoopFromEcho, type OpenLoopEchoFlags } from "./echo/open-loop-command.ts";
import { CLIENT_NAMES, SERVER_NAMES, SERVERS, type ServerName } from "./echo/servers.ts";
import { DEFAULT_URING_SETUP, URING_SETUPS } from "./echo/setups.ts";

/** The `echo` subcommand. */
export function echoCommand(): Command {
  const ncpu = cpuCount();
  const cmd = new Command("echo")
    .description("TCP echo round trips on loopback: io_uring servers vs Bun.listen, node:net and C epoll")
    .option("-c, --connections <n>", "connections, each with one message in flight", connectionsFlag, 1000)
    .option("-b, --bytes <n>", "message size in bytes (at most 1 MiB)", bytesFlag, 512)
    .option(
      "--servers <list>",
      `servers to compare, comma-separated (${SERVER_NAMES.join(", ")})`,
      choiceList("--servers", SERVER_NAMES) as (v: string) => ServerName[],
    )
    .option("--matrix", "the seed grid: c 300/500/1000/2000 × bytes 128/512/1000 (overrides -c and -b)")
    .option("--server-cpu <cpus>", "CPUs for each server process (default 0)", cpuList("--server-cpu", ncpu))
    .option("--client-cpu <cpus>", "CPUs for the load generator (default 1)", cpuList("--client-cpu", ncpu))
    .option(
      "--threads <n>",
      `server threads, each with its own loop and SO_REUSEPORT listener (${threadedServers().join(", ")}; see cli/echo/threads.ts); ` +
        "with --rate a list (1,2) compares the counts in one interleaved run",
      threadsListFlag("--threads"),
    )
    .option(
      "--client-threads <n>",
      "load generator processes, splitting the connections (generator i on the i-th --client-cpu)",
      threadsFlag("--client-threads"),
      1,
    )
    .addOption(
      new Option("--uring-setup <name>", "ring setup of the uring server: defer (DEFER_TASKRUN+SINGLE_ISSUER), coop (COOP_TASKRUN), none")
        .choices(Object.keys(URING_SETUPS).filter((k) => k !== "sqpoll"))
        .default(DEFAULT_URING_SETUP),
    )
    .addOption(
      new Option(
        "--client <name>",
        "load generator: uring (ours, on io_uring) or c-epoll (the C reference, to check ours is not the limit; used when io_uring is off)",
      )
        .choices([...CLIENT_NAMES])
        .default("uring"),
    )
    .option("--serve", "run one server only (with --server and --port) until Ctrl-C")
    .addOption(new Option("--server <name>", "the server --serve runs").choices([...SERVER_NAMES]).default("uring"))
    .option("--port <port>", "port for --serve", portFlag)
    .option("--host <ip>", "loopback address to use", loopbackHost, "127.0.0.1")
    .option("--connect <host:port>", "run the load generator only, against any echo server", connectTarget)
    .option(
      "--faults [kinds]",
      `run the load alone and beside a fault mix, interleaved; kinds: ${FAULT_MIX_KINDS.join(",")} (default all; see cli/echo/faults.ts)`,
    )
    .option("--fault-stalled <n>", "--faults: peers that never read, attached for the whole run", (v: string) => Number(v), 50)
    .option("--fault-trickle <n>", "--faults: slowloris peers trickling a byte every 50 ms", (v: string) => Number(v), 20)
    .option("--fault-rate <n>", "--faults: fault batches per second (20 resets, 10 half closes or 50 connect/close each)", (v: string) => Number(v), 50);
  addOpenLoopOptions(cmd);
  addCommonOptions(cmd);
  cmd.addHelpText(
    "after",
    `\nServers:\n${SERVER_NAMES.map((n) => `  ${n.padEnd(13)} ${SERVERS[n].describe}`).join("\n")}\n\n` +
      "Each repetition runs a fresh load generator: connect, warm up, measure. --repeat runs servers interleaved\n" +
      "(A B C A B C) and reports the median and spread. A row whose load generator was over 90% busy is marked\n" +
      "client-bound: its number is a lower bound. With io_uring switched off, the io_uring servers are reported\n" +
      `with the reason and the others run with the C epoll load generator.\n\n${EXIT_CODES_HELP}`,
  );
  cmd.action(async (raw: EchoOpts) => {
    if (raw.serve) return serveOnly(raw, raw.serverCpu ?? defaultServerClientCpus().server);
    if (raw.faults) return runFaults(raw as EchoOpts & FaultFlags, commonSettings(raw));
    if (raw.rate !== undefined) return runOpenLoopFromEcho(raw as OpenLoopEchoFlags, commonSettings(raw));
    await runEchoBench(raw, commonSettings(raw), cmd.getOptionValueSource("client") === "cli");
  });
  return cmd;
}
