/**
 * What every fio baseline shares: whether fio is installed, and getting the
 * first job out of its `--output-format=json` report (fio may print warnings
 * before the JSON object). Each benchmark builds its own job and reads its
 * own section (read: `read`, fsync-chain: `write` and `sync`).
 */
import { spawnSync } from "node:child_process";

/** fio engines run as baselines. */
export const FIO_ENGINES = ["psync", "io_uring"] as const;
/** A fio engine name. */
export type FioEngine = (typeof FIO_ENGINES)[number];

/** One latency section of a fio job (`lat_ns`, `clat_ns`): nanoseconds, percentiles keyed "99.000000". */
export interface FioLat {
  mean?: number;
  percentile?: Record<string, number>;
}

/** fio's version string, or null when fio is not installed. */
export function fioVersion(): string | null {
  try {
    const r = spawnSync("fio", ["--version"], { encoding: "utf8", timeout: 10_000 });
    return r.status === 0 ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/**
 * The top-level JSON document and its first job from fio's output. Throws when
 * there is no JSON, no job, or the job reports an error.
 */
export function parseFioJob<Job extends { error?: number }>(text: string): { doc: { "fio version"?: string }; job: Job } {
  const start = text.indexOf("{");
  if (start < 0) throw new Error(`fio printed no JSON: ${text.trim().slice(0, 300)}`);
  const doc = JSON.parse(text.slice(start)) as { "fio version"?: string; jobs?: Job[] };
  const job = doc.jobs?.[0];
  if (!job) throw new Error("fio JSON has no job");
  if (job.error) throw new Error(`fio job failed with error ${job.error}`);
  return { doc, job };
}

/** A percentile of a latency section in µs (NaN when fio did not report it); `key` as fio spells it, "99.000000". */
export function fioPercentileUs(lat: FioLat | undefined, key: string): number {
  return (lat?.percentile?.[key] ?? NaN) / 1000;
}
