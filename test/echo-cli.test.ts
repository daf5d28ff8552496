/**
 * `uring-bench echo` as a user meets it: bad input names the flag, limits
 * and taken ports are explained, a server killed mid-run is reported while
 * the others finish, and SIGINT leaves no child process behind.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { freePort } from "../cli/echo/processes.ts";
import { SERVERS } from "../cli/echo/servers.ts";
import { alive, childrenOf, cmdline, establishedTo, waitFor } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
const CLI = [process.execPath, join(ROOT, "cli", "main.ts"), "echo"];
/** How long these tests wait for a child to start or a connection to come up (they run for up to 60 s). */
const WAIT_MS = 20_000;

async function runCli(args: string[], timeoutMs = 60_000, shellPrefix?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cmd = shellPrefix ? ["bash", "-c", `${shellPrefix} exec ${[...CLI, ...args].map((a) => `'${a}'`).join(" ")}`] : [...CLI, ...args];
  const p = Bun.spawn({ cmd, stdout: "pipe", stderr: "pipe", cwd: ROOT });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("echo: bad input names the flag", () => {
  const cases: Array<[string[], RegExp]> = [
    [["-c", "0"], /-c\/--connections takes a positive integer/],
    [["-b", "0"], /-b\/--bytes takes a message size/],
    [["-b", "2m"], /-b\/--bytes 2m is too large: at most 1048576/],
    [["--servers", "uring,nginx"], /--servers: unknown "nginx"; choose from uring, uring-sqpoll, bun, node, c-epoll, c-uring/],
    [["--connect", "10.0.0.1:80"], /loopback only/],
    [["--connect", "127.0.0.1"], /must be HOST:PORT/],
    [["--serve"], /--serve needs --port/],
  ];
  for (const [args, re] of cases) {
    test(args.join(" "), async () => {
      const r = await runCli(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(re);
    });
  }

  test("too many open files: explained, before anything starts", async () => {
    const r = await runCli(["-c", "2000", "--servers", "bun"], 30_000, "ulimit -n 512;");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/too many open files: 2000 connections need about \d+ file descriptors, but RLIMIT_NOFILE is 512/);
  });

  test("--serve on a port in use says so", async () => {
    const port = await freePort("127.0.0.1");
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(port, "127.0.0.1", resolve));
    try {
      const r = await runCli(["--serve", "--server", "uring", "--port", String(port)]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`port ${port} .*in use`));
    } finally {
      other.close();
    }
  });
});

describe("echo: modes", () => {
  test("--serve runs one server until SIGINT; --connect measures it from outside", async () => {
    const port = await freePort("127.0.0.1");
    const serve = Bun.spawn({ cmd: [...CLI, "--serve", "--server", "uring", "--port", String(port)], stdout: "pipe", stderr: "pipe", cwd: ROOT });
    const stderr = new Response(serve.stderr).text();
    try {
      const server = await waitFor("the served uring server", () => childrenOf(serve.pid).find((c) => cmdline(c).includes("server-uring.ts")), {
        timeoutMs: WAIT_MS,
      });
      // Wait for the listener (the server prints READY before serve reports it).
      await waitFor(
        "the listener",
        () =>
          cmdline(server) !== "" &&
          existsSync(`/proc/${server}`) &&
          readFileSync("/proc/net/tcp", "utf8").includes(`:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A`),
        { timeoutMs: WAIT_MS },
      );
      const r = await runCli(["--connect", `127.0.0.1:${port}`, "-c", "10", "-b", "100", "-d", "300ms", "-w", "0", "-r", "1", "--json"]);
      expect(r.code).toBe(0);
      const run = JSON.parse(r.stdout) as { results: Array<{ variant: string; opsPerSec: number; errors: number }> };
      expect(run.results[0]!.variant).toBe(`127.0.0.1:${port}`);
      expect(run.results[0]!.errors).toBe(0);
      expect(run.results[0]!.opsPerSec).toBeGreaterThan(0);
      serve.kill("SIGINT");
      expect(await serve.exited).toBe(130);
      await waitFor("the server to exit", () => !alive(server), { timeoutMs: 5000 });
      expect(await stderr).toContain(`serving uring echo on 127.0.0.1:${port}`);
    } finally {
      serve.kill("SIGKILL");
    }
  }, 60_000);

  test("--client c-epoll: the C reference load generator measures our server", async () => {
    const skip = !existsSync(join(ROOT, "build", "echo_client_epoll"));
    if (skip) return;
    const r = await runCli(["-c", "10", "-b", "200", "-d", "300ms", "-w", "0", "-r", "1", "--servers", "uring", "--client", "c-epoll", "--json"]);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as { results: Array<{ errors: number; opsPerSec: number }> };
    expect(run.results[0]!.errors).toBe(0);
    expect(run.results[0]!.opsPerSec).toBeGreaterThan(0);
  }, 60_000);

  test("a low soft RLIMIT_NOFILE is raised to the hard limit for 1500 connections", async () => {
    const r = await runCli(["-c", "1500", "-b", "64", "-d", "300ms", "-w", "0", "-r", "1", "--servers", "uring", "--json"], 60_000, "ulimit -Sn 256;");
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as { results: Array<{ errors: number; opsPerSec: number; extra?: Record<string, number> }> };
    expect(run.results[0]!.errors).toBe(0);
    expect(run.results[0]!.extra?.connectionsAlive).toBe(1500);
  }, 60_000);
});

describe("echo: faults during a run", () => {
  test("a server killed mid-run is reported; the others finish", async () => {
    const p = Bun.spawn({
      cmd: [...CLI, "-c", "20", "-b", "64", "-d", "2s", "-w", "0", "-r", "1", "--servers", "uring,bun", "--json"],
      stdout: "pipe",
      stderr: "pipe",
      cwd: ROOT,
    });
    const stdout = new Response(p.stdout).text();
    try {
      // uring runs first: wait for its load generator, then kill the server under it.
      const serverPid = await waitFor("the uring server", () => childrenOf(p.pid).find((c) => cmdline(c).includes("server-uring.ts")), { timeoutMs: WAIT_MS });
      const loadPid = await waitFor("the load generator", () => childrenOf(p.pid).find((c) => cmdline(c).includes("load-worker.ts")), { timeoutMs: WAIT_MS });
      // Kill the server only once all 20 connections are up, so it dies under load rather than before it.
      const port = Number(/--port (\d+)/.exec(cmdline(loadPid))?.[1]);
      await waitFor("the load generator's 20 connections", () => establishedTo(port) >= 20, { timeoutMs: WAIT_MS });
      process.kill(serverPid, "SIGKILL");
      const code = await p.exited;
      // Exit 1: a variant failed; the results are still printed.
      expect(code).toBe(1);
      const run = JSON.parse(await stdout) as { results: Array<{ variant: string; opsPerSec: number; errors: number; notes?: string[] }> };
      const uring = run.results.find((r) => r.variant === "uring")!;
      const bun = run.results.find((r) => r.variant === "bun")!;
      expect(uring.errors).toBeGreaterThan(0);
      expect((uring.notes ?? []).join(" ")).toMatch(/uring server died during the run \(killed by SIGKILL\)/);
      expect(bun.errors).toBe(0);
      expect(bun.opsPerSec).toBeGreaterThan(0);
    } finally {
      p.kill("SIGKILL");
    }
  }, 60_000);

  test("SIGINT stops every child: no orphans", async () => {
    const servers = ["uring", "bun", ...(SERVERS["c-epoll"].unavailable() ? [] : ["c-epoll"]), ...(SERVERS.node.unavailable() ? [] : ["node"])];
    const p = Bun.spawn({
      cmd: [...CLI, "-c", "50", "-b", "64", "-d", "20s", "-w", "0", "-r", "1", "--servers", servers.join(",")],
      stdout: "pipe",
      stderr: "pipe",
      cwd: ROOT,
    });
    try {
      // Every server is up and the first load generator is running.
      const kids = await waitFor(
        "servers and load generator",
        () => {
          const k = childrenOf(p.pid);
          return k.length >= servers.length + 1 && k.some((c) => cmdline(c).includes("load-worker.ts")) ? k : undefined;
        },
        { timeoutMs: WAIT_MS },
      );
      // Mid-run: the load generator's 50 connections are up.
      const loadPid = kids.find((c) => cmdline(c).includes("load-worker.ts"))!;
      const port = Number(/--port (\d+)/.exec(cmdline(loadPid))?.[1]);
      await waitFor("the load generator's 50 connections", () => establishedTo(port) >= 50, { timeoutMs: WAIT_MS });
      p.kill("SIGINT");
      const code = await Promise.race([p.exited, Bun.sleep(15_000).then(() => "timeout" as const)]);
      expect(code).toBe(130);
      // What was measured is printed, marked partial.
      expect(await new Response(p.stdout).text()).toContain("PARTIAL RESULTS");
      await waitFor("children to exit", () => kids.every((k) => !alive(k)), { timeoutMs: 5000 });
      for (const k of kids) expect(existsSync(`/proc/${k}`) && alive(k)).toBe(false);
    } finally {
      p.kill("SIGKILL");
    }
  }, 60_000);
});
