/**
 * The last step of every benchmark command: wrap the results with their
 * context and show or write them as the common options ask, with the
 * command's own tables beside the shared ones and every note in full.
 *
 * ```ts
 * checkOutputPaths(common);                         // before the run: fail fast on a bad --json/--markdown path
 * const results = await runInterleaved({ variants, ...common, onAbort: "partial", signal });
 * const run = buildRun("read", { bs: 4096, qd: 32, baseline: common.baseline }, results, ["SINGLE_ISSUER"], signal.aborted);
 * finishRun(run, common, { tables: [ratioRows(run)], lines: ["file: ..."] });
 * process.exitCode = exitCodeFor(run);
 * ```
 */
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { runContext } from "./context.ts";
import { OptionError } from "./option-error.ts";
import type { CommonSettings } from "./options.ts";
import { drawTable, renderRun } from "./render-table.ts";
import type { RunResult, VariantResult } from "./result.ts";
import { noteLines, type Rows } from "./rows.ts";
import { renderMarkdown, saveRun, writeJson, RESULTS_DIR } from "./save.ts";

/**
 * Wraps results with the run context (kernel, CPU, Bun version, argv, ring
 * flags); `partial` marks a run stopped by Ctrl-C.
 */
export function buildRun(command: string, options: Record<string, unknown>, results: VariantResult[], ringFlags?: string[], partial = false): RunResult {
  const run: RunResult = { schema: 1, command, context: runContext(ringFlags), options, results };
  if (partial) run.partial = true;
  return run;
}

/** Where output goes (tests swap these). */
export interface OutputStreams {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const defaultStreams: OutputStreams = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** What a command adds to the shared output. */
export interface FinishExtras {
  /** The command's own tables, after the shared grid and detail table (terminal, Markdown, saved .md). */
  tables?: readonly Rows[];
  /** Lines after the tables (what file was read, what verification found); on stderr when stdout carries JSON. */
  lines?: readonly string[];
  /** Where output goes (default: the process streams; tests capture). */
  streams?: OutputStreams;
  /** Folder for --save (tests use a temp dir). */
  resultsDir?: string;
}

/** The banner of an interrupted run, above and below its tables. */
export const PARTIAL_MARKER = "PARTIAL RESULTS: interrupted by Ctrl-C; the numbers cover only the repetitions that finished.";

/**
 * Shows and writes a finished run:
 * - `--json` alone: JSON on stdout (and nothing else there); `--json PATH`: write it.
 * - else `--markdown` alone: Markdown on stdout; `--markdown PATH`: write it.
 * - else, unless `--quiet`: the grid, the detail table, the command's tables,
 *   the notes in full and the command's lines on stdout.
 * - `--save`: results/<date>-<command>-<host>.json and .md.
 * A partial run says so first and last. File paths written are reported on
 * stderr (unless quiet). Returns them.
 */
export function finishRun(run: RunResult, settings: CommonSettings, extras: FinishExtras = {}): string[] {
  const streams = extras.streams ?? defaultStreams;
  const tables = (extras.tables ?? []).filter((t) => t.rows.length > 0);
  const lines = extras.lines ?? [];
  const written: string[] = [];
  const baseline = settings.baseline;
  const markdown = () => renderMarkdown(run, baseline, tables);
  // Lines go where the tables go; with JSON on stdout they go to stderr.
  const toStdout = settings.json !== true && !settings.quiet;
  const side = toStdout ? streams.stdout : streams.stderr;
  if (settings.json === true) {
    streams.stdout(`${JSON.stringify(run, null, 2)}\n`);
  } else if (settings.markdown === true) {
    streams.stdout(markdown());
  } else if (!settings.quiet) {
    const notes = noteLines(run);
    const parts = [
      ...(run.partial ? [PARTIAL_MARKER] : []),
      renderRun(run, baseline),
      ...tables.map(drawTable),
      ...(notes.length > 0 ? [`notes:\n${notes.map((n) => `  ${n}`).join("\n")}`] : []),
    ];
    streams.stdout(`${parts.join("\n")}\n`);
  }
  if (!settings.quiet || settings.json === true) for (const l of lines) side(`${l}\n`);
  if (run.partial) side(`${PARTIAL_MARKER}\n`);

  if (typeof settings.json === "string") {
    writeJson(run, settings.json);
    written.push(settings.json);
  }
  if (typeof settings.markdown === "string") {
    mkdirSync(dirname(settings.markdown), { recursive: true });
    writeFileSync(settings.markdown, markdown());
    written.push(settings.markdown);
  }
  if (settings.save) {
    const paths = saveRun(run, extras.resultsDir ?? RESULTS_DIR, baseline, tables);
    written.push(paths.json, paths.markdown);
  }
  if (!settings.quiet) for (const p of written) streams.stderr(`wrote ${p}\n`);
  return written;
}

/**
 * Checks, before anything runs, that every file the run will write can be
 * written: `--json PATH`, `--markdown PATH` and `--save`'s folder. The path
 * must not be a directory, and the nearest existing folder above it must be
 * writable (folders that do not exist yet are created at the end). Throws
 * {@link OptionError} naming the flag, so a long run never ends in "cannot write".
 */
export function checkOutputPaths(settings: CommonSettings, resultsDir = RESULTS_DIR): void {
  const check = (flag: string, path: string, isDir: boolean) => {
    const full = resolve(path);
    if (!isDir && existsSync(full) && statSync(full).isDirectory()) {
      throw new OptionError(`${flag} ${path}: is a directory; give a file name such as ${path.replace(/\/$/, "")}/run.json.`, "output-path");
    }
    let dir = isDir ? full : dirname(full);
    while (!existsSync(dir)) dir = dirname(dir);
    if (!statSync(dir).isDirectory()) throw new OptionError(`${flag} ${path}: ${dir} is not a directory.`, "output-path");
    const target = existsSync(full) && !isDir ? full : dir;
    try {
      accessSync(target, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EACCES";
      throw new OptionError(`${flag} ${path}: cannot write ${target} (${code}); choose a writable location.`, "output-path");
    }
  };
  if (typeof settings.json === "string") check("--json", settings.json, false);
  if (typeof settings.markdown === "string") check("--markdown", settings.markdown, false);
  if (settings.save) check("--save", resultsDir, true);
}
