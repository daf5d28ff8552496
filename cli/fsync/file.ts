/**
 * The data files of an fsync-chain run: checking the directory up front,
 * creating one file per variant, and preallocating it for overwrite mode.
 * Every failure becomes a message that says what to do.
 */
import { closeSync, constants, fdatasyncSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Ring } from "../../src/ring/ring.ts";
import { Errno, errnoName } from "../../src/sys/errno.ts";
import { OptionError } from "../harness/option-error.ts";
import { prepFallocate } from "../../src/ops/index.ts";

/** How long setup waits for the fallocate CQE before giving up (a stuck device, not a slow one). */
const SETUP_WAIT_NS = 30e9;

function codeOf(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : "";
}

/** Turns an open/create failure in `dir` into an actionable message. */
function dirError(dir: string, err: unknown): OptionError {
  const code = codeOf(err);
  switch (code) {
    case "ENOENT":
      return new OptionError(`--dir ${dir}: the directory does not exist; create it or pass an existing one (e.g. --dir /var/tmp).`);
    case "ENOTDIR":
      return new OptionError(`--dir ${dir}: not a directory; pass a directory on the disk to measure.`);
    case "EROFS":
      return new OptionError(`--dir ${dir}: the filesystem is read-only; pass a writable directory (e.g. --dir /var/tmp).`);
    case "EACCES":
    case "EPERM":
      return new OptionError(`--dir ${dir}: no permission to create files there; pass a directory you can write to.`);
    case "ENOSPC":
    case "EDQUOT":
      return new OptionError(`--dir ${dir}: no space left to create the data file; free some space or pass another --dir.`);
    default:
      return new OptionError(`--dir ${dir}: cannot create a data file there (${code || String(err)}).`);
  }
}

/**
 * Checks that `dir` exists, is a directory, and accepts a new file (creates and
 * removes a probe file). Throws {@link OptionError} otherwise.
 */
export function checkDataDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (err) {
    throw dirError(dir, err);
  }
  const probe = join(dir, `.uring-bench-fsync-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600));
    unlinkSync(probe);
  } catch (err) {
    throw dirError(dir, err);
  }
}

/** An open data file. */
export interface DataFile {
  path: string;
  fd: number;
}

/**
 * Creates (truncating) the data file `name` in `dir`, read-write, with O_DSYNC
 * when `dsync`. The fd is the caller's to close.
 */
export function createDataFile(dir: string, name: string, dsync: boolean): DataFile {
  const path = join(dir, name);
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | (dsync ? constants.O_DSYNC : 0);
  try {
    return { path, fd: openSync(path, flags, 0o600) };
  } catch (err) {
    throw dirError(dir, err);
  }
}

/**
 * Preallocates `bytes` with IORING_OP_FALLOCATE (mode 0: allocate and extend
 * the size), falling back to writing zeros where the filesystem has no
 * fallocate. With `prefill`, also writes zeros over the whole file and
 * fdatasyncs it, so later overwrites change no extent state (unwritten →
 * written) and fdatasync has only data to flush.
 */
export function preallocate(fd: number, bytes: number, prefill: boolean): { method: string } {
  let res: number;
  const ring = new Ring(4);
  try {
    const sqe = ring.getSqe()!;
    prepFallocate(sqe, fd, 0, 0, bytes);
    const ret = ring.submitAndWaitTimeout(1, SETUP_WAIT_NS);
    const cqe = ring.peekCqe();
    if (cqe === null) throw new Error(`fallocate did not complete (${ret < 0 ? errnoName(ret) : "no CQE"})`);
    res = cqe.res;
    ring.cqeSeen(cqe);
  } finally {
    ring.close();
  }
  const unsupported = res === -Errno.EOPNOTSUPP;
  if (res < 0 && !unsupported) {
    throw new Error(`fallocate of ${bytes} bytes failed: ${errnoName(res)}; lower --file-size or free space.`);
  }
  if (prefill || unsupported) {
    const zeros = new Uint8Array(1 << 20);
    for (let off = 0; off < bytes; off += zeros.length) {
      writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - off), off);
    }
    fdatasyncSync(fd);
    return { method: unsupported ? "zeros (no fallocate)" : "fallocate + zero fill" };
  }
  return { method: "fallocate" };
}

/** Removes a data file, ignoring "already gone". */
export function removeDataFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (codeOf(err) !== "ENOENT") throw err;
  }
}
