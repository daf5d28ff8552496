import { describe, expect, test } from "bun:test";
import { LatencyRecorder } from "../cli/harness/latency.ts";
import { percentiles } from "../cli/harness/stats.ts";

/** Within the histogram's stated precision (0.4%) of the exact value. */
function near(actual: number, exact: number): void {
  expect(Math.abs(actual - exact)).toBeLessThanOrEqual(exact * 0.004 + 1e-9);
}

describe("LatencyRecorder", () => {
  test("small sets: exact count, mean, min and max; percentiles within 0.4%", () => {
    const r = new LatencyRecorder();
    for (const x of [5, 1, 4, 2, 3]) r.record(x);
    expect(r.count).toBe(5);
    expect(r.mean).toBe(3);
    const [p0, p50, p100] = r.percentiles([0, 50, 100]) as [number, number, number];
    expect(p0).toBe(1);
    expect(p100).toBe(5);
    near(p50, 3);
  });

  test("values below 128 × resolution are exact", () => {
    const r = new LatencyRecorder(1);
    for (let v = 0; v < 100; v++) r.record(v);
    // Nearest rank 50 of 0..99 is 49, alone in its bucket [49, 50): reported as that bucket's middle.
    expect(r.percentiles([50, 99])).toEqual([49.5, 98.5]);
  });

  test("matches exact percentiles of a wide distribution within 0.4%", () => {
    // Log-uniform from 1 µs to 10 s (in µs): every bucket range, both integer and floating-point paths.
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 50_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      values.push(10 ** (7 * (x / 2147483648)));
    }
    const r = new LatencyRecorder();
    for (const v of values) r.record(v);
    const ps = [1, 10, 50, 90, 99, 99.9];
    const exact = percentiles(values, ps);
    const got = r.percentiles(ps);
    ps.forEach((_, i) => near(got[i]!, exact[i]!));
    expect(r.percentiles([100])[0]).toBe(Math.max(...values));
  });

  test("constant cost, no cap: a long run keeps every value's weight", () => {
    // 2M values, the first half 10 and the second half 1000: a recorder that
    // stopped keeping or under-weighted late values would put p75 at 10.
    const r = new LatencyRecorder();
    for (let i = 0; i < 1_000_000; i++) r.record(10);
    for (let i = 0; i < 1_000_000; i++) r.record(1000);
    expect(r.count).toBe(2_000_000);
    near(r.percentiles([75])[0]!, 1000);
    near(r.percentiles([25])[0]!, 10);
  });

  test("negative values count as 0, NaN is ignored, huge values land in the top buckets", () => {
    const r = new LatencyRecorder();
    r.record(-3);
    r.record(NaN);
    r.record(1e300);
    expect(r.count).toBe(2);
    expect(r.percentiles([0, 100])).toEqual([0, 1e300]);
  });

  test("reset forgets warm-up values", () => {
    const r = new LatencyRecorder();
    r.record(1000);
    r.reset();
    r.record(1);
    expect(r.count).toBe(1);
    expect(r.percentiles([100])).toEqual([1]);
    expect(r.percentiles([50])).toEqual([1]);
  });

  test("snapshots merge into the recorder of all values (Workers post them)", () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    const all = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) {
      (i % 3 === 0 ? a : b).record(i);
      all.record(i);
    }
    const merged = new LatencyRecorder();
    merged.merge(a.snapshot());
    merged.merge(b.snapshot());
    expect(merged.count).toBe(1000);
    expect(merged.mean).toBeCloseTo(all.mean, 9);
    expect(merged.percentiles([0, 50, 99, 100])).toEqual(all.percentiles([0, 50, 99, 100]));
    expect(() => merged.merge(new LatencyRecorder(1).snapshot())).toThrow(/resolution/);
  });

  test("a bad resolution is refused", () => {
    expect(() => new LatencyRecorder(0)).toThrow(/resolution/);
    expect(() => new LatencyRecorder(Number.NaN)).toThrow(/resolution/);
  });
});
