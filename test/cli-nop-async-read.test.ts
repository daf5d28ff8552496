/**
 * The NOP and async-read benchmarks as subcommands: each runs on the shared
 * runner and its JSON is a RunResult that `report` can read.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateRunResult } from "../cli/harness/save.ts";
import type { RunResult } from "../cli/harness/result.ts";
import { haveCNop } from "../cli/nop/variants.ts";

const ROOT = join(import.meta.dir, "..");
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "cli", "main.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });

test("nop: one cell per batch, our loop beside the C loop, a RunResult", () => {
  const r = cli("nop", "--batches", "1,8", "-d", "100ms", "-r", "1", "--json");
  expect(r.status).toBe(0);
  const run = JSON.parse(r.stdout) as RunResult;
  expect(validateRunResult(run)).toBeNull();
  expect(run.command).toBe("nop");
  expect([...new Set(run.results.map((x) => x.cell))]).toEqual(["batch:1", "batch:8"]);
  expect(run.results.map((x) => x.variant)).toContain("uring");
  if (haveCNop()) expect(run.results.map((x) => x.variant)).toContain("c-liburing");
  for (const x of run.results) {
    expect(x.errors).toBe(0);
    expect(x.opsPerSec).toBeGreaterThan(0);
  }
}, 120_000);

test("async-read: throughput, QD 1 and wake-up cells, a RunResult, the file removed", () => {
  const r = cli("async-read", "--size", "4m", "-d", "100ms", "-w", "0", "-r", "1", "--json");
  expect(r.status).toBe(0);
  const run = JSON.parse(r.stdout) as RunResult;
  expect(validateRunResult(run)).toBeNull();
  expect(run.command).toBe("async-read");
  expect([...new Set(run.results.map((x) => x.cell))]).toEqual(["4k rand qd32", "4k rand qd1", "wake from idle"]);
  for (const x of run.results) {
    expect(x.errors).toBe(0);
    expect(x.opsPerSec).toBeGreaterThan(0);
  }
  const wake = run.results.find((x) => x.cell === "wake from idle")!;
  expect(wake.latencyUs?.p50).toBeGreaterThan(0);
  expect(existsSync(join(tmpdir(), `uring-bench-async-read-${r.pid}.bin`))).toBe(false);
}, 120_000);
