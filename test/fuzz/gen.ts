/**
 * The fuzzer's call generator: a seed becomes a list of calls, each a target
 * object, a member of its class (found by reflection, getters included) and
 * hostile arguments. Calls are plain JSON (values tagged, since JSON has no
 * NaN, Infinity or bigint), so a failing list can be replayed and shrunk.
 * Both the parent (run.ts) and the child (child.ts) import this.
 */
import { Uring } from "../../src/async/uring.ts";
import { AlignedBuffer } from "../../src/mem/aligned.ts";
import { BufferRing } from "../../src/mem/buffer-ring.ts";
import { FixedBuffers } from "../../src/mem/fixed-buffers.ts";
import { TcpServer } from "../../src/net/server.ts";
import { Ring } from "../../src/ring/ring.ts";

/** An argument, tagged so it survives JSON. */
export type Arg =
  | { k: "num"; v: number | string } // string: "NaN", "Infinity", "-Infinity"
  | { k: "big"; v: string }
  | { k: "str"; v: string }
  | { k: "lit"; v: "null" | "undefined" | "true" | "obj" | "arr" | "fn" | "fakeBuf" }
  | { k: "buf"; n: number; kind: "u8" | "u32" | "dv" | "sab" | "sub" | "detached" | "aligned" | "fixed" }
  | { k: "bufs"; n: number; count: number }
  | { k: "fd"; which: "file" | "pipeR" | "pipeW" | "bad" }
  | { k: "sockaddr" }
  | { k: "path"; name: string }
  | { k: "opts"; which: string; v: Arg };

/** One call: `target` names an object slot; `member` "new" recreates it, "close" closes it. */
export interface Call {
  target: Target;
  member: string;
  args: Arg[];
}

/** The objects under test. */
export type Target = "ring" | "uring" | "server" | "aligned" | "fixed" | "bufring";
export const TARGETS: readonly Target[] = ["ring", "uring", "server", "aligned", "fixed", "bufring"];

/**
 * Members never called, and why. Blocking by contract (a wait with nothing
 * in flight never returns, in liburing too) or raw by contract (an address
 * the kernel writes through; documented as unchecked).
 */
const SKIP: Record<Target, readonly string[]> = {
  ring: ["waitCqe", "waitCqeNr", "submitAndWait", "register", "enter", "submitAndWaitTimeout", "submitAndWaitMinTimeout", "waitCqeTimeout"],
  uring: ["submit", "chain"],
  // run() serves until stop().
  server: ["run"],
  aligned: [],
  fixed: [],
  bufring: [],
};

const CLASSES: Record<Target, { prototype: object }> = {
  ring: Ring,
  uring: Uring,
  server: TcpServer,
  aligned: AlignedBuffer,
  fixed: FixedBuffers,
  bufring: BufferRing,
};

/** Method and getter names of a class, its prototype chain included. */
export function membersOf(target: Target): string[] {
  const out: string[] = [];
  for (let p = CLASSES[target].prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Object.getOwnPropertyNames(p)) {
      if (key === "constructor" || SKIP[target].includes(key) || out.includes(key)) continue;
      const d = Object.getOwnPropertyDescriptor(p, key)!;
      if (d.get !== undefined || typeof d.value === "function") out.push(key);
    }
  }
  return out;
}

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMS: Array<number | string> = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  16,
  64,
  4096,
  65536,
  -1,
  -4096,
  "NaN",
  1.5,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 32 - 1,
  2 ** 53,
  -(2 ** 53),
  "Infinity",
  "-Infinity",
  1e308,
];
const BIGS = ["0", "-1", "4096", "18446744073709551615", "340282366920938463463374607431768211456"];
const LEN = [0, 1, 8, 16, 64, 256, 4096, 65536];
const OPT_KEYS = ["length", "timeout", "flags", "signal", "multishot", "bufferRing", "dirfd", "mask", "bgid", "count", "bufferSize", "entries", "driver"];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function genArg(r: () => number, depth = 0): Arg {
  const x = r();
  if (x < 0.3) return { k: "num", v: pick(r, NUMS) };
  if (x < 0.35) return { k: "big", v: pick(r, BIGS) };
  if (x < 0.4) return { k: "str", v: pick(r, ["", "x", "/", "\0"]) };
  if (x < 0.47) return { k: "lit", v: pick(r, ["null", "undefined", "true", "obj", "arr", "fn", "fakeBuf"] as const) };
  if (x < 0.67) return { k: "buf", n: pick(r, LEN), kind: pick(r, ["u8", "u8", "u32", "dv", "sab", "sub", "detached", "aligned", "fixed"] as const) };
  if (x < 0.7) return { k: "bufs", n: pick(r, LEN), count: pick(r, [0, 1, 2, 5]) };
  if (x < 0.8) return { k: "fd", which: pick(r, ["file", "pipeR", "pipeW", "bad"] as const) };
  if (x < 0.83) return { k: "sockaddr" };
  if (x < 0.86) return { k: "path", name: pick(r, ["a", "b", "dir", "missing/x"]) };
  if (depth > 0) return { k: "num", v: pick(r, NUMS) };
  return { k: "opts", which: pick(r, OPT_KEYS), v: genArg(r, depth + 1) };
}

/** `n` calls from `seed`. */
export function generate(seed: number, n: number): Call[] {
  const r = rng(seed);
  const members = Object.fromEntries(TARGETS.map((t) => [t, membersOf(t)])) as Record<Target, string[]>;
  const calls: Call[] = [];
  for (let i = 0; i < n; i++) {
    const target = pick(r, TARGETS);
    const x = r();
    const member = x < 0.02 ? "close" : x < 0.04 ? "new" : pick(r, members[target]);
    const nargs = Math.floor(r() * 6);
    const args: Arg[] = [];
    for (let j = 0; j < nargs; j++) args.push(genArg(r));
    calls.push({ target, member, args });
  }
  return calls;
}
