/**
 * The highest offered rate that still meets a latency objective ("p99 at
 * most 1 ms"), found by a bounded search: rates double from a start until
 * the objective fails (or a ceiling is reached), then bisect between the
 * last pass and the first fail for a fixed number of steps. Every probe is a
 * full open-loop run, so the number of probes is capped and reported.
 *
 * Generic: the caller supplies `probe(rate)` (an echo, read or HTTP run) and
 * says whether it met the objective; nothing here knows the workload.
 */

/** A latency objective: percentile `p` (0-100] of the corrected latency at most `boundUs`. */
export interface Slo {
  /** Percentile, e.g. 99 or 99.9. */
  p: number;
  /** Bound, µs. */
  boundUs: number;
  /** As the user wrote it ("p99=1ms"). */
  text: string;
}

/**
 * Parses "p99=1ms", "p99.9=500us", "p50=2ms", "p99=0.5ms", "p999=3ms"
 * (p999 means 99.9). Throws a RangeError that quotes the text otherwise.
 */
export function parseSlo(text: string): Slo {
  const m = /^\s*p(\d+(?:\.\d+)?)\s*[=<:]\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)\s*$/i.exec(text);
  if (!m) throw new RangeError(`--slo takes PERCENTILE=BOUND such as p99=1ms or p99.9=500us, got "${text}"`);
  let p = Number(m[1]);
  // "p999" is the common spelling of 99.9, "p9999" of 99.99.
  if (!m[1]!.includes(".") && p > 100 && /^99+$/.test(m[1]!)) p = Number(`99.${m[1]!.slice(2)}`);
  if (!(p > 0 && p <= 100)) throw new RangeError(`--slo percentile must be in (0, 100], got "${text}"`);
  const unit = m[3]!.toLowerCase();
  const boundUs = Number(m[2]) * (unit === "s" ? 1e6 : unit === "ms" ? 1e3 : 1);
  if (!(boundUs > 0)) throw new RangeError(`--slo bound must be positive, got "${text}"`);
  return { p, boundUs, text: text.trim() };
}

/** What one probe found. */
export interface ProbeOutcome {
  /** The objective held at this rate (and the rate was achieved). */
  ok: boolean;
  /** The client could not sustain the rate: the search stops, the answer is a lower bound. */
  clientLimited?: boolean;
}

/** Options of {@link searchMaxRate}. */
export interface SloSearchOptions<T extends ProbeOutcome> {
  /** First rate tried, /s. */
  startRate: number;
  /** Never probe above this rate, /s. */
  maxRate: number;
  /** Bisection steps after the bracket is found (each one probe). */
  bisectSteps: number;
  /** Runs the workload at `rate` and judges it. */
  probe(rate: number): Promise<T>;
  /** Stops between probes. */
  signal?: AbortSignal;
}

/** The search's answer. */
export interface SloSearchResult<T extends ProbeOutcome> {
  /** Highest rate that met the objective (0 if even the start failed). */
  rate: number;
  /** The probe at that rate (undefined if none passed). */
  best?: T;
  /** "found" (bracketed and bisected), "ceiling" (maxRate passed), "below-start" (startRate failed), "client-limited" (a lower bound). */
  outcome: "found" | "ceiling" | "below-start" | "client-limited";
  /** Every probe, in order. */
  probes: { rate: number; result: T }[];
}

/** Runs the bounded search (see the module comment). */
export async function searchMaxRate<T extends ProbeOutcome>(opts: SloSearchOptions<T>): Promise<SloSearchResult<T>> {
  const probes: { rate: number; result: T }[] = [];
  let pass = 0;
  let best: T | undefined;
  let fail = Infinity;
  const run = async (rate: number): Promise<T> => {
    if (opts.signal?.aborted) throw new Error("search interrupted");
    const result = await opts.probe(rate);
    probes.push({ rate, result });
    return result;
  };
  // Phase 1: double until a failure brackets the answer.
  for (let rate = Math.min(opts.startRate, opts.maxRate); ; rate = Math.min(rate * 2, opts.maxRate)) {
    const r = await run(rate);
    if (r.clientLimited) return { rate: pass, best, outcome: "client-limited", probes };
    if (r.ok) {
      pass = rate;
      best = r;
      if (rate >= opts.maxRate) return { rate, best, outcome: "ceiling", probes };
    } else {
      fail = rate;
      break;
    }
  }
  if (pass === 0) {
    // Below the start: halve a few times so the answer is still a number.
    for (let rate = fail / 2, i = 0; i < opts.bisectSteps; i++, rate /= 2) {
      const r = await run(Math.round(rate));
      if (r.clientLimited) return { rate: pass, best, outcome: "client-limited", probes };
      if (r.ok) {
        pass = Math.round(rate);
        best = r;
        break;
      }
      fail = Math.round(rate);
    }
    if (pass === 0) return { rate: 0, outcome: "below-start", probes };
  }
  // Phase 2: bisect between the last pass and the first fail.
  for (let i = 0; i < opts.bisectSteps && fail - pass > Math.max(1, pass * 0.02); i++) {
    const rate = Math.round((pass + fail) / 2);
    const r = await run(rate);
    if (r.clientLimited) return { rate: pass, best, outcome: "client-limited", probes };
    if (r.ok) {
      pass = rate;
      best = r;
    } else fail = rate;
  }
  return { rate: pass, best, outcome: "found", probes };
}
