/**
 * io-wq concurrency per thread: the kernel sizes a thread's io-wq by its first
 * ring (bounded workers = min(entries, 4 × CPUs)), so a 1-entry probe ring set
 * up first would leave every later ring one worker. A new Ring raises the
 * limit back (src/ring/iowq-limit.ts) unless told not to or the program chose
 * limits itself. Each case runs in a fresh process: the limit lives as long as
 * the thread.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { naturalBoundedWorkers } from "../src/ring/iowq-limit.ts";
import { tempDirPerFile } from "./helpers.ts";

const BUN = process.execPath;
const SRC = join(import.meta.dir, "..", "src");
const tmp = tempDirPerFile();
let n = 0;

/**
 * Runs a child that first sets up a 1-entry ring with the raw syscall (as a
 * feature probe does), then runs `body`; returns the JSON it prints.
 */
function child(body: string): Record<string, number> {
  const file = join(tmp.dir, `iowq-${n++}.ts`);
  writeFileSync(
    file,
    `import { ioUringSetup, closeFd } from ${JSON.stringify(join(SRC, "sys/ffi.ts"))};
import { Ring } from ${JSON.stringify(join(SRC, "ring/ring.ts"))};
import { registerIowqMaxWorkers } from ${JSON.stringify(join(SRC, "ring/register.ts"))};
const limits = (r: Ring) => { const v = new Uint32Array(2); const ret = registerIowqMaxWorkers(r, v); return ret < 0 ? ret : v[0]!; };
const probe = ioUringSetup(1, new Uint8Array(120));
if (probe < 0) throw new Error("setup " + probe);
closeFd(probe);
${body}
`,
  );
  const p = Bun.spawnSync([BUN, file], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  if (p.exitCode !== 0) throw new Error(`child failed: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString()) as Record<string, number>;
}

describe("io-wq bounded workers after a 1-entry ring came first", () => {
  test("the kernel keeps the first ring's size: one worker when nothing raises it", () => {
    const r = child(`const ring = new Ring(64, { restoreIowqConcurrency: false });
console.log(JSON.stringify({ bounded: limits(ring) })); ring.close();`);
    expect(r.bounded).toBe(1);
  });

  test("a new Ring raises the limit to min(entries, 4 × CPUs)", () => {
    const r = child(`const a = new Ring(64); const first = limits(a);
const b = new Ring(2); const afterSmall = limits(b);
console.log(JSON.stringify({ first, afterSmall })); a.close(); b.close();`);
    expect(r.first).toBe(naturalBoundedWorkers(64));
    // A smaller ring later never lowers it.
    expect(r.afterSmall).toBe(naturalBoundedWorkers(64));
  });

  test("limits the program chose are kept", () => {
    const r = child(`const a = new Ring(8);
registerIowqMaxWorkers(a, Uint32Array.of(3, 0));
const b = new Ring(64);
console.log(JSON.stringify({ bounded: limits(b) })); a.close(); b.close();`);
    expect(r.bounded).toBe(3);
  });
});
