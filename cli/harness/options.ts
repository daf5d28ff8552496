/**
 * Options every benchmark command shares, declared once (commander's
 * "shared options" pattern), and the value parsers commands reuse for their
 * own flags. Every parser throws {@link OptionError} (a commander
 * `InvalidArgumentError`) with a message that names the flag and says what a
 * valid value looks like; sizes and counts all go through size.ts.
 *
 * Usage in a command file:
 * ```ts
 * const cmd = addCommonOptions(new Command("read"), { durationMs: 3000 });
 * cmd.option("--qd <n>", "queue depth", positiveInt("--qd"), 32)
 *    .action(async (raw) => {
 *      const common = commonSettings(raw);    // durationMs, warmupMs, repeat, quiet, ...
 *      ...
 *      await finishRun(run, common);          // cli/harness/output.ts: table, --json, --markdown, --save
 *    });
 * ```
 */
import { Command, Option } from "commander";
import { OptionError } from "./option-error.ts";
import { parseSize } from "./size.ts";

/** Defaults a command may override when it adds the common options. */
export interface CommonDefaults {
  /** Measured duration of one repetition, ms. */
  durationMs: number;
  /** Warm-up before a variant's first repetition, ms. */
  warmupMs: number;
  /** Interleaved repetitions per variant. */
  repeat: number;
}

/**
 * Defaults: 2 s per repetition is long enough for a stable rate on this kind
 * of machine, 3 repetitions give a median and a spread, and 500 ms of warm-up
 * lets JSC tier up the hot loop before we measure it.
 */
export const COMMON_DEFAULTS: Readonly<CommonDefaults> = { durationMs: 2000, warmupMs: 500, repeat: 3 };

/**
 * Most repetitions a run may ask for. The runner plans every run up front
 * (one entry per repetition and variant), so an absurd -r would grow memory
 * without bound; 1000 repetitions of even 100 ms is over a day per variant.
 */
export const MAX_REPEAT = 1000;

/** The parsed common options, ready for the runner and the output step. */
export interface CommonSettings {
  durationMs: number;
  warmupMs: number;
  repeat: number;
  /** `true`: print JSON to stdout instead of tables; a string: also write JSON to that path. */
  json?: string | true;
  /** `true`: print Markdown to stdout instead of tables; a string: also write Markdown to that path. */
  markdown?: string | true;
  /** No progress line, no tables (files are still written). */
  quiet: boolean;
  /** Save to results/<date>-<command>-<host>.json (+ .md). */
  save: boolean;
  /** Variant that ratio columns compare against (default: the first variant of each cell). */
  baseline?: string;
}

/**
 * Adds --duration, --warmup, --repeat, --json [path], --markdown [path],
 * --quiet, --save and --baseline to `cmd`. Returns `cmd` for chaining.
 */
export function addCommonOptions(cmd: Command, defaults: Partial<CommonDefaults> = {}): Command {
  const d = { ...COMMON_DEFAULTS, ...defaults };
  return cmd
    .addOption(
      new Option("-d, --duration <time>", "measured time per repetition (e.g. 2s, 500ms, 1m; bare numbers are seconds)")
        .argParser(durationMs("--duration"))
        .default(d.durationMs, formatMs(d.durationMs)),
    )
    .addOption(
      new Option("-w, --warmup <time>", "warm-up per variant before its first repetition (0 to skip)")
        .argParser(durationMs("--warmup", true))
        .default(d.warmupMs, formatMs(d.warmupMs)),
    )
    .addOption(
      new Option("-r, --repeat <n>", "interleaved repetitions per variant (median and spread over them)")
        .argParser(positiveInt("--repeat", MAX_REPEAT))
        .default(d.repeat),
    )
    .option("--json [path]", "print the result as JSON instead of tables, or write it to <path>")
    .option("--markdown [path]", "print the result as Markdown tables, or write them to <path>")
    .option("-q, --quiet", "no progress line and no tables", false)
    .option("--save", "save to results/<date>-<command>-<host>.json and .md", false)
    .option("--baseline <variant>", "variant the ratio column compares against (default: first variant)");
}

/** Picks the common settings out of a command's parsed options object. */
export function commonSettings(opts: Record<string, unknown>): CommonSettings {
  const num = (k: string, fallback: number) => (typeof opts[k] === "number" ? (opts[k] as number) : fallback);
  const pathOrTrue = (v: unknown): string | true | undefined => (v === true ? true : typeof v === "string" && v.length > 0 ? v : undefined);
  return {
    durationMs: num("duration", COMMON_DEFAULTS.durationMs),
    warmupMs: num("warmup", COMMON_DEFAULTS.warmupMs),
    repeat: num("repeat", COMMON_DEFAULTS.repeat),
    json: pathOrTrue(opts.json),
    markdown: pathOrTrue(opts.markdown),
    quiet: opts.quiet === true,
    save: opts.save === true,
    baseline: typeof opts.baseline === "string" ? opts.baseline : undefined,
  };
}

/** "2000" ms → "2s"; used for option help defaults. */
function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Parser for a duration flag: "2s", "500ms", "1.5s", "1m", or a bare number of seconds. Returns ms. */
export function durationMs(flag: string, allowZero = false): (value: string) => number {
  return (value: string) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
    if (!m) {
      throw new OptionError(`${flag} takes a duration like 2s, 500ms or 1m, got "${value}".`);
    }
    const n = Number(m[1]);
    const unit = m[2] ?? "s";
    const ms = unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000;
    if (!allowZero && ms <= 0) throw new OptionError(`${flag} must be longer than zero, got "${value}".`);
    return Math.round(ms);
  };
}

/** Parser for a positive integer flag (1, 2, ... up to `max`). Accepts 4k / 1m suffixes (×1024). */
export function positiveInt(flag: string, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => parseSize(flag, value, { min: 1, max, what: "a positive integer (e.g. 32 or 4k)" });
}

/** Parser for a non-negative integer flag (0, 1, ...). */
export function nonNegativeInt(flag: string): (value: string) => number {
  return (value: string) => parseSize(flag, value, { min: 0, what: "an integer >= 0" });
}

/** Parser for a comma-separated list of positive integers, e.g. "128,512,1000" or "4k,64k". */
export function intList(flag: string): (value: string) => number[] {
  const one = positiveInt(flag);
  return (value: string) => {
    const parts = value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (parts.length === 0) throw new OptionError(`${flag} takes a comma-separated list like 128,512,1000, got "${value}".`);
    return parts.map((p) => {
      try {
        return one(p);
      } catch {
        throw new OptionError(`${flag} takes a comma-separated list of positive integers (e.g. 128,512,1000), and "${p}" is not one.`);
      }
    });
  };
}

/** Parser for a comma-separated list of names restricted to `allowed`, e.g. variants. */
export function choiceList(flag: string, allowed: readonly string[]): (value: string) => string[] {
  return (value: string) => {
    const parts = value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const bad = parts.filter((p) => !allowed.includes(p));
    if (parts.length === 0 || bad.length > 0) {
      throw new OptionError(`${flag}: ${bad.length > 0 ? `unknown ${bad.map((b) => `"${b}"`).join(", ")}` : "empty list"}; choose from ${allowed.join(", ")}.`);
    }
    return parts;
  };
}

/** Parser for a CPU list like "0", "0,1" or "0-3" (checked against the CPUs that exist). */
export function cpuList(flag: string, cpuCount: number): (value: string) => number[] {
  return (value: string) => {
    const out: number[] = [];
    for (const part of value.split(",")) {
      const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
      if (!m) throw new OptionError(`${flag} takes CPU numbers like 0, 0,1 or 0-3, got "${value}".`);
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo) throw new OptionError(`${flag}: range "${part.trim()}" runs backwards.`);
      for (let c = lo; c <= hi; c++) {
        if (c >= cpuCount) {
          throw new OptionError(`${flag}: CPU ${c} does not exist here (CPUs 0-${cpuCount - 1}).`);
        }
        if (!out.includes(c)) out.push(c);
      }
    }
    return out;
  };
}

/**
 * Checks --baseline against the variants a run will have: an unknown name
 * would silently compare against another variant under its label.
 * Throws {@link OptionError} listing the valid names.
 */
export function checkBaseline(baseline: string | undefined, variants: readonly string[]): void {
  if (baseline === undefined || variants.includes(baseline)) return;
  throw new OptionError(`--baseline ${baseline}: no such variant in this run; choose one of ${[...new Set(variants)].join(", ")}.`, "baseline");
}
