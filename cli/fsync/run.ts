/**
 * One fsync-chain run: build the variants of every --inflight cell, run them
 * interleaved through the shared runner, then verify every data file against
 * its ledger and fold the verdict into the results. An acknowledged commit
 * that is missing or corrupt makes the variant an error: its throughput is
 * withheld (reported as 0 with a note), never shown as a number.
 */
import { onForcedExit } from "../harness/children.ts";
import { runInterleaved } from "../harness/runner.ts";
import type { ProgressEvent, ProgressSink } from "../harness/progress.ts";
import type { VariantResult } from "../harness/result.ts";
import { pairedRatio } from "../harness/stats.ts";
import { removeDataFile } from "./file.ts";
import { fioVersion, FIO_ENGINES } from "./fio.ts";
import { CommitStatus, formatRanges, summarizeFailures } from "./ledger.ts";
import type { FsyncConfig } from "./options.ts";
import { isRingsVariant, ringsVariant } from "./rings.ts";
import { cLiburingVariant, fioVariant, loopVariant, promisesVariant, ringSetup, uringVariant, type FileVariant } from "./variants.ts";
import { verifyDataFile, type VerifyReport } from "./verify.ts";
import type { BenchVariant } from "../harness/runner.ts";

/** Timing settings (from the shared options). */
export interface FsyncTiming {
  durationMs: number;
  warmupMs: number;
  repeat: number;
}

/** The verdict on one variant's data file. */
export interface FsyncVerdict {
  variant: string;
  cell: string;
  acked: number;
  failed: number;
  verify: VerifyReport | null;
  /** Human-readable lines: durable ranges, failures, problems. */
  lines: string[];
}

/** What a run produced. */
export interface FsyncRunOutcome {
  results: VariantResult[];
  verdicts: FsyncVerdict[];
  /** Ring setup flags of the io_uring variant. */
  ringFlags: string[];
  /** False when any acknowledged commit failed verification. */
  verified: boolean;
  /** Set when --fio was asked for but fio is missing. */
  fioMissing: boolean;
}

/** The cell label of one --inflight value. */
export function cellLabel(cfg: FsyncConfig, inflight: number): string {
  const size = cfg.recordBytes % 1024 === 0 ? `${cfg.recordBytes / 1024}k` : `${cfg.recordBytes}b`;
  const writes = cfg.writesPerCommit > 1 ? `×${cfg.writesPerCommit}` : "";
  return `${size}${writes} ${cfg.sync} ${cfg.mode} qd${inflight}${cfg.append ? "" : " overwrite"}`;
}

/** Builds the variants, cell by cell. */
export function buildVariants(cfg: FsyncConfig, withFio: boolean): BenchVariant[] {
  const out: BenchVariant[] = [];
  for (const inflight of cfg.inflight) {
    const cell = cellLabel(cfg, inflight);
    for (const name of cfg.variants) {
      if (name === "uring" && cfg.rings <= 1) out.push(uringVariant(cfg, inflight, cell));
      else if ((name === "uring" || name === "loop") && cfg.rings > 1) out.push(ringsVariant(name, cfg, inflight, `${cell} ×${cfg.rings}`, cfg.rings));
      else if (name === "loop") out.push(loopVariant(cfg, cell, inflight));
      else if (name === "promises") out.push(promisesVariant(cfg, inflight, cell));
      else if (name === "c-liburing") out.push(cLiburingVariant(cfg, inflight, cell));
      else if (name === "fio" && withFio) for (const e of FIO_ENGINES) out.push(fioVariant(cfg, e, cfg.rings > 1 ? `${cell} ×${cfg.rings}` : cell));
    }
  }
  return out;
}

function isFileVariant(v: BenchVariant): v is FileVariant {
  return "ledger" in v;
}

/** Runs every variant, verifies, and returns results with the verdicts folded in. */
export async function runFsyncChain(
  cfg: FsyncConfig,
  timing: FsyncTiming,
  onProgress?: ProgressSink | ((ev: ProgressEvent) => void),
  signal?: AbortSignal,
): Promise<FsyncRunOutcome> {
  const fioMissing = cfg.fio && fioVersion() === null;
  const variants = buildVariants(cfg, cfg.fio && !fioMissing);
  const outcome: FsyncRunOutcome = { results: [], verdicts: [], ringFlags: ringSetup(cfg).flags, verified: true, fioMissing };
  const removeFiles = () => {
    if (!cfg.keep) for (const v of variants) if (isFileVariant(v) && v.path) removeDataFile(v.path);
  };
  // A second Ctrl-C exits at once: the data files must go then too.
  const unregister = onForcedExit(removeFiles);
  try {
    outcome.results = await runInterleaved({ variants, ...timing, onProgress, signal, onAbort: "partial" });
    for (let i = 0; i < variants.length; i++) {
      const v = variants[i]!;
      const r = outcome.results[i]!;
      if (isRingsVariant(v)) v.fold(r); // its Workers verified their own files
      if (!isFileVariant(v)) continue;
      const verdict = judge(v);
      outcome.verdicts.push(verdict);
      applyVerdict(r, v, verdict);
      if (verdict.verify && verdict.verify.badCommits > 0) outcome.verified = false;
    }
    addLoopRatios(outcome.results);
  } finally {
    removeFiles();
    unregister();
  }
  return outcome;
}

/** Verifies one variant's file and describes what is durable. */
export function judge(v: FileVariant): FsyncVerdict {
  const ledger = v.ledger;
  const verdict: FsyncVerdict = { variant: v.name, cell: v.cell, acked: ledger.acked, failed: ledger.failures.length, verify: null, lines: [] };
  if (v.path === null) return verdict;
  const rep = verifyDataFile(v.path, ledger);
  verdict.verify = rep;
  const pending = ledger.ranges(CommitStatus.PENDING);
  verdict.lines.push(
    `verified ${rep.ok}/${rep.checked} records of ${ledger.acked} acknowledged commits${rep.direct ? " (O_DIRECT read-back)" : ""}` +
      (rep.unverifiable > 0 ? `; ${rep.unverifiable} records of unacknowledged commits not checked` : ""),
  );
  if (ledger.failures.length > 0 || rep.badCommits > 0 || pending.length > 0) {
    verdict.lines.push(`durable commits: ${formatRanges(rep.durable)}`);
    for (const l of summarizeFailures(ledger.failures)) verdict.lines.push(`not durable: ${l}`);
  }
  if (rep.badCommits > 0) {
    verdict.lines.push(`VERIFICATION FAILED: ${rep.badCommits} acknowledged commits lost (${rep.missing} records missing, ${rep.corrupt} corrupt)`);
    for (const p of rep.problems.slice(0, 5)) verdict.lines.push(`  commit ${p.commit} seq ${p.seq} at byte ${p.offset}: ${p.problem}`);
  }
  return verdict;
}

function applyVerdict(r: VariantResult, v: FileVariant, verdict: FsyncVerdict): void {
  const notes = new Set([...(r.notes ?? []), ...v.notes]);
  const rep = verdict.verify;
  r.extra = { ...r.extra, ackedCommits: verdict.acked, failedCommits: verdict.failed };
  if (v.counters) {
    r.extra.orderViolations = v.counters.orderViolations;
    r.extra.syncsCancelled = v.counters.syncsCancelled;
    if (v.counters.orderViolations > 0) notes.add(`${v.counters.orderViolations} syncs completed before their writes`);
  }
  if (verdict.failed > 0) {
    notes.add(`${verdict.failed} failed: ${summarizeFailures(v.ledger.failures).join("; ")}`);
    r.errors += verdict.failed;
  }
  if (rep) {
    r.extra.verifiedRecords = rep.ok;
    r.extra.durableCommits = rep.durable.reduce((n, x) => n + x.last - x.first + 1, 0);
    if (rep.badCommits > 0) {
      r.errors += rep.badCommits;
      notes.add(`VERIFICATION FAILED: ${rep.badCommits} acknowledged commits missing or corrupt; throughput withheld`);
      r.opsPerSec = 0;
      r.repetitions = r.repetitions.map(() => 0);
      delete r.bytesPerSec;
      delete r.latencyUs;
    }
  }
  if (notes.size > 0) r.notes = [...notes];
}

/** Ratio to the syscall loop of the same cell, paired by repetition (see pairedRatio). */
function addLoopRatios(results: VariantResult[]): void {
  for (const r of results) {
    const loop = results.find((x) => x.cell === r.cell && x.variant === "loop");
    if (!loop || loop === r || loop.opsPerSec <= 0) continue;
    const ratio = pairedRatio(r.repetitions, loop.repetitions) ?? (r.repetitions.length > 0 ? r.opsPerSec / loop.opsPerSec : undefined);
    if (ratio !== undefined) r.extra = { ...r.extra, ratioToLoop: ratio };
  }
}
