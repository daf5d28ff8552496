/**
 * The one rule for closed objects.
 *
 * Ring, Uring, TcpServer, BufferRing, BufRing, FixedBuffers and AlignedBuffer
 * own memory the kernel maps or may write. Once such an object is closed,
 * that memory is unmapped or freed, and touching an old view would crash the
 * process instead of raising an error. So after `close()` every public method
 * (other than `close()` itself, which is idempotent, and `[Symbol.dispose]`)
 * throws a {@link ClosedError} before it touches any memory.
 */
import { Errno } from "./errno.ts";

/** Thrown by any public method of a closed Ring, Uring, TcpServer or memory object. */
export class ClosedError extends Error {
  /** Always "EBADF", as a closed fd would give. */
  readonly code = "EBADF";
  /** Positive errno value (EBADF). */
  readonly errno = Errno.EBADF;
  /** The class whose instance is closed, e.g. "Ring". */
  readonly object: string;
  /** The method that was called after close. */
  readonly method: string;
  constructor(object: string, method: string) {
    super(`${object}.${method}(): this ${object} is closed; its memory is released. Create a new ${object}.`);
    this.name = "ClosedError";
    this.object = object;
    this.method = method;
  }
}

/** Throws {@link ClosedError} when `closed` is true; a single compare on the hot path. */
export function assertOpen(closed: boolean, object: string, method: string): void {
  if (closed) throw new ClosedError(object, method);
}
