/**
 * TcpServerOptions.batchWaitUs: the run loop's waits held for more
 * completions (IORING_ENTER_EXT_ARG min_wait, 6.12+). Bad values are refused
 * before anything is opened; where the kernel has min_wait, a batching server
 * echoes every byte of many concurrent connections and ends at its baseline.
 * (How much it saves is a benchmark's question: `ECHO_MIN_WAIT_US=N uring-bench
 * echo --rate ...` batches the uring and c-uring servers alike.)
 */
import { describe, expect, test } from "bun:test";
import { TcpServer } from "../src/net/server.ts";
import { validateGroupServerOptions } from "../src/net/group-options.ts";
import { Ring } from "../src/ring/ring.ts";
import { Features, Op } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp, openFds } from "./helpers.ts";
import { atBaseline, echoOnce, pattern, startFaultServer, until } from "./net-faults-helpers.ts";

const haveNetOps = kernelHasOp(Op.SOCKET) && kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN);

function kernelHasMinWait(): boolean {
  const ring = new Ring(2);
  try {
    return (ring.features & Features.MIN_TIMEOUT) !== 0;
  } finally {
    ring.close();
  }
}

const handler = { onData: () => false };

describe("TcpServer batchWaitUs", () => {
  test("bad values throw a RangeError naming the option, and leak nothing", async () => {
    const before = openFds();
    for (const [opts, name] of [
      [{ batchWaitUs: -1 }, "batchWaitUs"],
      [{ batchWaitUs: 1.5 }, "batchWaitUs"],
      [{ batchWaitUs: Number.NaN }, "batchWaitUs"],
      [{ batchWaitUs: 2 ** 32 }, "batchWaitUs"],
      [{ batchWaitUs: 100, batchWaitCompletions: 0 }, "batchWaitCompletions"],
    ] as const) {
      expect(() => new TcpServer({ host: "127.0.0.1", port: 0, handler, ...opts })).toThrow(new RegExp(`${name} must be an integer`));
    }
    await expectNoNewFds(before);
  });

  test("a group refuses a bad value in the parent, naming the field", () => {
    expect(() => validateGroupServerOptions({ batchWaitUs: -5 })).toThrow(/server\.batchWaitUs/);
    expect(() => validateGroupServerOptions({ batchWaitCompletions: 0 })).toThrow(/server\.batchWaitCompletions/);
    expect(() => validateGroupServerOptions({ batchWaitUs: 500, batchWaitCompletions: 16 })).not.toThrow();
  });

  test.skipIf(!haveNetOps || !kernelHasMinWait())(
    "a batching server echoes 64 concurrent connections byte for byte, then is back at its baseline",
    async () => {
      const srv = await startFaultServer("uring", ["--batch-wait-us", "2000"]);
      try {
        const msgs = Array.from({ length: 64 }, (_, i) => pattern(1000 + i * 97, i + 1));
        const echoes = await Promise.all(msgs.map((m) => echoOnce(srv.port, m)));
        for (let i = 0; i < msgs.length; i++) expect(Buffer.compare(echoes[i]!, Buffer.from(msgs[i]!))).toBe(0);
        await until(
          "the server back at its baseline",
          () => atBaseline(srv.stats()),
          () => srv.stats(),
        );
        expect(srv.alive()).toBe(true);
      } finally {
        await srv.stop();
      }
    },
    60_000,
  );

  test.skipIf(!haveNetOps || kernelHasMinWait())("without min_wait in the kernel, batchWaitUs is refused with what to do", () => {
    expect(() => new TcpServer({ host: "127.0.0.1", port: 0, handler, batchWaitUs: 100 })).toThrow(/Linux 6\.12\+.*leave it at 0/);
  });
});
