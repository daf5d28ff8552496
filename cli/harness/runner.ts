/**
 * The shared workload runner: warm-up, measured duration, interleaved
 * repetitions, median and spread. Every benchmark command runs its variants
 * through {@link runInterleaved} so that results are comparable.
 *
 * Interleaving: with variants A, B, C and 3 repetitions the runner runs
 * A B C A B C A B C (not A A A B B B C C C), so slow drift on the machine
 * (thermal, other tenants, page cache) hits every variant alike, and the
 * median of each variant's repetitions is taken.
 *
 * Cells: variants carry a workload `cell` label ("c:1000 bytes:512"). By
 * default (`order: "cell"`) cells run one after another, each cell's
 * variants interleaved among themselves: setup/teardown of a cell's variants
 * (e.g. starting servers) happens once per cell. `order: "all"` interleaves
 * across every cell too.
 *
 * A variant's `run(durationMs, ctx)` does the work for about `durationMs` and
 * returns a {@link Measurement}; it calls `ctx.report(opsSoFar)` now and then
 * (every batch, or every few ms) to feed the progress line, and should stop
 * early when `ctx.signal.aborted`.
 */
import { getAffinity, pinSelf } from "./affinity.ts";
import type { VariantResult } from "./result.ts";
import { median, percentiles } from "./stats.ts";
import { createProgress, silentProgress, type ProgressEvent, type ProgressSink } from "./progress.ts";

/** Latency percentiles in microseconds (as in VariantResult). */
export interface LatencyUs {
  p50: number;
  p99: number;
  p999: number;
  mean?: number;
}

/** What one run of a variant measured. */
export interface Measurement {
  /** Operations completed in the measured window (round trips, reads, commits). */
  ops: number;
  /** Length of the measured window, seconds (measure it; don't assume durationMs). */
  seconds: number;
  /** Bytes moved in the window, when meaningful. */
  bytes?: number;
  /** Latency percentiles, µs; or give `latencySamplesUs` and the runner computes them. */
  latencyUs?: LatencyUs;
  /** Raw latency samples, µs (used when `latencyUs` is absent). */
  latencySamplesUs?: ArrayLike<number>;
  /** CPU use as a fraction of one core, per side (see cli/harness/cpu.ts). */
  cpu?: { server?: number; client?: number; self?: number };
  /** Errors observed: wrong bytes, resets, failed ops. */
  errors?: number;
  /** Notes to carry into the result ("client-bound", "IOPOLL unsupported: EOPNOTSUPP"). */
  notes?: string[];
  /** Extra numbers (syscalls/op, ...): numeric ones are median'ed over repetitions. */
  extra?: Record<string, number | string>;
}

/** What the runner hands a variant's `run`. */
export interface RunControl {
  phase: "warmup" | "measure";
  /** 1-based repetition (0 during warm-up). */
  repetition: number;
  /** Feed the progress line: operations completed so far in this run. */
  report(opsSoFar: number): void;
  /** Aborted on SIGINT/SIGTERM (when the caller passes a signal) or by the caller. */
  signal: AbortSignal;
}

/** One thing to measure: a variant under one workload cell. */
export interface BenchVariant {
  /** Variant name as shown in tables ("uring", "uring-sqpoll", "bun", "pread"). */
  name: string;
  /** Workload cell label ("c:1000 bytes:512", "4k rand qd32"). */
  cell: string;
  /** Runs the workload for about `durationMs` and reports what it measured. */
  run(durationMs: number, ctx: RunControl): Promise<Measurement>;
  /** Called once before the variant's first run in its cell (start servers, open files). */
  setup?(): Promise<void> | void;
  /** Called once after its last run, also when a run throws (stop servers, close files). */
  teardown?(): Promise<void> | void;
}

/** Options of {@link runInterleaved}. */
export interface RunnerOptions {
  variants: BenchVariant[];
  /** Repetitions per variant (>= 1). */
  repeat: number;
  /** Warm-up per variant before its first repetition, ms (0 = none). Its measurement is discarded. */
  warmupMs: number;
  /** Measured duration per repetition, ms. */
  durationMs: number;
  /** "cell" (default): cells one after another; "all": interleave across cells too. */
  order?: "cell" | "all";
  /** Progress display (see createProgress in progress.ts), or a plain callback. */
  onProgress?: ProgressSink | ((ev: ProgressEvent) => void);
  /** Stops the run between (and, cooperatively, inside) variant runs. */
  signal?: AbortSignal;
  /**
   * What to do when a variant's run throws: "record" (default) keeps going and
   * reports the variant with errors and the message in notes; "throw" rethrows.
   */
  onError?: "record" | "throw";
  /**
   * What to do when `signal` aborts: "throw" (default) throws {@link RunAborted};
   * "partial" stops, tears down, and returns what was measured so far, each
   * variant noted "interrupted after N of M repetitions".
   */
  onAbort?: "throw" | "partial";
  /**
   * Pin this process (every thread) to these CPUs for the run and restore the
   * previous mask afterwards: in-process variants then run where the command
   * wants them (e.g. away from a server pinned to CPU 0).
   */
  cpus?: readonly number[];
}

/** Thrown by the runner when its signal aborts. */
export class RunAborted extends Error {
  constructor() {
    super("run interrupted");
    this.name = "RunAborted";
  }
}

/** One planned run, in execution order (exported for tests and dry runs). */
export interface PlannedRun {
  variant: BenchVariant;
  phase: "warmup" | "measure";
  repetition: number;
}

/**
 * The execution order: for each block of cells (one block per cell, or one
 * block of everything for order "all"): warm-ups in variant order, then
 * `repeat` rounds of every variant in order.
 */
export function planRuns(variants: BenchVariant[], repeat: number, warmupMs: number, order: "cell" | "all" = "cell"): PlannedRun[][] {
  const blocks: BenchVariant[][] = [];
  if (order === "all") {
    blocks.push(variants);
  } else {
    const byCell = new Map<string, BenchVariant[]>();
    for (const v of variants) {
      const list = byCell.get(v.cell) ?? [];
      list.push(v);
      byCell.set(v.cell, list);
    }
    blocks.push(...byCell.values());
  }
  return blocks.map((block) => {
    const plan: PlannedRun[] = [];
    if (warmupMs > 0) for (const v of block) plan.push({ variant: v, phase: "warmup", repetition: 0 });
    for (let r = 1; r <= repeat; r++) for (const v of block) plan.push({ variant: v, phase: "measure", repetition: r });
    return plan;
  });
}

/**
 * Runs every variant `repeat` times, interleaved, and returns one
 * VariantResult per variant (in the order given) with the median over
 * repetitions and each repetition's ops/s.
 */
export async function runInterleaved(opts: RunnerOptions): Promise<VariantResult[]> {
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new RangeError(`repeat must be a positive integer, got ${opts.repeat}`);
  if (!(opts.durationMs > 0)) throw new RangeError(`durationMs must be > 0, got ${opts.durationMs}`);
  const names = new Set<string>();
  for (const v of opts.variants) {
    const key = `${v.cell}\u0000${v.name}`;
    if (names.has(key)) throw new Error(`variant "${v.name}" appears twice in cell "${v.cell}"`);
    names.add(key);
  }
  const sink: ProgressSink = typeof opts.onProgress === "function" ? { update: opts.onProgress, done() {} } : (opts.onProgress ?? silentProgress);
  const signal = opts.signal ?? new AbortController().signal;
  const onError = opts.onError ?? "record";
  const blocks = planRuns(opts.variants, opts.repeat, opts.warmupMs, opts.order);
  const runCount = blocks.reduce((n, b) => n + b.length, 0);
  const collected = new Map<BenchVariant, { ms: Measurement[]; failures: string[] }>();
  for (const v of opts.variants) collected.set(v, { ms: [], failures: [] });

  let runIndex = 0;
  let aborted = false;
  const restoreCpus = opts.cpus ? getAffinity() : null;
  if (opts.cpus) pinSelf(opts.cpus);
  try {
    for (const block of blocks) {
      const inBlock = [...new Set(block.map((p) => p.variant))];
      // setUp: needs teardown; ready: still runs (a failed run drops it).
      const setUp = new Set<BenchVariant>();
      const ready = new Set<BenchVariant>();
      try {
        for (const v of inBlock) {
          if (signal.aborted) throw new RunAborted();
          try {
            await v.setup?.();
            setUp.add(v);
            ready.add(v);
          } catch (err) {
            if (onError === "throw") throw err;
            collected.get(v)!.failures.push(`setup failed: ${errorText(err)}`);
          }
        }
        for (const planned of block) {
          if (signal.aborted) throw new RunAborted();
          const { variant, phase, repetition } = planned;
          const duration = phase === "warmup" ? opts.warmupMs : opts.durationMs;
          if (!ready.has(variant)) {
            runIndex++;
            continue;
          }
          const started = performance.now();
          const base: ProgressEvent = {
            phase,
            variant: variant.name,
            cell: variant.cell,
            repetition,
            repeat: opts.repeat,
            durationMs: duration,
            elapsedMs: 0,
            ops: 0,
            runIndex,
            runCount,
          };
          const ctx: RunControl = {
            phase,
            repetition,
            signal,
            report(ops: number) {
              base.elapsedMs = performance.now() - started;
              base.ops = ops;
              sink.update(base);
            },
          };
          sink.update(base);
          try {
            const m = await variant.run(duration, ctx);
            if (phase === "measure") collected.get(variant)!.ms.push(m);
          } catch (err) {
            if (signal.aborted) throw new RunAborted();
            if (onError === "throw") throw err;
            collected.get(variant)!.failures.push(`${phase === "warmup" ? "warm-up" : `repetition ${repetition}`} failed: ${errorText(err)}`);
            // A variant that failed once is not run again in this block: its
            // state (server, ring) is suspect and a retry would skew the timing of the others.
            ready.delete(variant);
          }
          runIndex++;
        }
      } finally {
        for (const v of setUp) {
          try {
            await v.teardown?.();
          } catch (err) {
            collected.get(v)!.failures.push(`teardown failed: ${errorText(err)}`);
          }
        }
      }
    }
  } catch (err) {
    if (!(err instanceof RunAborted) || opts.onAbort !== "partial") throw err;
    aborted = true;
  } finally {
    sink.done();
    if (restoreCpus) pinSelf(restoreCpus);
  }
  return opts.variants.map((v) => {
    const c = collected.get(v)!;
    const r = summarize(v.name, v.cell, c.ms, c.failures);
    if (aborted && c.ms.length < opts.repeat) {
      r.notes = [...(r.notes ?? []), `interrupted after ${c.ms.length} of ${opts.repeat} repetitions`];
    }
    return r;
  });
}

/** What a command's run takes from its common options (a CommonSettings fits). */
export interface CommandTiming {
  repeat: number;
  warmupMs: number;
  durationMs: number;
  /** No progress line. */
  quiet: boolean;
}

/**
 * Runs a command's variants the way every command does: interleaved
 * repetitions, Ctrl-C (`signal`, kept by the caller for the record) stopping
 * with what was measured, and a progress line counting down `totalMs`
 * (default: every variant's warm-up and repetitions) unless quiet.
 */
export function runCommandVariants(
  variants: BenchVariant[],
  timing: CommandTiming,
  signal: AbortSignal,
  totalMs = variants.length * (timing.warmupMs + timing.repeat * timing.durationMs),
): Promise<VariantResult[]> {
  return runInterleaved({
    variants,
    repeat: timing.repeat,
    warmupMs: timing.warmupMs,
    durationMs: timing.durationMs,
    signal,
    onAbort: "partial",
    onProgress: createProgress({ quiet: timing.quiet, totalMs }),
  });
}

/** Folds the repetitions of one variant into a VariantResult (exported for tests and custom runners). */
export function summarize(variant: string, cell: string, ms: Measurement[], failures: string[] = []): VariantResult {
  const reps = ms.map((m) => (m.seconds > 0 ? m.ops / m.seconds : 0));
  const result: VariantResult = {
    variant,
    cell,
    opsPerSec: reps.length > 0 ? median(reps) : 0,
    repetitions: reps,
    errors: ms.reduce((n, m) => n + (m.errors ?? 0), 0) + failures.length,
  };
  const bytes = ms.filter((m) => m.bytes !== undefined && m.seconds > 0).map((m) => m.bytes! / m.seconds);
  if (bytes.length > 0) result.bytesPerSec = median(bytes);

  const lat = ms.map(latencyOf).filter((l): l is LatencyUs => l !== undefined);
  if (lat.length > 0) {
    result.latencyUs = {
      p50: median(lat.map((l) => l.p50)),
      p99: median(lat.map((l) => l.p99)),
      p999: median(lat.map((l) => l.p999)),
    };
    const means = lat.map((l) => l.mean).filter((x): x is number => x !== undefined);
    if (means.length > 0) result.latencyUs.mean = median(means);
  }

  const cpu: NonNullable<VariantResult["cpu"]> = {};
  for (const side of ["server", "client", "self"] as const) {
    const vals = ms.map((m) => m.cpu?.[side]).filter((x): x is number => x !== undefined);
    if (vals.length > 0) cpu[side] = median(vals);
  }
  if (Object.keys(cpu).length > 0) result.cpu = cpu;

  const notes = [...new Set([...ms.flatMap((m) => m.notes ?? []), ...failures])];
  if (notes.length > 0) result.notes = notes;

  const extra: Record<string, number | string> = {};
  const keys = new Set(ms.flatMap((m) => Object.keys(m.extra ?? {})));
  for (const k of keys) {
    const vals = ms.map((m) => m.extra?.[k]).filter((x) => x !== undefined);
    const nums = vals.filter((x): x is number => typeof x === "number");
    extra[k] = nums.length === vals.length && nums.length > 0 ? median(nums) : String(vals[vals.length - 1]);
  }
  if (keys.size > 0) result.extra = extra;
  return result;
}

/** Percentiles from a measurement: given ones first, else computed from samples. */
function latencyOf(m: Measurement): LatencyUs | undefined {
  if (m.latencyUs) return m.latencyUs;
  const s = m.latencySamplesUs;
  if (!s || s.length === 0) return undefined;
  const [p50, p99, p999] = percentiles(s, [50, 99, 99.9]) as [number, number, number];
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  return { p50, p99, p999, mean: sum / s.length };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A helper for simple closed-loop variants: calls `step()` (which does one
 * batch and returns how many ops it completed) until `durationMs` passes,
 * reporting progress; returns ops and the exact elapsed seconds.
 * Checks the clock once per step, so keep steps short (a batch, not a second).
 */
export async function timedLoop(durationMs: number, ctx: RunControl, step: () => number | Promise<number>): Promise<{ ops: number; seconds: number }> {
  const start = performance.now();
  const end = start + durationMs;
  let ops = 0;
  let lastReport = start;
  for (;;) {
    ops += await step();
    const now = performance.now();
    if (now - lastReport >= 100) {
      ctx.report(ops);
      lastReport = now;
    }
    if (now >= end || ctx.signal.aborted) return { ops, seconds: (now - start) / 1000 };
  }
}

/**
 * Synchronous twin of {@link timedLoop} for loops that never await (a pread
 * loop, a ring driven by submitAndWait): no microtask per step.
 * Note: it blocks the event loop for `durationMs`, so progress is still drawn
 * (ctx.report writes directly) but timers do not fire meanwhile, and neither
 * does Ctrl-C: a command calls it through runInSlices (slices.ts) so that
 * the signal is seen within a slice.
 */
export function timedLoopSync(durationMs: number, ctx: RunControl, step: () => number): { ops: number; seconds: number } {
  const start = performance.now();
  const end = start + durationMs;
  let ops = 0;
  let lastReport = start;
  for (;;) {
    ops += step();
    const now = performance.now();
    if (now - lastReport >= 100) {
      ctx.report(ops);
      lastReport = now;
    }
    if (now >= end || ctx.signal.aborted) return { ops, seconds: (now - start) / 1000 };
  }
}
