/**
 * The pattern and its check: every read is compared with what was written at
 * its offset, so a corrupted block, a block from the wrong place or a short
 * read is an error (VerifyError), never a number. Short reads at end of file
 * return what is there and check only that.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { checkPattern, PATTERN_MAGIC, stampPattern, VerifyError, verifyRead } from "../cli/read/pattern.ts";
import { PreadReader } from "../cli/read/sync.ts";
import { FsPromisesReader } from "../cli/read/nodefs.ts";
import { UringReader } from "../cli/read/uring.ts";
import { URING_FEATURES } from "../cli/read/variants.ts";
import { fileHasPattern } from "../cli/read/target.ts";
import { haveCLoop, runCLoop } from "../cli/read/clib.ts";
import { findDirectDir, patternFile, readTempDir, workload } from "./read-helpers.ts";

const directDir = findDirectDir();

describe("pattern", () => {
  test("each 8-byte word holds its offset, high word XOR magic", () => {
    const w = new Uint32Array(8);
    stampPattern(w, 4096);
    expect([...w]).toEqual([4096, PATTERN_MAGIC, 4104, PATTERN_MAGIC, 4112, PATTERN_MAGIC, 4120, PATTERN_MAGIC]);
  });

  test("offsets past 4 GiB carry into the high word", () => {
    const w = new Uint32Array(4);
    const off = 2 ** 32 - 8;
    stampPattern(w, off);
    expect([...w]).toEqual([0xfffffff8, PATTERN_MAGIC, 0, (1 ^ PATTERN_MAGIC) >>> 0]);
    expect(checkPattern(w, 0, off, 16, true)).toBe(-1);
    expect(checkPattern(w, 0, off, 16, false)).toBe(-1);
  });

  test("a zeroed buffer never matches, not even at offset 0", () => {
    expect(checkPattern(new Uint32Array(1024), 0, 0, 4096, false)).toBe(0);
  });

  test("a block from the wrong offset is caught by every mode", () => {
    const w = new Uint32Array(1024);
    stampPattern(w, 8192);
    for (const mode of ["all", "full", "sample"] as const) {
      expect(() => verifyRead(mode, w, 0, 4096, 4096, 4096, 0)).toThrow(VerifyError);
    }
    expect(() => verifyRead("length", w, 0, 4096, 4096, 4096, 0)).not.toThrow();
  });

  test("one wrong word inside a sector: full catches it, all checks each sector's first word and the read's end", () => {
    const w = new Uint32Array(1024);
    stampPattern(w, 0);
    w[200] = 0xdeadbeef; // byte 800: inside the second sector
    expect(checkPattern(w, 0, 0, 4096, true)).toBe(800);
    expect(checkPattern(w, 0, 0, 4096, false)).toBe(-1);
    expect(() => verifyRead("full", w, 0, 0, 4096, 4096, 0)).toThrow(/wrong bytes.*offset 800/);
    w[200] = 800;
    w[128] = 0; // first word of the second sector (byte 512)
    expect(checkPattern(w, 0, 0, 4096, false)).toBe(512);
    w[128] = 512;
    w[1023] = 0; // high half of the read's last word (byte 4088)
    expect(checkPattern(w, 0, 0, 4096, false)).toBe(4088);
  });

  test("a short read is an error unless it is the end of the file", () => {
    const w = new Uint32Array(1024);
    stampPattern(w, 0);
    expect(() => verifyRead("all", w, 0, 0, 2048, 4096, 0)).toThrow(/short read: 2048 of 4096/);
    expect(() => verifyRead("all", w, 0, 0, 2048, 2048, 0)).not.toThrow();
  });

  test("sample mode checks one read in 64", () => {
    const w = new Uint32Array(1024); // all zero: wrong
    expect(() => verifyRead("sample", w, 0, 0, 4096, 4096, 1)).not.toThrow();
    expect(() => verifyRead("sample", w, 0, 0, 4096, 4096, 64)).toThrow(VerifyError);
  });
});

describe("on files", () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(() => {
    tmp = readTempDir();
  });
  afterAll(() => tmp.cleanup());

  /** A 64 KiB pattern file with block 5 overwritten by block 9's content (a misplaced block). */
  function corruptedFile(): string {
    const p = patternFile(tmp.dir, "corrupt", 64 << 10);
    const block = new Uint32Array(1024);
    stampPattern(block, 9 * 4096);
    const fd = openSync(p, constants.O_WRONLY);
    writeSync(fd, new Uint8Array(block.buffer), 0, 4096, 5 * 4096);
    closeSync(fd);
    return p;
  }

  for (const direct of [false, true]) {
    for (const name of ["uring", "uring-fixed"] as const) {
      test.skipIf(direct && directDir === null)(`${name}${direct ? " direct" : ""}: a corrupted block fails the run`, () => {
        const p = corruptedFile();
        const r = new UringReader({ ...workload(p, 64 << 10, { direct, verify: "all" }), ...URING_FEATURES[name]! });
        try {
          expect(r.readAt([0, 4096, 8192])).toEqual([4096, 4096, 4096]);
          expect(() => r.readAt([4 * 4096, 5 * 4096, 6 * 4096])).toThrow(/wrong bytes: the read of 4096 bytes at offset 20480/);
          // A random run over the whole file hits block 5 too.
          expect(() => r.run(5000, 5000)).toThrow(VerifyError);
        } finally {
          r.close();
        }
      });
    }
  }

  test("pread and node:fs/promises loops fail on the corrupted block", async () => {
    const p = corruptedFile();
    const w = workload(p, 64 << 10, { pattern: "seq", maxOps: 16 });
    const pr = new PreadReader(w);
    try {
      expect(() => pr.run(5000, null)).toThrow(VerifyError);
    } finally {
      pr.close();
    }
    const fr = new FsPromisesReader(w);
    await fr.open();
    try {
      await expect(fr.run(5000, null)).rejects.toThrow(VerifyError);
    } finally {
      await fr.close();
    }
  });

  test.skipIf(!haveCLoop())("the C loop fails on the corrupted block", async () => {
    const p = corruptedFile();
    await expect(runCLoop(workload(p, 64 << 10, { pattern: "seq", maxOps: 16 }), false, 5000, 0)).rejects.toThrow(/wrong bytes at offset 20480/);
  });

  test("a file without the pattern is recognised as such", () => {
    const p = patternFile(tmp.dir, "good", 64 << 10);
    const fd = openSync(p, constants.O_RDONLY);
    expect(fileHasPattern(fd, 64 << 10)).toBe(true);
    closeSync(fd);
    const q = corruptedFile();
    const fd2 = openSync(q, constants.O_RDWR);
    writeSync(fd2, new Uint8Array(16), 0, 16, 0);
    expect(fileHasPattern(fd2, 64 << 10)).toBe(false);
    closeSync(fd2);
  });

  for (const direct of [false, true]) {
    test.skipIf(direct && directDir === null)(`short reads at end of file${direct ? " (O_DIRECT)" : ""} return what is there and are checked`, () => {
      // 10 KiB + 8: the last 4 KiB block holds 2056 bytes (and O_DIRECT reads of it still end at EOF).
      const size = 10 * 1024 + 8;
      const p = patternFile(tmp.dir, `eof-${direct}`, size);
      for (const name of ["uring", "uring-fixed"] as const) {
        const r = new UringReader({ ...workload(p, size, { direct, verify: "full", qd: 4, entries: 4, batch: 1 }), ...URING_FEATURES[name]! });
        try {
          expect(r.readAt([0, 4096, 8192])).toEqual([4096, 4096, size - 8192]);
          // A read at the end of the file returns 0 bytes.
          expect(r.readAt([12288])).toEqual([0]);
        } finally {
          r.close();
        }
      }
    });
  }
});
