/*
 * upload.h - the XMPP side of XEP-0363 HTTP file upload, as Prosody's
 * mod_http_file_share: a component at http_upload_domain
 * ("upload.<domain>") hands local users upload slots, and the HTTP
 * server (http.c) asks this file whether a PUT or GET may go ahead and
 * where the file lives.
 *
 * A slot is a random id (32 hex digits) with its owner, size, content
 * type, file name and state (pending until its PUT completes, then
 * stored), kept in the store (kind "upload").  URLs, under the path of
 * http_upload_url (its "prefix", e.g. "/upload"):
 *
 *   GET  PREFIX/SLOT/NAME
 *   PUT  PREFIX/SLOT.EXPIRY.SIG/NAME   (also sent as the Authorization
 *                                       header "Bearer SLOT.EXPIRY.SIG")
 *
 * NAME is the file name percent-encoded, EXPIRY the unix time the PUT
 * URL stops working (http_upload_put_ttl_s after the request), SIG the hex
 * HMAC-SHA256, under a secret of the server's (data_dir/upload-secret,
 * made at first start), of "SLOT\nSIZE\nTYPE\nEXPIRY": so a PUT needs no
 * session, and a URL cannot be stretched to a larger size, another type
 * or a later expiry.  Files live in data_dir/upload/SLOT and go
 * http_upload_expire_days after their upload, their bytes leaving the
 * owner's quota (http_upload_quota_bytes counts pending slots and
 * stored files).
 */
#ifndef UXMPPD_UPLOAD_H
#define UXMPPD_UPLOAD_H

#include <stddef.h>
#include <time.h>

#include "uxlimits.h"

/*
 * Start the component when http_upload is on (store_open() done): load
 * or make the secret, make data_dir/upload, sweep expired files,
 * register the domain.  0 (also when off), or -1 with the reason
 * logged.
 */
int	upload_init(void);
/* Forget the secret (shutdown; the store keeps the slots). */
void	upload_shutdown(void);

/* Why a slot request is refused (XEP-0363 §4 errors). */
enum upload_err {
	UPLOAD_OK,
	UPLOAD_ERR_FILENAME,	/* bad-request: empty, '/', control bytes */
	UPLOAD_ERR_SIZE,	/* bad-request: not a non-negative integer */
	UPLOAD_ERR_TYPE,	/* bad-request: not a media type */
	UPLOAD_ERR_TOO_LARGE,	/* not-acceptable + <file-too-large/> */
	UPLOAD_ERR_TYPE_NOT_ALLOWED, /* not-acceptable */
	UPLOAD_ERR_QUOTA,	/* resource-constraint */
	UPLOAD_ERR_STORE,	/* resource-constraint: the store refused */
	UPLOAD_ERR_INTERNAL,	/* internal-server-error (random, signing) */
};

struct upload_slot {
	char	 id[33];
	char	 put_url[UPLOAD_URL_MAX];
	char	 get_url[UPLOAD_URL_MAX];
	char	 authorization[160];	/* "Bearer SLOT.EXPIRY.SIG" */
};

/*
 * A new slot for local user owner (bare JID) at time now: filename and
 * size as in the request, type its content-type (NULL:
 * application/octet-stream).  Fills out on UPLOAD_OK.
 */
enum upload_err upload_slot_new(const char *owner, const char *filename,
	    const char *size, const char *type, time_t now,
	    struct upload_slot *out);

/* Where an accepted PUT writes. */
struct upload_put {
	char	 slot[33];
	size_t	 size;			/* the body must be exactly this */
	char	 part_path[600];	/* write here, fsync, then rename */
	char	 file_path[600];	/* to here, then upload_put_done() */
};

/*
 * May a PUT to path (the request target as received, percent-encoded,
 * without any query) with this Content-Length and Content-Type (NULL
 * when absent) and Authorization (NULL when absent; when present it
 * must be the slot's) go ahead at time now?  0 with out filled, or the
 * HTTP status to answer: 400 (bad path or type), 403 (bad signature,
 * expired URL or other Authorization), 404 (no such slot), 409 (already
 * uploaded), 413 (Content-Length is larger than the slot's size; a
 * smaller one is 400).
 */
int	upload_put_check(const char *path, unsigned long long content_length,
	    const char *content_type, const char *authorization, time_t now,
	    struct upload_put *out);
/*
 * A PUT that passed upload_put_check starts on slot: 0, or the HTTP
 * status to answer instead: 409 when another PUT to the slot is under
 * way, 503 when http_upload_max_concurrent PUTs are.  A slot being
 * uploaded is not swept, even when its PUT URL expires meanwhile.  Every
 * 0 is followed by one upload_put_end().
 */
int	upload_put_begin(const char *slot);
/* The PUT of slot ended (stored or not). */
void	upload_put_end(const char *slot);
/* The PUT of slot is on disk at file_path (synced): the file is served
 * from now on and expires http_upload_expire_days from now.  0, or -1
 * for an unknown or already stored slot, or a failed store write. */
int	upload_put_done(const char *slot, time_t now);

/* What a GET serves. */
struct upload_file {
	size_t	 size;
	char	 type[UPLOAD_TYPE_MAX + 1];	/* Content-Type */
	char	 name[UPLOAD_FILENAME_MAX + 1];	/* as requested, decoded */
	char	 path[600];			/* the file on disk */
};
/* A GET (or HEAD) of path at time now: 0 with out filled, or 404 (no
 * such file, not uploaded yet, wrong name, or expired). */
int	upload_get_lookup(const char *path, time_t now, struct upload_file *out);

/* Bytes of owner's pending slots and stored files at time now. */
unsigned long long upload_usage(const char *owner, time_t now);
/* Delete the files and slots expired at now (their files unlinked);
 * returns how many went.  upload_init and slot requests call it (the
 * latter at most every UPLOAD_SWEEP_S); the reactor may too. */
size_t	upload_expire(time_t now);
/* The reactor's housekeeping (once a second): upload_expire() when the
 * last sweep is UPLOAD_SWEEP_S old. */
void	upload_tick(time_t now);
/* Account bare was deleted: delete its slots and files. */
void	upload_account_removed(const char *bare);
/* The path prefix of http_upload_url ("" or "/upload"), under which
 * the HTTP server sends PUT and GET here.  Borrowed. */
const char *upload_path_prefix(void);

#endif
