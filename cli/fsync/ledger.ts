/**
 * The ledger of one variant run: which commit went where, which were
 * acknowledged (durable by the variant's own account), which failed and why.
 * Verification reads the file back against it; the report lists its ranges.
 */
import { errnoName } from "../../src/sys/errno.ts";

/** Commit status codes. */
export const CommitStatus = {
  /** submitted, no final answer yet */
  PENDING: 0,
  /** every write completed in full and the sync (if any) succeeded */
  ACKED: 1,
  /** a write failed or was short, or the sync failed / was cancelled */
  FAILED: 2,
} as const;

/** Where records land in the file. */
export interface FileLayout {
  /** Bytes per record. */
  recordBytes: number;
  /** Writes (records) per commit. */
  writesPerCommit: number;
  /** Overwrite mode: record slots in the preallocated file (records wrap); 0 = append (no wrap). */
  slots: number;
}

/**
 * Overwrite mode: how many commits ahead of the oldest commit still in flight
 * a new commit may start (Infinity in append mode). A slow commit must not be
 * lapped: a later commit writing its slots could land before its own late
 * write, which would then overwrite newer data with older. A real log never
 * reuses space whose commits are not yet durable, either.
 */
export function lapLimit(layout: FileLayout): number {
  return layout.slots === 0 ? Infinity : Math.floor(layout.slots / layout.writesPerCommit);
}

/** Position (record slot) of record `seq` in the file. */
export function recordSlot(layout: FileLayout, seq: number): number {
  return layout.slots === 0 ? seq : seq % layout.slots;
}

/** A failure as recorded: the commit and the results of its writes and sync. */
export interface CommitFailure {
  commit: number;
  /** Result of the first failing write (-errno, or the short byte count), or null when every write succeeded. */
  writeRes: number | null;
  /** Result of the sync (-errno such as -ECANCELED), or null when there is no sync or it succeeded. */
  syncRes: number | null;
}

/** An inclusive range of commit numbers. */
export interface CommitRange {
  first: number;
  last: number;
}

/** Grows a typed array to at least `n` elements, doubling. */
function grow<T extends Uint8Array | Float64Array>(arr: T, n: number, make: (len: number) => T): T {
  if (n <= arr.length) return arr;
  let len = arr.length || 1024;
  while (len < n) len *= 2;
  const next = make(len);
  next.set(arr);
  return next;
}

/** Per-commit bookkeeping for one variant run. */
export class Ledger {
  readonly layout: FileLayout;
  /** Commits started (commit numbers are 0..started-1). */
  started = 0;
  private status = new Uint8Array(1024);
  /** Latest record seq written to each slot (+1; 0 = never): which record a slot should hold. */
  private slotSeq = new Float64Array(1024);
  private maxSlot = -1;
  /** Failures, in the order they were seen. */
  readonly failures: CommitFailure[] = [];
  acked = 0;

  constructor(layout: FileLayout) {
    this.layout = layout;
  }

  /** Takes the next commit number and records where its records go. */
  begin(): number {
    const c = this.started++;
    this.status = grow(this.status, this.started, (n) => new Uint8Array(n));
    const w = this.layout.writesPerCommit;
    for (let k = 0; k < w; k++) {
      const seq = c * w + k;
      const slot = recordSlot(this.layout, seq);
      if (slot > this.maxSlot) {
        this.maxSlot = slot;
        this.slotSeq = grow(this.slotSeq, slot + 1, (n) => new Float64Array(n));
      }
      this.slotSeq[slot] = seq + 1;
    }
    return c;
  }

  /** Marks commit `c` acknowledged. */
  ack(c: number): void {
    this.status[c] = CommitStatus.ACKED;
    this.acked++;
  }

  /** Marks commit `c` failed with the given write and sync results. */
  fail(c: number, writeRes: number | null, syncRes: number | null): void {
    this.status[c] = CommitStatus.FAILED;
    this.failures.push({ commit: c, writeRes, syncRes });
  }

  /** Status of commit `c`. */
  statusOf(c: number): number {
    return c < this.started ? this.status[c]! : CommitStatus.PENDING;
  }

  /** Highest record slot written, +1 (the file holds slots 0..slotCount-1). */
  get slotCount(): number {
    return this.maxSlot + 1;
  }

  /** The record seq slot `slot` should hold (the latest written there), or -1. */
  seqAtSlot(slot: number): number {
    return slot <= this.maxSlot ? this.slotSeq[slot]! - 1 : -1;
  }

  /** Inclusive ranges of commits with the given status, ascending. */
  ranges(status: number): CommitRange[] {
    const out: CommitRange[] = [];
    let start = -1;
    for (let c = 0; c <= this.started; c++) {
      const match = c < this.started && this.status[c] === status;
      if (match && start < 0) start = c;
      if (!match && start >= 0) {
        out.push({ first: start, last: c - 1 });
        start = -1;
      }
    }
    return out;
  }
}

/** "0-1234, 1240" style text of commit ranges (at most `max` ranges, then "… and N more"). */
export function formatRanges(ranges: CommitRange[], max = 8): string {
  if (ranges.length === 0) return "none";
  const parts = ranges.slice(0, max).map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`));
  if (ranges.length > max) parts.push(`… and ${ranges.length - max} more ranges`);
  return parts.join(", ");
}

/** One line per distinct failure kind: "commits 1235-1250: write ENOSPC, sync ECANCELED". */
export function summarizeFailures(failures: CommitFailure[]): string[] {
  const groups = new Map<string, number[]>();
  for (const f of failures) {
    const w = f.writeRes === null ? "write ok" : f.writeRes < 0 ? `write ${errnoName(f.writeRes)}` : `write short (${f.writeRes} bytes)`;
    const s = f.syncRes === null ? "" : `, sync ${f.syncRes < 0 ? errnoName(f.syncRes) : f.syncRes}`;
    const key = w + s;
    const list = groups.get(key) ?? [];
    list.push(f.commit);
    groups.set(key, list);
  }
  const lines: string[] = [];
  for (const [key, commits] of groups) {
    commits.sort((a, b) => a - b);
    const ranges: CommitRange[] = [];
    for (const c of commits) {
      const last = ranges[ranges.length - 1];
      if (last && last.last === c - 1) last.last = c;
      else ranges.push({ first: c, last: c });
    }
    lines.push(`${commits.length === 1 ? "commit" : "commits"} ${formatRanges(ranges)}: ${key}`);
  }
  return lines;
}
