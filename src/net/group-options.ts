/**
 * The TcpServer options a {@link TcpServerGroup} hands every Worker, checked
 * in the parent before any Worker starts: each crosses `postMessage`, so it
 * must be plain data (no handler function, no ring object), and a wrong value
 * is cheaper to report here, naming the field, than as a Worker's start error.
 */
import type { GroupRingOptions, GroupServerOptions } from "./group-protocol.ts";

/** Integer options and the least value each takes (what TcpServer and the policy accept). */
const INTEGER_OPTIONS: Record<string, number> = {
  entries: 1,
  bufferCount: 1,
  bufferSize: 1,
  backlog: 1,
  submitEvery: 0,
  batchWaitUs: 0,
  batchWaitCompletions: 1,
  maxConnections: 1,
  connectionBuffers: 1,
  reserveBuffers: 0,
  maxSendBytes: 1,
  idleTimeoutMs: 0,
};

/** Boolean options of TcpServer. */
const BOOLEAN_OPTIONS = new Set(["hugePages", "directDescriptors", "noDelay"]);

/** Boolean ring setup options (RingOptions); `disabled` is left out: a ring created disabled cannot serve. */
const RING_BOOLEANS = new Set([
  "restoreIowqConcurrency",
  "iopoll",
  "clamp",
  "submitAll",
  "coopTaskrun",
  "singleIssuer",
  "deferTaskrun",
  "sqe128",
  "cqe32",
  "cqeMixed",
  "noSqArray",
  "noMmap",
  "hybridIopoll",
  "registerRingFd",
]);

/** What the group, not the caller, sets in each Worker's TcpServer options, and where the caller says it instead. */
const GROUP_OWNED: Record<string, string> = {
  handler: "the group's `handler` option (a module URL each Worker imports)",
  host: "the group's `host` option",
  port: "the group's `port` option",
  reusePort: "nothing: every Worker listens with SO_REUSEPORT",
  reuseAddr: "nothing: every Worker sets SO_REUSEADDR",
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function fail(kind: "type" | "range", message: string): never {
  const text = `TcpServerGroup: ${message}`;
  throw kind === "type" ? new TypeError(text) : new RangeError(text);
}

function checkInteger(path: string, value: unknown, min: number): void {
  if (typeof value !== "number" || !Number.isInteger(value)) fail("type", `${path} must be an integer >= ${min}, got ${String(value)}`);
  if (value < min) fail("range", `${path} must be an integer >= ${min}, got ${value}`);
}

function checkRing(ring: unknown): void {
  if (!isPlainObject(ring)) fail("type", `server.ring must be a plain object of ring setup options (RingOptions), got ${String(ring)}`);
  for (const [key, value] of Object.entries(ring)) {
    if (value === undefined) continue;
    const path = `server.ring.${key}`;
    if (RING_BOOLEANS.has(key)) {
      if (typeof value !== "boolean") fail("type", `${path} must be a boolean, got ${String(value)}`);
    } else if (key === "flags") {
      checkInteger(path, value, 0);
    } else if (key === "cqEntries") {
      checkInteger(path, value, 1);
    } else if (key === "sqpoll") {
      if (typeof value === "boolean") continue;
      if (!isPlainObject(value)) fail("type", `${path} must be a boolean or { idleMs?, cpu? }, got ${String(value)}`);
      for (const [k, v] of Object.entries(value)) {
        if (k !== "idleMs" && k !== "cpu") fail("type", `${path}.${k} is not an SQPOLL option (idleMs, cpu)`);
        if (v !== undefined) checkInteger(`${path}.${k}`, v, 0);
      }
    } else if (key === "attachWq") {
      fail("type", "server.ring.attachWq is the group's own: pass attachWq: true to TcpServerGroup.start (Workers 1..N-1 attach to Worker 0)");
    } else if (key === "disabled") {
      fail("type", "server.ring.disabled: a Worker's ring must be enabled to serve (R_DISABLED is for rings given restrictions first)");
    } else {
      fail("type", `server.ring.${key} is not a ring setup option`);
    }
  }
}

/**
 * Throws a TypeError or RangeError naming the field when `options` cannot be
 * given to every Worker's TcpServer: an unknown or group-owned key, a value of
 * the wrong type or range, or anything structured clone cannot copy.
 */
export function validateGroupServerOptions(options: unknown): asserts options is GroupServerOptions | undefined {
  if (options === undefined) return;
  if (!isPlainObject(options)) fail("type", `server must be a plain object of TcpServer options, got ${String(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const path = `server.${key}`;
    if (key in INTEGER_OPTIONS) checkInteger(path, value, INTEGER_OPTIONS[key]!);
    else if (BOOLEAN_OPTIONS.has(key)) {
      if (typeof value !== "boolean") fail("type", `${path} must be a boolean, got ${String(value)}`);
    } else if (key === "tickMs") {
      if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) fail("range", `${path} must be a positive number of ms, got ${String(value)}`);
    } else if (key === "ring") checkRing(value);
    else if (key in GROUP_OWNED) fail("type", `${path} is set by the group: use ${GROUP_OWNED[key]}`);
    else fail("type", `${path} is not a TcpServer option a group can pass to its Workers`);
  }
  // Every field above is a number, a boolean or a plain object of them; this catches what a getter or a proxy hides.
  try {
    structuredClone(options);
  } catch (err) {
    fail("type", `server options must be structured-clone-safe to reach the Workers: ${(err as Error).message}`);
  }
}

export type { GroupRingOptions, GroupServerOptions };
