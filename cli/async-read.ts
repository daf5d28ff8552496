/**
 * `uring-bench async-read`: the library's promise API (`Uring.read`) against
 * the promise reads people use today, in one interleaved run: 4 KiB random
 * reads from a page-cache-warm file with QD in flight, then one at a time
 * (QD 1), then the wake-up from idle. Where `read` measures the fastest
 * io_uring loop, this measures what an `await` per read costs.
 */
import { Command, Option } from "commander";
import { interruptSignal } from "./harness/children.ts";
import { EXIT_CODES_HELP, exitCodeFor } from "./harness/exit-codes.ts";
import { findNodeBinary } from "./harness/node-version.ts";
import { addCommonOptions, checkBaseline, commonSettings } from "./harness/options.ts";
import { buildRun, checkOutputPaths, finishRun } from "./harness/output.ts";
import { runCommandVariants } from "./harness/runner.ts";
import { sizeFlag } from "./harness/size.ts";
import { createWarmFile } from "./async-read/file.ts";
import { asyncReadVariants, BS, C_READ_PATH } from "./async-read/variants.ts";
import { existsSync } from "node:fs";

/** Largest queue depth: the rings get 2 × QD entries, at most the kernel's 32768. */
const MAX_QD = 16384;

/** The `async-read` subcommand. */
export function asyncReadCommand(): Command {
  const cmd = addCommonOptions(new Command("async-read"), { durationMs: 1500, warmupMs: 200, repeat: 3 })
    .description("promise reads: Uring.read (event-loop, run, SQPOLL drivers) vs node:fs/promises and Bun.file in Bun, pread, liburing C and node")
    .option(
      "--qd <n>",
      "reads in flight (promise loops) in the first cell",
      sizeFlag("--qd", { min: 1, max: MAX_QD, what: `a queue depth from 1 to ${MAX_QD}` }),
      32,
    )
    .addOption(
      new Option("--size <size>", "size of the generated file (random bytes, page-cache-warm, removed afterwards)")
        .argParser(sizeFlag("--size", { min: BS, what: "a size like 64m" }))
        .default(64 << 20, "64m"),
    )
    .option("--sqpoll", "also run the SQPOLL driver (its kernel thread takes a core of its own)");
  cmd.addHelpText(
    "after",
    "\nCells: 4k rand qdN (throughput), 4k rand qd1 (one read at a time: latency), wake from idle (a read parked\n" +
      "on a FIFO, woken by a write: the event-loop driver's wake-up path).\n" +
      EXIT_CODES_HELP,
  );
  return cmd.action(async (raw: { qd: number; size: number; sqpoll?: boolean } & Record<string, unknown>) => {
    const common = commonSettings(raw);
    const node = findNodeBinary()?.bin ?? null;
    const cLoop = existsSync(C_READ_PATH);
    const names = [
      "uring",
      "uring-run",
      ...(raw.sqpoll ? ["uring-sqpoll"] : []),
      "bun-filehandle",
      "bun-file",
      "pread",
      ...(cLoop ? ["c-liburing"] : []),
      ...(node ? ["node-filehandle"] : []),
    ];
    checkBaseline(common.baseline, names);
    checkOutputPaths(common);
    const size = raw.size - (raw.size % BS);
    const file = createWarmFile(size);
    try {
      const variants = asyncReadVariants({ path: file.path, size, qd: raw.qd, sqpoll: raw.sqpoll === true, node, cLoop });
      const signal = interruptSignal();
      const results = await runCommandVariants(variants, common, signal);
      const baseline = common.baseline ?? "uring";
      const run = buildRun("async-read", { qd: raw.qd, bs: BS, fileBytes: size, sqpoll: raw.sqpoll === true, baseline }, results, undefined, signal.aborted);
      finishRun(run, { ...common, baseline });
      process.exitCode = exitCodeFor(run);
    } finally {
      file.remove();
    }
  });
}
