/**
 * RLIMIT_NOFILE: thousands of connections need thousands of fds. Raise the
 * soft limit to the hard one when needed, or say plainly what to do.
 */
import { Rlimit } from "../sys/constants.ts";
import { getrlimit, setrlimit } from "../sys/ffi.ts";

/** fds a process needs besides its sockets (stdio, the ring, Bun's own). */
export const FD_HEADROOM = 64;

/**
 * Makes sure this process may open `needed` more fds: raises the soft
 * RLIMIT_NOFILE up to the hard limit if required. Returns the soft limit in
 * effect. Throws an Error that says how to fix it when even the hard limit is too low.
 */
export function ensureFdLimit(needed: number): number {
  const { soft, hard } = getrlimit(Rlimit.NOFILE);
  const want = needed + FD_HEADROOM;
  if (soft >= want) return soft;
  if (hard >= want) {
    const rc = setrlimit(Rlimit.NOFILE, hard, hard);
    if (rc === 0) return hard;
  }
  throw new Error(
    `too many open files: ${needed} connections need about ${want} file descriptors, but RLIMIT_NOFILE is ${soft} (hard limit ${hard}). ` +
      `Raise it (e.g. "ulimit -n ${want}" as root, or LimitNOFILE= in a systemd unit) or use fewer connections (-c).`,
  );
}

/**
 * Raises the soft RLIMIT_NOFILE to the hard limit (what a server that cannot
 * know its connection count wants). Returns the soft limit in effect.
 */
export function raiseFdLimitToHard(): number {
  const { soft, hard } = getrlimit(Rlimit.NOFILE);
  if (soft >= hard) return soft;
  return setrlimit(Rlimit.NOFILE, hard, hard) === 0 ? hard : soft;
}
