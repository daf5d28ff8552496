/**
 * Can this process use io_uring at all? Asked once per command, before the
 * run, so that variants needing io_uring are reported with the reason doctor
 * gives (sysctl kernel.io_uring_disabled, seccomp, RLIMIT_MEMLOCK...), while
 * the baselines that need no io_uring still run.
 */
import { Ring } from "../../src/ring/ring.ts";

let cached: string | null | undefined;

/** Why io_uring cannot be used here (the ring setup error doctor shows), or null when it can. Cached. */
export function uringUnavailable(): string | null {
  if (cached !== undefined) return cached;
  try {
    new Ring(2).close();
    cached = null;
  } catch (err) {
    cached = err instanceof Error ? err.message : String(err);
  }
  return cached;
}
