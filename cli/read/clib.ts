/**
 * The liburing C loop (c/reference/read_liburing.c, built at install into
 * build/read_liburing) as a baseline: the same loop shape, batch and checks
 * as the TypeScript ring loop, so the ratio between them is our per-op cost.
 */
import { collectChild } from "../harness/child-output.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ChildReadResult, ReadWorkload } from "./workload.ts";

/** Where the postinstall step puts the C loop. */
export const C_READ_BINARY = join(import.meta.dir, "..", "..", "build", "read_liburing");

/** What the C loop printed. */
export interface CRunResult extends ChildReadResult {
  /** User and system CPU seconds of the measured window. */
  usr: number;
  sys: number;
}

/** True when the C loop was built (liburing-dev and a compiler were present at install). */
export function haveCLoop(): boolean {
  return existsSync(C_READ_BINARY);
}

/** Runs the C loop; `fixed` registers buffers and the file, as the uring-fixed variant does. */
export async function runCLoop(w: ReadWorkload, fixed: boolean, durationMs: number, warmupMs: number): Promise<CRunResult> {
  const args = [
    w.path,
    String(w.size),
    String(w.bs),
    String(w.qd),
    String(w.batch),
    String(durationMs),
    String(warmupMs),
    w.direct ? "1" : "0",
    w.pattern === "rand" ? "1" : "0",
    fixed ? "1" : "0",
    String(w.seed),
    String(w.maxOps),
    w.verify,
    String(w.submit),
    w.hugePages ? "1" : "0",
  ];
  const { code, out, err } = await collectChild(C_READ_BINARY, args, durationMs + warmupMs + 30_000, (e) => `could not run ${C_READ_BINARY}: ${e.message}`);
  if (code !== 0) throw new Error(`C loop failed (exit ${code}): ${err.trim()}`);
  try {
    return JSON.parse(out.trim()) as CRunResult;
  } catch {
    throw new Error(`C loop printed no result: ${out.slice(0, 200)}`);
  }
}
