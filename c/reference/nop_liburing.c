/*
 * The C reference for cli/nop/nop.ts: submit and reap NOPs with liburing at a
 * given batch size for a given time, the same loop shape as the TypeScript
 * side, and print "ops=<n> seconds=<s>".
 *
 * usage: nop_liburing BATCH MILLISECONDS [CPU]
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_time.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s BATCH MILLISECONDS [CPU]\n", argv[0]);
		return 2;
	}
	unsigned batch = (unsigned)atoi(argv[1]);
	double seconds = atof(argv[2]) / 1000.0;
	if (argc > 3) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(atoi(argv[3]), &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	struct io_uring ring;
	unsigned entries = batch < 8 ? 8 : batch;
	int ret = io_uring_queue_init(entries, &ring, 0);
	if (ret < 0) {
		fprintf(stderr, "io_uring_queue_init: %d\n", ret);
		return 1;
	}
	/* Same as the TypeScript Ring's default: enter through a registered ring fd. */
	io_uring_register_ring_fd(&ring);

	unsigned long long ops = 0;
	double start = now_ms() / 1e3, end = start + seconds, t = start;
	unsigned iter = 0;
	while (t < end) {
		for (unsigned i = 0; i < batch; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, i);
		}
		io_uring_submit_and_wait(&ring, batch);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			if (cqe->res < 0)
				return 1;
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
		ops += seen;
		/* Read the clock every 64 batches, as the TypeScript loop does. */
		if ((++iter & 63) == 0)
			t = now_ms() / 1e3;
	}
	t = now_ms() / 1e3;
	printf("ops=%llu seconds=%.6f\n", ops, t - start);
	io_uring_queue_exit(&ring);
	return 0;
}
