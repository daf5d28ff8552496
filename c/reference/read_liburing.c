/*
 * The C reference for `uring-bench read`: the same loop as
 * cli/read/uring.ts written against liburing. QD reads in flight, every
 * free slot refilled, one io_uring_submit_and_wait(min(BATCH, inflight)) per
 * round, all available CQEs reaped, every read checked against the pattern
 * (first 8-byte word of each 512-byte sector and the read's last word, as
 * the default "all" mode), latency timestamps taken once per round as the TypeScript side does.
 * Ring: DEFER_TASKRUN|SINGLE_ISSUER where the kernel has them, registered ring fd.
 *
 * usage: read_liburing PATH SIZE BS QD BATCH MS WARMUP_MS DIRECT(0|1) RAND(0|1) FIXED(0|1) SEED [MAXOPS [VERIFY [SUBMIT [HUGE]]]]
 * VERIFY: all (default), full, sample (every word of one read in 64) or length.
 * SUBMIT: submit every SUBMIT prepared reads while refilling (default QD: all at once).
 * HUGE: 1 puts the read buffers on transparent huge pages (2 MiB aligned, MADV_HUGEPAGE), as the TypeScript loop does by default.
 * prints one JSON line: ops, bytes, seconds, p50, p99, p999 (µs), cpu (cores), usr and sys (CPU seconds)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include "bench_time.h"
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x55524230u
#define MAX_SAMPLES (1u << 21)


static int word_ok(const uint32_t *w, uint64_t at)
{
	return w[0] == (uint32_t)at && w[1] == ((uint32_t)(at >> 32) ^ MAGIC);
}

/*
 * -1 when the read matches the pattern, else the byte index of the first wrong
 * word: the first word of each 512-byte sector and the last word of the read,
 * as the TypeScript "all" mode.
 */
static long check(const uint32_t *words, uint64_t off, unsigned len)
{
	unsigned nw = (len >> 3) << 1, step = 512 / 4, last = nw - 2;
	for (unsigned i = 0; i < nw; i += step)
		if (!word_ok(words + i, off + i * 4))
			return i * 4;
	if (!word_ok(words + last, off + last * 4))
		return last * 4;
	return -1;
}

/* Every 8-byte word of the read; -1 when all match. */
static long check_full(const uint32_t *words, uint64_t off, unsigned len)
{
	unsigned nw = (len >> 3) << 1;
	for (unsigned i = 0; i < nw; i += 2)
		if (!word_ok(words + i, off + i * 4))
			return i * 4;
	return -1;
}

static int cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static uint32_t rng;
static uint64_t seqb, blocks;
static int rnd;

static uint64_t next_block(void)
{
	if (rnd) {
		uint32_t x = rng;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		rng = x;
		/* multiply-shift range mapping, as cli/read/offsets.ts */
		return ((uint64_t)x * blocks) >> 32;
	}
	uint64_t b = seqb;
	seqb = b + 1 == blocks ? 0 : b + 1;
	return b;
}

int main(int argc, char **argv)
{
	/* Die with the benchmark that started us, even when it is SIGKILLed (a second Ctrl-C):
	 * no orphan keeps reading or writing its data file. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 1; /* the parent died before prctl */
	if (argc < 12) {
		fprintf(stderr, "usage: %s PATH SIZE BS QD BATCH MS WARMUP_MS DIRECT RAND FIXED SEED\n", argv[0]);
		return 2;
	}
	const char *path = argv[1];
	uint64_t size = strtoull(argv[2], NULL, 10);
	unsigned bs = atoi(argv[3]), qd = atoi(argv[4]), batch = atoi(argv[5]);
	double ms = atof(argv[6]), warm = atof(argv[7]);
	int direct = atoi(argv[8]), fixed = atoi(argv[10]);
	rnd = atoi(argv[9]);
	rng = (uint32_t)strtoul(argv[11], NULL, 10);
	if (!rng)
		rng = 1;
	blocks = size / bs;
	unsigned long long maxops = argc > 12 ? strtoull(argv[12], NULL, 10) : 0;
	const char *verify = argc > 13 ? argv[13] : "all";
	unsigned submit_every = argc > 14 ? (unsigned)atoi(argv[14]) : qd;
	int huge = argc > 15 ? atoi(argv[15]) : 0;
	if (submit_every == 0 || submit_every >= qd)
		submit_every = 0;
	int vfull = !strcmp(verify, "full"), vsample = !strcmp(verify, "sample"), vlength = !strcmp(verify, "length");
	unsigned long long checked = 0;

	int fd = open(path, O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct io_uring ring;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	int ret = io_uring_queue_init_params(qd, &ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(qd, &ring, &p);
	}
	if (ret < 0) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
		return 1;
	}
	io_uring_register_ring_fd(&ring);

	unsigned stride = (bs + 4095) & ~4095u;
	char *arena;
	size_t arena_len = (size_t)stride * qd;
	if (huge) {
		/* 2 MiB aligned and advised, then touched: huge pages where THP allows. */
		size_t hp = 2u << 20, len = (arena_len + hp - 1) & ~(hp - 1);
		char *raw = mmap(NULL, len + hp, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			return 1;
		arena = (char *)(((uintptr_t)raw + hp - 1) & ~(uintptr_t)(hp - 1));
		madvise(arena, len, MADV_HUGEPAGE);
	} else if (posix_memalign((void **)&arena, 4096, arena_len)) {
		return 1;
	}
	memset(arena, 0, arena_len);
	if (fixed) {
		struct iovec *iov = calloc(qd, sizeof(*iov));
		for (unsigned i = 0; i < qd; i++) {
			iov[i].iov_base = arena + (size_t)i * stride;
			iov[i].iov_len = stride;
		}
		if ((ret = io_uring_register_buffers(&ring, iov, qd)) < 0 ||
		    (ret = io_uring_register_files(&ring, &fd, 1)) < 0) {
			fprintf(stderr, "register: %s\n", strerror(-ret));
			return 1;
		}
	}
	uint64_t *offs = calloc(qd, sizeof(*offs));
	double *sub = calloc(qd, sizeof(*sub));
	unsigned *freel = calloc(qd, sizeof(*freel));
	float *lat = malloc(sizeof(float) * MAX_SAMPLES);
	unsigned nfree = qd;
	for (unsigned i = 0; i < qd; i++)
		freel[i] = qd - 1 - i;

	for (int phase = 0; phase < 2; phase++) {
		double start = now_ms(), stop = start + (phase ? ms : warm), t = start;
		double u0, s0, u1, s1;
		cpu_s(&u0, &s0);
		unsigned long long ops = 0, bytes = 0;
		unsigned long long issued = 0, cap = phase && maxops ? maxops : ~0ULL;
		unsigned inflight = 0, nlat = 0;
		for (;;) {
			if (t < stop) {
				while (nfree && issued < cap) {
					struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
					if (!sqe)
						break;
					unsigned slot = freel[--nfree];
					issued++;
					uint64_t off = next_block() * bs;
					char *buf = arena + (size_t)slot * stride;
					if (fixed) {
						io_uring_prep_read_fixed(sqe, 0, buf, bs, off, slot);
						sqe->flags |= IOSQE_FIXED_FILE;
					} else {
						io_uring_prep_read(sqe, fd, buf, bs, off);
					}
					io_uring_sqe_set_data64(sqe, slot);
					offs[slot] = off;
					sub[slot] = t;
					inflight++;
					if (submit_every && issued % submit_every == 0)
						io_uring_submit(&ring);
				}
			}
			if (!inflight)
				break;
			ret = io_uring_submit_and_wait(&ring, inflight < batch ? inflight : batch);
			if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
				fprintf(stderr, "submit: %s\n", strerror(-ret));
				return 1;
			}
			t = now_ms();
			struct io_uring_cqe *cqe;
			unsigned head, seen = 0;
			io_uring_for_each_cqe(&ring, head, cqe) {
				unsigned slot = (unsigned)cqe->user_data;
				seen++;
				if (cqe->res != (int)bs) {
					fprintf(stderr, "read at %llu: res %d\n", (unsigned long long)offs[slot], cqe->res);
					return 1;
				}
				const uint32_t *words = (const uint32_t *)(arena + (size_t)slot * stride);
				unsigned long long n = checked++;
				long bad = vlength ? -1
					   : vfull || (vsample && (n & 63) == 0) ? check_full(words, offs[slot], bs)
					   : vsample ? -1
					   : check(words, offs[slot], bs);
				if (bad >= 0) {
					fprintf(stderr, "wrong bytes at offset %llu\n", (unsigned long long)offs[slot]);
					return 1;
				}
				if (nlat < MAX_SAMPLES)
					lat[nlat++] = (float)((t - sub[slot]) * 1000.0);
				freel[nfree++] = slot;
				inflight--;
				ops++;
				bytes += cqe->res;
			}
			io_uring_cq_advance(&ring, seen);
		}
		if (phase) {
			cpu_s(&u1, &s1);
			double secs = (t - start) / 1e3, cpu = (u1 - u0 + s1 - s0) / secs;
			qsort(lat, nlat, sizeof(float), cmp);
#define PCT(p) (nlat ? lat[(unsigned)((p) / 100.0 * nlat + 0.999999) - 1] : 0)
			printf("{\"ops\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"cpu\":%.4f,\"usr\":%.6f,\"sys\":%.6f}\n",
			       ops, bytes, secs, PCT(50), PCT(99), PCT(99.9), cpu, u1 - u0, s1 - s0);
		}
	}
	io_uring_queue_exit(&ring);
	close(fd);
	return 0;
}
