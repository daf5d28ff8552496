/**
 * The synchronous baseline: one pread(2) at a time (`fs.readSync` with a
 * position), the loop most code writes. Queue depth 1 by nature. O_DIRECT
 * reads go into aligned off-heap memory.
 */
import { closeSync, readSync } from "node:fs";
import { AlignedBuffer, PAGE_SIZE } from "../../src/mem/aligned.ts";
import type { LatencySink } from "./uring.ts";
import { OffsetGenerator } from "./offsets.ts";
import { verifyRead } from "./pattern.ts";
import { openForRead } from "./target.ts";
import type { ReadWorkload } from "./workload.ts";

/** A pread loop over one open file. */
export class PreadReader {
  private readonly w: ReadWorkload;
  private readonly fd: number;
  private readonly buf: AlignedBuffer;
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly gen: OffsetGenerator;
  private count = 0;

  constructor(w: ReadWorkload) {
    this.w = w;
    this.fd = openForRead(w.path, w.direct);
    this.buf = new AlignedBuffer(Math.ceil(w.bs / PAGE_SIZE) * PAGE_SIZE, PAGE_SIZE, { mapped: true, hugePages: w.hugePages });
    this.bytes = this.buf.bytes;
    this.words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length >>> 2);
    this.gen = new OffsetGenerator(w.pattern, Math.floor(w.size / w.bs), w.bs, w.seed);
  }

  /** Reads for `durationMs` or `maxOps` reads, whichever ends first; latency (µs) of each read into `lat`. */
  run(
    durationMs: number,
    lat: LatencySink | null,
    report?: (ops: number) => void,
    maxOps = this.w.maxOps > 0 ? this.w.maxOps : Infinity,
  ): { ops: number; bytes: number; seconds: number } {
    const { bs, verify } = this.w;
    const start = performance.now();
    const stopAt = start + durationMs;
    let now = start;
    let ops = 0;
    let bytes = 0;
    let lastReport = start;
    while (now < stopAt && ops < maxOps) {
      const off = this.gen.nextOffset();
      const res = readSync(this.fd, this.bytes, 0, bs, off);
      const t = performance.now();
      verifyRead(verify, this.words, 0, off, res, bs, this.count++);
      if (lat !== null) lat.record((t - now) * 1000);
      ops++;
      bytes += res;
      now = t;
      if (report !== undefined && now - lastReport >= 100) {
        report(ops);
        lastReport = now;
      }
    }
    return { ops, bytes, seconds: (now - start) / 1000 };
  }

  close(): void {
    closeSync(this.fd);
    this.buf.free();
  }
}
