/**
 * The repository's own results stay usable: every results/*.json is a
 * RunResult (so `uring-bench report results/*.json` works), and every
 * results/ path the README and docs quote exists.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateRunResult } from "../cli/harness/save.ts";

const ROOT = join(import.meta.dir, "..");
const RESULTS = join(ROOT, "results");

test("every results/*.json is a RunResult (bundles and other data go to results/archive/)", () => {
  const bad: string[] = [];
  for (const f of readdirSync(RESULTS).filter((f) => f.endsWith(".json"))) {
    let problem: string | null;
    try {
      problem = validateRunResult(JSON.parse(readFileSync(join(RESULTS, f), "utf8")));
    } catch (err) {
      problem = `not JSON: ${(err as Error).message}`;
    }
    if (problem !== null) bad.push(`${f}: ${problem}`);
  }
  expect(bad).toEqual([]);
});

test("every results/ file the README and docs quote exists", () => {
  const docs = [
    join(ROOT, "README.md"),
    ...readdirSync(join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => join(ROOT, "docs", f)),
  ];
  const missing: string[] = [];
  for (const doc of docs) {
    // Concrete file names only (not patterns like results/<date>-... or results/*.json).
    for (const m of readFileSync(doc, "utf8").matchAll(/results\/[A-Za-z0-9._/-]+\.(?:json|md|txt)\b/g)) {
      if (!existsSync(join(ROOT, m[0]))) missing.push(`${doc.slice(ROOT.length + 1)}: ${m[0]}`);
    }
  }
  expect(missing).toEqual([]);
});
