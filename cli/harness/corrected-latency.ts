/**
 * Latency of open-loop requests, recorded two ways at once:
 *
 * - **corrected**: completion − intended send time. What a user who wanted
 *   to send at the intended time waits; includes time the request spent
 *   queued on the client side. This is wrk2's corrected latency and the one
 *   an SLO should be judged on.
 * - **uncorrected**: completion − actual send time. What a client that only
 *   times the request it actually sent reports; it hides waiting that
 *   happened before the send (coordinated omission).
 *
 * plus the **send lag** (actual − intended): how long requests waited before
 * leaving. A large send lag with a client that has CPU to spare means the
 * system under test pushed back (full socket, queue depth reached); with a
 * saturated client, the client itself fell behind.
 *
 * Each is a {@link LatencyRecorder}: constant cost per record, mergeable
 * snapshots (one recorder per connection or Worker, merged at the end).
 * Units are the caller's (ms in, or µs in: keep it consistent); summaries
 * are in the same unit.
 */
import { LatencyRecorder, type LatencySnapshot } from "./latency.ts";

/** Percentiles an open-loop report shows. */
export const OPEN_LOOP_PERCENTILES = [50, 90, 99, 99.9] as const;

/** One latency distribution as plain data. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** The three recorders' snapshots, to post from a Worker and merge. */
export interface CorrectedSnapshot {
  corrected: LatencySnapshot;
  uncorrected: LatencySnapshot;
  sendLag: LatencySnapshot;
}

/** Summaries of the three distributions. */
export interface CorrectedSummary {
  corrected: LatencySummary;
  uncorrected: LatencySummary;
  sendLag: LatencySummary;
}

/** Summary of one recorder (NaN fields when empty). */
export function summarize(r: LatencyRecorder): LatencySummary {
  const [p50, p90, p99, p999, max] = r.percentiles([...OPEN_LOOP_PERCENTILES, 100]);
  return { count: r.count, p50: p50!, p90: p90!, p99: p99!, p999: p999!, max: max!, mean: r.mean };
}

/** Records open-loop latencies from intended, actual-send and completion times. */
export class CorrectedLatency {
  readonly corrected: LatencyRecorder;
  readonly uncorrected: LatencyRecorder;
  readonly sendLag: LatencyRecorder;

  /** `resolution`: as LatencyRecorder's (smallest difference kept exactly, caller's unit). */
  constructor(resolution = 0.001) {
    this.corrected = new LatencyRecorder(resolution);
    this.uncorrected = new LatencyRecorder(resolution);
    this.sendLag = new LatencyRecorder(resolution);
  }

  /** Records one request: when it was meant to go, when it went, when it completed. */
  record(intended: number, sent: number, done: number): void {
    this.corrected.record(done - intended);
    this.uncorrected.record(done - sent);
    this.sendLag.record(sent - intended);
  }

  /**
   * Records a request that never completed by the end of the run, at its age
   * `now - intended` (corrected only): it must count, not vanish.
   */
  recordUnfinished(intended: number, now: number): void {
    this.corrected.record(now - intended);
  }

  /** Forgets everything (after a warm-up). */
  reset(): void {
    this.corrected.reset();
    this.uncorrected.reset();
    this.sendLag.reset();
  }

  /** Plain-data copy of all three recorders. */
  snapshot(): CorrectedSnapshot {
    return { corrected: this.corrected.snapshot(), uncorrected: this.uncorrected.snapshot(), sendLag: this.sendLag.snapshot() };
  }

  /** Adds another recorder's snapshot (same resolution). */
  merge(s: CorrectedSnapshot): void {
    this.corrected.merge(s.corrected);
    this.uncorrected.merge(s.uncorrected);
    this.sendLag.merge(s.sendLag);
  }

  /** Percentile summaries of the three distributions. */
  summary(): CorrectedSummary {
    return { corrected: summarize(this.corrected), uncorrected: summarize(this.uncorrected), sendLag: summarize(this.sendLag) };
  }
}
