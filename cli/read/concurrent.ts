/**
 * The shape of the promise baselines: `qd` independent loops, each awaiting
 * one read at a time, so `qd` reads are in flight as with the ring. Each read
 * is checked and timed; the loops stop when the time is up.
 */
import type { LatencySink } from "./uring.ts";
import { OffsetGenerator } from "./offsets.ts";
import { verifyRead } from "./pattern.ts";
import type { ReadWorkload } from "./workload.ts";

/** Reads `bs` bytes at `offset` into slot `slot`; resolves to the bytes read and the words to check. */
export type SlotRead = (slot: number, offset: number) => Promise<{ res: number; words: Uint32Array; wordBase: number }>;

/** Runs `w.qd` concurrent read loops for `durationMs`, or until `maxOps` reads were issued. */
export async function concurrentReads(
  w: ReadWorkload,
  gen: OffsetGenerator,
  read: SlotRead,
  durationMs: number,
  lat: LatencySink | null,
  counter: { count: number },
  report?: (ops: number) => void,
  maxOps = w.maxOps > 0 ? w.maxOps : Infinity,
): Promise<{ ops: number; bytes: number; seconds: number }> {
  const start = performance.now();
  const stopAt = start + durationMs;
  let ops = 0;
  let bytes = 0;
  let lastReport = start;
  let end = start;
  // Reads handed out, so the op budget holds across the loops.
  let issued = 0;
  const one = async (slot: number) => {
    let now = performance.now();
    while (now < stopAt && issued < maxOps) {
      issued++;
      const off = gen.nextOffset();
      const { res, words, wordBase } = await read(slot, off);
      const t = performance.now();
      verifyRead(w.verify, words, wordBase, off, res, w.bs, counter.count++);
      if (lat !== null) lat.record((t - now) * 1000);
      ops++;
      bytes += res;
      now = t;
      if (report !== undefined && t - lastReport >= 100) {
        report(ops);
        lastReport = t;
      }
    }
    if (now > end) end = now;
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < w.qd; i++) loops.push(one(i));
  await Promise.all(loops);
  return { ops, bytes, seconds: (end - start) / 1000 };
}
