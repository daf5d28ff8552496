/**
 * Shared helpers of the opcode (kernel runtime) tests, test/op-*.test.ts:
 * bounded reaping that copies CQEs out of the ring, an SQE getter that fails
 * loudly when the SQ is full, pipes (no pipe(2) outside the ring), an fd
 * baseline for leak checks, and the ring configurations available on this kernel.
 *
 * Every wait here is bounded: a kernel or library bug makes a test fail with a
 * message listing what did arrive, never hang.
 */
import { afterAll } from "bun:test";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { prepPipe } from "../src/ops/index.ts";
import type { Cqe } from "../src/ring/cqe.ts";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { sqeSetData64, sqeSetFlags, type Sqe } from "../src/ring/sqe.ts";
import { Op } from "../src/sys/constants.ts";
import { Errno, errnoName } from "../src/sys/errno.ts";
import { kernelHasOp, openFds, RING_CONFIGS, tempDirPerFile } from "./helpers.ts";

/** The ring configurations this kernel accepts, for `describe.each`. */
export const CONFIGS: Array<{ name: string; options: RingOptions }> = RING_CONFIGS.filter((c) => c.available).map((c) => ({
  name: c.name,
  options: c.options,
}));

/**
 * Upper bound of any single wait, in ms: generous, because the machine is
 * shared and SQPOLL threads may sleep; below bun's 5 s test timeout, so a
 * missing CQE reports what did arrive instead of a bare timeout.
 */
export const WAIT_MS = 3000;

/** A CQE copied out of the ring (the ring slot is reused once seen). */
export interface CqeRecord {
  userData: number;
  res: number;
  flags: number;
  /** The 16 extra bytes of a 32-byte CQE, when the ring has them. */
  big?: [bigint, bigint];
}

/** A copy of `cqe` that outlives its slot. */
export function copyCqe(cqe: Cqe, withBig = false): CqeRecord {
  const rec: CqeRecord = { userData: cqe.userData, res: cqe.res, flags: cqe.flags };
  if (withBig) rec.big = cqe.bigCqe();
  return rec;
}

/** `res` as a readable string for failure messages ("-ECANCELED" or "42"). */
export function resName(res: number): string {
  return res < 0 ? `-${errnoName(-res)}` : String(res);
}

function describeCqes(cqes: readonly CqeRecord[]): string {
  return cqes.length === 0 ? "none" : cqes.map((c) => `{ud ${c.userData}, res ${resName(c.res)}, flags 0x${c.flags.toString(16)}}`).join(", ");
}

/** io_uring_get_sqe that throws instead of returning null, so a full SQ is a clear failure. */
export function sqeOf(ring: Ring): Sqe {
  const sqe = ring.getSqe();
  if (sqe === null) throw new Error(`SQ full (${ring.sqEntries} entries): submit before preparing more SQEs.`);
  return sqe;
}

/** Gets an SQE, lets `prep` fill it, then sets user_data and (optionally) IOSQE_* flags. */
export function prep(ring: Ring, userData: number, prepFn: (sqe: Sqe) => void, flags = 0): Sqe {
  const sqe = sqeOf(ring);
  prepFn(sqe);
  sqeSetData64(sqe, userData);
  if (flags !== 0) sqeSetFlags(sqe, flags);
  return sqe;
}

/**
 * Submits what is prepared and collects exactly `n` CQEs (marking each seen),
 * waiting at most `timeoutMs` overall. Throws, naming what arrived, if fewer come.
 */
export function reap(ring: Ring, n: number, timeoutMs = WAIT_MS, withBig = false): CqeRecord[] {
  const out: CqeRecord[] = [];
  const submitted = ring.submit();
  if (submitted < 0) throw new Error(`submit failed: ${resName(submitted)}`);
  const deadline = performance.now() + timeoutMs;
  while (out.length < n) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    const cqe = ring.waitCqeTimeout(Math.ceil(left * 1e6));
    if (cqe === null) continue;
    out.push(copyCqe(cqe, withBig));
    ring.cqeSeen(cqe);
  }
  if (out.length < n) {
    throw new Error(`expected ${n} CQEs within ${timeoutMs} ms, got ${out.length}: ${describeCqes(out)}`);
  }
  return out;
}

/** Submits, waits for one CQE (bounded), and returns it. */
export function reapOne(ring: Ring, timeoutMs = WAIT_MS): CqeRecord {
  return reap(ring, 1, timeoutMs)[0]!;
}

/** Runs one request (user_data 1) and returns its res. */
export function run1(ring: Ring, prepFn: (sqe: Sqe) => void, flags = 0): number {
  prep(ring, 1, prepFn, flags);
  return reapOne(ring).res;
}

/** The CQEs of one reap, by user_data. */
export const byUd = (cqes: readonly CqeRecord[]): Map<number, CqeRecord> => new Map(cqes.map((c) => [c.userData, c]));

/**
 * Submits and waits up to `ms` for a CQE that should NOT come. Returns it
 * (or null). Use only as a negative check; positive checks never depend on time.
 */
export function cqeWithin(ring: Ring, ms: number): CqeRecord | null {
  ring.submit();
  const cqe = ring.waitCqeTimeout(ms * 1e6);
  if (cqe === null) return null;
  const rec = copyCqe(cqe);
  ring.cqeSeen(cqe);
  return rec;
}

/** A ring for one test, closed afterwards even if the body throws. */
export function withRing<T>(entries: number, options: RingOptions, body: (ring: Ring) => T): T {
  const ring = new Ring(entries, options);
  try {
    return body(ring);
  } finally {
    ring.close();
  }
}

/** A pipe's two ends; `close()` closes whichever are still open (set an end to -1 after closing it yourself). */
export interface Pipe {
  readFd: number;
  writeFd: number;
  /** Closes whichever ends are still open. */
  close(): void;
}

/** The private ring that makes pipes: made once, at load, so fd-leak counts never see it appear. */
const pipeRing: Ring | null = kernelHasOp(Op.PIPE) ? new Ring(2) : null;
let fifoSeq = 0;

/**
 * A blocking pipe. Made by IORING_OP_PIPE (6.16) on a private ring, since
 * pipe(2) is not reachable from JavaScript; on older kernels, a FIFO made by
 * `mkfifo` in `dir` (spawning a process leaves a few fds open in Bun, so fd-leak
 * counts are only exact on the first path).
 */
export function makePipe(dir: string): Pipe {
  let readFd: number;
  let writeFd: number;
  if (pipeRing !== null) {
    const fds = new Int32Array(2);
    prep(pipeRing, 0, (s) => prepPipe(s, fds, 0));
    const res = reapOne(pipeRing).res;
    if (res !== 0) throw new Error(`IORING_OP_PIPE failed: ${resName(res)}`);
    [readFd, writeFd] = [fds[0]!, fds[1]!];
  } else {
    // Opening a FIFO O_RDWR never blocks on Linux, so that end is opened first
    // to let the O_RDONLY and O_WRONLY opens through, then closed (so EOF works).
    const path = join(dir, `fifo-${process.pid}-${fifoSeq++}`);
    const mk = Bun.spawnSync(["mkfifo", path]);
    if (mk.exitCode !== 0) throw new Error(`mkfifo ${path} failed: ${mk.stderr.toString()}`);
    const rw = openSync(path, constants.O_RDWR);
    readFd = openSync(path, constants.O_RDONLY);
    writeFd = openSync(path, constants.O_WRONLY);
    closeSync(rw);
  }
  const pipe: Pipe = {
    readFd,
    writeFd,
    close() {
      if (pipe.readFd >= 0) closeSync(pipe.readFd);
      if (pipe.writeFd >= 0) closeSync(pipe.writeFd);
      pipe.readFd = -1;
      pipe.writeFd = -1;
    },
  };
  return pipe;
}

/**
 * The descriptors to compare against after a test ({@link expectNoNewFds}):
 * taken after a full GC, so fds that Bun closes on finalization (e.g. of
 * earlier spawned processes) are already gone.
 */
export function fdBaseline(): Map<number, string> {
  Bun.gc(true);
  return openFds();
}

/** Closes fds ignoring ones already closed (cleanup in finally blocks). */
export function closeAll(...fds: number[]): void {
  for (const fd of fds) {
    if (fd < 0) continue;
    try {
      closeSync(fd);
    } catch {
      // already closed by the test under way: nothing to release
    }
  }
}

/** Deterministic test bytes: byte i is (i * 7 + seed) & 0xff. */
export function pattern(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** Negative errno constants for CQE res comparisons. */
export const NEG = {
  ENOENT: -Errno.ENOENT,
  EBADF: -Errno.EBADF,
  EAGAIN: -Errno.EAGAIN,
  EINVAL: -Errno.EINVAL,
  EEXIST: -Errno.EEXIST,
  ETIME: -Errno.ETIME,
  ECANCELED: -Errno.ECANCELED,
  EALREADY: -Errno.EALREADY,
  EINTR: -Errno.EINTR,
  EOPNOTSUPP: -Errno.EOPNOTSUPP,
  ENOBUFS: -Errno.ENOBUFS,
} as const;

/**
 * Pipes for the whole calling file: `pipe()` makes one (closed after the
 * file's last test), `dir` is the file's temp dir (for makePipe's FIFO fallback).
 */
export function pipesPerFile(prefix: string): { readonly dir: string; pipe: () => Pipe } {
  const tmp = tempDirPerFile(prefix);
  const pipes: Pipe[] = [];
  afterAll(() => {
    for (const f of pipes.splice(0)) f.close();
  });
  return {
    get dir() {
      return tmp.dir;
    },
    pipe: () => {
      const f = makePipe(tmp.dir);
      pipes.push(f);
      return f;
    },
  };
}
