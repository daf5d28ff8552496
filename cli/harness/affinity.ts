/**
 * CPU pinning for benchmarks: the server on one core, the load generator on
 * another, so they don't steal each other's time and results repeat.
 *
 * sched_setaffinity acts on one thread. A Bun process has several (JSC's GC
 * and JIT threads, the I/O pool), so "pin a process" means pinning every
 * thread listed in /proc/<pid>/task; threads created later inherit the mask
 * of the thread that creates them. For children, {@link spawnPinned} in
 * children.ts pins the spawning thread around the spawn, so the child starts
 * pinned before it creates any thread.
 */
import { readdirSync } from "node:fs";
import { cpus } from "node:os";
import { errnoName } from "../../src/sys/errno.ts";
import { schedGetAffinity, schedSetAffinity } from "../../src/sys/ffi.ts";

/** Number of CPUs this machine has (online or not: what node:os reports). */
export function cpuCount(): number {
  return cpus().length;
}

/** CPU numbers → bit mask (CPUs 0-52: the mask travels as a JS number). */
export function cpuMask(cpuList: readonly number[]): number {
  let mask = 0;
  for (const c of cpuList) {
    if (!Number.isInteger(c) || c < 0 || c > 52) throw new RangeError(`CPU ${c} cannot be pinned (0-52 supported)`);
    mask += 2 ** c;
  }
  return mask;
}

/** Bit mask → CPU numbers. */
export function maskCpus(mask: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < 53 && 2 ** c <= mask; c++) if (Math.floor(mask / 2 ** c) % 2 === 1) out.push(c);
  return out;
}

/** The CPUs thread `tid` may run on (0 = the calling thread). Throws on error. */
export function getAffinity(tid = 0): number[] {
  const rc = schedGetAffinity(tid);
  if (rc < 0) throw new Error(`sched_getaffinity(${tid}) failed: ${errnoName(-rc)}`);
  return maskCpus(rc);
}

/** Pins one thread (0 = the calling thread) to `cpuList`. Throws with the errno name on failure. */
export function pinThread(tid: number, cpuList: readonly number[]): void {
  const rc = schedSetAffinity(tid, cpuMask(cpuList));
  if (rc < 0) {
    throw new Error(
      `sched_setaffinity(${tid}, CPUs ${cpuList.join(",")}) failed: ${errnoName(-rc)}` +
        (-rc === 22 ? ` (CPU not available here: this machine has ${cpuCount()})` : ""),
    );
  }
}

/**
 * Pins every thread of process `pid` to `cpuList`. Threads that exit while
 * we iterate are skipped (ESRCH). Returns how many threads were pinned.
 */
export function pinProcess(pid: number, cpuList: readonly number[]): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    throw new Error(`cannot pin process ${pid}: it does not exist (no /proc/${pid}/task)`);
  }
  const mask = cpuMask(cpuList);
  let pinned = 0;
  for (const t of tids) {
    const rc = schedSetAffinity(Number(t), mask);
    if (rc === 0) pinned++;
    else if (-rc !== 3 /* ESRCH: the thread just exited */) {
      throw new Error(`sched_setaffinity(tid ${t} of pid ${pid}) failed: ${errnoName(-rc)}`);
    }
  }
  return pinned;
}

/** Pins this whole process (every thread) to `cpuList`. */
export function pinSelf(cpuList: readonly number[]): number {
  return pinProcess(process.pid, cpuList);
}

/**
 * Runs `fn` with the calling thread pinned to `cpuList`, then restores the
 * previous mask (also when `fn` throws). Children spawned inside `fn`
 * inherit the pinned mask.
 */
export function withThreadAffinity<T>(cpuList: readonly number[], fn: () => T): T {
  const before = schedGetAffinity(0);
  if (before < 0) throw new Error(`sched_getaffinity failed: ${errnoName(-before)}`);
  pinThread(0, cpuList);
  try {
    return fn();
  } finally {
    schedSetAffinity(0, before);
  }
}

/**
 * The default layout on this machine: server on CPU 0, client on CPU 1, or
 * both on CPU 0 (and a note why) on a single-core machine.
 */
export function defaultServerClientCpus(): { server: number[]; client: number[]; note?: string } {
  const n = cpuCount();
  if (n >= 2) return { server: [0], client: [1] };
  return { server: [0], client: [0], note: "one CPU: server and client share it" };
}
