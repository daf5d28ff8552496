/**
 * `fsync-chain --rate`: commits (write linked to fdatasync) at a fixed rate
 * complete, the file holds exactly the committed records, and commit
 * latency is measured from the intended time (never below clat).
 */
import { expect, test } from "bun:test";
import { runFsyncOpenLoop } from "../cli/fsync/open-loop.ts";

test("open-loop commits: rate held, file size = commits × record, lat ≥ clat", () => {
  const rows = runFsyncOpenLoop({ dir: "/var/tmp", recordBytes: 4096, inflight: 4, rates: [200], arrival: "uniform", durationMs: 1000 });
  const r = rows[0]!;
  expect(r.errors).toBe(0);
  expect(r.lat.count).toBeGreaterThan(150);
  expect(r.fileBytes % 4096).toBe(0);
  expect(r.lat.p50).toBeGreaterThanOrEqual(r.clat.p50);
  // 200 commits/s is far below what a disk or tmpfs-backed VM syncs: the rate holds unless the disk stalls.
  if (r.status === "ok") expect(Math.abs(r.achievedRate / 200 - 1)).toBeLessThan(0.01);
}, 20_000);
