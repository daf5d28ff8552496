/**
 * What {@link TcpServerGroup} (group.ts) and its Workers (group-worker.ts)
 * say to each other: the Worker's start data, its messages, and the shared
 * control words. Plain data only (it crosses `postMessage`).
 *
 * A Worker's thread sits in its server's blocking run loop, so it cannot
 * receive `postMessage`; the group talks to it through a SharedArrayBuffer
 * instead and wakes its ring with a MSG_RING when it has written something.
 */
import type { RingOptions } from "../ring/ring.ts";
import type { TcpPolicy } from "./policy.ts";
import type { TcpServerStats } from "./server.ts";

/** Control words (Int32Array over a SharedArrayBuffer), one set per group. */
export const Control = {
  /** Non-zero: every Worker stops its server, closes it and exits. */
  STOP: 0,
  /** Bumped by the group to ask for stats; each Worker answers once per bump. */
  STATS_SEQ: 1,
  /** Words in the control array. */
  WORDS: 2,
} as const;

/** Ring setup a group gives every Worker's ring: RingOptions without attachWq (the group's own `attachWq` option). */
export type GroupRingOptions = Omit<RingOptions, "attachWq">;

/**
 * Server options a group passes to every Worker's TcpServer: the
 * structured-cloneable subset of TcpServerOptions, each field meaning what it
 * means there, the resource policy (TcpPolicy: maxConnections,
 * connectionBuffers, reserveBuffers, maxSendBytes, idleTimeoutMs) and the ring
 * setup included. The handler, host, port and SO_REUSEPORT are the group's
 * own. Checked in the parent by validateGroupServerOptions (group-options.ts).
 */
export interface GroupServerOptions extends TcpPolicy {
  entries?: number;
  bufferCount?: number;
  bufferSize?: number;
  /** Ring setup of each Worker's ring (default: DEFER_TASKRUN + SINGLE_ISSUER where the kernel has them, as TcpServer). */
  ring?: GroupRingOptions;
  hugePages?: boolean;
  directDescriptors?: boolean;
  noDelay?: boolean;
  backlog?: number;
  submitEvery?: number;
  /** See TcpServerOptions.batchWaitUs. */
  batchWaitUs?: number;
  /** See TcpServerOptions.batchWaitCompletions. */
  batchWaitCompletions?: number;
  /** Run-loop tick (ms): also how late a stop is seen if the wake-up message is lost. */
  tickMs?: number;
}

/** `workerData` of a group Worker. */
export interface GroupWorkerData {
  index: number;
  workers: number;
  host: string;
  port: number;
  /** URL of the handler module (see {@link HandlerFactory}). */
  handler: string;
  handlerData: unknown;
  server: GroupServerOptions;
  control: SharedArrayBuffer;
  /** Ring fd to ATTACH_WQ to, or -1. */
  attachWq: number;
  /** CPU to pin this Worker's thread to, or -1. */
  cpu: number;
}

/** Messages from a group Worker. */
export type GroupWorkerMessage =
  | { type: "ready"; index: number; ringFd: number; ringFlags: number; port: number; tid: number; cpuMask: number }
  | { type: "stats"; index: number; seq: number; stats: TcpServerStats; connections: number }
  | { type: "closed"; index: number; stats: TcpServerStats }
  | { type: "error"; index: number; name: string; message: string; stack?: string };
