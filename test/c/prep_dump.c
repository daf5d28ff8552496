/*
 * prep_dump: the reference side of test/op-byte-exact.test.ts.
 *
 * Reads lines "name arg0 arg1 ..." (decimal integers, possibly negative) on
 * stdin, zeroes a 64-byte SQE, calls liburing's io_uring_prep_<name> with the
 * arguments converted to that helper's C parameter types, and prints the SQE
 * as 128 hex digits (or "ERR <reason>"; "ERR unknown preparer" for helpers the
 * installed liburing lacks). The line "version" prints the liburing version.
 * Built and run by the test only, against the system liburing (2.3 here):
 * gcc -O1 prep_dump.c -luring.
 *
 * Pointer arguments are fake addresses: nothing is dereferenced, so any value
 * is safe and the bytes are deterministic.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 8

/*
 * Helpers newer than 2.3 are compiled in when the installed liburing has
 * them (io_uring_version.h exists from 2.4 on), from the release that first
 * wrote them the way current liburing does.
 */
#ifdef IO_URING_VERSION_MAJOR
#define LIBURING_AT_LEAST(ma, mi) \
	(IO_URING_VERSION_MAJOR > (ma) || (IO_URING_VERSION_MAJOR == (ma) && IO_URING_VERSION_MINOR >= (mi)))
#else
#define LIBURING_AT_LEAST(ma, mi) 0
#endif

/* Conversions to each C parameter type (the same ones a C caller gets). */
#define I(i) ((int)a[i])
#define U(i) ((unsigned)a[i])
#define U16(i) ((__u16)a[i])
#define U64(i) ((__u64)a[i])
#define I64(i) ((int64_t)a[i])
#define OFF(i) ((off_t)a[i])
#define SZ(i) ((size_t)a[i])
#define P(i) ((void *)(uintptr_t)a[i])

/* Returns 0 if `name` was dispatched, -1 if unknown, -2 on wrong arity. */
static int dispatch(struct io_uring_sqe *sqe, const char *name, const uint64_t *a, int n)
{
#define CASE(nm, arity, call)                 \
	if (strcmp(name, nm) == 0) {          \
		if (n != (arity))             \
			return -2;            \
		call;                         \
		return 0;                     \
	}
	CASE("rw", 5, io_uring_prep_rw(I(0), sqe, I(1), P(2), U(3), U64(4)))
	CASE("nop", 0, io_uring_prep_nop(sqe))
	CASE("read", 4, io_uring_prep_read(sqe, I(0), P(1), U(2), U64(3)))
	CASE("write", 4, io_uring_prep_write(sqe, I(0), P(1), U(2), U64(3)))
	CASE("readv", 4, io_uring_prep_readv(sqe, I(0), P(1), U(2), U64(3)))
	CASE("readv2", 5, io_uring_prep_readv2(sqe, I(0), P(1), U(2), U64(3), I(4)))
	CASE("writev", 4, io_uring_prep_writev(sqe, I(0), P(1), U(2), U64(3)))
	CASE("writev2", 5, io_uring_prep_writev2(sqe, I(0), P(1), U(2), U64(3), I(4)))
	CASE("read_fixed", 5, io_uring_prep_read_fixed(sqe, I(0), P(1), U(2), U64(3), I(4)))
	CASE("write_fixed", 5, io_uring_prep_write_fixed(sqe, I(0), P(1), U(2), U64(3), I(4)))
	CASE("fsync", 2, io_uring_prep_fsync(sqe, I(0), U(1)))
	CASE("sync_file_range", 4, io_uring_prep_sync_file_range(sqe, I(0), U(1), U64(2), I(3)))
	CASE("poll_add", 2, io_uring_prep_poll_add(sqe, I(0), U(1)))
	CASE("poll_multishot", 2, io_uring_prep_poll_multishot(sqe, I(0), U(1)))
	CASE("poll_remove", 1, io_uring_prep_poll_remove(sqe, U64(0)))
	CASE("poll_update", 4, io_uring_prep_poll_update(sqe, U64(0), U64(1), U(2), U(3)))
	CASE("sendmsg", 3, io_uring_prep_sendmsg(sqe, I(0), P(1), U(2)))
	CASE("recvmsg", 3, io_uring_prep_recvmsg(sqe, I(0), P(1), U(2)))
	CASE("recvmsg_multishot", 3, io_uring_prep_recvmsg_multishot(sqe, I(0), P(1), U(2)))
	CASE("sendmsg_zc", 3, io_uring_prep_sendmsg_zc(sqe, I(0), P(1), U(2)))
	CASE("timeout", 3, io_uring_prep_timeout(sqe, P(0), U(1), U(2)))
	CASE("timeout_remove", 2, io_uring_prep_timeout_remove(sqe, U64(0), U(1)))
	CASE("timeout_update", 3, io_uring_prep_timeout_update(sqe, P(0), U64(1), U(2)))
	CASE("link_timeout", 2, io_uring_prep_link_timeout(sqe, P(0), U(1)))
	CASE("accept", 4, io_uring_prep_accept(sqe, I(0), P(1), P(2), I(3)))
	CASE("accept_direct", 5, io_uring_prep_accept_direct(sqe, I(0), P(1), P(2), I(3), U(4)))
	CASE("multishot_accept", 4, io_uring_prep_multishot_accept(sqe, I(0), P(1), P(2), I(3)))
	CASE("multishot_accept_direct", 4, io_uring_prep_multishot_accept_direct(sqe, I(0), P(1), P(2), I(3)))
	CASE("cancel64", 2, io_uring_prep_cancel64(sqe, U64(0), I(1)))
	CASE("cancel", 2, io_uring_prep_cancel(sqe, P(0), I(1)))
	CASE("cancel_fd", 2, io_uring_prep_cancel_fd(sqe, I(0), U(1)))
	CASE("connect", 3, io_uring_prep_connect(sqe, I(0), P(1), U(2)))
	CASE("files_update", 3, io_uring_prep_files_update(sqe, P(0), U(1), I(2)))
	CASE("fallocate", 4, io_uring_prep_fallocate(sqe, I(0), I(1), OFF(2), OFF(3)))
	CASE("openat", 4, io_uring_prep_openat(sqe, I(0), P(1), I(2), U(3)))
	CASE("openat_direct", 5, io_uring_prep_openat_direct(sqe, I(0), P(1), I(2), U(3), U(4)))
	CASE("openat2", 3, io_uring_prep_openat2(sqe, I(0), P(1), P(2)))
	CASE("openat2_direct", 4, io_uring_prep_openat2_direct(sqe, I(0), P(1), P(2), U(3)))
	CASE("close", 1, io_uring_prep_close(sqe, I(0)))
	CASE("close_direct", 1, io_uring_prep_close_direct(sqe, U(0)))
	CASE("statx", 5, io_uring_prep_statx(sqe, I(0), P(1), I(2), U(3), P(4)))
	CASE("fadvise", 4, io_uring_prep_fadvise(sqe, I(0), U64(1), OFF(2), I(3)))
	CASE("madvise", 3, io_uring_prep_madvise(sqe, P(0), OFF(1), I(2)))
	CASE("send", 4, io_uring_prep_send(sqe, I(0), P(1), SZ(2), I(3)))
	CASE("recv", 4, io_uring_prep_recv(sqe, I(0), P(1), SZ(2), I(3)))
	CASE("recv_multishot", 4, io_uring_prep_recv_multishot(sqe, I(0), P(1), SZ(2), I(3)))
	CASE("send_zc", 5, io_uring_prep_send_zc(sqe, I(0), P(1), SZ(2), I(3), U(4)))
	CASE("send_zc_fixed", 6, io_uring_prep_send_zc_fixed(sqe, I(0), P(1), SZ(2), I(3), U(4), U(5)))
	CASE("send_set_addr", 2, io_uring_prep_send_set_addr(sqe, P(0), U16(1)))
	CASE("epoll_ctl", 4, io_uring_prep_epoll_ctl(sqe, I(0), I(1), I(2), P(3)))
	CASE("splice", 6, io_uring_prep_splice(sqe, I(0), I64(1), I(2), I64(3), U(4), U(5)))
	CASE("tee", 4, io_uring_prep_tee(sqe, I(0), I(1), U(2), U(3)))
	CASE("provide_buffers", 5, io_uring_prep_provide_buffers(sqe, P(0), I(1), I(2), I(3), I(4)))
	CASE("remove_buffers", 2, io_uring_prep_remove_buffers(sqe, I(0), I(1)))
	CASE("shutdown", 2, io_uring_prep_shutdown(sqe, I(0), I(1)))
	CASE("unlinkat", 3, io_uring_prep_unlinkat(sqe, I(0), P(1), I(2)))
	CASE("unlink", 2, io_uring_prep_unlink(sqe, P(0), I(1)))
	CASE("renameat", 5, io_uring_prep_renameat(sqe, I(0), P(1), I(2), P(3), U(4)))
	CASE("rename", 2, io_uring_prep_rename(sqe, P(0), P(1)))
	CASE("mkdirat", 3, io_uring_prep_mkdirat(sqe, I(0), P(1), U(2)))
	CASE("mkdir", 2, io_uring_prep_mkdir(sqe, P(0), U(1)))
	CASE("symlinkat", 3, io_uring_prep_symlinkat(sqe, P(0), I(1), P(2)))
	CASE("symlink", 2, io_uring_prep_symlink(sqe, P(0), P(1)))
	CASE("linkat", 5, io_uring_prep_linkat(sqe, I(0), P(1), I(2), P(3), I(4)))
	CASE("link", 3, io_uring_prep_link(sqe, P(0), P(1), I(2)))
	CASE("msg_ring", 4, io_uring_prep_msg_ring(sqe, I(0), U(1), U64(2), U(3)))
	CASE("getxattr", 4, io_uring_prep_getxattr(sqe, P(0), P(1), P(2), U(3)))
	CASE("setxattr", 5, io_uring_prep_setxattr(sqe, P(0), P(1), P(2), I(3), U(4)))
	CASE("fgetxattr", 4, io_uring_prep_fgetxattr(sqe, I(0), P(1), P(2), U(3)))
	CASE("fsetxattr", 5, io_uring_prep_fsetxattr(sqe, I(0), P(1), P(2), I(3), U(4)))
	CASE("socket", 4, io_uring_prep_socket(sqe, I(0), I(1), I(2), U(3)))
	CASE("socket_direct", 5, io_uring_prep_socket_direct(sqe, I(0), I(1), I(2), U(3), U(4)))
	CASE("socket_direct_alloc", 4, io_uring_prep_socket_direct_alloc(sqe, I(0), I(1), I(2), U(3)))
#if LIBURING_AT_LEAST(2, 4)
	CASE("msg_ring_cqe_flags", 5, io_uring_prep_msg_ring_cqe_flags(sqe, I(0), U(1), U64(2), U(3), U(4)))
	CASE("msg_ring_fd", 5, io_uring_prep_msg_ring_fd(sqe, I(0), I(1), I(2), U64(3), U(4)))
	CASE("msg_ring_fd_alloc", 4, io_uring_prep_msg_ring_fd_alloc(sqe, I(0), I(1), U64(2), U(3)))
	CASE("sendto", 6, io_uring_prep_sendto(sqe, I(0), P(1), SZ(2), I(3), P(4), U(5)))
#endif
#if LIBURING_AT_LEAST(2, 6) /* 2.5's cmd_sock ignored its sockopt arguments */
	CASE("cmd_sock", 6, io_uring_prep_cmd_sock(sqe, I(0), I(1), I(2), I(3), P(4), I(5)))
	CASE("fixed_fd_install", 2, io_uring_prep_fixed_fd_install(sqe, I(0), U(1)))
	CASE("ftruncate", 2, io_uring_prep_ftruncate(sqe, I(0), (loff_t)a[1]))
	CASE("futex_wait", 5, io_uring_prep_futex_wait(sqe, P(0), U64(1), U64(2), U(3), U(4)))
	CASE("futex_wake", 5, io_uring_prep_futex_wake(sqe, P(0), U64(1), U64(2), U(3), U(4)))
	CASE("futex_waitv", 3, io_uring_prep_futex_waitv(sqe, P(0), U(1), U(2)))
	CASE("waitid", 5, io_uring_prep_waitid(sqe, (idtype_t)a[0], (id_t)a[1], P(2), I(3), U(4)))
#endif
#if LIBURING_AT_LEAST(2, 7) /* 2.6's read_multishot did not set IOSQE_BUFFER_SELECT */
	CASE("read_multishot", 4, io_uring_prep_read_multishot(sqe, I(0), U(1), U64(2), I(3)))
	CASE("bind", 3, io_uring_prep_bind(sqe, I(0), P(1), U(2)))
	CASE("listen", 2, io_uring_prep_listen(sqe, I(0), I(1)))
	CASE("fadvise64", 4, io_uring_prep_fadvise64(sqe, I(0), U64(1), OFF(2), I(3)))
	CASE("madvise64", 3, io_uring_prep_madvise64(sqe, P(0), OFF(1), I(2)))
	CASE("send_bundle", 3, io_uring_prep_send_bundle(sqe, I(0), SZ(1), I(2)))
#endif
#if LIBURING_AT_LEAST(2, 8)
	CASE("cmd_discard", 3, io_uring_prep_cmd_discard(sqe, I(0), U64(1), U64(2)))
	CASE("open", 3, io_uring_prep_open(sqe, P(0), I(1), U(2)))
	CASE("open_direct", 4, io_uring_prep_open_direct(sqe, P(0), I(1), U(2), U(3)))
#endif
#if LIBURING_AT_LEAST(2, 10)
	CASE("epoll_wait", 4, io_uring_prep_epoll_wait(sqe, I(0), P(1), I(2), U(3)))
	CASE("readv_fixed", 6, io_uring_prep_readv_fixed(sqe, I(0), P(1), U(2), U64(3), I(4), I(5)))
	CASE("writev_fixed", 6, io_uring_prep_writev_fixed(sqe, I(0), P(1), U(2), U64(3), I(4), I(5)))
	CASE("sendmsg_zc_fixed", 4, io_uring_prep_sendmsg_zc_fixed(sqe, I(0), P(1), U(2), U(3)))
#endif
#if LIBURING_AT_LEAST(2, 12)
	CASE("pipe", 2, io_uring_prep_pipe(sqe, P(0), I(1)))
	CASE("pipe_direct", 3, io_uring_prep_pipe_direct(sqe, P(0), I(1), U(2)))
#endif
#if LIBURING_AT_LEAST(2, 13)
	CASE("cmd_getsockname", 4, io_uring_prep_cmd_getsockname(sqe, I(0), P(1), P(2), I(3)))
	CASE("nop128", 0, io_uring_prep_nop128(sqe))
	CASE("uring_cmd", 2, io_uring_prep_uring_cmd(sqe, I(0), I(1)))
	CASE("uring_cmd128", 2, io_uring_prep_uring_cmd128(sqe, I(0), I(1)))
#endif
#if LIBURING_AT_LEAST(2, 16)
	CASE("cmd_zone_reset_all", 1, io_uring_prep_cmd_zone_reset_all(sqe, I(0)))
#endif
#undef CASE
	return -1;
}

int main(void)
{
	static char line[4096];
	struct io_uring_sqe sqe;

	while (fgets(line, sizeof(line), stdin)) {
		uint64_t a[MAX_ARGS];
		char *save = NULL;
		char *name = strtok_r(line, " \t\r\n", &save);
		char *tok;
		int n = 0, rc;
		const unsigned char *b = (const unsigned char *)&sqe;

		if (!name) {
			puts("ERR empty line");
			continue;
		}
		if (strcmp(name, "version") == 0) {
#ifdef IO_URING_VERSION_MAJOR
			printf("VERSION %d.%d\n", IO_URING_VERSION_MAJOR, IO_URING_VERSION_MINOR);
#else
			puts("VERSION 2.3-or-older");
#endif
			continue;
		}
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL && n < MAX_ARGS)
			/* strtoull accepts a leading '-' and negates modulo 2^64: two's complement. */
			a[n++] = strtoull(tok, NULL, 10);
		/* liburing 2.3's get_sqe hands out stale SQEs; ours are zeroed. */
		memset(&sqe, 0, sizeof(sqe));
		rc = dispatch(&sqe, name, a, n);
		if (rc == -1) {
			printf("ERR unknown preparer %s\n", name);
			continue;
		}
		if (rc == -2) {
			printf("ERR wrong argument count %d for %s\n", n, name);
			continue;
		}
		for (size_t i = 0; i < sizeof(sqe); i++)
			printf("%02x", b[i]);
		putchar('\n');
	}
	return 0;
}
