/** close() releases the fd and every mapping; a closed ring fails loudly instead of crashing. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { ClosedError } from "../src/sys/closed.ts";
import { countFds, expectNoNewFds, openFds } from "./helpers.ts";

function countMappings(): number {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((l) => l.includes("io_uring") || l.includes("anon_inode:[io_uring]")).length;
}

test("100 rings opened and closed leak no fd and no mapping", async () => {
  const fdsBefore = openFds();
  const mapsBefore = countMappings();
  for (let i = 0; i < 100; i++) {
    const ring = new Ring(64, i % 2 === 0 ? {} : { noMmap: true });
    const sqe = ring.getSqe()!;
    prepNop(sqe);
    ring.submitAndWait(1);
    ring.close();
    ring.close(); // idempotent
  }
  await expectNoNewFds(fdsBefore);
  expect(countMappings()).toBe(mapsBefore);
});

test("the ring fd and its mappings are visible while open", () => {
  const mapsBefore = countMappings();
  const ring = new Ring(8, { noSqArray: false, registerRingFd: false });
  expect(countMappings()).toBeGreaterThan(mapsBefore);
  ring.close();
  expect(countMappings()).toBe(mapsBefore);
});

test("using a closed ring throws instead of touching unmapped memory", () => {
  const ring = new Ring(4);
  ring.close();
  expect(ring.isClosed).toBe(true);
  expect(() => ring.getSqe()).toThrow(/closed/);
  expect(() => ring.peekCqe()).toThrow(/closed/);
  expect(() => ring.waitCqe()).toThrow(/closed/);
  expect(() => ring.submit()).toThrow(ClosedError); // one rule: src/sys/closed.ts (test/safety-closed.test.ts covers every method)
});

test("Symbol.dispose closes the ring", () => {
  const before = countFds();
  {
    using ring = new Ring(4);
    expect(countFds()).toBe(before + 1);
    void ring;
  }
  expect(countFds()).toBe(before);
});
