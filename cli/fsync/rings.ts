/**
 * `fsync-chain --rings N`: the `uring` and `loop` variants run N ways at
 * once, one Bun Worker each (rings-worker.ts), each committing to its own
 * file with its own ring or syscall loop: N independent logs, the way a
 * thread-per-core database keeps one per core. fio runs with numjobs=N
 * (fio.ts). Commits add up; latency percentiles are the largest any Worker
 * saw (an upper bound, noted), the mean is weighted by commits. Each Worker
 * verifies its file at the end; {@link RingsVariant.fold} puts the verdicts
 * into the row (errors, notes, extra).
 */
import type { VariantResult } from "../harness/result.ts";
import type { BenchVariant, Measurement, RunControl } from "../harness/runner.ts";
import type { FsyncConfig } from "./options.ts";
import type { RingsReply, RingsRequest, RingsVerdict } from "./rings-worker.ts";

/** Grace beyond a run's duration before a silent Worker counts as stuck. */
const REPLY_MARGIN_MS = 60_000;

/** A variant run N ways; {@link fold} adds the Workers' verdicts to its row after the run. */
export interface RingsVariant extends BenchVariant {
  /** Folds the Workers' file verdicts into the variant's result row. */
  fold(r: VariantResult): void;
}

/** True for a {@link RingsVariant}. */
export function isRingsVariant(v: BenchVariant): v is RingsVariant {
  return "fold" in v;
}

/** Merges the Workers' measurements of one repetition (they ran at the same time). */
export function mergeMeasurements(ms: readonly Measurement[]): Measurement {
  const ops = ms.reduce((a, m) => a + m.ops, 0);
  const out: Measurement = {
    ops,
    seconds: Math.max(...ms.map((m) => m.seconds)),
    bytes: ms.reduce((a, m) => a + (m.bytes ?? 0), 0),
    errors: ms.reduce((a, m) => a + (m.errors ?? 0), 0),
  };
  const lat = ms.filter((m) => m.latencyUs !== undefined && m.ops > 0);
  if (lat.length > 0) {
    out.latencyUs = {
      p50: Math.max(...lat.map((m) => m.latencyUs!.p50)),
      p99: Math.max(...lat.map((m) => m.latencyUs!.p99)),
      p999: Math.max(...lat.map((m) => m.latencyUs!.p999)),
      mean: lat.reduce((a, m) => a + (m.latencyUs!.mean ?? 0) * m.ops, 0) / lat.reduce((a, m) => a + m.ops, 0),
    };
  }
  return out;
}

/** `name` ("uring" or "loop") on `n` Workers, `inflight` commits in flight in each. */
export function ringsVariant(name: "uring" | "loop", cfg: FsyncConfig, inflight: number, cell: string, n: number): RingsVariant {
  const workers: Worker[] = [];
  const verdicts: Array<RingsVerdict | null> = [];
  const ask = (w: Worker, req: RingsRequest, timeoutMs: number): Promise<RingsReply> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ type: "error", message: `worker did not answer within ${timeoutMs} ms` }), timeoutMs);
      w.onmessage = (ev: MessageEvent<RingsReply>) => {
        clearTimeout(timer);
        resolve(ev.data);
      };
      w.onerror = (ev) => {
        clearTimeout(timer);
        resolve({ type: "error", message: `worker crashed: ${ev.message}` });
      };
      w.postMessage(req);
    });
  const all = async (make: (i: number) => RingsRequest, timeoutMs: number): Promise<RingsReply[]> => {
    const replies = await Promise.all(workers.map((w, i) => ask(w, make(i), timeoutMs)));
    const err = replies.find((r) => r.type === "error");
    if (err !== undefined && err.type === "error") throw new Error(`${name} ×${n}: ${err.message}`);
    return replies;
  };
  return {
    name,
    cell,
    async setup() {
      for (let i = 0; i < n; i++) workers.push(new Worker(new URL("./rings-worker.ts", import.meta.url).href));
      await all((index) => ({ type: "open", name, cfg, inflight, cell, index }), 30_000);
    },
    async run(durationMs: number, ctx: RunControl): Promise<Measurement> {
      ctx.report(0);
      const replies = await all(() => ({ type: "run", durationMs, phase: ctx.phase, repetition: ctx.repetition }), durationMs + REPLY_MARGIN_MS);
      const m = mergeMeasurements(replies.map((r) => (r.type === "result" ? r.m : { ops: 0, seconds: 0 })));
      m.notes = [`${n} Workers, a file each: latency percentiles are the largest any saw (upper bounds)`];
      m.extra = { ...m.extra, rings: n };
      return m;
    },
    async teardown() {
      try {
        const replies = await all(() => ({ type: "close" }), 60_000);
        for (const r of replies) if (r.type === "closed") verdicts.push(r.verdict);
      } finally {
        for (const w of workers) w.terminate();
        workers.length = 0;
      }
    },
    fold(r: VariantResult) {
      const got = verdicts.filter((v): v is RingsVerdict => v !== null);
      if (got.length === 0) return;
      const sum = (f: (v: RingsVerdict) => number): number => got.reduce((a, v) => a + f(v), 0);
      const notes = new Set([...(r.notes ?? []), ...got.flatMap((v) => v.notes)]);
      r.extra = { ...r.extra, ackedCommits: sum((v) => v.acked), failedCommits: sum((v) => v.failed), verifiedRecords: sum((v) => v.verifiedRecords) };
      notes.add(
        `${got.length} files verified: ${sum((v) => v.verifiedRecords)}/${sum((v) => v.checkedRecords)} records of ${sum((v) => v.acked)} acknowledged commits`,
      );
      const bad = sum((v) => v.badCommits);
      const failed = sum((v) => v.failed);
      if (failed > 0) {
        notes.add(`${failed} commits failed`);
        r.errors += failed;
      }
      if (bad > 0) {
        r.errors += bad;
        notes.add(`VERIFICATION FAILED: ${bad} acknowledged commits missing or corrupt; throughput withheld`);
        r.opsPerSec = 0;
        r.repetitions = r.repetitions.map(() => 0);
        delete r.bytesPerSec;
        delete r.latencyUs;
      }
      r.notes = [...notes];
    },
  };
}
