/*
 * The C reference for `uring-bench fsync-chain`: the commit loop of
 * cli/fsync/uring-chain.ts written against liburing, so one run can put
 * our TypeScript Ring beside C. Same shape: INFLIGHT commits in flight, each
 * W writes of one record tied to a sync (link, hardlink or drain), every free
 * slot refilled, one io_uring_submit_and_wait_timeout per turn waiting for
 * the CQEs of the commit closest to done, all available CQEs reaped.
 * Ring: SINGLE_ISSUER|DEFER_TASKRUN unless defer=0 (or the kernel lacks them),
 * registered ring fd, as the TypeScript variant.
 *
 * Records are byte-for-byte those of cli/fsync/record.ts (magic,
 * length, seq, commit, FNV-1a checksum, seq-seeded payload), at the same
 * offsets (append: seq × bytes; overwrite: (seq mod slots) × bytes), and
 * commit numbers continue from first=, so the caller's ledger can account
 * for them and its read-back verification checks this file too.
 *
 * The file is opened read-write (O_DSYNC for sync=o-dsync) and created if
 * missing, never truncated: in overwrite mode the caller preallocates it.
 *
 * usage: fsync_liburing path=FILE bytes=B writes=W inflight=N mode=link|hardlink|drain
 *          sync=fdatasync|fsync|sync-file-range|rwf-dsync|o-dsync slots=S first=C ms=MS
 *          [warmup=MS] [commits=N] [defer=1|0] [cpu=N|-1] [entries=N]
 * slots=0 appends; slots>0 overwrites a file of S records, wrapping around.
 * commits=N stops each phase (warm-up, measured) after N commits (0: by time).
 *
 * Prints one JSON line: commits, seconds, p50/p99/p999/mean (µs), cpu (cores),
 * usr/sys (CPU seconds) of the measured window; and over both phases: first,
 * started, acked, failed ([commit, write result or null, sync result or null]),
 * orderViolations, syncsCancelled, syncsAfterFailedWrite, enters, flags, iowqAff.
 * Exit: 0 done; 3 commits failed (JSON still printed: the ledger needs it);
 * 2 bad arguments; 1 could not run (open, ring setup, enter failure, stuck device).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include "bench_time.h"
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef RWF_DSYNC
#define RWF_DSYNC 0x2
#endif

/* record.ts: header words and constants */
#define RECORD_MAGIC 0x43425255u
#define RECORD_HEADER_BYTES 32
#define W_CHECKSUM 6
#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 0x01000193u

/* Latency samples kept per phase (enough for minutes of commits at 1 in flight). */
#define MAX_SAMPLES (1u << 21)
/* Longest single wait for a completion before the device counts as stuck (uring-chain.ts COMPLETION_WAIT_NS). */
#define WAIT_S 30
#define EXIT_BAD_ARGS 2
#define EXIT_FAILED_COMMITS 3

enum mode { MODE_LINK, MODE_HARDLINK, MODE_DRAIN };
enum sync { SYNC_FDATASYNC, SYNC_FSYNC, SYNC_RANGE, SYNC_RWF_DSYNC, SYNC_O_DSYNC };

static const char *const mode_names[] = { "link", "hardlink", "drain", NULL };
static const char *const sync_names[] = { "fdatasync", "fsync", "sync-file-range", "rwf-dsync", "o-dsync", NULL };

struct config {
	const char *path;
	unsigned bytes, writes, inflight, entries;
	int mode, sync, defer, cpu;
	uint64_t slots, first, max_commits;
	double ms, warmup_ms;
};

/* One failed commit, as the ledger records it. */
struct failure {
	uint64_t commit;
	int has_write, has_sync;
	long long write_res, sync_res;
};

static struct config cfg;
static struct io_uring ring;
static int fd = -1;
static unsigned sqes_per_commit, stride, has_sync;
static uint8_t write_flags, last_write_flags, sync_flags;
static unsigned fsync_flags, rw_flags;
static uint64_t lap; /* 0 = unlimited (append) */
static char *arena;

/* per in-flight slot */
static uint64_t *slot_commit;
static unsigned *slot_pending, *slot_writes_done, *free_list;
static int *slot_write_bad; /* write failed: slot_write_res holds the first bad result */
static long long *slot_write_res, *slot_sync_res;
static double *slot_t0;
static unsigned nfree;

/* over the whole process (both phases) */
static uint64_t next_commit, acked;
static struct failure *failures;
static unsigned nfailures, max_failures;
static unsigned long long order_violations, syncs_cancelled, syncs_after_failed_write, enters;
static int broken;

/* per phase */
static float *lat;
static unsigned nlat;
static unsigned long long phase_commits;
static double lat_sum_us, now;

/* A bad argument: say which and what to pass, exit 2. */
__attribute__((format(printf, 1, 2), noreturn)) static void bad_arg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fsync_liburing: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_BAD_ARGS);
}

/* ---- record.ts, ported word for word ---- */

/* FNV-1a over n u32 words, word `skip` hashed as 0 (the checksum slot). */
static uint32_t fnv1a_words(const uint32_t *w, unsigned n, unsigned skip)
{
	uint32_t h = FNV_OFFSET;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ (i == skip ? 0 : w[i])) * FNV_PRIME;
	return h;
}

static uint32_t payload_seed(uint64_t seq)
{
	return ((uint32_t)seq ^ (uint32_t)(seq >> 32)) * 0x9e3779b1u ^ 0x5bd1e995u;
}

static void fill_record(uint32_t *w, unsigned len, uint64_t seq, uint64_t commit)
{
	unsigned n = len >> 2;
	w[0] = RECORD_MAGIC;
	w[1] = len;
	w[2] = (uint32_t)seq;
	w[3] = (uint32_t)(seq >> 32);
	w[4] = (uint32_t)commit;
	w[5] = (uint32_t)(commit >> 32);
	w[W_CHECKSUM] = 0;
	w[7] = 0;
	uint32_t seed = payload_seed(seq);
	for (unsigned i = 8; i < n; i++)
		w[i] = (uint32_t)i * 0x85ebca77u ^ seed;
	w[W_CHECKSUM] = fnv1a_words(w, n, W_CHECKSUM);
}

/* ---- arguments ---- */

static uint64_t parse_u64(const char *key, const char *v, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	if (*v < '0' || *v > '9')
		bad_arg("%s=%s: not a whole number", key, v);
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end)
		bad_arg("%s=%s: not a whole number", key, v);
	if (x < min || x > max)
		bad_arg("%s=%s: out of range, pass %llu..%llu", key, v, (unsigned long long)min, (unsigned long long)max);
	return x;
}

static int parse_name(const char *key, const char *v, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(v, names[i]))
			return i;
	char list[128] = "";
	for (int i = 0; names[i]; i++) {
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
		if (names[i + 1])
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	bad_arg("%s=%s: unknown; choose one of %s", key, v, list);
}

static unsigned next_pow2(unsigned n)
{
	unsigned p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static void parse_args(int argc, char **argv)
{
	int seen_bytes = 0, seen_inflight = 0, seen_ms = 0;
	cfg.writes = 1;
	cfg.mode = MODE_LINK;
	cfg.sync = SYNC_FDATASYNC;
	cfg.defer = 1;
	cfg.cpu = -1;
	if (argc < 2) {
		fprintf(stderr, "usage: %s path=FILE bytes=B inflight=N ms=MS [writes=W] [mode=link|hardlink|drain]\n"
				"  [sync=fdatasync|fsync|sync-file-range|rwf-dsync|o-dsync] [slots=S] [first=C]\n"
				"  [warmup=MS] [commits=N] [defer=1|0] [cpu=N|-1] [entries=N]\n", argv[0]);
		exit(EXIT_BAD_ARGS);
	}
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			bad_arg("%s: expected key=value (e.g. bytes=4096)", argv[i]);
		*eq = 0;
		const char *k = argv[i], *v = eq + 1;
		if (!strcmp(k, "path")) {
			if (!*v)
				bad_arg("path=: empty; pass the data file");
			cfg.path = v;
		} else if (!strcmp(k, "bytes")) {
			cfg.bytes = parse_u64(k, v, RECORD_HEADER_BYTES, 64u << 20);
			if (cfg.bytes % 4)
				bad_arg("bytes=%s: must be a multiple of 4 (records are 32-bit words)", v);
			seen_bytes = 1;
		} else if (!strcmp(k, "writes")) {
			cfg.writes = parse_u64(k, v, 1, 64);
		} else if (!strcmp(k, "inflight")) {
			cfg.inflight = parse_u64(k, v, 1, 32768);
			seen_inflight = 1;
		} else if (!strcmp(k, "mode")) {
			cfg.mode = parse_name(k, v, mode_names);
		} else if (!strcmp(k, "sync")) {
			cfg.sync = parse_name(k, v, sync_names);
		} else if (!strcmp(k, "slots")) {
			cfg.slots = parse_u64(k, v, 0, UINT64_MAX >> 1);
		} else if (!strcmp(k, "first")) {
			cfg.first = parse_u64(k, v, 0, UINT64_MAX >> 8);
		} else if (!strcmp(k, "ms")) {
			cfg.ms = parse_u64(k, v, 1, 86400000);
			seen_ms = 1;
		} else if (!strcmp(k, "warmup")) {
			cfg.warmup_ms = parse_u64(k, v, 0, 86400000);
		} else if (!strcmp(k, "commits")) {
			cfg.max_commits = parse_u64(k, v, 0, UINT64_MAX >> 8);
		} else if (!strcmp(k, "defer")) {
			cfg.defer = parse_u64(k, v, 0, 1);
		} else if (!strcmp(k, "cpu")) {
			cfg.cpu = !strcmp(v, "-1") ? -1 : (int)parse_u64(k, v, 0, CPU_SETSIZE - 1);
		} else if (!strcmp(k, "entries")) {
			cfg.entries = parse_u64(k, v, 1, 32768);
		} else {
			bad_arg("%s: unknown argument; known: path bytes writes inflight mode sync slots first ms warmup commits defer cpu entries", k);
		}
	}
	if (!cfg.path)
		bad_arg("path=FILE missing: pass the data file");
	if (!seen_bytes)
		bad_arg("bytes=B missing: pass the record size, e.g. bytes=4096");
	if (!seen_inflight)
		bad_arg("inflight=N missing: pass the commits in flight, e.g. inflight=1");
	if (!seen_ms)
		bad_arg("ms=MS missing: pass the measured duration in ms, e.g. ms=1000");
	has_sync = cfg.sync != SYNC_RWF_DSYNC && cfg.sync != SYNC_O_DSYNC;
	sqes_per_commit = cfg.writes + has_sync;
	if (!cfg.entries) {
		unsigned want = cfg.inflight * sqes_per_commit;
		cfg.entries = next_pow2(want < 64 ? 64 : want);
	}
	if ((uint64_t)cfg.inflight * sqes_per_commit > next_pow2(cfg.entries))
		bad_arg("inflight=%u: %u commits × %u SQEs exceed the ring (%u entries); lower inflight or raise entries",
			cfg.inflight, cfg.inflight, sqes_per_commit, next_pow2(cfg.entries));
	if (cfg.slots && cfg.slots < (uint64_t)cfg.writes * cfg.inflight)
		bad_arg("slots=%llu: the file must hold at least inflight × writes = %u records",
			(unsigned long long)cfg.slots, cfg.writes * cfg.inflight);
}

/* ---- the committer ---- */

/* Overwrite mode: the next commit would not lap the oldest in flight (ledger.ts lapLimit). */
static int may_start(void)
{
	if (!lap || nfree == cfg.inflight)
		return 1;
	uint64_t oldest = UINT64_MAX;
	for (unsigned s = 0; s < cfg.inflight; s++)
		if (slot_pending[s] && slot_commit[s] < oldest)
			oldest = slot_commit[s];
	return next_commit - oldest < lap;
}

/* CQEs still due for the in-flight commit closest to done: waiting for that many wakes us once per commit. */
static unsigned fewest_pending(void)
{
	unsigned min = sqes_per_commit;
	for (unsigned s = 0; s < cfg.inflight; s++)
		if (slot_pending[s] && slot_pending[s] < min)
			min = slot_pending[s];
	return min;
}

static void start_commit(void)
{
	unsigned slot = free_list[--nfree], w = cfg.writes, b = cfg.bytes;
	uint64_t c = next_commit++, first_off = 0;
	slot_commit[slot] = c;
	slot_pending[slot] = sqes_per_commit;
	slot_writes_done[slot] = 0;
	slot_write_bad[slot] = 0;
	slot_sync_res[slot] = 0;
	for (unsigned k = 0; k < w; k++) {
		uint64_t seq = c * w + k;
		char *buf = arena + (size_t)(slot * w + k) * stride;
		fill_record((uint32_t *)buf, b, seq, c);
		uint64_t off = (cfg.slots ? seq % cfg.slots : seq) * b;
		if (!k)
			first_off = off;
		/* room is guaranteed: inflight × sqes_per_commit <= SQ entries, and every SQE is submitted each turn */
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_write(sqe, fd, buf, b, off);
		sqe->rw_flags = rw_flags;
		io_uring_sqe_set_data64(sqe, (uint64_t)k << 32 | slot);
		sqe->flags = k == w - 1 ? last_write_flags : write_flags;
	}
	if (has_sync) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		if (cfg.sync == SYNC_RANGE)
			io_uring_prep_sync_file_range(sqe, fd, w * b, first_off,
						      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
		else
			io_uring_prep_fsync(sqe, fd, fsync_flags);
		io_uring_sqe_set_data64(sqe, (uint64_t)w << 32 | slot);
		sqe->flags = sync_flags;
	}
	/* timed from the moment its SQEs are ready: the enter that submits them is part of the commit */
	slot_t0[slot] = now_ms();
}

static void finish_commit(unsigned slot, int measure)
{
	if (!slot_write_bad[slot] && slot_sync_res[slot] >= 0) {
		acked++;
		phase_commits++;
		double us = (now - slot_t0[slot]) * 1000.0;
		lat_sum_us += us;
		if (measure && nlat < MAX_SAMPLES)
			lat[nlat++] = (float)us;
	} else {
		if (nfailures < max_failures) {
			struct failure *f = &failures[nfailures++];
			f->commit = slot_commit[slot];
			f->has_write = slot_write_bad[slot];
			f->write_res = slot_write_res[slot];
			f->has_sync = has_sync && slot_sync_res[slot] < 0;
			f->sync_res = slot_sync_res[slot];
		}
		broken = 1;
	}
	free_list[nfree++] = slot;
}

static void handle_cqe(const struct io_uring_cqe *cqe, int measure)
{
	unsigned slot = (uint32_t)cqe->user_data, index = (unsigned)(cqe->user_data >> 32);
	int res = cqe->res;
	if (index < cfg.writes) {
		if (res != (int)cfg.bytes && !slot_write_bad[slot]) {
			slot_write_bad[slot] = 1;
			slot_write_res[slot] = res;
		}
		slot_writes_done[slot]++;
	} else {
		if (slot_writes_done[slot] < cfg.writes)
			order_violations++;
		slot_sync_res[slot] = res;
		if (res == -ECANCELED)
			syncs_cancelled++;
		else if (slot_write_bad[slot])
			syncs_after_failed_write++;
	}
	if (--slot_pending[slot] == 0)
		finish_commit(slot, measure);
}

/* One phase: commits until `ms` passes or `max` commits started or a commit fails; then drains. Returns its seconds. */
static double run_phase(double ms, uint64_t max, int measure)
{
	double start = now_ms(), deadline = start + ms;
	uint64_t started = 0;
	int stopping = broken;
	struct __kernel_timespec ts = { .tv_sec = WAIT_S, .tv_nsec = 0 };
	nlat = 0;
	phase_commits = 0;
	lat_sum_us = 0;
	now = start;
	for (;;) {
		if (!stopping)
			while (nfree && (!max || started < max) && may_start()) {
				start_commit();
				started++;
			}
		if (nfree == cfg.inflight)
			break; /* nothing in flight */
		struct io_uring_cqe *first;
		int ret = io_uring_submit_and_wait_timeout(&ring, &first, fewest_pending(), &ts, NULL);
		enters++;
		now = now_ms();
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			handle_cqe(cqe, measure);
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			fprintf(stderr, "fsync_liburing: io_uring_enter failed while committing: %s\n", strerror(-ret));
			exit(1);
		}
		if (!seen && ret == -ETIME) {
			fprintf(stderr, "fsync_liburing: no completion within %d s with %u commits in flight: the device is stuck\n",
				WAIT_S, cfg.inflight - nfree);
			exit(1);
		}
		if (broken)
			stopping = 1;
		if (now >= deadline || (max && started >= max))
			stopping = 1;
	}
	return (now - start) / 1e3;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank, as cli/harness/stats.ts percentileSorted. */
static double pct(double p)
{
	if (!nlat)
		return 0;
	double r = p * nlat / 100.0 - 1e-9;
	unsigned rank = (unsigned)r + ((double)(unsigned)r < r);
	if (rank < 1)
		rank = 1;
	if (rank > nlat)
		rank = nlat;
	return lat[rank - 1];
}

static void print_res(int has, long long v)
{
	if (has)
		printf("%lld", v);
	else
		printf("null");
}

static void *alloc_or_die(size_t n)
{
	void *p = calloc(n ? n : 1, 1);
	if (!p) {
		fprintf(stderr, "fsync_liburing: out of memory\n");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	/* Die with the benchmark that started us, even when it is SIGKILLed (a second Ctrl-C):
	 * no orphan keeps reading or writing its data file. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 1; /* the parent died before prctl */
	parse_args(argc, argv);

	/* Pin before the ring exists, so its io-wq workers start on the same CPU (as --cpu pins the TS committer). */
	int iowq_aff = 0;
	cpu_set_t set;
	if (cfg.cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cfg.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "fsync_liburing: cannot pin to CPU %d: %s\n", cfg.cpu, strerror(errno));
			return 1;
		}
	}

	fd = open(cfg.path, O_RDWR | O_CREAT | (cfg.sync == SYNC_O_DSYNC ? O_DSYNC : 0), 0600);
	if (fd < 0) {
		fprintf(stderr, "fsync_liburing: open %s: %s\n", cfg.path, strerror(errno));
		return 1;
	}

	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	const char *flags = "";
	int ret = -EINVAL;
	if (cfg.defer) {
		/* completions are posted only when we wait for them: one wake-up per batch, not per CQE */
		p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
		ret = io_uring_queue_init_params(cfg.entries, &ring, &p);
		flags = "SINGLE_ISSUER|DEFER_TASKRUN";
	}
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(cfg.entries, &ring, &p);
		flags = "";
	}
	if (ret < 0) {
		fprintf(stderr, "fsync_liburing: io_uring_queue_init(%u): %s\n", cfg.entries, strerror(-ret));
		return 1;
	}
	io_uring_register_ring_fd(&ring);
	if (cfg.cpu >= 0)
		iowq_aff = io_uring_register_iowq_aff(&ring, sizeof(set), &set); /* the workers run the syncs */

	/* link / hardlink / drain flags, as uring-chain.ts */
	uint8_t link = cfg.mode == MODE_LINK ? IOSQE_IO_LINK : cfg.mode == MODE_HARDLINK ? IOSQE_IO_HARDLINK : 0;
	if (cfg.mode == MODE_DRAIN) {
		/* a commit's writes are independent; the drained sync waits for all (without a sync, each write drains) */
		write_flags = has_sync ? 0 : IOSQE_IO_DRAIN;
		last_write_flags = write_flags;
		sync_flags = IOSQE_IO_DRAIN;
	} else {
		write_flags = link;
		last_write_flags = has_sync ? link : 0;
		sync_flags = 0;
	}
	fsync_flags = cfg.sync == SYNC_FDATASYNC ? IORING_FSYNC_DATASYNC : 0;
	rw_flags = cfg.sync == SYNC_RWF_DSYNC ? RWF_DSYNC : 0;
	lap = cfg.slots ? cfg.slots / cfg.writes : 0;

	/* records start on 64-byte boundaries; 4 KiB records stay page-aligned */
	stride = (cfg.bytes + 63) & ~63u;
	size_t nbuf = (size_t)cfg.inflight * cfg.writes;
	if (posix_memalign((void **)&arena, 4096, nbuf * stride)) {
		fprintf(stderr, "fsync_liburing: cannot allocate %zu bytes of record buffers\n", nbuf * stride);
		return 1;
	}
	memset(arena, 0, nbuf * stride);
	unsigned n = cfg.inflight;
	slot_commit = alloc_or_die(n * sizeof(*slot_commit));
	slot_pending = alloc_or_die(n * sizeof(*slot_pending));
	slot_writes_done = alloc_or_die(n * sizeof(*slot_writes_done));
	free_list = alloc_or_die(n * sizeof(*free_list));
	slot_write_bad = alloc_or_die(n * sizeof(*slot_write_bad));
	slot_write_res = alloc_or_die(n * sizeof(*slot_write_res));
	slot_sync_res = alloc_or_die(n * sizeof(*slot_sync_res));
	slot_t0 = alloc_or_die(n * sizeof(*slot_t0));
	/* no commit starts after the first failure: at most the commits then in flight fail */
	max_failures = 2 * n;
	failures = alloc_or_die(max_failures * sizeof(*failures));
	lat = alloc_or_die(sizeof(float) * MAX_SAMPLES);
	for (unsigned i = 0; i < n; i++)
		free_list[i] = n - 1 - i;
	nfree = n;
	next_commit = cfg.first;

	if (cfg.warmup_ms > 0)
		run_phase(cfg.warmup_ms, cfg.max_commits, 0);
	double u0, s0, u1, s1;
	cpu_s(&u0, &s0);
	double secs = run_phase(cfg.ms, cfg.max_commits, 1);
	cpu_s(&u1, &s1);
	qsort(lat, nlat, sizeof(float), cmp_float);

	printf("{\"commits\":%llu,\"seconds\":%.6f,\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"mean\":%.3f,"
	       "\"cpu\":%.4f,\"usr\":%.6f,\"sys\":%.6f,\"first\":%llu,\"started\":%llu,\"acked\":%llu,\"failed\":[",
	       phase_commits, secs, pct(50), pct(99), pct(99.9), phase_commits ? lat_sum_us / phase_commits : 0,
	       secs > 0 ? (u1 - u0 + s1 - s0) / secs : 0, u1 - u0, s1 - s0,
	       (unsigned long long)cfg.first, (unsigned long long)(next_commit - cfg.first), (unsigned long long)acked);
	for (unsigned i = 0; i < nfailures; i++) {
		printf("%s[%llu,", i ? "," : "", (unsigned long long)failures[i].commit);
		print_res(failures[i].has_write, failures[i].write_res);
		putchar(',');
		print_res(failures[i].has_sync, failures[i].sync_res);
		putchar(']');
	}
	printf("],\"orderViolations\":%llu,\"syncsCancelled\":%llu,\"syncsAfterFailedWrite\":%llu,\"enters\":%llu,"
	       "\"flags\":\"%s\",\"iowqAff\":%d}\n",
	       order_violations, syncs_cancelled, syncs_after_failed_write, enters, flags, iowq_aff);
	fflush(stdout);

	if (cfg.cpu >= 0 && iowq_aff == 0)
		io_uring_unregister_iowq_aff(&ring);
	io_uring_queue_exit(&ring);
	close(fd);
	if (nfailures) {
		fprintf(stderr, "fsync_liburing: %u commits failed (first: commit %llu, write %lld, sync %lld); the log stopped there\n",
			nfailures, (unsigned long long)failures[0].commit, failures[0].has_write ? failures[0].write_res : 0,
			failures[0].has_sync ? failures[0].sync_res : 0);
		return EXIT_FAILED_COMMITS;
	}
	return 0;
}
