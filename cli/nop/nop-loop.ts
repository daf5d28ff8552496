/**
 * The TypeScript side of the NOP benchmark: the same loop shape as
 * c/reference/nop_liburing.c (prepare `batch` NOPs, one submit_and_wait, reap all
 * with one head update), on our Ring. Kept apart so it can run in a clean process.
 */
import { prepNop } from "../../src/ops/rw.ts";
import { Ring, type RingOptions } from "../../src/ring/ring.ts";
import { sqeSetData32x2 } from "../../src/ring/sqe.ts";
import type { Cqe } from "../../src/ring/cqe.ts";

/** Result of one timed NOP loop. */
export interface NopLoopResult {
  ops: number;
  seconds: number;
  enters: number;
  errors: number;
}

/** Runs the NOP loop at `batch` for `ms` milliseconds. */
export function runNopLoop(batch: number, ms: number, options: RingOptions = {}): NopLoopResult {
  const ring = new Ring(Math.max(8, batch), options);
  let errors = 0;
  const onCqe = (cqe: Cqe) => {
    if (cqe.res < 0) errors++;
  };
  let ops = 0;
  let iter = 0;
  const start = performance.now();
  const end = start + ms;
  let t = start;
  try {
    while (t < end) {
      for (let i = 0; i < batch; i++) {
        const sqe = ring.getSqe()!;
        prepNop(sqe);
        sqeSetData32x2(sqe, i, 0);
      }
      ring.submitAndWait(batch);
      ops += ring.reapCqes(onCqe);
      // Read the clock every 64 batches, as the C loop does.
      if ((++iter & 63) === 0) t = performance.now();
    }
    t = performance.now();
    return { ops, seconds: (t - start) / 1000, enters: ring.enterCount, errors };
  } finally {
    ring.close();
  }
}

// As a script: `bun cli/nop/nop-loop.ts BATCH MS [CPU]` prints "ops=<n> seconds=<s>".
if (import.meta.main) {
  const [batch = "32", ms = "1000", cpu] = process.argv.slice(2);
  if (cpu !== undefined) {
    const { schedSetAffinity } = await import("../../src/sys/ffi.ts");
    schedSetAffinity(0, 2 ** Number(cpu));
  }
  const r = runNopLoop(Number(batch), Number(ms));
  console.log(`ops=${r.ops} seconds=${r.seconds.toFixed(6)} enters=${r.enters} errors=${r.errors}`);
}
