/**
 * `uring-bench info`: what this machine's io_uring can do (kernel, sysctl,
 * feature bits, opcode probe, limits, shim build).
 */
import { Command } from "commander";
import { release, cpus } from "node:os";
import { Ring } from "../src/ring/ring.ts";
import { readIoUringDisabled } from "../src/ring/setup.ts";
import { Features, OP_NAMES, OP_SINCE, Rlimit } from "../src/sys/constants.ts";
import { getrlimit, shimBuild } from "../src/sys/ffi.ts";

/** Collects the capability report as plain data. */
export function collectInfo(): Record<string, unknown> {
  const info: Record<string, unknown> = {
    kernel: release(),
    cpus: cpus().length,
    ioUringDisabled: readIoUringDisabled(),
    shimBuild,
    rlimitNofile: getrlimit(Rlimit.NOFILE),
    rlimitMemlock: getrlimit(Rlimit.MEMLOCK),
  };
  try {
    const ring = new Ring(2);
    info.setup = "ok";
    info.features = Object.entries(Features)
      .filter(([, bit]) => (ring.features & bit) !== 0)
      .map(([name]) => name);
    const probe = ring.probe();
    info.ops = OP_NAMES.map((name, op) => ({
      op,
      name,
      since: OP_SINCE[name as keyof typeof OP_SINCE],
      supported: probe?.opSupported(op) ?? false,
    }));
    ring.close();
  } catch (err) {
    info.setup = err instanceof Error ? err.message : String(err);
  }
  return info;
}

/** The `info` subcommand. */
export function infoCommand(): Command {
  return new Command("info")
    .description("show what io_uring can do on this machine")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const info = collectInfo();
      if (opts.json) {
        console.log(JSON.stringify(info, null, 2));
        return;
      }
      for (const [k, v] of Object.entries(info)) {
        if (k === "ops") continue;
        console.log(`${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
      }
      const ops = (info.ops as Array<{ name: string; supported: boolean }> | undefined) ?? [];
      console.log(`opcodes: ${ops.filter((o) => o.supported).length}/${ops.length} supported`);
    });
}
