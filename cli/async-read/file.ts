/**
 * The file the async-read benchmark reads: random bytes (nothing checks
 * them: this benchmark measures the promise path, `read` checks bytes),
 * created in the temp dir, read once so the page cache holds it, removed
 * afterwards (also on a forced exit).
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onForcedExit } from "../harness/children.ts";

/** A page-cache-warm file and how to remove it. */
export interface WarmFile {
  path: string;
  size: number;
  remove(): void;
}

/** Creates `size` bytes (a multiple of 1 MiB) in `dir`, reads them once, and registers the removal. */
export function createWarmFile(size: number, dir = tmpdir()): WarmFile {
  const path = join(dir, `uring-bench-async-read-${process.pid}.bin`);
  const fd = openSync(path, "w");
  const unregister = onForcedExit(() => rmSync(path, { force: true }));
  try {
    const chunk = new Uint8Array(1 << 20);
    for (let done = 0; done < size; done += chunk.length) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      writeSync(fd, chunk, 0, Math.min(chunk.length, size - done));
    }
  } finally {
    closeSync(fd);
  }
  const rfd = openSync(path, "r");
  const chunk = new Uint8Array(1 << 20);
  while (readSync(rfd, chunk) > 0);
  closeSync(rfd);
  return {
    path,
    size,
    remove() {
      rmSync(path, { force: true });
      unregister();
    },
  };
}
