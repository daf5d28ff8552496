/**
 * fsync-chain verification: records round-trip, and reading the file back
 * catches a torn record, a missing one, and a stale one; an end-to-end run
 * verifies every acknowledged commit.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { closeSync, openSync, readSync, truncateSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CommitStatus, Ledger, formatRanges } from "../cli/fsync/ledger.ts";
import { resolveFsyncOptions } from "../cli/fsync/options.ts";
import { checkRecord, fillRecord, RECORD_HEADER_BYTES } from "../cli/fsync/record.ts";
import { judge, runFsyncChain } from "../cli/fsync/run.ts";
import type { FileVariant } from "../cli/fsync/variants.ts";
import { verifyDataFile } from "../cli/fsync/verify.ts";
import { countFds, tempDir } from "./helpers.ts";
import { makeCommitter } from "./fsync-helpers.ts";

let tmp: { dir: string; cleanup: () => void };
let fds0 = 0;
beforeEach(() => {
  fds0 = countFds();
  tmp = tempDir("uring-bench-fsync-verify-");
});
afterEach(() => {
  tmp.cleanup();
  // No fd leaked (a lower count is fine: pipes of child processes from other test files close lazily).
  expect(countFds()).toBeLessThanOrEqual(fds0);
});

describe("records", () => {
  test("a filled record checks ok; any changed word, a wrong seq, zeros are caught", () => {
    const w = new Uint32Array(1024);
    fillRecord(w, 4096, 77, 7);
    expect(checkRecord(w, 4096, 77)).toBe("ok");
    expect(checkRecord(w, 4096, 78)).toBe("bad-seq");
    expect(checkRecord(w, 2048, 77)).toBe("bad-length");
    const copy = w.slice();
    copy[500]! ^= 1;
    expect(checkRecord(copy, 4096, 77)).toBe("bad-checksum");
    expect(checkRecord(new Uint32Array(1024), 4096, 77)).toBe("missing");
    const junk = new Uint32Array(1024).fill(0xdeadbeef);
    expect(checkRecord(junk, 4096, 77)).toBe("bad-magic");
  });

  test("payloads differ by sequence number, so a sector from another record fails the checksum", () => {
    const a = new Uint32Array(1024);
    const b = new Uint32Array(1024);
    fillRecord(a, 4096, 1, 1);
    fillRecord(b, 4096, 2, 2);
    const torn = a.slice();
    torn.set(b.subarray(256, 384), 256); // bytes 1024-1535 from the other record
    expect(checkRecord(torn, 4096, 1)).toBe("bad-checksum");
    expect(RECORD_HEADER_BYTES).toBe(32);
  });
});

/** Writes 20 commits through the ring and returns the file and ledger. */
function committed(name: string, opts: { slots?: number; commits?: number } = {}): { path: string; ledger: Ledger } {
  const path = join(tmp.dir, name);
  const c = makeCommitter(path, { inflight: 4, slots: opts.slots });
  try {
    const { stats } = c.committer.run(60_000, opts.commits ?? 20);
    expect(stats.commits).toBe(opts.commits ?? 20);
  } finally {
    c.close();
  }
  return { path, ledger: c.ledger };
}

describe("read-back verification", () => {
  test("an intact file verifies every acknowledged commit", () => {
    const { path, ledger } = committed("ok.dat");
    const rep = verifyDataFile(path, ledger);
    expect(rep.checked).toBe(20);
    expect(rep.ok).toBe(20);
    expect(rep.badCommits).toBe(0);
    expect(formatRanges(rep.durable)).toBe("0-19");
  });

  test("a torn record (one sector from another record) is caught and that commit is not durable", () => {
    const { path, ledger } = committed("torn.dat");
    const fd = openSync(path, "r+");
    try {
      const sector = new Uint8Array(512);
      readSync(fd, sector, 0, 512, 6 * 4096 + 1024); // from record 6 ...
      writeSync(fd, sector, 0, 512, 5 * 4096 + 1024); // ... into record 5
    } finally {
      closeSync(fd);
    }
    const rep = verifyDataFile(path, ledger);
    expect(rep.corrupt).toBe(1);
    expect(rep.missing).toBe(0);
    expect(rep.badCommits).toBe(1);
    expect(rep.problems).toEqual([{ commit: 5, seq: 5, offset: 5 * 4096, problem: "bad-checksum" }]);
    expect(formatRanges(rep.durable)).toBe("0-4, 6-19");
  });

  test("missing records (file cut short, or a zeroed record) are caught", () => {
    const { path, ledger } = committed("missing.dat");
    truncateSync(path, 15 * 4096 + 100); // record 15 torn at the end, 16-19 gone
    const fd = openSync(path, "r+");
    try {
      writeSync(fd, new Uint8Array(4096), 0, 4096, 3 * 4096); // record 3 zeroed
    } finally {
      closeSync(fd);
    }
    const rep = verifyDataFile(path, ledger);
    expect(rep.missing).toBe(6); // 3, 15 (short read), 16, 17, 18, 19
    expect(rep.badCommits).toBe(6);
    expect(formatRanges(rep.durable)).toBe("0-2, 4-14");
  });

  test("overwrite mode: slots hold the latest record; a stale one (older seq) is caught", () => {
    const { path, ledger } = committed("wrap.dat", { slots: 8, commits: 20 });
    expect(ledger.slotCount).toBe(8);
    const rep = verifyDataFile(path, ledger);
    expect(rep.checked).toBe(8);
    expect(rep.ok).toBe(8);
    // Put record 9's old content (seq 1 lives in the same slot) back into slot 1: stale.
    const fd = openSync(path, "r+");
    try {
      const old = new Uint32Array(1024);
      fillRecord(old, 4096, 9, 9);
      writeSync(fd, new Uint8Array(old.buffer), 0, 4096, 1 * 4096); // slot 1 should hold seq 17
    } finally {
      closeSync(fd);
    }
    const rep2 = verifyDataFile(path, ledger);
    expect(rep2.problems).toEqual([{ commit: 17, seq: 17, offset: 4096, problem: "bad-seq" }]);
  });

  test("a variant whose acknowledged commit is lost is judged VERIFICATION FAILED with the commit named", () => {
    const { path, ledger } = committed("judge.dat");
    truncateSync(path, 19 * 4096);
    const v = { name: "uring", cell: "x", path, ledger, notes: new Set<string>() } as unknown as FileVariant;
    const verdict = judge(v);
    expect(verdict.verify?.badCommits).toBe(1);
    expect(verdict.lines.join("\n")).toContain("VERIFICATION FAILED: 1 acknowledged commits lost");
    expect(verdict.lines.join("\n")).toContain("commit 19 seq 19");
    expect(ledger.statusOf(19)).toBe(CommitStatus.ACKED);
  });
});

test("end to end: io_uring and the loop run, and every acknowledged commit verifies", async () => {
  const cfg = resolveFsyncOptions({ dir: tmp.dir, inflight: "1,4", variants: "uring,loop,promises", bytes: "4k" });
  const out = await runFsyncChain(cfg, { durationMs: 50, warmupMs: 0, repeat: 1 });
  expect(out.verified).toBe(true);
  expect(out.results.map((r) => `${r.cell}/${r.variant}`)).toEqual([
    "4k fdatasync link qd1/uring",
    "4k fdatasync link qd1/loop",
    "4k fdatasync link qd1/promises",
    "4k fdatasync link qd4/uring",
    "4k fdatasync link qd4/loop",
    "4k fdatasync link qd4/promises",
  ]);
  for (const r of out.results) {
    expect(r.errors).toBe(0);
    expect(r.opsPerSec).toBeGreaterThan(0);
    expect(r.extra?.durableCommits).toBe(r.extra?.ackedCommits);
  }
  expect(out.verdicts.every((v) => v.verify !== null && v.verify.badCommits === 0 && v.verify.checked === v.acked)).toBe(true);
});
