/**
 * SPLICE, TEE and PIPE, in the spirit of liburing's splice.c, pipe.c and
 * pipe-eof.c: bytes moved between files and pipes are verified end to end.
 * Pipes come from IORING_OP_PIPE on the ring under test where the kernel has
 * it (6.16), else from the shared helper.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { prepClose, prepPipe, prepRead, prepSplice, prepTee } from "../src/ops/index.ts";
import type { Ring } from "../src/ring/ring.ts";
import { Op, SqeFlags } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp, tempDir } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, closeAll, makePipe, pattern, prep, reap, reapOne, withRing } from "./op-helpers.ts";

const ESPIPE = 29;
const O_CLOEXEC = 0x80000;
const O_NONBLOCK = 0x800;

const hasSplice = kernelHasOp(Op.SPLICE);
const hasTee = kernelHasOp(Op.TEE);
const hasPipe = kernelHasOp(Op.PIPE);

let tmp: ReturnType<typeof tempDir>;
let seq = 0;
beforeAll(() => {
  tmp = tempDir("uring-op-pipe-");
});
afterAll(() => tmp.cleanup());

/** A pipe as [readFd, writeFd]: made by IORING_OP_PIPE on the ring under test where the kernel has it (6.16). */
function openPipe(ring: Ring): [number, number] {
  if (hasPipe) {
    const fds = new Int32Array(2);
    prep(ring, 0xfff, (s) => prepPipe(s, fds, 0));
    const res = reapOne(ring).res;
    if (res !== 0) throw new Error(`IORING_OP_PIPE failed: ${res}`);
    return [fds[0]!, fds[1]!];
  }
  const p = makePipe(tmp.dir);
  return [p.readFd, p.writeFd];
}

/** Reads exactly `n` bytes from `fd` (a pipe with that much data in it). */
function readN(fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, out, got, n - got, null);
    if (r <= 0) break;
    got += r;
  }
  return out.subarray(0, got);
}

function tempFile(data: Uint8Array): { path: string; fd: number } {
  const path = join(tmp.dir, `f-${seq++}`);
  writeFileSync(path, data);
  return { path, fd: openSync(path, constants.O_RDWR) };
}

describe.each(CONFIGS)("pipes on $name ring", ({ options }) => {
  test.skipIf(!hasPipe)("IORING_OP_PIPE makes a working pipe; flags reach the fds", () => {
    withRing(8, options, (ring) => {
      const fds = new Int32Array([-1, -1]);
      prep(ring, 1, (s) => prepPipe(s, fds, O_CLOEXEC));
      expect(reapOne(ring)).toMatchObject({ userData: 1, res: 0 });
      const [r, w] = [fds[0]!, fds[1]!];
      try {
        expect(r).toBeGreaterThanOrEqual(0);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(fstatSync(r).isFIFO()).toBe(true);
        const flags = readFileSync(`/proc/self/fdinfo/${r}`, "utf8").match(/flags:\s+(\d+)/)?.[1];
        expect(Number.parseInt(flags ?? "0", 8) & O_CLOEXEC).toBe(O_CLOEXEC);
        expect(writeSync(w, "through the pipe")).toBe(16);
        expect(new TextDecoder().decode(readN(r, 16))).toBe("through the pipe");
      } finally {
        closeAll(r, w);
      }
      const bad = new Int32Array(2);
      prep(ring, 2, (s) => prepPipe(s, bad, 0xdead0000)); // unknown pipe2 flags
      expect(reapOne(ring).res).toBe(NEG.EINVAL);
    });
  });

  test.skipIf(!hasPipe)("an O_NONBLOCK pipe from the op: a plain read of it gives EAGAIN", () => {
    withRing(8, options, (ring) => {
      const fds = new Int32Array(2);
      prep(ring, 1, (s) => prepPipe(s, fds, O_NONBLOCK));
      expect(reapOne(ring).res).toBe(0);
      try {
        const flags = readFileSync(`/proc/self/fdinfo/${fds[0]}`, "utf8").match(/flags:\s+(\d+)/)?.[1];
        expect(Number.parseInt(flags ?? "0", 8) & O_NONBLOCK).toBe(O_NONBLOCK);
        // (an io_uring read would not return EAGAIN: pipes are pollable, so the ring waits for data)
        expect(() => readSync(fds[0]!, new Uint8Array(4))).toThrow(/EAGAIN/);
      } finally {
        closeAll(fds[0]!, fds[1]!);
      }
    });
  });

  test.skipIf(!hasSplice)("splice file -> pipe -> file moves the bytes (sendfile via a pipe)", () => {
    const data = pattern(20_000, 5);
    const src = tempFile(data);
    const dst = tempFile(new Uint8Array(0));
    try {
      withRing(8, options, (ring) => {
        const [r, w] = openPipe(ring);
        try {
          // 12000 bytes from offset 1000 of src into the pipe, then into dst at offset 50
          prep(ring, 1, (s) => prepSplice(s, src.fd, 1000, w, -1, 12_000, 0), SqeFlags.IO_LINK);
          prep(ring, 2, (s) => prepSplice(s, r, -1, dst.fd, 50, 12_000, 0));
          expect(reap(ring, 2).map((c) => [c.userData, c.res])).toEqual([
            [1, 12_000],
            [2, 12_000],
          ]);
          const out = readFileSync(dst.path);
          expect(out.length).toBe(12_050);
          expect(new Uint8Array(out.subarray(50))).toEqual(data.subarray(1000, 13_000));
        } finally {
          closeAll(r, w);
        }
      });
    } finally {
      closeAll(src.fd, dst.fd);
    }
  });

  test.skipIf(!hasSplice)("splice from the current file position (-1) advances it", () => {
    const data = pattern(300, 8);
    const src = tempFile(data);
    try {
      withRing(8, options, (ring) => {
        const [r, w] = openPipe(ring);
        try {
          prep(ring, 1, (s) => prepSplice(s, src.fd, -1, w, -1, 100, 0));
          expect(reapOne(ring).res).toBe(100);
          prep(ring, 2, (s) => prepSplice(s, src.fd, -1, w, -1, 100, 0));
          expect(reapOne(ring).res).toBe(100);
          expect(readN(r, 200)).toEqual(data.subarray(0, 200));
        } finally {
          closeAll(r, w);
        }
      });
    } finally {
      closeSync(src.fd);
    }
  });

  test.skipIf(!hasSplice)("splice with an offset on the pipe side gives -ESPIPE; two files give -EINVAL", () => {
    const a = tempFile(pattern(10));
    const b = tempFile(new Uint8Array(0));
    try {
      withRing(8, options, (ring) => {
        const [r, w] = openPipe(ring);
        try {
          prep(ring, 1, (s) => prepSplice(s, a.fd, 0, w, 5, 10, 0));
          expect(reapOne(ring).res).toBe(-ESPIPE);
          prep(ring, 2, (s) => prepSplice(s, a.fd, 0, b.fd, 0, 10, 0));
          expect(reapOne(ring).res).toBe(NEG.EINVAL);
        } finally {
          closeAll(r, w);
        }
      });
    } finally {
      closeAll(a.fd, b.fd);
    }
  });

  test.skipIf(!hasSplice)("splice from an empty pipe waits for data; EOF gives 0", () => {
    const dst = tempFile(new Uint8Array(0));
    try {
      withRing(8, options, (ring) => {
        const [r, w] = openPipe(ring);
        let wOpen = true;
        try {
          prep(ring, 1, (s) => prepSplice(s, r, -1, dst.fd, 0, 64, 0));
          expect(ring.submit()).toBe(1);
          writeSync(w, "late data");
          expect(reapOne(ring)).toMatchObject({ userData: 1, res: 9 });
          expect(readFileSync(dst.path, "utf8")).toBe("late data");
          prep(ring, 2, (s) => prepClose(s, w));
          expect(reapOne(ring).res).toBe(0);
          wOpen = false;
          prep(ring, 3, (s) => prepSplice(s, r, -1, dst.fd, 9, 64, 0));
          expect(reapOne(ring)).toMatchObject({ userData: 3, res: 0 });
        } finally {
          closeAll(r, wOpen ? w : -1);
        }
      });
    } finally {
      closeSync(dst.fd);
    }
  });

  test.skipIf(!hasTee)("tee duplicates pipe data without consuming it", () => {
    withRing(8, options, (ring) => {
      const [r1, w1] = openPipe(ring);
      const [r2, w2] = openPipe(ring);
      try {
        const data = pattern(3000, 2);
        expect(writeSync(w1, data)).toBe(3000);
        prep(ring, 1, (s) => prepTee(s, r1, w2, 3000, 0));
        expect(reapOne(ring).res).toBe(3000);
        expect(readN(r2, 3000)).toEqual(data);
        expect(readN(r1, 3000)).toEqual(data); // still there in the source pipe
        // tee needs two distinct pipes; the same pipe as both ends is -EINVAL
        prep(ring, 3, (s) => prepTee(s, r1, w1, 10, 0));
        expect(reapOne(ring).res).toBe(NEG.EINVAL);
      } finally {
        closeAll(r1, w1, r2, w2);
      }
    });
  });
});

test("a pending read's buffer survives forced GC: the data lands where the kernel was told", () => {
  withRing(8, {}, (ring) => {
    const [r, w] = openPipe(ring);
    try {
      let buf: Uint8Array | null = new Uint8Array(64);
      const keep = new WeakRef(buf);
      prep(ring, 1, (s) => prepRead(s, r, buf, 64, -1));
      expect(ring.submit()).toBe(1);
      // Churn the heap while the read is in flight; the test's reference is what keeps the buffer alive.
      for (let i = 0; i < 3; i++) {
        Array.from({ length: 10_000 }, (_, j) => new Uint8Array(j % 256));
        Bun.gc(true);
      }
      const data = pattern(64, 3);
      expect(writeSync(w, data)).toBe(64);
      expect(reapOne(ring)).toMatchObject({ userData: 1, res: 64 });
      expect(keep.deref()).toBe(buf!);
      expect(buf).toEqual(data);
      buf = null;
    } finally {
      closeAll(r, w);
    }
  });
});

test.skipIf(!hasSplice)("pipe tests leak no fds", async () => {
  const before = fdBaseline();
  const src = tempFile(pattern(100));
  withRing(8, {}, (ring) => {
    const [r, w] = openPipe(ring);
    prep(ring, 1, (s) => prepSplice(s, src.fd, 0, w, -1, 100, 0));
    expect(reapOne(ring).res).toBe(100);
    expect(readN(r, 100)).toEqual(pattern(100));
    closeAll(r, w);
  });
  closeSync(src.fd);
  await expectNoNewFds(before);
});
