/**
 * `uring-bench lookup`: the checksum the client expects matches what every
 * server variant reads; bad queries get 400/404; the load generator checks
 * answers; stopping a server leaves no process behind.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { liveChildren, stopChild } from "../cli/harness/children.ts";
import { runLoad } from "../cli/lookup/load.ts";
import { BadQuery, expectedSum, MAX_KEYS, PAGE, parsePages, sumPages } from "../cli/lookup/pages.ts";
import { startLookupServer, type LookupServer } from "../cli/lookup/processes.ts";
import { ALL_VARIANT_NAMES } from "../cli/lookup/readers.ts";
import { stampPattern } from "../cli/read/pattern.ts";
import { generateFile, isMemoryFs } from "../cli/read/target.ts";
import { tempDirPerFile } from "./helpers.ts";

const tmp = tempDirPerFile();
/** Per test and hook: starting Bun servers on a loaded 2-CPU machine can take seconds (not a timing assertion, a bound). */
const SLOW_MS = 60_000;
setDefaultTimeout(SLOW_MS);
/** 4 MiB: 1024 pages, enough for random keys, quick to write. */
const FILE_SIZE = 4 << 20;
const PAGES = FILE_SIZE / PAGE;
let path = "";

beforeAll(() => {
  path = generateFile(tmp.dir, FILE_SIZE);
});
afterAll(() => rmSync(path, { force: true }));

describe("pages", () => {
  test("expectedSum equals the sum of the stamped words, also past 4 GiB", () => {
    const words = new Uint32Array(PAGE / 4);
    for (const page of [0, 1, 77, 2 ** 20 + 3, 2 ** 28 - 1]) {
      stampPattern(words, page * PAGE);
      expect(sumPages(new Uint8Array(words.buffer), 1)).toBe(expectedSum([page]));
    }
  });

  test("parsePages takes decimal lists and refuses everything else", () => {
    expect(parsePages("http://h/lookup?pages=1,2,30", 100, [])).toEqual([1, 2, 30]);
    for (const bad of [
      "http://h/lookup",
      "http://h/lookup?pages=",
      "http://h/lookup?pages=1,,2",
      "http://h/lookup?pages=1,a",
      "http://h/lookup?pages=-1",
      "http://h/lookup?pages=100",
    ]) {
      expect(() => parsePages(bad, 100, [])).toThrow(BadQuery);
    }
    const many = Array.from({ length: MAX_KEYS + 1 }, (_, i) => i).join(",");
    expect(() => parsePages(`http://h/lookup?pages=${many}`, 1000, [])).toThrow(/at most/);
  });
});

describe.each([...ALL_VARIANT_NAMES])("server %s", (variant) => {
  let server: LookupServer;
  const url = (q: string) => `http://127.0.0.1:${server.port}${q}`;
  beforeAll(async () => {
    server = await startLookupServer({ variant, path, direct: false, host: "127.0.0.1" });
  }, SLOW_MS);
  afterAll(async () => {
    if (server !== undefined) await stopChild(server.child);
  }, SLOW_MS);

  test("answers the checksum of the pages asked for", async () => {
    for (const pages of [[0], [5, 1023, 17], Array.from({ length: 8 }, (_, i) => i * 100)]) {
      const r = await fetch(url(`/lookup?pages=${pages.join(",")}`));
      expect(r.status).toBe(200);
      expect(Number(await r.text())).toBe(expectedSum(pages));
    }
  });

  test("refuses bad queries with 400 and unknown paths with 404", async () => {
    for (const q of ["/lookup", "/lookup?pages=x", `/lookup?pages=${PAGES}`]) {
      const r = await fetch(url(q));
      expect(r.status).toBe(400);
      expect(await r.text()).not.toBe("");
    }
    expect((await fetch(url("/nope"))).status).toBe(404);
  });

  test("the load generator checks every answer and finds no error", async () => {
    const r = await runLoad({ host: "127.0.0.1", port: server.port, connections: 4, keys: 4, pageCount: PAGES, durationMs: 200, warmupMs: 50 });
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(0);
    if (variant.startsWith("uring")) expect(r.enters).toBeGreaterThan(0);
  });
});

test("open loop (--rate): answers checked, latency corrected from the intended send times", async () => {
  const server = await startLookupServer({ variant: "uring", path, direct: false, host: "127.0.0.1" });
  try {
    const r = await runLoad({ host: "127.0.0.1", port: server.port, connections: 4, keys: 2, pageCount: PAGES, durationMs: 300, warmupMs: 50, rate: 200 });
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(0);
    expect(r.uncorrectedP99Us).toBeGreaterThan(0);
    expect(r.sendLagP99Us).toBeDefined();
    // Corrected latency counts from the intended time, never after the actual send.
    expect(r.latencyUs.p99).toBeGreaterThanOrEqual(r.uncorrectedP99Us! * 0.99);
  } finally {
    await stopChild(server.child);
  }
});

test("the load generator counts wrong answers (pages past a smaller server file are refused)", async () => {
  const server = await startLookupServer({ variant: "sync-pread", path, direct: false, host: "127.0.0.1" });
  try {
    // Asking for pages the file does not have: every answer is a 400, each one counted.
    const r = await runLoad({ host: "127.0.0.1", port: server.port, connections: 2, keys: 1, pageCount: PAGES * 4, durationMs: 200, warmupMs: 20 });
    expect(r.errors).toBeGreaterThan(0);
  } finally {
    await stopChild(server.child);
  }
});

test.skipIf(isMemoryFs(tmpdir()))("O_DIRECT: every reading variant but bun-file answers the right checksum", async () => {
  for (const variant of ["uring", "uring-batch", "uring-batch-imm", "uring-stream", "fs-promises", "sync-pread"] as const) {
    const server = await startLookupServer({ variant, path, direct: true, host: "127.0.0.1" });
    try {
      const pages = [3, 1000, 42];
      const r = await fetch(`http://127.0.0.1:${server.port}/lookup?pages=${pages.join(",")}`);
      expect(`${variant} ${r.status} ${(await r.text()).trim()}`).toBe(`${variant} 200 ${expectedSum(pages)}`);
    } finally {
      await stopChild(server.child);
    }
  }
});

test("SIGTERM stops a server cleanly and leaves no child", async () => {
  const server = await startLookupServer({ variant: "uring", path, direct: false, host: "127.0.0.1" });
  const r = await fetch(`http://127.0.0.1:${server.port}/lookup?pages=1`);
  expect(r.status).toBe(200);
  server.child.kill("SIGTERM");
  expect(await server.child.exited).toBe(0);
  expect(liveChildren()).toBe(0);
});
