#!/usr/bin/env bun
/**
 * Baseline `bun`: an echo server on Bun.listen (Bun's own epoll event loop
 * in native code). Writes that Bun cannot finish at once are buffered and
 * flushed on `drain`, so no byte is lost or reordered under backpressure.
 *
 * Usage: bun server-bun.ts --port P [--host 127.0.0.1] [--threads N]. Prints `READY <port>`.
 * --threads N: N Bun.listen loops on one port (reusePort), the main thread's
 * and N-1 Workers' (this same file, run as a Worker).
 */
import type { Socket } from "bun";
import { isMainThread, parentPort, workerData } from "node:worker_threads";

interface Pending {
  chunks: Uint8Array[];
  /** The peer half-closed: end our side once the queue is flushed. */
  ended: boolean;
}

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : fallback;
};

/** Writes what it can; keeps the rest in order for the next drain. */
function flush(socket: Socket<Pending>): void {
  const q = socket.data.chunks;
  while (q.length > 0) {
    const chunk = q[0]!;
    const n = socket.write(chunk);
    if (n < 0) return;
    if (n < chunk.byteLength) {
      q[0] = chunk.subarray(n);
      return;
    }
    q.shift();
  }
}

/** One echo listener on `port` (0: any); `reusePort` lets several threads share the port. */
function listen(hostname: string, port: number, reusePort: boolean) {
  return Bun.listen<Pending>({
    hostname,
    port,
    // reusePort works on Bun.listen (SO_REUSEPORT) though its type declares it only for connect.
    ...({ reusePort } as object),
    socket: {
      open(socket) {
        socket.data = { chunks: [], ended: false };
        socket.setNoDelay?.(true);
      },
      data(socket, data) {
        const q = socket.data.chunks;
        if (q.length > 0) {
          // Already behind: keep order. Copy: `data` may be reused after this call.
          q.push(new Uint8Array(data));
          return;
        }
        const n = socket.write(data);
        if (n < data.byteLength) q.push(new Uint8Array(data.subarray(Math.max(0, n))));
      },
      drain(socket) {
        flush(socket);
        if (socket.data.ended && socket.data.chunks.length === 0) socket.end();
      },
      end(socket) {
        // Half close by the peer: finish what is queued, then close.
        socket.data.ended = true;
        if (socket.data.chunks.length === 0) socket.end();
      },
      error() {
        // Resets are the peer's business; keep serving the others.
      },
    },
  });
}

if (!isMainThread) {
  // A --threads Worker: listen on the main thread's port and say so.
  const d = workerData as { host: string; port: number };
  listen(d.host, d.port, true);
  parentPort!.postMessage("listening");
} else {
  const threads = Number(arg("--threads", "1"));
  const host = arg("--host", "127.0.0.1");
  const server = listen(host, Number(arg("--port", "0")), threads > 1);
  const started: Array<Promise<unknown>> = [];
  for (let i = 1; i < threads; i++) {
    const w = new Worker(import.meta.url, { workerData: { host, port: server.port } } as WorkerOptions);
    started.push(new Promise((resolve, reject) => ((w.onmessage = resolve), (w.onerror = reject))));
  }
  await Promise.all(started);
  process.stdout.write(`READY ${server.port}${threads > 1 ? ` threads=${threads}` : ""}\n`);

  // Exit with the parent (no orphans even if it is SIGKILLed).
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500).unref();
}
