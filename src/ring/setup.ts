/**
 * io_uring_setup and the ring mappings: the one place that turns setup options
 * into an fd plus typed-array views of the SQ ring, CQ ring and SQE array.
 * Failures throw a {@link SyscallError} whose message says why and what to do.
 */
import { existsSync, readFileSync } from "node:fs";
import { CQRING_OFFSETS, PARAMS, SQRING_OFFSETS } from "../sys/abi.ts";
import { Features, Mman, MmapOffset, Rlimit, SetupFlags } from "../sys/constants.ts";
import { Errno, SyscallError } from "../sys/errno.ts";
import { closeFd, getrlimit, ioUringSetup, memoryView, mmap, munmap } from "../sys/ffi.ts";

/** Options for `new Ring(entries, options)`; each maps to an io_uring_setup flag or param. */
export interface RingOptions {
  /** Raw IORING_SETUP_* flags, OR-ed with those the named options below imply. */
  flags?: number;
  /**
   * Raise this thread's io-wq bounded-worker limit to min(entries, 4 × CPUs)
   * when a smaller ring set up earlier left it lower (default true; the kernel
   * sizes a thread's io-wq by its first ring, see ring/iowq-limit.ts). Limits
   * the program set with registerIowqMaxWorkers are never raised.
   */
  restoreIowqConcurrency?: boolean;
  /** IORING_SETUP_SQPOLL: a kernel thread polls the SQ. `idleMs` = sq_thread_idle, `cpu` = pin it (SQ_AFF). */
  sqpoll?: boolean | { idleMs?: number; cpu?: number };
  /** IORING_SETUP_IOPOLL: busy-poll for completions (O_DIRECT on pollable devices). */
  iopoll?: boolean;
  /** IORING_SETUP_CQSIZE: number of CQ entries (default: 2 × SQ entries). */
  cqEntries?: number;
  /** IORING_SETUP_CLAMP: clamp sizes to the kernel's maximum instead of failing. */
  clamp?: boolean;
  /** IORING_SETUP_ATTACH_WQ: share the io-wq worker pool of this ring fd. */
  attachWq?: number;
  /** IORING_SETUP_R_DISABLED: start disabled (register restrictions, then `enableRings`). */
  disabled?: boolean;
  /** IORING_SETUP_SUBMIT_ALL: keep submitting a batch past an SQE that fails to prepare. */
  submitAll?: boolean;
  /** IORING_SETUP_COOP_TASKRUN (+ TASKRUN_FLAG): no IPIs to run completion work. */
  coopTaskrun?: boolean;
  /** IORING_SETUP_SINGLE_ISSUER: only this thread submits. */
  singleIssuer?: boolean;
  /** IORING_SETUP_DEFER_TASKRUN (+ SINGLE_ISSUER, TASKRUN_FLAG): completion work runs when this thread waits. */
  deferTaskrun?: boolean;
  /** IORING_SETUP_SQE128: 128-byte SQEs (URING_CMD passthrough). */
  sqe128?: boolean;
  /** IORING_SETUP_CQE32: 32-byte CQEs. */
  cqe32?: boolean;
  /** IORING_SETUP_CQE_MIXED (6.18): 16- and 32-byte CQEs in one ring. */
  cqeMixed?: boolean;
  /** IORING_SETUP_NO_SQARRAY: no SQ index array. Default: on where the kernel has it (6.6+), as liburing does. */
  noSqArray?: boolean;
  /** IORING_SETUP_NO_MMAP: ring memory allocated here (page-aligned, off-heap) instead of mmapped from the kernel. */
  noMmap?: boolean;
  /** IORING_SETUP_HYBRID_IOPOLL (with iopoll). */
  hybridIopoll?: boolean;
  /** Register the ring fd with itself (IORING_REGISTER_RING_FDS) so enter skips the fd lookup. Default true. */
  registerRingFd?: boolean;
}

/** What setup produced: the fd, the kernel's answers, and views over the shared memory. */
export interface RingLayout {
  fd: number;
  /** Flags the ring was created with (after defaults). */
  flags: number;
  features: number;
  sqEntries: number;
  cqEntries: number;
  sqeSize: number;
  cqeSize: number;
  /** The SQ ring as u32 words, and the word indexes of its fields. */
  sqRing: ArrayBuffer;
  sqOff: { head: number; tail: number; ringMask: number; ringEntries: number; flags: number; dropped: number; array: number };
  /** The CQ ring (header + CQEs), and the byte offsets of its fields. */
  cqRing: ArrayBuffer;
  cqOff: { head: number; tail: number; ringMask: number; ringEntries: number; overflow: number; cqes: number; flags: number };
  /** The SQE array. */
  sqes: ArrayBuffer;
  /** Mappings to munmap at close (kernel ring mappings, or our NO_MMAP memory). */
  mappings: Array<{ addr: number; len: number }>;
}

const PAGE = 4096;

function roundPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Setup flags implied by the named options. Exported for tests and doctor. */
export function setupFlagsFor(opts: RingOptions): number {
  let f = opts.flags ?? 0;
  if (opts.sqpoll) {
    f |= SetupFlags.SQPOLL;
    if (typeof opts.sqpoll === "object" && opts.sqpoll.cpu !== undefined) f |= SetupFlags.SQ_AFF;
  }
  if (opts.iopoll) f |= SetupFlags.IOPOLL;
  if (opts.hybridIopoll) f |= SetupFlags.IOPOLL | SetupFlags.HYBRID_IOPOLL;
  if (opts.cqEntries !== undefined) f |= SetupFlags.CQSIZE;
  if (opts.clamp) f |= SetupFlags.CLAMP;
  if (opts.attachWq !== undefined) f |= SetupFlags.ATTACH_WQ;
  if (opts.disabled) f |= SetupFlags.R_DISABLED;
  if (opts.submitAll) f |= SetupFlags.SUBMIT_ALL;
  // TASKRUN_FLAG makes the kernel tell us (IORING_SQ_TASKRUN) when an enter is
  // needed to run deferred completion work, so peekCqe never misses CQEs.
  if (opts.coopTaskrun) f |= SetupFlags.COOP_TASKRUN | SetupFlags.TASKRUN_FLAG;
  if (opts.singleIssuer) f |= SetupFlags.SINGLE_ISSUER;
  if (opts.deferTaskrun) f |= SetupFlags.DEFER_TASKRUN | SetupFlags.SINGLE_ISSUER | SetupFlags.TASKRUN_FLAG;
  if (opts.sqe128) f |= SetupFlags.SQE128;
  if (opts.cqe32) f |= SetupFlags.CQE32;
  if (opts.cqeMixed) f |= SetupFlags.CQE_MIXED;
  if (opts.noSqArray) f |= SetupFlags.NO_SQARRAY;
  if (opts.noMmap) f |= SetupFlags.NO_MMAP;
  return f;
}

function fillParams(params: DataView, flags: number, opts: RingOptions): void {
  params.setUint32(PARAMS.flags, flags, true);
  if (opts.cqEntries !== undefined) params.setUint32(PARAMS.cqEntries, opts.cqEntries, true);
  if (typeof opts.sqpoll === "object") {
    if (opts.sqpoll.idleMs !== undefined) params.setUint32(PARAMS.sqThreadIdle, opts.sqpoll.idleMs, true);
    if (opts.sqpoll.cpu !== undefined) params.setUint32(PARAMS.sqThreadCpu, opts.sqpoll.cpu, true);
  }
  if (opts.attachWq !== undefined) params.setUint32(PARAMS.wqFd, opts.attachWq, true);
}

/** Names of the IORING_SETUP_* bits set in `flags`. */
export function setupFlagNames(flags: number): string[] {
  return Object.entries(SetupFlags)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
}

/** A setup failure explained: what happened and what to do. */
function explainSetupFailure(errno: number, entries: number, flags: number, opts: RingOptions): string {
  const base = `io_uring_setup(${entries}, ${setupFlagNames(flags).join("|") || "no flags"}) failed`;
  switch (errno) {
    case Errno.ENOSYS:
      return `${base}: ENOSYS. This kernel has no io_uring, or a seccomp filter (container runtime, sandbox) blocks it. Run on Linux 5.1+ outside the filter, or allow io_uring_setup/enter/register in the seccomp profile.`;
    case Errno.EPERM: {
      const disabled = readIoUringDisabled();
      if (disabled === 2) {
        return `${base}: EPERM. io_uring is disabled by sysctl kernel.io_uring_disabled=2. Enable it with: sysctl -w kernel.io_uring_disabled=0`;
      }
      if (disabled === 1) {
        return `${base}: EPERM. kernel.io_uring_disabled=1 allows io_uring only to root and the group in kernel.io_uring_group. Run as root, join that group, or set kernel.io_uring_disabled=0.`;
      }
      if (flags & SetupFlags.SQPOLL) {
        return `${base}: EPERM. SQPOLL needs CAP_SYS_NICE on older kernels. Run as root or drop the sqpoll option.`;
      }
      return `${base}: EPERM. A seccomp filter or LSM policy denies io_uring here (common in containers). Allow io_uring in the seccomp profile.`;
    }
    case Errno.ENOMEM: {
      const lim = safeRlimit(Rlimit.MEMLOCK);
      return `${base}: ENOMEM. Not enough locked memory for the rings (RLIMIT_MEMLOCK soft=${lim}). Use fewer entries, or raise the limit (ulimit -l unlimited; in Docker --ulimit memlock=-1).`;
    }
    case Errno.EMFILE:
    case Errno.ENFILE:
      return `${base}: ${errno === Errno.EMFILE ? "EMFILE" : "ENFILE"}. Too many open files. Close some, or raise the limit (ulimit -n).`;
    case Errno.EINVAL: {
      const culprit = findUnsupportedFlag(entries, flags, opts);
      if (culprit) {
        return `${base}: EINVAL. This kernel rejects IORING_SETUP_${culprit} (or its combination with the other flags). Drop that option; "uring-bench doctor" lists what the kernel supports.`;
      }
      return `${base}: EINVAL. The entries (${entries}) or flag combination is invalid: entries must be 1..32768 (CQ up to 65536), SQPOLL excludes DEFER_TASKRUN, DEFER_TASKRUN needs SINGLE_ISSUER, CQE32 excludes CQE_MIXED.`;
    }
    default:
      return `${base}: errno ${errno}.`;
  }
}

function safeRlimit(resource: number): string {
  try {
    const { soft } = getrlimit(resource);
    return soft === Infinity ? "unlimited" : String(soft);
  } catch {
    return "unknown";
  }
}

/** kernel.io_uring_disabled (0, 1, 2), or null where the sysctl does not exist (kernels before 6.6). */
export function readIoUringDisabled(): number | null {
  const path = "/proc/sys/kernel/io_uring_disabled";
  if (!existsSync(path)) return null;
  try {
    return Number(readFileSync(path, "utf8").trim());
  } catch {
    return null;
  }
}

/** On EINVAL, find the one flag whose removal makes setup succeed. */
function findUnsupportedFlag(entries: number, flags: number, opts: RingOptions): string | null {
  for (const [name, bit] of Object.entries(SetupFlags)) {
    if ((flags & bit) === 0) continue;
    const without = flags & ~bit;
    const params = new Uint8Array(PARAMS.size);
    fillParams(new DataView(params.buffer), without, opts);
    const fd = ioUringSetup(entries, params);
    if (fd >= 0) {
      closeFd(fd);
      return name;
    }
  }
  return null;
}

/**
 * Does this kernel accept these setup flags? Creates (and closes) a tiny ring.
 * Flags that need companions get them: CQSIZE a CQ size, NO_MMAP user memory,
 * SQ_AFF / TASKRUN_FLAG / HYBRID_IOPOLL / DEFER_TASKRUN the flag they qualify.
 */
export function kernelHasSetupFlag(flag: number): boolean {
  let flags = flag;
  if (flags & SetupFlags.SQ_AFF) flags |= SetupFlags.SQPOLL;
  if (flags & SetupFlags.TASKRUN_FLAG && !(flags & SetupFlags.DEFER_TASKRUN)) flags |= SetupFlags.COOP_TASKRUN;
  if (flags & SetupFlags.HYBRID_IOPOLL) flags |= SetupFlags.IOPOLL;
  if (flags & SetupFlags.DEFER_TASKRUN) flags |= SetupFlags.SINGLE_ISSUER;
  const params = new Uint8Array(PARAMS.size);
  const view = new DataView(params.buffer);
  view.setUint32(PARAMS.flags, flags, true);
  if (flags & SetupFlags.CQSIZE) view.setUint32(PARAMS.cqEntries, 4, true);
  const mem: number[] = [];
  if (flags & SetupFlags.NO_MMAP) {
    // Anonymous mappings for the same reason as in setupRing.
    for (let i = 0; i < 2; i++) {
      const addr = mmap(0, PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
      if (addr < 0) return false;
      mem.push(addr);
    }
    view.setBigUint64(PARAMS.sqOff + SQRING_OFFSETS.userAddr, BigInt(mem[0]!), true);
    view.setBigUint64(PARAMS.cqOff + CQRING_OFFSETS.userAddr, BigInt(mem[1]!), true);
  }
  const fd = ioUringSetup(1, params);
  if (fd >= 0) closeFd(fd);
  for (const addr of mem) munmap(addr, PAGE);
  return fd >= 0;
}

let noSqArrayCached: boolean | null = null;
function kernelHasNoSqArray(): boolean {
  noSqArrayCached ??= kernelHasSetupFlag(SetupFlags.NO_SQARRAY);
  return noSqArrayCached;
}

/** Creates the ring and maps its memory. */
export function setupRing(entries: number, opts: RingOptions): RingLayout {
  if (!Number.isInteger(entries) || entries < 1) {
    throw new SyscallError("io_uring_setup", Errno.EINVAL, `Ring entries must be a positive integer, got ${entries}.`);
  }
  let flags = setupFlagsFor(opts);
  if (opts.noSqArray === undefined && kernelHasNoSqArray()) flags |= SetupFlags.NO_SQARRAY;

  const paramBytes = new Uint8Array(PARAMS.size);
  const params = new DataView(paramBytes.buffer);
  fillParams(params, flags, opts);

  let user: UserRingMemory | undefined;
  if (flags & SetupFlags.NO_MMAP) {
    user = allocUserRingMemory(entries, opts.cqEntries, flags);
    params.setBigUint64(PARAMS.sqOff + SQRING_OFFSETS.userAddr, BigInt(user.sqes.addr), true);
    params.setBigUint64(PARAMS.cqOff + CQRING_OFFSETS.userAddr, BigInt(user.rings.addr), true);
  }
  const releaseUser = (): void => {
    if (user) releaseMappings([user.rings, user.sqes]);
  };

  const fd = ioUringSetup(entries, paramBytes);
  if (fd < 0) {
    releaseUser();
    throw new SyscallError("io_uring_setup", -fd, explainSetupFailure(-fd, entries, flags, opts));
  }
  try {
    return mapRings(fd, params, flags, params.getUint32(PARAMS.features, true), user);
  } catch (err) {
    releaseUser();
    closeFd(fd);
    throw err;
  }
}

/** Memory we give the kernel for a NO_MMAP ring: one region for the SQ + CQ rings, one for the SQEs. */
export interface UserRingMemory {
  /** Rings header, CQEs, then the SQ array (io_cqring_offsets.user_addr). */
  rings: { addr: number; len: number };
  /** The SQE array (io_sqring_offsets.user_addr). */
  sqes: { addr: number; len: number };
}

/**
 * Allocates the memory of a NO_MMAP ring of `entries` SQEs (and `cqEntries`
 * CQEs, default 2 × SQ). Sizes follow the kernel's layout (rings header, CQEs,
 * then the SQ array) with generous slack for the header. Throws on failure.
 */
function allocUserRingMemory(entries: number, cqEntries: number | undefined, flags: number): UserRingMemory {
  const sq = roundPow2(Math.min(entries, 32768));
  const cq = cqEntries !== undefined ? roundPow2(cqEntries) : 2 * sq;
  const cqeSize = flags & SetupFlags.CQE32 ? 32 : 16;
  const sqeSize = flags & SetupFlags.SQE128 ? 128 : 64;
  const ringsLen = roundUp(PAGE + cq * cqeSize + sq * 4, PAGE);
  const sqesLen = roundUp(sq * sqeSize, PAGE);
  // Anonymous mappings, not malloc: the kernel pins these pages and may still
  // write CQEs into them during its asynchronous ring teardown after close().
  // munmap only drops our mapping (the pinned pages live until the kernel
  // lets go); free() would hand them to malloc while the kernel still writes.
  const prot = Mman.PROT_READ | Mman.PROT_WRITE;
  const anon = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE;
  const rings = mmap(0, ringsLen, prot, anon, -1, 0);
  const sqes = mmap(0, sqesLen, prot, anon, -1, 0);
  if (rings < 0 || sqes < 0) {
    if (rings > 0) munmap(rings, ringsLen);
    if (sqes > 0) munmap(sqes, sqesLen);
    throw new SyscallError("io_uring_setup", Errno.ENOMEM, "Could not map memory for a NO_MMAP ring.");
  }
  return { rings: { addr: rings, len: ringsLen }, sqes: { addr: sqes, len: sqesLen } };
}

/**
 * The mmap half of setup (liburing's io_uring_mmap): the views of the SQ ring,
 * CQ ring and SQE array that `params` describes, as io_uring_setup or
 * IORING_REGISTER_RESIZE_RINGS filled it in. Kernel-allocated rings are mapped
 * from `fd`; a NO_MMAP ring's memory is ours, already handed to the kernel, and
 * is passed as `user` to be viewed, never mapped or allocated here.
 *
 * Throws a {@link SyscallError} when a mapping fails, after unmapping what it
 * mapped; the caller still owns `fd` and `user`.
 */
export function mapRings(fd: number, params: DataView, flags: number, features: number, user?: UserRingMemory): RingLayout {
  const sqEntries = params.getUint32(PARAMS.sqEntries, true);
  const cqEntries = params.getUint32(PARAMS.cqEntries, true);
  const so = (f: number) => params.getUint32(PARAMS.sqOff + f, true);
  const co = (f: number) => params.getUint32(PARAMS.cqOff + f, true);
  const sqOff = {
    head: so(SQRING_OFFSETS.head),
    tail: so(SQRING_OFFSETS.tail),
    ringMask: so(SQRING_OFFSETS.ringMask),
    ringEntries: so(SQRING_OFFSETS.ringEntries),
    flags: so(SQRING_OFFSETS.flags),
    dropped: so(SQRING_OFFSETS.dropped),
    array: so(SQRING_OFFSETS.array),
  };
  const cqOff = {
    head: co(CQRING_OFFSETS.head),
    tail: co(CQRING_OFFSETS.tail),
    ringMask: co(CQRING_OFFSETS.ringMask),
    ringEntries: co(CQRING_OFFSETS.ringEntries),
    overflow: co(CQRING_OFFSETS.overflow),
    cqes: co(CQRING_OFFSETS.cqes),
    flags: co(CQRING_OFFSETS.flags),
  };
  const sqeSize = flags & SetupFlags.SQE128 ? 128 : 64;
  const cqeSize = flags & SetupFlags.CQE32 ? 32 : 16;
  const layout = (sqRing: ArrayBuffer, cqRing: ArrayBuffer, sqes: ArrayBuffer, mappings: RingLayout["mappings"]): RingLayout => ({
    fd,
    flags,
    features,
    sqEntries,
    cqEntries,
    sqeSize,
    cqeSize,
    sqRing,
    sqOff,
    cqRing,
    cqOff,
    sqes,
    mappings,
  });

  if (flags & SetupFlags.NO_MMAP) {
    if (!user) {
      throw new SyscallError("mmap", Errno.EINVAL, "A NO_MMAP ring's memory is the caller's: pass the UserRingMemory it was created with to mapRings.");
    }
    const rings = memoryView(user.rings.addr, user.rings.len);
    return layout(rings, rings, memoryView(user.sqes.addr, user.sqes.len), [user.rings, user.sqes]);
  }

  const sqLen = flags & SetupFlags.NO_SQARRAY ? sqOff.array || cqOff.cqes : sqOff.array + sqEntries * 4;
  const sqRingLen = Math.max(sqLen, sqOff.flags + 4, sqOff.dropped + 4);
  const cqRingLen = cqOff.cqes + cqEntries * cqeSize;
  const single = (features & Features.SINGLE_MMAP) !== 0;
  const rw = Mman.PROT_READ | Mman.PROT_WRITE;
  const shared = Mman.MAP_SHARED | Mman.MAP_POPULATE;
  const mappings: RingLayout["mappings"] = [];
  try {
    // With SINGLE_MMAP (5.4+) the SQ and CQ rings share one mapping.
    const ringLen = single ? Math.max(sqRingLen, cqRingLen) : sqRingLen;
    const sqAddr = mapOrThrow(ringLen, rw, shared, fd, MmapOffset.SQ_RING, "SQ ring");
    mappings.push({ addr: sqAddr, len: ringLen });
    const sqRing = memoryView(sqAddr, ringLen);
    let cqRing = sqRing;
    if (!single) {
      const cqAddr = mapOrThrow(cqRingLen, rw, shared, fd, MmapOffset.CQ_RING, "CQ ring");
      mappings.push({ addr: cqAddr, len: cqRingLen });
      cqRing = memoryView(cqAddr, cqRingLen);
    }
    const sqesLen = sqEntries * sqeSize;
    const sqesAddr = mapOrThrow(sqesLen, rw, shared, fd, MmapOffset.SQES, "SQE array");
    mappings.push({ addr: sqesAddr, len: sqesLen });
    return layout(sqRing, cqRing, memoryView(sqesAddr, sqesLen), mappings);
  } catch (err) {
    releaseMappings(mappings);
    throw err;
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function mapOrThrow(len: number, prot: number, flags: number, fd: number, offset: number, what: string): number {
  const addr = mmap(0, len, prot, flags, fd, offset);
  if (addr < 0) {
    throw new SyscallError("mmap", -addr, `mmap of the ${what} (${len} bytes) failed: errno ${-addr}. Check RLIMIT_MEMLOCK and free memory.`);
  }
  return addr;
}

/** Unmaps every mapping of a ring. */
export function releaseMappings(mappings: RingLayout["mappings"]): void {
  for (const m of mappings.splice(0)) munmap(m.addr, m.len);
}
