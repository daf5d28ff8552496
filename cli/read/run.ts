/**
 * One whole `uring-bench read` run: prepare the file, build the variants, run
 * them interleaved, add the ratio columns (to fio, to the synchronous loop, to
 * the C loop), and remove a generated file. Used by cli/read.ts and tests.
 */
import type { VariantResult } from "../harness/result.ts";
import { onForcedExit } from "../harness/children.ts";
import { runInterleaved } from "../harness/runner.ts";
import type { ProgressSink } from "../harness/progress.ts";
import { BYTES_RUN_CAP_MS, type ReadConfig } from "./options.ts";
import { prepareTarget, type ReadTarget } from "./target.ts";
import { buildVariants } from "./variants.ts";
import type { ReadWorkload } from "./workload.ts";

/** What a run produced. */
export interface ReadOutcome {
  results: VariantResult[];
  ringFlags: string[];
  target: { path: string; size: number; generated: boolean; kept: boolean; verified: string; logicalBlockSize: number };
  /** Variants whose reads failed or returned wrong bytes. */
  failed: string[];
}

/** Timing of a run. */
export interface ReadTiming {
  durationMs: number;
  warmupMs: number;
  repeat: number;
}

/** The ratio columns: what each variant is compared with, when it ran. */
export const RATIO_REFERENCES = [
  ["vsFio", "fio-io_uring"],
  ["vsPread", "pread"],
  ["vsC", "c-liburing"],
] as const;

/** Adds `extra.vsFio`, `extra.vsPread`, `extra.vsC` (ops/s ratios) to every result that ran. */
export function addRatios(results: VariantResult[]): void {
  for (const [key, ref] of RATIO_REFERENCES) {
    const base = results.find((r) => r.variant === ref && r.opsPerSec > 0 && r.errors === 0);
    if (!base) continue;
    for (const r of results) {
      if (r.opsPerSec <= 0) continue;
      r.extra = { ...r.extra, [key]: Math.round((r.opsPerSec / base.opsPerSec) * 1000) / 1000 };
    }
  }
}

/** The workload for a resolved config over a prepared file. */
export function workloadFor(cfg: ReadConfig, target: ReadTarget): ReadWorkload {
  return {
    path: target.path,
    size: target.size,
    bs: cfg.bs,
    qd: cfg.qd,
    entries: cfg.entries,
    batch: cfg.batch,
    submit: cfg.submit,
    hugePages: cfg.hugePages,
    pattern: cfg.pattern,
    direct: cfg.direct,
    // A file without the pattern can only be checked for full-length reads.
    verify: target.hasPattern ? cfg.verify : "length",
    seed: cfg.seed,
    maxOps: cfg.bytes > 0 ? Math.max(1, Math.floor(cfg.bytes / cfg.bs)) : 0,
  };
}

/** Runs the read benchmark. Throws OptionError for unusable input before anything is measured. */
export async function runRead(cfg: ReadConfig, timing: ReadTiming, progress: ProgressSink, signal?: AbortSignal): Promise<ReadOutcome> {
  const target = prepareTarget({ file: cfg.file, size: cfg.size, dir: cfg.dir, bs: cfg.bs, direct: cfg.direct, keep: cfg.keep });
  // A second Ctrl-C exits at once: the generated file must go then too.
  const unregister = onForcedExit(() => target.cleanup());
  try {
    const w = workloadFor(cfg, target);
    const info = { ringFlags: new Set<string>() };
    const durationMs = cfg.bytes > 0 ? BYTES_RUN_CAP_MS : timing.durationMs;
    const results = await runInterleaved({
      variants: buildVariants(cfg.variants, w, info, cfg.rings),
      repeat: timing.repeat,
      warmupMs: timing.warmupMs,
      durationMs,
      onProgress: progress,
      signal,
      onAbort: "partial",
    });
    const failed: string[] = [];
    for (const r of results) {
      if (r.errors > 0) failed.push(r.variant);
      // pread runs as N threads and fio as numjobs=N (variants.ts); the rest stay on one thread.
      if (cfg.rings > 1 && !/^(uring|pread$|fio-)/.test(r.variant))
        r.notes = [...(r.notes ?? []), "one thread: --rings applies to the io_uring variants, pread and fio"];
      if (!target.hasPattern && r.opsPerSec > 0) r.notes = [...(r.notes ?? []), "file lacks the pattern: lengths checked only"];
    }
    addRatios(results);
    return {
      results,
      ringFlags: [...info.ringFlags],
      target: {
        path: target.path,
        size: target.size,
        generated: target.generated,
        kept: target.generated && cfg.keep,
        verified: w.verify,
        logicalBlockSize: target.logicalBlockSize,
      },
      failed,
    };
  } finally {
    target.cleanup();
    unregister();
  }
}
