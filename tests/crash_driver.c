/*
 * crash_driver.c - the client half of tests/store-crash.sh: a stream of
 * store changes against a running server, each logged once it is
 * acknowledged, so the script can kill -9 the server at any moment and
 * check afterwards that every acknowledged change survived.
 *
 * usage: crash_driver [-m TRACE] [-n OPS] [-s SEED] [-t TAG]
 *                     [-c PEER -w PEERPW] HOST:PORT JID PASSWORD ROOM
 *
 * Logs in as JID with PLAIN (loopback, no TLS), joins ROOM as its owner
 * (creating it) and submits muc#roomconfig_persistentroom=1; then, until
 * OPS operations are done (0: forever) or the connection is lost, picks at
 * random one of:
 *   - a muc#admin affiliation change (member, admin, outcast or none) for
 *     one of DRIVER_AFF_JIDS generated JIDs, so later changes supersede
 *     earlier ones for the same key;
 *   - a muc#owner configuration change of the room name or description;
 *   - a PEP publish (XEP-0163) of item "current" to one of
 *     DRIVER_PEP_NODES nodes of JID's own service;
 *   - an account creation by XEP-0077 in-band registration before auth,
 *     on a short connection of its own (allow_registration = yes);
 *   - a groupchat message to the room, which archives it (XEP-0313) before
 *     it reflects it: the reflection is the acknowledgement;
 *   - with -c, a chat message to PEER (an account logged in on a second
 *     connection, available), which goes into JID's and PEER's archives
 *     before it is delivered: its arrival at PEER is the acknowledgement
 *     (the server makes the turn's archive appends durable before any of
 *     the turn's output leaves).
 * One request is in flight at a time.  Output on stdout, one line each,
 * flushed at once:
 *   sent KIND OBJ ATTR VALUE	before the request is written
 *   ack KIND OBJ ATTR VALUE	after its iq result was fully received
 * with KIND OBJ ATTR VALUE one of
 *   aff ROOM JID AFFILIATION	("none": the record is deleted)
 *   cfg ROOM persistent|name|desc VALUE
 *   pep BARE NODE VALUE		(VALUE: the item's text)
 *   acct JID - yes
 *   msg ROOM ID yes			(ID, also the body, in the archive)
 *   msg BARE ID yes			(a chat message, in BARE's archive: one
 *					 line for JID's, one for PEER's)
 * A change whose "ack" line was printed must be in the store; one that was
 * only "sent" may or may not be.  TAG (default "t") goes into every
 * account name and configuration value, so runs with different tags never
 * collide.  -m TRACE appends each line, as "0 M LINE", to TRACE too: the
 * trace of tests/powercut_shim.c, for tests/powercut.py.
 *
 * Without -c the chat messages' share goes to groupchat messages.
 * Exit: 0 after OPS operations, 3 when the connection broke or was
 * refused (the expected end under the crash test: a killed server sends
 * no stream close), 1 on anything else (an error reply, a stream error or
 * close, a timeout, a login failure), 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "tests/login.h"
#include "xml.h"

#define DRIVER_TIMEOUT_MS	10000	/* for any one reply */
#define DRIVER_AFF_JIDS		16	/* j0@example.net .. j15@example.net */
#define DRIVER_NICK		"crashdriver"
#define DRIVER_PEP_NODES	4	/* urn:test:crash:0 .. :3 */
#define DRIVER_READ_CHUNK	8192

#define NS_BIND		"urn:ietf:params:xml:ns:xmpp-bind"
#define NS_MUC		"http://jabber.org/protocol/muc"
#define NS_PUBSUB	"http://jabber.org/protocol/pubsub"
#define NS_MUC_ADMIN	"http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER	"http://jabber.org/protocol/muc#owner"
#define NS_REGISTER	"jabber:iq:register"
#define FORM_ROOMCONFIG	"http://jabber.org/protocol/muc#roomconfig"

enum driver_exit {
	DRIVER_OK = 0,
	DRIVER_ERROR = 1,
	DRIVER_USAGE = 2,
	DRIVER_LOST = 3,
};

/* What peer_wait() waits for: a top-level element named name or alt,
 * with id and from when those are set. */
struct want {
	const char	*name;
	const char	*alt;
	const char	*id;
	const char	*from;
};

/* One client connection: a socket and its stream parser. */
struct peer {
	int		 fd;
	struct xml_parser *parser;
	char		 in[DRIVER_READ_CHUNK];
	size_t		 in_off, in_len;	/* unparsed: in[in_off..in_len) */
	const struct want *want;
	struct xml_node	*got;		/* the wanted stanza, once seen */
	int		 closed;	/* </stream:stream> or a stream error */
};

static const char *server_host;
static int server_port;
static const char *tag = "t";
static char domain[256];
static uint64_t rng_state;
static int mark_fd = -1;	/* -m: the power-cut trace */
static unsigned long next_id;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift64*: reproducible from -s SEED. */
static unsigned
rnd(unsigned n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

/* One journal line on stdout, flushed before anything else happens; with
 * -m, also appended to the power-cut trace as "0 M LINE" in one O_APPEND
 * write, so its place among the server's traced writes and syncs is the
 * moment it happened (tests/powercut_shim.c). */
static void
journal(const char *verb, const char *kind, const char *obj,
    const char *attr, const char *value)
{
	char line[1024];
	int n;

	printf("%s %s %s %s %s\n", verb, kind, obj, attr, value);
	fflush(stdout);
	if (mark_fd >= 0) {
		n = snprintf(line, sizeof(line), "0 M %s %s %s %s %s\n", verb,
		    kind, obj, attr, value);
		if (n > 0 && (size_t)n < sizeof(line) &&
		    write(mark_fd, line, (size_t)n) != n) {
			fprintf(stderr, "crash_driver: marker write: %s\n",
			    strerror(errno));
			exit(DRIVER_ERROR);
		}
	}
}

/* ---- the connection ---- */

static int
on_stream_open(void *ud, const struct xml_node *header)
{
	(void)ud;
	(void)header;
	return 0;
}

static int
str_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int
want_match(const struct want *w, const struct xml_node *st)
{
	if (!str_eq(st->name, w->name) && !str_eq(st->name, w->alt)) {
		return 0;
	}
	if (w->id != NULL && !str_eq(xml_attr(st, "id"), w->id)) {
		return 0;
	}
	if (w->from != NULL && !str_eq(xml_attr(st, "from"), w->from)) {
		return 0;
	}
	return 1;
}

/* Keep the wanted stanza and stop the parser there; drop the rest
 * (broadcasts, presence, messages).  A stream error ends the stream. */
static int
on_stanza(void *ud, struct xml_node *st)
{
	struct peer *p = ud;
	const struct xml_node *c;

	if (strcmp(st->name, "error") == 0 && str_eq(st->ns, XML_NS_STREAM)) {
		c = st->first_child;
		while (c != NULL && c->type != XML_ELEMENT) {
			c = c->next;
		}
		fprintf(stderr, "crash_driver: stream error <%s/>\n",
		    c != NULL ? c->name : "?");
		xml_free(st);
		p->closed = 1;
		return 1;
	}
	if (p->got == NULL && p->want != NULL && want_match(p->want, st)) {
		p->got = st;
		return 1;
	}
	xml_free(st);
	return 0;
}

static int
on_stream_close(void *ud)
{
	struct peer *p = ud;

	p->closed = 1;
	return 1;
}

static const struct xml_callbacks peer_cbs = {
	on_stream_open, on_stanza, on_stream_close
};

/* Connect to the server.  0, or DRIVER_LOST when it is not there. */
static int
peer_open(struct peer *p)
{
	struct sockaddr_in sa;

	memset(p, 0, sizeof(*p));
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		perror("crash_driver: socket");
		return DRIVER_ERROR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)server_port);
	if (inet_pton(AF_INET, server_host, &sa.sin_addr) != 1) {
		fprintf(stderr, "crash_driver: bad address %s\n", server_host);
		close(p->fd);
		p->fd = -1;
		return DRIVER_USAGE;
	}
	while (connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == EINTR) {
			continue;
		}
		fprintf(stderr, "crash_driver: connect: %s\n",
		    strerror(errno));
		close(p->fd);
		p->fd = -1;
		return DRIVER_LOST;
	}
	p->parser = xml_parser_new(NULL, &peer_cbs, p, 1);
	return 0;
}

static void
peer_close(struct peer *p)
{
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->parser != NULL) {
		xml_parser_free(p->parser);
		p->parser = NULL;
	}
	xml_free(p->got);
	p->got = NULL;
}

/* Write all of b.  0, or DRIVER_LOST. */
static int
peer_send(struct peer *p, const struct buf *b)
{
	const char *s = b->data;
	size_t n = b->len;
	ssize_t w;

	if (b->err) {
		fprintf(stderr, "crash_driver: request too big\n");
		return DRIVER_ERROR;
	}
	while (n > 0) {
		w = send(p->fd, s, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			fprintf(stderr, "crash_driver: send: %s\n",
			    strerror(errno));
			return DRIVER_LOST;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Read until a stanza matching w arrives.  Returns 0 with it in *out
 * (caller frees), DRIVER_LOST when the connection broke (a killed server
 * sends no stream close), or DRIVER_ERROR when the server closed the
 * stream or sent a stream error, on a timeout or on bad XML.
 */
static int
peer_wait(struct peer *p, const struct want *w, struct xml_node **out)
{
	uint64_t deadline = now_ms() + DRIVER_TIMEOUT_MS, now;
	struct pollfd pfd;
	size_t used;
	ssize_t r;
	int rc;

	*out = NULL;
	p->want = w;
	for (;;) {
		if (p->in_off < p->in_len) {
			used = 0;
			rc = xml_feed(p->parser, p->in + p->in_off,
			    p->in_len - p->in_off, &used);
			if (rc == XML_OK) {
				p->in_off = p->in_len;
			} else if (rc == XML_STOPPED) {
				p->in_off += used;
			} else {
				fprintf(stderr, "crash_driver: server sent "
				    "bad XML: %s\n", xml_strerror(rc));
				return DRIVER_ERROR;
			}
		}
		if (p->got != NULL) {
			*out = p->got;
			p->got = NULL;
			p->want = NULL;
			return 0;
		}
		if (p->closed) {
			fprintf(stderr, "crash_driver: the server closed the "
			    "stream\n");
			return DRIVER_ERROR;
		}
		if (p->in_off < p->in_len) {
			continue;
		}
		now = now_ms();
		if (now >= deadline) {
			fprintf(stderr, "crash_driver: no <%s/> within %d ms\n",
			    w->name, DRIVER_TIMEOUT_MS);
			return DRIVER_ERROR;
		}
		pfd.fd = p->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 &&
		    errno != EINTR) {
			perror("crash_driver: poll");
			return DRIVER_ERROR;
		}
		if (pfd.revents == 0) {
			continue;
		}
		r = read(p->fd, p->in, sizeof(p->in));
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			fprintf(stderr, "crash_driver: connection lost: %s\n",
			    r == 0 ? "EOF" : strerror(errno));
			return DRIVER_LOST;
		}
		p->in_off = 0;
		p->in_len = (size_t)r;
	}
}

static void
stream_header(struct buf *b)
{
	buf_printf(b, "<stream:stream to='%s' xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' "
	    "version='1.0'>", domain);
}

/* Print an error reply's condition to stderr. */
static void
report_error(const char *what, const struct xml_node *st)
{
	const struct xml_node *e = xml_child(st, "error", NULL), *c;
	const char *cond = "?";

	if (e != NULL) {
		for (c = e->first_child; c != NULL; c = c->next) {
			if (c->type == XML_ELEMENT &&
			    strcmp(c->name, "text") != 0) {
				cond = c->name;
				break;
			}
		}
	}
	fprintf(stderr, "crash_driver: %s: error reply <%s/>\n", what, cond);
}

/*
 * Send an iq (the caller's buffer, whose id attribute is id) and wait for
 * its reply.  0 on a result; DRIVER_ERROR on an error reply; DRIVER_LOST.
 */
static int
iq_roundtrip(struct peer *p, const struct buf *req, const char *id,
    const char *what)
{
	struct want w = { "iq", NULL, id, NULL };
	struct xml_node *st;
	int rc;

	if ((rc = peer_send(p, req)) != 0) {
		return rc;
	}
	if ((rc = peer_wait(p, &w, &st)) != 0) {
		return rc;
	}
	if (!str_eq(xml_attr(st, "type"), "result")) {
		report_error(what, st);
		rc = DRIVER_ERROR;
	}
	xml_free(st);
	return rc;
}

static void
new_id(char *id, size_t cap)
{
	snprintf(id, cap, "cd%lu", ++next_id);
}

/* ---- the session ---- */

/* PLAIN login (tests/login.h), stream restart, resource binding.  0 or
 * an exit code. */
static int
login_bind(struct peer *p, const char *jid, const char *password)
{
	struct want sasl = { "success", "failure", NULL, NULL };
	struct login *l;
	struct xml_node *st;
	struct buf b;
	char local[256];
	const char *at = strchr(jid, '@');
	const char *text;
	int rc;

	snprintf(local, sizeof(local), "%.*s", (int)(at - jid), jid);
	buf_init(&b, 0);
	stream_header(&b);
	l = login_new("PLAIN", local, password, NULL);
	if (l == NULL || login_start(l, &b) != 0) {
		fprintf(stderr, "crash_driver: SASL PLAIN unavailable\n");
		rc = DRIVER_ERROR;
		goto out;
	}
	if ((rc = peer_send(p, &b)) != 0 ||
	    (rc = peer_wait(p, &sasl, &st)) != 0) {
		goto out;
	}
	text = xml_text(st);
	buf_reset(&b);
	if (login_step(l, st->name, text ? text : "", text ? strlen(text) : 0,
	    &b) != LOGIN_OK) {
		fprintf(stderr, "crash_driver: login as %s failed: %s\n", jid,
		    login_error(l));
		xml_free(st);
		rc = DRIVER_ERROR;
		goto out;
	}
	xml_free(st);
	/* RFC 6120 §6.4.6: a new stream after <success/> */
	xml_parser_reset(p->parser);
	buf_reset(&b);
	stream_header(&b);
	buf_printf(&b, "<iq type='set' id='bind'><bind xmlns='%s'>"
	    "<resource>crash</resource></bind></iq>", NS_BIND);
	rc = iq_roundtrip(p, &b, "bind", "bind");
out:
	login_free(l);
	buf_free(&b);
	return rc;
}

/*
 * Join ROOM (creating it, or entering it as its owner after a restart)
 * and make it persistent.  0 or an exit code.
 */
static int
room_enter(struct peer *p, const char *room, const char *owner)
{
	struct want self = { "presence", NULL, NULL, NULL };
	struct xml_node *st;
	struct buf b, from;
	char id[32];
	int rc;

	buf_init(&b, 0);
	buf_init(&from, 0);
	buf_printf(&from, "%s/%s", room, DRIVER_NICK);
	self.from = from.data;

	buf_printf(&b, "<presence to='%s/%s'><x xmlns='%s'>"
	    "<history maxstanzas='0'/></x></presence>", room, DRIVER_NICK,
	    NS_MUC);
	if ((rc = peer_send(p, &b)) != 0 ||
	    (rc = peer_wait(p, &self, &st)) != 0) {
		goto out;
	}
	if (str_eq(xml_attr(st, "type"), "error")) {
		report_error("join", st);
		xml_free(st);
		rc = DRIVER_ERROR;
		goto out;
	}
	xml_free(st);
	/* making the room persistent stores the room and the owner */
	new_id(id, sizeof(id));
	buf_reset(&b);
	buf_printf(&b, "<iq type='set' to='%s' id='%s'><query xmlns='%s'>"
	    "<x xmlns='jabber:x:data' type='submit'>"
	    "<field var='FORM_TYPE'><value>%s</value></field>"
	    "<field var='muc#roomconfig_persistentroom'><value>1</value>"
	    "</field></x></query></iq>", room, id, NS_MUC_OWNER,
	    FORM_ROOMCONFIG);
	journal("sent", "aff", room, owner, "owner");
	journal("sent", "cfg", room, "persistent", "1");
	if ((rc = iq_roundtrip(p, &b, id, "room configuration")) == 0) {
		journal("ack", "aff", room, owner, "owner");
		journal("ack", "cfg", room, "persistent", "1");
	}
out:
	buf_free(&from);
	buf_free(&b);
	return rc;
}

static const char *const affs[] = { "member", "admin", "outcast", "none" };

static int
op_affiliation(struct peer *p, const char *room)
{
	const char *aff = affs[rnd(4)];
	char id[32], jid[64];
	struct buf b;
	int rc;

	snprintf(jid, sizeof(jid), "j%u@example.net", rnd(DRIVER_AFF_JIDS));
	new_id(id, sizeof(id));
	buf_init(&b, 0);
	buf_printf(&b, "<iq type='set' to='%s' id='%s'><query xmlns='%s'>"
	    "<item affiliation='%s' jid='%s'/></query></iq>", room, id,
	    NS_MUC_ADMIN, aff, jid);
	journal("sent", "aff", room, jid, aff);
	if ((rc = iq_roundtrip(p, &b, id, "affiliation change")) == 0) {
		journal("ack", "aff", room, jid, aff);
	}
	buf_free(&b);
	return rc;
}

static int
op_config(struct peer *p, const char *room, unsigned long n)
{
	int desc = (int)rnd(2);
	char id[32], value[64];
	struct buf b;
	int rc;

	snprintf(value, sizeof(value), "%s-%s%lu", tag, desc ? "d" : "n", n);
	new_id(id, sizeof(id));
	buf_init(&b, 0);
	buf_printf(&b, "<iq type='set' to='%s' id='%s'><query xmlns='%s'>"
	    "<x xmlns='jabber:x:data' type='submit'>"
	    "<field var='FORM_TYPE'><value>%s</value></field>"
	    "<field var='muc#roomconfig_%s'><value>%s</value></field>"
	    "</x></query></iq>", room, id, NS_MUC_OWNER, FORM_ROOMCONFIG,
	    desc ? "roomdesc" : "roomname", value);
	journal("sent", "cfg", room, desc ? "desc" : "name", value);
	if ((rc = iq_roundtrip(p, &b, id, "room configuration")) == 0) {
		journal("ack", "cfg", room, desc ? "desc" : "name", value);
	}
	buf_free(&b);
	return rc;
}

/* XEP-0163: publish to one of DRIVER_PEP_NODES nodes of the account's
 * own PEP service; each keeps its latest item (max_items 1). */
static int
op_pep(struct peer *p, const char *owner, unsigned long n)
{
	char id[32], node[64], value[64], bare[320];
	struct buf b;
	int rc;

	snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(owner, "/"), owner);
	snprintf(node, sizeof(node), "urn:test:crash:%u",
	    rnd(DRIVER_PEP_NODES));
	snprintf(value, sizeof(value), "%s-p%lu", tag, n);
	new_id(id, sizeof(id));
	buf_init(&b, 0);
	buf_printf(&b, "<iq type='set' id='%s'><pubsub xmlns='%s'>"
	    "<publish node='%s'><item id='current'><v xmlns='urn:test:crash'>"
	    "%s</v></item></publish></pubsub></iq>", id, NS_PUBSUB, node,
	    value);
	journal("sent", "pep", bare, node, value);
	if ((rc = iq_roundtrip(p, &b, id, "PEP publish")) == 0) {
		journal("ack", "pep", bare, node, value);
	}
	buf_free(&b);
	return rc;
}

/* XEP-0077 §3.2 on a fresh stream, before authentication. */
static int
op_register(unsigned long n)
{
	struct peer r;
	char user[64], jid[320];
	struct buf b;
	int rc;

	snprintf(user, sizeof(user), "%s-u%lu", tag, n);
	snprintf(jid, sizeof(jid), "%s@%s", user, domain);
	if ((rc = peer_open(&r)) != 0) {
		return rc;
	}
	buf_init(&b, 0);
	stream_header(&b);
	buf_printf(&b, "<iq type='set' id='reg'><query xmlns='%s'>"
	    "<username>%s</username><password>pw-%s</password></query></iq>",
	    NS_REGISTER, user, user);
	journal("sent", "acct", jid, "-", "yes");
	if ((rc = iq_roundtrip(&r, &b, "reg", "registration")) == 0) {
		journal("ack", "acct", jid, "-", "yes");
	}
	buf_free(&b);
	peer_close(&r);
	return rc;
}

/* A groupchat message, acknowledged by the room's reflection of it: the
 * room archives it before it sends it back. */
static int
op_message(struct peer *p, const char *room, unsigned long n)
{
	char id[64];
	struct buf b, from;
	struct want w = { "message", NULL, id, NULL };
	struct xml_node *st;
	int rc;

	snprintf(id, sizeof(id), "%s-m%lu", tag, n);
	buf_init(&from, 0);
	buf_printf(&from, "%s/%s", room, DRIVER_NICK);
	w.from = from.data;
	buf_init(&b, 0);
	buf_printf(&b, "<message to='%s' type='groupchat' id='%s'>"
	    "<body>%s</body></message>", room, id, id);
	journal("sent", "msg", room, id, "yes");
	if ((rc = peer_send(p, &b)) == 0 && (rc = peer_wait(p, &w, &st)) == 0) {
		if (str_eq(xml_attr(st, "type"), "error")) {
			report_error("groupchat message", st);
			rc = DRIVER_ERROR;
		} else {
			journal("ack", "msg", room, id, "yes");
		}
		xml_free(st);
	}
	buf_free(&b);
	buf_free(&from);
	return rc;
}

/* XEP-0313 1:1: a chat message to the peer's full JID, acknowledged by
 * its arrival there; one journal line per archive it must be in. */
static int
op_chat(struct peer *p, const char *owner, struct peer *r,
    const char *peer_full, unsigned long n)
{
	char id[64], bare[320], peer_bare[320];
	struct buf b;
	struct want w = { "message", NULL, id, NULL };
	struct xml_node *st;
	int rc;

	snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(owner, "/"), owner);
	snprintf(peer_bare, sizeof(peer_bare), "%.*s",
	    (int)strcspn(peer_full, "/"), peer_full);
	snprintf(id, sizeof(id), "%s-c%lu", tag, n);
	buf_init(&b, 0);
	buf_printf(&b, "<message to='%s' type='chat' id='%s'>"
	    "<body>%s</body></message>", peer_full, id, id);
	journal("sent", "msg", bare, id, "yes");
	journal("sent", "msg", peer_bare, id, "yes");
	if ((rc = peer_send(p, &b)) == 0 && (rc = peer_wait(r, &w, &st)) == 0) {
		if (str_eq(xml_attr(st, "type"), "error")) {
			report_error("chat message", st);
			rc = DRIVER_ERROR;
		} else {
			journal("ack", "msg", bare, id, "yes");
			journal("ack", "msg", peer_bare, id, "yes");
		}
		xml_free(st);
	}
	buf_free(&b);
	return rc;
}

/* The chat peer's session: logged in, available (so a message to its
 * full JID is delivered, RFC 6121 §8.5.3.1), its presence processed. */
static int
peer_session(struct peer *r, const char *jid, const char *password)
{
	struct buf b;
	int rc;

	if ((rc = peer_open(r)) != 0 ||
	    (rc = login_bind(r, jid, password)) != 0) {
		return rc;
	}
	buf_init(&b, 0);
	buf_printf(&b, "<presence/><iq type='get' id='roster'>"
	    "<query xmlns='jabber:iq:roster'/></iq>");
	rc = iq_roundtrip(r, &b, "roster", "roster");
	buf_free(&b);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: crash_driver [-m TRACE] [-n OPS] "
	    "[-s SEED] [-t TAG] [-c PEER -w PEERPW] HOST:PORT JID "
	    "PASSWORD ROOM\n");
	exit(DRIVER_USAGE);
}

int
main(int argc, char **argv)
{
	struct peer p, r;
	unsigned long ops = 0, n;
	unsigned kind;
	char hostbuf[64], peer_full[320];
	const char *jid, *password, *room, *colon, *at, *peer = NULL;
	const char *peer_pw = NULL;
	int opt, rc;

	rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	while ((opt = getopt(argc, argv, "c:m:n:s:t:w:")) != -1) {
		switch (opt) {
		case 'c':
			peer = optarg;
			break;
		case 'w':
			peer_pw = optarg;
			break;
		case 'm':
			mark_fd = open(optarg, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (mark_fd < 0) {
				fprintf(stderr, "crash_driver: %s: %s\n",
				    optarg, strerror(errno));
				exit(DRIVER_USAGE);
			}
			break;
		case 'n':
			ops = strtoul(optarg, NULL, 10);
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 10);
			break;
		case 't':
			tag = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4 || (peer == NULL) != (peer_pw == NULL) ||
	    (peer != NULL && (strchr(peer, '@') == NULL ||
	    strchr(peer, '/') != NULL || strlen(peer) > 256))) {
		usage();
	}
	if (rng_state == 0) {
		rng_state = 1;	/* xorshift's one fixed point */
	}
	colon = strrchr(argv[optind], ':');
	jid = argv[optind + 1];
	password = argv[optind + 2];
	room = argv[optind + 3];
	at = strchr(jid, '@');
	if (colon == NULL || (size_t)(colon - argv[optind]) >=
	    sizeof(hostbuf) || at == NULL || at == jid ||
	    strlen(at + 1) >= sizeof(domain)) {
		usage();
	}
	snprintf(hostbuf, sizeof(hostbuf), "%.*s",
	    (int)(colon - argv[optind]), argv[optind]);
	server_host = hostbuf;
	server_port = atoi(colon + 1);
	snprintf(domain, sizeof(domain), "%s", at + 1);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "crash_driver: seed %llu\n",
	    (unsigned long long)rng_state);

	r.fd = -1;
	r.parser = NULL;
	r.got = NULL;
	if ((rc = peer_open(&p)) != 0) {
		return rc;
	}
	if ((rc = login_bind(&p, jid, password)) != 0 ||
	    (rc = room_enter(&p, room, jid)) != 0) {
		goto out;
	}
	if (peer != NULL) {
		/* login_bind asks for the resource "crash" */
		snprintf(peer_full, sizeof(peer_full), "%s/crash", peer);
		if ((rc = peer_session(&r, peer, peer_pw)) != 0) {
			goto out;
		}
	}
	/* 30% affiliations, 20% configuration, 20% PEP, 10% registrations,
	 * 20% archived messages (with -c: half groupchat, half chat) */
	for (n = 1; ops == 0 || n <= ops; n++) {
		kind = rnd(10);
		if (kind < 3) {
			rc = op_affiliation(&p, room);
		} else if (kind < 5) {
			rc = op_config(&p, room, n);
		} else if (kind < 7) {
			rc = op_pep(&p, jid, n);
		} else if (kind < 8) {
			rc = op_register(n);
		} else if (peer != NULL && kind == 9) {
			rc = op_chat(&p, jid, &r, peer_full, n);
		} else {
			rc = op_message(&p, room, n);
		}
		if (rc != 0) {
			break;
		}
	}
out:
	peer_close(&r);
	peer_close(&p);
	return rc;
}
