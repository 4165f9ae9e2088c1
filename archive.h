/*
 * archive.h - message archives on disk (the storage under XEP-0313): one
 * append-only archive per account bare JID and per room, read through a
 * small index so a query touches only the messages it returns.
 *
 * An archive is a sequence of messages numbered from 1, each with the time
 * it was archived (microseconds, never decreasing within an archive), the
 * JID the owner talked with and the serialized stanza.  A message's id
 * (XEP-0359 stanza-id) names the archive's incarnation and its number, so
 * ids are never reused, not even after the archive is deleted and made
 * again.  Nothing is read at start: an archive is opened (and a torn tail
 * repaired) the first time it is used.
 *
 * Durability is the store's: appends are written at once and made durable
 * by archive_flush(), which the reactor calls with store_flush() before the
 * turn's output goes out.
 */
#ifndef UXMPPD_ARCHIVE_H
#define UXMPPD_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#define ARCHIVE_ID_LEN	20	/* characters of an id, without the NUL */

enum {
	ARCHIVE_ENOTFOUND = -2,	/* an id that names no message here */
	ARCHIVE_EIO = -3,	/* a read or write failed, or a record is bad */
};

/* archive_open() flags */
#define ARCHIVE_SYNC	1	/* fdatasync in archive_flush() (not in tests) */
#define ARCHIVE_RDONLY	2	/* read only, beside a running server: no
				   repair, no appends (archive-dump) */

/*
 * Use dir/archive (created if needed) for the archives, with flags as
 * above.  keep_days and keep_max (0: no limit) say which messages queries
 * see and archive_compact_step() deletes.  Returns 0, or -1 with a message
 * in err.
 */
int	archive_open(const char *dir, int flags, unsigned keep_days,
	    unsigned keep_max, char *err, size_t errlen);
/* Flush and close every archive. */
void	archive_close(void);
/* Are the archives open (not in tools and tests that run without)? */
int	archive_is_open(void);

/*
 * Append one message to archive name (a bare JID; created on first use):
 * with is the peer's JID, xml the stanza, len its bytes.  time_us is the
 * archiving time (raised to the archive's last one if the clock went
 * back).  The id goes to id_out.  0, or ARCHIVE_EIO (nothing appended).
 */
int	archive_append(const char *name, const char *with, const char *xml,
	    size_t len, int64_t time_us, char id_out[ARCHIVE_ID_LEN + 1]);
/* Make every append since the last call durable.  0, or -1 (logged). */
int	archive_flush(void);
/* Delete archive name and all its files.  0 (also when there was none),
 * or -1. */
int	archive_delete(const char *name);

/* One message as a query hands it over.  Borrowed: valid during the
 * callback only. */
struct archive_msg {
	uint64_t	 seq;
	int64_t		 time_us;
	const char	*id;		/* ARCHIVE_ID_LEN characters */
	const char	*with;		/* NUL-terminated */
	const char	*xml;		/* NUL-terminated, xml_len bytes */
	size_t		 xml_len;
};

/* What a query selects (XEP-0313 §4.1) and which page of it (XEP-0059). */
struct archive_query {
	const char	*with;		/* NULL: any; bare: every resource */
	int64_t		 start_us;	/* inclusive; INT64_MIN: none */
	int64_t		 end_us;	/* inclusive; INT64_MAX: none */
	const char	*after_id;	/* exclusive; NULL: none */
	const char	*before_id;
	const char *const *ids;		/* only these; NULL: any */
	size_t		 nids;
	/* the page: at most max messages; after (exclusive), else before
	 * (exclusive; "" for the last page), else index (from the first),
	 * else the first page */
	size_t		 max;
	const char	*page_after;
	const char	*page_before;
	long		 page_index;	/* -1: none */
};

struct archive_page_info {
	size_t		 n;		/* messages in the page */
	int		 complete;	/* no more in the paging direction */
	int		 have_count;	/* count and first_index are known */
	uint64_t	 count;		/* messages the query selects */
	uint64_t	 first_index;	/* position of the page's first one */
	char		 first_id[ARCHIVE_ID_LEN + 1];
	char		 last_id[ARCHIVE_ID_LEN + 1];
};

/*
 * Run q on archive name: fn gets the page's messages oldest first (fn
 * returns non-zero to fail the query with ARCHIVE_EIO); info describes
 * the page.  An archive that does not exist is empty.  0, or
 * ARCHIVE_ENOTFOUND when an id in q (after_id, before_id, page_after,
 * page_before) names no message of the archive, or ARCHIVE_EIO.
 */
int	archive_query(const char *name, const struct archive_query *q,
	    int (*fn)(void *ud, const struct archive_msg *m), void *ud,
	    struct archive_page_info *info);

/* The first and last message of archive name (XEP-0313 §6.1 metadata):
 * 1 with their ids and times, 0 when it is empty, or ARCHIVE_EIO. */
int	archive_bounds(const char *name, char first_id[ARCHIVE_ID_LEN + 1],
	    int64_t *first_us, char last_id[ARCHIVE_ID_LEN + 1],
	    int64_t *last_us);

/*
 * Retention, off the hot path: look at a few archives (in directory order,
 * round after round) and delete their segments that hold only messages
 * past keep_days or keep_max.  The reactor calls it once a second.
 */
void	archive_compact_step(int64_t now_us);

/* Offline check of dir/archive (store-check): prints problems, returns
 * the number of bad archives. */
int	archive_check_cmd(const char *dir);
/* Print archive name of dir read-only, one message a line: id, time
 * (XEP-0082, microseconds), peer JID and stanza (newlines as &#10;),
 * tab-separated.  Returns a process exit code. */
int	archive_dump_cmd(const char *dir, const char *name);

#endif
