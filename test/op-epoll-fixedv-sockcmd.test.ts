/**
 * On the kernel, the opcodes with no test file of their own:
 * FILES_UPDATE, EPOLL_CTL / EPOLL_WAIT, READV_FIXED / WRITEV_FIXED, SENDMSG_ZC and the
 * socket URING_CMDs (SIOCINQ, SIOCOUTQ, SETSOCKOPT / GETSOCKOPT), in the
 * spirit of liburing's file-update.c, epoll.c, epwait.c, read-write.c,
 * send-zerocopy.c and socket-getsetsock-cmd.c. Every byte moved is checked on
 * the other side.
 *
 * JavaScript cannot call epoll_create and the shim does not export it, and an
 * epoll fd cannot be reopened through /proc (ENXIO). So the epoll tests get
 * one the only way left: a python3 child makes it and passes it over an
 * AF_UNIX datagram socket (SCM_RIGHTS), received here by IORING_OP_RECVMSG.
 * Without python3 those tests are skipped.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AlignedBuffer } from "../src/mem/aligned.ts";
import {
  AddressFamily,
  cstr,
  EPOLL_EVENT_SIZE,
  makeEpollEvent,
  makeMsghdr,
  prepBind,
  prepCmdSock,
  prepEpollCtl,
  prepEpollWait,
  prepFilesUpdate,
  prepOpenat,
  prepRead,
  prepReadvFixed,
  prepRecvmsg,
  prepSend,
  prepSendmsgZc,
  prepSocket,
  prepWrite,
  prepWritevFixed,
  sockaddrUn,
  sockaddrUnLength,
} from "../src/ops/index.ts";
import { makeIovecs, registerBuffers, registerFilesSparse } from "../src/ring/register.ts";
import type { Ring } from "../src/ring/ring.ts";
import { CqeFlags, FILE_INDEX_ALLOC, NOTIF_USAGE_ZC_COPIED, Op, RecvSendFlags, SocketUringOp, SqeFlags } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp, tempDir } from "./helpers.ts";
import { CONFIGS, NEG, byUd, closeAll, fdBaseline, makePipe, pattern, prep, reap, run1, withRing, type CqeRecord } from "./op-helpers.ts";
import { connectPair, recvAll, SOCK_CLOEXEC, SOCK_DGRAM } from "./op-net-helpers.ts";

const MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SCM_RIGHTS = 1;
const AT_FDCWD = -100;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLLIN = 0x001;

const hasNet = [Op.SOCKET, Op.BIND, Op.LISTEN, Op.ACCEPT, Op.CONNECT].every((op) => kernelHasOp(op));
/** Can a python3 child make an epoll fd for us? (Asked once: a pyenv shim may exist without a working python.) */
const hasPythonEpoll =
  Bun.which("python3") !== null && Bun.spawnSync(["python3", "-c", "import select; select.epoll().close()"], { timeout: 4000 }).exitCode === 0;
const more = (c: CqeRecord) => (c.flags & CqeFlags.MORE) !== 0;
const notif = (c: CqeRecord) => (c.flags & CqeFlags.NOTIF) !== 0;

/** A temp file holding `data`, opened read-write through the ring (OPENAT), and its cleanup. */
function tempFile(ring: Ring, data: Uint8Array): { fd: number; close: () => void } {
  const tmp = tempDir("uring-op-rest-");
  const path = join(tmp.dir, "data");
  writeFileSync(path, data);
  const fd = run1(ring, (s) => prepOpenat(s, AT_FDCWD, cstr(path), 2 /* O_RDWR */, 0));
  if (fd < 0) {
    tmp.cleanup();
    throw new Error(`openat ${path} failed: ${fd}`);
  }
  let open = true;
  // idempotent: a test may close early, and a second close(fd) could hit a reused number
  const close = () => {
    if (!open) return;
    open = false;
    closeAll(fd);
    tmp.cleanup();
  };
  return { fd, close };
}

/**
 * A fresh epoll fd, made by a python3 child and received over SCM_RIGHTS by
 * IORING_OP_RECVMSG (the datagram waits in our socket after the child exits).
 */
function epollFromChild(ring: Ring): number {
  const tmp = tempDir("uring-op-rest-ep-");
  const path = join(tmp.dir, "s");
  const sock = run1(ring, (s) => prepSocket(s, AddressFamily.UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0));
  try {
    if (sock < 0) throw new Error(`AF_UNIX socket failed: ${sock}`);
    const addr = sockaddrUn(path);
    expect(run1(ring, (s) => prepBind(s, sock, addr, sockaddrUnLength(path)))).toBe(0);
    const script = [
      "import array, select, socket, sys",
      "e = select.epoll()",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
      "s.sendmsg([b'e'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [e.fileno()]))], 0, sys.argv[1])",
    ].join("\n");
    const child = Bun.spawnSync(["python3", "-c", script, path], { timeout: 4000 });
    if (child.exitCode !== 0) throw new Error(`python3 epoll child failed: ${child.stderr.toString()}`);
    const data = new Uint8Array(1);
    const control = new Uint8Array(24); // CMSG_SPACE(sizeof(int))
    const msg = makeMsghdr({ iov: makeIovecs([data]), iovlen: 1, control });
    expect(run1(ring, (s) => prepRecvmsg(s, sock, msg, MSG_CMSG_CLOEXEC))).toBe(1);
    const v = new DataView(control.buffer);
    // struct cmsghdr: u64 len, i32 level, i32 type, then the fd
    if (v.getInt32(8, true) !== SOL_SOCKET || v.getInt32(12, true) !== SCM_RIGHTS) {
      throw new Error("no SCM_RIGHTS control message arrived from the epoll child");
    }
    return v.getInt32(16, true);
  } finally {
    closeAll(sock);
    tmp.cleanup();
  }
}

/** The events and data of entry `i` of an epoll_event array. */
function epollEventAt(buf: Uint8Array, i: number): { events: number; data: bigint } {
  const v = new DataView(buf.buffer, buf.byteOffset + i * EPOLL_EVENT_SIZE, EPOLL_EVENT_SIZE);
  return { events: v.getUint32(0, true), data: v.getBigUint64(EPOLL_EVENT_SIZE === 12 ? 4 : 8, true) };
}

describe.each(CONFIGS)("remaining ops on $name ring", ({ options }) => {
  test.skipIf(!kernelHasOp(Op.FILES_UPDATE))("FILES_UPDATE fills sparse slots that fixed-file READs then use; -1 clears", () => {
    withRing(8, options, (ring) => {
      const data = pattern(300, 3);
      const f = tempFile(ring, data);
      try {
        expect(registerFilesSparse(ring, 4)).toBe(0);
        const fds = new Int32Array([f.fd, f.fd]);
        expect(run1(ring, (s) => prepFilesUpdate(s, fds, 2, 2))).toBe(2); // slots 2 and 3
        for (const slot of [2, 3]) {
          const buf = new Uint8Array(300);
          expect(run1(ring, (s) => prepRead(s, slot, buf, 300, 0), SqeFlags.FIXED_FILE)).toBe(300);
          expect(buf).toEqual(data);
        }
        const empty = new Uint8Array(4);
        expect(run1(ring, (s) => prepRead(s, 0, empty, 4, 0), SqeFlags.FIXED_FILE)).toBe(NEG.EBADF); // never filled

        const clear = new Int32Array([-1]);
        expect(run1(ring, (s) => prepFilesUpdate(s, clear, 1, 2))).toBe(1);
        expect(run1(ring, (s) => prepRead(s, 2, empty, 4, 0), SqeFlags.FIXED_FILE)).toBe(NEG.EBADF);
        expect(run1(ring, (s) => prepRead(s, 3, empty, 4, 0), SqeFlags.FIXED_FILE)).toBe(4); // its neighbour stays

        // offset FILE_INDEX_ALLOC: the kernel picks free slots and writes them back into the array
        const alloc = new Int32Array([f.fd]);
        expect(run1(ring, (s) => prepFilesUpdate(s, alloc, 1, FILE_INDEX_ALLOC))).toBe(1);
        const slot = alloc[0]!;
        expect([0, 1, 2]).toContain(slot);
        const buf = new Uint8Array(10);
        expect(run1(ring, (s) => prepRead(s, slot, buf, 10, 5), SqeFlags.FIXED_FILE)).toBe(10);
        expect(buf).toEqual(data.subarray(5, 15));

        // the table still holds the file after the normal fd is gone
        f.close();
        expect(run1(ring, (s) => prepRead(s, 3, buf, 10, 0), SqeFlags.FIXED_FILE)).toBe(10);
        expect(buf).toEqual(data.subarray(0, 10));
      } finally {
        f.close();
      }
    });
  });

  test.skipIf(!kernelHasOp(Op.FILES_UPDATE))("FILES_UPDATE without a registered table fails with -ENXIO", () => {
    withRing(4, options, (ring) => {
      const fds = new Int32Array([ring.fd]);
      expect(run1(ring, (s) => prepFilesUpdate(s, fds, 1, 0))).toBe(-6 /* ENXIO */);
    });
  });

  test.skipIf(!kernelHasOp(Op.READV_FIXED) || !kernelHasOp(Op.WRITEV_FIXED))("WRITEV_FIXED then READV_FIXED move two iovecs inside a registered buffer", () => {
    withRing(8, options, (ring) => {
      const f = tempFile(ring, new Uint8Array(0));
      const mem = new AlignedBuffer(8192);
      try {
        expect(registerBuffers(ring, [{ address: mem.address, length: 8192 }])).toBe(0);
        const a = mem.bytes.subarray(100, 1100);
        const b = mem.bytes.subarray(5000, 5500);
        a.set(pattern(1000, 1));
        b.set(pattern(500, 2));
        const wiov = makeIovecs([a, b]);
        expect(run1(ring, (s) => prepWritevFixed(s, f.fd, wiov, 2, 16, 0, 0))).toBe(1500);
        const joined = new Uint8Array([...pattern(1000, 1), ...pattern(500, 2)]);
        expect(new Uint8Array(readFileSync(`/proc/self/fd/${f.fd}`).subarray(16))).toEqual(joined);

        // read back split differently, into other parts of the same buffer
        const c = mem.bytes.subarray(2000, 2700);
        const d = mem.bytes.subarray(6000, 6800);
        const riov = makeIovecs([c, d]);
        expect(run1(ring, (s) => prepReadvFixed(s, f.fd, riov, 2, 16, 0, 0))).toBe(1500);
        expect(new Uint8Array([...c, ...d])).toEqual(joined);

        // an iovec outside the registered buffer is refused
        const outside = new Uint8Array(64);
        const bad = makeIovecs([outside]);
        expect(run1(ring, (s) => prepReadvFixed(s, f.fd, bad, 1, 0, 0, 0))).toBe(-14 /* EFAULT */);
      } finally {
        f.close();
        ring.close(); // unregisters the buffer before its memory goes (withRing's own close is then a no-op)
        mem.free();
      }
    });
  });

  test.skipIf(!hasNet || !kernelHasOp(Op.SENDMSG_ZC))("SENDMSG_ZC posts its result with F_MORE, then a NOTIF CQE", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      try {
        const parts = [pattern(20_000, 5), pattern(12_000, 9)];
        const msg = makeMsghdr({ iov: makeIovecs(parts), iovlen: 2 });
        prep(ring, 90, (s) => prepSendmsgZc(s, c.client, msg, 0));
        const cqes = reap(ring, 2);
        expect(cqes.every((x) => x.userData === 90)).toBe(true);
        const [first, note] = [cqes[0]!, cqes[1]!];
        expect(first.res).toBe(32_000);
        expect(more(first)).toBe(true);
        expect(notif(first)).toBe(false);
        expect(notif(note)).toBe(true);
        expect(more(note)).toBe(false);
        expect(recvAll(ring, c.server, 32_000)).toEqual(new Uint8Array([...parts[0]!, ...parts[1]!]));

        // SEND_ZC_REPORT_USAGE: loopback must copy, and the notification says so
        prep(ring, 91, (s) => {
          prepSendmsgZc(s, c.client, msg, 0);
          s.u16[1] = RecvSendFlags.SEND_ZC_REPORT_USAGE; // ioprio: the zero-copy flags (prepSendmsgZc has no parameter for them)
        });
        const cqes2 = reap(ring, 2);
        expect(cqes2[0]!.res).toBe(32_000);
        const usage = cqes2.find(notif);
        expect(usage).toBeDefined();
        expect((usage!.res & NOTIF_USAGE_ZC_COPIED) >>> 0).toBe(NOTIF_USAGE_ZC_COPIED);
        expect(recvAll(ring, c.server, 32_000)).toEqual(new Uint8Array([...parts[0]!, ...parts[1]!]));
      } finally {
        c.close();
      }
    });
  });

  test.skipIf(!hasNet || !kernelHasOp(Op.URING_CMD))("socket URING_CMDs: SIOCINQ, SIOCOUTQ, SETSOCKOPT / GETSOCKOPT", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      try {
        const cmd = (op: number, fd: number, level = 0, optname = 0, optval: Uint8Array | Int32Array | null = null, optlen = 0) =>
          run1(ring, (s) => prepCmdSock(s, op, fd, level, optname, optval, optlen));
        expect(cmd(SocketUringOp.SIOCINQ, c.server)).toBe(0);
        const msg = pattern(777, 4);
        expect(run1(ring, (s) => prepSend(s, c.client, msg, msg.length, 0))).toBe(777);
        expect(cmd(SocketUringOp.SIOCINQ, c.server)).toBe(777);
        expect(cmd(SocketUringOp.SIOCOUTQ, c.client)).toBeGreaterThanOrEqual(0);
        expect(recvAll(ring, c.server, 777)).toEqual(msg);
        expect(cmd(SocketUringOp.SIOCINQ, c.server)).toBe(0);

        const set = new Int32Array([16_384]);
        expect(cmd(SocketUringOp.SETSOCKOPT, c.server, SOL_SOCKET, SO_RCVBUF, set, 4)).toBe(0);
        const got = new Int32Array([-1]);
        const len = cmd(SocketUringOp.GETSOCKOPT, c.server, SOL_SOCKET, SO_RCVBUF, got, 4);
        expect(len).toBe(4); // the kernel returns the option's length
        expect(got[0]).toBe(2 * 16_384); // Linux doubles SO_RCVBUF for its bookkeeping
      } finally {
        c.close();
      }
    });
  });

  test.skipIf(!kernelHasOp(Op.URING_CMD))("a socket URING_CMD on a regular file fails with -EOPNOTSUPP", () => {
    withRing(8, options, (ring) => {
      const f = tempFile(ring, pattern(8));
      try {
        // a regular file has no uring_cmd handler at all
        expect(run1(ring, (s) => prepCmdSock(s, SocketUringOp.SIOCINQ, f.fd, 0, 0, null, 0))).toBe(NEG.EOPNOTSUPP);
      } finally {
        f.close();
      }
    });
  });

  test.skipIf(!hasPythonEpoll || !kernelHasOp(Op.EPOLL_CTL) || !kernelHasOp(Op.EPOLL_WAIT) || !kernelHasOp(Op.RECVMSG))(
    "EPOLL_CTL adds a pipe; EPOLL_WAIT waits for it and reports its data; DEL removes it",
    () => {
      withRing(8, options, (ring) => {
        const ep = epollFromChild(ring);
        const tmp = tempDir("uring-op-rest-pipe-");
        const p = makePipe(tmp.dir);
        try {
          const ev = makeEpollEvent(EPOLLIN, 0x1234_5678_9abcn);
          expect(run1(ring, (s) => prepEpollCtl(s, ep, p.readFd, EPOLL_CTL_ADD, ev))).toBe(0);
          expect(run1(ring, (s) => prepEpollCtl(s, ep, p.readFd, EPOLL_CTL_ADD, ev))).toBe(NEG.EEXIST);

          const events = new Uint8Array(4 * EPOLL_EVENT_SIZE);
          prep(ring, 20, (s) => prepEpollWait(s, ep, events, 4, 0));
          expect(ring.submit()).toBe(1);
          const one = new Uint8Array([42]);
          prep(ring, 21, (s) => prepWrite(s, p.writeFd, one, 1, -1));
          const got = byUd(reap(ring, 2));
          expect(got.get(21)?.res).toBe(1);
          expect(got.get(20)?.res).toBe(1);
          const e0 = epollEventAt(events, 0);
          expect(e0.events & EPOLLIN).toBe(EPOLLIN);
          expect(e0.data).toBe(0x1234_5678_9abcn);

          expect(run1(ring, (s) => prepEpollCtl(s, ep, p.readFd, EPOLL_CTL_DEL, null))).toBe(0);
          expect(run1(ring, (s) => prepEpollCtl(s, ep, p.readFd, EPOLL_CTL_DEL, null))).toBe(NEG.ENOENT);
          const r = new Uint8Array(1);
          expect(run1(ring, (s) => prepRead(s, p.readFd, r, 1, -1))).toBe(1);
          expect(r[0]).toBe(42);
        } finally {
          p.close();
          tmp.cleanup();
          closeAll(ep);
        }
      });
    },
  );

  test.skipIf(!kernelHasOp(Op.EPOLL_CTL))("EPOLL_CTL on a non-epoll fd fails with -EINVAL", () => {
    withRing(8, options, (ring) => {
      const tmp = tempDir("uring-op-rest-pipe-");
      const p = makePipe(tmp.dir);
      try {
        const ev = makeEpollEvent(EPOLLIN, 1);
        expect(run1(ring, (s) => prepEpollCtl(s, p.writeFd, p.readFd, EPOLL_CTL_ADD, ev))).toBe(NEG.EINVAL);
      } finally {
        p.close();
        tmp.cleanup();
      }
    });
  });
});

test.skipIf(!hasNet || !kernelHasOp(Op.FILES_UPDATE))("remaining-op tests leak no fds", async () => {
  const before = fdBaseline();
  withRing(16, {}, (ring) => {
    const f = tempFile(ring, pattern(16));
    expect(registerFilesSparse(ring, 2)).toBe(0);
    const fds = new Int32Array([f.fd]);
    expect(run1(ring, (s) => prepFilesUpdate(s, fds, 1, 0))).toBe(1);
    f.close();
    const c = connectPair(ring);
    const msg = makeMsghdr({ iov: makeIovecs([pattern(10)]), iovlen: 1 });
    if (kernelHasOp(Op.SENDMSG_ZC)) {
      prep(ring, 1, (s) => prepSendmsgZc(s, c.client, msg, 0));
      expect(reap(ring, 2).some(notif)).toBe(true);
      expect(recvAll(ring, c.server, 10)).toEqual(pattern(10));
    }
    c.close();
  });
  await expectNoNewFds(before);
});
