/**
 * The connection table of a {@link TcpServer}: one slot per connection in
 * preallocated typed arrays (a struct of arrays, no object per connection),
 * the stack of free slots, and the state bits the server's state machine
 * keeps per slot (their transitions are the table in ./server.ts). A slot's
 * generation goes up at each close, so a late CQE for a closed slot that was
 * reused is recognised by user_data's high word (./kinds.ts).
 *
 * Internal to the server (not exported by the net layer): the server holds
 * it in a private field.
 */

/** State bit: the application may send. */
export const ST_OPEN = 1;
/** State bit: the connection's multishot recv is in flight. */
export const ST_ARMED = 2;
/** State bit: the send of the queue's head is in flight. */
export const ST_SENDING = 4;
/** State bit: close once neither a recv nor a send is in flight. */
export const ST_CLOSING = 8;
/** State bit: the recv was stopped by the resource policy (backpressure). */
export const ST_PAUSED = 16;
/** State bit: a cancel of the recv is in flight (only so a second one is not sent). */
export const ST_CANCELING = 32;
/** State bit: the recv ended with -ENOBUFS and waits for a buffer to come back. */
export const ST_STARVED = 64;

/** Gauges over the open connections (what TcpServer.stats() reports of them). */
export interface ConnectionTally {
  /** Pool buffers held by open connections. */
  held: number;
  /** Connections with a send in flight. */
  sending: number;
  /** Connections waiting for a buffer. */
  starved: number;
  /** Connections paused by the policy. */
  paused: number;
}

/** Slots for up to `capacity` connections at once. */
export class ConnectionTable {
  /** Each slot's fd (or direct-descriptor index); -1 while the slot is free. */
  readonly fd: Int32Array;
  /** Each slot's generation: + 1 at every close. */
  readonly gen: Uint32Array;
  /** Each slot's state bits (ST_*). */
  readonly st: Uint8Array;
  /** Pool buffers each connection holds (queued to send, or kept by the handler). */
  readonly held: Int32Array;
  /** Tick of each connection's last byte in or out (for the idle timeout). */
  readonly lastActive: Uint32Array;
  /** Why each connection is closing (a CloseReason). */
  readonly reason: Uint8Array;
  /** The errno onClose reports for each connection. */
  readonly errno: Int32Array;
  readonly #freeSlots: Int32Array;
  #freeTop: number;
  #highWater = 0;

  /** An empty table of `capacity` slots; the lowest slots are taken first. */
  constructor(capacity: number) {
    this.fd = new Int32Array(capacity).fill(-1);
    this.gen = new Uint32Array(capacity);
    this.st = new Uint8Array(capacity);
    this.held = new Int32Array(capacity);
    this.lastActive = new Uint32Array(capacity);
    this.reason = new Uint8Array(capacity);
    this.errno = new Int32Array(capacity);
    this.#freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.#freeSlots[i] = capacity - 1 - i;
    this.#freeTop = capacity;
  }

  /** Connections open now (closing ones included). */
  get open(): number {
    return this.fd.length - this.#freeTop;
  }

  /** One past the highest slot ever used: walks over the table look no further. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Takes a free slot for `fd`: OPEN, nothing held, last active at `tick`. -1 when every slot is taken. */
  take(fd: number, tick: number): number {
    if (this.#freeTop === 0) return -1;
    const conn = this.#freeSlots[--this.#freeTop]!;
    if (conn >= this.#highWater) this.#highWater = conn + 1;
    this.fd[conn] = fd;
    this.st[conn] = ST_OPEN;
    this.held[conn] = 0;
    this.errno[conn] = 0;
    this.lastActive[conn] = tick;
    return conn;
  }

  /** Frees `conn` once its fd is closed: no state, the next generation, the slot back on the stack. */
  release(conn: number): void {
    this.fd[conn] = -1;
    this.st[conn] = 0;
    this.gen[conn] = (this.gen[conn]! + 1) >>> 0;
    this.#freeSlots[this.#freeTop++] = conn;
  }

  /** Walks the open connections for their gauges (not for every request). */
  tally(): ConnectionTally {
    const t: ConnectionTally = { held: 0, sending: 0, starved: 0, paused: 0 };
    for (let c = 0; c < this.#highWater; c++) {
      if (this.fd[c]! < 0) continue;
      const st = this.st[c]!;
      t.held += this.held[c]!;
      if (st & ST_SENDING) t.sending++;
      if (st & ST_STARVED) t.starved++;
      if (st & ST_PAUSED) t.paused++;
    }
    return t;
  }
}
