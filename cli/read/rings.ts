/**
 * `--rings N`: N io_uring readers, one per Bun Worker, each with its own ring
 * and buffers over the same file (different random seeds), run at the same
 * time. Ops and bytes add up; latency histograms are merged; CPU is the whole
 * process's (it may exceed one core, which is the point).
 */
import { LatencyRecorder } from "../harness/latency.ts";
import type { UringReadConfig } from "./uring.ts";
import { UnsupportedError } from "./uring.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

/** Grace on top of a run's duration before a silent worker is declared stuck. */
export const WORKER_REPLY_MARGIN_MS = 30_000;

/** A worker and its one outstanding request. */
interface Slot {
  worker: Worker;
  pending: ((r: WorkerReply) => void) | null;
}

/** What N rings did in one run. */
export interface PoolResult {
  ops: number;
  bytes: number;
  seconds: number;
  enters: number;
  latencyUs?: { p50: number; p99: number; p999: number };
}

/** N workers, one UringReader each. */
export class RingPool {
  private readonly slots: Slot[] = [];
  readonly ringFlags = new Set<string>();

  /** `pread`: the workers run pread loops instead of rings (N threads of pread, the comparison). */
  constructor(
    private readonly n: number,
    private readonly config: UringReadConfig,
    private readonly pread = false,
  ) {}

  /** Starts the workers and opens a reader in each; throws (UnsupportedError too) if any fails. */
  async open(): Promise<void> {
    for (let i = 0; i < this.n; i++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href);
      const slot: Slot = { worker, pending: null };
      worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
        const p = slot.pending;
        slot.pending = null;
        p?.(ev.data);
      };
      worker.onerror = (ev) => {
        const p = slot.pending;
        slot.pending = null;
        p?.({ type: "error", message: `worker ${i} crashed: ${ev.message}`, unsupported: false });
      };
      this.slots.push(slot);
    }
    const replies = await this.all((i) => ({ type: "open", config: { ...this.config, seed: (this.config.seed ?? 1) + i * 7919 }, pread: this.pread }), 10_000);
    for (const r of replies) if (r.type === "opened") for (const f of r.ringFlags) this.ringFlags.add(f);
  }

  /**
   * One run on every ring at once. With `into`, the rings' latencies are
   * merged into it (a caller adding up slices of one run) instead of being
   * turned into percentiles here.
   */
  async run(durationMs: number, maxOps: number, into?: LatencyRecorder): Promise<PoolResult> {
    // Each ring gets its share of an op budget.
    const share = maxOps > 0 ? Math.ceil(maxOps / this.n) : 0;
    const replies = await this.all(() => ({ type: "run", durationMs, maxOps: share, record: true }), durationMs + WORKER_REPLY_MARGIN_MS);
    let ops = 0;
    let bytes = 0;
    let seconds = 0;
    let enters = 0;
    const lat = into ?? new LatencyRecorder();
    for (const r of replies) {
      if (r.type !== "result") continue;
      ops += r.ops;
      bytes += r.bytes;
      enters += r.enters;
      seconds = Math.max(seconds, r.seconds);
      if (r.latency) lat.merge(r.latency);
    }
    const out: PoolResult = { ops, bytes, seconds, enters };
    if (into === undefined && lat.count > 0) {
      const [p50, p99, p999] = lat.percentiles([50, 99, 99.9]) as [number, number, number];
      out.latencyUs = { p50, p99, p999 };
    }
    return out;
  }

  /** Closes every reader and ends the workers. */
  async close(): Promise<void> {
    try {
      await this.all(() => ({ type: "close" }), 10_000);
    } finally {
      for (const s of this.slots) s.worker.terminate();
      this.slots.length = 0;
    }
  }

  /** Sends one request to every worker and waits (bounded) for every reply; the first error is thrown. */
  private async all(make: (i: number) => WorkerRequest, timeoutMs: number): Promise<WorkerReply[]> {
    const replies = await Promise.all(
      this.slots.map(
        (slot, i) =>
          new Promise<WorkerReply>((resolve) => {
            const timer = setTimeout(() => {
              slot.pending = null;
              resolve({ type: "error", message: `worker ${i} did not answer within ${timeoutMs} ms`, unsupported: false });
            }, timeoutMs);
            slot.pending = (r) => {
              clearTimeout(timer);
              resolve(r);
            };
            slot.worker.postMessage(make(i));
          }),
      ),
    );
    const err = replies.find((r) => r.type === "error");
    if (err && err.type === "error") throw err.unsupported ? new UnsupportedError(err.message) : new Error(err.message);
    return replies;
  }
}
