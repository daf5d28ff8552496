/**
 * `uring-bench echo --faults`: the normal echo load, once alone and once
 * beside a fault mix (cli/echo/fault-worker.ts: peers that never read,
 * slowloris trickles, partial message then RST, RST with a send in flight,
 * half close, connect/close churn), repetitions interleaved. Reports the
 * normal clients' round trips/s and p99 with and without the faults, the
 * server's CPU, and what the server still holds once every client is gone
 * (connections on its port, its fd count): a leak shows there.
 *
 *   uring-bench echo --faults --servers uring,c-uring -c 100 -b 512 --duration 5s --repeat 3
 *   uring-bench echo --faults stalled --fault-stalled 200 --fault-trickle 0   # only stalled peers
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommonSettings } from "../harness/options.ts";
import { defaultServerClientCpus } from "../harness/affinity.ts";
import { spawnChild, stopChild } from "../harness/children.ts";
import { ensureFdLimit } from "../../src/net/limits.ts";
import type { EchoOpts } from "./flags.ts";
import { bunPath, SERVERS, type ServerName } from "./servers.ts";
import { runClient, startServer, stopServer, type ServerProcess } from "./processes.ts";
import { FAULT_KINDS, parseFaultsLine, type FaultCounts, type FaultKind } from "./fault-worker.ts";
import type { LoadResult } from "./load.ts";

/** Every kind --faults takes. */
export const FAULT_MIX_KINDS = [...FAULT_KINDS, "stalled", "trickle"] as const;

/** The --faults options. */
export interface FaultFlags {
  /** true, or a comma list of kinds (reset, inflight, halfclose, churn, stalled, trickle). */
  faults: true | string;
  faultStalled: number;
  faultTrickle: number;
  /** Fault batches per second (20 RSTs, 2 fills+RST, 10 half closes or 50 connect/close each). */
  faultRate: number;
}

/** One repetition of one server: the load alone, then beside the faults. */
export interface FaultRep {
  server: ServerName;
  rep: number;
  clean: LoadResult;
  faulty: LoadResult;
  faults: FaultCounts;
}

/** What a server still holds after the run, with every client gone. */
export interface FaultLeak {
  server: ServerName;
  /** Sockets on the server's port still ESTABLISHED or CLOSE_WAIT (the server never closed them). */
  openSockets: number;
  fdsBefore: number;
  fdsAfter: number;
  faultyConnections: number;
}

/** How long the server may take to close what the faults left, ms (polled, not slept). */
const SETTLE_MS = 15_000;

/** Server-side sockets on `port` in ESTABLISHED (01) or CLOSE_WAIT (08): connections the server has not closed. */
export function openServerSockets(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  let n = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      if (f[1]!.endsWith(`:${hex}`) && (f[3] === "01" || f[3] === "08")) n++;
    }
  }
  return n;
}

/**
 * Open fds of process `pid`. Read through its threads: a C server whose main
 * thread ended in pthread_exit (c-uring with threads) shows an empty /proc/<pid>/fd.
 */
export function fdCount(pid: number): number {
  let n = -1;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        n = Math.max(n, readdirSync(`/proc/${pid}/task/${tid}/fd`).length);
      } catch {
        // that thread ended meanwhile
      }
    }
  } catch {
    return -1;
  }
  return n;
}

/** Runs the fault worker for `durationMs` beside whatever else runs; resolves with its counts. */
async function runFaultWorker(host: string, port: number, durationMs: number, flags: FaultFlags, cpus: readonly number[]): Promise<FaultCounts> {
  const kinds: string[] = flags.faults === true ? [...FAULT_MIX_KINDS] : flags.faults.split(",");
  const cycling = kinds.filter((k): k is FaultKind => (FAULT_KINDS as readonly string[]).includes(k));
  const cmd = [
    bunPath(), join(import.meta.dir, "fault-worker.ts"), "--host", host, "--port", String(port), "--duration", String(durationMs),
    "--stalled", String(kinds.includes("stalled") ? flags.faultStalled : 0),
    "--trickle", String(kinds.includes("trickle") ? flags.faultTrickle : 0),
    "--kinds", cycling.join(","), "--rate", String(flags.faultRate),
  ];
  const child = spawnChild(cmd, { cpus, stdout: "pipe", stderr: "pipe" });
  const out = await new Response(child.stdout as ReadableStream).text();
  const err = await new Response(child.stderr as ReadableStream).text();
  await child.exited;
  for (const line of out.split("\n")) {
    const r = parseFaultsLine(line);
    if (r) return r;
  }
  await stopChild(child, 500);
  throw new Error(`the fault worker failed: ${err.trim() || "no result"}`);
}

/** Polls until the server holds no connection (or the deadline); returns what it still holds. */
async function settle(server: ServerProcess, fdsBefore: number): Promise<{ openSockets: number; fdsAfter: number }> {
  const deadline = performance.now() + SETTLE_MS;
  for (;;) {
    const openSockets = openServerSockets(server.port);
    const fdsAfter = fdCount(server.child.pid);
    if ((openSockets === 0 && fdsAfter <= fdsBefore) || performance.now() > deadline) return { openSockets, fdsAfter };
    await Bun.sleep(50);
  }
}

function row(cells: Array<string | number>): string {
  return `| ${cells.join(" | ")} |`;
}

/** Runs `echo --faults` and prints the table (and writes JSON with --json PATH). */
export async function runFaults(raw: EchoOpts & FaultFlags, settings: CommonSettings): Promise<void> {
  const cpus = defaultServerClientCpus();
  const serverCpus = raw.serverCpu ?? cpus.server;
  const clientCpus = raw.clientCpu ?? cpus.client;
  const names = (raw.servers ?? (["uring", "c-uring"] as ServerName[])).filter((n) => SERVERS[n].unavailable() === null);
  ensureFdLimit(raw.connections + raw.faultStalled + raw.faultTrickle + 1024);
  const servers: ServerProcess[] = [];
  const fdsBefore = new Map<ServerName, number>();
  const reps: FaultRep[] = [];
  const load = { host: raw.host, connections: raw.connections, bytes: raw.bytes, durationMs: settings.durationMs, warmupMs: settings.warmupMs, cpus: clientCpus };
  try {
    for (const name of names) {
      const s = await startServer(name, raw.host, 0, serverCpus, name === "uring" ? raw.uringSetup : undefined);
      servers.push(s);
    }
    for (let rep = 0; rep < settings.repeat; rep++) {
      for (const s of servers) {
        const clean = await runClient({ ...load, port: s.port, serverPid: s.child.pid });
        if (!fdsBefore.has(s.name)) {
          await settle(s, Infinity);
          fdsBefore.set(s.name, fdCount(s.child.pid));
        }
        const [faulty, faults] = await Promise.all([
          runClient({ ...load, port: s.port, serverPid: s.child.pid }),
          runFaultWorker(raw.host, s.port, settings.warmupMs + settings.durationMs, raw, clientCpus),
        ]);
        reps.push({ server: s.name, rep, clean, faulty, faults });
        if (!settings.quiet) {
          process.stderr.write(`${s.name} rep ${rep + 1}: ${Math.round(clean.roundTrips / clean.seconds)} rt/s alone, ${Math.round(faulty.roundTrips / faulty.seconds)} with ${faults.total} faulty connections\n`);
        }
      }
    }
    const leaks: FaultLeak[] = [];
    for (const s of servers) {
      const { openSockets, fdsAfter } = await settle(s, fdsBefore.get(s.name) ?? 0);
      const faultyConnections = reps.filter((r) => r.server === s.name).reduce((a, r) => a + r.faults.total, 0);
      leaks.push({ server: s.name, openSockets, fdsBefore: fdsBefore.get(s.name) ?? -1, fdsAfter, faultyConnections });
    }
    print(reps, leaks, raw, settings);
    if (typeof settings.json === "string") writeFileSync(settings.json, JSON.stringify({ command: process.argv.slice(2), connections: raw.connections, bytes: raw.bytes, reps, leaks }, null, 2));
  } finally {
    for (const s of servers) await stopServer(s);
  }
}

function print(reps: FaultRep[], leaks: FaultLeak[], raw: EchoOpts, settings: CommonSettings): void {
  const lines = [
    `echo --faults: -c ${raw.connections} -b ${raw.bytes}, ${settings.durationMs} ms per run, ${settings.repeat} interleaved repetition(s)`,
    "",
    row(["server", "rep", "alone rt/s", "alone p99 µs", "with faults rt/s", "with faults p99 µs", "rate ratio", "server CPU alone", "server CPU with faults", "faulty conns"]),
    row(Array(10).fill("---")),
  ];
  for (const r of reps) {
    const a = r.clean.roundTrips / r.clean.seconds;
    const f = r.faulty.roundTrips / r.faulty.seconds;
    lines.push(row([r.server, r.rep + 1, Math.round(a), Math.round(r.clean.latencyUs.p99), Math.round(f), Math.round(r.faulty.latencyUs.p99), (f / a).toFixed(3),
      `${(r.clean.serverCpu * 100).toFixed(1)}%`, `${(r.faulty.serverCpu * 100).toFixed(1)}%`, r.faults.total]));
  }
  lines.push("", row(["server", "faulty connections", "connections left open", "fds before", "fds after"]), row(Array(5).fill("---")));
  for (const l of leaks) lines.push(row([l.server, l.faultyConnections, l.openSockets, l.fdsBefore, l.fdsAfter]));
  process.stdout.write(`${lines.join("\n")}\n`);
}
