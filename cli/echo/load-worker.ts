#!/usr/bin/env bun
/**
 * The load generator as a child process (so it runs pinned on its own CPU
 * and the parent stays free to handle signals): runs {@link runLoad} and
 * prints one line `RESULT <json of LoadResult>`; errors go to stderr with exit code 1.
 *
 * Usage: bun load-worker.ts --host H --port P -c N -b BYTES --duration MS --warmup MS [--server-pid PID] [--setup defer|coop|none]
 *        [--submit-every N] [--small-pages]   (LoadOptions, for experiments)
 */
import { runLoad, type LoadResult } from "./load.ts";
import { URING_SETUPS } from "./setups.ts";

/** Prefix of the result line on stdout. */
export const RESULT_PREFIX = "RESULT ";

/** Parses a RESULT line (null when `line` is not one). */
export function parseResultLine(line: string): LoadResult | null {
  if (!line.startsWith(RESULT_PREFIX)) return null;
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as LoadResult;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string): number => {
    const v = Number(arg(name));
    if (!Number.isFinite(v)) {
      process.stderr.write(`load worker: ${name} needs a number\n`);
      process.exit(2);
    }
    return v;
  };
  try {
    const pid = arg("--server-pid");
    const result = runLoad({
      host: arg("--host") ?? "127.0.0.1",
      port: num("--port"),
      connections: num("-c"),
      bytes: num("-b"),
      durationMs: num("--duration"),
      warmupMs: num("--warmup"),
      serverPid: pid === undefined ? undefined : Number(pid),
      ring: URING_SETUPS[arg("--setup") ?? "defer"],
      submitEvery: arg("--submit-every") === undefined ? undefined : Number(arg("--submit-every")),
      hugePages: !argv.includes("--small-pages"),
    });
    // NaN is not JSON: send null and let the parent read it back as "unknown".
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v))}\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`load generator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
