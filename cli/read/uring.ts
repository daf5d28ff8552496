/**
 * The io_uring read loop: `qd` reads in flight on one Ring, driven directly
 * (no promises): prepare every free slot (submitting every `submit` of them
 * when that is below `qd`: random device reads go out one by one, as fio
 * sends them, so the device starts on each at once), one submitAndWait per
 * batch, reap every available CQE with one head update
 * (io_uring_for_each_cqe + io_uring_cq_advance), check each read, refill.
 * Buffers sit on transparent huge pages unless `hugePages` is off: a large
 * O_DIRECT read is then one device segment, not one per 4 KiB page. Variants: plain READ, fixed
 * buffers (READ_FIXED), a registered file (IOSQE_FIXED_FILE), both, SQPOLL
 * (the Ring enters only to wait, or when the SQ thread sets NEED_WAKEUP) and
 * IOPOLL. Nothing on the per-read path allocates or calls into FFI.
 */
import { Ring, type RingOptions } from "../../src/ring/ring.ts";
import { registerBuffers, registerFiles } from "../../src/ring/register.ts";
import { kernelHasSetupFlag, setupFlagNames } from "../../src/ring/setup.ts";
import { prepRead, prepReadFixed } from "../../src/ops/rw.ts";
import { sqeSetData32x2, sqeSetFlags } from "../../src/ring/sqe.ts";
import { SetupFlags, SqeFlags } from "../../src/sys/constants.ts";
import { Errno, errnoName, SyscallError } from "../../src/sys/errno.ts";
import { AlignedBuffer, PAGE_SIZE } from "../../src/mem/aligned.ts";
import { closeSync } from "node:fs";
import { OffsetGenerator } from "./offsets.ts";
import { checkPattern, VERIFY_SAMPLE_EVERY, verifyRead, type VerifyMode } from "./pattern.ts";
import { openForRead } from "./target.ts";
import type { ReadWorkload } from "./workload.ts";

/** SQ thread idle time before it sleeps: long enough to stay awake between batches. */
export const SQPOLL_IDLE_MS = 1000;
/** How long teardown waits for reads still in flight after an error before giving up. */
export const DRAIN_TIMEOUT_MS = 5000;

/** Which io_uring features a run uses. */
export interface UringFeatures {
  fixedBuffers: boolean;
  fixedFiles: boolean;
  sqpoll: boolean;
  iopoll: boolean;
}

/** Everything one io_uring reader needs: the workload (without the run bound; seed optional) and the ring features. */
export interface UringReadConfig extends UringFeatures, Omit<ReadWorkload, "seed" | "maxOps"> {
  seed?: number;
}

/** The variant can't run here (IOPOLL on a device without poll queues, ...): reported, not fatal. */
export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedError";
  }
}

/** A read failed in the kernel (res < 0). */
export class ReadOpError extends Error {
  readonly errno: number;
  constructor(errno: number, offset: number, direct: boolean) {
    const name = errnoName(errno);
    const hint =
      errno === Errno.EINVAL && direct
        ? ": O_DIRECT refused the read (buffer, offset or length not aligned to the device's logical block size)"
        : errno === Errno.EOPNOTSUPP
          ? ": the device or filesystem does not support this kind of read"
          : "";
    super(`read at offset ${offset} failed with ${name}${hint}`);
    this.name = "ReadOpError";
    this.errno = errno;
  }
}

/** Where the loop records each read's latency (µs): a LatencyRecorder. */
export interface LatencySink {
  record(valueUs: number): void;
}

const VERIFY_ALL = 0;
const VERIFY_FULL = 1;
const VERIFY_SAMPLE = 2;
const VERIFY_LENGTH = 3;
const VERIFY_CODES: Record<VerifyMode, number> = { all: VERIFY_ALL, full: VERIFY_FULL, sample: VERIFY_SAMPLE, length: VERIFY_LENGTH };

/** Where reads go: the OffsetGenerator, or a fixed list (readAt). */
export interface OffsetSource {
  nextOffset(): number;
}

/** What one timed run of the loop did. */
export interface LoopResult {
  ops: number;
  bytes: number;
  seconds: number;
  /** io_uring_enter calls made. */
  enters: number;
}

/** Ring options for a set of features (DEFER_TASKRUN where the kernel has it and SQPOLL is off). */
export function ringOptionsFor(f: UringFeatures): RingOptions {
  if (f.sqpoll) return { sqpoll: { idleMs: SQPOLL_IDLE_MS }, iopoll: f.iopoll };
  const opts: RingOptions = { iopoll: f.iopoll };
  if (kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER)) opts.deferTaskrun = true;
  return opts;
}

/** One ring, one file, `qd` aligned buffers: setup once, run many times, close. */
export class UringReader {
  readonly config: UringReadConfig;
  readonly ring: Ring;
  private readonly fd: number;
  private readonly arena: AlignedBuffer;
  private readonly words: Uint32Array;
  /** Bytes between slot buffers (bs rounded up to a page, so every slot stays aligned). */
  private readonly stride: number;
  /** `stride` in u32 words. */
  private readonly stride4: number;
  /** The verify mode as a small integer (string compares stay off the hot path). */
  private readonly verifyMode: number;
  private readonly offsets: Float64Array;
  private readonly lens: Int32Array;
  private readonly submitted: Float64Array;
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  private inflight = 0;
  private readonly gen: OffsetGenerator;
  private readonly blocks: number;
  /** Reads completed over the reader's life (drives sample verification). */
  private completedTotal = 0;
  private closed = false;
  // State of the current run, read by the CQE handler.
  private runOps = 0;
  private runBytes = 0;
  private reapTime = 0;
  private lat: LatencySink | null = null;
  private failure: Error | null = null;

  constructor(config: UringReadConfig) {
    this.config = config;
    const { qd, bs } = config;
    this.blocks = Math.floor(config.size / bs);
    this.gen = new OffsetGenerator(config.pattern, this.blocks, bs, config.seed);
    this.stride = Math.ceil(bs / PAGE_SIZE) * PAGE_SIZE;
    this.stride4 = this.stride >>> 2;
    this.verifyMode = VERIFY_CODES[config.verify];
    this.offsets = new Float64Array(qd);
    this.lens = new Int32Array(qd);
    this.submitted = new Float64Array(qd);
    this.freeSlots = new Int32Array(qd);
    for (let i = 0; i < qd; i++) this.freeSlots[i] = qd - 1 - i;
    this.freeTop = qd;
    this.fd = openForRead(config.path, config.direct);
    let ring: Ring | null = null;
    let arena: AlignedBuffer | null = null;
    try {
      arena = new AlignedBuffer(this.stride * qd, PAGE_SIZE, { mapped: true, hugePages: config.hugePages });
      try {
        ring = new Ring(config.entries, ringOptionsFor(config));
      } catch (err) {
        // A kernel or sandbox that refuses SQPOLL/IOPOLL rings makes the
        // variant unsupported here, not the run a failure.
        if ((config.sqpoll || config.iopoll) && err instanceof SyscallError) {
          throw new UnsupportedError(`${config.sqpoll ? "SQPOLL" : "IOPOLL"} ring refused: ${err.message}`);
        }
        throw err;
      }
      if (config.fixedBuffers) {
        const bufs = [];
        for (let i = 0; i < qd; i++) bufs.push({ address: arena.address + i * this.stride, length: this.stride });
        const ret = registerBuffers(ring, bufs);
        if (ret < 0) {
          throw new Error(
            `registering ${qd} fixed buffers of ${this.stride} bytes failed with ${errnoName(-ret)}` +
              (ret === -Errno.ENOMEM ? ": the locked-memory limit is too low (ulimit -l)" : ""),
          );
        }
      }
      if (config.fixedFiles) {
        const ret = registerFiles(ring, [this.fd]);
        if (ret < 0) throw new Error(`registering the file failed with ${errnoName(-ret)}`);
      }
    } catch (err) {
      ring?.close();
      arena?.free();
      closeSync(this.fd);
      throw err;
    }
    this.ring = ring;
    this.arena = arena;
    this.words = new Uint32Array(arena.bytes.buffer, arena.bytes.byteOffset, arena.length >>> 2);
  }

  /** Setup flags of the ring, by name. */
  get ringFlags(): string[] {
    return setupFlagNames(this.ring.flags);
  }

  /**
   * Reads until `durationMs` passes or `maxOps` reads completed, whichever is
   * first, with `qd` in flight; records each read's latency (µs) in `lat`.
   * Throws {@link VerifyError}, {@link ReadOpError} or {@link UnsupportedError}.
   */
  run(durationMs: number, maxOps = Infinity, lat: LatencySink | null = null, report?: (ops: number) => void): LoopResult {
    const start = performance.now();
    const stopAt = start + durationMs;
    // The generator object is the same on every run: a fresh closure per run
    // would make JSC's optimized loop exit and recompile each time.
    return this.loop(this.gen, stopAt, maxOps, lat, report, start);
  }

  /** Reads `bs` bytes at each of `offsets` (qd at a time) and checks them; returns each read's result. For tests. */
  readAt(offsets: readonly number[]): number[] {
    // Results by offset, in completion order per offset (an offset may be asked for twice).
    const results = new Map<number, number[]>();
    let i = 0;
    const list: OffsetSource = { nextOffset: () => offsets[i++]! };
    const saved = this.onResult;
    this.onResult = (off, res) => {
      const list = results.get(off);
      if (list) list.push(res);
      else results.set(off, [res]);
    };
    try {
      this.loop(list, Infinity, offsets.length, null, undefined, performance.now());
    } finally {
      this.onResult = saved;
    }
    return offsets.map((off) => results.get(off)!.shift()!);
  }

  /** Test hook: sees every completed read's offset and result. */
  private onResult: ((offset: number, res: number) => void) | null = null;

  private loop(
    source: OffsetSource,
    stopAt: number,
    maxOps: number,
    lat: LatencySink | null,
    report: ((ops: number) => void) | undefined,
    start: number,
  ): LoopResult {
    const ring = this.ring;
    const { bs, batch, size } = this.config;
    // Submit early every `submit` prepared reads (0: only with the wait below).
    const submitEvery = this.config.submit < this.config.qd ? this.config.submit : 0;
    const fdField = this.config.fixedFiles ? 0 : this.fd;
    const sqeFlags = this.config.fixedFiles ? SqeFlags.FIXED_FILE : 0;
    const fixedBuf = this.config.fixedBuffers;
    const base = this.arena.address;
    const stride = this.stride;
    const enters0 = ring.enterCount;
    this.runOps = 0;
    this.runBytes = 0;
    this.lat = lat;
    this.failure = null;
    let issued = 0;
    let lastReport = start;
    let now = start;
    for (;;) {
      // Refill every free slot, unless time or the op budget is up.
      if (now < stopAt && issued < maxOps) {
        let n = Math.min(this.freeTop, maxOps - issued);
        while (n-- > 0) {
          // Null when the SQ is full: with SQPOLL the kernel thread may not
          // have consumed the last batch yet although its reads completed.
          const sqe = ring.getSqe();
          if (sqe === null) break;
          issued++;
          const slot = this.freeSlots[--this.freeTop]!;
          const off = source.nextOffset();
          const len = off + bs <= size ? bs : Math.max(0, size - off);
          if (fixedBuf) prepReadFixed(sqe, fdField, base + slot * stride, bs, off, slot);
          else prepRead(sqe, fdField, base + slot * stride, bs, off);
          if (sqeFlags !== 0) sqeSetFlags(sqe, sqeFlags);
          sqeSetData32x2(sqe, slot, 0);
          this.offsets[slot] = off;
          this.lens[slot] = len;
          this.submitted[slot] = now;
          this.inflight++;
          if (submitEvery !== 0 && issued % submitEvery === 0) ring.submit();
        }
      }
      if (this.inflight === 0) break;
      const want = this.inflight < batch ? this.inflight : batch;
      const ret = ring.submitAndWait(want);
      if (ret < 0 && ret !== -Errno.EINTR && ret !== -Errno.EAGAIN && ret !== -Errno.EBUSY) {
        this.drain();
        throw new Error(`io_uring_enter failed with ${errnoName(-ret)}`);
      }
      now = performance.now();
      this.reapTime = now;
      // io_uring_for_each_cqe + io_uring_cq_advance, written out: one head
      // update for the whole batch and no callback per CQE. (Plain 16-byte
      // CQEs: this ring has neither CQE32 nor CQE_MIXED.) Views come from
      // ring.cq at each batch: the ring's one CQ walker (src/ring/cq.ts).
      const cq = ring.cq;
      const tail = cq.tail();
      let head = cq.head;
      if (head !== tail) {
        // The CQE array as words (4 per CQE: user_data lo, hi, res, flags): no CQE object per completion.
        const cw = cq.words;
        const mask = cq.mask;
        const seen = (tail - head) >>> 0;
        while (head !== tail) {
          const k = (head & mask) << 2;
          this.complete(cw[k]!, cw[k + 2]!);
          head = (head + 1) >>> 0;
        }
        cq.advance(seen);
      }
      if (this.failure !== null) {
        const f = this.failure;
        this.drain();
        throw f;
      }
      if (report !== undefined && now - lastReport >= 100) {
        report(this.runOps);
        lastReport = now;
      }
    }
    return { ops: this.runOps, bytes: this.runBytes, seconds: (now - start) / 1000, enters: ring.enterCount - enters0 };
  }

  /**
   * The CQE handler: check, record, free the slot. Errors are kept, and thrown
   * after the reap. The common case (full-length read, pattern intact) takes
   * one comparison and one pattern check; everything else goes to {@link fail}.
   */
  private complete(slot: number, res: number): void {
    this.inflight--;
    this.freeSlots[this.freeTop++] = slot;
    const off = this.offsets[slot]!;
    if (this.onResult !== null) this.onResult(off, res);
    const n = this.completedTotal++;
    if (res !== this.lens[slot] || this.failure !== null) {
      this.fail(slot, off, res, n);
      return;
    }
    const mode = this.verifyMode;
    if (mode !== VERIFY_LENGTH && (mode !== VERIFY_SAMPLE || (n & (VERIFY_SAMPLE_EVERY - 1)) === 0)) {
      if (checkPattern(this.words, slot * this.stride4, off, res, mode !== VERIFY_ALL) >= 0) {
        this.fail(slot, off, res, n);
        return;
      }
    }
    this.runOps++;
    this.runBytes += res;
    if (this.lat !== null) this.lat.record((this.reapTime - this.submitted[slot]!) * 1000);
  }

  /** The slow path of a completion: an error, a short read or wrong bytes becomes `failure` (first one wins). */
  private fail(slot: number, off: number, res: number, n: number): void {
    if (this.failure !== null) return;
    if (res < 0) {
      this.failure =
        this.config.iopoll && res === -Errno.EOPNOTSUPP
          ? new UnsupportedError("IOPOLL: the device answered EOPNOTSUPP (it has no poll queues; virtio-blk has none, NVMe needs nvme.poll_queues > 0)")
          : new ReadOpError(-res, off, this.config.direct);
      return;
    }
    try {
      verifyRead(this.config.verify, this.words, slot * this.stride4, off, res, this.lens[slot]!, n);
      // verifyRead found nothing wrong (cannot happen when we got here): keep counting.
      this.runOps++;
      this.runBytes += res;
    } catch (err) {
      this.failure = err as Error;
    }
  }

  /** Waits (bounded) for reads still in flight so their buffers are not freed under the kernel. */
  private drain(): void {
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    while (this.inflight > 0 && performance.now() < deadline) {
      this.ring.submitAndWaitTimeout(1, 100e6);
      this.ring.reapCqes((c) => {
        this.inflight--;
        this.freeSlots[this.freeTop++] = c.i32[0]!;
      });
    }
  }

  /** Closes the ring, then frees the buffers and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.drain();
    this.ring.close();
    // Reads still in flight after the drain timeout would write into freed
    // memory: leak the arena instead (the process is failing anyway).
    if (this.inflight === 0) this.arena.free();
    closeSync(this.fd);
  }
}
