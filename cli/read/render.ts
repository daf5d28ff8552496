/**
 * The read command's extra table: each variant's ratio to fio's io_uring
 * engine, to the synchronous pread loop and to the liburing C loop (the
 * shared detail table has room for one baseline only), plus what was read.
 */
import type { RunResult } from "../harness/result.ts";
import type { Rows } from "../harness/rows.ts";

/**
 * Ratio rows from `extra.vsFio` / `vsPread` / `vsC`, reads per CPU-second, and
 * CPU per read split into user (our code, the runtime) and kernel time;
 * columns no result fills are left out.
 */
export function ratioRows(run: RunResult): Rows {
  const cols = [
    ["vsFio", "× fio io_uring"],
    ["vsPread", "× pread loop"],
    ["vsC", "× liburing C"],
  ] as const;
  const used = cols.filter(([k]) => run.results.some((r) => typeof r.extra?.[k] === "number"));
  const eff = run.results.some((r) => typeof r.extra?.opsPerCpuSec === "number");
  const split = run.results.some((r) => typeof r.extra?.userNsPerOp === "number");
  const num = (v: unknown) => (typeof v === "number" ? String(v) : "-");
  return {
    head: ["variant", ...used.map(([, h]) => h), ...(eff ? ["reads/CPU-s"] : []), ...(split ? ["user ns/read", "kernel ns/read"] : [])],
    rows: run.results.map((r) => [
      r.variant,
      ...used.map(([k]) => {
        const v = r.extra?.[k];
        return typeof v === "number" ? `${v.toFixed(2)}×` : r.errors > 0 ? "failed" : "-";
      }),
      ...(eff ? [r.opsPerSec > 0 ? num(r.extra?.opsPerCpuSec) : "-"] : []),
      ...(split ? [num(r.extra?.userNsPerOp), num(r.extra?.sysNsPerOp)] : []),
    ]),
  };
}

/**
 * A failed variant shows no numbers: a read that returned wrong bytes or
 * failed makes every number of that variant meaningless.
 */
export function blankFailed(run: RunResult): void {
  for (const r of run.results) {
    const unsupported = r.extra?.status === "unsupported";
    if (r.errors === 0 && !unsupported) continue;
    r.opsPerSec = 0;
    delete r.bytesPerSec;
    delete r.latencyUs;
    delete r.cpu;
    if (r.errors > 0) r.notes = ["FAILED", ...(r.notes ?? [])];
  }
}
