/**
 * What `Uring` and its methods take: the options types of the public async
 * API, declared once so the engine, the request helpers and index.ts all
 * name the same types.
 */
import type { RingOptions } from "../ring/ring.ts";
import type { DriverKind, WakeKind } from "./driver.ts";

/** Options for `new Uring(options)`. */
export interface UringOptions {
  /** SQ entries (default 256). The CQ gets 4× as many. */
  entries?: number;
  /** How completions reach JavaScript (default "event-loop"; see driver.ts). */
  driver?: DriverKind;
  /** Extra io_uring_setup options; replaces the driver's default flag choice when given. */
  ring?: RingOptions;
  /** "run" driver: longest single block in io_uring_enter before timers get a turn (default 50 ms). */
  runWaitMs?: number;
  /** "sqpoll" driver: the kernel thread's idle time before it sleeps (default 1000 ms). */
  sqpollIdleMs?: number;
  /**
   * Idle wake-up (default "stream": Bun's own loop watches the ring's eventfd,
   * src/async/wake-stream.ts; "thread": the shim's waiter thread and a
   * thread-safe JSCallback). Stream is the default because an event from
   * another CPU (the usual case: a packet, a device, another thread) woke
   * JavaScript in 25 µs p50 against 107 µs through the thread on the quiet
   * VM: one thread wake-up instead of two
   * (results/2026-12-02-lookup-wake-warm.txt).
   */
  wake?: WakeKind;
  /**
   * When requests made in a tick are submitted (default "microtask"):
   * "microtask" right after the code that made them (lowest latency: reads
   * of cached pages complete inside that enter and resolve in the same
   * tick); "immediate" at the end of the event-loop turn (setImmediate), so
   * the requests of every callback of the turn (a server's concurrent
   * requests) share one io_uring_enter, for one turn of latency. What
   * "immediate" defers is new one-shot requests and readMany batches, the
   * bulk of a server's submissions; multishot arms, chains, sendZc, re-arms
   * and cancels still go out at the next microtask (a cancel or re-arm should
   * not wait a turn).
   */
  submit?: SubmitKind;
}

/** See {@link UringOptions.submit}. */
export type SubmitKind = "microtask" | "immediate";

/** Per-request options every op accepts. */
export interface OpOptions {
  /** Aborting cancels the request (IORING_OP_ASYNC_CANCEL); an aborted signal rejects without submitting. */
  signal?: AbortSignal;
  /** Milliseconds before the request is cancelled (a linked IORING_OP_LINK_TIMEOUT); rejects with ETIME. */
  timeout?: number;
}

/** What `uring.cancel()` matches. */
export type CancelTarget = { fd: number } | { all: true } | { op: number };

/** Read/write options: a byte count other than the buffer's length. */
export interface RwOptions extends OpOptions {
  /** Bytes to transfer (default: the buffer's byteLength). */
  length?: number;
}

/** Options for path operations. */
export interface PathOptions extends OpOptions {
  /** Directory fd the path is relative to (default AT_FDCWD). */
  dirfd?: number;
}

/** Options for {@link Uring.readMany}. */
export interface ReadManyOptions {
  /** Aborting cancels every read of the batch still in flight; the Promise rejects with ECANCELED once all have completed. */
  signal?: AbortSignal;
}

/** Options for multishot iterators. */
export interface MultishotOptions {
  /** Aborting ends the iterator (the request is cancelled). */
  signal?: AbortSignal;
}
