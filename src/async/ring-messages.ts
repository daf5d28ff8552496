/**
 * Messages between rings (IORING_OP_MSG_RING, 5.18+): one `Uring` posts a
 * completion straight into another's CQ, with no eventfd, pipe or lock in
 * between. This is how thread-per-core runtimes (monoio, glommio) pass work
 * between cores, and how an acceptor ring hands a connection to a worker ring.
 *
 * A ring's fd is a process-wide number, so a Worker can post its ring's
 * {@link RingAddress} (plain data) to another Worker with `postMessage`; the
 * other side then sends to it from its own `Uring`:
 *
 * ```ts
 * // worker B: receive
 * const inbox = new RingInbox(uring, { onMessage: (v) => ..., onDescriptor: (i) => ... , fileTable: 1024 });
 * postMessage(inbox.address);
 * // worker A: send
 * await sendMessage(uring, address, 42n);          // a 64-bit value
 * await sendDescriptor(uring, address, fixedIndex); // a direct descriptor (IORING_MSG_SEND_FD, 6.0+)
 * await wakeRing(uring, address.ringFd);            // the target's wait returns
 * ```
 *
 * How a message is routed: the receiving `Uring` reserves slots of its
 * pending-op table (one for values, one for descriptors) and the sender
 * writes that slot's user_data into the CQE it posts. A third slot holds a
 * long TIMEOUT as the inbox's anchor: `uring.close()` cancels it like any
 * request, and its CQE releases the inbox, so closing the ring never waits
 * for the inbox.
 */
import { prepMsgRing, prepMsgRingCqeFlags, prepMsgRingFdAlloc } from "../ops/msg-ring.ts";
import { prepTimeout } from "../ops/timeout.ts";
import { Timespec } from "../ops/timespec.ts";
import { registerFilesSparse } from "../ring/register.ts";
import { Op } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import { UringError } from "./errors.ts";
import { Mode, type SlotHandler } from "./pending.ts";
import type { OpOptions } from "./options.ts";
import { engineOf, type Uring } from "./uring.ts";
import type { UringEngine } from "./engine.ts";

/**
 * Where a ring's inbox can be reached. Plain data (numbers and bigints): send
 * it to another Worker with `postMessage`. Valid until the inbox closes;
 * messages sent after that are dropped by the target.
 */
export interface RingAddress {
  /** The target ring's fd (fds are process-wide: the same number in every Worker). */
  readonly ringFd: number;
  /** user_data that routes a CQE to the inbox's value handler. */
  readonly message: bigint;
  /** user_data that routes a CQE to the inbox's descriptor handler. */
  readonly descriptor: bigint;
}

/** What a {@link RingInbox} does with what arrives. */
export interface RingInboxOptions {
  /** A 64-bit value sent with {@link sendMessage}. */
  onMessage?(value: bigint): void;
  /** A direct descriptor sent with {@link sendDescriptor} landed in this ring's fixed-file slot `fileIndex`. */
  onDescriptor?(fileIndex: number): void;
  /**
   * Register a sparse fixed-file table of this many slots for received
   * descriptors. Leave unset when the ring already has a file table (the
   * kernel allows one per ring).
   */
  fileTable?: number;
}

/**
 * user_data of the CQE {@link wakeRing} posts. A `Uring` and `TcpServer`
 * ignore it (no request of theirs has it); a raw `Ring` sees it and should skip it.
 */
export const WAKE_USER_DATA = 0xffff_ffff_ffff_ffffn;

/** The anchor TIMEOUT's period: long enough never to matter, re-armed if it ever fires. */
const ANCHOR_MS = 24 * 3600 * 1000;
const TWO_32 = 0x1_0000_0000n;

/**
 * Receives messages and descriptors other rings send to this `Uring` (see the
 * module comment). While open it counts as a request in flight, so it keeps
 * its Worker alive, as a listening socket would. Close it with {@link close};
 * `uring.close()` also closes it.
 */
export class RingInbox implements SlotHandler {
  /** Where to send to this inbox: post it to the senders. */
  readonly address: RingAddress;
  /** Resolves once the inbox has let go of its slots (after {@link close} or `uring.close()`). */
  readonly closed: Promise<void>;
  readonly #uring: UringEngine;
  readonly #onMessage: ((value: bigint) => void) | undefined;
  readonly #onDescriptor: ((fileIndex: number) => void) | undefined;
  readonly #messageSlot: number;
  readonly #descriptorSlot: number;
  #anchorSlot = -1;
  readonly #anchorTs = Timespec.fromMs(ANCHOR_MS);
  #open = true;
  #resolveClosed!: () => void;

  /** Opens an inbox on `uring`. Throws when the kernel lacks MSG_RING (5.18) or the Uring is closed. */
  constructor(uring: Uring, options: RingInboxOptions = {}) {
    if (uring.isClosed) throw new UringError("MSG_RING", Errno.EBADF, "RingInbox: the Uring is closed");
    if (!uring.opSupported(Op.MSG_RING)) {
      throw new UringError("MSG_RING", Errno.EOPNOTSUPP, "RingInbox: this kernel lacks IORING_OP_MSG_RING (Linux 5.18+)");
    }
    if (options.fileTable !== undefined) {
      const rc = registerFilesSparse(uring.ring, options.fileTable);
      if (rc < 0) throw new UringError("REGISTER_FILES", -rc, `RingInbox: registering a ${options.fileTable}-slot file table failed`);
    }
    this.#uring = engineOf(uring);
    this.#onMessage = options.onMessage;
    this.#onDescriptor = options.onDescriptor;
    this.closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
    // Mailbox slots are never submitted: only other rings' MSG_RINGs complete them.
    this.#messageSlot = this.#uring.acquire(Op.MSG_RING, Mode.HANDLER, null);
    this.#uring.table.handler[this.#messageSlot] = this;
    this.#descriptorSlot = this.#uring.acquire(Op.MSG_RING, Mode.HANDLER, null);
    this.#uring.table.handler[this.#descriptorSlot] = this;
    this.address = { ringFd: uring.ring.fd, message: this.#userData(this.#messageSlot), descriptor: this.#userData(this.#descriptorSlot) };
    this.#armAnchor();
  }

  /** True until the inbox has closed. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Stops receiving: later messages to {@link address} are dropped. {@link closed} resolves when done. */
  close(): Promise<void> {
    if (this.#open && this.#anchorSlot >= 0 && !this.#uring.isClosed) this.#uring.cancelSlot(this.#anchorSlot);
    else if (this.#open) this.#finish();
    return this.closed;
  }

  /** `using inbox = new RingInbox(...)` support. */
  [Symbol.dispose](): void {
    void this.close();
  }

  /** One CQE for one of the inbox's slots. @internal (called by the engine) */
  onCqe(slot: number, res: number, flags: number): void {
    if (!this.#open) return;
    if (this.#uring.isClosed) {
      // Teardown (failAll): nothing arriving now is a message.
      this.#finish();
      return;
    }
    if (slot === this.#messageSlot) {
      // 64 bits: the low word rode in res, the high word in the CQE flags (MSG_RING_FLAGS_PASS).
      this.#onMessage?.((BigInt(flags >>> 0) << 32n) | BigInt(res >>> 0));
    } else if (slot === this.#descriptorSlot) {
      this.#onDescriptor?.(res);
    } else if (slot === this.#anchorSlot) {
      if (res === -Errno.ETIME) this.#armAnchor();
      else this.#finish();
    }
  }

  #userData(slot: number): bigint {
    return BigInt(slot) + BigInt(this.#uring.table.gen[slot]!) * TWO_32;
  }

  #armAnchor(): void {
    const uring = this.#uring;
    if (this.#anchorSlot >= 0) uring.releaseSlot(this.#anchorSlot);
    const sqe = uring.sqe();
    this.#anchorSlot = uring.acquire(Op.TIMEOUT, Mode.HANDLER, this.#anchorTs);
    prepTimeout(sqe, this.#anchorTs, 0, 0);
    uring.commitHandler(sqe, this.#anchorSlot, this);
  }

  #finish(): void {
    if (!this.#open) return;
    this.#open = false;
    const uring = this.#uring;
    for (const slot of [this.#messageSlot, this.#descriptorSlot, this.#anchorSlot]) if (slot >= 0) uring.releaseSlot(slot);
    this.#anchorSlot = -1;
    this.#resolveClosed();
  }
}

function checkAddress(to: RingAddress, what: string): void {
  if (to === null || typeof to !== "object" || !Number.isInteger(to.ringFd) || typeof to.message !== "bigint" || typeof to.descriptor !== "bigint") {
    throw new TypeError(
      `${what}: the target must be a RingAddress (an inbox's \`address\`), got ${JSON.stringify(to, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`,
    );
  }
}

/**
 * Sends a 64-bit `value` to the inbox at `to`; resolves once the kernel has
 * posted it into the target's CQ. Values past 32 bits use
 * MSG_RING_FLAGS_PASS (6.3+). Rejects with a UringError: EBADFD (the target
 * is not a ring, or is disabled), EOVERFLOW (the target's CQ is full).
 */
export function sendMessage(from: Uring, to: RingAddress, value: bigint | number, options?: OpOptions): Promise<void> {
  try {
    checkAddress(to, "sendMessage");
  } catch (err) {
    return Promise.reject(err);
  }
  const v = BigInt.asUintN(64, BigInt(value));
  const lo = Number(v & 0xffff_ffffn);
  const hi = Number(v >> 32n);
  return from
    .submit(
      Op.MSG_RING,
      (sqe) => (hi === 0 ? prepMsgRing(sqe, to.ringFd, lo, to.message, 0) : prepMsgRingCqeFlags(sqe, to.ringFd, lo, to.message, 0, hi)),
      null,
      options,
    )
    .then(() => undefined);
}

/**
 * Passes the direct descriptor in `from`'s fixed-file slot `fileIndex` to the
 * inbox at `to` (IORING_MSG_SEND_FD, 6.0+): the kernel installs the same file
 * in a free slot of the target's file table and the inbox's `onDescriptor`
 * gets that slot. `from` keeps its own slot: close it (IORING_OP_CLOSE on the
 * fixed file) when it has no more use for it. Resolves to the slot allocated
 * in the target. Rejects with ENFILE when the target's table is full, EBADF
 * when `fileIndex` holds nothing.
 */
export function sendDescriptor(from: Uring, to: RingAddress, fileIndex: number, options?: OpOptions): Promise<number> {
  try {
    checkAddress(to, "sendDescriptor");
  } catch (err) {
    return Promise.reject(err);
  }
  return from.submit(Op.MSG_RING, (sqe) => prepMsgRingFdAlloc(sqe, to.ringFd, fileIndex, to.descriptor, 0), null, options);
}

/**
 * Wakes the ring whose fd is `ringFd`: posts one CQE with user_data
 * {@link WAKE_USER_DATA}, so a thread waiting on that ring (in
 * io_uring_enter, or on its registered eventfd) returns. No eventfd needed;
 * the target needs no inbox. A run loop wakes this way to look at a flag
 * another thread set (a stop request, new work in shared memory).
 */
export function wakeRing(from: Uring, ringFd: number, options?: OpOptions): Promise<void> {
  return from.submit(Op.MSG_RING, (sqe) => prepMsgRing(sqe, ringFd, 0, WAKE_USER_DATA, 0), null, options).then(() => undefined);
}
