/**
 * Promise reads through `Uring` against the alternatives, in one run:
 * 4 KiB reads at random offsets from a page-cache-warm file, QD in flight.
 *
 *   uring (event-loop)      Uring's default driver, 32 `await uring.read()` loops
 *   uring (run)             the run driver (blocks in enter only when idle)
 *   bun FileHandle.read     node:fs/promises in Bun, 32 in flight
 *   bun Bun.file().slice()  Bun.file(path).slice(off, off + 4096).arrayBuffer(), 32 in flight
 *   sync pread              fs.readSync loop
 *   liburing C              build/read_liburing (c/reference/read_liburing.c, the `uring-bench read` C loop):
 *                           same QD, submit_and_wait(1) per round (BATCH 1), no pattern check (VERIFY length)
 *   node FileHandle.read    cli/async-read/async-read-node.mjs under `node`, 32 in flight
 *
 * Variants run in rotated order for ROUNDS rounds; the table shows the median
 * ops/s of each and the ratios the targets name. Then QD1 latency (uring vs
 * sync pread) and the wake-up latency from idle (a read parked on a FIFO,
 * woken by a write).
 *
 * usage: bun cli/async-read/async-read.ts [--ms 1500] [--rounds 3] [--qd 32] [--size-mb 64] [--sqpoll] [--json]
 * (--sqpoll adds the SQPOLL driver: its kernel thread takes a core of its own.)
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Uring } from "../../src/async/index.ts";

const args = process.argv.slice(2);
function arg(name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got ${args[i + 1]}`);
  return v;
}
const MS = arg("ms", 1500);
const ROUNDS = arg("rounds", 3);
const QD = arg("qd", 32);
const SIZE = arg("size-mb", 64) * 1024 * 1024;
const JSON_OUT = args.includes("--json");
const WITH_SQPOLL = args.includes("--sqpoll");
const BS = 4096;
const BLOCKS = SIZE / BS;
const ROOT = join(import.meta.dir, "..", "..");
const C_LOOP = join(ROOT, "build", "read_liburing");
const NODE_SCRIPT = join(import.meta.dir, "async-read-node.mjs");

// ---- the file -----------------------------------------------------------------
const path = join(tmpdir(), `uring-bench-async-read-${SIZE}.bin`);
if (!existsSync(path) || Bun.file(path).size !== SIZE) {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < SIZE / chunk.length; i++) {
    crypto.getRandomValues(chunk.subarray(0, 65536));
    writeSync(fd, chunk);
  }
  closeSync(fd);
}
{
  // Warm the page cache.
  const fd = openSync(path, "r");
  const chunk = new Uint8Array(1 << 20);
  while (readSync(fd, chunk) > 0);
  closeSync(fd);
}

let rng = 12345;
/** xorshift32, the same sequence shape as the C and node loops. */
function nextOffset(): number {
  let x = rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rng = x >>> 0;
  return (rng % BLOCKS) * BS;
}

/** One measurement: throughput, and CPU time per op (all threads of the process: fair to thread-pool baselines). */
type Sample = { opsPerSec: number; cpuUsPerOp: number };
type Variant = { name: string; run: (ms: number) => Promise<Sample> };

function sample(ops: number, t0: number, c0: NodeJS.CpuUsage): Sample {
  const c = process.cpuUsage(c0);
  return { opsPerSec: ops / ((performance.now() - t0) / 1000), cpuUsPerOp: (c.user + c.system) / ops };
}

/** QD async loops of `op` for `ms`. */
async function inFlight(ms: number, op: (buf: Uint8Array) => Promise<unknown>): Promise<Sample> {
  let ops = 0;
  let stop = false;
  const end = performance.now() + ms;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: QD }, async () => {
      const buf = new Uint8Array(BS);
      while (!stop) {
        await op(buf);
        if ((++ops & 255) === 0 && performance.now() > end) stop = true;
      }
    }),
  );
  return sample(ops, t0, c0);
}

const fd = openSync(path, "r");
const uringEv = new Uring({ entries: 2 * QD });
const uringRun = new Uring({ entries: 2 * QD, driver: "run" });
const uringSqpoll = WITH_SQPOLL ? new Uring({ entries: 2 * QD, driver: "sqpoll" }) : null;
const fh = await open(path, "r");
const bunFile = Bun.file(path);

/** Runs a baseline program; returns the JSON object of its last stdout line. */
function external<T>(cmd: string, argv: string[]): T {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as T;
}

/** The node script: ops, seconds, and CPU seconds. */
function nodeLoop(ms: number): Sample {
  const { ops, seconds, cpu } = external<{ ops: number; seconds: number; cpu: number }>("node", [NODE_SCRIPT, path, String(SIZE), String(QD), String(ms)]);
  return { opsPerSec: ops / seconds, cpuUsPerOp: (cpu * 1e6) / ops };
}

/**
 * The liburing C loop (PATH SIZE BS QD BATCH MS WARMUP_MS DIRECT RAND FIXED SEED MAXOPS VERIFY):
 * buffered random reads, one completion waited for per round, no warm-up, no
 * byte budget, no check (the file holds random bytes). It reports CPU as
 * usr and sys seconds (its `cpu` is in cores).
 */
function cLoop(ms: number): Sample {
  const argv = [path, String(SIZE), String(BS), String(QD), "1", String(ms), "0", "0", "1", "0", "12345", "0", "length"];
  const { ops, seconds, usr, sys } = external<{ ops: number; seconds: number; usr: number; sys: number }>(C_LOOP, argv);
  return { opsPerSec: ops / seconds, cpuUsPerOp: ((usr + sys) * 1e6) / ops };
}

const haveNode = spawnSync("node", ["--version"]).status === 0;
const variants: Variant[] = [
  { name: "uring (event-loop)", run: (ms) => inFlight(ms, (b) => uringEv.read(fd, b, nextOffset())) },
  { name: "uring (run)", run: (ms) => inFlight(ms, (b) => uringRun.read(fd, b, nextOffset())) },
  { name: "bun FileHandle.read", run: (ms) => inFlight(ms, (b) => fh.read(b, 0, BS, nextOffset())) },
  {
    name: "bun Bun.file().slice()",
    run: (ms) => inFlight(ms, () => {
      const off = nextOffset();
      return bunFile.slice(off, off + BS).arrayBuffer();
    }),
  },
  {
    name: "sync pread (fs.readSync)",
    run: async (ms) => {
      const buf = new Uint8Array(BS);
      let ops = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + ms;
      for (;;) {
        readSync(fd, buf, 0, BS, nextOffset());
        if ((++ops & 1023) === 0 && performance.now() > end) break;
      }
      return sample(ops, t0, c0);
    },
  },
];
if (uringSqpoll !== null) variants.splice(2, 0, { name: "uring (sqpoll)", run: (ms) => inFlight(ms, (b) => uringSqpoll.read(fd, b, nextOffset())) });
if (existsSync(C_LOOP)) variants.push({ name: "liburing C", run: async (ms) => cLoop(ms) });
if (haveNode) variants.push({ name: "node FileHandle.read", run: async (ms) => nodeLoop(ms) });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Warm-up (JIT) of the in-process variants.
for (const v of variants) if (v.name !== "liburing C" && !v.name.startsWith("node")) await v.run(200);

const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < variants.length; i++) {
    const v = variants[(i + r) % variants.length]!;
    samples.get(v.name)!.push(await v.run(MS));
  }
}
const med = new Map([...samples].map(([k, xs]) => [k, median(xs.map((x) => x.opsPerSec))]));
const cpuMed = new Map([...samples].map(([k, xs]) => [k, median(xs.map((x) => x.cpuUsPerOp))]));

// ---- QD1 latency ----------------------------------------------------------------
/** QD1: one read at a time. Wall µs/op (best of rounds) and CPU µs/op (median), uring vs sync pread, interleaved. */
async function qd1(ms: number): Promise<{ uringUs: number; preadUs: number; uringCpuUs: number; preadCpuUs: number }> {
  const buf = new Uint8Array(BS);
  const wallU: number[] = [];
  const wallP: number[] = [];
  const cpuU: number[] = [];
  const cpuP: number[] = [];
  for (let r = 0; r < 5; r++) {
    let n = 0;
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    let end = t0 + ms / 10;
    while (performance.now() < end) {
      for (let i = 0; i < 256; i++) await uringEv.read(fd, buf, nextOffset());
      n += 256;
    }
    let s = sample(n, t0, c0);
    wallU.push(1e6 / s.opsPerSec);
    cpuU.push(s.cpuUsPerOp);
    n = 0;
    c0 = process.cpuUsage();
    t0 = performance.now();
    end = t0 + ms / 10;
    while (performance.now() < end) {
      for (let i = 0; i < 256; i++) readSync(fd, buf, 0, BS, nextOffset());
      n += 256;
    }
    s = sample(n, t0, c0);
    wallP.push(1e6 / s.opsPerSec);
    cpuP.push(s.cpuUsPerOp);
  }
  return { uringUs: Math.min(...wallU), preadUs: Math.min(...wallP), uringCpuUs: median(cpuU), preadCpuUs: median(cpuP) };
}
const lat = await qd1(MS);

// ---- wake-up latency from idle ------------------------------------------------
async function wakeLatency(samplesWanted: number): Promise<{ p50: number; p90: number; timerP50: number }> {
  const fifo = join(tmpdir(), `uring-bench-wake-${process.pid}`);
  spawnSync("mkfifo", [fifo]);
  const pfd = openSync(fifo, "r+");
  const one = new Uint8Array(1);
  const out: number[] = [];
  const timer: number[] = [];
  try {
    for (let i = 0; i < samplesWanted; i++) {
      const pending = uringEv.read(pfd, one, -1);
      // Let the ring go idle (park on the waiter thread), then wake it.
      const t0 = await new Promise<number>((resolve) => setTimeout(() => {
        const t = performance.now();
        writeSync(pfd, one);
        resolve(t);
      }, 2));
      await pending;
      out.push((performance.now() - t0) * 1000);
      // For scale: one event-loop turn with no io_uring (a setImmediate hop).
      const t1 = performance.now();
      await new Promise((r) => setImmediate(r));
      timer.push((performance.now() - t1) * 1000);
    }
  } finally {
    closeSync(pfd);
    rmSync(fifo, { force: true });
  }
  out.sort((a, b) => a - b);
  timer.sort((a, b) => a - b);
  return { p50: out[out.length >> 1]!, p90: out[Math.floor(out.length * 0.9)]!, timerP50: timer[timer.length >> 1]! };
}
const wake = await wakeLatency(200);

uringEv.close();
uringRun.close();
uringSqpoll?.close();
await fh.close();
closeSync(fd);

// ---- report ---------------------------------------------------------------------
const ours = med.get("uring (event-loop)")!;
const oursCpu = cpuMed.get("uring (event-loop)")!;
const rows = [...med].map(([name, ops]) => ({
  variant: name,
  "ops/s": Math.round(ops),
  "uring ÷ this": (ours / ops).toFixed(2),
  "CPU µs/op": cpuMed.get(name)!.toFixed(2),
  "uring ops per CPU-s ÷ this": (cpuMed.get(name)! / oursCpu).toFixed(2),
}));
const ratio = (name: string) => (med.has(name) ? ours / med.get(name)! : NaN);
const summary = {
  config: { qd: QD, bs: BS, fileMiB: SIZE / 1048576, ms: MS, rounds: ROUNDS, setup: uringEv.setupChoice, bun: Bun.version },
  opsPerSec: Object.fromEntries([...med].map(([k, v]) => [k, Math.round(v)])),
  cpuUsPerOp: Object.fromEntries([...cpuMed].map(([k, v]) => [k, Number(v.toFixed(3))])),
  ratios: {
    "uring / liburing C (target >= 0.80)": ratio("liburing C"),
    "uring / bun FileHandle.read (target >= 1.5)": ratio("bun FileHandle.read"),
    "uring / node FileHandle.read (target >= 3)": ratio("node FileHandle.read"),
  },
  cpuRatios: {
    "uring / liburing C, ops per CPU-second": cpuMed.has("liburing C") ? cpuMed.get("liburing C")! / oursCpu : NaN,
  },
  qd1: { uringUs: lat.uringUs, syncPreadUs: lat.preadUs, deltaUs: lat.uringUs - lat.preadUs, uringCpuUs: lat.uringCpuUs, syncPreadCpuUs: lat.preadCpuUs },
  wakeFromIdleUs: wake,
};
if (JSON_OUT) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  console.log(`4 KiB random reads, QD ${QD}, ${SIZE / 1048576} MiB page-cache-warm file, ${ROUNDS} rounds × ${MS} ms, median (ring: ${uringEv.setupChoice})`);
  console.table(rows);
  for (const [k, v] of Object.entries({ ...summary.ratios, ...summary.cpuRatios })) console.log(`${k}: ${Number.isNaN(v) ? "n/a" : v.toFixed(2)}`);
  console.log(
    `QD1: uring.read ${lat.uringUs.toFixed(2)} µs/op wall (${lat.uringCpuUs.toFixed(2)} CPU), sync pread ${lat.preadUs.toFixed(2)} µs/op wall (${lat.preadCpuUs.toFixed(2)} CPU); Δ ${(lat.uringUs - lat.preadUs).toFixed(2)} µs wall, ${(lat.uringCpuUs - lat.preadCpuUs).toFixed(2)} µs CPU`,
  );
  console.log(`wake-up from idle (FIFO write → read resolved): p50 ${wake.p50.toFixed(1)} µs, p90 ${wake.p90.toFixed(1)} µs; one setImmediate hop for scale: p50 ${wake.timerP50.toFixed(1)} µs`);
}
