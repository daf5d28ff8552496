/** The opcode probe and the basic register ops the ring core owns. */
import { afterEach, expect, test } from "bun:test";
import { prepNop } from "../src/ops/rw.ts";
import { Ring } from "../src/ring/ring.ts";
import {
  registerEventfd,
  registerFiles,
  registerFilesSparse,
  registerFilesUpdate,
  unregisterEventfd,
  unregisterFiles,
  registerBuffers,
  unregisterBuffers,
} from "../src/ring/register.ts";
import { Op } from "../src/sys/constants.ts";
import { closeFd, eventfd } from "../src/sys/ffi.ts";
import { readSync, openSync, closeSync } from "node:fs";

let ring: Ring | null = null;
afterEach(() => {
  ring?.close();
  ring = null;
});

test("probe lists the kernel's opcodes", () => {
  ring = new Ring(2);
  const probe = ring.probe()!;
  expect(probe).not.toBeNull();
  expect(probe.opSupported(Op.NOP)).toBe(true);
  expect(probe.opSupported(Op.READ)).toBe(true);
  expect(probe.opSupported(999)).toBe(false);
  expect(probe.supportedOps()).toContain("READ");
  expect(probe.lastOp).toBeGreaterThanOrEqual(Op.READ);
});

test("registered files: register, update, unregister", () => {
  ring = new Ring(2);
  const fd = openSync("/dev/null", "r");
  try {
    expect(registerFiles(ring, [fd, -1])).toBe(0);
    expect(registerFilesUpdate(ring, 1, [fd])).toBe(1);
    expect(unregisterFiles(ring)).toBe(0);
    expect(registerFilesSparse(ring, 16)).toBe(0);
    expect(unregisterFiles(ring)).toBe(0);
  } finally {
    closeSync(fd);
  }
});

test("registered buffers: register and unregister", () => {
  ring = new Ring(2);
  const a = new Uint8Array(4096);
  const b = new Uint8Array(8192);
  expect(registerBuffers(ring, [a, b])).toBe(0);
  expect(unregisterBuffers(ring)).toBe(0);
});

test("eventfd is signalled when a CQE is posted", () => {
  ring = new Ring(2);
  const efd = eventfd(0, 0);
  expect(efd).toBeGreaterThanOrEqual(0);
  try {
    expect(registerEventfd(ring, efd)).toBe(0);
    prepNop(ring.getSqe()!);
    ring.submitAndWait(1);
    const buf = new BigUint64Array(1);
    expect(readSync(efd, buf)).toBe(8);
    expect(buf[0]).toBeGreaterThanOrEqual(1n);
    expect(unregisterEventfd(ring)).toBe(0);
  } finally {
    closeFd(efd);
  }
});
