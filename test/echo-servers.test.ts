/**
 * Every echo server variant, small scale: the load generator checks each
 * echo's length and content (checkEvery 1: every byte of every message), for
 * a message that fits one ring buffer and one that spans several; and each
 * server finishes its echo on a half close.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as netConnect } from "node:net";
import { runLoad } from "../cli/echo/load.ts";
import { startServer, stopServer, type ServerProcess } from "../cli/echo/processes.ts";
import { SERVER_NAMES, SERVERS } from "../cli/echo/servers.ts";
import { Op } from "../src/sys/constants.ts";
import { kernelHasOp } from "./helpers.ts";

const HOST = "127.0.0.1";
const haveNetOps = kernelHasOp(Op.SOCKET) && kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN);

for (const name of SERVER_NAMES) {
  const why = SERVERS[name].unavailable();
  const skip = why !== null || (name.startsWith("uring") && !haveNetOps);
  describe.skipIf(skip)(`echo server ${name}`, () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer(name, HOST, 0, undefined);
    });
    afterAll(async () => {
      await stopServer(server);
    });

    test("20 connections × 512 bytes: every echo right", () => {
      const r = runLoad({ host: HOST, port: server.port, connections: 20, bytes: 512, durationMs: 250, warmupMs: 50, checkEvery: 1 });
      expect(r.errorKinds).toEqual({ length: 0, content: 0, reset: 0, eof: 0, send: 0 });
      expect(r.connectionsAlive).toBe(20);
      expect(r.roundTrips).toBeGreaterThan(20);
    });

    test("messages larger than one ring buffer (40 KiB): every echo right", () => {
      const r = runLoad({ host: HOST, port: server.port, connections: 8, bytes: 40_000, durationMs: 250, warmupMs: 50, checkEvery: 1 });
      expect(r.errors).toBe(0);
      expect(r.connectionsAlive).toBe(8);
      expect(r.roundTrips).toBeGreaterThan(8);
    });

    test("half close: the whole echo arrives, then the server closes", async () => {
      const data = Buffer.alloc(200_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      const got = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const s = netConnect({ host: HOST, port: server.port, allowHalfOpen: true }, () => s.end(data));
        s.on("data", (d) => chunks.push(Buffer.from(d)));
        s.on("end", () => resolve(Buffer.concat(chunks)));
        s.on("error", reject);
      });
      expect(got.equals(data)).toBe(true);
    });
  });
}
