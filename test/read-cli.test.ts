/**
 * `uring-bench read` end to end: a short run writes a RunResult with every
 * asked-for variant, IOPS, MB/s, latency, CPU and the ratio columns, removes
 * its generated file, and reports IOPOLL's EOPNOTSUPP as "unsupported" without
 * failing. Also fio's JSON parsing, on a fixture and (when fio is installed) live.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fioArgs, fioVersion, parseFioJson, runFio } from "../cli/read/fio.ts";
import { haveCLoop } from "../cli/read/clib.ts";
import { findNode } from "../cli/read/node.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { findDirectDir, patternFile, readTempDir, runReadCli, shortReadArgs, workload } from "./read-helpers.ts";

/** Each test runs the CLI (or fio) in a child process: on a loaded machine that takes far more than the default 5 s. */
const SPAWN_TIMEOUT_MS = 120_000;
const directDir = findDirectDir();
let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = readTempDir();
});
afterAll(() => tmp.cleanup());

test(
  "a short buffered run: every variant measured and checked, file removed",
  () => {
    const { status, run, stderr } = runReadCli([
      "--dir",
      tmp.dir,
      "--size",
      "8m",
      "-d",
      "150ms",
      "-w",
      "50ms",
      "-r",
      "1",
      "--qd",
      "8",
      "--variants",
      "uring,uring-fixed,uring-sqpoll,uring-iopoll,pread,bun-file,node-fsp",
    ]);
    const sqpollOk = kernelHasSetupFlag(SetupFlags.SQPOLL);
    expect(stderr).not.toMatch(/FAILED|wrong bytes/);
    expect(status).toBe(0);
    expect(run).not.toBeNull();
    expect(run!.command).toBe("read");
    expect(run!.options.verified).toBe("all");
    const by = new Map(run!.results.map((r) => [r.variant, r]));
    for (const v of ["uring", "uring-fixed", ...(sqpollOk ? ["uring-sqpoll"] : []), "pread", "bun-file", "node-fsp"]) {
      const r = by.get(v)!;
      expect(r.errors).toBe(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.bytesPerSec).toBeCloseTo(r.opsPerSec * 4096, -3);
      expect(r.latencyUs!.p50).toBeGreaterThan(0);
      expect(r.cpu!.self).toBeGreaterThan(0);
      expect(r.extra!.vsPread).toBeGreaterThan(0);
    }
    // IOPOLL without O_DIRECT: reported, not an error.
    expect(by.get("uring-iopoll")!.errors).toBe(0);
    expect(by.get("uring-iopoll")!.notes!.join()).toMatch(/unsupported: IOPOLL needs O_DIRECT/);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith("uring-bench-read-"))).toEqual([]);
  },
  SPAWN_TIMEOUT_MS,
);

test.skipIf(directDir === null)(
  "O_DIRECT run with IOPOLL: EOPNOTSUPP (or a number) never fails the run",
  () => {
    const { status, run } = runReadCli(shortReadArgs(tmp.dir, "--direct", "--variants", "uring,uring-iopoll,pread"));
    expect(status).toBe(0);
    const iopoll = run!.results.find((r) => r.variant === "uring-iopoll")!;
    expect(iopoll.errors).toBe(0);
    if (iopoll.opsPerSec === 0) expect(iopoll.notes!.join()).toMatch(/EOPNOTSUPP/);
    expect(run!.results.find((r) => r.variant === "uring")!.opsPerSec).toBeGreaterThan(0);
  },
  SPAWN_TIMEOUT_MS,
);

test(
  "--rings 2: two rings in two Workers, results add up and are checked",
  () => {
    const { status, run } = runReadCli(shortReadArgs(tmp.dir, "--rings", "2", "--variants", "uring,uring-fixed,pread"));
    expect(status).toBe(0);
    for (const r of run!.results) {
      expect(r.cell).toMatch(/×2 rings/);
      expect(r.errors).toBe(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
    }
    expect(run!.results[0]!.extra!.rings).toBe(2);
    expect(run!.results[0]!.latencyUs!.p50).toBeGreaterThan(0);
  },
  SPAWN_TIMEOUT_MS,
);

test(
  "--file with --keep'd pattern file, --bytes budget, seq pattern",
  () => {
    const p = patternFile(tmp.dir, "kept.dat", 1 << 20);
    const { status, run } = runReadCli(["--file", p, "--bytes", "512k", "--pattern", "seq", "-w", "0", "-r", "1", "--variants", "uring,pread"]);
    expect(status).toBe(0);
    for (const r of run!.results) {
      expect(r.errors).toBe(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
    }
    expect(run!.options.verified).toBe("all");
  },
  SPAWN_TIMEOUT_MS,
);

test(
  "a file without the pattern: lengths are checked, and the table says so",
  () => {
    const p = join(tmp.dir, "plain.dat");
    writeFileSync(p, new Uint8Array(1 << 20).fill(7));
    const variants = ["uring", "pread", "bun-file", "node-fsp", ...(findNode() ? ["node"] : []), ...(haveCLoop() ? ["c-liburing"] : [])];
    const { status, run } = runReadCli(["--file", p, "-d", "100ms", "-w", "0", "-r", "1", "--variants", variants.join(",")]);
    expect(status).toBe(0);
    expect(run!.options.verified).toBe("length");
    for (const r of run!.results) {
      expect(r.errors).toBe(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.notes!.join()).toMatch(/lacks the pattern/);
    }
  },
  SPAWN_TIMEOUT_MS,
);

describe("fio", () => {
  const FIXTURE = `note: both iodepth >= 1 and synchronous I/O engine are selected, queue depth will be capped at 1
{
  "fio version" : "fio-3.33",
  "jobs" : [ { "jobname" : "uring-bench", "error" : 0, "job_runtime" : 2000, "usr_cpu" : 10.5, "sys_cpu" : 30.25,
    "read" : { "io_bytes" : 409600000, "bw_bytes" : 204800000, "iops" : 50000.5, "runtime" : 2000, "total_ios" : 100001,
      "clat_ns" : { "mean" : 600000.0, "percentile" : { "50.000000" : 500000, "99.000000" : 900000, "99.900000" : 2000000 } },
      "lat_ns" : { "mean" : 640000.0, "percentile" : { "50.000000" : 510000, "99.000000" : 910000, "99.900000" : 2100000 } } } } ]
}`;

  test("parses IOPS, bandwidth, latency percentiles (µs) and CPU from the JSON", () => {
    const r = parseFioJson(FIXTURE);
    expect(r.iops).toBe(50000.5);
    expect(r.bytesPerSec).toBe(204800000);
    expect(r.ios).toBe(100001);
    expect(r.seconds).toBe(2);
    expect(r.latencyUs).toEqual({ p50: 510, p99: 910, p999: 2100, mean: 640 });
    expect(r.cpu).toBeCloseTo(0.4075, 6);
    expect(r.version).toBe("fio-3.33");
  });

  test("errors: no JSON, failed job", () => {
    expect(() => parseFioJson("fio: file not found")).toThrow(/fio printed no JSON: fio: file not found/);
    expect(() => parseFioJson('{"jobs":[{"error":5,"read":{}}]}')).toThrow(/error 5/);
  });

  test("the command keeps the page cache (invalidate=0) and matches the workload", () => {
    const args = fioArgs(workload("/f", 1 << 20, { direct: true, qd: 32 }), "io_uring", 2000, 300);
    expect(args).toContain("--invalidate=0");
    expect(args).toContain("--iodepth=32");
    expect(args).toContain("--direct=1");
    expect(args).toContain("--rw=randread");
    expect(args).toContain("--output-format=json");
  });

  test.skipIf(fioVersion() === null)(
    "runs fio io_uring and psync on a pattern file",
    async () => {
      const p = patternFile(tmp.dir, "fio.dat", 4 << 20);
      for (const engine of ["io_uring", "psync"] as const) {
        const r = await runFio(workload(p, 4 << 20, { qd: 8 }), engine, 200, 0);
        expect(r.ios).toBeGreaterThan(0);
        expect(r.latencyUs.p50).toBeGreaterThan(0);
      }
    },
    SPAWN_TIMEOUT_MS,
  );
});
