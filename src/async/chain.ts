/**
 * Link chains: `uring.chain().write(fd, buf, 0).fdatasync(fd).run()`.
 * The steps go out as one run of SQEs joined by IOSQE_IO_LINK (or
 * IO_HARDLINK), in one submit; the result says, per step, whether it
 * succeeded, failed, or was cancelled because an earlier step failed.
 * A short read or write breaks an IO_LINK chain too (the kernel treats it as
 * a failure), and is reported as "short".
 */
import { sqeAddFlags, type Sqe } from "../ring/sqe.ts";
import { prepFdatasync, prepFsync, prepNop, prepRead, prepWrite } from "../ops/rw.ts";
import { Op, SqeFlags } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import type { UringEngine } from "./engine.ts";
import type { OpOptions } from "./options.ts";
import { abortError, errorFor, opName, UringError } from "./errors.ts";
import type { SlotHandler } from "./pending.ts";
import { copyOut, type Bounce } from "../mem/bounce.ts";

/** A step's buffer: a live TypedArray/DataView; its byteLength. */
function viewLength(method: string, buffer: unknown): number {
  if (!ArrayBuffer.isView(buffer)) throw new TypeError(`chain.${method}: the buffer must be a TypedArray or DataView`);
  if (buffer.byteLength === 0 && (buffer.buffer as ArrayBuffer).detached === true) throw new TypeError(`chain.${method}: the buffer is detached (transferred)`);
  return buffer.byteLength;
}

/** How one step of a chain ended. */
export type ChainStepStatus = "ok" | "short" | "failed" | "cancelled";

/** One step's outcome. */
export interface ChainStepResult {
  /** The opcode's name. */
  op: string;
  status: ChainStepStatus;
  /** The raw result: bytes, 0, or -errno. */
  res: number;
  /** Why the step failed or was cancelled. */
  error?: UringError;
}

/** The outcome of a chain. */
export interface ChainResult {
  /** Every step succeeded in full. */
  ok: boolean;
  /** Index of the first step that failed or came up short, or -1. */
  failedStep: number;
  steps: ChainStepResult[];
}

/** Options for `uring.chain()`. */
export interface ChainOptions {
  /** IOSQE_IO_HARDLINK: later steps run even if an earlier one fails. */
  hardlink?: boolean;
  /** IOSQE_IO_DRAIN on the first step: it starts only after every earlier request has completed. */
  drain?: boolean;
}

interface Step {
  op: number;
  prep: (sqe: Sqe) => void;
  keep: unknown;
  /** Bytes a read/write must move in full, or -1. */
  expect: number;
  /** A read step: the caller's view its bytes are copied to from the bounce block in `keep`. */
  copyTo?: ArrayBufferView;
}

/** A chain under construction. Each method adds a step; `run()` submits them. */
export class Chain {
  private readonly steps: Step[] = [];
  private readonly engine: UringEngine;
  private readonly options: ChainOptions;

  /** @internal Use `uring.chain()`. */
  constructor(engine: UringEngine, options: ChainOptions) {
    this.engine = engine;
    this.options = options;
  }

  /**
   * A write of `buffer` to `fd` at `offset` (-1: current position). The bytes
   * are copied into library memory now (docs/memory-safety.md), so later
   * changes to `buffer`, or detaching it, do not reach the kernel.
   */
  write(fd: number, buffer: ArrayBufferView, offset = -1): this {
    const len = viewLength("write", buffer);
    if (len === 0) return this.step(Op.WRITE, (sqe) => prepWrite(sqe, fd, null, 0, offset), null, 0);
    const b = this.engine.copyIn(buffer, len);
    return this.step(Op.WRITE, (sqe) => prepWrite(sqe, fd, b.address, len, offset), b, len);
  }

  /** A read into `buffer` from `fd` at `offset`: the kernel reads into library memory, copied to `buffer` at the step's CQE. */
  read(fd: number, buffer: ArrayBufferView, offset = -1): this {
    const len = viewLength("read", buffer);
    if (len === 0) return this.step(Op.READ, (sqe) => prepRead(sqe, fd, null, 0, offset), null, 0);
    const b = this.engine.bounces.take(len);
    this.step(Op.READ, (sqe) => prepRead(sqe, fd, b.address, len, offset), b, len);
    this.steps[this.steps.length - 1]!.copyTo = buffer;
    return this;
  }

  /** fsync(fd). */
  fsync(fd: number): this {
    return this.step(Op.FSYNC, (sqe) => prepFsync(sqe, fd), null);
  }

  /** fdatasync(fd). */
  fdatasync(fd: number): this {
    return this.step(Op.FSYNC, (sqe) => prepFdatasync(sqe, fd), null);
  }

  /** A NOP. */
  nop(): this {
    return this.step(Op.NOP, (sqe) => prepNop(sqe), null);
  }

  /**
   * Any request: `prep` fills the SQE (don't touch flags or user_data),
   * `keep` is what the kernel may touch, `expect` the byte count that counts
   * as complete (-1: any non-negative result).
   */
  step(op: number, prep: (sqe: Sqe) => void, keep: unknown, expect = -1): this {
    this.steps.push({ op, prep, keep, expect });
    return this;
  }

  /** Submits the chain; resolves when every step has its CQE. Rejects only if nothing was submitted. */
  run(options?: Pick<OpOptions, "signal">): Promise<ChainResult> {
    const engine = this.engine;
    const steps = this.steps;
    const n = steps.length;
    if (n === 0) return Promise.resolve({ ok: true, failedStep: -1, steps: [] });
    if (n > engine.ring.sqEntries) {
      return Promise.reject(
        new UringError(
          "LINK",
          Errno.EINVAL,
          `a chain of ${n} steps does not fit the SQ (${engine.ring.sqEntries} entries): make the Uring bigger ({ entries })`,
        ),
      );
    }
    for (const s of steps) {
      const pre = engine.precheck(s.op, options);
      if (pre !== null) return pre;
    }
    const linkFlag = this.options.hardlink ? SqeFlags.IO_HARDLINK : SqeFlags.IO_LINK;
    return new Promise<ChainResult>((resolve, reject) => {
      const state = new ChainState(engine, steps, resolve);
      // Reserve room for the whole chain so one submit carries all of it.
      const sqes: Sqe[] = [engine.sqe(n)];
      for (let i = 1; i < n; i++) sqes.push(engine.sqe());
      const slots = steps.map((s) => engine.acquire(s.op, 4 /* Mode.HANDLER */, s.keep));
      for (let i = 0; i < n; i++) {
        try {
          steps[i]!.prep(sqes[i]!);
        } catch (err) {
          // Nothing of the chain goes out: every SQE becomes an ignored NOP.
          for (let j = 0; j < n; j++) engine.abandon(sqes[j]!, slots[j]!, err).catch(j === i ? reject : () => {});
          return;
        }
      }
      for (let i = 0; i < n; i++) {
        const sqe = sqes[i]!;
        let flags = 0;
        if (i < n - 1) flags |= linkFlag;
        if (i === 0 && this.options.drain) flags |= SqeFlags.IO_DRAIN;
        sqeAddFlags(sqe, flags);
        state.slots[i] = slots[i]!;
        engine.commitHandler(sqe, slots[i]!, state);
      }
      const signal = options?.signal;
      if (signal !== undefined) state.watch(signal);
    });
  }
}

/** Collects the CQEs of a running chain. */
class ChainState implements SlotHandler {
  readonly slots: number[];
  private readonly results: Array<ChainStepResult | undefined>;
  private remaining: number;
  private aborted = false;
  private abortReason: unknown;
  private signal: AbortSignal | null = null;
  private readonly onAbort = (): void => {
    this.aborted = true;
    this.abortReason = this.signal?.reason;
    for (let i = 0; i < this.slots.length; i++) if (this.results[i] === undefined) this.engine.cancelSlot(this.slots[i]!);
  };

  constructor(
    private readonly engine: UringEngine,
    private readonly steps: Step[],
    private readonly resolve: (r: ChainResult) => void,
  ) {
    this.slots = new Array<number>(steps.length).fill(-1);
    this.results = new Array<ChainStepResult | undefined>(steps.length).fill(undefined);
    this.remaining = steps.length;
  }

  watch(signal: AbortSignal): void {
    this.signal = signal;
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  onCqe(slot: number, res: number): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.results[i] !== undefined) return;
    const s = this.steps[i]!;
    if (s.copyTo !== undefined && res > 0) copyOut(s.keep as Bounce, s.copyTo, res);
    this.engine.releaseSlot(slot);
    let status: ChainStepStatus;
    let error: UringError | undefined;
    if (res >= 0) status = s.expect >= 0 && res < s.expect ? "short" : "ok";
    else if (res === -Errno.ECANCELED) {
      status = "cancelled";
      error = this.aborted ? abortError(s.op, this.abortReason) : errorFor(s.op, res);
    } else {
      status = "failed";
      error = errorFor(s.op, res);
    }
    this.results[i] = error === undefined ? { op: opName(s.op), status, res } : { op: opName(s.op), status, res, error };
    if (--this.remaining > 0) return;
    this.signal?.removeEventListener("abort", this.onAbort);
    const steps = this.results as ChainStepResult[];
    // A step cancelled with nothing failing before it was cancelled by us (abort) or by its own failure.
    let failedStep = steps.findIndex((r) => r.status === "failed" || r.status === "short");
    if (failedStep < 0) failedStep = steps.findIndex((r) => r.status === "cancelled");
    this.resolve({ ok: failedStep < 0, failedStep, steps });
  }
}
