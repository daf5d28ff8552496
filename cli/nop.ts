/**
 * `uring-bench nop`: NOP submit+reap, our TypeScript Ring against liburing in
 * C, the same loop at the same batch sizes, interleaved in one run. It
 * measures what the library's submit and reap path costs over liburing's,
 * with no I/O in the way.
 */
import { Command } from "commander";
import { cpuCount } from "./harness/affinity.ts";
import { interruptSignal } from "./harness/children.ts";
import { EXIT_CODES_HELP, exitCodeFor } from "./harness/exit-codes.ts";
import { addCommonOptions, checkBaseline, commonSettings, intList, nonNegativeInt } from "./harness/options.ts";
import { buildRun, checkOutputPaths, finishRun } from "./harness/output.ts";
import { OptionError } from "./harness/option-error.ts";
import { runCommandVariants } from "./harness/runner.ts";
import { haveCNop, NOP_VARIANTS, nopVariants } from "./nop/variants.ts";

/** Largest batch: the ring has max(8, batch) entries, and the kernel's largest SQ is 32768; past 4096 nothing changes. */
const MAX_BATCH = 4096;

/** The `nop` subcommand. */
export function nopCommand(): Command {
  const ncpu = cpuCount();
  const cmd = addCommonOptions(new Command("nop"), { durationMs: 1000, warmupMs: 0, repeat: 5 })
    .description("NOP submit+reap: our TypeScript Ring vs liburing in C, same loop, same batch, one fresh pinned process per repetition")
    .option("--batches <list>", "NOPs per submit, comma-separated; one cell per value", intList("--batches"), [1, 8, 32, 128])
    .option("--cpu <n>", `CPU every loop process is pinned to (default ${ncpu > 1 ? 1 : 0})`, nonNegativeInt("--cpu"));
  cmd.addHelpText("after", `\nVariants: ${NOP_VARIANTS.join(", ")} (c-liburing: build/nop_liburing, needs liburing-dev at install).\n${EXIT_CODES_HELP}`);
  return cmd.action(async (raw: { batches: number[]; cpu?: number } & Record<string, unknown>) => {
    const common = commonSettings(raw);
    const cpu = raw.cpu ?? (ncpu > 1 ? 1 : 0);
    if (cpu >= ncpu) throw new OptionError(`--cpu ${cpu}: CPU ${cpu} does not exist here (CPUs 0-${ncpu - 1}).`);
    const bad = raw.batches.find((b) => b > MAX_BATCH);
    if (bad !== undefined) throw new OptionError(`--batches ${bad}: at most ${MAX_BATCH}.`);
    const withC = haveCNop();
    checkBaseline(common.baseline, withC ? [...NOP_VARIANTS] : ["uring"]);
    checkOutputPaths(common);
    if (!withC && !common.quiet) process.stderr.write("nop: build/nop_liburing is not built (needs liburing-dev): TypeScript only.\n");
    const variants = nopVariants(raw.batches, cpu, withC);
    const signal = interruptSignal();
    const results = await runCommandVariants(variants, common, signal);
    const baseline = common.baseline ?? (withC ? "c-liburing" : undefined);
    const run = buildRun(
      "nop",
      { batches: raw.batches, durationMs: common.durationMs, repeat: common.repeat, cpu, baseline },
      results,
      ["NO_SQARRAY", "registered ring fd"],
      signal.aborted,
    );
    finishRun(run, { ...common, baseline });
    process.exitCode = exitCodeFor(run);
  });
}
