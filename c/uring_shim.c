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
 * This file must also compile under TinyCC (bun:ffi `cc`), so it uses
 * raw syscall numbers and plain C99 only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/io_uring.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
#ifndef __NR_eventfd2
#define __NR_eventfd2 290
#endif

/* syscall(2) returns -1 and sets errno; fold that into -errno. */
static int32_t neg_errno(long ret)
{
	return ret < 0 ? -errno : (int32_t)ret;
}

int32_t us_io_uring_setup(uint32_t entries, void *params)
{
	return neg_errno(syscall(__NR_io_uring_setup, entries, params));
}

/*
 * io_uring_enter2: `arg` is NULL, a sigset_t (argsz = _NSIG / 8 = 8), or,
 * with IORING_ENTER_EXT_ARG, a struct io_uring_getevents_arg (argsz 24).
 */
int32_t us_io_uring_enter(int32_t fd, uint32_t to_submit, uint32_t min_complete,
			  uint32_t flags, void *arg, uint64_t argsz)
{
	return neg_errno(syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
				 flags, arg, (size_t)argsz));
}

/*
 * The hot-path form: no sigset or extended argument, only 32-bit arguments,
 * so the FFI call needs no pointer or 64-bit conversion.
 */
int32_t us_io_uring_enter_fast(int32_t fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags)
{
	return neg_errno(syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0));
}

int32_t us_io_uring_register(int32_t fd, uint32_t opcode, void *arg, uint32_t nr_args)
{
	return neg_errno(syscall(__NR_io_uring_register, fd, opcode, arg, nr_args));
}

int64_t us_mmap(uint64_t addr, uint64_t len, int32_t prot, int32_t flags,
		int32_t fd, uint64_t offset)
{
	void *p = mmap((void *)(uintptr_t)addr, (size_t)len, prot, flags, fd, (off_t)offset);
	return p == MAP_FAILED ? -(int64_t)errno : (int64_t)(uintptr_t)p;
}

int32_t us_munmap(uint64_t addr, uint64_t len)
{
	return neg_errno(munmap((void *)(uintptr_t)addr, (size_t)len));
}

/* madvise(2), for MADV_HUGEPAGE on buffers the kernel reads into. */
int32_t us_madvise(uint64_t addr, uint64_t len, int32_t advice)
{
	return neg_errno(madvise((void *)(uintptr_t)addr, (size_t)len, advice));
}

/* Zeroed memory aligned to `align` (a power of two >= sizeof(void *)). */
int64_t us_aligned_alloc(uint64_t align, uint64_t size)
{
	void *p = NULL;
	int err = posix_memalign(&p, (size_t)align, (size_t)(size ? size : 1));
	if (err)
		return -(int64_t)err;
	memset(p, 0, (size_t)size);
	return (int64_t)(uintptr_t)p;
}

void us_free(uint64_t addr)
{
	free((void *)(uintptr_t)addr);
}

/* Copy between raw addresses: lets JS fill memory it only has an address of. */
void us_memcpy(uint64_t dst, uint64_t src, uint64_t len)
{
	memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, (size_t)len);
}

/* Pin thread `tid` (0 = caller) to the CPUs whose bits are set in `mask` (CPUs 0..63). */
int32_t us_sched_setaffinity(int32_t tid, uint64_t mask)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int cpu = 0; cpu < 64; cpu++)
		if (mask & (1ULL << cpu))
			CPU_SET(cpu, &set);
	return neg_errno(sched_setaffinity(tid, sizeof(set), &set));
}

int64_t us_sched_getaffinity(int32_t tid)
{
	cpu_set_t set;
	uint64_t mask = 0;
	if (sched_getaffinity(tid, sizeof(set), &set) < 0)
		return -(int64_t)errno;
	for (int cpu = 0; cpu < 63; cpu++)
		if (CPU_ISSET(cpu, &set))
			mask |= 1ULL << cpu;
	return (int64_t)mask;
}

int32_t us_eventfd(uint32_t initval, int32_t flags)
{
	return neg_errno(syscall(__NR_eventfd2, initval, flags));
}

int32_t us_close(int32_t fd)
{
	return neg_errno(close(fd));
}

int64_t us_gettid(void)
{
	return (int64_t)syscall(SYS_gettid);
}

/* rlimits: out[0] = soft, out[1] = hard (RLIM_INFINITY = ~0). */
int32_t us_getrlimit(int32_t resource, uint64_t *out)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) < 0)
		return -errno;
	out[0] = rl.rlim_cur;
	out[1] = rl.rlim_max;
	return 0;
}

int32_t us_setrlimit(int32_t resource, uint64_t soft, uint64_t hard)
{
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };
	return neg_errno(setrlimit(resource, &rl));
}

/*
 * Full barrier. JavaScript's Atomics are sequentially consistent, which is
 * enough for every ring index; this exists for the one place liburing uses
 * smp_mb(): between publishing the SQ tail and reading IORING_SQ_NEED_WAKEUP
 * under SQPOLL, where Atomics.store + Atomics.load already order the two.
 */
void us_smp_mb(void)
{
#if defined(__TINYC__) && defined(__x86_64__)
	__asm__ __volatile__("mfence" ::: "memory");
#elif defined(__TINYC__) && defined(__aarch64__)
	__asm__ __volatile__("dmb ish" ::: "memory");
#else
	__sync_synchronize();
#endif
}

/*
 * The ABI as this compiler sees the installed <linux/io_uring.h>: a
 * "name=value;" list that test/abi.test.ts compares with src/sys/abi.ts.
 */
#define ABI_OFF(buf, n, type, field) \
	n += snprintf_append(buf + n, sizeof(buf) - n, #type "." #field, offsetof(struct type, field))
#define ABI_SIZE(buf, n, type) \
	n += snprintf_append(buf + n, sizeof(buf) - n, #type, sizeof(struct type))

static int snprintf_append(char *dst, size_t room, const char *name, size_t value)
{
	/* Hand-rolled so TinyCC needs no stdio. */
	size_t len = strlen(name);
	char digits[24];
	int nd = 0;
	if (room < len + 24)
		return 0;
	memcpy(dst, name, len);
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

const char *us_abi_describe(void)
{
	static char buf[4096];
	int n = 0;
	buf[0] = 0;
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
 * One wake-up per arm: the thread first waits on its private `arm` eventfd,
 * then on the ring's eventfd, then calls back once. JavaScript re-arms only
 * when it goes idle again, so a busy ring (thousands of CQEs) costs no
 * callbacks at all, and the JS side never sees a queue of stale wake-ups.
 *
 * The thread never touches the ring itself: with IORING_SETUP_SINGLE_ISSUER
 * and DEFER_TASKRUN only the JS thread may enter the kernel for the ring, and
 * the kernel signals the eventfd when deferred work is queued, so the JS
 * thread's GETEVENTS enter is what posts the completions.
 */
#include <pthread.h>

struct us_waiter {
	int32_t efd;      /* the ring's eventfd (owned by JavaScript) */
	int32_t armfd;    /* private eventfd: JavaScript writes 1 to arm */
	volatile int32_t stop;
	void (*cb)(int32_t);
	pthread_t thread;
};

static int read_u64(int fd)
{
	uint64_t v;
	for (;;) {
		ssize_t n = read(fd, &v, sizeof(v));
		if (n == (ssize_t)sizeof(v))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static void write_u64(int fd)
{
	uint64_t one = 1;
	ssize_t n;
	do {
		n = write(fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

static void *us_waiter_main(void *arg)
{
	struct us_waiter *w = (struct us_waiter *)arg;
	for (;;) {
		if (read_u64(w->armfd) < 0 || w->stop)
			break;
		if (read_u64(w->efd) < 0 || w->stop)
			break;
		w->cb(1);
	}
	return NULL;
}

/*
 * Starts a waiter on eventfd `efd` calling `cb` (a thread-safe JSCallback
 * taking one int32). Returns an opaque handle (> 0) or -errno.
 */
int64_t us_waiter_start(int32_t efd, void *cb)
{
	struct us_waiter *w = (struct us_waiter *)calloc(1, sizeof(*w));
	int err;
	if (!w)
		return -ENOMEM;
	w->efd = efd;
	w->cb = (void (*)(int32_t))cb;
	w->armfd = (int32_t)syscall(__NR_eventfd2, 0, 02000000 /* EFD_CLOEXEC */);
	if (w->armfd < 0) {
		err = errno;
		free(w);
		return -(int64_t)err;
	}
	err = pthread_create(&w->thread, NULL, us_waiter_main, w);
	if (err) {
		close(w->armfd);
		free(w);
		return -(int64_t)err;
	}
	return (int64_t)(uintptr_t)w;
}

/* Lets the waiter block on the ring's eventfd and call back once. */
int32_t us_waiter_arm(int64_t handle)
{
	struct us_waiter *w = (struct us_waiter *)(uintptr_t)handle;
	write_u64(w->armfd);
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
	write_u64(w->armfd);
	write_u64(w->efd);
	pthread_join(w->thread, NULL);
	close(w->armfd);
	free(w);
	return 0;
}
