/**
 * File-system opcodes against a temp directory, in the spirit of liburing's
 * statx.c, open-close.c, openat2.c, rename.c, unlink.c, mkdir.c, symlink.c,
 * xattr.c, truncate.c, fallocate.c, fadvise.c, madvise.c, read-write.c and
 * fsync.c. Every result is checked against what node:fs sees afterwards, and
 * every byte read or written is verified.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cstr,
  makeOpenHow,
  prepClose,
  prepFadvise,
  prepFallocate,
  prepFgetxattr,
  prepFsetxattr,
  prepFsync,
  prepFtruncate,
  prepGetxattr,
  prepLinkat,
  prepMadvise,
  prepMkdirat,
  prepOpenat,
  prepOpenat2,
  prepRead,
  prepReadv,
  prepRenameat,
  prepSetxattr,
  prepStatx,
  prepSymlinkat,
  prepUnlinkat,
  prepWrite,
  prepWritev,
} from "../src/ops/index.ts";
import { makeIovecs } from "../src/ring/register.ts";
import { FsyncFlags, Op, SqeFlags } from "../src/sys/constants.ts";
import { alignedAlloc, freeAligned } from "../src/sys/ffi.ts";
import { expectNoNewFds, kernelHasOp, openFds, tempDir } from "./helpers.ts";
import { CONFIGS, fdBaseline, NEG, closeAll, pattern, prep, reap, reapOne, run1, withRing } from "./op-helpers.ts";

const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS = 0x7ff;
const RENAME_NOREPLACE = 1;
const RESOLVE_BENEATH = 0x08;
const FALLOC_FL_KEEP_SIZE = 0x01;
const POSIX_FADV_SEQUENTIAL = 2;
const POSIX_FADV_DONTNEED = 4;
const MADV_NORMAL = 0;
const MADV_WILLNEED = 3;
const XATTR_CREATE = 1;
const ENODATA = 61;
const EXDEV = 18;
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_DIRECTORY } = constants;

/** struct statx fields this test reads (offsets from linux/stat.h). */
const STATX = { size: 256, nlink: 16, mode: 28, ino: 32, fileSize: 40 } as const;

let tmp: ReturnType<typeof tempDir>;
let dirFd = -1;
let seq = 0;
beforeAll(() => {
  tmp = tempDir("uring-op-fs-");
  dirFd = openSync(tmp.dir, O_RDONLY | O_DIRECTORY);
});
afterAll(() => {
  closeAll(dirFd);
  tmp.cleanup();
});

/** A fresh name inside the temp dir (relative, for the *at ops with dirFd) and its absolute path. */
function fresh(prefix: string): { name: string; path: string } {
  const name = `${prefix}-${seq++}`;
  return { name, path: join(tmp.dir, name) };
}

/** Does this fs take user.* xattrs through io_uring? Probed once (tmpfs and ext4 do; some overlay setups do not). */
const xattrUsable = ((): boolean => {
  if (!kernelHasOp(Op.FSETXATTR)) return false;
  const t = tempDir("uring-op-xattr-probe-");
  const fd = openSync(join(t.dir, "p"), O_RDWR | O_CREAT, 0o644);
  try {
    return withRing(4, {}, (ring) => {
      const name = cstr("user.probe");
      const value = new Uint8Array([1]);
      prep(ring, 1, (s) => prepFsetxattr(s, fd, name, value, 0, 1));
      return reapOne(ring).res === 0;
    });
  } finally {
    closeSync(fd);
    t.cleanup();
  }
})();

describe.each(CONFIGS)("file-system ops on $name ring", ({ options }) => {
  test.skipIf(!kernelHasOp(Op.STATX))("statx by path and by fd (AT_EMPTY_PATH) matches fstat", () => {
    const { name, path } = fresh("statx");
    writeFileSync(path, pattern(1234));
    const st = statSync(path, { bigint: true });
    withRing(8, options, (ring) => {
      const buf = new Uint8Array(STATX.size);
      const dv = new DataView(buf.buffer);
      const p = cstr(name);
      expect(run1(ring, (s) => prepStatx(s, dirFd, p, 0, STATX_BASIC_STATS, buf))).toBe(0);
      expect(dv.getBigUint64(STATX.fileSize, true)).toBe(1234n);
      expect(dv.getBigUint64(STATX.ino, true)).toBe(st.ino);
      expect(dv.getUint16(STATX.mode, true)).toBe(Number(st.mode));

      const fd = openSync(path, O_RDONLY);
      try {
        buf.fill(0);
        const empty = cstr("");
        expect(run1(ring, (s) => prepStatx(s, fd, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, buf))).toBe(0);
        expect(dv.getBigUint64(STATX.ino, true)).toBe(st.ino);
      } finally {
        closeSync(fd);
      }

      const missing = cstr("no-such-file");
      expect(run1(ring, (s) => prepStatx(s, dirFd, missing, 0, STATX_BASIC_STATS, buf))).toBe(NEG.ENOENT);
    });
  });

  test.skipIf(!kernelHasOp(Op.OPENAT) || !kernelHasOp(Op.CLOSE))("openat creates, O_EXCL refuses, close closes", () => {
    const { name, path } = fresh("open");
    withRing(8, options, (ring) => {
      const p = cstr(name);
      const fd = run1(ring, (s) => prepOpenat(s, dirFd, p, O_RDWR | O_CREAT, 0o600));
      expect(fd).toBeGreaterThanOrEqual(0);
      expect(fstatSync(fd).ino).toBe(statSync(path).ino);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(run1(ring, (s) => prepOpenat(s, dirFd, p, O_RDWR | O_CREAT | O_EXCL, 0o600))).toBe(NEG.EEXIST);
      expect(run1(ring, (s) => prepClose(s, fd))).toBe(0);
      expect(() => fstatSync(fd)).toThrow();
      const missing = cstr("missing/file");
      expect(run1(ring, (s) => prepOpenat(s, dirFd, missing, O_RDONLY, 0))).toBe(NEG.ENOENT);
      expect(run1(ring, (s) => prepClose(s, 987654))).toBe(NEG.EBADF);
    });
  });

  test.skipIf(!kernelHasOp(Op.OPENAT2))("openat2 honours open_how, including RESOLVE_BENEATH", () => {
    const { name, path } = fresh("open2");
    writeFileSync(path, "x");
    withRing(8, options, (ring) => {
      const p = cstr(name);
      const how = makeOpenHow(O_RDONLY, 0, 0);
      const fd = run1(ring, (s) => prepOpenat2(s, dirFd, p, how));
      expect(fd).toBeGreaterThanOrEqual(0);
      try {
        expect(fstatSync(fd).ino).toBe(statSync(path).ino);
      } finally {
        closeSync(fd);
      }
      const escape = cstr("../outside");
      const beneath = makeOpenHow(O_RDONLY, 0, RESOLVE_BENEATH);
      expect(run1(ring, (s) => prepOpenat2(s, dirFd, escape, beneath))).toBe(-EXDEV);
      const badHow = makeOpenHow(O_RDONLY, 0o644, 0); // mode without O_CREAT is rejected by openat2
      expect(run1(ring, (s) => prepOpenat2(s, dirFd, p, badHow))).toBe(NEG.EINVAL);
    });
  });

  test.skipIf(!kernelHasOp(Op.RENAMEAT))("renameat moves a file; RENAME_NOREPLACE refuses to overwrite", () => {
    const a = fresh("ren-a");
    const b = fresh("ren-b");
    const c = fresh("ren-c");
    writeFileSync(a.path, "A");
    writeFileSync(c.path, "C");
    withRing(8, options, (ring) => {
      const pa = cstr(a.name);
      const pb = cstr(b.name);
      const pc = cstr(c.name);
      expect(run1(ring, (s) => prepRenameat(s, dirFd, pa, dirFd, pb, 0))).toBe(0);
      expect(existsSync(a.path)).toBe(false);
      expect(readFileSync(b.path, "utf8")).toBe("A");
      expect(run1(ring, (s) => prepRenameat(s, dirFd, pb, dirFd, pc, RENAME_NOREPLACE))).toBe(NEG.EEXIST);
      expect(readFileSync(c.path, "utf8")).toBe("C");
      expect(run1(ring, (s) => prepRenameat(s, dirFd, pa, dirFd, pc, 0))).toBe(NEG.ENOENT);
    });
  });

  test.skipIf(!kernelHasOp(Op.UNLINKAT) || !kernelHasOp(Op.MKDIRAT))("mkdirat and unlinkat (files and, with AT_REMOVEDIR, dirs)", () => {
    const d = fresh("dir");
    const f = fresh("unl");
    writeFileSync(f.path, "");
    withRing(8, options, (ring) => {
      const pd = cstr(d.name);
      const pf = cstr(f.name);
      expect(run1(ring, (s) => prepMkdirat(s, dirFd, pd, 0o750))).toBe(0);
      expect(statSync(d.path).isDirectory()).toBe(true);
      expect(statSync(d.path).mode & 0o777).toBe(0o750 & ~process.umask());
      expect(run1(ring, (s) => prepMkdirat(s, dirFd, pd, 0o750))).toBe(NEG.EEXIST);
      expect(run1(ring, (s) => prepUnlinkat(s, dirFd, pd, 0))).toBeLessThan(0); // EISDIR: a dir needs AT_REMOVEDIR
      expect(run1(ring, (s) => prepUnlinkat(s, dirFd, pd, AT_REMOVEDIR))).toBe(0);
      expect(existsSync(d.path)).toBe(false);
      expect(run1(ring, (s) => prepUnlinkat(s, dirFd, pf, 0))).toBe(0);
      expect(existsSync(f.path)).toBe(false);
      expect(run1(ring, (s) => prepUnlinkat(s, dirFd, pf, 0))).toBe(NEG.ENOENT);
    });
  });

  test.skipIf(!kernelHasOp(Op.SYMLINKAT) || !kernelHasOp(Op.LINKAT))("symlinkat and linkat", () => {
    const target = fresh("tgt");
    const sym = fresh("sym");
    const hard = fresh("hard");
    writeFileSync(target.path, "T");
    withRing(8, options, (ring) => {
      const t = cstr(target.name);
      const ps = cstr(sym.name);
      const ph = cstr(hard.name);
      expect(run1(ring, (s) => prepSymlinkat(s, t, dirFd, ps))).toBe(0);
      expect(lstatSync(sym.path).isSymbolicLink()).toBe(true);
      expect(readlinkSync(sym.path)).toBe(target.name);
      expect(run1(ring, (s) => prepSymlinkat(s, t, dirFd, ps))).toBe(NEG.EEXIST);

      expect(run1(ring, (s) => prepLinkat(s, dirFd, t, dirFd, ph, 0))).toBe(0);
      expect(statSync(hard.path).ino).toBe(statSync(target.path).ino);
      expect(statSync(target.path).nlink).toBe(2);
      // linking the symlink itself (no AT_SYMLINK_FOLLOW) makes a second symlink
      const abs2 = cstr(`${hard.path}-2`);
      expect(run1(ring, (s) => prepLinkat(s, dirFd, ps, AT_FDCWD, abs2, 0))).toBe(0);
      expect(lstatSync(`${hard.path}-2`).isSymbolicLink()).toBe(true);
    });
  });

  test.skipIf(!xattrUsable)("fsetxattr / fgetxattr / setxattr / getxattr round-trip user.* values", () => {
    const { path } = fresh("xattr");
    writeFileSync(path, "");
    const fd = openSync(path, O_RDWR);
    try {
      withRing(8, options, (ring) => {
        const n1 = cstr("user.one");
        const n2 = cstr("user.two");
        const p = cstr(path);
        const v1 = new TextEncoder().encode("first value");
        const v2 = new TextEncoder().encode("second");
        expect(run1(ring, (s) => prepFsetxattr(s, fd, n1, v1, 0, v1.length))).toBe(0);
        expect(run1(ring, (s) => prepSetxattr(s, n2, v2, p, 0, v2.length))).toBe(0);

        const out = new Uint8Array(64);
        const got1 = run1(ring, (s) => prepFgetxattr(s, fd, n1, out, out.length));
        expect(got1).toBe(v1.length);
        expect(new TextDecoder().decode(out.subarray(0, got1))).toBe("first value");
        const got2 = run1(ring, (s) => prepGetxattr(s, n2, out, p, out.length));
        expect(got2).toBe(v2.length);
        expect(new TextDecoder().decode(out.subarray(0, got2))).toBe("second");

        // XATTR_CREATE on an existing name, and a name that is not there
        expect(run1(ring, (s) => prepFsetxattr(s, fd, n1, v2, XATTR_CREATE, v2.length))).toBe(NEG.EEXIST);
        const missing = cstr("user.missing");
        expect(run1(ring, (s) => prepFgetxattr(s, fd, missing, out, out.length))).toBe(-ENODATA);
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!kernelHasOp(Op.FTRUNCATE))("ftruncate grows and shrinks a file", () => {
    const { path } = fresh("trunc");
    writeFileSync(path, pattern(100));
    const fd = openSync(path, O_RDWR);
    try {
      withRing(8, options, (ring) => {
        expect(run1(ring, (s) => prepFtruncate(s, fd, 4096))).toBe(0);
        expect(fstatSync(fd).size).toBe(4096);
        expect(run1(ring, (s) => prepFtruncate(s, fd, 10))).toBe(0);
        expect(fstatSync(fd).size).toBe(10);
        expect(readFileSync(path)).toEqual(Buffer.from(pattern(100).subarray(0, 10)));
      });
      const ro = openSync(path, O_RDONLY);
      try {
        withRing(8, options, (ring) => expect(run1(ring, (s) => prepFtruncate(s, ro, 0))).toBeLessThan(0));
      } finally {
        closeSync(ro);
      }
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!kernelHasOp(Op.FALLOCATE))("fallocate extends, or with KEEP_SIZE only reserves", () => {
    const { path } = fresh("falloc");
    const fd = openSync(path, O_RDWR | O_CREAT, 0o644);
    try {
      withRing(8, options, (ring) => {
        expect(run1(ring, (s) => prepFallocate(s, fd, 0, 0, 1 << 16))).toBe(0);
        expect(fstatSync(fd).size).toBe(1 << 16);
        const res = run1(ring, (s) => prepFallocate(s, fd, FALLOC_FL_KEEP_SIZE, 1 << 16, 1 << 16));
        expect(res).toBe(0);
        expect(fstatSync(fd).size).toBe(1 << 16);
        expect(fstatSync(fd).blocks * 512).toBeGreaterThanOrEqual(1 << 17);
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!kernelHasOp(Op.FADVISE))("fadvise accepts valid advice and rejects invalid advice", () => {
    const { path } = fresh("fadv");
    writeFileSync(path, pattern(8192));
    const fd = openSync(path, O_RDONLY);
    try {
      withRing(8, options, (ring) => {
        expect(run1(ring, (s) => prepFadvise(s, fd, 0, 8192, POSIX_FADV_SEQUENTIAL))).toBe(0);
        expect(run1(ring, (s) => prepFadvise(s, fd, 0, 0, POSIX_FADV_DONTNEED))).toBe(0);
        expect(run1(ring, (s) => prepFadvise(s, fd, 0, 0, 99))).toBe(NEG.EINVAL);
      });
    } finally {
      closeSync(fd);
    }
  });

  test.skipIf(!kernelHasOp(Op.MADVISE))("madvise on page-aligned memory; unaligned gives -EINVAL", () => {
    const len = 4 * 4096;
    const addr = alignedAlloc(4096, len);
    expect(addr).toBeGreaterThan(0);
    try {
      withRing(8, options, (ring) => {
        expect(run1(ring, (s) => prepMadvise(s, addr, len, MADV_WILLNEED))).toBe(0);
        expect(run1(ring, (s) => prepMadvise(s, addr, len, MADV_NORMAL))).toBe(0);
        expect(run1(ring, (s) => prepMadvise(s, addr + 1, 4096, MADV_NORMAL))).toBe(NEG.EINVAL);
      });
    } finally {
      freeAligned(addr);
    }
  });

  test("write then read at offsets: the bytes come back", () => {
    const { path } = fresh("rw");
    const fd = openSync(path, O_RDWR | O_CREAT, 0o644);
    try {
      withRing(16, options, (ring) => {
        const data = pattern(3 * 4096, 3);
        // three writes out of order, then one read of the whole range
        for (const i of [2, 0, 1]) {
          const part = data.subarray(i * 4096, (i + 1) * 4096);
          prep(ring, i, (s) => prepWrite(s, fd, part, part.length, i * 4096));
        }
        expect(reap(ring, 3).every((c) => c.res === 4096)).toBe(true);
        const back = new Uint8Array(data.length);
        expect(run1(ring, (s) => prepRead(s, fd, back, back.length, 0))).toBe(data.length);
        expect(back).toEqual(data);
        // reading past the end returns 0, a partial read returns what is there
        expect(run1(ring, (s) => prepRead(s, fd, back, 16, data.length))).toBe(0);
        expect(run1(ring, (s) => prepRead(s, fd, back, 100, data.length - 10))).toBe(10);
        expect(readFileSync(path)).toEqual(Buffer.from(data));
      });
    } finally {
      closeSync(fd);
    }
  });

  test("offset -1 uses and advances the file position", () => {
    const { path } = fresh("pos");
    writeFileSync(path, "abcdefgh");
    const fd = openSync(path, O_RDONLY);
    try {
      withRing(8, options, (ring) => {
        const b = new Uint8Array(3);
        expect(run1(ring, (s) => prepRead(s, fd, b, 3, -1))).toBe(3);
        expect(new TextDecoder().decode(b)).toBe("abc");
        expect(run1(ring, (s) => prepRead(s, fd, b, 3, -1))).toBe(3);
        expect(new TextDecoder().decode(b)).toBe("def");
      });
    } finally {
      closeSync(fd);
    }
  });

  test("writev then readv scatter-gather the bytes", () => {
    const { path } = fresh("vec");
    const fd = openSync(path, O_RDWR | O_CREAT, 0o644);
    try {
      withRing(8, options, (ring) => {
        const parts = [pattern(100, 1), pattern(7, 2), pattern(4096, 3)];
        const total = parts.reduce((n, p) => n + p.length, 0);
        const wiov = makeIovecs(parts);
        expect(run1(ring, (s) => prepWritev(s, fd, wiov, parts.length, 0))).toBe(total);
        const outs = [new Uint8Array(50), new Uint8Array(57), new Uint8Array(4096)];
        const riov = makeIovecs(outs);
        expect(run1(ring, (s) => prepReadv(s, fd, riov, outs.length, 0))).toBe(total);
        const joined = new Uint8Array(total);
        let o = 0;
        for (const p of outs) {
          joined.set(p, o);
          o += p.length;
        }
        const expected = new Uint8Array(total);
        o = 0;
        for (const p of parts) {
          expected.set(p, o);
          o += p.length;
        }
        expect(joined).toEqual(expected);
      });
    } finally {
      closeSync(fd);
    }
  });

  test("write -> fsync -> fdatasync -> read as one linked chain", () => {
    const { path } = fresh("chain");
    const fd = openSync(path, O_RDWR | O_CREAT, 0o644);
    try {
      withRing(8, options, (ring) => {
        const data = pattern(512, 9);
        const back = new Uint8Array(512);
        prep(ring, 1, (s) => prepWrite(s, fd, data, data.length, 0), SqeFlags.IO_LINK);
        prep(ring, 2, (s) => prepFsync(s, fd, 0), SqeFlags.IO_LINK);
        prep(ring, 3, (s) => prepFsync(s, fd, FsyncFlags.DATASYNC), SqeFlags.IO_LINK);
        prep(ring, 4, (s) => prepRead(s, fd, back, back.length, 0));
        expect(reap(ring, 4).map((c) => [c.userData, c.res])).toEqual([
          [1, 512],
          [2, 0],
          [3, 0],
          [4, 512],
        ]);
        expect(back).toEqual(data);
      });
    } finally {
      closeSync(fd);
    }
  });

  test("read and write on a bad fd give -EBADF; a write to a read-only fd fails", () => {
    const { path } = fresh("bad");
    writeFileSync(path, "x");
    const ro = openSync(path, O_RDONLY);
    try {
      withRing(8, options, (ring) => {
        const b = new Uint8Array(4);
        expect(run1(ring, (s) => prepRead(s, 999_999, b, 4, 0))).toBe(NEG.EBADF);
        expect(run1(ring, (s) => prepWrite(s, ro, b, 4, 0))).toBe(NEG.EBADF);
        expect(run1(ring, (s) => prepFsync(s, 999_999, 0))).toBe(NEG.EBADF);
      });
    } finally {
      closeSync(ro);
    }
  });
});

test.skipIf(!kernelHasOp(Op.OPENAT) || !kernelHasOp(Op.CLOSE))("opening and closing through the ring leaks no fds", async () => {
  const before = fdBaseline();
  const d = fresh("leakdir");
  mkdirSync(d.path);
  withRing(32, {}, (ring) => {
    const names = Array.from({ length: 8 }, (_, i) => cstr(join(d.path, `f${i}`)));
    names.forEach((n, i) => prep(ring, i, (s) => prepOpenat(s, AT_FDCWD, n, O_WRONLY | O_CREAT, 0o644)));
    const fds = reap(ring, 8).map((c) => c.res);
    expect(fds.every((fd) => fd >= 0)).toBe(true);
    expect(openFds().size).toBe(before.size + 1 + 8); // + the ring
    fds.forEach((fd, i) => prep(ring, 100 + i, (s) => prepClose(s, fd)));
    expect(reap(ring, 8).every((c) => c.res === 0)).toBe(true);
  });
  await expectNoNewFds(before);
});
