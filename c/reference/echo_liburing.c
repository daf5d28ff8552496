/*
 * c-uring: the liburing reference echo server for `uring-bench echo`, the
 * same design as the TypeScript TcpServer (src/net/server.ts) written in C,
 * so a run shows what is io_uring's and what is ours.
 *
 * One thread, one ring (SINGLE_ISSUER|DEFER_TASKRUN where the kernel has
 * them). Multishot accept; per connection one multishot recv selecting from a
 * provided-buffer ring (2 KiB buffers on transparent huge pages); every
 * received buffer is sent straight back from where it landed, one send in
 * flight per connection so bytes stay in order, a short send resubmitted for
 * the rest; the buffer returns to the ring when its send completes. While
 * handling completions, prepared requests go out every 16 (as TcpServer's
 * submitEvery), the rest with the next wait.
 *
 * Backpressure: a connection holding more than PAUSE_AT buffers has its recv
 * cancelled until its queue drains below half; a recv that ran out of
 * buffers (-ENOBUFS) is re-armed once buffers come back. Peer half close:
 * flush, then close. Resets: close that connection, keep serving.
 *
 * Accepted sockets are plain fds (TCP_NODELAY set with setsockopt): the
 * Debian liburing (2.3) has no helper for setsockopt on a direct descriptor.
 * Compare with `server-uring.ts --plain-fds` for the like-for-like TS number.
 *
 * Usage: echo_liburing PORT [HOST [THREADS]]. Prints "READY <port> <flags>"
 * when listening. THREADS > 1: that many threads, each with its own ring,
 * buffer ring, connection table and SO_REUSEPORT listener on PORT (all the
 * state below is per thread). With THREADS given (1 too), thread t is pinned
 * to the t-th CPU of the process's affinity mask (mod its size), the rule
 * TcpServerGroup's Workers follow, so the two compare thread for thread; the
 * READY line then ends with "threads=N cpus=<cpu of each thread>".
 * Exits when its parent dies (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ENTRIES 4096
#define NBUF 8192 /* provided buffers (power of two) */
#define BUF_SIZE 2048
#define BGID 0
#define PAUSE_AT 64
#define SUBMIT_EVERY 16

/* user_data: kind in the top byte, fd below. */
enum { K_ACCEPT = 1, K_RECV, K_SEND, K_CANCEL, K_TIMER };
#define UD(kind, fd) (((uint64_t)(kind) << 56) | (uint32_t)(fd))

struct pend { uint16_t bid; uint32_t len, off; };

struct conn {
	int open, armed, sending, eof, paused, starved, canceling;
	struct pend *q; /* FIFO of buffers to send back */
	unsigned qh, qn, qcap;
};

static __thread struct io_uring ring;
static __thread struct io_uring_buf_ring *br;
static __thread char *bufs;
static __thread unsigned recycled;
static __thread struct conn *conns;
static __thread int nconns;
static __thread int lfd;
static __thread int *starved_list;
static __thread int nstarved;
static struct __kernel_timespec retry_ts = { .tv_nsec = 10 * 1000 * 1000 };

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	while (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	return sqe;
}

static void give_back(uint16_t bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, bid, io_uring_buf_ring_mask(NBUF), recycled);
	recycled++;
}

static void arm_accept(void)
{
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, UD(K_ACCEPT, 0));
}

static void arm_recv(int fd)
{
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(K_RECV, fd));
	conns[fd].armed = 1;
	conns[fd].paused = conns[fd].starved = 0;
}

static void send_head(int fd)
{
	struct conn *c = &conns[fd];
	struct pend *p = &c->q[c->qh];
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_send(sqe, fd, bufs + (size_t)p->bid * BUF_SIZE + p->off, p->len - p->off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, UD(K_SEND, fd));
	c->sending = 1;
}

static void cancel_recv(int fd)
{
	if (conns[fd].canceling)
		return;
	conns[fd].canceling = 1;
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_cancel64(sqe, UD(K_RECV, fd), 0);
	io_uring_sqe_set_data64(sqe, UD(K_CANCEL, fd));
}

/* Closes once nothing of the connection is in flight; queued buffers go back. */
static void maybe_close(int fd)
{
	struct conn *c = &conns[fd];
	if (!c->open || c->armed || c->sending || c->canceling)
		return;
	while (c->qn) {
		give_back(c->q[c->qh].bid);
		c->qh = (c->qh + 1) % c->qcap;
		c->qn--;
	}
	c->open = 0;
	close(fd);
}

static void enqueue(int fd, uint16_t bid, uint32_t len)
{
	struct conn *c = &conns[fd];
	if (c->qn == c->qcap) {
		unsigned cap = c->qcap ? c->qcap * 2 : 4;
		struct pend *q = malloc(sizeof(*q) * cap);
		if (!q) {
			perror("c-uring: malloc");
			exit(1);
		}
		for (unsigned i = 0; i < c->qn; i++)
			q[i] = c->q[(c->qh + i) % c->qcap];
		free(c->q);
		c->q = q;
		c->qh = 0;
		c->qcap = cap;
	}
	c->q[(c->qh + c->qn) % c->qcap] = (struct pend){ .bid = bid, .len = len, .off = 0 };
	c->qn++;
	if (!c->sending)
		send_head(fd);
	if (c->qn > PAUSE_AT && c->armed && !c->paused) {
		c->paused = 1;
		cancel_recv(fd);
	}
}

static void maybe_resume(int fd);

static void on_accept(int res, unsigned flags)
{
	if (!(flags & IORING_CQE_F_MORE)) {
		if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
			/* Out of fds or memory: try again in 10 ms rather than spin. */
			struct io_uring_sqe *sqe = get_sqe();
			io_uring_prep_timeout(sqe, &retry_ts, 0, 0);
			io_uring_sqe_set_data64(sqe, UD(K_TIMER, 0));
		} else {
			arm_accept();
		}
	}
	if (res < 0)
		return;
	if (res >= nconns) {
		close(res); /* beyond RLIMIT_NOFILE as read at start: cannot happen */
		return;
	}
	int one = 1;
	setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct conn *c = &conns[res];
	free(c->q);
	memset(c, 0, sizeof(*c));
	c->open = 1;
	arm_recv(res);
}

static void on_recv(int fd, int res, unsigned flags)
{
	struct conn *c = &conns[fd];
	if (!(flags & IORING_CQE_F_MORE))
		c->armed = 0;
	if (res > 0) {
		uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		if (!c->open || c->eof) {
			give_back(bid);
		} else {
			enqueue(fd, bid, (uint32_t)res);
		}
	} else if (res == 0) {
		c->eof = 1; /* half close: finish the echo, then close */
	} else if (res == -ENOBUFS) {
		if (!c->starved) {
			c->starved = 1;
			starved_list[nstarved++] = fd;
		}
		return;
	} else if (res == -ECANCELED) {
		/* our cancel: a pause resumes when the queue drains (maybe it already has) */
		if (c->eof)
			maybe_close(fd);
		else
			maybe_resume(fd);
		return;
	} else {
		c->eof = 1; /* reset or error: close once the send in flight is back */
	}
	if (!c->armed && !c->paused && !c->eof && !c->starved && c->open)
		arm_recv(fd);
	if (c->eof)
		maybe_close(fd);
}

static void on_send(int fd, int res)
{
	struct conn *c = &conns[fd];
	c->sending = 0;
	struct pend *p = &c->q[c->qh];
	if (res < 0) {
		c->eof = 1;
		if (c->armed)
			cancel_recv(fd);
		maybe_close(fd);
		return;
	}
	p->off += (uint32_t)res;
	if (p->off < p->len) {
		send_head(fd); /* short send: the rest */
		return;
	}
	give_back(p->bid);
	c->qh = (c->qh + 1) % c->qcap;
	c->qn--;
	if (c->qn) {
		send_head(fd);
	} else if (c->eof) {
		maybe_close(fd);
		return;
	}
	maybe_resume(fd);
}

/* A paused connection whose queue has drained goes back to receiving. */
static void maybe_resume(int fd)
{
	struct conn *c = &conns[fd];
	if (c->paused && c->qn < PAUSE_AT / 2 && !c->armed && !c->canceling && !c->eof && c->open)
		arm_recv(fd);
}

/* The cancel of a paused recv is done (it may have found the recv already gone). */
static void on_cancel(int fd)
{
	conns[fd].canceling = 0;
	if (conns[fd].open && conns[fd].eof)
		maybe_close(fd);
	else
		maybe_resume(fd);
}

static void *huge_alloc(size_t len)
{
	size_t hp = 2u << 20, size = (len + hp - 1) & ~(hp - 1);
	char *raw = mmap(NULL, size + hp, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	char *p = (char *)(((uintptr_t)raw + hp - 1) & ~(uintptr_t)(hp - 1));
	madvise(p, size, MADV_HUGEPAGE);
	memset(p, 0, size);
	return p;
}

#define MAX_THREADS 64

/* Written by every thread's ring setup (the same value): the READY line reports it. */
static const char *setup_flags = "none";
static pthread_barrier_t all_ready;
static int listen_fds[MAX_THREADS];
/* CPU each thread pins itself to, or -1 (no THREADS argument: not pinned). */
static int thread_cpu[MAX_THREADS];

/* Thread t's CPU: the t-th of the process's allowed CPUs, wrapping (as TcpServerGroup's cpus[i % n]). */
static int nth_allowed_cpu(int t)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return -1;
	int n = CPU_COUNT(&set), want = t % (n > 0 ? n : 1);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && want-- == 0)
			return cpu;
	return -1;
}

/*
 * Experiment (issue 18, per-wake-up cost): ECHO_MIN_WAIT_US=N makes every
 * wait an IORING_ENTER_EXT_ARG enter with min_wait_usec = N (Linux 6.12+):
 * the thread sleeps until ECHO_WAIT_NR completions (default 16) or N µs,
 * then returns with whatever arrived, so a wake-up carries more completions
 * at up to N µs of added latency. Unset: the plain submit_and_wait(1).
 */
static unsigned min_wait_us, wait_nr = 16;

/* The 6.12 layout of io_uring_getevents_arg (liburing 2.3's header still calls min_wait_usec "pad"). */
struct getevents_arg_min_wait {
	uint64_t sigmask;
	uint32_t sigmask_sz;
	uint32_t min_wait_usec;
	uint64_t ts;
};

/* Publishes prepared SQEs (liburing 2.3's __io_uring_flush_sq, not exported) and returns how many await submission. */
static unsigned flush_sq(void)
{
	struct io_uring_sq *sq = &ring.sq;
	unsigned tail = sq->sqe_tail;
	if (sq->sqe_head != tail) {
		sq->sqe_head = tail;
		io_uring_smp_store_release(sq->ktail, tail);
	}
	return tail - *sq->khead;
}

/* Submit and wait with min_wait (see above); a 1 s overall timeout keeps an idle thread asleep, not spinning. */
static int submit_and_wait_min(void)
{
	struct __kernel_timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
	struct getevents_arg_min_wait arg = { .sigmask = 0, .sigmask_sz = 0, .min_wait_usec = min_wait_us, .ts = (uint64_t)(uintptr_t)&ts };
	unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
	int fd = ring.ring_fd;
	if (ring.int_flags & 1 /* liburing 2.3 INT_FLAG_REG_RING */) {
		flags |= IORING_ENTER_REGISTERED_RING;
		fd = ring.enter_ring_fd;
	}
	int ret = (int)syscall(__NR_io_uring_enter, fd, flush_sq(), wait_nr, flags, &arg, sizeof arg);
	return ret < 0 ? -errno : ret;
}

/* One thread's server: its ring, buffers and connection table over listener `arg` (the thread's index). */
static void *serve(void *arg)
{
	int t = (int)(long)arg;
	lfd = listen_fds[t];
	if (thread_cpu[t] >= 0) {
		cpu_set_t one_cpu;
		CPU_ZERO(&one_cpu);
		CPU_SET(thread_cpu[t], &one_cpu);
		pthread_setaffinity_np(pthread_self(), sizeof one_cpu, &one_cpu);
	}
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	nconns = rl.rlim_cur > (1u << 20) ? (1 << 20) : (int)rl.rlim_cur;
	conns = calloc((size_t)nconns, sizeof(*conns));
	starved_list = calloc((size_t)nconns, sizeof(int));
	if (!conns || !starved_list) {
		perror("c-uring: calloc");
		exit(1);
	}

	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
	p.cq_entries = ENTRIES * 4;
	int ret = io_uring_queue_init_params(ENTRIES, &ring, &p);
	const char *flags = "SINGLE_ISSUER|DEFER_TASKRUN";
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof p);
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = ENTRIES * 4;
		ret = io_uring_queue_init_params(ENTRIES, &ring, &p);
		flags = "none";
	}
	if (ret < 0) {
		fprintf(stderr, "c-uring: io_uring_queue_init: %s\n", strerror(-ret));
		exit(1);
	}
	setup_flags = flags;
	io_uring_register_ring_fd(&ring);

	br = huge_alloc(sizeof(struct io_uring_buf) * NBUF);
	bufs = huge_alloc((size_t)NBUF * BUF_SIZE);
	if (!br || !bufs) {
		perror("c-uring: mmap");
		exit(1);
	}
	struct io_uring_buf_reg reg = { .ring_addr = (uint64_t)(uintptr_t)br, .ring_entries = NBUF, .bgid = BGID };
	if ((ret = io_uring_register_buf_ring(&ring, &reg, 0)) < 0) {
		fprintf(stderr, "c-uring: register_buf_ring: %s\n", strerror(-ret));
		exit(1);
	}
	io_uring_buf_ring_init(br);
	for (unsigned i = 0; i < NBUF; i++)
		io_uring_buf_ring_add(br, bufs + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i, io_uring_buf_ring_mask(NBUF), i);
	io_uring_buf_ring_advance(br, NBUF);

	arm_accept();
	pthread_barrier_wait(&all_ready);

	for (;;) {
		if (recycled) {
			io_uring_buf_ring_advance(br, recycled);
			recycled = 0;
			/* Buffers are back: recvs that ran dry go again. */
			while (nstarved > 0) {
				int fd = starved_list[--nstarved];
				struct conn *c = &conns[fd];
				c->starved = 0;
				if (c->open && !c->armed && !c->eof && !c->paused)
					arm_recv(fd);
				else if (c->eof)
					maybe_close(fd);
			}
		}
		ret = min_wait_us > 0 ? submit_and_wait_min() : io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME) {
			fprintf(stderr, "c-uring: io_uring_enter: %s\n", strerror(-ret));
			exit(1);
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			if (io_uring_sq_ready(&ring) >= SUBMIT_EVERY)
				io_uring_submit(&ring);
			int kind = (int)(cqe->user_data >> 56), fd = (int)(uint32_t)cqe->user_data;
			switch (kind) {
			case K_RECV: on_recv(fd, cqe->res, cqe->flags); break;
			case K_SEND: on_send(fd, cqe->res); break;
			case K_ACCEPT: on_accept(cqe->res, cqe->flags); break;
			case K_TIMER: arm_accept(); break;
			case K_CANCEL: on_cancel(fd); break;
			}
		}
		io_uring_cq_advance(&ring, seen);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [HOST [THREADS]]\n", argv[0]);
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	int port = atoi(argv[1]);
	const char *host = argc > 2 ? argv[2] : "127.0.0.1";
	if (getenv("ECHO_MIN_WAIT_US"))
		min_wait_us = (unsigned)atoi(getenv("ECHO_MIN_WAIT_US"));
	if (getenv("ECHO_WAIT_NR"))
		wait_nr = (unsigned)atoi(getenv("ECHO_WAIT_NR"));
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	if (threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "c-uring: THREADS must be 1-%d, got %s\n", MAX_THREADS, argv[3]);
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "c-uring: %s is not an IPv4 address\n", host);
		return 2;
	}
	int *lfds = listen_fds;
	int one = 1;
	for (int t = 0; t < threads; t++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (threads > 1)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			fprintf(stderr, "c-uring: bind %s:%d: %s%s\n", host, port, strerror(errno), errno == EADDRINUSE ? " (port in use: pick another)" : "");
			return 1;
		}
		if (listen(fd, 4096) < 0) {
			perror("c-uring: listen");
			return 1;
		}
		lfds[t] = fd;
		if (t == 0) {
			/* Port 0: the others bind the port the first one got. */
			socklen_t slen = sizeof sa;
			getsockname(fd, (struct sockaddr *)&sa, &slen);
		}
	}

	/* READY once every thread's ring is set up and its accept armed. */
	pthread_barrier_init(&all_ready, NULL, (unsigned)threads + 1);
	for (int t = 0; t < threads; t++)
		thread_cpu[t] = argc > 3 ? nth_allowed_cpu(t) : -1;
	for (int t = 0; t < threads; t++) {
		pthread_t tid;
		if (pthread_create(&tid, NULL, serve, (void *)(long)t) != 0) {
			perror("c-uring: pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&all_ready);
	if (argc > 3) {
		printf("READY %d %s threads=%d cpus=", ntohs(sa.sin_port), setup_flags, threads);
		for (int t = 0; t < threads; t++)
			printf(t ? ",%d" : "%d", thread_cpu[t]);
		printf("\n");
	} else {
		printf("READY %d %s\n", ntohs(sa.sin_port), setup_flags);
	}
	fflush(stdout);
	pthread_exit(NULL);
}
