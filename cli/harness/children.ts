/**
 * Child processes for benchmarks (servers, load generators, baselines in
 * node), with one rule: no orphans. Every child spawned here is tracked; on
 * SIGINT, SIGTERM and process exit all of them are killed. A child script can
 * also call {@link exitWithParent} so it exits even if the parent is
 * SIGKILLed (which no handler can catch).
 *
 * ```ts
 * const server = spawnChild([process.execPath, "cli/main.ts", "echo", "--serve", "--port", "0"], { cpus: [0], stdout: "pipe" });
 * const port = await readLineMatching(server, /listening on (\d+)/);
 * ...
 * await stopChild(server);
 * ```
 */
import type { Subprocess } from "bun";
import { pinProcess, withThreadAffinity } from "./affinity.ts";

/** How long a child gets between SIGTERM and SIGKILL. */
export const CHILD_KILL_GRACE_MS = 1500;

/** Options of {@link spawnChild}. */
export interface SpawnOptions {
  /** Pin the child (all its threads, from birth) to these CPUs. */
  cpus?: readonly number[];
  cwd?: string;
  /** Extra environment (merged over process.env). */
  env?: Record<string, string | undefined>;
  stdin?: "ignore" | "pipe" | "inherit";
  stdout?: "ignore" | "pipe" | "inherit";
  /** Default "inherit", so a crashing child's message reaches the user. */
  stderr?: "ignore" | "pipe" | "inherit";
}

/** A tracked child process. */
export type Child = Subprocess<"ignore" | "pipe" | "inherit", "ignore" | "pipe" | "inherit", "ignore" | "pipe" | "inherit">;

const live = new Set<Child>();
let handlersInstalled = false;
const interrupt = new AbortController();

/** Children still tracked (exited ones drop out). */
export function liveChildren(): number {
  return live.size;
}

/**
 * An AbortSignal that aborts on the first SIGINT/SIGTERM: pass it to
 * runInterleaved so the run stops between (and, cooperatively, inside)
 * variant runs. Installs the handlers ({@link installInterruptHandlers}).
 */
export function interruptSignal(): AbortSignal {
  installInterruptHandlers();
  return interrupt.signal;
}

const cleanups = new Set<() => void>();

/**
 * Registers a synchronous cleanup (remove a data file, a temp file) that must
 * run even when the program is forced out: by a second Ctrl-C, or by the
 * exit after {@link INTERRUPT_EXIT_GRACE_MS}. The normal path cleans up on its
 * own and then calls the returned function to unregister. Cleanups must be
 * idempotent and must not throw (errors are swallowed).
 */
export function onForcedExit(cleanup: () => void): () => void {
  installInterruptHandlers();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

function runCleanups(): void {
  for (const c of [...cleanups]) {
    cleanups.delete(c);
    try {
      c();
    } catch {
      // best effort: the process is going away
    }
  }
}

/**
 * How long the program gets, after the first Ctrl-C, to stop on its own
 * (print what it measured, remove temp files) before we exit for it.
 */
export const INTERRUPT_EXIT_GRACE_MS = 3000;

/**
 * Installs the SIGINT/SIGTERM/exit handlers (idempotent; spawnChild and
 * interruptSignal call it).
 * First signal: abort {@link interruptSignal}, set the exit code (130/143),
 * stop every child (SIGTERM, SIGKILL after {@link CHILD_KILL_GRACE_MS}), and
 * exit if the program has not finished {@link INTERRUPT_EXIT_GRACE_MS} later.
 * Second signal: SIGKILL the children, run the {@link onForcedExit} cleanups
 * and exit at once.
 * Process exit: SIGKILL whatever is left and run the cleanups (exit handlers cannot wait).
 */
export function installInterruptHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: "SIGINT" | "SIGTERM") => {
    const code = sig === "SIGINT" ? 130 : 143;
    if (interrupt.signal.aborted) {
      killAllChildren("SIGKILL");
      runCleanups();
      process.exit(code);
    }
    process.exitCode = code;
    interrupt.abort(new Error(`interrupted by ${sig}`));
    process.stderr.write(`\nuring-bench: ${sig}: stopping${live.size > 0 ? ` ${live.size} child process(es)` : ""} (again to force)\n`);
    void killAllChildrenAndWait().finally(() => {
      // Unref'd: a program that finishes on its own exits normally (with the code set above).
      setTimeout(() => {
        runCleanups();
        process.exit(code);
      }, INTERRUPT_EXIT_GRACE_MS).unref();
    });
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("exit", () => {
    killAllChildren("SIGKILL");
    runCleanups();
  });
}

/** Spawns a tracked child. Throws with the command line when it cannot start. */
export function spawnChild(cmd: string[], opts: SpawnOptions = {}): Child {
  installInterruptHandlers();
  const doSpawn = (): Child =>
    Bun.spawn({
      cmd,
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : undefined,
      stdin: opts.stdin ?? "ignore",
      stdout: opts.stdout ?? "inherit",
      stderr: opts.stderr ?? "inherit",
    }) as Child;
  let child: Child;
  try {
    // The child inherits the spawning thread's mask, so pin around the spawn
    // and the child is pinned before it creates its first thread.
    child = opts.cpus ? withThreadAffinity(opts.cpus, doSpawn) : doSpawn();
  } catch (err) {
    throw new Error(`cannot start ${cmd.join(" ")}: ${err instanceof Error ? err.message : String(err)}`);
  }
  live.add(child);
  void child.exited.finally(() => live.delete(child));
  if (opts.cpus) {
    // Belt and braces: if the runtime spawned from another thread, pin now.
    try {
      pinProcess(child.pid, opts.cpus);
    } catch {
      // The child may have exited already; its exit code tells the caller.
    }
  }
  return child;
}

/** Sends `signal` to every live child (synchronous; safe in exit handlers). */
export function killAllChildren(signal: NodeJS.Signals | number = "SIGTERM"): void {
  for (const c of live) {
    try {
      c.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM every child, wait up to the grace period, SIGKILL the rest. */
export async function killAllChildrenAndWait(graceMs = CHILD_KILL_GRACE_MS): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c, graceMs)));
}

/**
 * Stops one child: SIGTERM, then SIGKILL if it hasn't exited within
 * `graceMs`. Resolves with its exit code (or null when killed by a signal).
 */
export async function stopChild(child: Child, graceMs = CHILD_KILL_GRACE_MS): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  if (!(await exitedWithin(child, graceMs))) {
    child.kill("SIGKILL");
    await child.exited;
  }
  live.delete(child);
  return child.exitCode;
}

/** Resolves true when `child` exits within `ms`, false when the time runs out first (the child is left running). */
export async function exitedWithin(child: Child, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  const first = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  return first !== "timeout";
}

/** Grace for a child already past its deadline: it is late, so SIGKILL follows soon. */
const LATE_CHILD_GRACE_MS = 500;

/**
 * Waits for a child that ends on its own (a load generator, a client run);
 * past `limitMs` it is stopped and this throws "`what` did not finish within
 * `limitMs` ms", so a hung child cannot hang the whole run.
 */
export async function finishWithin(child: Child, limitMs: number, what: string): Promise<void> {
  if (await exitedWithin(child, limitMs)) return;
  await stopChild(child, LATE_CHILD_GRACE_MS);
  throw new Error(`${what} did not finish within ${limitMs} ms`);
}

/**
 * Reads a piped stdout line by line until one matches `re`; resolves with the
 * match. Rejects when the child exits first or after `timeoutMs`, with what it printed.
 * After the match the rest of stdout is drained and discarded in the
 * background (a full pipe would block the child), unless `keepReading` is
 * set: then the stream is only released, for the caller to read on.
 */
export async function readLineMatching(child: Child, re: RegExp, timeoutMs = 10_000, keepReading = false): Promise<RegExpMatchArray> {
  const stdout = child.stdout;
  if (!stdout || typeof stdout === "number") throw new Error('readLineMatching needs stdout: "pipe"');
  const reader = (stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let seen = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`child ${child.pid} printed no line matching ${re} within ${timeoutMs} ms; output so far: ${JSON.stringify(seen.slice(-500))}`)),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`child ${child.pid} exited before printing a line matching ${re}; output: ${JSON.stringify(seen.slice(-500))}`);
      seen += decoder.decode(value, { stream: true });
      for (const line of seen.split("\n")) {
        const m = line.match(re);
        if (m) {
          if (keepReading) reader.releaseLock();
          else void drain(reader);
          return m;
        }
      }
    }
  } catch (err) {
    reader.releaseLock();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function drain(reader: { read(): Promise<{ done?: boolean }> }): Promise<void> {
  try {
    for (;;) if ((await reader.read()).done) return;
  } catch {
    // the child went away: nothing left to drain
  }
}

/**
 * For child scripts: exit when the parent goes away (even by SIGKILL, which
 * leaves no chance to clean up). Polls the parent pid; the timer is unref'd
 * so it never keeps the child alive on its own.
 */
export function exitWithParent(pollMs = 500): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, pollMs);
  timer.unref?.();
}
