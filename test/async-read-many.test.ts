/**
 * uring.readMany: a batch of preads as one request (one Promise, one pending
 * slot). Content against readSync, in-place and bounce buffers, every
 * argument checked before anything is submitted, errors after the whole
 * batch completed, mixed success and failure, abort, close, and an opcode
 * the kernel lacks.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Uring, UringError, type DriverKind } from "../src/async/index.ts";
import { engineOf } from "../src/async/uring.ts";
import { ClosedError } from "../src/sys/closed.ts";
import { Op } from "../src/sys/constants.ts";
import { addressOf } from "../src/sys/ffi.ts";
import { openFifo, tempDirPerFile } from "./helpers.ts";

const tmp = tempDirPerFile();
const PAGE = 4096;
const PAGES = 64;

/** A file of PAGES pages plus 100 bytes; every byte a function of its offset. */
function patternFile(name: string): string {
  const data = new Uint8Array(PAGES * PAGE + 100);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >>> 12)) & 0xff;
  const path = join(tmp.dir, name);
  writeFileSync(path, data);
  return path;
}

/** What readSync reads at `offset` (up to `size` bytes), for comparison. */
function expected(fd: number, offset: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  const n = readSync(fd, b, 0, size, offset);
  return b.subarray(0, n);
}

const sab = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));

describe.each(["event-loop", "run"] as DriverKind[])("driver %s", (driver) => {
  for (const [name, make] of [
    ["a SharedArrayBuffer view (in place)", (n: number) => sab(n)],
    ["a JS-heap Uint8Array (bounce block)", (n: number) => new Uint8Array(n)],
    ["an odd-offset subarray", (n: number) => new Uint8Array(n + 24).subarray(8, 8 + n)],
    ["a DataView on a SharedArrayBuffer", (n: number) => new DataView(new SharedArrayBuffer(n + 16), 16, n)],
  ] as const) {
    test(`reads every page where asked, into ${name}`, async () => {
      const path = patternFile(`f-${driver}-${name.length}`);
      const fd = openSync(path, "r");
      const uring = new Uring({ driver });
      try {
        const offsets = [5 * PAGE, 0, 63 * PAGE, 17 * PAGE + 3, PAGES * PAGE, 1 << 30];
        const buf = make(offsets.length * PAGE);
        const res = await uring.readMany(fd, buf, offsets, PAGE);
        expect(res).toBeInstanceOf(Int32Array);
        // The last full page, a page straddling nothing, the 100-byte tail, past the end.
        expect([...res]).toEqual([PAGE, PAGE, PAGE, PAGE, 100, 0]);
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        for (let i = 0; i < offsets.length; i++) {
          const want = expected(fd, offsets[i]!, PAGE);
          expect(bytes.subarray(i * PAGE, i * PAGE + want.length)).toEqual(want);
        }
        expect(uring.pending).toBe(0);
      } finally {
        uring.close();
        closeSync(fd);
      }
    });
  }

  test("a batch larger than the SQ, and many batches at once", async () => {
    const path = patternFile(`many-${driver}`);
    const fd = openSync(path, "r");
    const uring = new Uring({ driver, entries: 8 });
    try {
      const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 64 }, (_, i) => ((b * 7 + i * 13) % PAGES) * PAGE));
      const bufs = batches.map((o) => sab(o.length * PAGE));
      const results = await Promise.all(batches.map((o, b) => uring.readMany(fd, bufs[b]!, o, PAGE)));
      for (let b = 0; b < batches.length; b++) {
        expect(results[b]!.every((n) => n === PAGE)).toBe(true);
        for (let i = 0; i < 64; i += 9) expect(bufs[b]!.subarray(i * PAGE, (i + 1) * PAGE)).toEqual(expected(fd, batches[b]![i]!, PAGE));
      }
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
      closeSync(fd);
    }
  });
});

describe("arguments are checked before anything is submitted", () => {
  const cases: Array<[string, (u: Uring, fd: number) => Promise<unknown>, typeof TypeError | typeof RangeError]> = [
    ["span past the buffer", (u, fd) => u.readMany(fd, sab(2 * PAGE), [0, PAGE, 2 * PAGE], PAGE), RangeError],
    ["span past a subarray (not its ArrayBuffer)", (u, fd) => u.readMany(fd, sab(4 * PAGE).subarray(0, PAGE), [0, PAGE], PAGE), RangeError],
    ["size 0", (u, fd) => u.readMany(fd, sab(PAGE), [0], 0), RangeError],
    ["size -1", (u, fd) => u.readMany(fd, sab(PAGE), [0], -1), RangeError],
    ["size 1.5", (u, fd) => u.readMany(fd, sab(PAGE), [0], 1.5), RangeError],
    ["size NaN", (u, fd) => u.readMany(fd, sab(PAGE), [0], Number.NaN), RangeError],
    ["size 2^32 + 1 (wraps to 1 as a u32)", (u, fd) => u.readMany(fd, sab(PAGE), [0], 2 ** 32 + 1), RangeError],
    ["offset -1", (u, fd) => u.readMany(fd, sab(PAGE), [-1], PAGE), RangeError],
    ["offset 1.5", (u, fd) => u.readMany(fd, sab(PAGE), [1.5], PAGE), RangeError],
    ["offset 2^53", (u, fd) => u.readMany(fd, sab(PAGE), [2 ** 53], PAGE), RangeError],
    ["offset as a string", (u, fd) => u.readMany(fd, sab(PAGE), ["0" as unknown as number], PAGE), RangeError],
    ["a hole in the offsets", (u, fd) => u.readMany(fd, sab(2 * PAGE), [0, , PAGE] as number[], 1), RangeError],
    ["257 offsets", (u, fd) => u.readMany(fd, sab(257), new Array(257).fill(0), 1), RangeError],
    ["offsets not an array", (u, fd) => u.readMany(fd, sab(PAGE), 4096 as unknown as number[], 1), TypeError],
    ["offsets a string", (u, fd) => u.readMany(fd, sab(PAGE), "0000" as unknown as number[], 1), TypeError],
    ["offsets null", (u, fd) => u.readMany(fd, sab(PAGE), null as unknown as number[], 1), TypeError],
    ["buffer not a view", (u, fd) => u.readMany(fd, new SharedArrayBuffer(PAGE) as unknown as Uint8Array, [0], 1), TypeError],
    [
      "a detached buffer",
      (u, fd) => {
        const b = new Uint8Array(PAGE);
        b.buffer.transfer();
        return u.readMany(fd, b, [0], 1);
      },
      TypeError,
    ],
    ["signal not an AbortSignal", (u, fd) => u.readMany(fd, sab(PAGE), [0], 1, { signal: {} as AbortSignal }), TypeError],
  ];
  test.each(cases)("%s", async (_name, call, kind) => {
    const fd = openSync(patternFile("args"), "r");
    const uring = new Uring();
    try {
      const enters = uring.ring.enterCount;
      const err = await call(uring, fd).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(kind);
      expect((err as Error).message).toContain("readMany");
      expect(uring.ring.sqReady()).toBe(0);
      expect(uring.ring.enterCount).toBe(enters);
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
      closeSync(fd);
    }
  });

  test("no offsets: resolves to no results, submits nothing", async () => {
    const uring = new Uring();
    try {
      const res = await uring.readMany(0, sab(0), [], PAGE);
      expect(res.length).toBe(0);
      expect(uring.ring.sqReady()).toBe(0);
    } finally {
      uring.close();
    }
  });

  test("a TypedArray of offsets works like an array", async () => {
    const fd = openSync(patternFile("typed"), "r");
    const uring = new Uring();
    try {
      const buf = sab(2 * PAGE);
      expect([...(await uring.readMany(fd, buf, new Float64Array([PAGE, 0]), PAGE))]).toEqual([PAGE, PAGE]);
      expect(buf.subarray(0, PAGE)).toEqual(expected(fd, PAGE, PAGE));
    } finally {
      uring.close();
      closeSync(fd);
    }
  });
});

describe("errors", () => {
  test("a bad fd rejects with the first read's UringError", async () => {
    const uring = new Uring();
    try {
      const err = (await uring.readMany(1 << 20, new Uint8Array(2 * PAGE), [0, PAGE], PAGE).catch((e: unknown) => e)) as UringError;
      expect(err).toBeInstanceOf(UringError);
      expect(err.code).toBe("EBADF");
      expect(err.op).toBe("READ");
      expect(err.message).toContain("read 0 of 2");
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
    }
  });

  test("after close() it throws ClosedError", () => {
    const uring = new Uring();
    uring.close();
    expect(() => uring.readMany(0, sab(PAGE), [0], PAGE)).toThrow(ClosedError);
  });

  test("an opcode the kernel lacks rejects without submitting", async () => {
    const uring = new Uring();
    try {
      // Pretend the probe said no (internals, reachable only through engineOf).
      (engineOf(uring) as unknown as { supported: Uint8Array }).supported[Op.READ] = 0;
      const err = (await uring.readMany(0, sab(PAGE), [0], PAGE).catch((e: unknown) => e)) as UringError;
      expect(err.code).toBe("EOPNOTSUPP");
      expect(uring.ring.sqReady()).toBe(0);
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
    }
  });

  test("mixed success and failure: rejects only once every read is done, the good reads' bytes delivered", async () => {
    // A FIFO: read 0 completes when bytes are written, read 1 waits until the abort cancels it.
    const fifo = openFifo(tmp.dir);
    const uring = new Uring();
    try {
      const ac = new AbortController();
      const buf = new Uint8Array(2 * 16); // JS heap: through a bounce block
      let settled = false;
      const p = uring.readMany(fifo.fd, buf, [0, 0], 16, { signal: ac.signal }).finally(() => {
        settled = true;
      });
      await Bun.sleep(20);
      writeSync(fifo.fd, new Uint8Array(16).fill(7));
      await Bun.sleep(20);
      // One read is done, one still in flight: the batch has not settled.
      expect(settled).toBe(false);
      expect(uring.pending).toBe(1);
      ac.abort(new Error("enough"));
      const err = (await p.catch((e: unknown) => e)) as UringError;
      expect(err).toBeInstanceOf(UringError);
      expect(err.code).toBe("ECANCELED");
      expect((err.cause as Error).message).toBe("enough");
      // Whichever read took the 16 bytes, they were copied out to its place.
      const filled = buf.subarray(0, 16).every((b) => b === 7) || buf.subarray(16).every((b) => b === 7);
      expect(filled).toBe(true);
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
      fifo.close();
    }
  });

  test("an O_DIRECT batch with a misaligned member: the others succeed, the batch rejects with EINVAL", async () => {
    const dir = mkdtempSync(join("/var/tmp", "uring-many-"));
    try {
      const path = join(dir, "data");
      writeFileSync(path, new Uint8Array(4 * PAGE).fill(3));
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDONLY | constants.O_DIRECT);
      } catch {
        return; // no O_DIRECT on this filesystem
      }
      const uring = new Uring();
      try {
        // Page-aligned shared memory, used in place.
        const raw = sab(4 * PAGE);
        const skew = addressOf(raw) % PAGE;
        const buf = raw.subarray(skew === 0 ? 0 : PAGE - skew, (skew === 0 ? 0 : PAGE - skew) + 3 * PAGE);
        const err = (await uring.readMany(fd, buf, [0, 1, 2 * PAGE], PAGE).catch((e: unknown) => e)) as UringError;
        expect(err).toBeInstanceOf(UringError);
        expect(err.code).toBe("EINVAL");
        expect(err.message).toContain("read 1 of 3");
        // The aligned members still landed.
        expect(buf.subarray(0, PAGE).every((b) => b === 3)).toBe(true);
        expect(buf.subarray(2 * PAGE).every((b) => b === 3)).toBe(true);
        expect(uring.pending).toBe(0);
      } finally {
        uring.close();
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("close() with a batch in flight rejects it with ECANCELED", async () => {
    const fifo = openFifo(tmp.dir);
    const uring = new Uring();
    try {
      const p = uring.readMany(fifo.fd, sab(32), [0, 0], 16).catch((e: unknown) => e);
      await Bun.sleep(10);
      uring.close();
      const err = (await p) as UringError;
      expect(err).toBeInstanceOf(UringError);
      expect(err.code).toBe("ECANCELED");
    } finally {
      uring.close();
      fifo.close();
    }
  });

  test("a JS-heap buffer detached while the batch is in flight: no write into it, the batch still completes", async () => {
    const fifo = openFifo(tmp.dir);
    const uring = new Uring();
    try {
      const buf = new Uint8Array(16);
      const p = uring.readMany(fifo.fd, buf, [0], 16);
      await Bun.sleep(10);
      const moved = buf.buffer.transfer();
      writeSync(fifo.fd, new Uint8Array(16).fill(9));
      expect([...(await p)]).toEqual([16]);
      expect(new Uint8Array(moved).every((b) => b === 0)).toBe(true);
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
      fifo.close();
    }
  });
});
