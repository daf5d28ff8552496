#!/usr/bin/env bun
/**
 * The io_uring echo server (variants `uring` and `uring-sqpoll`): a
 * {@link TcpServer} whose handler sends every received buffer straight back
 * (no copy), driven by the run loop.
 *
 * Usage: bun server-uring.ts --port P [--host 127.0.0.1] [--setup defer|coop|none|sqpoll]
 *        [--submit-every N] [--buffers N] [--buffer-size BYTES] [--small-pages] [--plain-fds]   (TcpServerOptions, for experiments)
 * Prints `READY <port> <setup flags>[ direct-descriptors]` when listening. Exits with its parent.
 */
import { TcpServer } from "../../src/net/server.ts";
import { raiseFdLimitToHard } from "../../src/net/limits.ts";
import { setupFlagNames } from "../../src/ring/setup.ts";
import { URING_SETUPS } from "./setups.ts";

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
  let server: TcpServer;
  const handler = {
    onData(conn: number, bid: number, len: number): boolean {
      server.sendBuffer(conn, bid, len);
      return true;
    },
    onTick(): void {
      // Exit with the parent (a SIGKILLed benchmark leaves no server behind).
      if (process.ppid !== parent) process.exit(0);
    },
  };
  server = new TcpServer({
    host,
    port,
    handler,
    ring,
    submitEvery: arg("--submit-every") ? Number(arg("--submit-every")) : undefined,
    bufferCount: arg("--buffers") ? Number(arg("--buffers")) : undefined,
    bufferSize: arg("--buffer-size") ? Number(arg("--buffer-size")) : undefined,
    hugePages: !argv.includes("--small-pages"),
    directDescriptors: !argv.includes("--plain-fds"),
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
