// Experiment (issue 18, item 2): does batching completions per wake-up (IORING_ENTER_EXT_ARG
// min_wait_usec, Linux 6.12+) buy back the CPU per round trip a second thread costs at a fixed rate?
// c-uring (c/reference/echo_liburing.c, ECHO_MIN_WAIT_US) at 1 and 2 threads, with and without
// min_wait, interleaved; the C open-loop client on CPU 1, server CPUs 0,1 (as run.sh's run A).
// Usage: REPS=5 RATE=10000 bun results/2026-12-02-tpc-scripts/min-wait.ts > results/2026-12-02-tpc-scripts/min-wait.json
import { runOpenLoopClient } from "../../cli/echo/open-loop-client.ts";
import { stopServer, type ServerProcess } from "../../cli/echo/processes.ts";
import { C_URING_PATH } from "../../cli/echo/servers.ts";
import { readLineMatching, spawnChild } from "../../cli/harness/children.ts";

const RATE = Number(process.env.RATE ?? 10000);
const REPS = Number(process.env.REPS ?? 5);
const DUR = Number(process.env.DUR ?? 3000);
const configs = [
  { name: "1 thread", threads: 1, minWaitUs: 0 },
  { name: "2 threads", threads: 2, minWaitUs: 0 },
  { name: "2 threads, min_wait 200 µs", threads: 2, minWaitUs: 200 },
  { name: "2 threads, min_wait 1000 µs", threads: 2, minWaitUs: 1000 },
  { name: "1 thread, min_wait 1000 µs", threads: 1, minWaitUs: 1000 },
];
const servers: ServerProcess[] = [];
for (const c of configs) {
  // The C server reads ECHO_MIN_WAIT_US at start; `THREADS` given, so its threads are pinned (thread t on the t-th allowed CPU).
  const env = c.minWaitUs > 0 ? { ECHO_MIN_WAIT_US: String(c.minWaitUs) } : undefined;
  const child = spawnChild([C_URING_PATH, "0", "127.0.0.1", String(c.threads)], { cpus: [0, 1], env, stdout: "pipe", stderr: "inherit" });
  const m = await readLineMatching(child, /^READY (\d+) ?(.*)$/, 10_000);
  servers.push({ name: "c-uring", child, host: "127.0.0.1", port: Number(m[1]), detail: `${m[2] ?? ""}${c.minWaitUs > 0 ? ` min_wait=${c.minWaitUs}us` : ""}` });
}
const rows: Record<string, unknown>[] = [];
try {
  // Warm every server once, then REPS interleaved rounds.
  for (let rep = -1; rep < REPS; rep++) {
    for (const [i, c] of configs.entries()) {
      const s = servers[i]!;
      const r = await runOpenLoopClient({
        host: s.host, port: s.port, connections: 100, bytes: 128, rate: RATE, durationMs: DUR, warmupMs: 1000,
        arrival: "uniform", maxInflight: 0, serverPid: s.child.pid, cpus: [1], countSyscalls: rep >= 0,
      });
      if (rep < 0) continue;
      const perRt = (share: number | null) => (share === null ? NaN : (share * r.seconds * 1e6) / r.repliesInWindow);
      const row = {
        rep, config: c.name, setup: s.detail, achieved: r.achievedRate, serverUsPerRt: perRt(r.serverCpu), clientUsPerRt: perRt(r.clientCpu),
        entersPerRt: r.syscalls?.ioUringEnter != null && r.syscalls.seconds ? r.syscalls.ioUringEnter / (r.achievedRate * r.syscalls.seconds) : null,
        p50Us: r.correctedUs.p50, p99Us: r.correctedUs.p99, errors: r.errors, unanswered: r.unanswered,
      };
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  }
} finally {
  for (const s of servers) await stopServer(s);
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]!; };
const summary = configs.map((c) => {
  const mine = rows.filter((r) => r.config === c.name);
  const m = (k: string) => median(mine.map((r) => r[k] as number));
  return { config: c.name, serverUsPerRt: m("serverUsPerRt"), entersPerRt: m("entersPerRt"), p50Us: m("p50Us"), p99Us: m("p99Us"), errors: mine.reduce((a, r) => a + (r.errors as number), 0) };
});
console.log(JSON.stringify({ date: new Date().toISOString(), rate: RATE, reps: REPS, durationMs: DUR, connections: 100, bytes: 128, serverCpus: [0, 1], clientCpus: [1], summary, rows }, null, 1));
