/** Results: loading and validating saved runs, tables, Markdown, saving, the HTML report and --compare. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareRows, compareRuns } from "../cli/harness/compare.ts";
import { finishRun } from "../cli/harness/output.ts";
import { renderDetail, renderGrid } from "../cli/harness/render-table.ts";
import { escapeXml, niceTicks, renderHtmlReport } from "../cli/harness/report-html.ts";
import type { RunResult } from "../cli/harness/result.ts";
import { detailRows, gridRows } from "../cli/harness/rows.ts";
import { loadRun, markdownTable, renderMarkdown, ResultFileError, saveRun, validateRunResult } from "../cli/harness/save.ts";
import { tempDir } from "./helpers.ts";

const FIXTURE = join(import.meta.dir, "fixtures", "bench-echo-result.json");
const ROOT = join(import.meta.dir, "..");
const BUN = process.execPath;

function fixture(): RunResult {
  return loadRun(FIXTURE);
}

/**
 * A minimal XML well-formedness check: every start tag is closed in order,
 * attributes are quoted, no stray "<" or "&" in text. `voids` lists HTML
 * elements that never close (meta, br).
 */
function checkWellFormed(text: string, voids: string[] = []): { ok: true } | { ok: false; error: string } {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!DOCTYPE html>|<!--[\s\S]*?-->|<|&(?!(?:amp|lt|gt|quot|#\d+);)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (m[0] === "<") return { ok: false, error: `stray < at ${m.index}: ${text.slice(m.index, m.index + 40)}` };
    if (m[0].startsWith("&")) return { ok: false, error: `bare & at ${m.index}` };
    if (m[2] === undefined) continue;
    const [, close, name, , selfClose] = m;
    if (selfClose || voids.includes(name!.toLowerCase())) continue;
    if (close) {
      const open = stack.pop();
      if (open !== name) return { ok: false, error: `</${name}> closes <${open}> at ${m.index}` };
    } else stack.push(name!);
  }
  return stack.length === 0 ? { ok: true } : { ok: false, error: `unclosed: ${stack.join(" > ")}` };
}

describe("loading saved runs", () => {
  test("the fixture loads and validates", () => {
    const run = fixture();
    expect(run.command).toBe("echo");
    expect(run.results).toHaveLength(16);
  });

  test("a missing file says so and where results live", () => {
    expect(() => loadRun("/nonexistent/run.json")).toThrow(ResultFileError);
    expect(() => loadRun("/nonexistent/run.json")).toThrow("/nonexistent/run.json: no such file (saved runs live in results/");
  });

  test("invalid JSON and wrong schema are named", () => {
    const tmp = tempDir();
    try {
      const bad = join(tmp.dir, "bad.json");
      writeFileSync(bad, "{ not json");
      expect(() => loadRun(bad)).toThrow(/bad\.json: not valid JSON \(.*\); is it a uring-bench result file\?/);
      writeFileSync(bad, JSON.stringify({ schema: 2 }));
      expect(() => loadRun(bad)).toThrow('not a uring-bench result (schema 1): "schema" must be 1, got 2');
      const run = fixture() as unknown as { results: Array<Record<string, unknown>> };
      run.results[3]!.opsPerSec = "fast";
      writeFileSync(bad, JSON.stringify(run));
      expect(() => loadRun(bad)).toThrow("results[3].opsPerSec must be a number");
    } finally {
      tmp.cleanup();
    }
  });

  test("validateRunResult catches each missing part", () => {
    const good = fixture();
    expect(validateRunResult(good)).toBeNull();
    expect(validateRunResult([])).toBe("the top level must be an object");
    expect(validateRunResult({ ...good, command: 1 })).toBe('"command" must be a string');
    expect(validateRunResult({ ...good, context: { ...good.context, argv: "x" } })).toBe('"context.argv" must be an array');
    expect(validateRunResult({ ...good, results: {} })).toBe('"results" must be an array');
  });
});

describe("tables", () => {
  test("the seed-style grid: a row per cell, a column per variant", () => {
    const g = gridRows(fixture());
    expect(g.head).toEqual(["", "uring ops/s", "uring-sqpoll ops/s", "bun ops/s", "node ops/s"]);
    expect(g.rows.map((r) => r[0])).toEqual(["c:300 bytes:128", "c:1000 bytes:128", "c:300 bytes:512", "c:1000 bytes:512"]);
    expect(g.rows[3]![4]).toMatch(/^\d+ \(2 err\)$/);
    const text = renderGrid(fixture());
    expect(text).toContain("c:1000 bytes:512");
    expect(text).toContain("uring-sqpoll ops/s");
  });

  test("detail rows carry percentiles, CPU, errors and the ratio to the baseline", () => {
    const run = fixture();
    const d = detailRows(run);
    expect(d.head).toEqual([
      "cell",
      "variant",
      "ops/s",
      "± spread",
      "MB/s",
      "p50 µs",
      "p99 µs",
      "p99.9 µs",
      "server CPU",
      "client CPU",
      "errors",
      "× bun",
      "paired",
      "notes",
    ]);
    const ratioCol = d.head.indexOf("× bun");
    const pairedCol = d.head.indexOf("paired");
    for (const row of d.rows.filter((r) => r[1] === "bun")) {
      expect(row[ratioCol]).toBe("1.00×");
      expect(row[pairedCol]).toBe(""); // the baseline is not paired with itself
    }
    const uring = run.results[0]!;
    const bun = run.results[2]!;
    expect(d.rows[0]![ratioCol]).toBe(`${(uring.opsPerSec / bun.opsPerSec).toFixed(2)}×`);
    // Paired: the median of repetition-by-repetition ratios.
    const pairs = uring.repetitions.map((v, i) => v / bun.repetitions[i]!).sort((a, b) => a - b);
    const mid = pairs.length >> 1;
    const pairedMedian = pairs.length % 2 ? pairs[mid]! : (pairs[mid - 1]! + pairs[mid]!) / 2;
    expect(d.rows[0]![pairedCol]).toBe(`${pairedMedian.toFixed(2)}×`);
    // An explicit baseline wins over options.baseline.
    expect(detailRows(run, "node").head).toContain("× node");
    expect(renderDetail(run)).toContain("× bun");
  });

  test("notes are one short line; a variant that never ran shows as failed", () => {
    const run = fixture();
    const broken: RunResult = {
      ...run,
      results: [
        run.results[2]!,
        { variant: "x", cell: run.results[2]!.cell, opsPerSec: 0, repetitions: [], errors: 1, notes: [`setup failed: boom\n  at line 3\n${"y".repeat(300)}`] },
      ],
    };
    const d = detailRows(broken);
    const row = d.rows[1]!;
    expect(row[d.head.indexOf("notes")]).toBe("setup failed: boom …");
    expect(row[d.head.indexOf("× bun")]).toBe("");
    expect(gridRows(broken).rows[0]![2]).toBe("failed");
    const long = detailRows({ ...broken, results: [{ ...broken.results[1]!, notes: ["z".repeat(300)] }] });
    expect(long.rows[0]![long.head.indexOf("notes")]!.length).toBe(100);
  });

  test("empty columns are dropped", () => {
    const run = fixture();
    const slim: RunResult = {
      ...run,
      options: {},
      results: run.results.map((r) => ({ variant: r.variant, cell: r.cell, opsPerSec: r.opsPerSec, repetitions: [r.opsPerSec], errors: 0 })),
    };
    expect(detailRows(slim).head).toEqual(["cell", "variant", "ops/s", "errors", "× baseline"]);
  });

  test("Markdown: grid, detail and the command line", () => {
    const md = renderMarkdown(fixture());
    expect(md).toContain("| c:300 bytes:128 |");
    expect(md).toContain("|---|---:|---:|---:|---:|");
    expect(md).toContain("bun cli/main.ts echo --matrix --save");
    expect(markdownTable({ head: ["a", "b", "c"], rows: [["x|y", "1", "two\nlines"]] })).toBe("| a | b | c |\n|---|---:|---|\n| x\\|y | 1 | two lines |");
  });
});

describe("saving", () => {
  test("results/<date>-<command>-<host>.json and .md, never overwriting", () => {
    const tmp = tempDir();
    try {
      const run = fixture();
      const first = saveRun(run, tmp.dir);
      expect(first.json).toBe(join(tmp.dir, "2026-11-22-echo-fixture-host.json"));
      expect(first.markdown).toBe(join(tmp.dir, "2026-11-22-echo-fixture-host.md"));
      const second = saveRun(run, tmp.dir);
      expect(second.json).toBe(join(tmp.dir, "2026-11-22-echo-fixture-host-2.json"));
      expect(loadRun(first.json)).toEqual(run);
      expect(readFileSync(first.markdown, "utf8")).toContain("## echo");
    } finally {
      tmp.cleanup();
    }
  });

  test("finishRun: tables by default, JSON alone with --json, files with paths", () => {
    const tmp = tempDir();
    try {
      const run = fixture();
      const out: string[] = [];
      const err: string[] = [];
      const streams = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) };
      const base = { durationMs: 1, warmupMs: 0, repeat: 1, quiet: false, save: false };
      finishRun(run, base, { streams, resultsDir: tmp.dir });
      expect(out.join("")).toContain("c:1000 bytes:512");
      out.length = 0;
      finishRun(run, { ...base, json: true }, { streams, resultsDir: tmp.dir });
      expect(JSON.parse(out.join(""))).toEqual(run);
      out.length = 0;
      const jsonPath = join(tmp.dir, "sub", "r.json");
      const mdPath = join(tmp.dir, "r.md");
      const written = finishRun(run, { ...base, quiet: true, json: jsonPath, markdown: mdPath, save: true }, { streams, resultsDir: tmp.dir });
      expect(out).toEqual([]);
      expect(written).toHaveLength(4);
      for (const p of written) expect(existsSync(p)).toBe(true);
      expect(err).toEqual([]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe("HTML report", () => {
  test("well-formed, self-contained, one bar per variant per cell with error bars", () => {
    const run = fixture();
    const html = renderHtmlReport([{ run, source: "fixture.json" }]);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(checkWellFormed(html, ["meta"])).toEqual({ ok: true });
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(1);
    expect(checkWellFormed(svgs[0]!)).toEqual({ ok: true });
    const bars = [...svgs[0]!.matchAll(/<rect class="bar" data-cell="([^"]*)" data-variant="([^"]*)"/g)].map((m) => `${m[1]}|${m[2]}`);
    const expected = run.results.map((r) => `${r.cell}|${r.variant}`);
    expect(bars.sort()).toEqual(expected.sort());
    // Every cell group holds exactly one bar per variant.
    for (const group of svgs[0]!.match(/<g class="cell"[\s\S]*?<\/g>/g) ?? []) {
      expect(group.match(/<rect class="bar"/g)).toHaveLength(4);
    }
    expect(svgs[0]!.match(/<path class="err"/g)).toHaveLength(16);
    // The note with markup characters is escaped.
    expect(html).toContain("2 short reads &lt;&amp;&gt; &quot;quoted&quot;");
  });

  test("bar heights follow ops/s", () => {
    const run = fixture();
    const svg = renderHtmlReport([{ run }]);
    const height = (cell: string, variant: string) => Number(new RegExp(`data-cell="${cell}" data-variant="${variant}"[^>]*height="([\\d.]+)"`).exec(svg)?.[1]);
    const r = (v: string) => run.results.find((x) => x.cell === "c:300 bytes:128" && x.variant === v)!.opsPerSec;
    expect(height("c:300 bytes:128", "uring") / height("c:300 bytes:128", "bun")).toBeCloseTo(r("uring") / r("bun"), 1);
  });

  test("several runs: one chart each, colours consistent per variant", () => {
    const run = fixture();
    const html = renderHtmlReport([{ run }, { run: { ...run, command: "echo-again" } }]);
    expect(html.match(/<svg /g)).toHaveLength(2);
    const fills = [...html.matchAll(/data-variant="bun"[^>]*fill="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(fills).size).toBe(1);
  });

  test("the checker itself rejects broken markup", () => {
    expect(checkWellFormed("<svg><g></svg>").ok).toBe(false);
    expect(checkWellFormed("<svg><text>a < b</text></svg>").ok).toBe(false);
    expect(checkWellFormed("<svg><text>a & b</text></svg>").ok).toBe(false);
    expect(checkWellFormed('<svg><rect x="1"/></svg>').ok).toBe(true);
  });

  test("helpers", () => {
    expect(escapeXml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    expect(niceTicks(76000)).toEqual([0, 20000, 40000, 60000, 80000]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe("compare", () => {
  test("ratios B/A per cell × variant, missing sides marked", () => {
    const a = fixture();
    const b: RunResult = {
      ...a,
      results: [
        ...a.results.slice(1).map((r) => ({ ...r, opsPerSec: r.opsPerSec * 2, latencyUs: r.latencyUs && { ...r.latencyUs, p99: r.latencyUs.p99 / 2 } })),
        { ...a.results[0]!, cell: "new" },
      ],
    };
    const pairs = compareRuns(a, b);
    expect(pairs.find((p) => p.cell === a.results[1]!.cell && p.variant === a.results[1]!.variant)?.opsRatio).toBeCloseTo(2);
    const rows = compareRows(a, b);
    expect(rows.head).toEqual(["cell", "variant", "A ops/s", "B ops/s", "B/A", "A p99 µs", "B p99 µs", "B/A p99"]);
    expect(rows.rows[0]![3]).toBe("(only in A)");
    expect(rows.rows.at(-1)![2]).toBe("(only in B)");
    expect(rows.rows[1]![4]).toBe("2.00×");
    expect(rows.rows[1]![7]).toBe("0.50×");
  });
});

describe("report CLI", () => {
  const run = (args: string[]) => {
    const p = Bun.spawnSync({ cmd: [BUN, "cli/main.ts", "report", ...args], cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  test("writes an HTML file", () => {
    const tmp = tempDir();
    try {
      const out = join(tmp.dir, "r.html");
      const svg = join(tmp.dir, "chart.svg");
      const r = run([FIXTURE, "-o", out, "--svg", svg]);
      expect(r.err).toContain(`wrote ${out} (1 run)`);
      expect(r.code).toBe(0);
      expect(readFileSync(out, "utf8")).toContain('<rect class="bar"');
      const chart = readFileSync(svg, "utf8");
      expect(chart.startsWith("<svg ")).toBe(true);
      expect(checkWellFormed(chart)).toEqual({ ok: true });
      expect(chart.match(/<rect class="bar"/g)).toHaveLength(16);
    } finally {
      tmp.cleanup();
    }
  });

  test("a folder stands for its .json files", () => {
    const tmp = tempDir();
    try {
      expect(run([tmp.dir, "-o", "-"]).err).toContain("a directory with no .json result files in it.");
      writeFileSync(join(tmp.dir, "a.json"), readFileSync(FIXTURE));
      writeFileSync(join(tmp.dir, "b.json"), readFileSync(FIXTURE));
      writeFileSync(join(tmp.dir, "notes.txt"), "ignored");
      const r = run([tmp.dir, "-o", "-"]);
      expect(r.code).toBe(0);
      expect(r.out.match(/<svg /g)).toHaveLength(2);
    } finally {
      tmp.cleanup();
    }
  });

  test("--compare prints a ratio table", () => {
    const r = run(["--compare", FIXTURE, FIXTURE]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("1.00×");
    expect(run(["--compare", FIXTURE]).err).toContain("--compare takes exactly two result files");
  });

  test("bad files: a clear message and exit code 1", () => {
    const missing = run(["/nonexistent.json", "-o", "-"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe("uring-bench: /nonexistent.json: no such file (saved runs live in results/; create one with --save or --json <path>)\n");
    const tmp = tempDir();
    try {
      const bad = join(tmp.dir, "x.json");
      writeFileSync(bad, "[1,2]");
      const r = run([bad, "-o", "-"]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("not a uring-bench result (schema 1): the top level must be an object");
    } finally {
      tmp.cleanup();
    }
  });
});
