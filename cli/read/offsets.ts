/**
 * Where each read goes: uniformly random blocks (xorshift32, no allocation,
 * seeded so runs repeat) or sequential blocks wrapping at the end.
 */

/** Random or sequential block order. */
export type AccessPattern = "rand" | "seq";

/** Hands out block-aligned offsets in [0, blocks × bs). */
export class OffsetGenerator {
  private readonly bs: number;
  private readonly blocks: number;
  private readonly random: boolean;
  private state: number;
  private next = 0;
  /** blocks / 2^32: maps a 32-bit draw onto [0, blocks). */
  private readonly scale: number;

  /** `blocks` readable blocks of `bs` bytes; `seed` non-zero. */
  constructor(pattern: AccessPattern, blocks: number, bs: number, seed = 0x2545f491) {
    this.random = pattern === "rand";
    this.blocks = blocks;
    this.bs = bs;
    this.state = seed >>> 0 || 1;
    this.scale = Math.min(blocks, 0x100000000) / 0x100000000;
  }

  /** The next offset in bytes. */
  nextOffset(): number {
    if (this.random) {
      let x = this.state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.state = x >>> 0;
      // Multiply-shift range mapping (Lemire): one float multiply instead of a
      // modulo of a number above 2^31, which JSC can only do in floating point.
      let b = Math.floor(this.state * this.scale);
      if (this.blocks > 0x100000000) b = (b * 0x100000000 + this.draw()) % this.blocks;
      return (b < this.blocks ? b : this.blocks - 1) * this.bs;
    }
    const b = this.next;
    this.next = b + 1 === this.blocks ? 0 : b + 1;
    return b * this.bs;
  }

  private draw(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}
