/**
 * The idle wake-up benchmark (cli/async-read/wake.ts): each TypeScript
 * mechanism's child runs a few samples with either writer and answers with
 * positive timings. A mechanism that never sees its event (a read that
 * completed at submit, an eventfd left disabled) hangs its child, which the
 * spawn timeout turns into a failure here.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const WAKE = join(import.meta.dir, "..", "cli", "async-read", "wake.ts");

/** Mechanism rows by index, as wake.ts lists them (the rows a Uring change can break). */
const ROWS: Array<[number, string]> = [
  [0, "uring read (thread)"],
  [1, "uring read (stream)"],
  [2, "ring + Bun stream, no Uring"],
];

function child(index: number, writer: "timer" | "worker"): { name: string; samples: number[] } {
  const r = spawnSync(process.execPath, [WAKE, "--only", String(index), "--samples", "8", "--warmup", "4", "--writer", writer], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`wake.ts --only ${index} --writer ${writer}: status ${r.status} signal ${r.signal}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

describe("wake.ts", () => {
  for (const writer of ["timer", "worker"] as const) {
    for (const [index, name] of ROWS) {
      test(`${name}, writer ${writer}: every sample is timed`, () => {
        const out = child(index, writer);
        expect(out.name).toBe(name);
        expect(out.samples).toHaveLength(8);
        for (const us of out.samples) {
          expect(Number.isFinite(us)).toBe(true);
          expect(us).toBeGreaterThan(0);
        }
      }, 40_000);
    }
  }

  test("a bad --warmup is refused with the flag's name", () => {
    const r = spawnSync(process.execPath, [WAKE, "--only", "1", "--warmup", "-3"], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--warmup needs a positive integer");
  });
});
