/**
 * Idle → resolved: what a request that finds the ring idle pays for the
 * event-loop driver's wake-up, and what the alternatives would pay, in one
 * run (mechanisms interleaved round by round). Each sample lets the JS thread
 * go idle for ~1 ms, then makes the event happen and times until JavaScript
 * runs the continuation.
 *
 *   uring read (thread)        Uring's event-loop driver, end to end: a read on a FIFO parked,
 *                              the FIFO written: eventfd → shim waiter thread → thread-safe JSCallback → reap
 *   uring read (stream)        the same with `wake: "stream"`: the ring's eventfd watched by Bun's own loop
 *                              (src/async/wake-stream.ts), no thread
 *   ring + Bun stream, no Uring  the stream path by hand on a raw Ring (eventfd, Bun's hop, one enter, the CQE):
 *                              the row above minus this one is what Uring's own JavaScript adds
 *   thread+JSCallback          the first path's hop alone: eventfd write → shim waiter → JSCallback
 *   Bun.file(eventfd).stream() a non-blocking eventfd watched by Bun's own epoll loop (no thread)
 *   fs.read(eventfd)           a blocking read(2) of the eventfd on Bun's thread pool (Bun's thread, not ours)
 *   setImmediate hop           one event-loop turn, for scale
 *   C …                        the floor: c/reference/wake_floor.c (build/wake_floor, if built) timing the
 *                              same event in C: epoll on the ring's eventfd, the same through a waiter
 *                              thread and a futex, io_uring_wait_cqe; DEFER_TASKRUN ring like Uring's
 *
 * Who writes (--writer):
 *   timer   (default) the JS thread itself, from a 1 ms timer: the JS thread is awake when the event
 *           happens (the C rows: "writer self", the same sequence)
 *   worker  a Worker (wake-writer.ts) sleeps 1 ms and writes, stamping t0 with process.hrtime: the JS
 *           thread is asleep in Bun's loop, as in a server waiting for a request, so its own wake-up
 *           counts too (the C rows: "writer any", a writer thread on a fixed timeline); no setImmediate row
 *
 * Idle CPU: each mechanism armed and left waiting for 2 s; process CPU time
 * over the window, minus the same window with nothing armed.
 *
 * Each mechanism runs in a process of its own (this script with --only), one
 * child per mechanism per round, rounds interleaved: in one process the
 * mechanisms disturb each other (a pending Bun file stream of one slowed the
 * JSCallback path of another by ~100 µs at p50 in a first version).
 *
 * usage: bun cli/async-read/wake.ts [--samples 300] [--warmup 1000] [--rounds 2] [--writer timer|worker] [--json]
 *        bun cli/async-read/wake.ts --only <index> [--samples N] [--warmup N] [--writer …] [--idle-cpu]   (one child: prints JSON)
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, read, rmSync, writeSync } from "node:fs";
import { loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { Uring } from "../../src/async/index.ts";
import { AlignedBuffer } from "../../src/mem/aligned.ts";
import { prepRead } from "../../src/ops/rw.ts";
import { registerEventfd } from "../../src/ring/register.ts";
import { Ring } from "../../src/ring/ring.ts";
import type { WakeKind } from "../../src/async/driver.ts";
import { closeFd, eventfd, startEventfdWaiter } from "../../src/sys/ffi.ts";
import { CALIBRATIONS } from "./wake-writer.ts";

const args = process.argv.slice(2);
const argNum = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i < 0 ? def : Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive integer`);
  return v;
};
const SAMPLES = argNum("samples", 300);
/**
 * Unmeasured samples first. JSC compiles hot code in tiers at fixed call
 * counts, and each compile on this 2-vCPU VM stalls a sample by 0.3-2 ms: with
 * 20 warm-ups the Uring path's p99 was 1.7-2.3 ms and its worst samples fell
 * at the same indices in every run; with 600 it was 0.21-0.26 ms. A server is
 * past its tier-ups after its first thousand requests, so that is the default.
 */
const WARMUP = argNum("warmup", 1000);
const ROUNDS = argNum("rounds", 2);
const writerAt = args.indexOf("--writer");
const writerArg = writerAt < 0 ? "timer" : args[writerAt + 1];
if (writerArg !== "timer" && writerArg !== "worker") throw new Error("--writer needs timer or worker");
const WRITER: "timer" | "worker" = writerArg;
/** The C floor (c/reference/wake_floor.c), built by `gcc -O2 -o build/wake_floor c/reference/wake_floor.c -luring -lpthread`. */
const FLOOR_BIN = join(import.meta.dir, "..", "..", "build", "wake_floor");
/** The C rows: how the main thread waits, on a ring set up as Uring's (DEFER_TASKRUN | SINGLE_ISSUER). */
const FLOOR_MODES = ["epoll", "thread", "wait"] as const;
/** Idle gap before each event: long enough that every mechanism has parked. */
const IDLE_MS = 1;
/** Window of the idle-CPU measurement. */
const IDLE_WINDOW_MS = 2000;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const ONE = new Uint8Array(new BigUint64Array([1n]).buffer);

/** A wake-up mechanism under test. */
interface Mechanism {
  name: string;
  /** Arms the mechanism; `done` runs on the JS thread once the event is seen. */
  arm(done: () => void): void;
  /** Makes the event happen (called after the idle gap). */
  fire(): void;
  /** What an external writer writes to make the event happen: fd and byte count (none: no worker row). */
  target?: { fd: number; bytes: number };
  close(): void;
}

/** A FIFO in the temp dir, open read-write (so neither end blocks), for a read to park on; `close` also removes it. */
function openFifo(tag: string): { fd: number; close(): void } {
  const fifo = join(tmpdir(), `uring-bench-wake-${process.pid}-${tag}`);
  spawnSync("mkfifo", [fifo]);
  const fd = openSync(fifo, "r+");
  return {
    fd,
    close() {
      closeSync(fd);
      rmSync(fifo, { force: true });
    },
  };
}

function uringMechanism(wake: WakeKind): Mechanism {
  const fifo = openFifo(wake);
  const fd = fifo.fd;
  const uring = new Uring({ entries: 8, wake });
  const one = new Uint8Array(1);
  return {
    name: `uring read (${wake})`,
    arm: (done) => void uring.read(fd, one, -1).then(done),
    fire: () => writeSync(fd, one),
    target: { fd, bytes: 1 },
    close() {
      uring.close();
      fifo.close();
    },
  };
}

/**
 * The stream path with no Uring: a raw Ring set up as Uring's (DEFER_TASKRUN),
 * its eventfd watched by Bun.file().stream(); on the chunk, one enter with
 * GETEVENTS posts the read's CQE. The kernel's path plus Bun's hop plus the
 * enter, so "uring read (stream)" minus this row is what Uring's JavaScript
 * (scheduler, reap, Promise) adds.
 */
function rawRingMechanism(): Mechanism {
  const fifo = openFifo("raw");
  const fd = fifo.fd;
  const one = new Uint8Array(1);
  const ring = new Ring(8, { deferTaskrun: true });
  const efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (registerEventfd(ring, efd) < 0) throw new Error("IORING_REGISTER_EVENTFD failed");
  const buf = new AlignedBuffer(64);
  let onChunk = () => {};
  const stopWatching = watchEventfd(efd, () => onChunk());
  return {
    name: "ring + Bun stream, no Uring",
    arm(done) {
      prepRead(ring.getSqe()!, fd, buf.address, 1, -1);
      ring.submit();
      onChunk = () => {
        ring.cqEventfdToggle(false);
        ring.getEvents();
        const cqe = ring.peekCqe();
        if (cqe === null) return; // a stale signal: keep waiting
        const res = cqe.res;
        ring.cqAdvance(1);
        if (res !== 1) throw new Error(`ring + stream: read returned ${res}`);
        done();
      };
      ring.cqEventfdToggle(true);
    },
    fire: () => writeSync(fd, one),
    target: { fd, bytes: 1 },
    close() {
      stopWatching();
      ring.close();
      closeFd(efd);
      buf.free();
      fifo.close();
    },
  };
}

function threadMechanism(): Mechanism {
  const efd = eventfd(0, EFD_CLOEXEC);
  let cb = () => {};
  const waiter = startEventfdWaiter(efd, () => cb());
  return {
    name: "thread+JSCallback",
    arm(done) {
      cb = done;
      waiter.arm();
    },
    fire: () => writeSync(efd, ONE),
    target: { fd: efd, bytes: 8 },
    close() {
      waiter.stop();
      closeFd(efd);
    },
  };
}

/** Bun's own loop reading eventfd `efd` through a file stream: `onChunk()` at every signal. Returns the stop function. */
function watchEventfd(efd: number, onChunk: () => void): () => void {
  const reader = Bun.file(efd).stream().getReader();
  let open = true;
  void (async () => {
    while (open) {
      const r = await reader.read();
      if (r.done) break;
      onChunk();
    }
  })().catch(() => {});
  return () => {
    open = false;
    void reader.cancel().catch(() => {});
  };
}

function streamMechanism(): Mechanism {
  const efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  let cb = () => {};
  const stopWatching = watchEventfd(efd, () => cb());
  return {
    name: "Bun.file(eventfd).stream()",
    arm: (done) => void (cb = done),
    fire: () => writeSync(efd, ONE),
    target: { fd: efd, bytes: 8 },
    close() {
      stopWatching();
      closeFd(efd);
    },
  };
}

function poolMechanism(): Mechanism {
  const efd = eventfd(0, EFD_CLOEXEC);
  const buf = new Uint8Array(8);
  return {
    name: "fs.read(eventfd) pool",
    arm: (done) => read(efd, buf, 0, 8, null, () => done()),
    fire: () => writeSync(efd, ONE),
    target: { fd: efd, bytes: 8 },
    close() {
      closeFd(efd);
    },
  };
}

function immediateMechanism(): Mechanism {
  let pending: (() => void) | null = null;
  return {
    name: "setImmediate hop",
    arm: (done) => void (pending = done),
    fire: () => setImmediate(() => pending?.()),
    close() {},
  };
}

/** One sample: arm, idle IDLE_MS, fire, time until `done`. µs. */
function sampleOnce(m: Mechanism): Promise<number> {
  return new Promise((resolve) => {
    let t0 = 0;
    m.arm(() => resolve((performance.now() - t0) * 1000));
    setTimeout(() => {
      t0 = performance.now();
      m.fire();
    }, IDLE_MS);
  });
}

/** The Worker writer (wake-writer.ts) and its shared control words. */
interface ExternalWriter {
  worker: Worker;
  ctl: Int32Array;
  t0: BigInt64Array;
  /** The Worker's hrtime minus ours, ns. */
  offset: bigint;
  /** Half the shortest calibration round trip: the offset's error bound, ns. */
  errorNs: bigint;
}

/** Starts the Worker writer and measures its clock offset (both threads spinning). */
async function startWriter(): Promise<ExternalWriter> {
  const ctl = new Int32Array(new SharedArrayBuffer(32));
  const t0 = new BigInt64Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("./wake-writer.ts", import.meta.url).href);
  worker.postMessage({ ctl: ctl.buffer, t0: t0.buffer });
  while (Atomics.load(ctl, 5) !== 1) await Bun.sleep(1);
  let best = -1n;
  let offset = 0n;
  for (let k = 0; k < CALIBRATIONS; k++) {
    const a = process.hrtime.bigint();
    Atomics.store(ctl, 4, 2 * k + 1);
    while (Atomics.load(ctl, 4) !== 2 * k + 2);
    const b = process.hrtime.bigint();
    if (best < 0n || b - a < best) {
      best = b - a;
      offset = Atomics.load(t0, 0) - (a + b) / 2n;
    }
  }
  return { worker, ctl, t0, offset, errorNs: best / 2n };
}

/** One sample with the Worker writing: arm, let the Worker sleep IDLE_MS and write, time until `done` on one clock. µs. */
function sampleExternal(m: Mechanism, w: ExternalWriter): Promise<number> {
  const target = m.target!;
  return new Promise((resolve) => {
    m.arm(() => resolve(Number(process.hrtime.bigint() + w.offset - Atomics.load(w.t0, 0)) / 1000));
    Atomics.store(w.ctl, 1, target.fd);
    Atomics.store(w.ctl, 2, target.bytes);
    Atomics.store(w.ctl, 3, IDLE_MS * 1000);
    Atomics.add(w.ctl, 0, 1);
    Atomics.notify(w.ctl, 0);
  });
}

/** Process CPU (user + sys), ms, over an idle window with `m` armed (or nothing). */
async function idleCpuMs(m: Mechanism | null): Promise<{ cpuMs: number; done: Promise<unknown> }> {
  let done: Promise<unknown> = Promise.resolve();
  if (m !== null) done = new Promise<void>((r) => m.arm(r));
  const c0 = process.cpuUsage();
  await Bun.sleep(IDLE_WINDOW_MS);
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, done };
}

const MECHANISMS: Array<() => Mechanism> = [
  () => uringMechanism("thread"),
  () => uringMechanism("stream"),
  rawRingMechanism,
  threadMechanism,
  streamMechanism,
  poolMechanism,
  immediateMechanism,
];

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

const onlyAt = args.indexOf("--only");
if (onlyAt >= 0) {
  // Child: one mechanism, warm-up, SAMPLES samples, then (if asked) its idle CPU.
  const m = MECHANISMS[Number(args[onlyAt + 1])]!();
  if (WRITER === "worker" && m.target === undefined) {
    m.close();
    console.log(JSON.stringify({ name: m.name, samples: [], idleCpu: null }));
    process.exit(0);
  }
  const w = WRITER === "worker" ? await startWriter() : null;
  const once = (): Promise<number> => (w === null ? sampleOnce(m) : sampleExternal(m, w));
  for (let i = 0; i < WARMUP; i++) await once();
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) xs.push(await once());
  if (w !== null) w.worker.terminate();
  let idleCpu: number | null = null;
  if (args.includes("--idle-cpu") && m.name !== "setImmediate hop") {
    const base = (await idleCpuMs(null)).cpuMs;
    const { cpuMs, done } = await idleCpuMs(m);
    idleCpu = Math.max(0, cpuMs - base) / IDLE_WINDOW_MS;
    m.fire();
    await done;
  }
  m.close();
  console.log(JSON.stringify({ name: m.name, samples: xs, idleCpu, clockErrorUs: w === null ? 0 : Number(w.errorNs) / 1000 }));
  process.exit(0);
}

/** Runs one child for mechanism `i` (past the TypeScript ones: a C floor row). */
function child(i: number, idleCpu: boolean): { name: string; samples: number[]; idleCpu: number | null; clockErrorUs?: number } {
  if (i >= MECHANISMS.length) return floorChild(FLOOR_MODES[i - MECHANISMS.length]!);
  const argv = [import.meta.path, "--only", String(i), "--samples", String(SAMPLES), "--warmup", String(WARMUP), "--writer", WRITER];
  if (idleCpu) argv.push("--idle-cpu");
  const r = spawnSync(process.execPath, argv, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wake child ${i} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** One run of the C floor: the same event, the writer matching --writer (the thread itself, or another thread). */
function floorChild(mode: string): { name: string; samples: number[]; idleCpu: number | null } {
  const writer = WRITER === "timer" ? "self" : "any";
  const argv = ["--mode", mode, "--writer", writer, "--flags", "defer", "--samples", String(SAMPLES), "--idle-us", String(IDLE_MS * 1000), "--json"];
  const r = spawnSync(FLOOR_BIN, argv, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wake_floor ${argv.join(" ")} failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { name: string; samples: number[] };
  // Idle CPU is not measured for C: nothing in it runs while parked.
  return { name: out.name, samples: out.samples, idleCpu: null };
}

const hasFloor = existsSync(FLOOR_BIN);
if (!hasFloor) console.error(`(no C floor rows: ${FLOOR_BIN} is not built)`);
const CHILDREN = MECHANISMS.length + (hasFloor ? FLOOR_MODES.length : 0);

const names: string[] = [];
const samples = new Map<string, number[]>();
/** Each round's p50 per mechanism: on a shared machine the pooled p50 can hide one bad round. */
const roundP50s = new Map<string, number[]>();
const idle = new Map<string, number>();
/** The worst clock-offset error of any child (--writer worker), µs. */
let clockErrorUs = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < CHILDREN; k++) {
    const i = (k + r) % CHILDREN;
    // Idle CPU is measured once per mechanism, in the last round.
    const out = child(i, r === ROUNDS - 1);
    if (!samples.has(out.name)) {
      samples.set(out.name, []);
      names[i] = out.name;
    }
    samples.get(out.name)!.push(...out.samples);
    if (out.samples.length > 0) {
      const own = [...out.samples].sort((a, b) => a - b);
      roundP50s.set(out.name, [...(roundP50s.get(out.name) ?? []), pct(own, 50)]);
    }
    if (out.idleCpu !== null) idle.set(out.name, out.idleCpu);
    clockErrorUs = Math.max(clockErrorUs, out.clockErrorUs ?? 0);
  }
}

const rows = names.flatMap((name) => {
  const xs = samples.get(name)!.sort((a, b) => a - b);
  if (xs.length === 0) return [];
  const cpu = idle.get(name);
  return [
    {
      mechanism: name,
      "p50 µs": +pct(xs, 50).toFixed(1),
      "round p50s µs": `${Math.min(...roundP50s.get(name)!).toFixed(0)}-${Math.max(...roundP50s.get(name)!).toFixed(0)}`,
      "p90 µs": +pct(xs, 90).toFixed(1),
      "p99 µs": +pct(xs, 99).toFixed(1),
      "idle CPU %": cpu === undefined ? "-" : +(cpu * 100).toFixed(2),
    },
  ];
});
const context = `${release()}, Bun ${Bun.version}, load average ${loadavg()
  .map((x) => x.toFixed(2))
  .join(
    " ",
  )}, ${new Date().toISOString()}${WRITER === "worker" ? `; Worker clock offset error ≤ ${clockErrorUs.toFixed(2)} µs` : ""}; command: bun cli/async-read/wake.ts ${args.join(" ")}`;
if (args.includes("--json"))
  console.log(JSON.stringify({ samples: SAMPLES, warmup: WARMUP, rounds: ROUNDS, idleMs: IDLE_MS, writer: WRITER, clockErrorUs, context, rows }, null, 2));
else {
  console.log(
    `idle → resolved, writer: ${WRITER === "timer" ? "the JS thread from a 1 ms timer" : "a Worker after 1 ms (JS thread asleep)"}, ${ROUNDS} rounds × ${SAMPLES} samples per mechanism (after ${WARMUP} unmeasured), one process per mechanism per round, interleaved; idle CPU over ${IDLE_WINDOW_MS} ms armed, minus unarmed`,
  );
  console.table(rows);
  console.log(`context: ${context}`);
}
process.exit(0);
