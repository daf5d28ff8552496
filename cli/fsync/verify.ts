/**
 * Verification after the run: read the file back and check every record of
 * every acknowledged commit (magic, length, sequence, checksum). An
 * acknowledged commit whose record is missing or corrupt is an error.
 *
 * Reads with O_DIRECT when the record size allows it (so the bytes come from
 * the device, not the page cache), else buffered. Neither proves survival of a
 * power cut (the device's volatile cache); the sync's own success does that.
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { AlignedBuffer } from "../../src/mem/aligned.ts";
import { CommitStatus, type CommitRange, type Ledger } from "./ledger.ts";
import { checkRecord, type RecordCheck } from "./record.ts";

/** Bytes read per chunk. */
const CHUNK_BYTES = 1 << 20;
/** Problems listed in full (the counts cover the rest). */
const MAX_LISTED = 20;

/** One bad record of an acknowledged commit. */
export interface VerifyProblem {
  commit: number;
  seq: number;
  /** Byte offset of the record in the file. */
  offset: number;
  problem: Exclude<RecordCheck, "ok">;
}

/** The outcome of verifying one data file against its ledger. */
export interface VerifyReport {
  /** Records of acknowledged commits checked. */
  checked: number;
  /** Of those, intact. */
  ok: number;
  /** Records that were never written (zeros, or beyond the end of the file). */
  missing: number;
  /** Records present but wrong (torn, stale, bad checksum). */
  corrupt: number;
  /** Records whose slot's latest write belongs to a commit that was not acknowledged (failed or overwritten by one): not checkable. */
  unverifiable: number;
  /** Acknowledged commits whose records are not all intact. */
  badCommits: number;
  /** The first problems, in file order. */
  problems: VerifyProblem[];
  /** Commits acknowledged and verified intact: the durable ones. */
  durable: CommitRange[];
  /** Whether the file was read with O_DIRECT. */
  direct: boolean;
}

/** Reads `path` back and checks it against `ledger`. */
export function verifyDataFile(path: string, ledger: Ledger): VerifyReport {
  const { recordBytes: b, writesPerCommit: w } = ledger.layout;
  const report: VerifyReport = {
    checked: 0,
    ok: 0,
    missing: 0,
    corrupt: 0,
    unverifiable: 0,
    badCommits: 0,
    problems: [],
    durable: [],
    direct: false,
  };
  const badCommit = new Set<number>();
  const slots = ledger.slotCount;
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / b));
  const chunkBytes = perChunk * b;
  const buf = new AlignedBuffer(chunkBytes, 4096);
  let fd = -1;
  try {
    // O_DIRECT needs offsets and lengths aligned to the logical block: records of a multiple of 4 KiB are.
    if (b % 4096 === 0) {
      try {
        fd = openSync(path, constants.O_RDONLY | constants.O_DIRECT);
        report.direct = true;
      } catch {
        fd = -1;
      }
    }
    if (fd < 0) fd = openSync(path, constants.O_RDONLY);
    const bytes = buf.bytes;
    for (let first = 0; first < slots; first += perChunk) {
      const count = Math.min(perChunk, slots - first);
      // Skip chunks with nothing to check (overwrite mode after a failure, mostly).
      let need = false;
      for (let s = first; s < first + count && !need; s++) need = ledger.statusOf(Math.floor(ledger.seqAtSlot(s) / w)) === CommitStatus.ACKED;
      if (!need) {
        for (let s = first; s < first + count; s++) if (ledger.seqAtSlot(s) >= 0) report.unverifiable++;
        continue;
      }
      const got = readFully(fd, bytes, count * b, first * b);
      for (let i = 0; i < count; i++) {
        const slot = first + i;
        const seq = ledger.seqAtSlot(slot);
        if (seq < 0) continue;
        const commit = Math.floor(seq / w);
        if (ledger.statusOf(commit) !== CommitStatus.ACKED) {
          report.unverifiable++;
          continue;
        }
        report.checked++;
        const result: RecordCheck = (i + 1) * b > got ? "missing" : checkRecord(new Uint32Array(bytes.buffer, bytes.byteOffset + i * b, b >>> 2), b, seq);
        if (result === "ok") {
          report.ok++;
          continue;
        }
        if (result === "missing") report.missing++;
        else report.corrupt++;
        badCommit.add(commit);
        if (report.problems.length < MAX_LISTED) report.problems.push({ commit, seq, offset: slot * b, problem: result });
      }
    }
  } finally {
    if (fd >= 0) closeSync(fd);
    buf.free();
  }
  report.badCommits = badCommit.size;
  // In overwrite mode, an acked commit whose slots were all rewritten later has nothing left to check;
  // it counts as durable when it was acknowledged (its successor's records are checked instead).
  for (const r of ledger.ranges(CommitStatus.ACKED)) {
    let start = r.first;
    for (let c = r.first; c <= r.last; c++) {
      if (!badCommit.has(c)) continue;
      if (c > start) report.durable.push({ first: start, last: c - 1 });
      start = c + 1;
    }
    if (start <= r.last) report.durable.push({ first: start, last: r.last });
  }
  return report;
}

/** pread until `len` bytes or end of file; returns the bytes read. */
function readFully(fd: number, into: Uint8Array, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const n = readSync(fd, into, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return got;
}
