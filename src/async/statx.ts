/** struct statx → a plain object (the result of `uring.statx`). */

/** Size of struct statx. */
export const STATX_SIZE = 256;
/** STATX_BASIC_STATS: every field of struct stat. */
export const STATX_BASIC_STATS = 0x7ff;

/** A file's status, from statx(2). Times are in milliseconds since the epoch (as fs.Stats' *Ms). */
export interface StatxResult {
  /** STATX_* bits the kernel filled. */
  mask: number;
  blksize: number;
  nlink: number;
  uid: number;
  gid: number;
  /** File type and permission bits (st_mode). */
  mode: number;
  ino: number;
  size: number;
  blocks: number;
  atimeMs: number;
  btimeMs: number;
  ctimeMs: number;
  mtimeMs: number;
  rdevMajor: number;
  rdevMinor: number;
  devMajor: number;
  devMinor: number;
  /** True for a regular file. */
  isFile: boolean;
  /** True for a directory. */
  isDirectory: boolean;
}

const TWO_32 = 4294967296;

/** Parses a struct statx the kernel wrote into `buf` (256 bytes). */
export function parseStatx(buf: Uint8Array): StatxResult {
  const v = new DataView(buf.buffer, buf.byteOffset, STATX_SIZE);
  const u64 = (o: number) => v.getUint32(o, true) + v.getUint32(o + 4, true) * TWO_32;
  const ts = (o: number) => (v.getUint32(o, true) + v.getInt32(o + 4, true) * TWO_32) * 1000 + v.getUint32(o + 8, true) / 1e6;
  const mode = v.getUint16(28, true);
  return {
    mask: v.getUint32(0, true),
    blksize: v.getUint32(4, true),
    nlink: v.getUint32(16, true),
    uid: v.getUint32(20, true),
    gid: v.getUint32(24, true),
    mode,
    ino: u64(32),
    size: u64(40),
    blocks: u64(48),
    atimeMs: ts(64),
    btimeMs: ts(80),
    ctimeMs: ts(96),
    mtimeMs: ts(112),
    rdevMajor: v.getUint32(128, true),
    rdevMinor: v.getUint32(132, true),
    devMajor: v.getUint32(136, true),
    devMinor: v.getUint32(140, true),
    isFile: (mode & 0o170000) === 0o100000,
    isDirectory: (mode & 0o170000) === 0o040000,
  };
}
