/**
 * The external writer of `wake.ts --writer worker`: a Worker that, each time
 * the main thread bumps the sequence word, sleeps the idle gap, stamps t0
 * (process.hrtime, CLOCK_MONOTONIC, the same clock in every thread) and
 * writes the mechanism's fd. The main thread is then asleep in Bun's loop
 * with nothing else to do, as in a server waiting for its next request, so
 * the wake-up includes waking the JS thread itself (wake.ts's default fires
 * from a JS timer on the main thread, which is awake at that moment).
 *
 * Control words (Int32Array over `ctl`): [0] sequence, [1] fd, [2] bytes to
 * write (1 for a FIFO, 8 for an eventfd), [3] idle gap in µs, [4] the
 * calibration ping, [5] ready; `t0` holds the stamp as a BigInt64 in ns.
 *
 * Bun's process.hrtime counts from a per-thread origin, so the main thread
 * first learns the offset between the two clocks: CALIBRATIONS ping-pongs with
 * both threads spinning, the offset taken from the one with the shortest round
 * trip (error at most half of it, reported by wake.ts).
 */
import { writeSync } from "node:fs";

declare const self: Worker;

/** Ping-pongs to measure the clock offset (wake.ts runs as many). */
export const CALIBRATIONS = 1000;

self.onmessage = (e: MessageEvent<{ ctl: SharedArrayBuffer; t0: SharedArrayBuffer }>) => {
  const ctl = new Int32Array(e.data.ctl);
  const t0 = new BigInt64Array(e.data.t0);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const one = new Uint8Array(new BigUint64Array([1n]).buffer);
  Atomics.store(ctl, 5, 1);
  for (let k = 0; k < CALIBRATIONS; k++) {
    while (Atomics.load(ctl, 4) !== 2 * k + 1);
    Atomics.store(t0, 0, process.hrtime.bigint());
    Atomics.store(ctl, 4, 2 * k + 2);
  }
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    if (seen < 0) break;
    // The idle gap: a futex wait that nobody wakes.
    Atomics.wait(nap, 0, 0, Atomics.load(ctl, 3) / 1000);
    Atomics.store(t0, 0, process.hrtime.bigint());
    writeSync(Atomics.load(ctl, 1), one.subarray(0, Atomics.load(ctl, 2)));
  }
  self.postMessage("done");
};
