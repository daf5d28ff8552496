#!/usr/bin/env node
// Postinstall: compile the C shim (and the native benchmark helpers) with the
// system C compiler into build/. Runs under node or bun. Where no compiler
// exists this prints why and exits 0: src/sys/ffi.ts then compiles the same
// shim at load time with bun:ffi's TinyCC.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build");
const cc = process.env.CC || "cc";

function haveCompiler() {
  return spawnSync(cc, ["--version"], { stdio: "ignore" }).status === 0;
}

function hasHeader(header) {
  const probe = spawnSync(cc, ["-E", "-x", "c", "-"], {
    input: `#include <${header}>\n`,
    stdio: ["pipe", "ignore", "ignore"],
  });
  return probe.status === 0;
}

/** [output, sources, extra flags, header it needs or null] */
const targets = [
  ["liburing_shim.so", ["c/uring_shim.c"], ["-shared", "-fPIC", "-ldl"], null],
  ["nop_liburing", ["c/reference/nop_liburing.c"], ["-luring"], "liburing.h"],
  ["read_liburing", ["c/reference/read_liburing.c"], ["-luring"], "liburing.h"],
  ["fsync_liburing", ["c/reference/fsync_liburing.c"], ["-luring"], "liburing.h"],
  ["echo_epoll", ["c/reference/echo_epoll.c"], [], null],
  ["echo_client_epoll", ["c/reference/echo_client_epoll.c"], [], null],
  ["echo_client_openloop", ["c/reference/echo_client_openloop.c"], ["-lm"], null],
  ["echo_liburing", ["c/reference/echo_liburing.c"], ["-luring"], "liburing.h"],
  ["wake_floor", ["c/reference/wake_floor.c"], ["-luring", "-lpthread"], "liburing.h"],
];

if (!haveCompiler()) {
  console.warn(`uring-bench: no C compiler (${cc}); the shim will be compiled by bun:ffi's TinyCC at load time.`);
  process.exit(0);
}
mkdirSync(out, { recursive: true });
for (const [name, sources, flags, needs] of targets) {
  if (!sources.every((s) => existsSync(join(root, s)))) continue;
  if (needs && !hasHeader(needs)) {
    console.warn(`uring-bench: skipping ${name}: <${needs}> not found (apt-get install liburing-dev).`);
    continue;
  }
  const args = ["-O2", "-Wall", "-o", join(out, name), ...sources.map((s) => join(root, s)), ...flags];
  try {
    execFileSync(cc, args, { stdio: "inherit", cwd: root });
  } catch (err) {
    // The shim is required (TinyCC can still stand in); the helpers are optional.
    console.warn(`uring-bench: ${cc} failed to build ${name}: ${err.message}`);
  }
}
