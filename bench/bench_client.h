/*
 * bench_client.h - what the load generators under bench/ share: a clock,
 * the server's resident memory, blocking loopback connections, and
 * counting marker strings in a byte stream across read boundaries (how a
 * bench tells that a message or a result arrived without parsing XML).
 */
#ifndef UXMPPD_BENCH_CLIENT_H
#define UXMPPD_BENCH_CLIENT_H

#include <stddef.h>

/* Longest marker bench_count can find split over two reads, plus one. */
#define BENCH_MARK_MAX	32

/* The end of the previous read of one connection. */
struct bench_tail {
	char	 bytes[BENCH_MARK_MAX];
	size_t	 len;
};

/* Seconds on the monotonic clock. */
double	bench_now_s(void);
/* VmRSS of process pid (a decimal string; NULL: unknown) in KiB, or -1. */
long	bench_rss_kib(const char *pid);
/* A blocking TCP connection to host (IPv4 text) and port, or -1. */
int	bench_connect(const char *host, int port);
/* Write all of data to fd (blocking).  0, or -1 when the peer is gone. */
int	bench_send_all(int fd, const void *data, size_t len);
/* Occurrences of mark (shorter than BENCH_MARK_MAX) in data[0..n),
 * counting one that starts in t (the previous read) and ends in data. */
unsigned long bench_count(const struct bench_tail *t, const char *data,
	    size_t n, const char *mark);
/* Remember the end of data[0..n) in t for the next bench_count. */
void	bench_keep_tail(struct bench_tail *t, const char *data, size_t n);
/* qsort comparator of doubles, ascending. */
int	bench_cmp_double(const void *a, const void *b);

#endif
