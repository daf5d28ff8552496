/**
 * Helpers of the register and memory tests (test/register-*.test.ts,
 * test/mem-*.test.ts): pipes that need no child process, and the buffer-select
 * READ they use.
 *
 * Pipes come from IORING_OP_PIPE (6.16) where the kernel has it, else from a
 * FIFO (op-helpers' makeFifo, which spawns mkfifo). Spawning leaves Bun's own
 * process-watching fds behind, opened and closed on its schedule, so tests that
 * count fds take their baseline after the pipe exists.
 */
import { closeSync } from "node:fs";
import { prepRw } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import { SQE_W } from "../src/sys/abi.ts";
import { Op, SqeFlags } from "../src/sys/constants.ts";
import { kernelHasOp } from "./helpers.ts";
import { makeFifo, prep, reapOne, type CqeRecord } from "./op-helpers.ts";

/** Two ends of a pipe. */
export interface Pipe {
  readFd: number;
  writeFd: number;
  /** Closes both ends (idempotent). */
  close(): void;
}

let pipeRing: Ring | null = null;

/** A blocking pipe: from IORING_OP_PIPE when available, else a FIFO in `dir`. */
export function makePipe(dir: string): Pipe {
  if (!kernelHasOp(Op.PIPE)) return makeFifo(dir);
  pipeRing ??= new Ring(2);
  const fds = new Int32Array(2);
  prep(pipeRing, 1, (s) => {
    prepRw(Op.PIPE, s, 0, fds, 0, 0);
    s.u32[SQE_W.opFlags] = 0; // pipe2 flags: blocking, so reads on an empty pipe wait (poll-driven)
  });
  const res = reapOne(pipeRing).res;
  if (res !== 0) throw new Error(`IORING_OP_PIPE failed with ${res}`);
  const pipe: Pipe = {
    readFd: fds[0]!,
    writeFd: fds[1]!,
    close() {
      if (pipe.readFd >= 0) closeSync(pipe.readFd);
      if (pipe.writeFd >= 0) closeSync(pipe.writeFd);
      pipe.readFd = -1;
      pipe.writeFd = -1;
    },
  };
  return pipe;
}

/** Prepares a READ from `fd` into a buffer the kernel selects from group `bgid` (IOSQE_BUFFER_SELECT). */
export function prepReadSelect(ring: Ring, userData: number, fd: number, len: number, bgid: number): void {
  prep(
    ring,
    userData,
    (s) => {
      prepRw(Op.READ, s, fd, null, len, -1);
      s.u16[SQE_W.bufIndex * 2] = bgid; // buf_group (u16 at byte 40)
    },
    SqeFlags.BUFFER_SELECT,
  );
}

/** READ with buffer select, submitted and reaped (bounded wait). */
export function readSelect(ring: Ring, userData: number, fd: number, len: number, bgid: number): CqeRecord {
  prepReadSelect(ring, userData, fd, len, bgid);
  return reapOne(ring);
}

/** A NUL-terminated C string. Keep it alive until the request's CQE. */
export function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}
