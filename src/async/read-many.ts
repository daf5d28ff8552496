/**
 * `uring.readMany`: a batch of preads as one request. Its argument checks,
 * the batch's state in the pending table (one slot, one Promise, `n` SQEs
 * tagged TAG_BATCH) and its completion: each member's CQE only stores its
 * result and counts down; the last one settles the batch.
 *
 * Free functions of the engine rather than engine methods, so the batch
 * lives in one file; they are plain calls on the readMany path (no closure
 * or allocation per read beyond the batch's results array and Promise).
 */
import { rwWords } from "../ops/fields.ts";
import { prepCancel64 } from "../ops/cancel.ts";
import type { Bounce } from "../mem/bounce.ts";
import { SQE_W } from "../sys/abi.ts";
import { Op } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import { addressOf } from "../sys/ffi.ts";
import type { UringEngine } from "./engine.ts";
import { abortError, closedError, errorFor, UringError } from "./errors.ts";
import type { ReadManyOptions } from "./options.ts";
import { BATCH_PENDING, BATCH_SLOT_BITS, BATCH_SLOT_MASK, MAX_BATCH, Mode, State, TAG_BATCH, TAG_IGNORE } from "./pending.ts";
import { pinned, viewError, viewLength } from "./view-args.ts";

/**
 * `uring.readMany(fd, buffer, offsets, size, options)` after the Uring's
 * closed check (see its TSDoc): every argument checked before any SQE is
 * written, the offsets read once from the caller's array into `offs` (the
 * Uring's scratch, MAX_BATCH long), then the batch through a SharedArrayBuffer
 * view in place or one bounce block copied out at the end.
 */
export function readMany(
  e: UringEngine,
  offs: Float64Array,
  fd: number,
  buffer: ArrayBufferView,
  offsets: ArrayLike<number>,
  size: number,
  options: ReadManyOptions | undefined,
): Promise<Int32Array> {
  const len = viewLength(buffer, undefined);
  if (len < 0) return Promise.reject(viewError("readMany", buffer, undefined));
  if (typeof offsets !== "object" || offsets === null) return Promise.reject(new TypeError("uring.readMany: offsets must be an array of file offsets"));
  const n = offsets.length;
  if (!(n >>> 0 === n && n <= MAX_BATCH)) return Promise.reject(new RangeError(`uring.readMany: at most ${MAX_BATCH} offsets per batch, got ${String(n)}`));
  if (!(size >>> 0 === size && size >= 1 && size <= 0x7fffffff)) {
    return Promise.reject(new RangeError(`uring.readMany: size must be an integer from 1 to 2^31 - 1, got ${String(size)}`));
  }
  if (n * size > len) return Promise.reject(new RangeError(`uring.readMany: ${n} reads of ${size} bytes need ${n * size} bytes, the buffer has ${len}`));
  for (let i = 0; i < n; i++) {
    const o = offsets[i];
    if (typeof o !== "number" || !(o >= 0 && Number.isSafeInteger(o))) {
      return Promise.reject(new RangeError(`uring.readMany: offsets[${i}] must be a non-negative safe integer, got ${String(o)}`));
    }
    offs[i] = o;
  }
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) return Promise.reject(new TypeError("uring.readMany: signal must be an AbortSignal"));
  const pre = e.precheck(Op.READ, signal === undefined ? undefined : { signal });
  if (pre !== null) return pre;
  if (n === 0) return Promise.resolve(new Int32Array(0));
  if (pinned(buffer)) return readBatch(e, fd, addressOf(buffer), size, offs, n, buffer, null, signal);
  const b = e.bounces.take(n * size);
  return readBatch(e, fd, b.address, size, offs, n, b, buffer, signal);
}

/**
 * A batch of `n` reads as one request (`uring.readMany`): one slot, one
 * Promise, `n` SQEs. Member i reads `size` bytes at file offset
 * `offsets[i]` into address `base + i × size`; its user_data carries the
 * slot and i (TAG_BATCH), and its CQE only stores res and counts down.
 * The caller has checked everything: `n` in 1..MAX_BATCH, the span
 * `n × size` inside the memory `keep` holds (kept to the last CQE),
 * `offsets` non-negative safe integers. `view`: the caller's view for a
 * bounce block's copy-out (null when the kernel writes `keep` in place).
 */
function readBatch(
  e: UringEngine,
  fd: number,
  base: number,
  size: number,
  offsets: Float64Array,
  n: number,
  keep: unknown,
  view: ArrayBufferView | null,
  signal: AbortSignal | undefined,
): Promise<Int32Array> {
  const t = e.table;
  const slot = e.acquire(Op.READ, view === null ? Mode.BATCH : Mode.BATCH_COPY_OUT, keep, view);
  if (slot > BATCH_SLOT_MASK) {
    e.releaseSlot(slot);
    return Promise.reject(new UringError("READ", Errno.EBUSY, `uring.readMany: more than ${BATCH_SLOT_MASK + 1} requests in flight; wait for some first`));
  }
  const gen = t.gen[slot]!;
  const results = new Int32Array(n).fill(BATCH_PENDING);
  t.batch[slot] = results;
  t.batchSize[slot] = size;
  t.waiting[slot] = n;
  // The Promise exists before any SQE: a failing submit below (failAll) rejects it.
  const p = e.promiseFor<Int32Array>(slot);
  const hi = (gen | (TAG_BATCH << 24)) >>> 0;
  let i = 0;
  try {
    for (; i < n; i++) {
      const w = e.sqe().u32;
      rwWords(w, Op.READ, fd, base + i * size, size, offsets[i]!);
      w[SQE_W.userDataLo] = (slot | (i << BATCH_SLOT_BITS)) >>> 0;
      w[SQE_W.userDataHi] = hi;
      // e.sqe() may submit when the SQ is full; a fatal submit error failed the slot: stop there.
      if (t.gen[slot] !== gen) return p;
    }
  } catch (err) {
    // No SQE for members i..n-1 (the SQ stayed full): they fail with that error's errno, and
    // the batch settles once the members already queued have completed (their memory is kept till then).
    if (t.gen[slot] !== gen) return p;
    const errno = err instanceof UringError ? err.errno : Errno.EBUSY;
    for (let j = i; j < n; j++) results[j] = -errno;
    const left = t.waiting[slot]! - (n - i);
    t.waiting[slot] = left;
    if (left === 0) settleBatch(e, slot);
    else e.sched.requestFlush();
    return p;
  }
  if (signal !== undefined) {
    const onAbort = (): void => {
      if (!t.live(slot, gen)) return;
      t.state[slot] = t.state[slot]! | State.ABORTED;
      cancelBatch(e, slot, gen);
    };
    t.signal[slot] = signal;
    t.onAbort[slot] = onAbort;
    signal.addEventListener("abort", onAbort, { once: true });
  }
  e.sched.requestFlush();
  return p;
}

/** Cancels the members of a batch still in flight (one ASYNC_CANCEL per member user_data). */
function cancelBatch(e: UringEngine, slot: number, gen: number): void {
  if (e.isClosed) return;
  const results = e.table.batch[slot]!;
  for (let i = 0; i < results.length; i++) {
    if (results[i] !== BATCH_PENDING) continue;
    const sqe = e.sqe();
    prepCancel64(sqe, 0, 0);
    // The member's user_data as two words (it needs more than a double's 53 bits).
    sqe.u32[SQE_W.addrLo] = (slot | (i << BATCH_SLOT_BITS)) >>> 0;
    sqe.u32[SQE_W.addrLo + 1] = (gen | (TAG_BATCH << 24)) >>> 0;
    sqe.u32[SQE_W.userDataLo] = slot;
    sqe.u32[SQE_W.userDataHi] = (gen | (TAG_IGNORE << 24)) >>> 0;
  }
  if (!e.sched.flushQueued) e.sched.scheduleFlush();
}

/**
 * A batch settles once every member's CQE arrived: resolves to the
 * results, or rejects with the first failed member's error (in index
 * order). Either way no member is still in flight, so the caller's buffer
 * is free; a bounce block's bytes of every successful member are copied out.
 */
function settleBatch(e: UringEngine, slot: number): void {
  const t = e.table;
  const results = t.batch[slot]!;
  const resolve = t.resolve[slot]!;
  const reject = t.reject[slot]!;
  if (t.mode[slot] === Mode.BATCH_COPY_OUT) {
    const b = t.keep[slot] as Bounce;
    const view = t.keep2[slot] as ArrayBufferView;
    const size = t.batchSize[slot]!;
    // Unless the caller detached or shrank the view meanwhile: then its bytes stay in the bounce block.
    if (view.byteLength >= results.length * size) {
      const dst = new Uint8Array(view.buffer, view.byteOffset, results.length * size);
      for (let i = 0; i < results.length; i++) {
        const r = results[i]!;
        if (r > 0) dst.set(b.bytes.subarray(i * size, i * size + r), i * size);
      }
    }
  }
  let first = -1;
  for (let i = 0; i < results.length; i++) {
    if (results[i]! < 0) {
      first = i;
      break;
    }
  }
  if (first < 0) {
    e.releaseSlot(slot);
    resolve(results);
    return;
  }
  const res = results[first]!;
  const state = t.state[slot]!;
  let err: UringError;
  if (res === -Errno.ECANCELED && state & State.ABORTED) err = abortError(Op.READ, t.signal[slot]?.reason);
  else if (res === -Errno.ECANCELED && e.isClosing) err = closedError(Op.READ);
  else {
    const er = errorFor(Op.READ, res);
    err = new UringError("READ", er.errno, `readMany: read ${first} of ${results.length}: ${er.message}`);
  }
  e.releaseSlot(slot);
  reject(err);
}

/** One batch member's CQE (tag TAG_BATCH): store res, count down, settle after the last. */
export function onBatchCqe(e: UringEngine, lo: number, gen: number, res: number): void {
  const t = e.table;
  const slot = lo & BATCH_SLOT_MASK;
  if (slot >= t.capacity || t.gen[slot] !== gen) return; // stale
  const results = t.batch[slot];
  const i = lo >>> BATCH_SLOT_BITS;
  if (results === null || results === undefined || i >= results.length || results[i] !== BATCH_PENDING) return;
  results[i] = res;
  const left = t.waiting[slot]! - 1;
  t.waiting[slot] = left;
  if (left === 0) settleBatch(e, slot);
}
