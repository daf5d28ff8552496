/*
 * c-epoll client: the native reference load generator for `uring-bench echo`
 * (--client c-epoll), to check that our io_uring load generator is not the
 * bottleneck. One thread, level-triggered epoll; each of C connections keeps
 * one B-byte message in flight and checks the echo's length and bytes.
 *
 * Usage: echo_client_epoll HOST PORT C B DURATION_MS WARMUP_MS [SERVER_PID]
 * Prints one line: RESULT {json} with the fields of the TS LoadResult,
 * latencyHistogram included: the window's latencies in the buckets of the TS
 * LatencyRecorder (cli/harness/latency.ts: ms at 1 µs resolution, exact below
 * 128 µs, then 128 buckets per power of two), so the results of parallel
 * clients (--client-threads) merge into one distribution.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"

#define MAX_EVENTS 1024
#define MAX_SAMPLES (1 << 21)

struct conn {
  int fd, idx;
  size_t got, sent;
  double sent_at;
  int alive, bad;
};

/* Nearest-rank percentile of sorted samples (ms in, µs out). */
static double pct(const double *v, long n, double p) {
  if (n == 0) return 0;
  long rank = (long)(p / 100.0 * n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return v[rank - 1] * 1000;
}

/* LatencyRecorder's bucketing (keep in step with bucketOf in cli/harness/latency.ts). */
#define SUB_BITS 7
#define SUB (1 << SUB_BITS)
#define HIST_BUCKETS ((62 - SUB_BITS + 2) * SUB)

/* Bucket of a latency in ms (1 tick = 1 µs); latencies past 2^31 µs share the last bucket of that range. */
static int hist_bucket(double ms) {
  double ticks = ms > 0 ? ms * 1000 : 0;
  if (ticks >= 2147483647.0) ticks = 2147483647.0;
  unsigned v = (unsigned)ticks;
  if (v < SUB) return (int)v;
  int shift = 31 - __builtin_clz(v) - SUB_BITS;
  return (shift << SUB_BITS) + (int)(v >> shift);
}

/* Prints the non-empty buckets as [[index,count],...]. */
static void print_hist(const long *hist) {
  printf("[");
  int first = 1;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    if (!hist[i]) continue;
    printf(first ? "[%d,%ld]" : ",[%d,%ld]", i, hist[i]);
    first = 0;
  }
  printf("]");
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: %s HOST PORT C B DURATION_MS WARMUP_MS [SERVER_PID]\n", argv[0]); return 2; }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  const char *host = argv[1];
  int port = atoi(argv[2]), c = atoi(argv[3]);
  size_t b = (size_t)atol(argv[4]);
  double duration = atof(argv[5]), warmup = atof(argv[6]);
  int spid = argc > 7 ? atoi(argv[7]) : 0;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
  inet_pton(AF_INET, host, &sa.sin_addr);
  unsigned char *tx = malloc((size_t)c * b), *rx = malloc(b > 65536 ? b : 65536);
  struct conn *conns = calloc((size_t)c, sizeof *conns);
  double *lat = malloc(sizeof(double) * MAX_SAMPLES);
  long *hist = calloc(HIST_BUCKETS, sizeof(long));
  double lat_min = 1e300, lat_max = 0;
  int ep = epoll_create1(0), one = 1;
  for (int i = 0; i < c; i++) {
    for (size_t j = 0; j < b; j++) tx[(size_t)i * b + j] = (unsigned char)((i * 31 + j * 7 + 1) & 0xff);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { fprintf(stderr, "socket: %s\n", strerror(errno)); return 1; }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { fprintf(stderr, "connect %s:%d: %s\n", host, port, strerror(errno)); return 1; }
    conns[i] = (struct conn){ .fd = fd, .idx = i, .alive = 1 };
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  double t = now_ms();
  for (int i = 0; i < c; i++) {
    conns[i].sent_at = t;
    if (send(conns[i].fd, tx + (size_t)i * b, b, MSG_NOSIGNAL) != (ssize_t)b) { fprintf(stderr, "send: short\n"); return 1; }
  }
  long rts = 0, errs_len = 0, errs_content = 0, errs_conn = 0, nlat = 0, rts0 = 0;
  int alive = c, measuring = 0;
  double phase_end = t + warmup, t0 = 0, cpu0 = 0, scpu0 = 0, latsum = 0;
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, 100);
    double now = now_ms();
    for (int k = 0; k < n; k++) {
      struct conn *cn = events[k].data.ptr;
      if (!cn->alive) continue;
      ssize_t r = recv(cn->fd, rx, b - cn->got, 0);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        errs_conn++; cn->alive = 0; alive--; epoll_ctl(ep, EPOLL_CTL_DEL, cn->fd, NULL); continue;
      }
      if (memcmp(rx, tx + (size_t)cn->idx * b + cn->got, (size_t)r) != 0 && !cn->bad) { errs_content++; cn->bad = 1; }
      cn->got += (size_t)r;
      if (cn->got < b) continue;
      double l = now - cn->sent_at;
      if (nlat < MAX_SAMPLES) lat[nlat++] = l;
      hist[hist_bucket(l)]++;
      if (l < lat_min) lat_min = l;
      if (l > lat_max) lat_max = l;
      latsum += l;
      rts++;
      cn->got = 0; cn->bad = 0; cn->sent_at = now;
      size_t off = 0;
      while (off < b) { /* blocking-style loop: loopback sends of one message rarely split */
        ssize_t s = send(cn->fd, tx + (size_t)cn->idx * b + off, b - off, MSG_NOSIGNAL);
        if (s > 0) off += (size_t)s; else if (s < 0 && errno == EAGAIN) continue; else break;
      }
      if (off < b) { errs_conn++; cn->alive = 0; alive--; }
    }
    if (now >= phase_end || alive == 0) {
      if (!measuring && alive > 0) {
        measuring = 1; nlat = 0; latsum = 0; rts0 = rts;
        memset(hist, 0, HIST_BUCKETS * sizeof(long)); lat_min = 1e300; lat_max = 0; t0 = now; cpu0 = self_cpu_s(); scpu0 = pid_cpu_s(spid);
        phase_end = now + duration;
        continue;
      }
      double secs = measuring ? (now - t0) / 1e3 : 0;
      long m = measuring ? rts - rts0 : 0;
      double ccpu = secs > 0 ? (self_cpu_s() - cpu0) / secs : 0;
      double s1 = pid_cpu_s(spid);
      double scpu = (secs > 0 && scpu0 >= 0 && s1 >= 0) ? (s1 - scpu0) / secs : -1;
      char scpu_s[32];
      if (scpu < 0) snprintf(scpu_s, sizeof scpu_s, "null");
      else snprintf(scpu_s, sizeof scpu_s, "%.4f", scpu);
      qsort(lat, (size_t)nlat, sizeof(double), cmp_double);
      printf("RESULT {\"roundTrips\":%ld,\"seconds\":%.6f,\"bytes\":%ld,\"latencyUs\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"mean\":%.1f},"
             "\"clientCpu\":%.4f,\"serverCpu\":%s,\"errors\":%ld,\"errorKinds\":{\"length\":%ld,\"content\":%ld,\"reset\":%ld,\"eof\":0,\"send\":0},"
             "\"connectionsAlive\":%d,\"entersPerRoundTrip\":null,\"notes\":[],",
             m, secs, m * (long)b, pct(lat, nlat, 50), pct(lat, nlat, 99), pct(lat, nlat, 99.9), nlat ? latsum / nlat * 1000 : 0, ccpu, scpu_s,
             errs_len + errs_content + errs_conn, errs_len, errs_content, errs_conn, alive);
      /* Histogram of every round trip in the window (raw samples above stop at MAX_SAMPLES). */
      long counted = m;
      printf("\"latencyHistogram\":{\"resolution\":0.001,\"count\":%ld,\"sum\":%.6f,", counted, latsum);
      if (counted > 0) printf("\"min\":%.6f,\"max\":%.6f,\"buckets\":", lat_min, lat_max);
      else printf("\"min\":null,\"max\":null,\"buckets\":");
      print_hist(hist);
      printf("}}\n");
      return 0;
    }
  }
}
