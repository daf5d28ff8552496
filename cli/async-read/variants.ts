/**
 * The async-read benchmark as runner variants: 4 KiB reads at random offsets
 * from a page-cache-warm file through `Uring` (the library's promise API,
 * event-loop and run drivers, SQPOLL on request) against node:fs/promises and
 * Bun.file in Bun, a synchronous pread loop, the liburing C loop and
 * node:fs/promises under node. Three cells: QD in flight, QD 1 (latency of
 * one read at a time), and the wake-up from idle (a read parked on a FIFO,
 * woken by a write).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Uring } from "../../src/async/index.ts";
import { collectChild } from "../harness/child-output.ts";
import { LatencyRecorder } from "../harness/latency.ts";
import type { BenchVariant, Measurement, RunControl } from "../harness/runner.ts";
import { runInSlices } from "../harness/slices.ts";

/** Block size of every read. */
export const BS = 4096;
const ROOT = join(import.meta.dir, "..", "..");
/** The `read` command's liburing C loop, reused with BATCH 1 and no check. */
export const C_READ_PATH = join(ROOT, "build", "read_liburing");
const NODE_SCRIPT = join(import.meta.dir, "async-read-node.mjs");
/** A child loop may take this long beyond its run before it is killed. */
const CHILD_SLACK_MS = 30_000;

/** What the variants share: the file, the queue depth, the random offsets. */
export interface AsyncReadSetup {
  path: string;
  size: number;
  qd: number;
  sqpoll: boolean;
  /** The node binary, or null when node is not here. */
  node: string | null;
  /** Run the liburing C loop (build/read_liburing exists). */
  cLoop: boolean;
}

/** xorshift32 offsets: the same sequence shape as the C and node loops. */
class Offsets {
  private x = 12345;
  constructor(private readonly blocks: number) {}
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return (this.x % this.blocks) * BS;
  }
}

/** `qd` promise loops of `op` until `durationMs` passes or the run is interrupted; latency of each op. */
async function inFlight(
  durationMs: number,
  ctx: RunControl,
  qd: number,
  lat: LatencyRecorder,
  op: (buf: Uint8Array) => Promise<unknown>,
): Promise<Measurement> {
  let ops = 0;
  let stop = false;
  const t0 = performance.now();
  const end = t0 + durationMs;
  const c0 = process.cpuUsage();
  lat.reset();
  await Promise.all(
    Array.from({ length: qd }, async () => {
      const buf = new Uint8Array(BS);
      while (!stop) {
        const s = performance.now();
        await op(buf);
        const now = performance.now();
        lat.record((now - s) * 1000);
        if ((++ops & 255) === 0) {
          ctx.report(ops);
          if (now > end || ctx.signal.aborted) stop = true;
        }
      }
    }),
  );
  return measured(ops, t0, c0, lat);
}

function measured(ops: number, t0: number, c0: NodeJS.CpuUsage, lat: LatencyRecorder): Measurement {
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const m: Measurement = { ops, seconds, bytes: ops * BS, cpu: { self: seconds > 0 ? (c.user + c.system) / 1e6 / seconds : 0 } };
  if (lat.count > 0) {
    const [p50, p99, p999] = lat.percentiles([50, 99, 99.9]) as [number, number, number];
    m.latencyUs = { p50, p99, p999, mean: lat.mean };
  }
  if (ops > 0) m.extra = { cpuUsPerOp: (c.user + c.system) / ops };
  return m;
}

/** The Uring drivers, each on its own ring, opened in setup. */
function uringVariant(name: string, cell: string, s: AsyncReadSetup, qd: number, driver: "event-loop" | "run" | "sqpoll", offsets: Offsets): BenchVariant {
  let uring: Uring | null = null;
  let fd = -1;
  const lat = new LatencyRecorder();
  return {
    name,
    cell,
    setup() {
      fd = openSync(s.path, "r");
      uring = new Uring(driver === "event-loop" ? { entries: 2 * s.qd } : { entries: 2 * s.qd, driver });
    },
    async run(durationMs, ctx) {
      const u = uring!;
      const m = await inFlight(durationMs, ctx, qd, lat, (b) => u.read(fd, b, offsets.next()));
      m.extra = { ...m.extra, setup: u.setupChoice };
      return m;
    },
    teardown() {
      uring?.close();
      uring = null;
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}

/** The synchronous pread loop, in slices so Ctrl-C is seen. */
function preadVariant(cell: string, s: AsyncReadSetup, offsets: Offsets): BenchVariant {
  let fd = -1;
  const lat = new LatencyRecorder();
  return {
    name: "pread",
    cell,
    setup() {
      fd = openSync(s.path, "r");
    },
    async run(durationMs, ctx) {
      const buf = new Uint8Array(BS);
      let ops = 0;
      lat.reset();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await runInSlices(durationMs, ctx.signal, (ms) => {
        const end = performance.now() + ms;
        let now = performance.now();
        while (now < end) {
          readSync(fd, buf, 0, BS, offsets.next());
          const t = performance.now();
          lat.record((t - now) * 1000);
          now = t;
          ops++;
        }
        ctx.report(ops);
        return false;
      });
      return measured(ops, t0, c0, lat);
    },
    teardown() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}

/** A promise baseline over an open handle. */
function handleVariant(name: string, cell: string, s: AsyncReadSetup, qd: number, offsets: Offsets, kind: "filehandle" | "bun-file"): BenchVariant {
  let fh: FileHandle | null = null;
  const lat = new LatencyRecorder();
  return {
    name,
    cell,
    async setup() {
      if (kind === "filehandle") fh = await open(s.path, "r");
    },
    async run(durationMs, ctx) {
      if (kind === "filehandle") {
        const h = fh!;
        return inFlight(durationMs, ctx, qd, lat, (b) => h.read(b, 0, BS, offsets.next()));
      }
      const file = Bun.file(s.path);
      return inFlight(durationMs, ctx, qd, lat, () => {
        const off = offsets.next();
        return file.slice(off, off + BS).arrayBuffer();
      });
    },
    async teardown() {
      await fh?.close();
      fh = null;
    },
  };
}

/** A loop in its own process (the C loop, node), started fresh each repetition; its JSON line is its result. */
function childVariant(name: string, cell: string, cmd: (durationMs: number) => [string, string[]]): BenchVariant {
  return {
    name,
    cell,
    async run(durationMs, ctx): Promise<Measurement> {
      if (ctx.phase === "warmup") return { ops: 0, seconds: 0 };
      ctx.report(0);
      const [bin, args] = cmd(durationMs);
      const r = await collectChild(bin, args, durationMs + CHILD_SLACK_MS, (e) => `could not run ${bin}: ${e.message}`);
      if (r.code !== 0) throw new Error(`${name} failed (exit ${r.code}): ${r.err.trim().split("\n").pop() ?? ""}`);
      const j = JSON.parse(r.out.trim().split("\n").pop()!) as { ops: number; seconds: number; cpu?: number; usr?: number; sys?: number };
      const cpuSec = j.usr !== undefined && j.sys !== undefined ? j.usr + j.sys : (j.cpu ?? 0);
      return {
        ops: j.ops,
        seconds: j.seconds,
        bytes: j.ops * BS,
        cpu: { self: j.seconds > 0 ? cpuSec / j.seconds : 0 },
        extra: j.ops > 0 ? { cpuUsPerOp: (cpuSec * 1e6) / j.ops } : {},
      };
    },
  };
}

/**
 * The wake-up from idle: a read of one byte parked on a FIFO, the ring idle
 * (the event-loop driver parked on its waiter), then a write wakes it; the
 * latency is write → promise resolved. Each sample waits ~2 ms for the idle.
 */
function wakeVariant(cell: string): BenchVariant {
  let uring: Uring | null = null;
  let dir = "";
  let pfd = -1;
  return {
    name: "uring",
    cell,
    setup() {
      dir = mkdtempSync(join(tmpdir(), "uring-bench-wake-"));
      const fifo = join(dir, "fifo");
      const r = spawnSync("mkfifo", [fifo]);
      if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr?.toString().trim() || r.error?.message}`);
      pfd = openSync(fifo, "r+");
      uring = new Uring({ entries: 8 });
    },
    async run(durationMs, ctx) {
      const u = uring!;
      const one = new Uint8Array(1);
      const samples: number[] = [];
      const start = performance.now();
      const end = start + durationMs;
      while (performance.now() < end && !ctx.signal.aborted) {
        const pending = u.read(pfd, one, -1);
        // Let the ring go idle (park on the waiter thread), then wake it.
        const t0 = await new Promise<number>((resolve) =>
          setTimeout(() => {
            const t = performance.now();
            writeSync(pfd, one);
            resolve(t);
          }, 2),
        );
        await pending;
        samples.push((performance.now() - t0) * 1000);
        ctx.report(samples.length);
      }
      return { ops: samples.length, seconds: (performance.now() - start) / 1000, latencySamplesUs: samples };
    },
    teardown() {
      uring?.close();
      uring = null;
      if (pfd >= 0) closeSync(pfd);
      pfd = -1;
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The cells' labels. */
export function asyncReadCells(qd: number): { inFlight: string; qd1: string; wake: string } {
  return { inFlight: `4k rand qd${qd}`, qd1: "4k rand qd1", wake: "wake from idle" };
}

/** Every variant of every cell. */
export function asyncReadVariants(s: AsyncReadSetup): BenchVariant[] {
  const cells = asyncReadCells(s.qd);
  const offsets = new Offsets(Math.floor(s.size / BS));
  const out: BenchVariant[] = [
    uringVariant("uring", cells.inFlight, s, s.qd, "event-loop", offsets),
    uringVariant("uring-run", cells.inFlight, s, s.qd, "run", offsets),
  ];
  if (s.sqpoll) out.push(uringVariant("uring-sqpoll", cells.inFlight, s, s.qd, "sqpoll", offsets));
  out.push(
    handleVariant("bun-filehandle", cells.inFlight, s, s.qd, offsets, "filehandle"),
    handleVariant("bun-file", cells.inFlight, s, s.qd, offsets, "bun-file"),
    preadVariant(cells.inFlight, s, offsets),
  );
  if (s.cLoop) {
    // PATH SIZE BS QD BATCH MS WARMUP_MS DIRECT RAND FIXED SEED MAXOPS VERIFY: buffered random reads,
    // one completion waited for per round, no byte budget, lengths checked only (random bytes).
    out.push(
      childVariant("c-liburing", cells.inFlight, (ms) => [
        C_READ_PATH,
        [s.path, String(s.size), String(BS), String(s.qd), "1", String(ms), "0", "0", "1", "0", "12345", "0", "length"],
      ]),
    );
  }
  if (s.node !== null) {
    const node = s.node;
    out.push(childVariant("node-filehandle", cells.inFlight, (ms) => [node, [NODE_SCRIPT, s.path, String(s.size), String(s.qd), String(ms)]]));
  }
  out.push(uringVariant("uring", cells.qd1, s, 1, "event-loop", offsets), preadVariant(cells.qd1, s, offsets), wakeVariant(cells.wake));
  return out;
}
