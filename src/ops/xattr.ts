/** Extended-attribute preparers (5.19): [f]getxattr / [f]setxattr. Names and paths are NUL-terminated. */
import { SQE_W } from "../sys/abi.ts";
import { Op } from "../sys/constants.ts";
import type { Addressable } from "../sys/ffi.ts";
import { checkCString, checkSpan } from "./bounds.ts";
import type { Sqe } from "../ring/sqe.ts";
import { putAddr, rwWords } from "./fields.ts";

/** io_uring_prep_getxattr: getxattr(path, name, value, len). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepGetxattr(sqe: Sqe, name: Addressable, value: Addressable | null, path: Addressable, len: number): void {
  checkCString(name, "prepGetxattr", "name");
  checkCString(path, "prepGetxattr", "path");
  checkSpan(value, len, "prepGetxattr", "len");
  const w = sqe.u32;
  rwWords(w, Op.GETXATTR, 0, name, len, 0);
  putAddr(w, SQE_W.offLo, value);
  putAddr(w, SQE_W.addr3Lo, path);
}

/** io_uring_prep_setxattr: setxattr(path, name, value, len, flags). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepSetxattr(sqe: Sqe, name: Addressable, value: Addressable | null, path: Addressable, flags: number, len: number): void {
  checkCString(name, "prepSetxattr", "name");
  checkCString(path, "prepSetxattr", "path");
  checkSpan(value, len, "prepSetxattr", "len");
  const w = sqe.u32;
  rwWords(w, Op.SETXATTR, 0, name, len, 0);
  putAddr(w, SQE_W.offLo, value);
  putAddr(w, SQE_W.addr3Lo, path);
  w[SQE_W.opFlags] = flags;
}

/** io_uring_prep_fgetxattr: fgetxattr(fd, name, value, len). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepFgetxattr(sqe: Sqe, fd: number, name: Addressable, value: Addressable | null, len: number): void {
  checkCString(name, "prepFgetxattr", "name");
  checkSpan(value, len, "prepFgetxattr", "len");
  const w = sqe.u32;
  rwWords(w, Op.FGETXATTR, fd, name, len, 0);
  putAddr(w, SQE_W.offLo, value);
}

/** io_uring_prep_fsetxattr: fsetxattr(fd, name, value, len, flags). Buffers are range-checked (RangeError); a raw address (number/bigint) is not checked: the caller vouches for it. */
export function prepFsetxattr(sqe: Sqe, fd: number, name: Addressable, value: Addressable | null, flags: number, len: number): void {
  checkCString(name, "prepFsetxattr", "name");
  checkSpan(value, len, "prepFsetxattr", "len");
  const w = sqe.u32;
  rwWords(w, Op.FSETXATTR, fd, name, len, 0);
  putAddr(w, SQE_W.offLo, value);
  w[SQE_W.opFlags] = flags;
}
