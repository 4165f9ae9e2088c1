/*
 * upload_http.c - XEP-0363's PUT and GET over httpd.h (see
 * upload_http.h for what each answers).
 *
 * A PUT's body is written to SLOT.part piece by piece from on_body, so
 * memory stays flat whatever the file's size; its space is reserved up
 * front (fallocate) so a full disk shows as a 503 before any byte is
 * taken rather than halfway.  Writeback is started every
 * UPLOAD_WRITEBACK_BYTES (sync_file_range) so the fsync before the 201
 * has little left to do: that fsync, the rename and the directory's fsync
 * are what make "201 Created" mean the file survives a crash.  The store
 * record saying "stored" is then made durable with the turn's other
 * changes, before the 201 is written (server.c's group commit).
 */
#include "upload_http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "httpd.h"
#include "log.h"
#include "server.h"
#include "upload.h"
#include "uxlimits.h"

#define TEXT_PLAIN	"text/plain; charset=utf-8"

static unsigned long long bytes_stored, bytes_served;
#define CORS_MAX	600	/* bytes of the CORS header lines */

/* One PUT under way. */
struct put_job {
	struct upload_put put;
	int		 fd;		/* SLOT.part, or -1 */
	int		 begun;		/* upload_put_begin() said yes */
	int		 stored;	/* renamed into place */
	uint64_t	 got;		/* body bytes written */
	uint64_t	 unsynced;	/* since the last writeback start */
	char		 cors[CORS_MAX];
};

/* The CORS header lines for an answer to req (XEP-0363 §8): the page's
 * Origin echoed with credentials (the PUT carries Authorization), or
 * "*" for a request without a usable one. */
static void
cors_headers(const struct http_request *req, char *out, size_t cap)
{
	const char *origin = http_header(req, "Origin");
	const unsigned char *p;
	int ok = origin != NULL && origin[0] != '\0' && strlen(origin) < 256;

	for (p = (const unsigned char *)origin; ok && *p != '\0'; p++) {
		ok = *p > ' ' && *p < 0x7f;	/* no header injection */
	}
	if (ok) {
		snprintf(out, cap, "Access-Control-Allow-Origin: %s\r\n"
		    "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n",
		    origin);
	} else {
		snprintf(out, cap, "Access-Control-Allow-Origin: *\r\n");
	}
	snprintf(out + strlen(out), cap - strlen(out),
	    "Access-Control-Allow-Methods: OPTIONS, HEAD, GET, PUT\r\n"
	    "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
	    "Access-Control-Max-Age: 7200\r\n");
}

/* An error status with a one-line body and the CORS lines (a web
 * client must be able to read why its upload failed). */
static void
respond_error(struct http_exchange *x, int status, const char *cors,
    const char *more)
{
	char body[128], extra[CORS_MAX + 64];

	snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
	snprintf(extra, sizeof(extra), "%s%s", cors, more != NULL ? more : "");
	http_respond(x, status, TEXT_PLAIN, extra, body, strlen(body));
}

/* ---- PUT ---- */

/* Does errno say the disk cannot take the file (503) rather than that
 * something is broken (500)? */
static int
errno_is_unavailable(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG || e == EACCES ||
	    e == EPERM || e == EROFS || e == EMFILE || e == ENFILE;
}

static void
put_fail(struct http_exchange *x, struct put_job *j, const char *what,
    int e)
{
	log_warn("upload: %s %s: %s", what, j->put.slot, strerror(e));
	respond_error(x, errno_is_unavailable(e) ? 503 : 500, j->cors,
	    errno_is_unavailable(e) ? "Retry-After: 60\r\n" : NULL);
}

static void
put_request(struct http_exchange *x, const struct http_request *req)
{
	struct put_job *j = xcalloc(1, sizeof(*j));
	int status;

	j->fd = -1;
	http_exchange_set_data(x, j);
	cors_headers(req, j->cors, sizeof(j->cors));
	if (req->chunked) {
		respond_error(x, 411, j->cors, NULL);	/* §6: Content-Length */
		return;
	}
	status = upload_put_check(req->path, req->content_length,
	    http_header(req, "Content-Type"), http_header(req, "Authorization"),
	    server_now(), &j->put);
	if (status == 0) {
		status = upload_put_begin(j->put.slot);
		j->begun = status == 0;
	}
	if (status != 0) {
		log_info("upload: PUT %s refused: %d", req->path, status);
		respond_error(x, status, j->cors, status == 503 ?
		    "Retry-After: 10\r\n" : NULL);
		return;
	}
	j->fd = open(j->put.part_path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);
	if (j->fd < 0) {
		put_fail(x, j, "cannot create the file for", errno);
		return;
	}
	/* the space, now: a full disk is a 503 before the body, not after */
	if (j->put.size > 0 && fallocate(j->fd, 0, 0, (off_t)j->put.size) != 0 &&
	    errno != EOPNOTSUPP && errno != ENOSYS) {
		put_fail(x, j, "no space for", errno);
		return;
	}
	log_info("upload: PUT %s %zu bytes", j->put.slot, j->put.size);
}

static void
put_body(struct http_exchange *x, const char *data, size_t len)
{
	struct put_job *j = http_exchange_data(x);
	ssize_t n;

	while (len > 0) {
		n = write(j->fd, data, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			put_fail(x, j, "cannot write", errno);
			return;
		}
		data += n;
		len -= (size_t)n;
		j->got += (uint64_t)n;
		j->unsynced += (uint64_t)n;
	}
	if (j->unsynced >= UPLOAD_WRITEBACK_BYTES) {
		/* start writeback without waiting for it; errors show at the
		 * fsync */
		sync_file_range(j->fd, (off_t)(j->got - j->unsynced),
		    (off_t)j->unsynced, SYNC_FILE_RANGE_WRITE);
		j->unsynced = 0;
	}
}

/* fsync the directory holding path, so a rename in it is durable. */
static int
sync_parent(const char *path)
{
	char dir[600];
	char *slash;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		return -1;
	}
	*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	rc = fsync(fd);
	close(fd);
	return rc;
}

static void
put_end(struct http_exchange *x)
{
	struct put_job *j = http_exchange_data(x);
	int fd = j->fd;

	if (j->got != j->put.size) {
		/* the parser counts Content-Length bytes; cannot happen */
		respond_error(x, 400, j->cors, NULL);
		return;
	}
	j->fd = -1;
	if (fsync(fd) != 0) {
		put_fail(x, j, "cannot sync", errno);
		close(fd);
		return;
	}
	if (close(fd) != 0) {
		put_fail(x, j, "cannot close", errno);
		return;
	}
	if (rename(j->put.part_path, j->put.file_path) != 0) {
		put_fail(x, j, "cannot rename", errno);
		return;
	}
	j->stored = 1;
	if (sync_parent(j->put.file_path) != 0 ||
	    upload_put_done(j->put.slot, server_now()) != 0) {
		log_err("upload: cannot record %s", j->put.slot);
		unlink(j->put.file_path);
		respond_error(x, 500, j->cors, NULL);
		return;
	}
	log_info("upload: stored %s %zu bytes", j->put.slot, j->put.size);
	bytes_stored += j->put.size;
	http_respond(x, 201, TEXT_PLAIN, j->cors, "201 Created\n", 12);
}

/* However the PUT ended: nothing half-written is left behind. */
static void
put_done(struct http_exchange *x)
{
	struct put_job *j = http_exchange_data(x);

	if (j == NULL) {
		return;
	}
	if (j->fd >= 0) {
		close(j->fd);
	}
	if (j->begun && !j->stored) {
		unlink(j->put.part_path);
	}
	if (j->begun) {
		upload_put_end(j->put.slot);
	}
	free(j);
	http_exchange_set_data(x, NULL);
}

/* ---- GET and HEAD ---- */

/* Digits into *v (no sign, no overflow).  The first byte after them. */
static const char *
parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9') {
		return NULL;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10) {
			return NULL;
		}
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return s;
}

/*
 * One byte range of a Range header over a file of size bytes (RFC 7233
 * §2.1): 1 with [*first, *last] to send, 0 to send the whole file (no
 * Range, another unit, several ranges, or a syntax error, which §3.1 lets
 * us ignore), -1 when unsatisfiable (416).
 */
static int
parse_range(const char *v, uint64_t size, uint64_t *first, uint64_t *last)
{
	uint64_t a, b;
	const char *p;

	if (v == NULL || strncasecmp(v, "bytes=", 6) != 0 ||
	    strchr(v, ',') != NULL) {
		return 0;
	}
	p = v + 6;
	p += strspn(p, " \t");
	if (*p == '-') {
		/* suffix: the last b bytes */
		if ((p = parse_u64(p + 1, &b)) == NULL ||
		    p[strspn(p, " \t")] != '\0') {
			return 0;
		}
		if (b == 0 || size == 0) {
			return -1;
		}
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if ((p = parse_u64(p, &a)) == NULL || *p != '-') {
		return 0;
	}
	p++;
	b = UINT64_MAX;
	if (*p >= '0' && *p <= '9' && (p = parse_u64(p, &b)) == NULL) {
		return 0;
	}
	if (p[strspn(p, " \t")] != '\0' || b < a) {
		return 0;
	}
	if (a >= size) {
		return -1;
	}
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}

/* The RFC 5987 ext-value of name ("UTF-8''" and attr-chars, the rest
 * percent-encoded) for Content-Disposition's filename*. */
static void
disposition_name(const char *name, char *out, size_t cap)
{
	static const char digits[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n;

	n = (size_t)snprintf(out, cap, "UTF-8''");
	for (p = (const unsigned char *)name; *p != '\0' && n + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = digits[*p >> 4];
			out[n++] = digits[*p & 15];
		}
	}
	out[n] = '\0';
}

/* Shown inline by a browser, or saved (anything that could run). */
static int
type_is_inline(const char *type)
{
	return strncasecmp(type, "image/", 6) == 0 ||
	    strncasecmp(type, "audio/", 6) == 0 ||
	    strncasecmp(type, "video/", 6) == 0 ||
	    strncasecmp(type, "text/plain", 10) == 0;
}

static void
get_request(struct http_exchange *x, const struct http_request *req)
{
	struct upload_file f;
	char cors[CORS_MAX], extra[CORS_MAX + 1536], modified[64];
	char dname[3 * UPLOAD_FILENAME_MAX + 16];
	const char *ims;
	struct tm tm;
	uint64_t first = 0, last = 0;
	struct stat st;
	int fd, r, head = strcmp(req->method, "HEAD") == 0;

	cors_headers(req, cors, sizeof(cors));
	if (upload_get_lookup(req->path, server_now(), &f) != 0) {
		respond_error(x, 404, cors, NULL);
		return;
	}
	fd = open(f.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size != f.size) {
		log_err("upload: %s missing or not %zu bytes", f.path, f.size);
		if (fd >= 0) {
			close(fd);
		}
		respond_error(x, 404, cors, NULL);
		return;
	}
	/* RFC 7232 §3.3, as Prosody: an exact If-Modified-Since is a 304 */
	gmtime_r(&st.st_mtime, &tm);
	strftime(modified, sizeof(modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	ims = http_header(req, "If-Modified-Since");
	if (ims != NULL && strcmp(ims, modified) == 0) {
		close(fd);
		snprintf(extra, sizeof(extra), "%sLast-Modified: %s\r\n", cors,
		    modified);
		http_respond(x, 304, NULL, extra, NULL, 0);
		return;
	}
	/* If-Range: we keep no validators, so the whole file (§3.2) */
	r = http_header(req, "If-Range") != NULL ? 0 :
	    parse_range(http_header(req, "Range"), f.size, &first, &last);
	if (r < 0) {
		close(fd);
		snprintf(extra, sizeof(extra), "%sContent-Range: bytes */%zu\r\n",
		    cors, f.size);
		respond_error(x, 416, extra, NULL);
		return;
	}
	/* XEP-0363 §9.1: nothing from the upload domain runs or embeds
	 * (media may play, as Prosody allows) */
	disposition_name(f.name, dname, sizeof(dname));
	snprintf(extra, sizeof(extra), "%sAccept-Ranges: bytes\r\n"
	    "Last-Modified: %s\r\n"
	    "Content-Security-Policy: default-src 'none'; media-src 'self'; "
	    "frame-ancestors 'none';\r\nX-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Content-Disposition: %s; filename*=%s\r\n"
	    "Cache-Control: public, max-age=31556952, immutable\r\n",
	    cors, modified, type_is_inline(f.type) ? "inline" : "attachment",
	    dname);
	if (r == 0) {
		bytes_served += head ? 0 : f.size;
		http_respond_file(x, 200, f.type, extra, fd, 0, f.size);
		return;
	}
	snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
	    "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%zu\r\n", first,
	    last, f.size);
	bytes_served += head ? 0 : last - first + 1;
	http_respond_file(x, 206, f.type, extra, fd, first, last - first + 1);
}

/* ---- dispatch ---- */

static void
upload_request(struct http_exchange *x, const struct http_request *req)
{
	char cors[CORS_MAX];

	if (strcmp(req->method, "PUT") == 0) {
		put_request(x, req);
	} else if (strcmp(req->method, "OPTIONS") == 0) {
		cors_headers(req, cors, sizeof(cors));
		http_respond(x, 200, NULL, cors, NULL, 0);
	} else {
		get_request(x, req);	/* GET, HEAD */
	}
}

static void
upload_body(struct http_exchange *x, const char *data, size_t len)
{
	if (http_exchange_data(x) != NULL) {
		put_body(x, data, len);
	}
}

static void
upload_end(struct http_exchange *x)
{
	if (http_exchange_data(x) != NULL) {
		put_end(x);
	}
}

static struct http_handler upload_handler = {
	NULL, "GET HEAD PUT OPTIONS", 0, upload_request, upload_body,
	upload_end, put_done, 1
};

/* See upload_http.h. */
void
upload_http_bytes(unsigned long long *stored, unsigned long long *served)
{
	*stored = bytes_stored;
	*served = bytes_served;
}

/* See upload_http.h. */
void
upload_http_init(void)
{
	const struct config *cfg = config_get();

	if (!cfg->http_upload) {
		return;
	}
	upload_handler.path = upload_path_prefix();
	/* the slot's size is checked against the body; a PUT is only
	 * refused past the largest a slot may have */
	upload_handler.max_body = cfg->http_upload_max_bytes > 0 ?
	    cfg->http_upload_max_bytes : 1;
	if (http_register(&upload_handler) != 0) {
		log_err("upload: cannot register %s", upload_handler.path);
	}
}
