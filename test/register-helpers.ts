/**
 * Helpers of the register and memory tests (test/register-*.test.ts,
 * test/mem-*.test.ts): pipes that need no child process, and the buffer-select
 * READ they use.
 *
 * Pipes come from op-helpers' makePipe (IORING_OP_PIPE where the kernel has it).
 */
import { afterEach, beforeEach } from "bun:test";
import { prepRw } from "../src/ops/rw.ts";
import type { Ring } from "../src/ring/ring.ts";
import { SQE_W } from "../src/sys/abi.ts";
import { Op, SqeFlags } from "../src/sys/constants.ts";
import { expectNoNewFds, openFds, tempDir } from "./helpers.ts";
import { makePipe, prep, reapOne, type CqeRecord, type Pipe } from "./op-helpers.ts";

export { makePipe, type Pipe } from "./op-helpers.ts";

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

export { cstr } from "../src/ops/structs.ts";

/**
 * A fresh pipe (in a fresh temp dir) for every test of the calling file, handed
 * to `set` before each test; after each test it is closed and the test fails
 * if it leaked an fd.
 */
export function pipePerTest(set: (pipe: Pipe) => void): void {
  let tmp: ReturnType<typeof tempDir>;
  let pipe: Pipe;
  let fdsBefore: Map<number, string>;
  beforeEach(() => {
    tmp = tempDir();
    pipe = makePipe(tmp.dir);
    set(pipe);
    fdsBefore = openFds();
  });
  afterEach(async () => {
    // The pipe was opened before the baseline, so the check runs before it closes.
    await expectNoNewFds(fdsBefore);
    pipe.close();
    tmp.cleanup();
  });
}
