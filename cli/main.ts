#!/usr/bin/env bun
/**
 * uring-bench CLI entry: one subcommand per file, added with addCommand.
 */
import { Command } from "commander";
import { infoCommand } from "./info.ts";

const program = new Command()
  .name("uring-bench")
  .description("io_uring for Bun: measure what io_uring buys your I/O, side by side with the alternatives")
  .version("0.1.0");

program.addCommand(infoCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`uring-bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
