/**
 * The echo servers `uring-bench echo` can run, each as its own process: how
 * to start it and whether it can start here. Every server prints
 * `READY <port> [detail]` once it listens and exits with its parent.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const HERE = import.meta.dir;

/** Server names in table order; `bun` is the ratio baseline. */
export const SERVER_NAMES = ["uring", "uring-sqpoll", "bun", "node", "c-epoll", "c-uring"] as const;
/** One of {@link SERVER_NAMES}. */
export type ServerName = (typeof SERVER_NAMES)[number];

/** Servers that need io_uring: with io_uring switched off they are reported with the reason, and the others still run. */
export const URING_SERVERS: readonly ServerName[] = ["uring", "uring-sqpoll", "c-uring"];

/** Where the C epoll server is compiled at install (scripts/build-shim.mjs). */
export const C_EPOLL_PATH = join(ROOT, "build", "echo_epoll");

/** Where the C liburing server is compiled at install (needs liburing-dev). */
export const C_URING_PATH = join(ROOT, "build", "echo_liburing");

/** Where the C epoll load generator is compiled at install (--client c-epoll). */
export const C_CLIENT_PATH = join(ROOT, "build", "echo_client_epoll");

/** Load generators: ours on io_uring, or the C epoll reference (to show ours is not the bottleneck). */
export const CLIENT_NAMES = ["uring", "c-epoll"] as const;
/** One of {@link CLIENT_NAMES}. */
export type ClientName = (typeof CLIENT_NAMES)[number];

/** How to run one server. */
export interface ServerSpec {
  name: ServerName;
  /** One line for the help text and the README. */
  describe: string;
  /** The command line serving on `host:port`; `uringSetup` picks the uring server's ring setup (URING_SETUPS). */
  command(host: string, port: number, uringSetup?: string): string[];
  /** Why it cannot run here, or null when it can. */
  unavailable(): string | null;
}

/** The Bun executable running us (servers and the load generator use the same one). */
export function bunPath(): string {
  return process.execPath;
}

function nodePath(): string | null {
  return Bun.which("node");
}

/** Every server, by name. */
export const SERVERS: Record<ServerName, ServerSpec> = {
  uring: {
    name: "uring",
    describe:
      "TcpServer on io_uring (src/net), run-loop driver, DEFER_TASKRUN+SINGLE_ISSUER, multishot accept into direct descriptors + multishot recv into a buffer ring, echo sent straight from the ring buffer (no userspace copy)",
    command: (host, port, setup = "defer") => [bunPath(), join(HERE, "server-uring.ts"), "--host", host, "--port", String(port), "--setup", setup],
    unavailable: () => null,
  },
  "uring-sqpoll": {
    name: "uring-sqpoll",
    describe: "the same server with SQPOLL (a kernel thread submits; pinned with the server)",
    command: (host, port) => [bunPath(), join(HERE, "server-uring.ts"), "--host", host, "--port", String(port), "--setup", "sqpoll"],
    unavailable: () => null,
  },
  bun: {
    name: "bun",
    describe: "Bun.listen echo (Bun's native epoll loop)",
    command: (host, port) => [bunPath(), join(HERE, "server-bun.ts"), "--host", host, "--port", String(port)],
    unavailable: () => null,
  },
  node: {
    name: "node",
    describe: "node:net echo, run with node",
    command: (host, port) => [nodePath() ?? "node", join(HERE, "server-node.mjs"), "--host", host, "--port", String(port)],
    unavailable: () => (nodePath() ? null : "node is not on PATH: install Node.js or leave node out of --servers"),
  },
  "c-epoll": {
    name: "c-epoll",
    describe: "our one-thread C epoll echo server (c/echo_epoll.c, compiled at install)",
    command: (host, port) => [C_EPOLL_PATH, String(port), host],
    unavailable: () =>
      existsSync(C_EPOLL_PATH) ? null : `${C_EPOLL_PATH} is missing: run "npm run build:shim" (needs a C compiler) or leave c-epoll out of --servers`,
  },
  "c-uring": {
    name: "c-uring",
    describe:
      "the uring server's design in C on liburing (c/echo_liburing.c, compiled at install): multishot accept and recv into a buffer ring, echo sent from the ring buffer, plain fds",
    command: (host, port) => [C_URING_PATH, String(port), host],
    unavailable: () =>
      existsSync(C_URING_PATH)
        ? null
        : `${C_URING_PATH} is missing: run "npm run build:shim" (needs a C compiler and liburing-dev) or leave c-uring out of --servers`,
  },
};
