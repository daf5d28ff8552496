/** Shared test helpers: ring configurations, fd counting, temp files, probe-based skips. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { SetupFlags } from "../src/sys/constants.ts";

/** Number of open fds of this process. */
export function countFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = "uring-bench-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The ring configurations each kernel test runs under (liburing's test matrix idea). */
export const RING_CONFIGS: Array<{ name: string; options: RingOptions; available: boolean }> = [
  { name: "default", options: {}, available: true },
  { name: "sqpoll", options: { sqpoll: { idleMs: 50 } }, available: kernelHasSetupFlag(SetupFlags.SQPOLL) },
  {
    name: "defer-taskrun",
    options: { deferTaskrun: true },
    available: kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER),
  },
];

let probeRing: Ring | null = null;
/** Does the running kernel support opcode `op`? (For test.skipIf.) */
export function kernelHasOp(op: number): boolean {
  probeRing ??= new Ring(2);
  return probeRing.opSupported(op);
}

