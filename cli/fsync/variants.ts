/**
 * The fsync-chain variants as the shared runner's BenchVariants: each owns one
 * data file and a ledger for it across warm-up and repetitions, so the file can
 * be verified once the run is over.
 */
import { closeSync, constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { Ring } from "../../src/ring/ring.ts";
import { kernelHasSetupFlag } from "../../src/ring/setup.ts";
import { RegisterOp, SetupFlags } from "../../src/sys/constants.ts";
import { errnoName } from "../../src/sys/errno.ts";
import { cpuMask, pinThread, getAffinity } from "../harness/affinity.ts";
import { runInSlices } from "../harness/slices.ts";
import type { BenchVariant, Measurement, RunControl } from "../harness/runner.ts";
import { baselineSync, PromisesCommitter, SyscallLoopCommitter } from "./baselines.ts";
import { C_CHILD_WARMUP_MS, cFsyncArgs, feedLedger, requireCFsync, runCFsync } from "./clib.ts";
import { CommitStats } from "./commit-stats.ts";
import { createDataFile, preallocate, removeDataFile } from "./file.ts";
import { runFio, type FioEngine } from "./fio.ts";
import { Ledger, type FileLayout } from "./ledger.ts";
import type { FsyncConfig } from "./options.ts";
import { UringCommitter, type ChainCounters } from "./uring-chain.ts";

/** A variant that committed to a data file of its own: verified after the run. */
export interface FileVariant extends BenchVariant {
  /** The data file (set by setup). */
  path: string | null;
  ledger: Ledger;
  /** Notes gathered during setup and runs (fallbacks, counters). */
  notes: Set<string>;
  /** Totals over all runs of the io_uring variant. */
  counters?: ChainCounters;
}

/** The file layout a config implies. */
export function layoutOf(cfg: FsyncConfig): FileLayout {
  return {
    recordBytes: cfg.recordBytes,
    writesPerCommit: cfg.writesPerCommit,
    slots: cfg.append ? 0 : cfg.fileBytes / cfg.recordBytes,
  };
}

/** Ring setup options for the io_uring variant, and their names for the result context. */
export function ringSetup(cfg: FsyncConfig): { options: { deferTaskrun?: boolean }; flags: string[] } {
  if (cfg.deferTaskrun && kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER)) {
    // Completions are posted only when we wait for them: one wake-up per batch, not per CQE.
    return { options: { deferTaskrun: true }, flags: ["SINGLE_ISSUER", "DEFER_TASKRUN"] };
  }
  return { options: {}, flags: [] };
}

function fileName(variant: string, inflight: number): string {
  return `uring-bench-fsync-${process.pid}-${variant}-qd${inflight}.dat`;
}

/** Opens the variant's file (and preallocates it in overwrite mode). */
function openFile(cfg: FsyncConfig, name: string, dsync: boolean, notes: Set<string>): { path: string; fd: number } {
  const f = createDataFile(cfg.dir, name, dsync);
  try {
    if (!cfg.append) notes.add(`file: ${preallocate(f.fd, cfg.fileBytes, cfg.prefill).method}`);
  } catch (err) {
    closeSync(f.fd);
    removeDataFile(f.path);
    throw err;
  }
  return f;
}

/**
 * Runs `fn` with the calling thread pinned to `cpu` (when not null), restoring
 * the previous CPU set afterwards, also across awaits.
 */
async function pinned<T>(cpu: number | null, fn: () => T | Promise<T>): Promise<T> {
  if (cpu === null) return await fn();
  const before = getAffinity(0);
  pinThread(0, [cpu]);
  try {
    return await fn();
  } finally {
    pinThread(0, before);
  }
}

/** Common Measurement from a committer's window. */
/**
 * Commits the next slice may start under --commits: 0 means no limit (as the
 * committers take it), -1 that the budget is spent.
 */
function commitsLeft(cfg: FsyncConfig, stats: CommitStats): number {
  if (cfg.maxCommits === 0) return 0;
  const left = cfg.maxCommits - stats.commits - stats.failed;
  return left > 0 ? left : -1;
}

function measured(stats: CommitStats, cfg: FsyncConfig): Measurement {
  return stats.toMeasurement(cfg.recordBytes * cfg.writesPerCommit);
}

/** The io_uring variant: linked write→sync chains, `inflight` in flight. */
export function uringVariant(cfg: FsyncConfig, inflight: number, cell: string): FileVariant {
  let ring: Ring | null = null;
  let committer: UringCommitter | null = null;
  let fd = -1;
  const v: FileVariant = {
    name: "uring",
    cell,
    path: null,
    ledger: new Ledger(layoutOf(cfg)),
    notes: new Set(),
    counters: { orderViolations: 0, syncsCancelled: 0, syncsAfterFailedWrite: 0, enters: 0 },
    setup() {
      const f = openFile(cfg, fileName("uring", inflight), cfg.sync === "o-dsync", v.notes);
      v.path = f.path;
      fd = f.fd;
      const setup = ringSetup(cfg);
      ring = new Ring(cfg.ringEntries, setup.options);
      if (cfg.cpu !== null) {
        // The io-wq workers run the syncs: keep them on the submitter's CPU.
        const rc = ring.register(RegisterOp.REGISTER_IOWQ_AFF, new BigUint64Array([BigInt(cpuMask([cfg.cpu]))]), 8);
        if (rc < 0) v.notes.add(`io-wq affinity not set: ${errnoName(rc)}`);
      }
      committer = new UringCommitter({ ring, fd, ledger: v.ledger, mode: cfg.mode, sync: cfg.sync, inflight });
      committer.waitEach = cfg.split;
    },
    async run(durationMs: number, ctx: RunControl): Promise<Measurement> {
      const c = committer!;
      if (c.broken) return { ops: 0, seconds: durationMs / 1000, errors: 0, notes: ["not run: the log broke in an earlier run"] };
      const stats = new CommitStats();
      const run = { orderViolations: 0, enters: 0 };
      await pinned(cfg.cpu, () =>
        runInSlices(durationMs, ctx.signal, (ms) => {
          const { counters } = c.run(ms, commitsLeft(cfg, stats), (n) => ctx.report(n), stats);
          const t = v.counters!;
          t.orderViolations += counters.orderViolations;
          t.syncsCancelled += counters.syncsCancelled;
          t.syncsAfterFailedWrite += counters.syncsAfterFailedWrite;
          t.enters += counters.enters;
          run.orderViolations += counters.orderViolations;
          run.enters += counters.enters;
          return c.broken || commitsLeft(cfg, stats) < 0;
        }),
      );
      const m = measured(stats, cfg);
      m.errors = (m.errors ?? 0) + run.orderViolations;
      m.extra = { ...m.extra, entersPerCommit: stats.commits > 0 ? run.enters / stats.commits : 0 };
      return m;
    },
    teardown() {
      committer?.close();
      committer = null;
      // io-wq affinity belongs to this thread's io_uring context, which outlives the ring: undo it.
      if (ring && cfg.cpu !== null) ring.register(RegisterOp.UNREGISTER_IOWQ_AFF, null, 0);
      ring?.close();
      ring = null;
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
  return v;
}

/** The write + fdatasync syscall loop. */
export function loopVariant(cfg: FsyncConfig, cell: string, inflight: number): FileVariant {
  let committer: SyscallLoopCommitter | null = null;
  let fd = -1;
  const how = baselineSync(cfg.sync);
  const v: FileVariant = {
    name: "loop",
    cell,
    path: null,
    ledger: new Ledger(layoutOf(cfg)),
    notes: new Set(how.note ? [how.note] : []),
    setup() {
      const f = openFile(cfg, fileName("loop", inflight), how.openDsync, v.notes);
      v.path = f.path;
      fd = f.fd;
      committer = new SyscallLoopCommitter(fd, v.ledger, cfg.sync);
    },
    async run(durationMs: number, ctx: RunControl): Promise<Measurement> {
      const c = committer!;
      if (c.broken) return { ops: 0, seconds: durationMs / 1000, errors: 0, notes: ["not run: the log broke in an earlier run"] };
      const stats = new CommitStats();
      await pinned(cfg.cpu, () =>
        runInSlices(durationMs, ctx.signal, (ms) => {
          c.run(ms, commitsLeft(cfg, stats), (n) => ctx.report(n), stats);
          return c.broken || commitsLeft(cfg, stats) < 0;
        }),
      );
      return measured(stats, cfg);
    },
    teardown() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
  return v;
}

/** node:fs/promises write + datasync, `inflight` concurrent commits. */
export function promisesVariant(cfg: FsyncConfig, inflight: number, cell: string): FileVariant {
  let committer: PromisesCommitter | null = null;
  let fh: FileHandle | null = null;
  const how = baselineSync(cfg.sync);
  const v: FileVariant = {
    name: "promises",
    cell,
    path: null,
    ledger: new Ledger(layoutOf(cfg)),
    notes: new Set(how.note ? [how.note] : []),
    async setup() {
      const f = openFile(cfg, fileName("promises", inflight), how.openDsync, v.notes);
      closeSync(f.fd);
      v.path = f.path;
      fh = await open(f.path, constants.O_RDWR | (how.openDsync ? constants.O_DSYNC : 0));
      committer = new PromisesCommitter(fh, v.ledger, cfg.sync, inflight);
    },
    async run(durationMs: number, ctx: RunControl): Promise<Measurement> {
      const c = committer!;
      if (c.broken) return { ops: 0, seconds: durationMs / 1000, errors: 0, notes: ["not run: the log broke in an earlier run"] };
      return measured((await pinned(cfg.cpu, () => c.run(durationMs, cfg.maxCommits, (n) => ctx.report(n), ctx.signal))).stats, cfg);
    },
    async teardown() {
      await fh?.close();
      fh = null;
    },
  };
  return v;
}

/**
 * The liburing C committer (build/fsync_liburing): the same chains in C, one
 * process per run (warm-up included), on a data file of its own that this
 * side creates (and preallocates in overwrite mode) and verifies like the others.
 * It pins itself and its io-wq workers for --cpu.
 */
export function cLiburingVariant(cfg: FsyncConfig, inflight: number, cell: string): FileVariant {
  let broken = false;
  const layout = layoutOf(cfg);
  const v: FileVariant = {
    name: "c-liburing",
    cell,
    path: null,
    ledger: new Ledger(layout),
    notes: new Set(),
    counters: { orderViolations: 0, syncsCancelled: 0, syncsAfterFailedWrite: 0, enters: 0 },
    setup() {
      requireCFsync();
      // The C side opens the file itself (O_DSYNC for o-dsync); here it is only created and preallocated.
      const f = openFile(cfg, fileName("c-liburing", inflight), false, v.notes);
      closeSync(f.fd);
      v.path = f.path;
      if (cfg.split) v.notes.add("c-liburing: no --split (waits for whole commits, as uring by default)");
    },
    async run(durationMs: number, ctx: RunControl): Promise<Measurement> {
      if (broken) return { ops: 0, seconds: durationMs / 1000, errors: 0, notes: ["not run: the log broke in an earlier run"] };
      const args = cFsyncArgs(cfg, { path: v.path!, inflight, first: v.ledger.started, durationMs, warmupMs: C_CHILD_WARMUP_MS }, layout.slots);
      let r;
      try {
        r = await runCFsync(args, durationMs + C_CHILD_WARMUP_MS);
      } catch (err) {
        // Whatever it wrote is not in the ledger: no further runs on this file.
        broken = true;
        throw err;
      }
      if (feedLedger(v.ledger, r) > 0) broken = true;
      const t = v.counters!;
      t.orderViolations += r.orderViolations;
      t.syncsCancelled += r.syncsCancelled;
      t.syncsAfterFailedWrite += r.syncsAfterFailedWrite;
      t.enters += r.enters;
      const want = ringSetup(cfg).flags.join("|");
      if (r.flags !== want) v.notes.add(`c-liburing ring flags: ${r.flags || "none"} (uring: ${want || "none"})`);
      if (r.iowqAff < 0) v.notes.add(`c-liburing io-wq affinity not set: ${errnoName(r.iowqAff)}`);
      ctx.report(r.commits);
      const m: Measurement = {
        ops: r.commits,
        seconds: r.seconds,
        bytes: r.commits * cfg.recordBytes * cfg.writesPerCommit,
        errors: r.orderViolations,
        cpu: { self: r.cpu },
        // Its own warm-up's commits count here too: enters per commit started.
        extra: { entersPerCommit: r.started > 0 ? r.enters / r.started : 0 },
      };
      if (r.commits > 0) m.latencyUs = { p50: r.p50, p99: r.p99, p999: r.p999, mean: r.mean };
      return m;
    },
  };
  return v;
}

/** fio with --fdatasync=1 (or the --sync equivalent) under `engine`. */
export function fioVariant(cfg: FsyncConfig, engine: FioEngine, cell: string): BenchVariant {
  return {
    name: `fio-${engine}`,
    cell,
    async run(durationMs: number): Promise<Measurement> {
      const m = runFio({
        engine,
        dir: cfg.dir,
        recordBytes: cfg.recordBytes * cfg.writesPerCommit,
        durationMs,
        sync: cfg.sync,
        append: cfg.append,
        fileBytes: cfg.fileBytes,
        cpu: cfg.rings > 1 ? null : cfg.cpu,
        jobs: cfg.rings,
      });
      if (cfg.rings > 1) m.notes = [...(m.notes ?? []), `numjobs=${cfg.rings}: a file each, as threads, one grouped report`];
      return m;
    },
  };
}
