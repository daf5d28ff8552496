#!/usr/bin/env bun
/**
 * The lookup load generator: a closed loop of `-c` keep-alive HTTP/1.1
 * connections on Bun.connect (raw sockets, no HTTP client in the way), each
 * with one request in flight. Every request names K random pages; every
 * answer is checked against the checksum computed from those pages
 * (pages.ts), so a wrong byte anywhere counts as an error.
 *
 * Measures, over the window after warm-up: requests/s, latency (send →
 * full answer), its own CPU and the server's (from /proc), and the server's
 * io_uring enters (from its /stats before and after).
 *
 * With `--rate R` the loop is open instead: requests are meant to leave at
 * fixed times (cli/harness/arrivals.ts, R/s split over the connections), a
 * connection still waiting for its previous answer sends late, and latency
 * counts from the intended time (corrected-latency.ts), so a server stall
 * shows in the percentiles instead of pausing the client.
 *
 * Usage: bun cli/lookup/load.ts --port P --keys K --pages N -c C --duration MS --warmup MS [--server-pid PID] [--seed S] [--rate R [--arrival uniform|poisson]]
 * Prints one line `RESULT {json}`.
 */
import type { Socket } from "bun";
import { processCpuSeconds, selfCpuSeconds } from "../harness/cpu.ts";
import { LatencyRecorder } from "../harness/latency.ts";
import { splitArrivals, type Arrivals, type ArrivalKind } from "../harness/arrivals.ts";
import { CorrectedLatency } from "../harness/corrected-latency.ts";
import { expectedSum } from "./pages.ts";

/** Prefix of the result line on stdout. */
export const RESULT_PREFIX = "RESULT ";

/** What one load run measured. */
export interface LookupLoadResult {
  requests: number;
  seconds: number;
  errors: number;
  /** First error seen, for the notes. */
  firstError?: string;
  latencyUs: { p50: number; p99: number; p999: number; mean: number };
  /** Fractions of one core. */
  clientCpu: number;
  serverCpu: number | null;
  /** Server io_uring enters in the window (from /stats). */
  enters: number;
  /** Open loop only: latency from the actual send (µs) and how late sends left (µs), p99. */
  uncorrectedP99Us?: number;
  sendLagP99Us?: number;
}

/** Options of {@link runLoad}. */
export interface LookupLoadOptions {
  host: string;
  port: number;
  connections: number;
  keys: number;
  pageCount: number;
  durationMs: number;
  warmupMs: number;
  serverPid?: number;
  seed?: number;
  /** Open loop: requests per second over all connections (absent: closed loop). */
  rate?: number;
  arrival?: ArrivalKind;
}

interface Conn {
  socket: Socket<Conn> | null;
  expected: number;
  sentAt: number;
  /** Open loop: this connection's intended send times, and the one of the request in flight. */
  arrivals: Arrivals | null;
  intended: number;
  busy: boolean;
  /** Bytes of a partly received answer. */
  partial: string;
}

async function serverStats(host: string, port: number): Promise<{ requests: number; enters: number }> {
  const r = await fetch(`http://${host}:${port}/stats`);
  return (await r.json()) as { requests: number; enters: number };
}

/** Runs the closed loop and resolves with what it measured. */
export async function runLoad(o: LookupLoadOptions): Promise<LookupLoadResult> {
  let rng = (o.seed ?? 0x9e3779b9) >>> 0 || 1;
  const nextPage = (): number => {
    // xorshift32: cheap, and the same sequence for the same seed.
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    rng >>>= 0;
    return rng % o.pageCount;
  };
  const lat = new LatencyRecorder();
  const open = o.rate !== undefined;
  const corrected = new CorrectedLatency();
  let measuring = false;
  let stopped = false;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const pages: number[] = [];
  const fail = (why: string) => {
    errors++;
    firstError ??= why;
  };

  const send = (c: Conn): void => {
    if (stopped || c.socket === null) return;
    if (open) {
      // Open loop: only when this connection's next intended time has come.
      if (!c.arrivals!.dueAt(performance.now())) return;
      c.intended = c.arrivals!.take();
      c.busy = true;
    }
    pages.length = 0;
    for (let i = 0; i < o.keys; i++) pages.push(nextPage());
    c.expected = expectedSum(pages);
    c.sentAt = performance.now();
    c.socket.write(`GET /lookup?pages=${pages.join(",")} HTTP/1.1\r\nHost: x\r\n\r\n`);
  };

  /** One whole answer: checks status and checksum, records, sends the next request. */
  const onAnswer = (c: Conn, head: string, body: string): void => {
    const t = performance.now();
    if (!head.startsWith("HTTP/1.1 200")) fail(`HTTP ${head.slice(9, 12)}: ${body.trim()}`);
    else if (Number(body) !== c.expected) fail(`wrong checksum ${body.trim()}, expected ${c.expected}`);
    else if (measuring) {
      done++;
      if (open) corrected.record(c.intended * 1000, c.sentAt * 1000, t * 1000);
      else lat.record((t - c.sentAt) * 1000);
    }
    c.busy = false;
    send(c);
  };

  const onData = (c: Conn, chunk: Buffer): void => {
    let s = c.partial + chunk.toString("latin1");
    for (;;) {
      const end = s.indexOf("\r\n\r\n");
      if (end < 0) break;
      const m = /content-length: *(\d+)/i.exec(s.slice(0, end));
      if (m === null) {
        fail("answer without Content-Length");
        c.socket?.end();
        return;
      }
      const total = end + 4 + Number(m[1]);
      if (s.length < total) break;
      onAnswer(c, s.slice(0, end), s.slice(end + 4, total));
      s = s.slice(total);
    }
    c.partial = s;
  };

  const conns: Conn[] = [];
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      const c: Conn = { socket: null, expected: 0, sentAt: 0, arrivals: null, intended: 0, busy: false, partial: "" };
      conns.push(c);
      c.socket = await Bun.connect<Conn>({
        hostname: o.host,
        port: o.port,
        data: c,
        socket: {
          data: (s, chunk) => onData(s.data, chunk),
          close: (s) => {
            if (!stopped) fail("the server closed a connection");
            s.data.socket = null;
          },
          error: (_s, err) => fail(err.message),
        },
      });
      c.socket.setNoDelay(true);
    }),
  );
  let pump: ReturnType<typeof setTimeout> | undefined;
  if (open) {
    const streams = splitArrivals(o.rate!, conns.length, o.arrival ?? "uniform", performance.now(), o.seed ?? 1);
    conns.forEach((c, i) => (c.arrivals = streams[i]!));
    // Idle connections send when their time comes; busy ones send on their answer (late: the lag counts).
    const tick = (): void => {
      if (stopped) return;
      let next = Infinity;
      for (const c of conns) {
        if (!c.busy) send(c);
        if (!c.busy && c.arrivals!.next < next) next = c.arrivals!.next;
      }
      pump = setTimeout(tick, Math.max(0, Math.min(next, performance.now() + 5) - performance.now()));
    };
    tick();
  } else {
    for (const c of conns) send(c);
  }
  await Bun.sleep(o.warmupMs);

  const s0 = await serverStats(o.host, o.port);
  const srv0 = o.serverPid === undefined ? 0 : processCpuSeconds(o.serverPid);
  const cli0 = selfCpuSeconds();
  const t0 = performance.now();
  corrected.reset();
  measuring = true;
  await Bun.sleep(o.durationMs);
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const srv1 = o.serverPid === undefined ? 0 : processCpuSeconds(o.serverPid);
  const cli1 = selfCpuSeconds();
  const s1 = await serverStats(o.host, o.port);
  stopped = true;
  clearTimeout(pump);
  const end = performance.now();
  // Open loop: requests still unanswered count at their age; none may vanish.
  if (open) for (const c of conns) if (c.busy) corrected.recordUnfinished(c.intended * 1000, end * 1000);
  for (const c of conns) c.socket?.end();
  const rec = open ? corrected.corrected : lat;
  const [p50, p99, p999] = rec.percentiles([50, 99, 99.9]);
  return {
    requests: done,
    seconds,
    // Wrong answers count wherever they happen, warm-up included.
    errors,
    firstError,
    latencyUs: { p50: p50!, p99: p99!, p999: p999!, mean: rec.mean },
    uncorrectedP99Us: open ? corrected.uncorrected.percentiles([99])[0] : undefined,
    sendLagP99Us: open ? corrected.sendLag.percentiles([99])[0] : undefined,
    clientCpu: (cli1 - cli0) / seconds,
    serverCpu: o.serverPid === undefined ? null : (srv1 - srv0) / seconds,
    enters: s1.enters - s0.enters,
  };
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const num = (name: string, fallback?: number): number => {
    const i = argv.indexOf(name);
    const v = i >= 0 ? Number(argv[i + 1]) : fallback;
    if (v === undefined || !Number.isFinite(v)) {
      process.stderr.write(`lookup load: ${name} needs a number\n`);
      process.exit(2);
    }
    return v;
  };
  try {
    const hostAt = argv.indexOf("--host");
    const result = await runLoad({
      host: hostAt >= 0 ? argv[hostAt + 1]! : "127.0.0.1",
      port: num("--port"),
      connections: num("-c"),
      keys: num("--keys"),
      pageCount: num("--pages"),
      durationMs: num("--duration"),
      warmupMs: num("--warmup"),
      serverPid: argv.includes("--server-pid") ? num("--server-pid") : undefined,
      seed: num("--seed", 1),
      rate: argv.includes("--rate") ? num("--rate") : undefined,
      arrival: argv.includes("--arrival") ? (argv[argv.indexOf("--arrival") + 1] as ArrivalKind) : undefined,
    });
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v))}\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`lookup load: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
