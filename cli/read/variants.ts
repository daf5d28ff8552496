/**
 * The read variants as runner entries (cli/harness/runner.ts): each opens what
 * it needs in `setup`, reads for the given time in `run` and reports a
 * Measurement, and releases everything in `teardown`. Child-process variants
 * (fio, node, the C loop) start fresh every repetition, so they warm up inside
 * each run and skip the runner's warm-up.
 */
import type { BenchVariant, Measurement, RunControl } from "../harness/runner.ts";
import { LatencyRecorder } from "../harness/latency.ts";
import { runInSlices } from "../harness/slices.ts";
import { BunFileReader } from "./bunfile.ts";
import { haveCLoop, runCLoop } from "./clib.ts";
import { fioArgs, runFio, type FioEngine } from "./fio.ts";
import { findNode, runNode } from "./node.ts";
import { FsPromisesReader } from "./nodefs.ts";
import type { ReadVariant } from "./options.ts";
import { RingPool } from "./rings.ts";
import { PreadReader } from "./sync.ts";
import { UnsupportedError, UringReader, type UringFeatures } from "./uring.ts";
import { cellLabel, type ReadWorkload } from "./workload.ts";

/** Warm-up inside each child-process run: long enough for JIT and caches, short next to the run. */
export const CHILD_WARMUP_MS = 300;

/** io_uring features per io_uring variant. */
export const URING_FEATURES: Record<string, UringFeatures> = {
  uring: { fixedBuffers: false, fixedFiles: false, sqpoll: false, iopoll: false },
  "uring-fixbuf": { fixedBuffers: true, fixedFiles: false, sqpoll: false, iopoll: false },
  "uring-fixfile": { fixedBuffers: false, fixedFiles: true, sqpoll: false, iopoll: false },
  "uring-fixed": { fixedBuffers: true, fixedFiles: true, sqpoll: false, iopoll: false },
  "uring-sqpoll": { fixedBuffers: true, fixedFiles: true, sqpoll: true, iopoll: false },
  "uring-iopoll": { fixedBuffers: true, fixedFiles: true, sqpoll: false, iopoll: true },
};

/** Percentiles of a recorder as the result format wants them (µs). */
function latencyOf(lat: LatencyRecorder): Measurement["latencyUs"] {
  if (lat.count === 0) return undefined;
  const [p50, p99, p999] = lat.percentiles([50, 99, 99.9]) as [number, number, number];
  return { p50, p99, p999 };
}

/** A measurement for a variant that cannot run here: reported with the reason, not counted as an error. */
function unsupported(reason: string): Measurement {
  return { ops: 0, seconds: 0, notes: [`unsupported: ${reason}`], extra: { status: "unsupported" } };
}

/** Ring flags the io_uring variants ended up with (filled as they set up). */
export interface VariantInfo {
  ringFlags: Set<string>;
}

/** What one timed stretch of an in-process reader did. */
interface SliceResult {
  ops: number;
  bytes: number;
  seconds: number;
  /** io_uring_enter calls, for enters per read. */
  enters?: number;
  latencyUs?: Measurement["latencyUs"];
  extra?: Record<string, number | string>;
}

/**
 * An in-process variant with a setup object, a timed run and a close. A run
 * is cut into slices (cli/harness/slices.ts) so Ctrl-C stops it promptly;
 * `maxOps` is what is left of the --bytes budget (Infinity: none).
 */
function inProcess<T>(
  name: string,
  cell: string,
  open: () => T | Promise<T>,
  run: (r: T, durationMs: number, lat: LatencyRecorder, report: (ops: number) => void, maxOps: number) => Promise<SliceResult>,
  close: (r: T) => void | Promise<void>,
  opts: { notes?: (r: T) => string[]; maxOps?: number } = {},
): BenchVariant {
  let reader: T | null = null;
  let skip: string | null = null;
  const lat = new LatencyRecorder();
  const budget = opts.maxOps !== undefined && opts.maxOps > 0 ? opts.maxOps : Infinity;
  // One progress callback for every run (a new closure per run would make the
  // optimized read loop exit and recompile once per repetition); opsBase adds
  // the reads of the slices before the current one.
  let current: RunControl | null = null;
  let opsBase = 0;
  const report = (ops: number) => current?.report(opsBase + ops);
  return {
    name,
    cell,
    async setup() {
      try {
        reader = await open();
      } catch (err) {
        if (err instanceof UnsupportedError) skip = err.message;
        else throw err;
      }
    },
    async run(durationMs, ctx) {
      if (skip !== null) return unsupported(skip);
      // Collect the garbage of earlier runs (Bun.file and the promise loops make
      // plenty) now, so no variant pays for another's in its timed window.
      Bun.gc(true);
      lat.reset();
      const cpu0 = process.cpuUsage();
      try {
        current = ctx;
        opsBase = 0;
        const total: SliceResult = { ops: 0, bytes: 0, seconds: 0, enters: 0 };
        await runInSlices(durationMs, ctx.signal, async (ms) => {
          const r = await run(reader!, ms, lat, report, budget - total.ops);
          total.ops += r.ops;
          total.bytes += r.bytes;
          total.seconds += r.seconds;
          total.enters! += r.enters ?? 0;
          total.latencyUs = r.latencyUs;
          total.extra = r.extra;
          opsBase = total.ops;
          return total.ops >= budget;
        });
        // CPU first: sorting the latency samples below is not the variant's work.
        const cpu = process.cpuUsage(cpu0);
        const perOp = (us: number) => (total.ops > 0 ? Math.round((us * 1000) / total.ops) : 0);
        const enters: Record<string, number> = total.enters! > 0 ? { entersPerOp: total.ops > 0 ? total.enters! / total.ops : 0 } : {};
        return withEfficiency({
          ops: total.ops,
          seconds: total.seconds,
          bytes: total.bytes,
          latencyUs: total.latencyUs ?? latencyOf(lat),
          cpu: { self: total.seconds > 0 ? (cpu.user + cpu.system) / 1e6 / total.seconds : 0 },
          notes: opts.notes?.(reader!) ?? [],
          extra: { ...total.extra, ...enters, userNsPerOp: perOp(cpu.user), sysNsPerOp: perOp(cpu.system) },
        });
      } catch (err) {
        if (err instanceof UnsupportedError) {
          skip = err.message;
          return unsupported(skip);
        }
        throw err;
      }
    },
    async teardown() {
      if (reader !== null) await close(reader);
      reader = null;
    },
  };
}

/** The runner entries for `variants` over workload `w`. */
export function buildVariants(variants: readonly ReadVariant[], w: ReadWorkload, info: VariantInfo, rings = 1): BenchVariant[] {
  const cell = cellLabel(w) + (rings > 1 ? ` ×${rings} rings` : "");
  return variants.map((name): BenchVariant => {
    const feat = URING_FEATURES[name];
    if (feat !== undefined && rings > 1) {
      return inProcess(
        name,
        cell,
        async () => {
          if (feat.iopoll && !w.direct) throw new UnsupportedError("IOPOLL needs O_DIRECT (--direct): buffered reads cannot be polled");
          const pool = new RingPool(rings, { ...w, ...feat });
          try {
            await pool.open();
          } catch (err) {
            await pool.close().catch(() => {});
            throw err;
          }
          for (const f of pool.ringFlags) info.ringFlags.add(f);
          return pool;
        },
        async (pool, d, lat, _report, maxOps) => {
          // Each slice is one message round trip to every Worker; their latencies add up in `lat`.
          const r = await pool.run(d, Number.isFinite(maxOps) ? maxOps : 0, lat);
          return { ...r, extra: { rings } };
        },
        (pool) => pool.close(),
        { maxOps: w.maxOps },
      );
    }
    if (feat !== undefined) {
      return inProcess(
        name,
        cell,
        () => {
          if (feat.iopoll && !w.direct) throw new UnsupportedError("IOPOLL needs O_DIRECT (--direct): buffered reads cannot be polled");
          const r = new UringReader({ ...w, ...feat });
          for (const f of r.ringFlags) info.ringFlags.add(f);
          return r;
        },
        async (r, d, lat, report, maxOps) => r.run(d, maxOps, lat, report),
        (r) => r.close(),
        { maxOps: w.maxOps },
      );
    }
    switch (name) {
      case "pread":
        // --rings N: N threads of pread (Workers), the like-for-like comparison.
        if (rings > 1) {
          return inProcess(
            name,
            cell,
            async () => {
              const pool = new RingPool(rings, { ...w, fixedBuffers: false, fixedFiles: false, sqpoll: false, iopoll: false }, true);
              try {
                await pool.open();
              } catch (err) {
                await pool.close().catch(() => {});
                throw err;
              }
              return pool;
            },
            // Sliced like the ring pool: one message round trip per slice, latencies merged into `lat`.
            async (pool, d, lat, _report, maxOps) => ({ ...(await pool.run(d, Number.isFinite(maxOps) ? maxOps : 0, lat)), extra: { threads: rings } }),
            (pool) => pool.close(),
            { maxOps: w.maxOps },
          );
        }
        return inProcess(
          name,
          cell,
          () => new PreadReader(w),
          async (r, d, lat, report, maxOps) => r.run(d, lat, report, maxOps),
          (r) => r.close(),
          {
            maxOps: w.maxOps,
          },
        );
      case "bun-file":
        return inProcess(
          name,
          cell,
          () => new BunFileReader(w),
          (r, d, lat, report, maxOps) => r.run(d, lat, report, maxOps),
          () => {},
          { notes: (r) => (r.note ? [r.note] : []), maxOps: w.maxOps },
        );
      case "node-fsp":
        return inProcess(
          name,
          cell,
          async () => {
            const r = new FsPromisesReader(w);
            await r.open();
            return r;
          },
          (r, d, lat, report, maxOps) => r.run(d, lat, report, maxOps),
          (r) => r.close(),
          { maxOps: w.maxOps },
        );
      case "node":
        return childVariant(name, cell, async (d) => {
          const bin = findNode();
          if (bin === null) throw new Error("node is not on PATH");
          const r = await runNode(bin, w, d, CHILD_WARMUP_MS);
          return {
            ops: r.ops,
            seconds: r.seconds,
            bytes: r.bytes,
            latencyUs: { p50: r.p50, p99: r.p99, p999: r.p999, mean: r.mean },
            cpu: { self: r.cpu },
            notes: [`node ${r.version}`],
          };
        });
      case "c-liburing":
      case "c-liburing-fixed":
        return childVariant(name, cell, async (d) => {
          if (!haveCLoop()) throw new Error("build/read_liburing is not built");
          const r = await runCLoop(w, name === "c-liburing-fixed", d, CHILD_WARMUP_MS);
          return {
            ops: r.ops,
            seconds: r.seconds,
            bytes: r.bytes,
            latencyUs: { p50: r.p50, p99: r.p99, p999: r.p999 },
            cpu: { self: r.cpu },
            extra: { userNsPerOp: Math.round((r.usr * 1e9) / r.ops), sysNsPerOp: Math.round((r.sys * 1e9) / r.ops) },
          };
        });
      case "fio-io_uring":
      case "fio-psync": {
        const engine = name.slice(4) as FioEngine;
        return childVariant(name, cell, async (d) => {
          const r = await runFio(w, engine, d, CHILD_WARMUP_MS, rings);
          return {
            ops: r.ios,
            seconds: r.seconds,
            bytes: r.bytesPerSec * r.seconds,
            latencyUs: r.latencyUs,
            // group_reporting gives the jobs' mean CPU: the process used `rings` times that.
            cpu: { self: r.cpu * rings },
            notes: [...(engine === "psync" ? ["qd 1 (psync is synchronous)"] : []), ...(rings > 1 ? [`numjobs=${rings} (threads, group_reporting)`] : [])],
            extra: { command: `fio ${fioArgs(w, engine, d, CHILD_WARMUP_MS, rings).join(" ")}` },
          };
        });
      }
      default:
        throw new Error(`unknown variant ${name}`);
    }
  });
}

/** A variant run in a child process per repetition; the runner's warm-up is skipped (each child warms up itself). */
function childVariant(name: string, cell: string, run: (durationMs: number) => Promise<Measurement>): BenchVariant {
  return {
    name,
    cell,
    async run(durationMs, ctx) {
      if (ctx.phase === "warmup") return { ops: 0, seconds: 0 };
      return withEfficiency(await run(durationMs));
    },
  };
}

/**
 * Adds `extra.opsPerCpuSec`: reads per second of CPU used. On a shared machine
 * a variant can lose throughput to other tenants, but its CPU cost per read
 * stays its own, so this is the steadier number for per-op overhead.
 */
export function withEfficiency(m: Measurement): Measurement {
  const cpu = m.cpu?.self;
  if (cpu !== undefined && cpu > 0 && m.seconds > 0 && m.ops > 0) {
    m.extra = { ...m.extra, opsPerCpuSec: Math.round(m.ops / (cpu * m.seconds)) };
  }
  return m;
}
