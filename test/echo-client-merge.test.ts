/**
 * `--client-threads N`: the load generators' latency histograms merge into
 * one distribution (cli/echo/latency-wire.ts, mergeLoadResults), so the
 * percentiles are the combined load's, not the largest any generator saw.
 * Checked on two known distributions, and end to end with both load
 * generators (ours and the C epoll client, whose buckets must be ours).
 */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { LatencyRecorder } from "../cli/harness/latency.ts";
import { nearestRank } from "../cli/harness/stats.ts";
import type { LoadResult } from "../cli/echo/load.ts";
import { mergeWire, toWire } from "../cli/echo/latency-wire.ts";
import { runClient, startServer, stopServer } from "../cli/echo/processes.ts";
import { C_CLIENT_PATH, SERVERS } from "../cli/echo/servers.ts";
import { mergeLoadResults, runClients } from "../cli/echo/threads.ts";

// Not a timing assertion: spawning servers and load generators takes seconds on a busy machine.
setDefaultTimeout(120_000);

const HOST = "127.0.0.1";

/** A load result whose latencies are `ms` (recorded as the load generator records them). */
function resultOf(ms: readonly number[]): LoadResult {
  const rec = new LatencyRecorder();
  for (const v of ms) rec.record(v);
  const [p50, p99, p999] = rec.percentiles([50, 99, 99.9]) as [number, number, number];
  return {
    roundTrips: ms.length,
    seconds: 1,
    bytes: ms.length,
    latencyUs: { p50: p50 * 1000, p99: p99 * 1000, p999: p999 * 1000, mean: rec.mean * 1000 },
    clientCpu: 0.5,
    serverCpu: 0.5,
    errors: 0,
    errorKinds: { length: 0, content: 0, reset: 0, eof: 0, send: 0 },
    connectionsAlive: 1,
    entersPerRoundTrip: 1,
    notes: [],
    latencyHistogram: toWire(rec),
  };
}

/** Nearest-rank percentile of raw values (the exact answer the histogram approximates to 0.4%). */
function exact(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[nearestRank(p, sorted.length) - 1]!;
}

describe("merged latency of parallel load generators", () => {
  test("two known distributions: the merged percentiles are the combined load's", () => {
    // Generator A: 1..1000 µs, one each; generator B: 10001..11000 µs, one each (as ms).
    const a = Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000);
    const b = Array.from({ length: 1000 }, (_, i) => (10001 + i) / 1000);
    const m = mergeLoadResults([resultOf(a), resultOf(b)]);
    const all = [...a, ...b];
    for (const [p, got] of [
      [50, m.latencyUs.p50],
      [99, m.latencyUs.p99],
      [99.9, m.latencyUs.p999],
    ] as const) {
      const want = exact(all, p) * 1000;
      expect(Math.abs(got - want) / want).toBeLessThanOrEqual(0.004);
    }
    // p50 of the union is A's top (rank 1000 of 2000, 1000 µs to the bucket's 0.4%), far below the old upper bound max(p50 A, p50 B) = ~10500 µs.
    expect(m.latencyUs.p50).toBeLessThan(1004);
    expect(m.latencyUs.mean).toBeCloseTo(((1 + 1000) / 2 + (10001 + 11000) / 2) / 2, 6);
    expect(m.latencyHistogram!.count).toBe(2000);
    expect(m.notes.join(" ")).toMatch(/merged histograms/);
  });

  test("a generator without a histogram: percentiles fall back to the upper bound, and say so", () => {
    const { latencyHistogram: _, ...bare } = resultOf([0.5, 0.6]);
    const m = mergeLoadResults([resultOf([0.1, 0.2]), bare]);
    expect(m.latencyUs.p99).toBe(Math.max(resultOf([0.1, 0.2]).latencyUs.p99, bare.latencyUs.p99));
    expect(m.notes.join(" ")).toMatch(/upper bounds/);
  });

  test("the wire form round-trips a recorder, empty ones included", () => {
    const rec = new LatencyRecorder();
    for (const v of [0.001, 0.05, 0.127, 0.128, 3.3, 250]) rec.record(v);
    const back = mergeWire([toWire(rec), toWire(new LatencyRecorder())]);
    expect(back.count).toBe(rec.count);
    expect(back.percentiles([0, 10, 50, 90, 100])).toEqual(rec.percentiles([0, 10, 50, 90, 100]));
    expect(() => mergeWire([{ ...toWire(rec), buckets: [[1e9, 1]] }])).toThrow(/out of range/);
  });
});

const cReady = SERVERS["c-epoll"].unavailable() === null && existsSync(C_CLIENT_PATH);

describe.skipIf(!cReady)("end to end, 2 load generators against the C epoll server", () => {
  for (const client of ["c-epoll", "uring"] as const) {
    test(`${client} clients send histograms whose percentiles match their own, and merge`, async () => {
      const server = await startServer("c-epoll", HOST, 0, undefined);
      try {
        const run = { host: HOST, port: server.port, connections: 8, bytes: 64, durationMs: 300, warmupMs: 100, client };
        const one = await runClient(run);
        const h = one.latencyHistogram!;
        expect(h.count).toBe(one.roundTrips);
        // The C client's own percentiles come from its raw samples: its buckets must be LatencyRecorder's for these to agree.
        const rec = mergeWire([h]);
        const p50 = rec.percentiles([50])[0]! * 1000;
        expect(Math.abs(p50 - one.latencyUs.p50)).toBeLessThanOrEqual(one.latencyUs.p50 * 0.004 + 1);
        const both = await runClients(run, 2);
        expect(both.latencyHistogram!.count).toBe(both.roundTrips);
        expect(both.errors).toBe(0);
        expect(both.notes.join(" ")).toMatch(/2 load generators merged: latency percentiles of their merged histograms/);
      } finally {
        await stopServer(server);
      }
    });
  }
});
