/**
 * Ring setups the `uring` echo server can run with (--uring-setup). They were
 * measured against each other on this machine; see the README for the numbers.
 */
import type { RingOptions } from "../../src/ring/ring.ts";

/** Ring options by setup name. */
export const URING_SETUPS: Record<string, RingOptions> = {
  /** DEFER_TASKRUN + SINGLE_ISSUER: completion work runs only when we wait; the fastest here. */
  defer: { deferTaskrun: true },
  /** COOP_TASKRUN + TASKRUN_FLAG: no IPIs, task work at the next enter. */
  coop: { coopTaskrun: true },
  /** No setup flags. */
  none: {},
  /**
   * SQPOLL: a kernel thread consumes the SQ, so submission needs no syscall.
   * It idles after 50 ms without work. It inherits the process's CPU pinning.
   */
  sqpoll: { sqpoll: { idleMs: 50 } },
};

/** The setup `uring` uses unless told otherwise. */
export const DEFAULT_URING_SETUP = "defer";
