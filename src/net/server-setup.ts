/**
 * How a {@link TcpServer}'s ring is set up: the ring options that measured
 * fastest for a one-thread server, and the fixed-file table its accepted
 * connections live in when they are direct descriptors.
 */
import { Rlimit } from "../sys/constants.ts";
import { getrlimit } from "../sys/ffi.ts";
import type { Ring, RingOptions } from "../ring/ring.ts";
import { registerFilesSparse } from "../ring/register.ts";

/** Direct-table slots beyond maxConnections, so a connection over the limit can still be accepted and refused. */
const REFUSE_HEADROOM = 64;

/** Setup options that measured fastest for one-thread servers here: DEFER_TASKRUN (+ SINGLE_ISSUER). */
export function fastRingOptions(): RingOptions {
  return { deferTaskrun: true };
}

/**
 * Gives `ring` an empty fixed-file table for accepted connections: room for
 * `maxConnections` plus a few to refuse with, at most the soft RLIMIT_NOFILE
 * (the kernel's cap). False when the kernel cannot (pre-5.19, or the limit
 * refused): the server then uses plain fds.
 */
export function registerDirectTable(ring: Ring, maxConnections: number): boolean {
  const slots = maxConnections + REFUSE_HEADROOM;
  const soft = getrlimit(Rlimit.NOFILE).soft;
  const n = Math.max(1, Math.min(slots, Number.isFinite(soft) && soft > 0 ? soft : slots));
  return registerFilesSparse(ring, n) >= 0;
}
