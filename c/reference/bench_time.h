/*
 * Clocks shared by the C reference loops (read_liburing.c, fsync_liburing.c):
 * wall time in milliseconds and the process's CPU seconds, measured the same
 * way in every one so their numbers compare.
 */
#ifndef URING_BENCH_TIME_H
#define URING_BENCH_TIME_H

#include <sys/resource.h>
#include <time.h>

/* Monotonic wall time, ms. */
static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * CPU seconds of this process: user in *usr, system in *sys. RUSAGE_SELF
 * covers every thread, io-wq workers included (they are threads of the
 * process that owns the ring).
 */
static inline void cpu_s(double *usr, double *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*usr = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

#endif
