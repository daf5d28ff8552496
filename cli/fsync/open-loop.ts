/**
 * `fsync-chain --rate COMMITS`: commits at a fixed rate (the question a
 * database asks: at 500 commits/s, how long does a commit take, tail
 * included?). Each commit is one write linked (IOSQE_IO_LINK) to an
 * fdatasync on one Ring; commits are due at the times of an arrival
 * schedule, at most --inflight at once, and latency counts from the intended
 * time (cli/harness/open-loop-ring.ts). Appends: each commit writes the
 * next record at the end of the file, as a log does.
 */
import { closeSync, fstatSync } from "node:fs";
import { AlignedBuffer, PAGE_SIZE } from "../../src/mem/aligned.ts";
import { prepFdatasync, prepWrite } from "../../src/ops/rw.ts";
import { Ring } from "../../src/ring/ring.ts";
import { sqeSetData32x2, sqeSetFlags } from "../../src/ring/sqe.ts";
import { SqeFlags } from "../../src/sys/constants.ts";
import type { ArrivalKind } from "../harness/arrivals.ts";
import { ringOpenLoopCells, ringOpenLoopResult, ringOpenLoopRow, runRingOpenLoop, type RingOpenLoopRow } from "../harness/open-loop-ring.ts";
import { exitCodeFor } from "../harness/exit-codes.ts";
import type { CommonSettings } from "../harness/options.ts";
import { buildRun, finishRun } from "../harness/output.ts";
import type { VariantResult } from "../harness/result.ts";
import { fmtNum, type Rows } from "../harness/rows.ts";
import { createDataFile, removeDataFile } from "./file.ts";

/** Warm-up inside each run before the window. */
export const FSYNC_OPEN_LOOP_WARMUP_MS = 300;

/** One rate's outcome (a commit's latency: clat ends when fdatasync completes). */
export interface FsyncOpenLoopRow extends RingOpenLoopRow {
  entersPerCommit: number;
  /** File size afterwards = commits × record bytes (checked). */
  fileBytes: number;
}

/** Options of {@link runFsyncOpenLoop}. */
export interface FsyncOpenLoopOptions {
  dir: string;
  recordBytes: number;
  /** Commits in flight at most. */
  inflight: number;
  rates: number[];
  arrival: ArrivalKind;
  durationMs: number;
  keep?: boolean;
}

/** Runs every rate once, each on a fresh data file; returns a row per rate. */
export function runFsyncOpenLoop(o: FsyncOpenLoopOptions): FsyncOpenLoopRow[] {
  const rows: FsyncOpenLoopRow[] = [];
  const record = new AlignedBuffer(o.recordBytes, PAGE_SIZE);
  record.bytes.fill(0x5a);
  try {
    for (const rate of o.rates) {
      const file = createDataFile(o.dir, `uring-bench-fsync-open-loop-${process.pid}-${rate}.dat`, false);
      const ring = new Ring(Math.max(8, o.inflight * 2));
      const cqesSeen = new Uint8Array(o.inflight);
      let errors = 0;
      let next = 0;
      let commits = 0;
      try {
        const r = runRingOpenLoop({
          ring,
          rate,
          arrival: o.arrival,
          durationMs: o.durationMs,
          warmupMs: FSYNC_OPEN_LOOP_WARMUP_MS,
          slots: o.inflight,
          prep(slot) {
            const w = ring.getSqe();
            const f = ring.getSqe();
            if (w === null || f === null) throw new Error("SQ full: the ring is smaller than 2 × --inflight");
            prepWrite(w, file.fd, record.bytes, o.recordBytes, next);
            next += o.recordBytes;
            sqeSetFlags(w, SqeFlags.IO_LINK);
            sqeSetData32x2(w, slot, 0);
            prepFdatasync(f, file.fd);
            sqeSetData32x2(f, slot, 1);
            cqesSeen[slot] = 0;
          },
          complete(slot, res) {
            // Two CQEs per commit: the write's (bytes written) and the sync's (0).
            if (res < 0) errors++;
            cqesSeen[slot]!++;
            if (cqesSeen[slot]! < 2) return false;
            commits++;
            return true;
          },
        });
        const size = fstatSync(file.fd).size;
        if (size !== commits * o.recordBytes) errors++;
        rows.push({ ...ringOpenLoopRow(rate, r, errors), entersPerCommit: r.entersPerOp, fileBytes: size });
      } finally {
        ring.close();
        closeSync(file.fd);
        if (!o.keep) removeDataFile(file.path);
      }
    }
  } finally {
    record.free();
  }
  return rows;
}

/** The fsync open-loop table. */
export function fsyncOpenLoopRows(rows: FsyncOpenLoopRow[]): Rows {
  return {
    head: [
      "commits/s",
      "achieved/s",
      "p50 µs",
      "p90 µs",
      "p99 µs",
      "p99.9 µs",
      "max µs",
      "slat p50/p99 µs",
      "clat p50/p99 µs",
      "CPU",
      "io_uring_enter/commit",
      "status",
    ],
    rows: rows.map((r) => [...ringOpenLoopCells(r), fmtNum(r.entersPerCommit), r.status]),
  };
}

/** What the fsync open-loop table's columns mean. */
export function fsyncOpenLoopLegend(o: FsyncOpenLoopOptions): string {
  return (
    `commit = ${o.recordBytes} B append write linked to fdatasync (io_uring), ≤ ${o.inflight} in flight, ${o.arrival} arrivals, in ${o.dir}. ` +
    "Latency from the intended commit time; slat: intended → submitted; clat: submitted → sync done. File size checked after each run."
  );
}

/** Rows as VariantResults (variant "uring", one cell per rate) for --json/--save. */
export function fsyncOpenLoopResults(rows: FsyncOpenLoopRow[], o: FsyncOpenLoopOptions): VariantResult[] {
  return rows.map((r) => ringOpenLoopResult(r, `${o.recordBytes}B inflight:${o.inflight} rate:${r.rate}`, { entersPerCommit: r.entersPerCommit }));
}

/** `fsync-chain --rate`: the whole command path, with the resolved directory, record size and in-flight limit. */
export function runFsyncRate(o: FsyncOpenLoopOptions, common: CommonSettings): void {
  const rows = runFsyncOpenLoop(o);
  const run = buildRun("fsync-chain", { ...o, regime: "open-loop", durationMs: common.durationMs }, fsyncOpenLoopResults(rows, o));
  finishRun(run, common, { tables: [fsyncOpenLoopRows(rows)], lines: [fsyncOpenLoopLegend(o)] });
  process.exitCode = exitCodeFor(run);
}
