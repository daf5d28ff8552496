/**
 * Memory ordering for the ring indices, in one place (liburing's barrier.h).
 *
 * JavaScript offers only sequentially consistent Atomics. A seq-cst store is an
 * `xchg` on x86 (a full barrier, ~10 ns), while io_uring's protocol only needs
 * release stores for the SQ tail and CQ head. On x86-64 every plain store
 * already has release semantics (TSO: stores are not reordered with earlier
 * loads or stores), and a typed-array store is never moved across another
 * typed-array access by the JIT (they may alias), so a plain store is a release
 * store there, exactly what liburing compiles io_uring_smp_store_release to.
 * On weakly ordered CPUs (arm64) we keep Atomics.store.
 *
 * Where a full barrier is needed (SQPOLL: publish the tail, then read
 * NEED_WAKEUP; liburing's io_uring_smp_mb) callers use Atomics.store directly.
 */

/** True where plain stores are release stores (x86 TSO). */
export const STORE_IS_RELEASE = process.arch === "x64" || process.arch === "ia32";

/** io_uring_smp_store_release on one u32 of a kernel-shared ring. */
export const storeRelease: (ring: Uint32Array, index: number, value: number) => void = STORE_IS_RELEASE
  ? (ring, index, value) => {
      ring[index] = value;
    }
  : (ring, index, value) => {
      Atomics.store(ring, index, value);
    };
