#!/usr/bin/env bun
/**
 * The read half of a lookup request without HTTP: what K random 4 KiB
 * page-cache reads plus the checksum cost per request in each reader, with
 * one event-loop turn (setImmediate) per round of R concurrent requests, as
 * a server sees them. CPU per request from process.cpuUsage (user + system),
 * variants interleaved round-robin, median of the repetitions. Also a C-free
 * floor for the kernel side: `pread-only` is K preads with no checksum and
 * no Promise, `turn-only` is the event-loop turn alone.
 *
 * Usage: bun cli/lookup/floor.ts --file PATH [--keys 1,8] [--concurrent 16] [--ms 1000] [--reps 5]
 * (pin it: taskset -c 0 bun cli/lookup/floor.ts ...)
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { Uring } from "../../src/async/index.ts";
import { MAX_KEYS, PAGE, sumPages } from "./pages.ts";

const argv = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : def;
};
const path = arg("--file", "");
if (path === "") {
  process.stderr.write("usage: floor.ts --file PATH [--keys 1,8] [--concurrent 16] [--ms 1000] [--reps 5]\n");
  process.exit(2);
}
const keysList = arg("--keys", "1,8").split(",").map(Number);
const concurrent = Number(arg("--concurrent", "16"));
const ms = Number(arg("--ms", "1000"));
const reps = Number(arg("--reps", "5"));
const pageCount = Math.floor(statSync(path).size / PAGE);
const fd = openSync(path, "r");
const uring = new Uring({ entries: 256 });
const uringImm = new Uring({ entries: 256, submit: "immediate" });
const slabs = Array.from({ length: concurrent }, () => new Uint8Array(new SharedArrayBuffer(MAX_KEYS * PAGE)));

let seed = 12345;
function nextPage(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % pageCount;
}

type Request = (slab: Uint8Array, pages: number[]) => Promise<number> | number;

/** The pages as one readMany on `u`, then their checksum. */
async function readManyPages(u: Uring, slab: Uint8Array, pages: number[]): Promise<number> {
  await u.readMany(
    fd,
    slab,
    pages.map((p) => p * PAGE),
    PAGE,
  );
  return sumPages(slab, pages.length);
}

const variants: Record<string, Request> = {
  "turn-only": () => 0,
  "pread-only": (slab, pages) => {
    for (let i = 0; i < pages.length; i++) readSync(fd, slab, i * PAGE, PAGE, pages[i]! * PAGE);
    return 0;
  },
  "sync-pread": (slab, pages) => {
    for (let i = 0; i < pages.length; i++) readSync(fd, slab, i * PAGE, PAGE, pages[i]! * PAGE);
    return sumPages(slab, pages.length);
  },
  uring: async (slab, pages) => {
    const reads = pages.map((p, i) => uring.read(fd, slab.subarray(i * PAGE, (i + 1) * PAGE), p * PAGE));
    for (const r of await Promise.allSettled(reads)) if (r.status === "rejected") throw r.reason;
    return sumPages(slab, pages.length);
  },
  "uring-batch": (slab, pages) => readManyPages(uring, slab, pages),
  "uring-batch-imm": (slab, pages) => readManyPages(uringImm, slab, pages),
};

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Runs `req` for `ms`: rounds of `concurrent` requests, one event-loop turn per round. CPU µs per request. */
async function measure(req: Request, keys: number): Promise<number> {
  const pages: number[][] = Array.from({ length: concurrent }, () => new Array(keys).fill(0));
  let done = 0;
  const c0 = process.cpuUsage();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const round: Array<Promise<number> | number> = [];
    for (let r = 0; r < concurrent; r++) {
      const p = pages[r]!;
      for (let i = 0; i < keys; i++) p[i] = nextPage();
      round.push(req(slabs[r]!, p));
    }
    await Promise.all(round);
    done += concurrent;
    await turn();
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / done;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const keys of keysList) {
  const per: Record<string, number[]> = {};
  for (const name of Object.keys(variants)) await measure(variants[name]!, keys); // warm-up
  for (let rep = 0; rep < reps; rep++) for (const name of Object.keys(variants)) (per[name] ??= []).push(await measure(variants[name]!, keys));
  const row = Object.entries(per).map(([name, xs]) => `${name} ${median(xs).toFixed(2)}`);
  console.log(`K=${keys} concurrent=${concurrent} CPU µs/request (median of ${reps}): ${row.join(", ")}`);
}
uring.close();
uringImm.close();
closeSync(fd);
