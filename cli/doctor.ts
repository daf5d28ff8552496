/**
 * `uring-bench doctor` (alias `info`): what io_uring can do on this machine
 * and, when it can't, why. Collecting (plain data, `--json`) is separate
 * from rendering (cli-table3).
 */
import Table from "cli-table3";
import { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { getAffinity } from "./harness/affinity.ts";
import { TABLE_STYLE } from "./harness/render-table.ts";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { readIoUringDisabled } from "../src/ring/setup.ts";
import { Features, OP_NAMES, OP_SINCE, Rlimit, SetupFlags } from "../src/sys/constants.ts";
import { SyscallError } from "../src/sys/errno.ts";
import { getrlimit, shimBuild, shimPath } from "../src/sys/ffi.ts";

/** Kernel version that added each IORING_SETUP_* flag (shown beside the probe result). */
export const SETUP_FLAG_SINCE: Readonly<Record<keyof typeof SetupFlags, string>> = {
  IOPOLL: "5.1",
  SQPOLL: "5.1",
  SQ_AFF: "5.1",
  CQSIZE: "5.5",
  CLAMP: "5.6",
  ATTACH_WQ: "5.6",
  R_DISABLED: "5.10",
  SUBMIT_ALL: "5.18",
  COOP_TASKRUN: "5.19",
  TASKRUN_FLAG: "5.19",
  SQE128: "5.19",
  CQE32: "5.19",
  SINGLE_ISSUER: "6.0",
  DEFER_TASKRUN: "6.1",
  NO_MMAP: "6.5",
  REGISTERED_FD_ONLY: "6.5",
  NO_SQARRAY: "6.6",
  HYBRID_IOPOLL: "6.13",
  CQE_MIXED: "6.18",
  SQE_MIXED: "6.19",
  SQ_REWIND: "7.0",
};

/**
 * How to try each setup flag: the ring options that make it valid on its own
 * (DEFER_TASKRUN needs SINGLE_ISSUER, SQ_AFF needs SQPOLL, CQSIZE needs a CQ
 * size, ...). A bare flag would fail with EINVAL for the wrong reason.
 * REGISTERED_FD_ONLY is not tried: it needs NO_MMAP and returns a registered
 * index instead of an fd, which a probe could not close.
 */
const SETUP_FLAG_TRIALS: Partial<Record<keyof typeof SetupFlags, (attachFd: number) => RingOptions>> = {
  IOPOLL: () => ({ iopoll: true }),
  SQPOLL: () => ({ sqpoll: { idleMs: 10 } }),
  SQ_AFF: () => ({ sqpoll: { idleMs: 10, cpu: 0 } }),
  CQSIZE: () => ({ cqEntries: 16 }),
  CLAMP: () => ({ clamp: true }),
  ATTACH_WQ: (fd) => ({ attachWq: fd }),
  R_DISABLED: () => ({ disabled: true }),
  SUBMIT_ALL: () => ({ submitAll: true }),
  COOP_TASKRUN: () => ({ flags: SetupFlags.COOP_TASKRUN }),
  TASKRUN_FLAG: () => ({ coopTaskrun: true }),
  SQE128: () => ({ sqe128: true }),
  CQE32: () => ({ cqe32: true }),
  SINGLE_ISSUER: () => ({ singleIssuer: true }),
  DEFER_TASKRUN: () => ({ deferTaskrun: true }),
  NO_MMAP: () => ({ noMmap: true }),
  NO_SQARRAY: () => ({ noSqArray: true }),
  HYBRID_IOPOLL: () => ({ hybridIopoll: true }),
  CQE_MIXED: () => ({ cqeMixed: true }),
  SQE_MIXED: () => ({ flags: SetupFlags.SQE_MIXED }),
  SQ_REWIND: () => ({ flags: SetupFlags.SQ_REWIND, noSqArray: true }),
};

/** A resource limit; "unlimited" for RLIM_INFINITY (JSON has no Infinity). */
export interface Limit {
  soft: number | "unlimited";
  hard: number | "unlimited";
}

/** The doctor's findings, as plain data (this is the `--json` output). */
export interface DoctorReport {
  kernel: string;
  /** kernel.io_uring_disabled: 0, 1, 2, or null (sysctl absent: before 6.6). */
  ioUringDisabled: number | null;
  ioUringDisabledMeaning: string;
  /** Can this process create a ring? */
  setup: { ok: true } | { ok: false; errno: string; message: string };
  /** Seccomp mode of this process (0 none, 1 strict, 2 filter), null if unknown. */
  seccomp: number | null;
  /** A container hint ("docker", "podman", "kubernetes", "lxc", ...) or null. */
  container: string | null;
  /** IORING_FEAT_* bits, by name. */
  features: Array<{ name: string; present: boolean }>;
  /** Opcode probe. */
  ops: Array<{ op: number; name: string; since: string; supported: boolean }>;
  /** IORING_SETUP_* flags this kernel accepts (tried one by one). */
  setupFlags: Array<{ name: string; since: string; supported: boolean | null; error?: string }>;
  rlimitNofile: Limit | null;
  rlimitMemlock: Limit | null;
  cpus: number;
  /** CPUs this process may run on. */
  allowedCpus: number[];
  cpuModel: string;
  /** Shim build loaded: "cc" (system compiler at install) or "tcc" (TinyCC at load). */
  shimBuild: string;
  shimPath: string;
  bunVersion: string;
}

const DISABLED_MEANING: Record<number, string> = {
  0: "io_uring enabled for all processes",
  1: "io_uring only for root (CAP_SYS_ADMIN) and the group in kernel.io_uring_group",
  2: "io_uring disabled for everyone",
};

function limit(resource: number): Limit | null {
  try {
    const { soft, hard } = getrlimit(resource);
    const f = (v: number) => (v === Infinity ? ("unlimited" as const) : v);
    return { soft: f(soft), hard: f(hard) };
  } catch {
    return null;
  }
}

function readSeccomp(): number | null {
  try {
    const m = /^Seccomp:\s*(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The root mount's source (`/dev/vda`, `overlay`, ...) from /proc/self/mountinfo,
 * or null if unreadable.
 */
function rootMountSource(): string | null {
  try {
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
      const [left, right] = line.split(" - ");
      if (left?.split(" ")[4] === "/" && right) return right.split(" ")[1] ?? null;
    }
  } catch {
    // unreadable: no evidence either way
  }
  return null;
}

function detectContainer(): string | null {
  if (process.env.container) return process.env.container;
  // /.dockerenv survives into VM images built from a Docker image, so it only counts
  // when the root is not a block device: a container's root is an overlay (or a bind).
  if (existsSync("/.dockerenv") && !rootMountSource()?.startsWith("/dev/")) return "docker";
  if (existsSync("/run/.containerenv")) return "podman";
  try {
    const cg = readFileSync("/proc/1/cgroup", "utf8");
    for (const hint of ["kubepods", "docker", "lxc", "containerd"]) if (cg.includes(hint)) return hint === "kubepods" ? "kubernetes" : hint;
  } catch {
    // unreadable: say nothing rather than guess
  }
  return null;
}

function errorCode(err: unknown): string {
  return err instanceof SyscallError ? err.code : "error";
}

/** Tries each IORING_SETUP_* flag with the options that make it valid alone. */
function probeSetupFlags(): DoctorReport["setupFlags"] {
  const out: DoctorReport["setupFlags"] = [];
  // ATTACH_WQ needs a ring to attach to.
  let host: Ring | null = null;
  try {
    host = new Ring(2, { registerRingFd: false });
  } catch {
    host = null;
  }
  try {
    for (const name of Object.keys(SetupFlags) as Array<keyof typeof SetupFlags>) {
      const trial = SETUP_FLAG_TRIALS[name];
      const since = SETUP_FLAG_SINCE[name];
      if (!trial || (name === "ATTACH_WQ" && !host)) {
        out.push({ name, since, supported: null, error: "not tried" });
        continue;
      }
      try {
        const ring = new Ring(2, { ...trial(host?.fd ?? -1), registerRingFd: false });
        ring.close();
        out.push({ name, since, supported: true });
      } catch (err) {
        out.push({ name, since, supported: false, error: errorCode(err) });
      }
    }
  } finally {
    host?.close();
  }
  return out;
}

/** Collects the doctor report. Never throws: a failing probe becomes a field that says so. */
export function collectDoctor(): DoctorReport {
  const disabled = readIoUringDisabled();
  const report: DoctorReport = {
    kernel: release(),
    ioUringDisabled: disabled,
    ioUringDisabledMeaning: disabled === null ? "sysctl absent (kernel before 6.6)" : (DISABLED_MEANING[disabled] ?? "unknown value"),
    setup: { ok: true },
    seccomp: readSeccomp(),
    container: detectContainer(),
    features: [],
    ops: [],
    setupFlags: [],
    rlimitNofile: limit(Rlimit.NOFILE),
    rlimitMemlock: limit(Rlimit.MEMLOCK),
    cpus: cpus().length,
    allowedCpus: safe(() => getAffinity(), []),
    cpuModel: cpus()[0]?.model ?? "unknown",
    shimBuild,
    shimPath,
    bunVersion: typeof Bun !== "undefined" ? Bun.version : "n/a",
  };
  let ring: Ring;
  try {
    ring = new Ring(2);
  } catch (err) {
    report.setup = { ok: false, errno: errorCode(err), message: err instanceof Error ? err.message : String(err) };
    report.ops = OP_NAMES.map((name, op) => ({ op, name, since: OP_SINCE[name as keyof typeof OP_SINCE], supported: false }));
    return report;
  }
  try {
    report.features = Object.entries(Features).map(([name, bit]) => ({ name, present: (ring.features & bit) !== 0 }));
    const probe = ring.probe();
    report.ops = OP_NAMES.map((name, op) => ({
      op,
      name,
      since: OP_SINCE[name as keyof typeof OP_SINCE],
      supported: probe?.opSupported(op) ?? false,
    }));
  } finally {
    ring.close();
  }
  report.setupFlags = probeSetupFlags();
  return report;
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

const fmtLimit = (l: Limit | null) => (l ? `${l.soft} (hard ${l.hard})` : "unknown");
const yes = (b: boolean | null) => (b === null ? "?" : b ? "yes" : "no");

/** Lays `items` out in `groups` side-by-side column groups, so long lists fit a screen. */
function columns(head: string[], items: string[][], groups: number): Table.Table {
  const table = new Table({ head: Array.from({ length: groups }, () => head).flat(), ...TABLE_STYLE });
  const perCol = Math.ceil(items.length / groups);
  for (let r = 0; r < perCol; r++) {
    const row: string[] = [];
    for (let g = 0; g < groups; g++) row.push(...(items[g * perCol + r] ?? head.map(() => "")));
    table.push(row);
  }
  return table;
}

/** The human-readable report. */
export function renderDoctor(r: DoctorReport): string {
  const summary = new Table({ ...TABLE_STYLE });
  const setupText = r.setup.ok ? "ok: rings can be created here" : `FAILED (${r.setup.errno}): ${r.setup.message}`;
  summary.push(
    { kernel: r.kernel },
    { "kernel.io_uring_disabled": `${r.ioUringDisabled ?? "n/a"} (${r.ioUringDisabledMeaning})` },
    { io_uring_setup: setupText },
    { seccomp: r.seccomp === null ? "unknown" : (["off", "strict", "filter"][r.seccomp] ?? String(r.seccomp)) },
    { container: r.container ?? "none detected" },
    { CPUs: `${r.cpus} (${r.cpuModel}); this process may use ${r.allowedCpus.join(",")}` },
    { RLIMIT_NOFILE: fmtLimit(r.rlimitNofile) },
    { RLIMIT_MEMLOCK: fmtLimit(r.rlimitMemlock) },
    { shim: `${r.shimBuild === "cc" ? "cc (built at install)" : "tcc (TinyCC at load time)"}: ${r.shimPath}` },
    { Bun: r.bunVersion },
  );
  const out = [summary.toString()];
  if (!r.setup.ok) return out.join("\n");
  out.push("\nFeatures (IORING_FEAT_*)");
  out.push(
    columns(
      ["feature", "present"],
      r.features.map((f) => [f.name, yes(f.present)]),
      3,
    ).toString(),
  );
  out.push("\nSetup flags (IORING_SETUP_*), each tried on a 2-entry ring");
  out.push(
    columns(
      ["flag", "since", "accepted"],
      r.setupFlags.map((f) => [f.name, f.since, f.supported === false && f.error ? `no (${f.error})` : yes(f.supported)]),
      2,
    ).toString(),
  );
  const nSupported = r.ops.filter((o) => o.supported).length;
  out.push(`\nOpcodes (IORING_OP_*): ${nSupported}/${r.ops.length} supported`);
  out.push(
    columns(
      ["op", "since", "ok"],
      r.ops.map((o) => [`${o.op} ${o.name}`, o.since, yes(o.supported)]),
      3,
    ).toString(),
  );
  return out.join("\n");
}

/** The `doctor` subcommand (alias `info`). Exits 2 when io_uring cannot be used here. */
export function doctorCommand(): Command {
  return new Command("doctor")
    .alias("info")
    .description("show what io_uring can do on this machine, and why not when it can't")
    .option("--json", "print the report as JSON")
    .action((opts: { json?: boolean }) => {
      const report = collectDoctor();
      console.log(opts.json ? JSON.stringify(report, null, 2) : renderDoctor(report));
      if (!report.setup.ok) process.exitCode = 2;
    });
}
