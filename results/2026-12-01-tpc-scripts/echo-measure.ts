// Interleaved echo at a fixed offered rate (C open-loop client): plain TcpServer (1 ring, main thread)
// vs TcpServerGroup with 1 Worker vs 2 Workers. Server CPU per round trip from /proc of the server pid.
import { createServer } from "node:net";
const ROOT = "/work/main";
const BUN = `${ROOT}/node_modules/.bin/bun`;
const RATE = Number(process.env.RATE ?? 10000), C = Number(process.env.C ?? 100), B = 128, DUR = 3000, WARM = 1000, REPS = Number(process.env.REPS ?? 5);
const configs = {
  "plain-1ring": { cmd: (p: number) => [BUN, `${ROOT}/cli/echo/server-uring.ts`, "--port", String(p)], cpus: "0" },
  "group-1worker": { cmd: (p: number) => [BUN, "/tmp/tpc/group1.ts", String(p)], cpus: "0" },
  "group-2workers": { cmd: (p: number) => [BUN, `${ROOT}/cli/echo/server-uring.ts`, "--port", String(p), "--threads", "2"], cpus: "0,1" },
} as const;
function freePort(): Promise<number> {
  return new Promise((res) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = (s.address() as any).port; s.close(() => res(p)); }); });
}
async function readLine(stream: ReadableStream<Uint8Array>, re: RegExp): Promise<string> {
  const reader = stream.getReader(); let buf = "";
  for (;;) { const { value, done } = await reader.read(); if (done) throw new Error("eof before " + re); buf += new TextDecoder().decode(value); const m = buf.split("\n").find((l) => re.test(l)); if (m) { reader.releaseLock(); return m; } }
}
const rows: any[] = [];
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, cfg] of Object.entries(configs)) {
    const port = await freePort();
    const srv = Bun.spawn(["taskset", "-c", cfg.cpus, ...cfg.cmd(port)], { stdout: "pipe", stderr: "inherit" });
    const ready = await readLine(srv.stdout as ReadableStream<Uint8Array>, /^READY/);
    const cli = Bun.spawn(["taskset", "-c", "1", `${ROOT}/build/echo_client_openloop`, "127.0.0.1", String(port), String(C), String(B), String(RATE), String(DUR), String(WARM), String(srv.pid), "uniform", "0", "1"], { stdout: "pipe", stderr: "inherit" });
    const out = await new Response(cli.stdout).text();
    await cli.exited;
    srv.kill(); await srv.exited;
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) { console.error(name, "no result", out); continue; }
    const r = JSON.parse(line.slice(7));
    const usPerRt = (r.serverCpu * r.seconds * 1e6) / r.repliesInWindow;
    const row = { rep, name, ready, achieved: r.achievedRate, serverCpu: r.serverCpu, serverUsPerRt: usPerRt, clientCpu: r.clientCpu, errors: r.errors, errorKinds: r.errorKinds, unanswered: r.unanswered, alive: r.connectionsAlive, p50: r.correctedUs.p50, p99: r.correctedUs.p99 };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
await Bun.write(process.env.OUT ?? "/tmp/tpc/echo.json", JSON.stringify({ rate: RATE, connections: C, bytes: B, durationMs: DUR, warmupMs: WARM, rows }, null, 1));
