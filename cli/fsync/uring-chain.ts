/**
 * The io_uring committer: each commit is W writes (one record each) tied to a
 * sync in one submission, with up to `inflight` commits in flight (group
 * commit). Drives the Ring directly: preallocated per-slot state in typed
 * arrays, user_data = (slot, index in the chain) as two u32s, one
 * io_uring_enter per loop turn. No promises, no allocation per commit.
 *
 * Modes:
 * - link:     write -IO_LINK-> ... -IO_LINK-> sync. A failed or short write
 *             cancels the rest of the chain (their CQEs carry -ECANCELED).
 * - hardlink: the same with IO_HARDLINK: the sync runs even after a failed write.
 * - drain:    unlinked writes, then the sync with IO_DRAIN: it starts only once
 *             every earlier SQE has completed, and later SQEs wait for it.
 * With --sync rwf-dsync / o-dsync there is no sync SQE: the (linked) writes are
 * durable by themselves.
 *
 * What the kernel does with it (6.18, ext4), which explains the numbers:
 * IORING_OP_FSYNC has no non-blocking path, so every sync runs in an io-wq
 * worker: one commit at a time costs two thread hand-offs more than a
 * write + fdatasync loop (about 10 µs per commit measured on tmpfs), so one
 * commit in flight is at best on par with the loop. Many in flight run their
 * syncs in parallel workers and the journal folds them into one commit: that
 * is where io_uring wins. Buffered writes the file system cannot take
 * without blocking are punted too, and io-wq serializes punted writes to one
 * inode (hashed work): so RWF_DSYNC/O_DSYNC writes, whose sync happens inside
 * the write, get no group commit from io_uring at all.
 */
import type { Ring } from "../../src/ring/ring.ts";
import type { Cqe } from "../../src/ring/cqe.ts";
import { prepFsync, prepSyncFileRange, prepWrite } from "../../src/ops/index.ts";
import { AlignedBuffer } from "../../src/mem/aligned.ts";
import { SQE_W } from "../../src/sys/abi.ts";
import { sqeSetFlags } from "../../src/ring/sqe.ts";
import { FsyncFlags, RwFlags, SqeFlags, SyncFileRangeFlags } from "../../src/sys/constants.ts";
import { Errno, SyscallError, errnoName } from "../../src/sys/errno.ts";
import { CommitStats } from "./commit-stats.ts";
import { lapLimit, recordSlot, type Ledger } from "./ledger.ts";
import type { ChainMode, SyncKind } from "./options.ts";
import { fillRecord } from "./record.ts";

/** Longest a single wait for a completion may take before the run is declared stuck. */
export const COMPLETION_WAIT_NS = 30e9;
/** Record buffers of committers closed with commits in flight (see `close`). */
const abandoned: AlignedBuffer[] = [];
/** How often the loop reports progress, ms. */
const REPORT_EVERY_MS = 100;

/** What one committer needs. */
export interface ChainSpec {
  ring: Ring;
  fd: number;
  ledger: Ledger;
  mode: ChainMode;
  sync: SyncKind;
  /** Commits in flight at most. */
  inflight: number;
}

/** Counters a run of the committer adds to its CommitStats. */
export interface ChainCounters {
  /** A sync CQE arrived before all of its commit's write CQEs: must stay 0 for link/hardlink/drain. */
  orderViolations: number;
  /** Sync CQEs that carried -ECANCELED (their chain was broken by a failed write). */
  syncsCancelled: number;
  /** Syncs that ran (not cancelled) after a failed write: what IO_HARDLINK allows. */
  syncsAfterFailedWrite: number;
  /** io_uring_enter calls in the run. */
  enters: number;
}

/** One CQE as seen by the committer, for tests that check ordering. */
export interface CqeTrace {
  commit: number;
  /** 0..W-1 for writes, W for the sync; -1 marks the commit's start (its SQEs queued). */
  index: number;
  res: number;
}

/**
 * The committer. Create once per data file; `run` as many times as the
 * benchmark needs; `close` frees the buffers (the ring belongs to the caller).
 */
export class UringCommitter {
  readonly spec: ChainSpec;
  /** Writes per commit. */
  readonly writes: number;
  /** Has a sync SQE per commit. */
  readonly hasSync: boolean;
  /** SQEs per commit. */
  readonly sqes: number;
  /** Set after the first failed commit: the log is broken, no more commits start. */
  broken = false;
  /** When set, every CQE is appended here (tests). */
  trace: CqeTrace[] | null = null;
  /**
   * true: wake for every CQE (exact write/sync split from arrival times, one
   * more wake-up per commit when the write completes in io-wq);
   * false: wait until some commit can finish (its last CQE), no wake-up mid-chain.
   */
  waitEach = false;

  private readonly recordBytes: number;
  private readonly stride: number;
  private readonly mem: AlignedBuffer;
  private readonly views: Uint32Array[];
  private readonly addrs: Float64Array;
  private readonly slotCommit: Float64Array;
  private readonly slotPending: Int32Array;
  private readonly slotWritesDone: Int32Array;
  /** First failing write result per slot (1 = none failed: results are <= 0 or short counts). */
  private readonly slotWriteBad: Float64Array;
  private readonly slotSyncRes: Float64Array;
  private readonly slotT0: Float64Array;
  private readonly slotTw: Float64Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly writeFlags: number;
  private readonly lastWriteFlags: number;
  private readonly syncFlags: number;
  private readonly fsyncFlags: number;
  private readonly rwFlags: number;
  /** lapLimit of the file layout. */
  private readonly lap: number;
  // Per-run state, kept on the object so the CQE handler is a bound method, not a closure per run.
  private stats: CommitStats | null = null;
  private counters: ChainCounters = { orderViolations: 0, syncsCancelled: 0, syncsAfterFailedWrite: 0, enters: 0 };
  private now = 0;
  private readonly onCqe: (cqe: Cqe) => void;

  constructor(spec: ChainSpec) {
    this.spec = spec;
    const layout = spec.ledger.layout;
    this.writes = layout.writesPerCommit;
    this.recordBytes = layout.recordBytes;
    this.hasSync = spec.sync !== "rwf-dsync" && spec.sync !== "o-dsync";
    this.sqes = this.writes + (this.hasSync ? 1 : 0);
    if (spec.inflight * this.sqes > spec.ring.sqEntries) {
      throw new RangeError(`${spec.inflight} commits × ${this.sqes} SQEs do not fit a ring of ${spec.ring.sqEntries} entries.`);
    }
    // Records start on 64-byte boundaries (cache lines); 4 KiB records stay page-aligned.
    this.stride = Math.ceil(this.recordBytes / 64) * 64;
    const n = spec.inflight * this.writes;
    this.mem = new AlignedBuffer(n * this.stride, 4096);
    this.views = [];
    this.addrs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.views.push(new Uint32Array(this.mem.bytes.buffer, this.mem.bytes.byteOffset + i * this.stride, this.recordBytes >>> 2));
      this.addrs[i] = this.mem.addressAt(i * this.stride);
    }
    const inflight = spec.inflight;
    this.slotCommit = new Float64Array(inflight);
    this.slotPending = new Int32Array(inflight);
    this.slotWritesDone = new Int32Array(inflight);
    this.slotWriteBad = new Float64Array(inflight);
    this.slotSyncRes = new Float64Array(inflight);
    this.slotT0 = new Float64Array(inflight);
    this.slotTw = new Float64Array(inflight);
    this.free = new Int32Array(inflight);
    for (let i = 0; i < inflight; i++) this.free[i] = inflight - 1 - i;
    this.freeTop = inflight;

    const link = spec.mode === "link" ? SqeFlags.IO_LINK : spec.mode === "hardlink" ? SqeFlags.IO_HARDLINK : 0;
    if (spec.mode === "drain") {
      // Writes of a commit are independent; the drained sync waits for all of them
      // (and for every earlier commit). Without a sync SQE, each write drains.
      this.writeFlags = this.hasSync ? 0 : SqeFlags.IO_DRAIN;
      this.lastWriteFlags = this.writeFlags;
      this.syncFlags = SqeFlags.IO_DRAIN;
    } else {
      this.writeFlags = link;
      this.lastWriteFlags = this.hasSync ? link : 0;
      this.syncFlags = 0;
    }
    this.fsyncFlags = spec.sync === "fdatasync" ? FsyncFlags.DATASYNC : 0;
    this.rwFlags = spec.sync === "rwf-dsync" ? RwFlags.DSYNC : 0;
    this.lap = lapLimit(layout);
    this.onCqe = this.handleCqe.bind(this);
  }

  /** Commits in flight right now. */
  get inflightNow(): number {
    return this.spec.inflight - this.freeTop;
  }

  /**
   * Runs commits until `durationMs` passes or `maxCommits` commits have started
   * (0: no limit), or a commit fails; then drains every commit in flight.
   * Returns the window's stats and counters (`stats` continues an earlier
   * slice of the same window). Throws only if the ring itself fails.
   */
  run(durationMs: number, maxCommits = 0, report?: (acked: number) => void, stats = new CommitStats()): { stats: CommitStats; counters: ChainCounters } {
    const ring = this.spec.ring;
    this.stats = stats;
    this.counters = { orderViolations: 0, syncsCancelled: 0, syncsAfterFailedWrite: 0, enters: 0 };
    const enters0 = ring.enterCount;
    const deadline = performance.now() + durationMs;
    let started = 0;
    let stopping = this.broken;
    let lastReport = stats.startMs;
    for (;;) {
      if (!stopping) {
        while (this.freeTop > 0 && (maxCommits === 0 || started < maxCommits) && this.mayStart()) {
          this.startCommit();
          started++;
        }
      }
      if (this.freeTop === this.spec.inflight) break; // nothing in flight
      const ret = ring.submitAndWaitTimeout(this.waitEach ? 1 : this.fewestPending(), COMPLETION_WAIT_NS);
      this.now = performance.now();
      const reaped = ring.reapCqes(this.onCqe);
      if (ret < 0 && ret !== -Errno.ETIME && ret !== -Errno.EINTR && ret !== -Errno.EAGAIN && ret !== -Errno.EBUSY) {
        throw new SyscallError("io_uring_enter", -ret, `io_uring_enter failed while committing: ${errnoName(ret)}`);
      }
      if (reaped === 0 && ret === -Errno.ETIME) {
        throw new SyscallError(
          "io_uring_enter",
          Errno.ETIME,
          `no completion within ${COMPLETION_WAIT_NS / 1e9} s with ${this.inflightNow} commits in flight: the device is stuck.`,
        );
      }
      if (this.broken) stopping = true;
      if (this.now >= deadline || (maxCommits > 0 && started >= maxCommits)) stopping = true;
      if (report && this.now - lastReport >= REPORT_EVERY_MS) {
        report(stats.commits);
        lastReport = this.now;
      }
    }
    this.counters.enters = ring.enterCount - enters0;
    this.stats = null;
    return { stats, counters: this.counters };
  }

  /** Overwrite mode: the next commit would not lap the oldest one in flight (see lapLimit). */
  private mayStart(): boolean {
    if (this.lap === Infinity || this.freeTop === this.spec.inflight) return true;
    let oldest = Infinity;
    for (let s = 0; s < this.spec.inflight; s++) {
      if (this.slotPending[s]! > 0 && this.slotCommit[s]! < oldest) oldest = this.slotCommit[s]!;
    }
    return this.spec.ledger.started - oldest < this.lap;
  }

  /** CQEs still due for the in-flight commit closest to done: waiting for that many wakes us once per commit. */
  private fewestPending(): number {
    let min = this.sqes;
    // Free slots have 0 pending; a scan of `inflight` small ints is cheaper than the wake-up it saves.
    for (let s = 0; s < this.spec.inflight; s++) {
      const p = this.slotPending[s]!;
      if (p > 0 && p < min) min = p;
    }
    return min;
  }

  /** Takes a free slot, fills its records and queues the commit's SQEs. */
  private startCommit(): void {
    const ring = this.spec.ring;
    const fd = this.spec.fd;
    const ledger = this.spec.ledger;
    const layout = ledger.layout;
    const w = this.writes;
    const b = this.recordBytes;
    const slot = this.free[--this.freeTop]!;
    const c = ledger.begin();
    if (this.trace !== null) this.trace.push({ commit: c, index: -1, res: 0 });
    this.slotCommit[slot] = c;
    this.slotPending[slot] = this.sqes;
    this.slotWritesDone[slot] = 0;
    this.slotWriteBad[slot] = 1;
    this.slotSyncRes[slot] = 0;
    let firstOffset = 0;
    for (let k = 0; k < w; k++) {
      const seq = c * w + k;
      const buf = slot * w + k;
      fillRecord(this.views[buf]!, b, seq, c);
      const offset = recordSlot(layout, seq) * b;
      if (k === 0) firstOffset = offset;
      const sqe = ring.getSqe()!; // room is guaranteed: inflight × sqes <= SQ entries
      prepWrite(sqe, fd, this.addrs[buf]!, b, offset);
      const u32 = sqe.u32;
      u32[SQE_W.opFlags] = this.rwFlags;
      u32[SQE_W.userDataLo] = slot;
      u32[SQE_W.userDataHi] = k;
      sqeSetFlags(sqe, k === w - 1 ? this.lastWriteFlags : this.writeFlags);
    }
    if (this.hasSync) {
      const sqe = ring.getSqe()!;
      if (this.spec.sync === "sync-file-range") prepSyncFileRange(sqe, fd, w * b, firstOffset, SyncFileRangeFlags.WRITE_AND_WAIT);
      else prepFsync(sqe, fd, this.fsyncFlags);
      sqe.u32[SQE_W.userDataLo] = slot;
      sqe.u32[SQE_W.userDataHi] = w;
      sqeSetFlags(sqe, this.syncFlags);
    }
    // Time the commit from the moment its SQEs are ready: the enter that submits them is part of it.
    this.slotT0[slot] = performance.now();
  }

  /** One CQE: account it to its slot; finish the commit when its last CQE is in. */
  private handleCqe(cqe: Cqe): void {
    const slot = cqe.userDataLo;
    const index = cqe.userDataHi;
    const res = cqe.res;
    const w = this.writes;
    if (this.trace !== null) this.trace.push({ commit: this.slotCommit[slot]!, index, res });
    if (index < w) {
      if (res !== this.recordBytes && this.slotWriteBad[slot] === 1) this.slotWriteBad[slot] = res;
      if (++this.slotWritesDone[slot]! === w) this.slotTw[slot] = this.now;
    } else {
      if (this.slotWritesDone[slot]! < w) this.counters.orderViolations++;
      this.slotSyncRes[slot] = res;
      if (res === -Errno.ECANCELED) this.counters.syncsCancelled++;
      else if (this.slotWriteBad[slot] !== 1) this.counters.syncsAfterFailedWrite++;
    }
    if (--this.slotPending[slot]! === 0) this.finishCommit(slot);
  }

  private finishCommit(slot: number): void {
    const c = this.slotCommit[slot]!;
    const writeBad = this.slotWriteBad[slot]!;
    const syncRes = this.slotSyncRes[slot]!;
    const stats = this.stats!;
    if (writeBad === 1 && syncRes >= 0) {
      this.spec.ledger.ack(c);
      // Without a sync the write is the whole commit. With one, the split is known only when
      // we woke for each CQE (waitEach); otherwise the writes' CQEs are reaped with the sync's.
      const tw = !this.hasSync ? this.now : this.waitEach ? this.slotTw[slot]! : NaN;
      stats.ack(this.slotT0[slot]!, tw, this.now);
    } else {
      this.spec.ledger.fail(c, writeBad === 1 ? null : writeBad, this.hasSync && syncRes < 0 ? syncRes : null);
      stats.failed++;
      this.broken = true;
    }
    this.free[this.freeTop++] = slot;
  }

  /**
   * Frees the record buffers. If commits are still in flight (a run threw),
   * the memory is left allocated on purpose: an io-wq worker may still be
   * reading it after the ring is closed, and a leak beats a use-after-free.
   */
  close(): void {
    if (this.inflightNow === 0) this.mem.free();
    else abandoned.push(this.mem); // kept reachable so the leak guard's finalizer never frees it either
  }
}
