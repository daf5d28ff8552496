/**
 * docs/cli.md documents every option of every benchmark command: a row per
 * flag in the command's table (the shared options in their own table).
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { asyncReadCommand } from "../cli/async-read.ts";
import { echoCommand } from "../cli/echo.ts";
import { fsyncChainCommand } from "../cli/fsync-chain.ts";
import { nopCommand } from "../cli/nop.ts";
import { readCommand } from "../cli/read.ts";

const DOC = readFileSync(join(import.meta.dir, "..", "docs", "cli.md"), "utf8");
const SHARED = ["--duration", "--warmup", "--repeat", "--json", "--markdown", "--quiet", "--save", "--baseline", "--help"];

/** The text of a command's section: from its heading to the next one. */
function section(name: string): string {
  const start = DOC.indexOf(`### \`${name}\`:`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = DOC.indexOf("\n### ", start + 1);
  return DOC.slice(start, next < 0 ? undefined : next);
}

test.each([
  ["read", readCommand],
  ["fsync-chain", fsyncChainCommand],
  ["echo", echoCommand],
  ["nop", nopCommand],
  ["async-read", asyncReadCommand],
] as Array<[string, () => Command]>)("docs/cli.md has a row for every option of %s", (name, make) => {
  const text = section(name);
  const missing = make()
    .options.filter((o) => !SHARED.includes(o.long ?? ""))
    .map((o) => o.flags)
    .filter((flags) => !text.includes(`| \`${flags}\` |`));
  expect(missing).toEqual([]);
});

test("the shared options have their table", () => {
  for (const flag of [
    "-d, --duration <time>",
    "-w, --warmup <time>",
    "-r, --repeat <n>",
    "--json [path]",
    "--markdown [path]",
    "--save",
    "--baseline <variant>",
    "-q, --quiet",
  ]) {
    expect(DOC).toContain(`| \`${flag}\` |`);
  }
});
