// Baseline `node`: an echo server on node:net, run with `node` (not Bun).
// Backpressure: a socket whose write buffer is full pauses its reads until
// 'drain'. A peer's half close ends our side once the echo is flushed
// (allowHalfOpen). Resets are ignored; the server keeps serving.
//
// Usage: node server-node.mjs --port P [--host 127.0.0.1] [--threads N]. Prints `READY <port>`.
// --threads N: node:cluster with N worker processes (the primary accepts and
// hands connections out round-robin, node's default on Linux); the primary
// prints READY once every worker listens.
import cluster from "node:cluster";
import net from "node:net";

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};

const threads = Number(arg("--threads", "1"));
if (threads > 1 && cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < threads; i++) cluster.fork();
  cluster.on("listening", (_worker, address) => {
    if (++listening === threads) process.stdout.write(`READY ${address.port} threads=${threads}\n`);
  });
  cluster.on("exit", (_worker, code) => {
    if (code !== 0) {
      process.stderr.write(`node echo server: a cluster worker exited with code ${code}\n`);
      process.exit(1);
    }
  });
} else {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on("data", (chunk) => {
      if (!socket.write(chunk)) {
        socket.pause();
        socket.once("drain", () => socket.resume());
      }
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  });
  server.on("error", (err) => {
    process.stderr.write(`node echo server: ${err.code === "EADDRINUSE" ? `port ${arg("--port")} is in use (EADDRINUSE)` : err.message}\n`);
    process.exit(1);
  });
  server.listen({ port: Number(arg("--port", "0")), host: arg("--host", "127.0.0.1"), backlog: 4096 }, () => {
    if (cluster.isPrimary) process.stdout.write(`READY ${server.address().port}\n`);
  });
}

// Exit with the parent (no orphans even if it is SIGKILLed).
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
