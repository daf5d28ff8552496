/**
 * `server-uring.ts --threads N`: the uring echo server as a TcpServerGroup,
 * N Bun Workers each with its own ring and SO_REUSEPORT listener, Worker i
 * pinned to the i-th CPU this process may run on (so `--server-cpu 0,1`
 * gives one Worker per CPU). Prints
 * `READY <port> <flags> direct-descriptors workers=N cpus=<cpu of each Worker>`.
 */
import { TcpServerGroup, type GroupServerOptions } from "../../src/net/group.ts";
import { setupFlagNames } from "../../src/ring/setup.ts";
import { getAffinity, maskCpus } from "../harness/affinity.ts";

/** Starts the group, prints READY, and closes it (every Worker, every connection) when the parent goes or on SIGTERM/SIGINT. */
export async function serveThreads(host: string, port: number, workers: number, server: GroupServerOptions): Promise<void> {
  const cpus = getAffinity(0);
  const group = await TcpServerGroup.start({
    workers,
    host,
    port,
    handler: new URL("./uring-echo-handler.ts", import.meta.url),
    server,
    cpus,
    onError: (err, worker) => process.stderr.write(`uring echo server, worker ${worker}: ${err.message}\n`),
  });
  const flags = setupFlagNames(group.workers[0]?.ringFlags ?? 0).join("|") || "none";
  const where = group.workers.map((w) => maskCpus(w.cpuMask).join("+")).join(",");
  process.stdout.write(`READY ${group.port} ${flags} direct-descriptors workers=${workers} cpus=${where}\n`);
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    group.close().then(
      () => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`uring echo server: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(0));
  // Exit with the parent (a SIGKILLed benchmark leaves no server behind).
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop(0);
  }, 500);
}
