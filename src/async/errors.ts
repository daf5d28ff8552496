/**
 * `UringError`: how a failed request reaches the caller. The async layer's
 * tier of the three error tiers (shim -errno → ring raw res → UringError):
 * it names the errno, the opcode, and says what to do where there is
 * something to do.
 */
import { constants } from "node:os";
import { OP_NAMES } from "../sys/constants.ts";
import { errnoName } from "../sys/errno.ts";

const E = constants.errno;

/** Advice per errno: what a person can do about it. */
const ADVICE: Record<number, string> = {
  [E.EMFILE]: "the process ran out of file descriptors: close some, or raise the limit (ulimit -n / setrlimit(RLIMIT_NOFILE))",
  [E.ENFILE]: "the system ran out of file descriptors: close some, or raise fs.file-max",
  [E.ENOSPC]: "the device is full: free space, or write elsewhere",
  [E.EDQUOT]: "the disk quota is exhausted: free space or raise the quota",
  [E.ENOMEM]: "the kernel could not allocate memory: reduce queue depth or buffer sizes",
  [E.ECANCELED]: "the request was cancelled (AbortSignal, uring.cancel(), a failed link, or close())",
  [E.ETIME]: "the request timed out",
  [E.EBADF]: "the fd is not open (closed already?), or not open for this access mode",
  [E.EFAULT]: "the kernel got a bad buffer address: pass a live ArrayBuffer/TypedArray",
  [E.EINVAL]: "the kernel rejected an argument: check flags, lengths, offsets (O_DIRECT needs aligned buffers and offsets)",
  [E.EOPNOTSUPP]: "this kernel or file type does not support the operation",
  [E.ENOBUFS]: "the buffer ring ran out of buffers: add buffers, or release leases sooner",
  [E.EAGAIN]: "the resource is temporarily unavailable: retry",
  [E.ENOENT]: "no such file or directory",
  [E.EACCES]: "permission denied",
  [E.EPERM]: "operation not permitted",
  [E.EEXIST]: "the file already exists",
  [E.EPIPE]: "the other end is closed",
  [E.ECONNRESET]: "the peer reset the connection",
  [E.ECONNREFUSED]: "nothing is listening there",
  [E.EISDIR]: "the path is a directory",
  [E.ENOTDIR]: "a path component is not a directory",
  [E.EALREADY]: "the request is already being cancelled",
};

/** Advice that depends on the opcode as well as the errno. */
function adviceFor(op: string, errno: number): string {
  if (op === "ASYNC_CANCEL" && errno === E.ENOENT) return "no matching request: it completed already, or never existed";
  return ADVICE[errno] ?? "see errno(3)";
}

/** A request failed: `errno` (positive), its name `code`, and the opcode `op` it failed in. */
export class UringError extends Error {
  /** Positive errno value. */
  readonly errno: number;
  /** errno name, e.g. "ECANCELED". */
  readonly code: string;
  /** The opcode's name, e.g. "READ". */
  readonly op: string;

  constructor(op: string, errno: number, message?: string, options?: { cause?: unknown }) {
    const n = Math.abs(errno);
    // 95 is both ENOTSUP and EOPNOTSUPP on Linux; io_uring docs say EOPNOTSUPP.
    const code = n === E.EOPNOTSUPP ? "EOPNOTSUPP" : errnoName(n);
    super(message ?? `${op} failed: ${code}: ${adviceFor(op, n)}`, options);
    this.name = "UringError";
    this.errno = n;
    this.code = code;
    this.op = op;
  }
}

/** The opcode's name for messages. */
export function opName(op: number): string {
  return OP_NAMES[op] ?? `OP_${op}`;
}

/** A UringError for request `op` completing with `res` (negative). */
export function errorFor(op: number, res: number): UringError {
  return new UringError(opName(op), -res);
}

/** The request timed out (its linked timeout fired) after `ms`. */
export function timeoutError(op: number, ms: number): UringError {
  return new UringError(opName(op), E.ETIME, `${opName(op)} timed out after ${ms} ms (the { timeout } option cancelled it)`);
}

/** The signal was aborted; `reason` is the signal's reason. */
export function abortError(op: number, reason: unknown): UringError {
  return new UringError(opName(op), E.ECANCELED, `${opName(op)} was aborted by its AbortSignal`, { cause: reason });
}

/** The kernel lacks the opcode: said before anything is submitted. */
export function unsupportedError(op: number, lastOp: number | null): UringError {
  const name = opName(op);
  const why =
    lastOp === null
      ? "this kernel has no opcode probe (Linux < 5.6)"
      : op > lastOp
        ? `this kernel knows opcodes up to ${lastOp} (${opName(lastOp)}), and ${name} is ${op}`
        : `this kernel's probe reports ${name} as unsupported`;
  return new UringError(name, E.EOPNOTSUPP, `IORING_OP_${name} is not supported: ${why}. Upgrade the kernel, or use a fallback (e.g. the plain syscall).`);
}

/** The Uring was closed while the request was pending or before it was made. */
export function closedError(op: number): UringError {
  return new UringError(opName(op), E.ECANCELED, `${opName(op)} was cancelled: the Uring was closed`);
}
