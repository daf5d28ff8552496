/**
 * `uring-bench fsync-chain`: durable commits. Each commit writes records and
 * makes them durable in one io_uring submission (write -IO_LINK-> fdatasync),
 * with many commits in flight (group commit), against a write + fdatasync
 * syscall loop, node:fs/promises and fio, in one interleaved run. Every data
 * file is read back afterwards: an acknowledged commit that is missing or
 * corrupt fails the run.
 */
import { Command, Option } from "commander";
import { addCommonOptions, commonSettings } from "./harness/options.ts";
import { buildRun, finishRun } from "./harness/output.ts";
import { withSigintAbort } from "./harness/children.ts";
import { createProgress } from "./harness/progress.ts";
import { drawTable } from "./harness/render-table.ts";
import { markdownTable } from "./harness/save.ts";
import { checkDataDir } from "./fsync/file.ts";
import { requireCFsync } from "./fsync/clib.ts";
import { CHAIN_MODES, resolveFsyncOptions, SYNC_KINDS, VARIANTS, type RawFsyncOptions } from "./fsync/options.ts";
import { splitRows } from "./fsync/render.ts";
import { runFsyncChain } from "./fsync/run.ts";

/** Exit code when commits failed (e.g. ENOSPC) but every acknowledged one verified: the durable set is reported. */
export const EXIT_COMMITS_FAILED = 2;
/** Exit code when an acknowledged commit is missing or corrupt on read-back. */
export const EXIT_VERIFY_FAILED = 1;

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
    .option("--cpu <n>", "pin the committing thread of every variant (and the ring's io-wq workers, fio's job) to this CPU");
  cmd.addHelpText("after", `\nModes: ${CHAIN_MODES.join(", ")}. Exit codes: ${EXIT_VERIFY_FAILED} = acknowledged commits lost, ${EXIT_COMMITS_FAILED} = commits failed (durable set reported).`);
  return cmd.action(async (raw: RawFsyncOptions & Record<string, unknown>) => {
    const cfg = resolveFsyncOptions(raw);
    checkDataDir(cfg.dir);
    if (cfg.variants.includes("c-liburing")) requireCFsync();
    const common = commonSettings(raw);
    const cells = cfg.inflight.length;
    const perCell = cfg.variants.reduce((n, v) => n + (v === "fio" ? 2 : 1), 0);
    const totalMs = cells * perCell * (common.warmupMs + common.repeat * common.durationMs);
    const progress = createProgress({ quiet: common.quiet, totalMs });
    const outcome = await withSigintAbort((signal) => runFsyncChain(cfg, common, progress, signal));
    const baseline = common.baseline ?? (cfg.variants.includes("loop") ? "loop" : undefined);
    const run = buildRun("fsync-chain", { ...cfg, baseline }, outcome.results, outcome.ringFlags);
    finishRun(run, { ...common, baseline });
    // Where time goes and what verification found: after the common tables, or on stderr when stdout carries JSON.
    const split = splitRows(run);
    const toStdout = common.json !== true && !common.quiet;
    const out = (s: string) => (toStdout ? process.stdout.write(s) : process.stderr.write(s));
    if (common.markdown === true) out(`\n${markdownTable(split)}\n`);
    else if (!common.quiet) out(`${drawTable(split)}\n`);
    if (outcome.fioMissing) process.stderr.write("fio is not installed: fio baselines skipped (apt install fio).\n");
    for (const v of outcome.verdicts) {
      for (const line of v.lines) if (!common.quiet || line.includes("FAILED")) out(`${v.cell} ${v.variant}: ${line}\n`);
    }
    if (!outcome.verified) {
      process.stderr.write("uring-bench: acknowledged commits were lost or corrupt on read-back (see above).\n");
      process.exitCode = EXIT_VERIFY_FAILED;
    } else if (outcome.verdicts.some((v) => v.failed > 0)) {
      process.stderr.write("uring-bench: some commits failed; the durable commits are listed above.\n");
      process.exitCode = EXIT_COMMITS_FAILED;
    }
  });
}
