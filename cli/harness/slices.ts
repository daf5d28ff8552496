/**
 * Loops that never await (a pread loop, a ring driven by submitAndWait, a
 * write+fdatasync loop) block the event loop, and Ctrl-C reaches JavaScript
 * only through the event loop. So such a loop runs in slices of at most
 * {@link SLICE_MS}, yielding between them: the runner's signal is then seen
 * within a slice, which keeps the stop well inside 200 ms, while the yield
 * (one macrotask) costs microseconds per slice.
 */

/** Longest stretch a synchronous measuring loop runs without yielding to the event loop. */
export const SLICE_MS = 50;

/** Lets pending signals and timers run (a macrotask: a microtask would not). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Calls `slice(ms)` with at most {@link SLICE_MS} of the remaining time until
 * `durationMs` has passed, `slice` returns true (its op budget is spent or it
 * broke), or `signal` aborts; yields to the event loop between slices.
 */
export async function runInSlices(durationMs: number, signal: AbortSignal, slice: (ms: number) => boolean | Promise<boolean>): Promise<void> {
  const end = performance.now() + durationMs;
  for (;;) {
    const ms = Math.max(1, Math.min(SLICE_MS, end - performance.now()));
    if (await slice(ms)) return;
    if (signal.aborted || performance.now() >= end) return;
    await yieldToEventLoop();
    if (signal.aborted) return;
  }
}
