/**
 * Bun's own file API as a baseline: `Bun.file(path).slice(off, off + bs).arrayBuffer()`
 * with `qd` reads in flight. Bun.file has no O_DIRECT: it always reads
 * through the page cache, and the table says so.
 */
import type { LatencySink } from "./uring.ts";
import { concurrentReads } from "./concurrent.ts";
import { OffsetGenerator } from "./offsets.ts";
import type { ReadWorkload } from "./workload.ts";

/** Bun.file reads at the workload's concurrency. */
export class BunFileReader {
  private readonly w: ReadWorkload;
  private readonly file: ReturnType<typeof Bun.file>;
  private readonly gen: OffsetGenerator;
  private readonly counter = { count: 0 };

  constructor(w: ReadWorkload) {
    this.w = w;
    this.file = Bun.file(w.path);
    this.gen = new OffsetGenerator(w.pattern, Math.floor(w.size / w.bs), w.bs, w.seed);
  }

  /** Note for the table: what this baseline cannot do for this workload. */
  get note(): string | undefined {
    return this.w.direct ? "page cache: Bun.file cannot open O_DIRECT" : undefined;
  }

  /** Reads for `durationMs`, or until `maxOps` reads were issued. */
  run(durationMs: number, lat: LatencySink | null, report?: (ops: number) => void, maxOps = this.w.maxOps > 0 ? this.w.maxOps : Infinity) {
    const { bs } = this.w;
    const file = this.file;
    return concurrentReads(
      this.w,
      this.gen,
      async (_slot, off) => {
        const ab = await file.slice(off, off + bs).arrayBuffer();
        return { res: ab.byteLength, words: new Uint32Array(ab, 0, ab.byteLength >>> 2), wordBase: 0 };
      },
      durationMs,
      lat,
      this.counter,
      report,
      maxOps,
    );
  }
}
