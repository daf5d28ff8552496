/**
 * The body of one {@link TcpServerGroup} Worker: pin the thread (optional),
 * build the user's handler from its module, open a TcpServer on the shared
 * port (SO_REUSEPORT), report ready, run the loop until the group's stop
 * word is set, close every connection and the ring, report the final stats.
 * Any error (startup, handler, ring) is posted to the group, never swallowed.
 */
import { workerData, parentPort } from "node:worker_threads";
import { gettid, schedGetAffinity, schedSetAffinity } from "../sys/ffi.ts";
import { Control, type GroupWorkerData, type GroupWorkerMessage } from "./group-protocol.ts";
import { fastRingOptions, TcpServer, type TcpHandler, type TcpServerStats } from "./server.ts";

/** What a handler module exports (as `createHandler` or `default`): one handler per Worker's server. */
export type HandlerFactory = (server: TcpServer, context: HandlerContext) => TcpHandler | Promise<TcpHandler>;

/** What a handler factory learns about its Worker. */
export interface HandlerContext {
  /** This Worker's index in the group, 0-based. */
  worker: number;
  /** Workers in the group. */
  workers: number;
  /** `handlerData` given to TcpServerGroup.start (structured clone). */
  data: unknown;
}

const data = workerData as GroupWorkerData;
const control = new Int32Array(data.control);
const post = (m: GroupWorkerMessage): void => parentPort!.postMessage(m);

/** TcpServer counters, whether the server exposes them as a field or a method. */
function statsOf(server: TcpServer): TcpServerStats {
  const s = (server as unknown as { stats: TcpServerStats | (() => TcpServerStats) }).stats;
  return { ...(typeof s === "function" ? s.call(server) : s) };
}

function reportError(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: "error", index: data.index, name: e.name, message: e.message, stack: e.stack });
}

/** Forwards the server's events to the user's handler, adding the group's stop and stats checks to its tick. */
function forwarding(target: { handler: TcpHandler | null }, onTick: () => void): TcpHandler {
  return {
    onOpen: (conn) => target.handler!.onOpen?.(conn),
    onData: (conn, bid, len) => target.handler!.onData(conn, bid, len),
    onEnd: (conn) => {
      const h = target.handler!;
      // Without a user onEnd the server's default (close after pending sends) must run: end() is that default.
      if (h.onEnd !== undefined) h.onEnd(conn);
      else serverRef?.end(conn);
    },
    onClose: (conn, errno) => target.handler!.onClose?.(conn, errno),
    onTick: () => {
      onTick();
      target.handler?.onTick?.();
    },
  };
}

let serverRef: TcpServer | null = null;

async function main(): Promise<void> {
  if (data.cpu >= 0) {
    const rc = schedSetAffinity(0, 2 ** data.cpu);
    if (rc < 0) throw new Error(`TcpServerGroup worker ${data.index}: pinning to CPU ${data.cpu} failed (errno ${-rc})`);
  }
  const mod = (await import(data.handler)) as { createHandler?: HandlerFactory; default?: HandlerFactory };
  const factory = mod.createHandler ?? mod.default;
  if (typeof factory !== "function") {
    throw new TypeError(
      `TcpServerGroup: handler module ${data.handler} must export createHandler(server, context) (or a default function) returning a TcpHandler`,
    );
  }
  const target: { handler: TcpHandler | null } = { handler: null };
  let statsSeen = Atomics.load(control, Control.STATS_SEQ);
  const { ring: ringSetup, ...serverOptions } = data.server;
  const ring = ringSetup ?? fastRingOptions();
  const server = new TcpServer({
    ...serverOptions,
    host: data.host,
    port: data.port,
    reusePort: true,
    ring: data.attachWq >= 0 ? { ...ring, attachWq: data.attachWq } : ring,
    handler: forwarding(target, () => {
      if (Atomics.load(control, Control.STOP) !== 0) server.stop();
      const seq = Atomics.load(control, Control.STATS_SEQ);
      if (seq !== statsSeen) {
        statsSeen = seq;
        post({ type: "stats", index: data.index, seq, stats: statsOf(server), connections: server.connections });
      }
    }),
  });
  serverRef = server;
  try {
    target.handler = await factory(server, { worker: data.index, workers: data.workers, data: data.handlerData });
    if (target.handler === null || typeof target.handler !== "object" || typeof target.handler.onData !== "function") {
      throw new TypeError(`TcpServerGroup: the handler factory of ${data.handler} must return an object with onData(conn, bid, len)`);
    }
    post({
      type: "ready",
      index: data.index,
      ringFd: server.ring.fd,
      ringFlags: server.ring.flags,
      port: server.port,
      tid: gettid(),
      cpuMask: schedGetAffinity(0),
    });
    // A stop requested while we started is seen at the first tick or wake-up.
    server.run();
  } catch (err) {
    reportError(err); // before "closed", so the group knows this Worker failed
  } finally {
    // Every connection closes with the ring's file table (or by fd), then the listener and the ring.
    const stats = statsOf(server);
    server.close();
    post({ type: "closed", index: data.index, stats });
  }
}

main().catch(reportError);
