/**
 * `read --rings N` compared like for like: pread runs as N threads (Workers)
 * and fio as numjobs=N (threads, one grouped report), beside N rings.
 */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { fioArgs, fioVersion } from "../cli/read/fio.ts";
import { readTempDir, runReadCli, shortReadArgs, workload } from "./read-helpers.ts";

// Not a timing assertion: each test runs the CLI, which takes seconds on a busy machine.
setDefaultTimeout(120_000);

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = readTempDir();
});
afterAll(() => tmp.cleanup());

test("--rings 2: pread runs as 2 threads beside 2 rings, every read checked", () => {
  const { status, run, stderr } = runReadCli(shortReadArgs(tmp.dir, "--rings", "2", "--variants", "uring,pread"));
  expect(stderr).not.toMatch(/error/i);
  expect(status).toBe(0);
  const byName = new Map(run!.results.map((r) => [r.variant, r]));
  expect(byName.get("uring")!.extra!.rings).toBe(2);
  expect(byName.get("pread")!.extra!.threads).toBe(2);
  for (const r of run!.results) {
    expect(r.errors).toBe(0);
    expect(r.opsPerSec).toBeGreaterThan(0);
  }
});

test("fio with N jobs: numjobs=N as threads, one grouped report; one job adds nothing", () => {
  const w = workload("/f", 1 << 20);
  const two = fioArgs(w, "io_uring", 1000, 0, 2);
  expect(two).toContain("--numjobs=2");
  expect(two).toContain("--thread");
  expect(two).toContain("--group_reporting");
  expect(fioArgs(w, "io_uring", 1000, 0).some((a) => a.startsWith("--numjobs"))).toBe(false);
});

test.skipIf(fioVersion() === null)("--rings 2 with fio: fio-psync runs numjobs=2 and says so", () => {
  const { status, run } = runReadCli(["--dir", tmp.dir, "--size", "8m", "-d", "300ms", "-w", "0", "-r", "1", "--rings", "2", "--variants", "fio-psync"]);
  expect(status).toBe(0);
  const r = run!.results[0]!;
  expect(r.opsPerSec).toBeGreaterThan(0);
  expect(r.notes?.join(" ")).toMatch(/numjobs=2/);
  expect(String(r.extra!.command)).toMatch(/--numjobs=2/);
});
