// A TcpServerGroup of ONE Worker (the group's own overhead, against the plain server and 2 Workers).
import { serveThreads } from "/work/main/cli/echo/server-uring-threads.ts";
const port = Number(process.argv[2]);
await serveThreads("127.0.0.1", port, 1, {});
