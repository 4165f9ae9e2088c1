/*
 * httpd.h - HTTP/1.1 inside the reactor: one struct http_conn per
 * connection (server.c makes them on http_listen/https_listen ports),
 * parsing requests with http.h and answering them from a table of paths
 * that modules register handlers in (the WebSocket endpoint, later file
 * upload, host-meta, metrics).
 *
 * Connection rules: keep-alive as RFC 7230 §6.3 says (HTTP/1.1 unless
 * "Connection: close", HTTP/1.0 only with "keep-alive"); pipelined
 * requests are answered in order, since each is answered before the next
 * is parsed; a parse error gets its status code and the connection
 * closes after it; a head not complete within http_header_timeout_s of
 * its first byte gets 408 and a close (slowloris), and a connection idle
 * http_idle_timeout_s between requests is closed.  Unknown paths get 404,
 * methods a handler does not list 405.
 */
#ifndef UXMPPD_HTTPD_H
#define UXMPPD_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct conn;
struct http_conn;
struct http_exchange;

/*
 * A handler for the requests to one path.  on_request sees the head and
 * answers now with http_respond() (most handlers) or later; on_body gets
 * the body when the handler wants it (NULL: the body is discarded), and
 * on_end follows the last byte.  A body declared (Content-Length) over
 * max_body gets 413 before the handler sees the request; a chunked one
 * that grows past it ends the connection.  A handler that has not answered when
 * on_end returns gets a 500.  methods lists the methods allowed ("GET
 * HEAD"): others get 405 with Allow before the handler sees them.
 *
 * on_body gets the body piece by piece as it arrives (nothing is
 * buffered: a large upload goes straight where the handler puts it).
 * A handler's answer given before a body over HTTP_DISCARD_MAX (or a chunked one)
 * is complete, an early refusal, closes the connection after it rather
 * than read the rest.  on_done, if set,
 * runs exactly once per exchange that reached on_request, however it
 * ended: after on_end, or when the connection or the request failed
 * mid-body (then the handler frees what it held, e.g. a partial file).
 */
struct http_handler {
	const char	*path;		/* exact match ("/xmpp-websocket") */
	const char	*methods;	/* space-separated */
	uint64_t	 max_body;	/* body bytes taken; 0: http_max_body_bytes */
	void	(*on_request)(struct http_exchange *x,
		    const struct http_request *req);
	void	(*on_body)(struct http_exchange *x, const char *data,
		    size_t len);
	void	(*on_end)(struct http_exchange *x);
	void	(*on_done)(struct http_exchange *x);
	int	 prefix;	/* 1: also every path under "path/" */
};

/* Register h (borrowed: static storage) at start.  0, or -1 when the
 * table (HTTP_MAX_HANDLERS) is full or the path is taken. */
int	http_register(const struct http_handler *h);
/* Forget every handler (server shutdown and tests). */
void	http_unregister_all(void);

/*
 * Answer the exchange: status, content type (NULL: no body headers),
 * extra header lines (NULL, or "Name: value\r\n..." ) and the body
 * (omitted for HEAD; Content-Length is always given).  Once per exchange.
 */
void	http_respond(struct http_exchange *x, int status, const char *ctype,
	    const char *extra_headers, const void *body, size_t len);
/*
 * Answer with len bytes of the open file fd from offset off as the body
 * (HEAD: none), streamed from disk as the connection's output drains, so
 * a large download never sits in memory.  fd is the exchange's from now
 * on (closed when the body is out or the connection goes).  Once per
 * exchange, instead of http_respond().
 */
void	http_respond_file(struct http_exchange *x, int status,
	    const char *ctype, const char *extra_headers, int fd, uint64_t off,
	    uint64_t len);
/* The handler's own state for this exchange (NULL at first); it frees
 * it in on_done. */
void	http_exchange_set_data(struct http_exchange *x, void *data);
void	*http_exchange_data(const struct http_exchange *x);
/* The connection the exchange is on (to ask the reactor about it). */
struct conn *http_exchange_conn(const struct http_exchange *x);
/* Keep the connection for another protocol after this response (the
 * WebSocket upgrade): no more HTTP is parsed on it. */
void	http_exchange_upgrade(struct http_exchange *x);

/* A new HTTP connection (server.c); caller frees with http_conn_free(). */
struct http_conn *http_conn_new(struct conn *c);
/*
 * Bytes from the peer.  Returns how many were used: fewer than len only
 * after an upgrade, when the rest belongs to the new protocol.
 */
size_t	http_conn_input(struct http_conn *h, const char *data, size_t len);
/* Has a request upgraded the connection (see http_exchange_upgrade)? */
int	http_conn_upgraded(const struct http_conn *h);
/* Is a response body being streamed (output wanted when writable)? */
int	http_conn_streaming(const struct http_conn *h);
/*
 * The connection's output has room: the next piece of a streamed body
 * is queued.  When the body is complete, input (held back meanwhile, so
 * pipelined requests wait their turn) resumes with conn_feed(); the
 * caller must not use h after this returns (an upgrade frees it).
 */
void	http_conn_writable(struct http_conn *h);
/* Once a second: the header and idle timeouts (slow clients). */
void	http_conn_tick(struct http_conn *h);
void	http_conn_free(struct http_conn *h);

#endif
