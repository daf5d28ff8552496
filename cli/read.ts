/**
 * `uring-bench read`: storage reads at queue depth. io_uring variants (plain,
 * fixed buffers, registered file, both, SQPOLL, IOPOLL) against a pread loop,
 * Bun.file, node:fs/promises in Bun and in node, the liburing C loop and fio,
 * in one interleaved run, every read checked against the file's pattern.
 */
import { Command, Option } from "commander";
import { interruptSignal } from "./harness/children.ts";
import { EXIT_CODES_HELP, exitCodeFor } from "./harness/exit-codes.ts";
import { addCommonOptions, checkBaseline, commonSettings } from "./harness/options.ts";
import { buildRun, checkOutputPaths, finishRun } from "./harness/output.ts";
import { createProgress } from "./harness/progress.ts";
import { haveCLoop } from "./read/clib.ts";
import { formatBytes } from "./read/errors.ts";
import { fioVersion } from "./read/fio.ts";
import { findNode } from "./read/node.ts";
import { READ_VARIANTS, resolveReadOptions, type RawReadOptions } from "./read/options.ts";
import { VERIFY_MODES } from "./read/pattern.ts";
import { blankFailed, ratioRows } from "./read/render.ts";
import { runRead } from "./read/run.ts";
import { parseRateList, runReadRate } from "./read/open-loop.ts";

/** The `read` subcommand. */
export function readCommand(): Command {
  const cmd = addCommonOptions(new Command("read"), { durationMs: 1000, warmupMs: 300, repeat: 3 })
    .description("storage reads at queue depth: io_uring variants vs pread, Bun.file, node:fs/promises, node, liburing C and fio")
    .option("--file <path>", "read this file (default: generate a pattern file, removed afterwards)")
    .option("--size <size>", "size of the generated file, e.g. 256m, 1g", "256m")
    .option("--dir <dir>", "where to generate the file (default: the temp dir, or /var/tmp when that is tmpfs)")
    .option("--keep", "keep the generated file (reuse it with --file: its pattern is recognised)")
    .option("--bs <size>", "block size per read", "4k")
    .option("--qd <n>", "queue depth: reads in flight (also the concurrency of the promise baselines)", "32")
    .option("--entries <n>", "io_uring SQ entries (default: --qd)")
    .option("--batch <n>", "completions waited for per submit (default: qd buffered, qd/8 with --direct)")
    .option(
      "--submit <n>",
      "reads prepared per submission while refilling: 1 sends each read alone, as fio does (default: 1 for random --direct reads, else qd)",
    )
    .option("--no-huge-pages", "read buffers in 4 KiB pages instead of transparent huge pages (a large O_DIRECT read then spans one device segment per page)")
    .addOption(new Option("--pattern <p>", "rand or seq").choices(["rand", "seq"]).default("rand"))
    .option("--direct", "O_DIRECT: bypass the page cache (needs --bs a multiple of the logical block size)")
    .option("--bytes <size>", "read this many bytes per run instead of reading for --duration")
    .addOption(
      new Option("--verify <mode>", "check every read (all, full) or a sample (sample); length: only lengths").choices([...VERIFY_MODES]).default("all"),
    )
    .option("--variants <list>", `variants to run, comma-separated: ${READ_VARIANTS.join(",")}`)
    .option(
      "--rings <n>",
      "io_uring variants: N rings at once, one per Bun Worker (to use more than one core); pread runs as N threads and fio as numjobs=N, to compare",
    )
    .option("--fio", "also run fio's io_uring and psync engines (apt-get install fio)")
    .option("--seed <n>", "seed of the random offsets")
    .option(
      "--rate <iops>",
      "open loop: reads per second (a list makes one row each), latency from the intended time, fio's slat/clat split",
      parseRateList("--rate"),
    )
    .option("--arrival <kind>", "with --rate: uniform or poisson arrivals", "uniform");
  cmd.addHelpText("after", `\n${EXIT_CODES_HELP}`);
  return cmd.action(async (raw: RawReadOptions & Record<string, unknown>) => {
    if (Array.isArray(raw.rate)) return runReadRate(raw as unknown as RawReadOptions & { rate: number[]; arrival?: string }, commonSettings(raw));
    const cfg = resolveReadOptions(raw, {
      node: findNode() !== null,
      cLoop: haveCLoop(),
      fio: !(raw.fio || (raw.variants ?? "").includes("fio")) || fioVersion() !== null,
    });
    const common = commonSettings(raw);
    checkBaseline(common.baseline, cfg.variants);
    checkOutputPaths(common);
    const totalMs = cfg.variants.length * (common.warmupMs + common.repeat * common.durationMs);
    const progress = createProgress({ quiet: common.quiet, totalMs });
    const signal = interruptSignal();
    const outcome = await runRead(cfg, common, progress, signal);
    const baseline = common.baseline ?? (cfg.variants.includes("pread") ? "pread" : undefined);
    const options = { ...cfg, baseline, file: outcome.target.path, fileSize: outcome.target.size, verified: outcome.target.verified };
    const run = buildRun("read", options, outcome.results, outcome.ringFlags, signal.aborted);
    blankFailed(run);
    const ratios = ratioRows(run);
    const t = outcome.target;
    const lines = [
      `file: ${t.path} (${formatBytes(t.size)}, ${t.generated ? (t.kept ? "generated, kept" : "generated, removed") : "given"}), ` +
        `verify: ${t.verified}, logical block ${t.logicalBlockSize} B. The machine may be shared: compare ratios within one run.`,
    ];
    finishRun(run, { ...common, baseline }, { tables: ratios.head.length > 1 ? [ratios] : [], lines });
    if (outcome.failed.length > 0) {
      process.stderr.write(`uring-bench: failed (an error or wrong bytes): ${outcome.failed.join(", ")}; see the notes.\n`);
    }
    process.exitCode = exitCodeFor(run);
  });
}
