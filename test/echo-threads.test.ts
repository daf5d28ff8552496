/**
 * `echo --threads N` (cli/echo/threads.ts): every threaded server echoes
 * every byte right on 2 threads (the load generator checks each echo), says
 * so in its READY line, and a server that cannot run threaded is refused
 * before anything starts; load results of parallel generators merge.
 */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { runLoad, type LoadResult } from "../cli/echo/load.ts";
import { startServer, stopServer } from "../cli/echo/processes.ts";
import { SERVERS } from "../cli/echo/servers.ts";
import { checkThreads, mergeLoadResults, threadedServers, threadPlan, threadsListFlag, withThreads } from "../cli/echo/threads.ts";
import { openLoopVariants } from "../cli/echo/open-loop.ts";
import { serverVariants } from "../cli/echo/variants.ts";
import { Op } from "../src/sys/constants.ts";
import { kernelHasOp } from "./helpers.ts";

// Not a timing assertion: starting threaded servers (Workers, cluster) takes seconds on a busy machine.
setDefaultTimeout(120_000);

const HOST = "127.0.0.1";
const haveNetOps = kernelHasOp(Op.SOCKET) && kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN) && kernelHasOp(Op.MSG_RING);

for (const name of threadedServers()) {
  const skip = SERVERS[name].unavailable() !== null || (name === "uring" && !haveNetOps);
  test.skipIf(skip)(`${name} on 2 threads: 40 connections, every echo right`, async () => {
    const server = await startServer(name, HOST, 0, undefined, undefined, 2);
    try {
      expect(server.detail).toMatch(/threads=2|workers=2/);
      const r = runLoad({ host: HOST, port: server.port, connections: 40, bytes: 512, durationMs: 250, warmupMs: 50, checkEvery: 1 });
      expect(r.errorKinds).toEqual({ length: 0, content: 0, reset: 0, eof: 0, send: 0 });
      expect(r.connectionsAlive).toBe(40);
      expect(r.roundTrips).toBeGreaterThan(40);
    } finally {
      await stopServer(server);
    }
  });
}

// `--threads 1,2`: the 1-thread row runs the threaded form too (a 1-Worker group, a pinned pthread), pinned as the 2-thread one.
for (const name of threadedServers().filter((s) => s !== "node" && s !== "bun")) {
  const skip = SERVERS[name].unavailable() !== null || (name === "uring" && !haveNetOps);
  test.skipIf(skip)(`${name} started with an explicit 1 thread runs its threaded form, pinned, and echoes`, async () => {
    const server = await startServer(name, HOST, 0, [0], undefined, 1, true);
    try {
      expect(server.detail).toMatch(/(threads|workers)=1 cpus=0$/);
      const r = runLoad({ host: HOST, port: server.port, connections: 8, bytes: 128, durationMs: 150, warmupMs: 50, checkEvery: 1 });
      expect(r.errors).toBe(0);
      expect(r.connectionsAlive).toBe(8);
    } finally {
      await stopServer(server);
    }
  });
}

describe("options", () => {
  test("--threads takes one count or a list; a list runs a cell per count, in the threaded form even for 1", () => {
    const parse = threadsListFlag("--threads");
    expect(parse("2")).toEqual([2]);
    expect(parse("1, 2")).toEqual([1, 2]);
    expect(() => parse("0")).toThrow(/--threads/);
    expect(threadPlan(undefined)).toEqual({ threads: 1 });
    expect(threadPlan([3])).toEqual({ threads: 3 });
    expect(threadPlan([1, 2])).toEqual({ threads: 2, counts: [1, 2] });
    expect(withThreads("c-uring", ["echo_liburing", "9000", "127.0.0.1"], 1, true)).toEqual(["echo_liburing", "9000", "127.0.0.1", "1"]);
    expect(withThreads("uring", ["bun", "s.ts"], 1, true)).toEqual(["bun", "s.ts", "--threads", "1"]);
    expect(() => checkThreads(["uring-sqpoll"], 1, true)).toThrow(/uring-sqpoll cannot run threaded/);
    const cell = { connections: 10, bytes: 64 };
    const shape = { arrival: "uniform", maxInflight: 0, syscalls: false } as const;
    const open = openLoopVariants([cell], [5000], ["uring", "c-uring"], { host: HOST, threadCounts: [1, 2] }, shape);
    expect(open.map((v) => `${v.name} ${v.cell}`)).toEqual([
      "uring c:10 bytes:64 rate:5000 threads:1",
      "c-uring c:10 bytes:64 rate:5000 threads:1",
      "uring c:10 bytes:64 rate:5000 threads:2",
      "c-uring c:10 bytes:64 rate:5000 threads:2",
    ]);
    expect(openLoopVariants([cell], [5000], ["uring"], { host: HOST }, shape).map((v) => v.cell)).toEqual(["c:10 bytes:64 rate:5000"]);
    expect(serverVariants([cell], ["c-epoll"], { host: HOST, threadCounts: [1, 2] }).map((v) => v.cell)).toEqual([
      "c:10 bytes:64 threads:1",
      "c:10 bytes:64 threads:2",
    ]);
  });

  test("uring-sqpoll cannot run threaded: refused naming the servers that can", () => {
    expect(() => checkThreads(["uring", "uring-sqpoll"], 2)).toThrow(/uring-sqpoll cannot run threaded/);
    expect(() => checkThreads(["uring-sqpoll"], 1)).not.toThrow();
  });

  test("thread arguments: flags for ours, the third positional for the C servers, nothing for 1", () => {
    expect(withThreads("uring", ["bun", "s.ts"], 3)).toEqual(["bun", "s.ts", "--threads", "3"]);
    expect(withThreads("c-uring", ["echo_liburing", "9000", "127.0.0.1"], 2)).toEqual(["echo_liburing", "9000", "127.0.0.1", "2"]);
    expect(withThreads("c-epoll", ["echo_epoll", "9000", "127.0.0.1"], 1)).toEqual(["echo_epoll", "9000", "127.0.0.1"]);
  });

  test("merged load results: counts add, mean latency weighted, percentiles the largest (noted)", () => {
    const one = (roundTrips: number, mean: number, p99: number, serverCpu: number): LoadResult => ({
      roundTrips,
      seconds: 1,
      bytes: roundTrips * 10,
      latencyUs: { p50: mean, p99, p999: p99, mean },
      clientCpu: 0.5,
      serverCpu,
      errors: 1,
      errorKinds: { length: 1, content: 0, reset: 0, eof: 0, send: 0 },
      connectionsAlive: 5,
      entersPerRoundTrip: 0.5,
      notes: [],
    });
    const m = mergeLoadResults([one(100, 10, 50, 0.4), one(300, 20, 40, 0.6)]);
    expect(m.roundTrips).toBe(400);
    expect(m.bytes).toBe(4000);
    expect(m.latencyUs.mean).toBeCloseTo(17.5, 9);
    expect(m.latencyUs.p99).toBe(50);
    expect(m.clientCpu).toBe(1);
    expect(m.serverCpu).toBeCloseTo(0.5, 9);
    expect(m.errors).toBe(2);
    expect(m.errorKinds.length).toBe(2);
    expect(m.connectionsAlive).toBe(10);
    expect(m.notes.join(" ")).toMatch(/2 load generators merged/);
  });
});
