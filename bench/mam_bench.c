/*
 * mam_bench.c - figures for the message archives (make bench-mam).
 *
 *   mam_bench [-n MESSAGES] [-u USERS] [-b BIG] [-q QUERIES] DIR
 *
 * 1. archive MESSAGES (default 10000000): BIG (default 1000000) in one
 *    archive, the rest spread over USERS (default 1000) archives, each
 *    message with one of 20 peers, appended 100 at a time per archive
 *    (sync off: this measures the archive, not the disk);
 * 2. open the archives again: time to open (nothing is read) and to
 *    answer a first query on an archive not yet opened;
 * 3. QUERIES (default 2000) queries of each kind, p50/p99: the last 50
 *    messages of a user, the last 50 with one peer, a page of 50 in the
 *    middle of the BIG archive (by id), and the last 50 with one peer in
 *    the BIG archive;
 * 4. RSS (VmRSS, VmHWM) after all that.
 * DIR is kept (bench/mam_bench.sh starts a server on it, then removes it).
 */
#include "archive.h"
#include "log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long
status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t fl = strlen(field);

	if (f == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
		}
	}
	fclose(f);
	return v;
}

static uint64_t rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t got;

static int
count_cb(void *ud, const struct archive_msg *m)
{
	(void)ud;
	(void)m;
	got++;
	return 0;
}

static void
report(const char *what, double *t, size_t n, size_t results)
{
	qsort(t, n, sizeof(*t), cmp_double);
	printf("  %-44s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (%zu "
	    "results/query)\n", what, t[n / 2], t[(n * 99) / 100], t[n - 1],
	    results / n);
}

static void
user_name(char *out, size_t cap, unsigned u)
{
	snprintf(out, cap, "user%u@localhost", u);
}

static void
peer_name(char *out, size_t cap, unsigned p)
{
	snprintf(out, cap, "peer%u@example.net/res", p);
}

int
main(int argc, char **argv)
{
	unsigned long total = 10000000, big = 1000000, per_user, i;
	unsigned users = 1000, queries = 2000, u, k;
	char name[64], with[64], xml[400], id[ARCHIVE_ID_LEN + 1], err[256];
	char mid_ids[64][ARCHIVE_ID_LEN + 1];
	const char *dir;
	double t0, t1, *lat;
	struct archive_query q;
	struct archive_page_info info;
	int opt, len;
	unsigned long done = 0;

	while ((opt = getopt(argc, argv, "n:u:b:q:")) != -1) {
		switch (opt) {
		case 'n':
			total = strtoul(optarg, NULL, 10);
			break;
		case 'u':
			users = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			big = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			queries = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || users == 0 || big > total || queries == 0) {
		goto usage;
	}
	dir = argv[optind];
	log_set_level(LOG_LEVEL_WARN);
	per_user = (total - big) / users;
	printf("mam bench: %lu messages, %lu in one archive, %lu in each of "
	    "%u more\n", total, big, per_user, users);
	if (archive_open(dir, 0, 0, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "mam_bench: %s\n", err);
		return 1;
	}

	/* 1. appends */
	t0 = now_ms();
	for (i = 0; i < big; i++) {
		peer_name(with, sizeof(with), rnd(20));
		len = snprintf(xml, sizeof(xml), "<message xmlns='jabber:client'"
		    " from='big@localhost/phone' to='%s' type='chat' "
		    "id='b%lu' xml:lang='en'><body>Message number %lu of the big "
		    "archive, long enough to look like a chat line.</body>"
		    "</message>", with, i, i);
		if (archive_append("big@localhost", with, xml, (size_t)len,
		    1700000000000000LL + (int64_t)i * 1000, id) != 0) {
			fprintf(stderr, "mam_bench: append failed\n");
			return 1;
		}
		/* 64 ids around the middle, to page from */
		if (i + 32 >= big / 2 && i < big / 2 + 32) {
			memcpy(mid_ids[i + 32 - big / 2], id, sizeof(id));
		}
		done++;
	}
	for (k = 0; k * 100 < per_user; k++) {
		for (u = 0; u < users; u++) {
			user_name(name, sizeof(name), u);
			for (i = 0; i < 100 && k * 100 + i < per_user; i++) {
				peer_name(with, sizeof(with), rnd(20));
				len = snprintf(xml, sizeof(xml),
				    "<message xmlns='jabber:client' from='%s/"
				    "phone' to='%s' type='chat' id='m%lu' "
				    "xml:lang='en'><body>Hello, this is "
				    "message %lu, about as long as a chat "
				    "line.</body></message>", name, with, done,
				    done);
				if (archive_append(name, with, xml,
				    (size_t)len, 1700000000000000LL +
				    (int64_t)done * 1000, id) != 0) {
					fprintf(stderr, "mam_bench: append "
					    "failed\n");
					return 1;
				}
				done++;
			}
		}
	}
	archive_flush();
	t1 = now_ms();
	printf("1. archived %lu messages in %.1f s (%.0f per second)\n", done,
	    (t1 - t0) / 1e3, (double)done / ((t1 - t0) / 1e3));
	archive_close();

	/* 2. open again */
	t0 = now_ms();
	if (archive_open(dir, 0, 0, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "mam_bench: %s\n", err);
		return 1;
	}
	t1 = now_ms();
	printf("2. open with %lu messages on disk: %.3f ms\n", done, t1 - t0);
	memset(&q, 0, sizeof(q));
	q.start_us = INT64_MIN;
	q.end_us = INT64_MAX;
	q.page_index = -1;
	q.max = 50;
	q.page_before = "";
	t0 = now_ms();
	archive_query("big@localhost", &q, count_cb, NULL, &info);
	t1 = now_ms();
	printf("   first query of the big archive (opens it): %.3f ms, %zu "
	    "results, count %llu\n", t1 - t0, info.n,
	    (unsigned long long)info.count);

	/* 3. queries */
	lat = calloc(queries, sizeof(*lat));
	printf("3. %u queries each:\n", queries);
	got = 0;
	for (k = 0; k < queries; k++) {
		user_name(name, sizeof(name), rnd(users));
		t0 = now_ms();
		archive_query(name, &q, count_cb, NULL, &info);
		lat[k] = now_ms() - t0;
	}
	report("last 50 of a user", lat, queries, got);
	got = 0;
	for (k = 0; k < queries; k++) {
		user_name(name, sizeof(name), rnd(users));
		peer_name(with, sizeof(with), rnd(20));
		with[strlen(with) - 4] = '\0';	/* the bare JID */
		q.with = with;
		t0 = now_ms();
		archive_query(name, &q, count_cb, NULL, &info);
		lat[k] = now_ms() - t0;
	}
	report("last 50 of a user with one peer", lat, queries, got);
	q.with = NULL;
	q.page_before = NULL;
	got = 0;
	for (k = 0; k < queries; k++) {
		q.page_after = mid_ids[rnd(64)];
		t0 = now_ms();
		archive_query("big@localhost", &q, count_cb, NULL, &info);
		lat[k] = now_ms() - t0;
	}
	report("a page of 50 mid-way into the big archive", lat, queries,
	    got);
	q.page_after = NULL;
	got = 0;
	for (k = 0; k < queries; k++) {
		q.page_index = (long)rnd((unsigned)big);
		t0 = now_ms();
		archive_query("big@localhost", &q, count_cb, NULL, &info);
		lat[k] = now_ms() - t0;
	}
	report("a page of 50 at a random index of the big one", lat,
	    queries, got);
	q.page_index = -1;
	q.page_before = "";
	got = 0;
	for (k = 0; k < queries; k++) {
		peer_name(with, sizeof(with), rnd(20));
		with[strlen(with) - 4] = '\0';
		q.with = with;
		t0 = now_ms();
		archive_query("big@localhost", &q, count_cb, NULL, &info);
		lat[k] = now_ms() - t0;
	}
	report("last 50 with one peer in the big archive", lat, queries, got);
	free(lat);
	printf("4. RSS %ld KiB (peak %ld KiB) with %lu messages on disk\n",
	    status_kib("VmRSS"), status_kib("VmHWM"), done);
	archive_close();
	return 0;
usage:
	fprintf(stderr, "usage: mam_bench [-n MESSAGES] [-u USERS] [-b BIG] "
	    "[-q QUERIES] DIR\n");
	return 2;
}
