/**
 * The NOP benchmark as runner variants: per batch size, our TypeScript Ring
 * (cli/nop/nop-loop.ts) and liburing in C (build/nop_liburing), each
 * repetition a fresh process pinned to the same CPU, the same loop shape:
 * prepare `batch` NOPs, one submit_and_wait, reap all with one head update.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { collectChild } from "../harness/child-output.ts";
import type { BenchVariant, Measurement } from "../harness/runner.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** The C loop, compiled at install from c/reference/nop_liburing.c (needs liburing-dev). */
export const C_NOP_PATH = join(ROOT, "build", "nop_liburing");
const TS_LOOP = join(import.meta.dir, "nop-loop.ts");

/** How long a loop process may take beyond its run (start-up, ring setup) before it is killed. */
const CHILD_SLACK_MS = 30_000;

/** Variant names, in table order. */
export const NOP_VARIANTS = ["uring", "c-liburing"] as const;

/** "batch:32". */
export function nopCell(batch: number): string {
  return `batch:${batch}`;
}

/** Parses the loops' "ops=N seconds=S" line into a Measurement; throws with what the loop printed otherwise. */
export function parseNopOutput(what: string, code: number | null, out: string, err: string): Measurement {
  const m = /ops=(\d+) seconds=([\d.]+)(?: enters=(\d+))?(?: errors=(\d+))?/.exec(out);
  if (code !== 0 || !m) throw new Error(`${what} failed (exit ${code}): ${(err || out).trim().split("\n").pop() ?? ""}`);
  const ops = Number(m[1]);
  const extra: Record<string, number> = {};
  if (m[3] !== undefined && ops > 0) extra.entersPerOp = Number(m[3]) / ops;
  return { ops, seconds: Number(m[2]), errors: m[4] !== undefined ? Number(m[4]) : 0, extra };
}

/** One variant per batch × loop; the C loop only when it is built. */
export function nopVariants(batches: readonly number[], cpu: number, withC: boolean): BenchVariant[] {
  const out: BenchVariant[] = [];
  for (const batch of batches) {
    const cell = nopCell(batch);
    const one = (name: string, bin: string, args: string[]): BenchVariant => ({
      name,
      cell,
      async run(durationMs, ctx) {
        ctx.report(0);
        const r = await collectChild(bin, [...args, String(durationMs), String(cpu)], durationMs + CHILD_SLACK_MS, (e) => `could not run ${bin}: ${e.message}`);
        return parseNopOutput(name, r.code, r.out, r.err);
      },
    });
    out.push(one("uring", process.execPath, [TS_LOOP, String(batch)]));
    if (withC) out.push(one("c-liburing", C_NOP_PATH, [String(batch)]));
  }
  return out;
}

/** Is the C loop built? */
export function haveCNop(): boolean {
  return existsSync(C_NOP_PATH);
}
