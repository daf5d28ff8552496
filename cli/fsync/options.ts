/**
 * Options of `uring-bench fsync-chain`, validated once into a plain config.
 * Every check throws an {@link OptionError} whose message names the flag,
 * what was wrong, and what to pass instead.
 */
import { cpus } from "node:os";
import { OptionError } from "../harness/option-error.ts";
import { parseSize } from "../harness/size.ts";
import { RECORD_HEADER_BYTES } from "./record.ts";

/** How the SQEs of one commit are tied together. */
export const CHAIN_MODES = ["link", "hardlink", "drain"] as const;
/** A chain mode: IOSQE_IO_LINK, IOSQE_IO_HARDLINK, or unlinked writes then a sync with IOSQE_IO_DRAIN. */
export type ChainMode = (typeof CHAIN_MODES)[number];

/** How a commit is made durable. */
export const SYNC_KINDS = ["fdatasync", "fsync", "sync-file-range", "rwf-dsync", "o-dsync"] as const;
/**
 * fdatasync / fsync: a linked IORING_OP_FSYNC (with or without DATASYNC);
 * sync-file-range: IORING_OP_SYNC_FILE_RANGE (WAIT_BEFORE|WRITE|WAIT_AFTER: data only, no device flush);
 * rwf-dsync: each write carries RWF_DSYNC, no separate sync;
 * o-dsync: the file is opened O_DSYNC, no separate sync.
 */
export type SyncKind = (typeof SYNC_KINDS)[number];

/** Benchmark variants the command can run. */
export const VARIANTS = ["uring", "loop", "promises", "fio", "c-liburing"] as const;
/** A variant name. */
export type VariantName = (typeof VARIANTS)[number];

/** The validated configuration of one fsync-chain run. */
export interface FsyncConfig {
  /** Directory the data files are created in (must exist and be writable). */
  dir: string;
  /** Bytes per write (one record). */
  recordBytes: number;
  /** Writes per commit. */
  writesPerCommit: number;
  /** Chains in flight, one cell per value. */
  inflight: number[];
  /** SQ entries of the ring. */
  ringEntries: number;
  mode: ChainMode;
  sync: SyncKind;
  /** true: writes extend the file; false: overwrite a preallocated file (fallocate). */
  append: boolean;
  /** Overwrite mode: file size in bytes (records wrap around). */
  fileBytes: number;
  /** Overwrite mode: write the whole file once before measuring, so overwrites touch no extent metadata. */
  prefill: boolean;
  /** Stop after this many commits per variant run (0: by duration). */
  maxCommits: number;
  /** Run fio baselines (psync and io_uring with --fdatasync=1). */
  fio: boolean;
  /** Variants to run. */
  variants: VariantName[];
  /** Keep the data files afterwards. */
  keep: boolean;
  /** Ring: IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN (where the kernel has it). */
  deferTaskrun: boolean;
  /**
   * Pin the committing thread (every variant) and the ring's io-wq workers to
   * this CPU, or null. On a busy machine the worker that runs the sync then
   * starts as soon as the submitter sleeps, instead of queueing on another CPU.
   */
  cpu: number | null;
  /**
   * io_uring variant: wake for every CQE so the write/sync split can be timed
   * from CQE arrival. Off by default: it costs one more wake-up per commit
   * whenever a write completes in io-wq, which shows at one commit in flight.
   */
  split: boolean;
  /** `uring` and `loop` run this many ways at once, a Worker and a file each; fio runs numjobs=N (rings.ts). */
  rings: number;
}

/** Kernel maximum SQ entries (IORING_MAX_ENTRIES). */
const MAX_RING_ENTRIES = 32768;

function int(flag: string, raw: string | number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = typeof raw === "number" ? raw : Number(raw.trim());
  if (!Number.isInteger(v)) throw new OptionError(`${flag} ${raw}: not an integer; pass a whole number, e.g. ${flag} ${Math.max(min, 1)}.`);
  if (v < min) throw new OptionError(`${flag} ${raw}: must be at least ${min}.`);
  if (v > max) throw new OptionError(`${flag} ${raw}: must be at most ${max}.`);
  return v;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new OptionError(`${flag} ${raw}: unknown; choose one of ${allowed.join(", ")}.`);
}

/** Raw option values as commander hands them over (strings unless defaulted). */
export interface RawFsyncOptions {
  dir?: string;
  bytes?: string | number;
  writes?: string | number;
  inflight?: string | number;
  ringSize?: string | number;
  mode?: string;
  sync?: string;
  append?: boolean;
  overwrite?: boolean;
  fileSize?: string | number;
  prefill?: boolean;
  commits?: string | number;
  fio?: boolean;
  variants?: string;
  keep?: boolean;
  deferTaskrun?: boolean;
  cpu?: string | number;
  split?: boolean;
  rings?: string | number;
}

/** Validates raw options into a config; throws {@link OptionError} on the first bad value. */
export function resolveFsyncOptions(raw: RawFsyncOptions): FsyncConfig {
  const recordBytes = parseSize("-b/--bytes", raw.bytes ?? "4k");
  if (recordBytes === 0) {
    throw new OptionError(`-b/--bytes 0: a commit must write something; pass at least ${RECORD_HEADER_BYTES} (the record header), e.g. -b 4k.`);
  }
  if (recordBytes < RECORD_HEADER_BYTES) {
    throw new OptionError(`-b/--bytes ${raw.bytes}: a record needs at least ${RECORD_HEADER_BYTES} bytes (magic, sequence, length, checksum).`);
  }
  if (recordBytes % 4 !== 0) throw new OptionError(`-b/--bytes ${raw.bytes}: must be a multiple of 4 (records are 32-bit words).`);
  if (recordBytes > 64 * 1024 * 1024) throw new OptionError(`-b/--bytes ${raw.bytes}: at most 64m per write.`);
  const writesPerCommit = int("--writes", raw.writes ?? 1, 1, 64);
  const mode = oneOf("--mode", raw.mode ?? "link", CHAIN_MODES);
  const sync = oneOf("--sync", raw.sync ?? "fdatasync", SYNC_KINDS);
  const perCommit = sqesPerCommit({ writesPerCommit, sync });
  const inflightRaw = String(raw.inflight ?? "1");
  const inflight = inflightRaw.split(",").map((s) => {
    const v = int("--inflight", s, 0);
    if (v === 0) throw new OptionError("--inflight 0: at least one commit must be in flight; pass --inflight 1 (or a list like 1,16).");
    return v;
  });
  const maxInflight = Math.max(...inflight);
  const ringEntries =
    raw.ringSize === undefined
      ? Math.min(MAX_RING_ENTRIES, Math.max(64, nextPow2(maxInflight * perCommit)))
      : int("--ring-size", raw.ringSize, 1, MAX_RING_ENTRIES);
  // The CQ has 2 × SQ entries; all SQEs of the commits in flight must fit in the SQ at once.
  if (maxInflight * perCommit > nextPow2(ringEntries)) {
    throw new OptionError(
      `--inflight ${maxInflight}: ${maxInflight} commits × ${perCommit} SQEs = ${maxInflight * perCommit} SQEs, above the ring size ${nextPow2(ringEntries)}; ` +
        `lower --inflight or raise --ring-size (at most ${MAX_RING_ENTRIES}).`,
    );
  }
  if (raw.append && raw.overwrite) throw new OptionError("--append and --overwrite exclude each other: pick one.");
  const append = raw.overwrite !== true;
  const fileBytes = parseSize("--file-size", raw.fileSize ?? "64m");
  if (!append && fileBytes < recordBytes * writesPerCommit * maxInflight) {
    throw new OptionError(
      `--file-size ${raw.fileSize}: the preallocated file must hold at least --inflight × --writes × -b = ${recordBytes * writesPerCommit * maxInflight} bytes.`,
    );
  }
  if (raw.prefill && append) throw new OptionError("--prefill applies to --overwrite only.");
  const variants = (raw.variants ?? "uring,loop,promises").split(",").map((v) => oneOf("--variants", v.trim(), VARIANTS));
  const fio = raw.fio === true || variants.includes("fio");
  if (fio && !variants.includes("fio")) variants.push("fio");
  return {
    dir: raw.dir ?? "/var/tmp",
    recordBytes,
    writesPerCommit,
    inflight,
    ringEntries,
    mode,
    sync,
    append,
    fileBytes: append ? 0 : fileBytes - (fileBytes % (recordBytes * writesPerCommit)),
    prefill: raw.prefill === true,
    maxCommits: int("--commits", raw.commits ?? 0, 0),
    fio,
    variants,
    keep: raw.keep === true,
    deferTaskrun: raw.deferTaskrun !== false,
    split: raw.split === true,
    rings: int("--rings", raw.rings ?? 1, 1, 64),
    cpu: raw.cpu === undefined ? null : int("--cpu", raw.cpu, 0, cpus().length - 1),
  };
}

/** Smallest power of two >= n (the kernel rounds SQ entries up the same way). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** SQEs one commit uses: its writes, plus the sync unless the writes are DSYNC. */
export function sqesPerCommit(cfg: Pick<FsyncConfig, "writesPerCommit" | "sync">): number {
  return cfg.writesPerCommit + (cfg.sync === "rwf-dsync" || cfg.sync === "o-dsync" ? 0 : 1);
}
