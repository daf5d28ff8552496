/**
 * struct __kernel_timespec for TIMEOUT / LINK_TIMEOUT / timeout updates and
 * the enter timeout: a reusable 16-byte buffer (i64 tv_sec, i64 tv_nsec).
 *
 * Safety: the kernel reads a timeout's timespec when the SQE is prepared on
 * submit, but keep the object alive until the request's CQE anyway: with
 * SQPOLL, submission happens later on another thread.
 */
import { TIMESPEC } from "../sys/abi.ts";
import { addressOf, type Addressable } from "../sys/ffi.ts";
import { setU64 } from "../ring/sqe.ts";

const NS_PER_SEC = 1_000_000_000;

/** A struct __kernel_timespec in its own 16-byte buffer; set it again and again without allocating. */
export class Timespec {
  /** The 16 bytes the kernel reads. */
  readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private cachedAddress = 0;

  /** A timespec of `sec` seconds and `nsec` nanoseconds (0 by default). */
  constructor(sec: number | bigint = 0, nsec = 0) {
    this.bytes = new Uint8Array(TIMESPEC.size);
    this.words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, 4);
    this.set(sec, nsec);
  }

  /** A timespec for `ms` milliseconds (fractions keep their nanoseconds). */
  static fromMs(ms: number): Timespec {
    return new Timespec().setMs(ms);
  }

  /** Sets seconds and nanoseconds; nsec must be in [0, 1e9). */
  set(sec: number | bigint, nsec: number): this {
    if (!(nsec >= 0 && nsec < NS_PER_SEC)) {
      throw new RangeError(`Timespec: nsec must be in [0, 999999999], got ${nsec}; carry whole seconds into sec`);
    }
    setU64(this.words, 0, typeof sec === "number" ? Math.trunc(sec) : sec);
    setU64(this.words, 2, Math.trunc(nsec));
    return this;
  }

  /** Sets the value from milliseconds (>= 0). */
  setMs(ms: number): this {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`Timespec: ms must be a finite number >= 0, got ${ms}`);
    const sec = Math.floor(ms / 1000);
    return this.set(sec, Math.min(NS_PER_SEC - 1, Math.round((ms - sec * 1000) * 1e6)));
  }

  /** Sets the value from nanoseconds (>= 0). */
  setNs(ns: number | bigint): this {
    if (typeof ns === "bigint") return this.set(ns / 1_000_000_000n, Number(ns % 1_000_000_000n));
    const sec = Math.floor(ns / NS_PER_SEC);
    return this.set(sec, ns - sec * NS_PER_SEC);
  }

  /** tv_sec as a number (exact below 2^53). */
  get sec(): number {
    return this.words[0]! + (this.words[1]! | 0) * 4294967296;
  }

  /** tv_nsec. */
  get nsec(): number {
    return this.words[2]!;
  }

  /** The buffer's address (taken once; the buffer never moves while this object lives). */
  get address(): number {
    if (this.cachedAddress === 0) this.cachedAddress = addressOf(this.bytes);
    return this.cachedAddress;
  }
}

/** A Timespec or anything addressable holding a struct __kernel_timespec. */
export type TimespecLike = Timespec | Addressable;

/** The address to put in an SQE for `ts`. */
export function timespecAddress(ts: TimespecLike | null): Addressable | null {
  return ts instanceof Timespec ? ts.address : ts;
}
