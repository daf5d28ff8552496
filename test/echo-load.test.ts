/**
 * The load generator's checks catch wrong echoes: a server that corrupts a
 * byte, one that answers with extra bytes, and one that hangs up. Each bad
 * server is a tiny Bun.listen script in a child process (the generator's
 * run loop blocks this thread).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { runLoad } from "../cli/echo/load.ts";
import { freePort } from "../cli/echo/processes.ts";
import type { Subprocess } from "bun";

const HOST = "127.0.0.1";
let child: Subprocess | null = null;

afterEach(async () => {
  child?.kill("SIGKILL");
  await child?.exited;
  child = null;
});

/** Starts a Bun.listen server whose data handler is `body` (socket, data in scope). */
async function badServer(body: string): Promise<number> {
  const port = await freePort(HOST);
  const src = `Bun.listen({ hostname: "${HOST}", port: ${port}, socket: { data(socket, data) { ${body} }, error() {} } }); console.log("READY");`;
  child = Bun.spawn({ cmd: [process.execPath, "-e", src], stdout: "pipe", stderr: "inherit" });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  expect(new TextDecoder().decode(value)).toContain("READY");
  return port;
}

describe("load generator checks", () => {
  test("a corrupted byte is a content error", async () => {
    const port = await badServer(`const d = new Uint8Array(data); d[d.length - 1] ^= 0xff; socket.write(d);`);
    const r = runLoad({ host: HOST, port, connections: 4, bytes: 256, durationMs: 200, warmupMs: 20, checkEvery: 1 });
    expect(r.errorKinds.content).toBeGreaterThan(0);
    expect(r.errors).toBeGreaterThan(0);
  });

  test("extra bytes are a length error", async () => {
    const port = await badServer(`socket.write(data); socket.write(new Uint8Array([1, 2, 3]));`);
    const r = runLoad({ host: HOST, port, connections: 4, bytes: 256, durationMs: 200, warmupMs: 20 });
    expect(r.errorKinds.length + r.errorKinds.content).toBeGreaterThan(0);
  });

  test("a server that hangs up is reported, and the run still ends", async () => {
    const port = await badServer(`socket.end();`);
    const r = runLoad({ host: HOST, port, connections: 4, bytes: 64, durationMs: 300, warmupMs: 20 });
    expect(r.connectionsAlive).toBe(0);
    expect(r.errorKinds.eof + r.errorKinds.reset + r.errorKinds.send).toBe(4);
    expect(r.notes.join(" ")).toContain("lost");
  });

  test("nothing listening: a clear error", async () => {
    const port = await freePort(HOST);
    expect(() => runLoad({ host: HOST, port, connections: 2, bytes: 64, durationMs: 100, warmupMs: 0 })).toThrow(/nothing is listening/);
  });
});
