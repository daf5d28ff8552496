/**
 * Running a one-shot child (the C read loop, node, fio) and collecting what it
 * printed: the baselines that run as a separate program report one JSON result
 * on stdout and their errors on stderr. The child is spawned through
 * children.ts, so Ctrl-C and process exit stop it like every other child.
 */
import { spawnChild, type Child } from "./children.ts";

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
export async function collectChild(bin: string, args: readonly string[], timeoutMs: number, cannotStart: (e: Error) => string): Promise<ChildOutput> {
  let child: Child;
  try {
    child = spawnChild([bin, ...args], { stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new Error(cannotStart(e instanceof Error ? e : new Error(String(e))));
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const [out, err] = await Promise.all([
      new Response(child.stdout as ReadableStream<Uint8Array>).text(),
      new Response(child.stderr as ReadableStream<Uint8Array>).text(),
    ]);
    await child.exited;
    return { code: child.signalCode !== null ? null : child.exitCode, out, err };
  } finally {
    clearTimeout(timer);
  }
}
