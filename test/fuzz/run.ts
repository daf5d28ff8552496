/**
 * The fuzzer: `bun run fuzz [--calls N] [--per-child N] [--jobs N] [--seed S] [--deadline-ms N]`.
 *
 * Random public calls (test/fuzz/gen.ts) on Ring, Uring, TcpServer and the
 * src/mem objects with hostile arguments, run in child processes
 * (test/fuzz/child.ts) with canary arrays around every buffer. A child that
 * dies by a signal, runs past its deadline or sees a canary change is a
 * failure: printed with its seed and the shortest call sequence found that
 * still fails (delta debugging over the call list).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate, type Call } from "./gen.ts";

const CHILD = join(import.meta.dir, "child.ts");

/** How one child run ended. */
export type Outcome = { kind: "ok"; calls: number } | { kind: "signal" | "hang" | "canary" | "exit"; detail: string; calls: number };

/** One fuzz failure, reproducible from `seed` and `calls`. */
export interface Failure {
  seed: number;
  outcome: Outcome;
  /** The shortest failing call list found. */
  calls: Call[];
}

/** Runs `calls` in a fresh child; `port` is a free TCP port for the TcpServer (0: none). */
export async function runChild(calls: Call[], deadlineMs: number, port: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), "uring-fuzz-run-"));
  const callsPath = join(dir, "calls.json");
  const reportPath = join(dir, "report.json");
  writeFileSync(callsPath, JSON.stringify(calls));
  const proc = Bun.spawn([process.execPath, CHILD, callsPath, reportPath, String(port)], { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    proc.kill(9);
  }, deadlineMs);
  const stderr = await new Response(proc.stderr).text();
  await proc.exited;
  clearTimeout(timer);
  let done = 0;
  let canary = -1;
  try {
    const r = JSON.parse(readFileSync(reportPath, "utf8")) as { done: number; canary: number };
    done = r.done;
    canary = r.canary;
  } catch {
    // No report: the child died before writing it.
  }
  rmSync(dir, { recursive: true, force: true });
  const marks = stderr.match(/@(\d+)\n/g);
  const last = marks === null ? -1 : Number(marks[marks.length - 1]!.slice(1));
  const errText = stderr.replace(/@\d+\n/g, "");
  if (hung)
    return { kind: "hang", detail: `no exit within ${deadlineMs} ms; last call started: #${last} ${JSON.stringify(calls[last])}`, calls: Math.max(done, last) };
  if (proc.signalCode !== null)
    return {
      kind: "signal",
      detail: `${proc.signalCode} in call #${last} ${JSON.stringify(calls[last])}: ${errText.slice(-400)}`,
      calls: Math.max(done, last),
    };
  if (proc.exitCode === 3 || canary >= 0) return { kind: "canary", detail: `canary ${canary} changed`, calls: done };
  if (proc.exitCode !== 0) return { kind: "exit", detail: `exit ${proc.exitCode} after call #${last}: ${errText.slice(-400)}`, calls: Math.max(done, last) };
  return { kind: "ok", calls: calls.length };
}

/** Delta debugging: drop chunks of the call list while the same kind of failure remains; bounded by `budgetMs`. */
export async function shrink(calls: Call[], kind: Outcome["kind"], deadlineMs: number, port: number, budgetMs: number): Promise<Call[]> {
  const end = performance.now() + budgetMs;
  let cur = calls;
  let chunk = Math.max(1, Math.floor(cur.length / 2));
  while (chunk >= 1 && performance.now() < end) {
    let removed = false;
    for (let start = 0; start < cur.length && performance.now() < end; start += chunk) {
      const next = cur.slice(0, start).concat(cur.slice(start + chunk));
      if (next.length === 0) continue;
      const o = await runChild(next, deadlineMs, port);
      if (o.kind === kind) {
        cur = next;
        removed = true;
        start -= chunk;
      }
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  return cur;
}

/** A call list, one line per call, at most 60 lines. */
export function formatCalls(calls: Call[]): string {
  const lines = calls.slice(0, 60).map((c, i) => `  #${i} ${c.target}.${c.member}(${c.args.map((a) => JSON.stringify(a)).join(", ")})`);
  if (calls.length > 60) lines.push(`  ... ${calls.length - 60} more`);
  return lines.join("\n");
}

/** Options for {@link fuzz}. */
export interface FuzzOptions {
  calls: number;
  perChild: number;
  jobs: number;
  seed: number;
  deadlineMs: number;
  /** A free TCP port per job for the TcpServer, or none. */
  ports: number[];
  shrinkMs: number;
  log?: (line: string) => void;
}

/** Runs the fuzzer; returns the calls made and the failures (each shrunk). */
export async function fuzz(o: FuzzOptions): Promise<{ calls: number; children: number; failures: Failure[] }> {
  const failures: Failure[] = [];
  let next = 0;
  let made = 0;
  let children = 0;
  const nChildren = Math.ceil(o.calls / o.perChild);
  async function worker(job: number): Promise<void> {
    for (;;) {
      const i = next++;
      if (i >= nChildren) return;
      const seed = (o.seed + i) >>> 0;
      const calls = generate(seed, o.perChild);
      const out = await runChild(calls, o.deadlineMs, o.ports[job] ?? 0);
      children++;
      made += out.calls;
      if (out.kind !== "ok") {
        o.log?.(`seed ${seed}: ${out.kind} (${out.detail}); shrinking...`);
        const small = await shrink(calls, out.kind, o.deadlineMs, o.ports[job] ?? 0, o.shrinkMs);
        failures.push({ seed, outcome: out, calls: small });
        o.log?.(`seed ${seed}: ${out.kind}, ${small.length} calls reproduce it:\n${formatCalls(small)}`);
      }
      if (children % 20 === 0) o.log?.(`${children}/${nChildren} children, ${made} calls, ${failures.length} failures`);
    }
  }
  await Promise.all(Array.from({ length: o.jobs }, (_, j) => worker(j)));
  return { calls: made, children, failures };
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { freePort } = await import("../../cli/echo/processes.ts");
  const { values } = parseArgs({
    options: {
      calls: { type: "string", default: "100000" },
      "per-child": { type: "string", default: "2000" },
      jobs: { type: "string", default: "2" },
      seed: { type: "string", default: String(Date.now() % 1e9) },
      "deadline-ms": { type: "string", default: "30000" },
      "shrink-ms": { type: "string", default: "60000" },
    },
  });
  const jobs = Number(values.jobs);
  const ports: number[] = [];
  for (let j = 0; j < jobs; j++) ports.push(await freePort("127.0.0.1"));
  const t0 = performance.now();
  const r = await fuzz({
    calls: Number(values.calls),
    perChild: Number(values["per-child"]),
    jobs,
    seed: Number(values.seed),
    deadlineMs: Number(values["deadline-ms"]),
    ports,
    shrinkMs: Number(values["shrink-ms"]),
    log: (l) => console.log(l),
  });
  const canaries = r.failures.filter((f) => f.outcome.kind === "canary").length;
  const crashes = r.failures.filter((f) => f.outcome.kind === "signal").length;
  const hangs = r.failures.filter((f) => f.outcome.kind === "hang").length;
  console.log(
    `fuzz: seed ${values.seed}, ${r.calls} calls in ${r.children} children, ${((performance.now() - t0) / 1000).toFixed(0)} s: ` +
      `${crashes} crashes, ${hangs} hangs, ${canaries} canary changes, ${r.failures.length - crashes - hangs - canaries} other failures`,
  );
  process.exit(r.failures.length === 0 ? 0 : 1);
}
