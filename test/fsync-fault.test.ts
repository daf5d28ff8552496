/**
 * fsync-chain under faults: when a write in a chain fails (ENOSPC on a tiny
 * tmpfs, EFBIG under RLIMIT_FSIZE), its linked sync completes with
 * -ECANCELED, the run stops cleanly, and exactly the acknowledged commits are
 * reported durable and verify on read-back.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { CommitStatus, formatRanges } from "../cli/fsync/ledger.ts";
import { verifyDataFile } from "../cli/fsync/verify.ts";
import { Errno, errnoValue } from "../src/sys/errno.ts";
import { countFds, tempDir } from "./helpers.ts";
import { canMountTmpfs, makeCommitter, mountTmpfs } from "./fsync-helpers.ts";

const ROOT = join(import.meta.dir, "..");
const BUN = process.execPath;

test.skipIf(!canMountTmpfs)("ENOSPC on a 256 KiB tmpfs: the failed write's sync is cancelled, acknowledged commits are exactly the durable ones", () => {
  const mnt = mountTmpfs("size=256k");
  try {
    const fds0 = countFds();
    const path = join(mnt.dir, "full.dat");
    const c = makeCommitter(path, { inflight: 4, ring: {} });
    try {
      c.committer.trace = [];
      const { stats, counters } = c.committer.run(60_000, 10_000);
      expect(c.committer.broken).toBe(true);
      expect(stats.commits).toBeGreaterThan(0);
      expect(stats.commits).toBeLessThanOrEqual(64); // 256 KiB of 4 KiB records
      // Every failure is a write ENOSPC (or a short write) whose sync was cancelled.
      expect(c.ledger.failures.length).toBeGreaterThan(0);
      for (const f of c.ledger.failures) {
        expect(f.writeRes === -Errno.ENOSPC || (f.writeRes !== null && f.writeRes >= 0)).toBe(true);
        expect(f.syncRes).toBe(-Errno.ECANCELED);
      }
      expect(counters.syncsCancelled).toBe(c.ledger.failures.length);
      expect(counters.orderViolations).toBe(0);
      const acked = c.ledger.ranges(CommitStatus.ACKED);
      const rep = verifyDataFile(path, c.ledger);
      expect(rep.badCommits).toBe(0);
      expect(rep.ok).toBe(stats.commits);
      expect(formatRanges(rep.durable)).toBe(formatRanges(acked));
      // Commits are acknowledged in a prefix: the log has no holes before the failure.
      expect(acked).toEqual([{ first: 0, last: stats.commits - 1 }]);
    } finally {
      c.close();
    }
    // No fd leaked. (At most: pipes of earlier child processes may close meanwhile.)
    expect(countFds()).toBeLessThanOrEqual(fds0);
  } finally {
    mnt.cleanup();
  }
});

test.skipIf(!canMountTmpfs)(
  "the CLI on a full filesystem reports the durable commits and exits 1 (a variant failed), without crashing",
  () => {
    const mnt = mountTmpfs("size=256k");
    try {
      const r = spawnSync(BUN, ["cli/main.ts", "fsync-chain", "--dir", mnt.dir, "-d", "2s", "-r", "1", "-w", "0", "--variants", "uring", "--inflight", "4"], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
      const out = r.stdout + r.stderr;
      expect(r.status).toBe(1);
      expect(out).toMatch(/durable commits: 0-\d+/);
      expect(out).toContain("write ENOSPC, sync ECANCELED");
      expect(out).toContain("some commits failed; the durable commits are listed above");
      expect(out).not.toContain("VERIFICATION FAILED");
    } finally {
      mnt.cleanup();
    }
  },
  60_000,
);

test("EFBIG under RLIMIT_FSIZE (in a child process, SIGXFSZ handled): writes past the limit fail, their syncs are cancelled", () => {
  const tmp = tempDir("uring-bench-fsync-efbig-");
  try {
    const script = `
      import { setrlimit } from ${JSON.stringify(join(ROOT, "src/sys/ffi.ts"))};
      import { makeCommitter } from ${JSON.stringify(join(ROOT, "test/fsync-helpers.ts"))};
      import { verifyDataFile } from ${JSON.stringify(join(ROOT, "cli/fsync/verify.ts"))};
      import { formatRanges } from ${JSON.stringify(join(ROOT, "cli/fsync/ledger.ts"))};
      // The kernel sends SIGXFSZ to a writer past the limit; its default action kills the process.
      process.on("SIGXFSZ", () => {});
      if (setrlimit(1 /* RLIMIT_FSIZE */, 10 * 4096, Infinity) !== 0) throw new Error("setrlimit failed");
      const path = ${JSON.stringify(join(tmp.dir, "big.dat"))};
      const c = makeCommitter(path, { inflight: 4 });
      const { stats, counters } = c.committer.run(60000, 1000);
      const rep = verifyDataFile(path, c.ledger);
      console.log(JSON.stringify({ acked: stats.commits, counters, failures: c.ledger.failures, durable: formatRanges(rep.durable), bad: rep.badCommits }));
      c.close();
    `;
    const r = spawnSync(BUN, ["-e", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(res.acked).toBe(10);
    expect(res.durable).toBe("0-9");
    expect(res.bad).toBe(0);
    expect(res.failures.length).toBeGreaterThan(0);
    for (const f of res.failures) {
      expect(f.writeRes).toBe(-errnoValue("EFBIG"));
      expect(f.syncRes).toBe(-Errno.ECANCELED);
    }
    expect(res.counters.syncsCancelled).toBe(res.failures.length);
  } finally {
    tmp.cleanup();
  }
});
