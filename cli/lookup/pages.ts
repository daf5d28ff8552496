/**
 * The lookup workload's data model: the file is the read command's pattern
 * file (cli/read/pattern.ts: every 8-byte word holds its own offset), a key
 * is a 4 KiB page index, and the answer to a request is the sum of every
 * 32-bit word of the requested pages, modulo 2^32.
 *
 * Because each page's content follows from its offset, the client computes
 * the expected answer from the page numbers it asked for ({@link expectedSum})
 * without reading the file: a server that reads the wrong page, a stale or a
 * zeroed buffer answers a different sum.
 */
import { PATTERN_MAGIC } from "../read/pattern.ts";

/** Bytes per key: one page. */
export const PAGE = 4096;
/** Most keys one request may ask for: bounds the server's buffer per request. */
export const MAX_KEYS = 64;
/** 32-bit words per page. */
const WORDS = PAGE / 4;
const TWO_32 = 4294967296;

/**
 * Sum of the 32-bit words of `pages` pages starting at `byteOffset` of
 * `bytes`, modulo 2^32. This is the server's per-request work besides I/O.
 */
export function sumPages(bytes: Uint8Array, pages: number): number {
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, pages * WORDS);
  let s = 0;
  for (let i = 0; i < words.length; i++) s = (s + words[i]!) | 0;
  return s >>> 0;
}

/**
 * The sum a correct server answers for `pages` (page indices), computed from
 * the pattern alone. Per page at offset o (a multiple of 4096, so the high
 * word is constant within the page): the low words are o, o+8, ..., o+8·511
 * and the high words are 512 copies of floor(o / 2^32) XOR the magic.
 */
export function expectedSum(pages: readonly number[]): number {
  let s = 0;
  for (const p of pages) {
    const off = p * PAGE;
    const lo = ((off % TWO_32) * (WORDS / 2) + (8 * ((WORDS / 2) * (WORDS / 2 - 1))) / 2) % TWO_32;
    const hi = (((Math.floor(off / TWO_32) ^ PATTERN_MAGIC) >>> 0) * (WORDS / 2)) % TWO_32;
    s = (s + lo + hi) % TWO_32;
  }
  return s;
}

/** Why a query was refused: the text of the 400 answer. */
export class BadQuery extends Error {}

/**
 * Parses the page list of `GET /lookup?pages=a,b,c` out of a request URL
 * (cheaper than `new URL` on the hot path, and strict: decimal integers
 * only, 1..MAX_KEYS of them, each below `pageCount`). Throws {@link BadQuery}.
 */
export function parsePages(url: string, pageCount: number, out: number[]): number[] {
  const q = url.indexOf("?pages=");
  if (q < 0) throw new BadQuery("expected /lookup?pages=N[,N...] (page indices)");
  out.length = 0;
  let n = 0;
  let digits = 0;
  for (let i = q + 7; i <= url.length; i++) {
    const c = i < url.length ? url.charCodeAt(i) : 44;
    if (c >= 48 && c <= 57 && digits < 15) {
      n = n * 10 + (c - 48);
      digits++;
    } else if (c === 44 && digits > 0) {
      if (n >= pageCount) throw new BadQuery(`page ${n} is past the end of the file (${pageCount} pages)`);
      if (out.length === MAX_KEYS) throw new BadQuery(`at most ${MAX_KEYS} pages per request`);
      out.push(n);
      n = 0;
      digits = 0;
    } else {
      throw new BadQuery("pages must be comma-separated decimal page indices");
    }
  }
  return out;
}
