/**
 * `uring.sendZc`: a zero-copy send, the one one-shot request with two CQEs:
 * the result (with F_MORE when a notification follows), then F_NOTIF once
 * the kernel has released the buffer. A SlotHandler takes both and settles
 * the Promise after the last, so the buffer may be reused when it resolves.
 */
import { prepSendZc } from "../ops/net.ts";
import { Bounce } from "../mem/bounce.ts";
import { CqeFlags, Op } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import type { UringEngine } from "./engine.ts";
import { abortError, errorFor } from "./errors.ts";
import type { MultishotOptions } from "./options.ts";
import { Mode, type SlotHandler } from "./pending.ts";
import { pinned, viewError, viewLength } from "./view-args.ts";

/** `uring.sendZc(fd, buffer, options)` after the Uring's closed check (see its TSDoc). */
export function sendZc(e: UringEngine, fd: number, buffer: ArrayBufferView, options: (MultishotOptions & { flags?: number }) | undefined): Promise<number> {
  const pre = e.precheck(Op.SEND_ZC, options);
  if (pre !== null) return pre;
  const flags = options?.flags ?? 0;
  const len = viewLength(buffer, undefined);
  if (len < 0) return Promise.reject(viewError("sendZc", buffer, undefined));
  // A SharedArrayBuffer view goes out in place (truly zero-copy); anything else from a copy the caller cannot detach.
  const src: Bounce | ArrayBufferView = len === 0 || pinned(buffer) ? buffer : e.copyIn(buffer, len);
  return new Promise<number>((resolve, reject) => {
    let result = 0;
    const signal = options?.signal;
    const onAbort = (): void => e.cancelSlot(slot);
    const handler: SlotHandler = {
      onCqe: (done, res, cflags) => {
        // First CQE: the result (F_MORE when a notification follows); then F_NOTIF.
        if ((cflags & CqeFlags.NOTIF) === 0) result = res;
        if ((cflags & CqeFlags.MORE) !== 0) return;
        e.releaseSlot(done);
        signal?.removeEventListener("abort", onAbort);
        if (result < 0) reject(signal?.aborted && result === -Errno.ECANCELED ? abortError(Op.SEND_ZC, signal.reason) : errorFor(Op.SEND_ZC, result));
        else resolve(result);
      },
    };
    const sqe = e.sqe();
    const slot = e.acquire(Op.SEND_ZC, Mode.HANDLER, src);
    try {
      prepSendZc(sqe, fd, src instanceof Bounce ? src.address : src, len, flags, 0);
    } catch (err) {
      e.abandon(sqe, slot, err).catch(reject);
      return;
    }
    e.commitHandler(sqe, slot, handler);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
