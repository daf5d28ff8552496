/**
 * The TcpServer API in-process: a handler that answers with new bytes
 * (send() of a JS buffer, not the ring buffer), orderly close on the peer's
 * EOF, onOpen/onClose, stop() from a handler, and no fd left open after close().
 * The run loop blocks this thread, so the client is a child process.
 */
import { expect, test } from "bun:test";
import { TcpServer } from "../src/net/server.ts";
import { freePort } from "../cli/echo/processes.ts";
import { Op } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp, openFds } from "./helpers.ts";

const HOST = "127.0.0.1";
const haveNetOps = kernelHasOp(Op.SOCKET) && kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN);

/**
 * Starts `client` (a bun -e script) and runs the server on this thread until
 * it stops (the run loop blocks), then closes it; returns what the client printed.
 */
async function serveClient(server: TcpServer, client: string): Promise<string> {
  const child = Bun.spawn({ cmd: [process.execPath, "-e", client], stdout: "pipe", stderr: "inherit" });
  try {
    server.run();
  } finally {
    server.close();
  }
  const out = await new Response(child.stdout).text();
  await child.exited;
  return out;
}

test.skipIf(!haveNetOps)(
  "a handler that uppercases, with send(), onOpen/onClose, stop() and no fd leak",
  async () => {
    const port = await freePort(HOST);
    const fdsBefore = openFds();
    const events: string[] = [];
    const deadline = Date.now() + 20_000;
    let server: TcpServer;
    let closed = 0;
    let finalStats: ReturnType<TcpServer["stats"]> | null = null;
    server = new TcpServer({
      host: HOST,
      port,
      tickMs: 50,
      handler: {
        onOpen(conn) {
          events.push(`open ${conn}`);
        },
        onData(conn, bid, len) {
          const text = new TextDecoder().decode(server.buffers.view(bid, len));
          server.send(conn, new TextEncoder().encode(text.toUpperCase()));
          return false; // the ring buffer goes back at once: send() holds its own bytes
        },
        onClose(conn, errno) {
          events.push(`close ${conn} ${errno}`);
          if (++closed === 3) {
            finalStats = server.stats(); // before close(): a closed server's methods throw
            server.stop();
          }
        },
        onTick() {
          if (Date.now() > deadline) server.stop();
        },
      },
    });
    const client = `
    const net = require("node:net");
    let done = 0;
    for (let i = 0; i < 3; i++) {
      const s = net.connect({ host: "${HOST}", port: ${port}, allowHalfOpen: true }, () => s.end("hello " + i));
      let got = "";
      s.on("data", (d) => (got += d));
      s.on("end", () => { console.log(got); if (++done === 3) process.exit(0); });
    }`;
    const out = await serveClient(server, client);
    expect(out.trim().split("\n").sort()).toEqual(["HELLO 0", "HELLO 1", "HELLO 2"]);
    expect(events.filter((e) => e.startsWith("open")).length).toBe(3);
    expect(events.filter((e) => e.startsWith("close") && e.endsWith(" 0")).length).toBe(3);
    expect(finalStats!.accepted).toBe(3);
    expect(finalStats!.closes.orderly).toBe(3);
    expect(finalStats!.open).toBe(0);
    // Bun closes a finished child's pipe fds on its own schedule: give it a moment.
    await expectNoNewFds(fdsBefore, "the server", 1_000);
  },
  30_000,
);

test.skipIf(!haveNetOps)(
  "20000 queued send()s on one connection: the queue grows, bytes arrive in order",
  async () => {
    const port = await freePort(HOST);
    const deadline = Date.now() + 20_000;
    const N = 20_000;
    let server: TcpServer;
    server = new TcpServer({
      host: HOST,
      port,
      tickMs: 50,
      bufferCount: 1024, // a small pool (2048 send entries) so it has to grow
      handler: {
        onData(conn) {
          for (let i = 0; i < N; i++) server.send(conn, new Uint8Array([i & 0xff]));
          return false;
        },
        onClose() {
          server.stop();
        },
        onTick() {
          if (Date.now() > deadline) server.stop();
        },
      },
    });
    const client = `
    const net = require("node:net");
    const s = net.connect({ host: "${HOST}", port: ${port}, allowHalfOpen: true }, () => s.end("go"));
    const chunks = [];
    s.on("data", (d) => chunks.push(Buffer.from(d)));
    s.on("end", () => {
      const all = Buffer.concat(chunks);
      let ok = all.length === ${N};
      for (let i = 0; ok && i < all.length; i++) if (all[i] !== (i & 0xff)) ok = false;
      console.log(all.length, ok);
      process.exit(0);
    });`;
    const out = await serveClient(server, client);
    expect(out.trim()).toBe(`${N} true`);
  },
  30_000,
);
