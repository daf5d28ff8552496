/**
 * The file the read benchmark reads: a user's file (`--file`) checked for every
 * way it can be unusable, or a generated one stamped with the pattern
 * (pattern.ts) so every read can be verified, removed afterwards unless kept.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bsNotAligned, explainOpenError, fileTooSmall, noSpace, inputError, oDirectOnTmpfs } from "./errors.ts";
import { memoryFsName } from "../harness/fs-type.ts";
import { checkPattern, stampPattern } from "./pattern.ts";

/** Chunk written at a time while generating: large enough to stream, small enough to stay in cache. */
export const GENERATE_CHUNK = 4 << 20;
/** Logical block size assumed when sysfs does not say (the smallest any block device uses). */
export const DEFAULT_LOGICAL_BLOCK = 512;

/** A file ready to be read. */
export interface ReadTarget {
  path: string;
  /** Size in bytes. */
  size: number;
  /** Created by us (removed by `cleanup` unless kept). */
  generated: boolean;
  /** The file carries the pattern, so reads can be verified byte for byte. */
  hasPattern: boolean;
  /** Logical block size of the device under the file (O_DIRECT alignment unit). */
  logicalBlockSize: number;
  /** Removes a generated file (unless `keep`); no-op for user files. */
  cleanup(): void;
}

/** What {@link prepareTarget} needs. */
export interface TargetOptions {
  /** A user's file; when absent a file of `size` bytes is generated in `dir`. */
  file?: string;
  size: number;
  dir?: string;
  bs: number;
  direct: boolean;
  keep: boolean;
}

/** True when `path` lives on tmpfs or ramfs (no block device). */
export function isMemoryFs(path: string): boolean {
  return memoryFsName(path) !== null;
}

/** Where a generated file goes by default: the temp dir, unless that is memory (then /var/tmp, normally on disk). */
export function defaultDir(): string {
  const t = tmpdir();
  if (!isMemoryFs(t)) return t;
  return existsSync("/var/tmp") && !isMemoryFs("/var/tmp") ? "/var/tmp" : process.cwd();
}

/** Logical block size of the block device holding `path`, from sysfs (512 when it does not say). */
export function logicalBlockSize(path: string): number {
  try {
    const dev = statSync(path).dev;
    // Linux's new_encode_dev layout, as glibc's major()/minor().
    const major = ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
    const minor = (dev & 0xff) | ((dev >>> 12) & ~0xff);
    for (const rel of ["queue/logical_block_size", "../queue/logical_block_size"]) {
      const p = `/sys/dev/block/${major}:${minor}/${rel}`;
      if (existsSync(p)) return Number(readFileSync(p, "utf8").trim()) || DEFAULT_LOGICAL_BLOCK;
    }
  } catch {
    // Fall through: not a block-device-backed file (overlay, nfs, ...).
  }
  return DEFAULT_LOGICAL_BLOCK;
}

/**
 * Writes the pattern for `size` bytes to `fd` from offset 0. Throws the
 * write's error as is (ENOSPC included): the caller explains it.
 */
export function writePattern(fd: number, size: number): void {
  const chunk = new Uint8Array(Math.min(GENERATE_CHUNK, Math.ceil(size / 8) * 8));
  const words = new Uint32Array(chunk.buffer);
  for (let off = 0; off < size; off += chunk.length) {
    stampPattern(words, off);
    const n = Math.min(chunk.length, size - off);
    let done = 0;
    while (done < n) done += writeSync(fd, chunk, done, n - done, off + done);
  }
}

/**
 * Creates a pattern file of `size` bytes in `dir`; ENOSPC (up front or while
 * writing) becomes a clear error and the partial file is removed. `write` is
 * the writer (tests pass one that fails part-way).
 */
export function generateFile(dir: string, size: number, write: (fd: number, size: number) => void = writePattern): string {
  if (!existsSync(dir)) throw inputError("missing", `--dir ${dir} does not exist: create it or pick another directory.`);
  if (!statSync(dir).isDirectory()) throw inputError("directory", `--dir ${dir} is not a directory.`);
  // Before the space check: a read-only mount reports no free blocks, which would read as "no space".
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EROFS") throw inputError("read-only", `--dir ${dir} is on a read-only filesystem (EROFS): pick a writable directory with --dir.`);
    throw inputError("permission", `Cannot create a file in ${dir} (${code}): pick a writable directory with --dir.`);
  }
  let free: number | null = null;
  try {
    const s = statfsSync(dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    free = null;
  }
  if (free !== null && free < size) throw noSpace(dir, size, free);
  const path = join(resolve(dir), `uring-bench-read-${process.pid}-${Date.now().toString(36)}.dat`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw inputError("permission", `Cannot create a file in ${dir} (${code}): pick a writable directory with --dir.`);
    }
    if (code === "ENOSPC") throw noSpace(dir, size, free);
    throw err;
  }
  try {
    write(fd, size);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    if ((err as NodeJS.ErrnoException).code === "ENOSPC" || (err as NodeJS.ErrnoException).code === "EDQUOT") throw noSpace(dir, size, free);
    throw err;
  }
  closeSync(fd);
  return path;
}

/** Does the file at `fd` (of `size` bytes) carry the pattern? Checks its first and last 4 KiB. */
export function fileHasPattern(fd: number, size: number): boolean {
  const probe = Math.min(4096, size - (size % 8));
  if (probe < 8) return false;
  const buf = new Uint8Array(probe);
  const words = new Uint32Array(buf.buffer);
  for (const off of [0, Math.max(0, Math.floor((size - probe) / 8) * 8)]) {
    if (readSync(fd, buf, 0, probe, off) !== probe) return false;
    if (checkPattern(words, 0, off, probe, true) >= 0) return false;
  }
  return true;
}

/** Reads the whole file once so buffered runs measure the page cache, not the disk. */
export function warmPageCache(path: string, size: number): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const buf = new Uint8Array(GENERATE_CHUNK);
    for (let off = 0; off < size; off += buf.length) if (readSync(fd, buf, 0, buf.length, off) <= 0) break;
  } finally {
    closeSync(fd);
  }
}

/** Opens `path` read-only (with O_DIRECT when asked), turning failures into clear errors. */
export function openForRead(path: string, direct: boolean): number {
  try {
    return openSync(path, constants.O_RDONLY | (direct ? constants.O_DIRECT : 0));
  } catch (err) {
    throw explainOpenError(path, (err as NodeJS.ErrnoException).code, direct);
  }
}

/**
 * Checks (or generates) the file and returns it ready to read: exists, is a
 * regular file, readable, at least one block, O_DIRECT-capable with an aligned
 * --bs when --direct. The page cache is warmed for buffered runs.
 */
export function prepareTarget(opts: TargetOptions): ReadTarget {
  let path: string;
  let generated = false;
  if (opts.file !== undefined) {
    path = resolve(opts.file);
    let st;
    try {
      st = statSync(path);
    } catch (err) {
      throw explainOpenError(path, (err as NodeJS.ErrnoException).code, opts.direct);
    }
    if (st.isDirectory()) throw explainOpenError(path, "EISDIR", opts.direct);
    if (st.isBlockDevice()) {
      throw inputError(
        "not-regular",
        `${path} is a block device: read a file on its filesystem instead (--file on a mounted path, or --dir to generate one there).`,
      );
    }
    if (!st.isFile()) throw inputError("not-regular", `${path} is not a regular file: --file takes a file to read.`);
  } else {
    const dir = resolve(opts.dir ?? defaultDir());
    if (opts.direct && isMemoryFs(dir)) throw oDirectOnTmpfs(dir);
    if (opts.size < opts.bs) throw fileTooSmall(`the generated file (--size ${opts.size})`, opts.size, opts.bs);
    path = generateFile(dir, opts.size);
    generated = true;
  }
  const cleanup = () => {
    if (generated && !opts.keep && existsSync(path)) unlinkSync(path);
  };
  try {
    const fd = openForRead(path, false);
    let size: number;
    let hasPattern: boolean;
    try {
      size = fstatSync(fd).size;
      if (size < opts.bs) throw fileTooSmall(path, size, opts.bs);
      hasPattern = generated || fileHasPattern(fd, size);
    } finally {
      closeSync(fd);
    }
    const logical = logicalBlockSize(path);
    if (opts.direct) {
      if (isMemoryFs(path)) throw oDirectOnTmpfs(path);
      if (opts.bs % logical !== 0) throw bsNotAligned(opts.bs, logical, path);
      closeSync(openForRead(path, true));
    } else {
      warmPageCache(path, size);
    }
    return { path, size, generated, hasPattern, logicalBlockSize: logical, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
