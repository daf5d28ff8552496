/** Helpers for the fsync-chain tests: a committer over a temp file, and tiny tmpfs mounts (root only). */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { Ledger } from "../cli/fsync/ledger.ts";
import type { ChainMode, SyncKind } from "../cli/fsync/options.ts";
import { UringCommitter } from "../cli/fsync/uring-chain.ts";

/** A committer on `path` (opened read-write, or read-only to make every write fail with EBADF). */
export function makeCommitter(
  path: string,
  opts: { mode?: ChainMode; sync?: SyncKind; inflight?: number; writes?: number; bytes?: number; slots?: number; readOnly?: boolean; ring?: RingOptions },
): { ring: Ring; fd: number; ledger: Ledger; committer: UringCommitter; close: () => void } {
  const flags = opts.readOnly
    ? constants.O_RDONLY | constants.O_CREAT
    : constants.O_RDWR | constants.O_CREAT | (opts.sync === "o-dsync" ? constants.O_DSYNC : 0);
  const fd = openSync(path, flags, 0o600);
  const ring = new Ring(64, opts.ring ?? {});
  const ledger = new Ledger({ recordBytes: opts.bytes ?? 4096, writesPerCommit: opts.writes ?? 1, slots: opts.slots ?? 0 });
  const committer = new UringCommitter({ ring, fd, ledger, mode: opts.mode ?? "link", sync: opts.sync ?? "fdatasync", inflight: opts.inflight ?? 1 });
  return {
    ring,
    fd,
    ledger,
    committer,
    close() {
      committer.close();
      ring.close();
      closeSync(fd);
    },
  };
}

/** Can this process mount a tmpfs (root, not forbidden by the container)? Checked once. */
export const canMountTmpfs: boolean = (() => {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), "uring-bench-mnt-probe-"));
  try {
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { timeout: 10_000 });
    if (r.status !== 0) return false;
    spawnSync("umount", [dir], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/** Mounts a tmpfs with `options` (e.g. "size=256k" or "ro,size=64k") in a fresh temp dir; returns it and its cleanup. */
export function mountTmpfs(options: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "uring-bench-mnt-"));
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { timeout: 10_000, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mount tmpfs -o ${options} failed: ${r.stderr}`);
  return {
    dir,
    cleanup() {
      spawnSync("umount", [dir], { timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
