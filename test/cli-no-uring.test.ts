/**
 * With io_uring refused (a seccomp filter from scripts/no-io-uring.c, as in a
 * container; the machine-wide sysctl stays alone), `echo` still runs the
 * baselines that need no io_uring with the C epoll load generator, its
 * io_uring rows carry doctor's reason, and it exits 1 (a variant failed).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../cli/harness/result.ts";
import { C_CLIENT_PATH } from "../cli/echo/servers.ts";
import { tempDir } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
let tmp: { dir: string; cleanup: () => void };
let gate: string | null = null;

beforeAll(() => {
  tmp = tempDir("uring-bench-no-uring-");
  const bin = join(tmp.dir, "no-io-uring");
  const cc = spawnSync("cc", ["-O2", "-o", bin, join(ROOT, "scripts", "no-io-uring.c")], { encoding: "utf8" });
  gate = cc.status === 0 ? bin : null;
});
afterAll(() => tmp.cleanup());

test.skipIf(!existsSync(C_CLIENT_PATH))(
  "echo with io_uring refused: bun and c-epoll run, uring carries the reason, exit 1",
  () => {
    if (gate === null) return; // no C compiler here
    const r = spawnSync(
      gate,
      [
        process.execPath,
        join(ROOT, "cli", "main.ts"),
        "echo",
        "-c",
        "20",
        "-b",
        "64",
        "-d",
        "300ms",
        "-w",
        "0",
        "-r",
        "1",
        "--servers",
        "uring,bun,c-epoll",
        "--json",
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(r.stderr).toContain("the load generator is the C epoll client");
    expect(r.status).toBe(1);
    const run = JSON.parse(r.stdout) as RunResult;
    const by = new Map(run.results.map((x) => [x.variant, x]));
    for (const v of ["bun", "c-epoll"]) {
      expect(by.get(v)!.errors).toBe(0);
      expect(by.get(v)!.opsPerSec).toBeGreaterThan(0);
    }
    const uring = by.get("uring")!;
    expect(uring.errors).toBeGreaterThan(0);
    expect((uring.notes ?? []).join(" ")).toMatch(/io_uring is unavailable: io_uring_setup\(.*\) failed: EPERM\..*seccomp/);
    expect(run.options.client).toBe("c-epoll");
  },
  120_000,
);
