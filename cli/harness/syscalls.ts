/**
 * Syscalls made by another process over a window, counted with
 * `perf stat` on the kernel's syscall tracepoints:
 * `raw_syscalls:sys_enter` (every syscall) and
 * `syscalls:sys_enter_io_uring_enter` (io_uring_enter alone), for all
 * threads of the process. Divided by the operations done in the same window
 * this gives syscalls per round trip or per read: the cost io_uring exists
 * to remove, and one that CPU time alone does not explain.
 *
 * Needs perf (`apt-get install linux-perf`) and permission to read
 * tracepoints (root, or perf_event_paranoid ≤ 1 with tracefs readable).
 * Counting a tracepoint costs a little per syscall in the traced process, so
 * callers make it opt-in and say so next to the numbers.
 */
import { spawn } from "bun";

/** Counts from one window; `null` where the event could not be counted. */
export interface SyscallCounts {
  /** Every syscall entry. */
  all: number | null;
  /** io_uring_enter entries. */
  ioUringEnter: number | null;
  /** Length of the counted window, seconds. */
  seconds: number;
}

/** Why syscall counting is unavailable here, or null when perf can count tracepoints. Cached. */
let availability: string | null | undefined;

/** Null when `perf stat` can count syscall tracepoints here; otherwise the reason, to show instead of the column. */
export function syscallCountingUnavailable(): string | null {
  if (availability !== undefined) return availability;
  const perf = Bun.which("perf");
  if (!perf) return (availability = "perf is not installed (apt-get install linux-perf)");
  const probe = Bun.spawnSync([perf, "stat", "-x,", "-e", "raw_syscalls:sys_enter", "--", "true"], { stdout: "ignore", stderr: "pipe" });
  const err = probe.stderr.toString();
  if (probe.exitCode !== 0 || /not supported|no permission|unknown tracepoint|event syntax error/i.test(err)) {
    return (availability = `perf cannot count syscall tracepoints here: ${err.trim().split("\n")[0] ?? `exit ${probe.exitCode}`}`);
  }
  return (availability = null);
}

/** Parses `perf stat -x,` output: "count,unit,event,..." lines. */
export function parsePerfStat(text: string): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const line of text.split("\n")) {
    const f = line.split(",");
    if (f.length < 3) continue;
    const event = f[2]!.trim();
    const n = Number(f[0]);
    out.set(event, Number.isFinite(n) && f[0]!.trim() !== "" ? n : null);
  }
  return out;
}

/**
 * Counts the syscalls of process `pid` for `seconds`, starting after
 * `delayMs`. Resolves with the counts (nulls when perf failed; never
 * rejects, since a missing column must not fail a benchmark run).
 */
export async function countSyscalls(pid: number, delayMs: number, seconds: number): Promise<SyscallCounts> {
  const none: SyscallCounts = { all: null, ioUringEnter: null, seconds };
  if (syscallCountingUnavailable()) return none;
  if (delayMs > 0) await Bun.sleep(delayMs);
  try {
    const p = spawn(
      ["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter", "-p", String(pid), "--", "sleep", String(seconds)],
      { stdout: "ignore", stderr: "pipe" },
    );
    const text = await new Response(p.stderr).text();
    await p.exited;
    const m = parsePerfStat(text);
    return { all: m.get("raw_syscalls:sys_enter") ?? null, ioUringEnter: m.get("syscalls:sys_enter_io_uring_enter") ?? null, seconds };
  } catch {
    return none;
  }
}
