/**
 * One fuzz process: runs a list of calls (test/fuzz/gen.ts) against live
 * objects, with canary arrays allocated around every buffer it makes and
 * checked after every call. Usage: `bun test/fuzz/child.ts <calls.json> <report.json>`.
 *
 * Exit 0: every call returned or threw (any exception is fine: that is the
 * library refusing). Exit 3: a canary changed (memory corruption); the
 * report names the call. A signal death or a hang is seen by the parent.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Uring } from "../../src/async/uring.ts";
import { AlignedBuffer } from "../../src/mem/aligned.ts";
import { BufferRing } from "../../src/mem/buffer-ring.ts";
import { FixedBuffers } from "../../src/mem/fixed-buffers.ts";
import { TcpServer } from "../../src/net/server.ts";
import { sockaddrIn } from "../../src/ops/sockaddr.ts";
import { Ring } from "../../src/ring/ring.ts";
import { openFifo } from "../helpers.ts";
import type { Arg, Call, Target } from "./gen.ts";

const [callsPath, reportPath, portArg] = process.argv.slice(2);
const calls = JSON.parse(readFileSync(callsPath!, "utf8")) as Call[];
const port = Number(portArg ?? 0);

const dir = mkdtempSync(join(tmpdir(), "uring-fuzz-"));
const fileFd = openSync(join(dir, "f"), "w+");
const fifo = openFifo(dir);
const pipeFds = [fifo.fd, fifo.fd];

/** Canaries: 64-byte arrays, each filled with its own index, allocated around every buffer. */
const canaries: Uint8Array[] = [];
function canary(): void {
  const c = new Uint8Array(64).fill(canaries.length & 0xff);
  canaries.push(c);
}
function canariesIntact(): number {
  for (let i = 0; i < canaries.length; i++) {
    const c = canaries[i]!;
    const v = i & 0xff;
    for (let j = 0; j < 64; j++) if (c[j] !== v) return i;
  }
  return -1;
}
for (let i = 0; i < 256; i++) canary();

const objects: Partial<Record<Target, unknown>> = {};
const kept: unknown[] = [];

function make(target: Target): unknown {
  switch (target) {
    case "ring":
      return new Ring(8);
    case "uring":
      return new Uring({ entries: 16 });
    case "server":
      return port > 0 ? new TcpServer({ host: "127.0.0.1", port, handler: { onData: () => false }, bufferCount: 8, bufferSize: 256, hugePages: false }) : null;
    case "aligned":
      return new AlignedBuffer(4096, 64, { mapped: calls.length % 2 === 0 });
    case "fixed": {
      const ring = objects.ring as Ring | undefined;
      return ring && !ring.isClosed ? new FixedBuffers(ring, 2, 4096) : null;
    }
    case "bufring": {
      const ring = objects.ring as Ring | undefined;
      return ring && !ring.isClosed ? new BufferRing(ring, { bgid: 7, count: 4, bufferSize: 256 }) : null;
    }
  }
}

function num(v: number | string): number {
  return typeof v === "number" ? v : Number(v);
}

function materialize(a: Arg): unknown {
  switch (a.k) {
    case "num":
      return num(a.v);
    case "big":
      return BigInt(a.v);
    case "str":
      return a.v;
    case "lit":
      return { null: null, undefined: undefined, true: true, obj: {}, arr: [], fn: () => {}, fakeBuf: { byteLength: 1 << 30, buffer: {} } }[a.v];
    case "buf": {
      canary();
      let b: unknown;
      switch (a.kind) {
        case "u8":
          b = new Uint8Array(a.n);
          break;
        case "u32":
          b = new Uint32Array(a.n >>> 2);
          break;
        case "dv":
          b = new DataView(new ArrayBuffer(a.n));
          break;
        case "sab":
          b = new Uint8Array(new SharedArrayBuffer(a.n));
          break;
        case "sub":
          b = new Uint8Array(a.n + 8).subarray(8);
          break;
        case "detached": {
          const d = new Uint8Array(a.n);
          d.buffer.transfer();
          b = d;
          break;
        }
        case "aligned": {
          const al = objects.aligned as AlignedBuffer | undefined;
          b = al && !al.freed ? al.bytes : new Uint8Array(a.n);
          break;
        }
        case "fixed": {
          const fx = objects.fixed as FixedBuffers | undefined;
          try {
            b = fx ? fx.view(0) : new Uint8Array(a.n);
          } catch {
            b = new Uint8Array(a.n);
          }
          break;
        }
      }
      canary();
      kept.push(b);
      return b;
    }
    case "bufs": {
      const list = [];
      for (let i = 0; i < a.count; i++) list.push(materialize({ k: "buf", n: a.n, kind: "u8" }));
      return list;
    }
    case "fd":
      return { file: fileFd, pipeR: pipeFds[0], pipeW: pipeFds[1], bad: 99999 }[a.which];
    case "sockaddr":
      return sockaddrIn("127.0.0.1", 9);
    case "path":
      return join(dir, a.name);
    case "opts": {
      const which = a.which;
      const v = which === "signal" ? AbortSignal.abort() : which === "bufferRing" ? objects.bufring : which === "driver" ? "run" : materialize(a.v);
      return { [which]: v };
    }
  }
}

const report = { done: 0, canary: -1, failedCall: -1 };
const promises: Promise<unknown>[] = [];

function close(obj: unknown): void {
  if (obj === null || obj === undefined) return;
  const o = obj as { close?: () => void; free?: () => void };
  try {
    if (typeof o.close === "function") o.close();
    else if (typeof o.free === "function") o.free();
  } catch {
    // Refusals are fine.
  }
}

for (const t of ["ring", "uring", "aligned", "fixed", "bufring", "server"] as const) {
  try {
    objects[t] = make(t);
  } catch {
    // The environment refused (a port another process took, say): that target sits this run out.
    objects[t] = null;
  }
}

for (let i = 0; i < calls.length; i++) {
  const c = calls[i]!;
  // Progress for the parent: the last index it saw names the call a hang is stuck in.
  process.stderr.write(`@${i}\n`);
  try {
    if (c.member === "new") {
      if (c.target === "ring") {
        close(objects.fixed);
        close(objects.bufring);
      }
      close(objects[c.target]);
      objects[c.target] = make(c.target);
    } else if (c.member === "close") {
      close(objects[c.target]);
    } else {
      const obj = objects[c.target] as Record<string, unknown> | null;
      if (obj !== null && obj !== undefined) {
        const args = c.args.map(materialize);
        const d = findDescriptor(obj, c.member);
        const r = d?.get !== undefined ? Reflect.get(obj, c.member) : (obj[c.member] as (...a: unknown[]) => unknown).apply(obj, args);
        if (r instanceof Promise) promises.push(r.catch(() => {}));
        else if (r !== null && typeof r === "object" && typeof (r as { return?: unknown }).return === "function") kept.push(r);
      }
    }
  } catch {
    // Any exception is the library refusing: fine.
  }
  const bad = canariesIntact();
  if (bad >= 0) {
    report.canary = bad;
    report.failedCall = i;
    report.done = i + 1;
    writeFileSync(reportPath!, JSON.stringify(report));
    process.exit(3);
  }
  report.done = i + 1;
}

function findDescriptor(obj: object, key: string): PropertyDescriptor | undefined {
  for (let p = Object.getPrototypeOf(obj); p !== null; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d !== undefined) return d;
  }
  return undefined;
}

// Let what completes complete (pipes and sleeps may not: close cancels them), then tear down.
await Promise.race([Promise.allSettled(promises), Bun.sleep(200)]);
Bun.gc(true);
for (const t of ["fixed", "bufring", "server", "uring", "ring", "aligned"] as const) close(objects[t]);
Bun.gc(true);
const bad = canariesIntact();
if (bad >= 0) {
  report.canary = bad;
  writeFileSync(reportPath!, JSON.stringify(report));
  process.exit(3);
}
writeFileSync(reportPath!, JSON.stringify(report));
// The calls may have closed these fds already (uring.closeFd is fair game).
try {
  closeSync(fileFd);
} catch {}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
