/**
 * What every fsync-chain variant measures per run window: acknowledged
 * commits, their latency, and the split of that latency between the writes
 * and the sync. Turned into the shared runner's Measurement at the end.
 */
import type { Measurement } from "../harness/runner.ts";
import { LatencyRecorder } from "../harness/latency.ts";

/** Per-run accumulator of commit timings (all times in ms from performance.now()). */
export class CommitStats {
  /** Acknowledged commits in this window. */
  commits = 0;
  /** Commits that failed in this window (reported through the ledger, not as Measurement errors). */
  failed = 0;
  private readonly latency = new LatencyRecorder();
  private writeMs = 0;
  private syncMs = 0;
  /** Commits whose split was measured (the io_uring variant measures it only with --split). */
  private splitN = 0;
  readonly startMs = performance.now();

  /**
   * Records an acknowledged commit: submitted at `t0`, last write done at `tw`
   * (NaN when not observed separately), durable at `t1`.
   */
  ack(t0: number, tw: number, t1: number): void {
    this.commits++;
    this.latency.record((t1 - t0) * 1000);
    if (tw === tw) {
      this.writeMs += tw - t0;
      this.syncMs += t1 - tw;
      this.splitN++;
    }
  }

  /**
   * The Measurement of this window: commits/s from `commits` over the elapsed
   * time, bytes from `bytesPerCommit`, latency percentiles in µs, and the mean
   * write and sync parts in `extra`.
   */
  toMeasurement(bytesPerCommit: number, endMs = performance.now()): Measurement {
    const seconds = (endMs - this.startMs) / 1000;
    // Failed commits are counted once per variant from its ledger (warm-up included), not here.
    const m: Measurement = { ops: this.commits, seconds, bytes: this.commits * bytesPerCommit, errors: 0 };
    if (this.commits > 0) {
      const [p50, p99, p999] = this.latency.percentiles([50, 99, 99.9]) as [number, number, number];
      m.latencyUs = { p50, p99, p999, mean: this.latency.mean };
      if (this.splitN > 0) {
        m.extra = {
          writeUs: (this.writeMs * 1000) / this.splitN,
          syncUs: (this.syncMs * 1000) / this.splitN,
        };
      }
    }
    return m;
  }
}
