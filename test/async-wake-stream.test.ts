/**
 * The "stream" wake-up (src/async/wake-stream.ts): an idle ring wakes through
 * Bun's own loop watching the ring's eventfd. Correct completions after idle
 * periods, on DEFER_TASKRUN and plain rings; no spinning while parked (process
 * CPU time over a polled idle window); the process exits when nothing is in
 * flight; no fd left after close.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Uring, type UringOptions } from "../src/async/index.ts";
import { expectNoNewFds, openFds, openFifo, tempDirPerFile, waitFor } from "./helpers.ts";

const tmp = tempDirPerFile();
const ASYNC_INDEX = join(import.meta.dir, "..", "src", "async", "index.ts");
/** CPU allowed while parked, as a fraction of the wall window: a spinning loop would use ~1.0. */
const IDLE_CPU_LIMIT = 0.1;

const RINGS: Array<{ name: string; options: UringOptions }> = [
  { name: "default ring (DEFER_TASKRUN where available)", options: {} },
  { name: "plain ring", options: { ring: {} } },
];

describe.each(RINGS)("wake: stream, $name", ({ options }) => {
  test("reads parked on idle FIFOs complete, repeatedly, with the bytes written", async () => {
    const uring = new Uring({ ...options, wake: "stream" });
    const f = openFifo(tmp.dir);
    try {
      for (let i = 0; i < 20; i++) {
        const buf = new Uint8Array(1);
        const p = uring.read(f.fd, buf, -1);
        // Let the ring park before the byte arrives.
        await Bun.sleep(1);
        writeSync(f.fd, new Uint8Array([i]));
        expect(await p).toBe(1);
        expect(buf[0]).toBe(i);
      }
      expect(uring.wakeups).toBeGreaterThan(0);
    } finally {
      uring.close();
      f.close();
    }
  });

  test("parked, it does not spin: process CPU over an idle window stays far below one core", async () => {
    const uring = new Uring({ ...options, wake: "stream" });
    const f = openFifo(tmp.dir);
    try {
      const p = uring.read(f.fd, new Uint8Array(1), -1);
      await Bun.sleep(20);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      // Poll until a window of at least 500 ms has passed (no fixed sleep is trusted on a loaded machine).
      await waitFor("a 500 ms window", () => performance.now() - t0 >= 500, { intervalMs: 50 });
      const c = process.cpuUsage(c0);
      const cpu = (c.user + c.system) / 1000 / (performance.now() - t0);
      expect(cpu).toBeLessThan(IDLE_CPU_LIMIT);
      writeSync(f.fd, new Uint8Array([7]));
      expect(await p).toBe(1);
    } finally {
      uring.close();
      f.close();
    }
  });
});

test("wake: stream, close releases the eventfd", async () => {
  const before = openFds();
  const uring = new Uring({ wake: "stream" });
  const f = openFifo(tmp.dir);
  const p = uring.read(f.fd, new Uint8Array(1), -1);
  await Bun.sleep(5);
  writeSync(f.fd, new Uint8Array([1]));
  await p;
  uring.close();
  f.close();
  await expectNoNewFds(before, "the closed Uring", 4_000);
});

test("wake: stream, the process exits once nothing is in flight", async () => {
  const file = join(tmp.dir, "exit-child.ts");
  writeFileSync(
    file,
    `import { Uring } from ${JSON.stringify(ASYNC_INDEX)};
import { openSync, writeSync } from "node:fs";
const uring = new Uring({ wake: "stream" });
Bun.spawnSync(["mkfifo", ${JSON.stringify(join(tmp.dir, "exit-fifo"))}]);
const fd = openSync(${JSON.stringify(join(tmp.dir, "exit-fifo"))}, "r+");
const p = uring.read(fd, new Uint8Array(1), -1);
setTimeout(() => writeSync(fd, new Uint8Array([1])), 20);
console.log("read", await p);
`,
  );
  const proc = Bun.spawn([process.execPath, file], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(9), 20_000);
  const code = await proc.exited;
  clearTimeout(timer);
  expect(proc.signalCode).toBeNull();
  expect(code).toBe(0);
  expect(await new Response(proc.stdout).text()).toContain("read 1");
});

test("wake: an unknown mechanism is refused before a ring exists (no descriptor left behind)", async () => {
  const before = openFds();
  for (let i = 0; i < 20; i++) expect(() => new Uring({ wake: "spin" as never })).toThrow(/wake must be/);
  // By identity: the earlier tests' streams may still be closing; a leaked ring each would add 20.
  await expectNoNewFds(before, "the refused Urings");
});
