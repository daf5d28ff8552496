/**
 * `read --rate`: open-loop reads hold the requested rate when the page cache
 * keeps up, every read is checked for length, and the fio-style split adds
 * up: lat (from the intended time) is never below clat or slat.
 */
import { expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { runReadOpenLoop } from "../cli/read/open-loop.ts";
import type { ReadConfig } from "../cli/read/options.ts";

test("open-loop page-cache reads: achieved rate within 1%, lat ≥ clat, no errors", () => {
  const cfg = { bs: 4096, qd: 8, pattern: "rand", direct: false, size: 8 << 20, keep: false, dir: tmpdir(), seed: 7 } as unknown as ReadConfig;
  const { rows } = runReadOpenLoop(cfg, [2000], "uniform", 1000);
  const r = rows[0]!;
  expect(r.errors).toBe(0);
  expect(r.unfinished).toBe(0);
  expect(Math.abs(r.achievedRate / 2000 - 1)).toBeLessThan(0.01);
  expect(r.lat.count).toBeGreaterThan(1900);
  expect(r.lat.p50).toBeGreaterThanOrEqual(r.clat.p50);
  expect(r.lat.p99).toBeGreaterThanOrEqual(r.clat.p99);
  expect(r.lat.max).toBeGreaterThanOrEqual(r.slat.max);
  // One enter per arrival at most (submit+wait combined), plus timer wake-ups: bounded, not per-CQE spinning.
  expect(r.entersPerRead).toBeLessThan(3);
}, 20_000);
