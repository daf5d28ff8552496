/**
 * Saving and loading runs: `results/<date>-<command>-<host>.json` holds the
 * RunResult (numbers and context), a `.md` beside it the Markdown tables.
 * Loading validates the record and says exactly what is wrong with a bad file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { RunResult } from "./result.ts";
import { contextLine, detailRows, gridRows, isNumericColumn, noteLines, type Rows } from "./rows.ts";

/** Default folder for saved runs (relative to the current directory). */
export const RESULTS_DIR = "results";

/** `results/2026-11-22-read-myhost` (no extension); host made filename-safe. */
export function resultBaseName(run: RunResult): string {
  const date = (run.context.date || new Date().toISOString()).slice(0, 10);
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");
  return `${date}-${safe(run.command)}-${safe(run.context.host)}`;
}

/**
 * Saves `run` as JSON and Markdown under `dir`. An existing file of the same
 * day is never overwritten: the name gets "-2", "-3", ... Returns both paths.
 */
export function saveRun(run: RunResult, dir = RESULTS_DIR, baseline?: string, tables: readonly Rows[] = []): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const base = resultBaseName(run);
  let name = base;
  for (let i = 2; existsSync(join(dir, `${name}.json`)) || existsSync(join(dir, `${name}.md`)); i++) name = `${base}-${i}`;
  const json = join(dir, `${name}.json`);
  const markdown = join(dir, `${name}.md`);
  writeJson(run, json);
  writeText(renderMarkdown(run, baseline, tables), markdown);
  return { json, markdown };
}

/** Writes the RunResult as pretty JSON (creating folders). */
export function writeJson(run: RunResult, path: string): void {
  writeText(`${JSON.stringify(run, null, 2)}\n`, path);
}

function writeText(text: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A Markdown table from rows (pipes in cells escaped). */
export function markdownTable(rows: Rows): string {
  // A newline would end the table row: cells become one line.
  const esc = (s: string) => s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  const line = (cells: string[]) => `| ${cells.map(esc).join(" | ")} |`;
  const rule = `|${rows.head
    .map((_, i) => (isNumericColumn(rows, i) ? "---:" : "---"))
    .map((r) => `${r}|`)
    .join("")}`;
  return [line(rows.head), rule, ...rows.rows.map(line)].join("\n");
}

/**
 * The Markdown page for a run: context, the seed-style grid, the detail
 * table, the command's own `tables`, the notes in full, the command line.
 */
export function renderMarkdown(run: RunResult, baseline?: string, tables: readonly Rows[] = []): string {
  const notes = noteLines(run);
  return [
    `## ${run.command}${run.partial ? " (partial: interrupted)" : ""}`,
    "",
    contextLine(run),
    "",
    markdownTable(gridRows(run)),
    "",
    markdownTable(detailRows(run, baseline)),
    "",
    ...tables.filter((t) => t.rows.length > 0).flatMap((t) => [markdownTable(t), ""]),
    ...(notes.length > 0 ? ["Notes:", "", ...notes.map((n) => `- ${n}`), ""] : []),
    "Command:",
    "",
    "```sh",
    run.context.argv.map(shellQuote).join(" "),
    "```",
    "",
  ].join("\n");
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A result file that cannot be used, with the reason. */
export class ResultFileError extends Error {
  /** The file in question. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "ResultFileError";
    this.path = path;
  }
}

/** Reads and validates a saved RunResult. Throws {@link ResultFileError} saying what is wrong. */
export function loadRun(path: string): RunResult {
  if (!existsSync(path)) throw new ResultFileError(path, "no such file (saved runs live in results/; create one with --save or --json <path>)");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ResultFileError(path, `cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ResultFileError(path, `not valid JSON (${err instanceof Error ? err.message : String(err)}); is it a uring-bench result file?`);
  }
  const problem = validateRunResult(data);
  if (problem) throw new ResultFileError(path, `not a uring-bench result (schema 1): ${problem}`);
  return data as RunResult;
}

/** Checks the shape of a RunResult; returns the first problem found, or null. */
export function validateRunResult(data: unknown): string | null {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return "the top level must be an object";
  const d = data as Record<string, unknown>;
  if (d.schema !== 1) return `"schema" must be 1, got ${JSON.stringify(d.schema)}`;
  if (typeof d.command !== "string") return `"command" must be a string`;
  if (typeof d.context !== "object" || d.context === null) return `"context" is missing`;
  const ctx = d.context as Record<string, unknown>;
  for (const k of ["date", "host", "kernel"]) if (typeof ctx[k] !== "string") return `"context.${k}" must be a string`;
  if (!Array.isArray(ctx.argv)) return `"context.argv" must be an array`;
  if (typeof d.options !== "object" || d.options === null) return `"options" must be an object`;
  if (!Array.isArray(d.results)) return `"results" must be an array`;
  for (let i = 0; i < d.results.length; i++) {
    const r = d.results[i] as Record<string, unknown> | null;
    const at = `results[${i}]`;
    if (typeof r !== "object" || r === null) return `${at} must be an object`;
    if (typeof r.variant !== "string") return `${at}.variant must be a string`;
    if (typeof r.cell !== "string") return `${at}.cell must be a string`;
    if (typeof r.opsPerSec !== "number") return `${at}.opsPerSec must be a number`;
    if (!Array.isArray(r.repetitions) || r.repetitions.some((x) => typeof x !== "number")) return `${at}.repetitions must be an array of numbers`;
    if (typeof r.errors !== "number") return `${at}.errors must be a number`;
  }
  return null;
}
