/*
 * bench_client.c - the load generators' shared helpers (bench_client.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_client.h"

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
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
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
