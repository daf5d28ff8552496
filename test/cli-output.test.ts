/**
 * What the CLI tells the user, shared by every command: one size parser, one
 * option error, one exit-code rule, checks made before a run (baseline,
 * output paths, repetitions), notes shown whole, partial runs marked, and a
 * one-cell chart wide enough for its legend.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runContext } from "../cli/harness/context.ts";
import { memoryFsName } from "../cli/harness/fs-type.ts";
import { findNodeBinary } from "../cli/harness/node-version.ts";
import { OptionError } from "../cli/harness/option-error.ts";
import { checkBaseline, MAX_REPEAT } from "../cli/harness/options.ts";
import { checkOutputPaths, finishRun, PARTIAL_MARKER } from "../cli/harness/output.ts";
import { layoutLegend, renderChartSvg, paletteFor } from "../cli/harness/report-html.ts";
import type { RunResult } from "../cli/harness/result.ts";
import { parseSize } from "../cli/harness/size.ts";
import { exitCodeFor, EXIT_INTERRUPTED, EXIT_OK, EXIT_VARIANT_FAILED } from "../cli/harness/exit-codes.ts";
import { canMountTmpfs, mountTmpfs } from "./fsync-helpers.ts";
import { tempDir } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "cli", "main.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

function run(over: Partial<RunResult> = {}): RunResult {
  return {
    schema: 1,
    command: "echo",
    context: {
      date: "2026-12-01T00:00:00.000Z",
      host: "h",
      kernel: "6.18",
      cpuModel: "cpu",
      cpus: 2,
      memGiB: 1,
      bunVersion: "1",
      shimBuild: "cc",
      argv: ["bun", "cli/main.ts", "echo"],
    },
    options: {},
    results: [
      { variant: "uring", cell: "c:1000 bytes:512", opsPerSec: 100, repetitions: [100], errors: 0 },
      { variant: "bun", cell: "c:1000 bytes:512", opsPerSec: 80, repetitions: [80], errors: 0 },
    ],
    ...over,
  };
}

describe("one size parser", () => {
  test("spellings", () => {
    expect(parseSize("--bs", "4k")).toBe(4096);
    expect(parseSize("--bs", "4KiB")).toBe(4096);
    expect(parseSize("--bs", "1.5g")).toBe(1.5 * 1024 ** 3);
    expect(parseSize("--bs", "512b")).toBe(512);
    expect(parseSize("--bs", "64M")).toBe(64 << 20);
    expect(parseSize("--bs", 7)).toBe(7);
  });
  test("errors name the flag and are OptionErrors", () => {
    expect(() => parseSize("--bs", "lots")).toThrow(OptionError);
    expect(() => parseSize("--bs", "lots")).toThrow('--bs takes a size like 4k, 128k, 256m or 1g, got "lots".');
    expect(() => parseSize("--bs", "1.5")).toThrow("--bs takes");
    expect(() => parseSize("-b", "2m", { max: 1 << 20 })).toThrow("-b 2m is too large: at most 1048576.");
    expect(() => parseSize("--qd", "0", { min: 1, what: "a positive integer" })).toThrow('--qd takes a positive integer, got "0" (at least 1).');
  });
});

describe("checks before the run", () => {
  test("--baseline must name a variant of the run", () => {
    expect(() => checkBaseline("bun", ["uring", "bun"])).not.toThrow();
    expect(() => checkBaseline(undefined, ["uring"])).not.toThrow();
    expect(() => checkBaseline("nosuch", ["uring", "bun"])).toThrow("--baseline nosuch: no such variant in this run; choose one of uring, bun.");
  });

  test("output paths: a directory, a missing parent that can be created, an unwritable place", () => {
    const tmp = tempDir();
    try {
      const base = { durationMs: 1, warmupMs: 0, repeat: 1, quiet: true, save: false };
      expect(() => checkOutputPaths({ ...base, json: join(tmp.dir, "new", "deeper", "r.json") })).not.toThrow();
      expect(() => checkOutputPaths({ ...base, json: tmp.dir })).toThrow(/--json .*: is a directory/);
      // A file where a folder should be (root may write anywhere else but a read-only filesystem, tested below).
      expect(() => checkOutputPaths({ ...base, markdown: "/etc/hostname/r.md" })).toThrow("--markdown /etc/hostname/r.md: /etc/hostname is not a directory.");
    } finally {
      tmp.cleanup();
    }
  });

  test.skipIf(!canMountTmpfs)(
    "output paths on a read-only filesystem fail before anything runs",
    () => {
      const mnt = mountTmpfs("ro,size=1m");
      try {
        const r = cli("echo", "--servers", "bun", "-d", "100ms", "-r", "1", "-w", "0", "--json", join(mnt.dir, "r.json"));
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/--json .*r\.json: cannot write .* \(EROFS\)/);
        expect(r.stdout).toBe("");
      } finally {
        mnt.cleanup();
      }
    },
    60_000,
  );

  test.skipIf(!canMountTmpfs)(
    "read --dir on a read-only filesystem says read-only, not no space",
    () => {
      const mnt = mountTmpfs("ro,size=1m");
      try {
        const r = cli("read", "--dir", mnt.dir, "--variants", "pread", "-d", "100ms", "-r", "1", "-w", "0");
        // The message first: on a failure it shows what the command said.
        expect(r.stderr).toContain("read-only filesystem (EROFS)");
        expect(r.status).toBe(2);
        expect(r.stderr).not.toContain("space");
      } finally {
        mnt.cleanup();
      }
    },
    60_000,
  );

  test.each([
    [["echo", "--baseline", "nosuch", "--servers", "bun"], /--baseline nosuch: no such variant/],
    [["read", "--baseline", "nosuch", "--variants", "pread"], /--baseline nosuch: no such variant/],
    [["fsync-chain", "--baseline", "nosuch"], /--baseline nosuch: no such variant/],
    [["read", "-r", "1000000000"], new RegExp(`--repeat 1000000000 is too large: at most ${MAX_REPEAT}`)],
    [["nop", "--batches", "0"], /--batches takes a comma-separated list/],
    [["read", "--json", "/etc/hostname/r.json", "--variants", "pread"], /--json \/etc\/hostname\/r.json: \/etc\/hostname is not a directory/],
  ])(
    "%p: exit 2 before anything runs",
    (args, re) => {
      const r = cli(...args);
      expect(r.stderr).toMatch(re);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
    },
    60_000,
  );

  test("--help states the exit codes", () => {
    for (const c of ["read", "echo", "fsync-chain", "nop", "async-read"]) {
      const r = cli(c, "--help");
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("Exit codes: 0 every variant ran; 1 some variant failed (results still printed); 2 bad usage or input; 130 interrupted");
    }
  }, 60_000);
});

describe("numbers that would mislead", () => {
  test("the saved nodeVersion is the node that runs the node variants, not Bun's process.versions.node", () => {
    const node = findNodeBinary();
    const ctx = runContext();
    if (node === null) {
      expect(ctx.nodeVersion).toBeUndefined();
      return;
    }
    expect(ctx.nodeVersion).toBe(spawnSync(node.bin, ["--version"], { encoding: "utf8" }).stdout.trim());
    expect(ctx.nodeVersion).toMatch(/^v\d+\./);
  });

  test.skipIf(memoryFsName("/dev/shm") === null)(
    "fsync-chain on tmpfs warns and claims no durability",
    () => {
      const r = cli("fsync-chain", "--dir", "/dev/shm", "--variants", "loop", "-d", "100ms", "-w", "0", "-r", "1");
      expect(r.status).toBe(0);
      expect(r.stderr).toContain("fsync-chain: warning: --dir /dev/shm is on tmpfs");
      expect(r.stdout).toContain("read back (tmpfs: not durable)");
      expect(r.stdout).not.toContain("durable (verified)");
    },
    60_000,
  );
});

describe("finishRun", () => {
  const base = { durationMs: 1, warmupMs: 0, repeat: 1, quiet: false, save: false };
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, streams: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) } };
  };

  test("notes are shown whole below the tables", () => {
    const hint = `setup failed: EPERM. ${"x".repeat(150)} allow io_uring in the seccomp profile`;
    const r = run();
    r.results[0]!.notes = [hint];
    const c = capture();
    finishRun(r, base, { streams: c.streams });
    const text = c.out.join("");
    expect(text).toContain(`notes:\n  uring: ${hint}`);
  });

  test("the command's tables and lines follow the shared ones; Markdown gets the tables too", () => {
    const c = capture();
    finishRun(run(), base, { streams: c.streams, tables: [{ head: ["variant", "extra col"], rows: [["uring", "42"]] }], lines: ["file: /x"] });
    const text = c.out.join("");
    expect(text).toContain("extra col");
    expect(text.indexOf("extra col")).toBeLessThan(text.indexOf("file: /x"));
    const md = capture();
    finishRun(run(), { ...base, markdown: true }, { streams: md.streams, tables: [{ head: ["variant", "extra col"], rows: [["uring", "42"]] }] });
    expect(md.out.join("")).toContain("| variant | extra col |");
  });

  test("a partial run is marked, first and last, and in JSON", () => {
    const c = capture();
    const r = run({ partial: true });
    finishRun(r, base, { streams: c.streams });
    const text = c.out.join("");
    expect(text.startsWith(PARTIAL_MARKER)).toBe(true);
    expect(text.trimEnd().endsWith(PARTIAL_MARKER)).toBe(true);
    const j = capture();
    finishRun(r, { ...base, json: true }, { streams: j.streams });
    expect(JSON.parse(j.out.join("")).partial).toBe(true);
    expect(j.err.join("")).toContain(PARTIAL_MARKER);
  });

  test("exit codes: ok, a failed variant, interrupted (an unsupported variant is no failure)", () => {
    expect(exitCodeFor(run())).toBe(EXIT_OK);
    const failed = run();
    failed.results[1]!.errors = 1;
    expect(exitCodeFor(failed)).toBe(EXIT_VARIANT_FAILED);
    expect(exitCodeFor({ ...failed, partial: true })).toBe(EXIT_INTERRUPTED);
    const unsupported = run();
    unsupported.results[1] = { ...unsupported.results[1]!, errors: 0, repetitions: [], extra: { status: "unsupported" } };
    expect(exitCodeFor(unsupported)).toBe(EXIT_OK);
  });
});

describe("charts", () => {
  test("a one-cell chart is wide enough for its legend on one row", () => {
    const r = run();
    r.results.push({ variant: "uring-sqpoll", cell: "c:1000 bytes:512", opsPerSec: 90, repetitions: [90], errors: 0 });
    r.results.push({ variant: "c-epoll", cell: "c:1000 bytes:512", opsPerSec: 95, repetitions: [95], errors: 0 });
    const svg = renderChartSvg(r, paletteFor());
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const legend = layoutLegend(["uring", "bun", "uring-sqpoll", "c-epoll"], Infinity);
    expect(width).toBeGreaterThanOrEqual(legend.width + 64);
    // Every legend label starts inside the chart.
    for (const m of svg.matchAll(/<text class="legend" x="([\d.]+)"/g)) expect(Number(m[1])).toBeLessThan(width);
  });

  test("a long legend wraps instead of running off the edge", () => {
    const names = Array.from({ length: 14 }, (_, i) => `variant-with-a-long-name-${i}`);
    const l = layoutLegend(names, 600);
    expect(l.rows).toBeGreaterThan(1);
    expect(l.width).toBeLessThanOrEqual(600);
  });
});
