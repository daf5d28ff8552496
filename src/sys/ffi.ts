/**
 * The single `bun:ffi` boundary: loads the C shim and gives each symbol a
 * typed wrapper. Nothing else in the project imports `bun:ffi`.
 *
 * Two build paths, same source (`c/uring_shim.c`):
 * - `cc`: a prebuilt library, `build/liburing_shim.so` compiled with the system compiler at install.
 * - `tcc`: the source compiled at load time by bun:ffi's TinyCC. The shim needs no system
 *   header and no libc link, so this works on slim images (no compiler, no libc6-dev).
 * Which one loads (the first that applies):
 * 1. `URING_BENCH_SHIM_PATH=/path/to/x.so` (dlopen) or `=/path/to/x.c` (TinyCC);
 * 2. `URING_BENCH_SHIM=cc|tcc` forces a build path;
 * 3. the prebuilt library when present, else TinyCC.
 * The source is imported as a file asset, so `bun build` copies it beside a bundle and
 * `bun build --compile` embeds it in the binary (copied to a temporary file for TinyCC,
 * which cannot read Bun's embedded file system).
 */
import { cc, dlopen, FFIType, JSCallback, ptr, toArrayBuffer, type Pointer } from "bun:ffi";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import shimSourceAsset from "../../c/uring_shim.c" with { type: "file" };

const ROOT = join(import.meta.dir, "..", "..");
/** Path of the shim compiled at install time (meaningful when running from the package's sources). */
export const SHIM_LIBRARY_PATH = join(ROOT, "build", "liburing_shim.so");
/**
 * Path of the shim's C source: in the package, beside a bundle (Bun gives a path relative
 * to the bundle), or inside a compiled binary (`/$bunfs/...`).
 */
export const SHIM_SOURCE_PATH = isAbsolute(shimSourceAsset) ? shimSourceAsset : join(import.meta.dir, shimSourceAsset);

/** Flags for TinyCC: no libc link (slim images have only libc.so.6, no libc.so); the shim's libc calls resolve in the running process. */
const TCC_FLAGS = ["-nostdlib"];

const {
  i32,
  u32,
  i64_fast,
  u64,
  ptr: P,
  cstring,
  void: VOID,
} = {
  i32: FFIType.i32,
  u32: FFIType.u32,
  i64_fast: FFIType.i64_fast,
  u64: FFIType.u64,
  ptr: FFIType.ptr,
  cstring: FFIType.cstring,
  void: FFIType.void,
} as const;

const SYMBOLS = {
  us_io_uring_setup: { args: [u32, P], returns: i32 },
  us_io_uring_enter: { args: [i32, u32, u32, u32, P, u64], returns: i32 },
  us_io_uring_enter_fast: { args: [i32, u32, u32, u32], returns: i32 },
  us_io_uring_register: { args: [i32, u32, P, u32], returns: i32 },
  us_mmap: { args: [u64, u64, i32, i32, i32, u64], returns: i64_fast },
  us_munmap: { args: [u64, u64], returns: i32 },
  us_madvise: { args: [u64, u64, i32], returns: i32 },
  us_aligned_alloc: { args: [u64, u64], returns: i64_fast },
  us_free: { args: [u64], returns: VOID },
  us_memcpy: { args: [u64, u64, u64], returns: VOID },
  us_sched_setaffinity: { args: [i32, u64], returns: i32 },
  us_sched_getaffinity: { args: [i32], returns: i64_fast },
  us_eventfd: { args: [u32, i32], returns: i32 },
  us_close: { args: [i32], returns: i32 },
  us_gettid: { args: [], returns: i64_fast },
  us_getrlimit: { args: [i32, P], returns: i32 },
  us_setrlimit: { args: [i32, u64, u64], returns: i32 },
  us_smp_mb: { args: [], returns: VOID },
  us_abi_describe: { args: [], returns: cstring },
  us_waiter_start: { args: [i32, P], returns: i64_fast },
  us_waiter_arm: { args: [i64_fast], returns: i32 },
  us_waiter_stop: { args: [i64_fast], returns: i32 },
} as const;

/** Which build of the shim is loaded. */
export type ShimBuild = "cc" | "tcc";

/**
 * The loaded library objects. If one were garbage-collected, Bun would free the
 * code (TinyCC) or close the handle, and every symbol would dangle: a crash,
 * not an error. A module-level reference keeps them for the process lifetime.
 */
const keepAlive: unknown[] = [];

type ShimSymbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

/** Loads a prebuilt shim library. */
function openLibrary(path: string): ShimSymbols {
  const lib = dlopen(path, SYMBOLS);
  keepAlive.push(lib);
  return lib.symbols;
}

/**
 * Compiles the shim's source with TinyCC. A source TinyCC cannot open (embedded in a
 * `--compile` binary) is copied to a temporary file first, removed once compiled.
 */
function compileSource(path: string): ShimSymbols {
  let source = path;
  let tempDir: string | null = null;
  if (path.startsWith("/$bunfs/") || !existsSync(path)) {
    const text = readFileSync(path);
    tempDir = mkdtempSync(join(tmpdir(), "uring-bench-shim-"));
    source = join(tempDir, "uring_shim.c");
    writeFileSync(source, text);
  }
  try {
    const compiled = cc({ source, symbols: SYMBOLS, flags: TCC_FLAGS });
    keepAlive.push(compiled);
    return compiled.symbols as ShimSymbols;
  } finally {
    if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true });
  }
}

function loadShim(): { symbols: ShimSymbols; build: ShimBuild; path: string } {
  const override = process.env.URING_BENCH_SHIM_PATH;
  if (override) {
    if (!existsSync(override)) throw new Error(`URING_BENCH_SHIM_PATH=${override} does not exist: give a built shim (.so) or its C source (.c).`);
    if (override.endsWith(".c")) return { symbols: compileSource(override), build: "tcc", path: override };
    return { symbols: openLibrary(override), build: "cc", path: override };
  }
  const forced = process.env.URING_BENCH_SHIM;
  if (forced !== undefined && forced !== "" && forced !== "cc" && forced !== "tcc") {
    throw new Error(`URING_BENCH_SHIM=${forced} is not a build path: use "cc" (prebuilt) or "tcc" (TinyCC at load time).`);
  }
  const havePrebuilt = existsSync(SHIM_LIBRARY_PATH);
  if (forced === "cc" && !havePrebuilt) {
    throw new Error(
      `URING_BENCH_SHIM=cc but ${SHIM_LIBRARY_PATH} does not exist: run "npm run build:shim" (needs a C compiler), set URING_BENCH_SHIM_PATH, or unset URING_BENCH_SHIM.`,
    );
  }
  if (forced !== "tcc" && havePrebuilt) return { symbols: openLibrary(SHIM_LIBRARY_PATH), build: "cc", path: SHIM_LIBRARY_PATH };
  return { symbols: compileSource(SHIM_SOURCE_PATH), build: "tcc", path: SHIM_SOURCE_PATH };
}

// One load per process, kept on globalThis: a test runner may evaluate this
// module once per test file, and each TinyCC compilation that became garbage
// would free code other module instances still call (a crash, not an error).
const SHIM_KEY = Symbol.for("uring-bench.shim");
const globalShim = globalThis as unknown as Record<symbol, ReturnType<typeof loadShim> | undefined>;
const shim = (globalShim[SHIM_KEY] ??= loadShim());
const S = shim.symbols;

/** The shim build in use: "cc" (a prebuilt library) or "tcc" (TinyCC at load). */
export const shimBuild: ShimBuild = shim.build;
/** The file the shim was loaded from: the library, or the C source TinyCC compiled. */
export const shimPath: string = shim.path;

/** Anything whose address the kernel can be given. */
export type Addressable = ArrayBufferView | ArrayBuffer | number | bigint;

/**
 * Address of a buffer, for SQE fields and syscall arguments.
 *
 * Safety: taking the address pins nothing. The caller must keep `buf` reachable
 * (and not detached) until the kernel is done with it, i.e. until the final CQE.
 * Bun materializes a typed array's storage out of line when its address is taken,
 * so the address stays valid while the object lives.
 */
export function addressOf(buf: Addressable): number {
  if (typeof buf === "number") return buf;
  if (typeof buf === "bigint") return Number(buf);
  if (buf instanceof ArrayBuffer) return buf.byteLength === 0 ? 0 : (ptr(buf) as number);
  if (buf.byteLength === 0) return 0;
  return ptr(buf as Parameters<typeof ptr>[0]) as number;
}

/** A view of `length` bytes of raw memory at `address` (mmapped ring memory, shim allocations). */
export function memoryView(address: number, length: number): ArrayBuffer {
  return toArrayBuffer(address as Pointer, 0, length);
}

/**
 * A view of memory the returned ArrayBuffer owns: when the last JS reference
 * to its contents is collected, the engine calls the shim's `us_munmap(address,
 * mappedLength)` (mapped memory) or `us_free(address)` (heap memory,
 * mappedLength 0). The deallocator travels with the contents, so a
 * `transfer()` or `structuredClone` transfer moves the ownership too: no JS
 * view can outlive the memory it points at. (Used by AlignedBuffer; see
 * docs/memory-safety.md.)
 */
export function ownedMemoryView(address: number, length: number, mappedLength: number): ArrayBuffer {
  const release = mappedLength > 0 ? S.us_munmap : S.us_free;
  const fnPtr = (release as unknown as { ptr: Pointer }).ptr;
  // Bun's toArrayBuffer takes (ptr, offset, length, deallocatorContext, deallocator) at run time; its typings stop at three.
  const withDeallocator = toArrayBuffer as unknown as (p: Pointer, o: number, l: number, ctx: number, fn: Pointer) => ArrayBuffer;
  // The context is the munmap length; free ignores it (Bun refuses a 0 context, so pass the address).
  return withDeallocator(address as Pointer, 0, length, mappedLength > 0 ? mappedLength : address, fnPtr);
}

/** io_uring_setup(2): returns the ring fd or -errno; fills `params` (struct io_uring_params). */
export function ioUringSetup(entries: number, params: Uint8Array): number {
  return S.us_io_uring_setup(entries, params);
}

/**
 * io_uring_enter(2) (enter2 form). `arg` is null, a sigset (argsz 8), or with
 * IORING_ENTER_EXT_ARG an io_uring_getevents_arg (argsz 24). Returns SQEs consumed or -errno.
 * This is the only FFI call on the hot path.
 */
export function ioUringEnter(fd: number, toSubmit: number, minComplete: number, flags: number, arg: Addressable | null, argSize: number): number {
  return S.us_io_uring_enter(fd, toSubmit, minComplete, flags, arg === null ? null : (addressOf(arg) as Pointer), argSize);
}

/**
 * io_uring_enter(2) with no argument (no sigset, no EXT_ARG): the hot-path form,
 * with only 32-bit arguments. Returns SQEs consumed or -errno.
 */
export const ioUringEnterFast: (fd: number, toSubmit: number, minComplete: number, flags: number) => number = S.us_io_uring_enter_fast;

/** io_uring_register(2): returns >= 0 or -errno. */
export function ioUringRegister(fd: number, opcode: number, arg: Addressable | null, nrArgs: number): number {
  return S.us_io_uring_register(fd, opcode, arg === null ? null : (addressOf(arg) as Pointer), nrArgs);
}

/** mmap(2): returns the address or -errno. */
export function mmap(addr: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  return S.us_mmap(addr, length, prot, flags, fd, offset) as number;
}

/** munmap(2): returns 0 or -errno. */
export function munmap(addr: number, length: number): number {
  return S.us_munmap(addr, length);
}

/** madvise(2): returns 0 or -errno. */
export function madvise(addr: number, length: number, advice: number): number {
  return S.us_madvise(addr, length, advice);
}

/** Zeroed off-heap memory aligned to `align`; returns the address or -errno. Free with {@link freeAligned}. */
export function alignedAlloc(align: number, size: number): number {
  return S.us_aligned_alloc(align, size) as number;
}

/** Frees memory from {@link alignedAlloc}. */
export function freeAligned(addr: number): void {
  S.us_free(addr);
}

/** memcpy between raw addresses. */
export function memcpy(dst: number, src: number, length: number): void {
  S.us_memcpy(dst, src, length);
}

/** Pins thread `tid` (0 = the calling thread) to the CPUs in `mask`; 0 or -errno. */
export function schedSetAffinity(tid: number, mask: number): number {
  return S.us_sched_setaffinity(tid, mask);
}

/** The CPU mask of thread `tid` (0 = caller), or -errno. */
export function schedGetAffinity(tid: number): number {
  return S.us_sched_getaffinity(tid) as number;
}

/** eventfd2(2): returns the fd or -errno. */
export function eventfd(initval: number, flags: number): number {
  return S.us_eventfd(initval, flags);
}

/** close(2): 0 or -errno. */
export function closeFd(fd: number): number {
  return S.us_close(fd);
}

/** gettid(2) of the calling thread. */
export function gettid(): number {
  return S.us_gettid() as number;
}

const rlimitOut = new BigUint64Array(2);
/** getrlimit(2): `{ soft, hard }` (Infinity for RLIM_INFINITY), or throws on -errno. */
export function getrlimit(resource: number): { soft: number; hard: number } {
  const rc = S.us_getrlimit(resource, rlimitOut);
  if (rc < 0) throw new Error(`getrlimit(${resource}) failed: errno ${-rc}`);
  const conv = (v: bigint) => (v === 0xffffffffffffffffn ? Infinity : Number(v));
  return { soft: conv(rlimitOut[0]!), hard: conv(rlimitOut[1]!) };
}

/** setrlimit(2): 0 or -errno. Infinity means RLIM_INFINITY. */
export function setrlimit(resource: number, soft: number, hard: number): number {
  const conv = (v: number) => (v === Infinity ? 0xffffffffffffffffn : BigInt(v));
  return S.us_setrlimit(resource, conv(soft), conv(hard));
}

/** A full memory barrier (see the shim for when it matters). */
export function smpMb(): void {
  S.us_smp_mb();
}

/** `name=value` pairs of offsetof/sizeof as the C compiler sees <linux/io_uring.h>. */
export function shimAbi(): Map<string, number> {
  const text = String(S.us_abi_describe());
  const map = new Map<string, number>();
  for (const part of text.split(";")) {
    if (!part) continue;
    const [k, v] = part.split("=");
    map.set(k!, Number(v));
  }
  return map;
}

/**
 * A thread in the shim that blocks on an eventfd and calls `onWake` on the JS
 * thread (through a thread-safe JSCallback) once per {@link EventfdWaiter.arm}.
 * The event-loop driver parks an idle ring on it (src/async/driver.ts).
 */
export interface EventfdWaiter {
  /** Lets the thread wait for the eventfd and call back once. */
  arm(): void;
  /** Stops and joins the thread and frees the callback. Idempotent. */
  stop(): void;
}

/**
 * Callbacks of running waiter threads. A JSCallback that became garbage would
 * leave its thread calling freed code (a crash, not an error), so each stays
 * referenced here until its thread is stopped and joined.
 */
const liveWaiterCallbacks = new Set<JSCallback>();

/** Starts a waiter thread on eventfd `efd`. Throws with the errno if the thread cannot start. */
export function startEventfdWaiter(efd: number, onWake: () => void): EventfdWaiter {
  const callback = new JSCallback(() => onWake(), { args: [FFIType.i32], returns: FFIType.void, threadsafe: true });
  const handle = S.us_waiter_start(efd, callback.ptr) as number;
  if (handle < 0) {
    callback.close();
    throw new Error(`could not start the eventfd waiter thread: errno ${-handle}`);
  }
  liveWaiterCallbacks.add(callback);
  let live = true;
  return {
    arm(): void {
      if (live) S.us_waiter_arm(handle);
    },
    stop(): void {
      if (!live) return;
      live = false;
      S.us_waiter_stop(handle);
      callback.close();
      liveWaiterCallbacks.delete(callback);
    },
  };
}
