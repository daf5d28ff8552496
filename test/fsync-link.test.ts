/**
 * fsync-chain link semantics on the running kernel: the sync never completes
 * before its writes; a failed write cancels its sync (IO_LINK) but not with
 * IO_HARDLINK; IO_DRAIN orders every sync after all earlier writes and before
 * all later ones.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CommitStatus } from "../cli/fsync/ledger.ts";
import type { CqeTrace } from "../cli/fsync/uring-chain.ts";
import { Op } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { countFds, kernelHasOp, RING_CONFIGS, tempDir } from "./helpers.ts";
import { makeCommitter } from "./fsync-helpers.ts";

const haveFsync = kernelHasOp(Op.FSYNC) && kernelHasOp(Op.WRITE);

let tmp: { dir: string; cleanup: () => void };
let fds0 = 0;
beforeEach(() => {
  fds0 = countFds();
  tmp = tempDir("uring-bench-fsync-link-");
});
afterEach(() => {
  tmp.cleanup();
  // No fd leaked (a lower count is fine: pipes of child processes from other test files close lazily).
  expect(countFds()).toBeLessThanOrEqual(fds0);
});

/** Per commit: indexes of its CQEs in arrival order. */
function byCommit(trace: CqeTrace[]): Map<number, CqeTrace[]> {
  const m = new Map<number, CqeTrace[]>();
  for (const t of trace) {
    if (t.index < 0) continue; // start marker
    const list = m.get(t.commit) ?? [];
    list.push(t);
    m.set(t.commit, list);
  }
  return m;
}

describe.each(RING_CONFIGS.filter((c) => c.available))("ring $name", ({ options }) => {
  test.skipIf(!haveFsync)("link: each sync CQE arrives after all of its writes' CQEs", () => {
    const c = makeCommitter(join(tmp.dir, "link.dat"), { mode: "link", inflight: 4, writes: 3, bytes: 512, ring: options });
    try {
      c.committer.trace = [];
      const { stats, counters } = c.committer.run(60_000, 40);
      expect(stats.commits).toBe(40);
      expect(counters.orderViolations).toBe(0);
      const commits = byCommit(c.committer.trace);
      expect(commits.size).toBe(40);
      for (const cqes of commits.values()) {
        expect(cqes.length).toBe(4);
        // The sync (index 3) is last; writes ran in chain order too.
        expect(cqes.map((x) => x.index)).toEqual([0, 1, 2, 3]);
        expect(cqes.slice(0, 3).every((x) => x.res === 512)).toBe(true);
        expect(cqes[3]!.res).toBe(0);
      }
    } finally {
      c.close();
    }
  });

  test.skipIf(!haveFsync)("link: a failed write cancels its sync with -ECANCELED and the log stops", () => {
    const c = makeCommitter(join(tmp.dir, "ro.dat"), { mode: "link", inflight: 2, writes: 2, readOnly: true, ring: options });
    try {
      c.committer.trace = [];
      const { stats, counters } = c.committer.run(60_000, 10);
      expect(stats.commits).toBe(0);
      expect(c.committer.broken).toBe(true);
      // Only the commits already in flight when the first failure arrived were started.
      expect(c.ledger.started).toBe(2);
      expect(counters.syncsCancelled).toBe(2);
      expect(counters.orderViolations).toBe(0);
      for (const cqes of byCommit(c.committer.trace).values()) {
        expect(cqes[0]!.res).toBe(-Errno.EBADF);
        expect(cqes[1]!.res).toBe(-Errno.ECANCELED); // the second write of the chain
        expect(cqes[2]!.res).toBe(-Errno.ECANCELED); // the sync
      }
      expect(c.ledger.failures.map((f) => [f.writeRes, f.syncRes])).toEqual([
        [-Errno.EBADF, -Errno.ECANCELED],
        [-Errno.EBADF, -Errno.ECANCELED],
      ]);
      expect(c.ledger.statusOf(0)).toBe(CommitStatus.FAILED);
    } finally {
      c.close();
    }
  });

  test.skipIf(!haveFsync)("hardlink: the sync still runs after a failed write; the commit is still not acknowledged", () => {
    const c = makeCommitter(join(tmp.dir, "ro-hard.dat"), { mode: "hardlink", inflight: 1, writes: 1, readOnly: true, ring: options });
    try {
      c.committer.trace = [];
      const { stats, counters } = c.committer.run(60_000, 5);
      expect(stats.commits).toBe(0);
      expect(counters.syncsCancelled).toBe(0);
      expect(counters.syncsAfterFailedWrite).toBe(1);
      expect(c.committer.trace.filter((x) => x.index >= 0).map((x) => [x.index, x.res])).toEqual([
        [0, -Errno.EBADF],
        [1, 0], // fsync of a read-only fd is allowed: it ran
      ]);
      expect(c.ledger.failures).toEqual([{ commit: 0, writeRes: -Errno.EBADF, syncRes: null }]);
    } finally {
      c.close();
    }
  });

  test.skipIf(!haveFsync)("drain: each sync comes after every earlier write and before every later one", () => {
    const c = makeCommitter(join(tmp.dir, "drain.dat"), { mode: "drain", inflight: 4, writes: 2, bytes: 1024, ring: options });
    try {
      c.committer.trace = [];
      const { stats, counters } = c.committer.run(60_000, 30);
      expect(stats.commits).toBe(30);
      expect(counters.orderViolations).toBe(0);
      const trace = c.committer.trace.filter((x) => x.index >= 0);
      expect(trace.length).toBe(90);
      trace.forEach((t, i) => {
        if (t.index !== 2) return;
        const before = trace.slice(0, i).filter((x) => x.index < 2);
        const after = trace.slice(i + 1).filter((x) => x.index < 2);
        // Every write of this and earlier commits completed before the drained sync ...
        expect(before.filter((x) => x.commit <= t.commit).length).toBe(2 * (t.commit + 1));
        // ... and no later commit's write completed before it.
        expect(before.some((x) => x.commit > t.commit)).toBe(false);
        expect(after.every((x) => x.commit > t.commit)).toBe(true);
      });
    } finally {
      c.close();
    }
  });
});

test.skipIf(!haveFsync)("rwf-dsync and o-dsync commits have no sync SQE and are acknowledged per write", () => {
  for (const sync of ["rwf-dsync", "o-dsync"] as const) {
    const c = makeCommitter(join(tmp.dir, `${sync}.dat`), { mode: "link", sync, inflight: 2, writes: 2, bytes: 512 });
    try {
      c.committer.trace = [];
      const { stats } = c.committer.run(60_000, 8);
      expect(stats.commits).toBe(8);
      expect(c.committer.sqes).toBe(2);
      expect(c.committer.trace.filter((x) => x.index >= 0).every((x) => x.index < 2 && x.res === 512)).toBe(true);
    } finally {
      c.close();
    }
  }
});

test.skipIf(!kernelHasOp(Op.SYNC_FILE_RANGE))("sync-file-range commits complete linked to their writes", () => {
  const c = makeCommitter(join(tmp.dir, "sfr.dat"), { mode: "link", sync: "sync-file-range", inflight: 3, writes: 2 });
  try {
    const { stats, counters } = c.committer.run(60_000, 12);
    expect(stats.commits).toBe(12);
    expect(counters.orderViolations).toBe(0);
  } finally {
    c.close();
  }
});

test.skipIf(!haveFsync)("the write/sync split is timed only when waking for every CQE (--split)", () => {
  for (const waitEach of [false, true]) {
    const c = makeCommitter(join(tmp.dir, `split-${waitEach}.dat`), { inflight: 2 });
    try {
      c.committer.waitEach = waitEach;
      const m = c.committer.run(60_000, 10).stats.toMeasurement(4096);
      expect(m.ops).toBe(10);
      expect(m.latencyUs!.p50).toBeGreaterThan(0);
      if (waitEach) {
        expect(m.extra!.writeUs).toBeGreaterThanOrEqual(0);
        expect(m.extra!.syncUs).toBeGreaterThanOrEqual(0);
      } else {
        expect(m.extra).toBeUndefined();
      }
    } finally {
      c.close();
    }
  }
});

test.skipIf(!haveFsync)("overwrite mode wraps around a preallocated file, never laps a commit in flight, and stays verifiable", async () => {
  const { preallocate } = await import("../cli/fsync/file.ts");
  const { verifyDataFile } = await import("../cli/fsync/verify.ts");
  // A write punted to io-wq can finish long after later inline writes: without the lap
  // guard a later commit's record in the same slot was sometimes overwritten by the stale one.
  for (let round = 0; round < 8; round++) {
    const path = join(tmp.dir, `wrap-${round}.dat`);
    const c = makeCommitter(path, { inflight: 3, writes: 2, slots: 16 });
    try {
      expect(preallocate(c.fd, 16 * 4096, false).method).toBe("fallocate");
      c.committer.trace = [];
      const { stats } = c.committer.run(60_000, 25);
      expect(stats.commits).toBe(25);
      // At every start, each commit still in flight is less than 16 / 2 = 8 commits behind.
      const open = new Set<number>();
      const due = new Map<number, number>();
      for (const t of c.committer.trace) {
        if (t.index < 0) {
          for (const o of open) expect(t.commit - o).toBeLessThan(8);
          open.add(t.commit);
          due.set(t.commit, 3);
        } else if ((due.set(t.commit, due.get(t.commit)! - 1).get(t.commit) ?? 0) === 0) {
          open.delete(t.commit);
        }
      }
      const rep = verifyDataFile(path, c.ledger);
      expect(rep.checked).toBe(16);
      expect(rep.problems).toEqual([]);
    } finally {
      c.close();
    }
  }
});
