/** IORING_REGISTER_PROBE: which opcodes this kernel supports. */
import { PROBE } from "../sys/abi.ts";
import { OP_NAMES, PROBE_OP_SUPPORTED, RegisterOp } from "../sys/constants.ts";
import { ioUringRegister } from "../sys/ffi.ts";

/** The kernel's answer to a probe. */
export class Probe {
  /** Highest opcode the kernel knows. */
  readonly lastOp: number;
  private readonly supported: Uint8Array;

  /** @internal */
  constructor(lastOp: number, supported: Uint8Array) {
    this.lastOp = lastOp;
    this.supported = supported;
  }

  /** io_uring_opcode_supported: the kernel supports opcode `op`. */
  opSupported(op: number): boolean {
    return op >= 0 && op <= this.lastOp && this.supported[op] === 1;
  }

  /** Names of the supported opcodes. */
  supportedOps(): string[] {
    const out: string[] = [];
    for (let op = 0; op <= this.lastOp; op++) if (this.opSupported(op)) out.push(OP_NAMES[op] ?? `OP_${op}`);
    return out;
  }
}

/** Probes with the ring fd `fd`; returns null when the kernel has no probe (before 5.6). */
export function probeRing(fd: number): Probe | null {
  const maxOps = 256;
  const buf = new Uint8Array(PROBE.size + maxOps * PROBE.opSize);
  const rc = ioUringRegister(fd, RegisterOp.REGISTER_PROBE, buf, maxOps);
  if (rc < 0) return null;
  const lastOp = buf[PROBE.lastOp]!;
  const opsLen = buf[PROBE.opsLen]!;
  const view = new DataView(buf.buffer);
  const supported = new Uint8Array(maxOps);
  for (let i = 0; i < opsLen; i++) {
    const base = PROBE.size + i * PROBE.opSize;
    const op = buf[base + PROBE.opOp]!;
    if (view.getUint16(base + PROBE.opFlags, true) & PROBE_OP_SUPPORTED) supported[op] = 1;
  }
  return new Probe(lastOp, supported);
}
