/**
 * `fsync-chain --rings N`: uring and loop run N ways (a Worker, a ring or
 * syscall loop and a file each), every file verified against its ledger;
 * fio runs numjobs=N with a file per job; merged measurements.
 */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../cli/harness/result.ts";
import { fioArgs, fioVersion } from "../cli/fsync/fio.ts";
import { resolveFsyncOptions } from "../cli/fsync/options.ts";
import { mergeMeasurements } from "../cli/fsync/rings.ts";
import { tempDir } from "./helpers.ts";

// Not a timing assertion: each test runs the CLI, which takes seconds on a busy machine.
setDefaultTimeout(120_000);

const ROOT = join(import.meta.dir, "..");
let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  // Data files go to /var/tmp, as the command's default does (tmpfs claims no durability).
  tmp = tempDir("uring-bench-fsync-rings-");
});
afterAll(() => tmp.cleanup());

test("--rings 2: uring and loop commit to 2 files each, every acknowledged commit verified, no file left", () => {
  const dir = "/var/tmp";
  const before = readdirSync(dir).filter((f) => f.startsWith("uring-bench-fsync-ring")).length;
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "cli/main.ts"), "fsync-chain", "--dir", dir, "--rings", "2", "--variants", "uring,loop", "-d", "300ms", "-w", "0", "-r", "1", "--json"],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  expect(r.status).toBe(0);
  const run = JSON.parse(r.stdout) as RunResult;
  expect(run.results.map((x) => x.variant).sort()).toEqual(["loop", "uring"]);
  for (const x of run.results) {
    expect(x.cell).toMatch(/×2$/);
    expect(x.errors).toBe(0);
    expect(x.opsPerSec).toBeGreaterThan(0);
    expect(x.extra!.rings).toBe(2);
    expect(x.extra!.ackedCommits as number).toBeGreaterThan(0);
    expect(x.extra!.verifiedRecords).toBe(x.extra!.ackedCommits);
    expect(x.notes!.join(" ")).toMatch(/2 files verified/);
  }
  expect(readdirSync(dir).filter((f) => f.startsWith("uring-bench-fsync-ring")).length).toBe(before);
});

test("--rings is 1 to 64", () => {
  expect(resolveFsyncOptions({}).rings).toBe(1);
  expect(resolveFsyncOptions({ rings: "4" }).rings).toBe(4);
  expect(() => resolveFsyncOptions({ rings: "0" })).toThrow(/--rings/);
});

test("fio with N jobs: a file per job (filename_format), numjobs=N as threads, one grouped report", () => {
  const base = { engine: "psync" as const, file: "/x/f.dat", recordBytes: 4096, durationMs: 1000, sync: "fdatasync" as const, append: true, fileBytes: 0 };
  const two = fioArgs({ ...base, jobs: 2 });
  expect(two).toContain("--filename_format=/x/f.dat.$jobnum");
  expect(two).toContain("--numjobs=2");
  expect(two).toContain("--group_reporting");
  expect(fioArgs(base)).toContain("--filename=/x/f.dat");
});

test("merged measurements: commits add, seconds the longest, percentiles the largest, mean weighted", () => {
  const m = mergeMeasurements([
    { ops: 100, seconds: 1, bytes: 400, errors: 0, latencyUs: { p50: 10, p99: 40, p999: 50, mean: 12 } },
    { ops: 300, seconds: 1.1, bytes: 1200, errors: 1, latencyUs: { p50: 20, p99: 30, p999: 60, mean: 24 } },
  ]);
  expect(m).toMatchObject({ ops: 400, seconds: 1.1, bytes: 1600, errors: 1 });
  expect(m.latencyUs).toMatchObject({ p50: 20, p99: 40, p999: 60 });
  expect(m.latencyUs!.mean).toBeCloseTo(21, 9);
});

test.skipIf(fioVersion() === null)("--rings 2 with fio: numjobs=2 noted, its files removed", () => {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "cli/main.ts"), "fsync-chain", "--dir", tmp.dir, "--rings", "2", "--variants", "fio", "-d", "500ms", "-w", "0", "-r", "1", "--json"],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  expect(r.status).toBe(0);
  const run = JSON.parse(r.stdout) as RunResult;
  for (const x of run.results) {
    expect(x.opsPerSec).toBeGreaterThan(0);
    expect(x.notes!.join(" ")).toMatch(/numjobs=2/);
  }
  expect(readdirSync(tmp.dir)).toEqual([]);
});
