/**
 * The read command's own options, resolved and checked once: sizes parsed,
 * defaults filled (batch, ring entries, variants), and every combination that
 * cannot work turned into a {@link OptionError} before anything runs.
 */
import { OptionError } from "../harness/option-error.ts";
import { parseSize } from "../harness/size.ts";
import { inputError, qdAboveRing } from "./errors.ts";
import type { AccessPattern } from "./offsets.ts";
import { VERIFY_MODES, type VerifyMode } from "./pattern.ts";
import type { ReadWorkload } from "./workload.ts";

/** Every variant the read command knows, in table order. */
export const READ_VARIANTS = [
  "uring",
  "uring-fixbuf",
  "uring-fixfile",
  "uring-fixed",
  "uring-sqpoll",
  "uring-iopoll",
  "c-liburing",
  "c-liburing-fixed",
  "fio-io_uring",
  "fio-psync",
  "pread",
  "bun-file",
  "node-fsp",
  "node",
] as const;

/** A read variant name. */
export type ReadVariant = (typeof READ_VARIANTS)[number];

/** Variants run when --variants is not given (fio comes with --fio; C and node only when present). */
export const DEFAULT_VARIANTS: readonly ReadVariant[] = READ_VARIANTS.filter((v) => !v.startsWith("fio-"));

/** Default size of a generated file: big enough that random 4 KiB reads rarely repeat, small enough to write in a second. */
export const DEFAULT_FILE_SIZE = 256 << 20;
/** The kernel's largest SQ (IORING_MAX_ENTRIES). */
export const MAX_RING_ENTRIES = 32768;
/** Cap on one run when --bytes sets its length instead of --duration. */
export const BYTES_RUN_CAP_MS = 60_000;

/** The options as commander hands them over (strings unless parsed). */
export interface RawReadOptions {
  file?: string;
  size?: string;
  dir?: string;
  keep?: boolean;
  bs?: string;
  qd?: string;
  entries?: string;
  batch?: string;
  submit?: string;
  hugePages?: boolean;
  pattern?: string;
  direct?: boolean;
  bytes?: string;
  verify?: string;
  variants?: string;
  fio?: boolean;
  seed?: string;
  rings?: string;
}

/** Resolved read options: the workload's shape (see {@link ReadWorkload}) and where the file comes from. */
export interface ReadConfig extends Pick<ReadWorkload, "bs" | "qd" | "entries" | "batch" | "submit" | "hugePages" | "pattern" | "direct" | "verify" | "seed"> {
  file?: string;
  size: number;
  dir?: string;
  keep: boolean;
  /** Bytes per run (0: run for --duration). */
  bytes: number;
  variants: ReadVariant[];
  /** io_uring readers run at once, one per Worker (--rings). */
  rings: number;
}

function positive(flag: string, value: string): number {
  return parseSize(flag, value, { min: 1 });
}

/** Resolves and checks the options; throws {@link OptionError} with the flag named. */
export function resolveReadOptions(raw: RawReadOptions, available: { node: boolean; cLoop: boolean; fio: boolean }): ReadConfig {
  const bs = positive("--bs", raw.bs ?? "4k");
  if (bs % 8 !== 0) throw inputError("bs", `--bs ${bs} is not a multiple of 8: the pattern check works on 8-byte words (use 4k, 512, ...).`);
  const qd = positive("--qd", raw.qd ?? "32");
  const entries = raw.entries !== undefined ? positive("--entries", raw.entries) : Math.min(qd, MAX_RING_ENTRIES);
  if (entries > MAX_RING_ENTRIES) {
    throw inputError("entries", `--entries ${entries} is above the kernel's largest ring (${MAX_RING_ENTRIES} entries).`);
  }
  if (qd > entries) throw qdAboveRing(qd, entries);
  const direct = raw.direct === true;
  // Buffered reads complete inline, so waiting for the whole depth costs nothing;
  // device reads complete one by one, so refill early to keep the device queue full.
  const batch = raw.batch !== undefined ? positive("--batch", raw.batch) : direct ? Math.max(1, Math.floor(qd / 8)) : qd;
  if (batch > qd) throw inputError("batch", `--batch ${batch} is above --qd ${qd}: a batch cannot wait for more reads than are in flight.`);
  const pattern = (raw.pattern ?? "rand") as AccessPattern;
  if (pattern !== "rand" && pattern !== "seq") throw new OptionError(`--pattern takes rand or seq, got "${raw.pattern}".`);
  // Random device reads: each read goes out alone, so the device starts on it
  // at once (measured here: +15-25% IOPS on 4k random O_DIRECT, as fio does).
  // Sequential reads gain from going out together: the block layer merges
  // adjacent ones into larger requests. Page-cache reads complete inline.
  const submit = raw.submit !== undefined ? positive("--submit", raw.submit) : direct && pattern === "rand" ? 1 : qd;
  if (submit > qd) throw inputError("submit", `--submit ${submit} is above --qd ${qd}: there are never more reads than that to submit.`);
  const verify = (raw.verify ?? "all") as VerifyMode;
  if (!VERIFY_MODES.includes(verify)) throw new OptionError(`--verify takes ${VERIFY_MODES.join(", ")}, got "${raw.verify}".`);
  const size = raw.size !== undefined ? positive("--size", raw.size) : DEFAULT_FILE_SIZE;
  const bytes = raw.bytes !== undefined ? positive("--bytes", raw.bytes) : 0;
  const rings = raw.rings !== undefined ? positive("--rings", raw.rings) : 1;
  const seed = raw.seed !== undefined ? positive("--seed", raw.seed) : 0x2545f491;

  let variants: ReadVariant[];
  if (raw.variants !== undefined) {
    const parts = raw.variants
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = parts.filter((p) => !(READ_VARIANTS as readonly string[]).includes(p));
    if (parts.length === 0 || bad.length > 0) {
      throw new OptionError(`--variants: unknown ${bad.map((b) => `"${b}"`).join(", ") || "(empty)"}; choose from ${READ_VARIANTS.join(", ")}.`);
    }
    variants = parts as ReadVariant[];
    if (raw.fio) for (const f of ["fio-io_uring", "fio-psync"] as const) if (!variants.includes(f)) variants.push(f);
  } else {
    variants = DEFAULT_VARIANTS.filter((v) => (v !== "node" || available.node) && (!v.startsWith("c-") || available.cLoop));
    if (raw.fio) variants.push("fio-io_uring", "fio-psync");
  }
  if (variants.some((v) => v.startsWith("fio-")) && !available.fio) {
    throw inputError("no-fio", "fio is not installed: install it (apt-get install fio) or run without --fio.");
  }
  if (variants.some((v) => v.startsWith("c-")) && !available.cLoop) {
    throw inputError(
      "no-c-loop",
      "The liburing C loop is not built (build/read_liburing): install liburing-dev and a C compiler, then run npm run build:shim.",
    );
  }
  if (variants.includes("node") && !available.node) {
    throw inputError("no-node", "The node baseline needs the node binary on PATH (or URING_BENCH_NODE): install Node.js or drop node from --variants.");
  }
  const hugePages = raw.hugePages !== false;
  return {
    file: raw.file,
    size,
    dir: raw.dir,
    keep: raw.keep === true,
    bs,
    qd,
    entries,
    batch,
    submit,
    hugePages,
    pattern,
    direct,
    bytes,
    verify,
    variants,
    seed,
    rings,
  };
}
