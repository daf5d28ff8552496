/**
 * TcpServerGroup's `server` options (src/net/group-options.ts): checked in
 * the parent with an error naming the field, and, once cloned to the Workers,
 * in effect there: the resource policy (a maxConnections limit refuses in a
 * Worker) and the ring setup (the Worker's ring has the flags asked for).
 */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { connect, type Socket } from "node:net";
import { TcpServerGroup } from "../src/net/group.ts";
import { validateGroupServerOptions } from "../src/net/group-options.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { freePort } from "../cli/echo/processes.ts";
import { kernelCanRunGroups } from "./helpers.ts";

// Not a timing assertion: starting and closing Worker groups takes seconds on a busy machine; waits poll to their own deadlines.
setDefaultTimeout(120_000);

const HANDLER = new URL("./fixtures/group-echo-handler.ts", import.meta.url);
const HOST = "127.0.0.1";

const canRun = kernelCanRunGroups();

/** Polls `cond` until it holds or the deadline passes. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** A connected client that collects what it receives and notes its close. */
async function client(port: number): Promise<{ socket: Socket; got: () => string; closed: () => boolean }> {
  const socket = connect(port, HOST);
  let received = "";
  let closed = false;
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (received += d));
  socket.on("close", () => (closed = true));
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => socket.once("connect", () => resolve()).once("error", reject));
  return { socket, got: () => received, closed: () => closed };
}

describe("validateGroupServerOptions", () => {
  test("accepts the policy, the ring setup and the buffers as plain data", () => {
    expect(() =>
      validateGroupServerOptions({
        maxConnections: 10,
        connectionBuffers: 8,
        reserveBuffers: 0,
        maxSendBytes: 65536,
        idleTimeoutMs: 0,
        bufferCount: 1024,
        hugePages: false,
        tickMs: 50,
        ring: { coopTaskrun: true, cqEntries: 1024, sqpoll: { idleMs: 10 } },
      }),
    ).not.toThrow();
    expect(() => validateGroupServerOptions(undefined)).not.toThrow();
  });

  test.each([
    [{ maxConnections: 0 }, RangeError, /server\.maxConnections must be an integer >= 1, got 0/],
    [{ idleTimeoutMs: 1.5 }, TypeError, /server\.idleTimeoutMs must be an integer/],
    [{ maxSendBytes: "1m" }, TypeError, /server\.maxSendBytes must be an integer/],
    [{ hugePages: 1 }, TypeError, /server\.hugePages must be a boolean/],
    [{ tickMs: 0 }, RangeError, /server\.tickMs must be a positive number/],
    [{ handler: { onData: () => false } }, TypeError, /server\.handler is set by the group/],
    [{ port: 80 }, TypeError, /server\.port is set by the group/],
    [{ pauseAtBuffers: 4 }, TypeError, /server\.pauseAtBuffers is not a TcpServer option/],
    [{ ring: { attachWq: 3 } }, TypeError, /server\.ring\.attachWq is the group's own/],
    [{ ring: { deferTaskrun: "yes" } }, TypeError, /server\.ring\.deferTaskrun must be a boolean/],
    [{ ring: { sqpoll: { idle: 5 } } }, TypeError, /server\.ring\.sqpoll\.idle is not an SQPOLL option/],
    [{ ring: { disabled: true } }, TypeError, /server\.ring\.disabled/],
    [{ ring: new Map() }, TypeError, /server\.ring must be a plain object/],
  ] as const)("rejects %p with a message naming the field", (options, kind, message) => {
    let caught: unknown = null;
    try {
      validateGroupServerOptions(options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(kind);
    expect((caught as Error).message).toMatch(message);
  });

  test("start() rejects a bad option before any Worker starts", async () => {
    await expect(TcpServerGroup.start({ workers: 2, port: 9, handler: HANDLER, server: { maxConnections: -1 } })).rejects.toThrow(/server\.maxConnections/);
  });
});

describe.skipIf(!canRun)("TcpServerGroup passes the policy and the ring setup to its Workers", () => {
  test("maxConnections: 1 refuses a second connection in the Worker, the first keeps its echo", async () => {
    const port = await freePort(HOST);
    const group = await TcpServerGroup.start({ workers: 1, port, handler: HANDLER, server: { maxConnections: 1 } });
    try {
      const first = await client(port);
      first.socket.write("one");
      await until(() => first.got() === "one", "the first connection's echo");
      const second = await client(port);
      await until(() => second.closed(), "the second connection to be refused");
      expect(second.got()).toBe("");
      const [w] = await group.stats();
      expect(w!.stats!.closes.refused).toBe(1);
      expect(w!.stats!.open).toBe(1);
      first.socket.write("two");
      await until(() => first.got() === "onetwo", "the first connection's second echo");
      first.socket.destroy();
    } finally {
      await group.close();
    }
  });

  test("ring: { coopTaskrun: true } gives each Worker a COOP_TASKRUN ring instead of the DEFER_TASKRUN default", async () => {
    const port = await freePort(HOST);
    const group = await TcpServerGroup.start({ workers: 2, port, handler: HANDLER, server: { ring: { coopTaskrun: true } } });
    try {
      expect(group.workers.length).toBe(2);
      for (const w of group.workers) {
        expect(w.ringFlags & SetupFlags.COOP_TASKRUN).toBe(SetupFlags.COOP_TASKRUN);
        expect(w.ringFlags & SetupFlags.DEFER_TASKRUN).toBe(0);
      }
      const c = await client(port);
      c.socket.write("coop");
      await until(() => c.got() === "coop", "the echo through a COOP_TASKRUN Worker");
      c.socket.destroy();
    } finally {
      await group.close();
    }
    const plain = await TcpServerGroup.start({ workers: 1, port, handler: HANDLER });
    try {
      expect(plain.workers[0]!.ringFlags & SetupFlags.DEFER_TASKRUN).toBe(SetupFlags.DEFER_TASKRUN);
    } finally {
      await plain.close();
    }
  });
});
