/**
 * io_uring_register(2) calls that tune how a ring runs rather than what memory
 * it uses, with liburing's names: completion eventfds, enabling a disabled
 * ring, personalities, restrictions, io-wq workers, synchronous cancel, NAPI
 * busy polling and the wait clock. Each returns >= 0 on success, -errno on
 * failure.
 */
import { CLOCK_REGISTER, NAPI, RESTRICTION, SYNC_CANCEL_REG, TIMESPEC } from "../sys/abi.ts";
import { RegisterOp } from "../sys/constants.ts";
import { Errno } from "../sys/errno.ts";
import type { RegisterTarget } from "./register-common.ts";
import { noteIowqLimitsChosen } from "./iowq-limit.ts";

// ---- eventfd, enable ---------------------------------------------------------

/** io_uring_register_eventfd: the eventfd is signalled on every CQE. */
export function registerEventfd(ring: RegisterTarget, eventfd: number): number {
  return ring.register(RegisterOp.REGISTER_EVENTFD, Int32Array.of(eventfd), 1);
}

/** io_uring_register_eventfd_async: signalled only for completions that ran asynchronously. */
export function registerEventfdAsync(ring: RegisterTarget, eventfd: number): number {
  return ring.register(RegisterOp.REGISTER_EVENTFD_ASYNC, Int32Array.of(eventfd), 1);
}

/** io_uring_unregister_eventfd. */
export function unregisterEventfd(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_EVENTFD, null, 0);
}

/** io_uring_enable_rings: starts a ring created with R_DISABLED. */
export function enableRings(ring: RegisterTarget): number {
  return ring.register(RegisterOp.REGISTER_ENABLE_RINGS, null, 0);
}

// ---- personality, restrictions, io-wq ------------------------------------------

/** io_uring_register_personality: registers the caller's credentials; returns the personality ID (> 0) or -errno. */
export function registerPersonality(ring: RegisterTarget): number {
  return ring.register(RegisterOp.REGISTER_PERSONALITY, null, 0);
}

/** io_uring_unregister_personality. */
export function unregisterPersonality(ring: RegisterTarget, id: number): number {
  return ring.register(RegisterOp.UNREGISTER_PERSONALITY, null, id);
}

/** One io_uring_restriction: `opcode` is a RestrictionOp, `arg` the register op, SQE op or SQE flags it allows. */
export interface Restriction {
  opcode: number;
  arg: number;
}

/**
 * io_uring_register_restrictions (5.10): limits which register ops, SQE ops and
 * SQE flags the ring accepts. Only on a ring created disabled (R_DISABLED),
 * once, before {@link enableRings}. A disallowed SQE completes with -EACCES.
 */
export function registerRestrictions(ring: RegisterTarget, restrictions: readonly Restriction[]): number {
  const buf = new Uint8Array(Math.max(1, restrictions.length) * RESTRICTION.size);
  const view = new DataView(buf.buffer);
  restrictions.forEach((r, i) => {
    view.setUint16(i * RESTRICTION.size + RESTRICTION.opcode, r.opcode, true);
    view.setUint8(i * RESTRICTION.size + RESTRICTION.arg, r.arg);
  });
  return ring.register(RegisterOp.REGISTER_RESTRICTIONS, buf, restrictions.length);
}

/**
 * io_uring_register_iowq_aff (5.14): the CPUs this ring's io-wq workers may run
 * on. `cpus` is a list of CPU numbers or a bit mask (bit n = CPU n).
 */
export function registerIowqAff(ring: RegisterTarget, cpus: readonly number[] | bigint): number {
  const list = typeof cpus === "bigint" ? maskToCpus(cpus) : cpus;
  if (list.length === 0) return -Errno.EINVAL; // an empty set could run nothing
  const maxCpu = Math.max(...list);
  // cpu_set_t is a bit array in unsigned longs; the kernel wants whole longs.
  const bytes = new Uint8Array(Math.ceil((maxCpu + 1) / 64) * 8);
  for (const cpu of list) {
    if (!Number.isInteger(cpu) || cpu < 0) return -Errno.EINVAL;
    bytes[cpu >>> 3]! |= 1 << (cpu & 7);
  }
  return ring.register(RegisterOp.REGISTER_IOWQ_AFF, bytes, bytes.length);
}

function maskToCpus(mask: bigint): number[] {
  const out: number[] = [];
  for (let cpu = 0; mask > 0n; cpu++, mask >>= 1n) if (mask & 1n) out.push(cpu);
  return out;
}

/** io_uring_unregister_iowq_aff: io-wq workers may run on any CPU again. */
export function unregisterIowqAff(ring: RegisterTarget): number {
  return ring.register(RegisterOp.UNREGISTER_IOWQ_AFF, null, 0);
}

/**
 * io_uring_register_iowq_max_workers (5.15): `values` = [bounded, unbounded]
 * worker limits; 0 leaves a limit unchanged. On success the array holds the
 * previous limits (so [0, 0] reads them). Limits set here are the program's
 * choice: later rings of this thread no longer raise them (see iowq-limit.ts).
 */
export function registerIowqMaxWorkers(ring: RegisterTarget, values: Uint32Array): number {
  if (values.length < 2) return -Errno.EINVAL;
  const chosen = Uint32Array.of(values[0]!, values[1]!);
  const ret = ring.register(RegisterOp.REGISTER_IOWQ_MAX_WORKERS, values, 2);
  if (ret >= 0) noteIowqLimitsChosen(chosen);
  return ret;
}

// ---- sync cancel -------------------------------------------------------------

/** What io_uring_register_sync_cancel cancels (struct io_uring_sync_cancel_reg). */
export interface SyncCancelReg {
  /** user_data to match (CancelFlags.USERDATA or no key flag). */
  userData?: number | bigint;
  /** fd to match with CancelFlags.FD (a fixed-file index with FD_FIXED). */
  fd?: number;
  /** CancelFlags: ALL, FD, ANY, FD_FIXED, USERDATA, OP. */
  flags?: number;
  /** Give up after this many nanoseconds (-ETIME); omitted or null: wait as long as it takes. */
  timeoutNs?: number | null;
  /** Opcode to match with CancelFlags.OP. */
  opcode?: number;
}

/**
 * io_uring_register_sync_cancel (6.0): cancels matching requests and waits for
 * them to finish. Returns 0 (or the count with ALL/ANY), -ENOENT when nothing
 * matched, -EALREADY when a match is already running, -ETIME on timeout.
 */
export function registerSyncCancel(ring: RegisterTarget, reg: SyncCancelReg): number {
  const arg = new DataView(new ArrayBuffer(SYNC_CANCEL_REG.size));
  const ud = reg.userData ?? 0;
  arg.setBigUint64(SYNC_CANCEL_REG.addr, BigInt.asUintN(64, BigInt(ud)), true);
  arg.setInt32(SYNC_CANCEL_REG.fd, reg.fd ?? -1, true);
  arg.setUint32(SYNC_CANCEL_REG.flags, reg.flags ?? 0, true);
  const t = SYNC_CANCEL_REG.timeout;
  if (reg.timeoutNs === undefined || reg.timeoutNs === null) {
    // The kernel reads { -1, -1 } as "no timeout"; zero would time out at once.
    arg.setBigInt64(t + TIMESPEC.sec, -1n, true);
    arg.setBigInt64(t + TIMESPEC.nsec, -1n, true);
  } else {
    const ns = Math.max(0, Math.floor(reg.timeoutNs));
    arg.setBigInt64(t + TIMESPEC.sec, BigInt(Math.floor(ns / 1e9)), true);
    arg.setBigInt64(t + TIMESPEC.nsec, BigInt(ns % 1e9), true);
  }
  arg.setUint8(SYNC_CANCEL_REG.opcode, reg.opcode ?? 0);
  return ring.register(RegisterOp.REGISTER_SYNC_CANCEL, arg, 1);
}

// ---- NAPI, clock -------------------------------------------------------------

/**
 * io_uring_napi.opcode values (6.13): REGISTER_OP registers (or unregisters)
 * busy polling, the 6.9 behaviour; STATIC_ADD_ID / STATIC_DEL_ID add or remove
 * the NAPI ID in op_param for static tracking.
 */
export const NapiOp = {
  REGISTER_OP: 0,
  STATIC_ADD_ID: 1,
  STATIC_DEL_ID: 2,
} as const;

/**
 * io_uring_napi.op_param tracking strategies (6.13) for NapiOp.REGISTER_OP:
 * DYNAMIC polls the NAPI IDs of the sockets the ring's requests use (the 6.9
 * behaviour), STATIC only those added with STATIC_ADD_ID, INACTIVE none.
 */
export const NapiTracking = {
  DYNAMIC: 0,
  STATIC: 1,
  INACTIVE: 255,
} as const;

/** Settings of io_uring_register_napi (struct io_uring_napi). */
export interface NapiSettings {
  /** Busy-poll timeout in microseconds. */
  busyPollTo: number;
  /** Set SO_PREFER_BUSY_POLL semantics. */
  preferBusyPoll?: boolean;
  /** NapiOp (6.13); default REGISTER_OP. */
  opcode?: number;
  /** NapiTracking for REGISTER_OP, or a NAPI ID for STATIC_ADD/DEL_ID (6.13). */
  opParam?: number;
}

/**
 * io_uring_register_napi (6.9): busy-poll the network stack while waiting for
 * completions. Kernels without CONFIG_NET_RX_BUSY_POLL answer -EINVAL.
 */
export function registerNapi(ring: RegisterTarget, settings: NapiSettings): number {
  const arg = new DataView(new ArrayBuffer(NAPI.size));
  arg.setUint32(NAPI.busyPollTo, settings.busyPollTo, true);
  arg.setUint8(NAPI.preferBusyPoll, settings.preferBusyPoll ? 1 : 0);
  arg.setUint8(NAPI.opcode, settings.opcode ?? 0);
  arg.setUint32(NAPI.opParam, settings.opParam ?? 0, true);
  return ring.register(RegisterOp.REGISTER_NAPI, arg, 1);
}

/**
 * io_uring_unregister_napi: stops busy polling. When `out` is given, it
 * receives the settings that were in effect.
 */
export function unregisterNapi(ring: RegisterTarget, out?: NapiSettings): number {
  const arg = new DataView(new ArrayBuffer(NAPI.size));
  const ret = ring.register(RegisterOp.UNREGISTER_NAPI, arg, 1);
  if (ret >= 0 && out) {
    out.busyPollTo = arg.getUint32(NAPI.busyPollTo, true);
    out.preferBusyPoll = arg.getUint8(NAPI.preferBusyPoll) !== 0;
  }
  return ret;
}

/** Clocks io_uring_register_clock accepts. */
export const ClockId = {
  MONOTONIC: 1,
  BOOTTIME: 7,
} as const;

/** io_uring_register_clock (6.12): the clock that wait timeouts use (ClockId.MONOTONIC, the default, or BOOTTIME). */
export function registerClock(ring: RegisterTarget, clockid: number): number {
  const arg = new DataView(new ArrayBuffer(CLOCK_REGISTER.size));
  arg.setUint32(CLOCK_REGISTER.clockid, clockid, true);
  return ring.register(RegisterOp.REGISTER_CLOCK, arg, 0);
}
