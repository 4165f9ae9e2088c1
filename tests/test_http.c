/*
 * test_http.c - the HTTP/1.1 request parser (http.c): each case parsed
 * whole, one byte at a time and split at every offset must give the same
 * event trace and the same final status; every error code has a case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tests/check.h"

struct trace {
	struct buf	 out;
	struct http_parser *p;
	int		 raise_body;	/* on_head raises the body limit */
};

static int
t_head(void *ud, const struct http_request *r)
{
	struct trace *t = ud;
	size_t i;

	buf_printf(&t->out, "H %s %s path=%s query=%s 1.%d ka=%d chunked=%d "
	    "cl=%llu expect=%d\n", r->method, r->target, r->path, r->query,
	    r->minor, r->keep_alive, r->chunked,
	    (unsigned long long)r->content_length, r->expect_continue);
	for (i = 0; i < r->nheaders; i++) {
		buf_printf(&t->out, "  %s=[%s]\n", r->headers[i].name,
		    r->headers[i].value);
	}
	if (t->raise_body) {
		http_parser_set_max_body(t->p, 100000);
	}
	return 0;
}

static int
t_body(void *ud, const char *data, size_t len)
{
	struct trace *t = ud;

	buf_append(&t->out, data, len);
	return 0;
}

static int
t_end(void *ud)
{
	struct trace *t = ud;

	buf_puts(&t->out, "|E\n");
	return 0;
}

static const struct http_callbacks cbs = { t_head, t_body, t_end };

/* Feed in at most three pieces split at a and b; the trace and "!status"
 * of an error, or "ok"; caller frees. */
static char *
run(const char *in, size_t len, size_t a, size_t b, size_t step, int raise)
{
	struct http_limits lim;
	struct trace t;
	size_t off = 0, n, used;
	int rc = HTTP_OK;
	char *res;

	http_limits_default(&lim);
	lim.max_body = 64;
	lim.max_headers = 8;
	lim.max_header_bytes = 512;
	lim.max_line = 256;
	buf_init(&t.out, 0);
	t.raise_body = raise;
	t.p = http_parser_new(&lim, &cbs, &t);
	while (off < len) {
		if (step > 0) {
			n = step;
		} else if (off < a) {
			n = a - off;
		} else if (off < b) {
			n = b - off;
		} else {
			n = len - off;
		}
		if (n > len - off) {
			n = len - off;
		}
		rc = http_feed(t.p, in + off, n, &used);
		off += used;
		if (rc < 0) {
			break;
		}
	}
	if (rc < 0) {
		buf_printf(&t.out, "!%d", http_error_status(rc));
	} else {
		buf_printf(&t.out, "ok idle=%d", http_parser_idle(t.p));
	}
	http_parser_free(t.p);
	res = xstrdup(t.out.data);
	buf_free(&t.out);
	return res;
}

/* Whole, byte by byte, and at every split point (two and three pieces
 * for short inputs): all the same as want. */
static void
check_case(const char *name, const char *in, const char *want, int raise)
{
	size_t len = strlen(in), a, b;
	char *got;
	int bad = 0;

	got = run(in, len, len, len, 0, raise);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s whole:\n  got:  %s\n  want: %s\n", name,
		    got, want);
		bad = 1;
	}
	free(got);
	got = run(in, len, 0, 0, 1, raise);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s bytewise:\n  got:  %s\n", name, got);
		bad = 1;
	}
	free(got);
	for (a = 0; a <= len && !bad; a++) {
		for (b = a; b <= len && !bad; b += len < 200 ? 1 : len) {
			got = run(in, len, a, b, 0, raise);
			if (strcmp(got, want) != 0) {
				fprintf(stderr, "%s split %zu,%zu:\n  got:  %s\n",
				    name, a, b, got);
				bad = 1;
			}
			free(got);
		}
	}
	CHECK(!bad);
}

int
main(void)
{
	char big[2048];

	check_case("get", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
	    "H GET /x path=/x query= 1.1 ka=1 chunked=0 cl=0 expect=0\n"
	    "  Host=[a]\n|E\nok idle=1", 0);
	check_case("pipelined",
	    "GET /a?b=c HTTP/1.1\r\nHost: h\r\nX-Y:  sp  \r\n\r\n"
	    "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
	    "HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	    "H GET /a?b=c path=/a query=b=c 1.1 ka=1 chunked=0 cl=0 expect=0\n"
	    "  Host=[h]\n  X-Y=[sp]\n|E\n"
	    "H POST /p path=/p query= 1.1 ka=1 chunked=0 cl=5 expect=0\n"
	    "  Host=[h]\n  Content-Length=[5]\nhello|E\n"
	    "H HEAD / path=/ query= 1.1 ka=0 chunked=0 cl=0 expect=0\n"
	    "  Host=[h]\n  Connection=[close]\n|E\nok idle=1", 0);
	check_case("chunked",
	    "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Expect: 100-continue\r\n\r\n"
	    "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"
	    "GET /n HTTP/1.1\r\nHost: h\r\n\r\n",
	    "H PUT /u path=/u query= 1.1 ka=1 chunked=1 cl=0 expect=1\n"
	    "  Host=[h]\n  Transfer-Encoding=[chunked]\n"
	    "  Expect=[100-continue]\nhello0123456789|E\n"
	    "H GET /n path=/n query= 1.1 ka=1 chunked=0 cl=0 expect=0\n"
	    "  Host=[h]\n|E\nok idle=1", 0);
	check_case("http10 bare lf",
	    "\r\n\nGET http://h:80/p?q HTTP/1.0\nConnection: Keep-Alive\n\n"
	    "GET http://h HTTP/1.0\n\n",
	    "H GET http://h:80/p?q path=/p query=q 1.0 ka=1 chunked=0 cl=0 "
	    "expect=0\n  Connection=[Keep-Alive]\n|E\n"
	    "H GET http://h path=/ query= 1.0 ka=0 chunked=0 cl=0 expect=0\n"
	    "|E\nok idle=1", 0);
	check_case("partial", "GET / HTTP/1.1\r\nHost: h\r\n",
	    "ok idle=0", 0);
	check_case("raised body limit",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 70\r\n\r\n"
	    "0123456789012345678901234567890123456789012345678901234567890123456789",
	    "H POST / path=/ query= 1.1 ka=1 chunked=0 cl=70 expect=0\n"
	    "  Host=[h]\n  Content-Length=[70]\n"
	    "0123456789012345678901234567890123456789012345678901234567890123456789"
	    "|E\nok idle=1", 1);

	/* 400 */
	check_case("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
	    "!400", 0);
	check_case("no host", "GET / HTTP/1.1\r\n\r\n", "!400", 0);
	check_case("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    "!400", 0);
	check_case("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
	    "!400", 0);
	check_case("cl and te", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "!400", 0);
	check_case("bad cl", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 1x\r\n\r\n", "!400", 0);
	check_case("two cl", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 1\r\nContent-Length: 1\r\n\r\n", "!400", 0);
	check_case("te not chunked", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", "!400", 0);
	check_case("bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "!400", 0);
	check_case("no version", "GET /\r\n\r\n", "!400", 0);
	check_case("bare cr", "GET / HTTP/1.1\rHost: a\r\n\r\n", "!400", 0);
	check_case("ctl in value", "GET / HTTP/1.1\r\nHost: a\001\r\n\r\n",
	    "!400", 0);
	check_case("not origin form", "GET x HTTP/1.1\r\nHost: a\r\n\r\n",
	    "!400", 0);
	check_case("bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n", "H POST / path=/ "
	    "query= 1.1 ka=1 chunked=1 cl=0 expect=0\n  Host=[a]\n"
	    "  Transfer-Encoding=[chunked]\n!400", 0);
	check_case("chunk without crlf", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n", "H POST / path=/ "
	    "query= 1.1 ka=1 chunked=1 cl=0 expect=0\n  Host=[a]\n"
	    "  Transfer-Encoding=[chunked]\nx!400", 0);
	/* 414 */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	memcpy(big + 300, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
	check_case("uri too long", big, "!414", 0);
	/* 431 */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
	memcpy(big + 600, "\r\n\r\n", 5);
	check_case("header too large", big, "!431", 0);
	check_case("too many headers", "GET / HTTP/1.1\r\nHost: a\r\n"
	    "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n",
	    "!431", 0);
	/* 413 */
	check_case("body too large", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 65\r\n\r\n", "H POST / path=/ query= 1.1 ka=1 "
	    "chunked=0 cl=65 expect=0\n  Host=[a]\n  Content-Length=[65]\n!413",
	    0);
	check_case("chunked too large", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n20\r\n"
	    "0123456789abcdef0123456789abcdef\r\n21\r\n", "H POST / path=/ "
	    "query= 1.1 ka=1 chunked=1 cl=0 expect=0\n  Host=[a]\n"
	    "  Transfer-Encoding=[chunked]\n"
	    "0123456789abcdef0123456789abcdef!413", 0);
	/* 501, 505 */
	check_case("gzip chunked", "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n", "!501", 0);
	check_case("http2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "!505", 0);

	CHECK(http_has_token("Upgrade, keep-alive", "upgrade"));
	CHECK(!http_has_token("Upgrades", "upgrade"));
	CHECK(!http_has_token(NULL, "close"));
	CHECK_STR(http_reason(431), "Request Header Fields Too Large");
	return check_summary("test_http");
}
