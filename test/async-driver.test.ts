/**
 * Drivers: Bun's timers keep firing while the ring is idle; an idle ring
 * wakes through the waiter thread; the process stays alive exactly while
 * requests are pending and exits when nothing is; the flag choice.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Uring, type DriverKind, type UringOptions } from "../src/async/index.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { countEventfds, openFifo, tempDirPerFile, waitFor } from "./helpers.ts";

const ASYNC_INDEX = join(import.meta.dir, "..", "src", "async", "index.ts");
const BUN = process.execPath;
/** Bound for a child that should exit on its own (generous: the machine may be loaded). */
const CHILD_TIMEOUT_MS = 20_000;

const tmp = tempDirPerFile();
let n = 0;
const fifo = () => openFifo(tmp.dir);

/** Runs `source` as a child bun script; returns exit code, stdout, and whether it had to be killed. */
async function runChild(source: string): Promise<{ code: number | null; out: string; killed: boolean }> {
  const file = join(tmp.dir, `child-${n++}.ts`);
  writeFileSync(file, source);
  const proc = Bun.spawn([BUN, file], { stdout: "pipe", stderr: "pipe" });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    proc.kill(9);
  }, CHILD_TIMEOUT_MS);
  const code = await proc.exited;
  clearTimeout(timer);
  const out = await new Response(proc.stdout).text();
  const err = await new Response(proc.stderr).text();
  if (code !== 0 && !killed) console.error(err);
  return { code, out, killed };
}

const DRIVERS: Array<{ name: string; driver: DriverKind; options: UringOptions; available: boolean }> = [
  { name: "event-loop", driver: "event-loop", options: {}, available: true },
  // The fallback ring (no DEFER_TASKRUN): completions are posted by task work in the JS thread.
  { name: "event-loop, plain ring", driver: "event-loop", options: { ring: {} }, available: true },
  // The waiter thread (no longer the default wake-up), on both rings.
  { name: "event-loop, waiter thread", driver: "event-loop", options: { wake: "thread" }, available: true },
  { name: "event-loop, plain ring, waiter thread", driver: "event-loop", options: { ring: {}, wake: "thread" }, available: true },
  { name: "run", driver: "run", options: {}, available: true },
  { name: "sqpoll", driver: "sqpoll", options: {}, available: kernelHasSetupFlag(SetupFlags.SQPOLL) },
];

describe.each(DRIVERS)("driver $name", ({ driver, options, available }) => {
  test.skipIf(!available)("timers keep firing while the ring is idle, then the request completes", async () => {
    const uring = new Uring({ ...options, driver, runWaitMs: 5 });
    const f = fifo();
    try {
      const buf = new Uint8Array(4);
      const p = uring.read(f.fd, buf, -1);
      // Idle means parked, for the drivers that park: the first park creates the eventfd.
      const eventfds = countEventfds();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 2);
      await waitFor("timer ticks on an idle (parked) ring", () => ticks >= 3 && (driver === "run" || countEventfds() > eventfds));
      clearInterval(timer);
      expect(ticks).toBeGreaterThanOrEqual(3);
      expect(uring.pending).toBe(1);
      writeSync(f.fd, "ping");
      expect(await p).toBe(4);
      expect(new TextDecoder().decode(buf)).toBe("ping");
      if (driver !== "run") expect(uring.wakeups).toBeGreaterThan(0);
    } finally {
      f.close();
      uring.close();
    }
  });

  test.skipIf(!available)("the process exits when nothing is pending (Uring left open)", async () => {
    const r = await runChild(`
      import { Uring } from ${JSON.stringify(ASYNC_INDEX)};
      const uring = new Uring({ ...${JSON.stringify(options)}, driver: ${JSON.stringify(driver)} });
      await uring.nop();
      await uring.sleep(5);
      console.log("done", uring.pending);
    `);
    expect(r.killed).toBe(false);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe("done 0");
  });

  test.skipIf(!available)("the process stays alive while a request is pending", async () => {
    const f = fifo();
    f.close();
    const r = await runChild(`
      import { Uring } from ${JSON.stringify(ASYNC_INDEX)};
      import { openSync, writeSync } from "node:fs";
      const uring = new Uring({ ...${JSON.stringify(options)}, driver: ${JSON.stringify(driver)} });
      const fd = openSync(${JSON.stringify(f.path)}, "r+");
      const buf = new Uint8Array(3);
      uring.read(fd, buf, -1).then((n) => console.log("read", n, new TextDecoder().decode(buf)));
      // Nothing else holds the event loop: only the pending read does. An unref'd
      // timer writes the data, so the child exits only if the read kept it alive.
      setTimeout(() => writeSync(fd, "abc"), 50).unref();
    `);
    expect(r.killed).toBe(false);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe("read 3 abc");
  });
});

describe("idle wake-ups, many in a row", () => {
  // The waiter thread is armed by a flag in the shim (no syscall) and drops a
  // signal that finds it unarmed: a write that lands just before, during or
  // after the park must never be lost. The writes come at once (racing the
  // park), after a macrotask, or after a timer, so every order occurs.
  // Both wake-ups: the stream (the default) and the waiter thread.
  const RINGS: Array<{ name: string; options: UringOptions }> = [
    { name: "default ring, stream", options: {} },
    { name: "plain ring, stream", options: { ring: {} } },
    { name: "default ring, waiter thread", options: { wake: "thread" } },
    { name: "plain ring, waiter thread", options: { ring: {}, wake: "thread" } },
  ];
  test.each(RINGS)("300 reads on a FIFO, written at varied moments, all complete ($name)", async ({ options }) => {
    const uring = new Uring(options);
    const f = fifo();
    try {
      for (let i = 0; i < 300; i++) {
        const buf = new Uint8Array(1);
        const p = uring.read(f.fd, buf, -1);
        const byte = new Uint8Array([i & 0xff]);
        if (i % 3 === 0) writeSync(f.fd, byte);
        else if (i % 3 === 1) setImmediate(() => writeSync(f.fd, byte));
        else setTimeout(() => writeSync(f.fd, byte), i % 2);
        let got = -1;
        void p.then((n) => (got = n));
        // Polled with a deadline: a lost wake-up shows as a timeout naming the read.
        await waitFor(`read ${i} to complete`, () => got === 1);
        expect(buf[0]).toBe(i & 0xff);
      }
      expect(uring.wakeups).toBeGreaterThan(0);
    } finally {
      f.close();
      uring.close();
    }
  });
});

describe("workers", () => {
  test("a Uring inside a Worker (its own single-issuer ring and waiter thread)", async () => {
    const f = fifo();
    f.close();
    const file = join(tmp.dir, `worker-${n++}.ts`);
    writeFileSync(
      file,
      `
      import { Uring } from ${JSON.stringify(ASYNC_INDEX)};
      import { openSync, writeSync, closeSync } from "node:fs";
      declare var self: Worker;
      const uring = new Uring();
      const fd = openSync(${JSON.stringify(f.path)}, "r+");
      const p = uring.read(fd, new Uint8Array(1), -1);
      setTimeout(() => writeSync(fd, "w"), 10);
      const r = await p;
      self.postMessage({ nop: await uring.nop(), r, choice: uring.setupChoice });
      uring.close();
      closeSync(fd);
    `,
    );
    const worker = new Worker(file);
    try {
      const msg = await new Promise<{ nop: number; r: number; choice: string }>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(e);
      });
      expect(msg.nop).toBe(0);
      expect(msg.r).toBe(1);
    } finally {
      worker.terminate();
    }
  });
});

describe("setup flags", () => {
  test("the event-loop ring prefers DEFER_TASKRUN | SINGLE_ISSUER where the kernel has them", () => {
    const uring = new Uring();
    try {
      if (kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER)) {
        expect(uring.setupChoice).toBe("defer-taskrun+single-issuer");
        expect(uring.ring.flags & SetupFlags.DEFER_TASKRUN).toBeTruthy();
      } else {
        expect(["single-issuer", "plain"]).toContain(uring.setupChoice);
      }
    } finally {
      uring.close();
    }
  });

  test("an unknown driver is refused with a clear message", () => {
    expect(() => new Uring({ driver: "epoll" as DriverKind })).toThrow(/driver must be/);
  });

  test("timers keep firing while the ring is busy (completions every tick)", async () => {
    const uring = new Uring();
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      // Busy until the timer has fired a few times among the completions: if
      // busy rounds starved the event loop it never would, and the deadline
      // (not a fixed 40 ms, too short on a loaded machine) ends the loop.
      let late = false;
      const deadline = setTimeout(() => (late = true), 4_000); // under the test timeout: a slow loop fails on the expects below
      let ops = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (!late && !(ticks >= 2 && ops > 100)) {
            await uring.nop();
            ops++;
          }
        }),
      );
      clearTimeout(deadline);
      clearInterval(timer);
      expect(ticks).toBeGreaterThanOrEqual(2);
      expect(ops).toBeGreaterThan(100);
    } finally {
      uring.close();
    }
  });

  test("many ops in one tick share one io_uring_enter", async () => {
    const uring = new Uring({ entries: 256 });
    try {
      await uring.nop();
      const before = uring.ring.enterCount;
      await Promise.all(Array.from({ length: 100 }, () => uring.nop()));
      expect(uring.ring.enterCount - before).toBe(1);
    } finally {
      uring.close();
    }
  });
});
