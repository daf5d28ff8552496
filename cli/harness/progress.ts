/**
 * The live progress line: one line on stderr, rewritten in place, showing
 * which variant runs, elapsed time and the current rate. Shown only when
 * stderr is a TTY, the run lasts longer than a second, and --quiet is off,
 * so pipes, CI logs and saved output stay clean.
 */

/** Runs shorter than this get no progress line: it would only flicker. */
export const PROGRESS_MIN_RUN_MS = 1000;
/** Redraw interval: fast enough to look live, slow enough to cost nothing. */
export const PROGRESS_REDRAW_MS = 200;

/** What the runner tells the progress display. */
export interface ProgressEvent {
  /** "warmup" or "measure". */
  phase: "warmup" | "measure";
  variant: string;
  cell: string;
  /** 1-based repetition number (0 during warm-up). */
  repetition: number;
  repeat: number;
  /** Planned duration of this run, ms. */
  durationMs: number;
  /** Elapsed time in this run, ms. */
  elapsedMs: number;
  /** Operations completed so far in this run (as reported by the variant). */
  ops: number;
  /** Runs done and total (variants × cells × repetitions). */
  runIndex: number;
  runCount: number;
}

/** Something that shows progress; `done` clears it. */
export interface ProgressSink {
  update(ev: ProgressEvent): void;
  done(): void;
}

/** A sink that shows nothing. */
export const silentProgress: ProgressSink = { update() {}, done() {} };

/** Where a progress line may be written; defaults to process.stderr. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/**
 * The progress display for a run of `totalMs` (planned). Returns
 * {@link silentProgress} when `quiet`, when the stream is not a TTY, or when
 * `totalMs` is at most {@link PROGRESS_MIN_RUN_MS}.
 */
export function createProgress(opts: { quiet?: boolean; totalMs: number; stream?: ProgressStream }): ProgressSink {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY || opts.totalMs <= PROGRESS_MIN_RUN_MS) return silentProgress;
  let lastDraw = -Infinity;
  let drawn = false;
  let lastOps = 0;
  let lastElapsed = 0;
  let rate = 0;
  let lastKey = "";
  return {
    update(ev) {
      const key = `${ev.runIndex}`;
      if (key !== lastKey) {
        lastKey = key;
        lastOps = 0;
        lastElapsed = 0;
        rate = 0;
      }
      const now = performance.now();
      if (now - lastDraw < PROGRESS_REDRAW_MS && ev.elapsedMs < ev.durationMs) return;
      // Current rate over the last redraw interval, not since the start, so a
      // stall shows up at once.
      const dt = ev.elapsedMs - lastElapsed;
      if (dt > 0) rate = ((ev.ops - lastOps) * 1000) / dt;
      lastOps = ev.ops;
      lastElapsed = ev.elapsedMs;
      lastDraw = now;
      const line = formatProgressLine(ev, rate);
      // A pty with no size reports 0 columns: assume a common width then.
      const width = stream.columns && stream.columns > 20 ? stream.columns - 1 : 100;
      stream.write(`\r\x1b[2K${line.length > width ? line.slice(0, width) : line}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

/** The text of one progress line (exported for tests). */
export function formatProgressLine(ev: ProgressEvent, ratePerSec: number): string {
  const what = ev.phase === "warmup" ? "warm-up" : `rep ${ev.repetition}/${ev.repeat}`;
  const secs = `${(ev.elapsedMs / 1000).toFixed(1)}/${(ev.durationMs / 1000).toFixed(1)}s`;
  return `[${ev.runIndex + 1}/${ev.runCount}] ${ev.cell} ${ev.variant} ${what} ${secs} ${formatRate(ratePerSec)} ops/s`;
}

/** 1234567 → "1.23M", 12345 → "12.3k". */
export function formatRate(v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}
