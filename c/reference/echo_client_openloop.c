/*
 * Open-loop echo client for `uring-bench echo --rate`: requests leave at
 * scheduled times whether or not earlier replies came back, so a server that
 * stalls cannot slow the client down and hide the stall (coordinated
 * omission; the problem wrk2 and HdrHistogram were built around).
 *
 * One thread, level-triggered epoll, written in C so that the client is not
 * the bottleneck. Each of C connections has its own arrival process at rate
 * R/C: uniform (a fixed period, connections staggered so the aggregate is
 * evenly spaced) or Poisson (exponential gaps). A due message is queued on
 * its connection and written at once unless the connection already has
 * MAX_INFLIGHT messages unanswered (0 = no cap: true open loop, many in
 * flight when the server falls behind) or the socket is full.
 *
 * Three latencies per message, each in a log-linear histogram (0.8% buckets):
 *   corrected   reply - intended send time (what a user waiting since the
 *               intended time sees; wrk2's corrected latency)
 *   uncorrected reply - actual send time (what a closed-loop client reports)
 *   send lag    actual - intended (time a message waited on our side: the
 *               in-flight cap, a full socket, or a late client)
 * plus the fire lag: how late the scheduler itself noticed a due send. A
 * large fire lag means the client, not the server, fell behind.
 *
 * Window: sends start after connecting; messages intended in
 * [start + WARMUP, start + WARMUP + DURATION) are measured; after that no new
 * sends, and replies are awaited up to DRAIN_MS; a measured message still
 * unanswered then is recorded at its age, so it counts rather than vanishes.
 * Achieved rate = replies received inside the window / window length.
 *
 * Usage: echo_client_openloop HOST PORT C B RATE DURATION_MS WARMUP_MS
 *                             SERVER_PID ARRIVAL(uniform|poisson) MAX_INFLIGHT [SEED]
 * Prints one line: RESULT {json}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
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
/* How long to wait for replies to measured messages after the window. */
#define DRAIN_MS 2000
#define SUB_BITS 7
#define SUB (1 << SUB_BITS)
#define BUCKETS ((64 - SUB_BITS + 1) * SUB)

/* ---- log-linear histogram of nanoseconds (the structure of cli/harness/latency.ts) ---- */
struct hist { uint64_t counts[BUCKETS]; uint64_t n, min, max; double sum; };

static int bucket_of(uint64_t v) {
  if (v < SUB) return (int)v;
  int shift = 63 - __builtin_clzll(v) - SUB_BITS;
  return (shift << SUB_BITS) + (int)(v >> shift);
}

static void hist_record(struct hist *h, int64_t v) {
  if (v < 0) v = 0; /* a send recorded before its intended time by rounding */
  uint64_t u = (uint64_t)v;
  h->counts[bucket_of(u)]++;
  h->n++; h->sum += (double)u;
  if (h->n == 1 || u < h->min) h->min = u;
  if (u > h->max) h->max = u;
}

/* Nearest-rank percentile in µs: the middle of the bucket holding the rank, clamped to min/max. */
static double hist_pct(const struct hist *h, double p) {
  if (h->n == 0) return 0;
  if (p >= 100) return h->max / 1e3;
  uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < BUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) {
      double low, width;
      if (i < SUB) { low = i; width = 1; }
      else { int shift = (i >> SUB_BITS) - 1; low = (double)(i - shift * SUB) * ldexp(1, shift); width = ldexp(1, shift); }
      double mid = low + width / 2;
      if (mid < h->min) mid = (double)h->min;
      if (mid > h->max) mid = (double)h->max;
      return mid / 1e3;
    }
  }
  return h->max / 1e3;
}

static void hist_json(const char *name, const struct hist *h, int comma) {
  printf("\"%s\":{\"count\":%llu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"p9999\":%.1f,\"max\":%.1f,\"mean\":%.1f}%s",
         name, (unsigned long long)h->n, hist_pct(h, 50), hist_pct(h, 90), hist_pct(h, 99), hist_pct(h, 99.9), hist_pct(h, 99.99),
         h->n ? h->max / 1e3 : 0, h->n ? h->sum / (double)h->n / 1e3 : 0, comma ? "," : "");
}

/* ---- clock (CPU time: bench_time.h) ---- */
static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- connections ---- */
struct conn {
  int fd, idx, alive, want_out;
  int64_t next_at;      /* intended time of the next arrival */
  int64_t *intended;    /* per queued message: intended send time (ring of cap) */
  int64_t *actual;      /* per written message: time its last byte was written */
  uint32_t cap, head, sent, tail; /* head: oldest unanswered; sent: next to write; tail: next free */
  size_t wpos;          /* bytes of message `sent` already written */
  size_t rpos;          /* bytes of message `head` already received */
  int heap_at;
};

static struct conn *conns;
static int nconns;
static int *heap; /* connection indices, min-heap on next_at */
static unsigned char *tx;
static size_t msg_bytes;
static int ep;
static long errs_content, errs_conn;
static int alive;
static uint64_t rng_state;

static double uniform01(void) { /* xorshift64*: reproducible with SEED, no libc state */
  rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ULL) >> 11) * 0x1.0p-53;
}

static void heap_swap(int a, int b) {
  int t = heap[a]; heap[a] = heap[b]; heap[b] = t;
  conns[heap[a]].heap_at = a; conns[heap[b]].heap_at = b;
}

static void heap_down(int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < nconns && conns[heap[l]].next_at < conns[heap[m]].next_at) m = l;
    if (r < nconns && conns[heap[r]].next_at < conns[heap[m]].next_at) m = r;
    if (m == i) return;
    heap_swap(i, m); i = m;
  }
}

static void __attribute__((unused)) heap_up(int i) {
  while (i > 0) {
    int p = (i - 1) / 2;
    if (conns[heap[p]].next_at <= conns[heap[i]].next_at) return;
    heap_swap(i, p); i = p;
  }
}

static void kill_conn(struct conn *cn) {
  if (!cn->alive) return;
  errs_conn++; cn->alive = 0; alive--;
  epoll_ctl(ep, EPOLL_CTL_DEL, cn->fd, NULL);
}

static void set_out(struct conn *cn, int want) {
  if (cn->want_out == want || !cn->alive) return;
  cn->want_out = want;
  struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = cn };
  epoll_ctl(ep, EPOLL_CTL_MOD, cn->fd, &ev);
}

static void grow(struct conn *cn) {
  uint32_t ncap = cn->cap * 2;
  int64_t *ni = malloc(sizeof(int64_t) * ncap), *na = malloc(sizeof(int64_t) * ncap);
  for (uint32_t k = cn->head; k != cn->tail; k++) { ni[k % ncap] = cn->intended[k % cn->cap]; na[k % ncap] = cn->actual[k % cn->cap]; }
  free(cn->intended); free(cn->actual);
  cn->intended = ni; cn->actual = na; cn->cap = ncap;
}

static int64_t win_start, win_end;
static struct hist h_corr, h_unc, h_send, h_fire;
static int max_inflight;
static uint64_t peak_inflight;

/* Writes queued messages while the in-flight cap and the socket allow. */
static void flush(struct conn *cn) {
  while (cn->alive && cn->sent != cn->tail && (max_inflight == 0 || cn->sent - cn->head < (uint32_t)max_inflight)) {
    ssize_t s = send(cn->fd, tx + (size_t)cn->idx * msg_bytes + cn->wpos, msg_bytes - cn->wpos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (s < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) { set_out(cn, 1); return; }
      if (errno == EINTR) continue;
      kill_conn(cn); return;
    }
    cn->wpos += (size_t)s;
    if (cn->wpos < msg_bytes) continue;
    cn->wpos = 0;
    int64_t t = now_ns(), want = cn->intended[cn->sent % cn->cap];
    cn->actual[cn->sent % cn->cap] = t;
    if (want >= win_start && want < win_end) hist_record(&h_send, t - want);
    cn->sent++;
    if (cn->sent - cn->head > peak_inflight) peak_inflight = cn->sent - cn->head;
  }
  if (cn->alive && cn->want_out && (cn->sent == cn->tail || (max_inflight && cn->sent - cn->head >= (uint32_t)max_inflight))) set_out(cn, 0);
}

int main(int argc, char **argv) {
  if (argc < 11) {
    fprintf(stderr, "usage: %s HOST PORT C B RATE DURATION_MS WARMUP_MS SERVER_PID uniform|poisson MAX_INFLIGHT [SEED]\n", argv[0]);
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* Timer slack: without this, epoll_pwait2's wake-ups land up to 50 µs late, a fire lag of our own. */
  prctl(PR_SET_TIMERSLACK, 1UL);
  signal(SIGPIPE, SIG_IGN);
  const char *host = argv[1];
  int port = atoi(argv[2]);
  nconns = atoi(argv[3]);
  msg_bytes = (size_t)atol(argv[4]);
  double rate = atof(argv[5]), duration = atof(argv[6]), warmup = atof(argv[7]);
  int spid = atoi(argv[8]);
  int poisson = strcmp(argv[9], "poisson") == 0;
  max_inflight = atoi(argv[10]);
  rng_state = argc > 11 ? strtoull(argv[11], NULL, 10) : 88172645463325252ULL;
  if (rng_state == 0) rng_state = 1;
  if (nconns < 1 || msg_bytes < 1 || !(rate > 0) || !(duration > 0)) { fprintf(stderr, "C, B, RATE and DURATION_MS must be positive\n"); return 2; }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
  inet_pton(AF_INET, host, &sa.sin_addr);
  size_t rxcap = msg_bytes > 65536 ? msg_bytes : 65536;
  tx = malloc((size_t)nconns * msg_bytes);
  unsigned char *rx = malloc(rxcap);
  conns = calloc((size_t)nconns, sizeof *conns);
  heap = malloc(sizeof(int) * (size_t)nconns);
  ep = epoll_create1(0);
  int one = 1;
  for (int i = 0; i < nconns; i++) {
    for (size_t j = 0; j < msg_bytes; j++) tx[(size_t)i * msg_bytes + j] = (unsigned char)((i * 31 + j * 7 + 1) & 0xff);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { fprintf(stderr, "socket: %s\n", strerror(errno)); return 1; }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { fprintf(stderr, "connect %s:%d: %s\n", host, port, strerror(errno)); return 1; }
    struct conn *cn = &conns[i];
    *cn = (struct conn){ .fd = fd, .idx = i, .alive = 1, .cap = 64, .heap_at = i };
    cn->intended = malloc(sizeof(int64_t) * cn->cap);
    cn->actual = malloc(sizeof(int64_t) * cn->cap);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = cn };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    heap[i] = i;
  }
  alive = nconns;
  /* Per-connection period C/R; uniform arrivals are staggered by 1/R so the aggregate is evenly spaced. */
  double period_ns = 1e9 * nconns / rate;
  int64_t start = now_ns() + 10000000; /* 10 ms to settle after connecting */
  for (int i = 0; i < nconns; i++)
    conns[i].next_at = start + (int64_t)(poisson ? -log(1 - uniform01()) * period_ns : (double)i * 1e9 / rate);
  for (int i = nconns / 2 - 1; i >= 0; i--) heap_down(i);
  win_start = start + (int64_t)(warmup * 1e6);
  win_end = win_start + (int64_t)(duration * 1e6);
  int64_t drain_end = win_end + (int64_t)DRAIN_MS * 1000000;
  long replies_in_window = 0, scheduled = 0;
  double cpu0 = 0, scpu0 = -1, ccpu = 0, scpu = -1;
  int measuring = 0, sending = 1;
  struct epoll_event events[MAX_EVENTS];

  for (;;) {
    int64_t now = now_ns();
    if (!measuring && now >= win_start) { measuring = 1; cpu0 = self_cpu_s(); scpu0 = pid_cpu_s(spid); }
    if (measuring == 1 && now >= win_end) {
      measuring = 2;
      ccpu = self_cpu_s() - cpu0;
      double s1 = pid_cpu_s(spid);
      scpu = (scpu0 >= 0 && s1 >= 0) ? s1 - scpu0 : -1;
    }
    /* Fire every due arrival. */
    while (sending) {
      struct conn *cn = &conns[heap[0]];
      if (cn->next_at > now) break;
      if (cn->next_at >= win_end) { sending = 0; break; }
      if (cn->next_at >= win_start) hist_record(&h_fire, now - cn->next_at);
      if (cn->alive) {
        if (cn->tail - cn->head == cn->cap) grow(cn);
        cn->intended[cn->tail % cn->cap] = cn->next_at;
        cn->tail++;
        scheduled++;
        flush(cn);
      }
      cn->next_at += (int64_t)(poisson ? -log(1 - uniform01()) * period_ns : period_ns);
      heap_down(0);
    }
    if (alive == 0) break;
    int outstanding = 0;
    if (!sending) {
      for (int i = 0; i < nconns && !outstanding; i++) if (conns[i].alive && conns[i].head != conns[i].tail) outstanding = 1;
      if (!outstanding || now >= drain_end) break;
    }
    int64_t wake = sending ? conns[heap[0]].next_at : drain_end;
    if (!measuring && wake > win_start) wake = win_start;
    if (measuring == 1 && wake > win_end) wake = win_end;
    int64_t wait = wake - now;
    if (wait < 0) wait = 0;
    struct timespec ts = { .tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000 };
    int n = epoll_pwait2(ep, events, MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno != EINTR) { fprintf(stderr, "epoll_pwait2: %s\n", strerror(errno)); return 1; }
    for (int k = 0; k < n; k++) {
      struct conn *cn = events[k].data.ptr;
      if (!cn->alive) continue;
      if (events[k].events & EPOLLOUT) flush(cn);
      if (!(events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      ssize_t r = recv(cn->fd, rx, rxcap, MSG_DONTWAIT);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        kill_conn(cn); continue;
      }
      int64_t t = now_ns();
      size_t off = 0;
      while (off < (size_t)r) {
        if (cn->head == cn->sent) { errs_content++; kill_conn(cn); break; } /* more bytes than we sent */
        size_t take = msg_bytes - cn->rpos;
        if (take > (size_t)r - off) take = (size_t)r - off;
        if (memcmp(rx + off, tx + (size_t)cn->idx * msg_bytes + cn->rpos, take) != 0) errs_content++;
        off += take; cn->rpos += take;
        if (cn->rpos < msg_bytes) break;
        cn->rpos = 0;
        int64_t want = cn->intended[cn->head % cn->cap], sent_at = cn->actual[cn->head % cn->cap];
        if (want >= win_start && want < win_end) { hist_record(&h_corr, t - want); hist_record(&h_unc, t - sent_at); }
        if (t >= win_start && t < win_end) replies_in_window++;
        cn->head++;
      }
      flush(cn); /* the cap may have let a queued message go */
    }
  }
  if (measuring < 2) { ccpu = self_cpu_s() - cpu0; double s1 = pid_cpu_s(spid); scpu = (scpu0 >= 0 && s1 >= 0) ? s1 - scpu0 : -1; }
  /* Measured messages never answered: count them at their age, so a dead server cannot look fast. */
  int64_t end = now_ns();
  long unanswered = 0;
  for (int i = 0; i < nconns; i++) {
    struct conn *cn = &conns[i];
    for (uint32_t k = cn->head; k != cn->tail; k++) {
      int64_t want = cn->intended[k % cn->cap];
      if (want >= win_start && want < win_end) { unanswered++; hist_record(&h_corr, end - want); }
    }
  }
  double secs = duration / 1e3;
  printf("RESULT {\"requestedRate\":%.3f,\"achievedRate\":%.3f,\"repliesInWindow\":%ld,\"seconds\":%.6f,\"scheduled\":%ld,\"unanswered\":%ld,"
         "\"clientCpu\":%.4f,\"serverCpu\":",
         rate, replies_in_window / secs, replies_in_window, secs, scheduled, unanswered, ccpu / secs);
  if (scpu < 0) printf("null,"); else printf("%.4f,", scpu / secs);
  printf("\"errors\":%ld,\"errorKinds\":{\"content\":%ld,\"connection\":%ld},\"connectionsAlive\":%d,\"peakInflightPerConnection\":%llu,",
         errs_content + errs_conn, errs_content, errs_conn, alive, (unsigned long long)peak_inflight);
  hist_json("correctedUs", &h_corr, 1);
  hist_json("uncorrectedUs", &h_unc, 1);
  hist_json("sendLagUs", &h_send, 1);
  hist_json("fireLagUs", &h_fire, 0);
  printf("}\n");
  return 0;
}
