#!/usr/bin/env bun
/**
 * The lookup server: Bun.serve answering `GET /lookup?pages=a,b,c` with the
 * checksum of those 4 KiB pages of a file, read by one of the variants of
 * readers.ts. `GET /stats` answers the counters the load generator needs
 * (requests, io_uring enters). Runs as its own process, started and pinned
 * by `uring-bench lookup`; exits on SIGTERM/SIGINT after closing the
 * listener and the reader, and with its parent.
 *
 * Usage: bun cli/lookup/server.ts --file PATH --variant uring [--direct] [--host 127.0.0.1] [--port 0]
 * Prints `READY <port>` once it listens.
 */
import { exitWithParent } from "../harness/children.ts";
import { BadQuery, PAGE, parsePages } from "./pages.ts";
import { ALL_VARIANT_NAMES, openReader, type VariantName } from "./readers.ts";
import { statSync } from "node:fs";

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const path = arg("--file");
const variant = arg("--variant") as VariantName | undefined;
if (path === undefined || variant === undefined || !(ALL_VARIANT_NAMES as readonly string[]).includes(variant)) {
  process.stderr.write(`usage: server.ts --file PATH --variant ${ALL_VARIANT_NAMES.join("|")} [--direct] [--host H] [--port P]\n`);
  process.exit(2);
}
const pageCount = Math.floor(statSync(path).size / PAGE);
const reader = await openReader(variant, path, argv.includes("--direct"));
let requests = 0;
const pages: number[] = [];

const text = (status: number, body: string) => new Response(body, { status, headers: { "content-type": "text/plain" } });
const answer = (sum: number) => text(200, `${sum}\n`);
const failed = (err: unknown) => text(500, `read failed: ${err instanceof Error ? err.message : String(err)}\n`);

const server = Bun.serve({
  hostname: arg("--host") ?? "127.0.0.1",
  port: Number(arg("--port") ?? "0"),
  fetch(req): Response | Promise<Response> {
    const url = req.url;
    const at = url.indexOf("/", url.indexOf("//") + 2);
    if (url.startsWith("/lookup", at)) {
      try {
        parsePages(url, pageCount, pages);
      } catch (err) {
        if (err instanceof BadQuery) return text(400, `${err.message}\n`);
        throw err;
      }
      requests++;
      try {
        const sum = reader.lookup(pages);
        return typeof sum === "number" ? answer(sum) : sum.then(answer, failed);
      } catch (err) {
        return failed(err);
      }
    }
    if (url.startsWith("/stats", at)) return Response.json({ requests, enters: reader.enters(), wakeups: reader.wakeups() });
    return text(404, "not found: GET /lookup?pages=N[,N...] or /stats\n");
  },
  error: failed,
});
process.stdout.write(`READY ${server.port}\n`);
exitWithParent();

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Stop accepting, drop idle keep-alive connections, then release the file and the ring.
  await server.stop(true);
  try {
    await reader.close();
  } catch (err) {
    process.stderr.write(`lookup server: closing the reader failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
