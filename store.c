/*
 * store.c - durable key/value records in one append-only log.
 *
 * The data directory holds:
 *   store.log      the log: a header line, then one record per line
 *   store.log.tmp  a compaction in progress; removed (ignored) at open
 *   store.lock     flock()ed by the process that has the store open; it
 *                  holds that process's pid for the "in use" message
 *
 * One log with typed records rather than one log per kind: a reactor turn
 * often changes several kinds at once (a room, its configuration and its
 * affiliations), and one file makes that one write and one fdatasync, one
 * sequence-number space and one compaction.  The kind is a record field.
 *
 * Format (version 1), one line per record, human-readable:
 *   header: "uxmppd-store<TAB>1<TAB>BASE<TAB>CRC\n"
 *   record: "SEQ<TAB>OP<TAB>KIND<TAB>KEY<TAB>VALUE<TAB>CRC\n"
 * OP is "put" or "del" (VALUE empty), or "put+"/"del+" for a record that
 * the next one belongs with (see groups below).  KIND, KEY and VALUE are
 * escaped:
 * \\ \t \n \r and \xHH (lower-case hex) for other bytes below 0x20 and 0x7f;
 * bytes >= 0x80 are written as they are, so UTF-8 reads as text.  CRC is the
 * CRC-32 (IEEE, as zlib) of the line up to and including the tab before it,
 * as 8 lower-case hex digits.  Only the canonical form is accepted back.
 *
 * Sequence numbers: records with SEQ <= BASE are a compaction snapshot
 * (strictly increasing, gaps allowed, puts only); the first record above
 * BASE must be BASE+1 and each later one the previous plus one.  So numbers
 * stay monotonic across compactions and a lost or repeated line is caught
 * even when its checksum is fine.
 *
 * Groups: the records of one store_flush() are written with one write(2),
 * and a power cut can keep any prefix of it (the pages of an unsynced
 * write reach the device in no set order).  A reactor turn's changes only
 * make sense together (a PEP publish deletes the item it replaces and puts
 * the new one): replaying the delete without the put would lose an item
 * acknowledged long ago.  So every record of a flush but the last is
 * written with "put+"/"del+", and replay applies a group only once it has
 * read its last line; a group cut short at the end of the file is a torn
 * tail like a torn line.  A log without "+" records reads as before (each
 * record its own group).
 *
 * Replay: a line that fails its checksum or is incomplete is "torn" when no
 * line with a valid checksum follows it (a power cut in the middle of the
 * last group commit): it and everything after it are truncated away with a
 * warning naming file and offset.  So is a bad line holding a run of
 * zeros up to a page boundary, even with intact lines after it: a page of
 * an unsynced write that never reached the device while a later one did
 * (the writer escapes NUL, so zeros are never data).  A bad line followed
 * by an intact one otherwise, or
 * a line whose checksum is right but whose content is not (a bad sequence
 * number, an unknown op), stops the open with file:line.  Nothing is ever
 * skipped.
 *
 * Compaction (when dead bytes pass 1 MiB and the live bytes) rewrites the
 * live records to store.log.tmp, fsyncs it, renames it over store.log and
 * fsyncs the directory: a crash at any point leaves either the old or the
 * new log, both complete, and a leftover temp file is removed at open.  It
 * runs in steps of about STORE_COMPACT_STEP_MS inside store_flush() so a big
 * store never stalls the reactor: the snapshot holds each live record's line
 * as it is (same sequence number) for records up to BASE, the sequence
 * number when the compaction started; records written meanwhile (above
 * BASE) go to the old log as usual and are copied after the snapshot at the
 * end.  Records are kept in a list in sequence order; a record changed
 * meanwhile moves to the list's end (above BASE), so the snapshot walk never
 * sees it twice.  Each step first waits for the previous step's writeback
 * (sync_file_range), so the final fsync is short and a slow SD card slows
 * the compaction rather than the server; the replaced file is freed 16 MiB
 * per flush, since closing a big unlinked file frees all its blocks at once.
 * 1M affiliation records (80 MiB): ~0.5-1 s in total, steps of 10-30 ms.
 */
#include "store.h"
#include "buf.h"
#include "log.h"
#include "uxlimits.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STORE_LOG_NAME		"store.log"
#define STORE_TMP_NAME		"store.log.tmp"
#define STORE_LOCK_NAME		"store.lock"
#define STORE_MAGIC		"uxmppd-store"
#define STORE_VERSION		1
#ifndef STORE_COMPACT_MIN_DEAD	/* make store-crash-sim makes it small */
#define STORE_COMPACT_MIN_DEAD	(1u * 1024 * 1024)	/* bytes */
#endif
#define STORE_COMPACT_STEP_MS	10
#define STORE_COMPACT_CHUNK	(1u * 1024 * 1024)	/* write size */
#define STORE_STEP_MIN_BYTES	(64u * 1024)
#define STORE_STEP_MAX_BYTES	(16u * 1024 * 1024)
#define STORE_SHRINK_CHUNK	(16u * 1024 * 1024)	/* per flush */
#define STORE_READ_CHUNK	(64u * 1024)	/* grows for long lines */
#define STORE_TABLE_MIN		1024
#define STORE_PAGE_BYTES	4096	/* the smallest writeback unit */

struct store_kind {
	char		*name;
	size_t		 name_len;
	unsigned	 id;
	struct store_rec *head, *tail;	/* this kind's records */
	size_t		 count;
};

struct store_rec {
	struct store_rec *sprev, *snext;	/* all records, in seq order */
	struct store_rec *kprev, *knext;	/* same kind */
	struct store_kind *kind;
	uint64_t	 seq;			/* of the put that set it */
	uint32_t	 key_len;
	uint32_t	 val_len;
	uint32_t	 line_len;		/* bytes of its put line */
	char		 data[];		/* key NUL value NUL */
};

/* The hash sits next to the pointer so a probe costs one cache miss; a
 * record is only touched when its hash matches. */
struct store_slot {
	struct store_rec *r;		/* NULL: empty */
	uint32_t	 hash;
};

struct store_compaction {
	int		 active;
	int		 fd;		/* store.log.tmp, O_APPEND */
	uint64_t	 base;		/* snapshot holds records <= base */
	uint64_t	 src_off;	/* old log offset where > base starts */
	struct store_rec *cursor;	/* next snapshot record */
	struct buf	 out;
	uint64_t	 written;	/* bytes in the temp file */
	uint64_t	 hdr_bytes;	/* its header line */
	uint64_t	 retry_total;	/* after a failure, wait for this */
	uint64_t	 synced;	/* bytes known to be on the device */
	uint64_t	 step_bytes;	/* to write per step, adapts */
	int		 old_fd;	/* the replaced log, being shrunk */
	uint64_t	 old_size;
};

struct store_db {
	/* live state */
	struct store_slot *slots;	/* open addressing, linear probing */
	size_t		 cap;		/* power of two */
	size_t		 count;
	struct store_kind *kinds[STORE_MAX_KINDS];
	unsigned	 nkinds;
	struct store_kind *last_kind;
	struct store_rec *shead, *stail;
	uint64_t	 base_seq;
	uint64_t	 next_seq;
	uint64_t	 live_bytes;	/* sum of live records' line_len */
	uint64_t	 hdr_bytes;

	/* the open log (not used by the offline commands) */
	int		 open;
	int		 fd, dir_fd, lock_fd;
	char		*dir;
	char		*log_path, *tmp_path, *lock_path;
	enum store_sync	 sync;
	unsigned	 batch_ms;
	uint64_t	 file_bytes;	/* written to store.log */
	struct buf	 pend;		/* queued, not yet written */
	size_t		 pend_last;	/* offset of its last line */
	int		 unsynced;
	uint64_t	 last_sync_ms;
	int		 failed;	/* sticky: fdatasync failed */
	int		 write_failing;	/* the last write failed (ENOSPC, EIO):
					 * changes refused until one works */
	struct store_compaction comp;
};

static struct store_db db_main;

/* ---- CRC-32 (IEEE 802.3, reflected 0xEDB88320), slice-by-8 ---- */

static uint32_t crc_tab[8][256];
static int crc_ready;

static void
crc_init(void)
{
	uint32_t c;
	int i, k, t;

	if (crc_ready) {
		return;
	}
	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++) {
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		}
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		for (t = 1; t < 8; t++) {
			crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^
			    crc_tab[0][crc_tab[t - 1][i] & 0xff];
		}
	}
	crc_ready = 1;
}

/* See store.h. */
uint32_t
store_crc32(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t crc = 0xFFFFFFFFu, one, two;

	crc_init();

	while (n >= 8) {
		/* byte loads keep this right on big-endian routers too */
		one = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		two = (uint32_t)b[4] | (uint32_t)b[5] << 8 |
		    (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
		crc = crc_tab[7][one & 0xff] ^ crc_tab[6][(one >> 8) & 0xff] ^
		    crc_tab[5][(one >> 16) & 0xff] ^ crc_tab[4][one >> 24] ^
		    crc_tab[3][two & 0xff] ^ crc_tab[2][(two >> 8) & 0xff] ^
		    crc_tab[1][(two >> 16) & 0xff] ^ crc_tab[0][two >> 24];
		b += 8;
		n -= 8;
	}
	while (n-- > 0) {
		crc = crc_tab[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
	}
	return ~crc;
}

/* ---- small helpers ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *
path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = xmalloc(dl + nl + 2);

	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Write all of n bytes; 0, or -1 with errno. */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_retry(int fd, int data_only)
{
	int r;

	do {
		r = data_only ? fdatasync(fd) : fsync(fd);
	} while (r != 0 && errno == EINTR);
	return r;
}

/* ---- escaping ---- */

static const char hexdig[] = "0123456789abcdef";

static int
needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}

/* Append s (n bytes) escaped to b. */
static void
escape_append(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, run = 0;
	char e[4];

	for (i = 0; i < n; i++) {
		if (!needs_escape(u[i])) {
			continue;
		}
		buf_append(b, s + run, i - run);
		run = i + 1;
		e[0] = '\\';
		switch (u[i]) {
		case '\\':
			e[1] = '\\';
			buf_append(b, e, 2);
			break;
		case '\t':
			e[1] = 't';
			buf_append(b, e, 2);
			break;
		case '\n':
			e[1] = 'n';
			buf_append(b, e, 2);
			break;
		case '\r':
			e[1] = 'r';
			buf_append(b, e, 2);
			break;
		default:
			e[1] = 'x';
			e[2] = hexdig[u[i] >> 4];
			e[3] = hexdig[u[i] & 15];
			buf_append(b, e, 4);
			break;
		}
	}
	buf_append(b, s + run, n - run);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

/*
 * Check a raw field and, when it holds escapes, decode it into out (which
 * then holds the field).  Returns 1 if decoded into out, 0 if the field is
 * plain (use it as is), -1 if it is not in canonical form.
 */
static int
field_decode(const char *p, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i;
	int esc = 0, h, l;
	unsigned char c;

	for (i = 0; i < n; i++) {
		if (u[i] == '\\') {
			esc = 1;
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			return -1;
		}
	}
	if (!esc) {
		return 0;
	}
	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (u[i] != '\\') {
			buf_putc(out, (char)u[i]);
			continue;
		}
		if (++i >= n) {
			return -1;
		}
		switch (u[i]) {
		case '\\':
			c = '\\';
			break;
		case 't':
			c = '\t';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 'x':
			if (i + 2 >= n) {
				return -1;
			}
			h = hexval(u[i + 1]);
			l = hexval(u[i + 2]);
			if (h < 0 || l < 0) {
				return -1;
			}
			c = (unsigned char)(h << 4 | l);
			/* only what the writer would have escaped this way */
			if (c == 0 || !needs_escape(c) || c == '\\' ||
			    c == '\t' || c == '\n' || c == '\r') {
				return -1;
			}
			i += 2;
			break;
		default:
			return -1;
		}
		buf_putc(out, (char)c);
	}
	return out->err ? -1 : 1;
}

/* ---- kinds and the hash table ---- */

static uint32_t
key_hash(unsigned kind_id, const char *key, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)kind_id << 32);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static struct store_kind *
kind_find(struct store_db *db, const char *name, size_t n, int create)
{
	struct store_kind *k = db->last_kind;
	unsigned i;

	if (k != NULL && k->name_len == n && memcmp(k->name, name, n) == 0) {
		return k;
	}
	for (i = 0; i < db->nkinds; i++) {
		k = db->kinds[i];
		if (k->name_len == n && memcmp(k->name, name, n) == 0) {
			db->last_kind = k;
			return k;
		}
	}
	if (!create || db->nkinds >= STORE_MAX_KINDS) {
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->name = xstrndup(name, n);
	k->name_len = n;
	k->id = db->nkinds;
	db->kinds[db->nkinds++] = k;
	db->last_kind = k;
	return k;
}

/* Slot index of (kind, key), or of the empty slot where it would go. */
static size_t
table_slot(const struct store_db *db, const struct store_kind *kind,
    const char *key, size_t n, uint32_t h)
{
	size_t mask = db->cap - 1, i = h & mask;
	const struct store_rec *r;

	while ((r = db->slots[i].r) != NULL) {
		if (db->slots[i].hash == h && r->kind == kind &&
		    r->key_len == n && memcmp(r->data, key, n) == 0) {
			break;
		}
		i = (i + 1) & mask;
	}
	return i;
}

static void
table_grow(struct store_db *db)
{
	struct store_slot *old = db->slots;
	size_t oldcap = db->cap, i, j, mask;

	db->cap = oldcap ? oldcap * 2 : STORE_TABLE_MIN;
	db->slots = xcalloc(db->cap, sizeof(*db->slots));
	mask = db->cap - 1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].r == NULL) {
			continue;
		}
		j = old[i].hash & mask;
		while (db->slots[j].r != NULL) {
			j = (j + 1) & mask;
		}
		db->slots[j] = old[i];
	}
	free(old);
}

/* Remove slot i, shifting later members of its cluster back (linear
 * probing without tombstones). */
static void
table_remove_slot(struct store_db *db, size_t i)
{
	size_t mask = db->cap - 1, j = i, k;

	db->slots[i].r = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (db->slots[j].r == NULL) {
			break;
		}
		k = db->slots[j].hash & mask;
		/* move j to i unless its home k lies cyclically in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) {
			continue;
		}
		db->slots[i] = db->slots[j];
		db->slots[j].r = NULL;
		i = j;
	}
}

static void
list_unlink(struct store_db *db, struct store_rec *r)
{
	struct store_kind *k = r->kind;

	if (db->comp.active && db->comp.cursor == r) {
		db->comp.cursor = r->snext;
	}
	if (r->sprev != NULL) {
		r->sprev->snext = r->snext;
	} else {
		db->shead = r->snext;
	}
	if (r->snext != NULL) {
		r->snext->sprev = r->sprev;
	} else {
		db->stail = r->sprev;
	}
	if (r->kprev != NULL) {
		r->kprev->knext = r->knext;
	} else {
		k->head = r->knext;
	}
	if (r->knext != NULL) {
		r->knext->kprev = r->kprev;
	} else {
		k->tail = r->kprev;
	}
	k->count--;
	db->live_bytes -= r->line_len;
}

static void
list_append(struct store_db *db, struct store_rec *r)
{
	struct store_kind *k = r->kind;

	r->snext = NULL;
	r->sprev = db->stail;
	if (db->stail != NULL) {
		db->stail->snext = r;
	} else {
		db->shead = r;
	}
	db->stail = r;
	r->knext = NULL;
	r->kprev = k->tail;
	if (k->tail != NULL) {
		k->tail->knext = r;
	} else {
		k->head = r;
	}
	k->tail = r;
	k->count++;
	db->live_bytes += r->line_len;
}

static void
apply_put(struct store_db *db, struct store_kind *kind, const char *key,
    size_t klen, const char *val, size_t vlen, uint64_t seq, size_t line_len)
{
	uint32_t h = key_hash(kind->id, key, klen);
	struct store_rec *r, *old;
	size_t i;

	if ((db->count + 1) * 4 > db->cap * 3) {
		table_grow(db);
	}
	i = table_slot(db, kind, key, klen, h);
	old = db->slots[i].r;
	r = xmalloc(sizeof(*r) + klen + vlen + 2);
	r->kind = kind;
	r->seq = seq;
	r->key_len = (uint32_t)klen;
	r->val_len = (uint32_t)vlen;
	r->line_len = (uint32_t)line_len;
	memcpy(r->data, key, klen);
	r->data[klen] = '\0';
	memcpy(r->data + klen + 1, val, vlen);
	r->data[klen + 1 + vlen] = '\0';
	if (old != NULL) {
		list_unlink(db, old);
		free(old);
	} else {
		db->count++;
	}
	db->slots[i].r = r;
	db->slots[i].hash = h;
	list_append(db, r);
}

/* 1 if it was there, 0 if not. */
static int
apply_del(struct store_db *db, struct store_kind *kind, const char *key,
    size_t klen)
{
	uint32_t h;
	size_t i;
	struct store_rec *r;

	if (db->cap == 0) {
		return 0;
	}
	h = key_hash(kind->id, key, klen);
	i = table_slot(db, kind, key, klen, h);
	r = db->slots[i].r;
	if (r == NULL) {
		return 0;
	}
	table_remove_slot(db, i);
	list_unlink(db, r);
	free(r);
	db->count--;
	return 1;
}

static const struct store_rec *
db_lookup(struct store_db *db, const char *kind, const char *key)
{
	struct store_kind *k;
	size_t klen;
	uint32_t h;

	if (db->cap == 0) {
		return NULL;
	}
	k = kind_find(db, kind, strlen(kind), 0);
	if (k == NULL) {
		return NULL;
	}
	klen = strlen(key);
	h = key_hash(k->id, key, klen);
	return db->slots[table_slot(db, k, key, klen, h)].r;
}

static void
db_free_state(struct store_db *db)
{
	struct store_rec *r, *next;
	unsigned i;

	for (r = db->shead; r != NULL; r = next) {
		next = r->snext;
		free(r);
	}
	for (i = 0; i < db->nkinds; i++) {
		free(db->kinds[i]->name);
		free(db->kinds[i]);
	}
	free(db->slots);
	db->slots = NULL;
	db->cap = db->count = 0;
	db->nkinds = 0;
	db->last_kind = NULL;
	db->shead = db->stail = NULL;
	db->live_bytes = 0;
}

/* ---- line formats ---- */

static void
append_crc(struct buf *b, size_t line_start)
{
	uint32_t crc = store_crc32(b->data + line_start, b->len - line_start);

	buf_printf(b, "%08" PRIx32 "\n", crc);
}

static void
format_header(struct buf *b, uint64_t base)
{
	size_t start = b->len;

	buf_printf(b, "%s\t%d\t%" PRIu64 "\t", STORE_MAGIC, STORE_VERSION,
	    base);
	append_crc(b, start);
}

/* Append one record line; returns its length. */
static size_t
format_record(struct buf *b, uint64_t seq, int put, const char *kind,
    size_t kind_len, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	size_t start = b->len;

	buf_printf(b, "%" PRIu64 "\t%s\t", seq, put ? "put" : "del");
	escape_append(b, kind, kind_len);
	buf_putc(b, '\t');
	escape_append(b, key, klen);
	buf_putc(b, '\t');
	if (put) {
		escape_append(b, val, vlen);
	}
	buf_putc(b, '\t');
	append_crc(b, start);
	return b->len - start;
}

/* ---- replay ---- */

enum replay_status {
	REPLAY_OK,
	REPLAY_TORN,		/* bad tail: truncate at bad_off */
	REPLAY_CORRUPT,		/* bad record in the middle: refuse */
	REPLAY_IOERR,
};

struct replay {
	enum replay_status status;
	const char	*reason;	/* static string */
	uint64_t	 bad_off;	/* byte offset of the bad line */
	uint64_t	 bad_line;	/* its 1-based line number */
	uint64_t	 bad_len;	/* its length in bytes (with newline) */
	char		 bad_text[160];	/* its start, escaped */
	uint64_t	 valid_after;	/* good-checksum lines after it */
	uint64_t	 first_valid_line; /* the first of them */
	uint64_t	 good_end;	/* offset after the last good line */
	uint64_t	 file_size;
	uint64_t	 lines, puts, dels;
	int		 zero_page;	/* the bad line runs into an
					 * unwritten page (see replay_fd) */
	uint64_t	 group_dropped;	/* records of a group cut short */
	uint64_t	 group_off;	/* where that group starts */
	int		 io_errno;
	int		 header_ok;
};

struct line {
	const char	*p;	/* NULL when too long to hold */
	size_t		 n;	/* bytes before the newline */
	uint64_t	 off;	/* file offset */
	uint64_t	 total;	/* bytes including the newline */
	int		 nl;	/* ends with a newline */
};

struct lreader {
	int		 fd;
	char		*buf;
	size_t		 cap, start, end;
	uint64_t	 off;		/* file offset of buf[start] */
	int		 eof, err;
	int		 skipping;	/* inside a line too long to hold */
	uint64_t	 skip_off;
};

static void
lr_init(struct lreader *r, int fd, uint64_t off)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->off = off;
	r->cap = STORE_READ_CHUNK;
	r->buf = xmalloc(r->cap);
}

/* Next line: 1, or 0 at the end, or -1 on a read error (errno in r->err). */
static int
lr_next(struct lreader *r, struct line *ln)
{
	char *nl;
	size_t rest, lim;
	ssize_t got;

	for (;;) {
		rest = r->end - r->start;
		nl = memchr(r->buf + r->start, '\n', rest);
		if (nl != NULL || (r->eof && rest > 0) ||
		    (r->eof && r->skipping)) {
			size_t n = nl ? (size_t)(nl - (r->buf + r->start)) :
			    rest;
			uint64_t total = n + (nl ? 1 : 0);

			ln->nl = nl != NULL;
			if (r->skipping) {
				ln->p = NULL;
				ln->off = r->skip_off;
				ln->total = r->off + total - r->skip_off;
				ln->n = ln->total - (ln->nl ? 1 : 0);
				r->skipping = 0;
			} else {
				ln->p = r->buf + r->start;
				ln->off = r->off;
				ln->total = total;
				ln->n = n;
			}
			r->start += total;
			r->off += total;
			return 1;
		}
		if (r->eof) {
			return 0;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, rest);
			r->end = rest;
			r->start = 0;
		}
		if (r->end == r->cap) {
			if (r->cap > STORE_MAX_LINE) {
				/* too long for a record: keep only offsets */
				if (!r->skipping) {
					r->skipping = 1;
					r->skip_off = r->off;
				}
				r->off += r->end;
				r->end = 0;
			} else {
				r->cap *= 2;
				r->buf = xrealloc(r->buf, r->cap);
			}
		}
		lim = r->cap - r->end;
		got = read(r->fd, r->buf + r->end, lim);
		if (got < 0) {
			if (errno == EINTR) {
				continue;
			}
			r->err = errno;
			return -1;
		}
		if (got == 0) {
			r->eof = 1;
		}
		r->end += (size_t)got;
	}
}

/*
 * Does the line carry a good checksum?  Returns the offset of its last tab
 * (the end of the checksummed part minus one), or -1.
 */
static ssize_t
line_crc_ok(const struct line *ln)
{
	const char *tab;
	uint32_t want = 0;
	size_t i;
	int v;

	if (ln->p == NULL || !ln->nl || ln->n < 9) {
		return -1;
	}
	tab = ln->p + ln->n - 9;
	if (*tab != '\t') {
		return -1;
	}
	for (i = 1; i <= 8; i++) {
		v = hexval((unsigned char)tab[i]);
		if (v < 0) {
			return -1;
		}
		want = want << 4 | (uint32_t)v;
	}
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* let the fuzzer past the checksum to the parser: 00000000 matches */
	if (want == 0) {
		return tab - ln->p;
	}
#endif
	if (store_crc32(ln->p, (size_t)(tab - ln->p) + 1) != want) {
		return -1;
	}
	return tab - ln->p;
}

static int
parse_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && p[0] == '0')) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10) {
			return -1;
		}
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Split p (n bytes) at tabs into exactly nf fields; 0 or -1. */
static int
split_fields(const char *p, size_t n, const char **f, size_t *fl, int nf)
{
	const char *end = p + n, *t;
	int i;

	for (i = 0; i < nf; i++) {
		t = memchr(p, '\t', (size_t)(end - p));
		if (t == NULL) {
			if (i != nf - 1) {
				return -1;
			}
			t = end;
		} else if (i == nf - 1) {
			return -1;
		}
		f[i] = p;
		fl[i] = (size_t)(t - p);
		p = t + 1;
	}
	return 0;
}

struct replay_ctx {
	struct store_db	*db;
	struct buf	 kbuf, keybuf, vbuf;
	uint64_t	 last_seq;
	int		 seen_tail;	/* a record above base was seen */
};

/* The header (line 1, checksum already good).  NULL, or the reason. */
static const char *
apply_header(struct replay_ctx *c, const char *p, size_t n)
{
	const char *f[3];
	size_t fl[3];
	uint64_t ver, base;

	if (split_fields(p, n, f, fl, 3) != 0 ||
	    fl[0] != strlen(STORE_MAGIC) ||
	    memcmp(f[0], STORE_MAGIC, fl[0]) != 0) {
		return "not an uxmppd store header";
	}
	if (parse_u64(f[1], fl[1], &ver) != 0 || ver != STORE_VERSION) {
		return "unsupported store format version";
	}
	if (parse_u64(f[2], fl[2], &base) != 0) {
		return "bad base sequence number in header";
	}
	c->db->base_seq = base;
	c->db->next_seq = base + 1;
	c->last_seq = 0;
	return NULL;
}

/* One record (checksum already good).  NULL, or the reason. */
static const char *
apply_record(struct replay_ctx *c, struct replay *rp, const char *p, size_t n,
    uint64_t line_len)
{
	struct store_db *db = c->db;
	const char *f[5], *kind, *key, *val;
	size_t fl[5], kl, keyl, vl;
	uint64_t seq;
	int put, d;
	struct store_kind *k;

	if (split_fields(p, n, f, fl, 5) != 0) {
		return "wrong number of fields";
	}
	if (parse_u64(f[0], fl[0], &seq) != 0 || seq == 0) {
		return "bad sequence number";
	}
	if ((fl[1] == 3 || (fl[1] == 4 && f[1][3] == '+')) &&
	    memcmp(f[1], "put", 3) == 0) {
		put = 1;
	} else if ((fl[1] == 3 || (fl[1] == 4 && f[1][3] == '+')) &&
	    memcmp(f[1], "del", 3) == 0) {
		put = 0;
	} else {
		return "unknown operation";
	}
	if (seq <= db->base_seq) {
		if (c->seen_tail || seq <= c->last_seq) {
			return "sequence number out of order";
		}
		if (!put) {
			return "delete inside the compacted snapshot";
		}
	} else {
		if (seq != db->next_seq) {
			return "sequence number gap or repeat";
		}
		c->seen_tail = 1;
	}
	if (!put && fl[4] != 0) {
		return "delete with a value";
	}
	kind = f[2];
	kl = fl[2];
	d = field_decode(f[2], fl[2], &c->kbuf);
	if (d < 0) {
		return "bad escape or control byte in kind";
	}
	if (d > 0) {
		kind = c->kbuf.data;
		kl = c->kbuf.len;
	}
	if (kl == 0 || memchr(kind, '\0', kl) != NULL) {
		return "empty or NUL in kind";
	}
	key = f[3];
	keyl = fl[3];
	d = field_decode(f[3], fl[3], &c->keybuf);
	if (d < 0) {
		return "bad escape or control byte in key";
	}
	if (d > 0) {
		key = c->keybuf.data;
		keyl = c->keybuf.len;
	}
	val = f[4];
	vl = fl[4];
	d = field_decode(f[4], fl[4], &c->vbuf);
	if (d < 0) {
		return "bad escape or control byte in value";
	}
	if (d > 0) {
		val = c->vbuf.data;
		vl = c->vbuf.len;
	}
	k = kind_find(db, kind, kl, 1);
	if (k == NULL) {
		return "too many kinds";
	}
	if (put) {
		apply_put(db, k, key, keyl, val, vl, seq, line_len);
		rp->puts++;
	} else {
		apply_del(db, k, key, keyl);
		rp->dels++;
	}
	c->last_seq = seq;
	if (seq >= db->next_seq) {
		db->next_seq = seq + 1;
	}
	return NULL;
}

static void
quote_line(char *out, size_t outlen, const struct line *ln)
{
	struct buf b;
	size_t n;

	if (ln->p == NULL) {
		snprintf(out, outlen, "(%" PRIu64 " bytes without a newline)",
		    ln->total);
		return;
	}
	buf_init(&b, 0);
	n = ln->n < 120 ? ln->n : 120;
	escape_append(&b, ln->p, n);
	if (n < ln->n) {
		buf_puts(&b, "...");
	}
	snprintf(out, outlen, "%s", b.data ? b.data : "");
	buf_free(&b);
}

/*
 * Does the line hold a run of NUL bytes that ends at a page boundary or at
 * the end of the file?  The writer never writes a NUL (it is escaped), so
 * that is a page whose data never reached the device although the file's
 * size did: a power cut in the middle of an unsynced write, whose later
 * pages may have been written back first.
 */
static int
line_unwritten_page(const struct line *ln, uint64_t file_size)
{
	size_t i, j;
	uint64_t end;

	if (ln->p == NULL) {
		return 0;
	}
	for (i = 0; i < ln->n; i = j) {
		if (ln->p[i] != '\0') {
			j = i + 1;
			continue;
		}
		for (j = i; j < ln->n && ln->p[j] == '\0'; j++) {
		}
		end = ln->off + j;
		if (end % STORE_PAGE_BYTES == 0 || end == file_size) {
			return 1;
		}
	}
	return 0;
}

/* Is the record line (checksum good) one that the next belongs with? */
static int
line_continued(const char *p, size_t n)
{
	const char *t = memchr(p, '\t', n);

	return t != NULL && (size_t)(t - p) + 5 < n && t[4] == '+' &&
	    t[5] == '\t';
}

/* The lines of a group read so far, applied when its last line comes. */
struct group {
	struct buf	 text;		/* the lines, back to back */
	struct group_line {
		size_t	 at, n;		/* in text: checksummed part */
		uint64_t off, total, lineno;
	}		*v;
	size_t		 len, cap;
};

static void
group_add(struct group *g, const struct line *ln, size_t n, uint64_t lineno)
{
	if (g->len == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	g->v[g->len].at = g->text.len;
	g->v[g->len].n = n;
	g->v[g->len].off = ln->off;
	g->v[g->len].total = ln->total;
	g->v[g->len].lineno = lineno;
	g->len++;
	buf_append(&g->text, ln->p, ln->n);
}

/*
 * Apply the group's buffered lines; NULL, or the reason the first bad one
 * is bad, with *bad its index.
 */
static const char *
group_apply(struct replay_ctx *c, struct replay *rp, struct group *g,
    size_t *bad)
{
	const char *why;
	size_t i;

	for (i = 0; i < g->len; i++) {
		why = apply_record(c, rp, g->text.data + g->v[i].at, g->v[i].n,
		    g->v[i].total);
		if (why != NULL) {
			*bad = i;
			return why;
		}
		rp->lines++;
	}
	g->len = 0;
	buf_reset(&g->text);
	return NULL;
}

/*
 * Replay store.log from fd into db (which must be empty).  Fills rp; the
 * database holds exactly the records before rp->good_end, which ends a
 * group (see the top of the file).
 */
static void
replay_fd(struct store_db *db, int fd, struct replay *rp)
{
	struct lreader r;
	struct replay_ctx c;
	struct line ln;
	struct group g;
	const char *why;
	ssize_t tab;
	uint64_t lineno = 0;
	size_t gbad;
	int got, hard = 0;
	struct stat sb;

	memset(rp, 0, sizeof(*rp));
	memset(&c, 0, sizeof(c));
	c.db = db;
	buf_init(&c.kbuf, 0);
	buf_init(&c.keybuf, 0);
	buf_init(&c.vbuf, 0);
	memset(&g, 0, sizeof(g));
	buf_init(&g.text, 0);
	db->base_seq = 0;
	db->next_seq = 1;
	if (fstat(fd, &sb) == 0) {
		rp->file_size = (uint64_t)sb.st_size;
	}
	lr_init(&r, fd, 0);
	for (;;) {
		got = lr_next(&r, &ln);
		if (got <= 0) {
			break;
		}
		lineno++;
		why = NULL;
		tab = line_crc_ok(&ln);
		if (tab < 0) {
			if (ln.p == NULL) {
				why = "record too long";
			} else if (!ln.nl) {
				why = "incomplete record (no newline)";
			} else {
				why = "checksum mismatch or malformed line";
			}
		} else if (lineno == 1) {
			why = apply_header(&c, ln.p, (size_t)tab);
			hard = why != NULL;
			if (why == NULL) {
				rp->header_ok = 1;
				db->hdr_bytes = ln.total;
			}
		} else if (line_continued(ln.p, (size_t)tab)) {
			group_add(&g, &ln, (size_t)tab, lineno);
			continue;
		} else if ((why = group_apply(&c, rp, &g, &gbad)) != NULL) {
			/* report the buffered line that is wrong */
			hard = 1;
			ln.p = g.text.data + g.v[gbad].at;
			ln.n = g.v[gbad].n;
			ln.off = g.v[gbad].off;
			ln.total = g.v[gbad].total;
			lineno = g.v[gbad].lineno;
		} else {
			why = apply_record(&c, rp, ln.p, (size_t)tab,
			    ln.total);
			hard = why != NULL;
		}
		if (why != NULL) {
			rp->reason = why;
			rp->zero_page = !hard &&
			    line_unwritten_page(&ln, rp->file_size);
			rp->bad_off = ln.off;
			rp->bad_line = lineno;
			rp->bad_len = ln.total;
			quote_line(rp->bad_text, sizeof(rp->bad_text), &ln);
			break;
		}
		rp->lines++;
		rp->good_end = ln.off + ln.total;
	}
	if (g.len > 0 && !hard) {
		/* a group cut short: its records are never applied */
		rp->group_dropped = g.len;
		rp->group_off = g.v[0].off;
		if (rp->reason == NULL && got == 0) {
			rp->reason = "a group of records cut short";
			rp->bad_off = g.v[0].off;
			rp->bad_line = g.v[0].lineno;
			rp->bad_len = rp->file_size - g.v[0].off;
			snprintf(rp->bad_text, sizeof(rp->bad_text),
			    "(%zu records without the group's last)", g.len);
			rp->status = REPLAY_TORN;
			goto out;
		}
	}
	if (got < 0) {
		rp->status = REPLAY_IOERR;
		rp->io_errno = r.err;
		goto out;
	}
	if (rp->reason == NULL) {
		if (lineno == 0) {
			/* an empty file: as torn at offset 0 */
			rp->status = REPLAY_TORN;
			rp->reason = "empty file (no header)";
			rp->bad_line = 1;
		} else {
			rp->status = REPLAY_OK;
		}
		goto out;
	}
	/* Is anything intact after the bad line? */
	while ((got = lr_next(&r, &ln)) > 0) {
		lineno++;
		if (line_crc_ok(&ln) >= 0) {
			if (rp->valid_after++ == 0) {
				rp->first_valid_line = lineno;
			}
		}
	}
	if (got < 0) {
		rp->status = REPLAY_IOERR;
		rp->io_errno = r.err;
	} else if (hard || (rp->valid_after > 0 && !rp->zero_page)) {
		rp->status = REPLAY_CORRUPT;
	} else {
		/* intact lines after an unwritten page belong to the same
		 * unsynced write: nothing after the hole was acknowledged */
		rp->status = REPLAY_TORN;
	}
out:
	free(r.buf);
	free(g.v);
	buf_free(&g.text);
	buf_free(&c.kbuf);
	buf_free(&c.keybuf);
	buf_free(&c.vbuf);
}

/* ---- the open store: files, lock, group commit ---- */

/* Read the pid from a lock file; 0 if none. */
static long
lock_holder(int fd)
{
	char b[32];
	ssize_t n;
	long pid;

	n = pread(fd, b, sizeof(b) - 1, 0);
	if (n <= 0) {
		return 0;
	}
	b[n] = '\0';
	pid = strtol(b, NULL, 10);
	return pid > 0 ? pid : 0;
}

static int
take_lock(struct store_db *db, char *err, size_t errlen)
{
	char b[32];
	long pid;
	int n;

	db->lock_fd = open(db->lock_path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600);
	if (db->lock_fd < 0) {
		set_err(err, errlen, "store: cannot open lock file %s: %s",
		    db->lock_path, strerror(errno));
		return -1;
	}
	while (flock(db->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR) {
			continue;
		}
		if (errno == EWOULDBLOCK) {
			pid = lock_holder(db->lock_fd);
			if (pid > 0) {
				set_err(err, errlen, "store: data directory "
				    "%s is in use by another uxmppd (pid %ld, "
				    "lock %s)", db->dir, pid, db->lock_path);
			} else {
				set_err(err, errlen, "store: data directory "
				    "%s is in use by another process (lock %s)",
				    db->dir, db->lock_path);
			}
		} else {
			set_err(err, errlen, "store: cannot lock %s: %s",
			    db->lock_path, strerror(errno));
		}
		close(db->lock_fd);
		db->lock_fd = -1;
		return -1;
	}
	n = snprintf(b, sizeof(b), "%ld\n", (long)getpid());
	if (ftruncate(db->lock_fd, 0) != 0 ||
	    pwrite(db->lock_fd, b, (size_t)n, 0) != n) {
		/* the lock holds; only the message would lack the pid */
		log_warn("store: cannot write pid to %s: %s", db->lock_path,
		    strerror(errno));
	}
	return 0;
}

/* Create store.log atomically with an empty header. */
static int
create_log(struct store_db *db, char *err, size_t errlen)
{
	struct buf b;
	int fd, rc = -1;

	buf_init(&b, 0);
	format_header(&b, 0);
	fd = open(db->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		set_err(err, errlen, "store: cannot create %s: %s",
		    db->tmp_path, strerror(errno));
		goto out;
	}
	if (write_all(fd, b.data, b.len) != 0 ||
	    (db->sync != STORE_SYNC_NONE && fsync_retry(fd, 0) != 0)) {
		set_err(err, errlen, "store: cannot write %s: %s",
		    db->tmp_path, strerror(errno));
		close(fd);
		unlink(db->tmp_path);
		goto out;
	}
	close(fd);
	if (rename(db->tmp_path, db->log_path) != 0) {
		set_err(err, errlen, "store: cannot rename %s to %s: %s",
		    db->tmp_path, db->log_path, strerror(errno));
		unlink(db->tmp_path);
		goto out;
	}
	if (db->sync != STORE_SYNC_NONE && fsync_retry(db->dir_fd, 0) != 0) {
		set_err(err, errlen, "store: cannot sync directory %s: %s",
		    db->dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

static void
db_release(struct store_db *db)
{
	if (db->comp.active) {
		close(db->comp.fd);
		unlink(db->tmp_path);
		db->comp.active = 0;
	}
	buf_free(&db->comp.out);
	if (db->comp.old_fd >= 0) {
		close(db->comp.old_fd);
	}
	if (db->fd >= 0) {
		close(db->fd);
	}
	if (db->dir_fd >= 0) {
		close(db->dir_fd);
	}
	if (db->lock_fd >= 0) {
		close(db->lock_fd);	/* releases the flock */
	}
	db->fd = db->dir_fd = db->lock_fd = db->comp.old_fd = -1;
	buf_free(&db->pend);
	db_free_state(db);
	free(db->dir);
	free(db->log_path);
	free(db->tmp_path);
	free(db->lock_path);
	db->dir = db->log_path = db->tmp_path = db->lock_path = NULL;
	db->open = 0;
}

/*
 * Make the data directory's own entry durable: whoever created it (main.c
 * or the mkdir above), a power cut before its parent is synced can undo
 * the mkdir and with it every file inside, all of them synced.  Done at
 * every open, as it cannot be told whether it was ever done; a parent that
 * cannot be synced (not readable) is only a warning.
 */
static void
sync_parent(const char *dir)
{
	char *parent = xstrdup(dir), *slash;
	size_t n = strlen(parent);
	int fd;

	while (n > 1 && parent[n - 1] == '/') {
		parent[--n] = '\0';
	}
	slash = strrchr(parent, '/');
	if (slash == NULL) {
		parent[0] = '.';
		parent[1] = '\0';
	} else if (slash == parent) {
		parent[1] = '\0';
	} else {
		*slash = '\0';
	}
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync_retry(fd, 0) != 0) {
		log_warn("store: cannot sync %s (the parent of the data "
		    "directory): %s", parent, strerror(errno));
	}
	if (fd >= 0) {
		close(fd);
	}
	free(parent);
}

/* Config word to policy; 0, or -1 if unknown. */
int
store_sync_parse(const char *s, enum store_sync *out)
{
	if (strcmp(s, "always") == 0) {
		*out = STORE_SYNC_ALWAYS;
	} else if (strcmp(s, "batch") == 0) {
		*out = STORE_SYNC_BATCH;
	} else if (strcmp(s, "none") == 0) {
		*out = STORE_SYNC_NONE;
	} else {
		return -1;
	}
	return 0;
}

/*
 * Take the lock, remove a leftover compaction file, create or replay the
 * log (truncating a torn tail).  0, or -1 with the reason in err (file and
 * line for a corrupt record, the holder's pid for a taken lock).
 */
int
store_open(const char *dir, enum store_sync sync, unsigned batch_ms,
    char *err, size_t errlen)
{
	struct store_db *db = &db_main;
	struct replay rp;
	struct buf hb;

	if (db->open) {
		set_err(err, errlen, "store: already open (%s)", db->dir);
		return -1;
	}
	crc_init();
	memset(db, 0, sizeof(*db));
	db->fd = db->dir_fd = db->lock_fd = db->comp.old_fd = -1;
	db->sync = sync;
	db->batch_ms = batch_ms;
	db->dir = xstrdup(dir);
	db->log_path = path_join(dir, STORE_LOG_NAME);
	db->tmp_path = path_join(dir, STORE_TMP_NAME);
	db->lock_path = path_join(dir, STORE_LOCK_NAME);
	buf_init(&db->pend, 0);
	buf_init(&db->comp.out, 0);

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		set_err(err, errlen, "store: cannot create data directory "
		    "%s: %s", dir, strerror(errno));
		goto fail;
	}
	db->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (db->dir_fd < 0) {
		set_err(err, errlen, "store: cannot open data directory %s: %s",
		    dir, strerror(errno));
		goto fail;
	}
	if (sync != STORE_SYNC_NONE) {
		sync_parent(dir);
	}
	if (take_lock(db, err, errlen) != 0) {
		goto fail;
	}
	if (unlink(db->tmp_path) == 0) {
		log_warn("store: removed %s left by an interrupted compaction",
		    db->tmp_path);
	}
	db->fd = open(db->log_path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (db->fd < 0 && errno == ENOENT) {
		if (create_log(db, err, errlen) != 0) {
			goto fail;
		}
		db->fd = open(db->log_path, O_RDWR | O_APPEND | O_CLOEXEC);
	}
	if (db->fd < 0) {
		set_err(err, errlen, "store: cannot open %s: %s",
		    db->log_path, strerror(errno));
		goto fail;
	}

	replay_fd(db, db->fd, &rp);
	switch (rp.status) {
	case REPLAY_OK:
		break;
	case REPLAY_IOERR:
		set_err(err, errlen, "store: %s: read error: %s",
		    db->log_path, strerror(rp.io_errno));
		goto fail;
	case REPLAY_CORRUPT:
		set_err(err, errlen, "store: %s:%" PRIu64 ": corrupt record "
		    "at offset %" PRIu64 " (%s)%s; not starting: run "
		    "`uxmppd store-check` for details", db->log_path,
		    rp.bad_line, rp.bad_off, rp.reason,
		    rp.valid_after > 0 ? ", intact records follow it" : "");
		goto fail;
	case REPLAY_TORN:
		log_warn("store: %s: torn last record at offset %" PRIu64
		    " (line %" PRIu64 ", %" PRIu64 " bytes, %s): truncated",
		    db->log_path, rp.bad_off, rp.bad_line,
		    rp.file_size - rp.bad_off, rp.reason);
		if (rp.valid_after > 0) {
			log_warn("store: %s: an unwritten page (zeros) at "
			    "offset %" PRIu64 "; %" PRIu64 " intact lines after "
			    "it, of the same unsynced write, dropped",
			    db->log_path, rp.bad_off, rp.valid_after);
		}
		if (rp.group_dropped > 0) {
			log_warn("store: %s: %" PRIu64 " records from offset "
			    "%" PRIu64 " dropped with it: written with it in "
			    "one flush, never acknowledged", db->log_path,
			    rp.group_dropped, rp.group_off);
		}
		if (ftruncate(db->fd, (off_t)rp.good_end) != 0 ||
		    (sync != STORE_SYNC_NONE &&
		    fsync_retry(db->fd, 0) != 0)) {
			set_err(err, errlen, "store: cannot truncate %s: %s",
			    db->log_path, strerror(errno));
			goto fail;
		}
		if (!rp.header_ok) {
			/* nothing valid at all: start the log afresh */
			buf_init(&hb, 0);
			format_header(&hb, 0);
			if (write_all(db->fd, hb.data, hb.len) != 0 ||
			    (sync != STORE_SYNC_NONE &&
			    fsync_retry(db->fd, 0) != 0)) {
				set_err(err, errlen, "store: cannot write "
				    "%s: %s", db->log_path, strerror(errno));
				buf_free(&hb);
				goto fail;
			}
			rp.good_end = hb.len;
			db->hdr_bytes = hb.len;
			buf_free(&hb);
		}
		break;
	}
	db->file_bytes = rp.good_end;
	db->last_sync_ms = now_ms();
	db->open = 1;
	log_info("store: opened %s: %zu live records, %" PRIu64 " lines, "
	    "last seq %" PRIu64, db->log_path, db->count, rp.lines,
	    db->next_seq - 1);
	return 0;
fail:
	db_release(db);
	return -1;
}

/* Write the queued records (no sync).  0, or -1 (pending kept). */
static int
write_pending(struct store_db *db)
{
	if (db->pend.len == 0) {
		return 0;
	}
	if (write_all(db->fd, db->pend.data, db->pend.len) != 0) {
		log_warn_errno("store: write to %s failed", db->log_path);
		db->write_failing = 1;
		/* take back a partial write; the next flush tries again */
		if (ftruncate(db->fd, (off_t)db->file_bytes) != 0) {
			log_err("store: cannot truncate %s after a failed "
			    "write: %s; store disabled", db->log_path,
			    strerror(errno));
			db->failed = 1;
		}
		return -1;
	}
	db->file_bytes += db->pend.len;
	buf_reset(&db->pend);
	db->unsynced = 1;
	if (db->write_failing) {
		db->write_failing = 0;
		log_info("store: %s writable again", db->log_path);
	}
	return 0;
}

/* See store.h. */
const unsigned store_sync_buckets_ms[STORE_SYNC_NBUCKETS - 1] = {
	1, 2, 5, 10, 25, 50, 100, 1000
};
static struct store_stats sync_stats;

/* See store.h. */
void
store_get_stats(struct store_stats *out)
{
	*out = sync_stats;
	out->file_bytes = db_main.file_bytes;
}

static void
count_sync(uint64_t us)
{
	size_t i;

	for (i = 0; i < STORE_SYNC_NBUCKETS - 1 &&
	    us > (uint64_t)store_sync_buckets_ms[i] * 1000; i++) {
	}
	sync_stats.sync_buckets[i]++;
	sync_stats.sync_count++;
	sync_stats.sync_us_total += us;
}

static int
do_sync(struct store_db *db)
{
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = fsync_retry(db->fd, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	count_sync((uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000));
	if (rc != 0) {
		/* after a failed fsync the page cache can't be trusted
		 * (the pages may be marked clean): stop for good */
		log_err("store: fdatasync %s failed: %s; store disabled",
		    db->log_path, strerror(errno));
		db->failed = 1;
		return -1;
	}
	db->unsynced = 0;
	db->last_sync_ms = now_ms();
	return 0;
}

/* ---- compaction ---- */

static void
comp_abort(struct store_db *db, const char *what)
{
	struct store_compaction *c = &db->comp;

	log_warn("store: compaction of %s abandoned: %s: %s", db->log_path,
	    what, strerror(errno));
	close(c->fd);
	unlink(db->tmp_path);
	c->active = 0;
	c->cursor = NULL;
	buf_free(&c->out);
	c->retry_total = db->file_bytes + db->pend.len + STORE_COMPACT_MIN_DEAD;
}

static int
comp_due(const struct store_db *db)
{
	uint64_t total = db->file_bytes + db->pend.len, dead;

	if (db->comp.active || total < db->comp.retry_total ||
	    total < db->hdr_bytes + db->live_bytes) {
		return 0;
	}
	dead = total - db->hdr_bytes - db->live_bytes;
	return dead > STORE_COMPACT_MIN_DEAD && dead > db->live_bytes;
}

static int
comp_start(struct store_db *db)
{
	struct store_compaction *c = &db->comp;

	if (write_pending(db) != 0) {
		return -1;
	}
	c->fd = open(db->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0600);
	if (c->fd < 0) {
		log_warn_errno("store: cannot create %s", db->tmp_path);
		c->retry_total = db->file_bytes + STORE_COMPACT_MIN_DEAD;
		return -1;
	}
	c->active = 1;
	c->base = db->next_seq - 1;
	c->src_off = db->file_bytes;
	c->cursor = db->shead;
	c->written = 0;
	c->synced = 0;
	c->step_bytes = STORE_COMPACT_CHUNK;
	buf_init(&c->out, 0);
	format_header(&c->out, c->base);
	c->hdr_bytes = c->out.len;
	log_info("store: compacting %s: %zu live records, %" PRIu64
	    " bytes", db->log_path, db->count, db->file_bytes);
	return 0;
}

static int
comp_write_out(struct store_db *db)
{
	struct store_compaction *c = &db->comp;

	if (c->out.len == 0) {
		return 0;
	}
	if (write_all(c->fd, c->out.data, c->out.len) != 0) {
		return -1;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	/* start writeback now so the final fsync has little left to do */
	if (db->sync != STORE_SYNC_NONE) {
		(void)sync_file_range(c->fd, (off_t)c->written,
		    (off_t)c->out.len, SYNC_FILE_RANGE_WRITE);
	}
#endif
	c->written += c->out.len;
	buf_reset(&c->out);
	return 0;
}

/* Copy the old log from c->src_off to its end into the temp file. */
static int
comp_copy_tail(struct store_db *db)
{
	struct store_compaction *c = &db->comp;
	uint64_t off = c->src_off;
	char *b = xmalloc(STORE_COMPACT_CHUNK);
	ssize_t n;
	size_t want;
	int rc = -1;

	while (off < db->file_bytes) {
		want = db->file_bytes - off < STORE_COMPACT_CHUNK ?
		    (size_t)(db->file_bytes - off) : STORE_COMPACT_CHUNK;
		n = pread(db->fd, b, want, (off_t)off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = EIO;
			}
			goto out;
		}
		if (write_all(c->fd, b, (size_t)n) != 0) {
			goto out;
		}
		off += (uint64_t)n;
		c->written += (uint64_t)n;
	}
	rc = 0;
out:
	free(b);
	return rc;
}

/*
 * Closing the replaced log frees all its blocks at once, which takes tens of
 * milliseconds for a big file; shrink it a chunk per flush instead (it has
 * no name any more, so this is safe at any point).
 */
static void
comp_shrink_old(struct store_db *db)
{
	struct store_compaction *c = &db->comp;

	c->old_size = c->old_size > STORE_SHRINK_CHUNK ?
	    c->old_size - STORE_SHRINK_CHUNK : 0;
	if (c->old_size == 0 || ftruncate(c->old_fd, (off_t)c->old_size) != 0) {
		close(c->old_fd);
		c->old_fd = -1;
	}
}

static int
comp_finish(struct store_db *db, int defer_close)
{
	struct store_compaction *c = &db->comp;
	uint64_t old_bytes = db->file_bytes;

	if (comp_write_out(db) != 0) {
		comp_abort(db, "write");
		return -1;
	}
	if (write_pending(db) != 0) {
		comp_abort(db, "write to the log");
		return -1;
	}
	if (comp_copy_tail(db) != 0) {
		comp_abort(db, "copy of the newest records");
		return -1;
	}
	if (db->sync != STORE_SYNC_NONE && fsync_retry(c->fd, 0) != 0) {
		comp_abort(db, "fsync");
		return -1;
	}
	if (rename(db->tmp_path, db->log_path) != 0) {
		comp_abort(db, "rename");
		return -1;
	}
	/* From here on store.log is the new file, whatever happens. */
	if (c->old_fd >= 0) {
		close(c->old_fd);
	}
	if (defer_close) {
		c->old_fd = db->fd;
		c->old_size = old_bytes;
	} else {
		close(db->fd);
	}
	db->fd = c->fd;
	db->file_bytes = c->written;
	db->hdr_bytes = c->hdr_bytes;
	db->unsynced = 0;
	db->last_sync_ms = now_ms();
	c->active = 0;
	c->cursor = NULL;
	buf_free(&c->out);
	c->retry_total = 0;
	if (db->sync != STORE_SYNC_NONE && fsync_retry(db->dir_fd, 0) != 0) {
		/* both names are complete logs; the rename may be undone
		 * by a crash but nothing is lost */
		log_warn_errno("store: fsync of directory %s failed",
		    db->dir);
	}
	log_info("store: compacted %s: %" PRIu64 " -> %" PRIu64 " bytes",
	    db->log_path, old_bytes, db->file_bytes);
	return 0;
}

/*
 * Wait until what earlier steps wrote is on the device; returns the ms it
 * took.  Throttles the compaction to the device's speed: on a slow SD card
 * the dirty pages never pile up into one long fsync at the end.
 */
static uint64_t
comp_wait_writeback(struct store_db *db)
{
	struct store_compaction *c = &db->comp;
	uint64_t t0 = now_ms();

	if (db->sync == STORE_SYNC_NONE || c->synced >= c->written) {
		return 0;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(c->fd, (off_t)c->synced,
	    (off_t)(c->written - c->synced), SYNC_FILE_RANGE_WAIT_BEFORE |
	    SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
#endif
	c->synced = c->written;
	return now_ms() - t0;
}

/*
 * Advance the compaction by about budget_ms (0: run it to the end).  A step
 * first waits for the previous step's writes to reach the device, then
 * writes at most step_bytes, which halves when that wait overran the budget
 * and doubles when it took less than half of it.
 */
static int
comp_step(struct store_db *db, unsigned budget_ms)
{
	struct store_compaction *c = &db->comp;
	uint64_t deadline = now_ms() + budget_ms, waited, limit;
	struct store_rec *r;
	unsigned n = 0;

	if (budget_ms != 0) {
		waited = comp_wait_writeback(db);
		if (waited > budget_ms) {
			if (c->step_bytes / 2 >= STORE_STEP_MIN_BYTES) {
				c->step_bytes /= 2;
			}
			return 0;
		}
		if (waited * 2 < budget_ms &&
		    c->step_bytes * 2 <= STORE_STEP_MAX_BYTES) {
			c->step_bytes *= 2;
		}
	}
	limit = c->written + c->out.len + c->step_bytes;
	while ((r = c->cursor) != NULL && r->seq <= c->base) {
		format_record(&c->out, r->seq, 1, r->kind->name,
		    r->kind->name_len, r->data, r->key_len,
		    r->data + r->key_len + 1, r->val_len);
		c->cursor = r->snext;
		if (c->out.len >= STORE_COMPACT_CHUNK &&
		    comp_write_out(db) != 0) {
			comp_abort(db, "write");
			return -1;
		}
		if (budget_ms != 0 && (c->written + c->out.len >= limit ||
		    ((++n & 255) == 0 && now_ms() >= deadline))) {
			if (comp_write_out(db) != 0) {
				comp_abort(db, "write");
				return -1;
			}
			return 0;
		}
	}
	return comp_finish(db, budget_ms != 0);
}

/* ---- public API of the open store ---- */

/* Write and sync what is queued, abandon a compaction in progress, free
 * everything and release the lock. */
void
store_close(void)
{
	struct store_db *db = &db_main;

	if (!db->open) {
		return;
	}
	if (!db->failed && write_pending(db) == 0 && db->unsynced &&
	    db->sync != STORE_SYNC_NONE) {
		(void)do_sync(db);
	}
	if (db->pend.len > 0) {
		log_err("store: %zu bytes of changes could not be written "
		    "to %s", db->pend.len, db->log_path);
	}
	db_release(db);
}

/* Borrowed: valid until that key changes or the store closes. */
const char *
store_get(const char *kind, const char *key)
{
	const struct store_rec *r;

	if (!db_main.open) {
		return NULL;
	}
	r = db_lookup(&db_main, kind, key);
	return r ? r->data + r->key_len + 1 : NULL;
}

static int refuse_changes;	/* store_test_refuse_changes() */

void
store_test_refuse_changes(int on)
{
	refuse_changes = on;
}

int
store_writable(void)
{
	return db_main.open && !db_main.failed && !db_main.write_failing &&
	    !refuse_changes;
}

int
store_pending(void)
{
	return db_main.open && db_main.pend.len > 0;
}

/*
 * The queued line before next (pend[pend_last..next)) gets company in the
 * same flush: turn its "put"/"del" into "put+"/"del+" and redo its
 * checksum (see groups at the top).  Shifts what follows by one byte.
 * The record's line_len stays one short: only compaction's estimate of
 * dead bytes uses it.
 */
static void
pend_mark_continued(struct store_db *db, size_t next)
{
	struct buf *b = &db->pend;
	size_t a = db->pend_last, op;
	char *t;
	uint32_t crc;

	t = memchr(b->data + a, '\t', next - a);
	op = (size_t)(t - b->data) + 4;	/* just after "put" or "del" */
	buf_putc(b, '\0');
	memmove(b->data + op + 1, b->data + op, b->len - 1 - op);
	b->data[op] = '+';
	next++;
	/* the checksum covers the line up to the tab before it */
	crc = store_crc32(b->data + a, next - 9 - a);
	snprintf(b->data + next - 9, 9, "%08" PRIx32, crc);
	b->data[next - 1] = '\n';
}

static int
store_change(const char *kind, const char *key, const char *value)
{
	struct store_db *db = &db_main;
	struct store_kind *k;
	size_t kl, keyl, vl = 0, start, len;

	if (!db->open || db->failed || db->write_failing || refuse_changes ||
	    kind == NULL || key == NULL) {
		return -1;
	}
	kl = strlen(kind);
	keyl = strlen(key);
	if (value != NULL) {
		vl = strlen(value);
	}
	if (kl == 0 || keyl > UINT32_MAX / 4 || vl > UINT32_MAX / 4) {
		return -1;
	}
	if (value == NULL) {
		if (db_lookup(db, kind, key) == NULL) {
			return 0;	/* nothing to delete: write nothing */
		}
	}
	k = kind_find(db, kind, kl, 1);
	if (k == NULL) {
		log_err("store: more than %d kinds of record", STORE_MAX_KINDS);
		return -1;
	}
	start = db->pend.len;
	len = format_record(&db->pend, db->next_seq, value != NULL, kind, kl,
	    key, keyl, value, vl);
	if (len > STORE_MAX_LINE) {
		db->pend.len = start;
		db->pend.data[start] = '\0';
		log_warn("store: record %s/%.64s too big (%zu bytes)", kind,
		    key, len);
		return -1;
	}
	if (start > 0) {
		pend_mark_continued(db, start);
		start++;
	}
	db->pend_last = start;
	if (value != NULL) {
		apply_put(db, k, key, keyl, value, vl, db->next_seq, len);
	} else {
		apply_del(db, k, key, keyl);
	}
	db->next_seq++;
	return 0;
}

/* Apply now, queue the line for store_flush(); 0 or -1 (not open, store
 * failed, empty kind, record over STORE_MAX_LINE). */
int
store_put(const char *kind, const char *key, const char *value)
{
	if (value == NULL) {
		return -1;
	}
	return store_change(kind, key, value);
}

/* As store_put; deleting an absent key writes nothing and returns 0. */
int
store_del(const char *kind, const char *key)
{
	return store_change(kind, key, NULL);
}

/* Walks the kind's own list: cost is the number of records of that kind,
 * not of the store.  fn must not change the store. */
void
store_foreach(const char *kind, const char *key_prefix,
    int (*fn)(void *ud, const char *key, const char *value), void *ud)
{
	struct store_db *db = &db_main;
	struct store_kind *k;
	struct store_rec *r, *next;
	size_t pl = key_prefix ? strlen(key_prefix) : 0;

	if (!db->open) {
		return;
	}
	k = kind_find(db, kind, strlen(kind), 0);
	if (k == NULL) {
		return;
	}
	for (r = k->head; r != NULL; r = next) {
		next = r->knext;
		if (pl > 0 && (r->key_len < pl ||
		    memcmp(r->data, key_prefix, pl) != 0)) {
			continue;
		}
		if (fn(ud, r->data, r->data + r->key_len + 1) != 0) {
			break;
		}
	}
}

struct store_keylist {
	char	**keys;
	size_t	 n, cap;
};

static int
store_keys_add(void *ud, const char *key, const char *value)
{
	struct store_keylist *l = ud;

	(void)value;
	if (l->n + 1 >= l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->keys = xrealloc(l->keys, l->cap * sizeof(*l->keys));
	}
	l->keys[l->n++] = xstrdup(key);
	return 0;
}

static int
store_keys_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted snapshot of the keys, so callers may change the store while
 * they walk it (store_foreach's callback may not). */
char **
store_keys(const char *kind, const char *key_prefix, size_t *count)
{
	struct store_keylist l = { NULL, 0, 0 };

	store_foreach(kind, key_prefix, store_keys_add, &l);
	if (l.n > 1) {
		qsort(l.keys, l.n, sizeof(*l.keys), store_keys_cmp);
	}
	if (l.keys == NULL) {
		l.keys = xcalloc(1, sizeof(*l.keys));
	}
	l.keys[l.n] = NULL;
	if (count != NULL) {
		*count = l.n;
	}
	return l.keys;
}

void
store_keys_free(char **keys)
{
	size_t i;

	for (i = 0; keys != NULL && keys[i] != NULL; i++) {
		free(keys[i]);
	}
	free(keys);
}

size_t
store_del_prefix(const char *kind, const char *key_prefix)
{
	size_t i, n;
	char **keys = store_keys(kind, key_prefix, &n);

	for (i = 0; i < n; i++) {
		store_del(kind, keys[i]);
	}
	store_keys_free(keys);
	return n;
}

/*
 * Group commit: one write of everything queued, then fdatasync per the
 * policy, then a compaction step when one is due or running.  -1 when the
 * write or sync failed: nothing queued since the last good flush may be
 * acknowledged.  A failed write is taken back and retried next time; a
 * failed fdatasync disables the store for good.
 */
int
store_flush(void)
{
	struct store_db *db = &db_main;
	int rc = 0;

	if (!db->open) {
		return -1;
	}
	if (db->failed) {
		return -2;
	}
	if (write_pending(db) != 0) {
		return db->failed ? -2 : -1;
	}
	if (db->unsynced) {
		switch (db->sync) {
		case STORE_SYNC_ALWAYS:
			rc = do_sync(db);
			break;
		case STORE_SYNC_BATCH:
			if (now_ms() - db->last_sync_ms >= db->batch_ms) {
				rc = do_sync(db);
			}
			break;
		case STORE_SYNC_NONE:
			db->unsynced = 0;
			break;
		}
	}
	if (rc != 0) {
		return -2;	/* do_sync disabled the store */
	}
	if (!db->comp.active && comp_due(db)) {
		(void)comp_start(db);
	}
	if (db->comp.active) {
		(void)comp_step(db, STORE_COMPACT_STEP_MS);
	} else if (db->comp.old_fd >= 0) {
		comp_shrink_old(db);
	}
	return 0;
}

/* For the reactor's timeout: 0 now, N ms, or -1 nothing pending. */
int
store_flush_due_ms(void)
{
	struct store_db *db = &db_main;
	uint64_t now, due;

	if (!db->open || db->failed) {
		return -1;
	}
	if (db->pend.len > 0 || db->comp.active || db->comp.old_fd >= 0 ||
	    comp_due(db)) {
		return 0;
	}
	if (!db->unsynced || db->sync != STORE_SYNC_BATCH) {
		return -1;
	}
	now = now_ms();
	due = db->last_sync_ms + db->batch_ms;
	return due <= now ? 0 : (int)(due - now);
}

/* The whole compaction at once (uxmppd store-compact); 0 or -1. */
int
store_compact(void)
{
	struct store_db *db = &db_main;

	if (!db->open || db->failed) {
		return -1;
	}
	if (write_pending(db) != 0) {
		return -1;
	}
	if (!db->comp.active && comp_start(db) != 0) {
		return -1;
	}
	return comp_step(db, 0);
}

/* ---- offline commands ---- */

/* Replay dir's log read-only (no lock, no truncation) into db. */
static int
offline_replay(const char *dir, struct store_db *db, struct replay *rp,
    char **log_path)
{
	int fd;

	crc_init();
	memset(db, 0, sizeof(*db));
	*log_path = path_join(dir, STORE_LOG_NAME);
	fd = open(*log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	replay_fd(db, fd, rp);
	close(fd);
	return 0;
}

/*
 * Read-only (no lock taken, nothing truncated), so it also runs beside a
 * live server.  Exit code: 0 sound (a torn tail is reported but is what a
 * crash leaves), 1 corrupt (the server would refuse to start), 2 unreadable.
 */
int
store_check_cmd(const char *dir)
{
	struct store_db db;
	struct replay rp;
	char *log_path, *p;
	uint64_t dead;
	struct stat sb;
	int fd, rc = 0;
	long pid;
	unsigned i;

	if (offline_replay(dir, &db, &rp, &log_path) != 0) {
		if (errno == ENOENT) {
			printf("%s: no store yet (it is created at the first "
			    "start)\n", log_path);
		} else {
			printf("%s: cannot open: %s\n", log_path,
			    strerror(errno));
			rc = 2;
		}
		free(log_path);
		return rc;
	}
	p = path_join(dir, STORE_LOCK_NAME);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (flock(fd, LOCK_SH | LOCK_NB) != 0 &&
		    errno == EWOULDBLOCK) {
			pid = lock_holder(fd);
			printf("note: the store is open by a running uxmppd "
			    "(pid %ld); the log may grow while it is read\n",
			    pid);
		}
		close(fd);
	}
	free(p);
	p = path_join(dir, STORE_TMP_NAME);
	if (stat(p, &sb) == 0) {
		printf("note: %s (%jd bytes) is left from an interrupted "
		    "compaction; it is ignored and removed at the next start\n",
		    p, (intmax_t)sb.st_size);
	}
	free(p);

	switch (rp.status) {
	case REPLAY_IOERR:
		printf("%s: read error: %s\n", log_path,
		    strerror(rp.io_errno));
		rc = 2;
		goto out;
	case REPLAY_CORRUPT:
		printf("%s:%" PRIu64 ": CORRUPT record at offset %" PRIu64
		    ": %s\n", log_path, rp.bad_line, rp.bad_off, rp.reason);
		printf("  line: %s\n", rp.bad_text);
		if (rp.valid_after > 0) {
			printf("  %" PRIu64 " intact record(s) follow it, the "
			    "first at line %" PRIu64 ", so this is not a torn "
			    "last write: the file was damaged or edited.\n",
			    rp.valid_after, rp.first_valid_line);
		} else {
			printf("  its checksum is right but its content is "
			    "not: the file was edited or written by "
			    "something else.\n");
		}
		printf("  uxmppd will not start on this store.  The %"
		    PRIu64 " records before line %" PRIu64 " are intact.  "
		    "Restore store.log from a backup, or repair or delete "
		    "that line by hand (sequence numbers after it must "
		    "still follow on by one), then run store-check again.\n",
		    rp.lines > 0 ? rp.lines - 1 : 0, rp.bad_line);
		rc = 1;
		goto out;
	case REPLAY_TORN:
		if (rp.bad_off == 0 && rp.file_size == 0) {
			printf("%s: empty file; a fresh log is started at the "
			    "next start\n", log_path);
		} else {
			printf("%s:%" PRIu64 ": torn last record at offset %"
			    PRIu64 " (%" PRIu64 " bytes to the end, %s): an "
			    "interrupted write; the next start truncates the "
			    "file to %" PRIu64 " bytes (the change was never "
			    "acknowledged)\n", log_path, rp.bad_line,
			    rp.bad_off, rp.file_size - rp.bad_off, rp.reason,
			    rp.good_end);
			printf("  line: %s\n", rp.bad_text);
			if (rp.valid_after > 0) {
				printf("  it runs into an unwritten page "
				    "(zeros): the %" PRIu64 " intact lines "
				    "after it are of the same unsynced write "
				    "and are dropped too\n", rp.valid_after);
			}
			if (rp.group_dropped > 0) {
				printf("  with the %" PRIu64 " records from "
				    "offset %" PRIu64 " written in the same "
				    "flush\n", rp.group_dropped,
				    rp.group_off);
			}
		}
		break;
	case REPLAY_OK:
		break;
	}
	dead = rp.good_end > db.hdr_bytes + db.live_bytes ?
	    rp.good_end - db.hdr_bytes - db.live_bytes : 0;
	printf("%s: OK: format %d, %" PRIu64 " bytes, %" PRIu64 " records "
	    "(%" PRIu64 " put, %" PRIu64 " del), last seq %" PRIu64
	    ", snapshot base %" PRIu64 "\n", log_path, STORE_VERSION,
	    rp.good_end, rp.puts + rp.dels, rp.puts, rp.dels,
	    db.next_seq - 1, db.base_seq);
	printf("live records: %zu (%" PRIu64 " bytes); dead: %" PRIu64
	    " bytes\n", db.count, db.live_bytes, dead);
	for (i = 0; i < db.nkinds; i++) {
		if (db.kinds[i]->count > 0) {
			printf("  %-16s %zu\n", db.kinds[i]->name,
			    db.kinds[i]->count);
		}
	}
out:
	db_free_state(&db);
	free(log_path);
	return rc;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct store_rec *x = *(const struct store_rec *const *)a;
	const struct store_rec *y = *(const struct store_rec *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c;

	c = strcmp(x->kind->name, y->kind->name);
	if (c != 0) {
		return c;
	}
	c = memcmp(x->data, y->data, n);
	if (c != 0) {
		return c;
	}
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* Live records sorted by kind and key, "kind<TAB>key<TAB>value" escaped
 * as in the log.  Read-only.  Exit code as store_check_cmd. */
int
store_dump_cmd(const char *dir)
{
	struct store_db db;
	struct replay rp;
	struct store_rec **v, *r;
	struct buf b;
	char *log_path;
	size_t i, n = 0;

	if (offline_replay(dir, &db, &rp, &log_path) != 0) {
		fprintf(stderr, "%s: %s\n", log_path, strerror(errno));
		free(log_path);
		return errno == ENOENT ? 0 : 2;
	}
	if (rp.status == REPLAY_CORRUPT || rp.status == REPLAY_IOERR) {
		fprintf(stderr, "%s:%" PRIu64 ": %s; run `uxmppd store-check`"
		    "\n", log_path, rp.bad_line, rp.status == REPLAY_IOERR ?
		    strerror(rp.io_errno) : rp.reason);
		db_free_state(&db);
		free(log_path);
		return 1;
	}
	v = xcalloc(db.count ? db.count : 1, sizeof(*v));
	for (r = db.shead; r != NULL; r = r->snext) {
		v[n++] = r;
	}
	qsort(v, n, sizeof(*v), rec_cmp);
	printf("# %s: %zu live records, last seq %" PRIu64 "%s\n",
	    log_path, n, db.next_seq - 1, rp.status == REPLAY_TORN ?
	    " (a torn last record is not shown)" : "");
	printf("# kind<TAB>key<TAB>value, escaped as in the log "
	    "(\\\\ \\t \\n \\r \\xHH)\n");
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		r = v[i];
		buf_reset(&b);
		escape_append(&b, r->kind->name, r->kind->name_len);
		buf_putc(&b, '\t');
		escape_append(&b, r->data, r->key_len);
		buf_putc(&b, '\t');
		escape_append(&b, r->data + r->key_len + 1, r->val_len);
		buf_putc(&b, '\n');
		fwrite(b.data, 1, b.len, stdout);
	}
	buf_free(&b);
	free(v);
	db_free_state(&db);
	free(log_path);
	return 0;
}
