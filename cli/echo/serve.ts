/**
 * `echo --serve`: one server alone, in its own pinned process, until Ctrl-C,
 * so any third-party load generator can measure it.
 */
import { ensureFdLimit } from "../../src/net/limits.ts";
import { installInterruptHandlers, interruptSignal } from "../harness/children.ts";
import { OptionError } from "../harness/option-error.ts";
import type { EchoOpts } from "./flags.ts";
import { exitDescription, startServer } from "./processes.ts";

/** Serves until Ctrl-C (the interrupt handler stops the server and exits 130); throws if the server dies on its own. */
export async function serveOnly(raw: EchoOpts, serverCpus: readonly number[]): Promise<void> {
  if (raw.port === undefined) throw new OptionError("--serve needs --port <port>.");
  const name = raw.server ?? "uring";
  ensureFdLimit(4096);
  installInterruptHandlers();
  const server = await startServer(name, raw.host, raw.port, serverCpus, name === "uring" ? raw.uringSetup : undefined);
  process.stderr.write(
    `serving ${name} echo on ${raw.host}:${server.port} (pid ${server.child.pid}, CPU ${serverCpus.join(",")}${server.detail ? `, ${server.detail}` : ""}); Ctrl-C stops it\n`,
  );
  const code = await server.child.exited;
  // Ctrl-C: the interrupt handler stopped the server and exits with 130.
  if (interruptSignal().aborted) await new Promise(() => {});
  throw new Error(`${name} server exited (${exitDescription(server.child) ?? `code ${code}`})`);
}
