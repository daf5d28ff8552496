/*
 * Clocks shared by the C reference programs (the read, fsync and NOP loops,
 * the epoll echo client): wall time in milliseconds, this process's CPU
 * seconds and another process's, measured the same way in every one so their
 * numbers compare.
 */
#ifndef URING_BENCH_TIME_H
#define URING_BENCH_TIME_H

#include <stdio.h>
#include <string.h>
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

/* CPU seconds of this process, user + system (see cpu_s). */
static inline double self_cpu_s(void)
{
	double usr, sys;
	cpu_s(&usr, &sys);
	return usr + sys;
}

/*
 * CPU seconds (user + system) of process `pid`, from /proc/PID/stat; -1 when
 * there is no such process or no pid (<= 0). For a server measured from its
 * client: the counter has the kernel's clock-tick resolution (1/100 s).
 */
static inline double pid_cpu_s(int pid)
{
	if (pid <= 0)
		return -1;
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: fields resume after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long ut = 0, st = 0;
	/* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (ut + st) / 100.0;
}

#endif
