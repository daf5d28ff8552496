/**
 * A Bun Worker that owns one io_uring reader (`--rings N`: one ring per
 * worker, so reads use more than one core), or one pread loop (`pread`
 * under `--rings N`: N threads of pread, the comparison). The main thread sends
 * `{ type: "open" }` once, `{ type: "run" }` per repetition and
 * `{ type: "close" }` at the end; each answer is one message back.
 */
import { LatencyRecorder, type LatencySnapshot } from "../harness/latency.ts";
import { PreadReader } from "./sync.ts";
import { UringReader, UnsupportedError, type LatencySink, type UringReadConfig } from "./uring.ts";
import type { ReadWorkload } from "./workload.ts";

/** Messages the main thread sends. */
export type WorkerRequest =
  | { type: "open"; config: UringReadConfig; pread?: boolean }
  | { type: "run"; durationMs: number; maxOps: number; record: boolean }
  | { type: "close" };

/** Messages a worker answers with. */
export type WorkerReply =
  | { type: "opened"; ringFlags: string[] }
  | { type: "result"; ops: number; bytes: number; seconds: number; enters: number; latency: LatencySnapshot | null }
  | { type: "closed" }
  | { type: "error"; message: string; unsupported: boolean };

declare const self: Worker;

/** What a worker drives: a UringReader, or a pread loop shaped like one. */
interface Reader {
  readonly ringFlags: string[];
  run(durationMs: number, maxOps: number, lat: LatencySink | null): { ops: number; bytes: number; seconds: number; enters: number };
  close(): void;
}

/** A pread loop behind the UringReader shape (no ring: no flags, no enters). */
function preadReader(config: UringReadConfig): Reader {
  const p = new PreadReader({ ...config, maxOps: 0 } as ReadWorkload);
  return {
    ringFlags: [],
    run: (durationMs, maxOps, lat) => ({ ...p.run(durationMs, lat, undefined, maxOps), enters: 0 }),
    close: () => p.close(),
  };
}

let reader: Reader | null = null;
const lat = new LatencyRecorder();

self.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const msg = ev.data;
  try {
    if (msg.type === "open") {
      reader = msg.pread === true ? preadReader(msg.config) : new UringReader(msg.config);
      post({ type: "opened", ringFlags: reader.ringFlags });
    } else if (msg.type === "run") {
      if (reader === null) throw new Error("run before open");
      lat.reset();
      const r = reader.run(msg.durationMs, msg.maxOps > 0 ? msg.maxOps : Infinity, msg.record ? lat : null);
      const latency = msg.record ? lat.snapshot() : null;
      post({ type: "result", ...r, latency }, latency ? [latency.counts.buffer as ArrayBuffer] : []);
    } else {
      reader?.close();
      reader = null;
      post({ type: "closed" });
    }
  } catch (err) {
    post({ type: "error", message: err instanceof Error ? err.message : String(err), unsupported: err instanceof UnsupportedError });
  }
};

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  self.postMessage(reply, transfer);
}
