/*
 * server.c - listeners, signals, the epoll loop, timers and the
 * connection table (the command line is main.c).
 *
 * One level-triggered epoll loop.  A turn: wait for events (timeout = the
 * next 1 s tick), read and hand bytes to c2s, run the tick, make the turn's
 * store changes durable (store_flush), then write the queued output and
 * free the connections that finished closing.  Writing only after the
 * flush is what makes every acknowledgement follow its fsync.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "archive.h"
#include "buf.h"
#include "c2s.h"
#include "c2s_ws.h"
#include "config.h"
#include "control.h"
#include "httpd.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "muc.h"
#include "ns.h"
#include "pep.h"
#include "pubsub_service.h"
#include "ratelimit.h"
#include "roster.h"
#include "route.h"
#include "services.h"
#include "sm.h"
#include "store.h"
#include "tls.h"
#include "upload.h"
#include "upload_http.h"
#include "uxlimits.h"
#include "version.h"
#include "xml.h"

#define SERVER_MAX_EVENTS	256

enum ev_kind { EV_LISTENER, EV_CONN, EV_SIGNAL, EV_CONTROL };

struct listener {
	enum ev_kind	 kind;		/* EV_LISTENER; first: epoll data.ptr */
	int		 fd;
	int		 paused;	/* accept paused after EMFILE */
	int		 direct_tls;	/* XEP-0368: TLS from the first byte */
	int		 http;		/* http_listen, https_listen (TLS) */
	char		 addr[80];
};

struct conn {
	enum ev_kind	 kind;		/* EV_CONN; first: epoll data.ptr */
	int		 fd;
	unsigned long	 id;
	struct c2s	*c2s;		/* the XMPP stream, or NULL (HTTP) */
	struct http_conn *http;		/* an HTTP connection, or NULL */
	struct c2s_ws	*ws;		/* XMPP over WebSocket, or NULL */
	struct buf	 out;
	struct tls_conn	*tls;		/* NULL until STARTTLS or direct TLS */
	uint32_t	 events;	/* the epoll interest set */
	unsigned	 loopback:1;
	unsigned	 is_http:1;	/* accepted on an HTTP listener */
	unsigned	 starttls:1;	/* <proceed/> queued, TLS not started */
	unsigned	 hs_wantw:1;	/* handshake blocked on writing */
	unsigned	 closing:1;
	unsigned	 epollout:1;	/* EPOLLOUT in the interest set */
	unsigned	 dirty:1;	/* on the dirty list */
	unsigned	 on_close_list:1;
	unsigned	 input_paused:1;	/* conn_pause_input */
	unsigned	 after_change:1; /* output queued after an unflushed
					  * store change: may acknowledge it */
	unsigned	 held:1;	/* that change's flush failed: output
					 * waits until the store writes again */
	unsigned	 rate_paused:1;	/* a rate limit: no input until its time */
	unsigned	 rl_counted:1;	/* in ratelimit.c's per-address counts */
	unsigned	 rl_preauth:1;	/* counted, not yet authenticated */
	struct rl_addr	 addr;		/* the peer's */
	time_t		 close_deadline;
	struct conn	*prev, *next;	/* all connections */
	struct conn	*dirty_next;	/* output to write this turn */
	struct conn	*close_next;	/* closing, free when drained */
};

static struct {
	int		 epfd;
	int		 sigfd;
	enum ev_kind	 sig_kind;	/* epoll tag for sigfd */
	int		 ctlfd;		/* control socket (control.h), or -1 */
	enum ev_kind	 ctl_kind;	/* epoll tag for ctlfd */
	struct listener	 listeners[4 * CONFIG_MAX_LISTEN];
	int		 nlisteners;
	struct conn	*conns;
	size_t		 nconns;
	unsigned long	 mem_refused;	/* connections refused by the memory budget */
	time_t		 mem_refused_logged;
	struct conn	*dirty;
	struct conn	*closing;
	struct paused {			/* conn_pause_input_until, */
		struct conn	*c;	/* by no order: few at a time, and */
		int64_t		 resume_ms; /* idle conns pay nothing */
	}		*paused;
	size_t		 npaused, cappaused;
	unsigned long	 next_id;
	time_t		 started;
	time_t		 now;
	int64_t		 now_ms;	/* CLOCK_MONOTONIC, once per turn */
	time_t		 store_failed_since;	/* 0: the store is fine */
	time_t		 store_retried;		/* last flush tried while failing */
	int		 archive_failing;	/* its last sync failed */
	size_t		 nheld;			/* connections with held output */
	int		 stopping;
	time_t		 stop_deadline;
	const char	*config_path;
} srv;

/* ---- connection API for c2s (server.h) ---- */

void
conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->ws != NULL) {
		c2s_ws_output(c->ws, data, len);
		return;
	}
	conn_write_raw(c, data, len);
}

void
conn_write_raw(struct conn *c, const void *data, size_t len)
{
	if (c->fd < 0) {
		return;
	}
	buf_append(&c->out, data, len);
	if (c->out.err) {
		/* Past the cap: this client cannot keep up; drop it. */
		c->out.err = 0;
		if (!c->closing) {
			log_info("c2s %lu output over %zu bytes", c->id,
			    c->out.max);
			buf_reset(&c->out);
			if (c->c2s != NULL) {
				c2s_output_overflow(c->c2s);
			}
			conn_close(c, "output overflow");
		}
		return;
	}
	/* this turn's changes are not on disk yet: if their flush fails,
	 * this output must wait (it may acknowledge them) */
	if (store_pending() && store_writable()) {
		c->after_change = 1;
	}
	if (!c->dirty) {
		c->dirty = 1;
		c->dirty_next = srv.dirty;
		srv.dirty = c;
	}
}

void
conn_close(struct conn *c, const char *reason)
{
	struct epoll_event ev;

	if (c->closing) {
		return;
	}
	if (c->ws != NULL) {
		c2s_ws_closing(c->ws);	/* the WebSocket closing handshake */
	}
	log_debug("c2s %lu closing reason=%s", c->id, reason);
	c->closing = 1;
	c->close_deadline = srv.now + SERVER_CLOSE_GRACE_S;
	/* Stop reading: only the queued output matters now. */
	memset(&ev, 0, sizeof(ev));
	ev.events = c->epollout ? EPOLLOUT : 0;
	ev.data.ptr = c;
	if (epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
		c->events = ev.events;
	}
	if (!c->on_close_list) {
		c->on_close_list = 1;
		c->close_next = srv.closing;
		srv.closing = c;
	}
}

unsigned long
conn_id(const struct conn *c)
{
	return c->id;
}

int
conn_is_loopback(const struct conn *c)
{
	return c->loopback;
}

int
conn_is_encrypted(const struct conn *c)
{
	return c->tls != NULL && tls_conn_established(c->tls);
}

int
conn_tls_handshaking(const struct conn *c)
{
	return c->starttls || (c->tls != NULL && !tls_conn_established(c->tls));
}

int
conn_tls_available(const struct conn *c)
{
	/* no STARTTLS inside HTTP or WebSocket: https_listen is for TLS */
	return !c->is_http && c->tls == NULL && !c->starttls && tls_server_ready();
}

struct tls_conn *
conn_tls(const struct conn *c)
{
	return conn_is_encrypted(c) ? c->tls : NULL;
}

/*
 * STARTTLS (RFC 6120 §5.4.2.3): stop reading in the clear now; once the
 * queued output (ending with <proceed/>) is written, the TLS session
 * starts (conn_flush) and the handshake runs on the next events.
 */
int
conn_starttls(struct conn *c)
{
	if (!conn_tls_available(c) || c->closing) {
		return -1;
	}
	c->starttls = 1;
	return 0;
}

size_t
conn_pending(const struct conn *c)
{
	return c->out.len;
}

size_t
server_conn_count(void)
{
	return srv.nconns;
}

const struct rl_addr *
conn_addr(const struct conn *c)
{
	return &c->addr;
}

void
conn_authenticated(struct conn *c)
{
	if (c->rl_preauth) {
		c->rl_preauth = 0;
		ratelimit_conn_authenticated(&c->addr);
	}
}

int64_t
server_now_ms(void)
{
	return srv.now_ms;
}

static void conn_set_epollout(struct conn *c, int on);

/* The slot of paused connection c. */
static struct paused *
conn_paused_slot(const struct conn *c)
{
	size_t i;

	for (i = 0; i < srv.npaused; i++) {
		if (srv.paused[i].c == c) {
			return &srv.paused[i];
		}
	}
	return NULL;
}

/* See server.h. */
void
conn_pause_input_until(struct conn *c, int64_t resume_ms)
{
	struct paused *p;

	if (c->closing || c->fd < 0) {
		return;
	}
	if (resume_ms <= srv.now_ms) {
		resume_ms = srv.now_ms + 1;	/* never due in the same turn */
	}
	if (c->rate_paused) {
		p = conn_paused_slot(c);
		if (p != NULL && resume_ms > p->resume_ms) {
			p->resume_ms = resume_ms;
		}
		return;
	}
	if (srv.npaused == srv.cappaused) {
		srv.cappaused = srv.cappaused ? 2 * srv.cappaused : 16;
		srv.paused = xrealloc(srv.paused, srv.cappaused *
		    sizeof(*srv.paused));
	}
	srv.paused[srv.npaused].c = c;
	srv.paused[srv.npaused].resume_ms = resume_ms;
	srv.npaused++;
	c->rate_paused = 1;
	conn_set_epollout(c, c->epollout);
}

/* Off the paused list (resumed or freed). */
static void
conn_unpause(struct conn *c)
{
	struct paused *p = conn_paused_slot(c);

	if (p != NULL) {
		*p = srv.paused[--srv.npaused];
	}
	c->rate_paused = 0;
}

time_t
server_uptime(void)
{
	return srv.now - srv.started;
}

time_t
server_now(void)
{
	return srv.now;
}

/* ---- connections ---- */

/* Set the interest set: EPOLLOUT when asked, EPOLLIN unless closing,
 * paused (a rate limit) or between <proceed/> and the TLS session
 * (nothing is read in the clear after STARTTLS). */
static void
conn_set_epollout(struct conn *c, int on)
{
	struct epoll_event ev;
	uint32_t want;

	want = (c->closing || c->starttls || c->hs_wantw || c->input_paused ||
	    c->rate_paused ? 0 : EPOLLIN) |
	    (on ? EPOLLOUT : 0);
	if (want == c->events) {
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
		c->events = want;
		c->epollout = on;
	}
}

/* See server.h. */
void
conn_pause_input(struct conn *c, int pause)
{
	c->input_paused = pause != 0;
	conn_set_epollout(c, c->epollout);
}

/* Does the connection want EPOLLOUT: output queued, or a response body
 * to stream from disk once there is room? */
static int
conn_wants_output(const struct conn *c)
{
	return c->out.len > 0 || (c->http != NULL && !c->closing &&
	    http_conn_streaming(c->http));
}

/* The peer is gone (EOF, error): the stream learns of it. */
static void
conn_eof(struct conn *c)
{
	if (c->c2s != NULL) {
		c2s_eof(c->c2s);
	}
}

/*
 * Bytes from the peer to the connection's protocol.  The request that
 * upgrades an HTTP connection to WebSocket leaves the bytes after it to
 * the new XMPP stream.
 */
static void
conn_input(struct conn *c, const char *data, size_t len)
{
	conn_feed(c, data, len);
}

/* See server.h. */
void
conn_feed(struct conn *c, const char *data, size_t len)
{
	size_t used;

	if (c->http != NULL) {
		used = http_conn_input(c->http, data, len);
		if (!http_conn_upgraded(c->http)) {
			return;
		}
		http_conn_free(c->http);
		c->http = NULL;
		c->c2s = c2s_new(c);
		c->ws = c2s_ws_new(c, c->c2s);
		log_info("c2s %lu websocket", c->id);
		data += used;
		len -= used;
		if (len == 0) {
			return;
		}
	}
	if (c->ws != NULL) {
		c2s_ws_input(c->ws, data, len);
	} else {
		c2s_input(c->c2s, data, len);
	}
}

/* The only place a connection's memory and fd are released. */
static void
conn_free(struct conn *c)
{
	struct c2s *s = c->c2s;

	if (c->held) {
		srv.nheld--;
	}
	/* Unlink first: c2s_free may route presence to other connections. */
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		srv.conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	srv.nconns--;
	if (c->rate_paused) {
		conn_unpause(c);
	}
	if (c->rl_counted) {
		ratelimit_conn_close(&c->addr, c->rl_preauth);
	}
	c->c2s = NULL;
	if (s != NULL) {
		c2s_free(s);
	}
	c2s_ws_free(c->ws);
	c->ws = NULL;
	http_conn_free(c->http);
	c->http = NULL;
	if (c->tls != NULL) {
		tls_conn_close_notify(c->tls);
		tls_conn_free(c->tls);
		c->tls = NULL;
	}
	epoll_ctl(srv.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	log_debug("c2s %lu freed", c->id);
	buf_free(&c->out);
	free(c);
}

/*
 * Drive the TLS handshake.  0 once it is complete; -1 while it is in
 * progress (the interest set now says what it waits for) or when it
 * failed (the connection is closing: RFC 6120 §5.4.3.2, no stream close).
 */
static int
conn_handshake(struct conn *c)
{
	int rc = tls_conn_handshake(c->tls);

	/* Blocked on writing, the handshake must not be woken by input it
	 * cannot consume yet (level-triggered epoll would spin). */
	c->hs_wantw = rc == TLS_WANT_WRITE;
	if (rc == 0) {
		log_info("c2s %lu tls version=%s cipher=%s", c->id,
		    tls_conn_version(c->tls), tls_conn_cipher(c->tls));
		conn_set_epollout(c, conn_wants_output(c));
		return 0;
	}
	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
		conn_set_epollout(c, rc == TLS_WANT_WRITE);
		return -1;
	}
	log_info("c2s %lu tls handshake failed: %s", c->id,
	    tls_conn_error(c->tls));
	conn_eof(c);
	buf_reset(&c->out);
	conn_close(c, "tls handshake failed");
	return -1;
}

/* conn_flush over TLS.  -1 if the session failed. */
static int
conn_flush_tls(struct conn *c)
{
	size_t done = 0;
	int n;

	if (!tls_conn_established(c->tls) &&
	    (c->closing || conn_handshake(c) != 0)) {
		return 0;
	}
	while (c->out.len > 0 && done < SERVER_MAX_WRITE_PER_TURN) {
		n = tls_conn_write(c->tls, c->out.data, c->out.len);
		if (n == TLS_WANT_WRITE) {
			break;
		}
		if (n == TLS_WANT_READ) {
			return 0;	/* EPOLLIN is in the set unless closing */
		}
		if (n < 0) {
			log_debug("c2s %lu tls write: %s", c->id,
			    tls_conn_error(c->tls));
			return -1;
		}
		buf_consume(&c->out, (size_t)n);
		done += (size_t)n;
	}
	if (c->out.len == 0) {
		buf_free(&c->out);
	}
	conn_set_epollout(c, conn_wants_output(c));
	return 0;
}

/* Write what is queued, up to the per-turn cap.  -1 if the socket failed. */
static int
conn_flush(struct conn *c)
{
	size_t done = 0;
	ssize_t n;

	if (c->tls != NULL) {
		return conn_flush_tls(c);
	}
	while (c->out.len > 0 && done < SERVER_MAX_WRITE_PER_TURN) {
		n = write(c->fd, c->out.data, c->out.len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				break;
			}
			log_debug("c2s %lu write: %s", c->id, strerror(errno));
			return -1;
		}
		buf_consume(&c->out, (size_t)n);
		done += (size_t)n;
	}
	if (c->out.len == 0) {
		/* Idle connections hold no output buffer. */
		buf_free(&c->out);
		if (c->starttls && !c->closing) {
			/* <proceed/> is out: the next byte is TLS. */
			c->tls = tls_conn_new_server(c->fd);
			c->starttls = 0;
			if (c->tls == NULL) {
				log_err("c2s %lu cannot start TLS", c->id);
				conn_eof(c);
				conn_close(c, "tls setup failed");
				return 0;
			}
		}
	}
	conn_set_epollout(c, conn_wants_output(c));
	return 0;
}

/*
 * conn_read over TLS: run the handshake, then decrypt and hand over
 * records.  Bytes mbedTLS already holds are drained before going back to
 * epoll, which cannot see them.
 */
static void
conn_read_tls(struct conn *c)
{
	char chunk[SERVER_READ_CHUNK];
	size_t total = 0;
	int n;

	if (!tls_conn_established(c->tls) && conn_handshake(c) != 0) {
		return;
	}
	while (!c->closing && !c->input_paused && !c->rate_paused) {
		if (total >= SERVER_MAX_READ_PER_EVENT &&
		    tls_conn_pending(c->tls) == 0) {
			return;
		}
		n = tls_conn_read(c->tls, chunk, sizeof(chunk));
		if (n == TLS_WANT_READ) {
			return;
		}
		if (n == TLS_WANT_WRITE) {
			conn_set_epollout(c, 1);
			return;
		}
		if (n <= 0) {
			if (n < 0) {
				log_info("c2s %lu tls read: %s", c->id,
				    tls_conn_error(c->tls));
			}
			conn_eof(c);
			conn_close(c, n == 0 ? "eof" : "tls error");
			return;
		}
		total += (size_t)n;
		conn_input(c, chunk, (size_t)n);
	}
}

static void
conn_read(struct conn *c)
{
	char chunk[SERVER_READ_CHUNK];
	size_t total = 0;
	ssize_t n;

	if (c->tls != NULL) {
		conn_read_tls(c);
		return;
	}
	/* After STARTTLS nothing more is read in the clear (RFC 6120
	 * §5.4.3.3: data sent before TLS took effect is discarded). */
	while (!c->closing && !c->starttls && !c->input_paused &&
	    !c->rate_paused &&
	    total < SERVER_MAX_READ_PER_EVENT) {
		n = read(c->fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return;
			}
			log_debug("c2s %lu read: %s", c->id, strerror(errno));
			conn_eof(c);
			conn_close(c, "read error");
			return;
		}
		if (n == 0) {
			conn_eof(c);
			conn_close(c, "eof");
			return;
		}
		total += (size_t)n;
		conn_input(c, chunk, (size_t)n);
		if ((size_t)n < sizeof(chunk)) {
			return;
		}
	}
}

static int
addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
			return 1;
		}
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			return in6->sin6_addr.s6_addr[12] == 127;
		}
	}
	return 0;
}

static void
addr_from_sockaddr(struct rl_addr *a, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		rl_addr_set(a, &in->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		rl_addr_set(a, &in6->sin6_addr, 16);
	} else {
		memset(a, 0, sizeof(*a));
	}
}

/*
 * A connection over a per-address limit: logged (at most a line a second
 * per address, with the count of those not logged) and closed.  On an XMPP listener in the clear it first gets a stream
 * header and <policy-violation/> (RFC 6120 §4.9.1.2: errors during setup
 * follow our header; §4.9.3.14), as Prosody's limits answer, so a real
 * client can tell the user why; TLS and HTTP listeners just close.
 */
static void
listener_refuse(const struct listener *l, int fd, const struct rl_addr *a,
    enum rl_verdict v)
{
	char ip[64], drain[4096];
	struct buf b;
	const char *dom = config_get()->domain;
	unsigned unlogged;

	if (ratelimit_refusal_log(a, v, srv.now_ms, &unlogged)) {
		rl_addr_format(a, ip, sizeof(ip));
		log_info("refusing connection ip=%s on=%s limit=%s "
		    "unlogged=%u", ip, l->addr, ratelimit_verdict_name(v),
		    unlogged);
	}
	if (!l->direct_tls && !l->http) {
		buf_init(&b, 0);
		buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='"
		    XML_NS_CLIENT "' xmlns:stream='" XML_NS_STREAM
		    "' from='");
		xml_escape(&b, dom, strlen(dom), 1);
		buf_puts(&b, "' version='1.0'><stream:error><policy-violation "
		    "xmlns='" NS_STREAMS "'/><text xmlns='" NS_STREAMS
		    "'>Too many connections from your address</text>"
		    "</stream:error></stream:stream>");
		/* unread input would turn our close into a reset that can
		 * discard the error before the client reads it */
		while (read(fd, drain, sizeof(drain)) > 0) {
			;
		}
		if (write(fd, b.data, b.len) < 0) {
			log_debug("refusal not written: %s", strerror(errno));
		}
		buf_free(&b);
	}
	close(fd);
}

static void
listener_pause(struct listener *l, int pause)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = pause ? 0 : EPOLLIN;
	ev.data.ptr = l;
	epoll_ctl(srv.epfd, EPOLL_CTL_MOD, l->fd, &ev);
	l->paused = pause;
}

/*
 * Near the memory budget a new client stream's header gets ours and
 * <resource-constraint/> (RFC 6120 §4.9.3.17: the server lacks the
 * resources to service the stream); direct TLS (no XML before the
 * handshake) and HTTP are just closed.  One log line a second at most.
 */
static void
mem_refuse(struct conn *c)
{
	srv.mem_refused++;
	if (srv.now != srv.mem_refused_logged) {
		log_warn("memory budget: %zu of %zu bytes in use; refusing "
		    "new connections (%lu so far)", mem_used_bytes(),
		    mem_budget(), srv.mem_refused);
		srv.mem_refused_logged = srv.now;
	}
	if (c->c2s != NULL && c->tls == NULL) {
		c2s_refuse(c->c2s, "resource-constraint",
		    "Server memory budget reached");
	} else {
		conn_eof(c);
		conn_close(c, "memory budget");
	}
}

/*
 * Over the memory budget: close the slow readers with the most output
 * queued, dropping that output at once, until what they held would bring
 * the use back below MEM_NEAR_PERCENT (the rest is freed with them).
 * Connections with little queued are left alone: they are not what
 * fills memory.
 */
static void
mem_trim(void)
{
	size_t used = mem_used_bytes(), goal, freed = 0;
	int n;

	goal = mem_budget() / 100 * MEM_NEAR_PERCENT;
	for (n = 0; n < MEM_TRIM_PER_TURN && used > goal + freed; n++) {
		struct conn *c, *big = NULL;

		for (c = srv.conns; c != NULL; c = c->next) {
			if (!c->closing && c->out.len >= MEM_TRIM_MIN_QUEUED &&
			    (big == NULL || c->out.len > big->out.len)) {
				big = c;
			}
		}
		if (big == NULL) {
			break;
		}
		log_warn("c2s %lu memory budget: %zu of %zu bytes in use; "
		    "closing it with %zu bytes queued", big->id, used,
		    mem_budget(), big->out.len);
		freed += big->out.cap;
		buf_free(&big->out);
		if (big->c2s != NULL) {
			c2s_stream_error_app(big->c2s, "resource-constraint",
			    NULL, "Server memory budget: output dropped");
		}
		conn_close(big, "memory budget");
	}
}

static void
listener_accept(struct listener *l)
{
	const struct config *cfg = config_get();
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct epoll_event ev;
	struct conn *c;
	struct rl_addr addr;
	enum rl_verdict v;
	int fd, one = 1, counted;

	for (;;) {
		sslen = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop accepting until the
				 * next tick rather than spin on a ready fd. */
				log_warn("accept on %s: %s; pausing", l->addr,
				    strerror(errno));
				listener_pause(l, 1);
			}
			return;
		}
		if (srv.stopping || srv.nconns >= cfg->max_clients) {
			log_warn("refusing connection: %s",
			    srv.stopping ? "shutting down" : "max_clients");
			close(fd);
			continue;
		}
		addr_from_sockaddr(&addr, &ss);
		v = ratelimit_conn_open(&addr, &counted);
		if (v != RL_OK) {
			listener_refuse(l, fd, &addr, v);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = xcalloc(1, sizeof(*c));
		c->kind = EV_CONN;
		c->fd = fd;
		c->id = ++srv.next_id;
		c->addr = addr;
		c->rl_counted = c->rl_preauth = counted ? 1 : 0;
		c->loopback = addr_is_loopback(&ss);
		buf_init(&c->out, cfg->max_output_bytes);
		c->events = EPOLLIN;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			log_warn_errno("epoll_ctl");
			if (c->rl_counted) {
				ratelimit_conn_close(&c->addr, 1);
			}
			close(fd);
			free(c);
			continue;
		}
		c->next = srv.conns;
		if (srv.conns != NULL) {
			srv.conns->prev = c;
		}
		srv.conns = c;
		srv.nconns++;
		log_debug("c2s %lu accepted on %s loopback=%d tls=%d", c->id,
		    l->addr, c->loopback, l->direct_tls);
		if (l->http) {
			c->is_http = 1;
			c->http = http_conn_new(c);
		} else {
			c->c2s = c2s_new(c);
		}
		if (l->direct_tls && (c->tls = tls_conn_new_server(fd)) ==
		    NULL) {
			log_err("c2s %lu cannot start TLS", c->id);
			conn_eof(c);
			conn_close(c, "tls setup failed");
		} else if (mem_state() != MEM_OK) {
			mem_refuse(c);
		}
	}
}

/* Parse "ADDRESS:PORT" ("[::1]:5222" for IPv6) and listen on it. */
static int
listener_open(struct listener *l, const char *spec)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (void *)&ss;
	struct sockaddr_in6 *in6 = (void *)&ss;
	char host[80];
	const char *colon = strrchr(spec, ':');
	size_t hlen;
	long port;
	char *end;
	int fd, one = 1;
	socklen_t sslen;
	struct epoll_event ev;

	if (colon == NULL) {
		return -1;
	}
	hlen = (size_t)(colon - spec);
	if (hlen >= sizeof(host)) {
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535) {
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1) {
			return -1;
		}
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		sslen = sizeof(*in6);
	} else {
		if (strcmp(host, "*") == 0 || host[0] == '\0') {
			snprintf(host, sizeof(host), "0.0.0.0");
		}
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
			return -1;
		}
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		sslen = sizeof(*in);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::]:5222 beside 0.0.0.0:5222: each family its own socket */
	if (ss.ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
	    listen(fd, 1024) != 0) {
		close(fd);
		return -1;
	}
	l->kind = EV_LISTENER;
	l->fd = fd;
	snprintf(l->addr, sizeof(l->addr), "%s", spec);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = l;
	if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	return 0;
}

/* ---- TLS certificates ---- */

/* See server.h. */
void
server_cert_paths(char *cert, char *key, size_t cap)
{
	const char *dir = config_get()->data_dir;

	snprintf(cert, cap, "%s/tls-cert.pem", dir);
	snprintf(key, cap, "%s/tls-key.pem", dir);
}

/* See server.h. */
int
server_cert_generate(const char *cert, const char *key, char *fpr,
    char *err, size_t errlen)
{
	const struct config *cfg = config_get();
	const char *names[2];

	names[0] = cfg->domain;
	names[1] = cfg->muc_domain;
	return tls_cert_generate(cert, key, names,
	    strcmp(cfg->domain, cfg->muc_domain) == 0 ? 1 : 2, fpr, err,
	    errlen);
}

/*
 * Load the configured certificate (cert/key), or else the generated one
 * in data_dir, making it at first start.  At start and on SIGHUP; on
 * failure the certificate in force stays.  0, or -1 (logged).
 */
static int
server_tls_load(void)
{
	const struct config *cfg = config_get();
	char cert[600], key[600], fpr[TLS_FINGERPRINT_LEN], err[800];

	if (cfg->tls_cert[0] != '\0') {
		snprintf(cert, sizeof(cert), "%s", cfg->tls_cert);
		snprintf(key, sizeof(key), "%s", cfg->tls_key);
	} else {
		server_cert_paths(cert, key, sizeof(cert));
		if (access(cert, F_OK) != 0 || access(key, F_OK) != 0) {
			if (server_cert_generate(cert, key, fpr, err,
			    sizeof(err)) != 0) {
				log_err("cannot generate a certificate: %s",
				    err);
				return -1;
			}
			log_info("generated a self-signed certificate %s",
			    cert);
		}
	}
	if (tls_server_load(cert, key, err, sizeof(err)) != 0) {
		log_err("TLS certificate not loaded: %s", err);
		return -1;
	}
	log_info("TLS certificate %s sha256 fingerprint %s", cert,
	    tls_server_fingerprint());
	return 0;
}

/* ---- rate limits ---- */

/* The per-address limits of the configuration in force (at start and on
 * SIGHUP; the counts held stay). */
static void
server_limits_configure(void)
{
	const struct config *cfg = config_get();
	struct rl_limits l;

	memset(&l, 0, sizeof(l));
	l.conns_per_ip = cfg->max_connections_per_ip;
	l.conns_per_ipv6_64 = cfg->max_connections_per_ipv6_64;
	l.preauth_per_ip = cfg->max_preauth_per_ip;
	l.auth_failures_per_min = cfg->max_auth_failures_per_ip;
	l.exempt = cfg->limits_exempt;
	l.nexempt = (size_t)cfg->limits_exempt_count;
	ratelimit_configure(&l);
}

/* ---- signals ---- */

static void
server_reload(void)
{
	char err[600];
	enum log_level level;

	/* first, so what follows lands in the new file after a rotation */
	log_reopen();
	if (config_load(srv.config_path, err, sizeof(err)) != 0) {
		log_err("reload failed, keeping the old configuration: %s",
		    err);
	} else {
		if (log_level_parse(config_get()->log_level, &level) == 0) {
			log_set_level(level);
		}
		server_limits_configure();
		log_info("configuration reloaded (listeners and data_dir "
		    "take effect at restart)");
	}
	/* New sessions get the new certificate; open ones keep theirs. */
	server_tls_load();
}

static void
server_begin_shutdown(void)
{
	struct conn *c;

	if (srv.stopping) {
		return;
	}
	log_info("shutting down: %zu connections", srv.nconns);
	srv.stopping = 1;
	srv.stop_deadline = srv.now + SERVER_SHUTDOWN_GRACE_S;
	/* occupants learn why they leave (status 332) before the streams
	 * close */
	muc_announce_shutdown();
	for (c = srv.conns; c != NULL; c = c->next) {
		if (c->closing) {
			continue;
		}
		if (c->c2s != NULL) {
			c2s_shutdown(c->c2s);
		} else {
			conn_close(c, "shutdown");
		}
	}
}

static void
server_signal(void)
{
	struct signalfd_siginfo si;

	while (read(srv.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			server_reload();
			break;
		case SIGTERM:
		case SIGINT:
			server_begin_shutdown();
			break;
		default:
			break;
		}
	}
}

/* ---- the control socket ---- */

/* The server's resident set size in KiB (Linux /proc), or -1. */
static long
server_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *fp = fopen("/proc/self/status", "r");

	if (fp == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(fp);
	return kb;
}

/*
 * The answer to the control request "status" (`uxmppd status`): "ok",
 * then one "name: value" line each, written to out (truncated to cap).
 */
static void
server_status(char *out, size_t cap)
{
	struct store_stats st;
	struct buf b;
	const struct conn *c;
	size_t tls = 0, plain = 0, http = 0;
	time_t up = server_uptime();
	int i;

	for (c = srv.conns; c != NULL; c = c->next) {
		if (c->c2s == NULL || c->ws != NULL) {
			http++;
		} else if (c->tls != NULL) {
			tls++;
		} else {
			plain++;
		}
	}
	store_get_stats(&st);
	buf_init(&b, cap - 1);
	buf_printf(&b, "ok\nversion: uxmppd %s\n", UXMPPD_VERSION);
	buf_printf(&b, "domain: %s\n", config_get()->domain);
	buf_printf(&b, "uptime: %lldd %02lld:%02lld:%02lld (%lld s)\n",
	    (long long)up / 86400, (long long)up / 3600 % 24,
	    (long long)up / 60 % 60, (long long)up % 60, (long long)up);
	buf_printf(&b, "connections: %zu (XMPP over TLS %zu, plain %zu, "
	    "HTTP and WebSocket %zu)\n", server_conn_count(), tls, plain,
	    http);
	buf_printf(&b, "sessions: %zu\n", route_session_count());
	buf_printf(&b, "rooms: %zu (occupants %zu)\n", muc_room_count(),
	    muc_occupant_count());
	buf_printf(&b, "accounts: %zu\n", account_count());
	buf_printf(&b, "store: %llu bytes in %s/store.log%s\n",
	    (unsigned long long)st.file_bytes, config_get()->data_dir,
	    store_writable() ? "" : " (refusing changes: see the log)");
	buf_printf(&b, "memory: RSS %ld KiB\n", server_rss_kb());
	for (i = 0; i < srv.nlisteners; i++) {
		const struct listener *l = &srv.listeners[i];

		buf_printf(&b, "listener: %s %s%s\n", l->http ? (l->direct_tls ?
		    "https" : "http") : (l->direct_tls ? "c2s-direct-tls" :
		    "c2s"), l->addr, l->paused ? " (accept paused)" : "");
	}
	snprintf(out, cap, "%s", b.err || b.data == NULL ? "error status "
	    "too long\n" : b.data);
	buf_free(&b);
}

/*
 * One administration request (control.h): a local client of the server's
 * own user, so a short blocking read is acceptable; the timeout bounds
 * how long a silent one can hold the loop.
 */
static void
server_control(void)
{
	struct timeval tv = { 0, 200 * 1000 };
	char req[CONTROL_MAX_REQUEST + 1], reply[CONTROL_MAX_REPLY];
	size_t len = 0;
	ssize_t n;
	int fd, flags;

	while ((fd = accept4(srv.ctlfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		len = 0;
		while (len < CONTROL_MAX_REQUEST &&
		    memchr(req, '\n', len) == NULL) {
			n = read(fd, req + len, CONTROL_MAX_REQUEST - len);
			if (n <= 0) {
				break;
			}
			len += (size_t)n;
		}
		req[len] = '\0';
		if (strncmp(req, "status\t", 7) == 0) {
			server_status(reply, sizeof(reply));
		} else if (memchr(req, '\n', len) != NULL) {
			control_execute(req, reply, sizeof(reply));
		} else {
			snprintf(reply, sizeof(reply), "error incomplete "
			    "request\n");
		}
		tls_zeroize(req, sizeof(req));
		if (write(fd, reply, strlen(reply)) < 0) {
			log_debug("control: reply lost: %s", strerror(errno));
		}
		close(fd);
	}
}

/* ---- the loop ---- */

/*
 * Make the turn's store changes durable.  0; -1 when the store failed,
 * -2 when the archives could not be synced.
 *
 * A write that fails (ENOSPC, EIO) keeps the records queued and makes the
 * store refuse new changes (clients get resource-constraint); only the
 * output that may acknowledge the queued records is held (conn
 * after_change), everyone else's is written, and the write is tried again
 * once a second until it works, which releases the held output.  A store
 * disabled for good (a failed fdatasync) can never make those changes
 * durable: after SERVER_STORE_FAIL_S the server stops rather than run
 * with memory that is not on disk.  A failed archive sync (a write that
 * failed was never archived) holds all of the turn's output, as any of
 * it may carry a stanza-id; the same SERVER_STORE_FAIL_S applies.
 */
static int
server_store_flush(void)
{
	int ar, sr;

	/* while failing, no new change is accepted: retry once a second
	 * (each failed write is a log line) */
	if (srv.store_failed_since != 0 && srv.store_retried == srv.now) {
		return srv.archive_failing ? -2 : -1;
	}
	/* archive appends too: a delivered message is in the archive */
	ar = archive_flush();
	sr = store_flush();
	if (ar == 0 && sr == 0) {
		if (srv.store_failed_since != 0) {
			log_info("store writable again after %lld s; %zu "
			    "held connections resume",
			    (long long)(srv.now - srv.store_failed_since),
			    srv.nheld);
		}
		srv.store_failed_since = 0;
		return 0;
	}
	srv.store_retried = srv.now;
	srv.archive_failing = ar != 0;
	if (srv.store_failed_since == 0) {
		srv.store_failed_since = srv.now;
		log_err("store flush failed; changes refused, their replies "
		    "held until the store writes again");
	} else if ((sr == -2 || ar != 0) &&
	    srv.now - srv.store_failed_since >= SERVER_STORE_FAIL_S) {
		fatal("store %s for %d s; stopping without acknowledging "
		    "unsaved changes", sr == -2 ? "disabled" :
		    "archives failing", SERVER_STORE_FAIL_S);
	}
	return ar != 0 ? -2 : -1;
}

/* Write c's queued output unless it is held.  -1 if the socket failed. */
static int
conn_flush_unheld(struct conn *c)
{
	return c->held ? 0 : conn_flush(c);
}

/* After a flush: on success release every held connection onto the dirty
 * list; on failure hold those whose output may acknowledge the changes
 * that were not written.  Either way no output is "after a change" any
 * more: no new change is accepted until a flush succeeds. */
static void
server_hold_or_release(int flush_rc)
{
	struct conn *c;

	for (c = flush_rc == 0 && srv.nheld > 0 ? srv.conns : srv.dirty;
	    c != NULL; c = flush_rc == 0 && srv.nheld > 0 ? c->next :
	    c->dirty_next) {
		if (flush_rc == 0 && c->held) {
			c->held = 0;
			srv.nheld--;
			if (!c->dirty) {
				c->dirty = 1;
				c->dirty_next = srv.dirty;
				srv.dirty = c;
			}
		} else if (flush_rc != 0 && (c->after_change ||
		    flush_rc == -2) && !c->held) {
			c->held = 1;
			srv.nheld++;
		}
		c->after_change = 0;
	}
}

static void
server_end_turn(void)
{
	struct conn *c, *next, *keep;

	/* Group commit: the turn's changes are durable before any reply
	 * that may acknowledge them. */
	server_hold_or_release(server_store_flush());
	while (srv.dirty != NULL) {
		c = srv.dirty;
		srv.dirty = c->dirty_next;
		c->dirty = 0;
		if (c->fd >= 0 && conn_flush_unheld(c) != 0 && !c->closing) {
			conn_eof(c);
			conn_close(c, "write error");
		}
	}
	/* Free closed connections whose output drained (or timed out).
	 * conn_free can close others, so loop until nothing is freeable. */
	for (;;) {
		int freed = 0;

		c = srv.closing;
		srv.closing = NULL;
		keep = NULL;
		for (; c != NULL; c = next) {
			next = c->close_next;
			if (c->out.len == 0 || srv.now >= c->close_deadline ||
			    srv.stopping) {
				/* held output goes unsent: it acknowledged
				 * what is not on disk */
				if (c->out.len > 0) {
					conn_flush_unheld(c);
				}
				conn_free(c);
				freed = 1;
			} else {
				c->close_next = keep;
				keep = c;
			}
		}
		/* conn_free may have queued new closes onto srv.closing. */
		for (c = keep; c != NULL; c = next) {
			next = c->close_next;
			c->close_next = srv.closing;
			srv.closing = c;
		}
		if (!freed) {
			break;
		}
		if (srv.dirty != NULL) {
			/* presence from freed sessions: write it now */
			server_hold_or_release(server_store_flush());
			while (srv.dirty != NULL) {
				c = srv.dirty;
				srv.dirty = c->dirty_next;
				c->dirty = 0;
				if (c->fd >= 0) {
					conn_flush_unheld(c);
				}
			}
		}
	}
}

/*
 * Resume the connections whose pause is over: reading again, and their
 * stream takes what it held back (it may pause again).  Bytes mbedTLS
 * already decrypted are invisible to epoll, so they are read here.
 */
static void
server_resume_due(void)
{
	struct conn *c;
	size_t i = 0;

	/* one at a time: c2s_resume may pause others, or close them */
	while (i < srv.npaused) {
		if (srv.paused[i].resume_ms > srv.now_ms) {
			i++;
			continue;
		}
		c = srv.paused[i].c;
		conn_unpause(c);	/* slot i now holds another: no i++ */
		if (c->closing) {
			continue;
		}
		conn_set_epollout(c, c->epollout);
		if (c->c2s != NULL) {
			c2s_resume(c->c2s);
		}
		if (!c->rate_paused && !c->closing && c->tls != NULL &&
		    tls_conn_established(c->tls) &&
		    tls_conn_pending(c->tls) > 0) {
			conn_read(c);
		}
	}
}

/* Milliseconds until the first paused connection is due, or -1. */
static int
server_resume_in_ms(void)
{
	int64_t first = -1;
	size_t i;

	for (i = 0; i < srv.npaused; i++) {
		if (first < 0 || srv.paused[i].resume_ms < first) {
			first = srv.paused[i].resume_ms;
		}
	}
	if (first < 0) {
		return -1;
	}
	return first <= srv.now_ms ? 0 : (int)(first - srv.now_ms);
}

static void
server_tick(void)
{
	struct conn *c;
	int i;

	for (i = 0; i < srv.nlisteners; i++) {
		if (srv.listeners[i].paused) {
			listener_pause(&srv.listeners[i], 0);
		}
	}
	for (c = srv.conns; c != NULL; c = c->next) {
		if (c->closing) {
			continue;
		}
		if (c->http != NULL) {
			http_conn_tick(c->http);
		} else {
			c2s_tick(c->c2s);
		}
	}
	sm_tick(srv.now);	/* XEP-0198 resumption windows */
	ratelimit_expire(srv.now_ms);
	archive_compact_step((int64_t)srv.now * 1000000);	/* retention */
	upload_tick(srv.now);	/* expired files and slots */
}

/* The HTTP listeners (TLS on https_listen, with the c2s certificate). */
static void
server_listen_http(const char specs[][80], int n, int tls)
{
	int i;

	for (i = 0; i < n; i++) {
		struct listener *l = &srv.listeners[srv.nlisteners];

		if (listener_open(l, specs[i]) != 0) {
			fatal("cannot listen on %s: %s", specs[i],
			    strerror(errno));
		}
		l->http = 1;
		l->direct_tls = tls;
		srv.nlisteners++;
		log_info("listening for HTTP%s on %s", tls ? "S" : "",
		    specs[i]);
	}
}

/* The epoll set: signals, the control socket and the listeners. */
static void
server_setup(void)
{
	const struct config *cfg = config_get();
	struct epoll_event ev;
	sigset_t mask;
	int i;

	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv.epfd < 0) {
		fatal("epoll_create1: %s", strerror(errno));
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* past RLIMIT_FSIZE a write fails with EFBIG (an upload gets 503,
	 * a store write its error) instead of killing the server */
	signal(SIGXFSZ, SIG_IGN);
	srv.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv.sigfd < 0) {
		fatal("signalfd: %s", strerror(errno));
	}
	srv.sig_kind = EV_SIGNAL;
	srv.ctl_kind = EV_CONTROL;
	srv.ctlfd = control_listen(config_get()->data_dir);
	if (srv.ctlfd >= 0) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &srv.ctl_kind;
		epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.ctlfd, &ev);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &srv.sig_kind;
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.sigfd, &ev);

	for (i = 0; i < cfg->c2s_listen_count; i++) {
		if (listener_open(&srv.listeners[i], cfg->c2s_listen[i]) != 0) {
			fatal("cannot listen on %s: %s", cfg->c2s_listen[i],
			    strerror(errno));
		}
		srv.nlisteners++;
		log_info("listening for clients on %s", cfg->c2s_listen[i]);
	}
	for (i = 0; i < cfg->c2s_direct_tls_listen_count; i++) {
		struct listener *l = &srv.listeners[srv.nlisteners];

		if (listener_open(l, cfg->c2s_direct_tls_listen[i]) != 0) {
			fatal("cannot listen on %s: %s",
			    cfg->c2s_direct_tls_listen[i], strerror(errno));
		}
		l->direct_tls = 1;
		srv.nlisteners++;
		log_info("listening for clients (direct TLS) on %s",
		    cfg->c2s_direct_tls_listen[i]);
	}
	server_listen_http(cfg->http_listen, cfg->http_listen_count, 0);
	server_listen_http(cfg->https_listen, cfg->https_listen_count, 1);
	log_info("uxmppd started: domain %s, MUC %s", cfg->domain,
	    cfg->muc_domain);
}

/*
 * An HTTP connection can write: the next piece of a streamed body.  When
 * that ends the stream, held-back input resumes; bytes mbedTLS already
 * decrypted are not seen by epoll, so they are read now.
 */
static void
server_http_writable(struct conn *c)
{
	http_conn_writable(c->http);
	if (c->http != NULL && !c->closing && !c->input_paused &&
	    c->tls != NULL && tls_conn_pending(c->tls) > 0) {
		conn_read(c);
	}
}

/* One epoll turn after another until a SIGTERM's connections are gone. */
static void
server_loop(void)
{
	struct epoll_event events[SERVER_MAX_EVENTS];
	struct timespec ts;
	time_t last_tick;
	int i, n, timeout_ms, due_ms;

	last_tick = srv.now;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		timeout_ms = 1000 - (int)(ts.tv_nsec / 1000000);
		/* batch syncs and compaction steps are due without events */
		due_ms = store_flush_due_ms();
		/* a failing store is retried at the second's tick */
		if (due_ms >= 0 && due_ms < timeout_ms &&
		    srv.store_failed_since == 0) {
			timeout_ms = due_ms;
		}
		if (srv.stopping) {
			timeout_ms = timeout_ms < 50 ? timeout_ms : 50;
		}
		due_ms = server_resume_in_ms();
		if (due_ms >= 0 && due_ms < timeout_ms) {
			timeout_ms = due_ms;
		}
		n = epoll_wait(srv.epfd, events, SERVER_MAX_EVENTS,
		    timeout_ms);
		if (n < 0 && errno != EINTR) {
			fatal("epoll_wait: %s", strerror(errno));
		}
		srv.now = time(NULL);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		srv.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		for (i = 0; i < n; i++) {
			enum ev_kind *kind = events[i].data.ptr;
			struct conn *c;

			if (*kind == EV_SIGNAL) {
				server_signal();
			} else if (*kind == EV_CONTROL) {
				server_control();
			} else if (*kind == EV_LISTENER) {
				listener_accept((struct listener *)(void *)kind);
			} else {
				c = (struct conn *)(void *)kind;
				if (c->fd < 0) {
					continue;
				}
				if ((events[i].events & (EPOLLHUP | EPOLLERR)) &&
				    c->rate_paused && !c->closing) {
					/* gone while paused: nothing to read */
					conn_eof(c);
					conn_close(c, "eof");
				} else if ((events[i].events & (EPOLLIN |
				    EPOLLHUP | EPOLLERR)) && !c->closing &&
				    !c->rate_paused) {
					conn_read(c);
				}
				if ((events[i].events & EPOLLOUT) &&
				    c->http != NULL && !c->closing) {
					server_http_writable(c);
				}
				if ((events[i].events & EPOLLOUT) &&
				    !c->dirty) {
					c->dirty = 1;
					c->dirty_next = srv.dirty;
					srv.dirty = c;
				}
				if ((events[i].events & (EPOLLHUP |
				    EPOLLERR)) && c->closing) {
					c->close_deadline = srv.now;
				}
			}
		}
		server_resume_due();
		if (srv.now != last_tick) {
			last_tick = srv.now;
			server_tick();
		}
		/* every turn: a flood fills memory faster than a second
		 * (mem_state() measures at most every 10 ms) */
		if (mem_state() == MEM_OVER) {
			mem_trim();
		}
		server_end_turn();
		if (srv.stopping && (srv.nconns == 0 ||
		    srv.now >= srv.stop_deadline)) {
			break;
		}
	}
}

/* Close everything, with the store flushed last. */
static void
server_teardown(void)
{
	int i;

	while (srv.conns != NULL) {
		conn_free(srv.conns);
	}
	for (i = 0; i < srv.nlisteners; i++) {
		close(srv.listeners[i].fd);
	}
	if (srv.ctlfd >= 0) {
		char path[600];

		close(srv.ctlfd);
		if (control_path(config_get()->data_dir, path,
		    sizeof(path)) == 0) {
			unlink(path);
		}
	}
	sm_shutdown();	/* hibernating sessions end: unacked to offline */
	muc_shutdown();
	roster_cache_clear();
	pep_shutdown();
	upload_shutdown();
	archive_close();
	store_flush();
	store_close();
	tls_server_shutdown();
	ratelimit_reset();
	free(srv.paused);
	close(srv.sigfd);
	close(srv.epfd);
	log_info("stopped");
}

/* See server.h. */
int
server_main(const char *config_path)
{
	const struct config *cfg = config_get();
	enum log_level level;
	enum store_sync sync;
	char err[600];

	srv.config_path = config_path;
	if (log_level_parse(cfg->log_level, &level) != 0) {
		level = LOG_LEVEL_INFO;
	}
	if (log_open(cfg->log_file, level) != 0) {
		fprintf(stderr, "uxmppd: cannot open log %s: %s\n",
		    cfg->log_file, strerror(errno));
		return 1;
	}
	srv.now = srv.started = time(NULL);
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		srv.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	server_limits_configure();
	if (store_sync_parse(cfg->store_sync, &sync) != 0) {
		sync = STORE_SYNC_ALWAYS;	/* config.c validated it */
	}
	if (store_open(cfg->data_dir, sync,
	    cfg->store_batch_ms, err, sizeof(err)) != 0) {
		fatal("%s", err);
	}
	if (archive_open(cfg->data_dir,
	    sync != STORE_SYNC_NONE ? ARCHIVE_SYNC : 0,
	    cfg->archive_expires_days, cfg->archive_max_messages, err,
	    sizeof(err)) != 0) {
		fatal("%s", err);
	}
	if (muc_init() != 0) {
		fatal("cannot start the MUC service");
	}
	if (pep_init() != 0) {
		fatal("cannot load the pubsub nodes");
	}
	if (pubsub_service_init() != 0) {
		fatal("cannot start the pubsub service");
	}
	if (upload_init() != 0) {
		fatal("cannot start the upload service");
	}
	services_init();
	if (server_tls_load() != 0) {
		fatal("cannot set up TLS");
	}
	c2s_init();
	if (c2s_load_secrets() != 0) {
		fatal("cannot load the SCRAM salt key");
	}
	c2s_ws_init();
	upload_http_init();
	metrics_init();
	mem_set_budget((size_t)cfg->max_memory_mb * 1024 * 1024);
	if (cfg->max_memory_mb > 0) {
		log_info("memory budget %u MiB, %zu KiB in use at start",
		    cfg->max_memory_mb, mem_used_bytes() / 1024);
	}
	server_setup();
	server_loop();
	server_teardown();
	return 0;
}
