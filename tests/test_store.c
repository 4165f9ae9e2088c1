/*
 * test_store.c - the record log: round trips, torn tails at every offset,
 * corrupt middles, compaction (also interrupted and interleaved with
 * writes), the directory lock, sequence numbers, prefixes, flush semantics.
 */
#include "store.h"
#include "log.h"
#include "check.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char base_dir[] = "/tmp/test_store.XXXXXX";
static char dir[256], log_path[300], tmp_path[300];
static int dir_n;

/* A fresh, empty data directory for each test; the previous one goes. */
static void
new_dir(void)
{
	static const char *const names[] = {
		"store.log", "store.log.tmp", "store.lock",
	};
	char p[400];
	size_t i;

	if (dir_n > 0) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	snprintf(dir, sizeof(dir), "%s/d%d", base_dir, ++dir_n);
	snprintf(log_path, sizeof(log_path), "%s/store.log", dir);
	snprintf(tmp_path, sizeof(tmp_path), "%s/store.log.tmp", dir);
}

static int
open_store(enum store_sync sync, unsigned batch_ms, char *err, size_t errlen)
{
	char dummy[512];

	if (err == NULL) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	return store_open(dir, sync, batch_ms, err, errlen);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL) {
		*len = 0;
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
		abort();
	}
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void
write_file(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		abort();
	}
}

static long long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* Run fn with stdout sent to a file; returns fn's result and the output
 * (caller frees). */
static int
capture(int (*fn)(const char *), const char *arg, char **out)
{
	char path[700];
	size_t n;
	int saved, fd, rc;

	snprintf(path, sizeof(path), "%s/capture.txt", base_dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	rc = fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = read_file(path, &n);
	return rc;
}

/* ---- round trip ---- */

static const char *const awkward[] = {
	"",
	"plain",
	"tab\there",
	"new\nline",
	"back\\slash",
	"\\t not a tab, \\n not a newline, \\x41 not an A",
	"cr\rlf\r\n",
	"\x01\x02\x1f\x7f ctl",
	"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80",	/* UTF-8 */
	"\xff\xfe raw high bytes",
	"trailing backslash\\",
	"\t\t\t",
	"ends with newline\n",
	"SCRAM-SHA-1:4096:c2FsdA==:c3RvcmVk:c2VydmVy",
};
#define NAWK (sizeof(awkward) / sizeof(awkward[0]))

static const char *const kinds[] = {
	"account", "room", "roomcfg", "aff", "nick", "offline", "k\tind\n\\",
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static void
test_round_trip(void)
{
	char key[128], err[512];
	size_t k, i;
	char all[256];
	int ok;

	new_dir();
	CHECK(open_store(STORE_SYNC_ALWAYS, 0, err, sizeof(err)) == 0);
	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < NAWK; i++) {
			/* awkward keys too, made unique by a prefix */
			snprintf(key, sizeof(key), "%zu%s", i, awkward[i]);
			CHECK(store_put(kinds[k], key, awkward[i]) == 0);
			CHECK(store_put(kinds[k], awkward[i],
			    awkward[NAWK - 1 - i]) == 0);
		}
	}
	for (i = 1; i < 256; i++) {
		all[i - 1] = (char)i;
	}
	all[255] = '\0';
	CHECK(store_put("bytes", all, all) == 0);
	CHECK_STR(store_get("bytes", all), all);
	CHECK(store_flush() == 0);
	store_close();

	CHECK(open_store(STORE_SYNC_ALWAYS, 0, err, sizeof(err)) == 0);
	ok = 1;
	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < NAWK; i++) {
			const char *v, *w, *want_w = awkward[NAWK - 1 - i];

			snprintf(key, sizeof(key), "%zu%s", i, awkward[i]);
			v = store_get(kinds[k], key);
			w = store_get(kinds[k], awkward[i]);
			if (v == NULL || strcmp(v, awkward[i]) != 0 ||
			    w == NULL || strcmp(w, want_w) != 0) {
				ok = 0;
				fprintf(stderr, "round trip: kind %zu value "
				    "%zu\n", k, i);
			}
		}
	}
	CHECK(ok);
	CHECK_STR(store_get("bytes", all), all);
	CHECK(store_get("account", "nobody") == NULL);
	CHECK(store_get("no-such-kind", "x") == NULL);
	store_close();

	/* the log is text: one line per record, no raw control bytes */
	{
		size_t n, j, lines = 0;
		char *p = read_file(log_path, &n);

		ok = 1;
		for (j = 0; j < n; j++) {
			unsigned char c = (unsigned char)p[j];
			if (c == '\n') {
				lines++;
			} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				ok = 0;
			}
		}
		CHECK(ok);
		CHECK(lines == 1 + NKINDS * NAWK * 2 + 1);
		free(p);
	}
}

static void
test_api_edges(void)
{
	char err[512];

	CHECK(store_put("account", "a", "b") == -1);	/* not open */
	CHECK(store_get("account", "a") == NULL);
	CHECK(store_flush() == -1);
	CHECK(store_flush_due_ms() == -1);
	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "already open") != NULL);
	CHECK(store_put("", "a", "b") == -1);		/* empty kind */
	CHECK(store_put("account", "a", NULL) == -1);
	CHECK(store_del("account", "missing") == 0);	/* a no-op */
	CHECK(store_put("account", "", "empty key") == 0);
	CHECK_STR(store_get("account", ""), "empty key");
	CHECK(store_flush_due_ms() == 0);		/* queued */
	CHECK(store_pending());
	CHECK(store_flush() == 0);
	CHECK(!store_pending());
	CHECK(store_flush_due_ms() == -1);
	/* a store that refuses changes changes nothing */
	CHECK(store_writable());
	store_test_refuse_changes(1);
	CHECK(!store_writable());
	CHECK(store_put("account", "", "refused") == -1);
	CHECK(store_put("account", "new", "refused") == -1);
	CHECK(store_del("account", "") == -1);
	CHECK(!store_pending());
	CHECK_STR(store_get("account", ""), "empty key");
	CHECK(store_get("account", "new") == NULL);
	store_test_refuse_changes(0);
	CHECK(store_writable());
	store_close();
	CHECK(!store_writable());
	{
		enum store_sync s;
		CHECK(store_sync_parse("always", &s) == 0 &&
		    s == STORE_SYNC_ALWAYS);
		CHECK(store_sync_parse("batch", &s) == 0 &&
		    s == STORE_SYNC_BATCH);
		CHECK(store_sync_parse("none", &s) == 0 &&
		    s == STORE_SYNC_NONE);
		CHECK(store_sync_parse("sometimes", &s) == -1);
	}
	/* an empty store.log (never written by us) starts afresh */
	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	store_close();
	write_file(log_path, "", 0);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK(store_put("a", "b", "c") == 0);
	store_close();
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK_STR(store_get("a", "b"), "c");
	store_close();
	/* an unknown format version is refused, with a right checksum */
	write_file(log_path, "uxmppd-store\t2\t0\t193a34a0\n", 26);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "store.log:1:") != NULL);
	CHECK(strstr(err, "version") != NULL);
	/* the header our writer makes is the one expected */
	{
		char *p;
		size_t n;

		new_dir();
		CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
		store_close();
		p = read_file(log_path, &n);
		CHECK_STR(p, "uxmppd-store\t1\t0\t0b8f9b4e\n");
		free(p);
	}
}

static void
val_for_kill(char *b, size_t n, long k)
{
	snprintf(b, n, "value %ld \t with \\ escapes \n", k);
}

/* ---- the log as records, for the file tests ---- */

struct op {
	int	 put;
	char	 key[32];
	char	 val[64];
};

#define NOPS 40
static struct op ops[NOPS];

/* A mix of puts, overwrites and deletes with awkward values. */
static void
make_ops(void)
{
	int i;

	for (i = 0; i < NOPS; i++) {
		ops[i].put = (i % 7) != 5;
		snprintf(ops[i].key, sizeof(ops[i].key), "user%d@localhost",
		    (i * 3) % 11);
		snprintf(ops[i].val, sizeof(ops[i].val), "v%d %s", i,
		    awkward[i % NAWK]);
	}
}

/* Write ops[0..n) in several flushes. */
static void
write_ops(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (ops[i].put) {
			store_put("aff", ops[i].key, ops[i].val);
		} else {
			store_del("aff", ops[i].key);
		}
		if (i % 3 == 2) {
			store_flush();
		}
	}
	store_flush();
}

/* Does the open store hold exactly the result of ops[0..m)? */
static int
state_matches(int m)
{
	const char *want[11], *got;
	char key[32];
	int i, ok = 1;

	memset(want, 0, sizeof(want));
	for (i = 0; i < m; i++) {
		int u = (i * 3) % 11;
		want[u] = ops[i].put ? ops[i].val : NULL;
	}
	for (i = 0; i < 11; i++) {
		snprintf(key, sizeof(key), "user%d@localhost", i);
		got = store_get("aff", key);
		if ((got == NULL) != (want[i] == NULL) ||
		    (got != NULL && strcmp(got, want[i]) != 0)) {
			ok = 0;
		}
	}
	return ok;
}

/* Offsets where each line ends (after its newline). */
static int
line_ends(const char *p, size_t n, size_t *ends, int max)
{
	size_t i;
	int k = 0;

	for (i = 0; i < n && k < max; i++) {
		if (p[i] == '\n') {
			ends[k++] = i + 1;
		}
	}
	return k;
}

static void
test_torn_tail(void)
{
	char *full, err[512];
	size_t n, cut, ends[NOPS + 2];
	int nlines, m, bad_state = 0, bad_size = 0, bad_open = 0;
	int bad_after = 0;

	make_ops();
	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	write_ops(NOPS);
	store_close();
	full = read_file(log_path, &n);
	nlines = line_ends(full, n, ends, NOPS + 2);
	/* deletes of missing keys write nothing, so count records */
	CHECK(nlines >= 2);

	/* Truncate at every byte offset: replay keeps exactly the complete
	 * groups before the cut (a flush's records; all but the last of a
	 * group are "put+"/"del+") and the file is cut back to them. */
	for (cut = 0; cut <= n; cut++) {
		size_t keep = 0;
		int complete = 0, i;

		for (i = 0; i < nlines; i++) {
			size_t st = i == 0 ? 0 : ends[i - 1];
			const char *t = memchr(full + st, '\t', ends[i] - st);

			if (i > 0 && t != NULL && t[4] == '+') {
				continue;	/* not the end of a group */
			}
			if (ends[i] <= cut) {
				keep = ends[i];
				complete = i + 1;
			}
		}
		new_dir();
		mkdir(dir, 0700);
		write_file(log_path, full, cut);
		if (open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
			bad_open++;
			fprintf(stderr, "cut %zu: %s\n", cut, err);
			continue;
		}
		/* records are lines 2..; which ops do they hold? */
		m = 0;
		{
			int recs = complete > 0 ? complete - 1 : 0, seen = 0;
			int present[11] = { 0 };

			/* replay the op list the way the writer did:
			 * deletes of absent keys wrote no record */
			for (i = 0; i < NOPS && seen < recs; i++) {
				int u = (i * 3) % 11;
				if (ops[i].put || present[u]) {
					seen++;
				}
				present[u] = ops[i].put;
				m = i + 1;
			}
			if (recs == 0) {
				m = 0;
			}
		}
		if (!state_matches(m)) {
			bad_state++;
			fprintf(stderr, "cut %zu: wrong state (m=%d)\n", cut,
			    m);
		}
		store_close();
		if (complete >= 1) {
			if ((size_t)file_size(log_path) != keep) {
				bad_size++;
			}
		} else if ((size_t)file_size(log_path) != ends[0]) {
			/* header torn: a fresh header is written */
			bad_size++;
		}
		/* and the store goes on working after the repair */
		if (open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) != 0 ||
		    store_put("aff", "after", "cut") != 0 ||
		    store_flush() != 0) {
			bad_after++;
		}
		store_close();
		if (open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) != 0 ||
		    store_get("aff", "after") == NULL || !state_matches(m)) {
			bad_after++;
		}
		store_close();
	}
	CHECK(bad_open == 0);
	CHECK(bad_state == 0);
	CHECK(bad_size == 0);
	CHECK(bad_after == 0);

	/* A torn tail that is a run of zeros (size updated, data not). */
	new_dir();
	mkdir(dir, 0700);
	{
		char *z = malloc(n + 4096);
		memcpy(z, full, n);
		memset(z + n, 0, 4096);
		write_file(log_path, z, n + 4096);
		free(z);
	}
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK(state_matches(NOPS));
	store_close();
	CHECK((size_t)file_size(log_path) == n);
	free(full);
}

/*
 * A PEP publish that replaces an item is a delete and a put in one flush,
 * one write(2).  A power cut that keeps only a prefix of that write must
 * not keep the delete without the put: the old item was acknowledged.
 */
static void
test_torn_group(void)
{
	char *full, err[512];
	size_t n, first, cut;
	int bad_old = 0, bad_size = 0, bad_open = 0;
	const char *v;

	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	CHECK(store_put("ps-item", "node old", "<item>acked</item>") == 0);
	CHECK(store_flush() == 0);
	first = (size_t)file_size(log_path);
	CHECK(store_del("ps-item", "node old") == 0);
	CHECK(store_put("ps-item", "node new", "<item>next</item>") == 0);
	CHECK(store_put("ps-meta", "node", "new") == 0);
	CHECK(store_flush() == 0);
	store_close();
	full = read_file(log_path, &n);
	/* all but the group's last record are marked */
	CHECK(strstr(full + first, "\tdel+\tps-item\t") != NULL);
	CHECK(strstr(full + first, "\tput+\tps-item\t") != NULL);
	CHECK(strstr(full + first, "\tput\tps-meta\t") != NULL);

	for (cut = first; cut < n; cut++) {
		new_dir();
		mkdir(dir, 0700);
		write_file(log_path, full, cut);
		if (open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
			bad_open++;
			fprintf(stderr, "group cut %zu: %s\n", cut, err);
			continue;
		}
		v = store_get("ps-item", "node old");
		if (v == NULL || strcmp(v, "<item>acked</item>") != 0 ||
		    store_get("ps-item", "node new") != NULL ||
		    store_get("ps-meta", "node") != NULL) {
			bad_old++;
			fprintf(stderr, "group cut %zu: half a group applied\n",
			    cut);
		}
		store_close();
		if ((size_t)file_size(log_path) != first) {
			bad_size++;
		}
	}
	CHECK(bad_open == 0);
	CHECK(bad_old == 0);
	CHECK(bad_size == 0);

	/* whole, the group is applied */
	new_dir();
	mkdir(dir, 0700);
	write_file(log_path, full, n);
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	CHECK(store_get("ps-item", "node old") == NULL);
	CHECK_STR(store_get("ps-item", "node new"), "<item>next</item>");
	CHECK_STR(store_get("ps-meta", "node"), "new");
	store_close();
	free(full);
}

/*
 * The last write straddles a page boundary and the power cut kept the
 * file's new size and the second page but not the first: zeros up to the
 * boundary, then intact lines.  Those lines were never synced (a sync
 * covers everything before it), so it is a torn tail, not corruption.
 */
static void
test_unwritten_page(void)
{
	char *full, key[32], val[200], err[512];
	size_t n, synced;
	int i, bad = 0;

	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	memset(val, 'x', 150);
	val[150] = '\0';
	for (i = 0; (size_t)file_size(log_path) < 4096 - 250; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK(store_put("aff", key, val) == 0);
		CHECK(store_flush() == 0);
	}
	synced = (size_t)file_size(log_path);
	CHECK(store_put("aff", "g1", val) == 0);
	CHECK(store_put("aff", "g2", val) == 0);
	CHECK(store_put("aff", "g3", val) == 0);
	CHECK(store_flush() == 0);
	store_close();
	full = read_file(log_path, &n);
	CHECK(n > 4096 + 200);
	memset(full + synced, 0, 4096 - synced);
	new_dir();
	mkdir(dir, 0700);
	write_file(log_path, full, n);
	if (open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "unwritten page: %s\n", err);
		bad++;
	} else {
		CHECK(store_get("aff", "k0") != NULL);
		CHECK(store_get("aff", "g1") == NULL);
		CHECK(store_get("aff", "g3") == NULL);
		store_close();
		CHECK((size_t)file_size(log_path) == synced);
	}
	CHECK(bad == 0);

	/* zeros that end inside a page are not an unwritten page: a bad
	 * line with intact ones after it still stops the open */
	full[4096 - 1] = 'x';
	new_dir();
	mkdir(dir, 0700);
	write_file(log_path, full, n);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) != 0);
	free(full);
}

static void
test_corrupt_middle(void)
{
	char *full, *bad, err[512], want[400], *out;
	size_t n, ends[NOPS + 2], pos;
	int nlines, line, wrong = 0, tested = 0, rc;

	make_ops();
	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	write_ops(NOPS);
	store_close();
	full = read_file(log_path, &n);
	nlines = line_ends(full, n, ends, NOPS + 2);
	bad = malloc(n);

	/* Flip each byte of every line but the last: the open fails naming
	 * file:line.  (A flipped newline merges two lines; keep that for the
	 * lines whose next line is not the last, where a later intact line
	 * still shows the damage is in the middle.) */
	for (line = 1; line < nlines; line++) {
		size_t start = line == 1 ? 0 : ends[line - 2];
		for (pos = start; pos < ends[line - 1]; pos++) {
			if (full[pos] == '\n' && line >= nlines - 1) {
				continue;
			}
			memcpy(bad, full, n);
			bad[pos] ^= 0x01;
			new_dir();
			mkdir(dir, 0700);
			write_file(log_path, bad, n);
			tested++;
			rc = open_store(STORE_SYNC_NONE, 0, err, sizeof(err));
			snprintf(want, sizeof(want), "%s:%d:", log_path, line);
			if (rc == 0 || strstr(err, want) == NULL) {
				wrong++;
				fprintf(stderr, "flip at %zu (line %d): rc %d "
				    "err '%s'\n", pos, line, rc, err);
			}
			if (rc == 0) {
				store_close();
			}
			/* nothing was changed on disk */
			if ((size_t)file_size(log_path) != n) {
				wrong++;
			}
		}
	}
	CHECK(tested > 500);
	CHECK(wrong == 0);

	/* store-check explains it: line, offset, intact records after */
	memcpy(bad, full, n);
	bad[ends[3] + 2] ^= 0x01;	/* inside line 5 */
	new_dir();
	mkdir(dir, 0700);
	write_file(log_path, bad, n);
	rc = capture(store_check_cmd, dir, &out);
	CHECK(rc == 1);
	snprintf(want, sizeof(want), "%s:5: CORRUPT", log_path);
	CHECK(out != NULL && strstr(out, want) != NULL);
	CHECK(out != NULL && strstr(out, "intact record(s) follow") != NULL);
	free(out);
	rc = capture(store_dump_cmd, dir, &out);
	CHECK(rc == 1);
	free(out);

	/* Flip a byte of the last line: a torn tail, truncated. */
	memcpy(bad, full, n);
	bad[n - 3] ^= 0x01;
	new_dir();
	mkdir(dir, 0700);
	write_file(log_path, bad, n);
	rc = capture(store_check_cmd, dir, &out);
	CHECK(rc == 0);
	CHECK(out != NULL && strstr(out, "torn last record") != NULL);
	free(out);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	store_close();
	CHECK((size_t)file_size(log_path) == ends[nlines - 2]);

	/* A line with a good checksum but a bad sequence number is not a
	 * torn write, even when last: refused. */
	{
		/* swap the last two lines: both checksums stay right */
		size_t a = ends[nlines - 3], b = ends[nlines - 2];
		memcpy(bad, full, a);
		memcpy(bad + a, full + b, n - b);
		memcpy(bad + a + (n - b), full + a, b - a);
		new_dir();
		mkdir(dir, 0700);
		write_file(log_path, bad, n);
		rc = open_store(STORE_SYNC_NONE, 0, err, sizeof(err));
		CHECK(rc == -1);
		CHECK(strstr(err, "sequence") != NULL);
		if (rc == 0) {
			store_close();
		}
		/* a lost line in the middle: gap */
		memcpy(bad, full, ends[2]);
		memcpy(bad + ends[2], full + ends[3], n - ends[3]);
		new_dir();
		mkdir(dir, 0700);
		write_file(log_path, bad, n - (ends[3] - ends[2]));
		rc = open_store(STORE_SYNC_NONE, 0, err, sizeof(err));
		CHECK(rc == -1);
		snprintf(want, sizeof(want), "%s:4:", log_path);
		CHECK(strstr(err, want) != NULL);
		if (rc == 0) {
			store_close();
		}
	}
	free(bad);
	free(full);
}

/* A line too long to be a record (10 MiB, no newline) at the end is torn;
 * followed by an intact line it is corruption. */
static void
test_long_line(void)
{
	char *full, *big, err[512];
	size_t n, bn = 10u * 1024 * 1024;

	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	store_put("account", "a@x", "1");
	store_put("account", "b@x", "2");
	store_close();
	full = read_file(log_path, &n);
	big = malloc(n + bn + n);
	memcpy(big, full, n);
	memset(big + n, 'x', bn);
	write_file(log_path, big, n + bn);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK_STR(store_get("account", "b@x"), "2");
	store_close();
	CHECK((size_t)file_size(log_path) == n);
	/* the same with a newline and the last record again after it */
	big[n + bn - 1] = '\n';
	{
		const char *last = full + n - 1;
		size_t ll;
		while (last > full && last[-1] != '\n') {
			last--;
		}
		ll = (size_t)(full + n - last);
		memcpy(big + n + bn, last, ll);
		write_file(log_path, big, n + bn + ll);
	}
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "store.log:4:") != NULL);
	free(big);
	free(full);
}

/*
 * kill -9 of a writer at random points: every change whose store_flush()
 * returned (the point where the server sends its acknowledgement) is there
 * afterwards, and the store opens cleanly.  (A real power cut also loses
 * the page cache; that needs a VM or dm-log-writes and is not done here.)
 */
static void
test_kill_writer(void)
{
	char key[64], val[128], err[512];
	int round, p[2], st, ok = 1, opened = 1;
	long acked, got, i;
	pid_t pid;
	ssize_t n;

	new_dir();
	for (round = 0; round < 8; round++) {
		if (pipe(p) != 0) {
			abort();
		}
		pid = fork();
		if (pid == 0) {
			long k = 0;
			close(p[0]);
			if (open_store(STORE_SYNC_ALWAYS, 0, NULL, 0) != 0) {
				_exit(2);
			}
			/* continue after what the store holds */
			while (snprintf(key, sizeof(key), "r%ld", k),
			    store_get("acct", key) != NULL) {
				k++;
			}
			for (;; k++) {
				snprintf(key, sizeof(key), "r%ld", k);
				val_for_kill(val, sizeof(val), k);
				store_put("acct", key, val);
				store_put("junk", "overwritten", val);
				if (store_flush() != 0) {
					_exit(3);
				}
				/* acknowledged: tell the parent */
				if (write(p[1], &k, sizeof(k)) != sizeof(k)) {
					_exit(4);
				}
			}
		}
		close(p[1]);
		usleep(20000 + (useconds_t)(rand() % 80000));
		kill(pid, SIGKILL);
		acked = -1;
		while ((n = read(p[0], &got, sizeof(got))) == sizeof(got)) {
			acked = got;
		}
		close(p[0]);
		waitpid(pid, &st, 0);
		if (open_store(STORE_SYNC_ALWAYS, 0, err, sizeof(err)) != 0) {
			opened = 0;
			fprintf(stderr, "kill round %d: %s\n", round, err);
			break;
		}
		for (i = 0; i <= acked; i++) {
			const char *v;
			snprintf(key, sizeof(key), "r%ld", i);
			val_for_kill(val, sizeof(val), i);
			v = store_get("acct", key);
			if (v == NULL || strcmp(v, val) != 0) {
				ok = 0;
			}
		}
		store_close();
	}
	CHECK(opened);
	CHECK(ok);
}

/* ---- sequence numbers ---- */

/* Check the log's sequence rules; returns the last seq or 0 on error. */
static unsigned long long
check_seqs(unsigned long long *base_out)
{
	char *p, *line, *save = NULL;
	size_t n;
	unsigned long long base, seq, last = 0;
	int first = 1, ok = 1;

	p = read_file(log_path, &n);
	if (p == NULL) {
		return 0;
	}
	for (line = strtok_r(p, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			if (sscanf(line, "uxmppd-store\t1\t%llu\t",
			    &base) != 1) {
				ok = 0;
			}
			first = 0;
			continue;
		}
		seq = strtoull(line, NULL, 10);
		if (seq <= last) {
			ok = 0;
		}
		if (seq > base && last >= base && seq != last + 1 &&
		    !(last < base + 1 && seq == base + 1)) {
			ok = 0;
		}
		last = seq;
	}
	free(p);
	if (base_out != NULL) {
		*base_out = base;
	}
	return ok ? (last > base ? last : base) : 0;
}

static void
test_seq_monotonic(void)
{
	unsigned long long s1, s2, s3, base;
	char key[32];
	int i;

	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i % 10);
		store_put("room", key, "x");
	}
	store_del("room", "k3");
	store_flush();
	s1 = check_seqs(&base);
	CHECK(s1 == 101 && base == 0);
	CHECK(store_compact() == 0);
	s2 = check_seqs(&base);
	CHECK(s2 == 101 && base == 101);
	for (i = 0; i < 5; i++) {
		store_put("room", "new", "y");
	}
	store_flush();
	s3 = check_seqs(&base);
	CHECK(s3 == 106);
	store_close();
	/* and across a reopen */
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	store_put("room", "after", "z");
	store_flush();
	CHECK(check_seqs(NULL) == 107);
	store_close();
}

/* ---- prefixes ---- */

struct collect {
	int	 n;
	char	 keys[16][64];
	int	 stop_after;
};

static int
collect_fn(void *ud, const char *key, const char *value)
{
	struct collect *c = ud;

	(void)value;
	if (c->n < 16) {
		snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
	}
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static int
has_key(const struct collect *c, const char *k)
{
	int i;

	for (i = 0; i < c->n && i < 16; i++) {
		if (strcmp(c->keys[i], k) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
test_foreach(void)
{
	struct collect c;

	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	store_put("aff", "room1@c a@x", "owner");
	store_put("aff", "room1@c b@x", "member");
	store_put("aff", "room10@c a@x", "admin");
	store_put("aff", "room2@c a@x", "member");
	store_put("aff", "room1@c gone@x", "member");
	store_del("aff", "room1@c gone@x");
	store_put("nick", "room1@c a@x", "alice");

	memset(&c, 0, sizeof(c));
	store_foreach("aff", "room1@c ", collect_fn, &c);
	CHECK(c.n == 2);
	CHECK(has_key(&c, "room1@c a@x") && has_key(&c, "room1@c b@x"));
	memset(&c, 0, sizeof(c));
	store_foreach("aff", "room1", collect_fn, &c);
	CHECK(c.n == 3);
	memset(&c, 0, sizeof(c));
	store_foreach("aff", NULL, collect_fn, &c);
	CHECK(c.n == 4);
	memset(&c, 0, sizeof(c));
	store_foreach("aff", "", collect_fn, &c);
	CHECK(c.n == 4);
	memset(&c, 0, sizeof(c));
	store_foreach("aff", "room1@c a@x and more", collect_fn, &c);
	CHECK(c.n == 0);
	memset(&c, 0, sizeof(c));
	store_foreach("nosuchkind", NULL, collect_fn, &c);
	CHECK(c.n == 0);
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	store_foreach("aff", NULL, collect_fn, &c);
	CHECK(c.n == 2);
	/* replaced values keep showing once */
	store_put("aff", "room1@c a@x", "admin");
	memset(&c, 0, sizeof(c));
	store_foreach("aff", "room1@c ", collect_fn, &c);
	CHECK(c.n == 2);
	store_close();
}

/* ---- compaction ---- */

static void
val_for(char *b, size_t n, int i, int gen)
{
	snprintf(b, n, "gen%d value %d with\ttab and some padding %08d", gen,
	    i, i * 7);
}

static void
test_compaction(void)
{
	char key[64], val[128];
	long long before, after;
	int i, ok, steps;
	char *out;

	/* explicit compaction keeps exactly the live state */
	new_dir();
	CHECK(open_store(STORE_SYNC_ALWAYS, 0, NULL, 0) == 0);
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "user%d@localhost", i % 500);
		val_for(val, sizeof(val), i, 0);
		store_put("account", key, val);
	}
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "user%d@localhost", i);
		store_del("account", key);
	}
	store_flush();
	before = file_size(log_path);
	CHECK(store_compact() == 0);
	after = file_size(log_path);
	CHECK(after > 0 && after < before / 3);
	CHECK(file_size(tmp_path) == -1);
	store_close();
	CHECK(open_store(STORE_SYNC_ALWAYS, 0, NULL, 0) == 0);
	ok = 1;
	for (i = 0; i < 500; i++) {
		const char *v;
		snprintf(key, sizeof(key), "user%d@localhost", i);
		v = store_get("account", key);
		val_for(val, sizeof(val), 1500 + i, 0);
		if (i < 100 ? v != NULL : (v == NULL || strcmp(v, val) != 0)) {
			ok = 0;
		}
	}
	CHECK(ok);
	store_close();
	CHECK(capture(store_check_cmd, dir, &out) == 0);
	CHECK(out != NULL && strstr(out, "live records: 400") != NULL);
	/* right after a compaction every byte is live */
	CHECK(out != NULL && strstr(out, "dead: 0 bytes") != NULL);
	free(out);

	/* automatic: enough dead bytes make store_flush() compact */
	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	for (i = 0; i < 40000; i++) {
		snprintf(key, sizeof(key), "k%d", i % 100);
		val_for(val, sizeof(val), i, 1);
		store_put("roomcfg", key, val);
		if (i % 1000 == 999) {
			store_flush();
		}
	}
	steps = 0;
	while (store_flush_due_ms() == 0 && steps++ < 1000) {
		store_flush();
	}
	CHECK(file_size(log_path) < 1024 * 1024);
	CHECK(file_size(tmp_path) == -1);
	store_close();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	val_for(val, sizeof(val), 39999, 1);
	CHECK_STR(store_get("roomcfg", "k99"), val);
	store_close();
}

/* The user number in the last line of the compaction's temp file, or -1:
 * the snapshot cursor is at the record after it. */
static int
last_snapshot_user(void)
{
	char b[4097], *nl, *u;
	int fd = open(tmp_path, O_RDONLY);
	off_t size, from;
	ssize_t n;

	if (fd < 0) {
		return -1;
	}
	size = lseek(fd, 0, SEEK_END);
	from = size > 4096 ? size - 4096 : 0;
	n = pread(fd, b, 4096, from);
	close(fd);
	if (n <= 0) {
		return -1;
	}
	b[n] = '\0';
	if (b[n - 1] == '\n') {
		b[n - 1] = '\0';
	}
	nl = strrchr(b, '\n');
	u = strstr(nl ? nl : b, " user");
	return u ? atoi(u + 5) : -1;
}

/* A big compaction runs in steps; writes in between land correctly. */
static void
test_compaction_interleaved(void)
{
	enum { N = 400000 };
	char key[64], val[128];
	int i, in_progress, steps, ok, at_cursor = 0;
	static unsigned char state[N + 1000];	/* 0 absent, else gen */

	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	memset(state, 0, sizeof(state));
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "room%d@conference.localhost "
		    "user%d@localhost", i / 50, i);
		val_for(val, sizeof(val), i, 1);
		store_put("aff", key, val);
		state[i] = 1;
	}
	store_flush();
	/* overwrite everything twice: two thirds of the log are dead */
	for (i = 0; i < 2 * N; i++) {
		int j = i % N;
		snprintf(key, sizeof(key), "room%d@conference.localhost "
		    "user%d@localhost", j / 50, j);
		val_for(val, sizeof(val), j, 2);
		store_put("aff", key, val);
		state[j] = 2;
	}
	store_flush();		/* writes, starts compaction, one step */
	in_progress = file_size(tmp_path) > 0;
	CHECK(in_progress);
	CHECK(store_flush_due_ms() == 0);
	/* change records both behind and ahead of the snapshot cursor,
	 * delete some, add new ones, flushing (= stepping) in between */
	steps = 0;
	while (file_size(tmp_path) > 0 && steps < 100000) {
		int base = (steps * 7919) % N;
		for (i = 0; i < 20; i++) {
			int j = (base + i * 997) % N;
			snprintf(key, sizeof(key), "room%d@conference."
			    "localhost user%d@localhost", j / 50, j);
			if (i % 5 == 4) {
				store_del("aff", key);
				state[j] = 0;
			} else {
				val_for(val, sizeof(val), j, 3);
				store_put("aff", key, val);
				state[j] = 3;
			}
		}
		/* and the records right at the snapshot cursor */
		{
			int u = last_snapshot_user();
			if (u >= 0 && u + 2 < N) {
				snprintf(key, sizeof(key), "room%d@conference."
				    "localhost user%d@localhost", (u + 1) / 50,
				    u + 1);
				val_for(val, sizeof(val), u + 1, 4);
				store_put("aff", key, val);
				state[u + 1] = 4;
				snprintf(key, sizeof(key), "room%d@conference."
				    "localhost user%d@localhost", (u + 2) / 50,
				    u + 2);
				store_del("aff", key);
				state[u + 2] = 0;
				at_cursor++;
			}
		}
		if (steps < 1000) {
			int j = N + steps;
			snprintf(key, sizeof(key), "new%d", j);
			val_for(val, sizeof(val), j, 3);
			store_put("aff", key, val);
			state[j] = 3;
		}
		store_flush();
		steps++;
	}
	CHECK(steps > 1);
	CHECK(at_cursor > 0);
	CHECK(file_size(tmp_path) == -1);
	store_close();
	CHECK(check_seqs(NULL) > 0);

	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	ok = 1;
	for (i = 0; i < N + 1000; i++) {
		const char *v;
		if (i < N) {
			snprintf(key, sizeof(key), "room%d@conference."
			    "localhost user%d@localhost", i / 50, i);
		} else {
			snprintf(key, sizeof(key), "new%d", i);
		}
		v = store_get("aff", key);
		if (state[i] == 0) {
			if (v != NULL) {
				ok = 0;
			}
			continue;
		}
		val_for(val, sizeof(val), i, state[i]);
		if (v == NULL || strcmp(v, val) != 0) {
			ok = 0;
		}
	}
	CHECK(ok);
	store_close();
}

/* A crash during compaction: the temp file is ignored and removed. */
static void
test_compaction_crash(void)
{
	char key[64], val[128], err[512];
	pid_t pid;
	int i, st, ok;

	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	for (i = 0; i < 450000; i++) {
		snprintf(key, sizeof(key), "u%d", i % 150000);
		val_for(val, sizeof(val), i, 1);
		store_put("aff", key, val);
	}
	store_close();

	/* the child starts a compaction and dies in the middle of it */
	pid = fork();
	if (pid == 0) {
		if (open_store(STORE_SYNC_NONE, 0, NULL, 0) != 0) {
			_exit(2);
		}
		store_flush();
		_exit(file_size(tmp_path) > 0 ? 0 : 3);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	CHECK(file_size(tmp_path) > 0);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK(file_size(tmp_path) == -1);
	ok = 1;
	for (i = 300000; i < 450000; i++) {
		const char *v;
		snprintf(key, sizeof(key), "u%d", i % 150000);
		v = store_get("aff", key);
		val_for(val, sizeof(val), i, 1);
		if (v == NULL || strcmp(v, val) != 0) {
			ok = 0;
		}
	}
	CHECK(ok);
	store_close();

	/* a garbage temp file next to a good log */
	write_file(tmp_path, "garbage\n\x01\x02", 10);
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK(file_size(tmp_path) == -1);
	CHECK(store_get("aff", "u0") != NULL);
	store_close();
}

/* ---- lock ---- */

static void
test_lock(void)
{
	char err[512], want[64], c = 0;
	pid_t pid;
	int st, up[2], down[2], rc;
	ssize_t n;

	/* a child holds the store; this process must be refused */
	new_dir();
	if (pipe(up) != 0 || pipe(down) != 0) {
		abort();
	}
	pid = fork();
	if (pid == 0) {
		rc = open_store(STORE_SYNC_NONE, 0, NULL, 0);
		n = write(up[1], rc == 0 ? "o" : "f", 1);
		n = read(down[0], &c, 1);	/* until told to go */
		(void)n;
		store_close();
		_exit(rc == 0 ? 0 : 1);
	}
	close(up[1]);
	close(down[0]);
	n = read(up[0], &c, 1);
	CHECK(n == 1 && c == 'o');
	rc = open_store(STORE_SYNC_NONE, 0, err, sizeof(err));
	CHECK(rc == -1);
	if (rc == 0) {
		store_close();
	}
	snprintf(want, sizeof(want), "pid %ld", (long)pid);
	CHECK(strstr(err, want) != NULL);
	CHECK(strstr(err, "in use") != NULL);
	CHECK(strstr(err, dir) != NULL);
	n = write(down[1], "x", 1);
	close(down[1]);
	close(up[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	/* released when the holder closed (or died) */
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	store_close();
	/* and a holder killed with SIGKILL releases it too */
	pid = fork();
	if (pid == 0) {
		if (open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0) {
			kill(getpid(), SIGKILL);
		}
		_exit(1);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	CHECK(open_store(STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	store_close();
}

/* ---- flush semantics ---- */

static void
test_flush(void)
{
	long long s0, s1;
	struct rlimit rl, old;
	int due;
	uint64_t t0;
	struct timespec ts;

	/* always: nothing reaches the file before store_flush() */
	new_dir();
	CHECK(open_store(STORE_SYNC_ALWAYS, 0, NULL, 0) == 0);
	s0 = file_size(log_path);
	store_put("account", "a@x", "1");
	store_put("account", "b@x", "2");
	CHECK(file_size(log_path) == s0);
	CHECK(store_flush_due_ms() == 0);
	CHECK(store_flush() == 0);
	s1 = file_size(log_path);
	CHECK(s1 > s0);
	CHECK(store_flush_due_ms() == -1);
	CHECK(store_flush() == 0);		/* nothing to do */
	CHECK(file_size(log_path) == s1);
	store_close();

	/* batch: written at each flush, synced when the window passed */
	new_dir();
	CHECK(open_store(STORE_SYNC_BATCH, 300, NULL, 0) == 0);
	s0 = file_size(log_path);
	store_put("account", "a@x", "1");
	CHECK(store_flush() == 0);
	CHECK(file_size(log_path) > s0);
	due = store_flush_due_ms();
	CHECK(due > 0 && due <= 300);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	while (store_flush_due_ms() > 0) {
		uint64_t t;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		if (t - t0 > 2000) {
			break;
		}
		usleep(10000);
	}
	CHECK(store_flush_due_ms() == 0);
	CHECK(store_flush() == 0);
	CHECK(store_flush_due_ms() == -1);	/* synced */
	store_close();

	/* none: written, never waits for a sync */
	new_dir();
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	store_put("account", "a@x", "1");
	CHECK(store_flush() == 0);
	CHECK(store_flush_due_ms() == -1);
	store_close();

	/* a failed write is taken back and retried at the next flush */
	new_dir();
	CHECK(open_store(STORE_SYNC_ALWAYS, 0, NULL, 0) == 0);
	store_put("account", "a@x", "1");
	CHECK(store_flush() == 0);
	s0 = file_size(log_path);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = (rlim_t)s0 + 100;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	{
		char big[400];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		store_put("account", "big@x", big);
		CHECK(store_flush() == -1);
		CHECK(file_size(log_path) == s0);	/* no partial line */
		CHECK(store_flush_due_ms() == 0);	/* still queued */
		CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
		CHECK(store_flush() == 0);
		CHECK(file_size(log_path) > s0 + 400);
		store_close();
		CHECK(open_store(STORE_SYNC_ALWAYS, 0, NULL, 0) == 0);
		CHECK_STR(store_get("account", "big@x"), big);
		store_close();
	}
	signal(SIGXFSZ, SIG_DFL);
}

/* ---- offline commands ---- */

static void
test_commands(void)
{
	char *out;

	new_dir();
	CHECK(capture(store_check_cmd, dir, &out) == 0);	/* no store */
	CHECK(out != NULL && strstr(out, "no store yet") != NULL);
	free(out);
	CHECK(open_store(STORE_SYNC_NONE, 0, NULL, 0) == 0);
	store_put("account", "b@x", "line1\nline2\ttab");
	store_put("account", "a@x", "caf\xc3\xa9");
	store_put("aff", "r@c a@x", "owner");
	store_flush();
	/* check works while the store is open, and names the holder */
	CHECK(capture(store_check_cmd, dir, &out) == 0);
	CHECK(out != NULL && strstr(out, "open by a running uxmppd") != NULL);
	CHECK(out != NULL && strstr(out, "live records: 3") != NULL);
	free(out);
	store_close();
	CHECK(capture(store_dump_cmd, dir, &out) == 0);
	CHECK(out != NULL && strstr(out, "account\ta@x\tcaf\xc3\xa9\n"
	    "account\tb@x\tline1\\nline2\\ttab\n"
	    "aff\tr@c a@x\towner\n") != NULL);
	free(out);
}

int
main(void)
{
	char cmd[600];

	log_set_level(LOG_LEVEL_ERR);
	if (mkdtemp(base_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_api_edges();
	test_round_trip();
	test_torn_tail();
	test_torn_group();
	test_unwritten_page();
	test_corrupt_middle();
	test_long_line();
	test_kill_writer();
	test_seq_monotonic();
	test_foreach();
	test_compaction();
	test_compaction_interleaved();
	test_compaction_crash();
	test_lock();
	test_flush();
	test_commands();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", base_dir);
	}
	return check_summary("test_store");
}
