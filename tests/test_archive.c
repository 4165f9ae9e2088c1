/*
 * test_archive.c - message archives: appends and queries (filters, pages
 * both ways, counts), ids across reopen, torn tails of data and index at
 * every byte offset, what a power cut leaves of the newest segment,
 * segments, retention, deletion, the offline check.
 */
#include "archive.h"
#include "log.h"
#include "uxlimits.h"
#include "check.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char base_dir[] = "/tmp/test_archive.XXXXXX";
static char dir[256];
static int dir_n;

static void
rm_rf(const char *p)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	if (system(cmd) != 0) {
		fprintf(stderr, "rm failed\n");
	}
}

static void
new_dir(void)
{
	archive_close();
	if (dir_n > 0) {
		rm_rf(dir);
	}
	snprintf(dir, sizeof(dir), "%s/d%d", base_dir, ++dir_n);
	mkdir(dir, 0700);
}

static int
open_arc(unsigned days, unsigned max)
{
	char err[256];

	return archive_open(dir, 0, days, max, err, sizeof(err));
}

/* What a query returned. */
struct got {
	size_t	 n;
	char	 ids[300][ARCHIVE_ID_LEN + 1];
	char	 xml[300][64];
	char	 with[300][64];
	int64_t	 t[300];
};

static int
collect(void *ud, const struct archive_msg *m)
{
	struct got *g = ud;

	if (g->n < 300) {
		snprintf(g->ids[g->n], sizeof(g->ids[0]), "%s", m->id);
		snprintf(g->xml[g->n], sizeof(g->xml[0]), "%s", m->xml);
		snprintf(g->with[g->n], sizeof(g->with[0]), "%s", m->with);
		g->t[g->n] = m->time_us;
	}
	g->n++;
	return 0;
}

static void
q_init(struct archive_query *q)
{
	memset(q, 0, sizeof(*q));
	q->start_us = INT64_MIN;
	q->end_us = INT64_MAX;
	q->max = 50;
	q->page_index = -1;
}

static int
run(const char *name, const struct archive_query *q, struct got *g,
    struct archive_page_info *info)
{
	memset(g, 0, sizeof(*g));
	return archive_query(name, q, collect, g, info);
}

static const int64_t T0 = 1700000000000000LL;
static char ids[200][ARCHIVE_ID_LEN + 1];

/* 20 messages to alice: even ones with bob (two resources), odd ones
 * with carol; one second apart. */
static void
fill(void)
{
	char xml[64];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(xml, sizeof(xml), "<message id='m%d'/>", i);
		CHECK(archive_append("alice@localhost",
		    i % 2 ? "carol@localhost" :
		    (i % 4 ? "bob@localhost/phone" : "bob@localhost/pc"),
		    xml, strlen(xml), T0 + (int64_t)i * 1000000, ids[i]) == 0);
	}
}

static void
test_basic(void)
{
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	char fid[ARCHIVE_ID_LEN + 1], lid[ARCHIVE_ID_LEN + 1];
	int64_t ft, lt;

	new_dir();
	CHECK(open_arc(0, 0) == 0);
	q_init(&q);
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0 && info.complete && info.have_count && info.count == 0);
	CHECK(archive_bounds("alice@localhost", fid, &ft, lid, &lt) == 0);
	/* a query does not create the archive */
	{
		char p[400];

		snprintf(p, sizeof(p), "%s/archive/alice@localhost", dir);
		CHECK(access(p, F_OK) != 0);
	}
	fill();
	CHECK(strlen(ids[0]) == ARCHIVE_ID_LEN);
	CHECK(strcmp(ids[0], ids[1]) != 0);
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 20 && info.n == 20 && info.complete);
	CHECK(info.count == 20 && info.first_index == 0);
	CHECK_STR(g.xml[0], "<message id='m0'/>");
	CHECK_STR(g.xml[19], "<message id='m19'/>");
	CHECK_STR(g.ids[5], ids[5]);
	CHECK_STR(info.first_id, ids[0]);
	CHECK_STR(info.last_id, ids[19]);
	CHECK(g.t[3] == T0 + 3000000);
	CHECK_STR(g.with[2], "bob@localhost/phone");
	CHECK(archive_bounds("alice@localhost", fid, &ft, lid, &lt) == 1);
	CHECK_STR(fid, ids[0]);
	CHECK_STR(lid, ids[19]);
	CHECK(ft == T0 && lt == T0 + 19000000);
	/* another archive is separate */
	CHECK(run("bob@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0);
	/* time never goes back */
	{
		char id[ARCHIVE_ID_LEN + 1];

		CHECK(archive_append("alice@localhost", "x@y", "<m/>", 4, T0,
		    id) == 0);
		q_init(&q);
		q.page_before = "";
		q.max = 1;
		CHECK(run("alice@localhost", &q, &g, &info) == 0);
		CHECK(g.n == 1 && g.t[0] == T0 + 19000000);
		CHECK_STR(g.ids[0], id);
	}
	archive_close();
}

static void
test_filters(void)
{
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	const char *set[4];

	new_dir();
	CHECK(open_arc(0, 0) == 0);
	fill();
	q_init(&q);
	q.with = "bob@localhost";
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 10 && info.complete && info.have_count);
	CHECK(info.count == 10 && info.first_index == 0);
	CHECK_STR(g.xml[1], "<message id='m2'/>");
	q.with = "bob@localhost/pc";
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 5 && info.count == 5);
	CHECK_STR(g.xml[1], "<message id='m4'/>");
	q.with = "bob@local";	/* a prefix is not a match */
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0 && info.have_count && info.count == 0);
	/* the count and index of a filtered page: carol has m1, m3, ... */
	q.with = "carol@localhost";
	q.max = 3;
	q.page_index = 2;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3 && info.count == 10 && info.first_index == 2);
	CHECK_STR(g.xml[0], "<message id='m5'/>");
	q.page_index = -1;
	q.page_before = "";
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3 && info.count == 10 && info.first_index == 7);
	CHECK_STR(g.xml[0], "<message id='m15'/>");
	q.page_before = NULL;
	q.page_after = ids[5];
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3 && info.count == 10 && info.first_index == 3);
	CHECK_STR(g.xml[0], "<message id='m7'/>");
	q.page_after = NULL;
	/* with a time range: the count is of the range */
	q.start_us = T0 + 4000000;
	q.end_us = T0 + 9000000;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3 && info.count == 3 && info.first_index == 0);
	CHECK_STR(g.xml[0], "<message id='m5'/>");
	q_init(&q);
	/* with and ids together */
	set[0] = ids[0];
	set[1] = ids[1];
	set[2] = ids[2];
	q.ids = set;
	q.nids = 3;
	q.with = "bob@localhost";
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 2 && info.count == 2 && info.first_index == 0);
	q_init(&q);
	q_init(&q);
	q.start_us = T0 + 5000000;
	q.end_us = T0 + 7000000;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3 && info.count == 3);
	CHECK_STR(g.xml[0], "<message id='m5'/>");
	CHECK_STR(g.xml[2], "<message id='m7'/>");
	q.start_us = T0 + 5500000;
	q.end_us = T0 + 5600000;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0 && info.complete);
	q_init(&q);
	q.after_id = ids[15];
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 4);
	CHECK_STR(g.xml[0], "<message id='m16'/>");
	q.before_id = ids[17];
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 1);
	q_init(&q);
	q.before_id = ids[3];
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3);
	/* unknown ids */
	q_init(&q);
	q.after_id = "00000000000000000001";
	CHECK(run("alice@localhost", &q, &g, &info) == ARCHIVE_ENOTFOUND);
	q.after_id = "nonsense";
	CHECK(run("alice@localhost", &q, &g, &info) == ARCHIVE_ENOTFOUND);
	q_init(&q);
	q.page_after = ids[2];
	CHECK(run("bob@localhost", &q, &g, &info) == ARCHIVE_ENOTFOUND);
	/* an id one past the last */
	{
		char next[ARCHIVE_ID_LEN + 1];

		snprintf(next, sizeof(next), "%.8s%012x", ids[0], 21);
		q_init(&q);
		q.before_id = next;
		CHECK(run("alice@localhost", &q, &g, &info) ==
		    ARCHIVE_ENOTFOUND);
	}
	/* ids: only these, in archive order, unknown ones ignored */
	q_init(&q);
	set[0] = ids[9];
	set[1] = ids[2];
	set[2] = "bogus";
	set[3] = ids[9];
	q.ids = set;
	q.nids = 4;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 2 && info.count == 2);
	CHECK_STR(g.xml[0], "<message id='m2'/>");
	CHECK_STR(g.xml[1], "<message id='m9'/>");
	q.with = "carol@localhost";
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 1);
	CHECK_STR(g.xml[0], "<message id='m9'/>");
	archive_close();
}

static void
test_paging(void)
{
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	char after[ARCHIVE_ID_LEN + 1], before[ARCHIVE_ID_LEN + 1];
	int pages = 0, seen = 0;

	new_dir();
	CHECK(open_arc(0, 0) == 0);
	fill();
	/* forward in pages of 6 */
	q_init(&q);
	q.max = 6;
	for (;;) {
		CHECK(run("alice@localhost", &q, &g, &info) == 0);
		CHECK(info.count == 20);
		CHECK(info.first_index == (uint64_t)seen);
		seen += (int)g.n;
		pages++;
		if (info.complete || pages > 10) {
			break;
		}
		memcpy(after, info.last_id, sizeof(after));
		q.page_after = after;
	}
	CHECK(pages == 4 && seen == 20);
	CHECK(g.n == 2);
	CHECK_STR(g.xml[1], "<message id='m19'/>");
	/* exactly full last page: complete without a further empty one */
	q_init(&q);
	q.max = 5;
	q.page_after = ids[14];
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 5 && info.complete);
	/* backward from the end */
	q_init(&q);
	q.max = 6;
	q.page_before = "";
	seen = 0;
	pages = 0;
	for (;;) {
		CHECK(run("alice@localhost", &q, &g, &info) == 0);
		seen += (int)g.n;
		pages++;
		if (pages == 1) {
			CHECK(info.first_index == 14);
			CHECK_STR(g.xml[0], "<message id='m14'/>");
			CHECK_STR(g.xml[5], "<message id='m19'/>");
		}
		if (info.complete || pages > 10) {
			break;
		}
		memcpy(before, info.first_id, sizeof(before));
		q.page_before = before;
	}
	CHECK(pages == 4 && seen == 20);
	CHECK(g.n == 2 && info.first_index == 0);
	CHECK_STR(g.xml[0], "<message id='m0'/>");
	/* backward with a filter */
	q_init(&q);
	q.with = "carol@localhost";
	q.max = 3;
	q.page_before = "";
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3 && !info.complete);
	CHECK_STR(g.xml[0], "<message id='m15'/>");
	CHECK_STR(g.xml[2], "<message id='m19'/>");
	/* index */
	q_init(&q);
	q.max = 3;
	q.page_index = 18;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 2 && info.complete && info.first_index == 18);
	CHECK_STR(g.xml[0], "<message id='m18'/>");
	q.page_index = 25;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0 && info.complete);
	q.with = "carol@localhost";
	q.page_index = 2;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3);
	CHECK_STR(g.xml[0], "<message id='m5'/>");
	/* max 0: only the count */
	q_init(&q);
	q.max = 0;
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0 && info.count == 20 && !info.complete);
	archive_close();
}

static void
test_reopen_delete(void)
{
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	char id[ARCHIVE_ID_LEN + 1], p[400];

	new_dir();
	CHECK(open_arc(0, 0) == 0);
	fill();
	CHECK(archive_flush() == 0);
	archive_close();
	CHECK(open_arc(0, 0) == 0);
	q_init(&q);
	q.after_id = ids[18];
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 1);
	CHECK_STR(g.ids[0], ids[19]);
	CHECK(archive_append("alice@localhost", "bob@localhost", "<x/>", 4,
	    T0 + 50000000, id) == 0);
	CHECK(strncmp(id, ids[0], 8) == 0 && strcmp(id, ids[19]) > 0);
	CHECK(archive_check_cmd(dir) == 0);
	CHECK(archive_delete("alice@localhost") == 0);
	snprintf(p, sizeof(p), "%s/archive/alice@localhost", dir);
	CHECK(access(p, F_OK) != 0);
	q_init(&q);
	CHECK(run("alice@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0);
	q.after_id = ids[1];
	CHECK(run("alice@localhost", &q, &g, &info) == ARCHIVE_ENOTFOUND);
	/* made again: new ids */
	CHECK(archive_append("alice@localhost", "bob@localhost", "<x/>", 4,
	    T0, id) == 0);
	CHECK(strcmp(id, ids[0]) != 0);
	CHECK(archive_delete("nobody@localhost") == 0);
	/* odd names stay inside the archive directory */
	CHECK(archive_append("../x", "b", "<x/>", 4, T0, id) == 0);
	snprintf(p, sizeof(p), "%s/archive/%%2E.%%2Fx", dir);
	CHECK(access(p, F_OK) == 0);
	archive_close();
}

static void
copy_file(const char *from, const char *to, off_t len)
{
	char b[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t r;
	off_t done = 0;

	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	while (done < len && (r = read(in, b, sizeof(b))) > 0) {
		if (r > len - done) {
			r = (ssize_t)(len - done);
		}
		if (write(out, b, (size_t)r) != r) {
			break;
		}
		done += r;
	}
	close(in);
	close(out);
}

static off_t
file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* Cut the data (which_idx 0) or the index (1) at every offset: each open
 * keeps exactly the intact records and appends after them. */
static void
test_torn(int which_idx)
{
	char dat[400], idx[400], sdat[400], sidx[400];
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	off_t size, cut, rec_end[4];
	char id[ARCHIVE_ID_LEN + 1];
	int i, bad = 0;

	new_dir();
	CHECK(open_arc(0, 0) == 0);
	snprintf(dat, sizeof(dat), "%s/archive/t@localhost/0000000000000001.dat",
	    dir);
	snprintf(idx, sizeof(idx), "%s/archive/t@localhost/0000000000000001.idx",
	    dir);
	snprintf(sdat, sizeof(sdat), "%s/saved.dat", dir);
	snprintf(sidx, sizeof(sidx), "%s/saved.idx", dir);
	rec_end[0] = 24;
	for (i = 0; i < 3; i++) {
		char xml[64];

		snprintf(xml, sizeof(xml), "<message id='t%d'><body>%d</body>"
		    "</message>", i, i);
		CHECK(archive_append("t@localhost", "u@localhost", xml,
		    strlen(xml), T0 + i, ids[i]) == 0);
		rec_end[i + 1] = file_size(dat);
	}
	archive_close();
	size = file_size(which_idx ? idx : dat);
	copy_file(dat, sdat, file_size(dat));
	copy_file(idx, sidx, file_size(idx));
	for (cut = 0; cut <= size; cut++) {
		size_t want;

		copy_file(sdat, dat, which_idx ? file_size(sdat) : cut);
		copy_file(sidx, idx, which_idx ? cut : file_size(sidx));
		if (which_idx) {
			/* a cut index loses no records: they are re-indexed */
			want = 3;
		} else {
			for (want = 0; want < 3 && rec_end[want + 1] <= cut;
			    want++) {
			}
		}
		CHECK(open_arc(0, 0) == 0);
		q_init(&q);
		if (run("t@localhost", &q, &g, &info) != 0 || g.n != want) {
			bad++;
			fprintf(stderr, "cut %lld (%s): got %zu want %zu\n",
			    (long long)cut, which_idx ? "idx" : "dat", g.n,
			    want);
		} else if (want > 0 && strcmp(g.ids[want - 1],
		    ids[want - 1]) != 0) {
			bad++;
		}
		/* the next append follows the kept ones */
		if (archive_append("t@localhost", "u@localhost", "<n/>", 4,
		    T0 + 10, id) != 0) {
			bad++;
		}
		q_init(&q);
		if (run("t@localhost", &q, &g, &info) != 0 ||
		    g.n != want + 1 || strcmp(g.xml[want], "<n/>") != 0) {
			bad++;
		}
		archive_close();
		if (archive_check_cmd(dir) != 0) {
			bad++;
		}
	}
	CHECK(bad == 0);
}

static char *
slurp(const char *path)
{
	static char b[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof(b) - 1) : -1;

	if (fd >= 0) {
		close(fd);
	}
	b[n > 0 ? n : 0] = '\0';
	return b;
}

/* What a power cut (not a kill -9) can leave of the newest segment, which
 * only ever held unsynced data: store-check must not call it damage, and
 * the next open must repair it and say so. */
static void
test_powercut_tail(void)
{
	char dat[400], idx[400], logp[400], zeros[100], xml[64];
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	int fd, i;

	new_dir();
	CHECK(open_arc(0, 0) == 0);
	snprintf(dat, sizeof(dat), "%s/archive/p@localhost/0000000000000001.dat",
	    dir);
	snprintf(idx, sizeof(idx), "%s/archive/p@localhost/0000000000000001.idx",
	    dir);
	snprintf(logp, sizeof(logp), "%s/log", dir);
	for (i = 0; i < 3; i++) {
		snprintf(xml, sizeof(xml), "<message id='p%d'/>", i);
		CHECK(archive_append("p@localhost", "u@localhost", xml,
		    strlen(xml), T0 + i, ids[i]) == 0);
	}
	archive_close();

	/* the index reached the disk, the data's last record did not */
	CHECK(truncate(dat, file_size(dat) - 5) == 0);
	CHECK(archive_check_cmd(dir) == 0);

	/* the index's last write kept a later page but not an earlier
	 * one: a zero entry before intact ones is cut there, and the
	 * records after it are indexed again */
	CHECK(log_open(logp, LOG_LEVEL_WARN) == 0);
	{
		char zidx[400], z[32], zid[3][ARCHIVE_ID_LEN + 1];

		snprintf(zidx, sizeof(zidx), "%s/archive/z@localhost/"
		    "0000000000000001.idx", dir);
		CHECK(open_arc(0, 0) == 0);
		for (i = 0; i < 3; i++) {
			snprintf(xml, sizeof(xml), "<message id='z%d'/>", i);
			CHECK(archive_append("z@localhost", "u@localhost", xml,
			    strlen(xml), T0 + i, zid[i]) == 0);
		}
		archive_close();
		memset(z, 0, sizeof(z));
		fd = open(zidx, O_WRONLY);
		CHECK(fd >= 0 && pwrite(fd, z, 32, 32) == 32);
		close(fd);
		CHECK(archive_check_cmd(dir) == 0);
		CHECK(open_arc(0, 0) == 0);
		q_init(&q);
		CHECK(run("z@localhost", &q, &g, &info) == 0 && g.n == 3);
		CHECK(g.n == 3 && strcmp(g.ids[1], zid[1]) == 0 &&
		    strcmp(g.ids[2], zid[2]) == 0);
		archive_close();
		CHECK(archive_check_cmd(dir) == 0);
		CHECK(strstr(slurp(logp), "index cut from 96 to 32") != NULL);
	}

	/* the index lost, the data kept: re-indexed, with a log line */
	CHECK(truncate(idx, 0) == 0);
	CHECK(archive_check_cmd(dir) == 0);
	CHECK(open_arc(0, 0) == 0);
	q_init(&q);
	CHECK(run("p@localhost", &q, &g, &info) == 0 && g.n == 2);
	archive_close();
	CHECK(strstr(slurp(logp), "2 records after the last index entry")
	    != NULL);
	CHECK(strstr(slurp(logp), "torn tail at offset") != NULL);

	/* a fresh segment whose header is short, or zeros (size synced,
	 * page not): not damage, rewritten at the next open */
	CHECK(truncate(dat, 10) == 0);
	CHECK(archive_check_cmd(dir) == 0);
	memset(zeros, 0, sizeof(zeros));
	fd = open(dat, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, zeros, sizeof(zeros)) ==
	    (ssize_t)sizeof(zeros));
	close(fd);
	fd = open(idx, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, zeros, 32) == 32);
	close(fd);
	CHECK(archive_check_cmd(dir) == 0);
	CHECK(open_arc(0, 0) == 0);
	q_init(&q);
	CHECK(run("p@localhost", &q, &g, &info) == 0 && g.n == 0);
	CHECK(archive_append("p@localhost", "u@localhost", "<n/>", 4, T0 + 9,
	    ids[0]) == 0);
	q_init(&q);
	CHECK(run("p@localhost", &q, &g, &info) == 0 && g.n == 1);
	archive_close();
	CHECK(strstr(slurp(logp), "torn segment header rewritten") != NULL);
	CHECK(archive_check_cmd(dir) == 0);

	/* the newest index's directory entry did not make it */
	CHECK(unlink(idx) == 0);
	CHECK(archive_check_cmd(dir) == 0);
	CHECK(open_arc(0, 0) == 0);
	q_init(&q);
	CHECK(run("p@localhost", &q, &g, &info) == 0 && g.n == 1);
	archive_close();
	CHECK(archive_check_cmd(dir) == 0);

	/* a new archive's directory whose first segment's entries were
	 * undone: nothing to check, nothing wrong (store-check ran qsort on
	 * a NULL array here; found by make store-crash-sim under UBSan) */
	snprintf(dat, sizeof(dat), "%s/archive/fresh@localhost", dir);
	CHECK(mkdir(dat, 0700) == 0);
	CHECK(archive_check_cmd(dir) == 0);
	log_open(NULL, LOG_LEVEL_ERR);
}

static void
test_segments_retention(void)
{
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	char id[ARCHIVE_ID_LEN + 1], first[ARCHIVE_ID_LEN + 1];
	char mid[ARCHIVE_ID_LEN + 1], p[400];
	int64_t now = T0 + 1000LL * 86400 * 1000000;
	int i, n = 65536 + 100;

	new_dir();
	CHECK(open_arc(0, 1000) == 0);
	for (i = 0; i < n; i++) {
		char xml[32];

		snprintf(xml, sizeof(xml), "<m n='%d'/>", i);
		if (archive_append("s@localhost", i % 10 ? "a@x" : "b@x", xml,
		    strlen(xml), T0 + i, id) != 0) {
			break;
		}
		if (i == 0) {
			memcpy(first, id, sizeof(first));
		}
		if (i == 65535 - 5) {
			memcpy(mid, id, sizeof(mid));
		}
	}
	CHECK(i == n);
	snprintf(p, sizeof(p), "%s/archive/s@localhost/0000000000010001.dat",
	    dir);
	CHECK(access(p, F_OK) == 0);
	/* only the last 1000 are visible */
	q_init(&q);
	q.max = 5;
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK(info.count == 1000);
	CHECK(g.n == 5);
	CHECK_STR(g.xml[0], "<m n='64636'/>");
	/* a filtered count over both segments: every tenth is b@x */
	q.with = "b@x";
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 5 && info.have_count && info.count == 100);
	CHECK_STR(g.xml[0], "<m n='64640'/>");
	q.page_before = "";
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 5 && info.count == 100 && info.first_index == 95);
	CHECK_STR(g.xml[4], "<m n='65630'/>");
	q_init(&q);
	q.max = 5;
	q.after_id = first;
	CHECK(run("s@localhost", &q, &g, &info) == ARCHIVE_ENOTFOUND);
	archive_close();
	/* without the limit: across the segment boundary */
	CHECK(open_arc(0, 0) == 0);
	q_init(&q);
	q.max = 10;
	q.page_after = mid;
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 10);
	CHECK_STR(g.xml[9], "<m n='65540'/>");
	q_init(&q);
	q.max = 3;
	q.with = "b@x";
	q.page_before = "";
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3);
	CHECK_STR(g.xml[2], "<m n='65630'/>");
	q_init(&q);
	q.start_us = T0 + 65530;
	q.max = 10;
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK_STR(g.xml[0], "<m n='65530'/>");
	CHECK(info.count == (uint64_t)n - 65530);
	archive_close();
	/* expiry by count deletes the first segment, keeps the rest */
	CHECK(open_arc(0, 50) == 0);
	archive_compact_step(now);
	snprintf(p, sizeof(p), "%s/archive/s@localhost/0000000000000001.dat",
	    dir);
	CHECK(access(p, F_OK) != 0);
	q_init(&q);
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK(info.count == 50);
	archive_close();
	/* expiry by age: everything is past a week; numbering goes on */
	CHECK(open_arc(7, 0) == 0);
	archive_compact_step(now);
	q_init(&q);
	CHECK(run("s@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0 && info.count == 0);
	CHECK(archive_append("s@localhost", "a@x", "<new/>", 6, now, id) == 0);
	CHECK(strncmp(id, first, 8) == 0);
	CHECK(strtoull(id + 8, NULL, 16) == (unsigned long long)n + 1);
	archive_close();
	CHECK(open_arc(7, 0) == 0);
	CHECK(archive_check_cmd(dir) == 0);
	archive_close();
}

/* The count under a 'with' filter checks each record's JID, so two JIDs
 * with one hash count apart; past MAM_COUNT_SCAN_MAX entries there is no
 * count, but a narrower selection has one again. */
static void
test_count_with(void)
{
	/* FNV-1a (the index's hash) of both is 0xb1361f01 */
	static const char *const twin[2] = { "u31992@localhost",
	    "u605430@localhost" };
	struct archive_query q;
	struct archive_page_info info;
	struct got g;
	char id[ARCHIVE_ID_LEN + 1], xml[32];
	int i, n = MAM_COUNT_SCAN_MAX + 2;

	new_dir();
	CHECK(open_arc(0, 0) == 0);
	for (i = 0; i < 5; i++) {
		snprintf(xml, sizeof(xml), "<m n='%d'/>", i);
		CHECK(archive_append("k@localhost", twin[i % 2 ? 1 : 0], xml,
		    strlen(xml), T0 + i, id) == 0);
	}
	q_init(&q);
	q.with = twin[0];
	CHECK(run("k@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 3 && info.have_count && info.count == 3);
	q.with = twin[1];
	q.max = 1;
	q.page_before = "";
	CHECK(run("k@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 1 && info.count == 2 && info.first_index == 1);
	CHECK_STR(g.xml[0], "<m n='3'/>");
	q.with = "u31992@localhost/res";	/* no such resource */
	q.page_before = NULL;
	CHECK(run("k@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 0 && info.have_count && info.count == 0);

	for (i = 0; i < n; i++) {
		snprintf(xml, sizeof(xml), "<m n='%d'/>", i);
		if (archive_append("big@localhost", i % 2 ? "a@x" : "b@x/r",
		    xml, strlen(xml), T0 + i, id) != 0) {
			break;
		}
	}
	CHECK(i == n);
	q_init(&q);
	q.with = "b@x";
	q.max = 2;
	CHECK(run("big@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 2 && !info.have_count && !info.complete);
	CHECK_STR(g.xml[1], "<m n='2'/>");
	q.start_us = T0 + n - 100;
	CHECK(run("big@localhost", &q, &g, &info) == 0);
	CHECK(g.n == 2 && info.have_count && info.count == 50 &&
	    info.first_index == 0);
	archive_close();
}

int
main(void)
{
	log_set_level(LOG_LEVEL_ERR);
	if (mkdtemp(base_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_basic();
	test_filters();
	test_paging();
	test_reopen_delete();
	test_torn(0);
	test_torn(1);
	test_powercut_tail();
	test_segments_retention();
	test_count_with();
	archive_close();
	rm_rf(base_dir);
	return check_summary("archive");
}
