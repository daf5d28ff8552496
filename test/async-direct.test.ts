/**
 * O_DIRECT through the Uring layer. Uring hands the kernel a bounce block
 * (library memory) instead of the caller's buffer, so the block itself must be
 * aligned as O_DIRECT requires: a 4 KiB read or write from a plain Uint8Array
 * or from an AlignedBuffer view must succeed, not fail with EINVAL.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { constants, mkdtempSync, openSync, closeSync, writeSync, rmSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import { Uring } from "../src/async/uring.ts";

// /var/tmp is on disk here (O_DIRECT is the point); tmpfs below 6.6 refuses O_DIRECT.
const dir = mkdtempSync(join("/var/tmp", "uring-direct-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probeDirect(): boolean {
  try {
    closeSync(openSync(join(dir, "probe"), constants.O_RDWR | constants.O_CREAT | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!probeDirect())("O_DIRECT through Uring", () => {
  const path = join(dir, "data");
  const pattern = new Uint8Array(16384).map((_, i) => (i * 7 + 3) & 0xff);
  const fd = openSync(path, "w");
  writeSync(fd, pattern);
  closeSync(fd);

  for (const [name, make] of [
    ["a plain Uint8Array", (n: number) => new Uint8Array(n)],
    ["an AlignedBuffer view", (n: number) => new AlignedBuffer(n).bytes],
    ["an odd-offset subarray of 4 KiB", (n: number) => new Uint8Array(n + 24).subarray(8, 8 + n)],
  ] as const) {
    test(`reads and writes 4 KiB and 8 KiB blocks from ${name}`, async () => {
      const uring = new Uring();
      try {
        const dfd = await uring.open(path, constants.O_RDWR | constants.O_DIRECT);
        for (const size of [4096, 8192]) {
          const buf = make(size);
          expect(await uring.read(dfd, buf, 4096)).toBe(size);
          expect(buf).toEqual(pattern.subarray(4096, 4096 + size));
        }
        const out = make(4096);
        out.fill(0x5a);
        expect(await uring.write(dfd, out, 12288)).toBe(4096);
        await uring.closeFd(dfd);
        expect(
          readFileSync(path)
            .subarray(12288, 16384)
            .every((b) => b === 0x5a),
        ).toBe(true);
        const restore = openSync(path, "r+");
        writeSync(restore, pattern, 12288, 4096, 12288);
        closeSync(restore);
      } finally {
        uring.close();
      }
    });
  }
});
