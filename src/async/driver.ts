/**
 * How completions reach JavaScript while the ring is idle (nothing to reap,
 * requests still in flight). See src/async/engine.ts for the busy path.
 *
 * - "event-loop" (default): an eventfd registered with the ring and a waiter
 *   thread in the shim, calling back through a thread-safe JSCallback. The
 *   eventfd is disabled (IORING_CQ_EVENTFD_DISABLED, a flag in shared memory)
 *   while JavaScript is busy reaping, so a busy ring costs no wake-ups; it is
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
 * Wake-up alternatives measured on Bun 1.4.5 (FIFO write → JS callback, same
 * machine, same run): the shim thread + thread-safe JSCallback p50 12 µs on a
 * quiet machine (25-35 µs under load); a Worker blocked in read(eventfd) +
 * Atomics.notify → Atomics.waitAsync on the main thread p50 29 µs; Bun's own
 * fd watching cannot take an eventfd (net.Socket({ fd }) never reports data,
 * fs.createReadStream({ fd }) fails with EAGAIN). So: the thread.
 */
import { registerEventfd, unregisterEventfd } from "../ring/register.ts";
import type { Ring } from "../ring/ring.ts";
import { closeFd, eventfd, startEventfdWaiter, type EventfdWaiter } from "../sys/ffi.ts";

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
    this.ring.cqEventfdToggle(true);
    // A CQE posted (or deferred work queued) before the flag store raised no
    // signal. Atomics are sequentially consistent, so this re-check after the
    // store pairs with the kernel's check of the flag after it posts.
    if (hasWork()) {
      this.ring.cqEventfdToggle(false);
      return false;
    }
    this.armed = true;
    this.waiter!.arm();
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
