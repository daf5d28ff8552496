/** errno names and messages, from the runtime's own table (node:os). */
import { constants } from "node:os";

const NAMES: string[] = [];
for (const [name, value] of Object.entries(constants.errno)) {
  if (NAMES[value] === undefined) NAMES[value] = name;
}

/** errno number → its name ("ENOENT"), or "E<n>" when unknown. Accepts -errno too. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return NAMES[n] ?? `E${n}`;
}

/** Numeric value of an errno name ("EAGAIN" → 11). */
export function errnoValue(name: keyof typeof constants.errno): number {
  return constants.errno[name];
}

/** Named errno values the library itself checks. */
export const Errno = {
  EPERM: constants.errno.EPERM,
  ENOENT: constants.errno.ENOENT,
  EINTR: constants.errno.EINTR,
  EBADF: constants.errno.EBADF,
  EAGAIN: constants.errno.EAGAIN,
  ENOMEM: constants.errno.ENOMEM,
  EFAULT: constants.errno.EFAULT,
  EBUSY: constants.errno.EBUSY,
  EEXIST: constants.errno.EEXIST,
  EINVAL: constants.errno.EINVAL,
  ENFILE: constants.errno.ENFILE,
  EMFILE: constants.errno.EMFILE,
  ENOSPC: constants.errno.ENOSPC,
  ENOSYS: constants.errno.ENOSYS,
  ENOBUFS: constants.errno.ENOBUFS,
  ETIME: constants.errno.ETIME,
  ETIMEDOUT: constants.errno.ETIMEDOUT,
  ECANCELED: constants.errno.ECANCELED,
  EOPNOTSUPP: constants.errno.EOPNOTSUPP,
  EALREADY: constants.errno.EALREADY,
  ENXIO: constants.errno.ENXIO,
} as const;

/** An error carrying an errno from a syscall the ring layer made itself (setup, enter, register, mmap). */
export class SyscallError extends Error {
  /** Positive errno value. */
  readonly errno: number;
  /** errno name, e.g. "EINVAL". */
  readonly code: string;
  /** The syscall or operation that failed. */
  readonly syscall: string;
  constructor(syscall: string, errno: number, message?: string) {
    const n = Math.abs(errno);
    super(message ?? `${syscall} failed: ${errnoName(n)}`);
    this.name = "SyscallError";
    this.errno = n;
    this.code = errnoName(n);
    this.syscall = syscall;
  }
}
