/**
 * The liburing C committer (c/reference/fsync_liburing.c, built at install into
 * build/fsync_liburing) as a variant's engine: the same linked write→sync
 * loop as uring-chain.ts, in C, so one run shows what our Ring costs beside
 * C. It writes records in record.ts's format at the ledger's offsets, starting
 * from the ledger's next commit number; what it reports (commits started, the
 * failed ones) feeds the ledger, so read-back verification checks its file too.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { collectChild } from "../harness/child-output.ts";
import type { Ledger } from "./ledger.ts";
import { OptionError } from "../harness/option-error.ts";
import type { FsyncConfig } from "./options.ts";

/** Where the postinstall step puts the C committer. */
export const C_FSYNC_BINARY = join(import.meta.dir, "..", "..", "build", "fsync_liburing");

/** Exit code of the C committer when commits failed (its JSON is still printed). */
export const C_EXIT_COMMITS_FAILED = 3;

/** Warm-up inside every C run, ms: the fresh process's first commits pay for creating io-wq workers. */
export const C_CHILD_WARMUP_MS = 50;

/** Extra time the child gets beyond its run before it is killed: one stuck-device wait (30 s) and slack. */
const CHILD_GRACE_MS = 45_000;

/** A failed commit as the C committer reports it: [commit, write result or null, sync result or null]. */
export type CFailure = [number, number | null, number | null];

/** What the C committer printed. */
export interface CFsyncResult {
  /** Commits acknowledged in the measured window. */
  commits: number;
  seconds: number;
  /** Commit latency percentiles of the measured window, µs. */
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  /** CPU of the measured window (the process, its io-wq workers included), in cores. */
  cpu: number;
  usr: number;
  sys: number;
  /** First commit number it used (the ledger's `started`). */
  first: number;
  /** Commits started over warm-up and measured window: commit numbers first..first+started-1. */
  started: number;
  /** Of those, acknowledged. */
  acked: number;
  failed: CFailure[];
  orderViolations: number;
  syncsCancelled: number;
  syncsAfterFailedWrite: number;
  /** io_uring_submit_and_wait_timeout calls (one enter each). */
  enters: number;
  /** Ring setup flags used ("" when DEFER_TASKRUN was unavailable or off). */
  flags: string;
  /** io_uring_register_iowq_aff result (0, or -errno; 0 when no CPU was asked for). */
  iowqAff: number;
}

/** True when the C committer was built (liburing-dev and a compiler were present at install). */
export function haveCFsync(binary = C_FSYNC_BINARY): boolean {
  return existsSync(binary);
}

/** Throws a {@link OptionError} that says how to build the C committer when it is missing. */
export function requireCFsync(binary = C_FSYNC_BINARY): void {
  if (!haveCFsync(binary)) {
    throw new OptionError(
      `--variants c-liburing: ${binary} is not built; install liburing-dev (apt-get install liburing-dev) and a C compiler, then run \`npm run build:shim\`.`,
    );
  }
}

/** What one C run should do. */
export interface CFsyncRun {
  path: string;
  inflight: number;
  /** First commit number (the ledger's `started`). */
  first: number;
  durationMs: number;
  warmupMs: number;
}

/** The C committer's arguments for `cfg` and one run (exported for tests and the result's command line). */
export function cFsyncArgs(cfg: FsyncConfig, run: CFsyncRun, slots: number): string[] {
  return [
    `path=${run.path}`,
    `bytes=${cfg.recordBytes}`,
    `writes=${cfg.writesPerCommit}`,
    `inflight=${run.inflight}`,
    `mode=${cfg.mode}`,
    `sync=${cfg.sync}`,
    `slots=${slots}`,
    `first=${run.first}`,
    `ms=${Math.max(1, Math.round(run.durationMs))}`,
    `warmup=${Math.max(0, Math.round(run.warmupMs))}`,
    `commits=${cfg.maxCommits}`,
    `defer=${cfg.deferTaskrun ? 1 : 0}`,
    `cpu=${cfg.cpu ?? -1}`,
    `entries=${cfg.ringEntries}`,
  ];
}

/**
 * Runs the C committer once with `args`. Resolves with its result when it
 * finished (also when commits failed: exit 3 still carries the JSON the ledger
 * needs); rejects with its stderr otherwise.
 */
export async function runCFsync(args: string[], durationMs: number, binary = C_FSYNC_BINARY): Promise<CFsyncResult> {
  const { code, out, err } = await collectChild(binary, args, durationMs + CHILD_GRACE_MS, (e) => `could not run ${binary}: ${e.message}`);
  if (code !== 0 && code !== C_EXIT_COMMITS_FAILED) {
    throw new Error(`C committer failed (${code === null ? "killed" : `exit ${code}`}): ${err.trim() || "no message"}`);
  }
  try {
    return JSON.parse(out.trim()) as CFsyncResult;
  } catch {
    throw new Error(`C committer printed no result (exit ${code}): ${out.slice(0, 200)} ${err.trim()}`);
  }
}

/**
 * Accounts a C run in the ledger: begins its `started` commits (they must
 * continue the ledger's numbering), marks the failed ones failed and the rest
 * acknowledged. Returns the number of failures.
 */
export function feedLedger(ledger: Ledger, r: CFsyncResult): number {
  if (r.first !== ledger.started) {
    throw new Error(`C committer started at commit ${r.first}, the ledger expected ${ledger.started}`);
  }
  const failed = new Map<number, CFailure>();
  for (const f of r.failed) failed.set(f[0], f);
  if (r.acked + failed.size !== r.started) {
    throw new Error(`C committer reported ${r.started} commits started but ${r.acked} acknowledged and ${failed.size} failed`);
  }
  for (let i = 0; i < r.started; i++) {
    const c = ledger.begin();
    const f = failed.get(c);
    if (f) ledger.fail(c, f[1], f[2]);
    else ledger.ack(c);
  }
  return failed.size;
}
