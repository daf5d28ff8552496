/**
 * A Bun Worker that runs one fsync-chain variant (`uring` or `loop`) on a
 * data file of its own, for `fsync-chain --rings N`: N Workers commit at the
 * same time, each with its own ring (or syscall loop), file and ledger. The
 * main thread sends `open` once, `run` per repetition and `close` at the
 * end; `close` verifies the file against the ledger and removes it (unless
 * --keep), and the answer carries the verdict.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { removeDataFile } from "./file.ts";
import { CommitStatus } from "./ledger.ts";
import type { FsyncConfig } from "./options.ts";
import { loopVariant, uringVariant, type FileVariant } from "./variants.ts";
import { verifyDataFile } from "./verify.ts";
import type { Measurement } from "../harness/runner.ts";

/** Messages the main thread sends. */
export type RingsRequest =
  | { type: "open"; name: "uring" | "loop"; cfg: FsyncConfig; inflight: number; cell: string; index: number }
  | { type: "run"; durationMs: number; phase: "warmup" | "measure"; repetition: number }
  | { type: "close" };

/** What one Worker's file holds after the run. */
export interface RingsVerdict {
  acked: number;
  failed: number;
  verifiedRecords: number;
  checkedRecords: number;
  badCommits: number;
  pending: number;
  notes: string[];
}

/** Messages a Worker answers with. */
export type RingsReply =
  | { type: "opened" }
  | { type: "result"; m: Measurement }
  | { type: "closed"; verdict: RingsVerdict | null }
  | { type: "error"; message: string };

declare const self: Worker;

let variant: FileVariant | null = null;
let dir = "";
let keep = false;

self.onmessage = async (ev: MessageEvent<RingsRequest>) => {
  const msg = ev.data;
  try {
    if (msg.type === "open") {
      // A directory per Worker: the variants name their files by pid, which all Workers share.
      dir = mkdtempSync(join(msg.cfg.dir, `uring-bench-fsync-ring${msg.index}-`));
      keep = msg.cfg.keep;
      // Threads float over the CPUs: one --cpu cannot hold N committers.
      const cfg: FsyncConfig = { ...msg.cfg, dir, cpu: null };
      variant = msg.name === "uring" ? uringVariant(cfg, msg.inflight, msg.cell) : loopVariant(cfg, msg.cell, msg.inflight);
      await variant.setup?.();
      post({ type: "opened" });
    } else if (msg.type === "run") {
      if (variant === null) throw new Error("run before open");
      const ctx = { phase: msg.phase, repetition: msg.repetition, report: () => {}, signal: new AbortController().signal };
      post({ type: "result", m: await variant.run(msg.durationMs, ctx) });
    } else {
      let verdict: RingsVerdict | null = null;
      if (variant !== null) {
        await variant.teardown?.();
        if (variant.path !== null) {
          const rep = verifyDataFile(variant.path, variant.ledger);
          verdict = {
            acked: variant.ledger.acked,
            failed: variant.ledger.failures.length,
            verifiedRecords: rep.ok,
            checkedRecords: rep.checked,
            badCommits: rep.badCommits,
            pending: variant.ledger.ranges(CommitStatus.PENDING).length,
            notes: [...variant.notes],
          };
          if (!keep) removeDataFile(variant.path);
        }
      }
      if (!keep && dir !== "") rmSync(dir, { recursive: true, force: true });
      variant = null;
      post({ type: "closed", verdict });
    }
  } catch (err) {
    post({ type: "error", message: err instanceof Error ? err.message : String(err) });
  }
};

function post(reply: RingsReply): void {
  self.postMessage(reply);
}
