/**
 * TcpServerGroup (src/net/group.ts): N Workers, each a TcpServer on one
 * SO_REUSEPORT port. Echo correctness across Workers, connections spread,
 * clean close (no Worker, no fd left), errors reported at start and after.
 */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { TcpServerGroup } from "../src/net/group.ts";
import { freePort } from "../cli/echo/processes.ts";
import { countFds, kernelCanRunGroups } from "./helpers.ts";

// Not a timing assertion: starting and closing Worker groups takes seconds on a busy machine; waits poll to their own deadlines.
setDefaultTimeout(120_000);

const HANDLER = new URL("./fixtures/group-echo-handler.ts", import.meta.url);
const HOST = "127.0.0.1";

const canRun = kernelCanRunGroups();

/** A client connection that collects what it receives. */
class Client {
  readonly socket: Socket;
  received = "";
  closed = false;
  readonly connected: Promise<void>;
  constructor(port: number) {
    this.socket = connect(port, HOST);
    this.socket.setEncoding("utf8");
    this.socket.on("data", (d: string) => (this.received += d));
    this.socket.on("close", () => (this.closed = true));
    this.socket.on("error", () => {});
    this.connected = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
  }
  /** Sends `msg` and waits (with a deadline) until everything sent so far has come back. */
  async roundTrip(msg: string, expected: string): Promise<void> {
    this.socket.write(msg);
    await until(() => this.received.length >= expected.length, `echo of ${JSON.stringify(msg)}`);
  }
}

/** Polls `cond` until it holds or the deadline passes. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** The fd count returns to `baseline` (fds close as Workers exit). */
async function fdsSettle(baseline: number): Promise<number> {
  const end = Date.now() + 5000;
  while (countFds() > baseline && Date.now() < end) await Bun.sleep(10);
  return countFds();
}

describe.skipIf(!canRun)("TcpServerGroup", () => {
  test("echo is correct across 2 Workers, connections spread, close ends every connection", async () => {
    const port = await freePort(HOST);
    const group = await TcpServerGroup.start({ workers: 2, port, handler: HANDLER });
    const clients: Client[] = [];
    try {
      expect(group.workers.length).toBe(2);
      expect(new Set(group.workers.map((w) => w.tid)).size).toBe(2);
      for (let i = 0; i < 32; i++) clients.push(new Client(port));
      await Promise.all(clients.map((c) => c.connected));
      await Promise.all(
        clients.map(async (c, i) => {
          let all = "";
          for (let k = 0; k < 3; k++) {
            const msg = `conn ${i} message ${k} ${"x".repeat(i * 10)}|`;
            all += msg;
            await c.roundTrip(msg, all);
          }
          expect(c.received).toBe(all);
        }),
      );
      const stats = await group.stats();
      expect(stats.length).toBe(2);
      expect(stats.reduce((n, s) => n + (s.stats?.accepted ?? 0), 0)).toBe(32);
      // SO_REUSEPORT hashes the 4-tuple: with 32 connections both Workers get some (all on one: p = 2^-31).
      for (const s of stats) expect(s.stats?.accepted).toBeGreaterThan(0);
      expect(stats.reduce((n, s) => n + s.connections, 0)).toBe(32);
    } finally {
      const final = await group.close();
      expect(final.length).toBe(2);
    }
    await until(() => clients.every((c) => c.closed), "every client to see its connection closed");
    expect(group.running).toBe(0);
  });

  test("close leaves no Worker and no fd behind; a second close is a no-op", async () => {
    const port = await freePort(HOST);
    const before = countFds();
    const group = await TcpServerGroup.start({ workers: 2, port, handler: HANDLER, attachWq: true });
    const c = new Client(port);
    await c.connected;
    await c.roundTrip("ping", "ping");
    await group.close();
    await group.close();
    await until(() => c.closed, "the client to see the close");
    expect(group.running).toBe(0);
    expect(await fdsSettle(before)).toBeLessThanOrEqual(before);
    // The port is free again: a plain listener can take it.
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once("error", reject).listen(port, HOST, () => resolve()));
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });

  test("an error in one Worker is reported; the other keeps serving; close rejects with it", async () => {
    const port = await freePort(HOST);
    const errors: Array<[Error, number]> = [];
    const group = await TcpServerGroup.start({ workers: 2, port, handler: HANDLER, onError: (e, w) => errors.push([e, w]) });
    try {
      const bad = new Client(port);
      await bad.connected;
      bad.socket.write("boom");
      await until(() => errors.length === 1, "the worker's error");
      expect(errors[0]![0].message).toMatch(/boom in worker \d/);
      await until(() => group.running === 1, "the failed worker to exit");
      await until(() => bad.closed, "the failed worker's connection to close");
      // Connections that hash to the surviving Worker are served; those that hash to the dead one's port are refused.
      let served = 0;
      for (let i = 0; i < 40 && served < 3; i++) {
        const c = new Client(port);
        const ok = await c.connected.then(
          () => true,
          () => false,
        );
        if (ok) {
          await c.roundTrip(`alive ${i}`, `alive ${i}`);
          served++;
        }
        c.socket.destroy();
      }
      expect(served).toBe(3);
    } finally {
      const err = await group.close().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AggregateError);
      expect((err as AggregateError).errors.length).toBe(1);
    }
  });

  test("a Worker that cannot start rejects start() and no Worker or fd is left", async () => {
    const port = await freePort(HOST);
    const before = countFds();
    await expect(TcpServerGroup.start({ workers: 2, port, handler: HANDLER, handlerData: { failFactory: true } })).rejects.toThrow(/factory refused/);
    expect(await fdsSettle(before)).toBeLessThanOrEqual(before);
    // A port held by a listener without SO_REUSEPORT: EADDRINUSE, said plainly. The listener takes
    // a port of its own choosing (port 0), so nothing else on the machine can race it for one.
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, HOST, () => resolve()));
    try {
      const held = (srv.address() as AddressInfo).port;
      await expect(TcpServerGroup.start({ workers: 2, port: held, handler: HANDLER })).rejects.toThrow(/in use/);
    } finally {
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
    await expect(TcpServerGroup.start({ workers: 0, port, handler: HANDLER })).rejects.toThrow(/workers must be/);
  });
});
