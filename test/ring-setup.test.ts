/** io_uring_setup: every setup flag this kernel offers, and errors that say why. */
import { expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { Ring, type RingOptions } from "../src/ring/ring.ts";
import { enableRings } from "../src/ring/register.ts";
import { kernelHasSetupFlag, setupFlagNames } from "../src/ring/setup.ts";
import { sqeSetData64 } from "../src/ring/sqe.ts";
import { SetupFlags } from "../src/sys/constants.ts";
import { SyscallError } from "../src/sys/errno.ts";

/** Submits one NOP and checks its completion: the ring really works. */
function nopRoundTrip(ring: Ring): void {
  const sqe = ring.getSqe()!;
  prepNop(sqe);
  sqeSetData64(sqe, 42);
  expect(ring.submitAndWait(1)).toBeGreaterThanOrEqual(0);
  const cqe = ring.waitCqeTimeout(2e9);
  expect(cqe).not.toBeNull();
  expect(cqe!.userData).toBe(42);
  expect(cqe!.res).toBe(0);
  ring.cqeSeen(cqe!);
}

const cases: Array<[string, RingOptions, number]> = [
  ["default", {}, 0],
  ["sqpoll + idle + cpu", { sqpoll: { idleMs: 10, cpu: 0 } }, SetupFlags.SQPOLL | SetupFlags.SQ_AFF],
  ["cqsize", { cqEntries: 64 }, SetupFlags.CQSIZE],
  ["clamp", { clamp: true }, SetupFlags.CLAMP],
  ["submit all", { submitAll: true }, SetupFlags.SUBMIT_ALL],
  ["coop taskrun", { coopTaskrun: true }, SetupFlags.COOP_TASKRUN | SetupFlags.TASKRUN_FLAG],
  ["single issuer", { singleIssuer: true }, SetupFlags.SINGLE_ISSUER],
  ["defer taskrun", { deferTaskrun: true }, SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER],
  ["sqe128", { sqe128: true }, SetupFlags.SQE128],
  ["cqe32", { cqe32: true }, SetupFlags.CQE32],
  ["cqe mixed", { cqeMixed: true }, SetupFlags.CQE_MIXED],
  ["no sqarray", { noSqArray: true }, SetupFlags.NO_SQARRAY],
  ["with sq array", { noSqArray: false }, 0],
  ["no mmap (user memory)", { noMmap: true }, SetupFlags.NO_MMAP],
  ["no mmap + sqe128 + cqe32", { noMmap: true, sqe128: true, cqe32: true }, SetupFlags.NO_MMAP | SetupFlags.SQE128 | SetupFlags.CQE32],
  ["ring fd not registered", { registerRingFd: false }, 0],
];

test.each(cases)("setup: %s", (_name, options, mustHave) => {
  const skip = mustHave !== 0 && !kernelHasSetupFlag(mustHave & ~SetupFlags.SQ_AFF);
  if (skip) {
    console.log(`skipped: kernel lacks ${setupFlagNames(mustHave).join("|")}`);
    return;
  }
  const ring = new Ring(16, options);
  try {
    expect(ring.flags & mustHave).toBe(mustHave);
    if (options.cqEntries) expect(ring.cqEntries).toBe(options.cqEntries);
    if (options.sqe128) expect(ring.sq.sqeWords).toBe(32);
    if (options.noSqArray === false) expect(ring.flags & SetupFlags.NO_SQARRAY).toBe(0);
    expect(ring.ringFdRegistered).toBe(options.registerRingFd !== false);
    for (let i = 0; i < 40; i++) nopRoundTrip(ring); // > 2 laps of the SQ
  } finally {
    ring.close();
  }
});

test("attach_wq shares the io-wq of another ring", () => {
  const a = new Ring(4);
  const b = new Ring(4, { attachWq: a.fd });
  try {
    expect(b.flags & SetupFlags.ATTACH_WQ).toBeTruthy();
    nopRoundTrip(b);
  } finally {
    b.close();
    a.close();
  }
});

test("R_DISABLED: submit fails until enableRings", () => {
  const ring = new Ring(4, { disabled: true });
  try {
    const sqe = ring.getSqe()!;
    prepNop(sqe);
    expect(ring.submit()).toBe(-77); // -EBADFD while disabled
    expect(enableRings(ring)).toBe(0);
    expect(ring.submitAndWait(1)).toBeGreaterThanOrEqual(0);
    expect(ring.waitCqeTimeout(2e9)?.res).toBe(0);
  } finally {
    ring.close();
  }
});

test("iopoll ring sets up (completions need enter; NOP works)", () => {
  const ring = new Ring(4, { iopoll: true });
  try {
    nopRoundTrip(ring);
  } finally {
    ring.close();
  }
});

test("bad entries are a clear error", () => {
  expect(() => new Ring(0)).toThrow(/positive integer/);
  expect(() => new Ring(1.5)).toThrow(/positive integer/);
});

test("too many entries is EINVAL with the limits spelled out", () => {
  let err: unknown;
  try {
    new Ring(1 << 20);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SyscallError);
  expect((err as SyscallError).code).toBe("EINVAL");
  expect((err as Error).message).toMatch(/entries must be 1\.\.32768/);
});

test("an invalid flag combination names the flag the kernel rejects", () => {
  // DEFER_TASKRUN without SINGLE_ISSUER is refused; dropping DEFER_TASKRUN makes setup work.
  let err: unknown;
  try {
    new Ring(4, { flags: SetupFlags.DEFER_TASKRUN });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SyscallError);
  expect((err as Error).message).toMatch(/IORING_SETUP_DEFER_TASKRUN/);
});

test("clamp turns an oversized request into the maximum", () => {
  const ring = new Ring(1 << 20, { clamp: true });
  try {
    expect(ring.sqEntries).toBe(32768);
  } finally {
    ring.close();
  }
});
