/**
 * fsync-chain bad input: each mistake gets a clear message naming the flag
 * and what to do, both from the option resolver and from the CLI (exit 2,
 * nothing run).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { checkDataDir } from "../cli/fsync/file.ts";
import { OptionError } from "../cli/harness/option-error.ts";
import { resolveFsyncOptions } from "../cli/fsync/options.ts";
import { tempDir } from "./helpers.ts";
import { canMountTmpfs, mountTmpfs } from "./fsync-helpers.ts";

const ROOT = join(import.meta.dir, "..");

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OptionError);
    return (err as Error).message;
  }
  throw new Error("expected an OptionError");
}

describe("option checks", () => {
  test("defaults: 4 KiB records, fdatasync, link, append, one in flight, ring big enough", () => {
    const cfg = resolveFsyncOptions({});
    expect(cfg).toMatchObject({ recordBytes: 4096, sync: "fdatasync", mode: "link", append: true, inflight: [1], writesPerCommit: 1 });
    expect(cfg.ringEntries).toBeGreaterThanOrEqual(2);
    expect(resolveFsyncOptions({ inflight: "1,16" }).inflight).toEqual([1, 16]);
  });

  test("-b 0, too small, not a multiple of 4, not a size", () => {
    expect(errorOf(() => resolveFsyncOptions({ bytes: "0" }))).toMatch(/-b\/--bytes 0: a commit must write something.*-b 4k/);
    expect(errorOf(() => resolveFsyncOptions({ bytes: "16" }))).toMatch(/at least 32 bytes/);
    expect(errorOf(() => resolveFsyncOptions({ bytes: "1001" }))).toMatch(/multiple of 4/);
    expect(errorOf(() => resolveFsyncOptions({ bytes: "lots" }))).toMatch(/-b\/--bytes takes a size/);
  });

  test("--inflight 0, above the ring size, not a number", () => {
    expect(errorOf(() => resolveFsyncOptions({ inflight: "0" }))).toMatch(/--inflight 0: at least one commit must be in flight/);
    expect(errorOf(() => resolveFsyncOptions({ inflight: "64", ringSize: "64" }))).toMatch(
      /--inflight 64: 64 commits × 2 SQEs = 128 SQEs, above the ring size 64; lower --inflight or raise --ring-size/,
    );
    expect(errorOf(() => resolveFsyncOptions({ inflight: "1,x" }))).toMatch(/--inflight x: not an integer/);
    expect(errorOf(() => resolveFsyncOptions({ ringSize: "65536" }))).toMatch(/--ring-size 65536: must be at most 32768/);
  });

  test("unknown mode, sync kind, variant; conflicting flags", () => {
    expect(errorOf(() => resolveFsyncOptions({ mode: "chain" }))).toBe("--mode chain: unknown; choose one of link, hardlink, drain.");
    expect(errorOf(() => resolveFsyncOptions({ sync: "msync" }))).toMatch(/--sync msync: unknown; choose one of fdatasync, fsync/);
    expect(errorOf(() => resolveFsyncOptions({ variants: "uring,bogus" }))).toMatch(/--variants bogus: unknown/);
    expect(errorOf(() => resolveFsyncOptions({ append: true, overwrite: true }))).toMatch(/exclude each other/);
    expect(errorOf(() => resolveFsyncOptions({ prefill: true }))).toMatch(/--prefill applies to --overwrite only/);
    expect(errorOf(() => resolveFsyncOptions({ overwrite: true, fileSize: "8k", inflight: "4" }))).toMatch(/must hold at least/);
  });
});

describe("data directory checks", () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => {
    tmp = tempDir("uring-bench-fsync-opts-");
  });
  afterEach(() => tmp.cleanup());

  test("a missing directory, a file instead of a directory", () => {
    expect(errorOf(() => checkDataDir(join(tmp.dir, "nope")))).toMatch(/the directory does not exist; create it or pass an existing one/);
    expect(errorOf(() => checkDataDir("/etc/hostname"))).toMatch(/not a directory/);
    expect(() => checkDataDir(tmp.dir)).not.toThrow();
  });

  test.skipIf(!canMountTmpfs)("a read-only filesystem", () => {
    const mnt = mountTmpfs("ro,size=64k");
    try {
      expect(errorOf(() => checkDataDir(mnt.dir))).toMatch(/the filesystem is read-only; pass a writable directory/);
    } finally {
      mnt.cleanup();
    }
  });
});

describe("the CLI", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ["cli/main.ts", "fsync-chain", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

  test.each([
    [["-b", "0"], "-b/--bytes 0: a commit must write something"],
    [["--inflight", "0"], "--inflight 0: at least one commit must be in flight"],
    [["--inflight", "100000"], "--inflight 100000: 100000 commits × 2 SQEs = 200000 SQEs, above the ring size 32768"],
    [["--mode", "sideways"], "--mode sideways: unknown; choose one of link, hardlink, drain."],
    [["--dir", "/nonexistent/dir"], "--dir /nonexistent/dir: the directory does not exist"],
  ])("%p fails with a clear message and exit 2 (usage)", (args, message) => {
    const r = cli(...args, "-d", "100ms", "-r", "1", "-w", "0");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`uring-bench: ${message}`);
    expect(r.stdout).toBe("");
  });
});
