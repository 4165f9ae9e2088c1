/*
 * store.h - durable key/value records in append-only flat files.
 *
 * Data is kept as (kind, key) -> value, e.g. ("account", "juliet@localhost")
 * -> SCRAM credentials, ("aff", "room@conference.localhost juliet@localhost")
 * -> "member".  Every put and delete is appended as one checksummed line and
 * the whole live state is held in memory, replayed from the logs at start.
 *
 * Durability is by group commit: puts and deletes of one reactor turn are
 * queued, and store_flush() writes them and fdatasyncs once.  The reactor
 * calls it before sending the turn's output, so an acknowledgement never
 * leaves before its change is on disk.
 */
#ifndef UXMPPD_STORE_H
#define UXMPPD_STORE_H

#include <stddef.h>
#include <stdint.h>

enum store_sync {
	STORE_SYNC_ALWAYS,	/* fdatasync in every store_flush() (default) */
	STORE_SYNC_BATCH,	/* fdatasync at most every batch_ms */
	STORE_SYNC_NONE,	/* never sync (tests) */
};

/*
 * Open (creating if needed) the store in dir, take its lock and replay the
 * logs.  A torn last record is truncated away with a warning; a corrupt
 * record elsewhere fails the open.  Returns 0, or -1 with a message in err.
 */
int	store_open(const char *dir, enum store_sync sync, unsigned batch_ms,
	    char *err, size_t errlen);
/* Flush and close; releases the lock. */
void	store_close(void);

/* The live value, or NULL.  Borrowed: valid until the next change to that
 * key or store_close(). */
const char *store_get(const char *kind, const char *key);
/* Record a change (queued for the next flush).  value may hold any bytes
 * except NUL.  Returns 0, or -1 if the store is not open, failed, cannot
 * write (the last flush's write failed: a full disk; until a flush
 * writes again) or the record is over STORE_MAX_LINE. */
int	store_put(const char *kind, const char *key, const char *value);
int	store_del(const char *kind, const char *key);

/* 1 if changes are queued for the next flush (not yet written). */
int	store_pending(void);
/* 1 if store_put/store_del accept changes now (open, not failed, not
 * refusing them after a failed write), else 0.  A record can still be
 * refused for its size.  For callers about to make several changes that
 * cannot be taken back one by one. */
int	store_writable(void);
/* Test hook: while on is non-zero, store_put and store_del refuse every
 * change (-1, nothing applied or queued), as a store that cannot write
 * does; callers' error paths are tested with it. */
void	store_test_refuse_changes(int on);

/* Call fn for every live record of kind whose key starts with key_prefix
 * (NULL or "" for all), in no particular order.  fn returns non-zero to
 * stop.  fn must not change the store. */
void	store_foreach(const char *kind, const char *key_prefix,
	    int (*fn)(void *ud, const char *key, const char *value), void *ud);

/* The keys of kind starting with key_prefix (NULL or "" for all),
 * sorted bytewise, as a NULL-terminated array; *count (if not NULL) gets
 * their number.  A snapshot: the store may change while the caller walks
 * it.  Caller frees with store_keys_free(). */
char	**store_keys(const char *kind, const char *key_prefix, size_t *count);
void	store_keys_free(char **keys);
/* Delete every record of kind whose key starts with key_prefix; returns
 * how many were deleted. */
size_t	store_del_prefix(const char *kind, const char *key_prefix);

/* Write queued records and sync per the policy; compact if due.
 * Returns 0; -1 when the write failed (ENOSPC, EIO; logged): the records
 * stay queued, changes are refused and the next flush tries again (also
 * -1 when the store is not open); -2 when the store is disabled for good
 * (a failed fdatasync: the page cache can't be trusted). */
int	store_flush(void);
/* Milliseconds until store_flush() has work to do: 0 when it is due now
 * (queued records, or a compaction in progress, which runs in steps of
 * about 10 ms), the time left in the batch window in STORE_SYNC_BATCH
 * mode, or -1 when nothing waits.  For the reactor's epoll timeout. */
int	store_flush_due_ms(void);
/* What /metrics shows of the store: the log's size and how long each
 * flush's fdatasync took, as a histogram (counts of syncs that took at
 * most store_sync_buckets_ms[i] ms; the last bucket is everything). */
#define STORE_SYNC_NBUCKETS	9
extern const unsigned store_sync_buckets_ms[STORE_SYNC_NBUCKETS - 1];
struct store_stats {
	uint64_t file_bytes;		/* store.log */
	uint64_t sync_count;
	uint64_t sync_us_total;
	uint64_t sync_buckets[STORE_SYNC_NBUCKETS];	/* not cumulative */
};
void	store_get_stats(struct store_stats *out);
/* Rewrite the logs to hold only live records (atomic). 0 or -1. */
int	store_compact(void);
/* "always", "batch" or "none" to *out; 0, or -1 if s is none of them. */
int	store_sync_parse(const char *s, enum store_sync *out);

/* CRC-32 (IEEE 802.3, as zlib's crc32()) of n bytes at p; the checksum of
 * store.log lines, shared with archive.c's records. */
uint32_t store_crc32(const void *p, size_t n);

/* Offline commands: check (explain problems), dump (human-readable), both
 * print to stdout and return a process exit code. */
int	store_check_cmd(const char *dir);
int	store_dump_cmd(const char *dir);

#endif
