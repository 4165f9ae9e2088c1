/*
 * archive.c - message archives in append-only segment files.
 *
 * Layout: DATA_DIR/archive/NAME/ per archive, NAME the archive's bare JID
 * with every byte outside [a-z0-9@._-] (and a leading '.') written %XX.
 * The directory holds segments, each a pair of files named by the number
 * of its first message as 16 hex digits:
 *   SEQ.dat  a 24-byte header, then the records, back to back
 *   SEQ.idx  one 32-byte entry per record of SEQ.dat, in order
 * Only the last segment is appended to; a new one starts when it holds
 * ARCHIVE_SEG_MSGS messages or ARCHIVE_SEG_BYTES bytes.
 *
 * All integers are little-endian.
 *   header: "uxarc1\0\0", epoch u32, 0 u32, first seq u64
 *   record: len u32 (whole record), crc u32 (CRC-32 of the bytes after
 *           it), seq u64, time_us i64, with_len u16, 0 u16, xml_len u32,
 *           then with and the stanza
 *   entry:  time_us i64, offset u64, len u32, hash u32 (FNV-1a of the
 *           bare 'with'), 0 u32, crc u32 (of the 28 bytes before it)
 * The epoch is random, made with the archive's first segment and copied
 * into later ones; an id is the epoch and the seq in hex (8 + 12 digits).
 *
 * Message N is entry N - first of the segment whose first seq is the
 * greatest <= N: finding an id is a binary search over the (few) segments
 * and one pread.  Times never decrease, so a time is a binary search over
 * the entries.  A page reads its entries and records and nothing else;
 * the 'with' filter scans entries by hash and checks the record's JID.
 *
 * Crash safety: records and entries are written at once and fdatasynced
 * in archive_flush() (data before index).  Opening an archive repairs its
 * last segment only, so its cost does not grow with the archive: a partial
 * entry is cut; the index is cut at its first entry, among the last
 * ARC_TAIL_ENTRIES, that is bad or whose record is not intact (a power cut
 * can keep a later page of an unsynced write and lose an earlier one);
 * records past the last entry are checked (length, checksum, seq) and
 * indexed, and the first bad one and everything after it are truncated
 * away with a warning naming file and offset (the torn tail of the last
 * write before a power cut).
 *
 * Retention: queries see only the messages within keep_days and the last
 * keep_max; archive_compact_step() deletes the segments that hold nothing
 * else.  The last segment is never deleted (it holds the next seq): when
 * all of it has expired an empty segment is started after it first.  So
 * compaction unlinks files and never rewrites one.
 */
#include "archive.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "htab.h"
#include "log.h"
#include "store.h"
#include "uxlimits.h"

#define ARC_MAGIC	"uxarc1\0\0"
#define ARC_HDR_LEN	24
#define ARC_REC_HDR	32
#define ARC_ENT_LEN	32
#define ARC_SCAN_ENTRIES 512	/* entries read at once by a scan */
#define ARC_TAIL_ENTRIES 256	/* checked at open: two pages of index */

struct arc_seg {
	uint64_t	 first;		/* seq of its first message */
	uint64_t	 count;		/* messages (entries) in it */
};

struct arc_entry {
	int64_t		 time_us;
	uint64_t	 off;
	uint32_t	 len;
	uint32_t	 hash;
};

struct archive {
	char		*key;		/* escaped name: the directory */
	char		*path;		/* root/key */
	uint32_t	 epoch;
	struct arc_seg	*segs;
	size_t		 nsegs, segs_cap;
	uint64_t	 next_seq;
	int64_t		 last_us;
	int		 dat_fd, idx_fd;	/* last segment, appended to */
	uint64_t	 dat_size;
	int		 rd_dat, rd_idx;	/* an older segment, read */
	uint64_t	 rd_first;
	int		 dirty;		/* appends not yet synced */
	int		 misaligned;	/* a failed write could not be cut
					 * back: the files' ends are not
					 * dat_size and count entries */
	int		 dir_dirty;	/* files created: sync the dir */
	struct hnode	 node;
	struct archive	*prev, *next;	/* LRU, most recent first */
};

static struct {
	char		*root;
	int		 open;
	int		 sync;
	int		 rdonly;
	unsigned	 keep_days, keep_max;
	struct htab	 tab;
	struct archive	*head, *tail;
	size_t		 nopen;
	int		 root_dirty;
	DIR		*compact_dir;
	int64_t		 compact_next_us;
} arc;

/* ---- little-endian fields ---- */

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* FNV-1a of the bare part of jid (up to '/'). */
static uint32_t
with_hash(const char *jid)
{
	uint32_t h = 2166136261u;

	for (; *jid != '\0' && *jid != '/'; jid++) {
		h = (h ^ (unsigned char)*jid) * 16777619u;
	}
	return h;
}

/* ---- I/O helpers ---- */

static int
write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes at off: 0, or -1 (error or short). */
static int
pread_all(int fd, void *p, size_t n, uint64_t off)
{
	char *b = p;
	ssize_t r;

	while (n > 0) {
		r = pread(fd, b, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		if (r == 0) {
			return -1;
		}
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static void
escape_name(const char *name, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p != '\0' && o + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '@' || *p == '_' || *p == '-' ||
		    (*p == '.' && p != (const unsigned char *)name)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	if (o > ARCHIVE_DIR_NAME_MAX) {
		/* past a file name's length: a prefix and a hash of it all */
		uint64_t h = 14695981039346656037ULL;

		for (p = (const unsigned char *)name; *p != '\0'; p++) {
			h = (h ^ *p) * 1099511628211ULL;
		}
		snprintf(out + ARCHIVE_DIR_NAME_MAX - 17, cap -
		    (ARCHIVE_DIR_NAME_MAX - 17), "~%016llx",
		    (unsigned long long)h);
	}
}

static void
seg_path(const struct archive *a, uint64_t first, const char *ext,
    char *out, size_t cap)
{
	snprintf(out, cap, "%s/%016" PRIx64 ".%s", a->path, first, ext);
}

static void
make_id(uint32_t epoch, uint64_t seq, char out[ARCHIVE_ID_LEN + 1])
{
	snprintf(out, ARCHIVE_ID_LEN + 1, "%08" PRIx32 "%012llx", epoch,
	    (unsigned long long)(seq & 0xffffffffffffULL));
}

/* The seq an id names in a (0: none). */
static uint64_t
parse_id(const struct archive *a, const char *id)
{
	char ep[9];
	uint64_t seq = 0;
	size_t i;

	if (id == NULL || strlen(id) != ARCHIVE_ID_LEN) {
		return 0;
	}
	for (i = 0; i < ARCHIVE_ID_LEN; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f'))) {
			return 0;
		}
	}
	memcpy(ep, id, 8);
	ep[8] = '\0';
	if ((uint32_t)strtoul(ep, NULL, 16) != a->epoch) {
		return 0;
	}
	for (i = 8; i < ARCHIVE_ID_LEN; i++) {
		seq = seq * 16 + (uint64_t)(id[i] <= '9' ? id[i] - '0' :
		    id[i] - 'a' + 10);
	}
	return seq;
}

/* ---- entries ---- */

static void
entry_encode(unsigned char *p, const struct arc_entry *e)
{
	put64(p, (uint64_t)e->time_us);
	put64(p + 8, e->off);
	put32(p + 16, e->len);
	put32(p + 20, e->hash);
	put32(p + 24, 0);
	put32(p + 28, store_crc32(p, 28));
}

static int
entry_decode(const unsigned char *p, struct arc_entry *e)
{
	if (get32(p + 28) != store_crc32(p, 28)) {
		return -1;
	}
	e->time_us = (int64_t)get64(p);
	e->off = get64(p + 8);
	e->len = get32(p + 16);
	e->hash = get32(p + 20);
	return 0;
}

/* ---- handles ---- */

static void
lru_unlink(struct archive *a)
{
	if (a->prev != NULL) {
		a->prev->next = a->next;
	} else {
		arc.head = a->next;
	}
	if (a->next != NULL) {
		a->next->prev = a->prev;
	} else {
		arc.tail = a->prev;
	}
	a->prev = a->next = NULL;
}

static void
lru_front(struct archive *a)
{
	if (arc.head == a) {
		return;
	}
	if (a->prev != NULL || a->next != NULL || arc.tail == a) {
		lru_unlink(a);
	}
	a->next = arc.head;
	if (arc.head != NULL) {
		arc.head->prev = a;
	}
	arc.head = a;
	if (arc.tail == NULL) {
		arc.tail = a;
	}
}

/* fsync the directory path; 0, or -1 with errno. */
static int
sync_dir(const char *path)
{
	int fd, rc, e;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	do {
		rc = fsync(fd);
	} while (rc != 0 && errno == EINTR);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int
archive_sync(struct archive *a)
{
	int rc = 0;
	int dfd;

	if (!arc.sync) {
		a->dirty = a->dir_dirty = 0;
		return 0;
	}
	if (a->dirty) {
		if ((a->dat_fd >= 0 && fdatasync(a->dat_fd) != 0) ||
		    (a->idx_fd >= 0 && fdatasync(a->idx_fd) != 0)) {
			log_warn_errno("archive %s: fdatasync", a->key);
			rc = -1;
		} else {
			a->dirty = 0;
		}
	}
	if (a->dir_dirty) {
		dfd = open(a->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0) {
			log_warn_errno("archive %s: fsync dir", a->key);
			rc = -1;
		} else {
			a->dir_dirty = 0;
		}
		if (dfd >= 0) {
			close(dfd);
		}
	}
	return rc;
}

static void
close_rd(struct archive *a)
{
	if (a->rd_dat >= 0) {
		close(a->rd_dat);
	}
	if (a->rd_idx >= 0) {
		close(a->rd_idx);
	}
	a->rd_dat = a->rd_idx = -1;
}

static void
handle_free(struct archive *a)
{
	archive_sync(a);
	htab_del(&arc.tab, &a->node);
	lru_unlink(a);
	arc.nopen--;
	if (a->dat_fd >= 0) {
		close(a->dat_fd);
	}
	if (a->idx_fd >= 0) {
		close(a->idx_fd);
	}
	close_rd(a);
	free(a->segs);
	free(a->path);
	free(a->key);
	free(a);
}

static int
seg_cmp(const void *x, const void *y)
{
	const struct arc_seg *a = x, *b = y;

	return a->first < b->first ? -1 : a->first > b->first;
}

static void
seg_push(struct archive *a, uint64_t first)
{
	if (a->nsegs == a->segs_cap) {
		a->segs_cap = a->segs_cap ? a->segs_cap * 2 : 8;
		a->segs = xrealloc(a->segs, a->segs_cap * sizeof(*a->segs));
	}
	a->segs[a->nsegs].first = first;
	a->segs[a->nsegs].count = 0;
	a->nsegs++;
}

/* Create segment first as the new last one, its files empty but for the
 * header.  0 or -1. */
static int
seg_create(struct archive *a, uint64_t first)
{
	char p[PATH_MAX_ARCHIVE];
	unsigned char hdr[ARC_HDR_LEN];
	int dfd, ifd;

	seg_path(a, first, "dat", p, sizeof(p));
	dfd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (dfd < 0) {
		log_warn_errno("archive: create %s", p);
		return -1;
	}
	memcpy(hdr, ARC_MAGIC, 8);
	put32(hdr + 8, a->epoch);
	put32(hdr + 12, 0);
	put64(hdr + 16, first);
	if (write_all(dfd, hdr, sizeof(hdr)) != 0) {
		log_warn_errno("archive: write %s", p);
		close(dfd);
		unlink(p);
		return -1;
	}
	seg_path(a, first, "idx", p, sizeof(p));
	ifd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (ifd < 0) {
		log_warn_errno("archive: create %s", p);
		close(dfd);
		seg_path(a, first, "dat", p, sizeof(p));
		unlink(p);
		return -1;
	}
	if (a->dat_fd >= 0) {
		/* the old last segment is complete: make it durable now, as
		 * only the last one is repaired at open.  If that fails its
		 * tail may be lost, so keep appending to it instead. */
		if (arc.sync && (fdatasync(a->dat_fd) != 0 ||
		    fdatasync(a->idx_fd) != 0)) {
			log_warn_errno("archive %s: fdatasync of the segment "
			    "before %016llx", a->key, (unsigned long long)first);
			close(ifd);
			unlink(p);
			close(dfd);
			seg_path(a, first, "dat", p, sizeof(p));
			unlink(p);
			return -1;
		}
		close(a->dat_fd);
		close(a->idx_fd);
	}
	a->dat_fd = dfd;
	a->idx_fd = ifd;
	a->dat_size = ARC_HDR_LEN;
	seg_push(a, first);
	a->dirty = a->dir_dirty = 1;
	return 0;
}

/* Check the record an entry points at: header, seq and checksum. */
static int
record_ok(int fd, const struct arc_entry *e, uint64_t seq, uint64_t size)
{
	unsigned char *b;
	int ok = 0;

	if (e->len < ARC_REC_HDR || e->len > ARCHIVE_MAX_RECORD ||
	    e->off < ARC_HDR_LEN || e->off + e->len > size) {
		return 0;
	}
	b = xmalloc(e->len);
	if (pread_all(fd, b, e->len, e->off) == 0 && get32(b) == e->len &&
	    get32(b + 4) == store_crc32(b + 8, e->len - 8) &&
	    get64(b + 8) == seq) {
		ok = 1;
	}
	free(b);
	return ok;
}

/* Is entry k of a segment (first, data file dfd of size bytes) sound? */
static int
entry_ok(int ifd, int dfd, uint64_t k, uint64_t first, uint64_t size)
{
	unsigned char eb[ARC_ENT_LEN];
	struct arc_entry e;

	return pread_all(ifd, eb, ARC_ENT_LEN, k * ARC_ENT_LEN) == 0 &&
	    entry_decode(eb, &e) == 0 && record_ok(dfd, &e, first + k, size);
}

/*
 * A header of zeros: the file's size reached the device but its first page
 * did not, so nothing in the file was ever synced (a data file is only
 * appended to, and a sync covers everything before it).  0 or 1.
 */
static int
header_unwritten(int fd)
{
	unsigned char hdr[ARC_HDR_LEN];
	size_t i;

	if (pread_all(fd, hdr, ARC_HDR_LEN, 0) != 0) {
		return 0;
	}
	for (i = 0; i < ARC_HDR_LEN; i++) {
		if (hdr[i] != 0) {
			return 0;
		}
	}
	return 1;
}

/* Rewrite the torn header of the last segment (fd: its data file, O_APPEND)
 * and empty its index ip.  0 or -1. */
static int
header_rewrite(struct archive *a, int fd, const char *ip)
{
	struct arc_seg *s = &a->segs[a->nsegs - 1];
	unsigned char hdr[ARC_HDR_LEN];
	char p[PATH_MAX_ARCHIVE];
	uint32_t epoch = 0;
	int pfd;

	if (a->nsegs > 1) {
		seg_path(a, a->segs[a->nsegs - 2].first, "dat", p, sizeof(p));
		pfd = open(p, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || pread_all(pfd, hdr, ARC_HDR_LEN, 0) != 0 ||
		    memcmp(hdr, ARC_MAGIC, 8) != 0) {
			log_err("archive: %s: bad header", p);
			if (pfd >= 0) {
				close(pfd);
			}
			return -1;
		}
		close(pfd);
		epoch = get32(hdr + 8);
	} else if (getrandom(&epoch, sizeof(epoch), 0) != sizeof(epoch)) {
		epoch = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	}
	log_warn("archive %s: torn segment header rewritten", a->key);
	memcpy(hdr, ARC_MAGIC, 8);
	put32(hdr + 8, epoch);
	put32(hdr + 12, 0);
	put64(hdr + 16, s->first);
	if (ftruncate(fd, 0) != 0 || write_all(fd, hdr, ARC_HDR_LEN) != 0 ||
	    truncate(ip, 0) != 0) {
		if (errno != ENOENT) {
			log_warn_errno("archive %s: rewrite header", a->key);
			return -1;
		}
	}
	a->dirty = 1;
	return 0;
}

/*
 * Open the last segment for appending and repair its tail (see the top of
 * the file).  Sets a->epoch from its header, the segment's count, next_seq,
 * last_us and dat_size.  0 or -1.
 */
static int
seg_open_last(struct archive *a)
{
	struct arc_seg *s = &a->segs[a->nsegs - 1];
	char dp[PATH_MAX_ARCHIVE], ip[PATH_MAX_ARCHIVE];
	unsigned char hdr[ARC_HDR_LEN], eb[ARC_ENT_LEN], rh[ARC_REC_HDR];
	struct stat st;
	struct arc_entry e;
	uint64_t n, k, pos, size;
	unsigned char *rec;
	int dfd = -1, ifd = -1;

	seg_path(a, s->first, "dat", dp, sizeof(dp));
	seg_path(a, s->first, "idx", ip, sizeof(ip));
	dfd = open(dp, arc.rdonly ? O_RDONLY | O_CLOEXEC :
	    O_RDWR | O_APPEND | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) != 0) {
		log_warn_errno("archive: open %s", dp);
		goto fail;
	}
	size = (uint64_t)st.st_size;
	if (size < ARC_HDR_LEN && arc.rdonly) {
		goto fail;
	}
	if (size < ARC_HDR_LEN || header_unwritten(dfd)) {
		/* torn at creation, so it never held a synced record: write
		 * the header again (the epoch from the segment before, if
		 * any) */
		if (header_rewrite(a, dfd, ip) != 0) {
			goto fail;
		}
		size = ARC_HDR_LEN;
	}
	if (pread_all(dfd, hdr, ARC_HDR_LEN, 0) != 0 ||
	    memcmp(hdr, ARC_MAGIC, 8) != 0 || get64(hdr + 16) != s->first) {
		log_err("archive: %s: bad header", dp);
		goto fail;
	}
	a->epoch = get32(hdr + 8);
	ifd = arc.rdonly ? open(ip, O_RDONLY | O_CLOEXEC) :
	    open(ip, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (ifd < 0 || fstat(ifd, &st) != 0) {
		log_warn_errno("archive: open %s", ip);
		goto fail;
	}
	n = (uint64_t)st.st_size / ARC_ENT_LEN;
	/* Cut the index at its first entry, among the last ones, whose
	 * entry or record did not make it: a power cut can keep a later
	 * page of the last unsynced write and not an earlier one, and an
	 * entry is only synced after its record (the records past the cut
	 * are indexed again below). */
	k = n > ARC_TAIL_ENTRIES ? n - ARC_TAIL_ENTRIES : 0;
	while (k < n && entry_ok(ifd, dfd, k, s->first, size)) {
		k++;
	}
	n = k;
	if (n > 0 && (pread_all(ifd, eb, ARC_ENT_LEN, (n - 1) * ARC_ENT_LEN)
	    != 0 || entry_decode(eb, &e) != 0)) {
		log_warn_errno("archive: read %s", ip);
		goto fail;
	}
	if (arc.rdonly) {
		/* what the server indexed; the rest is its business */
		s->count = n;
		a->dat_fd = dfd;
		a->idx_fd = ifd;
		a->dat_size = n > 0 ? e.off + e.len : ARC_HDR_LEN;
		a->last_us = n > 0 ? e.time_us : INT64_MIN;
		a->next_seq = s->first + n;
		return 0;
	}
	if (n * ARC_ENT_LEN != (uint64_t)st.st_size) {
		log_warn("archive: %s: index cut from %lld to %llu bytes", ip,
		    (long long)st.st_size,
		    (unsigned long long)(n * ARC_ENT_LEN));
		if (ftruncate(ifd, (off_t)(n * ARC_ENT_LEN)) != 0) {
			log_warn_errno("archive: truncate %s", ip);
			goto fail;
		}
	}
	pos = ARC_HDR_LEN;
	a->last_us = INT64_MIN;
	if (n > 0) {
		pos = e.off + e.len;
		a->last_us = e.time_us;
	}
	/* index the records written after the last entry */
	k = n;
	while (pos + ARC_REC_HDR <= size) {
		uint32_t len;

		if (pread_all(dfd, rh, ARC_REC_HDR, pos) != 0) {
			break;
		}
		len = get32(rh);
		if (len < ARC_REC_HDR || len > ARCHIVE_MAX_RECORD ||
		    pos + len > size || get64(rh + 8) != s->first + n) {
			break;
		}
		rec = xmalloc(len);
		if (pread_all(dfd, rec, len, pos) != 0 ||
		    get32(rec + 4) != store_crc32(rec + 8, len - 8)) {
			free(rec);
			break;
		}
		e.time_us = (int64_t)get64(rec + 16);
		e.off = pos;
		e.len = len;
		{
			uint16_t wl = (uint16_t)(rec[24] | rec[25] << 8);
			char w[JID_MAX_ARCHIVE + 1];

			if ((size_t)wl + ARC_REC_HDR > len || wl > JID_MAX_ARCHIVE) {
				free(rec);
				break;
			}
			memcpy(w, rec + ARC_REC_HDR, wl);
			w[wl] = '\0';
			e.hash = with_hash(w);
		}
		free(rec);
		if (e.time_us < a->last_us) {
			break;
		}
		entry_encode(eb, &e);
		if (write_all(ifd, eb, ARC_ENT_LEN) != 0) {
			log_warn_errno("archive: write %s", ip);
			goto fail;
		}
		a->last_us = e.time_us;
		a->dirty = 1;
		n++;
		pos += len;
	}
	if (n > k) {
		log_warn("archive: %s: %llu records after the last index entry "
		    "(a crash between the data and the index sync) indexed "
		    "into %s", dp, (unsigned long long)(n - k), ip);
	}
	if (pos != size) {
		log_warn("archive: %s: torn tail at offset %llu, %llu bytes "
		    "truncated", dp, (unsigned long long)pos,
		    (unsigned long long)(size - pos));
		if (ftruncate(dfd, (off_t)pos) != 0) {
			log_warn_errno("archive: truncate %s", dp);
			goto fail;
		}
		a->dirty = 1;
	}
	s->count = n;
	a->dat_fd = dfd;
	a->idx_fd = ifd;
	a->dat_size = pos;
	a->next_seq = s->first + n;
	return 0;
fail:
	if (dfd >= 0) {
		close(dfd);
	}
	if (ifd >= 0) {
		close(ifd);
	}
	return -1;
}

static int
is_seg_name(const char *n, const char *ext, uint64_t *first)
{
	size_t i;
	char *end;

	if (strlen(n) != 16 + 1 + strlen(ext) || n[16] != '.' ||
	    strcmp(n + 17, ext) != 0) {
		return 0;
	}
	for (i = 0; i < 16; i++) {
		if (!((n[i] >= '0' && n[i] <= '9') ||
		    (n[i] >= 'a' && n[i] <= 'f'))) {
			return 0;
		}
	}
	*first = strtoull(n, &end, 16);
	return end == n + 16;
}

/* Read the directory of a: its segments (older ones' counts from their
 * index sizes), then open and repair the last.  0 or -1. */
static int
archive_load(struct archive *a)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX_ARCHIVE];
	uint64_t first;
	size_t i;

	d = opendir(a->path);
	if (d == NULL) {
		log_warn_errno("archive: opendir %s", a->path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (is_seg_name(de->d_name, "dat", &first)) {
			seg_push(a, first);
		}
	}
	closedir(d);
	if (a->nsegs == 0) {
		return 1;
	}
	qsort(a->segs, a->nsegs, sizeof(*a->segs), seg_cmp);
	for (i = 0; i + 1 < a->nsegs; i++) {
		seg_path(a, a->segs[i].first, "idx", p, sizeof(p));
		if (stat(p, &st) != 0) {
			log_warn_errno("archive: %s", p);
			return -1;
		}
		a->segs[i].count = (uint64_t)st.st_size / ARC_ENT_LEN;
		if (a->segs[i].first + a->segs[i].count !=
		    a->segs[i + 1].first) {
			log_err("archive: %s: holds %llu entries, the next "
			    "segment starts at %016llx", p,
			    (unsigned long long)a->segs[i].count,
			    (unsigned long long)a->segs[i + 1].first);
			return -1;
		}
	}
	return seg_open_last(a);
}

/* The handle of the archive in directory key (escaped name): opened (and
 * repaired) if it is not, created when create is set.  NULL when it does
 * not exist (and !create) or on an error (logged). */
static struct archive *
archive_get_key(const char *key, int create)
{
	struct hnode *hn;
	struct archive *a;
	uint32_t epoch;
	int rc;

	hn = htab_find(&arc.tab, key, strlen(key));
	if (hn != NULL) {
		a = HTAB_ENTRY(hn, struct archive, node);
		lru_front(a);
		return a;
	}
	a = xcalloc(1, sizeof(*a));
	a->key = xstrdup(key);
	a->path = xmalloc(strlen(arc.root) + strlen(key) + 2);
	sprintf(a->path, "%s/%s", arc.root, key);
	a->dat_fd = a->idx_fd = a->rd_dat = a->rd_idx = -1;
	a->last_us = INT64_MIN;
	if (!create && access(a->path, F_OK) != 0) {
		rc = 1;		/* never made: nothing to open */
	} else if (mkdir(a->path, 0700) == 0) {
		arc.root_dirty = 1;
		rc = 1;
	} else if (errno != EEXIST) {
		log_warn_errno("archive: mkdir %s", a->path);
		rc = -1;
	} else {
		rc = archive_load(a);
	}
	if (rc == 1 && !create) {
		rc = -1;
		/* an empty directory (a failed create) stays for the next
		 * append; it costs nothing */
	} else if (rc == 1) {
		if (getrandom(&epoch, sizeof(epoch), 0) != sizeof(epoch)) {
			epoch = (uint32_t)time(NULL) ^ (uint32_t)getpid();
		}
		a->epoch = epoch;
		a->next_seq = 1;
		rc = seg_create(a, 1);
	}
	if (rc != 0) {
		close_rd(a);
		if (a->dat_fd >= 0) {
			close(a->dat_fd);
			close(a->idx_fd);
		}
		free(a->segs);
		free(a->path);
		free(a->key);
		free(a);
		return NULL;
	}
	htab_add(&arc.tab, &a->node, a->key);
	lru_front(a);
	arc.nopen++;
	while (arc.nopen > ARCHIVE_MAX_OPEN && arc.tail != a) {
		handle_free(arc.tail);
	}
	return a;
}

/* archive_get_key() by bare JID. */
static struct archive *
archive_get(const char *name, int create)
{
	char key[ARCHIVE_NAME_MAX * 3 + 1];

	if (!arc.open || name == NULL || *name == '\0' ||
	    strlen(name) > ARCHIVE_NAME_MAX) {
		return NULL;
	}
	escape_name(name, key, sizeof(key));
	return archive_get_key(key, create);
}

/* ---- reading ---- */

/* The segment index holding seq (seq < next_seq, >= segs[0].first). */
static size_t
seg_of(const struct archive *a, uint64_t seq)
{
	size_t lo = 0, hi = a->nsegs, mid;

	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (a->segs[mid].first <= seq) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/* The data and index fds of segment i (the last one's, or the cached
 * read pair, opened now).  0 or -1. */
static int
seg_fds(struct archive *a, size_t i, int *dfd, int *ifd)
{
	char p[PATH_MAX_ARCHIVE];

	if (i == a->nsegs - 1) {
		*dfd = a->dat_fd;
		*ifd = a->idx_fd;
		return 0;
	}
	if (a->rd_dat < 0 || a->rd_first != a->segs[i].first) {
		close_rd(a);
		seg_path(a, a->segs[i].first, "dat", p, sizeof(p));
		a->rd_dat = open(p, O_RDONLY | O_CLOEXEC);
		seg_path(a, a->segs[i].first, "idx", p, sizeof(p));
		a->rd_idx = open(p, O_RDONLY | O_CLOEXEC);
		if (a->rd_dat < 0 || a->rd_idx < 0) {
			log_warn_errno("archive: open %s", p);
			close_rd(a);
			return -1;
		}
		a->rd_first = a->segs[i].first;
	}
	*dfd = a->rd_dat;
	*ifd = a->rd_idx;
	return 0;
}

/*
 * Read up to n entries from seq on (all in seq's segment, n at most
 * ARC_SCAN_ENTRIES) into out.  Returns how many, or -1.
 */
static int
entries_read(struct archive *a, uint64_t seq, size_t n, struct arc_entry *out)
{
	unsigned char b[ARC_SCAN_ENTRIES * ARC_ENT_LEN];
	size_t i = seg_of(a, seq), k;
	uint64_t left = a->segs[i].first + a->segs[i].count - seq;
	int dfd, ifd;

	if (n > left) {
		n = (size_t)left;
	}
	if (n > ARC_SCAN_ENTRIES) {
		n = ARC_SCAN_ENTRIES;
	}
	if (seg_fds(a, i, &dfd, &ifd) != 0 ||
	    pread_all(ifd, b, n * ARC_ENT_LEN,
	    (seq - a->segs[i].first) * ARC_ENT_LEN) != 0) {
		log_err("archive %s: cannot read the entry of %llu", a->key,
		    (unsigned long long)seq);
		return -1;
	}
	for (k = 0; k < n; k++) {
		if (entry_decode(b + k * ARC_ENT_LEN, &out[k]) != 0) {
			log_err("archive %s: bad index entry for %llu",
			    a->key, (unsigned long long)(seq + k));
			return -1;
		}
	}
	return (int)n;
}

static int
entry_get(struct archive *a, uint64_t seq, struct arc_entry *e)
{
	return entries_read(a, seq, 1, e) == 1 ? 0 : -1;
}

/* A message read whole; free with free(m->xml - offset), see below. */
struct arc_rec {
	unsigned char	*buf;
	struct archive_msg m;
	char		 id[ARCHIVE_ID_LEN + 1];
};

/* Read and check the record of seq into r (r->buf: caller frees). */
static int
record_read(struct archive *a, uint64_t seq, const struct arc_entry *e,
    struct arc_rec *r)
{
	size_t i = seg_of(a, seq);
	uint16_t wl;
	uint32_t xl;
	int dfd, ifd;
	unsigned char *b;

	r->buf = NULL;
	if (e->len < ARC_REC_HDR || e->len > ARCHIVE_MAX_RECORD ||
	    seg_fds(a, i, &dfd, &ifd) != 0) {
		return -1;
	}
	/* one byte more for the stanza's NUL; with gets one in place of
	 * the stanza's first byte, so both move by one */
	b = xmalloc((size_t)e->len + 2);
	if (pread_all(dfd, b, e->len, e->off) != 0 || get32(b) != e->len ||
	    get32(b + 4) != store_crc32(b + 8, e->len - 8) ||
	    get64(b + 8) != seq) {
		log_err("archive %s: bad record %llu", a->key,
		    (unsigned long long)seq);
		free(b);
		return -1;
	}
	wl = (uint16_t)(b[24] | b[25] << 8);
	xl = get32(b + 28);
	if ((size_t)ARC_REC_HDR + wl + xl != e->len) {
		free(b);
		return -1;
	}
	memmove(b + ARC_REC_HDR + wl + 1, b + ARC_REC_HDR + wl, xl);
	b[ARC_REC_HDR + wl] = '\0';
	b[ARC_REC_HDR + wl + 1 + xl] = '\0';
	r->buf = b;
	r->m.seq = seq;
	r->m.time_us = (int64_t)get64(b + 16);
	make_id(a->epoch, seq, r->id);
	r->m.id = r->id;
	r->m.with = (const char *)b + ARC_REC_HDR;
	r->m.xml = (const char *)b + ARC_REC_HDR + wl + 1;
	r->m.xml_len = xl;
	return 0;
}

/* The first seq visible under retention (the oldest kept). */
static uint64_t
visible_first(struct archive *a, int64_t now_us)
{
	uint64_t lo = a->segs[0].first, hi = a->next_seq, mid;
	struct arc_entry e;

	if (arc.keep_max > 0 && a->next_seq - lo > arc.keep_max) {
		lo = a->next_seq - arc.keep_max;
	}
	if (arc.keep_days > 0) {
		int64_t cut = now_us - (int64_t)arc.keep_days * 86400 *
		    1000000;

		/* first seq in [lo, hi) with time >= cut */
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (entry_get(a, mid, &e) != 0) {
				break;
			}
			if (e.time_us < cut) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
	}
	return lo;
}

/* First seq in [lo, hi) whose time is >= t (strict: > t), or hi. */
static int
seq_by_time(struct archive *a, uint64_t lo, uint64_t hi, int64_t t,
    int strict, uint64_t *out)
{
	uint64_t mid;
	struct arc_entry e;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (entry_get(a, mid, &e) != 0) {
			return -1;
		}
		if (e.time_us < t || (strict && e.time_us == t)) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*out = lo;
	return 0;
}

static int64_t
now_us_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Does the record's 'with' match the filter (bare: any resource)? */
static int
with_matches(const char *with, const char *filter)
{
	size_t fl;

	if (strchr(filter, '/') != NULL) {
		return strcmp(with, filter) == 0;
	}
	fl = strlen(filter);
	return strncmp(with, filter, fl) == 0 &&
	    (with[fl] == '\0' || with[fl] == '/');
}

/* A page being collected, in scan order. */
struct arc_page {
	struct arc_rec	*recs;
	size_t		 n, cap;
};

static void
page_free(struct arc_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->recs[i].buf);
	}
	free(p->recs);
}

static int
seq_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * Scan [lo, hi) forward (dir 1) or backward (-1) for messages matching
 * with (NULL: all) and the optional seq set, skipping the first `skip`
 * matches, collecting up to max into page.  *more is set when a further
 * match exists past the page.  0 or -1.
 */
static int
scan(struct archive *a, uint64_t lo, uint64_t hi, int dir, const char *with,
    const uint64_t *set, size_t nset, uint64_t skip, size_t max,
    struct arc_page *page, int *more)
{
	struct arc_entry ents[ARC_SCAN_ENTRIES];
	uint32_t h = with != NULL ? with_hash(with) : 0;
	uint64_t seq, base;
	size_t si = 0, k;
	int n;

	*more = 0;
	if (lo >= hi) {
		return 0;
	}
	if (set != NULL && dir < 0) {
		si = nset;
	}
	seq = dir > 0 ? lo : hi - 1;
	for (;;) {
		if (set != NULL) {
			/* walk the sorted set instead of the range */
			if (dir > 0) {
				while (si < nset && set[si] < lo) {
					si++;
				}
				if (si == nset || set[si] >= hi) {
					return 0;
				}
				seq = set[si++];
			} else {
				while (si > 0 && set[si - 1] >= hi) {
					si--;
				}
				if (si == 0 || set[si - 1] < lo) {
					return 0;
				}
				seq = set[--si];
			}
			n = entries_read(a, seq, 1, ents);
			base = seq;
		} else {
			if (dir > 0) {
				if (seq >= hi) {
					return 0;
				}
				n = entries_read(a, seq, (size_t)(hi - seq),
				    ents);
				base = seq;
			} else {
				size_t i = seg_of(a, seq), want;

				if (seq < lo || seq + 1 == 0) {
					return 0;
				}
				/* a block ending at seq, inside its segment */
				want = ARC_SCAN_ENTRIES;
				if (seq + 1 - lo < want) {
					want = (size_t)(seq + 1 - lo);
				}
				if (seq + 1 - a->segs[i].first < want) {
					want = (size_t)(seq + 1 -
					    a->segs[i].first);
				}
				base = seq + 1 - want;
				n = entries_read(a, base, want, ents);
			}
		}
		if (n <= 0) {
			return -1;
		}
		for (k = 0; k < (size_t)n; k++) {
			size_t j = dir > 0 ? k : (size_t)n - 1 - k;
			uint64_t s = base + j;
			struct arc_rec r;

			if (with != NULL && ents[j].hash != h) {
				continue;
			}
			if (page->n == max && with == NULL && skip == 0) {
				*more = 1;
				return 0;
			}
			if (record_read(a, s, &ents[j], &r) != 0) {
				return -1;
			}
			if (with != NULL && !with_matches(r.m.with, with)) {
				free(r.buf);
				continue;
			}
			if (skip > 0) {
				skip--;
				free(r.buf);
				continue;
			}
			if (page->n == max) {
				free(r.buf);
				*more = 1;
				return 0;
			}
			if (page->n == page->cap) {
				page->cap = page->cap ? page->cap * 2 : 16;
				page->recs = xrealloc(page->recs,
				    page->cap * sizeof(*page->recs));
			}
			page->recs[page->n++] = r;
		}
		if (set == NULL) {
			if (dir > 0) {
				seq = base + (uint64_t)n;
			} else {
				if (base == 0) {
					return 0;
				}
				seq = base - 1;
			}
		}
	}
}

/*
 * Does the record head in b (avail bytes: at least its header and the
 * filter's length plus one, or the whole record) belong to seq and have
 * a 'with' matching filter (fl bytes; bare: any resource)?  1, 0, or -1
 * for a record that is not seq's.
 */
static int
head_matches(const unsigned char *b, size_t avail, uint64_t seq,
    const char *filter, size_t fl, int bare)
{
	uint16_t wl;

	if (avail < ARC_REC_HDR || get64(b + 8) != seq) {
		return -1;
	}
	wl = (uint16_t)(b[24] | b[25] << 8);
	if (wl < fl || ARC_REC_HDR + fl > avail ||
	    memcmp(b + ARC_REC_HDR, filter, fl) != 0) {
		return 0;
	}
	if (wl == fl) {
		return 1;
	}
	return bare && ARC_REC_HDR + fl < avail && b[ARC_REC_HDR + fl] == '/';
}

/*
 * XEP-0059 <count/> and the page's index under a 'with' filter: count the
 * matches in [lo, hi) (or in the seq set), and those before seq `first`.
 * Entries whose hash matches are checked against their record's JID (a
 * hash collision never counts): the records of a block of entries are
 * read with one pread when they are dense (within MAM_COUNT_SPAN_BYTES,
 * MAM_COUNT_SPAN_PER_MATCH bytes a match), else one by one, head only.  The whole selection's index is read, so past
 * MAM_COUNT_SCAN_MAX entries it gives up (returns 1, nothing counted): a
 * count is optional (XEP-0059 §2.6).  0, 1 or -1.
 */
static int
count_with(struct archive *a, uint64_t lo, uint64_t hi, const char *with,
    const uint64_t *set, size_t nset, uint64_t first, uint64_t *count,
    uint64_t *before)
{
	struct arc_entry ents[ARC_SCAN_ENTRIES];
	unsigned char head[ARC_REC_HDR + JID_MAX_ARCHIVE + 1], *span = NULL;
	uint32_t h = with_hash(with);
	size_t fl = strlen(with), i = 0, k, want, ncand;
	uint64_t seq = lo, s, span_off, span_end;
	int bare = strchr(with, '/') == NULL, n, m, dfd, ifd, rc = -1;

	*count = *before = 0;
	if (set == NULL && hi - lo > MAM_COUNT_SCAN_MAX) {
		return 1;
	}
	if (fl > JID_MAX_ARCHIVE) {
		return -1;
	}
	while (set != NULL ? i < nset : seq < hi) {
		if (set != NULL) {
			seq = set[i++];
			n = entries_read(a, seq, 1, ents);
		} else {
			n = entries_read(a, seq, (size_t)(hi - seq), ents);
		}
		if (n <= 0 || seg_fds(a, seg_of(a, seq), &dfd, &ifd) != 0) {
			goto out;
		}
		/* where this block's candidates lie in the data file */
		span_off = UINT64_MAX;
		span_end = 0;
		ncand = 0;
		for (k = 0; k < (size_t)n; k++) {
			if (ents[k].hash == h) {
				ncand++;
				if (ents[k].off < span_off) {
					span_off = ents[k].off;
				}
				if (ents[k].off + ents[k].len > span_end) {
					span_end = ents[k].off + ents[k].len;
				}
			}
		}
		/* one read when they are many and close together */
		if (span_end > span_off &&
		    span_end - span_off <= MAM_COUNT_SPAN_BYTES &&
		    span_end - span_off <= ncand * MAM_COUNT_SPAN_PER_MATCH) {
			if (span == NULL) {
				span = xmalloc(MAM_COUNT_SPAN_BYTES);
			}
			if (pread_all(dfd, span, (size_t)(span_end - span_off),
			    span_off) != 0) {
				goto out;
			}
		} else {
			span_end = 0;	/* too far apart: one by one */
		}
		for (k = 0; k < (size_t)n; k++) {
			s = seq + k;
			if (ents[k].hash != h) {
				continue;
			}
			if (ents[k].len < ARC_REC_HDR) {
				m = -1;
			} else if (span_end != 0) {
				m = head_matches(span + (ents[k].off -
				    span_off), ents[k].len, s, with, fl, bare);
			} else {
				want = ARC_REC_HDR + fl + 1;
				if (want > ents[k].len) {
					want = ents[k].len;
				}
				m = pread_all(dfd, head, want, ents[k].off) != 0 ?
				    -1 : head_matches(head, want, s, with, fl,
				    bare);
			}
			if (m < 0) {
				log_err("archive %s: bad record %llu", a->key,
				    (unsigned long long)s);
				goto out;
			}
			if (m) {
				(*count)++;
				*before += s < first;
			}
		}
		if (set == NULL) {
			seq += (uint64_t)n;
		}
	}
	rc = 0;
out:
	free(span);
	return rc;
}

/* The seq of id if it names a kept message of a (>= vis), else 0. */
static uint64_t
id_seq(const struct archive *a, const char *id, uint64_t vis)
{
	uint64_t s = parse_id(a, id);

	return s >= vis && s < a->next_seq ? s : 0;
}

/* See archive.h. */
int
archive_query(const char *name, const struct archive_query *q,
    int (*fn)(void *ud, const struct archive_msg *m), void *ud,
    struct archive_page_info *info)
{
	struct archive *a;
	uint64_t vis, lo, hi, sel_lo, sel_hi, s, *set = NULL, skip = 0;
	uint64_t s_after = 0, s_before = 0, p_after = 0, p_before = 0;
	size_t nset = 0, i, j;
	struct arc_page page = { NULL, 0, 0 };
	int rc = 0, more = 0, dir = 1;

	memset(info, 0, sizeof(*info));
	a = archive_get(name, 0);
	if (a == NULL || a->next_seq == a->segs[0].first) {
		/* an empty archive knows no ids */
		if (q->after_id != NULL || q->before_id != NULL ||
		    q->page_after != NULL ||
		    (q->page_before != NULL && *q->page_before != '\0')) {
			return ARCHIVE_ENOTFOUND;
		}
		info->complete = 1;
		info->have_count = 1;
		return 0;
	}
	vis = visible_first(a, now_us_real());
	/* every id given must name a message still kept (§4.1.1, §5.1) */
	if ((q->after_id != NULL &&
	    (s_after = id_seq(a, q->after_id, vis)) == 0) ||
	    (q->before_id != NULL &&
	    (s_before = id_seq(a, q->before_id, vis)) == 0) ||
	    (q->page_after != NULL &&
	    (p_after = id_seq(a, q->page_after, vis)) == 0) ||
	    (q->page_before != NULL && *q->page_before != '\0' &&
	    (p_before = id_seq(a, q->page_before, vis)) == 0)) {
		return ARCHIVE_ENOTFOUND;
	}
	lo = vis;
	hi = a->next_seq;
	if (s_after != 0 && s_after + 1 > lo) {
		lo = s_after + 1;
	}
	if (s_before != 0 && s_before < hi) {
		hi = s_before;
	}
	if (q->start_us != INT64_MIN && lo < hi &&
	    seq_by_time(a, lo, hi, q->start_us, 0, &lo) != 0) {
		rc = ARCHIVE_EIO;
		goto out;
	}
	if (q->end_us != INT64_MAX && lo < hi &&
	    seq_by_time(a, lo, hi, q->end_us, 1, &hi) != 0) {
		rc = ARCHIVE_EIO;
		goto out;
	}
	if (hi < lo) {
		hi = lo;
	}
	if (q->ids != NULL) {
		set = xcalloc(q->nids ? q->nids : 1, sizeof(*set));
		for (i = 0; i < q->nids; i++) {
			s = parse_id(a, q->ids[i]);
			if (s >= lo && s < hi) {
				set[nset++] = s;
			}
		}
		qsort(set, nset, sizeof(*set), seq_cmp);
		for (i = 0, j = 0; i < nset; i++) {
			if (j == 0 || set[i] != set[j - 1]) {
				set[j++] = set[i];
			}
		}
		nset = j;
	}
	sel_lo = lo;
	sel_hi = hi;
	/* the size of the selection is cheap to know without 'with' (with
	 * it, see count_with() below) */
	if (q->with == NULL) {
		info->have_count = 1;
		info->count = set != NULL ? nset : hi - lo;
	}
	/* the page (XEP-0059 §2.1-2.5) */
	if (p_after != 0) {
		if (p_after + 1 > lo) {
			lo = p_after + 1;
		}
	} else if (q->page_before != NULL) {
		if (p_before != 0 && p_before < hi) {
			hi = p_before;
		}
		dir = -1;
	} else if (q->page_index > 0) {
		skip = (uint64_t)q->page_index;
		if (set == NULL && q->with == NULL) {
			/* arithmetic without a filter to apply */
			lo = lo + skip > hi ? hi : lo + skip;
			skip = 0;
		}
	}
	if (hi < lo) {
		hi = lo;
	}
	if (scan(a, lo, hi, dir, q->with, set, nset, skip, q->max, &page,
	    &more) != 0) {
		rc = ARCHIVE_EIO;
		goto out;
	}
	if (dir < 0) {
		/* collected newest first: the caller gets oldest first */
		for (i = 0; i < page.n / 2; i++) {
			struct arc_rec t = page.recs[i];

			page.recs[i] = page.recs[page.n - 1 - i];
			page.recs[page.n - 1 - i] = t;
		}
	}
	info->n = page.n;
	info->complete = !more;
	if (page.n > 0) {
		memcpy(info->first_id, page.recs[0].id, sizeof(info->first_id));
		memcpy(info->last_id, page.recs[page.n - 1].id,
		    sizeof(info->last_id));
		if (info->have_count && set != NULL) {
			for (i = 0; i < nset && set[i] < page.recs[0].m.seq;
			    i++) {
			}
			info->first_index = i;
		} else if (info->have_count) {
			info->first_index = page.recs[0].m.seq - sel_lo;
		}
	}
	if (q->with != NULL) {
		int c = count_with(a, sel_lo, sel_hi, q->with, set, nset,
		    page.n > 0 ? page.recs[0].m.seq : 0, &info->count,
		    &info->first_index);

		if (c < 0) {
			rc = ARCHIVE_EIO;
			goto out;
		}
		info->have_count = c == 0;
	}
	for (i = 0; i < page.n; i++) {
		/* the id lives in the (moved) array: point at it now */
		page.recs[i].m.id = page.recs[i].id;
		if (fn(ud, &page.recs[i].m) != 0) {
			rc = ARCHIVE_EIO;
			break;
		}
	}
out:
	page_free(&page);
	free(set);
	return rc;
}

/* See archive.h. */
int
archive_bounds(const char *name, char first_id[ARCHIVE_ID_LEN + 1],
    int64_t *first_us, char last_id[ARCHIVE_ID_LEN + 1], int64_t *last_us)
{
	struct archive *a = archive_get(name, 0);
	struct arc_entry e;
	uint64_t vis;

	if (a == NULL || a->next_seq == a->segs[0].first) {
		return 0;
	}
	vis = visible_first(a, now_us_real());
	if (vis >= a->next_seq) {
		return 0;
	}
	if (entry_get(a, vis, &e) != 0) {
		return ARCHIVE_EIO;
	}
	make_id(a->epoch, vis, first_id);
	*first_us = e.time_us;
	if (entry_get(a, a->next_seq - 1, &e) != 0) {
		return ARCHIVE_EIO;
	}
	make_id(a->epoch, a->next_seq - 1, last_id);
	*last_us = e.time_us;
	return 1;
}

/* ---- writing ---- */

/* See archive.h. */
int
archive_append(const char *name, const char *with, const char *xml,
    size_t len, int64_t time_us, char id_out[ARCHIVE_ID_LEN + 1])
{
	struct archive *a;
	struct arc_seg *last;
	struct arc_entry e;
	unsigned char *rec, eb[ARC_ENT_LEN];
	size_t wl = strlen(with), total = ARC_REC_HDR + wl + len;
	int rc = ARCHIVE_EIO;

	if (wl > JID_MAX_ARCHIVE || total > ARCHIVE_MAX_RECORD) {
		return ARCHIVE_EIO;
	}
	a = arc.rdonly ? NULL : archive_get(name, 1);
	if (a == NULL) {
		return ARCHIVE_EIO;
	}
	last = &a->segs[a->nsegs - 1];
	/* O_APPEND writes at the file's end: after a failed write that could
	 * not be cut back, the next record would land past dat_size and its
	 * entry would point at the remains of the failed one */
	if (a->misaligned) {
		if (ftruncate(a->dat_fd, (off_t)a->dat_size) != 0 ||
		    ftruncate(a->idx_fd, (off_t)(last->count * ARC_ENT_LEN))
		    != 0) {
			log_warn_errno("archive %s: truncate", a->key);
			return ARCHIVE_EIO;
		}
		a->misaligned = 0;
	}
	if ((last->count >= ARCHIVE_SEG_MSGS ||
	    a->dat_size + total > ARCHIVE_SEG_BYTES) && last->count > 0) {
		if (seg_create(a, a->next_seq) != 0) {
			return ARCHIVE_EIO;
		}
		last = &a->segs[a->nsegs - 1];
	}
	if (time_us < a->last_us) {
		time_us = a->last_us;	/* times never decrease */
	}
	rec = xmalloc(total);
	put32(rec, (uint32_t)total);
	put64(rec + 8, a->next_seq);
	put64(rec + 16, (uint64_t)time_us);
	rec[24] = (unsigned char)wl;
	rec[25] = (unsigned char)(wl >> 8);
	rec[26] = rec[27] = 0;
	put32(rec + 28, (uint32_t)len);
	memcpy(rec + ARC_REC_HDR, with, wl);
	memcpy(rec + ARC_REC_HDR + wl, xml, len);
	put32(rec + 4, store_crc32(rec + 8, total - 8));
	e.time_us = time_us;
	e.off = a->dat_size;
	e.len = (uint32_t)total;
	e.hash = with_hash(with);
	entry_encode(eb, &e);
	if (write_all(a->dat_fd, rec, total) != 0) {
		log_warn_errno("archive %s: write", a->key);
		/* cut what went out, so the next append lines up */
		if (ftruncate(a->dat_fd, (off_t)a->dat_size) != 0) {
			log_warn_errno("archive %s: truncate", a->key);
			a->misaligned = 1;
		}
		goto out;
	}
	if (write_all(a->idx_fd, eb, ARC_ENT_LEN) != 0) {
		log_warn_errno("archive %s: write index", a->key);
		if (ftruncate(a->dat_fd, (off_t)a->dat_size) != 0 ||
		    ftruncate(a->idx_fd, (off_t)(last->count * ARC_ENT_LEN))
		    != 0) {
			log_warn_errno("archive %s: truncate", a->key);
			a->misaligned = 1;
		}
		goto out;
	}
	make_id(a->epoch, a->next_seq, id_out);
	a->dat_size += total;
	a->last_us = time_us;
	a->next_seq++;
	last->count++;
	a->dirty = 1;
	rc = 0;
out:
	free(rec);
	return rc;
}

/* See archive.h. */
int
archive_flush(void)
{
	struct archive *a;
	int rc = 0, dfd;

	for (a = arc.head; a != NULL; a = a->next) {
		if ((a->dirty || a->dir_dirty) && archive_sync(a) != 0) {
			rc = -1;
		}
	}
	if (arc.root_dirty && arc.open) {
		if (arc.sync) {
			dfd = open(arc.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0 || fsync(dfd) != 0) {
				log_warn_errno("archive: fsync %s", arc.root);
				rc = -1;
			}
			if (dfd >= 0) {
				close(dfd);
			}
		}
		if (rc == 0) {
			arc.root_dirty = 0;
		}
	}
	return rc;
}

/* Remove every file of directory path, then path.  0 or -1. */
static int
remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[PATH_MAX_ARCHIVE];
	int rc = 0;

	if (d == NULL) {
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (unlink(p) != 0) {
			log_warn_errno("archive: unlink %s", p);
			rc = -1;
		}
	}
	closedir(d);
	if (rc == 0 && rmdir(path) != 0) {
		log_warn_errno("archive: rmdir %s", path);
		rc = -1;
	}
	return rc;
}

/* See archive.h. */
int
archive_delete(const char *name)
{
	char key[ARCHIVE_NAME_MAX * 3 + 1];
	char *path;
	struct hnode *hn;
	int rc;

	if (!arc.open || arc.rdonly || name == NULL ||
	    strlen(name) > ARCHIVE_NAME_MAX || *name == '\0') {
		return -1;
	}
	escape_name(name, key, sizeof(key));
	hn = htab_find(&arc.tab, key, strlen(key));
	if (hn != NULL) {
		struct archive *a = HTAB_ENTRY(hn, struct archive, node);

		a->dirty = a->dir_dirty = 0;	/* no sync of what goes */
		handle_free(a);
	}
	path = xmalloc(strlen(arc.root) + strlen(key) + 2);
	sprintf(path, "%s/%s", arc.root, key);
	rc = remove_dir(path);
	free(path);
	arc.root_dirty = 1;
	return rc;
}

/* ---- retention ---- */

/* Delete the segments of a holding only messages before vis. */
static void
archive_expire(struct archive *a, int64_t now_us)
{
	uint64_t vis = visible_first(a, now_us);
	char p[PATH_MAX_ARCHIVE];
	size_t drop = 0, i;

	if (vis == a->next_seq && a->segs[a->nsegs - 1].count > 0) {
		/* all of it is gone: an empty last segment keeps the
		 * numbering */
		if (seg_create(a, a->next_seq) != 0) {
			return;
		}
	}
	while (drop + 1 < a->nsegs &&
	    a->segs[drop].first + a->segs[drop].count <= vis) {
		drop++;
	}
	if (drop == 0) {
		return;
	}
	close_rd(a);
	for (i = 0; i < drop; i++) {
		seg_path(a, a->segs[i].first, "dat", p, sizeof(p));
		unlink(p);
		seg_path(a, a->segs[i].first, "idx", p, sizeof(p));
		unlink(p);
	}
	log_info("archive %s: %zu expired segment(s) deleted", a->key, drop);
	memmove(a->segs, a->segs + drop, (a->nsegs - drop) * sizeof(*a->segs));
	a->nsegs -= drop;
	a->dir_dirty = 1;
}

/* See archive.h. */
void
archive_compact_step(int64_t now_us)
{
	struct dirent *de;
	struct archive *a;
	int n = 0;

	if (!arc.open || arc.rdonly ||
	    (arc.keep_days == 0 && arc.keep_max == 0)) {
		return;
	}
	if (arc.compact_dir == NULL) {
		if (now_us < arc.compact_next_us) {
			return;
		}
		arc.compact_dir = opendir(arc.root);
		if (arc.compact_dir == NULL) {
			return;
		}
	}
	while (n < ARCHIVE_COMPACT_PER_STEP) {
		de = readdir(arc.compact_dir);
		if (de == NULL) {
			closedir(arc.compact_dir);
			arc.compact_dir = NULL;
			arc.compact_next_us = now_us +
			    (int64_t)ARCHIVE_COMPACT_ROUND_S * 1000000;
			return;
		}
		if (de->d_name[0] == '.' && de->d_name[1] != '\0' &&
		    de->d_name[1] != '.') {
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		n++;
		/* the directory name is the handle's key */
		a = archive_get_key(de->d_name, 0);
		if (a != NULL) {
			archive_expire(a, now_us);
		}
	}
}

/* ---- open, close, check ---- */

/* See archive.h. */
int
archive_open(const char *dir, int flags, unsigned keep_days,
    unsigned keep_max, char *err, size_t errlen)
{
	size_t n = strlen(dir) + sizeof("/archive");

	if (arc.open) {
		archive_close();
	}
	if (n + ARCHIVE_DIR_NAME_MAX + 40 > PATH_MAX_ARCHIVE) {
		snprintf(err, errlen, "%s: path too long for archives", dir);
		return -1;
	}
	arc.root = xmalloc(n);
	snprintf(arc.root, n, "%s/archive", dir);
	if (!(flags & ARCHIVE_RDONLY) && mkdir(arc.root, 0700) != 0 &&
	    errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", arc.root,
		    strerror(errno));
		free(arc.root);
		arc.root = NULL;
		return -1;
	}
	/* DATA_DIR's entry for archive/: without this a power cut can undo
	 * the mkdir and every (synced) archive with it.  At every open, as
	 * a crash may have come between the mkdir and a sync. */
	if (!(flags & ARCHIVE_RDONLY) && (flags & ARCHIVE_SYNC) &&
	    sync_dir(dir) != 0) {
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
		free(arc.root);
		arc.root = NULL;
		return -1;
	}
	arc.sync = (flags & ARCHIVE_SYNC) != 0;
	arc.rdonly = (flags & ARCHIVE_RDONLY) != 0;
	arc.keep_days = keep_days;
	arc.keep_max = keep_max;
	arc.open = 1;
	arc.root_dirty = 1;
	arc.compact_next_us = 0;
	return 0;
}

/* See archive.h. */
int
archive_is_open(void)
{
	return arc.open;
}

/* See archive.h. */
void
archive_close(void)
{
	if (!arc.open) {
		return;
	}
	archive_flush();
	while (arc.head != NULL) {
		handle_free(arc.head);
	}
	htab_clear(&arc.tab);
	if (arc.compact_dir != NULL) {
		closedir(arc.compact_dir);
		arc.compact_dir = NULL;
	}
	free(arc.root);
	arc.root = NULL;
	arc.open = 0;
}

/*
 * Check one archive directory without changing it: headers, every entry
 * against its record, the numbering across segments.  Returns the number
 * of problems (each printed).
 */
static int
check_one(const char *root, const char *key, uint64_t *msgs)
{
	struct archive a;
	char p[PATH_MAX_ARCHIVE];
	unsigned char hdr[ARC_HDR_LEN], eb[ARC_ENT_LEN];
	struct stat st;
	struct arc_entry e;
	uint64_t k, n, good, expect_off;
	size_t i;
	int bad = 0, dfd, ifd, last;
	DIR *d;
	struct dirent *de;
	uint64_t first;

	memset(&a, 0, sizeof(a));
	a.path = xmalloc(strlen(root) + strlen(key) + 2);
	sprintf(a.path, "%s/%s", root, key);
	d = opendir(a.path);
	if (d == NULL) {
		printf("%s: %s\n", a.path, strerror(errno));
		free(a.path);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (is_seg_name(de->d_name, "dat", &first)) {
			seg_push(&a, first);
		}
	}
	closedir(d);
	/* a power cut can leave a new archive's directory without its first
	 * segment; a.segs is NULL then, and qsort's must not be */
	if (a.nsegs > 1) {
		qsort(a.segs, a.nsegs, sizeof(*a.segs), seg_cmp);
	}
	for (i = 0; i < a.nsegs; i++) {
		seg_path(&a, a.segs[i].first, "dat", p, sizeof(p));
		dfd = open(p, O_RDONLY | O_CLOEXEC);
		last = i + 1 == a.nsegs;
		if (last && dfd >= 0 && fstat(dfd, &st) == 0 &&
		    ((uint64_t)st.st_size < ARC_HDR_LEN ||
		    header_unwritten(dfd))) {
			/* as seg_open_last(): what a power cut leaves of a
			 * segment created by the last, unsynced write */
			printf("%s: torn header of the newest segment (never "
			    "synced; rewritten at the next open)\n", p);
			close(dfd);
			continue;
		}
		if (dfd < 0 || fstat(dfd, &st) != 0 ||
		    pread_all(dfd, hdr, ARC_HDR_LEN, 0) != 0 ||
		    memcmp(hdr, ARC_MAGIC, 8) != 0 ||
		    get64(hdr + 16) != a.segs[i].first) {
			printf("%s: bad or missing header\n", p);
			bad++;
			if (dfd >= 0) {
				close(dfd);
			}
			continue;
		}
		seg_path(&a, a.segs[i].first, "idx", p, sizeof(p));
		ifd = open(p, O_RDONLY | O_CLOEXEC);
		if (ifd < 0 && errno == ENOENT && last) {
			/* created after the data file by seg_create(), and
			 * both synced with the directory before any record
			 * is acknowledged; seg_open_last() makes it again */
			printf("%s: missing: the newest segment's index was "
			    "never synced (made again at the next open)\n", p);
			close(dfd);
			continue;
		}
		if (ifd < 0) {
			printf("%s: %s\n", p, strerror(errno));
			bad++;
			close(dfd);
			continue;
		}
		n = (uint64_t)lseek(ifd, 0, SEEK_END) / ARC_ENT_LEN;
		if (last) {
			/* as seg_open_last(): the index is cut at its first
			 * bad entry among the last ones */
			good = n > ARC_TAIL_ENTRIES ? n - ARC_TAIL_ENTRIES : 0;
			while (good < n && entry_ok(ifd, dfd, good,
			    a.segs[i].first, (uint64_t)st.st_size)) {
				good++;
			}
			if (good < n) {
				printf("%s: the last %llu entries are not all "
				    "intact (a torn tail, cut at the next "
				    "open)\n", p,
				    (unsigned long long)(n - good));
				n = good;
			}
		}
		expect_off = ARC_HDR_LEN;
		for (k = 0; k < n; k++) {
			if (pread_all(ifd, eb, ARC_ENT_LEN, k * ARC_ENT_LEN)
			    != 0 || entry_decode(eb, &e) != 0 ||
			    e.off != expect_off ||
			    !record_ok(dfd, &e, a.segs[i].first + k,
			    (uint64_t)st.st_size)) {
				printf("%s: entry %llu (message %llu) is bad\n",
				    p, (unsigned long long)k,
				    (unsigned long long)(a.segs[i].first + k));
				bad++;
				break;
			}
			expect_off = e.off + e.len;
		}
		if (k == n && expect_off != (uint64_t)st.st_size) {
			printf("%s: %llu bytes after the last indexed record "
			    "(a torn tail, repaired at the next start)\n", p,
			    (unsigned long long)((uint64_t)st.st_size -
			    expect_off));
		}
		if (i + 1 < a.nsegs && a.segs[i].first + n !=
		    a.segs[i + 1].first) {
			printf("%s: %llu entries, but the next segment starts "
			    "at %llu\n", p, (unsigned long long)n,
			    (unsigned long long)a.segs[i + 1].first);
			bad++;
		}
		*msgs += n;
		close(ifd);
		close(dfd);
	}
	free(a.segs);
	free(a.path);
	return bad;
}

/* See archive.h. */
int
archive_check_cmd(const char *dir)
{
	char root[PATH_MAX_ARCHIVE];
	DIR *d;
	struct dirent *de;
	uint64_t msgs = 0;
	int bad = 0, n = 0;

	snprintf(root, sizeof(root), "%s/archive", dir);
	d = opendir(root);
	if (d == NULL) {
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		n++;
		if (check_one(root, de->d_name, &msgs) != 0) {
			bad++;
		}
	}
	closedir(d);
	printf("%s: %d archive(s), %llu message(s), %d bad\n", root, n,
	    (unsigned long long)msgs, bad);
	return bad;
}

static int
dump_one(void *ud, const struct archive_msg *m)
{
	time_t t = (time_t)(m->time_us / 1000000);
	struct tm tm;
	char stamp[32];
	const char *p;

	(void)ud;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s\t%s.%06lldZ\t%s\t", m->id, stamp,
	    (long long)(m->time_us % 1000000), m->with);
	for (p = m->xml; *p != '\0'; p++) {
		if (*p == '\n') {
			fputs("&#10;", stdout);
		} else {
			putchar(*p);
		}
	}
	putchar('\n');
	return 0;
}

/* See archive.h. */
int
archive_dump_cmd(const char *dir, const char *name)
{
	struct archive_query q;
	struct archive_page_info info;
	char err[256], after[ARCHIVE_ID_LEN + 1];
	int rc = 0;

	if (archive_open(dir, ARCHIVE_RDONLY, 0, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "uxmppd: %s\n", err);
		return 1;
	}
	memset(&q, 0, sizeof(q));
	q.start_us = INT64_MIN;
	q.end_us = INT64_MAX;
	q.page_index = -1;
	q.max = 1000;
	do {
		if (archive_query(name, &q, dump_one, NULL, &info) != 0) {
			fprintf(stderr, "uxmppd: %s: cannot read the archive\n",
			    name);
			rc = 1;
			break;
		}
		memcpy(after, info.last_id, sizeof(after));
		q.page_after = after;
	} while (!info.complete && info.n > 0);
	archive_close();
	return rc;
}
