/*
 * store_bench.c - figures for the record log (make bench-store).
 *
 *   store_bench [-n RECORDS] [DIR]
 *
 * 1. replay of RECORDS (default 1000000) affiliation records at start;
 * 2. appends per second with group commit (sync=always), 1, 10 and 100
 *    records per fdatasync, and with sync=batch/none;
 * 3. compaction of RECORDS live records: all at once (store_compact(), as
 *    `uxmppd store-compact` does) and in steps inside store_flush() (as the
 *    running server does), with the longest step.
 * DIR (default: a new directory under $TMPDIR or /tmp) is removed after.
 */
#include "store.h"
#include "log.h"

#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[400];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	if (f == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			v = strtol(line + 6, NULL, 10);
		}
	}
	fclose(f);
	return v;
}

static long long
log_bytes(void)
{
	char p[600];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/store.log", dir);
	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void
open_or_die(enum store_sync sync, unsigned batch_ms)
{
	char err[512];

	if (store_open(dir, sync, batch_ms, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_bench: %s\n", err);
		exit(1);
	}
}

static void
aff_key(char *b, size_t n, long i)
{
	snprintf(b, n, "room%ld@conference.localhost user%ld@localhost",
	    i / 20, i);
}

static const char *const roles[] = { "member", "admin", "owner",
	"outcast" };

/* Fill the store with n affiliation records, gen passes over them. */
static void
fill(long n, int passes)
{
	char key[128];
	long i;
	int p;

	for (p = 0; p < passes; p++) {
		for (i = 0; i < n; i++) {
			aff_key(key, sizeof(key), i);
			store_put("aff", key, roles[(i + p) & 3]);
			if ((i & 4095) == 4095) {
				store_flush();
			}
		}
		store_flush();
	}
}

static void
bench_appends(const char *label, enum store_sync sync, unsigned batch_ms,
    int batch, double seconds)
{
	char key[64];
	double t0, t;
	long n = 0, flushes = 0;
	int i;

	open_or_die(sync, batch_ms);
	t0 = now_s();
	do {
		for (i = 0; i < batch; i++) {
			snprintf(key, sizeof(key), "user%ld@localhost",
			    n % 1000);
			store_put("account", key, "SCRAM-SHA-1:4096:c2FsdA==:"
			    "c3RvcmVka2V5c3RvcmVka2V5:c2VydmVya2V5c2VydmVy");
			n++;
		}
		if (store_flush() != 0) {
			fprintf(stderr, "store_bench: flush failed\n");
			exit(1);
		}
		flushes++;
		t = now_s();
	} while (t - t0 < seconds);
	store_close();
	printf("  %-26s %9.0f appends/s  %8.0f flushes/s  (%.1f us per "
	    "flush)\n", label, (double)n / (t - t0),
	    (double)flushes / (t - t0), (t - t0) * 1e6 / (double)flushes);
}

int
main(int argc, char **argv)
{
	long n = 1000000;
	int c, made = 0, steps;
	double t0, t1, step, max_step, total;
	long long before;
	char cmd[500];

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n') {
			n = atol(optarg);
		} else {
			fprintf(stderr, "usage: store_bench [-n RECORDS] "
			    "[DIR]\n");
			return 2;
		}
	}
	if (optind < argc) {
		snprintf(dir, sizeof(dir), "%s/store_bench.%ld", argv[optind],
		    (long)getpid());
	} else {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/store_bench.%ld",
		    t ? t : "/tmp", (long)getpid());
	}
	made = 1;
	log_set_level(LOG_LEVEL_ERR);
	printf("store_bench: %ld records in %s\n", n, dir);

	/* 1. replay */
	open_or_die(STORE_SYNC_NONE, 0);
	t0 = now_s();
	fill(n, 1);
	t1 = now_s();
	store_close();
	printf("write %ld aff records (sync=none): %.3f s, %.0f records/s, "
	    "log %.1f MiB\n", n, t1 - t0, (double)n / (t1 - t0),
	    (double)log_bytes() / 1048576.0);
	{
		long r0 = rss_kib();
		t0 = now_s();
		open_or_die(STORE_SYNC_ALWAYS, 0);
		t1 = now_s();
		printf("replay %ld aff records at start: %.3f s (%.0f records/s"
		    ", %.0f MiB/s), memory +%.1f MiB\n", n, t1 - t0,
		    (double)n / (t1 - t0),
		    (double)log_bytes() / 1048576.0 / (t1 - t0),
		    (double)(rss_kib() - r0) / 1024.0);
		store_close();
	}

	/* 2. group commit */
	printf("appends with group commit (one store_flush per batch):\n");
	{
		char sub[sizeof(dir)];
		snprintf(sub, sizeof(sub), "%s", dir);
		snprintf(dir, sizeof(dir), "%.380s/appends", sub);
		bench_appends("sync=always, batch 1", STORE_SYNC_ALWAYS, 0, 1,
		    2.0);
		bench_appends("sync=always, batch 10", STORE_SYNC_ALWAYS, 0, 10,
		    2.0);
		bench_appends("sync=always, batch 100", STORE_SYNC_ALWAYS, 0,
		    100, 2.0);
		bench_appends("sync=batch 50 ms, batch 1", STORE_SYNC_BATCH, 50,
		    1, 2.0);
		bench_appends("sync=none, batch 1", STORE_SYNC_NONE, 0, 1, 1.0);
		snprintf(dir, sizeof(dir), "%s", sub);
	}

	/* 3. compaction of n live records */
	open_or_die(STORE_SYNC_ALWAYS, 0);
	fill(n, 2);	/* now 3 lines per record: 2/3 dead */
	before = log_bytes();
	t0 = now_s();
	if (store_compact() != 0) {
		fprintf(stderr, "store_bench: compaction failed\n");
		return 1;
	}
	t1 = now_s();
	printf("compaction, all at once (store-compact, fsync): %ld live "
	    "records, %.1f -> %.1f MiB in %.3f s\n", n,
	    (double)before / 1048576.0, (double)log_bytes() / 1048576.0,
	    t1 - t0);
	fill(n, 2);
	store_close();
	open_or_die(STORE_SYNC_ALWAYS, 0);
	if (store_flush_due_ms() != 0) {
		printf("compaction in steps: not due (under 1 MiB dead)\n");
		store_close();
		goto out;
	}
	before = log_bytes();
	steps = 0;
	max_step = total = 0;
	t0 = now_s();
	do {
		step = now_s();
		store_flush();
		step = now_s() - step;
		if (getenv("STORE_BENCH_VERBOSE") != NULL && step > 0.012) {
			printf("    step %d: %.1f ms\n", steps, step * 1e3);
		}
		total += step;
		if (step > max_step) {
			max_step = step;
		}
		steps++;
		/* a reactor turn with one change in between */
		store_put("aff", "room0@conference.localhost user0@localhost",
		    roles[steps & 3]);
	} while (store_flush_due_ms() == 0 && steps < 1000000 &&
	    log_bytes() >= before);
	/* then the old file is shrunk a chunk per flush */
	while (store_flush_due_ms() == 0 && steps < 1000000) {
		step = now_s();
		store_flush();
		step = now_s() - step;
		if (getenv("STORE_BENCH_VERBOSE") != NULL && step > 0.012) {
			printf("    step %d: %.1f ms\n", steps, step * 1e3);
		}
		total += step;
		if (step > max_step) {
			max_step = step;
		}
		steps++;
	}
	t1 = now_s();
	printf("compaction in steps inside store_flush (server): %.1f -> %.1f "
	    "MiB, %d steps, %.3f s in flush, longest step %.1f ms, wall "
	    "%.3f s\n", (double)before / 1048576.0,
	    (double)log_bytes() / 1048576.0, steps, total, max_step * 1e3,
	    t1 - t0);
	store_close();
out:
	if (made) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "store_bench: could not remove %s\n",
			    dir);
		}
	}
	return 0;
}
