/*
 * pep_bench.c - PEP (XEP-0163) fan-out and publish cost through a running
 * server, end to end.
 *
 * usage: pep_bench HOST PORT USERPREFIX PASSWORD [CONTACTS...] [-n NODES]
 *        (CONTACTS 0: the node phase alone)
 *
 * Accounts USERPREFIX<k> (all with PASSWORD) must exist; each round takes
 * the next unused ones, so no account is in two rounds.  For each count
 * of contacts (default 100 1000) it logs in an owner and that many
 * contacts (PLAIN), gives every contact a mutual presence
 * subscription with the owner (contacts ask, the owner approves and asks
 * back, the contacts approve), has the owner publish a first item, then
 * has every contact send presence with XEP-0115 caps whose features list
 * NODE+notify.  Every contact answers the server's disco#info query for
 * its caps (any iq with id 'disco', as Prosody and uxmppd send it) and
 * is ready once the last item reached it (XEP-0163 §4.3.2).  Then:
 *
 *  - latency: one publish at a time; the time from the publish's write to
 *    the event's arrival at each contact: p50 and p99 over all;
 *  - throughput: the owner keeps a window of publishes in flight (it
 *    waits for its iq results); notifications per second is publishes x
 *    contacts over the wall time until the last contact got the last one.
 *
 * Then the node phase (-n NODES, default 10000; 0 skips it): a publisher
 * measures publishes per second to one node of its own (nobody else
 * hears it) with a window in flight, then NODES/100 other accounts create
 * 100 PEP nodes each by publishing (auto-create), and the publisher
 * measures again with those NODES nodes existing.
 *
 * Arrival is detected by counting markers ("</message>", "type='result'",
 * ...) in each connection's stream, so everything else is drained.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "bench/bench_client.h"
#include "buf.h"
#include "caps.h"
#include "xml.h"

#define MARK_MAX	24
#define WINDOW		32	/* throughput: publishes in flight */
#define DEADLINE_S	180
#define NODES_PER_ACCOUNT 100	/* under PUBSUB_MAX_NODES_PER_SERVICE */
#define NODE		"eu.siacs.conversations.axolotl.devicelist"
#define CAPS_NODE	"https://uxmppd.example/pep_bench"

enum mark {
	M_MSG, M_RESULT, M_DISCO, M_SUBSCRIBE, M_BOTH, M_SUCCESS, M_NMARKS
};
static const char *const marks[M_NMARKS] = {
	"</message>", "type='result'", "id='disco'", "type='subscribe'",
	"subscription='both'", "<success"
};

struct client {
	int	 fd;
	int	 account;		/* USERPREFIX<account> */
	struct bench_tail tail;	/* end of the previous read */
	unsigned long seen[M_NMARKS];
	unsigned long answered;		/* disco queries answered */
	unsigned long copies;		/* event messages per publish */
};

static struct client *cl;
static int ncl, epfd;
static size_t pending;		/* clients below their target */
static const char *domain = "localhost";
static const char *prefix;
static char disco_reply[2048];	/* our disco#info answer, after "to='" */
static char caps_ver_s[128];

static int
send_str(const struct client *c, const char *s)
{
	return bench_send_all(c->fd, s, strlen(s));
}

/* Answer the caps query whose id attribute is at q in data (n bytes):
 * to its from, or to fallback when the tag is cut by the read. */
static void
answer_disco(const struct client *c, const char *data, size_t n,
    const char *q, const char *fallback)
{
	const char *lt = q, *gt, *f, *e;
	char to[256], s[2400];

	snprintf(to, sizeof(to), "%s", fallback);
	while (lt > data && *lt != '<') {
		lt--;
	}
	gt = memchr(q, '>', n - (size_t)(q - data));
	if (*lt == '<' && gt != NULL &&
	    (f = memmem(lt, (size_t)(gt - lt), " from='", 7)) != NULL) {
		f += 7;
		e = memchr(f, '\'', (size_t)(gt - f));
		if (e != NULL && (size_t)(e - f) < sizeof(to)) {
			memcpy(to, f, (size_t)(e - f));
			to[e - f] = '\0';
		}
	}
	snprintf(s, sizeof(s), "<iq type='result' id='disco' to='%s'%s", to,
	    disco_reply);
	send_str(c, s);
}

/* Answer each caps query of this read (see answer_disco). */
static void
answer_discos(struct client *c, const char *data, size_t n,
    const char *fallback)
{
	const char *p = data, *m = marks[M_DISCO];
	size_t ml = strlen(m);

	while (c->answered < c->seen[M_DISCO] &&
	    (p = memmem(p, n - (size_t)(p - data), m, ml)) != NULL) {
		answer_disco(c, data, n, p, fallback);
		c->answered++;
		p += ml;
	}
	/* one split across two reads */
	while (c->answered < c->seen[M_DISCO]) {
		answer_disco(c, "", 0, "", fallback);
		c->answered++;
	}
}

/*
 * Read what is there; each contact answers caps queries from owner_jid
 * (NULL: none expected).  With target set, stamp into t_arrive the time
 * each client's message count reaches target[i] and count it off
 * pending.  Returns -1 if a connection closed.
 */
static int
pump(int timeout_ms, double *t_arrive, const unsigned long *target,
    const char *owner_jid)
{
	static char rbuf[65536];
	struct epoll_event ev[256];
	int k, n, i, m;
	ssize_t r;

	n = epoll_wait(epfd, ev, 256, timeout_ms);
	if (n < 0) {
		return errno == EINTR ? 0 : -1;
	}
	for (k = 0; k < n; k++) {
		struct client *c;
		unsigned long before;

		i = ev[k].data.u32;
		c = &cl[i];
		r = read(c->fd, rbuf, sizeof(rbuf));
		if (r < 0 && errno == EAGAIN) {
			continue;
		}
		if (r <= 0) {
			fprintf(stderr, "connection %d closed\n", i);
			return -1;
		}
		before = c->seen[M_MSG];
		for (m = 0; m < M_NMARKS; m++) {
			c->seen[m] += bench_count(&c->tail, rbuf, (size_t)r,
			    marks[m]);
		}
		bench_keep_tail(&c->tail, rbuf, (size_t)r);
		if (owner_jid != NULL) {
			answer_discos(c, rbuf, (size_t)r, owner_jid);
		}
		if (target != NULL && before < target[i] &&
		    c->seen[M_MSG] >= target[i]) {
			if (t_arrive != NULL) {
				t_arrive[i] = bench_now_s();
			}
			pending--;
		}
	}
	return 0;
}

/* Wait until clients from..to-1 have seen want of mark m. */
static int
wait_mark(int from, int to, enum mark m, unsigned long want,
    const char *owner_jid)
{
	double end = bench_now_s() + DEADLINE_S;
	int i;

	for (i = from; i < to; i++) {
		while (cl[i].seen[m] < want) {
			if (bench_now_s() > end) {
				fprintf(stderr, "timed out waiting for %d "
				    "(%s: %lu of %lu)\n", i, marks[m],
				    cl[i].seen[m], want);
				return -1;
			}
			if (pump(1000, NULL, NULL, owner_jid) != 0) {
				return -1;
			}
		}
	}
	return 0;
}

/* Wait until every client's message count reaches target[i]. */
static int
wait_msgs(const unsigned long *target, double *t_arrive)
{
	double end = bench_now_s() + DEADLINE_S;

	while (pending > 0) {
		if (bench_now_s() > end) {
			fprintf(stderr, "timed out: %zu clients short\n",
			    pending);
			return -1;
		}
		if (pump(1000, t_arrive, target, NULL) != 0) {
			return -1;
		}
	}
	return 0;
}

/* Targets for clients 1..ncl-1 (the contacts): messages + add
 * publishes' worth. */
static void
set_targets(unsigned long *target, unsigned long add)
{
	int i;

	target[0] = 0;
	for (i = 1; i < ncl; i++) {
		target[i] = cl[i].seen[M_MSG] + add * cl[i].copies;
	}
	pending = (size_t)ncl - 1;
}

/* Log in n clients as accounts first..first+n-1, each with initial
 * presence (no caps); waits until all are bound. */
static int
login_all(const char *host, int port, const char *pass, int first, int n)
{
	struct buf auth, out;
	char raw[512];
	size_t rawlen;
	int i;

	ncl = n;
	cl = xcalloc((size_t)n, sizeof(*cl));
	epfd = epoll_create1(0);
	buf_init(&out, 0);
	buf_init(&auth, 0);
	for (i = 0; i < n; i++) {
		struct epoll_event ev;

		cl[i].account = first + i;
		cl[i].copies = 1;
		rawlen = (size_t)snprintf(raw, sizeof(raw), "%c%s%d%c%s", 0,
		    prefix, cl[i].account, 0, pass);
		buf_reset(&auth);
		base64_encode((const unsigned char *)raw, rawlen, &auth);
		cl[i].fd = bench_connect(host, port);
		if (cl[i].fd < 0) {
			fprintf(stderr, "connect %d: %s\n", i, strerror(errno));
			return -1;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(epfd, EPOLL_CTL_ADD, cl[i].fd, &ev);
		buf_reset(&out);
		buf_printf(&out, "<stream:stream to='%s' "
		    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber."
		    "org/streams' version='1.0'><auth xmlns='urn:ietf:params:"
		    "xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>", domain,
		    auth.data);
		if (bench_send_all(cl[i].fd, out.data, out.len) != 0) {
			return -1;
		}
	}
	/* the restart only after <success/> (RFC 6120 §6.4.6): a server
	 * may reset its parser there and drop what came with it */
	if (wait_mark(0, n, M_SUCCESS, 1, NULL) != 0) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		buf_reset(&out);
		buf_printf(&out, "<stream:stream to='%s' xmlns='jabber:client' "
		    "xmlns:stream='http://etherx.jabber.org/streams' "
		    "version='1.0'><iq type='set' id='b'><bind xmlns='urn:ietf:"
		    "params:xml:ns:xmpp-bind'><resource>r</resource>"
		    "</bind></iq><iq type='get' id='r'><query xmlns='jabber:iq:"
		    "roster'/></iq><presence/>", domain);
		if (bench_send_all(cl[i].fd, out.data, out.len) != 0) {
			return -1;
		}
	}
	buf_free(&out);
	buf_free(&auth);
	/* everyone bound and has the roster, so gets roster pushes */
	return wait_mark(0, n, M_RESULT, 2, NULL);
}

static void
logout_all(void)
{
	int i;

	for (i = 0; i < ncl; i++) {
		bench_send_all(cl[i].fd, "</stream:stream>", 16);
		close(cl[i].fd);
	}
	free(cl);
	cl = NULL;
	close(epfd);
}

/* A publish of item 'current' to node of one's own PEP service. */
static void
publish(const struct client *c, const char *node, unsigned long k)
{
	char s[512];

	snprintf(s, sizeof(s), "<iq type='set' id='p%lu'><pubsub xmlns='"
	    "http://jabber.org/protocol/pubsub'><publish node='%s'><item "
	    "id='current'><list xmlns='eu.siacs.conversations.axolotl'>"
	    "<device id='%lu'/><device id='1234567'/></list></item>"
	    "</publish></pubsub></iq>", k, node, k);
	send_str(c, s);
}

static int
run_fanout(const char *host, int port, const char *pass, int first, int n)
{
	char owner[256], s[512];
	double *lat, *t_arrive, t0, t1;
	unsigned long *target, base;
	size_t nlat = 0, k;
	int i, rounds, pubs, sent;

	if (login_all(host, port, pass, first, n + 1) != 0) {
		return -1;
	}
	t_arrive = xcalloc((size_t)ncl, sizeof(*t_arrive));
	target = xcalloc((size_t)ncl, sizeof(*target));
	snprintf(owner, sizeof(owner), "%s%d@%s", prefix, first, domain);

	/* mutual subscriptions (RFC 6121 §3.1) */
	t0 = bench_now_s();
	for (i = 1; i < ncl; i++) {
		snprintf(s, sizeof(s), "<presence type='subscribe' to='%s'/>",
		    owner);
		send_str(&cl[i], s);
	}
	if (wait_mark(0, 1, M_SUBSCRIBE, (unsigned long)n, NULL) != 0) {
		return -1;
	}
	for (i = 1; i < ncl; i++) {
		snprintf(s, sizeof(s), "<presence type='subscribed' to='%s%d@%s'/>"
		    "<presence type='subscribe' to='%s%d@%s'/>", prefix,
		    cl[i].account, domain, prefix, cl[i].account, domain);
		send_str(&cl[0], s);
	}
	for (i = 1; i < ncl; i++) {
		if (wait_mark(i, i + 1, M_SUBSCRIBE, 1, NULL) != 0) {
			return -1;
		}
		snprintf(s, sizeof(s), "<presence type='subscribed' to='%s'/>",
		    owner);
		send_str(&cl[i], s);
	}
	/* the roster pushes (Prosody does not pass 'subscribed' on) */
	if (wait_mark(0, 1, M_BOTH, (unsigned long)n, NULL) != 0 ||
	    wait_mark(1, ncl, M_BOTH, 1, NULL) != 0) {
		return -1;
	}
	t1 = bench_now_s();
	printf("%4d contacts: mutual subscriptions in %.3f s\n", n, t1 - t0);

	/* a first item, then caps: the last item marks a contact ready */
	base = cl[0].seen[M_RESULT];
	publish(&cl[0], NODE, 0);
	if (wait_mark(0, 1, M_RESULT, base + 1, NULL) != 0) {
		return -1;
	}
	t0 = bench_now_s();
	set_targets(target, 1);
	for (i = 1; i < ncl; i++) {
		snprintf(s, sizeof(s), "<presence><c xmlns='http://jabber.org/"
		    "protocol/caps' hash='sha-1' node='" CAPS_NODE "' ver='%s'/>"
		    "</presence>", caps_ver_s);
		send_str(&cl[i], s);
	}
	{
		double end = bench_now_s() + DEADLINE_S;

		while (pending > 0) {
			if (bench_now_s() > end) {
				fprintf(stderr, "timed out: %zu contacts without "
				    "the last item\n", pending);
				return -1;
			}
			if (pump(1000, NULL, target, owner) != 0) {
				return -1;
			}
		}
	}
	t1 = bench_now_s();
	{
		unsigned long asked = 0;

		for (i = 1; i < ncl; i++) {
			asked += cl[i].answered;
		}
		printf("%4d contacts: caps presence to last item at all in "
		    "%.3f s (%lu caps queries answered)\n", n, t1 - t0, asked);
	}
	/* drain the presences of the caps round */
	while (bench_now_s() < t1 + 0.3) {
		pump(50, NULL, NULL, owner);
	}

	/* how many messages one publish brings each contact (Prosody: two
	 * when the contact's own account asked its caps too, one to the bare
	 * JID and one to the full) */
	set_targets(target, 1);
	publish(&cl[0], NODE, 1);
	if (wait_msgs(target, NULL) != 0) {
		return -1;
	}
	t1 = bench_now_s();
	while (bench_now_s() < t1 + 0.3) {
		pump(50, NULL, NULL, NULL);
	}
	{
		unsigned long most = 0;

		for (i = 1; i < ncl; i++) {
			cl[i].copies = cl[i].seen[M_MSG] - (target[i] - 1);
			if (cl[i].copies > most) {
				most = cl[i].copies;
			}
		}
		if (most > 1) {
			printf("%4d contacts: up to %lu messages per publish to "
			    "each (counted as one notification)\n", n, most);
		}
	}

	/* latency: one publish at a time, until every copy arrived */
	rounds = n >= 1000 ? 100 : 300;
	lat = xcalloc((size_t)rounds * (size_t)n, sizeof(*lat));
	for (k = 0; k < (size_t)rounds; k++) {
		set_targets(target, 1);
		t0 = bench_now_s();
		publish(&cl[0], NODE, k + 2);
		if (wait_msgs(target, t_arrive) != 0) {
			return -1;
		}
		for (i = 1; i < ncl; i++) {
			lat[nlat++] = t_arrive[i] - t0;
		}
	}
	qsort(lat, nlat, sizeof(*lat), bench_cmp_double);
	printf("%4d contacts: latency over %zu notifications: p50 %.3f ms, "
	    "p99 %.3f ms, max %.3f ms\n", n, nlat, lat[nlat / 2] * 1e3,
	    lat[nlat * 99 / 100] * 1e3, lat[nlat - 1] * 1e3);
	free(lat);

	/* throughput: a window of publishes in flight */
	pubs = 200000 / n;
	if (pubs < 200) {
		pubs = 200;
	}
	set_targets(target, (unsigned long)pubs);
	base = cl[0].seen[M_RESULT];
	sent = 0;
	t0 = bench_now_s();
	while (sent < pubs) {
		while (sent < pubs &&
		    (unsigned long)sent < cl[0].seen[M_RESULT] - base + WINDOW) {
			publish(&cl[0], NODE, 1000000UL + (unsigned long)sent);
			sent++;
		}
		if (pump(1000, NULL, target, NULL) != 0) {
			return -1;
		}
	}
	if (wait_msgs(target, NULL) != 0) {
		return -1;
	}
	t1 = bench_now_s();
	printf("%4d contacts: %d publishes, %lu notifications in %.3f s: "
	    "%.0f notifications/s\n", n, pubs, (unsigned long)pubs * n,
	    t1 - t0, (double)pubs * n / (t1 - t0));
	fflush(stdout);
	logout_all();
	free(t_arrive);
	free(target);
	return 0;
}

/* Publishes per second by client 0 to its own node, pubs of them with a
 * window in flight. */
static double
publish_rate(int pubs)
{
	unsigned long base = cl[0].seen[M_RESULT];
	double t0 = bench_now_s(), end = t0 + DEADLINE_S;
	int sent = 0;

	while (cl[0].seen[M_RESULT] - base < (unsigned long)pubs) {
		while (sent < pubs &&
		    (unsigned long)sent < cl[0].seen[M_RESULT] - base + WINDOW) {
			publish(&cl[0], "urn:xmpp:bench:own", (unsigned long)sent);
			sent++;
		}
		if (bench_now_s() > end || pump(1000, NULL, NULL, NULL) != 0) {
			return -1;
		}
	}
	return pubs / (bench_now_s() - t0);
}

static int
run_nodes(const char *host, int port, const char *pass, int first,
    int nodes)
{
	int creators = (nodes + NODES_PER_ACCOUNT - 1) / NODES_PER_ACCOUNT;
	int pubs = 20000, i, j, made = 0;
	double before, after, t0, t1;
	char node[64];

	if (login_all(host, port, pass, first, creators + 1) != 0) {
		return -1;
	}
	publish_rate(1000);	/* warm up, node created */
	before = publish_rate(pubs);
	t0 = bench_now_s();
	for (i = 1; i < ncl; i++) {
		for (j = 0; j < NODES_PER_ACCOUNT && made < nodes; j++) {
			snprintf(node, sizeof(node), "urn:xmpp:bench:%d", j);
			publish(&cl[i], node, (unsigned long)j);
			made++;
		}
	}
	for (i = 1; i < ncl; i++) {
		unsigned long want = (unsigned long)(i < ncl - 1 ||
		    nodes % NODES_PER_ACCOUNT == 0 ? NODES_PER_ACCOUNT :
		    nodes % NODES_PER_ACCOUNT);

		if (wait_mark(i, i + 1, M_RESULT, 1 + want, NULL) != 0) {
			return -1;
		}
	}
	t1 = bench_now_s();
	printf("nodes: %d created by publishing (%d accounts) in %.3f s: "
	    "%.0f nodes/s\n", made, creators, t1 - t0, made / (t1 - t0));
	after = publish_rate(pubs);
	if (before < 0 || after < 0) {
		fprintf(stderr, "publish phase timed out\n");
		return -1;
	}
	printf("nodes: publishes to one's own node, %d with %d in flight: "
	    "%.0f/s (%.1f us each) beside a few nodes; %.0f/s (%.1f us each) "
	    "beside %d nodes\n", pubs, WINDOW, before, 1e6 / before, after,
	    1e6 / after, made);
	fflush(stdout);
	logout_all();
	return 0;
}

/* The <query/> of our disco#info answer, for round (each round its own
 * ver, so each round's contacts are asked), node attribute ver ("" for
 * none), into out. */
static void
caps_query(char *out, size_t cap, int round, const char *ver)
{
	snprintf(out, cap, "<query xmlns='http://jabber.org/protocol/"
	    "disco#info'%s%s%s><identity category='client' type='pc' "
	    "name='pep_bench %d'/><feature var='http://jabber.org/protocol/"
	    "caps'/><feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='" NODE "'/><feature var='" NODE "+notify'/>"
	    "</query>", *ver ? " node='" CAPS_NODE "#" : "", ver,
	    *ver ? "'" : "", round);
}

/* Our disco#info answer (after "to='...'") and its caps verification
 * string (XEP-0115 §5.1) for round. */
static int
make_caps(int round)
{
	char q[1536];
	struct xml_node *frag;
	int err = 0, rc;

	caps_query(q, sizeof(q), round, "");
	frag = xml_parse_fragment(q, strlen(q), "jabber:client", &err);
	if (frag == NULL) {
		return -1;
	}
	rc = caps_ver(xml_child(frag, NULL, NULL), "sha-1", caps_ver_s,
	    sizeof(caps_ver_s));
	xml_free(frag);
	caps_query(q, sizeof(q), round, caps_ver_s);
	snprintf(disco_reply, sizeof(disco_reply), ">%s</iq>", q);
	return rc;
}

int
main(int argc, char **argv)
{
	int sizes[16], nsizes = 0, i, port, nodes = 10000, next = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: pep_bench HOST PORT USERPREFIX PASSWORD "
		    "[CONTACTS...] [-n NODES]\n");
		return 2;
	}
	port = atoi(argv[2]);
	prefix = argv[3];
	if (getenv("PEP_DOMAIN") != NULL) {
		domain = getenv("PEP_DOMAIN");
	}
	for (i = 5; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			nodes = atoi(argv[++i]);
		} else if (strcmp(argv[i], "0") == 0) {
			nsizes = -1;
		} else if (nsizes >= 0 && nsizes < 16 && atoi(argv[i]) > 0) {
			sizes[nsizes++] = atoi(argv[i]);
		} else {
			fprintf(stderr, "pep_bench: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (nsizes == 0) {
		sizes[nsizes++] = 100;
		sizes[nsizes++] = 1000;
	} else if (nsizes < 0) {
		nsizes = 0;
	}
	for (i = 0; i < nsizes; i++) {
		if (make_caps(i) != 0) {
			fprintf(stderr, "pep_bench: no caps ver\n");
			return 1;
		}
		if (run_fanout(argv[1], port, argv[4], next, sizes[i]) != 0) {
			fprintf(stderr, "pep_bench: %d contacts failed\n",
			    sizes[i]);
			return 1;
		}
		next += sizes[i] + 1;
	}
	if (nodes > 0 && run_nodes(argv[1], port, argv[4], next, nodes) != 0) {
		fprintf(stderr, "pep_bench: the node phase failed\n");
		return 1;
	}
	return 0;
}
