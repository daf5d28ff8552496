/**
 * A short fuzz run (test/fuzz/run.ts; `bun run fuzz` for the long one):
 * random public calls with hostile arguments on Ring, Uring, TcpServer and
 * the src/mem objects, in child processes with canaries around every buffer.
 * No child may die by a signal, hang past its deadline or see a canary change.
 */
import { expect, test } from "bun:test";
import { freePort } from "../cli/echo/processes.ts";
import { generate, membersOf, TARGETS } from "./fuzz/gen.ts";
import { fuzz } from "./fuzz/run.ts";

test("the generator is deterministic and reaches every target", () => {
  expect(generate(42, 200)).toEqual(generate(42, 200));
  const targets = new Set(generate(42, 200).map((c) => c.target));
  expect(targets.size).toBe(TARGETS.length);
  for (const t of TARGETS) expect(membersOf(t).length).toBeGreaterThan(0);
});

test("4 children × 400 random calls: no crash, no hang, no canary change", async () => {
  const ports = [await freePort("127.0.0.1"), await freePort("127.0.0.1")];
  const r = await fuzz({
    calls: 1600,
    perChild: 400,
    jobs: 2,
    seed: Date.now() % 1e9,
    deadlineMs: 60_000,
    ports,
    shrinkMs: 30_000,
    log: (l) => console.log(l),
  });
  expect(r.failures.map((f) => `seed ${f.seed}: ${f.outcome.kind} ${JSON.stringify(f.calls)}`)).toEqual([]);
  expect(r.calls).toBe(1600);
}, 180_000);
