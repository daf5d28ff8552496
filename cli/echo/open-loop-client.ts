/**
 * Runs the C open-loop echo client (c/reference/echo_client_openloop.c) once
 * as a pinned child and returns what it measured, optionally with the
 * server's syscalls counted over the same window (cli/harness/syscalls.ts).
 *
 * Why C: on this 2-core machine a closed-loop client in TypeScript saturated
 * before the servers did, and the ratio between servers then described the
 * client. Open loop needs a client with headroom even more, since a late
 * client shifts every corrected latency; the C client reports its own lag
 * (fire lag) so a run where it fell behind is marked, never blamed on the server.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnChild, stopChild } from "../harness/children.ts";
import type { ArrivalKind } from "../harness/arrivals.ts";
import { countSyscalls, type SyscallCounts } from "../harness/syscalls.ts";
import { exitDescription } from "./processes.ts";

/** Where scripts/build-shim.mjs compiles the open-loop client. */
export const C_OPENLOOP_PATH = join(import.meta.dir, "..", "..", "build", "echo_client_openloop");

/** The client waits this long after connecting before its first send (must match the C file's 10 ms). */
export const OPENLOOP_SETTLE_MS = 10;
/** Replies to measured messages are awaited this long after the window (the C file's DRAIN_MS). */
export const OPENLOOP_DRAIN_MS = 2000;

/** A distribution as the C client prints it, µs. */
export interface ClientLatency {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
  mean: number;
}

/** What one open-loop client run measured (the C client's RESULT line). */
export interface OpenLoopResult {
  requestedRate: number;
  /** Replies received inside the window / window length. */
  achievedRate: number;
  repliesInWindow: number;
  seconds: number;
  scheduled: number;
  /** Measured messages never answered (recorded in `correctedUs` at their age). */
  unanswered: number;
  clientCpu: number;
  serverCpu: number | null;
  errors: number;
  connectionsAlive: number;
  peakInflightPerConnection: number;
  /** Reply − intended send time. */
  correctedUs: ClientLatency;
  /** Reply − actual send time. */
  uncorrectedUs: ClientLatency;
  /** Actual − intended send time. */
  sendLagUs: ClientLatency;
  /** How late the client's scheduler fired a due send: the client's own lag. */
  fireLagUs: ClientLatency;
  /** The server's syscalls over the window, when counted. */
  syscalls?: SyscallCounts;
}

/** Options of {@link runOpenLoopClient}. */
export interface OpenLoopRun {
  host: string;
  port: number;
  connections: number;
  bytes: number;
  /** Offered rate, requests/s over all connections. */
  rate: number;
  durationMs: number;
  warmupMs: number;
  arrival: ArrivalKind;
  /** Unanswered messages allowed per connection before sends wait (0 = no cap: pure open loop). */
  maxInflight: number;
  serverPid?: number;
  cpus?: readonly number[];
  /** Count the server's syscalls during the window with perf (needs serverPid). */
  countSyscalls?: boolean;
  seed?: number;
}

/** Why the open-loop client cannot run here, or null. */
export function openLoopClientUnavailable(): string | null {
  return existsSync(C_OPENLOOP_PATH) ? null : `${C_OPENLOOP_PATH} is missing: run "npm run build:shim" (needs a C compiler)`;
}

/** Parses the client's `RESULT {json}` line; null for any other line. */
export function parseOpenLoopLine(line: string): OpenLoopResult | null {
  if (!line.startsWith("RESULT ")) return null;
  return JSON.parse(line.slice(7)) as OpenLoopResult;
}

/** Runs the client once; throws with its message when it fails. */
export async function runOpenLoopClient(run: OpenLoopRun): Promise<OpenLoopResult> {
  const why = openLoopClientUnavailable();
  if (why) throw new Error(why);
  const cmd = [
    C_OPENLOOP_PATH,
    run.host,
    String(run.port),
    String(run.connections),
    String(run.bytes),
    String(run.rate),
    String(run.durationMs),
    String(run.warmupMs),
    String(run.serverPid ?? 0),
    run.arrival,
    String(run.maxInflight),
    String(run.seed ?? 1),
  ];
  const child = spawnChild(cmd, { cpus: run.cpus, stdout: "pipe", stderr: "pipe" });
  const stdout = new Response(child.stdout as ReadableStream).text();
  const stderr = new Response(child.stderr as ReadableStream).text();
  // Connecting takes a moment before the C client's clock starts; start perf a
  // little into the window and stop it a little before its end, so it counts
  // measured traffic only (the division below uses the achieved rate).
  const counting =
    run.countSyscalls && run.serverPid
      ? countSyscalls(run.serverPid, OPENLOOP_SETTLE_MS + run.warmupMs + 200, Math.max(0.5, (run.durationMs - 400) / 1000))
      : undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = run.warmupMs + run.durationMs + OPENLOOP_DRAIN_MS + 30_000;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), limit);
  });
  const first = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  if (first === "timeout") {
    await stopChild(child, 500);
    throw new Error(`the open-loop client did not finish within ${limit} ms`);
  }
  const out = await stdout;
  for (const line of out.split("\n")) {
    const r = parseOpenLoopLine(line);
    if (r) {
      if (counting) r.syscalls = await counting;
      return r;
    }
  }
  const err = (await stderr).trim();
  throw new Error(err || `the open-loop client ${exitDescription(child) ?? "stopped"} without a result`);
}

/** Fire lag p99 above this (µs) means the client's own schedule slipped. */
export const CLIENT_FIRE_LAG_P99_US = 1000;
/** A client above this CPU share (of one core) has no headroom left. */
export const CLIENT_SATURATED_CPU = 0.9;
/** Achieved below this fraction of the offered rate means the rate was not sustained. */
export const ACHIEVED_FRACTION = 0.99;

/**
 * Who, if anyone, failed to sustain the offered rate:
 * - "client": the client's scheduler fell behind (fire lag p99 over
 *   {@link CLIENT_FIRE_LAG_P99_US}) or it was saturated while the rate was
 *   missed; the row says nothing about the server.
 * - "server": the rate was missed (or replies never came) with a client that
 *   kept its schedule: the server is past saturation.
 * - "ok": the rate was sustained.
 */
export function sustainedBy(r: OpenLoopResult): "ok" | "client" | "server" {
  const missed = r.achievedRate < ACHIEVED_FRACTION * r.requestedRate || r.unanswered > 0;
  if (r.fireLagUs.p99 > CLIENT_FIRE_LAG_P99_US) return "client";
  if (missed && r.clientCpu > CLIENT_SATURATED_CPU) return "client";
  return missed ? "server" : "ok";
}
