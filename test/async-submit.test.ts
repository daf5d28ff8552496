/**
 * UringOptions.submit: "microtask" (default) submits a tick's requests right
 * after the code that made them; "immediate" at the end of the event-loop
 * turn, so requests made by different callbacks of one turn share an enter.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Uring, UringError } from "../src/async/index.ts";
import { openFifo, tempDirPerFile } from "./helpers.ts";

const tmp = tempDirPerFile();

function dataFile(): string {
  const path = join(tmp.dir, "data");
  writeFileSync(
    path,
    new Uint8Array(8192).map((_, i) => i & 0xff),
  );
  return path;
}

/** Two callbacks of the same turn (setImmediate A, setImmediate B), each reading once; how many enters it took. */
async function twoCallbacks(uring: Uring, fd: number): Promise<{ enters: number; bytes: number[] }> {
  const enters0 = uring.ring.enterCount;
  const reads: Promise<number>[] = [];
  const a = new Uint8Array(16);
  const b = new Uint8Array(new SharedArrayBuffer(16));
  await new Promise<void>((resolve) => {
    setImmediate(() => reads.push(uring.read(fd, a, 100)));
    setImmediate(() => {
      reads.push(uring.read(fd, b, 200));
      resolve();
    });
  });
  const bytes = await Promise.all(reads);
  expect(a[0]).toBe(100);
  expect(b[0]).toBe(200);
  return { enters: uring.ring.enterCount - enters0, bytes };
}

describe("submit option", () => {
  test("anything but microtask or immediate throws TypeError", () => {
    for (const bad of ["later", 1, "Immediate"]) expect(() => new Uring({ submit: bad as "microtask" })).toThrow(TypeError);
  });

  test('"immediate": requests of two callbacks in one turn share one io_uring_enter; "microtask": one each', async () => {
    const fd = openSync(dataFile(), "r");
    const imm = new Uring({ submit: "immediate" });
    const micro = new Uring();
    try {
      const i = await twoCallbacks(imm, fd);
      const m = await twoCallbacks(micro, fd);
      expect(i.bytes).toEqual([16, 16]);
      expect(m.bytes).toEqual([16, 16]);
      expect(i.enters).toBe(1);
      expect(m.enters).toBe(2);
    } finally {
      imm.close();
      micro.close();
      closeSync(fd);
    }
  });

  test('"immediate": readMany, errors and close() with requests not yet submitted', async () => {
    const fd = openSync(dataFile(), "r");
    const fifo = openFifo(tmp.dir);
    const uring = new Uring({ submit: "immediate" });
    try {
      const buf = new Uint8Array(new SharedArrayBuffer(4 * 16));
      expect([...(await uring.readMany(fd, buf, [0, 16, 8190, 9000], 16))]).toEqual([16, 16, 2, 0]);
      expect(buf[16]).toBe(16);
      const bad = (await uring.read(1 << 20, new Uint8Array(1), 0).catch((e: unknown) => e)) as UringError;
      expect(bad.code).toBe("EBADF");
      // Queued, not submitted yet (the turn has not ended), then a FIFO read that would wait: close() settles both.
      const queued = uring.read(fd, new Uint8Array(16), 0).catch((e: unknown) => e);
      const waiting = uring.read(fifo.fd, new Uint8Array(16), 0).catch((e: unknown) => e);
      uring.close();
      const q = await queued;
      expect(q === 16 || (q instanceof UringError && q.code === "ECANCELED")).toBe(true);
      expect(((await waiting) as UringError).code).toBe("ECANCELED");
    } finally {
      uring.close();
      fifo.close();
      closeSync(fd);
    }
  });
});
