/**
 * The fsync-chain C variant (c/reference/fsync_liburing.c → build/fsync_liburing):
 * its records are byte-for-byte record.ts's and verify on read-back through
 * the ledger it feeds; every chain mode and sync kind commits; short runs at 1
 * and 4 in flight through the CLI's runner produce verified commits; bad
 * arguments and a full filesystem give clear errors. Skipped where the binary
 * was not built (no liburing-dev at install).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { C_FSYNC_BINARY, cFsyncArgs, feedLedger, haveCFsync, requireCFsync, runCFsync } from "../cli/fsync/clib.ts";
import { createDataFile, preallocate } from "../cli/fsync/file.ts";
import { CommitStatus, formatRanges, Ledger } from "../cli/fsync/ledger.ts";
import { CHAIN_MODES, resolveFsyncOptions, SYNC_KINDS, type FsyncConfig, type RawFsyncOptions } from "../cli/fsync/options.ts";
import { fillRecord } from "../cli/fsync/record.ts";
import { runFsyncChain } from "../cli/fsync/run.ts";
import { layoutOf } from "../cli/fsync/variants.ts";
import { verifyDataFile } from "../cli/fsync/verify.ts";
import { Errno } from "../src/sys/errno.ts";
import { countFds, tempDir } from "./helpers.ts";
import { canMountTmpfs, mountTmpfs } from "./fsync-helpers.ts";

const built = haveCFsync();

test("a missing C committer: the error names npm run build:shim and liburing-dev", () => {
  expect(() => requireCFsync("/nonexistent/fsync_liburing")).toThrow(
    /--variants c-liburing: \/nonexistent\/fsync_liburing is not built; install liburing-dev .* `npm run build:shim`/,
  );
  expect(() => resolveFsyncOptions({ variants: "uring,c-lib" })).toThrow(/choose one of .*c-liburing/);
});

let tmp: { dir: string; cleanup: () => void };
let fds0 = 0;
beforeEach(() => {
  fds0 = countFds();
  tmp = tempDir("uring-bench-fsync-clib-");
});
afterEach(async () => {
  tmp.cleanup();
  // Bun closes a finished child's pipes and pidfd a moment after its "close"
  // event: give them a second to settle. A real leak stays and still fails.
  const deadline = Date.now() + 1000;
  while (countFds() > fds0 && Date.now() < deadline) await Bun.sleep(10);
  expect(countFds()).toBeLessThanOrEqual(fds0);
});

/** A config as the CLI would resolve it, in the test's temp dir. */
function config(raw: RawFsyncOptions): FsyncConfig {
  return resolveFsyncOptions({ dir: tmp.dir, variants: "c-liburing", ...raw });
}

/** Creates (and for --overwrite preallocates) a data file as the variant does; returns its path. */
function dataFile(cfg: FsyncConfig, name: string): string {
  const f = createDataFile(cfg.dir, name, false);
  try {
    if (!cfg.append) preallocate(f.fd, cfg.fileBytes, false);
  } finally {
    closeSync(f.fd);
  }
  return f.path;
}

/** Runs the C committer for exactly `commits` commits per run (no warm-up) and feeds `ledger`. */
async function commit(cfg: FsyncConfig, path: string, ledger: Ledger, inflight: number) {
  const args = cFsyncArgs(cfg, { path, inflight, first: ledger.started, durationMs: 10_000, warmupMs: 0 }, ledger.layout.slots);
  const r = await runCFsync(args, 10_000);
  feedLedger(ledger, r);
  return r;
}

describe.skipIf(!built)("C committer records", () => {
  test("its first record is byte-for-byte record.ts's, and every acknowledged record verifies", async () => {
    const cfg = config({ inflight: "4", writes: 3, commits: 40 });
    const path = dataFile(cfg, "a.dat");
    const ledger = new Ledger(layoutOf(cfg));
    const r = await commit(cfg, path, ledger, 4);
    expect(r.started).toBe(40);
    expect(r.acked).toBe(40);
    expect(r.failed).toEqual([]);
    expect(r.orderViolations).toBe(0);
    // Two runs continue the numbering: commits 40..79 follow in the same file.
    await commit(cfg, path, ledger, 4);
    expect(ledger.started).toBe(80);
    expect(statSync(path).size).toBe(80 * 3 * 4096);
    const want = new Uint32Array(1024);
    fillRecord(want, 4096, 0, 0);
    const got = new Uint8Array(4096);
    const fd = openSync(path, "r");
    try {
      readSync(fd, got, 0, 4096, 0);
    } finally {
      closeSync(fd);
    }
    expect(new Uint32Array(got.buffer)).toEqual(want);
    const rep = verifyDataFile(path, ledger);
    expect(rep.badCommits).toBe(0);
    expect(rep.ok).toBe(80 * 3);
    expect(formatRanges(rep.durable)).toBe("0-79");
  });

  test("odd record sizes (buffered read-back) and overwrite mode wrapping a small preallocated file verify", async () => {
    const cfg = config({ inflight: "4", bytes: 100, writes: 2, overwrite: true, fileSize: 100 * 2 * 16, commits: 50 });
    const path = dataFile(cfg, "wrap.dat");
    const ledger = new Ledger(layoutOf(cfg));
    expect(ledger.layout.slots).toBe(32);
    const r = await commit(cfg, path, ledger, 4);
    expect(r.acked).toBe(50);
    expect(statSync(path).size).toBe(3200); // wrapped, never grew
    const rep = verifyDataFile(path, ledger);
    expect(rep.badCommits).toBe(0);
    expect(rep.checked).toBe(32);
    expect(rep.ok).toBe(32);
  });

  const combos = CHAIN_MODES.flatMap((mode) => SYNC_KINDS.map((sync) => [mode, sync] as const));
  test.each(combos)("mode %s, sync %s: 4 in flight × 2 writes commit and verify", async (mode, sync) => {
    const cfg = config({ inflight: "4", writes: 2, mode, sync, commits: 12 });
    const path = dataFile(cfg, `${mode}-${sync}.dat`);
    const ledger = new Ledger(layoutOf(cfg));
    const r = await commit(cfg, path, ledger, 4);
    expect(r.acked).toBe(12);
    expect(r.orderViolations).toBe(0);
    expect(ledger.ranges(CommitStatus.ACKED)).toEqual([{ first: 0, last: 11 }]);
    expect(verifyDataFile(path, ledger).badCommits).toBe(0);
  });
});

describe.skipIf(!built)("c-liburing variant", () => {
  test("short runs at 1 and 4 in flight produce commits that verify", async () => {
    const cfg = config({ inflight: "1,4", variants: "c-liburing,loop" });
    const out = await runFsyncChain(cfg, { durationMs: 150, warmupMs: 50, repeat: 1 });
    expect(out.verified).toBe(true);
    const c = out.results.filter((r) => r.variant === "c-liburing");
    expect(c.map((r) => r.cell)).toEqual(["4k fdatasync link qd1", "4k fdatasync link qd4"]);
    for (const r of c) {
      expect(r.errors).toBe(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.latencyUs?.p50).toBeGreaterThan(0);
      expect(typeof r.extra?.ratioToLoop).toBe("number");
      // Warm-up and measured runs both land in the ledger; all of them verified.
      expect(r.extra?.durableCommits).toBe(r.extra?.ackedCommits);
      expect(Number(r.extra?.ackedCommits)).toBeGreaterThan(0);
    }
    for (const v of out.verdicts.filter((x) => x.variant === "c-liburing")) expect(v.verify?.badCommits).toBe(0);
  });
});

describe.skipIf(!built)("C committer errors", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["a record below the header size", ["path=x", "bytes=7", "inflight=1", "ms=1"], /bytes=7: out of range, pass 32\.\./],
    ["a record size not a multiple of 4", ["path=x", "bytes=4098", "inflight=1", "ms=1"], /bytes=4098: must be a multiple of 4/],
    ["an unknown mode", ["path=x", "bytes=4096", "inflight=1", "ms=1", "mode=chain"], /mode=chain: unknown; choose one of link, hardlink, drain/],
    ["an unknown sync kind", ["path=x", "bytes=4096", "inflight=1", "ms=1", "sync=msync"], /sync=msync: unknown; choose one of fdatasync/],
    ["no path", ["bytes=4096", "inflight=1", "ms=1"], /path=FILE missing/],
    ["not key=value", ["path=x", "4096"], /4096: expected key=value/],
    ["an unknown key", ["path=x", "bytes=4096", "inflight=1", "ms=1", "depth=3"], /depth: unknown argument/],
    [
      "more in flight than the ring holds",
      ["path=x", "bytes=4096", "inflight=100", "ms=1", "entries=64"],
      /inflight=100: 100 commits × 2 SQEs exceed the ring/,
    ],
    ["a non-number", ["path=x", "bytes=4k", "inflight=1", "ms=1"], /bytes=4k: not a whole number/],
  ];
  test.each(cases)("%s: exit 2 with a message naming the argument", async (_name, args, message) => {
    await expect(runCFsync(args, 1000)).rejects.toThrow(message);
    await expect(runCFsync(args, 1000)).rejects.toThrow(/exit 2/);
  });

  test("a data file that cannot be opened: exit 1 naming the file and the errno", async () => {
    const bad = join(tmp.dir, "no-such-dir", "x.dat");
    await expect(runCFsync([`path=${bad}`, "bytes=4096", "inflight=1", "ms=10"], 1000)).rejects.toThrow(`open ${bad}: No such file or directory`);
  });

  test("a missing binary: a clear error, not a hang", async () => {
    await expect(runCFsync(["path=x"], 1000, `${C_FSYNC_BINARY}-missing`)).rejects.toThrow(/could not run .*fsync_liburing-missing/);
  });

  test.skipIf(!canMountTmpfs)("ENOSPC on a 256 KiB tmpfs: exit 3 with the JSON; acknowledged commits are exactly the durable ones", async () => {
    const mnt = mountTmpfs("size=256k");
    try {
      const cfg = resolveFsyncOptions({ dir: mnt.dir, inflight: "4", commits: 10_000 });
      const path = join(mnt.dir, "full.dat");
      const ledger = new Ledger(layoutOf(cfg));
      const r = await commit(cfg, path, ledger, 4);
      expect(r.acked).toBeGreaterThan(0);
      expect(r.acked).toBeLessThanOrEqual(64);
      expect(r.failed.length).toBeGreaterThan(0);
      for (const [, writeRes, syncRes] of r.failed) {
        expect(writeRes === -Errno.ENOSPC || (writeRes !== null && writeRes >= 0)).toBe(true);
        expect(syncRes).toBe(-Errno.ECANCELED);
      }
      expect(r.syncsCancelled).toBe(r.failed.length);
      expect(ledger.failures.length).toBe(r.failed.length);
      const rep = verifyDataFile(path, ledger);
      expect(rep.badCommits).toBe(0);
      expect(formatRanges(rep.durable)).toBe(formatRanges(ledger.ranges(CommitStatus.ACKED)));
      expect(ledger.ranges(CommitStatus.ACKED)).toEqual([{ first: 0, last: r.acked - 1 }]);
    } finally {
      mnt.cleanup();
    }
  });
});
