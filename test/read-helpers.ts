/** Helpers for the read tests: small pattern files, an O_DIRECT-capable directory, a workload builder. */
import { spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMemoryFs, writePattern } from "../cli/read/target.ts";
import type { RunResult } from "../cli/harness/result.ts";
import type { ReadWorkload } from "../cli/read/workload.ts";

/**
 * A directory on a real disk where O_DIRECT opens work (not tmpfs), or null.
 * /tmp may be tmpfs on other machines, so /var/tmp and the repo are tried too.
 */
export function findDirectDir(): string | null {
  for (const base of [tmpdir(), "/var/tmp", join(import.meta.dir, "..")]) {
    if (isMemoryFs(base)) continue;
    let dir: string | null = null;
    try {
      dir = mkdtempSync(join(base, "uring-bench-read-probe-"));
      const p = join(dir, "probe");
      writeFileSync(p, new Uint8Array(4096));
      closeSync(openSync(p, constants.O_RDONLY | constants.O_DIRECT));
      return base;
    } catch {
      // not writable or no O_DIRECT here: try the next
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  return null;
}

/** A temp dir under `base` (default: the O_DIRECT-capable one, else tmpdir). */
export function readTempDir(base?: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(base ?? findDirectDir() ?? tmpdir(), "uring-bench-read-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a pattern file of `size` bytes (any size, also not a multiple of 8) and returns its path. */
export function patternFile(dir: string, name: string, size: number): string {
  const p = join(dir, name);
  const fd = openSync(p, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY, 0o644);
  try {
    writePattern(fd, size);
  } finally {
    closeSync(fd);
  }
  return p;
}

/** A workload over `path` with small defaults. */
export function workload(path: string, size: number, over: Partial<ReadWorkload> = {}): ReadWorkload {
  return {
    path,
    size,
    bs: 4096,
    qd: 8,
    entries: 8,
    batch: 8,
    submit: 8,
    hugePages: true,
    pattern: "rand",
    direct: false,
    verify: "full",
    seed: 12345,
    maxOps: 0,
    ...over,
  };
}

/** The read CLI's short run the CLI tests share (an 8 MiB file in `dir`, one 150 ms repetition, no warm-up, qd 8), then `extra`. */
export function shortReadArgs(dir: string, ...extra: string[]): string[] {
  return ["--dir", dir, "--size", "8m", "-d", "150ms", "-w", "0", "-r", "1", "--qd", "8", ...extra];
}

/** Runs `uring-bench read ARGS --json` in a child process (up to 120 s: a loaded machine is slow); its exit status, parsed result (null if stdout is not JSON) and stderr. */
export function runReadCli(args: string[]): { status: number | null; run: RunResult | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(import.meta.dir, "..", "cli/main.ts"), "read", ...args, "--json"], { encoding: "utf8", timeout: 120_000 });
  let run: RunResult | null = null;
  try {
    run = JSON.parse(r.stdout) as RunResult;
  } catch {
    run = null;
  }
  return { status: r.status, run, stderr: r.stderr };
}
