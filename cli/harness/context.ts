/** The machine context saved with every result. */
import { cpus, hostname, release, totalmem } from "node:os";
import { shimBuild } from "../../src/sys/ffi.ts";
import { nodeVersionIfLookedUp } from "./node-version.ts";
import type { RunContext } from "./result.ts";

/** Collects the context of this run. */
export function runContext(ringFlags?: string[]): RunContext {
  const cpuList = cpus();
  return {
    date: new Date().toISOString(),
    host: hostname(),
    kernel: release(),
    cpuModel: cpuList[0]?.model ?? "unknown",
    cpus: cpuList.length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    bunVersion: typeof Bun !== "undefined" ? Bun.version : "n/a",
    // The node that ran the node variant (`node --version`), not Bun's process.versions.node.
    nodeVersion: nodeVersionIfLookedUp(),
    shimBuild,
    argv: process.argv.slice(),
    ringFlags,
  };
}
