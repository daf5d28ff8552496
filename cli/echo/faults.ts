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
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommonSettings } from "../harness/options.ts";
import { defaultServerClientCpus } from "../harness/affinity.ts";
import { readLineMatching, spawnChild, stopChild } from "../harness/children.ts";
import { processCpuSeconds } from "../harness/cpu.ts";
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
  /** Sockets on the server's port still ESTABLISHED or CLOSE_WAIT (the server never closed them; a socket reset by its peer no longer shows here, but still counts in the descriptors). */
  openSockets: number;
  fdsBefore: number;
  fdsAfter: number;
  faultyConnections: number;
  /** Server CPU (fraction of a core) with only --fault-stalled peers attached, every one stalled, and no load. */
  stalledCpu: number;
}

/** How long the server may take to close what the faults left, ms (polled, not slept). */
const SETTLE_MS = 15_000;
/** How long the stalled peers may take to fill their sockets (a few MiB each through the server). */
const ATTACH_MS = 120_000;
/** Bound on waiting for the server to work off what stalled peers sent (see quiet()). */
const QUIET_DEADLINE_MS = 60_000;

/**
 * Every socket row of /proc/net/tcp and /proc/net/tcp6, split into fields:
 * [1] local address, [2] remote address, [3] state (01 ESTABLISHED, 08
 * CLOSE_WAIT), [4] "tx_queue:rx_queue" (hex).
 */
export function* procNetTcpRows(): Generator<string[]> {
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 5) yield f;
    }
  }
}

/** The rows of {@link procNetTcpRows} whose local address is on `port` (the server's side of its connections). */
function* serverTcpRows(port: number): Generator<string[]> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const f of procNetTcpRows()) if (f[1]!.endsWith(hex)) yield f;
}

/** Server-side sockets on `port` in ESTABLISHED (01) or CLOSE_WAIT (08): connections the server has not closed. */
export function openServerSockets(port: number): number {
  let n = 0;
  for (const f of serverTcpRows(port)) if (f[3] === "01" || f[3] === "08") n++;
  return n;
}

/**
 * Descriptors process `pid` holds: its open fds plus the direct descriptors
 * (occupied fixed-file slots) of each of its io_uring fds, which /proc lists
 * under "UserFiles" in the ring's fdinfo; a connection leaked into a fixed
 * table shows nowhere else. Read through the process's threads: a C server
 * whose main thread ended in pthread_exit (c-uring with threads) shows an
 * empty /proc/<pid>/fd. -1 when the process is gone.
 */
export function fdCount(pid: number): number {
  let best = -1;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return -1;
  }
  for (const tid of tids) {
    const dir = `/proc/${pid}/task/${tid}`;
    let fds: string[];
    try {
      fds = readdirSync(`${dir}/fd`);
    } catch {
      continue; // that thread ended meanwhile
    }
    let n = fds.length;
    for (const fd of fds) {
      try {
        if (readlinkSync(`${dir}/fd/${fd}`) === "anon_inode:[io_uring]") n += directDescriptors(readFileSync(`${dir}/fdinfo/${fd}`, "utf8"));
      } catch {
        // closed meanwhile
      }
    }
    best = Math.max(best, n);
  }
  return best;
}

/** Occupied fixed-file slots in an io_uring fdinfo text (the "  N: file" lines after "UserFiles:"). */
function directDescriptors(fdinfo: string): number {
  const start = fdinfo.indexOf("UserFiles:");
  if (start < 0) return 0;
  let n = 0;
  for (const line of fdinfo.slice(start).split("\n").slice(1)) {
    if (!/^\s*\d+: /.test(line)) break;
    n++;
  }
  return n;
}

/** A running fault worker: `attached` settles once its stalled peers are in place, `done` with its counts. */
interface FaultWorker {
  attached: Promise<unknown>;
  done: Promise<FaultCounts>;
  /** Ends the mix now (SIGTERM: the worker closes its peers and reports). */
  stop(): void;
}

/** The rest of a stream readLineMatching released (a Response would refuse a disturbed stream). */
async function readRest(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}

/** Starts the fault worker; it runs for `durationMs` once attached. */
function startFaultWorker(host: string, port: number, durationMs: number, flags: FaultFlags, cpus: readonly number[], kinds: string[]): FaultWorker {
  const cycling = kinds.filter((k): k is FaultKind => (FAULT_KINDS as readonly string[]).includes(k));
  const cmd = [
    bunPath(),
    join(import.meta.dir, "fault-worker.ts"),
    "--host",
    host,
    "--port",
    String(port),
    "--duration",
    String(durationMs),
    "--stalled",
    String(kinds.includes("stalled") ? flags.faultStalled : 0),
    "--trickle",
    String(kinds.includes("trickle") ? flags.faultTrickle : 0),
    "--kinds",
    cycling.join(","),
    "--rate",
    String(flags.faultRate),
  ];
  const child = spawnChild(cmd, { cpus, stdout: "pipe", stderr: "pipe" });
  const attached = readLineMatching(child, /^ATTACHED$/, ATTACH_MS, true);
  const done = (async (): Promise<FaultCounts> => {
    await attached.catch(() => {});
    const out = await readRest(child.stdout as ReadableStream<Uint8Array>);
    const err = await new Response(child.stderr as ReadableStream).text();
    await child.exited;
    for (const line of out.split("\n")) {
      const r = parseFaultsLine(line);
      if (r) return r;
    }
    await stopChild(child, 500);
    throw new Error(`the fault worker failed: ${err.trim() || "no result"}`);
  })();
  return { attached, done, stop: () => child.kill("SIGTERM") };
}

/** Bytes queued in the kernel on the server's side of `port` (send plus receive queues, /proc/net/tcp): it stops changing once the server is idle. */
function queuedOnPort(port: number): number {
  let n = 0;
  for (const f of serverTcpRows(port)) {
    const [tx, rx] = f[4]!.split(":");
    n += parseInt(tx ?? "0", 16) + parseInt(rx ?? "0", 16);
  }
  return n;
}

/**
 * Waits until the server has worked off what the stalled peers sent before
 * their sockets filled (a few MiB each): two 500 ms windows in a row with the
 * server under 5% of a core and the bytes queued on its port unchanged (CPU
 * alone misleads on a loaded machine, where a busy server may get little of
 * it). Polled up to the deadline, so a loaded machine only takes longer.
 */
async function quiet(pid: number, port: number, deadlineMs = QUIET_DEADLINE_MS): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  let calm = 0;
  let queued = queuedOnPort(port);
  while (calm < 2 && performance.now() < deadline) {
    const c0 = processCpuSeconds(pid);
    const t0 = performance.now();
    await Bun.sleep(500);
    const now = queuedOnPort(port);
    const idle = (processCpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000) < 0.05 && now === queued;
    queued = now;
    calm = idle ? calm + 1 : 0;
  }
}

/** Server CPU (fraction of a core) over `ms` with only stalled peers attached and no load, once it is quiet. */
async function stalledCpu(s: ServerProcess, flags: FaultFlags, cpus: readonly number[], ms: number): Promise<number> {
  const w = startFaultWorker(s.host, s.port, QUIET_DEADLINE_MS + ms + 1000, flags, cpus, ["stalled"]);
  await w.attached;
  await quiet(s.child.pid, s.port);
  const c0 = processCpuSeconds(s.child.pid);
  const t0 = performance.now();
  await Bun.sleep(ms);
  const cpu = (processCpuSeconds(s.child.pid) - c0) / ((performance.now() - t0) / 1000);
  w.stop();
  await w.done;
  return cpu;
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
  const kinds: string[] = raw.faults === true ? [...FAULT_MIX_KINDS] : raw.faults.split(",");
  const load = {
    host: raw.host,
    connections: raw.connections,
    bytes: raw.bytes,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    cpus: clientCpus,
  };
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
        const worker = startFaultWorker(raw.host, s.port, QUIET_DEADLINE_MS + settings.warmupMs + settings.durationMs, raw, clientCpus, kinds);
        await worker.attached;
        if (kinds.includes("stalled")) await quiet(s.child.pid, s.port);
        const faulty = await runClient({ ...load, port: s.port, serverPid: s.child.pid });
        worker.stop();
        const faults = await worker.done;
        reps.push({ server: s.name, rep, clean, faulty, faults });
        if (!settings.quiet) {
          process.stderr.write(
            `${s.name} rep ${rep + 1}: ${Math.round(clean.roundTrips / clean.seconds)} rt/s alone, ${Math.round(faulty.roundTrips / faulty.seconds)} with ${faults.total} faulty connections\n`,
          );
        }
      }
    }
    const leaks: FaultLeak[] = [];
    for (const s of servers) {
      const { openSockets, fdsAfter } = await settle(s, fdsBefore.get(s.name) ?? 0);
      const faultyConnections = reps.filter((r) => r.server === s.name).reduce((a, r) => a + r.faults.total, 0);
      const cpu = kinds.includes("stalled") && raw.faultStalled > 0 ? await stalledCpu(s, raw, clientCpus, settings.durationMs) : NaN;
      leaks.push({ server: s.name, openSockets, fdsBefore: fdsBefore.get(s.name) ?? -1, fdsAfter, faultyConnections, stalledCpu: cpu });
    }
    print(reps, leaks, raw, settings);
    if (typeof settings.json === "string")
      writeFileSync(settings.json, JSON.stringify({ command: process.argv.slice(2), connections: raw.connections, bytes: raw.bytes, reps, leaks }, null, 2));
  } finally {
    for (const s of servers) await stopServer(s);
  }
}

function print(reps: FaultRep[], leaks: FaultLeak[], raw: EchoOpts, settings: CommonSettings): void {
  const lines = [
    `echo --faults: -c ${raw.connections} -b ${raw.bytes}, ${settings.durationMs} ms per run, ${settings.repeat} interleaved repetition(s)`,
    "",
    row([
      "server",
      "rep",
      "alone rt/s",
      "alone p99 µs",
      "with faults rt/s",
      "with faults p99 µs",
      "rate ratio",
      "server CPU alone",
      "server CPU with faults",
      "faulty conns",
    ]),
    row(Array(10).fill("---")),
  ];
  for (const r of reps) {
    const a = r.clean.roundTrips / r.clean.seconds;
    const f = r.faulty.roundTrips / r.faulty.seconds;
    lines.push(
      row([
        r.server,
        r.rep + 1,
        Math.round(a),
        Math.round(r.clean.latencyUs.p99),
        Math.round(f),
        Math.round(r.faulty.latencyUs.p99),
        (f / a).toFixed(3),
        `${(r.clean.serverCpu * 100).toFixed(1)}%`,
        `${(r.faulty.serverCpu * 100).toFixed(1)}%`,
        r.faults.total,
      ]),
    );
  }
  lines.push(
    "",
    row(["server", "faulty connections", "connections left open", "descriptors before (fds + direct)", "descriptors after", "server CPU, every peer stalled"]),
    row(Array(6).fill("---")),
  );
  for (const l of leaks) {
    lines.push(
      row([l.server, l.faultyConnections, l.openSockets, l.fdsBefore, l.fdsAfter, Number.isNaN(l.stalledCpu) ? "-" : `${(l.stalledCpu * 100).toFixed(2)}%`]),
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
