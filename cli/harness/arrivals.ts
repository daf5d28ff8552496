/**
 * Arrival schedules for open-loop load: the times at which requests are
 * *meant* to leave, fixed in advance and independent of replies. Latency is
 * then measured from these intended times (see corrected-latency.ts), so a
 * stall of the system under test delays every request scheduled during it
 * and shows in the percentiles instead of silently pausing the client
 * (coordinated omission, the flaw wrk2 corrects).
 *
 * Used by the echo, read and fsync-chain open-loop runs, and meant for any
 * other open-loop client (HTTP lookups): nothing here knows about the
 * transport. Times are in milliseconds on the caller's clock
 * (performance.now()).
 */

/** How requests are spaced: evenly (`uniform`, wrk2's model) or as a Poisson process (exponential gaps, independent users). */
export type ArrivalKind = "uniform" | "poisson";

/** The arrival kinds, for option parsing. */
export const ARRIVAL_KINDS: readonly ArrivalKind[] = ["uniform", "poisson"];

/** Options of {@link Arrivals}. */
export interface ArrivalOptions {
  /** Requests per second of this stream (> 0). */
  rate: number;
  /** Spacing (default "uniform"). */
  kind?: ArrivalKind;
  /** Time of the first arrival, ms (uniform) or the origin the first gap is drawn from (poisson). */
  startMs: number;
  /** Seed of the Poisson gaps, so runs repeat (default 1). */
  seed?: number;
}

/**
 * A small, fast, seedable generator (mulberry32): Math.random cannot be
 * seeded, and a benchmark's arrival pattern should repeat run to run.
 */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One stream of intended send times. `next` is the next one not yet taken;
 * `take()` returns it and advances. Allocation-free after construction, so a
 * hot loop can call it per request.
 */
export class Arrivals {
  /** Mean gap between arrivals, ms. */
  readonly periodMs: number;
  readonly kind: ArrivalKind;
  /** The next intended time, ms. */
  next: number;
  private readonly rand: () => number;

  constructor(opts: ArrivalOptions) {
    if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`arrival rate must be a positive number, got ${opts.rate}`);
    this.periodMs = 1000 / opts.rate;
    this.kind = opts.kind ?? "uniform";
    this.rand = seededUniform(opts.seed ?? 1);
    this.next = this.kind === "uniform" ? opts.startMs : opts.startMs + this.gap();
  }

  /** A gap: the period, or an exponential draw with the period as mean. */
  private gap(): number {
    return this.kind === "uniform" ? this.periodMs : -Math.log(1 - this.rand()) * this.periodMs;
  }

  /** Returns the next intended time and schedules the one after. */
  take(): number {
    const t = this.next;
    this.next = t + this.gap();
    return t;
  }

  /** Whether an arrival is due at `nowMs` (next ≤ now), without taking it. */
  dueAt(nowMs: number): boolean {
    return this.next <= nowMs;
  }
}

/**
 * Splits an aggregate `rate` over `streams` independent streams (one per
 * connection or queue slot), each at rate/streams. Uniform streams are
 * staggered by 1/rate so the aggregate stays evenly spaced; Poisson streams
 * get distinct seeds (a sum of independent Poisson processes is Poisson at
 * the total rate).
 */
export function splitArrivals(rate: number, streams: number, kind: ArrivalKind, startMs: number, seed = 1): Arrivals[] {
  if (!Number.isInteger(streams) || streams < 1) throw new RangeError(`streams must be a positive integer, got ${streams}`);
  const out: Arrivals[] = [];
  for (let i = 0; i < streams; i++) {
    out.push(new Arrivals({ rate: rate / streams, kind, startMs: kind === "uniform" ? startMs + (i * 1000) / rate : startMs, seed: seed + i * 7919 }));
  }
  return out;
}

/**
 * Parses a rate flag ("30000", "30k", "1.5m") to requests per second; throws
 * a RangeError naming `flag` otherwise.
 */
export function parseRate(value: string, flag = "--rate"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM])?\s*$/.exec(value);
  const n = m ? Number(m[1]) * (m[2] ? (m[2].toLowerCase() === "k" ? 1e3 : 1e6) : 1) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`${flag} takes a positive rate per second (e.g. 30000 or 30k), got "${value}"`);
  return n;
}
