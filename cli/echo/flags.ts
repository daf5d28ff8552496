/**
 * The echo command's own flag parsers and its parsed options: loopback-only
 * addresses, the --connect target, counts and sizes (through the CLI's one
 * size parser). Each parser throws the CLI's one OptionError naming the flag.
 * And what a run covers (cells and servers), checked before anything starts.
 */
import { ensureFdLimit } from "../../src/net/limits.ts";
import { parseHostPort, parseIpv4 } from "../../src/ops/sockaddr.ts";
import { OptionError } from "../harness/option-error.ts";
import { sizeFlag } from "../harness/size.ts";
import { SERVER_NAMES, SERVERS, type ClientName, type ServerName } from "./servers.ts";
import { matrixCells, type EchoCell } from "./variants.ts";

/** Largest message: the load generator keeps one per connection in memory, and echo is about round trips. */
export const MAX_BYTES = 1 << 20;

/** -c/--connections: a positive count (4k = 4096). */
export const connectionsFlag = sizeFlag("-c/--connections", { min: 1, what: "a positive integer" });
/** -b/--bytes: a message size from 1 byte to 1 MiB. */
export const bytesFlag = sizeFlag("-b/--bytes", { min: 1, max: MAX_BYTES, what: "a message size from 1 byte to 1 MiB (1m)" });
/** --port: a TCP port. */
export const portFlag = sizeFlag("--port", { min: 1, max: 65535, what: "a TCP port from 1 to 65535" });

/** The host must be a loopback address: this benchmark never leaves the machine. */
export function loopbackHost(value: string): string {
  let octets: number[];
  try {
    octets = parseIpv4(value);
  } catch (err) {
    throw new OptionError(`--host: ${(err as Error).message}`);
  }
  if (octets[0] !== 127) throw new OptionError(`--host ${value}: echo runs on loopback only; use 127.0.0.1.`);
  return value === "localhost" ? "127.0.0.1" : value;
}

/** --connect HOST:PORT, on loopback. */
export function connectTarget(value: string): { host: string; port: number } {
  let t: { host: string; port: number };
  try {
    t = parseHostPort(value, "--connect");
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
  loopbackHost(t.host);
  return t;
}

/** The echo command's options as commander hands them over (common options in the rest). */
export interface EchoOpts {
  connections: number;
  bytes: number;
  servers?: ServerName[];
  matrix?: boolean;
  serverCpu?: number[];
  clientCpu?: number[];
  serve?: boolean;
  server?: ServerName;
  port?: number;
  host: string;
  connect?: { host: string; port: number };
  uringSetup: string;
  client: ClientName;
  [k: string]: unknown;
}

/** What an echo run covers: its cells, the servers asked for, and those of them that can run here. */
export interface EchoScope {
  cells: EchoCell[];
  servers: ServerName[];
  usable: ServerName[];
}

/**
 * The cells (--matrix, or -c × -b) and servers (--servers, default all) of an
 * echo run, closed or open loop. Fails fast, before anything starts: when the
 * connections cannot get fds, or when a server named in --servers cannot run
 * here (one that is only part of the default is left out instead).
 */
export function echoScope(raw: Pick<EchoOpts, "matrix" | "connections" | "bytes" | "servers">): EchoScope {
  const cells: EchoCell[] = raw.matrix ? matrixCells() : [{ connections: raw.connections, bytes: raw.bytes }];
  ensureFdLimit(Math.max(...cells.map((c) => c.connections)));
  const servers: ServerName[] = raw.servers ?? [...SERVER_NAMES];
  for (const s of servers) {
    const why = SERVERS[s].unavailable();
    if (why && raw.servers) throw new OptionError(`--servers ${s}: ${why}`);
  }
  return { cells, servers, usable: servers.filter((s) => SERVERS[s].unavailable() === null) };
}
