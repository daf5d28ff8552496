/**
 * `SendQueue`: the per-connection FIFO of bytes waiting to be sent, for every
 * connection of a {@link TcpServer} at once. Entries live in one pool laid out
 * as a struct of arrays (no object per send); each connection owns a linked
 * list through `next`, from `head[conn]` to `tail[conn]`. The pool doubles
 * when it runs out (only reached with many `send()` calls queued: an echo
 * server holds at most one entry per received buffer).
 *
 * Safety: an entry's `addr` must stay valid until its send's final CQE. For
 * provided buffers (`bid >= 0`) the server does not give the buffer back
 * before then; for caller data, `ref` keeps the Uint8Array alive (and so its
 * memory in place) until the entry is popped.
 */

/** `bid` of an entry holding spilled bytes (a heap chunk more bytes may be appended to). */
export const SPILL = -2;

/** Per-connection send queues over one pooled set of entries. */
export class SendQueue {
  /** Next entry in the same queue, or -1; in the free list, the next free entry. */
  next: Int32Array;
  /** Provided buffer the bytes are in, -1 for caller data, {@link SPILL} for a spill chunk. */
  bid: Int32Array;
  /** Bytes of the entry. */
  len: Int32Array;
  /** Bytes of the entry already sent (a short send resumes here). */
  done: Int32Array;
  /** Address of the entry's first byte. */
  addr: Float64Array;
  /** Caller data kept alive while queued (null for provided buffers). */
  ref: Array<Uint8Array | null>;
  /** First entry of each connection's queue, or -1 when empty. */
  readonly head: Int32Array;
  /** Last entry of each connection's queue, or -1 when empty. */
  readonly tail: Int32Array;
  /** Bytes queued and not yet sent, per connection (the in-flight send-bytes limit reads it). */
  readonly bytes: Float64Array;
  private free = -1;

  /** Queues for `connections` connections, over a pool of `entries` entries to start with. */
  constructor(connections: number, entries: number) {
    this.head = new Int32Array(connections).fill(-1);
    this.tail = new Int32Array(connections).fill(-1);
    this.bytes = new Float64Array(connections);
    this.next = new Int32Array(entries);
    this.bid = new Int32Array(entries);
    this.len = new Int32Array(entries);
    this.done = new Int32Array(entries);
    this.addr = new Float64Array(entries);
    this.ref = new Array<Uint8Array | null>(entries).fill(null);
    this.linkFree(0, entries);
  }

  /** Appends `len` bytes at `addr` (provided buffer `bid`, or -1 with `ref` the caller's data) to `conn`'s queue. */
  push(conn: number, addr: number, len: number, bid: number, ref: Uint8Array | null): void {
    if (this.free < 0) this.grow();
    const e = this.free;
    this.free = this.next[e]!;
    this.next[e] = -1;
    this.addr[e] = addr;
    this.len[e] = len;
    this.done[e] = 0;
    this.bid[e] = bid;
    this.ref[e] = ref;
    const t = this.tail[conn]!;
    if (t < 0) this.head[conn] = e;
    else this.next[t] = e;
    this.tail[conn] = e;
    this.bytes[conn] = this.bytes[conn]! + len;
  }

  /**
   * Appends `src` to `conn`'s last entry when it is a spill chunk with room
   * (bytes past its `len` are not part of any send yet, even if that entry's
   * send is in flight); false when a new chunk is needed.
   */
  appendSpill(conn: number, src: Uint8Array): boolean {
    const t = this.tail[conn]!;
    if (t < 0 || this.bid[t] !== SPILL) return false;
    const chunk = this.ref[t]!;
    const len = this.len[t]!;
    if (len + src.byteLength > chunk.byteLength) return false;
    chunk.set(src, len);
    this.len[t] = len + src.byteLength;
    this.bytes[conn] = this.bytes[conn]! + src.byteLength;
    return true;
  }

  /** Records `n` more bytes of `conn`'s head entry as sent; true when the entry is now complete. */
  advance(conn: number, n: number): boolean {
    const e = this.head[conn]!;
    const done = this.done[e]! + n;
    this.done[e] = done;
    this.bytes[conn] = this.bytes[conn]! - n;
    return done >= this.len[e]!;
  }

  /** Removes `conn`'s head entry; returns its provided buffer id (or -1) for the caller to recycle. */
  pop(conn: number): number {
    const e = this.head[conn]!;
    const next = this.next[e]!;
    this.head[conn] = next;
    if (next < 0) {
      this.tail[conn] = -1;
      this.bytes[conn] = 0;
    } else {
      this.bytes[conn] = this.bytes[conn]! - (this.len[e]! - this.done[e]!);
    }
    const bid = this.bid[e]!;
    this.ref[e] = null;
    this.next[e] = this.free;
    this.free = e;
    return bid;
  }

  /** Doubles the pool; existing entries keep their indices. */
  private grow(): void {
    const n = this.next.length;
    const widen = <T extends Int32Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.next = widen(this.next, new Int32Array(n * 2));
    this.bid = widen(this.bid, new Int32Array(n * 2));
    this.len = widen(this.len, new Int32Array(n * 2));
    this.done = widen(this.done, new Int32Array(n * 2));
    this.addr = widen(this.addr, new Float64Array(n * 2));
    for (let i = n; i < n * 2; i++) this.ref.push(null);
    this.linkFree(n, n * 2);
  }

  /** Chains entries [from, to) into the free list. */
  private linkFree(from: number, to: number): void {
    for (let i = from; i < to; i++) this.next[i] = i + 1;
    this.next[to - 1] = -1;
    this.free = from;
  }
}
