/**
 * The liburing C loop (bench/c/read_liburing.c, built at install into
 * build/read_liburing) as a baseline: the same loop shape, batch and checks
 * as the TypeScript ring loop, so the ratio between them is our per-op cost.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ReadWorkload } from "./workload.ts";

/** Where the postinstall step puts the C loop. */
export const C_READ_BINARY = join(import.meta.dir, "..", "..", "..", "build", "read_liburing");

/** What the C loop printed. */
export interface CRunResult {
  ops: number;
  bytes: number;
  seconds: number;
  p50: number;
  p99: number;
  p999: number;
  cpu: number;
  /** User and system CPU seconds of the measured window. */
  usr: number;
  sys: number;
}

/** True when the C loop was built (liburing-dev and a compiler were present at install). */
export function haveCLoop(): boolean {
  return existsSync(C_READ_BINARY);
}

/** Runs the C loop; `fixed` registers buffers and the file, as the uring-fixed variant does. */
export function runCLoop(w: ReadWorkload, fixed: boolean, durationMs: number, warmupMs: number): Promise<CRunResult> {
  const args = [
    w.path, String(w.size), String(w.bs), String(w.qd), String(w.batch), String(durationMs), String(warmupMs),
    w.direct ? "1" : "0", w.pattern === "rand" ? "1" : "0", fixed ? "1" : "0", String(w.seed), String(w.maxOps), w.verify,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(C_READ_BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), durationMs + warmupMs + 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${C_READ_BINARY}: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`C loop failed (exit ${code}): ${err.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim()) as CRunResult);
      } catch {
        reject(new Error(`C loop printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}
