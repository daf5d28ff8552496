/**
 * Uring: Promise ops on every driver, typed results, UringError, probing,
 * link chains, timeouts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { constants } from "node:fs";
import { join } from "node:path";
import { Uring, UringError, type DriverKind } from "../src/async/index.ts";
import { engineOf } from "../src/async/uring.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { Op, SetupFlags } from "../src/sys/constants.ts";
import { kernelHasOp, tempDir } from "./helpers.ts";

const DRIVERS: Array<{ driver: DriverKind; available: boolean }> = [
  { driver: "event-loop", available: true },
  { driver: "run", available: true },
  { driver: "sqpoll", available: kernelHasSetupFlag(SetupFlags.SQPOLL) },
];

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
});
afterAll(() => cleanup());

describe.each(DRIVERS)("driver $driver", ({ driver, available }) => {
  test.skipIf(!available)("read, write, fsync, statx, open, closeFd", async () => {
    const uring = new Uring({ driver });
    try {
      const path = join(dir, `rw-${driver}.bin`);
      const fd = await uring.open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o600);
      expect(fd).toBeGreaterThan(2);
      const data = new TextEncoder().encode("hello, io_uring");
      expect(await uring.write(fd, data, 0)).toBe(data.length);
      await uring.fsync(fd);
      await uring.fdatasync(fd);
      const back = new Uint8Array(64);
      expect(await uring.read(fd, back, 0)).toBe(data.length);
      expect(new TextDecoder().decode(back.subarray(0, data.length))).toBe("hello, io_uring");
      expect(await uring.read(fd, back, 1000)).toBe(0); // EOF
      const st = await uring.statx(path);
      expect(st.size).toBe(data.length);
      expect(st.isFile).toBe(true);
      expect(st.mode & 0o777).toBe(0o600);
      await uring.closeFd(fd);
      expect(readFileSync(path, "utf8")).toBe("hello, io_uring");
    } finally {
      uring.close();
    }
  });

  test.skipIf(!available)("readv/writev and many reads in one tick", async () => {
    const uring = new Uring({ driver, entries: 16 });
    const path = join(dir, `v-${driver}.bin`);
    const fd = openSync(path, "w+");
    try {
      const a = new Uint8Array([1, 2, 3]);
      const b = new Uint8Array([4, 5]);
      expect(await uring.writev(fd, [a, b], 0)).toBe(5);
      const x = new Uint8Array(2);
      const y = new Uint8Array(3);
      expect(await uring.readv(fd, [x, y], 0)).toBe(5);
      expect([...x, ...y]).toEqual([1, 2, 3, 4, 5]);
      // More requests than SQ entries in one tick: the SQ is flushed as it fills.
      const bufs = Array.from({ length: 100 }, () => new Uint8Array(1));
      const res = await Promise.all(bufs.map((buf, i) => uring.read(fd, buf, i % 5)));
      expect(res.every((n) => n === 1)).toBe(true);
      expect(bufs.map((buf) => buf[0])).toEqual(bufs.map((_, i) => (i % 5) + 1));
    } finally {
      closeSync(fd);
      uring.close();
    }
  });

  test.skipIf(!available)("failures reject with UringError { errno, code, op } and advice", async () => {
    const uring = new Uring({ driver });
    try {
      const err = await uring.read(987654, new Uint8Array(8), 0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UringError);
      const ue = err as UringError;
      expect(ue.code).toBe("EBADF");
      expect(ue.errno).toBe(constants.O_RDONLY === 0 ? 9 : ue.errno);
      expect(ue.op).toBe("READ");
      expect(ue.message).toContain("not open");
      const missing = await uring.open(join(dir, "does-not-exist")).catch((e: unknown) => e);
      expect((missing as UringError).code).toBe("ENOENT");
      expect((missing as UringError).op).toBe("OPENAT");
    } finally {
      uring.close();
    }
  });

  test.skipIf(!available)("sleep and { timeout } (linked LINK_TIMEOUT)", async () => {
    const uring = new Uring({ driver });
    const fifo = makeFifo(`t-${driver}`);
    const fd = openSync(fifo, "r+");
    try {
      await uring.sleep(5);
      const err = await uring.read(fd, new Uint8Array(8), -1, { timeout: 20 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UringError);
      expect((err as UringError).code).toBe("ETIME");
      expect((err as UringError).message).toContain("timed out after 20 ms");
      // A request that finishes first is unaffected by its timeout.
      expect(await uring.nop({ timeout: 5000 })).toBe(0);
      expect(uring.pending).toBe(0);
    } finally {
      closeSync(fd);
      uring.close();
    }
  });
});

describe("bad arguments", () => {
  test("a preparer that throws rejects the request, frees its slot and leaves the ring usable", async () => {
    const uring = new Uring();
    try {
      const err = (await uring.read(0, "not a buffer" as unknown as Uint8Array, 0).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toContain("uring.read: the buffer must be a TypedArray");
      const thrown = (await uring
        .submit(Op.READ, () => {
          throw new RangeError("offset out of range");
        })
        .catch((e: unknown) => e)) as Error;
      expect(thrown).toBeInstanceOf(TypeError);
      expect(thrown.message).toBe("READ: bad argument: offset out of range");
      expect(uring.pending).toBe(0);
      const chainErr = await uring
        .chain()
        .nop()
        .step(
          Op.NOP,
          () => {
            throw new TypeError("step 2 is broken");
          },
          null,
        )
        .run()
        .catch((e: unknown) => e);
      expect((chainErr as Error).message).toContain("step 2 is broken");
      expect(uring.pending).toBe(0);
      // The abandoned SQEs went out as ignored NOPs; nothing else was resolved by them.
      expect(await Promise.all([uring.nop(), uring.nop()])).toEqual([0, 0]);
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
    }
  });
});

describe("queue limits", () => {
  test("more requests in one tick than the SQ and the CQ hold: all resolve (SQ flushed as it fills, CQ overflow flushed)", async () => {
    // 8 SQ entries, 8 CQ entries: 2000 NOPs overflow both many times over.
    const uring = new Uring({ entries: 8, ring: { cqEntries: 8 } });
    try {
      const res = await Promise.all(Array.from({ length: 2000 }, () => uring.nop()));
      expect(res.length).toBe(2000);
      expect(res.every((r) => r === 0)).toBe(true);
      expect(uring.pending).toBe(0);
      // The pending table grew past its initial size and still works.
      expect(engineOf(uring).table.capacity).toBeGreaterThanOrEqual(2000); // internals: reachable only through engineOf
    } finally {
      uring.close();
    }
  });
});

describe("probe", () => {
  test("an opcode the kernel lacks rejects clearly, without submitting", async () => {
    const uring = new Uring();
    try {
      // The first opcode past what this kernel knows (NOP128 on 6.18).
      const lastOp = uring.ring.probe()!.lastOp;
      const missing = lastOp + 1;
      expect(uring.opSupported(missing)).toBe(false);
      const enters = uring.ring.enterCount;
      const err = (await uring.rawNop(missing).catch((e: unknown) => e)) as UringError;
      expect(err).toBeInstanceOf(UringError);
      expect(err.code).toBe("EOPNOTSUPP");
      expect(err.message).toContain("not supported");
      expect(err.message).toContain(`up to ${lastOp}`);
      expect(uring.ring.enterCount).toBe(enters);
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
    }
  });

  test.skipIf(kernelHasOp(Op.NOP128))("NOP128 on a kernel without it", async () => {
    const uring = new Uring();
    try {
      const err = (await uring.rawNop(Op.NOP128).catch((e: unknown) => e)) as UringError;
      expect(err.code).toBe("EOPNOTSUPP");
      expect(err.op).toBe("NOP128");
    } finally {
      uring.close();
    }
  });
});

describe("chains", () => {
  test("write → fdatasync → read: per-step results", async () => {
    const uring = new Uring();
    const path = join(dir, "chain.bin");
    const fd = openSync(path, "w+");
    try {
      const data = new Uint8Array([9, 8, 7, 6]);
      const back = new Uint8Array(4);
      const r = await uring.chain().write(fd, data, 0).fdatasync(fd).read(fd, back, 0).run();
      expect(r.ok).toBe(true);
      expect(r.failedStep).toBe(-1);
      expect(r.steps.map((s) => [s.op, s.status, s.res])).toEqual([
        ["WRITE", "ok", 4],
        ["FSYNC", "ok", 0],
        ["READ", "ok", 4],
      ]);
      expect([...back]).toEqual([9, 8, 7, 6]);
    } finally {
      closeSync(fd);
      uring.close();
    }
  });

  test("a failing step cancels the rest; hardlink keeps going", async () => {
    const uring = new Uring();
    try {
      const r = await uring.chain().nop().read(987654, new Uint8Array(4), 0).nop().nop().run();
      expect(r.ok).toBe(false);
      expect(r.failedStep).toBe(1);
      expect(r.steps.map((s) => s.status)).toEqual(["ok", "failed", "cancelled", "cancelled"]);
      expect(r.steps[1]!.error?.code).toBe("EBADF");
      expect(r.steps[2]!.error?.code).toBe("ECANCELED");
      const h = await uring.chain({ hardlink: true }).read(987654, new Uint8Array(4), 0).nop().run();
      expect(h.steps.map((s) => s.status)).toEqual(["failed", "ok"]);
      const d = await uring.chain({ drain: true }).nop().nop().run();
      expect(d.ok).toBe(true);
      expect(uring.pending).toBe(0);
    } finally {
      uring.close();
    }
  });

  test("a short read breaks the chain and says so", async () => {
    const uring = new Uring();
    const path = join(dir, "short.bin");
    writeFileSync(path, "ab");
    const fd = openSync(path, "r");
    try {
      const r = await uring.chain().read(fd, new Uint8Array(10), 0).nop().run();
      expect(r.steps.map((s) => s.status)).toEqual(["short", "cancelled"]);
      expect(r.failedStep).toBe(0);
    } finally {
      closeSync(fd);
      uring.close();
    }
  });
});

/** A FIFO in the test directory: open it "r+" for one fd that reads and writes and never sees EOF. */
export function makeFifo(name: string): string {
  const path = join(dir, name);
  const r = Bun.spawnSync(["mkfifo", path]);
  if (r.exitCode !== 0) throw new Error(`mkfifo ${path} failed`);
  return path;
}
