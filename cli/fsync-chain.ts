/**
 * `uring-bench fsync-chain`: durable commits. Each commit writes records and
 * makes them durable in one io_uring submission (write -IO_LINK-> fdatasync),
 * with many commits in flight (group commit), against a write + fdatasync
 * syscall loop, node:fs/promises and fio, in one interleaved run. Every data
 * file is read back afterwards: an acknowledged commit that is missing or
 * corrupt fails the run.
 */
import { runFsyncRate } from "./fsync/open-loop.ts";
import { parseRateList } from "./read/open-loop.ts";
import { Command, Option } from "commander";
import { interruptSignal } from "./harness/children.ts";
import { EXIT_CODES_HELP, exitCodeFor } from "./harness/exit-codes.ts";
import { memoryFsName } from "./harness/fs-type.ts";
import { addCommonOptions, checkBaseline, commonSettings } from "./harness/options.ts";
import { buildRun, checkOutputPaths, finishRun } from "./harness/output.ts";
import { createProgress } from "./harness/progress.ts";
import { checkDataDir } from "./fsync/file.ts";
import { requireCFsync } from "./fsync/clib.ts";
import { FIO_ENGINES } from "./fsync/fio.ts";
import { CHAIN_MODES, resolveFsyncOptions, SYNC_KINDS, VARIANTS, type RawFsyncOptions } from "./fsync/options.ts";
import { splitRows } from "./fsync/render.ts";
import { runFsyncChain } from "./fsync/run.ts";

/** The `fsync-chain` subcommand. */
export function fsyncChainCommand(): Command {
  const cmd = addCommonOptions(new Command("fsync-chain"), { durationMs: 2000, warmupMs: 300, repeat: 3 })
    .description("durable commits: write→fdatasync chains with IOSQE_IO_LINK, group commit, verified by read-back")
    .option("--dir <dir>", "directory for the data files (on the disk to measure, not tmpfs)", "/var/tmp")
    .option("-b, --bytes <size>", "bytes per write: one record (header + payload), e.g. 4k", "4k")
    .option("--writes <n>", "writes (records) per commit", "1")
    .option("--inflight <list>", "commits in flight (group commit); a list like 1,16 makes one cell per value", "1")
    .option("--ring-size <n>", "SQ entries (default: enough for --inflight × SQEs per commit, at least 64)")
    .addOption(new Option("--mode <mode>", "how a commit's SQEs are tied: link, hardlink, drain").default("link"))
    .addOption(new Option("--sync <kind>", `how a commit is made durable: ${SYNC_KINDS.join(", ")}`).default("fdatasync"))
    .option("--append", "writes extend the file (default)")
    .option("--overwrite", "overwrite a preallocated file (fallocate), wrapping around")
    .option("--file-size <size>", "file size for --overwrite", "64m")
    .option("--prefill", "with --overwrite: write the whole file once first, so overwrites change no extent metadata")
    .option("--commits <n>", "stop each run after this many commits (0: by --duration)", "0")
    .option("--variants <list>", `variants to run: ${VARIANTS.join(",")} (c-liburing: the same chains in C, build/fsync_liburing)`, "uring,loop,promises")
    .option("--fio", "also run fio (--fdatasync=1) under psync and io_uring, when fio is installed")
    .option("--keep", "keep the data files")
    .option("--no-defer-taskrun", "ring without SINGLE_ISSUER|DEFER_TASKRUN")
    .option("--split", "io_uring: wake for every CQE to time the write/sync split (one more wake-up per commit)")
    .option(
      "--rings <n>",
      "uring and loop run N ways at once (a Bun Worker, a ring or syscall loop and a file each: N independent logs); fio runs numjobs=N",
      "1",
    )
    .option("--cpu <n>", "pin the committing thread of every variant (and the ring's io-wq workers, fio's job) to this CPU")
    .option(
      "--rate <commits>",
      "open loop: commits per second (a list makes one row each; io_uring write→fdatasync, ≤ --inflight in flight), latency from the intended time",
      parseRateList("--rate"),
    )
    .option("--arrival <kind>", "with --rate: uniform or poisson arrivals", "uniform");
  cmd.addHelpText(
    "after",
    `\nModes: ${CHAIN_MODES.join(", ")}. A variant that loses an acknowledged commit or whose commits fail counts as failed.\n${EXIT_CODES_HELP}`,
  );
  return cmd.action(async (raw: RawFsyncOptions & Record<string, unknown>) => {
    const cfg = resolveFsyncOptions(raw);
    checkDataDir(cfg.dir);
    if (Array.isArray(raw.rate)) {
      const arrival = raw.arrival === "poisson" ? "poisson" : "uniform";
      return runFsyncRate(
        {
          dir: cfg.dir,
          recordBytes: cfg.recordBytes,
          inflight: Math.max(...cfg.inflight),
          rates: raw.rate as number[],
          arrival,
          durationMs: commonSettings(raw).durationMs,
          keep: cfg.keep,
        },
        commonSettings(raw),
      );
    }
    if (cfg.variants.includes("c-liburing")) requireCFsync();
    const common = commonSettings(raw);
    const names = cfg.variants.flatMap((v) => (v === "fio" ? FIO_ENGINES.map((e) => `fio-${e}`) : [v]));
    checkBaseline(common.baseline, names);
    checkOutputPaths(common);
    const memoryFs = memoryFsName(cfg.dir);
    if (memoryFs) {
      process.stderr.write(
        `fsync-chain: warning: --dir ${cfg.dir} is on ${memoryFs}: fdatasync there reaches no disk, so commits/s measure memory, ` +
          "not durability, and read-back proves only that the file holds the records. Pass a directory on the disk to measure.\n",
      );
    }
    const cells = cfg.inflight.length;
    const perCell = cfg.variants.reduce((n, v) => n + (v === "fio" ? 2 : 1), 0);
    const totalMs = cells * perCell * (common.warmupMs + common.repeat * common.durationMs);
    const progress = createProgress({ quiet: common.quiet, totalMs });
    const signal = interruptSignal();
    const outcome = await runFsyncChain(cfg, common, progress, signal);
    const baseline = common.baseline ?? (cfg.variants.includes("loop") ? "loop" : undefined);
    const run = buildRun("fsync-chain", { ...cfg, baseline, ...(memoryFs ? { memoryFs } : {}) }, outcome.results, outcome.ringFlags, signal.aborted);
    const lines: string[] = [];
    if (outcome.fioMissing) lines.push("fio is not installed: fio baselines skipped (apt install fio).");
    for (const v of outcome.verdicts) {
      for (const line of v.lines) if (!common.quiet || line.includes("FAILED")) lines.push(`${v.cell} ${v.variant}: ${line}`);
    }
    if (memoryFs) lines.push(`${cfg.dir} is on ${memoryFs}: nothing above is durable on a disk.`);
    finishRun(run, { ...common, baseline }, { tables: [splitRows(run)], lines });
    if (!outcome.verified) {
      process.stderr.write("uring-bench: acknowledged commits were lost or corrupt on read-back (see above).\n");
    } else if (outcome.verdicts.some((v) => v.failed > 0)) {
      process.stderr.write("uring-bench: some commits failed; the durable commits are listed above.\n");
    }
    process.exitCode = exitCodeFor(run);
  });
}
