/**
 * The `uring-bench` bin (cli/launch.mjs) under node: finds a Bun binary without
 * one on PATH, passes exit codes on, and says what to do when there is none.
 */
import { expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDirPerFile } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
const LAUNCH = join(ROOT, "cli", "launch.mjs");
const node = Bun.which("node");
const tmp = tempDirPerFile("uring-bench-launch-");
/** A PATH with node but no bun. */
const PATH_WITHOUT_BUN = node ? `${dirname(node)}:/usr/bin:/bin` : "/usr/bin:/bin";

function launch(args: string[], opts: { cwd: string; env?: Record<string, string>; script?: string }) {
  const env: Record<string, string> = { PATH: PATH_WITHOUT_BUN, HOME: tmp.dir, ...opts.env };
  const r = Bun.spawnSync([node!, opts.script ?? LAUNCH, ...args], { cwd: opts.cwd, env, stdout: "pipe", stderr: "pipe" });
  return { status: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

test.skipIf(!node || Bun.which("bun", { PATH: PATH_WITHOUT_BUN }) !== null)("finds the bun above the package (node_modules/.bin) from any directory", () => {
  const r = launch(["--version"], { cwd: "/" });
  expect(r.err).toBe("");
  expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  expect(r.status).toBe(0);
});

test.skipIf(!node)("$BUN wins, and the CLI's exit code is passed on", () => {
  const r = launch(["no-such-command"], { cwd: "/", env: { BUN: process.execPath } });
  expect(r.status).toBe(2);
  expect(r.err).toContain("unknown command");
});

test.skipIf(!node || Bun.which("bun", { PATH: dirname(node) }) !== null)("no bun anywhere: exit 127 with what to do", () => {
  // A copy of the launcher outside any project, so no node_modules/.bin/bun is above it.
  const lone = join(tmp.dir, "launch.mjs");
  copyFileSync(LAUNCH, lone);
  const r = launch(["doctor"], { cwd: tmp.dir, script: lone, env: { PATH: node ? dirname(node) : "/nonexistent" } });
  expect(r.status).toBe(127);
  expect(r.err).toContain("needs Bun");
  expect(r.err).toContain("npm install bun");
});
