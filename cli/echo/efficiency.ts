/**
 * The echo command's own table: CPU per round trip on each side, and
 * io_uring_enter calls per round trip of the load generator. On a shared
 * machine these hold steadier than round trips/s, since other tenants' load
 * slows both sides without changing them.
 */
import type { RunResult } from "../harness/result.ts";
import { fmtNum, type Rows } from "../harness/rows.ts";

/** One row per cell × server: server and client CPU µs per round trip, enters per round trip, ring setup. */
export function efficiencyRows(run: RunResult): Rows {
  const num = (v: unknown) => (typeof v === "number" ? fmtNum(v) : "");
  const rows = run.results.map((r) => [
    r.cell,
    r.variant,
    num(r.extra?.serverUsPerRoundTrip),
    num(r.extra?.clientUsPerRoundTrip),
    num(r.extra?.entersPerRoundTrip),
    typeof r.extra?.setup === "string" ? r.extra.setup : "",
  ]);
  return { head: ["cell", "variant", "server CPU µs/rt", "client CPU µs/rt", "client enters/rt", "ring setup"], rows };
}
