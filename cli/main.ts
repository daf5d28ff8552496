#!/usr/bin/env bun
/**
 * uring-bench CLI entry: one subcommand per file, added with addCommand.
 */
import { Command, CommanderError } from "commander";
import { installInterruptHandlers } from "./harness/children.ts";
import { EXIT_CODES_HELP, EXIT_USAGE } from "./harness/exit-codes.ts";
import { OptionError } from "./harness/option-error.ts";
import { doctorCommand } from "./doctor.ts";
import { reportCommand } from "./report.ts";
import { fsyncChainCommand } from "./fsync-chain.ts";
import { readCommand } from "./read.ts";
import { echoCommand } from "./echo.ts";
import { nopCommand } from "./nop.ts";
import { asyncReadCommand } from "./async-read.ts";
import { lookupCommand } from "./lookup.ts";

const program = new Command()
  .name("uring-bench")
  .description("io_uring for Bun: measure what io_uring buys your I/O, side by side with the alternatives")
  .version("0.1.0");

program.addCommand(doctorCommand());
program.addCommand(reportCommand());
program.addCommand(fsyncChainCommand());
program.addCommand(readCommand());
program.addCommand(echoCommand());
program.addCommand(nopCommand());
program.addCommand(asyncReadCommand());
program.addCommand(lookupCommand());

program.addHelpText("after", `\n${EXIT_CODES_HELP}`);
// Usage errors exit 2 (the documented rule), whether commander finds them
// (unknown flag, bad value from a parser) or a command does (OptionError).
// Help and --version keep commander's exit code 0.
program.exitOverride();
// From the start: a Ctrl-C while a data file is generated must also stop cleanly, not kill us mid-write.
installInterruptHandlers();
for (const cmd of program.commands) cmd.exitOverride();

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError && !(err instanceof OptionError)) {
    // commander printed the message already.
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  console.error(`uring-bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof OptionError ? EXIT_USAGE : 1);
});
