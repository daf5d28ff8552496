/*
 * The C reference for bench/async-read.ts: QD random 4 KiB preads from a
 * page-cache-warm file with liburing, every completed slot refilled, one
 * io_uring_submit_and_wait(1) per round and every available CQE reaped: the
 * loop shape the TypeScript Uring runs (one enter per tick, drain the CQ).
 * Ring: DEFER_TASKRUN|SINGLE_ISSUER (as Uring's default), registered ring fd.
 *
 * usage: async_read_liburing PATH SIZE QD MILLISECONDS
 * prints one JSON line: {"ops":N,"seconds":S,"cpu":CPU_SECONDS}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static uint32_t rng = 12345;

static uint32_t xorshift(void)
{
	uint32_t x = rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng = x;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s PATH SIZE QD MILLISECONDS\n", argv[0]);
		return 2;
	}
	uint64_t blocks = strtoull(argv[2], NULL, 10) / 4096;
	unsigned qd = (unsigned)atoi(argv[3]);
	double seconds = atof(argv[4]) / 1000.0;
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct io_uring ring;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	int ret = io_uring_queue_init_params(qd * 2, &ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(qd * 2, &ring, &p);
	}
	if (ret < 0) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
		return 1;
	}
	io_uring_register_ring_fd(&ring);
	char *arena;
	if (posix_memalign((void **)&arena, 4096, (size_t)qd * 4096))
		return 1;
	for (unsigned i = 0; i < qd; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, fd, arena + (size_t)i * 4096, 4096, (xorshift() % blocks) * 4096);
		io_uring_sqe_set_data64(sqe, i);
	}
	unsigned long long ops = 0;
	double start = now_s(), end = start + seconds, t = start, c0 = cpu_s();
	unsigned rounds = 0;
	while (t < end) {
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			fprintf(stderr, "submit: %s\n", strerror(-ret));
			return 1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			unsigned slot = (unsigned)cqe->user_data;
			if (cqe->res != 4096) {
				fprintf(stderr, "read: res %d\n", cqe->res);
				return 1;
			}
			seen++;
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			io_uring_prep_read(sqe, fd, arena + (size_t)slot * 4096, 4096, (xorshift() % blocks) * 4096);
			io_uring_sqe_set_data64(sqe, slot);
		}
		io_uring_cq_advance(&ring, seen);
		ops += seen;
		if ((++rounds & 63) == 0)
			t = now_s();
	}
	t = now_s();
	printf("{\"ops\":%llu,\"seconds\":%.6f,\"cpu\":%.6f}\n", ops, t - start, cpu_s() - c0);
	io_uring_queue_exit(&ring);
	close(fd);
	return 0;
}
