/**
 * Every read variant returns the right bytes: io_uring (plain, fixed buffers,
 * registered file, both, SQPOLL) buffered and O_DIRECT, and the baselines,
 * each checking every 8-byte word against the pattern.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { haveCLoop, runCLoop } from "../cli/read/clib.ts";
import { BunFileReader } from "../cli/read/bunfile.ts";
import { findNode, runNode } from "../cli/read/node.ts";
import { FsPromisesReader } from "../cli/read/nodefs.ts";
import { PreadReader } from "../cli/read/sync.ts";
import { UringReader } from "../cli/read/uring.ts";
import { URING_FEATURES } from "../cli/read/variants.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { LatencyRecorder } from "../cli/harness/latency.ts";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import { expectNoNewFds, openFds } from "./helpers.ts";
import { findDirectDir, patternFile, readTempDir, workload } from "./read-helpers.ts";

const SIZE = 1 << 20; // 256 blocks of 4 KiB
const directDir = findDirectDir();
let tmp: { dir: string; cleanup: () => void };
let path = "";

beforeAll(() => {
  tmp = readTempDir();
  path = patternFile(tmp.dir, "data", SIZE);
});
afterAll(() => tmp.cleanup());

const uringVariants = Object.entries(URING_FEATURES).filter(([, f]) => !f.iopoll);
const sqpollOk = kernelHasSetupFlag(SetupFlags.SQPOLL);

describe.each([
  ["buffered", false],
  ["direct", true],
] as const)("io_uring %s", (_mode, direct) => {
  for (const [name, feat] of uringVariants) {
    test.skipIf((direct && directDir === null) || (feat.sqpoll && !sqpollOk))(`${name}: every block read back exactly`, async () => {
      const fds = openFds();
      const live = AlignedBuffer.live;
      const r = new UringReader({ ...workload(path, SIZE, { direct, qd: 16, entries: 16, batch: 4 }), ...feat });
      try {
        // Every block once, in order, 16 in flight: each read is checked word by word.
        const offsets = Array.from({ length: SIZE / 4096 }, (_, i) => i * 4096);
        const res = r.readAt(offsets);
        expect(res.every((n) => n === 4096)).toBe(true);
        // And a short timed random run with latency recorded.
        const lat = new LatencyRecorder();
        const run = r.run(50, 2000, lat);
        expect(run.ops).toBeGreaterThan(0);
        expect(run.bytes).toBe(run.ops * 4096);
        expect(lat.count).toBe(run.ops);
      } finally {
        r.close();
      }
      await expectNoNewFds(fds);
      expect(AlignedBuffer.live).toBe(live);
    });
  }
});

test("io_uring sequential reads wrap around the file", () => {
  const r = new UringReader({ ...workload(path, SIZE, { pattern: "seq" }), ...URING_FEATURES.uring! });
  try {
    const run = r.run(10_000, 600); // more reads than blocks: wraps
    expect(run.ops).toBe(600);
  } finally {
    r.close();
  }
});

test("io_uring with larger blocks (128 KiB, qd 4)", () => {
  const r = new UringReader({ ...workload(path, SIZE, { bs: 128 << 10, qd: 4, entries: 4, batch: 1 }), ...URING_FEATURES["uring-fixed"]! });
  try {
    expect(r.readAt([0, 128 << 10, 7 * (128 << 10)])).toEqual([131072, 131072, 131072]);
  } finally {
    r.close();
  }
});

describe.each([
  ["buffered", false],
  ["direct", true],
] as const)("io_uring %s, submission and buffer options", (_mode, direct) => {
  test.skipIf(direct && directDir === null)("each read submitted alone (--submit 1), and buffers in small pages, read back exactly", () => {
    for (const over of [{ submit: 1 }, { submit: 5, hugePages: false }]) {
      const r = new UringReader({ ...workload(path, SIZE, { direct, qd: 16, entries: 16, batch: 1, ...over }), ...URING_FEATURES.uring! });
      try {
        const offsets = Array.from({ length: SIZE / 4096 }, (_, i) => i * 4096);
        expect(r.readAt(offsets).every((n) => n === 4096)).toBe(true);
        // One enter per read at most for the refills, plus the waits: more enters than reads/16.
        const run = r.run(10_000, 500); // bounded by the op count; the time is only a cap
        expect(run.ops).toBe(500);
        if (over.submit === 1) expect(run.enters).toBeGreaterThanOrEqual(run.ops);
      } finally {
        r.close();
      }
    }
  });
});

describe.each([
  ["buffered", false],
  ["direct", true],
] as const)("baselines %s", (_mode, direct) => {
  const skip = direct && directDir === null;
  const w = () => workload(path, SIZE, { direct, maxOps: 300 });

  test.skipIf(skip)("pread loop", () => {
    const r = new PreadReader(w());
    try {
      const res = r.run(10_000, null);
      expect(res.ops).toBe(300);
      expect(res.bytes).toBe(300 * 4096);
    } finally {
      r.close();
    }
  });

  test.skipIf(skip)("node:fs/promises in Bun", async () => {
    const r = new FsPromisesReader(w());
    await r.open();
    try {
      const res = await r.run(10_000, null);
      expect(res.ops).toBe(300);
    } finally {
      await r.close();
    }
  });

  test.skipIf(skip)("Bun.file", async () => {
    const res = await new BunFileReader(w()).run(10_000, null);
    expect(res.ops).toBe(300);
  });

  test.skipIf(skip || findNode() === null)("node (child process)", async () => {
    const res = await runNode(findNode()!, w(), 10_000, 0);
    expect(res.ops).toBe(300);
    expect(res.bytes).toBe(300 * 4096);
  });

  test.skipIf(skip || !haveCLoop())("liburing C loop", async () => {
    for (const fixed of [false, true]) {
      const res = await runCLoop(w(), fixed, 10_000, 0);
      expect(res.ops).toBe(300);
    }
  });

  test.skipIf(skip || !haveCLoop())("liburing C loop: each read submitted alone, buffers in small pages", async () => {
    for (const over of [{ submit: 1 }, { submit: 3, hugePages: false }]) {
      const res = await runCLoop({ ...w(), ...over }, false, 10_000, 0);
      expect(res.ops).toBe(300);
    }
  });
});
