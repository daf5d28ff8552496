/**
 * Open-loop driver for storage operations on one Ring: operations are due at
 * the times of an arrival schedule (arrivals.ts), whatever happened to
 * earlier ones; at most `slots` are in flight (the queue depth), and an
 * arrival that finds no free slot waits in a client-side queue, its wait
 * counted in its latency. Used by `read --rate` and `fsync-chain --rate`.
 *
 * Latency, per operation, fio's split:
 * - lat  (corrected): completion − intended time;
 * - slat: submitted − intended (the wait for a slot, the scheduler's lateness
 *   and the io_uring_enter that submitted it; fio's slat counts the submit
 *   call alone, since fio's intended time is its submit time);
 * - clat: completion − submitted (the kernel and device).
 * They are CorrectedLatency's corrected, sendLag and uncorrected recorders.
 *
 * Waiting: one io_uring_enter with a timeout up to the next arrival
 * (IORING_ENTER_EXT_ARG), so the loop sleeps in the kernel, wakes on the
 * first completion or at the next due time, and never spins.
 */
import type { Ring } from "../../src/ring/ring.ts";
import type { Cqe } from "../../src/ring/cqe.ts";
import { Errno } from "../../src/sys/errno.ts";
import { Arrivals, type ArrivalKind } from "./arrivals.ts";
import { CorrectedLatency, summarize, type LatencySummary } from "./corrected-latency.ts";
import { selfCpuSeconds } from "./cpu.ts";
import { fmtNum } from "./rows.ts";
import type { VariantResult } from "./result.ts";

/** After the window, operations still in flight get this long to complete before they are counted unfinished. */
export const RING_DRAIN_MS = 2000;

/** What every ring open-loop row reports for one rate; `read --rate` and `fsync-chain --rate` add their own fields. */
export interface RingOpenLoopRow {
  rate: number;
  achievedRate: number;
  /** Latency from the intended time (corrected). */
  lat: LatencySummary;
  /** Intended → submitted. */
  slat: LatencySummary;
  /** Submitted → complete. */
  clat: LatencySummary;
  cpu: number;
  unfinished: number;
  errors: number;
  /** "ok", or why the rate was not held (see {@link openLoopStatus}). */
  status: string;
}

/**
 * The fields every ring open-loop row shares, from one run at `rate` with
 * `errors` failed operations (slat summarized once, for the row and its status).
 */
export function ringOpenLoopRow(rate: number, r: RingOpenLoopResult, errors: number): RingOpenLoopRow {
  const s = r.latency.summary();
  const slat = summarize(r.latency.sendLag);
  return {
    rate,
    achievedRate: r.achievedRate,
    lat: s.corrected,
    slat,
    clat: s.uncorrected,
    cpu: r.cpu,
    unfinished: r.unfinished,
    errors,
    status: openLoopStatus(rate, r.achievedRate, r.unfinished, errors, r.cpu, slat.p99),
  };
}

/**
 * The cells every ring open-loop table starts with: rate, achieved rate,
 * latency from the intended time (p50/p90/p99/p99.9/max), slat and clat
 * (p50 / p99) and CPU. Each command appends its own columns after them.
 */
export function ringOpenLoopCells(r: RingOpenLoopRow): string[] {
  return [
    String(r.rate),
    fmtNum(r.achievedRate),
    fmtNum(r.lat.p50),
    fmtNum(r.lat.p90),
    fmtNum(r.lat.p99),
    fmtNum(r.lat.p999),
    fmtNum(r.lat.max),
    `${fmtNum(r.slat.p50)} / ${fmtNum(r.slat.p99)}`,
    `${fmtNum(r.clat.p50)} / ${fmtNum(r.clat.p99)}`,
    `${Math.round(r.cpu * 100)}%`,
  ];
}

/**
 * One ring open-loop row as a VariantResult (variant "uring") for
 * --json/--save: the fields `read --rate` and `fsync-chain --rate` share,
 * then each command's own `extra` fields (and `bytesPerSec` where it has one).
 */
export function ringOpenLoopResult(r: RingOpenLoopRow, cell: string, extra: Record<string, unknown>, bytesPerSec?: number): VariantResult {
  return {
    variant: "uring",
    cell,
    opsPerSec: r.achievedRate,
    repetitions: [r.achievedRate],
    ...(bytesPerSec === undefined ? {} : { bytesPerSec }),
    latencyUs: { p50: r.lat.p50, p99: r.lat.p99, p999: r.lat.p999, mean: r.lat.mean },
    cpu: { self: r.cpu },
    errors: r.errors + r.unfinished,
    notes: r.status === "ok" ? [] : [`${r.status} at ${r.rate}/s: achieved ${Math.round(r.achievedRate)}/s, ${r.unfinished} unfinished`],
    extra: {
      requestedRate: r.rate,
      achievedRate: r.achievedRate,
      latP90Us: r.lat.p90,
      latMaxUs: r.lat.max,
      slatP99Us: r.slat.p99,
      clatP50Us: r.clat.p50,
      clatP99Us: r.clat.p99,
      ...extra,
      status: r.status,
    },
  };
}

/** Options of {@link runRingOpenLoop}. */
export interface RingOpenLoopOptions {
  ring: Ring;
  /** Operations per second. */
  rate: number;
  arrival: ArrivalKind;
  /** Measured window, ms (after `warmupMs`). */
  durationMs: number;
  warmupMs: number;
  /** Operations in flight at most (queue depth); each has a slot number 0..slots-1. */
  slots: number;
  /**
   * Prepares operation `slot` (one SQE, or a linked chain); every CQE it will
   * post must carry `slot` in its user_data low 32 bits.
   */
  prep(slot: number): void;
  /** One CQE of `slot`: returns true when the operation is complete (its last CQE), and throws on a failed op. */
  complete(slot: number, res: number): boolean;
  seed?: number;
  signal?: AbortSignal;
}

/** What {@link runRingOpenLoop} measured. */
export interface RingOpenLoopResult {
  requestedRate: number;
  /** Completions inside the window / window length. */
  achievedRate: number;
  completedInWindow: number;
  seconds: number;
  /** Operations intended in the window and not complete after the drain. */
  unfinished: number;
  /** This process's CPU over the window, fraction of one core. */
  cpu: number;
  /** Largest client-side queue of due operations waiting for a slot. */
  peakQueued: number;
  /** lat (corrected), clat (uncorrected) and slat (sendLag), µs. */
  latency: CorrectedLatency;
  /** io_uring_enter calls per operation in the window. */
  entersPerOp: number;
}

/** Runs the open-loop schedule to the end of the window plus the drain. */
export function runRingOpenLoop(o: RingOpenLoopOptions): RingOpenLoopResult {
  const { ring, slots } = o;
  const now = () => performance.now();
  const start = now() + 5;
  const arrivals = new Arrivals({ rate: o.rate, kind: o.arrival, startMs: start, seed: o.seed });
  const winStart = start + o.warmupMs;
  const winEnd = winStart + o.durationMs;
  const drainEnd = winEnd + RING_DRAIN_MS;
  const intended = new Float64Array(slots);
  const submitted = new Float64Array(slots);
  const free: number[] = [];
  for (let i = slots - 1; i >= 0; i--) free.push(i);
  // Due operations waiting for a slot: a growable ring of intended times.
  let queue = new Float64Array(1024);
  let qHead = 0;
  let qLen = 0;
  let peakQueued = 0;
  const fresh: number[] = [];
  const latency = new CorrectedLatency();
  let inFlight = 0;
  let completedInWindow = 0;
  let cpu0 = 0;
  let enters0 = 0;
  let measuring = 0;
  let cpu = 0;
  let enters = 0;
  const onCqe = (cqe: Cqe) => {
    const slot = cqe.userDataLo;
    if (!o.complete(slot, cqe.res)) return;
    const t = now();
    const want = intended[slot]!;
    if (want >= winStart && want < winEnd) latency.record(want * 1000, submitted[slot]! * 1000, t * 1000);
    if (t >= winStart && t < winEnd) completedInWindow++;
    inFlight--;
    free.push(slot);
  };
  for (;;) {
    if (o.signal?.aborted) throw new Error("run interrupted");
    let t = now();
    if (measuring === 0 && t >= winStart) {
      measuring = 1;
      cpu0 = selfCpuSeconds();
      enters0 = ring.enterCount;
    }
    if (measuring === 1 && t >= winEnd) {
      measuring = 2;
      cpu = (selfCpuSeconds() - cpu0) / (o.durationMs / 1000);
      enters = ring.enterCount - enters0;
    }
    while (arrivals.next <= t && arrivals.next < winEnd) {
      if (qLen === queue.length) {
        const bigger = new Float64Array(queue.length * 2);
        for (let i = 0; i < qLen; i++) bigger[i] = queue[(qHead + i) % queue.length]!;
        queue = bigger;
        qHead = 0;
      }
      queue[(qHead + qLen) % queue.length] = arrivals.take();
      qLen++;
    }
    if (qLen > peakQueued) peakQueued = qLen;
    while (qLen > 0 && free.length > 0) {
      const slot = free.pop()!;
      intended[slot] = queue[qHead]!;
      qHead = (qHead + 1) % queue.length;
      qLen--;
      o.prep(slot);
      fresh.push(slot);
      inFlight++;
    }
    const sending = arrivals.next < winEnd;
    if (!sending && inFlight === 0 && qLen === 0) break;
    if (!sending && t >= drainEnd) break;
    // Sleep in the kernel until a completion or the next due time (or a phase edge).
    let wake = sending ? arrivals.next : drainEnd;
    if (measuring === 0 && wake > winStart) wake = winStart;
    if (measuring === 1 && wake > winEnd) wake = winEnd;
    const waitNs = Math.max(0, Math.round((wake - t) * 1e6));
    const rc = fresh.length > 0 && waitNs === 0 ? ring.submit() : ring.submitAndWaitTimeout(inFlight > 0 || waitNs > 0 ? 1 : 0, waitNs);
    if (fresh.length > 0) {
      // The enter above submitted them; its return is their submit time (fio's slat ends there too).
      t = now();
      for (const s of fresh) submitted[s] = t;
      fresh.length = 0;
    }
    if (rc < 0 && rc !== -Errno.ETIME && rc !== -Errno.EINTR && rc !== -Errno.EAGAIN && rc !== -Errno.EBUSY) {
      throw new Error(`io_uring_enter failed: errno ${-rc}`);
    }
    ring.reapCqes(onCqe);
  }
  if (measuring < 2) {
    cpu = (selfCpuSeconds() - cpu0) / (o.durationMs / 1000);
    enters = ring.enterCount - enters0;
  }
  // Operations intended in the window that never finished count at their age.
  let unfinished = 0;
  const end = now();
  for (let s = 0; s < slots; s++) {
    if (free.includes(s)) continue;
    if (intended[s]! >= winStart && intended[s]! < winEnd) {
      unfinished++;
      latency.recordUnfinished(intended[s]! * 1000, end * 1000);
    }
  }
  for (let i = 0; i < qLen; i++) {
    const want = queue[(qHead + i) % queue.length]!;
    if (want >= winStart && want < winEnd) {
      unfinished++;
      latency.recordUnfinished(want * 1000, end * 1000);
    }
  }
  const seconds = o.durationMs / 1000;
  return {
    requestedRate: o.rate,
    achievedRate: completedInWindow / seconds,
    completedInWindow,
    seconds,
    unfinished,
    cpu,
    peakQueued,
    latency,
    entersPerOp: completedInWindow > 0 ? enters / completedInWindow : NaN,
  };
}

/** Slot wait + scheduler lateness (slat p99, µs) above which a busy driver counts as behind its schedule. */
export const DRIVER_LAG_P99_US = 1000;
/** Driver CPU share (of one core) above which it has no headroom. */
export const DRIVER_SATURATED_CPU = 0.9;

/**
 * The status word of one open-loop storage run: "client-limited" when the
 * driver itself was saturated and late (its lateness, not the device's, is
 * in the latency), "saturated" when the rate was not achieved or operations
 * never finished, "errors", else "ok".
 */
export function openLoopStatus(rate: number, achieved: number, unfinished: number, errors: number, cpu: number, slatP99Us: number): string {
  if (cpu > DRIVER_SATURATED_CPU && slatP99Us > DRIVER_LAG_P99_US) return "client-limited";
  if (achieved < 0.99 * rate || unfinished > 0) return "saturated";
  return errors > 0 ? "errors" : "ok";
}
