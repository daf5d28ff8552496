/**
 * user_data layout of the net layer's requests, shared by the server and the
 * load generator: low word = kind << 24 | connection slot, high word = the
 * slot's generation (so a late CQE for a closed, reused slot is recognised).
 * Written as two u32s: no BigInt on the hot path.
 */

/** Request kinds (the top byte of user_data's low word). */
export const Kind = {
  ACCEPT: 1,
  RECV: 2,
  SEND: 3,
  CLOSE: 4,
  CANCEL: 5,
  SOCKOPT: 6,
  TIMER: 7,
  SHUTDOWN: 8,
  /** A cancel aimed at a connection's send (its CQE only on failure, and ignored). */
  CANCEL_SEND: 9,
} as const;

/** Slots per table: the low 24 bits of user_data's low word. */
export const MAX_SLOTS = 1 << 24;

/** user_data low word for `kind` on `slot`. */
export function udLo(kind: number, slot: number): number {
  return ((kind << 24) | slot) >>> 0;
}
