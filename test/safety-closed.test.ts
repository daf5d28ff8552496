/**
 * Closed and resized objects (issue 13): after close every public method and
 * getter of Ring, Uring, TcpServer, BufferRing, BufRing, FixedBuffers and
 * AlignedBuffer throws the one ClosedError (src/sys/closed.ts), found by
 * reflection over the prototype chain so a new method cannot be missed; stale
 * SQ/CQ/SQE/CQE objects are harmless; a ring a Uring drives may be resized
 * with requests in flight.
 */
import { describe, expect, test } from "bun:test";
import { writeSync } from "node:fs";
import { Uring } from "../src/async/uring.ts";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import { freeBufRing, setupBufRing, type BufRing } from "../src/mem/buf-ring-memory.ts";
import { BufferRing } from "../src/mem/buffer-ring.ts";
import { FixedBuffers } from "../src/mem/fixed-buffers.ts";
import { TcpServer } from "../src/net/server.ts";
import { freePort } from "../cli/echo/processes.ts";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { kernelHasSetupFlag } from "../src/ring/setup.ts";
import { ClosedError } from "../src/sys/closed.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { openFifo, tempDirPerFile } from "./helpers.ts";

const tmp = tempDirPerFile();

/** Members that must keep working after close: closing again, and asking whether it is closed. */
const EXEMPT = new Set<PropertyKey>(["constructor", "close", "free", Symbol.dispose, "isClosed", "freed"]);

/** Every method and getter on the prototype chain, own classes only. */
function members(obj: object): Array<{ key: PropertyKey; getter: boolean }> {
  const out: Array<{ key: PropertyKey; getter: boolean }> = [];
  const seen = new Set<PropertyKey>();
  for (let p = Object.getPrototypeOf(obj); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Reflect.ownKeys(p)) {
      if (EXEMPT.has(key) || seen.has(key)) continue;
      seen.add(key);
      const d = Object.getOwnPropertyDescriptor(p, key)!;
      if (d.get !== undefined) out.push({ key, getter: true });
      else if (typeof d.value === "function") out.push({ key, getter: false });
    }
  }
  return out;
}

/** Argument lists each method is tried with: plausible, hostile and wrong-typed. */
const ARGS: unknown[][] = [[], [0, 0, 0, 0], [1, new Uint8Array(8), 0, 0], [-1, NaN, 2 ** 40, null]];

/** Calls `key` on `obj` with `args`; returns the thrown or rejected error, or "ok". */
async function outcome(obj: object, key: PropertyKey, getter: boolean, args: unknown[]): Promise<unknown> {
  try {
    const r = getter ? Reflect.get(obj, key) : (Reflect.get(obj, key) as (...a: unknown[]) => unknown).apply(obj, args);
    if (r instanceof Promise) await r;
    return "ok";
  } catch (err) {
    return err;
  }
}

async function expectAllClosed(name: string, obj: object, skip: ReadonlySet<PropertyKey> = new Set()): Promise<void> {
  const list = members(obj).filter((m) => !skip.has(m.key));
  expect(list.length).toBeGreaterThan(0);
  const wrong: string[] = [];
  for (const { key, getter } of list) {
    for (const args of getter ? [[]] : ARGS) {
      const r = await outcome(obj, key, getter, args);
      if (!(r instanceof ClosedError)) wrong.push(`${name}.${String(key)}(${args.length} args): ${r instanceof Error ? r.message : String(r)}`);
    }
  }
  if (wrong.length > 0) console.error(wrong.join("\n"));
  expect(wrong).toEqual([]);
}

describe("after close, every public method and getter throws ClosedError", () => {
  test("Ring", async () => {
    const ring = new Ring(8);
    ring.close();
    await expectAllClosed("Ring", ring);
    ring.close(); // idempotent
    expect(ring.isClosed).toBe(true);
  });

  test("Ring without a registered ring fd, and a NO_MMAP ring", async () => {
    for (const opts of [{ registerRingFd: false }, { noMmap: true }]) {
      const ring = new Ring(8, opts);
      ring.close();
      await expectAllClosed("Ring", ring);
    }
  });

  test("Uring", async () => {
    const uring = new Uring();
    await uring.nop();
    uring.close();
    await expectAllClosed("Uring", uring);
    // Internals are not reachable on a Uring (it composes its engine).
    for (const internal of ["precheck", "acquire", "sqe", "commit", "releaseSlot", "table", "abandon", "commitHandler", "cancelSlot", "rearm"]) {
      expect(internal in uring).toBe(false);
    }
  });

  test("TcpServer", async () => {
    const server = new TcpServer({ host: "127.0.0.1", port: await freePort("127.0.0.1"), handler: { onData: () => false } });
    server.close();
    await expectAllClosed("TcpServer", server);
    // Internals are #private: not reachable from JavaScript.
    for (const internal of ["abort", "maybeClose", "onRecv", "reap", "setUd", "rearmStarved"]) expect(internal in server).toBe(false);
  });

  test("AlignedBuffer (heap and mapped)", async () => {
    for (const mapped of [false, true]) {
      const buf = new AlignedBuffer(4096, 4096, { mapped });
      buf.free();
      await expectAllClosed("AlignedBuffer", buf);
      expect(buf.freed).toBe(true);
    }
  });

  test("FixedBuffers, BufferRing, BufRing", async () => {
    const ring = new Ring(8);
    try {
      const fixed = new FixedBuffers(ring, 2, 4096);
      fixed.close();
      await expectAllClosed("FixedBuffers", fixed);
      const br = new BufferRing(ring, { bgid: 1, count: 4, bufferSize: 256 });
      br.close();
      await expectAllClosed("BufferRing", br);
      const raw = setupBufRing(ring, 4, 2) as BufRing;
      expect(typeof raw).toBe("object");
      freeBufRing(ring, raw);
      await expectAllClosed("BufRing", raw);
      expect(() => freeBufRing(ring, raw)).toThrow(ClosedError);
    } finally {
      ring.close();
    }
  });
});

describe("stale queue objects are harmless", () => {
  test("sq, cq, Sqe and Cqe taken before close read zeros and hand out nothing", () => {
    const ring = new Ring(8);
    const sq = ring.sq;
    const cq = ring.cq;
    const sqe = ring.getSqe()!;
    prepNop(sqe);
    ring.submitAndWait(1);
    const cqe = ring.peekCqe()!;
    const kring = cq.kring;
    ring.close();
    expect(sq.getSqe()).toBeNull();
    expect(sq.flushSq()).toBe(0);
    expect(cq.cqReady()).toBe(0);
    expect(cq.peek()).toBeNull();
    expect(cq.needsFlush()).toBe(false);
    cq.advance(1);
    sqe.u32[0] = 0xdeadbeef; // lands in zeroed JS memory, not the unmapped ring
    expect(cqe.res).toBe(0);
    expect(cq.words.every((w) => w === 0)).toBe(true);
    expect(kring).not.toBe(cq.kring);
  });

  test("a resize retires the old queues the same way", () => {
    if (!kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN)) return;
    const ring = new Ring(8, { deferTaskrun: true });
    try {
      const oldCq = ring.cq;
      const oldSq = ring.sq;
      expect(ring.resizeRings(16)).toBe(0);
      expect(ring.cq).not.toBe(oldCq);
      expect(oldSq.getSqe()).toBeNull();
      expect(oldCq.peek()).toBeNull();
      prepNop(ring.getSqe()!);
      expect(ring.submitAndWait(1)).toBe(1);
      expect(ring.peekCqe()!.res).toBe(0);
    } finally {
      ring.close();
    }
  });
});

describe.skipIf(!kernelHasSetupFlag(SetupFlags.DEFER_TASKRUN))("resizing a ring a Uring drives", () => {
  // Before issue 13 the engine kept its own copies of the CQ views: the first reap after a resize segfaulted.
  test("with requests in flight: they complete on the new rings, and new ones work", async () => {
    const uring = new Uring({ entries: 8 });
    const f = openFifo(tmp.dir);
    try {
      const buf = new Uint8Array(4);
      const pending = uring.read(f.fd, buf, -1);
      await uring.nop();
      expect(uring.ring.resizeRings(64)).toBe(0);
      const nops = await Promise.all(Array.from({ length: 100 }, () => uring.nop()));
      expect(nops.every((r) => r === 0)).toBe(true);
      writeSync(f.fd, "pong");
      expect(await pending).toBe(4);
      expect(new TextDecoder().decode(buf)).toBe("pong");
      expect(uring.ring.resizeRings(8)).toBe(0);
      expect(await uring.nop()).toBe(0);
    } finally {
      f.close();
      uring.close();
    }
  });
});
