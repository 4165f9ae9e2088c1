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
/* CPU time (user + system) of process pid (NULL: ourselves) in seconds,
 * from /proc (10 ms resolution), or -1. */
double	bench_cpu_s(const char *pid);
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

/*
 * The transport of every connection bench_connect opens from now on:
 * plain XMPP over TCP (path NULL, the default) or XMPP over WebSocket
 * (RFC 7395) at path on an http_listen port: bench_connect then does the
 * upgrade, and the bench_put_* and bench_send_el calls frame what they
 * write as one masked text message per element (RFC 6455 §5.2).  Markers
 * still count on the raw stream: the server sends each element whole in
 * one unmasked message.
 */
struct buf;
void	bench_use_websocket(const char *path);
int	bench_websocket(void);
/* Append a stream header (<stream:stream> or the framed <open/>). */
void	bench_put_open(struct buf *out, const char *domain);
/* Append one complete element (a stanza, <auth/>, ...). */
void	bench_put_el(struct buf *out, const char *el);
/* Append the end of the stream (</stream:stream> or <close/>). */
void	bench_put_close(struct buf *out);
/* Send one element at once (bench_put_el, then bench_send_all). */
int	bench_send_el(int fd, const char *el);

#endif
