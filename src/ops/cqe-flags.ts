/**
 * CQE predicates beyond those in src/ring/cqe.ts (which has cqeMore,
 * cqeHasBuffer, cqeBufferId, cqeNotif, cqeSockNonempty, cqeBufMore).
 */
import { CqeFlags, NOTIF_USAGE_ZC_COPIED } from "../sys/constants.ts";
import type { Cqe } from "../ring/cqe.ts";

/** IORING_CQE_F_SKIP: a padding CQE in a CQE_MIXED ring; ignore it. */
export function cqeSkip(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.SKIP) !== 0;
}

/** IORING_CQE_F_32: a 32-byte CQE in a CQE_MIXED ring. */
export function cqeIs32(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.F_32) !== 0;
}

/** io_uring_cqe_nr: how many 16-byte CQ slots this CQE occupies (2 for a 32-byte CQE in a mixed ring). */
export function cqeNr(cqe: Cqe): number {
  return (cqe.flags & CqeFlags.F_32) !== 0 ? 2 : 1;
}

/**
 * A SEND_ZC / SENDMSG_ZC notification (cqeNotif) sent with
 * IORING_SEND_ZC_REPORT_USAGE says the data was copied, not sent zero-copy.
 */
export function cqeNotifCopied(cqe: Cqe): boolean {
  return (cqe.flags & CqeFlags.NOTIF) !== 0 && (cqe.res & NOTIF_USAGE_ZC_COPIED) !== 0;
}
