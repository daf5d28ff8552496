/** Shared test helpers: ring configurations, fd counting, temp files, probe-based skips. */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "bun:test";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { Op, SetupFlags } from "../src/sys/constants.ts";

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
  for (const target of openFds().values()) if (target === "anon_inode:[eventfd]") n++;
  return n;
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = "uring-bench-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** This process's open descriptors: number → what it points at (`readlink` of /proc/self/fd/N). */
export function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const d of readdirSync("/proc/self/fd")) {
    try {
      fds.set(Number(d), readlinkSync(`/proc/self/fd/${d}`));
    } catch {
      // closed while we looked (the readdir's own fd, for one)
    }
  }
  return fds;
}

/**
 * Fails unless every descriptor open now was open (to the same thing) at
 * `before`, polling to a deadline. Compared by number and target, not by
 * count: in one `bun test` process an earlier file's async teardown (a
 * Worker exiting, Bun closing its duplicate of a stream's fd at its next
 * turn) may close descriptors during this test, which a count would blame on it.
 */
export async function expectNoNewFds(before: Map<number, string>, what = "the test", timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const added = [...openFds()].filter(([fd, target]) => before.get(fd) !== target);
    if (added.length === 0) return;
    if (performance.now() > deadline) {
      expect(added.map(([fd, target]) => `${what} left fd ${fd} -> ${target} open`)).toEqual([]);
      return;
    }
    await Bun.sleep(5);
  }
}

/** Fails every test of the calling file (or describe block) that leaves an fd open. */
export function checkFdsPerTest(): void {
  let fdsBefore: Map<number, string>;
  beforeEach(() => {
    fdsBefore = openFds();
  });
  afterEach(async () => {
    await expectNoNewFds(fdsBefore);
  });
}

/**
 * A fresh temp dir for every test of the calling file (or describe block),
 * removed after it, and the fd-leak check of {@link checkFdsPerTest}.
 * `.dir` is the current test's directory.
 */
export function tempDirPerTest(prefix?: string): { readonly dir: string } {
  let tmp: ReturnType<typeof tempDir> | null = null;
  let fdsBefore: Map<number, string>;
  beforeEach(() => {
    tmp = tempDir(prefix);
    fdsBefore = openFds();
  });
  afterEach(async () => {
    tmp?.cleanup();
    tmp = null;
    await expectNoNewFds(fdsBefore);
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
 * Polls `fn` until it returns something other than undefined or false and
 * resolves to that; after `timeoutMs` throws "timed out … waiting for
 * `what`". For waits on something another thread or process does (a kernel
 * thread going idle, a waiter thread parking, a child starting): these
 * machines are loaded, so a fixed sleep that is "long enough" here is too
 * short there. The default deadline stays under bun test's 5 s per test, so
 * a miss fails with this message rather than as a test timeout; the default
 * interval is short next to what tests wait for and cheap even when each
 * poll scans /proc (a test measuring CPU may poll more rarely).
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false,
  { timeoutMs = 4_000, intervalMs = 5 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}

/** Pids whose parent is `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(d));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The command line of `pid`, arguments joined by spaces ("" once it is gone). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Alive = exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Established IPv4 TCP connections to `port` on this machine (client side: the remote port), from /proc/net/tcp. */
export function establishedTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let n = 0;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n")) {
    const f = line.trim().split(/\s+/); // sl local_address rem_address st ...
    if (f[2]?.endsWith(hex) && f[3] === "01") n++;
  }
  return n;
}

/**
 * The kernel can run a TcpServerGroup: the ring-made listener (BIND/LISTEN,
 * 6.11), SO_REUSEPORT through URING_CMD setsockopt (6.7), and the MSG_RING
 * that wakes a Worker's ring.
 */
export function kernelCanRunGroups(): boolean {
  return kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN) && kernelHasOp(Op.URING_CMD) && kernelHasOp(Op.MSG_RING);
}
