/**
 * The one result format every command produces: plain data, numbers with
 * units in their names, and the context needed to trust them later.
 * Rendering (tables, Markdown, HTML charts) is separate from measuring.
 */

/** One measured cell: a variant (e.g. "uring-fixed", "pread", "fio-io_uring") under one workload. */
export interface VariantResult {
  /** Variant name as shown in tables, e.g. "uring", "bun", "node", "c-epoll". */
  variant: string;
  /** Workload cell label, e.g. "c:1000 bytes:512" or "4k rand qd32 direct". */
  cell: string;
  /** Primary throughput: operations per second (round trips, reads, commits). Median over repetitions. */
  opsPerSec: number;
  /** Each repetition's ops/s, in run order (for spread and error bars). */
  repetitions: number[];
  /** Bytes per second, when meaningful. */
  bytesPerSec?: number;
  /** Latency percentiles in microseconds. */
  latencyUs?: { p50: number; p99: number; p999: number; mean?: number };
  /** CPU use as a fraction of one core (1.0 = one core busy), per side. */
  cpu?: { server?: number; client?: number; self?: number };
  /** Errors observed (wrong bytes, resets, failed ops). A run with errors is reported, never silently counted. */
  errors: number;
  /** Free-form notes: "client-bound", "IOPOLL unsupported: EOPNOTSUPP", ... */
  notes?: string[];
  /** Extra per-variant numbers (syscalls/op, enters, write vs sync split, ...). */
  extra?: Record<string, number | string>;
}

/** Where and how a run was made. */
export interface RunContext {
  /** ISO timestamp of the start of the run. */
  date: string;
  host: string;
  kernel: string;
  cpuModel: string;
  cpus: number;
  memGiB: number;
  bunVersion: string;
  /** `node --version` of the node that ran the node variant (absent when none ran). */
  nodeVersion?: string;
  /** Shim build in use ("cc" or "tcc"). */
  shimBuild: string;
  /** The exact command line. */
  argv: string[];
  /** Ring setup flags used by the io_uring variants, by name. */
  ringFlags?: string[];
}

/** A whole run of one command. */
export interface RunResult {
  /** Format version of this record. */
  schema: 1;
  /** "echo", "read", "fsync-chain", "nop". */
  command: string;
  context: RunContext;
  /** The options the command ran with. */
  options: Record<string, unknown>;
  results: VariantResult[];
  /** True when the run was interrupted (Ctrl-C): the numbers are what was measured up to then. */
  partial?: boolean;
}
