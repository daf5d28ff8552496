/**
 * The open-loop building blocks on their own: arrival schedules (uniform
 * spacing, Poisson mean gap, split streams), the corrected-latency recorder,
 * the SLO parser and the bounded rate search.
 */
import { describe, expect, test } from "bun:test";
import { Arrivals, parseRate, splitArrivals } from "../cli/harness/arrivals.ts";
import { CorrectedLatency } from "../cli/harness/corrected-latency.ts";
import { parseSlo, searchMaxRate } from "../cli/harness/slo-search.ts";

describe("arrivals", () => {
  test("uniform: exact spacing from the start", () => {
    const a = new Arrivals({ rate: 1000, startMs: 5 });
    expect([a.take(), a.take(), a.take()]).toEqual([5, 6, 7]);
  });

  test("poisson: mean gap is 1/rate and gaps vary (seeded, repeatable)", () => {
    const a = new Arrivals({ rate: 2000, kind: "poisson", startMs: 0, seed: 42 });
    const n = 100_000;
    let last = a.take();
    const first = last;
    let sumSq = 0;
    for (let i = 1; i < n; i++) {
      const t = a.take();
      sumSq += (t - last) ** 2;
      last = t;
    }
    const mean = (last - first) / (n - 1);
    expect(Math.abs(mean / 0.5 - 1)).toBeLessThan(0.02);
    // Exponential gaps: the second moment is 2·mean².
    expect(Math.abs(sumSq / (n - 1) / (2 * 0.25) - 1)).toBeLessThan(0.05);
    const b = new Arrivals({ rate: 2000, kind: "poisson", startMs: 0, seed: 42 });
    expect(b.take()).toBe(first);
  });

  test("split uniform streams interleave evenly at the total rate", () => {
    const streams = splitArrivals(1000, 4, "uniform", 0);
    const times = streams.flatMap((s) => [s.take(), s.take()]).sort((x, y) => x - y);
    expect(times).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test("parseRate", () => {
    expect(parseRate("30k")).toBe(30_000);
    expect(parseRate("1.5m")).toBe(1_500_000);
    expect(() => parseRate("fast")).toThrow(/--rate/);
  });
});

test("corrected latency counts from the intended time, uncorrected from the send", () => {
  const c = new CorrectedLatency();
  c.record(0, 200, 201); // waited 200 before it could be sent, then 1 in flight
  c.recordUnfinished(0, 500);
  const s = c.summary();
  expect(s.corrected.count).toBe(2);
  expect(s.corrected.max).toBe(500);
  expect(s.uncorrected.max).toBe(1);
  expect(s.sendLag.max).toBe(200);
  const merged = new CorrectedLatency();
  merged.merge(c.snapshot());
  expect(merged.summary().corrected.count).toBe(2);
});

describe("SLO", () => {
  test("parse", () => {
    expect(parseSlo("p99=1ms")).toMatchObject({ p: 99, boundUs: 1000 });
    expect(parseSlo("p99.9=500us")).toMatchObject({ p: 99.9, boundUs: 500 });
    expect(parseSlo("p999=2ms")).toMatchObject({ p: 99.9, boundUs: 2000 });
    expect(() => parseSlo("99=1ms")).toThrow(/p99=1ms/);
    expect(() => parseSlo("p101=1ms")).toThrow();
  });

  test("search brackets by doubling, then bisects to within a few percent", async () => {
    const capacity = 37_000;
    const r = await searchMaxRate({ startRate: 5000, maxRate: 400_000, bisectSteps: 6, probe: async (rate) => ({ ok: rate <= capacity }) });
    expect(r.outcome).toBe("found");
    expect(r.rate).toBeLessThanOrEqual(capacity);
    expect(r.rate).toBeGreaterThan(capacity * 0.95);
    expect(r.probes.length).toBeLessThanOrEqual(4 + 6);
  });

  test("a client-limited probe stops the search with a lower bound", async () => {
    const r = await searchMaxRate({ startRate: 1000, maxRate: 1e6, bisectSteps: 4, probe: async (rate) => ({ ok: true, clientLimited: rate > 3000 }) });
    expect(r.outcome).toBe("client-limited");
    expect(r.rate).toBe(2000);
  });

  test("below the start rate the search halves", async () => {
    const r = await searchMaxRate({ startRate: 8000, maxRate: 1e6, bisectSteps: 4, probe: async (rate) => ({ ok: rate <= 2500 }) });
    expect(r.rate).toBeGreaterThan(2000);
    expect(r.rate).toBeLessThanOrEqual(2500);
  });
});
