/**
 * CPU time of this process and of child processes, as a fraction of one core
 * over a wall-clock window (1.0 = one core busy the whole time). Used for the
 * "server CPU" and "client CPU" columns: a variant that does the same work
 * with less CPU is better even at equal throughput.
 *
 * Self: process.cpuUsage() (µs resolution). Other pids: utime + stime from
 * /proc/<pid>/stat (fields 14 and 15, in clock ticks; all threads included).
 */
import { readFileSync } from "node:fs";

/**
 * Clock ticks per second for /proc/<pid>/stat. It is 100 on every Linux
 * architecture Bun runs on (USER_HZ is fixed by the ABI, not by CONFIG_HZ).
 */
export const CLOCK_TICKS_PER_SEC = 100;

/** CPU seconds (user + system) used so far by process `pid`, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    throw new Error(`cannot read CPU time of process ${pid}: /proc/${pid}/stat is gone (has it exited?)`);
  }
  // The command name (field 2) is in parentheses and may hold spaces or ")";
  // fields after the last ")" are plain numbers, starting with field 3 (state).
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc/${pid}/stat format`);
  return (utime + stime) / CLOCK_TICKS_PER_SEC;
}

/** CPU seconds (user + system) used so far by this process. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** A started CPU measurement; `stop()` returns the fraction of one core used since start. */
export interface CpuMeter {
  /** Fraction of one core used since start (may exceed 1 for multi-threaded work). */
  stop(): number;
}

/**
 * Starts measuring the CPU of `pid` (default: this process) against wall time.
 * For another pid the resolution is 10 ms of CPU, so measure windows of a
 * second or more. If the process exits before stop(), stop() returns NaN.
 */
export function startCpuMeter(pid?: number): CpuMeter {
  const self = pid === undefined || pid === process.pid;
  const read = self ? selfCpuSeconds : () => processCpuSeconds(pid);
  const cpu0 = read();
  const t0 = performance.now();
  return {
    stop() {
      const wall = (performance.now() - t0) / 1000;
      let cpu1: number;
      try {
        cpu1 = read();
      } catch {
        return NaN;
      }
      return wall > 0 ? (cpu1 - cpu0) / wall : 0;
    },
  };
}
