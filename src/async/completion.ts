/**
 * The engine's completion side: drain the CQ in shared memory (no syscall,
 * one head store per pass) and dispatch each CQE by the tag in its
 * user_data: a request's own CQE settles its slot or goes to the slot's
 * handler, a linked timeout's is counted, a batch member's goes to
 * read-many.ts, an internal request's (TAG_IGNORE) is dropped.
 *
 * Free functions of the engine, called once per CQE from the reap loop: the
 * same calls the engine's methods made, in a file of their own.
 */
import type { CompletionQueue } from "../ring/cq.ts";
import { copyOut, type Bounce, type Scatter } from "../mem/bounce.ts";
import { Errno } from "../sys/errno.ts";
import type { UringEngine } from "./engine.ts";
import { abortError, closedError, errorFor, timeoutError, type UringError } from "./errors.ts";
import { GEN_MASK, Mode, State, TAG_BATCH, TAG_LINK_TIMEOUT, TAG_OP } from "./pending.ts";
import { onBatchCqe } from "./read-many.ts";
import { parseStatx } from "./statx.ts";

/**
 * Drains every CQE in shared memory (no syscall); one head store. Returns
 * how many slots. The views come from `ring.cq` at each batch (the one CQ
 * walker, cq.ts), so a resize between batches is picked up here.
 */
export function reap(e: UringEngine): number {
  const cq = e.ring.cq;
  if (cq.mixed) return reapMixed(e, cq);
  const tail = cq.tail();
  let head = cq.head;
  if (head === tail) return 0;
  const n = (tail - head) >>> 0;
  const words = cq.words;
  const mask = cq.mask;
  const shift = cq.cqeShift;
  while (head !== tail) {
    const b = (head & mask) << shift;
    head = (head + 1) >>> 0;
    onCqe(e, words[b]! >>> 0, words[b + 1]! >>> 0, words[b + 2]!, words[b + 3]! >>> 0);
  }
  cq.advance(n);
  return n;
}

/** CQE_MIXED rings: padding CQEs are skipped and a 32-byte CQE takes two slots (peek and slotsOf know how). */
function reapMixed(e: UringEngine, cq: CompletionQueue): number {
  let n = 0;
  for (;;) {
    const cqe = cq.peek();
    if (cqe === null) return n;
    const w = cqe.i32;
    const lo = w[0]! >>> 0,
      hi = w[1]! >>> 0,
      res = w[2]!,
      flags = w[3]! >>> 0;
    const slots = cq.slotsOf(cqe);
    cq.advance(slots);
    n += slots;
    onCqe(e, lo, hi, res, flags);
  }
}

function onCqe(e: UringEngine, lo: number, hi: number, res: number, flags: number): void {
  const t = e.table;
  const gen = hi & GEN_MASK;
  const tag = hi >>> 24;
  if (tag === TAG_BATCH) {
    onBatchCqe(e, lo, gen, res);
    return;
  }
  if (lo >= t.capacity || t.gen[lo] !== gen) return; // stale: the slot moved on
  if (tag === TAG_OP) {
    const h = t.handler[lo];
    if (h !== null && h !== undefined) {
      h.onCqe(lo, res, flags);
      return;
    }
    if (t.waiting[lo] === 1) settle(e, lo, res);
    else {
      t.waiting[lo] = t.waiting[lo]! - 1;
      t.res[lo] = res;
    }
  } else if (tag === TAG_LINK_TIMEOUT) {
    if (res === -Errno.ETIME) t.state[lo] = t.state[lo]! | State.TIMED_OUT;
    if (t.waiting[lo] === 1) settle(e, lo, t.res[lo]!);
    else t.waiting[lo] = t.waiting[lo]! - 1;
  }
  // TAG_IGNORE: an ASYNC_CANCEL's own result; the target's CQE tells the story.
  void flags;
}

/** Settles a one-shot request with its final result. */
function settle(e: UringEngine, slot: number, res: number): void {
  const t = e.table;
  const resolve = t.resolve[slot]!;
  const reject = t.reject[slot]!;
  const mode = t.mode[slot]!;
  if (res >= 0 || (mode === Mode.TIMEOUT && res === -Errno.ETIME)) {
    let value: unknown = res;
    if (mode === Mode.VOID || mode === Mode.TIMEOUT) value = undefined;
    else if (mode === Mode.COPY_OUT) copyOut(t.keep[slot] as Bounce, t.keep2[slot] as ArrayBufferView | Scatter, res);
    else if (mode === Mode.STATX) value = parseStatx(t.keep2[slot] as Uint8Array);
    e.releaseSlot(slot);
    resolve(value);
    return;
  }
  const op = t.op[slot]!;
  const state = t.state[slot]!;
  let err: UringError;
  if (res === -Errno.ECANCELED && state & State.TIMED_OUT) err = timeoutError(op, t.timeoutMs[slot]!);
  else if (res === -Errno.ECANCELED && state & State.ABORTED) err = abortError(op, t.signal[slot]?.reason);
  else if (res === -Errno.ECANCELED && e.isClosing) err = closedError(op);
  else err = errorFor(op, res);
  e.releaseSlot(slot);
  reject(err);
}
