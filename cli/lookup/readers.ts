/**
 * The four ways a Bun server reads K random pages per request: one function
 * per variant, each answering the checksum of the pages (pages.ts).
 *
 * - `uring`: all K reads queued in the same tick, so the event-loop driver
 *   submits them with one io_uring_enter; one Promise per read; an idle ring
 *   wakes through the shim's waiter thread (`wake: "thread"`).
 * - `uring-stream`: the same with `wake: "stream"` (an idle ring wakes
 *   through Bun's own loop; Uring's default since 2026-12-02).
 * - `uring-batch`: the K reads as one `uring.readMany` (one Promise, one
 *   pending slot per request instead of K), Uring's default wake-up;
 *   `uring-batch-imm` the same with `submit: "immediate"` (see {@link EXTRA_NAMES}).
 * - `fs-promises`: node:fs/promises FileHandle.read, K at once (Promise.all).
 * - `bun-file`: Bun.file(path).slice(off, off + 4096).arrayBuffer(), K at once.
 * - `sync-pread`: fs.readSync K times (blocks the event loop meanwhile).
 *
 * With `direct` the file is opened O_DIRECT; pages always land in
 * page-aligned SharedArrayBuffer memory (see {@link alignedSlab}); Bun.file
 * cannot open O_DIRECT, so `bun-file` refuses it.
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { Uring } from "../../src/async/index.ts";
import type { WakeKind } from "../../src/async/driver.ts";
import type { SubmitKind } from "../../src/async/options.ts";
import { addressOf } from "../../src/sys/ffi.ts";
import { expectedSum, MAX_KEYS, PAGE, sumPages } from "./pages.ts";

/** Variant names in table order (the ones a run compares by default). */
export const VARIANT_NAMES = ["uring", "uring-batch", "uring-stream", "fs-promises", "bun-file", "sync-pread"] as const;
/**
 * Profile variants, run only when asked for: the same server and the same
 * answer, computed from the pattern with no read at all, returned as a
 * Response (`http-only`) or through a resolved Promise (`http-async`). They
 * measure what HTTP handling, and an async answer, cost on their own.
 */
export const PROFILE_NAMES = ["http-only", "http-async"] as const;
/**
 * Variants run only when asked for: `uring-batch-imm` is `uring-batch` on a
 * Uring with `submit: "immediate"` (the reads of every request of an
 * event-loop turn share one io_uring_enter, for one turn of latency).
 */
export const EXTRA_NAMES = ["uring-batch-imm"] as const;
/** Every server variant. */
export const ALL_VARIANT_NAMES = [...VARIANT_NAMES, ...EXTRA_NAMES, ...PROFILE_NAMES] as const;
/** One of {@link ALL_VARIANT_NAMES}. */
export type VariantName = (typeof ALL_VARIANT_NAMES)[number];

/** Reads pages and answers their checksum. */
export interface PageReader {
  /** Sum of the words of `pages` (page indices), read from the file. */
  lookup(pages: readonly number[]): Promise<number> | number;
  /** io_uring_enter calls so far (0 for the baselines). */
  enters(): number;
  /** Wake-ups from idle so far (the ring parked, then a completion woke it; 0 for the baselines). */
  wakeups(): number;
  /** Releases the file, the ring and the buffers. Safe to call twice. */
  close(): Promise<void>;
}

/** A short read is an error: the file is larger than every page asked for. */
function checkLength(n: number, page: number): void {
  if (n !== PAGE) throw new Error(`short read of page ${page}: ${n} of ${PAGE} bytes`);
}

/**
 * MAX_KEYS pages of page-aligned memory. A SharedArrayBuffer: its memory
 * never moves or detaches, so Uring hands it to the kernel as is (other
 * views may be copied through a bounce buffer, which costs a copy per read
 * and is not aligned for O_DIRECT); the view starts at the first page
 * boundary inside it.
 */
function alignedSlab(): Uint8Array {
  const sab = new SharedArrayBuffer(MAX_KEYS * PAGE + PAGE);
  const skew = addressOf(new Uint8Array(sab)) % PAGE;
  return new Uint8Array(sab, skew === 0 ? 0 : PAGE - skew, MAX_KEYS * PAGE);
}

/**
 * Per-request read buffers, reused: a request takes one slab of MAX_KEYS
 * pages and gives it back once every read into it has settled.
 */
class SlabPool {
  private readonly free: Uint8Array[] = [];

  take(): Uint8Array {
    return this.free.pop() ?? alignedSlab();
  }

  give(slab: Uint8Array): void {
    this.free.push(slab);
  }

  dispose(): void {
    this.free.length = 0;
  }
}

/**
 * Waits for every read (so none is still writing into the slab when it goes
 * back to the pool, and no rejection is left unhandled), checks each length,
 * and throws the first failure.
 */
async function settleReads(reads: readonly Promise<number>[], pages: readonly number[]): Promise<void> {
  let failure: unknown = null;
  for (let i = 0; i < reads.length; i++) {
    try {
      checkLength(await reads[i]!, pages[i]!);
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== null) throw failure;
}

/**
 * One lookup into a slab from `pool`: `read` issues page `i`'s read into the
 * slab, all of them before the first await (so a ring's driver submits them
 * with one enter); then every read is settled and checked (see settleReads)
 * before the slab goes back, and the pages' checksum is returned.
 */
async function slabLookup(pool: SlabPool, pages: readonly number[], read: (slab: Uint8Array, i: number, page: number) => Promise<number>): Promise<number> {
  const slab = pool.take();
  try {
    const reads = pages.map((p, i) => read(slab, i, p));
    await settleReads(reads, pages);
    return sumPages(slab, pages.length);
  } finally {
    pool.give(slab);
  }
}

function openFlags(direct: boolean): number {
  return constants.O_RDONLY | (direct ? constants.O_DIRECT : 0);
}

/** `uring`: K reads, one submission, on Uring's event-loop driver. */
export function uringReader(path: string, direct: boolean, wake: WakeKind = "thread"): PageReader {
  const fd = openSync(path, openFlags(direct));
  const uring = new Uring({ entries: 256, wake });
  const pool = new SlabPool();
  const readPage = (slab: Uint8Array, i: number, p: number) => uring.read(fd, slab.subarray(i * PAGE, (i + 1) * PAGE), p * PAGE);
  let closed = false;
  return {
    lookup: (pages) => slabLookup(pool, pages, readPage),
    enters: () => uring.ring.enterCount,
    wakeups: () => uring.wakeups,
    async close() {
      if (closed) return;
      closed = true;
      uring.close(); // cancels and drains what is in flight
      pool.dispose();
      closeSync(fd);
    },
  };
}

/** `uring-batch` (and `uring-batch-imm` with `submit: "immediate"`): the K reads as one `uring.readMany`, one Promise per request. */
export function uringBatchReader(path: string, direct: boolean, submit: SubmitKind = "microtask"): PageReader {
  const fd = openSync(path, openFlags(direct));
  const uring = new Uring({ entries: 256, submit });
  const pool = new SlabPool();
  let closed = false;
  return {
    async lookup(pages) {
      const slab = pool.take();
      try {
        // readMany settles only once every read is done (it rejects with the first failure), so the slab is free after the await.
        const lengths = await uring.readMany(
          fd,
          slab,
          pages.map((p) => p * PAGE),
          PAGE,
        );
        for (let i = 0; i < lengths.length; i++) checkLength(lengths[i]!, i);
        return sumPages(slab, lengths.length);
      } finally {
        pool.give(slab);
      }
    },
    enters: () => uring.ring.enterCount,
    wakeups: () => uring.wakeups,
    async close() {
      if (closed) return;
      closed = true;
      uring.close();
      pool.dispose();
      closeSync(fd);
    },
  };
}

/** `fs-promises`: FileHandle.read, K at once. */
export async function fsPromisesReader(path: string, direct: boolean): Promise<PageReader> {
  const fh: FileHandle = await open(path, openFlags(direct));
  const pool = new SlabPool();
  const readPage = (slab: Uint8Array, i: number, p: number) => fh.read(slab, i * PAGE, PAGE, p * PAGE).then((r) => r.bytesRead);
  let closed = false;
  return {
    lookup: (pages) => slabLookup(pool, pages, readPage),
    enters: () => 0,
    wakeups: () => 0,
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
      pool.dispose();
    },
  };
}

/** `bun-file`: Bun.file().slice().arrayBuffer(), K at once. */
export function bunFileReader(path: string, direct: boolean): PageReader {
  if (direct) throw new Error("bun-file cannot read with O_DIRECT: Bun.file has no such option");
  const file = Bun.file(path);
  return {
    async lookup(pages) {
      const bufs = await Promise.all(pages.map((p) => file.slice(p * PAGE, (p + 1) * PAGE).arrayBuffer()));
      let s = 0;
      for (let i = 0; i < bufs.length; i++) {
        checkLength(bufs[i]!.byteLength, pages[i]!);
        s = (s + sumPages(new Uint8Array(bufs[i]!), 1)) >>> 0;
      }
      return s;
    },
    enters: () => 0,
    wakeups: () => 0,
    async close() {},
  };
}

/** `sync-pread`: fs.readSync K times. */
export function syncReader(path: string, direct: boolean): PageReader {
  const fd = openSync(path, openFlags(direct));
  const bytes = alignedSlab();
  let closed = false;
  return {
    lookup(pages) {
      for (let i = 0; i < pages.length; i++) checkLength(readSync(fd, bytes, i * PAGE, PAGE, pages[i]! * PAGE), pages[i]!);
      return sumPages(bytes, pages.length);
    },
    enters: () => 0,
    wakeups: () => 0,
    async close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** `http-only` / `http-async`: the answer without reading (see {@link PROFILE_NAMES}). */
export function noReadReader(async: boolean): PageReader {
  return {
    lookup: async ? (pages) => Promise.resolve(expectedSum(pages)) : (pages) => expectedSum(pages),
    enters: () => 0,
    wakeups: () => 0,
    async close() {},
  };
}

/** Opens the reader of `variant` on `path`. */
export async function openReader(variant: VariantName, path: string, direct: boolean): Promise<PageReader> {
  switch (variant) {
    case "uring":
      return uringReader(path, direct);
    case "uring-batch":
      return uringBatchReader(path, direct);
    case "uring-batch-imm":
      return uringBatchReader(path, direct, "immediate");
    case "uring-stream":
      return uringReader(path, direct, "stream");
    case "fs-promises":
      return fsPromisesReader(path, direct);
    case "bun-file":
      return bunFileReader(path, direct);
    case "sync-pread":
      return syncReader(path, direct);
    case "http-only":
      return noReadReader(false);
    case "http-async":
      return noReadReader(true);
  }
}
