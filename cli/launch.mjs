#!/usr/bin/env node
/**
 * The `uring-bench` bin: runs cli/main.ts under Bun, wherever a Bun binary
 * can be found. `npx` (node) and `bunx` both run bins through their shebang,
 * and a `#!/usr/bin/env bun` bin fails with "env: 'bun': No such file" when
 * Bun was installed as a dependency (node_modules/.bin/bun) rather than on
 * PATH. This file is plain ESM that node and Bun both run.
 *
 * Under Bun already: import the CLI in this process. Under node: find Bun
 * (first found wins) and replace this process with it (or, before Node 23.11
 * has process.execve, run it as a child and pass its exit status on):
 * 1. $BUN (a path to a bun binary), then $npm_execpath when it is Bun
 *    (`bun x` and `bun run` set it to themselves; node may still be what the
 *    shebang found);
 * 2. node_modules/.bin/bun in the current directory or any parent;
 * 3. node_modules/.bin/bun above this package (the project that installed it);
 * 4. the `bun` npm package's binary, resolved from this package;
 * 5. `bun` on PATH, then ~/.bun/bin/bun (the official installer's place).
 */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, "main.ts");

if (process.versions.bun) {
  await import("./main.ts");
} else {
  const bun = findBun();
  if (bun === null) {
    process.stderr.write(
      "uring-bench: needs Bun (https://bun.sh), and none was found: not in $BUN, node_modules/.bin, the `bun` npm package, PATH or ~/.bun/bin.\n" +
        "Install it with `npm install bun` in this project (or see https://bun.sh/docs/installation), or set BUN=/path/to/bun.\n",
    );
    process.exit(127);
  }
  run(bun, [main, ...process.argv.slice(2)]);
}

/** Whether `path` is an executable file. */
function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `node_modules/.bin/bun` in `dir` or the nearest parent that has one, else null. */
function binAbove(dir) {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const candidate = join(d, "node_modules", ".bin", "bun");
    if (executable(candidate)) return candidate;
    if (dirname(d) === d) return null;
  }
}

/** The `bun` npm package's binary (bin/bun.exe on Linux), resolved from this package. */
function bunPackageBinary() {
  try {
    const pkg = createRequire(import.meta.url).resolve("bun/package.json");
    const bin = join(dirname(pkg), "bin", "bun.exe");
    return executable(bin) ? bin : null;
  } catch {
    return null;
  }
}

/** `bun` on PATH, else null. */
function onPath() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && executable(join(dir, "bun"))) return join(dir, "bun");
  }
  return null;
}

function findBun() {
  const fromEnv = process.env.BUN;
  if (fromEnv && executable(fromEnv)) return fromEnv;
  const runner = process.env.npm_execpath;
  if (runner && /^bun(\.exe)?$/.test(basename(runner)) && executable(runner)) return runner;
  const home = join(homedir(), ".bun", "bin", "bun");
  return binAbove(process.cwd()) ?? binAbove(join(here, "..")) ?? bunPackageBinary() ?? onPath() ?? (executable(home) ? home : null);
}

/** Becomes `bun args...`: exec where node has it, else a child whose exit status becomes ours. */
function run(bun, args) {
  if (typeof process.execve === "function") process.execve(bun, [bun, ...args], process.env);
  const child = spawn(bun, args, { stdio: "inherit" });
  // The terminal sends Ctrl-C to the whole process group, so the child gets its own
  // SIGINT; this process waits for the child to finish its partial report and exit.
  for (const signal of ["SIGINT", "SIGQUIT"]) process.on(signal, () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (err) => {
    process.stderr.write(`uring-bench: could not start ${bun}: ${err.message}\n`);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      // Die of the same signal, so a shell sees what the child saw.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
