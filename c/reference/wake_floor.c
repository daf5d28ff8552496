/*
 * The C floor for cli/async-read/wake.ts: idle → resolved for one 1-byte read
 * parked on an io_uring, a FIFO written after ~1 ms idle, timed from just
 * before the write(2) to the moment the main thread holds the CQE, one
 * CLOCK_MONOTONIC for both ends. It tells how much of the TypeScript path's
 * wake-up is this machine (a halted vCPU woken by an IPI, the scheduler)
 * and how much is ours.
 *
 * How the main thread waits (--mode):
 *   wait    io_uring_wait_cqe: blocked in the kernel in io_uring_enter
 *   epoll   epoll_wait on the ring's registered eventfd (Bun's loop, no thread),
 *           then GETEVENTS if the ring defers task work, then the CQE
 *   thread  a waiter thread blocked in read(2) on the registered eventfd wakes
 *           the main thread, blocked on a futex (the shim's waiter thread and
 *           the JSCallback hop), then GETEVENTS and the CQE
 *
 * Who writes the FIFO (--writer):
 *   self    the main thread itself after sleeping the idle gap, then it waits
 *           (what wake.ts does: the event fires from a JS timer)
 *   same    a writer thread on the main thread's CPU (main pinned to --cpu, 0)
 *   other   a writer thread on the other CPU of two (main on --cpu, writer on 1 - cpu)
 *   any     a writer thread, neither pinned
 * A writer thread fires on a fixed timeline (clock_nanosleep to absolute
 * deadlines one idle gap apart), with no handshake, so the only wake-ups of
 * our threads are the ones the event itself causes (count them with
 * perf record -e sched:sched_wakeup; threads are named floor-main,
 * floor-writer and floor-waiter).
 *
 * Ring setup (--flags): defer (DEFER_TASKRUN | SINGLE_ISSUER | TASKRUN_FLAG,
 * what Uring picks first), single (SINGLE_ISSUER), plain, coop
 * (COOP_TASKRUN | TASKRUN_FLAG: its task work never wakes a thread asleep
 * outside io_uring_enter, so epoll and thread modes time out there; counted
 * as "stalls").
 *
 * usage: wake_floor [--mode wait|epoll|thread] [--writer self|same|other|any]
 *                   [--flags defer|single|plain|coop] [--samples 300]
 *                   [--idle-us 1000] [--cpu 0] [--json]
 * Prints one line: percentiles in µs, or with --json
 * {"name", "samples": [µs...], "stalls"}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A wait that outlives this is a stall (coop rings never wake a sleeper). */
#define STALL_MS 200
/* Warm-up samples, not recorded: page faults, first wake-ups of each thread. */
#define WARMUP 20

enum mode { M_WAIT, M_EPOLL, M_THREAD };
enum writer { W_SELF, W_SAME, W_OTHER, W_ANY };

static struct io_uring ring;
static int fifo_rd, fifo_wr, efd = -1;
static unsigned setup_flags;
static long idle_ns = 1000000;
/* Writer → main: the deadline of the last write (ns) and how many writes so far. */
static _Atomic int64_t last_t0;
static _Atomic uint64_t writes;
static _Atomic int stop;
/* Waiter → main: the futex word, 1 when the eventfd fired. */
static _Atomic uint32_t fired;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void fire(void)
{
	char b = 1;
	/*
	 * Publish t0 and the count before the write: the woken main thread may
	 * run (and on the same CPU preempt us) before write() returns.
	 */
	atomic_fetch_add(&writes, 1);
	atomic_store(&last_t0, now_ns());
	if (write(fifo_wr, &b, 1) != 1)
		abort();
}

static void *writer_main(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	prctl(PR_SET_NAME, "floor-writer");
	if (cpu >= 0)
		pin(cpu);
	int64_t t = now_ns();
	while (!atomic_load(&stop)) {
		t += idle_ns;
		sleep_until(t);
		fire();
	}
	return NULL;
}

static long futex(_Atomic uint32_t *w, int op, uint32_t v, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, v, ts, NULL, 0);
}

/* The shim's waiter, in C: block on the ring's eventfd, then wake the main thread once. */
static void *waiter_main(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "floor-waiter");
	uint64_t v;
	while (!atomic_load(&stop)) {
		if (read(efd, &v, sizeof(v)) != sizeof(v))
			continue;
		if (atomic_load(&stop))
			break;
		atomic_store(&fired, 1);
		futex(&fired, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
	return NULL;
}

/* The CQE, after the wake-up: GETEVENTS runs deferred task work if none is visible yet. */
static int reap(void)
{
	struct io_uring_cqe *cqe;
	if (io_uring_peek_cqe(&ring, &cqe) != 0) {
		io_uring_get_events(&ring);
		if (io_uring_peek_cqe(&ring, &cqe) != 0)
			return -1;
	}
	io_uring_cqe_seen(&ring, cqe);
	return 0;
}

/* One sample: the read parked, the wait, the CQE; µs, or -1 on a stall. */
static double sample(enum mode mode, enum writer wr, int ep)
{
	/* Room for every byte a writer that ran ahead left in the FIFO: one read drains them. */
	static char buf[4096];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, fifo_rd, buf, sizeof(buf), -1);
	io_uring_submit(&ring);
	uint64_t before = atomic_load(&writes);
	if (mode == M_THREAD)
		atomic_store(&fired, 0);
	/*
	 * The eventfd is enabled only while parked, as the driver does: the
	 * CQE our own GETEVENTS posts must not leave a stale signal behind.
	 */
	if (mode != M_WAIT) {
		io_uring_cq_eventfd_toggle(&ring, true);
		/* Completed already (the byte was there at submit): no signal will come. */
		struct io_uring_cqe *cqe;
		if (io_uring_peek_cqe(&ring, &cqe) == 0 || (io_uring_get_events(&ring), io_uring_peek_cqe(&ring, &cqe) == 0)) {
			io_uring_cq_eventfd_toggle(&ring, false);
			io_uring_cqe_seen(&ring, cqe);
			return -2;
		}
	}
	if (wr == W_SELF) {
		sleep_until(now_ns() + idle_ns);
		fire();
	}
	int ok = 0;
	if (mode == M_WAIT) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = STALL_MS * 1000000L };
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) {
			io_uring_cqe_seen(&ring, cqe);
			ok = 1;
		}
	} else if (mode == M_EPOLL) {
		struct epoll_event ev;
		int r;
		/* A plain ring's task work interrupts epoll_wait (TIF_NOTIFY_SIGNAL): EINTR, run, wait again. */
		while ((r = epoll_wait(ep, &ev, 1, STALL_MS)) < 0 && errno == EINTR)
			;
		if (r == 1) {
			uint64_t v;
			io_uring_cq_eventfd_toggle(&ring, false);
			if (read(efd, &v, sizeof(v)) < 0)
				abort();
			ok = reap() == 0;
		}
	} else {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = STALL_MS * 1000000L };
		while (atomic_load(&fired) == 0) {
			if (futex(&fired, FUTEX_WAIT_PRIVATE, 0, &ts) < 0 && errno == ETIMEDOUT)
				break;
		}
		io_uring_cq_eventfd_toggle(&ring, false);
		ok = atomic_load(&fired) && reap() == 0;
	}
	int64_t t1 = now_ns();
	if (!ok) {
		if (mode != M_WAIT)
			io_uring_cq_eventfd_toggle(&ring, false);
		/* Drain whatever completes later so the next sample starts clean. */
		struct io_uring_cqe *cqe;
		io_uring_get_events(&ring);
		if (io_uring_wait_cqe(&ring, &cqe) == 0)
			io_uring_cqe_seen(&ring, cqe);
		return -1;
	}
	/* A byte written before we parked (the writer ran ahead) completes at submit: not an idle wake-up. */
	if (atomic_load(&writes) != before + 1 && wr != W_SELF)
		return -2;
	return (t1 - atomic_load(&last_t0)) / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return def;
}

int main(int argc, char **argv)
{
	const char *ms = arg(argc, argv, "--mode", "epoll");
	const char *ws = arg(argc, argv, "--writer", "self");
	const char *fs = arg(argc, argv, "--flags", "defer");
	int samples = atoi(arg(argc, argv, "--samples", "300"));
	idle_ns = atol(arg(argc, argv, "--idle-us", "1000")) * 1000;
	int json = 0;
	for (int i = 1; i < argc; i++)
		json |= strcmp(argv[i], "--json") == 0;
	enum mode mode = strcmp(ms, "wait") == 0 ? M_WAIT : strcmp(ms, "thread") == 0 ? M_THREAD : M_EPOLL;
	enum writer wr = strcmp(ws, "same") == 0 ? W_SAME : strcmp(ws, "other") == 0 ? W_OTHER : strcmp(ws, "any") == 0 ? W_ANY : W_SELF;
	if (strcmp(fs, "defer") == 0)
		setup_flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_TASKRUN_FLAG;
	else if (strcmp(fs, "single") == 0)
		setup_flags = IORING_SETUP_SINGLE_ISSUER;
	else if (strcmp(fs, "coop") == 0)
		setup_flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	else
		setup_flags = 0;
	if (samples <= 0 || idle_ns <= 0) {
		fprintf(stderr, "usage: see the comment at the top of %s\n", __FILE__);
		return 2;
	}
	prctl(PR_SET_NAME, "floor-main");
	int cpu = atoi(arg(argc, argv, "--cpu", "0"));
	if (wr == W_SAME || wr == W_OTHER)
		pin(cpu);

	char path[64];
	snprintf(path, sizeof(path), "/tmp/wake-floor-%d", getpid());
	if (mkfifo(path, 0600) < 0)
		return perror("mkfifo"), 1;
	fifo_rd = open(path, O_RDWR);
	fifo_wr = open(path, O_WRONLY);
	unlink(path);
	if (fifo_rd < 0 || fifo_wr < 0)
		return perror("open fifo"), 1;

	int ret = io_uring_queue_init(8, &ring, setup_flags);
	if (ret < 0)
		return fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret)), 1;
	int ep = -1;
	pthread_t waiter, writer;
	if (mode != M_WAIT) {
		/* Blocking for the waiter thread's read(2); non-blocking for epoll's drain. */
		efd = eventfd(0, EFD_CLOEXEC | (mode == M_EPOLL ? EFD_NONBLOCK : 0));
		if (io_uring_register_eventfd(&ring, efd) < 0)
			return fprintf(stderr, "register eventfd failed\n"), 1;
	}
	if (mode == M_EPOLL) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	}
	if (mode == M_THREAD)
		pthread_create(&waiter, NULL, waiter_main, NULL);
	if (wr != W_SELF)
		pthread_create(&writer, NULL, writer_main, (void *)(intptr_t)(wr == W_SAME ? cpu : wr == W_OTHER ? 1 - cpu : -1));

	double *xs = calloc(samples, sizeof(double));
	int n = 0, stalls = 0, early = 0;
	for (int i = 0; n < samples && i < samples * 4 + WARMUP; i++) {
		double us = sample(mode, wr, ep);
		if (i < WARMUP)
			continue;
		if (us == -1)
			stalls++;
		else if (us == -2)
			early++;
		else
			xs[n++] = us;
		if (stalls > 5)
			break;
	}
	atomic_store(&stop, 1);
	if (wr != W_SELF)
		pthread_join(writer, NULL);
	if (mode == M_THREAD) {
		uint64_t one = 1;
		if (write(efd, &one, sizeof(one)) < 0)
			abort();
		pthread_join(waiter, NULL);
	}

	char name[96];
	snprintf(name, sizeof(name), "C %s, writer %s, %s", ms, ws, fs);
	if (json) {
		printf("{\"name\":\"%s\",\"stalls\":%d,\"early\":%d,\"samples\":[", name, stalls, early);
		for (int i = 0; i < n; i++)
			printf("%s%.2f", i ? "," : "", xs[i]);
		printf("]}\n");
		return 0;
	}
	qsort(xs, n, sizeof(double), cmp);
#define PCT(p) (n ? xs[(n * (p)) / 100 < n ? (n * (p)) / 100 : n - 1] : 0)
	printf("%-36s n=%d p50=%.1f p90=%.1f p99=%.1f max=%.1f stalls=%d early=%d\n", name, n, PCT(50), PCT(90), PCT(99), n ? xs[n - 1] : 0, stalls,
	       early);
	return 0;
}
