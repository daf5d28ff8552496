/** The shared runner: interleaving order, warm-up, median, error recording, setup/teardown, options parsers. */
import { describe, expect, test } from "bun:test";
import { Command, InvalidArgumentError } from "commander";
import { addCommonOptions, commonSettings, cpuList, durationMs, intList, positiveInt, choiceList } from "../cli/harness/options.ts";
import { planRuns, runInterleaved, summarize, timedLoopSync, type BenchVariant, type Measurement, type RunControl } from "../cli/harness/runner.ts";
import { createProgress, formatProgressLine } from "../cli/harness/progress.ts";
import { cpuMask, maskCpus, getAffinity, withThreadAffinity } from "../cli/harness/affinity.ts";
import { processCpuSeconds, startCpuMeter } from "../cli/harness/cpu.ts";

/** A fake variant whose ops per repetition come from a list; it logs every call. */
function fake(name: string, cell: string, opsList: number[], log: string[]): BenchVariant {
  let i = 0;
  return {
    name,
    cell,
    setup: () => void log.push(`setup ${cell}/${name}`),
    teardown: () => void log.push(`teardown ${cell}/${name}`),
    async run(_ms: number, ctx: RunControl): Promise<Measurement> {
      log.push(`${ctx.phase === "warmup" ? "warm" : `r${ctx.repetition}`} ${cell}/${name}`);
      ctx.report(1);
      if (ctx.phase === "warmup") return { ops: 1, seconds: 1 };
      const ops = opsList[i++ % opsList.length]!;
      return { ops, seconds: 1, bytes: ops * 10, latencySamplesUs: [1, 2, 3, 4, 100], cpu: { self: 0.5 }, extra: { k: ops } };
    },
  };
}

describe("runInterleaved", () => {
  test("runs A B C A B C, warm-up first, setup/teardown once per cell", async () => {
    const log: string[] = [];
    const variants = ["A", "B", "C"].map((n) => fake(n, "x", [10, 20, 30], log));
    await runInterleaved({ variants, repeat: 2, warmupMs: 5, durationMs: 5 });
    expect(log).toEqual([
      "setup x/A",
      "setup x/B",
      "setup x/C",
      "warm x/A",
      "warm x/B",
      "warm x/C",
      "r1 x/A",
      "r1 x/B",
      "r1 x/C",
      "r2 x/A",
      "r2 x/B",
      "r2 x/C",
      "teardown x/A",
      "teardown x/B",
      "teardown x/C",
    ]);
  });

  test("cells run one after another by default, interleaved across cells with order all", async () => {
    const mk = (log: string[]) => [fake("A", "c1", [1], log), fake("B", "c1", [1], log), fake("A", "c2", [1], log), fake("B", "c2", [1], log)];
    const byCell: string[] = [];
    await runInterleaved({ variants: mk(byCell), repeat: 2, warmupMs: 0, durationMs: 5 });
    expect(byCell.filter((l) => l.startsWith("r"))).toEqual(["r1 c1/A", "r1 c1/B", "r2 c1/A", "r2 c1/B", "r1 c2/A", "r1 c2/B", "r2 c2/A", "r2 c2/B"]);
    const all: string[] = [];
    await runInterleaved({ variants: mk(all), repeat: 2, warmupMs: 0, durationMs: 5, order: "all" });
    expect(all.filter((l) => l.startsWith("r"))).toEqual(["r1 c1/A", "r1 c1/B", "r1 c2/A", "r1 c2/B", "r2 c1/A", "r2 c1/B", "r2 c2/A", "r2 c2/B"]);
  });

  test("median over repetitions, repetitions kept in run order, latency and extras folded", async () => {
    const log: string[] = [];
    const [a] = await runInterleaved({ variants: [fake("A", "x", [30, 10, 20], log)], repeat: 3, warmupMs: 0, durationMs: 5 });
    expect(a!.repetitions).toEqual([30, 10, 20]);
    expect(a!.opsPerSec).toBe(20);
    expect(a!.bytesPerSec).toBe(200);
    expect(a!.latencyUs).toEqual({ p50: 3, p99: 100, p999: 100, mean: 22 });
    expect(a!.cpu).toEqual({ self: 0.5 });
    expect(a!.extra).toEqual({ k: 20 });
    expect(a!.errors).toBe(0);
  });

  test("a failing variant is recorded with errors and notes, others go on", async () => {
    const log: string[] = [];
    const bad: BenchVariant = {
      name: "bad",
      cell: "x",
      run: async () => {
        throw new Error("boom");
      },
    };
    const res = await runInterleaved({ variants: [fake("A", "x", [5], log), bad], repeat: 2, warmupMs: 0, durationMs: 5 });
    expect(res[0]!.repetitions).toEqual([5, 5]);
    expect(res[1]!.errors).toBe(1);
    expect(res[1]!.notes).toEqual(["repetition 1 failed: boom"]);
    await expect(runInterleaved({ variants: [bad], repeat: 1, warmupMs: 0, durationMs: 5, onError: "throw" })).rejects.toThrow("boom");
  });

  test("a variant whose setup fails is skipped and not torn down", async () => {
    const log: string[] = [];
    const v = fake("A", "x", [1], log);
    v.setup = () => {
      throw new Error("no port");
    };
    const [r] = await runInterleaved({ variants: [v, fake("B", "x", [2], log)], repeat: 2, warmupMs: 0, durationMs: 5 });
    expect(r!.notes).toEqual(["setup failed: no port"]);
    expect(r!.errors).toBe(1);
    expect(log).toEqual(["setup x/B", "r1 x/B", "r2 x/B", "teardown x/B"]);
  });

  test("abort stops the run and still tears down", async () => {
    const log: string[] = [];
    const ac = new AbortController();
    const v = fake("A", "x", [1], log);
    const orig = v.run;
    v.run = async (ms, ctx) => {
      ac.abort();
      return orig(ms, ctx);
    };
    await expect(runInterleaved({ variants: [v], repeat: 3, warmupMs: 0, durationMs: 5, signal: ac.signal })).rejects.toThrow("interrupted");
    expect(log.at(-1)).toBe("teardown x/A");
  });

  test("abort with onAbort partial returns what was measured", async () => {
    const ac = new AbortController();
    const a = fake("A", "x", [7], []);
    const b = fake("B", "x", [9], []);
    const orig = b.run;
    b.run = async (ms, ctx) => {
      const m = await orig(ms, ctx);
      if (ctx.repetition === 1) ac.abort();
      return m;
    };
    const res = await runInterleaved({ variants: [a, b], repeat: 3, warmupMs: 0, durationMs: 5, signal: ac.signal, onAbort: "partial" });
    expect(res.map((r) => r.repetitions)).toEqual([[7], [9]]);
    expect(res[0]!.notes).toEqual(["interrupted after 1 of 3 repetitions"]);
  });

  test("progress callback sees every run; duplicate variants are refused", async () => {
    const seen: string[] = [];
    await runInterleaved({
      variants: [fake("A", "x", [1], []), fake("B", "x", [1], [])],
      repeat: 1,
      warmupMs: 0,
      durationMs: 5,
      onProgress: (ev) => seen.push(`${ev.runIndex}/${ev.runCount} ${ev.variant}`),
    });
    expect([...new Set(seen)]).toEqual(["0/2 A", "1/2 B"]);
    await expect(runInterleaved({ variants: [fake("A", "x", [1], []), fake("A", "x", [1], [])], repeat: 1, warmupMs: 0, durationMs: 5 })).rejects.toThrow(
      "twice",
    );
  });

  test("cpus pins the process during the run and restores it", async () => {
    const before = getAffinity();
    let inside: number[] = [];
    const v: BenchVariant = {
      name: "A",
      cell: "x",
      run: async () => {
        inside = getAffinity();
        return { ops: 1, seconds: 1 };
      },
    };
    await runInterleaved({ variants: [v], repeat: 1, warmupMs: 0, durationMs: 5, cpus: [0] });
    expect(inside).toEqual([0]);
    expect(getAffinity()).toEqual(before);
  });

  test("planRuns without warm-up", () => {
    const v = [fake("A", "x", [1], []), fake("B", "x", [1], [])];
    const plan = planRuns(v, 2, 0)
      .flat()
      .map((p) => `${p.phase[0]}${p.repetition}${p.variant.name}`);
    expect(plan).toEqual(["m1A", "m1B", "m2A", "m2B"]);
  });

  test("summarize with no measurements", () => {
    expect(summarize("A", "x", [], ["setup failed: x"])).toEqual({
      variant: "A",
      cell: "x",
      opsPerSec: 0,
      repetitions: [],
      errors: 1,
      notes: ["setup failed: x"],
    });
  });

  test("timedLoopSync counts ops and stops", () => {
    const ctx: RunControl = { phase: "measure", repetition: 1, report() {}, signal: new AbortController().signal };
    const r = timedLoopSync(20, ctx, () => 2);
    expect(r.ops % 2).toBe(0);
    expect(r.ops).toBeGreaterThan(0);
    expect(r.seconds).toBeGreaterThan(0);
  });
});

describe("progress", () => {
  const ev = {
    phase: "measure" as const,
    variant: "uring",
    cell: "c:1",
    repetition: 2,
    repeat: 3,
    durationMs: 2000,
    elapsedMs: 1000,
    ops: 5000,
    runIndex: 4,
    runCount: 9,
  };
  test("silent without a TTY, when quiet, or on short runs", () => {
    const out: string[] = [];
    const stream = { isTTY: false, write: (s: string) => out.push(s) };
    createProgress({ totalMs: 5000, stream }).update(ev);
    createProgress({ totalMs: 5000, quiet: true, stream: { ...stream, isTTY: true } }).update(ev);
    createProgress({ totalMs: 900, stream: { ...stream, isTTY: true } }).update(ev);
    expect(out).toEqual([]);
  });
  test("draws and clears one line on a TTY", () => {
    const out: string[] = [];
    const p = createProgress({ totalMs: 5000, stream: { isTTY: true, columns: 200, write: (s: string) => out.push(s) } });
    p.update(ev);
    p.done();
    expect(out[0]).toContain("[5/9] c:1 uring rep 2/3 1.0/2.0s 5000 ops/s");
    expect(out.at(-1)).toBe("\r\x1b[2K");
    expect(formatProgressLine({ ...ev, phase: "warmup" }, 2e6)).toContain("warm-up 1.0/2.0s 2.00M ops/s");
  });
});

describe("common options", () => {
  const parse = (args: string[]) => {
    const cmd = addCommonOptions(new Command("x").exitOverride().configureOutput({ writeErr: () => {} }));
    cmd.parse(args, { from: "user" });
    return commonSettings(cmd.opts());
  };
  test("defaults and values", () => {
    expect(parse([])).toEqual({
      durationMs: 2000,
      warmupMs: 500,
      repeat: 3,
      json: undefined,
      markdown: undefined,
      quiet: false,
      save: false,
      baseline: undefined,
    });
    expect(parse(["-d", "500ms", "--warmup", "0", "-r", "5", "--json", "--markdown", "o.md", "-q", "--save", "--baseline", "pread"])).toEqual({
      durationMs: 500,
      warmupMs: 0,
      repeat: 5,
      json: true,
      markdown: "o.md",
      quiet: true,
      save: true,
      baseline: "pread",
    });
    expect(parse(["--duration", "1m"]).durationMs).toBe(60000);
    expect(parse(["--duration", "1.5"]).durationMs).toBe(1500);
  });
  test("bad values name the flag", () => {
    expect(() => parse(["--duration", "fast"])).toThrow("--duration takes a duration");
    expect(() => parse(["--repeat", "0"])).toThrow("--repeat takes a positive integer");
    expect(() => durationMs("--duration")("0")).toThrow(InvalidArgumentError);
  });
  test("list and size parsers", () => {
    expect(positiveInt("--bs")("4k")).toBe(4096);
    expect(intList("-b")("128,512,1000")).toEqual([128, 512, 1000]);
    expect(() => intList("-b")("128,x")).toThrow('-b takes a comma-separated list of positive integers (e.g. 128,512,1000), and "x" is not one.');
    expect(choiceList("--variants", ["a", "b"])("b,a")).toEqual(["b", "a"]);
    expect(() => choiceList("--variants", ["a", "b"])("c")).toThrow('--variants: unknown "c"; choose from a, b.');
    expect(cpuList("--cpu", 4)("0,2-3")).toEqual([0, 2, 3]);
    expect(() => cpuList("--cpu", 2)("5")).toThrow("--cpu: CPU 5 does not exist here (CPUs 0-1).");
  });
});

describe("affinity and cpu", () => {
  test("masks", () => {
    expect(cpuMask([0, 2])).toBe(5);
    expect(maskCpus(5)).toEqual([0, 2]);
  });
  test("withThreadAffinity pins and restores", () => {
    const before = getAffinity();
    const inside = withThreadAffinity([0], () => getAffinity());
    expect(inside).toEqual([0]);
    expect(getAffinity()).toEqual(before);
  });
  test("cpu meters read self and /proc", () => {
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
    const m = startCpuMeter();
    let x = 0;
    for (let i = 0; i < 1e6; i++) x += i;
    expect(x).toBeGreaterThan(0);
    expect(m.stop()).toBeGreaterThanOrEqual(0);
    expect(() => processCpuSeconds(2 ** 30)).toThrow("is gone");
  });
});

describe("children", () => {
  test("spawnChild pins the child from birth and stopChild ends it", async () => {
    const { spawnChild, stopChild, readLineMatching, liveChildren } = await import("../cli/harness/children.ts");
    const c = spawnChild(["sh", "-c", "grep Cpus_allowed_list /proc/self/status; exec sleep 30"], { cpus: [0], stdout: "pipe" });
    try {
      const m = await readLineMatching(c, /Cpus_allowed_list:\s*(\S+)/);
      expect(m[1]).toBe("0");
    } finally {
      await stopChild(c, 1000);
    }
    expect(c.signalCode).toBe("SIGTERM");
    expect(liveChildren()).toBe(0);
  });

  test("SIGINT to the parent leaves no orphan", async () => {
    const script = `
      import { spawnChild } from ${JSON.stringify(`${import.meta.dir}/../cli/harness/children.ts`)};
      const c = spawnChild(["sleep", "30"]);
      console.log("child", c.pid);
      setInterval(() => {}, 1000);
    `;
    const { tempDir } = await import("./helpers.ts");
    const { writeFileSync, existsSync } = await import("node:fs");
    const tmp = tempDir();
    try {
      const file = `${tmp.dir}/parent.ts`;
      writeFileSync(file, script);
      const parent = Bun.spawn({ cmd: [process.execPath, file], stdout: "pipe", stderr: "pipe" });
      const reader = parent.stdout.getReader();
      let text = "";
      const deadline = Date.now() + 10_000;
      while (!/child (\d+)/.test(text) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const pid = Number(/child (\d+)/.exec(text)?.[1]);
      expect(pid).toBeGreaterThan(0);
      parent.kill("SIGINT");
      const code = await Promise.race([parent.exited, Bun.sleep(5000).then(() => "timeout")]);
      if (code === "timeout") parent.kill("SIGKILL");
      expect(code).toBe(130);
      // The sleep child is gone (or a zombie about to be reaped by init).
      const state = existsSync(`/proc/${pid}/stat`) ? (await Bun.file(`/proc/${pid}/stat`).text()).split(") ")[1]?.[0] : "gone";
      expect(["gone", "Z", "X"]).toContain(state ?? "gone");
    } finally {
      tmp.cleanup();
    }
  });
});
