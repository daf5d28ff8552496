/** Shared test helpers: ring configurations, fd counting, temp files, probe-based skips. */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "bun:test";
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { SetupFlags } from "../src/sys/constants.ts";

/** Number of open fds of this process. */
export function countFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * Number of this process's eventfd descriptors. A Uring's first park on its
 * waiter thread creates one, so a rise says "parked"; the total fd count
 * cannot say it, since other descriptors close meanwhile.
 */
export function countEventfds(): number {
  let n = 0;
  for (const d of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${d}`) === "anon_inode:[eventfd]") n++;
    } catch {
      // closed while we looked (the readdir's own fd, for one)
    }
  }
  return n;
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = "uring-bench-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Fails every test of the calling file (or describe block) that leaves an fd open. */
export function checkFdsPerTest(): void {
  let fdsBefore: number;
  beforeEach(() => {
    fdsBefore = countFds();
  });
  afterEach(() => {
    expect(countFds()).toBe(fdsBefore);
  });
}

/**
 * A fresh temp dir for every test of the calling file (or describe block),
 * removed after it, and the fd-leak check of {@link checkFdsPerTest}.
 * `.dir` is the current test's directory.
 */
export function tempDirPerTest(prefix?: string): { readonly dir: string } {
  let tmp: ReturnType<typeof tempDir> | null = null;
  let fdsBefore: number;
  beforeEach(() => {
    tmp = tempDir(prefix);
    fdsBefore = countFds();
  });
  afterEach(() => {
    tmp?.cleanup();
    tmp = null;
    expect(countFds()).toBe(fdsBefore);
  });
  return {
    get dir(): string {
      if (tmp === null) throw new Error("tempDirPerTest: .dir is only there while a test runs");
      return tmp.dir;
    },
  };
}

/** One temp dir for the whole calling file (made before its first test, removed after its last); `.dir` is its path. */
export function tempDirPerFile(prefix?: string): { readonly dir: string } {
  let tmp: ReturnType<typeof tempDir> | null = null;
  beforeAll(() => {
    tmp = tempDir(prefix);
  });
  afterAll(() => {
    tmp?.cleanup();
    tmp = null;
  });
  return {
    get dir(): string {
      if (tmp === null) throw new Error("tempDirPerFile: .dir is only there while the file's tests run");
      return tmp.dir;
    },
  };
}

let fifoSeq = 0;

/** A new FIFO in `dir`, opened read-write: reads on it wait until something is written. */
export function openFifo(dir: string): { fd: number; path: string; close: () => void } {
  const path = join(dir, `fifo-${fifoSeq++}`);
  if (Bun.spawnSync(["mkfifo", path]).exitCode !== 0) throw new Error("mkfifo failed");
  const fd = openSync(path, "r+");
  return { fd, path, close: () => closeSync(fd) };
}

/** The ring configurations each kernel test runs under (liburing's test matrix idea). */
export const RING_CONFIGS: Array<{ name: string; options: RingOptions; available: boolean }> = [
  { name: "default", options: {}, available: true },
  { name: "sqpoll", options: { sqpoll: { idleMs: 50 } }, available: kernelHasSetupFlag(SetupFlags.SQPOLL) },
  {
    name: "defer-taskrun",
    options: { deferTaskrun: true },
    available: kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER),
  },
];

let probeRing: Ring | null = null;
/** Does the running kernel support opcode `op`? (For test.skipIf.) */
export function kernelHasOp(op: number): boolean {
  probeRing ??= new Ring(2);
  return probeRing.opSupported(op);
}


/**
 * Polls `cond` until it holds or `timeoutMs` passes; resolves to its last
 * value. For waits on something another thread or process does (a kernel
 * thread going idle, a waiter thread parking): these machines are loaded, so
 * a fixed sleep that is "long enough" here is too short there. Callers keep
 * their own `expect` on the condition, so a timeout fails where it matters;
 * the default stays under bun test's 5 s per test for the same reason.
 */
export async function waitFor(cond: () => boolean, { timeoutMs = 4_000, intervalMs = 2 } = {}): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return cond();
    await Bun.sleep(intervalMs);
  }
  return true;
}
