/**
 * The node binary that node baselines run with (URING_BENCH_NODE, else
 * `node` on PATH) and its version, looked up once. Saved results record this
 * version, not Bun's process.versions.node (the Node API level Bun mimics),
 * which says nothing about the node that ran.
 */
import { spawnSync } from "node:child_process";

let found: { bin: string; version: string } | null | undefined;

/** The node binary and its `node --version` (e.g. "v20.19.2"), or null when none runs here. Cached after the first call. */
export function findNodeBinary(): { bin: string; version: string } | null {
  if (found !== undefined) return found;
  const bin = process.env.URING_BENCH_NODE ?? "node";
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  found = r.status === 0 ? { bin, version: r.stdout.trim() } : null;
  return found;
}

/**
 * The node version for a run's context: known only when the command looked
 * node up (because a node variant was in the run); undefined otherwise, so a
 * run without node does not claim one.
 */
export function nodeVersionIfLookedUp(): string | undefined {
  return found ? found.version : undefined;
}
