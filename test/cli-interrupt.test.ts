/**
 * Ctrl-C as a user presses it: one SIGINT stops `read` (in-process pread and
 * io_uring loops included) and `fsync-chain`, prints what was measured marked
 * partial, and exits 130; a second SIGINT right after leaves no child process
 * and no data file behind. Every wait polls until a deadline.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { alive, childrenOf, cmdline, tempDir, waitFor } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
const HAVE_C_FSYNC = existsSync(join(ROOT, "build", "fsync_liburing"));
const HAVE_C_READ = existsSync(join(ROOT, "build", "read_liburing"));
/** How long these tests wait for a child, a file or a message (they run for up to 60 s). */
const WAIT_MS = 30_000;

/** Starts the CLI with piped output: `out` resolves to stdout, `err.text` grows as stderr arrives. */
function start(args: string[]) {
  const p = Bun.spawn({ cmd: [process.execPath, join(ROOT, "cli", "main.ts"), ...args], stdout: "pipe", stderr: "pipe", cwd: ROOT });
  const out = new Response(p.stdout).text();
  const err = { text: "" };
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of p.stderr) err.text += dec.decode(chunk, { stream: true });
  })();
  return { p, out, err };
}

/** Two Ctrl-C: the second only once the first was seen (signals of one kind do not queue). */
async function doubleInterrupt(p: { kill(sig?: number | NodeJS.Signals): void }, err: { text: string }): Promise<void> {
  p.kill("SIGINT");
  await waitFor("the first SIGINT to be seen", () => err.text.includes("SIGINT: stopping"), { timeoutMs: WAIT_MS });
  p.kill("SIGINT");
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir("cli-interrupt");
});
afterEach(() => tmp.cleanup());

describe("one Ctrl-C: partial results, exit 130", () => {
  test("read with in-process variants (pread, uring) stops and removes its file", async () => {
    const { p, out } = start(["read", "--dir", tmp.dir, "--size", "16m", "--variants", "pread,uring", "-d", "20s", "-w", "0", "-r", "3"]);
    try {
      // The file exists and the first loop runs: the progress is past generating the file.
      await waitFor("the data file", () => readdirSync(tmp.dir).length > 0, { timeoutMs: WAIT_MS });
      await Bun.sleep(300);
      p.kill("SIGINT");
      expect(await p.exited).toBe(130);
      const stdout = await out;
      expect(stdout).toContain("PARTIAL RESULTS");
      expect(stdout).toMatch(/interrupted after 0 of 3 repetitions/);
      await waitFor("the data file to go", () => readdirSync(tmp.dir).length === 0, { timeoutMs: WAIT_MS });
    } finally {
      p.kill("SIGKILL");
    }
  }, 60_000);

  test("fsync-chain stops, prints what it measured and removes its data files", async () => {
    const { p, out } = start(["fsync-chain", "--dir", tmp.dir, "--variants", "uring,loop", "-d", "20s", "-w", "0", "-r", "2"]);
    try {
      await waitFor("a data file", () => readdirSync(tmp.dir).length > 0, { timeoutMs: WAIT_MS });
      await Bun.sleep(300);
      p.kill("SIGINT");
      expect(await p.exited).toBe(130);
      expect(await out).toContain("PARTIAL RESULTS");
      await waitFor("the data files to go", () => readdirSync(tmp.dir).length === 0, { timeoutMs: WAIT_MS });
    } finally {
      p.kill("SIGKILL");
    }
  }, 60_000);
});

describe("two Ctrl-C: no process and no file left", () => {
  test.skipIf(!HAVE_C_FSYNC)(
    "fsync-chain with the C liburing child",
    async () => {
      const { p, err } = start(["fsync-chain", "--dir", tmp.dir, "--variants", "c-liburing,loop", "-d", "20s", "-w", "0", "-r", "2"]);
      try {
        const kids = await waitFor(
          "the C child",
          () => {
            const k = childrenOf(p.pid);
            return k.some((c) => cmdline(c).includes("fsync_liburing")) ? k : undefined;
          },
          { timeoutMs: WAIT_MS },
        );
        await doubleInterrupt(p, err);
        expect(await p.exited).toBe(130);
        await waitFor("children to exit", () => kids.every((k) => !alive(k)), { timeoutMs: WAIT_MS });
        await waitFor("the data files to go", () => readdirSync(tmp.dir).length === 0, { timeoutMs: WAIT_MS });
      } finally {
        p.kill("SIGKILL");
      }
    },
    60_000,
  );

  test.skipIf(!HAVE_C_READ)(
    "read with the C liburing child",
    async () => {
      const { p, err } = start(["read", "--dir", tmp.dir, "--size", "16m", "--variants", "c-liburing,pread", "-d", "20s", "-w", "0", "-r", "2"]);
      try {
        const kids = await waitFor(
          "the C child",
          () => {
            const k = childrenOf(p.pid);
            return k.some((c) => cmdline(c).includes("read_liburing")) ? k : undefined;
          },
          { timeoutMs: WAIT_MS },
        );
        await doubleInterrupt(p, err);
        expect(await p.exited).toBe(130);
        await waitFor("children to exit", () => kids.every((k) => !alive(k)), { timeoutMs: WAIT_MS });
        await waitFor("the data file to go", () => readdirSync(tmp.dir).length === 0, { timeoutMs: WAIT_MS });
      } finally {
        p.kill("SIGKILL");
      }
    },
    60_000,
  );
});
