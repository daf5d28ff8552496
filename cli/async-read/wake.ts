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
 *   thread+JSCallback          the first path's hop alone: eventfd write → shim waiter → JSCallback
 *   Bun.file(eventfd).stream() a non-blocking eventfd watched by Bun's own epoll loop (no thread)
 *   fs.read(eventfd)           a blocking read(2) of the eventfd on Bun's thread pool (Bun's thread, not ours)
 *   setImmediate hop           one event-loop turn, for scale
 *
 * Idle CPU: each mechanism armed and left waiting for 2 s; process CPU time
 * over the window, minus the same window with nothing armed.
 *
 * Each mechanism runs in a process of its own (this script with --only), one
 * child per mechanism per round, rounds interleaved: in one process the
 * mechanisms disturb each other (a pending Bun file stream of one slowed the
 * JSCallback path of another by ~100 µs at p50 in a first version).
 *
 * usage: bun cli/async-read/wake.ts [--samples 300] [--rounds 2] [--json]
 *        bun cli/async-read/wake.ts --only <index> [--samples N] [--idle-cpu]   (one child: prints JSON)
 */
import { spawnSync } from "node:child_process";
import { closeSync, openSync, read, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Uring } from "../../src/async/index.ts";
import type { WakeKind } from "../../src/async/driver.ts";
import { closeFd, eventfd, startEventfdWaiter } from "../../src/sys/ffi.ts";

const args = process.argv.slice(2);
const argNum = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i < 0 ? def : Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive integer`);
  return v;
};
const SAMPLES = argNum("samples", 300);
const ROUNDS = argNum("rounds", 2);
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
  close(): void;
}

function uringMechanism(wake: WakeKind): Mechanism {
  const fifo = join(tmpdir(), `uring-bench-wake-${process.pid}-${wake}`);
  spawnSync("mkfifo", [fifo]);
  const fd = openSync(fifo, "r+");
  const uring = new Uring({ entries: 8, wake });
  const one = new Uint8Array(1);
  return {
    name: `uring read (${wake})`,
    arm: (done) => void uring.read(fd, one, -1).then(done),
    fire: () => writeSync(fd, one),
    close() {
      uring.close();
      closeSync(fd);
      rmSync(fifo, { force: true });
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
    close() {
      waiter.stop();
      closeFd(efd);
    },
  };
}

function streamMechanism(): Mechanism {
  const efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  let cb = () => {};
  const reader = Bun.file(efd).stream().getReader();
  let open = true;
  void (async () => {
    while (open) {
      const r = await reader.read();
      if (r.done) break;
      cb();
    }
  })().catch(() => {});
  return {
    name: "Bun.file(eventfd).stream()",
    arm: (done) => void (cb = done),
    fire: () => writeSync(efd, ONE),
    close() {
      open = false;
      void reader.cancel().catch(() => {});
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
  for (let i = 0; i < 20; i++) await sampleOnce(m);
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) xs.push(await sampleOnce(m));
  let idleCpu: number | null = null;
  if (args.includes("--idle-cpu") && m.name !== "setImmediate hop") {
    const base = (await idleCpuMs(null)).cpuMs;
    const { cpuMs, done } = await idleCpuMs(m);
    idleCpu = Math.max(0, cpuMs - base) / IDLE_WINDOW_MS;
    m.fire();
    await done;
  }
  m.close();
  console.log(JSON.stringify({ name: m.name, samples: xs, idleCpu }));
  process.exit(0);
}

/** Runs one child for mechanism `i`. */
function child(i: number, idleCpu: boolean): { name: string; samples: number[]; idleCpu: number | null } {
  const argv = [import.meta.path, "--only", String(i), "--samples", String(SAMPLES)];
  if (idleCpu) argv.push("--idle-cpu");
  const r = spawnSync(process.execPath, argv, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wake child ${i} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

const names: string[] = [];
const samples = new Map<string, number[]>();
const idle = new Map<string, number>();
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < MECHANISMS.length; k++) {
    const i = (k + r) % MECHANISMS.length;
    // Idle CPU is measured once per mechanism, in the last round.
    const out = child(i, r === ROUNDS - 1);
    if (!samples.has(out.name)) {
      samples.set(out.name, []);
      names[i] = out.name;
    }
    samples.get(out.name)!.push(...out.samples);
    if (out.idleCpu !== null) idle.set(out.name, out.idleCpu);
  }
}

const rows = names.map((name) => {
  const xs = samples.get(name)!.sort((a, b) => a - b);
  const cpu = idle.get(name);
  return {
    mechanism: name,
    "p50 µs": +pct(xs, 50).toFixed(1),
    "p90 µs": +pct(xs, 90).toFixed(1),
    "p99 µs": +pct(xs, 99).toFixed(1),
    "idle CPU %": cpu === undefined ? "-" : +(cpu * 100).toFixed(2),
  };
});
if (args.includes("--json")) console.log(JSON.stringify({ samples: SAMPLES, rounds: ROUNDS, idleMs: IDLE_MS, rows }, null, 2));
else {
  console.log(
    `idle → resolved, ${ROUNDS} rounds × ${SAMPLES} samples per mechanism, one process per mechanism per round, interleaved; idle CPU over ${IDLE_WINDOW_MS} ms armed, minus unarmed`,
  );
  console.table(rows);
}
process.exit(0);
