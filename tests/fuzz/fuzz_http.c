/*
 * fuzz_http.c - libFuzzer target for http.c.
 *
 * The first input byte picks the piece size (0: whole) and the body
 * limit; the rest is what a client sends.  Beyond "no crash, no leak":
 * the events (serialized) fed whole and fed in pieces are the same, and
 * so is the final code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
ev_head(void *ud, const struct http_request *r)
{
	struct buf *t = ud;
	size_t i;

	buf_printf(t, "H %s %s %s %s %d %d %d %llu\n", r->method, r->target,
	    r->path, r->query, r->minor, r->keep_alive, r->chunked,
	    (unsigned long long)r->content_length);
	for (i = 0; i < r->nheaders; i++) {
		buf_printf(t, "%s: %s\n", r->headers[i].name,
		    r->headers[i].value);
	}
	if (http_header(r, "Host") == NULL && r->minor > 0) {
		abort();	/* HTTP/1.1 without Host must be refused */
	}
	return 0;
}

static int
ev_body(void *ud, const char *data, size_t len)
{
	buf_append(ud, data, len);
	return 0;
}

static int
ev_end(void *ud)
{
	buf_puts(ud, "|E\n");
	return 0;
}

static const struct http_callbacks cbs = { ev_head, ev_body, ev_end };

static int
run(const uint8_t *data, size_t size, size_t piece, uint64_t max_body,
    struct buf *t)
{
	struct http_limits lim;
	struct http_parser *p;
	size_t off = 0, n, used;
	int rc = HTTP_OK;

	lim.max_line = 512;
	lim.max_header_bytes = 1024;
	lim.max_headers = 16;
	lim.max_body = max_body;
	p = http_parser_new(&lim, &cbs, t);
	while (off < size) {
		n = piece == 0 ? size - off : piece;
		if (n > size - off) {
			n = size - off;
		}
		rc = http_feed(p, (const char *)data + off, n, &used);
		if (used > n || (rc == HTTP_OK && used != n)) {
			abort();
		}
		off += used;
		if (rc < 0) {
			break;
		}
	}
	buf_printf(t, "rc=%d idle=%d", rc, http_parser_idle(p));
	http_parser_free(p);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	size_t piece;

	if (size < 1) {
		return 0;
	}
	piece = data[0] & 0x0f;
	buf_init(&a, 0);
	buf_init(&b, 0);
	run(data + 1, size - 1, 0, (uint64_t)(data[0] >> 4) * 16, &a);
	run(data + 1, size - 1, piece == 0 ? 1 : piece,
	    (uint64_t)(data[0] >> 4) * 16, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		fprintf(stderr, "whole:\n%s\npieces:\n%s\n", a.data, b.data);
		abort();
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
