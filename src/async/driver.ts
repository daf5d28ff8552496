/**
 * How completions reach JavaScript while the ring is idle (nothing to reap,
 * requests still in flight). See src/async/engine.ts for the busy path.
 *
 * - "event-loop" (default): an eventfd registered with the ring, read by
 *   Bun's own event loop through a file stream (`wake: "stream"`, the
 *   default, wake-stream.ts) or by a waiter thread in the shim calling back
 *   through a thread-safe JSCallback (`wake: "thread"`). The eventfd is
 *   disabled (IORING_CQ_EVENTFD_DISABLED, a flag in shared memory) while
 *   JavaScript is busy reaping, so a busy ring costs no wake-ups; it is
 *   enabled only when JavaScript parks.
 * - "run": blocks the JS thread in io_uring_enter(min_complete = 1), bounded
 *   by `runWaitMs` so timers still get a turn. For dedicated servers, Workers
 *   and benchmarks.
 * - "sqpoll": a kernel thread consumes the SQ (no enter syscalls while it is
 *   awake); idles like "event-loop".
 *
 * Keep-alive: a ref'd timer exists exactly while requests are in flight, so
 * the process exits when nothing is pending and never while something is.
 *
 * The {@link Scheduler} at the end of this file decides when the engine
 * submits, reaps and parks; the engine (engine.ts) owns requests and
 * completions only.
 *
 * Wake-up alternatives measured on Bun 1.4.5 (FIFO write → JS callback, same
 * machine, same run): the shim thread + thread-safe JSCallback p50 12 µs on a
 * quiet machine (25-35 µs under load); a Worker blocked in read(eventfd) +
 * Atomics.notify → Atomics.waitAsync on the main thread p50 29 µs; Bun's own
 * fd watching cannot take an eventfd (net.Socket({ fd }) never reports data,
 * fs.createReadStream({ fd }) fails with EAGAIN). So the thread came first;
 * Bun.file(fd).stream() on the eventfd then worked (wake-stream.ts), and on
 * the quiet VM of 2026-12-02 an event from another thread woke JavaScript in
 * 25 µs p50 through it against 107 µs through the waiter thread (the event
 * from the JS thread itself: 20 against 19 µs), level with the same path
 * written by hand on a raw Ring (35 µs), so the stream is the default
 * (results/2026-12-02-lookup-wake-warm.txt).
 *
 * The floor, in C on the same VM and event (c/reference/wake_floor.c,
 * results/2026-12-02-lookup-wake.txt): epoll on the ring's eventfd 12-20 µs
 * p50, a waiter thread + futex 16-50 µs, io_uring_wait_cqe 7-25 µs; a wake-up
 * that lands on the other (halted) vCPU costs 70-95 µs by itself. The thread
 * path takes two wake-ups per idle → resolved (the waiter, then the JS
 * thread); DEFER_TASKRUN signals the eventfd when the task work is queued,
 * so there is no third one to run task work first (a plain ring takes three).
 */
import { registerEventfd, unregisterEventfd } from "../ring/register.ts";
import type { Ring } from "../ring/ring.ts";
import { Features } from "../sys/constants.ts";
import { closeFd, eventfd, startEventfdWaiter, type EventfdWaiter } from "../sys/ffi.ts";
import { StreamWake } from "./wake-stream.ts";
import type { SubmitKind } from "./options.ts";

/** Which driver a Uring uses. */
export type DriverKind = "event-loop" | "run" | "sqpoll";

const EFD_CLOEXEC = 0o2000000;
/** A timer that never fires in practice: only its ref/unref matters. */
const KEEPALIVE_PERIOD_MS = 2 ** 30;

/** Keeps the process alive while requests are in flight. */
export class KeepAlive {
  private timer: ReturnType<typeof setInterval> | null = null;
  private refd = false;

  /** Requests are in flight: keep the event loop alive. */
  ref(): void {
    if (this.refd) return;
    this.refd = true;
    if (this.timer === null) this.timer = setInterval(noop, KEEPALIVE_PERIOD_MS);
    else this.timer.ref();
  }

  /** Nothing in flight: let the process exit. */
  unref(): void {
    if (!this.refd) return;
    this.refd = false;
    this.timer?.unref();
  }

  /** Removes the timer. */
  dispose(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.refd = false;
  }
}

function noop(): void {}

/**
 * The idle wake-up of the event-loop and sqpoll drivers: an eventfd
 * registered with the ring and a waiter thread. Created lazily on the first
 * park, so rings that never idle start no thread.
 */
export class EventfdWake {
  /** Armed: the thread waits for the eventfd and will call back once. */
  armed = false;
  /** Wake-ups delivered (for stats and tests). */
  wakeups = 0;
  private efd = -1;
  private waiter: EventfdWaiter | null = null;
  private readonly ring: Ring;
  private readonly onWake: () => void;

  constructor(ring: Ring, onWake: () => void) {
    this.ring = ring;
    this.onWake = onWake;
  }

  /**
   * Enables the eventfd and arms the thread. Returns false when completions
   * turned up meanwhile (the caller reaps instead of parking).
   */
  park(hasWork: () => boolean): boolean {
    if (this.armed) return true;
    if (this.efd < 0) this.start();
    // Arm first (a store in the shim, no syscall): the thread drops a signal
    // that finds it unarmed, and every signal of this park comes after the
    // enable below.
    this.armed = true;
    this.waiter!.arm();
    this.ring.cqEventfdToggle(true);
    // A CQE posted (or deferred work queued) before the flag store raised no
    // signal. Atomics are sequentially consistent, so this re-check after the
    // store pairs with the kernel's check of the flag after it posts.
    if (hasWork()) {
      this.ring.cqEventfdToggle(false);
      // The shim's flag may stay set: a later callback that finds us unarmed is ignored.
      this.armed = false;
      return false;
    }
    return true;
  }

  /** Releases the thread and the eventfd. */
  close(): void {
    if (this.waiter !== null) this.waiter.stop();
    this.waiter = null;
    if (this.efd >= 0) {
      unregisterEventfd(this.ring);
      closeFd(this.efd);
    }
    this.efd = -1;
    this.armed = false;
  }

  private start(): void {
    // Blocking (no EFD_NONBLOCK): the waiter thread sleeps in read(2).
    const efd = eventfd(0, EFD_CLOEXEC);
    if (efd < 0) throw new Error(`eventfd failed: errno ${-efd}`);
    const rc = registerEventfd(this.ring, efd);
    if (rc < 0) {
      closeFd(efd);
      throw new Error(`IORING_REGISTER_EVENTFD failed: errno ${-rc}`);
    }
    this.efd = efd;
    this.waiter = startEventfdWaiter(efd, () => {
      if (!this.armed) return;
      this.armed = false;
      this.wakeups++;
      // Quiet while JavaScript is busy: the next park enables it again.
      this.ring.cqEventfdToggle(false);
      this.onWake();
    });
  }
}

// ---- scheduling: when the engine submits, reaps and parks ------------------

/** What the {@link Scheduler} drives: the engine's submit-and-reap round and its state. */
export interface Drivable {
  /** One round: submit what is queued, flush kernel-held CQEs, reap. Returns CQEs reaped. */
  cycle(): number;
  /** Requests in flight (pending-table slots in use). */
  readonly inFlight: number;
  /** The engine is closed: stop scheduling. */
  readonly isClosed: boolean;
  /** CQEs are visible in the ring or held by the kernel (the park re-check). */
  hasWork(): boolean;
}

/** Scheduler settings a Uring picks from its options. */
export interface SchedulerOptions {
  /** "run" driver: longest single block in io_uring_enter, in ns. */
  runWaitNs: number;
  /** Idle wake-up of the event-loop and sqpoll drivers (default "stream"; see {@link WakeKind}). */
  wake?: WakeKind;
  /** When new requests are submitted (see UringOptions.submit); the engine has checked the value. */
  submit: SubmitKind;
}

/**
 * How an idle ring wakes JavaScript: "thread" (the shim's waiter thread and a
 * thread-safe JSCallback, {@link EventfdWake}) or "stream" (the eventfd read
 * by Bun's own event loop through a file stream, no thread: wake-stream.ts).
 */
export type WakeKind = "thread" | "stream";

/** Consecutive microtask flushes before one goes through setImmediate, so timers and I/O callbacks get a turn. */
const MAX_MICROTASK_ROUNDS = 64;
/** Quiet setImmediate polls (no syscall) before parking on the waiter thread; SQPOLL completions lag submission. */
const IDLE_POLLS = { "event-loop": 1, run: 0, sqpoll: 8 } as const;

/**
 * Engines with requests in flight. A Uring the caller dropped while the
 * kernel still owns its buffers must not be collected: its pending table is
 * what keeps those buffers alive (and its callback what the waiter calls).
 */
const busyTargets = new Set<Drivable>();

/**
 * The busy/idle half of a Uring: batches every request of a tick into one
 * flush (a microtask), looks again after the continuations ran, polls a few
 * macrotasks, then parks (eventfd + waiter thread, or a bounded blocking
 * enter for "run"). Holds the keep-alive while requests are in flight.
 */
export class Scheduler {
  /** A flush is queued for this tick. */
  flushQueued = false;
  readonly #target: Drivable;
  readonly #ring: Ring;
  readonly #driver: DriverKind;
  readonly #runWaitNs: number;
  readonly #idlePolls: number;
  readonly #keepAlive = new KeepAlive();
  readonly #wake: EventfdWake | StreamWake | null;
  #afterQueued = false;
  #idleQueued = false;
  #microRounds = 0;
  #idleRounds = 0;
  #busy = false;
  #idleSettleQueued = false;
  readonly #flushFn = (): void => this.#flush();
  readonly #afterFlushFn = (): void => this.#afterFlush();
  readonly #idleFn = (): void => this.#idleCheck();
  readonly #hasWorkFn = (): boolean => this.#target.hasWork();
  readonly #settleIdleFn = (): void => this.#settleIdle();
  /** submit: "immediate": a setImmediate is queued to hand this turn's requests to the flush. */
  readonly #deferSubmit: boolean;
  #deferQueued = false;
  readonly #deferredFlushFn = (): void => {
    this.#deferQueued = false;
    if (!this.#target.isClosed && !this.flushQueued) this.scheduleFlush();
  };

  constructor(target: Drivable, ring: Ring, driver: DriverKind, options: SchedulerOptions) {
    this.#target = target;
    this.#ring = ring;
    this.#driver = driver;
    this.#runWaitNs = options.runWaitNs;
    this.#idlePolls = IDLE_POLLS[driver];
    this.#deferSubmit = options.submit === "immediate";
    const onWake = () => this.#onWake();
    this.#wake = driver === "run" ? null : options.wake === "thread" ? new EventfdWake(ring, onWake) : new StreamWake(ring, onWake);
  }

  /** Wake-ups from idle delivered by the waiter thread. */
  get wakeups(): number {
    return this.#wake?.wakeups ?? 0;
  }

  /** A request was queued: flush this tick (a microtask; every MAX_MICROTASK_ROUNDS-th time a macrotask). */
  scheduleFlush(): void {
    this.flushQueued = true;
    if (this.#microRounds < MAX_MICROTASK_ROUNDS) {
      this.#microRounds++;
      queueMicrotask(this.#flushFn);
    } else {
      this.#microRounds = 0;
      setImmediate(this.#flushFn);
    }
  }

  /**
   * A new request was queued (the engine's commit, a readMany batch): have
   * it submitted this tick ("microtask") or at the end of the event-loop
   * turn ("immediate"; see UringOptions.submit).
   */
  requestFlush(): void {
    if (this.#deferSubmit) {
      if (!this.#deferQueued) {
        this.#deferQueued = true;
        setImmediate(this.#deferredFlushFn);
      }
    } else if (!this.flushQueued) this.scheduleFlush();
  }

  /** The kernel pushed back (EAGAIN/EBUSY): try again next macrotask. */
  retryLater(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(this.#flushFn);
  }

  /** A slot was taken: hold the keep-alive ref and a place in busyTargets. */
  markBusy(): void {
    if (this.#busy) return;
    this.#busy = true;
    this.#keepAlive.ref();
    busyTargets.add(this.#target);
  }

  /**
   * The table may just have emptied. Going idle is settled lazily, at the
   * next macrotask: a QD1 loop empties the table on every request, and the
   * ref/unref plus Set update would cost ~200 ns each time.
   */
  noteMaybeIdle(): void {
    if (this.#idleSettleQueued) return;
    this.#idleSettleQueued = true;
    setImmediate(this.#settleIdleFn);
  }

  /** Waits up to `ns` for one completion (EXT_ARG, 5.11+); older kernels only peek, so callers loop. */
  waitBounded(ns: number): void {
    if (this.#ring.features & Features.EXT_ARG) this.#ring.submitAndWaitTimeout(1, ns);
    else this.#ring.submitAndGetEvents();
  }

  /** Teardown: the waiter thread, the eventfd and the keep-alive go. */
  close(): void {
    this.#wake?.close();
    this.#keepAlive.dispose();
    this.#busy = false;
    busyTargets.delete(this.#target);
  }

  #flush(): void {
    this.flushQueued = false;
    const t = this.#target;
    if (t.isClosed) return;
    t.cycle();
    if (t.inFlight > 0 && !this.#afterQueued) {
      this.#afterQueued = true;
      queueMicrotask(this.#afterFlushFn);
    }
  }

  /** After the continuations of this round: if they queued nothing, look again next macrotask. */
  #afterFlush(): void {
    this.#afterQueued = false;
    const t = this.#target;
    if (this.flushQueued || t.isClosed || t.inFlight === 0 || this.#idleQueued) return;
    this.#idleQueued = true;
    setImmediate(this.#idleFn);
  }

  #idleCheck(): void {
    this.#idleQueued = false;
    this.#microRounds = 0;
    const t = this.#target;
    if (this.flushQueued || t.isClosed || t.inFlight === 0) return;
    const n = t.cycle();
    if (t.inFlight === 0) return;
    if (n > 0) {
      this.#idleRounds = 0;
      if (!this.#afterQueued) {
        this.#afterQueued = true;
        queueMicrotask(this.#afterFlushFn);
      }
      return;
    }
    if (this.#idleRounds < this.#idlePolls) {
      this.#idleRounds++;
      this.#idleQueued = true;
      setImmediate(this.#idleFn);
      return;
    }
    this.#idleRounds = 0;
    if (this.#driver === "run") {
      // Block in the kernel for a completion, bounded so timers still run.
      this.waitBounded(this.#runWaitNs);
      this.#idleQueued = true;
      setImmediate(this.#idleFn);
      t.cycle();
      return;
    }
    if (!this.#wake!.park(this.#hasWorkFn)) {
      this.#idleQueued = true;
      setImmediate(this.#idleFn);
    }
  }

  /** Nothing in flight since the last request settled: let the process exit, let the GC have the engine. */
  #settleIdle(): void {
    this.#idleSettleQueued = false;
    if (this.#target.inFlight !== 0 || !this.#busy) return;
    this.#busy = false;
    this.#keepAlive.unref();
    busyTargets.delete(this.#target);
    // The stream wake's pending read would keep the process alive.
    if (this.#wake instanceof StreamWake) this.#wake.rest();
  }

  #onWake(): void {
    if (this.#target.isClosed) return;
    this.#microRounds = 0;
    this.#flush();
  }
}
