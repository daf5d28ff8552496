/** cli/harness/stats.ts: nearest-rank percentiles, median, spread, the bounded latency recorder. */
import { describe, expect, test } from "bun:test";
import { median, pairedRatio, percentiles, percentileSorted, spread } from "../cli/harness/stats.ts";

describe("percentiles", () => {
  test("nearest rank over 1..100", () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted on purpose
    expect(percentiles(v, [0, 1, 50, 90, 99, 99.9, 100])).toEqual([1, 1, 50, 90, 99, 100, 100]);
  });

  test("small arrays and edges", () => {
    expect(percentileSorted([], 50)).toBeNaN();
    expect(percentileSorted([7], 0)).toBe(7);
    expect(percentileSorted([7], 99.9)).toBe(7);
    expect(percentileSorted([1, 2], 50)).toBe(1);
    expect(percentileSorted([1, 2], 51)).toBe(2);
    expect(percentileSorted([1, 2, 3, 4], -5)).toBe(1);
    expect(percentileSorted([1, 2, 3, 4], 200)).toBe(4);
  });

  test("numeric, not lexicographic, sort; input untouched", () => {
    const v = [10, 9, 100, 1];
    expect(percentiles(v, [50, 100])).toEqual([9, 100]);
    expect(v).toEqual([10, 9, 100, 1]);
    expect(percentiles(new Float64Array([3, 1, 2]), [50])).toEqual([2]);
  });

  test("p99.9 needs 1000 samples to differ from max", () => {
    const v = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentiles(v, [99, 99.9])).toEqual([990, 999]);
  });
});

describe("median and spread", () => {
  test("median of odd, even, empty", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  test("spread: min, max and relative width", () => {
    expect(spread([90, 100, 110])).toEqual({ min: 90, max: 110, relative: 0.2 });
    expect(spread([5])).toEqual({ min: 5, max: 5, relative: 0 });
    expect(spread([0, 0])).toEqual({ min: 0, max: 0, relative: 0 });
    const e = spread([]);
    expect([e.min, e.max, e.relative].every(Number.isNaN)).toBe(true);
  });
});

describe("pairedRatio", () => {
  test("the median of repetition-by-repetition ratios, steadier than a ratio of medians under drift", () => {
    // Both variants drift together (the machine slowed down mid-run): each pair is exactly 2×.
    expect(pairedRatio([200, 100, 300, 50], [100, 50, 150, 25])).toBe(2);
    // Odd count, unequal lengths (extra repetitions are ignored), a zero base skipped.
    expect(pairedRatio([3, 4, 5, 9], [1, 1, 0])).toBe(3.5);
    expect(pairedRatio([1, 2, 3], [1, 1, 1])).toBe(2);
    // Fewer than two pairs: nothing beyond the medians.
    expect(pairedRatio([5], [1])).toBeUndefined();
    expect(pairedRatio([], [])).toBeUndefined();
  });
});
