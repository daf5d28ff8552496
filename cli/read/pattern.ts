/**
 * The known content of a generated file, and the check of every read against it.
 *
 * Every 8-byte word of the file holds its own byte offset: the low 32 bits of
 * the offset, then the high bits XOR {@link PATTERN_MAGIC}. A block read from
 * the wrong place, a stale buffer, a zero-filled page or a torn read therefore
 * never matches, and the check needs no table: the expected value is computed
 * from the offset the read was issued for.
 */

/** XOR-ed into the high word so a zeroed buffer does not match offset 0 ("URB0"). */
export const PATTERN_MAGIC = 0x55524230;

/** Bytes per stamped word: each 8-byte word carries its own offset. */
export const PATTERN_WORD = 8;

/** Sector size checked by the default "all" mode: the unit a device can misplace. */
export const VERIFY_SECTOR = 512;

/** Reads checked in full by "sample" mode: one in this many (a power of two). */
export const VERIFY_SAMPLE_EVERY = 64;

/**
 * How reads are checked.
 * - `all`: every read; the first word of each 512-byte sector and the last word of the read.
 * - `full`: every read, every 8-byte word.
 * - `sample`: every read's length; one read in {@link VERIFY_SAMPLE_EVERY} checked word by word.
 * - `length`: only that each read returned the bytes asked for (files without the pattern).
 */
export type VerifyMode = "all" | "full" | "sample" | "length";

/** The verify modes, for option parsing. */
export const VERIFY_MODES: readonly VerifyMode[] = ["all", "full", "sample", "length"];

const TWO_32 = 4294967296;

/**
 * Writes the pattern for the file range starting at `fileOffset` into `words`
 * (a Uint32Array whose length is even; `fileOffset` a multiple of 8).
 */
export function stampPattern(words: Uint32Array, fileOffset: number): void {
  let lo = fileOffset >>> 0;
  let hi = Math.floor(fileOffset / TWO_32);
  for (let i = 0; i + 1 < words.length; i += 2) {
    words[i] = lo;
    words[i + 1] = (hi ^ PATTERN_MAGIC) >>> 0;
    lo = (lo + PATTERN_WORD) >>> 0;
    if (lo === 0) hi++;
  }
}

/**
 * Checks `len` bytes read at `fileOffset` that start at word `wordBase` of
 * `words`. `full` checks every word, otherwise the first word of every
 * 512-byte sector and the last word of the read. Returns -1 when they match, else the byte index (within the
 * read) of the first wrong word. A trailing partial word (a short read at an
 * end of file that is not a multiple of 8) is not checked.
 */
export function checkPattern(words: Uint32Array, wordBase: number, fileOffset: number, len: number, full: boolean): number {
  const nWords = (len >>> 3) << 1; // whole 8-byte words, as u32 count
  if (nWords === 0) return -1;
  const hiBase = Math.floor(fileOffset / TWO_32);
  const loBase = fileOffset >>> 0;
  const last = nWords - 2;
  const step = full ? 2 : VERIFY_SECTOR >>> 2; // u32 per checked word: all, or one per sector
  if (loBase + last * 4 < TWO_32) {
    // Fast path (every read that does not straddle a 4 GiB boundary): the high
    // word is the same throughout and the low word is the offset. Compared as
    // int32 on both sides (`| 0`), so the JIT keeps integers: a uint32 above
    // 2^31 would otherwise turn the loop into double arithmetic. The word index
    // and the expected low word advance by addition (no multiply per word).
    const hi = (hiBase ^ PATTERN_MAGIC) | 0;
    const stepBytes = step << 2;
    const end = wordBase + nWords;
    let lo = loBase | 0;
    for (let w = wordBase; w < end; w += step) {
      if ((words[w]! | 0) !== lo || (words[w + 1]! | 0) !== hi) return (w - wordBase) << 2;
      lo = (lo + stepBytes) | 0;
    }
    // The last word of the read (a torn or short end), when the sector walk did not reach it.
    const wl = wordBase + last;
    if ((words[wl]! | 0) !== ((loBase + last * 4) | 0) || (words[wl + 1]! | 0) !== hi) return last * 4;
    return -1;
  }
  for (let i = 0; i < nWords; i += step) {
    if (!wordOk(words, wordBase + i, loBase + i * 4, hiBase)) return i * 4;
  }
  if (!wordOk(words, wordBase + last, loBase + last * 4, hiBase)) return last * 4;
  return -1;
}

function wordOk(words: Uint32Array, w: number, at: number, hiBase: number): boolean {
  return words[w] === at >>> 0 && words[w + 1] === ((hiBase + Math.floor(at / TWO_32)) ^ PATTERN_MAGIC) >>> 0;
}

/** The expected word pair at `fileOffset`, as text, for error messages. */
export function expectedWordText(fileOffset: number): string {
  const lo = fileOffset >>> 0;
  const hi = (Math.floor(fileOffset / TWO_32) ^ PATTERN_MAGIC) >>> 0;
  return `${hex(hi)}${hex(lo)}`;
}

/** A word pair as text, for error messages. */
export function wordText(words: Uint32Array, w: number): string {
  return `${hex(words[w + 1] ?? 0)}${hex(words[w] ?? 0)}`;
}

function hex(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}

/** Thrown when a read returned wrong bytes or a wrong length: a mismatch is an error, never a number. */
export class VerifyError extends Error {
  /** File offset of the read that failed. */
  readonly fileOffset: number;
  constructor(message: string, fileOffset: number) {
    super(message);
    this.name = "VerifyError";
    this.fileOffset = fileOffset;
  }
}

/**
 * Checks one completed read and throws a {@link VerifyError} naming the file
 * offset, what was expected and what was found. `expectedLen` is what the read
 * asked for (short only at end of file). `count` is the caller's running read
 * counter, used by "sample" mode.
 */
export function verifyRead(mode: VerifyMode, words: Uint32Array, wordBase: number, fileOffset: number, res: number, expectedLen: number, count: number): void {
  if (res !== expectedLen) {
    throw new VerifyError(
      `short read: ${res} of ${expectedLen} bytes at offset ${fileOffset} (the file changed size, or the device returned less than asked)`,
      fileOffset,
    );
  }
  if (mode === "length") return;
  if (mode === "sample" && (count & (VERIFY_SAMPLE_EVERY - 1)) !== 0) return;
  const bad = checkPattern(words, wordBase, fileOffset, res, mode !== "all");
  if (bad >= 0) {
    const at = fileOffset + bad;
    throw new VerifyError(
      `wrong bytes: the read of ${res} bytes at offset ${fileOffset} has ${wordText(words, wordBase + (bad >>> 2))} at offset ${at}, expected ${expectedWordText(at)}: the data read is not the data written there`,
      fileOffset,
    );
  }
}
