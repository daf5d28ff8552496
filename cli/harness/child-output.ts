/**
 * Running a one-shot child (the C read loop, node, fio) and collecting what it
 * printed: the baselines that run as a separate program report one JSON result
 * on stdout and their errors on stderr.
 */
import { spawn } from "node:child_process";

/** What a finished child printed, and its exit code (null when killed). */
export interface ChildOutput {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs `bin args` with stdout and stderr captured. Bounded: SIGKILLed after
 * `timeoutMs`, so a stuck baseline never hangs the benchmark. Rejects with
 * `cannotStart(error)` when the program cannot be started at all.
 */
export function collectChild(bin: string, args: readonly string[], timeoutMs: number, cannotStart: (e: Error) => string): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    let failed = false;
    child.on("error", (e) => {
      clearTimeout(timer);
      failed = true;
      reject(new Error(cannotStart(e)));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (!failed) resolve({ code, out, err });
    });
  });
}
