#!/usr/bin/env bun
/**
 * The io_uring echo server (variants `uring` and `uring-sqpoll`): a
 * {@link TcpServer} whose handler sends every received buffer straight back
 * (no copy), driven by the run loop.
 *
 * Usage: bun server-uring.ts --port P [--host 127.0.0.1] [--setup defer|coop|none|sqpoll]
 *        [--submit-every N] [--buffers N] [--buffer-size BYTES] [--small-pages] [--plain-fds]   (TcpServerOptions, for experiments)
 *        [--max-connections N] [--connection-buffers N] [--reserve-buffers N] [--max-send-bytes BYTES] [--idle-timeout MS]   (the resource policy)
 *        [--threads N]   (N Workers, a ring and an SO_REUSEPORT listener each: server-uring-threads.ts)
 *        [--batch-wait-us US]   (TcpServerOptions.batchWaitUs; default: the ECHO_MIN_WAIT_US environment variable, which c-uring reads too, so one run batches both alike)
 *        [--tick-ms MS] [--stats-file PATH]   (write server.stats() as JSON to PATH at each tick when it changed: what the fault tests read)
 * Prints `READY <port> <setup flags>[ direct-descriptors]` when listening. Exits with its parent.
 */
import { renameSync, writeFileSync } from "node:fs";
import { TcpServer } from "../../src/net/server.ts";
import { raiseFdLimitToHard } from "../../src/net/limits.ts";
import { setupFlagNames } from "../../src/ring/setup.ts";
import { URING_SETUPS } from "./setups.ts";
import { serveThreads } from "./server-uring-threads.ts";

/** Parses argv and serves until killed. */
export function main(argv: string[]): void {
  const arg = (name: string, fallback?: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const port = Number(arg("--port"));
  const host = arg("--host", "127.0.0.1")!;
  const setup = arg("--setup", "defer")!;
  const ring = URING_SETUPS[setup];
  if (!ring) throw new Error(`--setup ${setup}: choose from ${Object.keys(URING_SETUPS).join(", ")}`);
  raiseFdLimitToHard();
  const parent = process.ppid;
  const num = (name: string): number | undefined => (arg(name) === undefined ? undefined : Number(arg(name)));
  const threads = num("--threads");
  const batchWaitUs = num("--batch-wait-us") ?? (process.env.ECHO_MIN_WAIT_US ? Number(process.env.ECHO_MIN_WAIT_US) : undefined);
  // Any --threads (1 too) runs a TcpServerGroup: `echo --rate R --threads 1,2` compares 1 Worker with 2, not the plain server with 2.
  if (threads !== undefined) {
    serveThreads(host, port, threads, {
      ring,
      submitEvery: num("--submit-every"),
      bufferCount: num("--buffers"),
      bufferSize: num("--buffer-size"),
      hugePages: !argv.includes("--small-pages"),
      directDescriptors: !argv.includes("--plain-fds"),
      maxConnections: num("--max-connections"),
      batchWaitUs,
    }).catch((err: unknown) => {
      process.stderr.write(`uring echo server: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
    return;
  }
  const statsFile = arg("--stats-file");
  let lastStats = "";
  let server: TcpServer;
  const handler = {
    onData(conn: number, bid: number, len: number): boolean {
      server.sendBuffer(conn, bid, len);
      return true;
    },
    onTick(): void {
      // Exit with the parent (a SIGKILLed benchmark leaves no server behind).
      if (process.ppid !== parent) process.exit(0);
      if (statsFile) {
        const text = JSON.stringify({ ...server.stats(), bufferCount: server.buffers.count });
        if (text !== lastStats) {
          // Written whole, then renamed: a reader never sees half a file.
          writeFileSync(`${statsFile}.tmp`, text);
          renameSync(`${statsFile}.tmp`, statsFile);
          lastStats = text;
        }
      }
    },
  };
  server = new TcpServer({
    host,
    port,
    handler,
    ring,
    submitEvery: num("--submit-every"),
    bufferCount: arg("--buffers") ? Number(arg("--buffers")) : undefined,
    bufferSize: arg("--buffer-size") ? Number(arg("--buffer-size")) : undefined,
    hugePages: !argv.includes("--small-pages"),
    directDescriptors: !argv.includes("--plain-fds"),
    maxConnections: num("--max-connections"),
    connectionBuffers: num("--connection-buffers"),
    reserveBuffers: num("--reserve-buffers"),
    maxSendBytes: num("--max-send-bytes"),
    idleTimeoutMs: num("--idle-timeout"),
    tickMs: num("--tick-ms"),
    batchWaitUs,
  });
  const flags = setupFlagNames(server.ring.flags).join("|") || "none";
  process.stdout.write(`READY ${server.port} ${flags}${server.directDescriptors ? " direct-descriptors" : ""}\n`);
  server.run();
}

if (import.meta.main) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`uring echo server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
