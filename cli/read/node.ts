/**
 * Node.js itself as a baseline: the same `node:fs/promises` FileHandle.read
 * loop at the same concurrency, run by the `node` binary in a child process,
 * which reports ops, bytes, latency percentiles and its CPU as JSON. Node has
 * no aligned allocator, but a WebAssembly.Memory is page-aligned, so its
 * O_DIRECT reads use that. The pattern check is the same as pattern.ts (one
 * copy in plain JavaScript, since node cannot load our TypeScript).
 */
import { findNodeBinary } from "../harness/node-version.ts";
import { collectChild } from "../harness/child-output.ts";
import { PATTERN_MAGIC, VERIFY_SAMPLE_EVERY, VERIFY_SECTOR } from "./pattern.ts";
import type { ChildReadResult, ReadWorkload } from "./workload.ts";

/** The script node runs: argv[1] is the JSON config; prints one JSON line. */
const NODE_SCRIPT = String.raw`
import { open } from "node:fs/promises";
import { constants } from "node:fs";
const c = JSON.parse(process.argv[1]);
const stride = Math.ceil(c.bs / 4096) * 4096;
let mem;
if (c.direct) mem = new WebAssembly.Memory({ initial: Math.ceil((stride * c.qd + 4096) / 65536) }).buffer;
else mem = new ArrayBuffer(stride * c.qd);
const words = new Uint32Array(mem);
const bufs = [];
for (let i = 0; i < c.qd; i++) bufs.push(Buffer.from(mem, i * stride, c.bs));
const fh = await open(c.path, constants.O_RDONLY | (c.direct ? constants.O_DIRECT : 0));
const blocks = Math.floor(c.size / c.bs);
let state = c.seed >>> 0 || 1, seq = 0;
function next() {
  if (c.pattern === "rand") { let x = state; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; state = x >>> 0; return Math.min(blocks - 1, Math.floor(state * blocks / 4294967296)) * c.bs; }
  const b = seq; seq = b + 1 === blocks ? 0 : b + 1; return b * c.bs;
}
const T = 4294967296, MAGIC = ${PATTERN_MAGIC}, SECTOR4 = ${VERIFY_SECTOR >>> 2}, SAMPLE = ${VERIFY_SAMPLE_EVERY};
function ok(w, at, hiBase) { return words[w] === (at >>> 0) && words[w + 1] === (((hiBase + Math.floor(at / T)) ^ MAGIC) >>> 0); }
let count = 0;
function check(slot, off, res) {
  if (res !== c.bs) throw new Error("short read: " + res + " of " + c.bs + " bytes at offset " + off);
  const n = count++;
  if (c.verify === "length" || (c.verify === "sample" && n % SAMPLE !== 0)) return;
  const base = slot * stride / 4, nw = (res >>> 3) << 1, hiBase = Math.floor(off / T), lo = off >>> 0;
  const step = c.verify === "all" ? SECTOR4 : 2, last = nw - 2;
  for (let i = 0; i < nw; i += step) if (!ok(base + i, lo + i * 4, hiBase)) throw new Error("wrong bytes in the read at offset " + off);
  if (!ok(base + last, lo + last * 4, hiBase)) throw new Error("wrong bytes in the read at offset " + off);
}
async function run(ms, lat) {
  const start = performance.now(), stop = start + ms;
  let ops = 0, end = start, issued = 0;
  const max = c.maxOps > 0 && lat ? c.maxOps : Infinity;
  await Promise.all(bufs.map(async (buf, slot) => {
    let now = performance.now();
    while (now < stop && issued < max) {
      issued++;
      const off = next();
      const { bytesRead } = await fh.read(buf, 0, c.bs, off);
      const t = performance.now();
      check(slot, off, bytesRead);
      if (lat) lat.push((t - now) * 1000);
      ops++; now = t;
    }
    if (now > end) end = now;
  }));
  return { ops, seconds: (end - start) / 1000 };
}
await run(c.warmupMs, null);
const lat = [];
const cpu0 = process.cpuUsage();
const r = await run(c.durationMs, lat);
const cpu = process.cpuUsage(cpu0);
await fh.close();
const s = Float64Array.from(lat).sort();
const pct = (p) => s.length ? s[Math.min(s.length, Math.max(1, Math.ceil(p / 100 * s.length))) - 1] : NaN;
let sum = 0; for (const v of s) sum += v;
console.log(JSON.stringify({ ops: r.ops, bytes: r.ops * c.bs, seconds: r.seconds, p50: pct(50), p99: pct(99), p999: pct(99.9), mean: sum / s.length, cpu: (cpu.user + cpu.system) / 1e6 / r.seconds, version: process.version }));
`;

/** What the node child reported. */
export interface NodeRunResult extends ChildReadResult {
  /** Mean latency, µs. */
  mean: number;
  version: string;
}

/** The `node` binary to run (NODE env var, else on PATH), or null when there is none. */
export function findNode(): string | null {
  return findNodeBinary()?.bin ?? null;
}

/** Runs the node baseline for `durationMs` (after `warmupMs`); rejects with node's error text. */
export async function runNode(bin: string, w: ReadWorkload, durationMs: number, warmupMs: number): Promise<NodeRunResult> {
  const config = JSON.stringify({ ...w, durationMs, warmupMs });
  // Bounded: the run plus a generous margin for startup; never hang the benchmark.
  const { code, out, err } = await collectChild(
    bin,
    ["--input-type=module", "-e", NODE_SCRIPT, config],
    durationMs + warmupMs + 30_000,
    (e) => `could not run ${bin}: ${e.message}`,
  );
  if (code !== 0) {
    const line = err.split("\n").find((l) => /Error|error:/.test(l)) ?? err.trim().split("\n").pop() ?? "";
    throw new Error(`node baseline failed (exit ${code}): ${line.trim()}`);
  }
  try {
    return JSON.parse(out.trim().split("\n").pop()!) as NodeRunResult;
  } catch {
    throw new Error(`node baseline printed no result: ${out.slice(0, 200)}`);
  }
}
