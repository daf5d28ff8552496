/**
 * Terminal rendering of a RunResult with cli-table3: the seed-style grid
 * (cells × variants, ops/s) and the detail table (percentiles, CPU, errors,
 * ratio to a baseline). Rows come from rows.ts; this file only draws them.
 */
import Table from "cli-table3";
import type { RunResult } from "./result.ts";
import { contextLine, detailRows, gridRows, isNumericColumn, type Rows } from "./rows.ts";

/**
 * cli-table3 options shared by every table: no colours (output is often piped
 * or saved) and no rule between body rows (long tables stay readable).
 */
export const TABLE_STYLE = {
  // compact: a rule under the header only, none between body rows.
  style: { head: [] as string[], border: [] as string[], compact: true },
};

/**
 * Draws rows as a cli-table3 table: the first column and text columns on the
 * left, columns whose every value is numeric on the right.
 */
export function drawTable(rows: Rows): string {
  const table = new Table({
    head: rows.head,
    ...TABLE_STYLE,
    colAligns: rows.head.map((_, i) => (isNumericColumn(rows, i) ? "right" : "left")),
  });
  for (const r of rows.rows) table.push(r);
  return table.toString();
}

/** The seed-style grid: rows = cells, a column per variant, ops/s. */
export function renderGrid(run: RunResult): string {
  return drawTable(gridRows(run));
}

/** The detail table: one row per cell × variant, with ratio to `baseline` (default: options.baseline or the cell's first variant). */
export function renderDetail(run: RunResult, baseline?: string): string {
  return drawTable(detailRows(run, baseline));
}

/** Context line, grid and detail table, ready to print. */
export function renderRun(run: RunResult, baseline?: string): string {
  return [contextLine(run), renderGrid(run), renderDetail(run, baseline)].join("\n");
}
