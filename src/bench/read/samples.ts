/**
 * Latency samples that can leave a Worker: a bounded Float64Array filled up to
 * its capacity, then sampled uniformly (reservoir), whose filled part is sent
 * to the main thread and merged there before percentiles are taken.
 */

import { percentiles } from "../stats.ts";

/** A bounded latency sample buffer (µs). */
export class SampleBuffer {
  private readonly buf: Float64Array;
  private n = 0;
  private seen = 0;
  private seed = 0x2545f491;

  constructor(capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  /** Records one latency. */
  record(v: number): void {
    this.seen++;
    if (this.n < this.buf.length) {
      this.buf[this.n++] = v;
      return;
    }
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    // Multiply-shift instead of a modulo: `seen` passes 2^31 only after
    // billions of reads, but the draw is a full u32, and JSC does u32 % n in
    // floating point.
    const j = Math.floor((this.seed / 4294967296) * this.seen);
    if (j < this.buf.length) this.buf[j] = v;
  }

  /** Samples recorded (including those the reservoir dropped). */
  get count(): number {
    return this.seen;
  }

  /** Percentiles (nearest rank) of the kept samples. */
  percentiles(ps: readonly number[]): number[] {
    return percentiles(this.buf.subarray(0, this.n), ps);
  }

  /** A copy of the kept samples. */
  take(): Float64Array {
    return this.buf.slice(0, this.n);
  }

  /** Forgets everything. */
  reset(): void {
    this.n = 0;
    this.seen = 0;
  }
}
