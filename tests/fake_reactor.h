/*
 * fake_reactor.h - server.h over memory buffers, for unit tests that drive
 * c2s without sockets: include it in exactly one test file.  Output a
 * session queues lands in its client's buffer; "closing" is a flag; time
 * is fake_now, which the test moves.  A test plays the reactor's part in
 * the connection lifecycle: client_drop() is an EOF followed by
 * conn_free() (c2s_eof, then c2s_free, then the conn memory goes).
 */
#ifndef UXMPPD_FAKE_REACTOR_H
#define UXMPPD_FAKE_REACTOR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "c2s.h"
#include "tests/check.h"
#include "tests/login.h"
#include "ratelimit.h"
#include "sasl.h"
#include "server.h"

struct conn {
	struct buf	 out;
	int		 closing;
	int		 loopback;
	int		 authenticated;	/* conn_authenticated was called */
	unsigned long	 id;
	struct rl_addr	 addr;		/* ::ffff:0.0.0.0 unless set */
	int64_t		 paused_ms;	/* conn_pause_input_until's; 0: reading */
};

static time_t fake_now = 1000000;
static int64_t fake_ms;	/* added to fake_now for server_now_ms */

void
conn_write(struct conn *c, const void *data, size_t len)
{
	buf_append(&c->out, data, len);
}

void
conn_close(struct conn *c, const char *reason)
{
	(void)reason;
	c->closing = 1;
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
	(void)c;
	return 0;
}

int
conn_tls_handshaking(const struct conn *c)
{
	(void)c;
	return 0;
}

int
conn_tls_available(const struct conn *c)
{
	(void)c;
	return 0;
}

int
conn_starttls(struct conn *c)
{
	(void)c;
	return -1;
}

struct tls_conn *
conn_tls(const struct conn *c)
{
	(void)c;
	return NULL;
}

size_t
conn_pending(const struct conn *c)
{
	return c->out.len;
}

/* httpd's streamed bodies are not exercised here */
void
conn_pause_input(struct conn *c, int pause)
{
	(void)c;
	(void)pause;
}

void
conn_feed(struct conn *c, const char *data, size_t len)
{
	(void)c;
	(void)data;
	(void)len;
}

const struct rl_addr *
conn_addr(const struct conn *c)
{
	return &c->addr;
}

void
conn_authenticated(struct conn *c)
{
	c->authenticated = 1;
}

/* The test plays the timer: it moves the clock and calls c2s_resume. */
void
conn_pause_input_until(struct conn *c, int64_t resume_ms)
{
	c->paused_ms = resume_ms;
}

int64_t
server_now_ms(void)
{
	return (int64_t)fake_now * 1000 + fake_ms;
}

time_t
server_uptime(void)
{
	return 42;
}

time_t
server_now(void)
{
	return fake_now;
}

/* ---- test clients ---- */

struct client {
	struct conn	 conn;
	struct c2s	*s;
};

#define FAKE_HEADER "<?xml version='1.0'?><stream:stream to='localhost' " \
	"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " \
	"version='1.0'>"

static inline struct client *
client_new(int loopback)
{
	static unsigned long ids;
	struct client *cl = xcalloc(1, sizeof(*cl));

	buf_init(&cl->conn.out, 0);
	cl->conn.loopback = loopback;
	cl->conn.id = ++ids;
	cl->s = c2s_new(&cl->conn);
	return cl;
}

/* What conn_free() does: the session goes first, then the connection. */
static inline void
client_free(struct client *cl)
{
	c2s_free(cl->s);
	buf_free(&cl->conn.out);
	free(cl);
}

/* The peer vanished (EOF), and the reactor freed the connection. */
static inline void
client_drop(struct client *cl)
{
	c2s_eof(cl->s);
	client_free(cl);
}

static inline void
send_str(struct client *cl, const char *s)
{
	c2s_input(cl->s, s, strlen(s));
}

/* Everything the server wrote since the last call; caller frees. */
static inline char *
take(struct client *cl)
{
	char *s = xstrdup(cl->conn.out.len ? cl->conn.out.data : "");

	buf_reset(&cl->conn.out);
	return s;
}

static inline int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* Occurrences of needle in hay. */
static inline int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* PLAIN login (tests/login.h) up to the restarted stream (authenticated,
 * not bound); returns the features of that stream in *features (caller
 * frees) when features is not NULL. */
static inline struct client *
login_auth(const char *user, const char *pass, char **features)
{
	struct client *cl = client_new(1);
	struct login *l = login_new("PLAIN", user, pass, NULL);
	struct buf msg;
	char *out;

	send_str(cl, FAKE_HEADER);
	free(take(cl));
	buf_init(&msg, 0);
	if (l != NULL && login_start(l, &msg) == 0) {
		send_str(cl, msg.data);
	}
	out = take(cl);
	CHECK(l != NULL && login_step_text(l, out, &msg) == LOGIN_OK);
	free(out);
	send_str(cl, FAKE_HEADER);
	out = take(cl);
	CHECK(contains(out, "urn:ietf:params:xml:ns:xmpp-bind"));
	if (features != NULL) {
		*features = out;
	} else {
		free(out);
	}
	login_free(l);
	buf_free(&msg);
	return cl;
}

/* Bind resource on an authenticated stream. */
static inline void
login_bind(struct client *cl, const char *resource)
{
	struct buf msg;
	char *out;

	buf_init(&msg, 0);
	buf_printf(&msg, "<iq type='set' id='b1'><bind xmlns='urn:ietf:"
	    "params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>",
	    resource);
	send_str(cl, msg.data);
	out = take(cl);
	CHECK(contains(out, "type='result'"));
	CHECK(contains(out, "<jid>"));
	free(out);
	buf_free(&msg);
}

static inline struct client *
login(const char *user, const char *pass, const char *resource)
{
	struct client *cl = login_auth(user, pass, NULL);

	login_bind(cl, resource);
	return cl;
}

#endif
