/**
 * The ring a new Uring gets: its size and, unless the caller passed its own
 * setup options, the best setup flags per driver the kernel accepts.
 */
import { Ring, type RingOptions } from "../ring/ring.ts";
import type { DriverKind } from "./driver.ts";
import type { UringOptions } from "./options.ts";

/** Default SQ size: deep enough for a server's batch, small enough to stay in cache. */
export const DEFAULT_ENTRIES = 256;
/** CQ = this × SQ: multishot requests post many CQEs per SQE. */
const CQ_FACTOR = 4;

/** Setup flags per driver, best first; the first the kernel accepts wins. */
export function createRing(entries: number, driver: DriverKind, options: UringOptions): { ring: Ring; choice: string } {
  const cqEntries = entries * CQ_FACTOR;
  if (options.ring !== undefined) {
    return { ring: new Ring(entries, { cqEntries, ...options.ring }), choice: "custom" };
  }
  // DEFER_TASKRUN | SINGLE_ISSUER: completion work runs only when this (the
  // only) JS thread enters the kernel, never interrupting it; the kernel
  // signals the registered eventfd when such work is queued, and our enter
  // with GETEVENTS posts the CQEs. COOP_TASKRUN alone is not used: its task
  // work waits for the thread's next syscall without waking it, and an idle
  // Bun thread sleeping in epoll_wait would not see it.
  const tries: Array<[string, RingOptions]> =
    driver === "sqpoll"
      ? [["sqpoll", { sqpoll: { idleMs: options.sqpollIdleMs ?? 1000 } }]]
      : [
          ["defer-taskrun+single-issuer", { deferTaskrun: true }],
          ["single-issuer", { singleIssuer: true }],
          ["plain", {}],
        ];
  let last: unknown;
  for (const [name, opts] of tries) {
    try {
      return { ring: new Ring(entries, { cqEntries, ...opts }), choice: name };
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
