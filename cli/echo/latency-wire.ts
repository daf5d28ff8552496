/**
 * A load generator's latency histogram as it crosses a process boundary: the
 * non-empty buckets of a {@link LatencyRecorder} (the C epoll client prints
 * the same buckets), so the results of parallel generators (`--client-threads`)
 * merge into one distribution and its percentiles are those of the combined
 * load, not the largest any generator saw.
 */
import { LatencyRecorder } from "../harness/latency.ts";

/** A LatencyRecorder's state, sparse: `buckets` holds [bucket index, count] for each non-empty bucket. */
export interface WireLatency {
  /** The recorder's resolution, in its unit (the load generators record ms at 0.001: 1 µs). */
  resolution: number;
  count: number;
  sum: number;
  /** Exact extremes; null (JSON's stand-in for ±Infinity) when nothing was recorded. */
  min: number | null;
  max: number | null;
  buckets: [number, number][];
}

/** `rec`'s state as a {@link WireLatency}. */
export function toWire(rec: LatencyRecorder): WireLatency {
  const s = rec.snapshot();
  const buckets: [number, number][] = [];
  for (let i = 0; i < s.counts.length; i++) if (s.counts[i]! > 0) buckets.push([i, s.counts[i]!]);
  return { resolution: s.resolution, count: s.count, sum: s.sum, min: s.count > 0 ? s.min : null, max: s.count > 0 ? s.max : null, buckets };
}

/** One recorder holding every value of `wires` (all of one resolution). Throws a RangeError on a bucket the recorder does not have. */
export function mergeWire(wires: readonly WireLatency[]): LatencyRecorder {
  const rec = new LatencyRecorder(wires[0]?.resolution);
  for (const w of wires) {
    if (w.count === 0) continue;
    const s = new LatencyRecorder(w.resolution).snapshot();
    for (const [i, n] of w.buckets) {
      if (!Number.isInteger(i) || i < 0 || i >= s.counts.length) throw new RangeError(`latency bucket ${i} is out of range (0-${s.counts.length - 1})`);
      s.counts[i] = s.counts[i]! + n;
    }
    s.count = w.count;
    s.sum = w.sum;
    s.min = w.min ?? Infinity;
    s.max = w.max ?? -Infinity;
    rec.merge(s);
  }
  return rec;
}
