/**
 * An idle wake-up with no thread of ours: the ring's eventfd, opened
 * non-blocking, is read through `Bun.file(fd).stream()`, which Bun serves
 * from its own epoll loop. When the kernel signals the eventfd (a CQE was
 * posted, or DEFER_TASKRUN work was queued) Bun's loop wakes, reads the
 * counter and resolves the pending chunk: one wake-up of one thread, where
 * the waiter thread path (driver.ts `EventfdWake`) wakes two (the waiter,
 * then the JS thread through the thread-safe JSCallback).
 *
 * Measured with cli/async-read/wake.ts: a p50 within noise of the thread
 * path's and, in most runs, a shorter tail (only one thread must be
 * scheduled: perf sched:sched_wakeup counts one wake-up per idle → resolved
 * against the thread path's two; results/2026-12-02-lookup-wake.txt).
 *
 * A pending stream read keeps Bun's event loop alive, so the reader exists
 * only while requests are in flight: {@link StreamWake.rest} (called when the
 * scheduler settles idle) cancels it, and the next park opens a new one
 * (~40 µs, once per busy period). The eventfd stays registered for the life
 * of the ring.
 */
import { registerEventfd, unregisterEventfd } from "../ring/register.ts";
import type { Ring } from "../ring/ring.ts";
import { closeFd, eventfd } from "../sys/ffi.ts";

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

/** The part of a stream reader used here. */
interface ChunkReader {
  read(): Promise<{ done: boolean }>;
  cancel(): Promise<void>;
}

/** The eventfd of a ring, watched by Bun's event loop through a file stream. */
export class StreamWake {
  /** Armed: the next eventfd signal calls back once. */
  armed = false;
  /** Wake-ups delivered (for stats and tests). */
  wakeups = 0;
  #efd = -1;
  #reader: ChunkReader | null = null;
  readonly #ring: Ring;
  readonly #onWake: () => void;

  constructor(ring: Ring, onWake: () => void) {
    this.#ring = ring;
    this.#onWake = onWake;
  }

  /**
   * Enables the eventfd and arms. Returns false when completions turned up
   * meanwhile (the caller reaps instead of parking).
   */
  park(hasWork: () => boolean): boolean {
    if (this.armed) return true;
    if (this.#efd < 0) this.#open();
    if (this.#reader === null) this.#listen();
    this.#ring.cqEventfdToggle(true);
    // A CQE posted before the flag store raised no signal: the re-check after
    // the store pairs with the kernel's check of the flag after it posts.
    if (hasWork()) {
      this.#ring.cqEventfdToggle(false);
      return false;
    }
    this.armed = true;
    return true;
  }

  /** Nothing in flight: drop the reader so it no longer keeps the process alive. */
  rest(): void {
    if (this.armed || this.#reader === null) return;
    const reader = this.#reader;
    this.#reader = null;
    reader.cancel().catch(() => {});
  }

  /** Releases the reader and the eventfd. Idempotent. */
  close(): void {
    this.armed = false;
    const reader = this.#reader;
    this.#reader = null;
    reader?.cancel().catch(() => {});
    if (this.#efd >= 0) {
      unregisterEventfd(this.#ring);
      closeFd(this.#efd);
    }
    this.#efd = -1;
  }

  #open(): void {
    const efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) throw new Error(`eventfd failed: errno ${-efd}`);
    const rc = registerEventfd(this.#ring, efd);
    if (rc < 0) {
      closeFd(efd);
      throw new Error(`IORING_REGISTER_EVENTFD failed: errno ${-rc}`);
    }
    this.#efd = efd;
  }

  /** One reader per busy period; each chunk is one read(2) of the counter by Bun's loop. */
  #listen(): void {
    const reader: ChunkReader = Bun.file(this.#efd).stream().getReader();
    this.#reader = reader;
    const loop = async (): Promise<void> => {
      for (;;) {
        const r = await reader.read();
        if (r.done || this.#reader !== reader) return;
        if (!this.armed) continue; // a signal from before the last disable: already reaped
        this.armed = false;
        this.wakeups++;
        this.#ring.cqEventfdToggle(false);
        this.#onWake();
      }
    };
    loop().catch(() => {
      // Cancelled by rest()/close(), or the fd went away: the next park opens a new reader.
      if (this.#reader === reader) this.#reader = null;
    });
  }
}
