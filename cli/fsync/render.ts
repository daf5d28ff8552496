/**
 * The fsync-chain specific table: where commit time goes (write vs sync, from
 * CQE arrival), the paired ratio to the syscall loop, enters per commit, and
 * what verification found. Rows only; drawing is render-table's and save's.
 */
import type { RunResult } from "../harness/result.ts";
import { fmtInt, fmtNum, type Rows } from "../harness/rows.ts";

function num(v: number | string | undefined): number | undefined {
  return typeof v === "number" ? v : undefined;
}

/**
 * One row per variant: commits/s, write µs, sync µs, × loop (paired),
 * enters/commit, acked, durable. On a memory filesystem (options.memoryFs)
 * read-back proves the commits are in the file, not on a disk: the header says so.
 */
export function splitRows(run: RunResult): Rows {
  const memFs = typeof run.options.memoryFs === "string" ? run.options.memoryFs : null;
  const durable = memFs ? `read back (${memFs}: not durable)` : "durable (verified)";
  const head = ["cell", "variant", "commits/s", "write µs", "sync µs", "× loop (paired)", "enters/commit", "acked", durable];
  const rows = run.results.map((r) => {
    const x = r.extra ?? {};
    const f = (k: string) => {
      const v = num(x[k]);
      return v === undefined ? "" : fmtNum(v);
    };
    const ratio = num(x.ratioToLoop);
    return [
      r.cell,
      r.variant,
      fmtInt(r.opsPerSec),
      r.variant === "uring" && x.writeUs === undefined && x.syncUs === undefined ? "(--split)" : f("writeUs"),
      f("syncUs"),
      ratio === undefined ? "" : `${ratio.toFixed(2)}×`,
      f("entersPerCommit"),
      num(x.ackedCommits) === undefined ? "" : String(x.ackedCommits),
      num(x.durableCommits) === undefined ? "" : String(x.durableCommits),
    ];
  });
  return { head, rows };
}
