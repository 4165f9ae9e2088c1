/*
 * bench_client.c - the load generators' shared helpers (bench_client.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_client.h"
#include "buf.h"

double
bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long
bench_rss_kib(const char *pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	if (pid == NULL) {
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	fp = fopen(path, "r");
	if (fp == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
		}
	}
	fclose(fp);
	return kib;
}

double
bench_cpu_s(const char *pid)
{
	char path[64], line[1024], *p;
	unsigned long long ut, st;
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid != NULL ? pid :
	    "self");
	fp = fopen(path, "r");
	if (fp == NULL) {
		return -1;
	}
	ok = fgets(line, sizeof(line), fp) != NULL;
	fclose(fp);
	/* after "pid (comm) ": state is field 3, utime 14, stime 15 */
	p = ok ? strrchr(line, ')') : NULL;
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %llu %llu", &ut, &st) != 2) {
		return -1;
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static const char *ws_path;	/* NULL: plain TCP */

void
bench_use_websocket(const char *path)
{
	ws_path = path;
}

int
bench_websocket(void)
{
	return ws_path != NULL;
}

/* RFC 6455 §4.1 client handshake on fd, blocking; 0 once 101 is read. */
static int
ws_upgrade(int fd, const char *host, int port)
{
	char req[512], resp[2048];
	size_t got = 0;
	ssize_t r;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n"
	    "\r\n", ws_path, host, port);
	if (bench_send_all(fd, req, strlen(req)) != 0) {
		return -1;
	}
	/* nothing follows the 101 until we send <open/> */
	while (got < sizeof(resp) - 1) {
		r = read(fd, resp + got, sizeof(resp) - 1 - got);
		if (r <= 0) {
			return -1;
		}
		got += (size_t)r;
		resp[got] = '\0';
		if (strstr(resp, "\r\n\r\n") != NULL) {
			return strncmp(resp, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
		}
	}
	return -1;
}

int
bench_connect(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (ws_path != NULL && ws_upgrade(fd, host, port) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One masked text frame of data[0..len) (RFC 6455 §5.2). */
static void
ws_frame(struct buf *out, const char *data, size_t len)
{
	static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	unsigned char hdr[14];
	size_t h = 0, i, start;

	hdr[h++] = 0x81;
	if (len < 126) {
		hdr[h++] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	} else {
		hdr[h++] = 0x80 | 127;
		for (i = 0; i < 8; i++) {
			hdr[h++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		}
	}
	memcpy(hdr + h, key, 4);
	h += 4;
	buf_append(out, hdr, h);
	start = out->len;
	buf_append(out, data, len);
	if (out->err) {
		return;
	}
	for (i = 0; i < len; i++) {
		out->data[start + i] ^= (char)key[i & 3];
	}
}

void
bench_put_open(struct buf *out, const char *domain)
{
	char el[256];

	if (ws_path != NULL) {
		snprintf(el, sizeof(el), "<open xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-framing' to='%s' version='1.0'/>", domain);
		ws_frame(out, el, strlen(el));
	} else {
		buf_printf(out, "<stream:stream to='%s' xmlns='jabber:client' "
		    "xmlns:stream='http://etherx.jabber.org/streams' "
		    "version='1.0'>", domain);
	}
}

void
bench_put_el(struct buf *out, const char *el)
{
	if (ws_path != NULL) {
		ws_frame(out, el, strlen(el));
	} else {
		buf_puts(out, el);
	}
}

void
bench_put_close(struct buf *out)
{
	bench_put_el(out, ws_path != NULL ?
	    "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>" :
	    "</stream:stream>");
}

int
bench_send_el(int fd, const char *el)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	bench_put_el(&b, el);
	rc = b.err ? -1 : bench_send_all(fd, b.data, b.len);
	buf_free(&b);
	return rc;
}

int
bench_send_all(int fd, const void *data, size_t len)
{
	const char *s = data;
	ssize_t w;

	while (len > 0) {
		w = write(fd, s, len);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

unsigned long
bench_count(const struct bench_tail *t, const char *data, size_t n,
    const char *mark)
{
	char joined[BENCH_MARK_MAX * 2];
	size_t ml = strlen(mark), i, k;
	unsigned long hits = 0;
	const char *p = data;

	/* a marker split over the previous read and this one */
	k = t->len;
	memcpy(joined, t->bytes, k);
	for (i = 0; i < n && i + 1 < ml; i++) {
		joined[k++] = data[i];
	}
	for (i = 0; i + ml <= k; i++) {
		if (i < t->len && i + ml > t->len &&
		    memcmp(joined + i, mark, ml) == 0) {
			hits++;
		}
	}
	while ((p = memmem(p, n - (size_t)(p - data), mark, ml)) != NULL) {
		hits++;
		p += ml;
	}
	return hits;
}

void
bench_keep_tail(struct bench_tail *t, const char *data, size_t n)
{
	size_t keep = BENCH_MARK_MAX - 1;

	if (n >= keep) {
		memcpy(t->bytes, data + n - keep, keep);
		t->len = keep;
		return;
	}
	if (t->len + n > keep) {
		size_t drop = t->len + n - keep;

		memmove(t->bytes, t->bytes + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->bytes + t->len, data, n);
	t->len += n;
}

int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}
