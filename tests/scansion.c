/*
 * scansion.c - runs a scenario file (.scs, the format of Prosody's
 * integration tests, described in ../shared/specs/SCANSION.md) against a
 * running XMPP server.
 *
 *   tests/scansion [options] FILE
 *	--connect HOST:PORT	connect every client there (overrides the
 *				clients' connect_host/connect_port)
 *	--timeout SEC		how long `receives` waits (default 3)
 *	--nothing-wait SEC	how long `receives: nothing` waits (default 1)
 *	--pause SEC		pause between sends of different clients (0.1)
 *	--tls MODE		starttls: every client negotiates STARTTLS;
 *				direct: TLS from the first byte (XEP-0368);
 *				auto (default): STARTTLS when the server
 *				requires it.  Over TLS the clients prefer
 *				SCRAM-*-PLUS with the strongest channel
 *				binding the server lists (XEP-0440)
 *	--cb TYPE		use that channel-binding type; "none": no
 *				-PLUS mechanisms
 *	-v			print the actions and the traffic on stderr
 *   tests/scansion --accounts FILE	print "bare-jid password" per account
 *   tests/scansion --free-port		print a free loopback TCP port
 *   tests/scansion --wait-port HOST:PORT [--wait-pid PID] [--timeout SEC]
 *	exit 0 once HOST:PORT accepts connections; 1 on timeout or when
 *	process PID has exited (server start-up in the test scripts)
 *   tests/scansion --wait-exit PID [--timeout SEC]
 *	exit 0 once process PID has exited (a zombie counts), 1 on timeout
 *
 * Output: "PASS FILE" on stdout and exit 0, or "FAIL FILE:LINE: reason"
 * followed by the details (expected stanza, stanzas received) and exit 1.
 * Usage or scenario syntax errors exit 2.
 *
 * One thread, poll() over the client sockets.  Every client has its own
 * stream parser and a queue of the stanzas it received, in arrival order.
 * Socket I/O goes through a per-client transport (read/write/close), so a
 * TLS layer can be slotted in for STARTTLS.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "sasl.h"
#include "tests/login.h"
#include "tls.h"
#include "xml.h"

#define SCANSION_NS	"https://matthewwild.co.uk/projects/scansion"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND		"urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION	"urn:ietf:params:xml:ns:xmpp-session"
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL_CB	"urn:xmpp:sasl-cb:0"
#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_XMLNS	"http://www.w3.org/2000/xmlns/"

#define READ_CHUNK		16384
#define INBUF_MAX		(4u << 20)
#define OUTBUF_MAX		(4u << 20)
#define CLOSE_WAIT_MS		2000
#define DEFAULT_TIMEOUT_MS	3000
#define DEFAULT_NOTHING_MS	1000
#define DEFAULT_PAUSE_MS	100
#define DEFAULT_HOST		"127.0.0.1"
#define DEFAULT_PORT		"5222"
#define MAX_BACKTRACK_STEPS	1000000L

enum client_state {
	CL_NEW,		/* declared, not connected yet */
	CL_UP,		/* stream negotiated, resource bound */
	CL_GONE,	/* disconnected: later actions are ignored */
};

struct client;

/* Byte transport under the XML stream: plain TCP now, TLS later. */
struct transport {
	ssize_t	(*read)(struct client *c, void *p, size_t n);
	ssize_t	(*write)(struct client *c, const void *p, size_t n);
	void	(*close)(struct client *c);
};

struct client {
	char	*name;
	char	*jid;			/* as declared */
	char	*password;
	char	*resource;		/* resource: property, or NULL */
	char	*connect_host;
	char	*connect_port;
	int	 decl_line;

	enum client_state state;
	int	 fd;
	const struct transport *tr;
	void	*tr_ctx;		/* transport state (TLS context) */
	struct xml_parser *parser;
	struct buf inbuf;		/* bytes not yet fed to the parser */
	struct buf outbuf;		/* bytes not yet written */
	int	 feed_paused;		/* parser stopped for a stream restart */
	int	 negotiating;		/* stop the parser after <success/> */
	int	 eof;			/* socket closed or failed */
	int	 stream_closed;		/* </stream:stream> received */
	char	 why[256];		/* why the stream ended, if it did */

	struct xml_node **queue;	/* received stanzas, oldest first */
	size_t	 qlen;
	size_t	 qcap;

	char	*full_jid;		/* bound JID, NULL until connected */
	char	*bare_jid;
};

enum verb { V_CONNECT, V_DISCONNECT, V_SEND, V_RECEIVE, V_NOTHING };

struct action {
	int	 line;
	struct client *cl;
	enum verb verb;
	char	*text;			/* the action line, for reports */
	char	*xml;			/* indented block, or NULL */
};

struct capture {
	char	*name;
	char	*value;
};

static struct client **clients;
static size_t nclients;
static struct action *actions;
static size_t nactions;
static char *title;
static const char *scenario_path;

static struct capture *captures;
static size_t ncaptures, capcap;

static long timeout_ms = DEFAULT_TIMEOUT_MS;
static long nothing_ms = DEFAULT_NOTHING_MS;
static long pause_ms = DEFAULT_PAUSE_MS;
static char *override_host;
static char *override_port;
static int verbose;
enum tls_mode { TLS_MODE_AUTO, TLS_MODE_STARTTLS, TLS_MODE_DIRECT };
static enum tls_mode tls_mode = TLS_MODE_AUTO;
static const char *cb_force;		/* --cb TYPE, or "none" */
static long backtrack_steps;

/* ---- small helpers ---- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
vlog(const char *fmt, ...)
{
	va_list ap;

	if (!verbose) {
		return;
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
is_blank(const char *s)
{
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	return *s == '\0';
}

static char *
trim_dup(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\r' || s[len - 1] == '\n')) {
		len--;
	}
	return xstrndup(s, len);
}

/* Trim whitespace in place on a view; returns the start, sets *len. */
static const char *
trim_view(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' ||
	    *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n')) {
		n--;
	}
	*len = n;
	return s;
}

static struct client *
find_client(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < nclients; i++) {
		if (strlen(clients[i]->name) == len &&
		    memcmp(clients[i]->name, name, len) == 0) {
			return clients[i];
		}
	}
	return NULL;
}

/* The bare part of a JID string; caller frees. */
static char *
bare_of(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash ? xstrndup(jid, (size_t)(slash - jid)) : xstrdup(jid);
}

/* ---- scenario file parsing ---- */

static int
syntax_error(int line, const char *msg)
{
	fprintf(stderr, "%s:%d: %s\n", scenario_path, line, msg);
	return -1;
}

static int
is_separator(const char *s)
{
	size_t n = 0;

	while (*s == '-') {
		s++;
		n++;
	}
	return n >= 3 && is_blank(s);
}

static int
is_comment(const char *s)
{
	return s[0] == '#' || (s[0] == '/' && s[1] == '/') ||
	    (s[0] == '-' && s[1] == '-');
}

static int
set_property(struct client *c, const char *line, int lineno)
{
	const char *colon = strchr(line, ':');
	char *key, *val;

	if (colon == NULL) {
		return syntax_error(lineno, "expected 'key: value'");
	}
	key = trim_dup(line, (size_t)(colon - line));
	val = trim_dup(colon + 1, strlen(colon + 1));
	if (strcmp(key, "jid") == 0) {
		free(c->jid);
		c->jid = val;
	} else if (strcmp(key, "password") == 0) {
		free(c->password);
		c->password = val;
	} else if (strcmp(key, "resource") == 0) {
		free(c->resource);
		c->resource = val;
	} else if (strcmp(key, "connect_host") == 0) {
		free(c->connect_host);
		c->connect_host = val;
	} else if (strcmp(key, "connect_port") == 0) {
		free(c->connect_port);
		c->connect_port = val;
	} else {
		/* Unknown properties are tolerated, as other runners do. */
		vlog("%s:%d: ignoring property '%s'", scenario_path, lineno,
		    key);
		free(val);
	}
	free(key);
	return 0;
}

static int
parse_action_line(const char *line, int lineno, struct action *a)
{
	size_t len = strlen(line);
	const char *sp;
	static const char nothing[] = "receives: nothing";
	struct client *c;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t')) {
		len--;
	}
	a->line = lineno;
	a->text = xstrndup(line, len);
	a->xml = NULL;
	if (len > sizeof(nothing) && memcmp(line + len - (sizeof(nothing) -
	    1), nothing, sizeof(nothing) - 1) == 0 &&
	    line[len - sizeof(nothing)] == ' ') {
		a->verb = V_NOTHING;
		len -= sizeof(nothing);
	} else {
		if (len > 0 && line[len - 1] == ':') {
			len--;
		}
		sp = NULL;
		for (size_t i = len; i > 0; i--) {
			if (line[i - 1] == ' ') {
				sp = line + i - 1;
				break;
			}
		}
		if (sp == NULL) {
			return syntax_error(lineno, "expected '<Name> <verb>'");
		}
		size_t vlen = len - (size_t)(sp + 1 - line);
		const char *v = sp + 1;
		if (vlen == 8 && memcmp(v, "connects", 8) == 0) {
			a->verb = V_CONNECT;
		} else if (vlen == 11 && memcmp(v, "disconnects", 11) == 0) {
			a->verb = V_DISCONNECT;
		} else if (vlen == 5 && memcmp(v, "sends", 5) == 0) {
			a->verb = V_SEND;
		} else if (vlen == 8 && memcmp(v, "receives", 8) == 0) {
			a->verb = V_RECEIVE;
		} else {
			return syntax_error(lineno, "unknown verb");
		}
		len = (size_t)(sp - line);
	}
	while (len > 0 && line[len - 1] == ' ') {
		len--;
	}
	c = find_client(line, len);
	if (c == NULL) {
		return syntax_error(lineno, "no such client");
	}
	a->cl = c;
	return 0;
}

/*
 * Parse the scenario text (modified in place: lines are split).  Fills
 * the globals clients/actions/title.  Returns 0 or -1 (message printed).
 */
static int
parse_scenario(char *text)
{
	char *line, *next;
	int lineno = 0, in_actions = 0;
	struct client *cur = NULL;
	struct action *open_block = NULL;
	struct buf block;
	size_t acap = 0, ccap = 0;
	int rc = -1;

	buf_init(&block, 0);
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		lineno++;
		size_t l = strlen(line);
		if (l > 0 && line[l - 1] == '\r') {
			line[l - 1] = '\0';
		}
		int indented = line[0] == ' ' || line[0] == '\t';

		if (open_block != NULL) {
			if (indented || is_blank(line)) {
				buf_puts(&block, line);
				buf_putc(&block, '\n');
				continue;
			}
			open_block->xml = xstrdup(block.len ? block.data : "");
			buf_reset(&block);
			open_block = NULL;
		}
		if (is_blank(line)) {
			continue;
		}
		if (!in_actions) {
			if (is_separator(line)) {
				in_actions = 1;
				cur = NULL;
				continue;
			}
			if (line[0] == '#') {
				if (title == NULL && nclients == 0) {
					title = trim_dup(line + 1,
					    strlen(line + 1));
				}
				continue;
			}
			if (is_comment(line)) {
				continue;
			}
			if (line[0] == '[') {
				char *rb = strchr(line, ']');
				if (rb == NULL) {
					syntax_error(lineno, "expected '[Class] Name'");
					goto out;
				}
				if (rb - line != 7 ||
				    memcmp(line, "[Client", 7) != 0) {
					syntax_error(lineno, "only [Client] objects are supported");
					goto out;
				}
				if (nclients == ccap) {
					ccap = ccap ? ccap * 2 : 8;
					clients = xrealloc(clients,
					    ccap * sizeof(*clients));
				}
				cur = xcalloc(1, sizeof(*cur));
				cur->name = trim_dup(rb + 1, strlen(rb + 1));
				cur->fd = -1;
				cur->decl_line = lineno;
				if (cur->name[0] == '\0' ||
				    find_client(cur->name,
				    strlen(cur->name)) != NULL) {
					free(cur->name);
					free(cur);
					syntax_error(lineno, "missing or duplicate client name");
					goto out;
				}
				clients[nclients++] = cur;
				continue;
			}
			if (indented && cur != NULL) {
				if (set_property(cur, line, lineno) < 0) {
					goto out;
				}
				continue;
			}
			syntax_error(lineno, "unexpected line before the '---' separator");
			goto out;
		}
		if (indented) {
			syntax_error(lineno, "indented line without an action that takes XML");
			goto out;
		}
		if (is_comment(line)) {
			continue;
		}
		if (nactions == acap) {
			acap = acap ? acap * 2 : 64;
			actions = xrealloc(actions, acap * sizeof(*actions));
		}
		if (parse_action_line(line, lineno, &actions[nactions]) < 0) {
			goto out;
		}
		if (actions[nactions].verb == V_SEND ||
		    actions[nactions].verb == V_RECEIVE) {
			open_block = &actions[nactions];
		}
		nactions++;
	}
	if (open_block != NULL) {
		open_block->xml = xstrdup(block.len ? block.data : "");
	}
	if (!in_actions) {
		syntax_error(lineno, "no '---' separator");
		goto out;
	}
	for (size_t i = 0; i < nclients; i++) {
		if (clients[i]->jid == NULL || clients[i]->password == NULL) {
			syntax_error(clients[i]->decl_line,
			    "client needs jid and password");
			goto out;
		}
	}
	rc = 0;
out:
	buf_free(&block);
	return rc;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char tmp[8192];
	size_t n;

	if (f == NULL) {
		return NULL;
	}
	buf_init(&b, 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		buf_append(&b, tmp, n);
	}
	fclose(f);
	buf_putc(&b, '\0');
	return b.data;
}

/* ---- substitution and XML blocks ---- */

/*
 * Replace ${Name's full JID} and ${Name's JID} in text, and (our
 * extension, for sending an id the server made, such as a MAM result's)
 * ${capture:NAME} with the value {scansion:capture:NAME} recorded,
 * escaping the values for XML.  Returns 0, or -1 with err filled.
 */
static int
substitute(const char *text, struct buf *out, char *err, size_t errlen)
{
	const char *p = text, *open, *close;
	static const char full[] = "'s full JID", bare[] = "'s JID";

	while ((open = strstr(p, "${")) != NULL) {
		buf_append(out, p, (size_t)(open - p));
		close = strchr(open, '}');
		if (close == NULL) {
			snprintf(err, errlen, "unterminated '${'");
			return -1;
		}
		const char *in = open + 2;
		size_t inlen = (size_t)(close - in);
		struct client *c = NULL;
		const char *val = NULL;
		char *tmp = NULL;

		if (inlen > 8 && memcmp(in, "capture:", 8) == 0) {
			size_t k;

			for (k = 0; k < ncaptures; k++) {
				if (strlen(captures[k].name) == inlen - 8 &&
				    memcmp(captures[k].name, in + 8,
				    inlen - 8) == 0) {
					val = captures[k].value;
				}
			}
		} else if (inlen > sizeof(full) - 1 && memcmp(in + inlen -
		    (sizeof(full) - 1), full, sizeof(full) - 1) == 0) {
			c = find_client(in, inlen - (sizeof(full) - 1));
			if (c != NULL && c->full_jid == NULL) {
				snprintf(err, errlen, "%.*s: client has no "
				    "full JID yet (not connected)",
				    (int)(close - open + 1), open);
				return -1;
			}
			val = c ? c->full_jid : NULL;
		} else if (inlen > sizeof(bare) - 1 && memcmp(in + inlen -
		    (sizeof(bare) - 1), bare, sizeof(bare) - 1) == 0) {
			c = find_client(in, inlen - (sizeof(bare) - 1));
			if (c != NULL) {
				if (c->bare_jid != NULL) {
					val = c->bare_jid;
				} else {
					val = tmp = bare_of(c->jid);
				}
			}
		}
		if (val == NULL) {
			snprintf(err, errlen, "unknown substitution %.*s",
			    (int)(close - open + 1), open);
			return -1;
		}
		xml_escape(out, val, strlen(val), 1);
		free(tmp);
		p = close + 1;
	}
	buf_puts(out, p);
	return 0;
}

/*
 * Parse an XML block (after substitution) holding any number of sibling
 * elements in the default namespace jabber:client.  The scansion: prefix
 * is predeclared (SCANSION_NS), so scansion:strict
 * arrives as an attribute in that namespace.  Returns a wrapper element
 * whose children are the block's elements, or NULL with err filled.
 * Caller frees with xml_free().
 */
static struct xml_node *
parse_block(const char *xml, char *err, size_t errlen)
{
	struct xml_node *root;
	int e = 0;

	root = xml_parse_fragment_prefixed(xml, strlen(xml), XML_NS_CLIENT,
	    "scansion", SCANSION_NS, &e);
	if (root == NULL) {
		snprintf(err, errlen, "bad XML in block: %s", xml_strerror(e));
	} else if (xml_child_count(root) == 0) {
		snprintf(err, errlen, "empty XML block");
		xml_free(root);
		root = NULL;
	}
	return root;
}

static int is_scansion_attr(const struct xml_attr *a);

/* ---- transport: plain TCP ---- */

static ssize_t
plain_read(struct client *c, void *p, size_t n)
{
	return read(c->fd, p, n);
}

static ssize_t
plain_write(struct client *c, const void *p, size_t n)
{
	return send(c->fd, p, n, MSG_NOSIGNAL);
}

static void
plain_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
}

static const struct transport plain_transport = {
	plain_read, plain_write, plain_close,
};

/* ---- transport: TLS (tls.h client sessions) ---- */

static ssize_t
tls_tr_read(struct client *c, void *p, size_t n)
{
	struct tls_conn *t = c->tr_ctx;
	size_t total;
	int rc;

	rc = tls_conn_read(t, p, n);
	if (rc < 0) {
		errno = rc == TLS_ERR ? EPROTO : EAGAIN;
		return -1;
	}
	/* poll() cannot see what mbedTLS already holds: take it now. */
	total = (size_t)rc;
	while (rc > 0 && total < n && tls_conn_pending(t) > 0) {
		rc = tls_conn_read(t, (char *)p + total, n - total);
		if (rc > 0) {
			total += (size_t)rc;
		}
	}
	return (ssize_t)total;
}

static ssize_t
tls_tr_write(struct client *c, const void *p, size_t n)
{
	int rc = tls_conn_write(c->tr_ctx, p, n);

	if (rc < 0) {
		errno = rc == TLS_ERR ? EPROTO : EAGAIN;
		return -1;
	}
	return rc;
}

static void
tls_tr_close(struct client *c)
{
	tls_conn_close_notify(c->tr_ctx);
	tls_conn_free(c->tr_ctx);
	c->tr_ctx = NULL;
	close(c->fd);
	c->fd = -1;
}

static const struct transport tls_transport = {
	tls_tr_read, tls_tr_write, tls_tr_close,
};

/* ---- stream handling ---- */

static void
queue_push(struct client *c, struct xml_node *n)
{
	if (c->qlen == c->qcap) {
		c->qcap = c->qcap ? c->qcap * 2 : 16;
		c->queue = xrealloc(c->queue, c->qcap * sizeof(*c->queue));
	}
	c->queue[c->qlen++] = n;
}

/* Oldest queued stanza, removed from the queue; caller frees. */
static struct xml_node *
queue_pop(struct client *c)
{
	struct xml_node *n;

	if (c->qlen == 0) {
		return NULL;
	}
	n = c->queue[0];
	memmove(c->queue, c->queue + 1, (c->qlen - 1) * sizeof(*c->queue));
	c->qlen--;
	return n;
}

static void
serialize_to(const struct xml_node *n, struct buf *out)
{
	xml_serialize(n, XML_NS_CLIENT, out);
}

static void
client_fail(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
client_fail(struct client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	c->eof = 1;
}

static int
on_stream_open(void *ud, const struct xml_node *header)
{
	struct client *c = ud;

	(void)header;
	vlog("[%s] <- stream header", c->name);
	return 0;
}

static int
on_stanza(void *ud, struct xml_node *st)
{
	struct client *c = ud;

	if (verbose) {
		struct buf b;
		buf_init(&b, 0);
		serialize_to(st, &b);
		vlog("[%s] <- %.*s", c->name, (int)b.len, b.data ? b.data : "");
		buf_free(&b);
	}
	if (strcmp(st->ns, XML_NS_STREAM) == 0 &&
	    strcmp(st->name, "error") == 0) {
		const struct xml_node *k;
		const char *cond = "unknown";
		for (k = st->first_child; k != NULL; k = k->next) {
			if (k->type == XML_ELEMENT && strcmp(k->name,
			    "text") != 0) {
				cond = k->name;
				break;
			}
		}
		client_fail(c, "stream error <%s/> from the server", cond);
		xml_free(st);
		return 1;
	}
	queue_push(c, st);
	/* The rest of the bytes belong to the restarted stream. */
	if (c->negotiating && ((strcmp(st->ns, NS_SASL) == 0 &&
	    strcmp(st->name, "success") == 0) ||
	    strcmp(st->ns, NS_TLS) == 0)) {
		return 1;
	}
	return 0;
}

static int
on_stream_close(void *ud)
{
	struct client *c = ud;

	vlog("[%s] <- </stream:stream>", c->name);
	c->stream_closed = 1;
	return 1;
}

static const struct xml_callbacks stream_callbacks = {
	on_stream_open, on_stanza, on_stream_close,
};

static void
client_feed(struct client *c)
{
	size_t used = 0;
	int rc;

	while (c->inbuf.len > 0 && !c->feed_paused && !c->stream_closed &&
	    c->why[0] == '\0') {
		used = 0;
		rc = xml_feed(c->parser, c->inbuf.data, c->inbuf.len, &used);
		if (rc < 0) {
			client_fail(c, "XML from the server: %s",
			    xml_strerror(rc));
			return;
		}
		if (rc == XML_STOPPED) {
			buf_consume(&c->inbuf, used);
			if (c->negotiating && !c->stream_closed &&
			    c->why[0] == '\0') {
				c->feed_paused = 1;
			}
			continue;
		}
		buf_consume(&c->inbuf, c->inbuf.len);
	}
}

static void
client_read(struct client *c)
{
	char tmp[READ_CHUNK];
	ssize_t n;

	n = c->tr->read(c, tmp, sizeof(tmp));
	if (n > 0) {
		buf_append(&c->inbuf, tmp, (size_t)n);
		if (c->inbuf.err) {
			client_fail(c, "too much unparsed input");
			return;
		}
		client_feed(c);
	} else if (n == 0) {
		client_fail(c, "connection closed by the server");
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		client_fail(c, "read: %s", strerror(errno));
	}
}

static void
client_write(struct client *c)
{
	ssize_t n;

	while (c->outbuf.len > 0) {
		n = c->tr->write(c, c->outbuf.data, c->outbuf.len);
		if (n > 0) {
			buf_consume(&c->outbuf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			return;
		}
		client_fail(c, "write: %s", n < 0 ? strerror(errno) : "0");
		buf_reset(&c->outbuf);
		return;
	}
}

/*
 * Service every open client socket until done(arg) is true or timeout_ms
 * passes.  Returns done(arg) at the end.  done may be NULL (just wait).
 */
static int
pump(long wait_ms, int (*done)(void *), void *arg)
{
	long long deadline = now_ms() + wait_ms;
	struct pollfd *pfd = xcalloc(nclients + 1, sizeof(*pfd));
	struct client **who = xcalloc(nclients + 1, sizeof(*who));
	int ok = 0;

	for (;;) {
		if (done != NULL && done(arg)) {
			ok = 1;
			break;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			break;
		}
		nfds_t n = 0;
		for (size_t i = 0; i < nclients; i++) {
			struct client *c = clients[i];
			if (c->fd < 0 || c->eof) {
				continue;
			}
			pfd[n].fd = c->fd;
			pfd[n].events = POLLIN;
			if (c->outbuf.len > 0) {
				pfd[n].events |= POLLOUT;
			}
			pfd[n].revents = 0;
			who[n++] = c;
		}
		int rc = poll(pfd, n, (int)left);
		if (rc < 0) {
			if (errno == EINTR) {
				continue;
			}
			perror("poll");
			exit(2);
		}
		for (nfds_t i = 0; i < n; i++) {
			if (pfd[i].revents & POLLOUT) {
				client_write(who[i]);
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				client_read(who[i]);
			}
		}
	}
	free(pfd);
	free(who);
	return ok;
}

static int
done_written(void *arg)
{
	struct client *c = arg;

	return c->outbuf.len == 0 || c->eof;
}

static int
done_queued(void *arg)
{
	struct client *c = arg;

	return c->qlen > 0 || c->eof || c->stream_closed;
}

static int
done_closed(void *arg)
{
	struct client *c = arg;

	return c->eof || c->stream_closed;
}

/* Queue bytes and wait until they are written.  Returns 0 or -1. */
static int
client_send_raw(struct client *c, const char *data, size_t len)
{
	if (c->eof || c->fd < 0) {
		return -1;
	}
	vlog("[%s] -> %.*s", c->name, (int)len, data);
	buf_append(&c->outbuf, data, len);
	if (c->outbuf.err) {
		client_fail(c, "output buffer full");
		return -1;
	}
	client_write(c);
	if (c->outbuf.len > 0 && !pump(timeout_ms, done_written, c)) {
		client_fail(c, "timed out writing to the server");
		return -1;
	}
	return c->eof ? -1 : 0;
}

/* Drop scansion:* attributes (runner directives) from el and below. */
static void
strip_directives(struct xml_node *el)
{
	struct xml_attr **ap = &el->attrs;
	struct xml_node *k;

	while (*ap != NULL) {
		if (is_scansion_attr(*ap)) {
			*ap = (*ap)->next;
		} else {
			ap = &(*ap)->next;
		}
	}
	for (k = el->first_child; k != NULL; k = k->next) {
		if (k->type == XML_ELEMENT) {
			strip_directives(k);
		}
	}
}

static int
client_send_node(struct client *c, struct xml_node *n)
{
	struct buf b;
	int rc;

	strip_directives(n);
	buf_init(&b, 0);
	serialize_to(n, &b);
	rc = client_send_raw(c, b.data ? b.data : "", b.len);
	buf_free(&b);
	return rc;
}

/* Next stanza during negotiation; caller frees.  NULL with c->why set. */
static struct xml_node *
wait_stanza(struct client *c)
{
	pump(timeout_ms, done_queued, c);
	if (c->qlen > 0) {
		return queue_pop(c);
	}
	if (c->stream_closed) {
		client_fail(c, "stream closed by the server");
	} else if (!c->eof) {
		client_fail(c, "no answer from the server within %ld ms",
		    timeout_ms);
	}
	return NULL;
}

static int
send_stream_header(struct client *c, const char *domain)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='"
	    XML_NS_CLIENT "' xmlns:stream='" XML_NS_STREAM "' to='");
	xml_escape(&b, domain, strlen(domain), 1);
	buf_puts(&b, "' version='1.0'>");
	rc = client_send_raw(c, b.data, b.len);
	buf_free(&b);
	return rc;
}

static int
is_el(const struct xml_node *n, const char *name, const char *ns)
{
	return n != NULL && n->type == XML_ELEMENT &&
	    strcmp(n->name, name) == 0 && strcmp(n->ns, ns) == 0;
}

/* Concatenated text children of el; caller frees. */
static char *
text_of(const struct xml_node *el)
{
	struct buf b;
	const struct xml_node *k;

	buf_init(&b, 0);
	for (k = el->first_child; k != NULL; k = k->next) {
		if (k->type == XML_TEXT) {
			buf_append(&b, k->text, k->text_len);
		}
	}
	buf_putc(&b, '\0');
	return b.data;
}

static struct xml_node *
wait_features(struct client *c)
{
	struct xml_node *f = wait_stanza(c);

	if (f != NULL && !is_el(f, "features", XML_NS_STREAM)) {
		client_fail(c, "expected <stream:features/>, got <%s/>",
		    f->name);
		xml_free(f);
		return NULL;
	}
	return f;
}

/*
 * The channel binding for SCRAM over TLS: --cb TYPE, else the strongest
 * type of ours the server lists (XEP-0440), else the default of RFC 5802
 * and RFC 9266 (tls-unique, tls-exporter over TLS 1.3).  NULL for none.
 */
static const struct sasl_cb *
pick_channel_binding(struct client *c, const struct xml_node *features,
    struct sasl_cb *cb)
{
	const struct xml_node *list, *k;
	const char *types[TLS_CB_MAX], *type = NULL, *t;
	size_t n, i;

	if (c->tr != &tls_transport ||
	    (cb_force != NULL && strcmp(cb_force, "none") == 0)) {
		return NULL;
	}
	n = tls_conn_cb_types(c->tr_ctx, types, TLS_CB_MAX);
	list = xml_child(features, "sasl-channel-binding", NS_SASL_CB);
	for (i = 0; i < n && type == NULL; i++) {
		if (cb_force != NULL) {
			if (strcmp(cb_force, types[i]) == 0) {
				type = types[i];
			}
			continue;
		}
		if (list == NULL) {
			if (strcmp(types[i], "tls-server-end-point") != 0) {
				type = types[i];
			}
			continue;
		}
		for (k = xml_child(list, "channel-binding", NS_SASL_CB);
		    k != NULL; k = xml_next(k, "channel-binding", NS_SASL_CB)) {
			t = xml_attr(k, "type");
			if (t != NULL && strcmp(t, types[i]) == 0) {
				type = types[i];
				break;
			}
		}
	}
	if (type == NULL) {
		return NULL;
	}
	cb->type = type;
	cb->data = tls_conn_cb_data(c->tr_ctx, type, &cb->len);
	return cb->data != NULL ? cb : NULL;
}

static int
sasl_auth(struct client *c, const struct xml_node *features,
    const char *local)
{
	static const char *const prefs[] = {
		"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS",
		"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", NULL,
	};
	const struct xml_node *mechs, *m;
	const char *mech = NULL;
	struct sasl_cb cbuf;
	const struct sasl_cb *cb = pick_channel_binding(c, features, &cbuf);
	struct login *l = NULL;
	struct xml_node *st = NULL;
	struct buf msg;
	int rc = -1;

	buf_init(&msg, 0);
	mechs = xml_child(features, "mechanisms", NS_SASL);
	if (mechs == NULL) {
		client_fail(c, "no SASL mechanisms offered");
		goto out;
	}
	for (size_t i = 0; prefs[i] != NULL && mech == NULL; i++) {
		if (cb == NULL && strstr(prefs[i], "-PLUS") != NULL) {
			continue;
		}
		for (m = xml_child(mechs, "mechanism", NS_SASL); m != NULL;
		    m = xml_next(m, "mechanism", NS_SASL)) {
			char *t = text_of(m);
			size_t tl = strlen(t);
			const char *tv = trim_view(t, &tl);
			int hit = tl == strlen(prefs[i]) &&
			    memcmp(tv, prefs[i], tl) == 0;
			free(t);
			if (hit) {
				mech = prefs[i];
				break;
			}
		}
	}
	if (mech == NULL) {
		client_fail(c, "no usable SASL mechanism offered");
		goto out;
	}
	/* With binding data and a non-PLUS mechanism the client sends "y":
	 * it binds, but the server did not offer -PLUS (RFC 5802 §6). */
	l = login_new(mech, local, c->password, cb);
	if (l == NULL) {
		client_fail(c, "SASL client for %s unavailable", mech);
		goto out;
	}
	if (login_start(l, &msg) != 0) {
		client_fail(c, "%s", login_error(l));
		goto out;
	}
	c->negotiating = 1;
	if (client_send_raw(c, msg.data, msg.len) < 0) {
		goto out;
	}
	for (;;) {
		if ((st = wait_stanza(c)) == NULL) {
			goto out;
		}
		if (st->type != XML_ELEMENT || strcmp(st->ns, NS_SASL) != 0) {
			client_fail(c, "unexpected <%s/> during SASL",
			    st->name);
			goto out;
		}
		char *t = text_of(st);
		size_t tl = strlen(t);
		const char *tv = trim_view(t, &tl);
		buf_reset(&msg);
		enum login_result r = login_step(l, st->name, tv, tl, &msg);
		free(t);
		if (r == LOGIN_OK) {
			break;
		} else if (r == LOGIN_FAILED && is_el(st, "failure", NS_SASL)) {
			const struct xml_node *k;
			const char *cond = "?";
			for (k = st->first_child; k != NULL; k = k->next) {
				if (k->type == XML_ELEMENT &&
				    strcmp(k->name, "text") != 0) {
					cond = k->name;
					break;
				}
			}
			client_fail(c, "%s: <%s/>", login_error(l), cond);
			goto out;
		} else if (r == LOGIN_FAILED) {
			client_fail(c, "%s", login_error(l));
			goto out;
		}
		if (client_send_raw(c, msg.data, msg.len) < 0) {
			goto out;
		}
		xml_free(st);
		st = NULL;
	}
	vlog("[%s] authenticated with %s%s%s", c->name, mech,
	    cb != NULL && strstr(mech, "-PLUS") ? " " : "",
	    cb != NULL && strstr(mech, "-PLUS") ? cb->type : "");
	rc = 0;
out:
	xml_free(st);
	login_free(l);
	buf_free(&msg);
	return rc;
}

/* Send an iq set with the payload, wait for the result; caller frees. */
static struct xml_node *
iq_set(struct client *c, const char *id, const char *payload,
    const char *what)
{
	struct buf b;
	struct xml_node *st;

	buf_init(&b, 0);
	buf_printf(&b, "<iq type='set' id='%s'>%s</iq>", id, payload);
	if (client_send_raw(c, b.data, b.len) < 0) {
		buf_free(&b);
		return NULL;
	}
	buf_free(&b);
	if ((st = wait_stanza(c)) == NULL) {
		return NULL;
	}
	if (!is_el(st, "iq", XML_NS_CLIENT) || xml_attr(st, "type") == NULL ||
	    strcmp(xml_attr(st, "type"), "result") != 0 ||
	    xml_attr(st, "id") == NULL || strcmp(xml_attr(st, "id"), id) != 0) {
		const struct xml_node *e = xml_child(st, "error", NULL);
		const struct xml_node *k = e ? xml_child(e, NULL, NS_STANZAS) :
		    NULL;
		client_fail(c, "%s failed (<%s type='%s'>%s%s)", what,
		    st->name, xml_attr(st, "type") ? xml_attr(st, "type") : "",
		    k ? " " : "", k ? k->name : "");
		xml_free(st);
		return NULL;
	}
	return st;
}

static int
bind_resource(struct client *c, const struct xml_node *features)
{
	const char *res = c->resource;
	const char *slash = strchr(c->jid, '/');
	struct buf b;
	struct xml_node *st, *bind, *jid;
	const struct xml_node *sess;
	char *full;

	if (xml_child(features, "bind", NS_BIND) == NULL) {
		client_fail(c, "server offers no resource binding");
		return -1;
	}
	if (res == NULL && slash != NULL) {
		res = slash + 1;
	}
	buf_init(&b, 0);
	buf_puts(&b, "<bind xmlns='" NS_BIND "'>");
	if (res != NULL && res[0] != '\0') {
		buf_puts(&b, "<resource>");
		xml_escape(&b, res, strlen(res), 0);
		buf_puts(&b, "</resource>");
	}
	buf_puts(&b, "</bind>");
	st = iq_set(c, "bind_1", b.data, "resource binding");
	buf_free(&b);
	if (st == NULL) {
		return -1;
	}
	bind = xml_child(st, "bind", NS_BIND);
	jid = bind ? xml_child(bind, "jid", NS_BIND) : NULL;
	if (jid == NULL) {
		client_fail(c, "bind result without <jid/>");
		xml_free(st);
		return -1;
	}
	full = text_of(jid);
	size_t fl = strlen(full);
	const char *fv = trim_view(full, &fl);
	c->full_jid = xstrndup(fv, fl);
	c->bare_jid = bare_of(c->full_jid);
	free(full);
	xml_free(st);

	/* RFC 3921 session establishment, unless marked optional (RFC 6121
	 * dropped it; servers that still list it add <optional/>). */
	sess = xml_child(features, "session", NS_SESSION);
	if (sess != NULL && xml_child(sess, "optional", NS_SESSION) == NULL) {
		st = iq_set(c, "sess_1", "<session xmlns='" NS_SESSION "'/>",
		    "session establishment");
		if (st == NULL) {
			return -1;
		}
		xml_free(st);
	}
	return 0;
}

static int
tcp_connect(struct client *c, const char *host, const char *port)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	e = getaddrinfo(host, port, &hints, &res);
	if (e != 0) {
		client_fail(c, "%s:%s: %s", host, port, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			int one = 1;

			/* each stanza leaves at once: Nagle would hold a
			 * client's second send back ~40 ms while another
			 * client's overtakes it */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			break;
		}
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0) {
		client_fail(c, "connect to %s:%s: %s", host, port,
		    strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		client_fail(c, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->tr = &plain_transport;
	return 0;
}

/* Run the client TLS handshake on c's socket (poll until done or the
 * timeout); the transport becomes TLS.  0, or -1 with c->why set. */
static int
client_tls_handshake(struct client *c, const char *domain)
{
	struct tls_conn *t = tls_conn_new_client(c->fd, domain);
	long long deadline = now_ms() + timeout_ms, left;
	struct pollfd p;
	int rc;

	if (t == NULL) {
		client_fail(c, "cannot set up a TLS session");
		return -1;
	}
	c->tr = &tls_transport;
	c->tr_ctx = t;
	while ((rc = tls_conn_handshake(t)) != 0) {
		if (rc == TLS_ERR) {
			client_fail(c, "TLS handshake: %s", tls_conn_error(t));
			return -1;
		}
		left = deadline - now_ms();
		if (left <= 0) {
			client_fail(c, "TLS handshake timed out");
			return -1;
		}
		p.fd = c->fd;
		p.events = rc == TLS_WANT_READ ? POLLIN : POLLOUT;
		p.revents = 0;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			client_fail(c, "poll: %s", strerror(errno));
			return -1;
		}
	}
	vlog("[%s] TLS %s %s", c->name, tls_conn_version(t),
	    tls_conn_cipher(t));
	return 0;
}

/* STARTTLS (RFC 6120 §5.4): <starttls/>, <proceed/>, handshake.  The
 * caller restarts the stream.  0, or -1 with c->why set. */
static int
client_starttls(struct client *c, const char *domain)
{
	static const char cmd[] = "<starttls xmlns='" NS_TLS "'/>";
	struct xml_node *st;
	int ok;

	c->negotiating = 1;
	if (client_send_raw(c, cmd, sizeof(cmd) - 1) < 0 ||
	    (st = wait_stanza(c)) == NULL) {
		return -1;
	}
	ok = is_el(st, "proceed", NS_TLS);
	if (!ok) {
		client_fail(c, "STARTTLS answered with <%s/>", st->name);
	}
	xml_free(st);
	if (!ok) {
		return -1;
	}
	if (c->inbuf.len > 0) {
		client_fail(c, "data after <proceed/> in the clear");
		return -1;
	}
	c->negotiating = 0;
	c->feed_paused = 0;
	xml_parser_reset(c->parser);
	return client_tls_handshake(c, domain);
}

/*
 * Connect, negotiate the stream, authenticate and bind.  Returns 0, or -1
 * with c->why set.
 */
static int
client_connect(struct client *c)
{
	const char *host = override_host ? override_host :
	    c->connect_host ? c->connect_host : DEFAULT_HOST;
	const char *port = override_port ? override_port :
	    c->connect_port ? c->connect_port : DEFAULT_PORT;
	char *bare = bare_of(c->jid);
	char *at = strchr(bare, '@');
	const char *domain = at ? at + 1 : bare;
	char *local = at ? xstrndup(bare, (size_t)(at - bare)) : xstrdup("");
	struct xml_node *f = NULL;
	int rc = -1;

	c->why[0] = '\0';
	if (tcp_connect(c, host, port) < 0) {
		goto out;
	}
	buf_init(&c->inbuf, INBUF_MAX);
	buf_init(&c->outbuf, OUTBUF_MAX);
	c->parser = xml_parser_new(NULL, &stream_callbacks, c, 1);
	if (tls_mode == TLS_MODE_DIRECT &&
	    client_tls_handshake(c, domain) < 0) {
		goto out;
	}
	if (send_stream_header(c, domain) < 0 ||
	    (f = wait_features(c)) == NULL) {
		goto out;
	}
	if (c->tr != &tls_transport && (tls_mode == TLS_MODE_STARTTLS ||
	    (xml_child(f, "starttls", NS_TLS) != NULL &&
	    xml_child(xml_child(f, "starttls", NS_TLS), "required",
	    NS_TLS) != NULL))) {
		if (xml_child(f, "starttls", NS_TLS) == NULL) {
			client_fail(c, "server does not offer STARTTLS");
			goto out;
		}
		xml_free(f);
		f = NULL;
		if (client_starttls(c, domain) < 0 ||
		    send_stream_header(c, domain) < 0 ||
		    (f = wait_features(c)) == NULL) {
			goto out;
		}
		if (xml_child(f, "starttls", NS_TLS) != NULL) {
			client_fail(c, "STARTTLS offered again over TLS");
			goto out;
		}
	}
	if (sasl_auth(c, f, local) < 0) {
		goto out;
	}
	xml_free(f);
	f = NULL;
	xml_parser_reset(c->parser);
	c->feed_paused = 0;
	c->negotiating = 0;
	if (send_stream_header(c, domain) < 0) {
		goto out;
	}
	client_feed(c);
	if ((f = wait_features(c)) == NULL || bind_resource(c, f) < 0) {
		goto out;
	}
	c->state = CL_UP;
	vlog("[%s] connected as %s", c->name, c->full_jid);
	rc = 0;
out:
	xml_free(f);
	free(bare);
	free(local);
	return rc;
}

static void
client_drop(struct client *c)
{
	size_t i;

	if (c->fd >= 0) {
		c->tr->close(c);
	}
	if (c->parser != NULL) {
		xml_parser_free(c->parser);
		c->parser = NULL;
	}
	for (i = 0; i < c->qlen; i++) {
		xml_free(c->queue[i]);
	}
	c->qlen = 0;
	buf_free(&c->inbuf);
	buf_free(&c->outbuf);
}

/* Close the stream cleanly: send </stream:stream>, wait for the server's. */
static void
client_disconnect(struct client *c)
{
	static const char close_tag[] = "</stream:stream>";

	if (c->fd >= 0 && !c->eof) {
		if (client_send_raw(c, close_tag, sizeof(close_tag) - 1) == 0) {
			pump(CLOSE_WAIT_MS, done_closed, c);
		}
	}
	client_drop(c);
	c->state = CL_GONE;
}

/* ---- matching ---- */

static int
is_nsdecl(const struct xml_attr *a)
{
	if (a->prefix != NULL && strcmp(a->prefix, "xmlns") == 0) {
		return 1;
	}
	if (a->ns != NULL && strcmp(a->ns, NS_XMLNS) == 0) {
		return 1;
	}
	return a->ns == NULL && a->prefix == NULL &&
	    strcmp(a->name, "xmlns") == 0;
}

static int
is_scansion_attr(const struct xml_attr *a)
{
	return (a->ns != NULL && strcmp(a->ns, SCANSION_NS) == 0) ||
	    (a->prefix != NULL && strcmp(a->prefix, "scansion") == 0);
}

static int
same_ns(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		return a == b || (a == NULL && b[0] == '\0') ||
		    (b == NULL && a[0] == '\0');
	}
	return strcmp(a, b) == 0;
}

static const struct xml_attr *
find_attr(const struct xml_node *el, const struct xml_attr *want)
{
	const struct xml_attr *a;

	for (a = el->attrs; a != NULL; a = a->next) {
		if (strcmp(a->name, want->name) == 0 &&
		    same_ns(a->ns, want->ns) && !is_nsdecl(a)) {
			return a;
		}
	}
	return NULL;
}

static int
capture_check(const char *name, size_t name_len, const char *value)
{
	size_t i;

	for (i = 0; i < ncaptures; i++) {
		if (strlen(captures[i].name) == name_len &&
		    memcmp(captures[i].name, name, name_len) == 0) {
			return strcmp(captures[i].value, value) == 0;
		}
	}
	if (ncaptures == capcap) {
		capcap = capcap ? capcap * 2 : 8;
		captures = xrealloc(captures, capcap * sizeof(*captures));
	}
	captures[ncaptures].name = xstrndup(name, name_len);
	captures[ncaptures].value = xstrdup(value);
	ncaptures++;
	return 1;
}

/* Forget captures recorded after a failed tentative match. */
static void
capture_rollback(size_t keep)
{
	while (ncaptures > keep) {
		ncaptures--;
		free(captures[ncaptures].name);
		free(captures[ncaptures].value);
	}
}

static int
value_matches(const char *want, const char *got)
{
	static const char any[] = "{scansion:any}";
	static const char cap[] = "{scansion:capture:";
	size_t wl = strlen(want);

	if (strcmp(want, any) == 0) {
		return 1;
	}
	if (wl > sizeof(cap) && memcmp(want, cap, sizeof(cap) - 1) == 0 &&
	    want[wl - 1] == '}') {
		return capture_check(want + sizeof(cap) - 1,
		    wl - sizeof(cap), got);
	}
	return strcmp(want, got) == 0;
}

static int
text_matches(const struct xml_node *want, const struct xml_node *got)
{
	char *wt = text_of(want), *gt;
	size_t wl = strlen(wt), gl;
	const char *wv = trim_view(wt, &wl), *gv;
	int ok = 1;

	if (wl > 0) {
		gt = text_of(got);
		gl = strlen(gt);
		gv = trim_view(gt, &gl);
		if (!(wl == 14 && memcmp(wv, "{scansion:any}", 14) == 0)) {
			ok = wl == gl && memcmp(wv, gv, wl) == 0;
		}
		free(gt);
	}
	free(wt);
	return ok;
}

static int match_el(const struct xml_node *want, const struct xml_node *got,
    int parent_strict, const char *parent_ns);

static size_t
elements_of(const struct xml_node *el, const struct xml_node ***out)
{
	const struct xml_node *k;
	size_t n = 0, i = 0;

	for (k = el->first_child; k != NULL; k = k->next) {
		n += k->type == XML_ELEMENT;
	}
	*out = xcalloc(n + 1, sizeof(**out));
	for (k = el->first_child; k != NULL; k = k->next) {
		if (k->type == XML_ELEMENT) {
			(*out)[i++] = k;
		}
	}
	return n;
}

/*
 * Non-strict children: give each expected child its own received child,
 * trying every candidate (backtracking) so that a greedy choice does not
 * make a matchable stanza fail.
 */
static int
assign_children(const struct xml_node **want, size_t nwant, size_t i,
    const struct xml_node **got, size_t ngot, char *used, int strict,
    const char *ns)
{
	size_t j, keep;

	if (i == nwant) {
		return 1;
	}
	for (j = 0; j < ngot; j++) {
		if (used[j]) {
			continue;
		}
		if (++backtrack_steps > MAX_BACKTRACK_STEPS) {
			return 0;
		}
		keep = ncaptures;
		if (match_el(want[i], got[j], strict, ns)) {
			used[j] = 1;
			if (assign_children(want, nwant, i + 1, got, ngot,
			    used, strict, ns)) {
				return 1;
			}
			used[j] = 0;
		}
		capture_rollback(keep);
	}
	return 0;
}

/*
 * Does the received element got match the expected want?  SCANSION.md:
 * elements in the parent's namespace inherit the parent's mode (the
 * stanza itself is non-strict); an element with its own namespace is
 * strict, and so are its descendants; scansion:strict overrides.
 */
static int
match_el(const struct xml_node *want, const struct xml_node *got,
    int parent_strict, const char *parent_ns)
{
	const struct xml_attr *a;
	const struct xml_node **wk = NULL, **gk = NULL;
	size_t nw, ng, nwattr = 0, ngattr = 0, i, keep = ncaptures;
	int strict, ok = 0;
	char *used = NULL;

	if (got->type != XML_ELEMENT || strcmp(want->name, got->name) != 0 ||
	    !same_ns(want->ns, got->ns)) {
		return 0;
	}
	strict = parent_strict || !same_ns(want->ns, parent_ns);
	for (a = want->attrs; a != NULL; a = a->next) {
		if (is_scansion_attr(a) && strcmp(a->name, "strict") == 0) {
			strict = strcmp(a->value, "true") == 0;
		}
	}
	for (a = want->attrs; a != NULL; a = a->next) {
		const struct xml_attr *g;
		if (is_nsdecl(a) || is_scansion_attr(a)) {
			continue;
		}
		nwattr++;
		g = find_attr(got, a);
		if (g == NULL || !value_matches(a->value, g->value)) {
			goto out;
		}
	}
	if (strict) {
		for (a = got->attrs; a != NULL; a = a->next) {
			ngattr += !is_nsdecl(a);
		}
		if (ngattr != nwattr) {
			goto out;
		}
	}
	if (!text_matches(want, got)) {
		goto out;
	}
	nw = elements_of(want, &wk);
	ng = elements_of(got, &gk);
	if (strict) {
		if (nw != ng) {
			goto out;
		}
		for (i = 0; i < nw; i++) {
			if (!match_el(wk[i], gk[i], 1, want->ns)) {
				goto out;
			}
		}
		ok = 1;
	} else if (nw <= ng) {
		used = xcalloc(ng + 1, 1);
		ok = assign_children(wk, nw, 0, gk, ng, used, 0, want->ns);
	}
out:
	if (!ok) {
		capture_rollback(keep);
	}
	free(used);
	free(wk);
	free(gk);
	return ok;
}

/* ---- running ---- */

static void
print_node(const char *indent, const struct xml_node *n)
{
	struct buf b;

	buf_init(&b, 0);
	serialize_to(n, &b);
	printf("%s%.*s\n", indent, (int)b.len, b.data ? b.data : "");
	buf_free(&b);
}

static void
fail_header(const struct action *a)
{
	printf("FAIL %s:%d: %s", scenario_path, a->line, a->text);
}

/*
 * receives: for each expected element, take stanzas in order, skipping
 * (and consuming) those that do not match, until one matches.
 */
static int
do_receive(const struct action *a, const struct xml_node *block)
{
	struct client *c = a->cl;
	const struct xml_node *want;
	struct xml_node **skipped = NULL;
	size_t nskipped = 0, scap = 0, i;
	int ok = 1;

	for (want = block->first_child; want != NULL && ok;
	    want = want->next) {
		if (want->type != XML_ELEMENT) {
			continue;
		}
		long long deadline = now_ms() + timeout_ms;
		int found = 0;
		while (!found) {
			if (c->qlen == 0) {
				long long left = deadline - now_ms();
				if (left > 0 && !c->eof && !c->stream_closed) {
					pump((long)left, done_queued, c);
				}
				if (c->qlen == 0) {
					break;
				}
			}
			struct xml_node *got = queue_pop(c);
			backtrack_steps = 0;
			if (match_el(want, got, 0, XML_NS_CLIENT)) {
				found = 1;
				xml_free(got);
				break;
			}
			if (nskipped == scap) {
				scap = scap ? scap * 2 : 8;
				skipped = xrealloc(skipped,
				    scap * sizeof(*skipped));
			}
			skipped[nskipped++] = got;
		}
		if (!found) {
			ok = 0;
			fail_header(a);
			if (c->why[0] != '\0') {
				printf(" (%s)\n", c->why);
			} else if (c->stream_closed) {
				printf(" (stream closed by the server)\n");
			} else if (nskipped > 0) {
				printf(" (no matching stanza within %ld ms; "
				    "%zu other stanza(s) received)\n",
				    timeout_ms, nskipped);
			} else {
				printf(" (nothing received within %ld ms)\n",
				    timeout_ms);
			}
			printf("  expected:\n");
			print_node("    ", want);
			if (nskipped > 0) {
				printf("  received (not matching):\n");
				for (i = 0; i < nskipped; i++) {
					print_node("    ", skipped[i]);
				}
			} else {
				printf("  received: nothing\n");
			}
		} else if (nskipped > 0) {
			vlog("[%s] skipped %zu stanza(s)", c->name, nskipped);
		}
		for (i = 0; i < nskipped; i++) {
			xml_free(skipped[i]);
		}
		nskipped = 0;
	}
	free(skipped);
	return ok ? 0 : -1;
}

static int
do_nothing(const struct action *a)
{
	struct client *c = a->cl;
	size_t i;

	if (c->qlen == 0 && !c->eof && !c->stream_closed) {
		pump(nothing_ms, done_queued, c);
	}
	if (c->qlen == 0 && c->why[0] == '\0' && !c->stream_closed) {
		return 0;
	}
	fail_header(a);
	if (c->qlen == 0) {
		printf(" (%s)\n", c->why[0] ? c->why :
		    "stream closed by the server");
		return -1;
	}
	printf(" (%zu stanza(s) received)\n  expected: nothing\n"
	    "  received:\n", c->qlen);
	for (i = 0; i < c->qlen; i++) {
		print_node("    ", c->queue[i]);
	}
	return -1;
}

static int
run_action(const struct action *a, const struct action *prev)
{
	struct client *c = a->cl;
	struct xml_node *block = NULL;
	struct xml_node *n;
	struct buf sub;
	char err[256];
	int rc = -1;

	if (c->state == CL_GONE) {
		vlog("%s:%d: %s: ignored, client disconnected",
		    scenario_path, a->line, a->text);
		return 0;
	}
	vlog("%s:%d: %s", scenario_path, a->line, a->text);
	if (a->verb == V_CONNECT) {
		if (c->state != CL_NEW) {
			fail_header(a);
			printf(" (client already connected)\n");
			return -1;
		}
		if (client_connect(c) < 0) {
			fail_header(a);
			printf(" (%s)\n", c->why);
			return -1;
		}
		return 0;
	}
	if (c->state != CL_UP) {
		fail_header(a);
		printf(" (client is not connected)\n");
		return -1;
	}
	if (a->verb == V_DISCONNECT) {
		client_disconnect(c);
		return 0;
	}
	if (a->verb == V_NOTHING) {
		return do_nothing(a);
	}
	buf_init(&sub, 0);
	if (substitute(a->xml, &sub, err, sizeof(err)) < 0 ||
	    (block = parse_block(sub.data ? sub.data : "", err,
	    sizeof(err))) == NULL) {
		fail_header(a);
		printf(" (%s)\n", err);
		goto out;
	}
	if (a->verb == V_SEND) {
		/* Two sends by different clients race inside the server. */
		if (prev != NULL && prev->verb == V_SEND && prev->cl != c &&
		    pause_ms > 0) {
			pump(pause_ms, NULL, NULL);
		}
		for (n = block->first_child; n != NULL; n = n->next) {
			if (n->type != XML_ELEMENT) {
				continue;
			}
			if (client_send_node(c, n) < 0) {
				fail_header(a);
				printf(" (%s)\n", c->why[0] ? c->why :
				    "cannot send");
				goto out;
			}
		}
		rc = 0;
	} else {
		rc = do_receive(a, block);
	}
out:
	xml_free(block);
	buf_free(&sub);
	return rc;
}

static void
free_all(void)
{
	size_t i;

	for (i = 0; i < nclients; i++) {
		struct client *c = clients[i];
		client_drop(c);
		free(c->queue);
		free(c->name);
		free(c->jid);
		free(c->password);
		free(c->resource);
		free(c->connect_host);
		free(c->connect_port);
		free(c->full_jid);
		free(c->bare_jid);
		free(c);
	}
	free(clients);
	for (i = 0; i < nactions; i++) {
		free(actions[i].text);
		free(actions[i].xml);
	}
	free(actions);
	capture_rollback(0);
	free(captures);
	free(title);
	free(override_host);
	free(override_port);
}

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("free-port");
		return 2;
	}
	printf("%u\n", ntohs(sin.sin_port));
	close(fd);
	return 0;
}

/* Has process pid exited (gone, or a zombie not yet reaped)? */
static int
pid_gone(long pid)
{
	char path[64], st[512];
	FILE *f;
	size_t n;
	const char *rp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL) {
		return 1;
	}
	n = fread(st, 1, sizeof(st) - 1, f);
	fclose(f);
	st[n] = '\0';
	rp = strrchr(st, ')');
	return rp == NULL || rp[1] == '\0' || rp[2] == 'Z' || rp[2] == 'X';
}

/* Poll until process pid has exited; 0, or 1 after timeout_ms. */
static int
wait_exit(long pid)
{
	long long deadline = now_ms() + timeout_ms;

	while (!pid_gone(pid)) {
		if (now_ms() >= deadline) {
			return 1;
		}
		poll(NULL, 0, 10);
	}
	return 0;
}

/* Poll until host:port accepts a TCP connection; see the usage above. */
static int
wait_port(long pid)
{
	long long deadline = now_ms() + timeout_ms;
	struct addrinfo hints, *res = NULL;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	e = getaddrinfo(override_host, override_port, &hints, &res);
	if (e != 0) {
		fprintf(stderr, "scansion: %s: %s\n", override_host,
		    gai_strerror(e));
		return 2;
	}
	for (;;) {
		int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
		    res->ai_protocol);
		if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
			close(fd);
			freeaddrinfo(res);
			return 0;
		}
		if (fd >= 0) {
			close(fd);
		}
		if (pid > 0 && pid_gone(pid)) {
			fprintf(stderr, "scansion: process %ld exited before "
			    "%s:%s accepted connections\n", pid, override_host,
			    override_port);
			break;
		}
		if (now_ms() >= deadline) {
			fprintf(stderr, "scansion: %s:%s not accepting "
			    "connections after %ld ms\n", override_host,
			    override_port, timeout_ms);
			break;
		}
		poll(NULL, 0, 10);
	}
	freeaddrinfo(res);
	return 1;
}

static void
print_accounts(void)
{
	size_t i, j;

	for (i = 0; i < nclients; i++) {
		char *bi = bare_of(clients[i]->jid);
		int dup = 0;
		for (j = 0; j < i && !dup; j++) {
			char *bj = bare_of(clients[j]->jid);
			dup = strcmp(bi, bj) == 0;
			free(bj);
		}
		if (!dup) {
			printf("%s %s\n", bi, clients[i]->password);
		}
		free(bi);
	}
}

static long
parse_seconds(const char *s)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || *end != '\0' || d < 0 || d > 3600) {
		fprintf(stderr, "scansion: bad number of seconds '%s'\n", s);
		exit(2);
	}
	return (long)(d * 1000 + 0.5);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: scansion [-v] [--connect HOST:PORT] [--timeout SEC]\n"
	    "                [--nothing-wait SEC] [--pause SEC]\n"
	    "                [--tls auto|starttls|direct] [--cb TYPE|none] "
	    "FILE\n"
	    "       scansion --accounts FILE\n"
	    "       scansion --free-port\n"
	    "       scansion --wait-port HOST:PORT [--wait-pid PID] "
	    "[--timeout SEC]\n"
	    "       scansion --wait-exit PID [--timeout SEC]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *file = NULL;
	int accounts = 0, waitport = 0, i, rc = 0;
	long waitpid_ = 0, waitexit = 0;
	size_t k;
	char *text;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "-v") == 0) {
			verbose = 1;
		} else if (strcmp(o, "--free-port") == 0) {
			return free_port();
		} else if (strcmp(o, "--accounts") == 0) {
			accounts = 1;
		} else if (strcmp(o, "--wait-pid") == 0 && i + 1 < argc) {
			waitpid_ = strtol(argv[++i], NULL, 10);
		} else if (strcmp(o, "--wait-exit") == 0 && i + 1 < argc) {
			waitexit = strtol(argv[++i], NULL, 10);
		} else if ((strcmp(o, "--connect") == 0 ||
		    strcmp(o, "--wait-port") == 0) && i + 1 < argc) {
			waitport = strcmp(o, "--wait-port") == 0;
			const char *hp = argv[++i];
			const char *colon = strrchr(hp, ':');
			if (colon == NULL || colon == hp || colon[1] == '\0') {
				usage();
			}
			free(override_host);
			free(override_port);
			if (hp[0] == '[' && colon[-1] == ']') {
				override_host = xstrndup(hp + 1,
				    (size_t)(colon - hp - 2));
			} else {
				override_host = xstrndup(hp,
				    (size_t)(colon - hp));
			}
			override_port = xstrdup(colon + 1);
		} else if (strcmp(o, "--timeout") == 0 && i + 1 < argc) {
			timeout_ms = parse_seconds(argv[++i]);
		} else if (strcmp(o, "--nothing-wait") == 0 && i + 1 < argc) {
			nothing_ms = parse_seconds(argv[++i]);
		} else if (strcmp(o, "--pause") == 0 && i + 1 < argc) {
			pause_ms = parse_seconds(argv[++i]);
		} else if (strcmp(o, "--tls") == 0 && i + 1 < argc) {
			o = argv[++i];
			if (strcmp(o, "starttls") == 0) {
				tls_mode = TLS_MODE_STARTTLS;
			} else if (strcmp(o, "direct") == 0) {
				tls_mode = TLS_MODE_DIRECT;
			} else if (strcmp(o, "auto") == 0 ||
			    strcmp(o, "none") == 0 || o[0] == '\0') {
				tls_mode = TLS_MODE_AUTO;
			} else {
				usage();
			}
		} else if (strcmp(o, "--cb") == 0 && i + 1 < argc) {
			cb_force = argv[++i];
		} else if (o[0] == '-' || file != NULL) {
			usage();
		} else {
			file = o;
		}
	}
	if (waitexit > 0) {
		free_all();
		return wait_exit(waitexit);
	}
	if (waitport) {
		rc = wait_port(waitpid_);
		free_all();
		return rc;
	}
	if (file == NULL) {
		usage();
	}
	scenario_path = file;
	text = read_file(file);
	if (text == NULL) {
		fprintf(stderr, "scansion: %s: %s\n", file, strerror(errno));
		return 2;
	}
	if (parse_scenario(text) < 0) {
		free(text);
		free_all();
		return 2;
	}
	free(text);
	if (accounts) {
		print_accounts();
		free_all();
		return 0;
	}
	if (title != NULL) {
		vlog("scenario: %s", title);
	}
	for (k = 0; k < nactions; k++) {
		if (run_action(&actions[k], k > 0 ? &actions[k - 1] : NULL) <
		    0) {
			rc = 1;
			break;
		}
	}
	for (k = 0; k < nclients; k++) {
		if (clients[k]->state == CL_UP) {
			client_disconnect(clients[k]);
		}
	}
	if (rc == 0) {
		printf("PASS %s\n", file);
	}
	fflush(stdout);
	free_all();
	return rc;
}
