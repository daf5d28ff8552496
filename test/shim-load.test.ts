/**
 * How the shim is found, built and loaded (src/sys/ffi.ts, c/uring_shim.c): the
 * override variable, both syscall paths of the header-less source under the
 * system compiler and TinyCC, and clear errors. Each load runs in a child
 * process, since a process loads the shim once.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDirPerFile } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
const SOURCE = join(ROOT, "c", "uring_shim.c");
const tmp = tempDirPerFile("uring-bench-shim-");
const haveCc = spawnSync("cc", ["--version"], { stdio: "ignore" }).status === 0;

/** Loads the shim in a child with `env`, creates a ring, an aligned buffer and a waiter thread; returns what it saw. */
function loadInChild(env: Record<string, string>): { status: number | null; out: string; err: string } {
  const script = `
    const ffi = await import(${JSON.stringify(join(ROOT, "src", "sys", "ffi.ts"))});
    const { Ring } = await import(${JSON.stringify(join(ROOT, "src", "ring", "ring.ts"))});
    const ring = new Ring(4); ring.close();
    const addr = ffi.alignedAlloc(4096, 8192); if (addr <= 0 || addr % 4096 !== 0) throw new Error("alignedAlloc " + addr);
    ffi.freeAligned(addr);
    const efd = ffi.eventfd(0, 0);
    let woke = false;
    const w = ffi.startEventfdWaiter(efd, () => { woke = true; });
    w.arm();
    ffi.memcpy(0, 0, 0); // libc's memcpy found through dlsym
    const one = new BigUint64Array([1n]);
    require("node:fs").writeSync(efd, new Uint8Array(one.buffer));
    for (let i = 0; i < 200 && !woke; i++) await Bun.sleep(5);
    w.stop(); ffi.closeFd(efd);
    console.log(JSON.stringify({ build: ffi.shimBuild, path: ffi.shimPath, woke, tid: ffi.gettid() > 0, mask: ffi.schedGetAffinity(0) > 0 }));
  `;
  const r = spawnSync(process.execPath, ["-e", script], {
    env: { ...process.env, URING_BENCH_SHIM: "", URING_BENCH_SHIM_PATH: "", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function expectWorking(r: ReturnType<typeof loadInChild>, build: string, path: string): void {
  if (r.status !== 0) console.error(r.err);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.out.trim().split("\n").pop()!)).toEqual({ build, path, woke: true, tid: true, mask: true });
}

describe("URING_BENCH_SHIM_PATH", () => {
  test("a .c file is compiled by TinyCC", () => {
    expectWorking(loadInChild({ URING_BENCH_SHIM_PATH: SOURCE }), "tcc", SOURCE);
  });

  test("a missing file is refused with the variable's name", () => {
    const r = loadInChild({ URING_BENCH_SHIM_PATH: join(tmp.dir, "nope.so") });
    expect(r.status).not.toBe(0);
    expect(r.err).toContain("URING_BENCH_SHIM_PATH=");
  });

  test("an unknown URING_BENCH_SHIM is refused", () => {
    const r = loadInChild({ URING_BENCH_SHIM: "gcc" });
    expect(r.status).not.toBe(0);
    expect(r.err).toContain('use "cc" (prebuilt) or "tcc"');
  });
});

describe("the libc syscall(2) path (aarch64 under TinyCC), tried on this machine", () => {
  test("TinyCC", () => {
    const path = join(tmp.dir, "libc-syscall.c");
    writeFileSync(path, `#define US_LIBC_SYSCALL 1\n${readFileSync(SOURCE, "utf8")}`);
    expectWorking(loadInChild({ URING_BENCH_SHIM_PATH: path }), "tcc", path);
  });

  test.skipIf(!haveCc)("system compiler, -Wall -Werror", () => {
    const out = join(tmp.dir, "libc-syscall.so");
    const cc = spawnSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-DUS_LIBC_SYSCALL", "-o", out, SOURCE, "-ldl"], {
      encoding: "utf8",
    });
    expect(cc.stderr).toBe("");
    expect(cc.status).toBe(0);
    expectWorking(loadInChild({ URING_BENCH_SHIM_PATH: out }), "cc", out);
  });
});

test.skipIf(!haveCc)("the raw-syscall shim compiles warning-free with the system compiler", () => {
  const out = join(tmp.dir, "raw.so");
  const cc = spawnSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", out, SOURCE, "-ldl"], { encoding: "utf8" });
  expect(cc.stderr).toBe("");
  expect(cc.status).toBe(0);
  expectWorking(loadInChild({ URING_BENCH_SHIM_PATH: out }), "cc", out);
});
