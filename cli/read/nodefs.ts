/**
 * `node:fs/promises` FileHandle.read in this runtime (Bun), `qd` reads in
 * flight, each into its own buffer. With --direct the file is opened O_DIRECT
 * and the buffers are aligned off-heap memory, so the comparison is like for like.
 */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { AlignedBuffer, PAGE_SIZE } from "../../src/mem/aligned.ts";
import type { LatencySink } from "./uring.ts";
import { concurrentReads } from "./concurrent.ts";
import { explainOpenError } from "./errors.ts";
import { OffsetGenerator } from "./offsets.ts";
import type { ReadWorkload } from "./workload.ts";

/** FileHandle.read at the workload's concurrency. */
export class FsPromisesReader {
  private readonly w: ReadWorkload;
  private fh: FileHandle | null = null;
  private readonly arena: AlignedBuffer;
  private readonly buffers: Buffer[] = [];
  private readonly words: Uint32Array;
  private readonly stride: number;
  private readonly gen: OffsetGenerator;
  private readonly counter = { count: 0 };

  constructor(w: ReadWorkload) {
    this.w = w;
    this.stride = Math.ceil(w.bs / PAGE_SIZE) * PAGE_SIZE;
    this.arena = new AlignedBuffer(this.stride * w.qd, PAGE_SIZE, { mapped: true, hugePages: w.hugePages });
    const bytes = this.arena.bytes;
    for (let i = 0; i < w.qd; i++) this.buffers.push(Buffer.from(bytes.buffer, bytes.byteOffset + i * this.stride, w.bs));
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    this.gen = new OffsetGenerator(w.pattern, Math.floor(w.size / w.bs), w.bs, w.seed);
  }

  /** Opens the file (async, so not in the constructor). */
  async open(): Promise<void> {
    try {
      this.fh = await open(this.w.path, constants.O_RDONLY | (this.w.direct ? constants.O_DIRECT : 0));
    } catch (err) {
      throw explainOpenError(this.w.path, (err as NodeJS.ErrnoException).code, this.w.direct);
    }
  }

  /** Reads for `durationMs`, or until `maxOps` reads were issued. */
  run(durationMs: number, lat: LatencySink | null, report?: (ops: number) => void, maxOps = this.w.maxOps > 0 ? this.w.maxOps : Infinity) {
    const fh = this.fh;
    if (fh === null) throw new Error("FsPromisesReader.run before open()");
    const { bs } = this.w;
    const stride4 = this.stride >>> 2;
    const words = this.words;
    const buffers = this.buffers;
    return concurrentReads(
      this.w,
      this.gen,
      async (slot, off) => {
        const { bytesRead } = await fh.read(buffers[slot]!, 0, bs, off);
        return { res: bytesRead, words, wordBase: slot * stride4 };
      },
      durationMs,
      lat,
      this.counter,
      report,
      maxOps,
    );
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
    this.arena.free();
  }
}
