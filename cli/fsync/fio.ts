/**
 * fio baselines: the same workload run by fio, `--fdatasync=1` after every
 * write, under the psync and io_uring engines, parsed from
 * `--output-format=json`. fio's data is its own, so these rows are not verified.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fioPercentileUs, parseFioJob, type FioEngine, type FioLat } from "../harness/fio.ts";
import type { Measurement } from "../harness/runner.ts";
import { removeDataFile } from "./file.ts";
import type { SyncKind } from "./options.ts";

export { FIO_ENGINES, fioVersion, type FioEngine } from "../harness/fio.ts";

/** One fsync-chain fio run: the job's shape (the file is added by {@link runFio}). */
export interface FioRunOptions {
  engine: FioEngine;
  recordBytes: number;
  durationMs: number;
  sync: SyncKind;
  append: boolean;
  fileBytes: number;
  cpu?: number | null;
  /** Jobs at once (fsync-chain --rings N): each its own file, as threads, one grouped report. Default 1. */
  jobs?: number;
}

/** The fio job for one run, as command-line arguments. */
export function fioArgs(opts: FioRunOptions & { file: string }): string[] {
  const args = [
    "--name=fsync-chain",
    // N jobs write N files (N independent logs, like --rings N's Workers): `file`.0, `file`.1, ...
    (opts.jobs ?? 1) > 1 ? `--filename_format=${opts.file}.$jobnum` : `--filename=${opts.file}`,
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
  if ((opts.jobs ?? 1) > 1) args.push(`--numjobs=${opts.jobs}`, "--thread", "--group_reporting");
  return args;
}

interface FioJob {
  error?: number;
  write?: { iops?: number; bw_bytes?: number; total_ios?: number; runtime?: number; lat_ns?: FioLat };
  sync?: { total_ios?: number; lat_ns?: FioLat };
}

/** Turns fio's JSON output into a Measurement (throws with fio's words when it failed). */
export function parseFioJson(text: string): Measurement {
  const { job } = parseFioJob<FioJob>(text);
  if (!job.write) throw new Error("fio JSON has no jobs[0].write section");
  const w = job.write;
  const seconds = (w.runtime ?? 0) / 1000;
  const ops = w.total_ios ?? 0;
  const m: Measurement = { ops, seconds, bytes: w.bw_bytes !== undefined ? w.bw_bytes * seconds : undefined, errors: 0 };
  const extra: Record<string, number | string> = {};
  const wl = w.lat_ns;
  const sl = job.sync?.lat_ns;
  if (wl?.mean !== undefined) extra.writeUs = wl.mean / 1000;
  if (sl?.mean !== undefined) extra.syncUs = sl.mean / 1000;
  if (sl?.percentile) {
    extra.syncP50Us = fioPercentileUs(sl, "50.000000");
    extra.syncP99Us = fioPercentileUs(sl, "99.000000");
  }
  m.extra = extra;
  m.notes = ["fio: write/sync latency in extra (writeUs, syncUs); not verified"];
  return m;
}

/** Runs fio once for about `durationMs` and returns its Measurement. */
export function runFio(opts: FioRunOptions & { dir: string }): Measurement {
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
    for (let j = 0; j < (opts.jobs ?? 1); j++) if ((opts.jobs ?? 1) > 1) removeDataFile(`${file}.${j}`);
  }
}
