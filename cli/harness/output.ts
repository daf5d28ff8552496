/**
 * The last step of every benchmark command: wrap the results with their
 * context and show or write them as the common options ask.
 *
 * ```ts
 * const results = await runInterleaved({ variants, ...common, onProgress: createProgress({ quiet: common.quiet, totalMs }) });
 * const run = buildRun("read", { bs: 4096, qd: 32, baseline: common.baseline }, results, ["SINGLE_ISSUER"]);
 * finishRun(run, common);
 * ```
 */
import { runContext } from "./context.ts";
import type { CommonSettings } from "./options.ts";
import { renderRun } from "./render-table.ts";
import type { RunResult, VariantResult } from "./result.ts";
import { renderMarkdown, saveRun, writeJson, RESULTS_DIR } from "./save.ts";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** Wraps results with the run context (kernel, CPU, Bun version, argv, ring flags). */
export function buildRun(
  command: string,
  options: Record<string, unknown>,
  results: VariantResult[],
  ringFlags?: string[],
): RunResult {
  return { schema: 1, command, context: runContext(ringFlags), options, results };
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

/**
 * Shows and writes a finished run:
 * - `--json` alone: JSON on stdout (and nothing else there); `--json PATH`: write it.
 * - else `--markdown` alone: Markdown on stdout; `--markdown PATH`: write it.
 * - else, unless `--quiet`: the grid and detail tables on stdout.
 * - `--save`: results/<date>-<command>-<host>.json and .md.
 * File paths written are reported on stderr (unless quiet). Returns them.
 */
export function finishRun(run: RunResult, settings: CommonSettings, streams: OutputStreams = defaultStreams, resultsDir = RESULTS_DIR): string[] {
  const written: string[] = [];
  const baseline = settings.baseline;
  if (settings.json === true) streams.stdout(`${JSON.stringify(run, null, 2)}\n`);
  else if (settings.markdown === true) streams.stdout(renderMarkdown(run, baseline));
  else if (!settings.quiet) streams.stdout(`${renderRun(run, baseline)}\n`);

  if (typeof settings.json === "string") {
    writeJson(run, settings.json);
    written.push(settings.json);
  }
  if (typeof settings.markdown === "string") {
    mkdirSync(dirname(settings.markdown), { recursive: true });
    writeFileSync(settings.markdown, renderMarkdown(run, baseline));
    written.push(settings.markdown);
  }
  if (settings.save) {
    const paths = saveRun(run, resultsDir, baseline);
    written.push(paths.json, paths.markdown);
  }
  if (!settings.quiet) for (const p of written) streams.stderr(`wrote ${p}\n`);
  return written;
}
