/**
 * File-system preparers: open/close, stat, rename/unlink/mkdir/link, space
 * management and file-table updates (liburing's names, same argument order).
 *
 * Paths are NUL-terminated byte buffers (see {@link cstr}); the caller keeps
 * them, and every other buffer passed in, alive until the request's CQE.
 */
import { SQE_W } from "../sys/abi.ts";
import { Op, SqeFlags } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkCString, checkRoom, checkSpan, checkCount, STATX_BUF_SIZE } from "./bounds.ts";
import { setU64, type Sqe } from "../ring/sqe.ts";
import { directFileIndex, putAddr, putHead, rwWords } from "./fields.ts";

/** AT_FDCWD: "relative to the current directory" for the *at preparers' dfd. */
export const AT_FDCWD = -100;

/** Size of struct open_how (openat2): flags, mode, resolve as u64. */
export const OPEN_HOW_SIZE = 24;

/** io_uring_prep_openat: openat(dfd, path, flags, mode). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepOpenat(sqe: Sqe, dfd: number, path: Addressable, flags: number, mode = 0): void {
  checkCString(path, "prepOpenat", "path");
  const w = sqe.u32;
  rwWords(w, Op.OPENAT, dfd, path, mode, 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_openat_direct: openat into fixed-file slot `fileIndex` (FILE_INDEX_ALLOC: any free slot). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepOpenatDirect(sqe: Sqe, dfd: number, path: Addressable, flags: number, mode: number, fileIndex: number): void {
  checkCString(path, "prepOpenatDirect", "path");
  prepOpenat(sqe, dfd, path, flags, mode);
  sqe.u32[SQE_W.spliceFdIn] = directFileIndex(fileIndex);
}

/** io_uring_prep_open: openat relative to the current directory. */
export function prepOpen(sqe: Sqe, path: Addressable, flags: number, mode = 0): void {
  prepOpenat(sqe, AT_FDCWD, path, flags, mode);
}

/** io_uring_prep_open_direct: open into fixed-file slot `fileIndex`. */
export function prepOpenDirect(sqe: Sqe, path: Addressable, flags: number, mode: number, fileIndex: number): void {
  prepOpenatDirect(sqe, AT_FDCWD, path, flags, mode, fileIndex);
}

/** io_uring_prep_openat2: openat2 with a struct open_how (see makeOpenHow). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepOpenat2(sqe: Sqe, dfd: number, path: Addressable, how: Addressable): void {
  checkCString(path, "prepOpenat2", "path");
  checkRoom(how, OPEN_HOW_SIZE, "prepOpenat2", "how");
  const w = sqe.u32;
  rwWords(w, Op.OPENAT2, dfd, path, OPEN_HOW_SIZE, 0);
  putAddr(w, SQE_W.offLo, how);
}

/** io_uring_prep_openat2_direct: openat2 into fixed-file slot `fileIndex`. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepOpenat2Direct(sqe: Sqe, dfd: number, path: Addressable, how: Addressable, fileIndex: number): void {
  checkCString(path, "prepOpenat2Direct", "path");
  checkRoom(how, OPEN_HOW_SIZE, "prepOpenat2Direct", "how");
  prepOpenat2(sqe, dfd, path, how);
  sqe.u32[SQE_W.spliceFdIn] = directFileIndex(fileIndex);
}

/** io_uring_prep_close: close(fd). */
export function prepClose(sqe: Sqe, fd: number): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.CLOSE;
  w[SQE_W.fd] = fd;
}

/** io_uring_prep_close_direct: close fixed-file slot `fileIndex`. */
export function prepCloseDirect(sqe: Sqe, fileIndex: number): void {
  const w = sqe.u32;
  w[SQE_W.head] = Op.CLOSE;
  w[SQE_W.fd] = 0;
  // No ALLOC special case here: liburing adds 1 unconditionally for close.
  w[SQE_W.spliceFdIn] = (fileIndex + 1) >>> 0;
}

/** io_uring_prep_statx: statx(dfd, path, flags, mask) into a 256-byte struct statx. Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepStatx(sqe: Sqe, dfd: number, path: Addressable, flags: number, mask: number, statxbuf: Addressable): void {
  checkCString(path, "prepStatx", "path");
  checkRoom(statxbuf, STATX_BUF_SIZE, "prepStatx", "statxbuf");
  const w = sqe.u32;
  rwWords(w, Op.STATX, dfd, path, mask, 0);
  putAddr(w, SQE_W.offLo, statxbuf);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_fallocate: fallocate(fd, mode, offset, len). */
export function prepFallocate(sqe: Sqe, fd: number, mode: number, offset: number | bigint, len: number | bigint): void {
  const w = sqe.u32;
  rwWords(w, Op.FALLOCATE, fd, null, mode, offset);
  setU64(w, SQE_W.addrLo, len);
}

/** io_uring_prep_ftruncate (6.9): ftruncate(fd, len). */
export function prepFtruncate(sqe: Sqe, fd: number, len: number | bigint): void {
  rwWords(sqe.u32, Op.FTRUNCATE, fd, null, 0, len);
}

/** io_uring_prep_sync_file_range: sync_file_range(fd, offset, len, flags), `flags` from {@link SyncFileRangeFlags}. */
export function prepSyncFileRange(sqe: Sqe, fd: number, len: number, offset: number | bigint, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.SYNC_FILE_RANGE, fd, null, len, offset);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_fadvise: posix_fadvise(fd, offset, len (32-bit), advice). */
export function prepFadvise(sqe: Sqe, fd: number, offset: number | bigint, len: number, advice: number): void {
  const w = sqe.u32;
  rwWords(w, Op.FADVISE, fd, null, len, offset);
  w[SQE_W.opFlags] = advice;
}

/** io_uring_prep_fadvise64: posix_fadvise with a 64-bit length (6.12 kernels read it from addr). */
export function prepFadvise64(sqe: Sqe, fd: number, offset: number | bigint, len: number | bigint, advice: number): void {
  const w = sqe.u32;
  rwWords(w, Op.FADVISE, fd, null, 0, offset);
  setU64(w, SQE_W.addrLo, len);
  w[SQE_W.opFlags] = advice;
}

/** io_uring_prep_madvise: madvise(addr, length (32-bit), advice). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepMadvise(sqe: Sqe, addr: Addressable, length: number, advice: number): void {
  checkSpan(addr, length, "prepMadvise", "length");
  const w = sqe.u32;
  rwWords(w, Op.MADVISE, -1, addr, length, 0);
  w[SQE_W.opFlags] = advice;
}

/** io_uring_prep_madvise64: madvise with a 64-bit length (in off). */
export function prepMadvise64(sqe: Sqe, addr: Addressable, length: number | bigint, advice: number): void {
  const w = sqe.u32;
  rwWords(w, Op.MADVISE, -1, addr, 0, length);
  w[SQE_W.opFlags] = advice;
}

/** io_uring_prep_unlinkat: unlinkat(dfd, path, flags) (AT_REMOVEDIR for rmdir). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepUnlinkat(sqe: Sqe, dfd: number, path: Addressable, flags = 0): void {
  checkCString(path, "prepUnlinkat", "path");
  const w = sqe.u32;
  rwWords(w, Op.UNLINKAT, dfd, path, 0, 0);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_unlink: unlinkat relative to the current directory. */
export function prepUnlink(sqe: Sqe, path: Addressable, flags = 0): void {
  prepUnlinkat(sqe, AT_FDCWD, path, flags);
}

/** io_uring_prep_renameat: renameat2(olddfd, oldpath, newdfd, newpath, flags). */
export function prepRenameat(sqe: Sqe, olddfd: number, oldpath: Addressable, newdfd: number, newpath: Addressable, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.RENAMEAT, olddfd, oldpath, newdfd, 0);
  putAddr(w, SQE_W.offLo, newpath);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_rename: rename relative to the current directory. */
export function prepRename(sqe: Sqe, oldpath: Addressable, newpath: Addressable): void {
  prepRenameat(sqe, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

/** io_uring_prep_mkdirat: mkdirat(dfd, path, mode). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepMkdirat(sqe: Sqe, dfd: number, path: Addressable, mode: number): void {
  checkCString(path, "prepMkdirat", "path");
  rwWords(sqe.u32, Op.MKDIRAT, dfd, path, mode, 0);
}

/** io_uring_prep_mkdir: mkdirat relative to the current directory. */
export function prepMkdir(sqe: Sqe, path: Addressable, mode: number): void {
  prepMkdirat(sqe, AT_FDCWD, path, mode);
}

/** io_uring_prep_symlinkat: symlinkat(target, newdirfd, linkpath). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSymlinkat(sqe: Sqe, target: Addressable, newdirfd: number, linkpath: Addressable): void {
  checkCString(target, "prepSymlinkat", "target");
  checkCString(linkpath, "prepSymlinkat", "linkpath");
  const w = sqe.u32;
  rwWords(w, Op.SYMLINKAT, newdirfd, target, 0, 0);
  putAddr(w, SQE_W.offLo, linkpath);
}

/** io_uring_prep_symlink: symlinkat relative to the current directory. */
export function prepSymlink(sqe: Sqe, target: Addressable, linkpath: Addressable): void {
  prepSymlinkat(sqe, target, AT_FDCWD, linkpath);
}

/** io_uring_prep_linkat: linkat(olddfd, oldpath, newdfd, newpath, flags). */
export function prepLinkat(sqe: Sqe, olddfd: number, oldpath: Addressable, newdfd: number, newpath: Addressable, flags = 0): void {
  const w = sqe.u32;
  rwWords(w, Op.LINKAT, olddfd, oldpath, newdfd, 0);
  putAddr(w, SQE_W.offLo, newpath);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_link: linkat relative to the current directory. */
export function prepLink(sqe: Sqe, oldpath: Addressable, newpath: Addressable, flags = 0): void {
  prepLinkat(sqe, AT_FDCWD, oldpath, AT_FDCWD, newpath, flags);
}

/**
 * io_uring_prep_files_update: update `nrFds` registered-file slots from
 * `offset` with the fds in `fds` (an Int32Array; -1 clears a slot, -2 skips).
 *
 * Buffers are range-checked (RangeError); a raw address (number/bigint) is
 * not checked: the caller vouches for it.
 */
export function prepFilesUpdate(sqe: Sqe, fds: Addressable, nrFds: number, offset: number): void {
  if (typeof fds === "object") {
    checkCount(nrFds, 0xffffffff, "prepFilesUpdate", "nrFds");
    checkRoom(fds, nrFds * 4, "prepFilesUpdate", "fds");
  }
  // (__u64) of an int: sign-extends, hence `| 0`.
  rwWords(sqe.u32, Op.FILES_UPDATE, -1, fds, nrFds, offset | 0);
}

/**
 * io_uring_prep_fixed_fd_install (6.8): install fixed file `fd` into the normal
 * fd table (sets IOSQE_FIXED_FILE itself); IORING_FIXED_FD_NO_CLOEXEC in `flags`.
 */
export function prepFixedFdInstall(sqe: Sqe, fd: number, flags = 0): void {
  const w = sqe.u32;
  putHead(w, Op.FIXED_FD_INSTALL, SqeFlags.FIXED_FILE, 0);
  w[SQE_W.fd] = fd;
  w[SQE_W.opFlags] = flags;
}
