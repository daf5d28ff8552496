/**
 * Ratios between two saved runs ("before" A and "after" B): for every
 * cell × variant in either run, ops/s in each, B/A, and the same for p99
 * latency where both have it. Rows only; render with drawTable (render-table.ts).
 */
import type { RunResult, VariantResult } from "./result.ts";
import { fmtInt, fmtNum, type Rows } from "./rows.ts";

/** One compared pair (a missing side is undefined). */
export interface ComparedPair {
  cell: string;
  variant: string;
  a?: VariantResult;
  b?: VariantResult;
  /** b.opsPerSec / a.opsPerSec, when both exist and a > 0. */
  opsRatio?: number;
  /** b.p99 / a.p99, when both have latency. */
  p99Ratio?: number;
}

/** Pairs results of `a` and `b` by (cell, variant), in A's order then B's extras. */
export function compareRuns(a: RunResult, b: RunResult): ComparedPair[] {
  const key = (r: VariantResult) => `${r.cell}\u0000${r.variant}`;
  const order: string[] = [];
  const pairs = new Map<string, ComparedPair>();
  for (const [side, run] of [
    ["a", a],
    ["b", b],
  ] as const) {
    for (const r of run.results) {
      const k = key(r);
      let p = pairs.get(k);
      if (!p) {
        p = { cell: r.cell, variant: r.variant };
        pairs.set(k, p);
        order.push(k);
      }
      p[side] = r;
    }
  }
  return order.map((k) => {
    const p = pairs.get(k)!;
    if (p.a && p.b && p.a.opsPerSec > 0) p.opsRatio = p.b.opsPerSec / p.a.opsPerSec;
    if (p.a?.latencyUs && p.b?.latencyUs && p.a.latencyUs.p99 > 0) p.p99Ratio = p.b.latencyUs.p99 / p.a.latencyUs.p99;
    return p;
  });
}

/** The comparison as rows: cell, variant, A ops/s, B ops/s, B/A, and p99 where known. */
export function compareRows(a: RunResult, b: RunResult): Rows {
  const pairs = compareRuns(a, b);
  const withLatency = pairs.some((p) => p.p99Ratio !== undefined);
  const head = ["cell", "variant", "A ops/s", "B ops/s", "B/A"];
  if (withLatency) head.push("A p99 µs", "B p99 µs", "B/A p99");
  const rows = pairs.map((p) => {
    const row = [
      p.cell,
      p.variant,
      p.a ? fmtInt(p.a.opsPerSec) : "(only in B)",
      p.b ? fmtInt(p.b.opsPerSec) : "(only in A)",
      p.opsRatio !== undefined ? `${p.opsRatio.toFixed(2)}×` : "",
    ];
    if (withLatency) {
      row.push(
        p.a?.latencyUs ? fmtNum(p.a.latencyUs.p99) : "",
        p.b?.latencyUs ? fmtNum(p.b.latencyUs.p99) : "",
        p.p99Ratio !== undefined ? `${p.p99Ratio.toFixed(2)}×` : "",
      );
    }
    return row;
  });
  return { head, rows };
}
