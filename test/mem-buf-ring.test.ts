/**
 * Provided-buffer rings: BufferRing (user memory and kernel-allocated), READ
 * with IOSQE_BUFFER_SELECT from a FIFO, recycling, -ENOBUFS when the ring is
 * empty, the kernel's head via PBUF_STATUS, incremental consumption
 * (CQE_F_BUF_MORE), and the liburing-level functions underneath.
 */
import { describe, expect, test } from "bun:test";
import { writeSync } from "node:fs";
import { BufferRing } from "../src/mem/buffer-ring.ts";
import { bufRingAdd, bufRingAdvance, bufRingCqAdvance, bufRingMask, freeBufRing, setupBufRing } from "../src/mem/buf-ring-memory.ts";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import { bufRingHead } from "../src/ring/register.ts";
import { Ring } from "../src/ring/ring.ts";
import { CQE_BUFFER_SHIFT, CqeFlags, PbufRingFlags } from "../src/sys/constants.ts";
import { Errno } from "../src/sys/errno.ts";
import { CONFIGS, reapOne, type CqeRecord } from "./op-helpers.ts";
import { pipePerTest, prepReadSelect, readSelect, type Pipe } from "./register-helpers.ts";

/** Does the kernel accept a buffer ring registered with `flags`? */
function bufRingFlagSupported(flags: number): boolean {
  const ring = new Ring(2);
  try {
    const br = setupBufRing(ring, 2, 0, flags);
    if (typeof br === "number") return false;
    freeBufRing(ring, br);
    return true;
  } finally {
    ring.close();
  }
}
const hasBufRing = bufRingFlagSupported(0); // 5.19
const hasMmapRing = bufRingFlagSupported(PbufRingFlags.MMAP); // 6.4
const hasInc = bufRingFlagSupported(PbufRingFlags.INC); // 6.12
const hasStatus = (() => {
  const ring = new Ring(2);
  try {
    return bufRingHead(ring, 0) !== -Errno.EINVAL; // no group 0: ENOENT where PBUF_STATUS exists
  } finally {
    ring.close();
  }
})();

const bidOf = (c: CqeRecord) => {
  expect(c.flags & CqeFlags.BUFFER).toBe(CqeFlags.BUFFER);
  return c.flags >>> CQE_BUFFER_SHIFT;
};
const text = (b: Uint8Array) => Buffer.from(b).toString();

let fifo: Pipe;
pipePerTest((p) => (fifo = p));

describe.each(CONFIGS)("BufferRing ($name)", ({ options }) => {
  for (const kernelMemory of [false, true]) {
    test.skipIf(!hasBufRing || (kernelMemory && !hasMmapRing))(
      `reads select buffers, recycle hands them back${kernelMemory ? " (kernel-allocated ring)" : ""}`,
      () => {
        const ring = new Ring(8, options);
        const br = new BufferRing(ring, { bgid: 3, count: 4, bufferSize: 64, kernelMemory });
        try {
          const seen = new Set<number>();
          // 12 reads through 4 buffers: only works if recycling returns them.
          for (let i = 0; i < 12; i++) {
            const msg = `message ${i}`;
            writeSync(fifo.writeFd, msg);
            const c = readSelect(ring, i, fifo.readFd, 64, 3);
            expect(c.res).toBe(msg.length);
            const bid = bidOf(c);
            seen.add(bid);
            expect(text(br.view(bid, c.res))).toBe(msg);
            br.recycle(bid);
          }
          expect(seen.size).toBe(4);
        } finally {
          br.close();
          ring.close();
        }
      },
    );
  }

  test.skipIf(!hasBufRing)("hugePages: buffers on a 2 MiB-aligned mapping, reads land in them across the huge-page boundary", () => {
    const ring = new Ring(8, options);
    // 1536 buffers of 2 KiB: 3 MiB, so bids 1024 and up sit in the second huge page.
    const br = new BufferRing(ring, { bgid: 5, count: 1536, bufferSize: 2048, hugePages: true });
    try {
      expect(br.memory.address % (2 * 1024 * 1024)).toBe(0);
      for (let i = 0; i < 1100; i++) {
        const msg = `m${i}`;
        writeSync(fifo.writeFd, msg);
        const c = readSelect(ring, i, fifo.readFd, 2048, 5);
        expect(c.res).toBe(msg.length);
        // Buffers are handed out in ring order: the 1025th read uses a bid past the first huge page.
        if (i === 1099) expect(bidOf(c)).toBeGreaterThanOrEqual(1024);
        expect(text(br.view(bidOf(c), c.res))).toBe(msg);
      }
    } finally {
      br.close();
      ring.close();
    }
  });

  test.skipIf(!hasBufRing)("an empty ring gives -ENOBUFS until a buffer is recycled", () => {
    const ring = new Ring(8, options);
    const br = new BufferRing(ring, { bgid: 1, count: 2, bufferSize: 16 });
    try {
      writeSync(fifo.writeFd, "abcdefghijklmnopqrstuvwxyz0123456789");
      const a = readSelect(ring, 1, fifo.readFd, 16, 1);
      const b = readSelect(ring, 2, fifo.readFd, 16, 1);
      expect([a.res, b.res]).toEqual([16, 16]);
      expect(text(br.view(bidOf(a), 16)) + text(br.view(bidOf(b), 16))).toBe("abcdefghijklmnopqrstuvwxyz012345");
      expect(readSelect(ring, 3, fifo.readFd, 16, 1).res).toBe(-Errno.ENOBUFS);
      br.recycle(bidOf(a));
      const c = readSelect(ring, 4, fifo.readFd, 16, 1);
      expect(c.res).toBe(4);
      expect(bidOf(c)).toBe(bidOf(a));
      expect(text(br.view(bidOf(c), 4))).toBe("6789");
    } finally {
      br.close();
      ring.close();
    }
  });
});

describe("buffer ring memory under GC", () => {
  test.skipIf(!hasBufRing)("a read pending across forced collections lands in the ring's memory", async () => {
    const ring = new Ring(8);
    const br = new BufferRing(ring, { bgid: 6, count: 4, bufferSize: 128 });
    try {
      prepReadSelect(ring, 1, fifo.readFd, 128, 6);
      expect(ring.submit()).toBe(1);
      // Churn the heap while the kernel holds the request: nothing it may
      // write to is owned by the collector.
      for (let i = 0; i < 5; i++) {
        const junk = Array.from({ length: 2000 }, (_, j) => new Uint8Array(64 + (j & 63)));
        expect(junk.length).toBe(2000);
        Bun.gc(true);
        await new Promise((r) => setTimeout(r, 1));
      }
      writeSync(fifo.writeFd, "survived the collector");
      const c = reapOne(ring);
      expect(c.res).toBe(22);
      expect(text(br.view(bidOf(c), c.res))).toBe("survived the collector");
    } finally {
      br.close();
      ring.close();
    }
  });
});

describe("buffer ring status and errors", () => {
  test.skipIf(!hasBufRing || !hasStatus)("PBUF_STATUS: the kernel's head follows consumption", () => {
    const ring = new Ring(8);
    const br = new BufferRing(ring, { bgid: 7, count: 8, bufferSize: 32 });
    try {
      expect(bufRingHead(ring, 7)).toBe(0);
      expect(br.available()).toBe(8);
      writeSync(fifo.writeFd, "xy");
      expect(readSelect(ring, 1, fifo.readFd, 32, 7).res).toBe(2);
      expect(bufRingHead(ring, 7)).toBe(1);
      expect(br.available()).toBe(7);
      expect(bufRingHead(ring, 99)).toBe(-Errno.ENOENT);
    } finally {
      br.close();
      ring.close();
    }
  });

  test.skipIf(!hasBufRing)("a taken group and bad sizes are explained", () => {
    const ring = new Ring(4);
    const br = new BufferRing(ring, { bgid: 2, count: 2, bufferSize: 32 });
    try {
      expect(() => new BufferRing(ring, { bgid: 2, count: 2, bufferSize: 32 })).toThrow(/already in use/);
      expect(() => new BufferRing(ring, { bgid: 3, count: 0, bufferSize: 32 })).toThrow(/count must be/);
      expect(() => br.view(2, 1)).toThrow(/not in this BufferRing/);
      expect(() => br.view(0, 33)).toThrow(RangeError);
    } finally {
      br.close();
      ring.close();
    }
    expect(br.memory.freed).toBe(true);
  });
});

describe("incremental consumption (IOU_PBUF_RING_INC)", () => {
  test.skipIf(!hasInc)("completions share a buffer while CQE_F_BUF_MORE is set", () => {
    const ring = new Ring(8);
    const br = new BufferRing(ring, { bgid: 4, count: 2, bufferSize: 64, incremental: true });
    try {
      writeSync(fifo.writeFd, "0123456789");
      const a = readSelect(ring, 1, fifo.readFd, 64, 4);
      expect(a.res).toBe(10);
      expect(a.flags & CqeFlags.BUF_MORE).toBe(CqeFlags.BUF_MORE);
      const bid = bidOf(a);
      expect(text(br.consume(bid, a.res, true))).toBe("0123456789");

      writeSync(fifo.writeFd, "abcde");
      const b = readSelect(ring, 2, fifo.readFd, 64, 4);
      expect(b.res).toBe(5);
      expect(bidOf(b)).toBe(bid);
      expect(b.flags & CqeFlags.BUF_MORE).toBe(CqeFlags.BUF_MORE);
      // The data sits right after the first completion's bytes.
      expect(text(br.consume(bid, b.res, true))).toBe("abcde");
      expect(text(br.view(bid, 15))).toBe("0123456789abcde");

      // 49 bytes are left in this buffer: a 60-byte write fills it, and the
      // buffer is then done (no BUF_MORE); the rest goes to the next buffer.
      const big = "x".repeat(49) + "y".repeat(11);
      writeSync(fifo.writeFd, big);
      const c = readSelect(ring, 3, fifo.readFd, 64, 4);
      expect(c.res).toBe(49);
      expect(bidOf(c)).toBe(bid);
      expect(c.flags & CqeFlags.BUF_MORE).toBe(0);
      expect(text(br.consume(bid, c.res, false))).toBe("x".repeat(49));
      br.recycle(bid);
      const d = readSelect(ring, 4, fifo.readFd, 64, 4);
      expect(d.res).toBe(11);
      expect(bidOf(d)).not.toBe(bid);
      expect(text(br.consume(bidOf(d), d.res, (d.flags & CqeFlags.BUF_MORE) !== 0))).toBe("y".repeat(11));
    } finally {
      br.close();
      ring.close();
    }
  });
});

describe("liburing-level buffer ring functions", () => {
  test.skipIf(!hasBufRing)("setup, add, advance, cq_advance, free", () => {
    const ring = new Ring(8);
    const mem = new AlignedBuffer(4 * 32);
    const br = setupBufRing(ring, 4, 9, 0);
    try {
      if (typeof br === "number") throw new Error(`setupBufRing failed: ${br}`);
      expect(setupBufRing(ring, 3, 10, 0)).toBe(-Errno.EINVAL); // not a power of two
      const mask = bufRingMask(4);
      expect(mask).toBe(3);
      // Add bids 2 and 0 (in that order) and publish both at once.
      bufRingAdd(br, mem.address + 2 * 32, 32, 2, mask, 0);
      bufRingAdd(br, mem.address, 32, 0, mask, 1);
      expect(br.tail).toBe(0); // nothing published yet
      bufRingAdvance(br, 2);
      expect(br.tail).toBe(2);
      writeSync(fifo.writeFd, "first");
      expect(bidOf(readSelect(ring, 1, fifo.readFd, 32, 9))).toBe(2);
      writeSync(fifo.writeFd, "second");
      // Leave this CQE in the CQ: bufRingCqAdvance recycles and marks it seen in one go.
      prepReadSelect(ring, 2, fifo.readFd, 32, 9);
      ring.submitAndWait(1);
      const cqe = ring.peekCqe();
      expect(cqe?.res).toBe(6);
      const bid = cqe!.flags >>> CQE_BUFFER_SHIFT;
      expect(bid).toBe(0);
      expect(Buffer.from(mem.subarray(0, 6)).toString()).toBe("second");
      bufRingAdd(br, mem.address, 32, 0, mask, 0);
      bufRingCqAdvance(ring, br, 1);
      expect(ring.cqReady()).toBe(0);
      expect(br.tail).toBe(3);
      writeSync(fifo.writeFd, "third");
      expect(bidOf(readSelect(ring, 3, fifo.readFd, 32, 9))).toBe(0);
      expect(freeBufRing(ring, br)).toBe(0);
    } finally {
      mem.free();
      ring.close();
    }
  });
});
