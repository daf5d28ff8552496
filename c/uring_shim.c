/*
 * uring-bench shim: only what JavaScript cannot do by itself.
 *
 * The three io_uring syscalls, mmap/munmap, aligned off-heap memory,
 * CPU affinity, eventfd, rlimits, a full memory barrier, and the kernel
 * ABI (offsetof/sizeof) as the compiler sees it, for the ABI test.
 * Everything else (ring indices, SQE encoding, CQE parsing) lives in
 * TypeScript over the mmapped memory.
 *
 * Convention (liburing's): every function returns >= 0 on success or
 * -errno on failure. Pointers come back as integers (>= 0), which is
 * safe on x86-64/arm64 where user addresses are below 2^47.
 *
 * THE RULE FOR THIS FILE: NO SYSTEM HEADERS, NO LIBC LINK.
 * Slim images (node:slim, debian-slim, distroless) have neither a C
 * compiler nor libc6-dev: no /usr/include, and no libc.so linker script,
 * only libc.so.6. There bun:ffi's TinyCC compiles this file at load time
 * with -nostdlib (src/sys/ffi.ts), so:
 *  - Declare every type and constant you use here, yourself (us_ prefix).
 *    Syscall numbers go in the per-architecture table below (x86_64 and
 *    aarch64; add both when you add one).
 *  - Make syscalls through us_syscall() (raw, returns -errno), never
 *    through libc wrappers or errno.
 *  - The few libc functions needed (memory, threads) are looked up with
 *    dlsym in libc.so.6 (the us_libc table below); only dlopen and dlsym
 *    are extern. Add to that table only what a syscall cannot do.
 *  - The one optional header is <linux/io_uring.h>, behind __has_include,
 *    and only for us_abi_describe() (the ABI test skips without it).
 * The file must compile cleanly with `gcc -Wall` and under TinyCC; CI
 * checks the TinyCC path with /usr/include and libc.so hidden
 * (scripts/ci-slim.sh).
 */

/* ---- types (LP64: x86_64 and aarch64 Linux) ---- */
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
typedef unsigned long uintptr_t;
typedef unsigned long us_size_t;
typedef unsigned long us_pthread_t;

#define US_NULL ((void *)0)
#define US_ENOMEM 12
#define US_EINTR 4
#define US_ENOSYS 38
#define US_EFD_CLOEXEC 02000000
#define US_RLIM64_INFINITY (~0UL)

/* ---- syscall numbers ---- */
#if defined(__x86_64__)
#define US_NR_read 0
#define US_NR_write 1
#define US_NR_close 3
#define US_NR_mmap 9
#define US_NR_munmap 11
#define US_NR_madvise 28
#define US_NR_gettid 186
#define US_NR_sched_setaffinity 203
#define US_NR_sched_getaffinity 204
#define US_NR_eventfd2 290
#define US_NR_prlimit64 302
#elif defined(__aarch64__)
#define US_NR_read 63
#define US_NR_write 64
#define US_NR_close 57
#define US_NR_mmap 222
#define US_NR_munmap 215
#define US_NR_madvise 233
#define US_NR_gettid 178
#define US_NR_sched_setaffinity 122
#define US_NR_sched_getaffinity 123
#define US_NR_eventfd2 19
#define US_NR_prlimit64 261
#else
#error "uring-bench shim: add this architecture's syscall numbers"
#endif
/* The io_uring syscalls have the same numbers on every architecture. */
#define US_NR_io_uring_setup 425
#define US_NR_io_uring_enter 426
#define US_NR_io_uring_register 427

/*
 * ---- libc: only what a syscall cannot do (see the rule above) ----
 * Looked up with dlsym in libc.so.6, not linked: TinyCC without libc.so
 * cannot resolve most libc names by itself (pthread_create fails), but it
 * does resolve dlopen/dlsym, which Bun itself imports. The lookup runs once,
 * on first use; two threads racing through it (Workers loading the shim at
 * once) store the same pointers, each an aligned word.
 */
extern void *dlopen(const char *file, int mode);
extern void *dlsym(void *handle, const char *name);
#define US_RTLD_NOW 2

static struct {
	int (*posix_memalign)(void **memptr, us_size_t alignment, us_size_t size);
	void (*free)(void *ptr);
	void *(*memset)(void *s, int c, us_size_t n);
	void *(*memcpy)(void *dst, const void *src, us_size_t n);
	int (*pthread_create)(us_pthread_t *thread, const void *attr, void *(*start)(void *), void *arg);
	int (*pthread_join)(us_pthread_t thread, void **retval);
	long (*syscall)(long number, ...);   /* the US_LIBC_SYSCALL path only */
	int *(*errno_location)(void);        /* glibc and musl both export it */
	volatile int ready;
} us_libc;

/* 0 once every function is found, else -ENOSYS (no libc.so.6: not glibc, or musl's libc.so). */
static int us_libc_load(void)
{
	void *h;
	if (us_libc.ready)
		return 0;
	h = dlopen("libc.so.6", US_RTLD_NOW);
	if (!h)
		h = dlopen("libc.so", US_RTLD_NOW); /* musl */
	if (!h)
		return -US_ENOSYS;
	*(void **)&us_libc.posix_memalign = dlsym(h, "posix_memalign");
	*(void **)&us_libc.free = dlsym(h, "free");
	*(void **)&us_libc.memset = dlsym(h, "memset");
	*(void **)&us_libc.memcpy = dlsym(h, "memcpy");
	*(void **)&us_libc.pthread_create = dlsym(h, "pthread_create");
	*(void **)&us_libc.pthread_join = dlsym(h, "pthread_join");
	*(void **)&us_libc.syscall = dlsym(h, "syscall");
	*(void **)&us_libc.errno_location = dlsym(h, "__errno_location");
	if (!us_libc.posix_memalign || !us_libc.free || !us_libc.memset || !us_libc.memcpy ||
	    !us_libc.pthread_create || !us_libc.pthread_join || !us_libc.syscall ||
	    !us_libc.errno_location)
		return -US_ENOSYS;
	us_libc.ready = 1;
	return 0;
}

/* Plain C for the small copies inside this file, so they need no libc. */
static void us_zero(void *p, us_size_t n)
{
	volatile unsigned char *b = (volatile unsigned char *)p;
	while (n--)
		*b++ = 0;
}

/*
 * us_syscall: a raw syscall returning the kernel's value (>= 0 or -errno),
 * so no errno is involved. x86_64 uses the instruction directly (GCC and
 * TinyCC both take this asm); elsewhere, and wherever US_LIBC_SYSCALL is
 * defined (to test that path on x86_64), libc's syscall(2) wrapper, whose
 * -1/errno result is folded back into -errno. TinyCC has no inline asm on
 * aarch64, hence the wrapper there.
 */
#if defined(__x86_64__) && !defined(US_LIBC_SYSCALL)
static long us_syscall(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	/* The kernel takes args 4-6 in r10, r8, r9: moved in the asm, as TinyCC has no register variables. */
	__asm__ __volatile__("mov %5, %%r10\n\t"
			     "mov %6, %%r8\n\t"
			     "mov %7, %%r9\n\t"
			     "syscall"
			     : "=a"(ret)
			     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(d), "r"(e), "r"(f)
			     : "rcx", "r11", "r10", "r8", "r9", "memory");
	return ret;
}
#else
static long us_syscall(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	if (us_libc_load())
		return -US_ENOSYS;
	ret = us_libc.syscall(n, a, b, c, d, e, f);
	return ret == -1 ? -(long)*us_libc.errno_location() : ret;
}
#endif

#define US_SYS0(n) us_syscall(n, 0, 0, 0, 0, 0, 0)
#define US_SYS1(n, a) us_syscall(n, (long)(a), 0, 0, 0, 0, 0)
#define US_SYS3(n, a, b, c) us_syscall(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define US_SYS4(n, a, b, c, d) us_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

int32_t us_io_uring_setup(uint32_t entries, void *params)
{
	return (int32_t)us_syscall(US_NR_io_uring_setup, (long)entries, (long)params, 0, 0, 0, 0);
}

/*
 * io_uring_enter2: `arg` is NULL, a sigset_t (argsz = _NSIG / 8 = 8), or,
 * with IORING_ENTER_EXT_ARG, a struct io_uring_getevents_arg (argsz 24).
 */
int32_t us_io_uring_enter(int32_t fd, uint32_t to_submit, uint32_t min_complete,
			  uint32_t flags, void *arg, uint64_t argsz)
{
	return (int32_t)us_syscall(US_NR_io_uring_enter, fd, (long)to_submit, (long)min_complete,
				   (long)flags, (long)arg, (long)argsz);
}

/*
 * The hot-path form: no sigset or extended argument, only 32-bit arguments,
 * so the FFI call needs no pointer or 64-bit conversion.
 */
int32_t us_io_uring_enter_fast(int32_t fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags)
{
	return (int32_t)us_syscall(US_NR_io_uring_enter, fd, (long)to_submit, (long)min_complete,
				   (long)flags, 0, 0);
}

int32_t us_io_uring_register(int32_t fd, uint32_t opcode, void *arg, uint32_t nr_args)
{
	return (int32_t)US_SYS4(US_NR_io_uring_register, fd, opcode, arg, nr_args);
}

/* The raw syscall returns the address, or -errno in [-4095, -1]. */
int64_t us_mmap(uint64_t addr, uint64_t len, int32_t prot, int32_t flags,
		int32_t fd, uint64_t offset)
{
	return us_syscall(US_NR_mmap, (long)addr, (long)len, prot, flags, fd, (long)offset);
}

int32_t us_munmap(uint64_t addr, uint64_t len)
{
	return (int32_t)US_SYS3(US_NR_munmap, addr, len, 0);
}

/* madvise(2), for MADV_HUGEPAGE on buffers the kernel reads into. */
int32_t us_madvise(uint64_t addr, uint64_t len, int32_t advice)
{
	return (int32_t)US_SYS3(US_NR_madvise, addr, len, advice);
}

/* Zeroed memory aligned to `align` (a power of two >= sizeof(void *)). */
int64_t us_aligned_alloc(uint64_t align, uint64_t size)
{
	void *p = US_NULL;
	int err = us_libc_load();
	if (err)
		return err;
	err = us_libc.posix_memalign(&p, (us_size_t)align, (us_size_t)(size ? size : 1));
	if (err)
		return -(int64_t)err;
	us_libc.memset(p, 0, (us_size_t)size);
	return (int64_t)(uintptr_t)p;
}

void us_free(uint64_t addr)
{
	/* Only memory from us_aligned_alloc comes here, so libc is loaded. */
	if (addr && us_libc_load() == 0)
		us_libc.free((void *)(uintptr_t)addr);
}

/* Copy between raw addresses: lets JS fill memory it only has an address of. */
void us_memcpy(uint64_t dst, uint64_t src, uint64_t len)
{
	if (us_libc_load() == 0)
		us_libc.memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, (us_size_t)len);
}

/*
 * Pin thread `tid` (0 = caller) to the CPUs whose bits are set in `mask`
 * (CPUs 0..63). The kernel zero-fills a mask shorter than its own, so one
 * u64 is a whole argument.
 */
int32_t us_sched_setaffinity(int32_t tid, uint64_t mask)
{
	uint64_t set = mask;
	return (int32_t)US_SYS3(US_NR_sched_setaffinity, tid, sizeof(set), &set);
}

/*
 * The kernel refuses a buffer smaller than its CPU mask (nr_cpu_ids bits),
 * so ask with room for 4096 CPUs and keep the first 63.
 */
int64_t us_sched_getaffinity(int32_t tid)
{
	uint64_t set[64];
	long ret;
	us_zero(set, sizeof(set));
	ret = US_SYS3(US_NR_sched_getaffinity, tid, sizeof(set), set);
	if (ret < 0)
		return ret;
	return (int64_t)(set[0] & ~(1UL << 63));
}

int32_t us_eventfd(uint32_t initval, int32_t flags)
{
	return (int32_t)US_SYS3(US_NR_eventfd2, initval, flags, 0);
}

int32_t us_close(int32_t fd)
{
	return (int32_t)US_SYS1(US_NR_close, fd);
}

int64_t us_gettid(void)
{
	return US_SYS0(US_NR_gettid);
}

/* rlimits through prlimit64(2) on this process: out[0] = soft, out[1] = hard (RLIM_INFINITY = ~0). */
int32_t us_getrlimit(int32_t resource, uint64_t *out)
{
	uint64_t rl[2];
	long ret = US_SYS4(US_NR_prlimit64, 0, resource, US_NULL, rl);
	if (ret < 0)
		return (int32_t)ret;
	out[0] = rl[0];
	out[1] = rl[1];
	return 0;
}

int32_t us_setrlimit(int32_t resource, uint64_t soft, uint64_t hard)
{
	uint64_t rl[2];
	rl[0] = soft;
	rl[1] = hard;
	return (int32_t)US_SYS4(US_NR_prlimit64, 0, resource, rl, US_NULL);
}

/*
 * Full barrier. JavaScript's Atomics are sequentially consistent, which is
 * enough for every ring index; this exists for the one place liburing uses
 * smp_mb(): between publishing the SQ tail and reading IORING_SQ_NEED_WAKEUP
 * under SQPOLL, where Atomics.store + Atomics.load already order the two.
 * TinyCC has no __sync builtins and no aarch64 asm: on x86_64 its asm
 * does it; on aarch64 it makes a syscall, which orders this thread's
 * accesses around the kernel entry and is enough for the waiter (its stop
 * flag is also published through the eventfd write that wakes it).
 */
void us_smp_mb(void)
{
#if defined(__TINYC__) && defined(__x86_64__)
	__asm__ __volatile__("mfence" ::: "memory");
#elif defined(__TINYC__)
	(void)US_SYS0(US_NR_gettid);
#else
	__sync_synchronize();
#endif
}

/*
 * The ABI as this compiler sees the installed <linux/io_uring.h>: a
 * "name=value;" list that test/ring-abi.test.ts compares with
 * src/sys/abi.ts. Without the header (slim images) the list is empty and
 * the test says it skipped.
 */
#if defined(__has_include)
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#define US_HAVE_IO_URING_H 1
#endif
#endif

#ifdef US_HAVE_IO_URING_H
#if defined(__GNUC__) && !defined(__TINYC__)
#define US_OFFSETOF(type, field) __builtin_offsetof(type, field)
#else
#define US_OFFSETOF(type, field) ((us_size_t) & ((type *)0)->field)
#endif

#define ABI_OFF(buf, n, type, field) \
	n += abi_append(buf + n, sizeof(buf) - n, #type "." #field, US_OFFSETOF(struct type, field))
#define ABI_SIZE(buf, n, type) \
	n += abi_append(buf + n, sizeof(buf) - n, #type, sizeof(struct type))

/* Appends "name=value;" (hand-rolled: no stdio). */
static int abi_append(char *dst, us_size_t room, const char *name, us_size_t value)
{
	us_size_t len = 0;
	char digits[24];
	int nd = 0;
	while (name[len])
		len++;
	if (room < len + 24)
		return 0;
	for (us_size_t i = 0; i < len; i++)
		dst[i] = name[i];
	dst[len] = '=';
	do {
		digits[nd++] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	for (int i = 0; i < nd; i++)
		dst[len + 1 + i] = digits[nd - 1 - i];
	dst[len + 1 + nd] = ';';
	dst[len + 2 + nd] = 0;
	return (int)(len + 2 + nd);
}
#endif

const char *us_abi_describe(void)
{
	static char buf[4096];
	buf[0] = 0;
#ifdef US_HAVE_IO_URING_H
	int n = 0;
	ABI_SIZE(buf, n, io_uring_sqe);
	ABI_OFF(buf, n, io_uring_sqe, opcode);
	ABI_OFF(buf, n, io_uring_sqe, flags);
	ABI_OFF(buf, n, io_uring_sqe, ioprio);
	ABI_OFF(buf, n, io_uring_sqe, fd);
	ABI_OFF(buf, n, io_uring_sqe, off);
	ABI_OFF(buf, n, io_uring_sqe, addr2);
	ABI_OFF(buf, n, io_uring_sqe, addr);
	ABI_OFF(buf, n, io_uring_sqe, splice_off_in);
	ABI_OFF(buf, n, io_uring_sqe, len);
	ABI_OFF(buf, n, io_uring_sqe, rw_flags);
	ABI_OFF(buf, n, io_uring_sqe, user_data);
	ABI_OFF(buf, n, io_uring_sqe, buf_index);
	ABI_OFF(buf, n, io_uring_sqe, buf_group);
	ABI_OFF(buf, n, io_uring_sqe, personality);
	ABI_OFF(buf, n, io_uring_sqe, splice_fd_in);
	ABI_OFF(buf, n, io_uring_sqe, file_index);
	ABI_OFF(buf, n, io_uring_sqe, addr3);
	ABI_SIZE(buf, n, io_uring_cqe);
	ABI_OFF(buf, n, io_uring_cqe, user_data);
	ABI_OFF(buf, n, io_uring_cqe, res);
	ABI_OFF(buf, n, io_uring_cqe, flags);
	ABI_SIZE(buf, n, io_uring_params);
	ABI_OFF(buf, n, io_uring_params, sq_entries);
	ABI_OFF(buf, n, io_uring_params, cq_entries);
	ABI_OFF(buf, n, io_uring_params, flags);
	ABI_OFF(buf, n, io_uring_params, sq_thread_cpu);
	ABI_OFF(buf, n, io_uring_params, sq_thread_idle);
	ABI_OFF(buf, n, io_uring_params, features);
	ABI_OFF(buf, n, io_uring_params, wq_fd);
	ABI_OFF(buf, n, io_uring_params, sq_off);
	ABI_OFF(buf, n, io_uring_params, cq_off);
	ABI_SIZE(buf, n, io_sqring_offsets);
	ABI_OFF(buf, n, io_sqring_offsets, head);
	ABI_OFF(buf, n, io_sqring_offsets, tail);
	ABI_OFF(buf, n, io_sqring_offsets, ring_mask);
	ABI_OFF(buf, n, io_sqring_offsets, ring_entries);
	ABI_OFF(buf, n, io_sqring_offsets, flags);
	ABI_OFF(buf, n, io_sqring_offsets, dropped);
	ABI_OFF(buf, n, io_sqring_offsets, array);
	ABI_SIZE(buf, n, io_cqring_offsets);
	ABI_OFF(buf, n, io_cqring_offsets, head);
	ABI_OFF(buf, n, io_cqring_offsets, tail);
	ABI_OFF(buf, n, io_cqring_offsets, ring_mask);
	ABI_OFF(buf, n, io_cqring_offsets, ring_entries);
	ABI_OFF(buf, n, io_cqring_offsets, overflow);
	ABI_OFF(buf, n, io_cqring_offsets, cqes);
	ABI_OFF(buf, n, io_cqring_offsets, flags);
	ABI_SIZE(buf, n, io_uring_probe);
	ABI_SIZE(buf, n, io_uring_probe_op);
	ABI_SIZE(buf, n, io_uring_rsrc_register);
	ABI_SIZE(buf, n, io_uring_rsrc_update2);
	ABI_SIZE(buf, n, io_uring_restriction);
	ABI_SIZE(buf, n, io_uring_buf);
	ABI_SIZE(buf, n, io_uring_buf_reg);
	ABI_SIZE(buf, n, io_uring_getevents_arg);
	ABI_SIZE(buf, n, io_uring_sync_cancel_reg);
	ABI_SIZE(buf, n, io_uring_file_index_range);
	ABI_SIZE(buf, n, io_uring_recvmsg_out);
#endif
	return buf;
}

/*
 * The event-loop driver's waiter thread (src/async/driver.ts).
 *
 * JavaScript parks an idle ring on an eventfd registered with it
 * (IORING_REGISTER_EVENTFD). Bun has no API to watch an arbitrary fd, so a
 * thread blocks in read(2) on the eventfd and calls back into JavaScript
 * through a thread-safe JSCallback, which queues the call on the JS thread's
 * event loop and returns at once.
 *
 * One callback per arm: the thread blocks in read(2) on the ring's eventfd
 * and, once woken, calls back only if JavaScript armed it since the last
 * callback (a flag in shared memory, cleared as the callback goes out).
 * JavaScript arms when it goes idle, so a busy ring (thousands of CQEs, the
 * eventfd disabled meanwhile) costs no callbacks, and the JS side never sees
 * a queue of stale wake-ups. Arming is a store, not a syscall: an earlier
 * version had the thread wait on a private "arm" eventfd first, which cost
 * the JS thread a write(2) and the waiter a wake-up on every park
 * (perf sched:sched_wakeup: one extra wake-up per idle period).
 * A signal that finds the flag clear is dropped: JavaScript arms before it
 * enables the ring's eventfd (IORING_CQ_EVENTFD_DISABLED), so every signal
 * of a park finds the flag set.
 *
 * The thread never touches the ring itself: with IORING_SETUP_SINGLE_ISSUER
 * and DEFER_TASKRUN only the JS thread may enter the kernel for the ring, and
 * the kernel signals the eventfd when deferred work is queued, so the JS
 * thread's GETEVENTS enter is what posts the completions.
 */
struct us_waiter {
	int32_t efd;      /* the ring's eventfd (owned by JavaScript) */
	volatile int32_t armed; /* JavaScript stores 1 to arm; the thread clears it as it calls back */
	volatile int32_t stop;
	void (*cb)(int32_t);
	us_pthread_t thread;
};

static int read_u64(int fd)
{
	uint64_t v;
	for (;;) {
		long n = US_SYS3(US_NR_read, fd, &v, sizeof(v));
		if (n == (long)sizeof(v))
			return 0;
		if (n == -US_EINTR)
			continue;
		return -1;
	}
}

static void write_u64(int fd)
{
	uint64_t one = 1;
	long n;
	do {
		n = US_SYS3(US_NR_write, fd, &one, sizeof(one));
	} while (n == -US_EINTR);
}

static void *us_waiter_main(void *arg)
{
	struct us_waiter *w = (struct us_waiter *)arg;
	for (;;) {
		/* read(2) is a full barrier: the flag is loaded after the wake-up. */
		if (read_u64(w->efd) < 0 || w->stop)
			break;
		if (!w->armed)
			continue;
		/* Only this thread clears the flag and a callback always follows the
		 * clear; JavaScript takes any callback that finds it armed as its
		 * wake-up (at worst a spurious one), so check-then-clear loses none. */
		w->armed = 0;
		us_smp_mb();
		w->cb(1);
	}
	return US_NULL;
}

/*
 * Starts a waiter on eventfd `efd` calling `cb` (a thread-safe JSCallback
 * taking one int32). Returns an opaque handle (> 0) or -errno.
 */
int64_t us_waiter_start(int32_t efd, void *cb)
{
	struct us_waiter *w = US_NULL;
	int err = us_libc_load();
	if (err)
		return err;
	if (us_libc.posix_memalign((void **)&w, 16, sizeof(*w)) || !w)
		return -US_ENOMEM;
	us_zero(w, sizeof(*w));
	w->efd = efd;
	w->cb = (void (*)(int32_t))cb;
	err = us_libc.pthread_create(&w->thread, US_NULL, us_waiter_main, w);
	if (err) {
		us_libc.free(w);
		return -(int64_t)err;
	}
	return (int64_t)(uintptr_t)w;
}

/*
 * Lets the waiter call back once at the next eventfd signal. A store and a
 * barrier (pairs with the waiter's read(2) of the eventfd): call it before
 * enabling the ring's eventfd.
 */
int32_t us_waiter_arm(int64_t handle)
{
	struct us_waiter *w = (struct us_waiter *)(uintptr_t)handle;
	w->armed = 1;
	us_smp_mb();
	return 0;
}

/*
 * Stops and joins the waiter, then frees it. Wakes it wherever it blocks
 * (a write to the ring's eventfd is harmless: JavaScript closes that fd
 * next). The JSCallback is thread-safe and never blocks the thread, so the
 * join is bounded. Free the JSCallback only after this returns.
 */
int32_t us_waiter_stop(int64_t handle)
{
	struct us_waiter *w = (struct us_waiter *)(uintptr_t)handle;
	w->stop = 1;
	us_smp_mb();
	write_u64(w->efd);
	us_libc.pthread_join(w->thread, US_NULL);
	us_libc.free(w);
	return 0;
}
