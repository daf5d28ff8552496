/**
 * The one parser of sizes and counts on the command line: "4k", "4KiB",
 * "1.5g", "512", "512b", "64M". Suffixes are binary (k = 1024), as in fio and
 * dd. Every flag that takes a byte size or an integer goes through
 * {@link parseSize}, so they all accept the same spellings and fail alike.
 */
import { OptionError } from "./option-error.ts";

const UNIT: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bounds and wording for {@link parseSize}. */
export interface SizeBounds {
  /** Smallest value accepted (default 0). */
  min?: number;
  /** Largest value accepted (default Number.MAX_SAFE_INTEGER). */
  max?: number;
  /** What the flag takes, for the message ("a size like 4k or 1g" by default). */
  what?: string;
}

/**
 * Parses `value` for `flag` into a whole number: digits (a fraction only with
 * a suffix, "1.5g"), then an optional k/m/g/t with optional "i" and "b".
 * Throws {@link OptionError} naming the flag when it is not a size or is out of bounds.
 */
export function parseSize(flag: string, value: string | number, bounds: SizeBounds = {}): number {
  const min = bounds.min ?? 0;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  const what = bounds.what ?? "a size like 4k, 128k, 256m or 1g";
  let n: number;
  if (typeof value === "number") {
    n = value;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?\s*$/i.exec(value);
    const unit = m ? (m[2] ?? m[3] ?? "").toLowerCase() : "";
    n = m ? Math.round(Number(m[1]) * UNIT[unit]!) : NaN;
    // "1.5" alone is no whole number; "1.5k" is 1536.
    if (m && unit === "" && m[1]!.includes(".")) n = NaN;
  }
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw new OptionError(`${flag} takes ${what}, got "${value}".`);
  if (!Number.isSafeInteger(n) || n > max) throw new OptionError(`${flag} ${value} is too large: at most ${max}.`);
  if (n < min) throw new OptionError(`${flag} takes ${what}, got "${value}" (at least ${min}).`);
  return n;
}

/** A commander parser for {@link parseSize} with fixed bounds: `.option("--bs <size>", "...", sizeFlag("--bs", { min: 1 }))`. */
export function sizeFlag(flag: string, bounds: SizeBounds = {}): (value: string) => number {
  return (value: string) => parseSize(flag, value, bounds);
}
