/**
 * Eventfd notification (registerEventfd, the CQ eventfd toggle and
 * the async-only variant), big SQEs/CQEs (SQE128 + CQE32 with NOP), mixed-size
 * CQs (CQE_MIXED, 6.18) including wrap-around padding, and multishot read from
 * a pipe into a provided-buffer ring. In the spirit of liburing's eventfd.c,
 * eventfd-disable.c, nop32.c, cq-peek-batch-mixed.c and read-mshot.c.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, readSync, writeSync } from "node:fs";
import { BufferRing } from "../src/mem/buffer-ring.ts";
import { prepCancel64, prepNop, prepNop128, prepRead, prepReadMultishot } from "../src/ops/index.ts";
import { registerEventfd, registerEventfdAsync, unregisterEventfd } from "../src/ring/register.ts";
import { Ring } from "../src/ring/ring.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import type { Sqe } from "../src/ring/sqe.ts";
import { SQE_W } from "../src/sys/abi.ts";
import { CQE_BUFFER_SHIFT, CqeFlags, NopFlags, Op, SetupFlags, SqeFlags } from "../src/sys/constants.ts";
import { eventfd } from "../src/sys/ffi.ts";
import { expectNoNewFds, kernelHasOp, tempDir } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, closeAll, makePipe, pattern, prep, reap, reapOne, withRing, type CqeRecord } from "./op-helpers.ts";

const EFD_NONBLOCK = 0x800;
const EFD_CLOEXEC = 0x80000;

const more = (c: CqeRecord) => (c.flags & CqeFlags.MORE) !== 0;

/** A NOP that posts a 32-byte CQE carrying `extra1` and `extra2` in big_cqe (IORING_NOP_CQE32). */
function prepNopBig(sqe: Sqe, extra1: number, extra2: number): void {
  prepNop(sqe);
  sqe.u32[SQE_W.opFlags] = NopFlags.CQE32;
  sqe.u32[SQE_W.offLo] = extra1; // extra1 comes from sqe->off
  sqe.u32[SQE_W.addrLo] = extra2; // extra2 from sqe->addr
}

/** The eventfd counter (read resets it), or 0 when it was not signalled (EAGAIN: it is non-blocking). */
function readEventfd(fd: number): bigint {
  const b = new BigUint64Array(1);
  try {
    readSync(fd, new Uint8Array(b.buffer));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EAGAIN") return 0n;
    throw e;
  }
  return b[0]!;
}

const hasMixed = kernelHasSetupFlag(SetupFlags.CQE_MIXED);
const hasBig = kernelHasSetupFlag(SetupFlags.SQE128 | SetupFlags.CQE32);
/** IORING_NOP_CQE32 came with CQE_MIXED (6.18): probe it on a CQE32 ring (-EINVAL where absent). */
const hasNopCqe32 =
  hasBig &&
  withRing(4, { cqe32: true }, (ring) => {
    prep(ring, 1, (s) => prepNopBig(s, 1, 2));
    return reapOne(ring).res === 0;
  });
const hasReadMshot = kernelHasOp(Op.READ_MULTISHOT);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("uring-op-misc-");
});
afterAll(() => tmp.cleanup());

describe.each(CONFIGS)("eventfd on $name ring", ({ options }) => {
  test("a registered eventfd is signalled by completions; the CQ flag toggles it; unregister stops it", () => {
    const efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    expect(efd).toBeGreaterThanOrEqual(0);
    try {
      withRing(8, options, (ring) => {
        expect(registerEventfd(ring, efd)).toBe(0);
        prep(ring, 1, (s) => prepNop(s));
        expect(reapOne(ring).res).toBe(0);
        expect(readEventfd(efd)).toBeGreaterThanOrEqual(1n);

        expect(ring.cqEventfdToggle(false)).toBe(0);
        prep(ring, 2, (s) => prepNop(s));
        expect(reapOne(ring).res).toBe(0);
        expect(readEventfd(efd)).toBe(0n);

        expect(ring.cqEventfdToggle(true)).toBe(0);
        prep(ring, 3, (s) => prepNop(s));
        expect(reapOne(ring).res).toBe(0);
        expect(readEventfd(efd)).toBeGreaterThanOrEqual(1n);

        expect(unregisterEventfd(ring)).toBe(0);
        prep(ring, 4, (s) => prepNop(s));
        expect(reapOne(ring).res).toBe(0);
        expect(readEventfd(efd)).toBe(0n);
      });
    } finally {
      closeSync(efd);
    }
  });

  test("a second eventfd registration is refused with -EBUSY", () => {
    const a = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    const b = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    try {
      withRing(8, options, (ring) => {
        expect(registerEventfd(ring, a)).toBe(0);
        expect(registerEventfd(ring, b)).toBe(-16); // EBUSY
      });
    } finally {
      closeAll(a, b);
    }
  });
});

test("EVENTFD_ASYNC: inline completions do not signal, io-wq (IOSQE_ASYNC) completions do", () => {
  const efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  try {
    withRing(8, {}, (ring) => {
      expect(registerEventfdAsync(ring, efd)).toBe(0);
      prep(ring, 1, (s) => prepNop(s));
      expect(reapOne(ring).res).toBe(0);
      expect(readEventfd(efd)).toBe(0n);
      prep(ring, 2, (s) => prepNop(s), SqeFlags.ASYNC);
      expect(reapOne(ring).res).toBe(0);
      expect(readEventfd(efd)).toBeGreaterThanOrEqual(1n);
    });
  } finally {
    closeSync(efd);
  }
});

describe.each(CONFIGS)("SQE128 + CQE32 on $name ring", ({ options }) => {
  test.skipIf(!hasBig)("a NOP in a 128-byte SQE posts a 32-byte CQE", () => {
    withRing(8, { ...options, sqe128: true, cqe32: true }, (ring) => {
      const sqe = prep(ring, 0x1234, (s) => prepNop(s));
      expect(sqe.u32.length).toBe(32);
      const [c] = reap(ring, 1, undefined, true);
      expect(c).toMatchObject({ userData: 0x1234, res: 0 });
      expect(c!.big).toEqual([0n, 0n]);
    });
  });

  test.skipIf(!hasNopCqe32)("NOP_CQE32 fills big_cqe with sqe->off and sqe->addr", () => {
    withRing(8, { ...options, cqe32: true }, (ring) => {
      prep(ring, 1, (s) => prepNopBig(s, 0xaaaa, 0xbbbb));
      prep(ring, 2, (s) => prepNopBig(s, 7, 8));
      const cqes = reap(ring, 2, undefined, true);
      expect(cqes.map((c) => [c.userData, c.res, c.big])).toEqual([
        [1, 0, [0xaaaan, 0xbbbbn]],
        [2, 0, [7n, 8n]],
      ]);
    });
  });

  test.skipIf(!hasBig || !kernelHasOp(Op.NOP128))("NOP128 in an SQE128 ring", () => {
    withRing(8, { ...options, sqe128: true }, (ring) => {
      prep(ring, 1, (s) => prepNop128(s));
      expect(reapOne(ring)).toMatchObject({ userData: 1, res: 0 });
    });
  });
});

describe.each(CONFIGS)("CQE_MIXED on $name ring", ({ options }) => {
  test.skipIf(!hasMixed || !hasNopCqe32)("16- and 32-byte CQEs interleave; big ones carry F_32 and their extra data", () => {
    withRing(8, { ...options, cqeMixed: true }, (ring) => {
      prep(ring, 1, (s) => prepNop(s));
      prep(ring, 2, (s) => prepNopBig(s, 11, 22));
      prep(ring, 3, (s) => prepNop(s));
      const cqes = reap(ring, 3, undefined, true);
      expect(cqes.map((c) => c.userData)).toEqual([1, 2, 3]);
      expect(cqes.map((c) => (c.flags & CqeFlags.F_32) !== 0)).toEqual([false, true, false]);
      expect(cqes[1]!.big).toEqual([11n, 22n]);
    });
  });

  test.skipIf(!hasMixed || !hasNopCqe32)("wrapping a mixed CQ: padding CQEs are passed over, nothing is lost", () => {
    // 16 CQ slots; odd batches of small+big CQEs force a big CQE onto the last slot, where the kernel pads.
    withRing(4, { ...options, cqeMixed: true, cqEntries: 16 }, (ring) => {
      let ud = 0;
      const seen: number[] = [];
      for (let round = 0; round < 12; round++) {
        const n = round % 2 === 0 ? 3 : 2;
        const expected: number[] = [];
        for (let i = 0; i < n; i++) {
          const id = ++ud;
          expected.push(id);
          prep(ring, id, (s) => (id % 2 === 0 ? prepNopBig(s, id, id * 2) : prepNop(s)));
        }
        const cqes = reap(ring, n, undefined, true);
        expect(cqes.map((c) => c.userData)).toEqual(expected);
        for (const c of cqes) {
          if (c.userData % 2 === 0) expect(c.big).toEqual([BigInt(c.userData), BigInt(c.userData * 2)]);
          expect(c.flags & CqeFlags.SKIP).toBe(0);
        }
        seen.push(...cqes.map((c) => c.userData));
      }
      expect(seen).toEqual(Array.from({ length: ud }, (_, i) => i + 1));
    });
  });
});

describe.each(CONFIGS)("read multishot on $name ring", ({ options }) => {
  test.skipIf(!hasReadMshot)("multishot read from a pipe: a CQE per write, each in a ring buffer, until cancelled", () => {
    const f = makePipe(tmp.dir);
    try {
      withRing(8, options, (ring) => {
        const br = new BufferRing(ring, { bgid: 3, count: 4, bufferSize: 128 });
        try {
          prep(ring, 1, (s) => prepReadMultishot(s, f.readFd, 0, 0, 3), SqeFlags.BUFFER_SELECT);
          expect(ring.submit()).toBe(1);
          for (let i = 0; i < 5; i++) {
            const msg = pattern(20 + i, i);
            expect(writeSync(f.writeFd, msg)).toBe(msg.length);
            const c = reapOne(ring);
            expect(c.userData).toBe(1);
            expect(c.res).toBe(msg.length);
            expect(more(c)).toBe(true);
            expect(c.flags & CqeFlags.BUFFER).toBe(CqeFlags.BUFFER);
            const bid = c.flags >>> CQE_BUFFER_SHIFT;
            expect(br.view(bid, c.res)).toEqual(msg);
            br.recycle(bid);
          }
          // End it by cancel. (Closing the write end is no use here: on 6.18 a
          // multishot read masks the pipe's EPOLLHUP out of its poll and never
          // sees EOF, while a one-shot read does get 0.)
          prep(ring, 2, (s) => prepCancel64(s, 1, 0));
          const end = new Map(reap(ring, 2).map((c) => [c.userData, c]));
          expect(end.get(2)?.res).toBe(0);
          expect(end.get(1)?.res).toBe(NEG.ECANCELED);
          expect(more(end.get(1)!)).toBe(false);
        } finally {
          br.close();
        }
      });
    } finally {
      f.close();
    }
  });

  test.skipIf(!hasReadMshot)("multishot read without BUFFER_SELECT is rejected with -EINVAL", () => {
    const f = makePipe(tmp.dir);
    try {
      withRing(8, options, (ring) => {
        const buf = new Uint8Array(8);
        prep(ring, 1, (s) => {
          prepRead(s, f.readFd, buf, 8, 0);
          s.u8[0] = Op.READ_MULTISHOT; // a multishot read that names its own buffer
        });
        expect(reapOne(ring).res).toBe(-22);
      });
    } finally {
      f.close();
    }
  });
});

test("misc tests leak no fds (eventfd, big rings, buffer ring)", async () => {
  const before = fdBaseline();
  const efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const ring = new Ring(8, hasBig ? { sqe128: true, cqe32: true } : {});
  try {
    expect(registerEventfd(ring, efd)).toBe(0);
    const br = new BufferRing(ring, { bgid: 1, count: 2, bufferSize: 64 });
    prep(ring, 1, (s) => prepNop(s));
    expect(reapOne(ring).res).toBe(0);
    br.close();
  } finally {
    ring.close();
    closeSync(efd);
  }
  await expectNoNewFds(before);
});
