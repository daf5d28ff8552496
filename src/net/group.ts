/**
 * `TcpServerGroup`: one {@link TcpServer} per Bun Worker, thread-per-core.
 *
 * Each Worker owns a ring, a provided-buffer ring and a listening socket on
 * the same port (SO_REUSEPORT); the kernel spreads incoming connections over
 * the listeners by a hash of the 4-tuple, and a connection stays on the
 * Worker that accepted it for its whole life: no locks, no shared queues, no
 * cross-thread wake-ups on the data path. The handler is a module each
 * Worker imports (functions cannot cross `postMessage`):
 *
 * ```ts
 * // echo-handler.ts
 * export function createHandler(server: TcpServer): TcpHandler {
 *   return { onData: (conn, bid, len) => (server.sendBuffer(conn, bid, len), true) };
 * }
 * // main.ts
 * const group = await TcpServerGroup.start({ workers: 2, port: 9000, handler: new URL("./echo-handler.ts", import.meta.url) });
 * ...
 * await group.close(); // every connection closed, every Worker gone
 * ```
 *
 * Control: a Worker's thread sits in its server's blocking run loop and
 * cannot take `postMessage`, so the group writes requests (stop, stats) into
 * shared control words and wakes the Worker's ring with a MSG_RING that lands
 * as the server's tick; the tick reads the words. The tick itself is the
 * fallback (every `tickMs`).
 */
import { prepMsgRing } from "../ops/msg-ring.ts";
import { Ring } from "../ring/ring.ts";
import { Op } from "../sys/constants.ts";
import { validateGroupServerOptions } from "./group-options.ts";
import { Control, type GroupServerOptions, type GroupWorkerData, type GroupWorkerMessage } from "./group-protocol.ts";
import { Kind, udLo } from "./kinds.ts";
import type { TcpServerStats } from "./server.ts";
import { syncOp } from "./sync.ts";

export type { GroupRingOptions, GroupServerOptions } from "./group-protocol.ts";
export type { HandlerContext, HandlerFactory } from "./group-worker.ts";

/** Options of {@link TcpServerGroup.start}. */
export interface TcpServerGroupOptions {
  /** Workers, each with its own ring and listener (default: 1). One per core is the usual choice. */
  workers?: number;
  /** TCP port every Worker listens on (SO_REUSEPORT). Must be a number: port 0 would give each Worker a different port. */
  port: number;
  /** IPv4 address to bind (default 127.0.0.1). */
  host?: string;
  /**
   * The handler module (URL or absolute path): exports `createHandler(server, context)`
   * (or a default function) returning the Worker's TcpHandler. See {@link HandlerFactory}.
   */
  handler: string | URL;
  /** Passed to each handler factory as `context.data` (structured clone). */
  handlerData?: unknown;
  /**
   * TcpServer options for every Worker, the resource policy and the ring setup
   * included (plain data: checked here, then cloned to each Worker; start()
   * throws a TypeError or RangeError naming a bad field). The group's default
   * tick is 100 ms (the stop fallback).
   */
  server?: GroupServerOptions;
  /**
   * ATTACH_WQ: Workers 1..N-1 attach their rings to Worker 0's. Off by default:
   * since 5.12 io-wq workers belong to the submitting thread, and what the
   * rings then share is the hashing that serialises buffered writes to one
   * file (and an SQPOLL thread, which these servers do not use).
   */
  attachWq?: boolean;
  /** Pin Worker i's thread to CPU `cpus[i % cpus.length]` (sched_setaffinity). Default: not pinned. */
  cpus?: readonly number[];
  /**
   * Called for each error a Worker reports after the group started (that Worker
   * has closed its server and exited; the others keep serving). Without it,
   * errors are printed with console.error. Either way {@link close} rejects with them.
   */
  onError?: (error: Error, worker: number) => void;
  /** Longest wait for every Worker to be listening, ms (default 10 000). */
  startTimeoutMs?: number;
  /** Longest wait for the Workers to close and exit, ms (default 10 000); late ones are terminated. */
  closeTimeoutMs?: number;
}

/** One Worker of a started group. */
export interface GroupWorkerInfo {
  /** Index in the group. */
  readonly index: number;
  /** Its ring's fd (process-wide: a MSG_RING target). */
  readonly ringFd: number;
  /** The IORING_SETUP_* flags its ring was created with. */
  readonly ringFlags: number;
  /** Its thread id. */
  readonly tid: number;
  /** Its CPU affinity mask as it started (bit i = CPU i). */
  readonly cpuMask: number;
}

/** Counters of one Worker's server. */
export interface GroupWorkerStats {
  index: number;
  /** Connections open when it answered (0 after close). */
  connections: number;
  /** Its server's counters; null when the Worker exited without reporting them (it failed to start, or was terminated). */
  stats: TcpServerStats | null;
}

/** Defaults with why. */
const GROUP_DEFAULTS = {
  /** Stop fallback when a wake-up is lost: short enough for tests and restarts, long enough to cost nothing. */
  tickMs: 100,
  startTimeoutMs: 10_000,
  closeTimeoutMs: 10_000,
} as const;

/** An Error rebuilt from a Worker's report. */
function errorFrom(m: Extract<GroupWorkerMessage, { type: "error" }>): Error {
  const err = new Error(`TcpServerGroup worker ${m.index}: ${m.message}`);
  err.name = m.name;
  if (m.stack !== undefined) err.stack = `${err.name}: ${err.message}\n(in worker ${m.index})\n${m.stack}`;
  return err;
}

/** One Worker's lifecycle, as the group sees it. */
class Member {
  readonly worker: Worker;
  info: GroupWorkerInfo | null = null;
  finalStats: TcpServerStats | null = null;
  exited = false;
  readonly exitedPromise: Promise<void>;
  readonly ready: Promise<GroupWorkerInfo>;
  onMessage: (m: GroupWorkerMessage) => void = () => {};

  constructor(
    readonly index: number,
    workerData: GroupWorkerData,
    onError: (err: Error) => void,
  ) {
    this.worker = new Worker(new URL("./group-worker.ts", import.meta.url).href, { workerData } as WorkerOptions);
    let resolveReady!: (info: GroupWorkerInfo) => void;
    let rejectReady!: (err: Error) => void;
    this.ready = new Promise((res, rej) => ((resolveReady = res), (rejectReady = rej)));
    this.ready.catch(() => {}); // observed by start(); a late failure goes to onError
    let started = false;
    this.exitedPromise = new Promise<void>((resolve) => {
      this.worker.addEventListener("close", () => {
        this.exited = true;
        if (!started) rejectReady(new Error(`TcpServerGroup worker ${index} exited before it was listening`));
        resolve();
      });
    });
    this.worker.addEventListener("error", (e: Event) => {
      const ev = e as ErrorEvent;
      const err = ev.error instanceof Error ? ev.error : new Error(`TcpServerGroup worker ${index}: ${ev.message}`);
      if (!started) rejectReady(err);
      else onError(err);
    });
    this.worker.addEventListener("message", (e: MessageEvent) => {
      const m = e.data as GroupWorkerMessage;
      if (m.type === "ready") {
        started = true;
        this.info = { index, ringFd: m.ringFd, ringFlags: m.ringFlags, tid: m.tid, cpuMask: m.cpuMask };
        resolveReady(this.info);
      } else if (m.type === "error") {
        const err = errorFrom(m);
        if (!started) rejectReady(err);
        else onError(err);
      } else if (m.type === "closed") {
        this.finalStats = m.stats;
      }
      this.onMessage(m);
    });
  }
}

/** N TcpServers, one per Worker, on one port. See the module comment. */
export class TcpServerGroup {
  /** The port every Worker listens on. */
  readonly port: number;
  /** Errors the Workers reported (also passed to `onError`). */
  readonly errors: Error[] = [];
  readonly #members: Member[];
  readonly #control: Int32Array;
  /** A small ring of our own, only to send MSG_RINGs to the Workers' rings. */
  readonly #ring: Ring;
  readonly #closeTimeoutMs: number;
  #closing: Promise<GroupWorkerStats[]> | null = null;

  private constructor(port: number, members: Member[], control: Int32Array, ring: Ring, closeTimeoutMs: number) {
    this.port = port;
    this.#members = members;
    this.#control = control;
    this.#ring = ring;
    this.#closeTimeoutMs = closeTimeoutMs;
  }

  /**
   * Starts the Workers and resolves once every one is listening. Rejects (and
   * stops the Workers already started) when any fails to start: port in use,
   * bad handler module, kernel too old.
   */
  static async start(options: TcpServerGroupOptions): Promise<TcpServerGroup> {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`TcpServerGroup: workers must be an integer >= 1, got ${workers}`);
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new RangeError(`TcpServerGroup: port must be 1-65535 (every Worker binds the same port), got ${options.port}`);
    }
    validateGroupServerOptions(options.server);
    const handler = options.handler instanceof URL ? options.handler.href : options.handler.startsWith("/") ? `file://${options.handler}` : options.handler;
    const control = new Int32Array(new SharedArrayBuffer(Control.WORDS * 4));
    const ring = new Ring(8);
    const members: Member[] = [];
    // Errors before start() resolves reject it; after, they go to the group (set below).
    let group: TcpServerGroup | null = null;
    const early: Error[] = [];
    const report = (err: Error, index: number): void => {
      if (group === null) early.push(err);
      else group.#report(err, index, options.onError);
    };
    const spawn = (index: number, attachWq: number): Member => {
      const cpus = options.cpus;
      const data: GroupWorkerData = {
        index,
        workers,
        host: options.host ?? "127.0.0.1",
        port: options.port,
        handler,
        handlerData: options.handlerData,
        server: { tickMs: GROUP_DEFAULTS.tickMs, ...options.server },
        control: control.buffer as SharedArrayBuffer,
        attachWq,
        cpu: cpus !== undefined && cpus.length > 0 ? cpus[index % cpus.length]! : -1,
      };
      const m = new Member(index, data, (err) => report(err, index));
      members.push(m);
      return m;
    };
    const deadline = options.startTimeoutMs ?? GROUP_DEFAULTS.startTimeoutMs;
    const closeTimeoutMs = options.closeTimeoutMs ?? GROUP_DEFAULTS.closeTimeoutMs;
    try {
      if (options.attachWq === true) {
        // Worker 0 first: the others attach to its ring.
        const first = await withDeadline(spawn(0, -1).ready, deadline, "worker 0 to listen");
        for (let i = 1; i < workers; i++) spawn(i, first.ringFd);
      } else {
        for (let i = 0; i < workers; i++) spawn(i, -1);
      }
      await withDeadline(Promise.all(members.map((m) => m.ready)), deadline, `${workers} workers to listen`);
    } catch (err) {
      const g = new TcpServerGroup(options.port, members, control, ring, closeTimeoutMs);
      await g.close().catch(() => {});
      throw err;
    }
    group = new TcpServerGroup(options.port, members, control, ring, closeTimeoutMs);
    for (const err of early) group.#report(err, -1, options.onError);
    return group;
  }

  /** The Workers (ring fd, thread id, CPU mask). */
  get workers(): readonly GroupWorkerInfo[] {
    return this.#members.map((m) => m.info).filter((i): i is GroupWorkerInfo => i !== null);
  }

  /** Workers still running. */
  get running(): number {
    return this.#members.filter((m) => !m.exited && m.finalStats === null).length;
  }

  /** Each running Worker's counters, asked for now (answered at its next wake-up). */
  async stats(): Promise<GroupWorkerStats[]> {
    const seq = Atomics.add(this.#control, Control.STATS_SEQ, 1) + 1;
    const live = this.#members.filter((m) => !m.exited && m.finalStats === null);
    const answers = live.map(
      (m) =>
        new Promise<GroupWorkerStats>((resolve) => {
          const prev = m.onMessage;
          const done = (s: GroupWorkerStats): void => {
            m.onMessage = prev;
            resolve(s);
          };
          m.onMessage = (msg) => {
            prev(msg);
            if (msg.type === "stats" && msg.seq >= seq) done({ index: m.index, connections: msg.connections, stats: msg.stats });
            else if (msg.type === "closed") done({ index: m.index, connections: 0, stats: msg.stats });
          };
          void m.exitedPromise.then(() => done({ index: m.index, connections: 0, stats: m.finalStats }));
        }),
    );
    this.#wakeAll();
    return withDeadline(Promise.all(answers), this.#closeTimeoutMs, "the workers' stats");
  }

  /**
   * Stops every Worker: each closes its connections, listener and ring, then
   * exits. Resolves with each Worker's final counters once all have exited;
   * rejects with the errors Workers reported (an AggregateError) if any did.
   * Idempotent.
   */
  close(): Promise<GroupWorkerStats[]> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** `await using group = await TcpServerGroup.start(...)` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<GroupWorkerStats[]> {
    Atomics.store(this.#control, Control.STOP, 1);
    this.#wakeAll();
    const all = Promise.all(this.#members.map((m) => m.exitedPromise));
    try {
      await withDeadline(all, this.#closeTimeoutMs, "the workers to close");
    } catch (err) {
      this.errors.push(err as Error);
      for (const m of this.#members) if (!m.exited) m.worker.terminate();
      await all;
    }
    this.#ring.close();
    if (this.errors.length > 0) throw new AggregateError(this.errors, `TcpServerGroup: ${this.errors.length} worker error(s): ${this.errors[0]!.message}`);
    return this.#members.map((m) => ({ index: m.index, connections: 0, stats: m.finalStats }));
  }

  #report(err: Error, index: number, onError: TcpServerGroupOptions["onError"]): void {
    this.errors.push(err);
    if (onError !== undefined) onError(err, index);
    else console.error(err);
  }

  /** Wakes every running Worker's ring: a MSG_RING that its server takes as a tick (then it reads the control words). */
  #wakeAll(): void {
    if (!this.#ring.opSupported(Op.MSG_RING)) return; // the tick alone will do
    for (const m of this.#members) {
      // A Worker that has reported "closed" may have closed its ring: its fd number could belong to something else now.
      if (m.info === null || m.exited || m.finalStats !== null) continue;
      syncOp(this.#ring, (sqe) => prepMsgRing(sqe, m.info!.ringFd, 0, udLo(Kind.TIMER, 0), 0));
    }
  }
}

/** `p`, or a rejection naming what was awaited once `ms` pass. */
function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`TcpServerGroup: timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
