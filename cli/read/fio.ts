/**
 * fio as the reference: its `io_uring` and `psync` engines on the same file
 * and workload, run with `--output-format=json` and parsed. fio is what people
 * answer "what does io_uring buy my reads?" with today, so our numbers stand
 * next to its numbers. Optional: `apt-get install fio`.
 */
import { fioPercentileUs, parseFioJob, type FioEngine, type FioLat } from "../harness/fio.ts";
import { collectChild } from "../harness/child-output.ts";
import type { ReadWorkload } from "./workload.ts";

export { fioVersion, type FioEngine } from "../harness/fio.ts";

/** What one fio run measured. */
export interface FioResult {
  iops: number;
  bytesPerSec: number;
  /** Total ios and the runtime fio counted them over. */
  ios: number;
  seconds: number;
  latencyUs: { p50: number; p99: number; p999: number; mean: number };
  /** usr + sys CPU as a fraction of one core. */
  cpu: number;
  version: string;
}

/** The fio command line for a workload and engine (also shown in results, so it can be rerun by hand). */
export function fioArgs(w: ReadWorkload, engine: FioEngine, durationMs: number, warmupMs: number, jobs = 1): string[] {
  const args = [
    "--name=uring-bench",
    `--filename=${w.path}`,
    `--rw=${w.pattern === "rand" ? "randread" : "read"}`,
    `--bs=${w.bs}`,
    `--ioengine=${engine}`,
    `--direct=${w.direct ? 1 : 0}`,
    `--size=${Math.floor(w.size / w.bs) * w.bs}`,
    `--runtime=${Math.max(1, Math.round(durationMs))}ms`,
    // invalidate=0: fio would otherwise drop the file from the page cache first,
    // turning a buffered (page-cache) run into a disk run.
    "--invalidate=0",
    "--norandommap",
    "--randrepeat=0",
    "--lat_percentiles=1",
    "--output-format=json",
  ];
  // A byte budget (--bytes) ends the job when read; otherwise the time does.
  if (w.maxOps > 0) args.push(`--io_size=${w.maxOps * w.bs}`);
  else args.push("--time_based");
  if (warmupMs > 0) args.push(`--ramp_time=${Math.round(warmupMs)}ms`);
  if (engine === "io_uring") {
    args.push(`--iodepth=${w.qd}`);
  }
  // --rings N: N fio jobs as threads (like our Workers), reported as one.
  if (jobs > 1) args.push(`--numjobs=${jobs}`, "--thread", "--group_reporting");
  return args;
}

/** Parses fio's JSON output (first job). Throws with fio's own error text when there is no result. */
export function parseFioJson(text: string): FioResult {
  const { doc, job } = parseFioJob<{
    error?: number;
    job_runtime?: number;
    usr_cpu?: number;
    sys_cpu?: number;
    read: { iops: number; bw_bytes: number; total_ios: number; runtime: number; lat_ns?: FioLat; clat_ns?: FioLat };
  }>(text);
  const r = job.read;
  const latSrc = r.lat_ns?.percentile ? r.lat_ns : r.clat_ns;
  const us = (k: string) => fioPercentileUs(latSrc, k);
  const seconds = r.runtime / 1000;
  const cpuPct = (job.usr_cpu ?? 0) + (job.sys_cpu ?? 0);
  return {
    iops: r.iops,
    bytesPerSec: r.bw_bytes,
    ios: r.total_ios,
    seconds,
    latencyUs: { p50: us("50.000000"), p99: us("99.000000"), p999: us("99.900000"), mean: (latSrc?.mean ?? NaN) / 1000 },
    cpu: cpuPct / 100,
    version: doc["fio version"] ?? "fio",
  };
}

/** Runs fio and parses its result; rejects with fio's error text when it fails. */
export async function runFio(w: ReadWorkload, engine: FioEngine, durationMs: number, warmupMs: number, jobs = 1): Promise<FioResult> {
  const args = fioArgs(w, engine, durationMs, warmupMs, jobs);
  const { code, out, err } = await collectChild(
    "fio",
    args,
    durationMs + warmupMs + 30_000,
    (e) => `could not run fio: ${e.message} (install it with apt-get install fio)`,
  );
  if (code !== 0) throw new Error(`fio ${engine} failed (exit ${code}): ${(err || out).trim().split("\n").slice(-2).join(" ")}`);
  return parseFioJson(out);
}
