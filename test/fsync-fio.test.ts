/** fsync-chain's fio baseline: the job it builds, parsing fio's JSON, and a short real run when fio is installed. */
import { expect, test } from "bun:test";
import { fioArgs, fioVersion, parseFioJson, runFio } from "../cli/fsync/fio.ts";
import { tempDir } from "./helpers.ts";

const haveFio = fioVersion() !== null;

test("the job: one write then fdatasync per commit, time based, JSON output", () => {
  const args = fioArgs({ engine: "io_uring", file: "/x/f.dat", recordBytes: 4096, durationMs: 1500, sync: "fdatasync", append: true, fileBytes: 0, cpu: 1 });
  expect(args).toContain("--ioengine=io_uring");
  expect(args).toContain("--fdatasync=1");
  expect(args).toContain("--bs=4096");
  expect(args).toContain("--runtime=1500ms");
  expect(args).toContain("--output-format=json");
  expect(args).toContain("--fallocate=none");
  expect(args).toContain("--cpus_allowed=1");
  expect(fioArgs({ engine: "psync", file: "f", recordBytes: 512, durationMs: 10, sync: "fsync", append: false, fileBytes: 1 << 20 })).toContain("--fsync=1");
  expect(fioArgs({ engine: "psync", file: "f", recordBytes: 512, durationMs: 10, sync: "o-dsync", append: true, fileBytes: 0 })).toContain("--sync=dsync");
});

test("parses commits, bytes and the write/sync latency split from fio's JSON (noise before the JSON is skipped)", () => {
  const json = JSON.stringify({
    jobs: [
      {
        error: 0,
        write: { iops: 500, bw_bytes: 2048000, total_ios: 1000, runtime: 2000, lat_ns: { mean: 20000 } },
        sync: { total_ios: 1000, lat_ns: { mean: 1500000, percentile: { "50.000000": 1400000, "99.000000": 3000000 } } },
      },
    ],
  });
  const m = parseFioJson(`fio: some warning\n${json}`);
  expect(m.ops).toBe(1000);
  expect(m.seconds).toBe(2);
  expect(m.bytes).toBe(4096000);
  expect(m.extra).toEqual({ writeUs: 20, syncUs: 1500, syncP50Us: 1400, syncP99Us: 3000 });
  expect(() => parseFioJson("fio: no such option")).toThrow(/fio printed no JSON/);
  expect(() => parseFioJson(JSON.stringify({ jobs: [{ error: 5, write: {} }] }))).toThrow(/error 5/);
});

test.skipIf(!haveFio)("a short real fio run gives commits and removes its file", async () => {
  const tmp = tempDir("uring-bench-fsync-fio-");
  try {
    const m = runFio({ engine: "psync", dir: tmp.dir, recordBytes: 4096, durationMs: 200, sync: "fdatasync", append: true, fileBytes: 0 });
    expect(m.ops).toBeGreaterThan(0);
    expect(m.seconds).toBeGreaterThan(0);
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(tmp.dir)).toEqual([]);
  } finally {
    tmp.cleanup();
  }
});
