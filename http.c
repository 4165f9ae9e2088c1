/*
 * http.c - the incremental HTTP/1.1 request parser (RFC 7230).
 *
 * States: LINE (the request line; empty lines before it are skipped,
 * §3.5), HEADER (header lines until the empty one), then the body:
 * BODY (Content-Length bytes) or CHUNK_SIZE / CHUNK_DATA / CHUNK_END /
 * TRAILER (§4.1), then back to LINE for the next request.  ERROR is
 * sticky.
 *
 * The head is kept in one buffer: each line is appended as it comes and
 * checked when its LF arrives, with NULs written in place of the
 * separators; offsets (the buffer may move) become pointers when the
 * head is complete.  Lines end in CRLF or a bare LF (§3.5); a CR anywhere
 * else is an error.  Strict where lax parsing enables request smuggling
 * (§3.3.3): no obs-fold, no space before a colon, Transfer-Encoding only
 * "chunked" and never together with Content-Length, one Content-Length
 * value, exactly one Host in HTTP/1.1 (§5.4).
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "uxlimits.h"

enum http_state {
	HS_LINE,
	HS_HEADER,
	HS_BODY,
	HS_CHUNK_SIZE,
	HS_CHUNK_DATA,
	HS_CHUNK_END,
	HS_TRAILER,
	HS_ERROR,
};

struct hdr_off {
	size_t	 name, value;
};

struct http_parser {
	struct http_limits	 lim;
	uint64_t		 max_body;	/* this request's */
	const struct http_callbacks *cb;
	void			*ud;
	enum http_state		 state;
	int			 err;
	struct buf		 head;		/* request line + headers */
	size_t			 line_start;	/* offset of the current line */
	size_t			 header_bytes;	/* header (or trailer) bytes */
	size_t			 line_raw;	/* bytes of the line so far */
	size_t			 nheaders;	/* lines seen (or trailers) */
	struct hdr_off		 hoff[HTTP_MAX_HEADERS];
	struct http_header	 hdrs[HTTP_MAX_HEADERS];
	size_t			 method_off, target_off;
	size_t			 path_off, query_off;	/* 0: "/", "" */
	struct http_request	 req;
	uint64_t		 remaining;	/* body or chunk bytes left */
	uint64_t		 body_total;	/* de-chunked bytes so far */
};

/* RFC 7230 §3.2.6 tchar */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9')) {
		return 1;
	}
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* See http.h. */
void
http_limits_default(struct http_limits *l)
{
	l->max_line = HTTP_MAX_REQUEST_LINE;
	l->max_header_bytes = HTTP_MAX_HEADER_BYTES;
	l->max_headers = HTTP_MAX_HEADERS;
	l->max_body = config_get()->http_max_body_bytes;
}

/* See http.h. */
struct http_parser *
http_parser_new(const struct http_limits *lim, const struct http_callbacks *cb,
    void *ud)
{
	struct http_parser *p = xcalloc(1, sizeof(*p));

	p->lim = *lim;
	if (p->lim.max_headers > HTTP_MAX_HEADERS) {
		p->lim.max_headers = HTTP_MAX_HEADERS;
	}
	p->max_body = p->lim.max_body;
	p->cb = cb;
	p->ud = ud;
	buf_init(&p->head, 0);
	p->state = HS_LINE;
	return p;
}

/* See http.h. */
void
http_parser_free(struct http_parser *p)
{
	if (p == NULL) {
		return;
	}
	buf_free(&p->head);
	free(p);
}

/* See http.h. */
void
http_parser_set_max_body(struct http_parser *p, uint64_t max)
{
	p->max_body = max;
}

/* See http.h. */
int
http_parser_idle(const struct http_parser *p)
{
	return p->state == HS_LINE && p->head.len == 0;
}

/* Ready for the next request. */
static void
http_next(struct http_parser *p)
{
	buf_reset(&p->head);
	p->line_start = 0;
	p->header_bytes = 0;
	p->line_raw = 0;
	p->nheaders = 0;
	p->body_total = 0;
	p->remaining = 0;
	p->max_body = p->lim.max_body;
	memset(&p->req, 0, sizeof(p->req));
	p->state = HS_LINE;
}

static int
http_fail(struct http_parser *p, int err)
{
	p->state = HS_ERROR;
	p->err = err;
	return err;
}

/*
 * Keep a second copy of the target after the request line, cut into path
 * and query: the origin-form as it is, the absolute-form (§5.3.2) from
 * the '/' after its authority.
 */
static int
http_split_target(struct http_parser *p)
{
	char *t = xstrdup(p->head.data + p->target_off), *q, *path;
	size_t off;

	p->path_off = p->query_off = 0;
	buf_putc(&p->head, '\0');
	off = p->head.len;
	buf_append(&p->head, t, strlen(t) + 1);
	p->head.len--;	/* the NUL stays, the caller ends the line */
	path = p->head.data + off;
	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0) {
		path = strchr(strstr(path, "//") + 2, '/');
	} else if (*t != '/' && strcmp(t, "*") != 0) {
		free(t);
		return HTTP_E_SYNTAX;
	}
	free(t);
	if (path == NULL) {
		return 0;
	}
	p->path_off = (size_t)(path - p->head.data);
	q = strchr(path, '?');
	if (q != NULL) {
		*q = '\0';
		p->query_off = (size_t)(q + 1 - p->head.data);
	}
	return 0;
}

/* The request line in head[line_start..len), its end of line removed:
 * method SP request-target SP HTTP-version (§3.1.1). */
static int
http_parse_request_line(struct http_parser *p)
{
	char *s = p->head.data + p->line_start;
	char *sp1, *sp2, *v;
	size_t i;

	sp1 = strchr(s, ' ');
	if (sp1 == NULL || sp1 == s) {
		return HTTP_E_SYNTAX;
	}
	for (i = 0; s + i < sp1; i++) {
		if (!is_tchar((unsigned char)s[i])) {
			return HTTP_E_SYNTAX;
		}
	}
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL || sp2 == sp1 + 1) {
		return HTTP_E_SYNTAX;
	}
	for (v = sp1 + 1; v < sp2; v++) {
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f) {
			return HTTP_E_SYNTAX;
		}
	}
	v = sp2 + 1;
	if (strncmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9' || v[8] != '\0') {
		return HTTP_E_SYNTAX;
	}
	if (v[5] != '1') {
		return HTTP_E_VERSION;
	}
	p->req.minor = v[7] - '0';
	*sp1 = '\0';
	*sp2 = '\0';
	p->method_off = p->line_start;
	p->target_off = p->line_start + (size_t)(sp1 + 1 - s);
	return http_split_target(p);
}

/* A header (or trailer) line: field-name ":" OWS field-value OWS (§3.2).
 * Stored unless trailer. */
static int
http_parse_header_line(struct http_parser *p, int trailer)
{
	char *s = p->head.data + p->line_start;
	char *colon, *v, *end;

	if (*s == ' ' || *s == '\t') {
		return HTTP_E_SYNTAX;	/* obs-fold (§3.2.4) */
	}
	for (colon = s; *colon != ':'; colon++) {
		if (!is_tchar((unsigned char)*colon)) {
			return HTTP_E_SYNTAX;
		}
	}
	if (colon == s) {
		return HTTP_E_SYNTAX;
	}
	for (v = colon + 1; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return HTTP_E_SYNTAX;
		}
	}
	if (p->nheaders >= p->lim.max_headers) {
		return HTTP_E_TOO_MANY_HEADERS;
	}
	p->nheaders++;
	if (trailer) {
		return 0;
	}
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t') {
		v++;
	}
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
		*--end = '\0';
	}
	p->hoff[p->nheaders - 1].name = p->line_start;
	p->hoff[p->nheaders - 1].value = (size_t)(v - p->head.data);
	return 0;
}

/* See http.h. */
const char *
http_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0) {
			return req->headers[i].value;
		}
	}
	return NULL;
}

static size_t
http_header_count(const struct http_request *req, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0) {
			n++;
		}
	}
	return n;
}

/* See http.h. */
int
http_has_token(const char *list, const char *token)
{
	size_t tlen = strlen(token), n;
	const char *p = list;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
		}
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
			n--;
		}
		if (n == tlen && strncasecmp(p, token, n) == 0) {
			return 1;
		}
		p += strcspn(p, ",");
	}
	return 0;
}

/* The head is complete: pointers, then the framing rules (§3.3.3). */
static int
http_head_done(struct http_parser *p)
{
	struct http_request *r = &p->req;
	const char *cl, *te, *conn, *expect;
	static const char pad[HTTP_MAX_CHUNK_LINE + 4];
	char *base;
	size_t i, keep = p->head.len;

	/* room for the chunk-size and trailer lines to come, so the
	 * pointers handed out stay valid until the request ends */
	buf_append(&p->head, pad, sizeof(pad));
	p->head.len = keep;
	p->head.data[keep] = '\0';
	base = p->head.data;

	for (i = 0; i < p->nheaders; i++) {
		p->hdrs[i].name = base + p->hoff[i].name;
		p->hdrs[i].value = base + p->hoff[i].value;
	}
	r->headers = p->hdrs;
	r->nheaders = p->nheaders;
	r->method = base + p->method_off;
	r->target = base + p->target_off;
	r->path = p->path_off != 0 ? base + p->path_off : "/";
	r->query = p->query_off != 0 ? base + p->query_off : "";
	if (r->minor >= 1 && http_header_count(r, "Host") != 1) {
		return HTTP_E_SYNTAX;
	}
	conn = http_header(r, "Connection");
	r->keep_alive = r->minor >= 1 ? !http_has_token(conn, "close") :
	    http_has_token(conn, "keep-alive");
	expect = http_header(r, "Expect");
	r->expect_continue = expect != NULL &&
	    strcasecmp(expect, "100-continue") == 0;
	cl = http_header(r, "Content-Length");
	te = http_header(r, "Transfer-Encoding");
	if (te != NULL) {
		if (cl != NULL || http_header_count(r, "Transfer-Encoding")
		    != 1) {
			return HTTP_E_SYNTAX;
		}
		if (strcasecmp(te, "chunked") == 0) {
			r->chunked = 1;
		} else if (http_has_token(te, "chunked")) {
			return HTTP_E_CODING;	/* gzip, chunked */
		} else {
			return HTTP_E_SYNTAX;	/* §3.3.3 item 3 */
		}
	} else if (cl != NULL) {
		uint64_t n = 0;
		const char *c;

		if (http_header_count(r, "Content-Length") != 1 || *cl == '\0') {
			return HTTP_E_SYNTAX;
		}
		for (c = cl; *c != '\0'; c++) {
			if (*c < '0' || *c > '9' || n > UINT64_MAX / 10 - 1) {
				return HTTP_E_SYNTAX;
			}
			n = n * 10 + (uint64_t)(*c - '0');
		}
		r->content_length = n;
	}
	return 0;
}

/*
 * Take bytes up to the end of a line into head.  Returns the bytes used;
 * *done says whether the line is complete (its CR LF removed, NUL
 * terminated).  *err gets a limit or syntax error.
 */
static size_t
http_take_line(struct http_parser *p, const char *data, size_t len,
    size_t limit, int limit_err, int *done, int *err)
{
	const char *lf = memchr(data, '\n', len);
	size_t n = lf != NULL ? (size_t)(lf - data) + 1 : len;
	size_t linelen, have = p->head.len - p->line_start;
	char *s;

	*done = 0;
	*err = 0;
	/* bounded growth: the line may be limit bytes, plus CR LF */
	if (have + n > limit + (lf != NULL ? 2 : 1)) {
		*err = limit_err;
		return n;
	}
	buf_append(&p->head, data, n);
	if (lf == NULL) {
		return n;
	}
	/* the LF, and a CR before it, become the line's end */
	p->head.len--;
	s = p->head.data + p->line_start;
	linelen = p->head.len - p->line_start;
	if (linelen > 0 && s[linelen - 1] == '\r') {
		p->head.len--;
		linelen--;
	}
	p->head.data[p->head.len] = '\0';
	if (memchr(s, '\r', linelen) != NULL ||
	    memchr(s, '\0', linelen) != NULL) {
		*err = HTTP_E_SYNTAX;
		return n;
	}
	if (linelen > limit) {
		*err = limit_err;
		return n;
	}
	*done = 1;
	return n;
}

/* The chunk-size line (§4.1): hex digits, then optional extensions. */
static int
http_parse_chunk_size(struct http_parser *p)
{
	const char *s = p->head.data + p->line_start;
	uint64_t n = 0;
	int digits = 0;

	for (; *s != '\0'; s++) {
		int d;

		if (*s >= '0' && *s <= '9') {
			d = *s - '0';
		} else if (*s >= 'a' && *s <= 'f') {
			d = *s - 'a' + 10;
		} else if (*s >= 'A' && *s <= 'F') {
			d = *s - 'A' + 10;
		} else {
			break;
		}
		if (++digits > 15) {
			return HTTP_E_BODY_TOO_LARGE;
		}
		n = n * 16 + (uint64_t)d;
	}
	if (digits == 0) {
		return HTTP_E_SYNTAX;
	}
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (*s != '\0' && *s != ';') {
		return HTTP_E_SYNTAX;
	}
	if (p->body_total + n > p->max_body) {
		return HTTP_E_BODY_TOO_LARGE;
	}
	p->remaining = n;
	return 0;
}

/* The request is over: tell the caller, then get ready for the next. */
static int
http_end(struct http_parser *p)
{
	int stop = p->cb->on_end != NULL && p->cb->on_end(p->ud);

	if (p->state != HS_ERROR) {
		http_next(p);
	}
	return stop;
}

/* See http.h. */
int
http_feed(struct http_parser *p, const char *data, size_t len, size_t *used)
{
	size_t off = 0, n, lim;
	int done, err, stop;

	*used = 0;
	while (off < len || (p->state == HS_BODY && p->remaining == 0)) {
		if (p->state == HS_ERROR) {
			*used = off;
			return p->err;
		}
		stop = 0;
		switch (p->state) {
		case HS_LINE:
			n = http_take_line(p, data + off, len - off,
			    p->lim.max_line, HTTP_E_URI_TOO_LONG, &done, &err);
			off += n;
			if (err == 0 && done && p->head.len == 0) {
				/* §3.5: an empty line before a request */
				break;
			}
			if (err == 0 && done) {
				err = http_parse_request_line(p);
			}
			if (err != 0) {
				*used = off;
				return http_fail(p, err);
			}
			if (done) {
				p->state = HS_HEADER;
				p->line_start = p->head.len + 1;
				buf_putc(&p->head, '\0');
			}
			break;
		case HS_HEADER:
		case HS_TRAILER:
			lim = p->header_bytes < p->lim.max_header_bytes ?
			    p->lim.max_header_bytes - p->header_bytes : 0;
			if (p->state == HS_TRAILER && lim > HTTP_MAX_CHUNK_LINE) {
				lim = HTTP_MAX_CHUNK_LINE;	/* the pad */
			}
			n = http_take_line(p, data + off, len - off, lim,
			    HTTP_E_HEADER_TOO_LARGE, &done, &err);
			off += n;
			/* the limit counts whole lines, this one once done */
			p->line_raw += n;
			if (done) {
				p->header_bytes += p->line_raw;
				p->line_raw = 0;
			}
			if (err == 0 && done && p->head.len == p->line_start) {
				/* the empty line */
				if (p->state == HS_TRAILER) {
					stop = http_end(p);
					break;
				}
				err = http_head_done(p);
				if (err == 0) {
					stop = p->cb->on_head != NULL &&
					    p->cb->on_head(p->ud, &p->req);
				}
				if (err == 0 && p->req.chunked) {
					p->state = HS_CHUNK_SIZE;
					p->line_start = p->head.len + 1;
					buf_putc(&p->head, '\0');
				} else if (err == 0 &&
				    p->req.content_length > p->max_body) {
					err = HTTP_E_BODY_TOO_LARGE;
				} else if (err == 0) {
					p->remaining = p->req.content_length;
					p->state = HS_BODY;
				}
			} else if (err == 0 && done) {
				err = http_parse_header_line(p,
				    p->state == HS_TRAILER);
				if (p->state == HS_TRAILER) {
					p->head.len = p->line_start;
				} else {
					p->line_start = p->head.len + 1;
					buf_putc(&p->head, '\0');
				}
			}
			if (err != 0) {
				*used = off;
				return http_fail(p, err);
			}
			break;
		case HS_BODY:
			if (p->remaining == 0) {
				stop = http_end(p);
				break;
			}
			n = len - off;
			if (n > p->remaining) {
				n = (size_t)p->remaining;
			}
			p->remaining -= n;
			off += n;
			stop = p->cb->on_body != NULL &&
			    p->cb->on_body(p->ud, data + off - n, n);
			if (p->remaining == 0 && !stop) {
				stop = http_end(p);
			}
			break;
		case HS_CHUNK_SIZE:
			n = http_take_line(p, data + off, len - off,
			    HTTP_MAX_CHUNK_LINE, HTTP_E_SYNTAX, &done, &err);
			off += n;
			if (err == 0 && done) {
				err = http_parse_chunk_size(p);
				p->head.len = p->line_start;
				if (err == 0 && p->remaining == 0) {
					p->state = HS_TRAILER;
					p->header_bytes = 0;
					p->line_raw = 0;
					p->nheaders = 0;
				} else if (err == 0) {
					p->state = HS_CHUNK_DATA;
				}
			}
			if (err != 0) {
				*used = off;
				return http_fail(p, err);
			}
			break;
		case HS_CHUNK_DATA:
			n = len - off;
			if (n > p->remaining) {
				n = (size_t)p->remaining;
			}
			p->remaining -= n;
			p->body_total += n;
			off += n;
			if (p->remaining == 0) {
				p->state = HS_CHUNK_END;
			}
			stop = p->cb->on_body != NULL &&
			    p->cb->on_body(p->ud, data + off - n, n);
			break;
		case HS_CHUNK_END:
			n = http_take_line(p, data + off, len - off, 0,
			    HTTP_E_SYNTAX, &done, &err);
			off += n;
			if (err != 0) {
				*used = off;
				return http_fail(p, err);
			}
			if (done) {
				p->head.len = p->line_start;
				p->state = HS_CHUNK_SIZE;
			}
			break;
		case HS_ERROR:
			break;
		}
		if (stop) {
			*used = off;
			return p->state == HS_ERROR ? p->err : HTTP_STOPPED;
		}
	}
	*used = off;
	return p->state == HS_ERROR ? p->err : HTTP_OK;
}

/* See http.h. */
int
http_error_status(int err)
{
	switch (err) {
	case HTTP_E_URI_TOO_LONG:
		return 414;
	case HTTP_E_HEADER_TOO_LARGE:
	case HTTP_E_TOO_MANY_HEADERS:
		return 431;
	case HTTP_E_BODY_TOO_LARGE:
		return 413;
	case HTTP_E_CODING:
		return 501;
	case HTTP_E_VERSION:
		return 505;
	default:
		return 400;
	}
}

/* See http.h. */
const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}
