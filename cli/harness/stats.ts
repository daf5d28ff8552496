/**
 * Summary statistics for benchmark samples: percentiles, median, spread.
 * One small module with its own tests (test/harness-stats.test.ts), rather than a
 * dependency: we need only nearest-rank percentiles over arrays of numbers.
 */

/** The 1-based nearest rank of percentile `p` (0 < p < 100) among `n` values. */
export function nearestRank(p: number, n: number): number {
  // p * n / 100 in that order, less a hair: (99.9 / 100) * 1000 is 999.0000000000001
  // in floating point, and its ceiling would pick the maximum instead of rank 999.
  const rank = Math.ceil((p * n) / 100 - 1e-9);
  return Math.min(n, Math.max(1, rank));
}

/** Nearest-rank percentile (p in [0, 100]) of already sorted values; NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[n - 1]!;
  return sorted[nearestRank(p, n) - 1]!;
}

/** Percentiles of `values` (copied and sorted numerically). */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return ps.map((p) => percentileSorted(sorted, p));
}

/** Median of `values`. */
export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/**
 * The paired ratio of two variants' repetitions: the median of
 * values[i] / base[i]. Repetition i of each variant ran back to back (the
 * runner interleaves A B A B), so each pair shares the machine's state of the
 * moment, and on a noisy machine this is steadier than a ratio of medians.
 * Undefined with fewer than two pairs (nothing to pair beyond the medians).
 */
export function pairedRatio(values: readonly number[], base: readonly number[]): number | undefined {
  const ratios: number[] = [];
  const n = Math.min(values.length, base.length);
  for (let i = 0; i < n; i++) if (base[i]! > 0) ratios.push(values[i]! / base[i]!);
  return ratios.length >= 2 ? median(ratios) : undefined;
}

/** Spread of repetitions: min, max, and (max - min) / median as a fraction. */
export function spread(values: ArrayLike<number>): { min: number; max: number; relative: number } {
  if (values.length === 0) return { min: NaN, max: NaN, relative: NaN };
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const m = median(values);
  return { min, max, relative: m === 0 ? 0 : (max - min) / m };
}
