/**
 * Socket opcodes on 127.0.0.1, in the spirit of liburing's socket.c,
 * bind-listen.c, accept.c, connect.c, send_recv.c, send-zerocopy.c,
 * recv-multishot.c and shutdown.c. Every socket is made, bound, connected and
 * accepted by the ring itself; every byte sent is checked on the other side.
 * Ports come from the kernel (bind to port 0); the test finds which one by
 * the socket's inode in /proc/net/tcp, since there is no getsockname op here.
 */
import { describe, expect, test } from "bun:test";
import { BufferRing } from "../src/mem/buffer-ring.ts";
import {
  AddressFamily,
  SOCKADDR_IN_SIZE,
  makeMsghdr,
  prepCancel64,
  prepConnect,
  prepMultishotAccept,
  prepRecv,
  prepRecvMultishot,
  prepRecvmsg,
  prepSend,
  prepSendZc,
  prepSendmsg,
  prepShutdown,
  prepSocket,
  sockaddrIn,
} from "../src/ops/index.ts";
import { makeIovecs } from "../src/ring/register.ts";
import { sqeSetBufGroup } from "../src/ring/sqe.ts";
import { CQE_BUFFER_SHIFT, CqeFlags, NOTIF_USAGE_ZC_COPIED, Op, RecvSendFlags, SqeFlags } from "../src/sys/constants.ts";
import { expectNoNewFds, kernelHasOp } from "./helpers.ts";
import { CONFIGS, byUd, fdBaseline, NEG, closeAll, pattern, prep, reap, reapOne, run1, withRing, type CqeRecord } from "./op-helpers.ts";
import { connectPair, listener, localPort, MSG_WAITALL, recvAll, SOCK_CLOEXEC, SOCK_STREAM, tcpSocket } from "./op-net-helpers.ts";

const SHUT_WR = 1;
const ECONNREFUSED = 111;
const ENOTSOCK = 88;

const hasSocket = kernelHasOp(Op.SOCKET);
const hasBindListen = kernelHasOp(Op.BIND) && kernelHasOp(Op.LISTEN);
const hasNet = hasSocket && hasBindListen && kernelHasOp(Op.ACCEPT) && kernelHasOp(Op.CONNECT);
const hasSendZc = kernelHasOp(Op.SEND_ZC);
const more = (c: CqeRecord) => (c.flags & CqeFlags.MORE) !== 0;

describe.each(CONFIGS)("sockets on $name ring", ({ options }) => {
  test.skipIf(!hasNet)("socket, bind, listen, connect and accept give a connected pair", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      try {
        expect(c.port).toBeGreaterThan(0);
        expect(c.peer.family).toBe(AddressFamily.INET);
        expect(c.peer.host).toBe("127.0.0.1");
        expect(c.peer.port).toBe(localPort(c.client));
      } finally {
        c.close();
      }
    });
  });

  test.skipIf(!hasNet)("send and recv move the bytes both ways", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      try {
        const out = pattern(100_000, 4);
        let sent = 0;
        while (sent < out.length) {
          const chunk = out.subarray(sent);
          // send and the matching recv in one batch, so a full socket buffer cannot stall the test
          const inBuf = new Uint8Array(chunk.length);
          prep(ring, 1, (s) => prepSend(s, c.client, chunk, chunk.length, 0));
          prep(ring, 2, (s) => prepRecv(s, c.server, inBuf, inBuf.length, 0));
          const got = byUd(reap(ring, 2));
          const n = got.get(1)!.res;
          const r = got.get(2)!.res;
          expect(n).toBeGreaterThan(0);
          expect(r).toBeGreaterThan(0);
          const rest = n > r ? recvAll(ring, c.server, n - r) : new Uint8Array(0);
          expect(inBuf.subarray(0, r)).toEqual(chunk.subarray(0, r));
          expect(rest).toEqual(chunk.subarray(r, n));
          sent += n;
        }
        const reply = new TextEncoder().encode("pong");
        expect(run1(ring, (s) => prepSend(s, c.server, reply, reply.length, 0))).toBe(4);
        expect(new TextDecoder().decode(recvAll(ring, c.client, 4))).toBe("pong");
      } finally {
        c.close();
      }
    });
  });

  test.skipIf(!hasNet)("sendmsg and recvmsg with iovecs", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      try {
        const parts = [pattern(10, 1), pattern(20, 2)];
        const siov = makeIovecs(parts);
        const smsg = makeMsghdr({ iov: siov, iovlen: 2 });
        expect(run1(ring, (s) => prepSendmsg(s, c.client, smsg, 0))).toBe(30);
        const outs = [new Uint8Array(5), new Uint8Array(25)];
        const riov = makeIovecs(outs);
        const rmsg = makeMsghdr({ iov: riov, iovlen: 2 });
        expect(run1(ring, (s) => prepRecvmsg(s, c.server, rmsg, MSG_WAITALL))).toBe(30);
        expect([...outs[0]!, ...outs[1]!]).toEqual([...parts[0]!, ...parts[1]!]);
      } finally {
        c.close();
      }
    });
  });

  test.skipIf(!hasNet)("a recv waits for data; shutdown(SHUT_WR) on the peer ends it with 0", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      try {
        const buf = new Uint8Array(64);
        prep(ring, 1, (s) => prepRecv(s, c.server, buf, buf.length, 0));
        expect(ring.submit()).toBe(1);
        prep(ring, 2, (s) => prepShutdown(s, c.client, SHUT_WR));
        const got = byUd(reap(ring, 2));
        expect(got.get(2)?.res).toBe(0);
        expect(got.get(1)?.res).toBe(0); // EOF
        const late = new Uint8Array(1);
        expect(run1(ring, (s) => prepSend(s, c.client, late, 1, 0))).toBeLessThan(0); // EPIPE after SHUT_WR
      } finally {
        c.close();
      }
    });
  });

  test.skipIf(!hasNet)("connecting to a closed port gives -ECONNREFUSED", () => {
    withRing(16, options, (ring) => {
      const l = listener(ring);
      const port = l.port;
      closeAll(l.fd);
      const client = tcpSocket(ring);
      try {
        const dest = sockaddrIn("127.0.0.1", port);
        expect(run1(ring, (s) => prepConnect(s, client, dest, SOCKADDR_IN_SIZE))).toBe(-ECONNREFUSED);
      } finally {
        closeAll(client);
      }
    });
  });

  test.skipIf(!hasSocket)("socket ops on a non-socket fd give -ENOTSOCK; a bad domain fails", () => {
    withRing(16, options, (ring) => {
      const buf = new Uint8Array(4);
      const ringFd = ring.fd; // any non-socket fd
      expect(run1(ring, (s) => prepRecv(s, ringFd, buf, 4, 0))).toBe(-ENOTSOCK);
      expect(run1(ring, (s) => prepSocket(s, 12345, SOCK_STREAM, 0, 0))).toBeLessThan(0);
    });
  });

  test.skipIf(!hasNet)("multishot accept posts one CQE per connection with CQE_F_MORE, until cancelled", () => {
    withRing(16, options, (ring) => {
      const l = listener(ring);
      const clients: number[] = [];
      const accepted: number[] = [];
      try {
        prep(ring, 50, (s) => prepMultishotAccept(s, l.fd, null, null, SOCK_CLOEXEC));
        expect(ring.submit()).toBe(1);
        const dest = sockaddrIn("127.0.0.1", l.port);
        for (let i = 0; i < 3; i++) {
          const fd = tcpSocket(ring);
          clients.push(fd);
          prep(ring, 60 + i, (s) => prepConnect(s, fd, dest, SOCKADDR_IN_SIZE));
          const got = reap(ring, 2);
          const conn = got.find((c) => c.userData === 60 + i)!;
          const acc = got.find((c) => c.userData === 50)!;
          expect(conn.res).toBe(0);
          expect(acc.res).toBeGreaterThanOrEqual(0);
          expect(more(acc)).toBe(true);
          accepted.push(acc.res);
        }
        expect(new Set(accepted).size).toBe(3);
        prep(ring, 51, (s) => prepCancel64(s, 50, 0));
        const end = byUd(reap(ring, 2));
        expect(end.get(51)?.res).toBe(0);
        expect(end.get(50)?.res).toBe(NEG.ECANCELED);
        expect(more(end.get(50)!)).toBe(false);
      } finally {
        closeAll(...clients, ...accepted, l.fd);
      }
    });
  });

  test.skipIf(!hasNet)("multishot recv into a provided-buffer ring: one CQE per message, EOF ends it", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      const br = new BufferRing(ring, { bgid: 7, count: 8, bufferSize: 256 });
      try {
        prep(
          ring,
          70,
          (s) => {
            prepRecvMultishot(s, c.server, null, 0, 0);
            sqeSetBufGroup(s, 7);
          },
          SqeFlags.BUFFER_SELECT,
        );
        expect(ring.submit()).toBe(1);
        const bids = new Set<number>();
        for (let i = 0; i < 3; i++) {
          // one message at a time, so each arrives on its own and gets its own CQE
          const msg = pattern(100 + i, i);
          prep(ring, 71, (s) => prepSend(s, c.client, msg, msg.length, 0));
          const got = reap(ring, 2);
          const recv = got.find((x) => x.userData === 70)!;
          expect(got.find((x) => x.userData === 71)!.res).toBe(msg.length);
          expect(recv.res).toBe(msg.length);
          expect(more(recv)).toBe(true);
          expect(recv.flags & CqeFlags.BUFFER).toBe(CqeFlags.BUFFER);
          const bid = recv.flags >>> CQE_BUFFER_SHIFT;
          bids.add(bid);
          expect(br.view(bid, recv.res)).toEqual(msg);
          br.recycle(bid);
        }
        expect(bids.size).toBe(3); // the ring hands out buffers in order; recycled ones go to the back
        prep(ring, 72, (s) => prepShutdown(s, c.client, SHUT_WR));
        const end = byUd(reap(ring, 2));
        expect(end.get(72)?.res).toBe(0);
        expect(end.get(70)?.res).toBe(0);
        expect(more(end.get(70)!)).toBe(false);
      } finally {
        br.close();
        c.close();
      }
    });
  });

  test.skipIf(!hasNet)("multishot recv stops with -ENOBUFS when the buffer ring runs dry", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      const br = new BufferRing(ring, { bgid: 8, count: 1, bufferSize: 64 });
      try {
        prep(
          ring,
          70,
          (s) => {
            prepRecvMultishot(s, c.server, null, 0, 0);
            sqeSetBufGroup(s, 8);
          },
          SqeFlags.BUFFER_SELECT,
        );
        ring.submit();
        const msg = pattern(10);
        prep(ring, 71, (s) => prepSend(s, c.client, msg, msg.length, 0));
        const first = reap(ring, 2).find((x) => x.userData === 70)!;
        expect(first.res).toBe(10);
        expect(more(first)).toBe(true);
        // the only buffer is not recycled: the next message has nowhere to go
        prep(ring, 72, (s) => prepSend(s, c.client, msg, msg.length, 0));
        const second = reap(ring, 2).find((x) => x.userData === 70)!;
        expect(second.res).toBe(NEG.ENOBUFS);
        expect(more(second)).toBe(false);
      } finally {
        br.close();
        c.close();
      }
    });
  });

  test.skipIf(!hasSendZc || !hasNet)("SEND_ZC posts its result, then a NOTIF CQE once the buffer is free", () => {
    withRing(16, options, (ring) => {
      const c = connectPair(ring);
      try {
        const data = pattern(32_768, 6);
        prep(ring, 80, (s) => prepSendZc(s, c.client, data, data.length, 0, RecvSendFlags.SEND_ZC_REPORT_USAGE));
        const cqes = reap(ring, 2);
        expect(cqes.every((x) => x.userData === 80)).toBe(true);
        const [first, notif] = [cqes[0]!, cqes[1]!];
        expect(first.res).toBe(data.length);
        expect(more(first)).toBe(true);
        expect((first.flags & CqeFlags.NOTIF) !== 0).toBe(false);
        expect((notif.flags & CqeFlags.NOTIF) !== 0).toBe(true);
        expect(more(notif)).toBe(false);
        // on loopback the kernel has to copy; REPORT_USAGE says so in the notification's res
        expect((notif.res & NOTIF_USAGE_ZC_COPIED) >>> 0).toBe(NOTIF_USAGE_ZC_COPIED);
        expect(recvAll(ring, c.server, data.length)).toEqual(data);
      } finally {
        c.close();
      }
    });
  });
});

test.skipIf(!hasNet)("network tests leak no fds", async () => {
  const before = fdBaseline();
  withRing(16, {}, (ring) => {
    const c = connectPair(ring);
    const msg = pattern(10);
    prep(ring, 1, (s) => prepSend(s, c.client, msg, msg.length, 0));
    expect(reapOne(ring).res).toBe(10);
    expect(recvAll(ring, c.server, 10)).toEqual(msg);
    c.close();
  });
  await expectNoNewFds(before);
});
