/** `uring-bench doctor` (alias `info`) on this machine, run as a subprocess like a user would. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cpus, release } from "node:os";
import type { DoctorReport } from "../cli/doctor.ts";
import { Op, SetupFlags } from "../src/sys/constants.ts";

const ROOT = join(import.meta.dir, "..");

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const p = Bun.spawnSync({ cmd: [process.execPath, "cli/main.ts", ...args], cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("doctor --json", () => {
  const r = cli(["doctor", "--json"]);
  const report = JSON.parse(r.out) as DoctorReport;

  test("exits 0 and reports this machine", () => {
    expect(r.code).toBe(0);
    expect(report.kernel).toBe(release());
    expect(report.cpus).toBe(cpus().length);
    expect(report.allowedCpus.length).toBeGreaterThan(0);
    expect(["cc", "tcc"]).toContain(report.shimBuild);
    expect(report.bunVersion).toBe(Bun.version);
  });

  test("io_uring works here and the sysctl is read", () => {
    expect(report.setup).toEqual({ ok: true });
    expect([0, 1, 2, null]).toContain(report.ioUringDisabled);
    expect(report.ioUringDisabledMeaning.length).toBeGreaterThan(0);
  });

  test("limits are numbers or 'unlimited'", () => {
    for (const l of [report.rlimitNofile, report.rlimitMemlock]) {
      expect(l).not.toBeNull();
      for (const v of [l!.soft, l!.hard]) expect(typeof v === "number" || v === "unlimited").toBe(true);
    }
  });

  test("feature bits by name", () => {
    const names = report.features.map((f) => f.name);
    expect(names).toContain("NODROP");
    expect(report.features.find((f) => f.name === "SINGLE_MMAP")?.present).toBe(true);
  });

  test("opcode table: every opcode with the version that added it", () => {
    expect(report.ops.length).toBe(Object.keys(Op).length);
    const nop = report.ops.find((o) => o.name === "NOP")!;
    expect(nop).toEqual({ op: 0, name: "NOP", since: "5.1", supported: true });
    for (const o of report.ops) expect(o.since).toMatch(/^\d+\.\d+$/);
  });

  test("setup flags tried one by one", () => {
    expect(report.setupFlags.map((f) => f.name)).toEqual(Object.keys(SetupFlags));
    // The basics every kernel with io_uring_setup flags has.
    for (const name of ["SQPOLL", "CQSIZE", "CLAMP"]) expect(report.setupFlags.find((f) => f.name === name)?.supported).toBe(true);
    for (const f of report.setupFlags) if (f.supported === false) expect(f.error).toMatch(/^E[A-Z]+|error$/);
  });
});

describe("doctor (human)", () => {
  test("tables with the summary, setup flags and opcodes; info is an alias", () => {
    const r = cli(["info"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("kernel.io_uring_disabled");
    expect(r.out).toContain("RLIMIT_MEMLOCK");
    expect(r.out).toContain("Setup flags (IORING_SETUP_*)");
    expect(r.out).toMatch(/Opcodes \(IORING_OP_\*\): \d+\/\d+ supported/);
    expect(r.out).toContain("0 NOP");
  });
});

describe("doctor rendering when io_uring is unusable", () => {
  test("the reason is shown and the tables are skipped", async () => {
    const { renderDoctor } = await import("../cli/doctor.ts");
    const text = renderDoctor({
      kernel: "6.1.0",
      ioUringDisabled: 2,
      ioUringDisabledMeaning: "io_uring disabled for everyone",
      setup: { ok: false, errno: "EPERM", message: "io_uring_setup(2, no flags) failed: EPERM. io_uring is disabled by sysctl kernel.io_uring_disabled=2." },
      seccomp: 2,
      container: "docker",
      features: [],
      ops: [],
      setupFlags: [],
      rlimitNofile: { soft: 1024, hard: 4096 },
      rlimitMemlock: { soft: "unlimited", hard: "unlimited" },
      cpus: 2,
      allowedCpus: [0, 1],
      cpuModel: "x",
      shimBuild: "tcc",
      shimPath: "c/uring_shim.c",
      bunVersion: "1.4.5",
    });
    expect(text).toContain("FAILED (EPERM)");
    expect(text).toContain("kernel.io_uring_disabled=2");
    expect(text).toContain("filter");
    expect(text).toContain("tcc (TinyCC at load time)");
    expect(text).not.toContain("Opcodes");
  });
});
