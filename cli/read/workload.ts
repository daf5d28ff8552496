/** The read workload every variant runs: one description, shared by io_uring variants and baselines. */
import type { AccessPattern } from "./offsets.ts";
import type { VerifyMode } from "./pattern.ts";

/** One read workload over one file. */
export interface ReadWorkload {
  path: string;
  /** File size in bytes. */
  size: number;
  /** Block size in bytes. */
  bs: number;
  /** Reads in flight (the concurrency of the promise baselines). */
  qd: number;
  /** Ring SQ entries for the io_uring variants (>= qd). */
  entries: number;
  /** Completions waited for per submit (io_uring variants, the C loop, fio's batch). */
  batch: number;
  /**
   * Reads prepared per submission while refilling (io_uring variants and the
   * C loop): 1 sends each read to the kernel as soon as it is prepared, as
   * fio does; `qd` submits every refilled slot in one enter.
   */
  submit: number;
  /**
   * Read buffers on transparent huge pages (io_uring variants, the C loop and
   * the pread and fs/promises loops, which read into off-heap memory). See
   * AlignedBufferOptions.hugePages for why.
   */
  hugePages: boolean;
  pattern: AccessPattern;
  direct: boolean;
  verify: VerifyMode;
  /** PRNG seed for random offsets. */
  seed: number;
  /** Reads per run (--bytes / bs), 0 for runs bounded by time only. */
  maxOps: number;
}

/** What a read baseline run as a child program (the C loop, node) prints: one JSON line. */
export interface ChildReadResult {
  ops: number;
  bytes: number;
  seconds: number;
  /** Latency percentiles, µs. */
  p50: number;
  p99: number;
  p999: number;
  /** usr + sys CPU as a fraction of one core. */
  cpu: number;
}

/** "4k rand qd32 direct": the cell label of a workload. */
export function cellLabel(w: Pick<ReadWorkload, "bs" | "pattern" | "qd" | "direct">): string {
  const bs = w.bs % (1 << 20) === 0 ? `${w.bs >> 20}m` : w.bs % 1024 === 0 ? `${w.bs >> 10}k` : `${w.bs}`;
  return `${bs} ${w.pattern} qd${w.qd} ${w.direct ? "direct" : "buffered"}`;
}
