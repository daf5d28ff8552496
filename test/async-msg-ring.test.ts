/**
 * Cross-ring messaging (src/async/ring-messages.ts) on the kernel: values,
 * direct descriptors and wake-ups between Urings, in one thread and across
 * real Workers.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { closeSync, constants, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RingInbox, sendDescriptor, sendMessage, Uring, UringError, wakeRing, WAKE_USER_DATA, type RingAddress } from "../src/async/index.ts";
import { registerFiles, registerFilesSparse } from "../src/ring/register.ts";
import { Op } from "../src/sys/constants.ts";
import { kernelHasOp, tempDir } from "./helpers.ts";

// Not a timing assertion: Workers start slowly on a busy machine; waits poll to their own deadlines.
setDefaultTimeout(120_000);

const hasMsgRing = kernelHasOp(Op.MSG_RING);
const WORKER = new URL("./fixtures/ring-inbox-worker.ts", import.meta.url).href;
const EBADFD = 77;
const CONTENT = "a file handed over between rings";

let tmp: ReturnType<typeof tempDir>;
let filePath = "";
beforeAll(() => {
  tmp = tempDir("uring-msg-");
  filePath = join(tmp.dir, "passed");
  writeFileSync(filePath, CONTENT);
});
afterAll(() => tmp.cleanup());

type Msg = { type: string; [k: string]: unknown };

/** A Worker whose messages are awaited one at a time (by type), with a deadline. */
class TestWorker {
  readonly worker: Worker;
  private readonly inbox: Msg[] = [];
  private waiter: (() => void) | null = null;
  private failure: unknown = null;
  constructor(workerData: object) {
    this.worker = new Worker(WORKER, { workerData } as WorkerOptions);
    this.worker.onmessage = (e) => {
      this.inbox.push(e.data as Msg);
      this.waiter?.();
    };
    this.worker.onerror = (e) => {
      this.failure = e;
      this.waiter?.();
    };
  }
  async next(type: string, deadlineMs = 10_000): Promise<Msg> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      if (this.failure !== null) throw this.failure;
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (Date.now() > end) throw new Error(`no "${type}" message from the worker before the deadline; got ${JSON.stringify(this.inbox.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 50);
      });
      this.waiter = null;
    }
  }
  terminate(): void {
    this.worker.terminate();
  }
}

describe("in one thread", () => {
  test.skipIf(!hasMsgRing)("values of every width arrive in order, 64 bits intact", async () => {
    const a = new Uring();
    const b = new Uring();
    const got: bigint[] = [];
    const inbox = new RingInbox(b, { onMessage: (v) => got.push(v) });
    const values = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0xdead_beef_cafe_f00dn, 0xffff_ffff_ffff_ffffn];
    try {
      for (const v of values) await sendMessage(a, inbox.address, v);
      const end = Date.now() + 5000;
      while (got.length < values.length && Date.now() < end) await Bun.sleep(1);
      expect(got).toEqual(values);
    } finally {
      await inbox.close();
      b.close();
      a.close();
    }
  });

  test.skipIf(!hasMsgRing)("a closed inbox drops late messages; uring.close() with an open inbox releases it", async () => {
    const a = new Uring();
    const b = new Uring();
    const got: bigint[] = [];
    const first = new RingInbox(b, { onMessage: (v) => got.push(v) });
    const stale = first.address;
    await first.close();
    expect(first.isOpen).toBe(false);
    const second = new RingInbox(b, { onMessage: (v) => got.push(v + 1000n) });
    await sendMessage(a, stale, 1n); // the slot's generation moved on: dropped
    await sendMessage(a, second.address, 2n);
    const end = Date.now() + 5000;
    while (got.length < 1 && Date.now() < end) await Bun.sleep(1);
    expect(got).toEqual([1002n]);
    b.close(); // the inbox's anchor is cancelled with everything else
    await second.closed;
    expect(second.isOpen).toBe(false);
    expect(b.isClosed).toBe(true); // a closed Uring's getters throw ClosedError (src/sys/closed.ts); close() waited for every slot
    a.close();
  });

  test.skipIf(!hasMsgRing)("a target that is not a ring: the send rejects with EBADFD", async () => {
    const a = new Uring();
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      const bogus: RingAddress = { ringFd: fd, message: 1n, descriptor: 2n };
      const err = await sendMessage(a, bogus, 1n).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UringError);
      expect((err as UringError).errno).toBe(EBADFD);
      await expect(sendMessage(a, { ringFd: 3 } as unknown as RingAddress, 1n)).rejects.toThrow(/RingAddress/);
    } finally {
      closeSync(fd);
      a.close();
    }
  });
});

describe("across Workers", () => {
  test.skipIf(!hasMsgRing)("values and a direct descriptor reach a Uring in another Worker", async () => {
    const w = new TestWorker({ mode: "inbox" });
    const uring = new Uring();
    const fd = openSync(filePath, constants.O_RDONLY);
    try {
      const { address } = (await w.next("ready")) as unknown as { address: RingAddress };
      await sendMessage(uring, address, 7n);
      await sendMessage(uring, address, 0x1234_5678_9abc_def0n);
      expect((await w.next("message")).value).toBe(7n);
      expect((await w.next("message")).value).toBe(0x1234_5678_9abc_def0n);
      // An acceptor's hand-off: our fixed slot 0 → a slot the worker's ring allocates.
      expect(registerFiles(uring.ring, [fd])).toBe(0);
      const slot = await sendDescriptor(uring, address, 0);
      const d = await w.next("descriptor");
      expect(d.error).toBeUndefined();
      expect(d.index).toBe(slot);
      expect(d.text).toBe(CONTENT);
      await sendMessage(uring, address, 0xdeadn);
      await w.next("closed");
    } finally {
      closeSync(fd);
      uring.close();
      w.terminate();
    }
  });

  test.skipIf(!hasMsgRing)("a descriptor from an empty slot is refused at the sender (EBADF)", async () => {
    const w = new TestWorker({ mode: "inbox" });
    const uring = new Uring();
    try {
      const { address } = (await w.next("ready")) as unknown as { address: RingAddress };
      expect(registerFilesSparse(uring.ring, 4)).toBe(0);
      const err = await sendDescriptor(uring, address, 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UringError);
      expect((err as UringError).code).toBe("EBADF");
      await sendMessage(uring, address, 0xdeadn);
      await w.next("closed");
    } finally {
      uring.close();
      w.terminate();
    }
  });

  for (const deferTaskrun of [false, true]) {
    test.skipIf(!hasMsgRing)(`wakeRing wakes a ring parked in io_uring_enter in another Worker${deferTaskrun ? " (DEFER_TASKRUN)" : ""}`, async () => {
      const w = new TestWorker({ mode: "park", deferTaskrun });
      const uring = new Uring();
      try {
        const { ringFd } = (await w.next("ready")) as unknown as { ringFd: number };
        await wakeRing(uring, ringFd);
        expect((await w.next("woke")).userData).toBe(WAKE_USER_DATA);
      } finally {
        uring.close();
        w.terminate();
      }
    });
  }
});
