#!/usr/bin/env bun
/**
 * uring-bench CLI entry: one subcommand per file, added with addCommand.
 */
import { Command } from "commander";
import { doctorCommand } from "./doctor.ts";
import { reportCommand } from "./report.ts";
import { fsyncChainCommand } from "./fsync-chain.ts";
import { readCommand } from "./read.ts";
import { echoCommand } from "./echo.ts";

const program = new Command()
  .name("uring-bench")
  .description("io_uring for Bun: measure what io_uring buys your I/O, side by side with the alternatives")
  .version("0.1.0");

program.addCommand(doctorCommand());
program.addCommand(reportCommand());
program.addCommand(fsyncChainCommand());
program.addCommand(readCommand());
program.addCommand(echoCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`uring-bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
