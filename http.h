/*
 * http.h - the HTTP/1.1 request parser (RFC 7230/7231), with no socket
 * in sight; httpd.h serves connections with it.
 *
 * The parser is a push parser like xml.c: http_feed() takes any chunk
 * (down to one byte), keeps its state between calls, and calls back with
 * the request head, body pieces and the end of each request; it never
 * needs the whole request.  After a request ends it starts on the next
 * one in the same input (pipelining).  Limits give the status codes of
 * RFC 7230/7231/6585: request line too long 414, header bytes or header
 * count 431, body 413, bad syntax 400, a transfer coding other than
 * chunked 501, an HTTP version other than 1.x 505.
 */
#ifndef UXMPPD_HTTP_H
#define UXMPPD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* http_feed() results besides HTTP_OK. */
#define HTTP_OK			0
#define HTTP_STOPPED		1	/* a callback asked to stop */
#define HTTP_E_SYNTAX		(-1)	/* 400 */
#define HTTP_E_URI_TOO_LONG	(-2)	/* 414 */
#define HTTP_E_HEADER_TOO_LARGE	(-3)	/* 431: bytes */
#define HTTP_E_TOO_MANY_HEADERS	(-4)	/* 431: count */
#define HTTP_E_BODY_TOO_LARGE	(-5)	/* 413 */
#define HTTP_E_CODING		(-6)	/* 501: unknown transfer coding */
#define HTTP_E_VERSION		(-7)	/* 505 */

struct http_header {
	const char	*name;		/* as sent; compare case-insensitively */
	const char	*value;		/* without surrounding whitespace */
};

/* One request head.  Every string is borrowed from the parser, valid
 * until the request's on_end callback returns. */
struct http_request {
	const char	*method;	/* "GET", "HEAD", ... (case-sensitive) */
	const char	*target;	/* the request-target as sent */
	const char	*path;		/* target up to '?' (no decoding) */
	const char	*query;		/* after '?', or "" */
	int		 minor;		/* HTTP/1.minor */
	int		 keep_alive;	/* the connection persists after it */
	int		 chunked;	/* Transfer-Encoding: chunked */
	int		 expect_continue; /* Expect: 100-continue */
	uint64_t	 content_length; /* when not chunked */
	const struct http_header *headers;
	size_t		 nheaders;
};

/* Each returns 0 to go on, non-zero to stop http_feed() (HTTP_STOPPED)
 * right after the bytes that completed the event. */
struct http_callbacks {
	/* The head is complete (before any body byte). */
	int	(*on_head)(void *ud, const struct http_request *req);
	/* A piece of the (de-chunked) body; borrowed, valid during the
	 * call. */
	int	(*on_body)(void *ud, const char *data, size_t len);
	/* The request is complete; the next byte is the next request's. */
	int	(*on_end)(void *ud);
};

struct http_limits {
	size_t		 max_line;	/* request line: 414 past it */
	size_t		 max_header_bytes; /* header (and trailer) lines: 431 */
	size_t		 max_headers;	/* header lines: 431 */
	uint64_t	 max_body;	/* body bytes: 413 */
};

struct http_parser;

/* The limits of uxlimits.h and the configuration. */
void	http_limits_default(struct http_limits *l);
/* Caller frees with http_parser_free(); lim is copied. */
struct http_parser *http_parser_new(const struct http_limits *lim,
	    const struct http_callbacks *cb, void *ud);
void	http_parser_free(struct http_parser *p);
/* From on_head: the body limit for this request only (an upload). */
void	http_parser_set_max_body(struct http_parser *p, uint64_t max);
/*
 * Parse len bytes.  *used receives how many were consumed: all of them
 * with HTTP_OK, those up to the stopping event with HTTP_STOPPED (feed
 * the rest again to go on).  A negative HTTP_E_* error is sticky: every
 * later call returns it.
 */
int	http_feed(struct http_parser *p, const char *data, size_t len,
	    size_t *used);
/* Between requests, no byte of the next one seen (an idle keep-alive)? */
int	http_parser_idle(const struct http_parser *p);
/* The status code for an HTTP_E_* error (400 for anything else). */
int	http_error_status(int err);
/* "Not Found" for 404, ...; "" for codes we never send. */
const char *http_reason(int status);
/* The value of header name (case-insensitive), or NULL.  Borrowed. */
const char *http_header(const struct http_request *req, const char *name);
/* Does a comma-separated header value list token (case-insensitive)? */
int	http_has_token(const char *list, const char *token);

#endif
