/*
 * c-epoll: the native reference echo server for `uring-bench echo`.
 * One thread, level-triggered epoll, non-blocking sockets, TCP_NODELAY.
 * A connection whose peer does not read keeps its unsent bytes in a
 * per-connection buffer and waits for EPOLLOUT (reads paused meanwhile), so
 * no byte is lost or reordered. Peer half close: flush, then close. Resets:
 * close that connection, keep serving.
 *
 * Usage: echo_epoll PORT [HOST [THREADS]]. Prints "READY <port>" when listening.
 * THREADS > 1: that many threads, each with its own epoll and its own
 * SO_REUSEPORT listener on PORT (the kernel spreads connections by 4-tuple).
 * With THREADS given (1 too), thread t is pinned to the t-th CPU of the
 * process's affinity mask (mod its size), as TcpServerGroup pins its Workers,
 * and READY ends with "threads=N cpus=<cpu of each thread>".
 * Exits when its parent dies (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 512

struct conn {
  int fd;
  char *pending; /* unsent bytes (NULL when none) */
  size_t pending_len, pending_off;
  int eof;       /* peer half-closed */
};

/* Per thread: each thread runs its own loop on its own listener. */
static __thread int ep;

static void conn_close(struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->pending);
  free(c);
}

/* Sends what it can of buf; keeps the rest. Returns -1 on a fatal error. */
static int send_or_queue(struct conn *c, const char *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
    if (n > 0) { off += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return -1;
  }
  if (off < len) {
    size_t rest = len - off;
    char *p = malloc(rest);
    if (!p) return -1;
    memcpy(p, buf + off, rest);
    c->pending = p; c->pending_len = rest; c->pending_off = 0;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c }; /* stop reading until flushed */
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  }
  return 0;
}

/* EPOLLOUT: flush pending bytes; resume reading when done. */
static int flush_pending(struct conn *c) {
  while (c->pending_off < c->pending_len) {
    ssize_t n = send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
    if (n > 0) { c->pending_off += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
  }
  free(c->pending); c->pending = NULL; c->pending_len = c->pending_off = 0;
  if (c->eof) return -1; /* orderly: everything echoed, now close */
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

#define MAX_THREADS 64

static int listen_fds[MAX_THREADS];
/* CPU each thread pins itself to, or -1 (no THREADS argument: not pinned). */
static int thread_cpu[MAX_THREADS];

/* Thread t's CPU: the t-th of the process's allowed CPUs, wrapping (as TcpServerGroup's cpus[i % n]). */
static int nth_allowed_cpu(int t) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  int n = CPU_COUNT(&set), want = t % (n > 0 ? n : 1);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set) && want-- == 0) return cpu;
  return -1;
}

/* One thread's loop: its own epoll over its own listener (`arg` is the thread's index). */
static void *serve(void *arg) {
  int t = (int)(long)arg;
  int lfd = listen_fds[t];
  if (thread_cpu[t] >= 0) {
    cpu_set_t one_cpu;
    CPU_ZERO(&one_cpu);
    CPU_SET(thread_cpu[t], &one_cpu);
    pthread_setaffinity_np(pthread_self(), sizeof one_cpu, &one_cpu);
  }
  int one = 1;
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  static __thread char buf[BUF_SIZE];
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) { if (errno == EINTR) continue; perror("c-epoll: epoll_wait"); exit(1); }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) { /* listener: accept everything pending */
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break; /* EAGAIN, or EMFILE: retried on the next event */
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          if (!nc) { close(fd); continue; }
          nc->fd = fd;
          struct epoll_event ev = { .events = EPOLLIN, .data.ptr = nc };
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      if (c->pending) {
        if (flush_pending(c) < 0) conn_close(c);
        continue;
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r > 0) {
          if (send_or_queue(c, buf, (size_t)r) < 0) conn_close(c);
        } else if (r == 0) {
          c->eof = 1; /* nothing pending here: the echo is complete */
          conn_close(c);
        } else if (errno != EAGAIN && errno != EINTR) {
          conn_close(c);
        }
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s PORT [HOST [THREADS]]\n", argv[0]); return 2; }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
  int port = atoi(argv[1]);
  const char *host = argc > 2 ? argv[2] : "127.0.0.1";
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  if (threads < 1 || threads > MAX_THREADS) { fprintf(stderr, "c-epoll: THREADS must be 1-%d, got %s\n", MAX_THREADS, argv[3]); return 2; }
  int *lfds = listen_fds;
  int one = 1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "c-epoll: %s is not an IPv4 address\n", host); return 2; }
  /* Every listener is bound before READY, so no connection is refused while threads start. */
  for (int t = 0; t < threads; t++) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (threads > 1) setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
      fprintf(stderr, "c-epoll: bind %s:%d: %s%s\n", host, port, strerror(errno), errno == EADDRINUSE ? " (port in use: pick another)" : "");
      return 1;
    }
    if (listen(lfd, 4096) < 0) { perror("c-epoll: listen"); return 1; }
    lfds[t] = lfd;
    if (t == 0) { /* port 0: the others bind the port the first one got */
      socklen_t slen = sizeof sa;
      getsockname(lfd, (struct sockaddr *)&sa, &slen);
      port = ntohs(sa.sin_port);
    }
  }
  for (int t = 0; t < threads; t++) thread_cpu[t] = argc > 3 ? nth_allowed_cpu(t) : -1;
  for (int t = 1; t < threads; t++) {
    pthread_t tid;
    if (pthread_create(&tid, NULL, serve, (void *)(long)t) != 0) { perror("c-epoll: pthread_create"); return 1; }
  }
  if (argc > 3) {
    printf("READY %d threads=%d cpus=", port, threads);
    for (int t = 0; t < threads; t++) printf(t ? ",%d" : "%d", thread_cpu[t]);
    printf("\n");
  } else {
    printf("READY %d\n", port);
  }
  fflush(stdout);
  serve((void *)0);
  return 0;
}
