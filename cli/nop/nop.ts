/**
 * NOP submit+reap: our TypeScript Ring against liburing in C, same loop shape,
 * same batch, in one run. Each repetition runs C then TS (then TS then C on the
 * next, so neither always goes first), each in a fresh process pinned to the
 * same CPU; the table shows medians and the TS/C ratio per batch.
 *
 *   bun cli/nop/nop.ts [--batches 1,8,32,128] [--ms 1000] [--repeat 5] [--cpu 1] [--json results/x.json]
 */
import Table from "cli-table3";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { runContext } from "../harness/context.ts";
import type { RunResult, VariantResult } from "../harness/result.ts";
import { median, spread } from "../harness/stats.ts";

const ROOT = join(import.meta.dir, "..", "..");
const C_BIN = join(ROOT, "build", "nop_liburing");
const TS_LOOP = join(import.meta.dir, "nop-loop.ts");

const { values } = parseArgs({
  options: {
    batches: { type: "string", default: "1,8,32,128" },
    ms: { type: "string", default: "1000" },
    repeat: { type: "string", default: "5" },
    cpu: { type: "string", default: "1" },
    json: { type: "string" },
  },
});
const batches = values.batches.split(",").map(Number);
const ms = Number(values.ms);
const repeat = Number(values.repeat);
const cpu = values.cpu;
if (batches.some((b) => !Number.isInteger(b) || b < 1 || b > 4096)) throw new Error("--batches: positive integers up to 4096, comma-separated");
if (!(ms > 0) || !(repeat > 0)) throw new Error("--ms and --repeat must be positive");

/** Runs one loop process and returns ops/s. */
function runOnce(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  const m = /ops=(\d+) seconds=([\d.]+)/.exec(r.stdout ?? "");
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return Number(m[1]) / Number(m[2]);
}

const haveC = existsSync(C_BIN);
if (!haveC) console.error(`note: ${C_BIN} not built (needs liburing-dev): showing TypeScript only.`);

const results: VariantResult[] = [];
const table = new Table({ head: ["batch", "TS ops/s", "liburing C ops/s", "TS / C", "TS spread", "C spread"] });
for (const batch of batches) {
  const ts: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const runTs = () => ts.push(runOnce(process.execPath, [TS_LOOP, String(batch), String(ms), cpu]));
    const runC = () => haveC && c.push(runOnce(C_BIN, [String(batch), String(ms), cpu]));
    if (i % 2 === 0) (runC(), runTs());
    else (runTs(), runC());
  }
  const cell = `batch:${batch}`;
  const tsMed = median(ts);
  const cMed = haveC ? median(c) : NaN;
  results.push({ variant: "uring-bench (TS)", cell, opsPerSec: tsMed, repetitions: ts, errors: 0 });
  if (haveC) results.push({ variant: "liburing (C)", cell, opsPerSec: cMed, repetitions: c, errors: 0 });
  const fmt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "n/a");
  table.push([
    batch,
    fmt(tsMed),
    fmt(cMed),
    haveC ? `${((tsMed / cMed) * 100).toFixed(1)}%` : "n/a",
    `±${((spread(ts).relative * 100) / 2).toFixed(1)}%`,
    haveC ? `±${((spread(c).relative * 100) / 2).toFixed(1)}%` : "n/a",
  ]);
}
console.log(table.toString());

if (values.json) {
  const run: RunResult = {
    schema: 1,
    command: "nop",
    context: runContext(["NO_SQARRAY", "registered ring fd"]),
    options: { batches, ms, repeat, cpu: Number(cpu) },
    results,
  };
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, JSON.stringify(run, null, 2));
  console.log(`saved ${values.json}`);
}
