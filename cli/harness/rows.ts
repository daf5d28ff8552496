/**
 * A RunResult as plain rows of strings, with units in the headers: the one
 * place that decides what the tables show. Terminal tables (render-table.ts,
 * cli-table3) and Markdown (save.ts) both render these rows.
 */
import type { RunResult, VariantResult } from "./result.ts";
import { pairedRatio, spread } from "./stats.ts";

/** A table as data: header and rows of cell strings. */
export interface Rows {
  head: string[];
  rows: string[][];
}

/** A value that reads as a number ("12345", "2.06×", "87%", "-", "12 (2 err)"). */
const NUMERIC = /^(?:[-+]?[\d.,]+(?:%|×|[kMG])?(?: \(.*\))?|-|failed|)$/;

/** Should column `i` line up on the right? Yes when it is not the first and every value is numeric. */
export function isNumericColumn(rows: Rows, i: number): boolean {
  return i > 0 && rows.rows.every((r) => NUMERIC.test(r[i] ?? ""));
}

/** Cells in order of first appearance. */
export function cellsOf(results: readonly VariantResult[]): string[] {
  return [...new Set(results.map((r) => r.cell))];
}

/** Variant names in order of first appearance. */
export function variantsOf(results: readonly VariantResult[]): string[] {
  return [...new Set(results.map((r) => r.variant))];
}

/**
 * The variant that ratios in `cell` compare against: `preferred` when that
 * cell has it, else the cell's first variant.
 */
export function baselineFor(results: readonly VariantResult[], cell: string, preferred?: string): VariantResult | undefined {
  const inCell = results.filter((r) => r.cell === cell);
  return inCell.find((r) => r.variant === preferred) ?? inCell[0];
}

/** The baseline a run asks for: explicit argument, else options.baseline, else none (first variant per cell). */
export function preferredBaseline(run: RunResult, explicit?: string): string | undefined {
  if (explicit) return explicit;
  const b = run.options.baseline;
  return typeof b === "string" ? b : undefined;
}

/**
 * The seed-style grid: one row per cell, one column per variant, ops/s
 * (median of repetitions). A variant with errors shows "(N err)".
 */
export function gridRows(run: RunResult): Rows {
  const variants = variantsOf(run.results);
  const head = ["", ...variants.map((v) => `${v} ops/s`)];
  const rows = cellsOf(run.results).map((cell) => [
    cell,
    ...variants.map((v) => {
      const r = run.results.find((x) => x.cell === cell && x.variant === v);
      if (!r) return "";
      // No repetition: failed if it had errors, else not run (interrupted, unsupported here).
      if (r.repetitions.length === 0) return r.errors > 0 ? "failed" : "-";
      return fmtInt(r.opsPerSec) + (r.errors > 0 ? ` (${r.errors} err)` : "");
    }),
  ]);
  return { head, rows };
}

/**
 * The detail table: one row per cell × variant with throughput, spread over
 * repetitions, MB/s, latency percentiles, CPU, errors and the ratio to the
 * baseline. Columns that no result fills are left out.
 */
export function detailRows(run: RunResult, baseline?: string): Rows {
  const pref = preferredBaseline(run, baseline);
  type Col = { head: string; get: (r: VariantResult) => string };
  const cols: Col[] = [
    { head: "cell", get: (r) => r.cell },
    { head: "variant", get: (r) => r.variant },
    { head: "ops/s", get: (r) => fmtInt(r.opsPerSec) },
    {
      head: "± spread",
      get: (r) => (r.repetitions.length > 1 ? `${(spread(r.repetitions).relative * 100).toFixed(1)}%` : ""),
    },
    { head: "MB/s", get: (r) => (r.bytesPerSec !== undefined ? fmtNum(r.bytesPerSec / 1e6) : "") },
    { head: "p50 µs", get: (r) => (r.latencyUs ? fmtNum(r.latencyUs.p50) : "") },
    { head: "p99 µs", get: (r) => (r.latencyUs ? fmtNum(r.latencyUs.p99) : "") },
    { head: "p99.9 µs", get: (r) => (r.latencyUs ? fmtNum(r.latencyUs.p999) : "") },
    { head: "server CPU", get: (r) => fmtCpu(r.cpu?.server) },
    { head: "client CPU", get: (r) => fmtCpu(r.cpu?.client) },
    { head: "CPU", get: (r) => fmtCpu(r.cpu?.self) },
    { head: "errors", get: (r) => String(r.errors) },
    {
      head: `× ${pref ?? "baseline"}`,
      get: (r) => {
        const b = baselineFor(run.results, r.cell, pref);
        if (!b || b.opsPerSec <= 0 || r.repetitions.length === 0) return "";
        return `${(r.opsPerSec / b.opsPerSec).toFixed(2)}×`;
      },
    },
    {
      // The median of per-repetition ratios (see pairedRatio): what to trust on a noisy machine.
      head: "paired",
      get: (r) => {
        const b = baselineFor(run.results, r.cell, pref);
        if (!b || b === r) return "";
        const p = pairedRatio(r.repetitions, b.repetitions);
        return p === undefined ? "" : `${p.toFixed(2)}×`;
      },
    },
    { head: "notes", get: (r) => (r.notes ?? []).map(shortNote).join("; ") },
  ];
  const raw = run.results.map((r) => cols.map((c) => c.get(r)));
  // Keep a column if any row fills it; "errors" always stays (a zero is news too).
  const keep = cols.map((c, i) => c.head === "errors" || raw.some((row) => row[i] !== ""));
  return {
    head: cols.filter((_, i) => keep[i]).map((c) => c.head),
    rows: raw.map((row) => row.filter((_, i) => keep[i])),
  };
}

/** Longest note shown in a table cell; the saved JSON keeps the whole text. */
export const NOTE_MAX_CHARS = 100;

/** A note as one table-friendly line: first line only, capped at {@link NOTE_MAX_CHARS}. */
export function shortNote(note: string): string {
  const first = note.split(/\r?\n/, 1)[0]!.trim();
  const more = first.length < note.trim().length;
  if (first.length > NOTE_MAX_CHARS) return `${first.slice(0, NOTE_MAX_CHARS - 1)}…`;
  return more ? `${first} …` : first;
}

/**
 * Every note of every result, whole ("c:1000 bytes:512 uring: setup failed: ..."):
 * the table cell shows a shortened note, this list the full text (a fix hint
 * such as a seccomp profile is often at the end).
 */
export function noteLines(run: RunResult): string[] {
  const out: string[] = [];
  const cells = cellsOf(run.results).length;
  for (const r of run.results) {
    for (const n of r.notes ?? []) {
      if (n === "FAILED") continue;
      out.push(`${cells > 1 ? `${r.cell} ` : ""}${r.variant}: ${n.trim().replace(/\r?\n/g, " ")}`);
    }
  }
  return out;
}

/** One-line description of where the run was made. */
export function contextLine(run: RunResult): string {
  const c = run.context;
  return `${run.command} on ${c.host}: Linux ${c.kernel}, ${c.cpuModel} × ${c.cpus}, Bun ${c.bunVersion}, shim ${c.shimBuild}, ${c.date}`;
}

/** 12345.6 → "12346". */
export function fmtInt(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toString() : "-";
}

/** Three significant digits, never exponent notation: 0.0123, 1.23, 12.3, 123, 12345. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return "-";
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toString();
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return "0";
  return v.toPrecision(3);
}

/** 0.873 → "87%" of one core. */
export function fmtCpu(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "" : `${Math.round(v * 100)}%`;
}
