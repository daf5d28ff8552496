/**
 * The baselines, committing the same records to the same kind of file:
 * - loop: `fs.writeSync` + `fs.fdatasyncSync` (or fsyncSync) in a loop, one
 *   commit at a time: what a program without io_uring does.
 * - promises: `node:fs/promises` FileHandle.write + datasync (or sync), with
 *   `inflight` commits in flight as concurrent async workers.
 * sync_file_range and RWF_DSYNC have no node:fs call: those runs use
 * fdatasync and O_DSYNC respectively, and say so in their notes.
 */
import { fdatasyncSync, fsyncSync, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { errnoValue } from "../../src/sys/errno.ts";
import { CommitStats } from "./commit-stats.ts";
import { lapLimit, recordSlot, type Ledger } from "./ledger.ts";
import type { SyncKind } from "./options.ts";
import { fillRecord } from "./record.ts";

/** What the baselines do for each --sync kind: the call after the writes, or none (O_DSYNC file). */
export function baselineSync(sync: SyncKind): { call: "fdatasync" | "fsync" | null; openDsync: boolean; note?: string } {
  switch (sync) {
    case "fdatasync":
      return { call: "fdatasync", openDsync: false };
    case "fsync":
      return { call: "fsync", openDsync: false };
    case "sync-file-range":
      return { call: "fdatasync", openDsync: false, note: "node:fs has no sync_file_range: baseline uses fdatasync" };
    case "rwf-dsync":
      return { call: null, openDsync: true, note: "node:fs has no RWF_DSYNC: baseline opens the file O_DSYNC" };
    case "o-dsync":
      return { call: null, openDsync: true };
  }
}

/** -errno of a thrown node:fs error (or -EIO when it carries none). */
function errnoOf(err: unknown): number {
  const code = typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : "";
  try {
    const v = errnoValue(code as Parameters<typeof errnoValue>[0]);
    if (typeof v === "number") return -v;
  } catch {
    // fall through
  }
  return -5;
}

/** A record buffer with its u32 view. */
function recordBuffer(bytes: number): { u8: Uint8Array; u32: Uint32Array } {
  const u8 = new Uint8Array(Math.ceil(bytes / 4) * 4);
  return { u8, u32: new Uint32Array(u8.buffer) };
}

/**
 * Records one commit's outcome: acknowledged (ledger and latency stats) when
 * its writes and sync all succeeded, failed otherwise. Returns false on a
 * failure, after which the committer stops.
 */
function settleCommit(
  ledger: Ledger,
  stats: CommitStats,
  c: number,
  t0: number,
  tw: number,
  t1: number,
  writeRes: number | null,
  syncRes: number | null,
): boolean {
  if (writeRes === null && syncRes === null) {
    ledger.ack(c);
    stats.ack(t0, tw, t1);
    return true;
  }
  ledger.fail(c, writeRes, syncRes);
  stats.failed++;
  return false;
}

/** The synchronous write + sync loop. */
export class SyscallLoopCommitter {
  broken = false;
  private readonly rec: { u8: Uint8Array; u32: Uint32Array };
  private readonly call: "fdatasync" | "fsync" | null;

  constructor(
    private readonly fd: number,
    private readonly ledger: Ledger,
    sync: SyncKind,
  ) {
    this.rec = recordBuffer(ledger.layout.recordBytes);
    this.call = baselineSync(sync).call;
  }

  /**
   * Commits one at a time until `durationMs` or `maxCommits` (0: no limit) or
   * a failure; `stats` continues an earlier slice of the same window.
   */
  run(durationMs: number, maxCommits = 0, report?: (acked: number) => void, stats = new CommitStats()): { stats: CommitStats } {
    const { recordBytes: b, writesPerCommit: w } = this.ledger.layout;
    const now0 = performance.now();
    const deadline = now0 + durationMs;
    let lastReport = now0;
    let started = 0;
    const { u8, u32 } = this.rec;
    while (!this.broken && (maxCommits === 0 || started < maxCommits)) {
      const c = this.ledger.begin();
      started++;
      const t0 = performance.now();
      let writeRes: number | null = null;
      for (let k = 0; k < w && writeRes === null; k++) {
        const seq = c * w + k;
        fillRecord(u32, b, seq, c);
        try {
          const n = writeSync(this.fd, u8, 0, b, recordSlot(this.ledger.layout, seq) * b);
          if (n !== b) writeRes = n;
        } catch (err) {
          writeRes = errnoOf(err);
        }
      }
      const tw = performance.now();
      let syncRes: number | null = null;
      if (writeRes === null && this.call !== null) {
        try {
          if (this.call === "fdatasync") fdatasyncSync(this.fd);
          else fsyncSync(this.fd);
        } catch (err) {
          syncRes = errnoOf(err);
        }
      }
      const t1 = performance.now();
      if (!settleCommit(this.ledger, stats, c, t0, tw, t1, writeRes, syncRes)) this.broken = true;
      if (t1 >= deadline) break;
      if (report && t1 - lastReport >= 100) {
        report(stats.commits);
        lastReport = t1;
      }
    }
    return { stats };
  }
}

/** node:fs/promises with `inflight` concurrent writers. */
export class PromisesCommitter {
  broken = false;
  private readonly recs: Array<{ u8: Uint8Array; u32: Uint32Array }> = [];
  private readonly call: "fdatasync" | "fsync" | null;

  constructor(
    private readonly fh: FileHandle,
    private readonly ledger: Ledger,
    sync: SyncKind,
    inflight: number,
  ) {
    for (let i = 0; i < inflight; i++) this.recs.push(recordBuffer(ledger.layout.recordBytes));
    this.call = baselineSync(sync).call;
  }

  /** Runs `inflight` async commit loops until the deadline, `maxCommits`, a failure or `signal`; waits for all. */
  async run(durationMs: number, maxCommits = 0, report?: (acked: number) => void, signal?: AbortSignal): Promise<{ stats: CommitStats }> {
    const stats = new CommitStats();
    const { recordBytes: b, writesPerCommit: w } = this.ledger.layout;
    const deadline = stats.startMs + durationMs;
    let started = 0;
    let lastReport = stats.startMs;
    const lap = lapLimit(this.ledger.layout);
    const inflight = new Set<number>();
    let wakeups: Array<() => void> = [];
    const oldest = () => {
      let m = Infinity;
      for (const c of inflight) if (c < m) m = c;
      return m;
    };
    const worker = async (rec: { u8: Uint8Array; u32: Uint32Array }) => {
      while (!this.broken && (maxCommits === 0 || started < maxCommits) && performance.now() < deadline && signal?.aborted !== true) {
        // Overwrite mode: never lap a commit still in flight (see lapLimit).
        if (this.ledger.started - oldest() >= lap) {
          await new Promise<void>((resolve) => wakeups.push(resolve));
          continue;
        }
        const c = this.ledger.begin();
        inflight.add(c);
        started++;
        const t0 = performance.now();
        let writeRes: number | null = null;
        for (let k = 0; k < w && writeRes === null; k++) {
          const seq = c * w + k;
          fillRecord(rec.u32, b, seq, c);
          try {
            const { bytesWritten } = await this.fh.write(rec.u8, 0, b, recordSlot(this.ledger.layout, seq) * b);
            if (bytesWritten !== b) writeRes = bytesWritten;
          } catch (err) {
            writeRes = errnoOf(err);
          }
        }
        const tw = performance.now();
        let syncRes: number | null = null;
        if (writeRes === null && this.call !== null) {
          try {
            await (this.call === "fdatasync" ? this.fh.datasync() : this.fh.sync());
          } catch (err) {
            syncRes = errnoOf(err);
          }
        }
        const t1 = performance.now();
        if (!settleCommit(this.ledger, stats, c, t0, tw, t1, writeRes, syncRes)) this.broken = true;
        inflight.delete(c);
        const waiting = wakeups;
        wakeups = [];
        for (const w of waiting) w();
        if (report && t1 - lastReport >= 100) {
          report(stats.commits);
          lastReport = t1;
        }
      }
    };
    await Promise.all(this.recs.map(worker));
    return { stats };
  }
}
