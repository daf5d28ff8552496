/** The echo benchmark's plan and bookkeeping: the seed grid, row labels, client-bound marking. */
import { expect, test } from "bun:test";
import { cellLabel, markClientBound, matrixCells, toMeasurement } from "../cli/echo/variants.ts";
import { summarize } from "../cli/harness/runner.ts";
import type { LoadResult } from "../cli/echo/load.ts";

test("--matrix is the seed grid, in the seed's row order", () => {
  const labels = matrixCells().map(cellLabel);
  expect(labels).toEqual([
    "c:300 bytes:128",
    "c:500 bytes:128",
    "c:1000 bytes:128",
    "c:2000 bytes:128",
    "c:300 bytes:512",
    "c:500 bytes:512",
    "c:1000 bytes:512",
    "c:2000 bytes:512",
    "c:300 bytes:1000",
    "c:500 bytes:1000",
    "c:1000 bytes:1000",
    "c:2000 bytes:1000",
  ]);
});

const base: LoadResult = {
  roundTrips: 100_000,
  seconds: 2,
  bytes: 51_200_000,
  latencyUs: { p50: 10, p99: 20, p999: 30, mean: 11 },
  clientCpu: 0.5,
  serverCpu: 0.8,
  errors: 0,
  errorKinds: { length: 0, content: 0, reset: 0, eof: 0, send: 0 },
  connectionsAlive: 1000,
  entersPerRoundTrip: 0.05,
  notes: [],
};

test("a row whose load generator was over 90% busy (median) is marked client-bound, once", () => {
  const busy = summarize(
    "uring",
    "c:1000 bytes:512",
    [0.95, 0.97, 0.5].map((c) => toMeasurement({ ...base, clientCpu: c })),
  );
  const idle = summarize(
    "bun",
    "c:1000 bytes:512",
    [0.95, 0.5, 0.6].map((c) => toMeasurement({ ...base, clientCpu: c })),
  );
  markClientBound([busy, idle]);
  expect(busy.notes).toEqual(["client-bound (load generator 95% busy): a lower bound"]);
  expect(idle.notes).toBeUndefined();
});

test("CPU per round trip on each side", () => {
  const m = toMeasurement(base);
  expect(m.ops).toBe(100_000);
  expect(m.extra!.serverUsPerRoundTrip).toBeCloseTo(16, 6); // 0.8 core × 2 s / 100k
  expect(m.extra!.clientUsPerRoundTrip).toBeCloseTo(10, 6);
  expect(m.cpu).toEqual({ server: 0.8, client: 0.5 });
});

test("an unknown server CPU (null from JSON) is left out, not shown as 0", () => {
  const m = toMeasurement({ ...base, serverCpu: null as unknown as number });
  expect(m.cpu).toEqual({ client: 0.5 });
});
