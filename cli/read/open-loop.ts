/**
 * `read --rate IOPS`: open-loop reads on one Ring. Reads are due at fixed
 * (or Poisson) times whatever the device does; at most --qd are in flight,
 * and a due read that finds the depth used up waits, its wait counted.
 * Latency is reported as fio splits it (lat, slat, clat; see
 * cli/harness/open-loop-ring.ts), with lat measured from the intended time.
 * Every read's length is checked (a short read is an error).
 */
import { closeSync } from "node:fs";
import { AlignedBuffer, PAGE_SIZE } from "../../src/mem/aligned.ts";
import { prepRead } from "../../src/ops/rw.ts";
import { Ring } from "../../src/ring/ring.ts";
import { sqeSetData32x2 } from "../../src/ring/sqe.ts";
import { ARRIVAL_KINDS, parseRate, type ArrivalKind } from "../harness/arrivals.ts";
import { exitCodeFor } from "../harness/exit-codes.ts";
import { OptionError } from "../harness/option-error.ts";
import type { CommonSettings } from "../harness/options.ts";
import { buildRun, finishRun } from "../harness/output.ts";
import type { VariantResult } from "../harness/result.ts";
import { ringOpenLoopCells, ringOpenLoopResult, ringOpenLoopRow, runRingOpenLoop, type RingOpenLoopRow } from "../harness/open-loop-ring.ts";
import { fmtNum, type Rows } from "../harness/rows.ts";
import { OffsetGenerator } from "./offsets.ts";
import { resolveReadOptions, type RawReadOptions, type ReadConfig } from "./options.ts";
import { openForRead, prepareTarget } from "./target.ts";

/** Warm-up inside each run before the window. */
export const READ_OPEN_LOOP_WARMUP_MS = 300;

/** One rate's outcome. */
export interface ReadOpenLoopRow extends RingOpenLoopRow {
  cpuUsPerRead: number;
  entersPerRead: number;
  peakQueued: number;
}

/** Parses `--rate` for read/fsync-chain: one rate or a comma list. */
export function parseRateList(flag: string): (value: string) => number[] {
  return (value) => {
    try {
      return value.split(",").map((v) => parseRate(v, flag));
    } catch (err) {
      throw new OptionError((err as Error).message);
    }
  };
}

/** Runs every rate once against one prepared file; returns a row per rate. */
export function runReadOpenLoop(cfg: ReadConfig, rates: number[], arrival: ArrivalKind, durationMs: number): { rows: ReadOpenLoopRow[]; path: string } {
  const target = prepareTarget({ file: cfg.file, size: cfg.size, dir: cfg.dir, keep: cfg.keep, bs: cfg.bs, direct: cfg.direct });
  try {
    const fd = openForRead(target.path, cfg.direct);
    const bufs = Array.from({ length: cfg.qd }, () => new AlignedBuffer(cfg.bs, PAGE_SIZE));
    const rows: ReadOpenLoopRow[] = [];
    try {
      for (const rate of rates) {
        const ring = new Ring(Math.max(cfg.qd, 8));
        const offsets = new OffsetGenerator(cfg.pattern, Math.floor(target.size / cfg.bs), cfg.bs, cfg.seed);
        let errors = 0;
        try {
          const r = runRingOpenLoop({
            ring,
            rate,
            arrival,
            durationMs,
            warmupMs: READ_OPEN_LOOP_WARMUP_MS,
            slots: cfg.qd,
            prep(slot) {
              const s = ring.getSqe();
              if (s === null) throw new Error("SQ full: the ring has fewer entries than --qd");
              prepRead(s, fd, bufs[slot]!.bytes, cfg.bs, offsets.nextOffset());
              sqeSetData32x2(s, slot, 0);
            },
            complete(_slot, res) {
              if (res !== cfg.bs) errors++;
              return true;
            },
          });
          rows.push({
            ...ringOpenLoopRow(rate, r, errors),
            cpuUsPerRead: r.completedInWindow > 0 ? (r.cpu * r.seconds * 1e6) / r.completedInWindow : NaN,
            entersPerRead: r.entersPerOp,
            peakQueued: r.peakQueued,
          });
        } finally {
          ring.close();
        }
      }
    } finally {
      closeSync(fd);
      for (const b of bufs) b.free();
    }
    return { rows, path: target.path };
  } finally {
    target.cleanup();
  }
}

/** The read open-loop table. */
export function readOpenLoopRows(rows: ReadOpenLoopRow[]): Rows {
  return {
    head: [
      "rate/s",
      "achieved/s",
      "lat p50 µs",
      "lat p90 µs",
      "lat p99 µs",
      "lat p99.9 µs",
      "lat max µs",
      "slat p50/p99 µs",
      "clat p50/p99 µs",
      "CPU",
      "CPU µs/read",
      "io_uring_enter/read",
      "status",
    ],
    rows: rows.map((r) => [...ringOpenLoopCells(r), fmtNum(r.cpuUsPerRead), fmtNum(r.entersPerRead), r.status]),
  };
}

/** What the read open-loop table's columns mean. */
export function readOpenLoopLegend(cfg: ReadConfig, arrival: ArrivalKind): string {
  return (
    `${cfg.bs} B ${cfg.pattern} reads${cfg.direct ? " O_DIRECT" : " buffered"}, qd ≤ ${cfg.qd}, ${arrival} arrivals, one ring (io_uring plain reads, lengths checked). ` +
    "lat: completion − intended time; slat: intended → submitted (slot wait + scheduler + submit); clat: submitted → completion. " +
    "Other syscalls per read: none in the loop (clock reads are vDSO)."
  );
}

/** Rows as VariantResults (variant "uring", one cell per rate) for --json/--save. */
export function readOpenLoopResults(rows: ReadOpenLoopRow[], cfg: ReadConfig): VariantResult[] {
  return rows.map((r) =>
    ringOpenLoopResult(
      r,
      `${cfg.bs}B ${cfg.pattern}${cfg.direct ? " direct" : ""} qd${cfg.qd} rate:${r.rate}`,
      { slatP50Us: r.slat.p50, clatP999Us: r.clat.p999, cpuUsPerRead: r.cpuUsPerRead, entersPerRead: r.entersPerRead },
      r.achievedRate * cfg.bs,
    ),
  );
}

/** `read --rate`: the whole command path (options already parsed by the read command). */
export function runReadRate(raw: RawReadOptions & { rate: number[]; arrival?: string }, common: CommonSettings): void {
  const arrival = (raw.arrival ?? "uniform") as ArrivalKind;
  if (!(ARRIVAL_KINDS as readonly string[]).includes(arrival)) throw new OptionError(`--arrival takes ${ARRIVAL_KINDS.join(" or ")}, got "${raw.arrival}".`);
  const cfg = resolveReadOptions(raw, { node: false, cLoop: false, fio: false });
  const { rows, path } = runReadOpenLoop(cfg, raw.rate, arrival, common.durationMs);
  const run = buildRun(
    "read",
    { ...cfg, variants: ["uring"], rates: raw.rate, arrival, regime: "open-loop", durationMs: common.durationMs },
    readOpenLoopResults(rows, cfg),
  );
  finishRun(run, common, { tables: [readOpenLoopRows(rows)], lines: [readOpenLoopLegend(cfg, arrival), `file: ${path}`] });
  process.exitCode = exitCodeFor(run);
}
