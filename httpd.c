/*
 * httpd.c - HTTP/1.1 connections inside the reactor and the table of
 * paths (httpd.h).  Requests come from http.c's parser; answers go out
 * through server.h's conn_write, like c2s.c's.
 *
 * One exchange per connection at a time: the parser hands over one
 * request, its handler answers, and only then is the next pipelined
 * request parsed, so answers leave in request order (RFC 7230 §6.3.2).
 * A body streamed from a file (http_respond_file) goes out a piece at a
 * time as the output queue drains (the reactor calls http_conn_writable
 * on EPOLLOUT); meanwhile the connection's input is paused and the bytes
 * already read past the request are held, so a pipelined request waits
 * for the end of the body before it.
 */
#include "httpd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "server.h"
#include "uxlimits.h"

struct http_exchange {
	struct http_conn	*h;
	const struct http_handler *handler;	/* NULL: answered already */
	void			*data;		/* the handler's */
	unsigned		 head_only:1;	/* HEAD: no body in the answer */
	unsigned		 keep_alive:1;
	unsigned		 responded:1;
	unsigned		 upgrade:1;
	unsigned		 big_body:1;	/* over HTTP_DISCARD_MAX, or chunked */
	unsigned		 body_done:1;	/* ... and it is all read */
	unsigned		 done_called:1;	/* on_done has run */
};

struct http_conn {
	struct conn		*conn;
	struct http_parser	*parser;
	struct http_exchange	 x;
	int			 stream_fd;	/* a body being sent, or -1 */
	uint64_t		 stream_off, stream_left;
	struct buf		 held;		/* input read while paused */
	time_t			 head_started;	/* first byte of a head, or 0 */
	time_t			 last_active;
	unsigned		 in_request:1;	/* from its head to its end */
	unsigned		 upgraded:1;
	unsigned		 done:1;	/* closing: parse nothing more */
	unsigned		 paused:1;	/* input waits for the stream */
};

static const struct http_handler *handlers[HTTP_MAX_HANDLERS];
static size_t nhandlers;

/* ---- the path table ---- */

/* See httpd.h. */
int
http_register(const struct http_handler *h)
{
	size_t i;

	if (nhandlers >= HTTP_MAX_HANDLERS) {
		return -1;
	}
	for (i = 0; i < nhandlers; i++) {
		if (strcmp(handlers[i]->path, h->path) == 0) {
			return -1;
		}
	}
	handlers[nhandlers++] = h;
	return 0;
}

/* See httpd.h. */
void
http_unregister_all(void)
{
	nhandlers = 0;
}

/* The handler for path: an exact match, else the longest prefix one
 * ("/upload" takes "/upload/..."). */
static const struct http_handler *
http_lookup(const char *path)
{
	const struct http_handler *best = NULL;
	size_t i, n, best_len = 0;

	for (i = 0; i < nhandlers; i++) {
		if (strcmp(handlers[i]->path, path) == 0) {
			return handlers[i];
		}
	}
	for (i = 0; i < nhandlers; i++) {
		n = strlen(handlers[i]->path);
		if (handlers[i]->prefix && strncmp(handlers[i]->path, path,
		    n) == 0 && (path[n] == '/' || (n > 0 &&
		    handlers[i]->path[n - 1] == '/')) && n >= best_len) {
			best = handlers[i];
			best_len = n;
		}
	}
	return best;
}

/* Is method one of the space-separated list? */
static int
http_method_listed(const char *list, const char *method)
{
	size_t n, mlen = strlen(method);

	while (*list != '\0') {
		list += strspn(list, " ");
		n = strcspn(list, " ");
		if (n == mlen && strncmp(list, method, n) == 0) {
			return 1;
		}
		list += n;
	}
	return 0;
}

/* ---- answers ---- */

/*
 * The status line and headers of x's answer into b (caller frees), for a
 * body of len bytes.  An answer before a large request body is all read
 * closes the connection after it (the rest is not worth reading); a
 * small one is read and dropped, keeping the connection.
 */
static void
http_head_out(struct http_exchange *x, struct buf *b, int status,
    const char *ctype, const char *extra_headers, uint64_t len)
{
	char date[64];
	time_t now = server_now();
	struct tm tm;

	if (x->big_body && !x->body_done) {
		x->keep_alive = 0;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	buf_init(b, 0);
	buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: uxmppd\r\n",
	    status, http_reason(status), date);
	/* RFC 7230 §3.3.2: none on 1xx and 204 (nor on our 304s) */
	if (status >= 200 && status != 204 && status != 304) {
		buf_printf(b, "Content-Length: %llu\r\n",
		    (unsigned long long)len);
	}
	if (ctype != NULL) {
		buf_printf(b, "Content-Type: %s\r\n", ctype);
	}
	if (extra_headers != NULL) {
		buf_puts(b, extra_headers);
	}
	if (!x->keep_alive && status != 101) {
		buf_puts(b, "Connection: close\r\n");
	}
	buf_puts(b, "\r\n");
}

/* An early answer (the body still coming) ends the connection now. */
static void
http_close_if_early(struct http_exchange *x)
{
	struct http_conn *h = x->h;

	if (x->big_body && !x->body_done && h->stream_fd < 0) {
		h->done = 1;
		conn_close(h->conn, "http answered before the body");
	}
}

/* See httpd.h. */
void
http_respond(struct http_exchange *x, int status, const char *ctype,
    const char *extra_headers, const void *body, size_t len)
{
	struct buf b;

	if (x->responded) {
		return;
	}
	x->responded = 1;
	http_head_out(x, &b, status, ctype, extra_headers, len);
	if (!x->head_only && len > 0) {
		buf_append(&b, body, len);
	}
	conn_write(x->h->conn, b.data, b.len);
	buf_free(&b);
	log_debug("http %lu status=%d bytes=%zu", conn_id(x->h->conn), status,
	    len);
	http_close_if_early(x);
}

/* Queue the next pieces of the streamed body while the output queue is
 * short of HTTP_STREAM_CHUNK; at its end, close the file.  0, or -1 when
 * the file failed (the connection is closed: the answer cannot be
 * mended after its head). */
static int
http_stream_fill(struct http_conn *h)
{
	char chunk[HTTP_STREAM_CHUNK];
	size_t want;
	ssize_t n;

	while (h->stream_fd >= 0 && conn_pending(h->conn) < HTTP_STREAM_CHUNK) {
		if (h->stream_left == 0) {
			close(h->stream_fd);
			h->stream_fd = -1;
			break;
		}
		want = h->stream_left < sizeof(chunk) ? (size_t)h->stream_left :
		    sizeof(chunk);
		n = pread(h->stream_fd, chunk, want, (off_t)h->stream_off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			log_err("http %lu file read failed: %s",
			    conn_id(h->conn), n < 0 ? strerror(errno) :
			    "file shorter than its size");
			close(h->stream_fd);
			h->stream_fd = -1;
			h->done = 1;
			conn_close(h->conn, "http file read failed");
			return -1;
		}
		conn_write(h->conn, chunk, (size_t)n);
		h->stream_off += (uint64_t)n;
		h->stream_left -= (uint64_t)n;
		h->last_active = server_now();
	}
	return 0;
}

/* See httpd.h. */
void
http_respond_file(struct http_exchange *x, int status, const char *ctype,
    const char *extra_headers, int fd, uint64_t off, uint64_t len)
{
	struct http_conn *h = x->h;
	struct buf b;

	if (x->responded) {
		close(fd);
		return;
	}
	x->responded = 1;
	http_head_out(x, &b, status, ctype, extra_headers, len);
	conn_write(h->conn, b.data, b.len);
	buf_free(&b);
	log_debug("http %lu status=%d bytes=%llu (file)", conn_id(h->conn),
	    status, (unsigned long long)len);
	if (x->head_only || len == 0) {
		close(fd);
		http_close_if_early(x);
		return;
	}
	h->stream_fd = fd;
	h->stream_off = off;
	h->stream_left = len;
	http_close_if_early(x);
	http_stream_fill(h);
}

/* See httpd.h. */
void
http_exchange_set_data(struct http_exchange *x, void *data)
{
	x->data = data;
}

/* See httpd.h. */
void *
http_exchange_data(const struct http_exchange *x)
{
	return x->data;
}

/* The exchange is over, however it ended: the handler lets go. */
static void
http_exchange_done(struct http_exchange *x)
{
	if (x->handler != NULL && !x->done_called) {
		x->done_called = 1;
		if (x->handler->on_done != NULL) {
			x->handler->on_done(x);
		}
	}
	x->data = NULL;
}

/* See httpd.h. */
struct conn *
http_exchange_conn(const struct http_exchange *x)
{
	return x->h->conn;
}

/* See httpd.h. */
void
http_exchange_upgrade(struct http_exchange *x)
{
	x->upgrade = 1;
}

/* An error status with a one-line body. */
static void
http_error(struct http_exchange *x, int status, const char *extra)
{
	char body[128];

	snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
	http_respond(x, status, "text/plain; charset=utf-8", extra, body,
	    strlen(body));
}

/* ---- the parser's events ---- */

static int
httpd_on_head(void *ud, const struct http_request *req)
{
	struct http_conn *h = ud;
	struct http_exchange *x = &h->x;
	const struct http_handler *hd;
	char allow[128];
	uint64_t limit;

	if (h->done) {
		return 1;	/* closing after an early answer */
	}
	memset(x, 0, sizeof(*x));
	x->h = h;
	x->head_only = strcmp(req->method, "HEAD") == 0;
	x->keep_alive = req->keep_alive;
	h->head_started = 0;
	h->in_request = 1;
	log_debug("http %lu %s %s", conn_id(h->conn), req->method, req->path);
	hd = http_lookup(req->path);
	if (hd == NULL && !req->chunked &&
	    req->content_length > config_get()->http_max_body_bytes) {
		x->keep_alive = 0;
		http_error(x, 413, NULL);
		return 0;
	}
	if (hd == NULL) {
		http_error(x, 404, NULL);
		return 0;
	}
	/* a handler that allows GET answers HEAD the same, bodiless */
	if (!http_method_listed(hd->methods, req->method) &&
	    !(x->head_only && http_method_listed(hd->methods, "GET"))) {
		snprintf(allow, sizeof(allow), "Allow: %s\r\n", hd->methods);
		for (char *p = allow + 7; *p != '\r'; p++) {
			if (*p == ' ') {
				*p = ',';
			}
		}
		http_error(x, 405, allow);
		return 0;
	}
	limit = hd->max_body != 0 ? hd->max_body :
	    config_get()->http_max_body_bytes;
	http_parser_set_max_body(h->parser, limit);
	if (!req->chunked && req->content_length > limit) {
		x->keep_alive = 0;
		http_error(x, 413, NULL);
		return 0;	/* the parser stops at the same limit */
	}
	x->handler = hd;
	/* httpd's own refusals above drop the body (bounded by the limit);
	 * a handler's may face a large upload */
	x->big_body = req->chunked || req->content_length > HTTP_DISCARD_MAX;
	hd->on_request(x, req);
	if (x->upgrade) {
		return 1;
	}
	if (!x->responded && req->expect_continue &&
	    (req->chunked || req->content_length > 0)) {
		conn_write(h->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	return 0;
}

static int
httpd_on_body(void *ud, const char *data, size_t len)
{
	struct http_conn *h = ud;
	struct http_exchange *x = &h->x;

	if (x->handler != NULL && x->handler->on_body != NULL &&
	    !x->responded) {
		x->handler->on_body(x, data, len);
	}
	return 0;
}

static int
httpd_on_end(void *ud)
{
	struct http_conn *h = ud;
	struct http_exchange *x = &h->x;

	x->body_done = 1;
	if (h->done) {
		return 1;
	}
	if (!x->responded && x->handler != NULL &&
	    x->handler->on_end != NULL) {
		x->handler->on_end(x);
	}
	if (!x->responded) {
		log_err("http %lu %s left unanswered", conn_id(h->conn),
		    x->handler != NULL ? x->handler->path : "?");
		http_error(x, 500, NULL);
	}
	http_exchange_done(x);
	h->last_active = server_now();
	h->in_request = 0;
	if (h->stream_fd >= 0) {
		/* the next request waits for this body to be out */
		h->paused = 1;
		conn_pause_input(h->conn, 1);
		return 1;
	}
	if (!x->keep_alive) {
		h->done = 1;
		conn_close(h->conn, "http request done");
		return 1;
	}
	return 0;
}

static const struct http_callbacks httpd_cbs = {
	httpd_on_head, httpd_on_body, httpd_on_end
};

/* ---- connections ---- */

/* See httpd.h. */
struct http_conn *
http_conn_new(struct conn *c)
{
	struct http_conn *h = xcalloc(1, sizeof(*h));
	struct http_limits lim;

	http_limits_default(&lim);
	h->conn = c;
	h->stream_fd = -1;
	buf_init(&h->held, HTTP_HELD_MAX);
	h->parser = http_parser_new(&lim, &httpd_cbs, h);
	h->last_active = server_now();
	/* the first head is timed from the connection */
	h->head_started = h->last_active;
	return h;
}

/* See httpd.h. */
size_t
http_conn_input(struct http_conn *h, const char *data, size_t len)
{
	size_t used = 0;
	int rc;

	if (h->done || h->upgraded) {
		return len;
	}
	if (h->paused) {
		/* read before the pause took effect: kept for later */
		buf_append(&h->held, data, len);
		if (h->held.err) {
			h->done = 1;
			conn_close(h->conn, "http pipelined too much");
		}
		return len;
	}
	h->last_active = server_now();
	if (h->head_started == 0 && http_parser_idle(h->parser)) {
		h->head_started = h->last_active;
	}
	rc = http_feed(h->parser, data, len, &used);
	if (rc == HTTP_STOPPED && h->x.upgrade) {
		h->upgraded = 1;
		/* nothing more is parsed as HTTP, and the parser (header
		 * tables, 2.3 KB) would be most of a WebSocket session */
		http_parser_free(h->parser);
		h->parser = NULL;
		return used;
	}
	if (rc == HTTP_STOPPED && h->paused) {
		buf_append(&h->held, data + used, len - used);
		return len;
	}
	if (rc < 0) {
		struct http_exchange *x = &h->x;

		log_info("http %lu bad request: %d", conn_id(h->conn),
		    http_error_status(rc));
		if (!h->in_request) {
			/* in a head: this request gets the error */
			memset(x, 0, sizeof(*x));
			x->h = h;
		} else {
			http_exchange_done(x);	/* a body cut short */
		}
		x->keep_alive = 0;
		/* in a body already answered, the close is all */
		if (!x->responded) {
			http_error(x, http_error_status(rc), NULL);
		}
		h->done = 1;
		conn_close(h->conn, "http bad request");
	}
	return len;
}

/* See httpd.h. */
int
http_conn_streaming(const struct http_conn *h)
{
	return h->stream_fd >= 0 && !h->done;
}

/* See httpd.h. */
void
http_conn_writable(struct http_conn *h)
{
	struct conn *c = h->conn;
	struct buf held;

	if (h->stream_fd < 0 || h->done || http_stream_fill(h) != 0 ||
	    h->stream_fd >= 0 || !h->paused) {
		return;
	}
	/* the body is out: the next request, if one came */
	h->paused = 0;
	conn_pause_input(c, 0);
	if (!h->x.keep_alive) {
		h->done = 1;
		conn_close(c, "http request done");
		return;
	}
	held = h->held;
	buf_init(&h->held, HTTP_HELD_MAX);
	if (held.len > 0) {
		conn_feed(c, held.data, held.len);	/* h may be gone now */
	}
	buf_free(&held);
}

/* See httpd.h. */
int
http_conn_upgraded(const struct http_conn *h)
{
	return h->upgraded;
}

/* See httpd.h. */
void
http_conn_tick(struct http_conn *h)
{
	const struct config *cfg = config_get();
	time_t now = server_now();

	if (h->done || h->upgraded) {
		return;
	}
	/* slowloris: a head not complete in time (or never begun on a
	 * new connection) */
	if (h->head_started != 0 && cfg->http_header_timeout_s > 0 &&
	    now - h->head_started >= (time_t)cfg->http_header_timeout_s) {
		log_info("http %lu header timeout", conn_id(h->conn));
		if (!http_parser_idle(h->parser)) {
			memset(&h->x, 0, sizeof(h->x));
			h->x.h = h;
			http_error(&h->x, 408, NULL);
		}
		h->done = 1;
		conn_close(h->conn, "http header timeout");
		return;
	}
	/* idle between requests, or a body that stopped coming */
	if (h->head_started == 0 && cfg->http_idle_timeout_s > 0 &&
	    now - h->last_active >= (time_t)cfg->http_idle_timeout_s) {
		h->done = 1;
		conn_close(h->conn, "http idle");
	}
}

/* See httpd.h. */
void
http_conn_free(struct http_conn *h)
{
	if (h == NULL) {
		return;
	}
	if (h->in_request) {
		http_exchange_done(&h->x);	/* the peer went mid-request */
	}
	if (h->stream_fd >= 0) {
		close(h->stream_fd);
	}
	buf_free(&h->held);
	http_parser_free(h->parser);
	free(h);
}
