/**
 * fio baselines: the same workload run by fio, `--fdatasync=1` after every
 * write, under the psync and io_uring engines, parsed from
 * `--output-format=json`. fio's data is its own, so these rows are not verified.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Measurement } from "../runner.ts";
import { removeDataFile } from "./file.ts";
import type { SyncKind } from "./options.ts";

/** fio engines run as baselines. */
export const FIO_ENGINES = ["psync", "io_uring"] as const;
/** A fio engine name. */
export type FioEngine = (typeof FIO_ENGINES)[number];

/** fio's version string, or null when fio is not installed. */
export function fioVersion(): string | null {
  try {
    const r = spawnSync("fio", ["--version"], { encoding: "utf8", timeout: 10_000 });
    return r.status === 0 ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/** The fio job for one run, as command-line arguments. */
export function fioArgs(opts: {
  engine: FioEngine;
  file: string;
  recordBytes: number;
  durationMs: number;
  sync: SyncKind;
  append: boolean;
  fileBytes: number;
  cpu?: number | null;
}): string[] {
  const args = [
    "--name=fsync-chain",
    `--filename=${opts.file}`,
    `--ioengine=${opts.engine}`,
    "--rw=write",
    `--bs=${opts.recordBytes}`,
    // Append: fio would otherwise preallocate; overwrite: let it fallocate the file, as we do.
    `--size=${opts.append ? 1024 * 1024 * 1024 : opts.fileBytes}`,
    `--fallocate=${opts.append ? "none" : "native"}`,
    "--iodepth=1",
    "--time_based",
    `--runtime=${Math.max(1, Math.round(opts.durationMs))}ms`,
    "--output-format=json",
  ];
  if (opts.cpu !== undefined && opts.cpu !== null) args.push(`--cpus_allowed=${opts.cpu}`);
  if (opts.sync === "fsync") args.push("--fsync=1");
  else if (opts.sync === "sync-file-range") args.push("--sync_file_range=wait_before,write,wait_after:1");
  else if (opts.sync === "fdatasync") args.push("--fdatasync=1");
  else args.push("--sync=dsync"); // rwf-dsync / o-dsync: O_DSYNC writes
  return args;
}

interface FioLat {
  mean?: number;
  percentile?: Record<string, number>;
}
interface FioJob {
  error?: number;
  write?: { iops?: number; bw_bytes?: number; total_ios?: number; runtime?: number; lat_ns?: FioLat };
  sync?: { total_ios?: number; lat_ns?: FioLat };
}

/** Turns fio's JSON output into a Measurement (throws with fio's words when it failed). */
export function parseFioJson(text: string): Measurement {
  const start = text.indexOf("{");
  if (start < 0) throw new Error(`fio printed no JSON: ${text.trim().slice(0, 200)}`);
  const doc = JSON.parse(text.slice(start)) as { jobs?: FioJob[] };
  const job = doc.jobs?.[0];
  if (!job?.write) throw new Error("fio JSON has no jobs[0].write section");
  if (job.error) throw new Error(`fio job failed with error ${job.error}`);
  const w = job.write;
  const seconds = (w.runtime ?? 0) / 1000;
  const ops = w.total_ios ?? 0;
  const m: Measurement = { ops, seconds, bytes: w.bw_bytes !== undefined ? w.bw_bytes * seconds : undefined, errors: 0 };
  const extra: Record<string, number | string> = {};
  const wl = w.lat_ns;
  const sl = job.sync?.lat_ns;
  if (wl?.mean !== undefined) extra.writeUs = wl.mean / 1000;
  if (sl?.mean !== undefined) extra.syncUs = sl.mean / 1000;
  const p = (l: FioLat | undefined, k: string) => (l?.percentile?.[k] ?? NaN) / 1000;
  if (sl?.percentile) {
    extra.syncP50Us = p(sl, "50.000000");
    extra.syncP99Us = p(sl, "99.000000");
  }
  m.extra = extra;
  m.notes = ["fio: write/sync latency in extra (writeUs, syncUs); not verified"];
  return m;
}

/** Runs fio once for about `durationMs` and returns its Measurement. */
export function runFio(opts: {
  engine: FioEngine;
  dir: string;
  recordBytes: number;
  durationMs: number;
  sync: SyncKind;
  append: boolean;
  fileBytes: number;
  cpu?: number | null;
}): Measurement {
  const file = join(opts.dir, `uring-bench-fsync-${process.pid}-fio-${opts.engine}.dat`);
  try {
    const r = spawnSync("fio", fioArgs({ ...opts, file }), {
      encoding: "utf8",
      timeout: opts.durationMs + 60_000,
      maxBuffer: 64 << 20,
    });
    if (r.error) throw new Error(`could not run fio: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`fio exited with ${r.status}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    return parseFioJson(r.stdout);
  } finally {
    removeDataFile(file);
  }
}
