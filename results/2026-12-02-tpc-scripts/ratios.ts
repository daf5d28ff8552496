// Reads the RunResult JSONs of run.sh and prints, per run, each server's 1-thread and 2-thread
// server CPU per round trip (medians of the interleaved repetitions), the 2/1 ratio, ours against C,
// wake-ups per round trip, and a two-point fit cpu/rt = a + b × enters/rt (b: CPU per wake-up, derived).
// Usage: bun results/2026-12-02-tpc-scripts/ratios.ts results/2026-12-02-tpc-echo-*.json
type Row = { variant: string; cell: string; errors: number; cpu?: { server?: number; client?: number }; latencyUs: { p50: number; p99: number }; opsPerSec: number; extra?: Record<string, unknown> };
const f = (v: unknown, d = 1) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(d) : "-");
for (const path of process.argv.slice(2)) {
  const run = (await Bun.file(path).json()) as { options: Record<string, unknown>; results: Row[]; context: { date: string } };
  const open = run.options.regime === "open-loop";
  console.log(`\n### ${path.split("/").pop()} (${run.context.date}; server CPUs ${run.options.serverCpus}, client CPUs ${run.options.clientCpus}, ${run.options.repeat} reps)\n`);
  console.log(
    "| server | 1 thread µs/rt | 2 threads µs/rt | 2/1 | (2/1) ÷ c-uring's | enters/rt 1 → 2 | syscalls/rt 1 → 2 | µs per wake-up (fit, derived) | p50 / p99 µs 1 → 2 | rt/s 1 → 2 | errors | setup (2 threads) |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  const servers = [...new Set(run.results.map((r) => r.variant))];
  const at = (s: string, n: number) => run.results.find((r) => r.variant === s && r.cell.endsWith(`threads:${n}`));
  const perRt = (r: Row | undefined) =>
    r === undefined ? NaN : open ? (r.extra?.serverUsPerRoundTrip as number) : ((r.cpu?.server ?? NaN) * 1e6) / r.opsPerSec;
  const ratio = (s: string) => perRt(at(s, 2)) / perRt(at(s, 1));
  for (const s of servers) {
    const one = at(s, 1);
    const two = at(s, 2);
    if (!one || !two) continue;
    const e1 = one.extra?.entersPerRoundTrip as number | undefined;
    const e2 = two.extra?.entersPerRoundTrip as number | undefined;
    // Closed loop: entersPerRoundTrip is the load generator's, not the server's; no fit.
    const wakes1 = s === "c-epoll" || !open ? NaN : e1;
    const wakes2 = s === "c-epoll" || !open ? NaN : e2;
    const b = typeof wakes1 === "number" && typeof wakes2 === "number" && wakes2 !== wakes1 ? (perRt(two) - perRt(one)) / (wakes2 - wakes1) : NaN;
    console.log(
      `| ${s} | ${f(perRt(one))} | ${f(perRt(two))} | ${f(ratio(s), 2)}x | ${f(ratio(s) / ratio("c-uring"), 2)} | ${open ? `${f(e1, 2)} → ${f(e2, 2)}` : "(client's)"} | ${f(one.extra?.syscallsPerRoundTrip, 2)} → ${f(two.extra?.syscallsPerRoundTrip, 2)} | ${f(b)} | ${f(one.latencyUs.p50, 0)} / ${f(one.latencyUs.p99, 0)} → ${f(two.latencyUs.p50, 0)} / ${f(two.latencyUs.p99, 0)} | ${f(one.opsPerSec, 0)} → ${f(two.opsPerSec, 0)} | ${one.errors + two.errors} | ${two.extra?.setup ?? ""} |`,
    );
  }
}
