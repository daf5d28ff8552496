/**
 * Bad input to `uring-bench read`: each case gets an error that names the
 * cause (OptionError.reason) and says what to do, before anything runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, constants, existsSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { explainOpenError } from "../cli/read/errors.ts";
import { OptionError } from "../cli/harness/option-error.ts";
import { resolveReadOptions } from "../cli/read/options.ts";
import { generateFile, isMemoryFs, prepareTarget, writePattern } from "../cli/read/target.ts";
import { findDirectDir, patternFile, readTempDir } from "./read-helpers.ts";

const directDir = findDirectDir();
const ROOT = join(import.meta.dir, "..");
const BUN = process.execPath;
const avail = { node: true, cLoop: true, fio: true };

/** Runs `fn` and returns the OptionError it throws. */
function inputError(fn: () => unknown): OptionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OptionError) return err;
    throw err;
  }
  throw new Error("expected a OptionError");
}

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = readTempDir();
});
afterAll(() => tmp.cleanup());

const base = { size: 1 << 20, bs: 4096, direct: false, keep: false };

test("missing file", () => {
  const e = inputError(() => prepareTarget({ ...base, file: join(tmp.dir, "nope") }));
  expect(e.reason).toBe("missing");
  expect(e.message).toMatch(/nope does not exist/);
});

test("a directory", () => {
  const e = inputError(() => prepareTarget({ ...base, file: tmp.dir }));
  expect(e.reason).toBe("directory");
  expect(e.message).toMatch(/is a directory/);
});

test("not a regular file (a device, a fifo)", () => {
  expect(inputError(() => prepareTarget({ ...base, file: "/dev/null" })).message).toMatch(/is not a regular file/);
  if (existsSync("/dev/vda")) expect(inputError(() => prepareTarget({ ...base, file: "/dev/vda" })).message).toMatch(/is a block device/);
});

test("no permission", () => {
  const p = patternFile(tmp.dir, "secret", 64 << 10);
  chmodSync(p, 0o000);
  if (process.getuid?.() !== 0) {
    const e = inputError(() => prepareTarget({ ...base, file: p }));
    expect(e.reason).toBe("permission");
    return;
  }
  // Root reads anything: ask from a child that keeps uid 0 but loses the
  // capabilities that bypass file permissions (so it can still read this
  // checkout, wherever it is, but not the mode-000 file).
  const script = `import { prepareTarget } from ${JSON.stringify(join(ROOT, "cli/read/target.ts"))};
try { prepareTarget({ file: ${JSON.stringify(p)}, size: 0, bs: 4096, direct: false, keep: false }); console.log("opened"); }
catch (e) { console.log(e.reason + ": " + e.message); }`;
  const setpriv = spawnSync("setpriv", ["--version"]);
  if (setpriv.status !== 0) return; // no way to drop the capabilities here: nothing to check
  const r = spawnSync("setpriv", ["--bounding-set=-dac_override,-dac_read_search", BUN, "-e", script], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.stdout === "") throw new Error(`the unprivileged child did not run: ${r.stderr}`);
  expect(r.stdout).toMatch(/^permission: No permission to read .*secret \(EACCES\)/);
});

test.skipIf(!isMemoryFs("/dev/shm"))("O_DIRECT on tmpfs: says so and suggests buffered", () => {
  const e = inputError(() => prepareTarget({ ...base, direct: true, dir: "/dev/shm" }));
  expect(e.reason).toBe("direct-unsupported");
  expect(e.message).toMatch(/tmpfs/);
  expect(e.message).toMatch(/without --direct \(buffered/);
  // A user file on tmpfs too, and nothing is left behind.
  const p = "/dev/shm/uring-bench-read-test-" + process.pid;
  writeFileSync(p, new Uint8Array(8192));
  try {
    expect(inputError(() => prepareTarget({ ...base, direct: true, file: p })).reason).toBe("direct-unsupported");
  } finally {
    spawnSync("rm", ["-f", p]);
  }
  expect(readdirSync("/dev/shm").some((f) => f.startsWith("uring-bench-read-"))).toBe(false);
});

test("O_DIRECT refused by the filesystem (EINVAL at open)", () => {
  const e = explainOpenError("/some/file", "EINVAL", true);
  expect(e.reason).toBe("direct-unsupported");
  expect(e.message).toMatch(/refused O_DIRECT \(EINVAL\).*without --direct/);
});

test.skipIf(directDir === null)("--bs not a multiple of the logical block size with O_DIRECT", () => {
  const p = patternFile(tmp.dir, "aligned", 64 << 10);
  const e = inputError(() => prepareTarget({ ...base, bs: 520, direct: true, file: p }));
  expect(e.reason).toBe("bs-alignment");
  expect(e.message).toMatch(/--bs 520 is not a multiple of the logical block size \(\d+ bytes\).*use --bs 1024/);
  // Buffered reads take any multiple of 8.
  expect(prepareTarget({ ...base, bs: 520, file: p }).size).toBe(64 << 10);
});

test("file smaller than one block", () => {
  const p = patternFile(tmp.dir, "tiny", 100);
  const e = inputError(() => prepareTarget({ ...base, file: p }));
  expect(e.reason).toBe("too-small");
  expect(e.message).toMatch(/is 100 bytes, smaller than one block \(--bs 4096\)/);
  expect(inputError(() => prepareTarget({ ...base, size: 1024, dir: tmp.dir })).reason).toBe("too-small");
});

describe("no space left while generating", () => {
  test("more than the free space: refused before writing", () => {
    const e = inputError(() => generateFile(tmp.dir, 2 ** 52));
    expect(e.reason).toBe("no-space");
    expect(e.message).toMatch(/No space left on the device while generating a 4096 TiB file.* free\)/);
  });

  test("ENOSPC part-way: the partial file is removed", () => {
    const before = readdirSync(tmp.dir).length;
    const e = inputError(() =>
      generateFile(tmp.dir, 1 << 20, (fd) => {
        writePattern(fd, 4096);
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }),
    );
    expect(e.reason).toBe("no-space");
    expect(readdirSync(tmp.dir).length).toBe(before);
  });

  test.skipIf(!existsSync("/dev/full"))("the writer reports ENOSPC as the kernel gives it (/dev/full)", () => {
    const fd = openSync("/dev/full", constants.O_WRONLY);
    try {
      expect(() => writePattern(fd, 8192)).toThrow(/ENOSPC/);
    } finally {
      closeSync(fd);
    }
  });
});

describe("options", () => {
  test("queue depth above the ring size", () => {
    const e = inputError(() => resolveReadOptions({ qd: "64", entries: "32" }, avail));
    expect(e.reason).toBe("qd-above-ring");
    expect(e.message).toMatch(/--qd 64 is above the ring size \(--entries 32\).*Raise --entries/);
    expect(inputError(() => resolveReadOptions({ qd: "64", entries: "65536" }, avail)).reason).toBe("entries");
  });

  test("submission size and buffer pages: defaults follow the workload; above qd is refused", () => {
    // Random O_DIRECT reads go out one by one; sequential and page-cache reads together.
    expect(resolveReadOptions({ direct: true }, avail).submit).toBe(1);
    expect(resolveReadOptions({ direct: true, pattern: "seq", qd: "8" }, avail).submit).toBe(8);
    expect(resolveReadOptions({ qd: "16" }, avail).submit).toBe(16);
    expect(resolveReadOptions({ qd: "16", submit: "4" }, avail).submit).toBe(4);
    expect(inputError(() => resolveReadOptions({ qd: "8", submit: "9" }, avail)).message).toMatch(/--submit 9 is above --qd 8/);
    expect(resolveReadOptions({}, avail).hugePages).toBe(true);
    expect(resolveReadOptions({ hugePages: false }, avail).hugePages).toBe(false);
  });

  test("batch above qd, bad bs, bad sizes and names", () => {
    expect(inputError(() => resolveReadOptions({ qd: "8", batch: "16" }, avail)).reason).toBe("batch");
    expect(inputError(() => resolveReadOptions({ bs: "4100" }, avail)).reason).toBe("bs");
    expect(() => resolveReadOptions({ bs: "4q" }, avail)).toThrow(/--bs takes a size like 4k/);
    expect(() => resolveReadOptions({ variants: "uring,nope" }, avail)).toThrow(/unknown "nope"/);
    expect(inputError(() => resolveReadOptions({ fio: true }, { ...avail, fio: false })).message).toMatch(/apt-get install fio/);
  });

  test("defaults: batch is qd buffered and qd/8 direct; fio only with --fio", () => {
    const b = resolveReadOptions({}, avail);
    expect([b.qd, b.entries, b.batch, b.bs]).toEqual([32, 32, 32, 4096]);
    expect(b.variants.some((v) => v.startsWith("fio"))).toBe(false);
    expect(resolveReadOptions({ direct: true }, avail).batch).toBe(4);
    expect(resolveReadOptions({ fio: true }, avail).variants).toContain("fio-io_uring");
    expect(resolveReadOptions({}, { node: false, cLoop: false, fio: false }).variants).not.toContain("node");
  });
});

describe("the CLI says why and exits 2 (usage)", () => {
  const cli = (...args: string[]) => spawnSync(BUN, [join(ROOT, "cli/main.ts"), "read", ...args], { encoding: "utf8", timeout: 60_000 });

  test("missing file", () => {
    const r = cli("--file", join(tmp.dir, "missing.dat"), "-d", "100ms");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/uring-bench: .*missing\.dat does not exist/);
  });

  test("qd above the ring size", () => {
    const r = cli("--qd", "64", "--entries", "16");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--qd 64 is above the ring size/);
  });
});
