/**
 * The lookup benchmark's runner variants: one per (cell, server variant,
 * client). A variant starts its server in setup, runs one load generator per
 * repetition, and stops the server in teardown.
 */
import type { BenchVariant, Measurement } from "../harness/runner.ts";
import { stopChild } from "../harness/children.ts";
import type { LookupLoadResult } from "./load.ts";
import { runOurLoad, runWrk, startLookupServer, type LookupServer } from "./processes.ts";
import type { VariantName } from "./readers.ts";
import type { ArrivalKind } from "../harness/arrivals.ts";

/** Page cache state of a cell: warm (buffered, file read once before) or direct (O_DIRECT: every read goes to the device). */
export type CacheState = "warm" | "direct";

/** One workload cell. */
export interface LookupCell {
  keys: number;
  connections: number;
  cache: CacheState;
  /** Open loop at this many requests/s (absent: closed loop). */
  rate?: number;
}

/** Which load generator drives a variant. */
export type ClientKind = "ours" | "wrk";

/** "K:8 c:64 warm", "K:8 c:64 warm rate:2000". */
export function cellLabel(c: LookupCell): string {
  return `K:${c.keys} c:${c.connections} ${c.cache}${c.rate !== undefined ? ` rate:${c.rate}` : ""}`;
}

/** Above this fraction of its core the load generator, not the server, may be the limit. */
const CLIENT_BOUND = 0.9;

/** What the variants share. */
export interface VariantContext {
  path: string;
  pageCount: number;
  host: string;
  serverCpus: readonly number[];
  clientCpus: readonly number[];
  arrival?: ArrivalKind;
}

function measurement(r: LookupLoadResult, client: ClientKind): Measurement {
  const perReq = (x: number) => (r.requests > 0 ? x / r.requests : Number.NaN);
  const notes: string[] = [];
  if (r.firstError !== undefined) notes.push(`first error: ${r.firstError}`);
  if (r.clientCpu > CLIENT_BOUND) notes.push("client-bound");
  const extra: Record<string, number | string> = { client };
  if (r.serverCpu !== null) extra.serverUsPerReq = perReq(r.serverCpu * r.seconds * 1e6);
  if (Number.isFinite(r.enters)) extra.entersPerReq = perReq(r.enters);
  if (r.uncorrectedP99Us !== undefined) extra.uncorrectedP99Us = r.uncorrectedP99Us;
  if (r.sendLagP99Us !== undefined) extra.sendLagP99Us = r.sendLagP99Us;
  return {
    ops: r.requests,
    seconds: r.seconds,
    latencyUs: r.latencyUs,
    cpu: { server: r.serverCpu ?? undefined, client: Number.isFinite(r.clientCpu) ? r.clientCpu : undefined },
    errors: r.errors,
    notes,
    extra,
  };
}

/** The variant of `server` under `cell`, driven by `client`. */
export function lookupVariant(cell: LookupCell, server: VariantName, client: ClientKind, ctx: VariantContext): BenchVariant {
  let running: LookupServer | null = null;
  let seed = 1;
  return {
    name: client === "ours" ? server : `${server}+wrk`,
    cell: cellLabel(cell),
    async setup() {
      running = await startLookupServer({ variant: server, path: ctx.path, direct: cell.cache === "direct", host: ctx.host, cpus: ctx.serverCpus });
    },
    async run(durationMs, rc) {
      if (running === null) throw new Error("lookup server not started");
      const load = {
        host: ctx.host,
        port: running.port,
        serverPid: running.child.pid,
        connections: cell.connections,
        keys: cell.keys,
        pageCount: ctx.pageCount,
        durationMs,
        // The runner's own warm-up repetition warms JIT and caches; each run still needs its connections busy before measuring.
        warmupMs: 300,
        seed: seed++,
        cpus: ctx.clientCpus,
        rate: cell.rate,
        arrival: ctx.arrival,
      };
      const r = client === "ours" ? await runOurLoad(load) : await runWrk(load);
      rc.report(r.requests);
      return measurement(r, client);
    },
    async teardown() {
      if (running !== null) await stopChild(running.child);
      running = null;
    },
  };
}
