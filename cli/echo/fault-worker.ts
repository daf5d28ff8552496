#!/usr/bin/env bun
/**
 * The fault mix of `echo --faults`, as its own process (pinned beside the
 * load generator): for `--duration` ms it keeps `--stalled` peers that never
 * read and `--trickle` slowloris peers attached, and cycles through batches
 * of partial-message-then-RST, RST with a send in flight, half close then
 * vanish, and connect/close churn. Prints `ATTACHED` once the stalled peers
 * have filled their sockets (`--duration` counts from then), and
 * `FAULTS {json}` (connections per kind) when done (or at SIGTERM), after
 * closing everything it opened.
 *
 * Usage: bun fault-worker.ts --host 127.0.0.1 --port P --duration MS [--stalled 50] [--trickle 20] [--kinds reset,inflight,halfclose,churn] [--rate BATCHES_PER_S]
 */

/** The cycling fault kinds (stalled and trickle peers are counts, set apart). */
export const FAULT_KINDS = ["reset", "inflight", "halfclose", "churn"] as const;
/** One cycling fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];
import { FaultClient, trickle } from "./fault-client.ts";

/** Faulty connections made, by kind. */
export interface FaultCounts {
  partialReset: number;
  resetInFlight: number;
  halfClose: number;
  churn: number;
  stalled: number;
  trickle: number;
  /** Every faulty connection above. */
  total: number;
}

/** The `FAULTS {json}` line's counts, or null for any other line. */
export function parseFaultsLine(line: string): FaultCounts | null {
  return line.startsWith("FAULTS ") ? (JSON.parse(line.slice(7)) as FaultCounts) : null;
}

/** Receive buffer of the peers that never read: small, so the server's echo to them blocks early. */
const SMALL_RCVBUF = 4096;

/** Runs the mix against host:port for durationMs. */
export async function runFaultMix(
  host: string,
  port: number,
  durationMs: number,
  stalledPeers: number,
  tricklePeers: number,
  kinds: readonly FaultKind[] = FAULT_KINDS,
  batchesPerSecond = 50,
  onAttached: () => void = () => {},
  stopped: () => boolean = () => false,
): Promise<FaultCounts> {
  const c = new FaultClient(host);
  const n: FaultCounts = { partialReset: 0, resetInFlight: 0, halfClose: 0, churn: 0, stalled: 0, trickle: 0, total: 0 };
  const part = new Uint8Array(300).fill(120);
  const half = new Uint8Array(10_000).fill(104);
  const stalled = stalledPeers > 0 ? c.open(port, stalledPeers, SMALL_RCVBUF) : [];
  for (const fd of stalled) c.fill(fd, 8 << 20);
  n.stalled = stalled.length;
  const stopTrickle = trickle(host, port, tricklePeers, 50);
  n.trickle = tricklePeers;
  // The stalled peers are attached (their sockets full): the measured load may start.
  onAttached();
  const deadline = performance.now() + durationMs;
  try {
    for (let round = 0; performance.now() < deadline && !stopped(); round++) {
      if (kinds.length === 0) {
        await Bun.sleep(20);
        continue;
      }
      switch (kinds[round % kinds.length]) {
        case "reset":
          for (const fd of c.open(port, 20)) {
            c.send(fd, part);
            c.reset(fd);
            n.partialReset++;
          }
          break;
        case "inflight": {
          const fds = c.open(port, 2, SMALL_RCVBUF);
          for (const fd of fds) c.fill(fd, 1 << 20);
          for (const fd of fds) c.reset(fd);
          n.resetInFlight += fds.length;
          break;
        }
        case "halfclose":
          for (const fd of c.open(port, 10)) {
            c.send(fd, half);
            c.halfClose(fd);
            c.close(fd);
            n.halfClose++;
          }
          break;
        case "churn":
          for (const fd of c.open(port, 50)) {
            c.close(fd);
            n.churn++;
          }
      }
      // Paced, so the mix does not simply take the load generator's CPU; the trickle's timers run meanwhile.
      await Bun.sleep(1000 / batchesPerSecond);
    }
  } finally {
    stopTrickle();
    for (const fd of stalled) c.close(fd);
    c.dispose();
  }
  n.total = n.partialReset + n.resetInFlight + n.halfClose + n.churn + n.stalled + n.trickle;
  return n;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const arg = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
  };
  // SIGTERM ends the mix early (the measured load is done): close everything and report.
  let stop = false;
  process.on("SIGTERM", () => {
    stop = true;
  });
  try {
    const counts = await runFaultMix(
      arg("--host", "127.0.0.1"),
      Number(arg("--port", "0")),
      Number(arg("--duration", "5000")),
      Number(arg("--stalled", "50")),
      Number(arg("--trickle", "20")),
      arg("--kinds", FAULT_KINDS.join(","))
        .split(",")
        .filter((k): k is FaultKind => (FAULT_KINDS as readonly string[]).includes(k)),
      Number(arg("--rate", "50")),
      () => process.stdout.write("ATTACHED\n"),
      () => stop,
    );
    process.stdout.write(`FAULTS ${JSON.stringify(counts)}\n`);
  } catch (err) {
    process.stderr.write(`fault worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
