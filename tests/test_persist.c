/*
 * test_persist.c - the IM data and persistent rooms across a server
 * restart, without sockets: the fake reactor plays server.c.  Clients log
 * in (PLAIN), store what XMPP lets a user keep on the server, then the
 * server stops the way server_run() ends (sessions freed, sm_shutdown,
 * muc_shutdown, store_flush, store_close) and its memory goes (the roster
 * cache), it starts again on the same data dir the way main() does
 * (store_open, muc_init) and the clients find everything back: roster
 * items and version, pending subscription requests (RFC 6121 §3.1.3),
 * offline messages with one XEP-0203 delay, private XML (XEP-0049),
 * vCards (XEP-0054), blocklists (XEP-0191), last activity (XEP-0012)
 * and rooms with their configuration, affiliations and registered nicks
 * (XEP-0045).  Answering the request and one more restart: both rosters
 * keep the new subscription, nothing is delivered twice.
 *
 * The same is done once more in a child process that writes, flushes
 * each turn as the reactor does, and _exit()s without closing anything:
 * what was flushed survives a crash.  And offline messages left by
 * server lives a moment apart all arrive, in order.
 *
 * Bookmarks (XEP-0402): XEP-0048 ones left in private XML storage move
 * into the XEP-0402 node at start, the node's items survive a restart,
 * and deleting the account takes them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "log.h"
#include "muc.h"
#include "pep.h"
#include "roster.h"
#include "services.h"
#include "sm.h"
#include "store.h"
#include "xml.h"

#include "fake_reactor.h"

#define NS_DELAY	"urn:xmpp:delay"
#define NS_MUC		"http://jabber.org/protocol/muc"
#define NS_DATA		"jabber:x:data"
#define MUC_HOST	"conference.localhost"
#define MAX_LIVE	8
#define FIELD(var, value) \
	"<field var='" var "'><value>" value "</value></field>"

/* Who plays which part in one run; local parts of @localhost accounts. */
struct cast {
	const char	*user;		/* does everything */
	const char	*mate;		/* roster item, room member */
	const char	*absent;	/* offline: subscription, messages */
	const char	*foe;		/* blocked, room outcast */
	const char	*room;		/* local part at MUC_HOST */
	char		 ver[32];	/* user's roster version before stop */
	char		 stamp[32];	/* XEP-0203 stamp of the SM message */
};

static char datadir[64];
static struct client *live[MAX_LIVE];	/* connected at a stop */
static size_t nlive;

/* ---- helpers ---- */

/* Send a formatted stanza and end the reactor turn: the turn's changes
 * are flushed before any output would leave (server_end_turn). */
static void
sendf(struct client *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sendf(struct client *cl, const char *fmt, ...)
{
	char s[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	CHECK(n > 0 && (size_t)n < sizeof(s));
	send_str(cl, s);
	CHECK(store_flush() == 0);
}

/* The output so far as a tree: a "fragment" element whose children are
 * the stanzas.  Caller frees; never NULL (a parse failure is a failed
 * check and an empty fragment). */
static struct xml_node *
take_tree(struct client *cl)
{
	char *out = take(cl);
	struct xml_node *t;
	int err = 0;

	t = xml_parse_fragment(out, strlen(out), XML_NS_CLIENT, &err);
	CHECK(t != NULL);
	if (t == NULL) {
		fprintf(stderr, "unparsable output: %s\n", out);
		t = xml_new("fragment", XML_NS_CLIENT);
	}
	free(out);
	return t;
}

/* The first child of t named name whose attribute attr is value (attr
 * NULL: any), or NULL.  Borrowed from t. */
static const struct xml_node *
find_el(const struct xml_node *t, const char *name, const char *attr,
    const char *value)
{
	const struct xml_node *c;
	const char *v;

	for (c = xml_child(t, name, NULL); c != NULL;
	    c = xml_next(c, name, NULL)) {
		v = attr != NULL ? xml_attr(c, attr) : NULL;
		if (attr == NULL || (v != NULL && strcmp(v, value) == 0)) {
			return c;
		}
	}
	return NULL;
}

/* The first child of el (NULL-safe) named name in ns (NULL: any). */
static const struct xml_node *
kid(const struct xml_node *el, const char *name, const char *ns)
{
	return el != NULL ? xml_child(el, name, ns) : NULL;
}

/* The iq with this id, if it is a result; NULL otherwise. */
static const struct xml_node *
result_of(const struct xml_node *t, const char *id)
{
	const struct xml_node *iq = find_el(t, "iq", "id", id);
	const char *type = iq != NULL ? xml_attr(iq, "type") : NULL;

	if (type == NULL || strcmp(type, "result") != 0) {
		fprintf(stderr, "no result for iq %s\n", id);
		return NULL;
	}
	return iq;
}

static size_t
count_el(const struct xml_node *el, const char *name, const char *ns)
{
	const struct xml_node *c;
	size_t n = 0;

	for (c = kid(el, name, ns); c != NULL; c = xml_next(c, name, ns)) {
		n++;
	}
	return n;
}

/* Text of the first child name (any namespace) of el, "" when none. */
static const char *
child_text(const struct xml_node *el, const char *name)
{
	const struct xml_node *c = kid(el, name, NULL);

	return c != NULL ? xml_text(c) : "";
}

/* Value of field var in the data form of el or of one of its children
 * (an iq's query), "" when absent.  Borrowed. */
static const char *
form_field(const struct xml_node *el, const char *var)
{
	const struct xml_node *x, *f;
	const char *v;

	if (el == NULL) {
		return "";
	}
	x = xml_child(el, "x", NS_DATA);
	if (x == NULL) {
		for (f = xml_child(el, NULL, NULL); f != NULL;
		    f = xml_next(f, NULL, NULL)) {
			x = xml_child(f, "x", NS_DATA);
			if (x != NULL) {
				break;
			}
		}
	}
	for (f = kid(x, "field", NULL); f != NULL;
	    f = xml_next(f, "field", NULL)) {
		v = xml_attr(f, "var");
		if (v != NULL && strcmp(v, var) == 0) {
			return child_text(f, "value");
		}
	}
	return "";
}

/* The <item/> for jid in a query (roster, blocklist, muc#admin). */
static const struct xml_node *
item_of(const struct xml_node *iq, const char *jid)
{
	const struct xml_node *q = kid(iq, NULL, NULL);

	return q != NULL ? find_el(q, "item", "jid", jid) : NULL;
}

static const char *
attr_or_empty(const struct xml_node *el, const char *name)
{
	const char *v = el != NULL ? xml_attr(el, name) : NULL;

	return v != NULL ? v : "";
}

static void
live_add(struct client *cl)
{
	if (nlive < MAX_LIVE) {
		live[nlive++] = cl;
	}
}

static void
live_remove(struct client *cl)
{
	size_t i;

	for (i = 0; i < nlive; i++) {
		if (live[i] == cl) {
			live[i] = live[--nlive];
			return;
		}
	}
}

/* A clean logout. */
static void
logout(struct client *cl)
{
	send_str(cl, "</stream:stream>");
	CHECK(store_flush() == 0);
	live_remove(cl);
	client_free(cl);
}

static struct client *
login_live(const char *user, const char *resource)
{
	struct client *cl = login(user, "password", resource);

	live_add(cl);
	return cl;
}

static int
load_config(void)
{
	char conf[128], err[600];
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/uxmppd.conf", datadir);
	fp = fopen(conf, "w");
	if (fp == NULL) {
		return -1;
	}
	fprintf(fp, "data_dir = %s\nstore_sync = none\n", datadir);
	fclose(fp);
	if (config_load(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/* ---- the server's life ---- */

/* main(): the store, then the MUC service (c2s_init ran once: it keeps
 * only limits from the configuration). */
static void
server_start(void)
{
	char err[600];

	if (store_open(datadir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	CHECK(muc_init() == 0);
	CHECK(pep_init() == 0);
	services_init();
}

/* The end of server_run(): every connection told and freed, then the
 * modules; the roster cache is process memory and goes too. */
static void
server_stop(void)
{
	struct client *cl;

	while (nlive > 0) {
		cl = live[--nlive];
		c2s_shutdown(cl->s);
		free(take(cl));
		client_free(cl);
	}
	sm_shutdown();
	pep_shutdown();
	muc_shutdown();
	CHECK(store_flush() == 0);
	store_close();
	roster_cache_clear();
}

static void
server_restart(void)
{
	server_stop();
	server_start();
}

/* ---- before the stop ---- */

static void
populate_roster(struct cast *c, struct client *u)
{
	struct xml_node *t;
	const struct xml_node *iq;

	sendf(u, "<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/>"
	    "</iq>");
	sendf(u, "<iq type='set' id='r1'><query xmlns='jabber:iq:roster'>"
	    "<item jid='%s@localhost' name='Sweet &amp; &lt;fair&gt;'>"
	    "<group>Capulets</group><group>Friends</group></item></query>"
	    "</iq>", c->mate);
	/* §3.1.2: a request to a user who is offline */
	sendf(u, "<presence to='%s@localhost' type='subscribe'/>", c->absent);
	/* XEP-0160: two messages for later, in order */
	sendf(u, "<message to='%s@localhost' type='chat' id='m1'><body>first "
	    "&lt;&amp;&gt; words</body></message>", c->absent);
	sendf(u, "<message to='%s@localhost' id='m2'><body>second words"
	    "</body></message>", c->absent);
	sendf(u, "<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/>"
	    "</iq>");
	t = take_tree(u);
	CHECK(result_of(t, "r1") != NULL);
	CHECK(find_el(t, "message", "type", "error") == NULL);
	iq = result_of(t, "r2");
	CHECK(count_el(kid(iq, "query", NULL), "item", NULL) == 2);
	snprintf(c->ver, sizeof(c->ver), "%s",
	    attr_or_empty(kid(iq, "query", NULL), "ver"));
	CHECK(c->ver[0] != '\0');
	xml_free(t);
}

static void
populate_account_data(struct cast *c, struct client *u)
{
	struct xml_node *t;

	sendf(u, "<iq type='set' id='p1'><query xmlns='jabber:iq:private'>"
	    "<notes xmlns='test:notes'><note>balcony at nine</note></notes>"
	    "</query></iq>");
	sendf(u, "<iq type='set' id='v1'><vCard xmlns='vcard-temp'>"
	    "<FN>%s Montague</FN><NICKNAME>%s</NICKNAME></vCard></iq>",
	    c->user, c->user);
	sendf(u, "<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'>"
	    "<item jid='%s@localhost'/><item jid='spam.example'/></block>"
	    "</iq>", c->foe);
	t = take_tree(u);
	CHECK(result_of(t, "p1") != NULL);
	CHECK(result_of(t, "v1") != NULL);
	CHECK(result_of(t, "b1") != NULL);
	xml_free(t);
}

static void
populate_room(struct cast *c, struct client *u, struct client *m)
{
	struct xml_node *t;
	char *out;

	sendf(u, "<presence to='%s@" MUC_HOST "/Host'><x xmlns='" NS_MUC
	    "'/></presence>", c->room);
	out = take(u);
	CHECK(contains(out, "code='201'"));
	free(out);
	sendf(u, "<iq to='%s@" MUC_HOST "' type='set' id='c1'><query xmlns='"
	    NS_MUC "#owner'><x xmlns='" NS_DATA "' type='submit'>"
	    FIELD("FORM_TYPE", NS_MUC "#roomconfig")
	    FIELD("muc#roomconfig_persistentroom", "1")
	    FIELD("muc#roomconfig_roomname", "Hall of %s")
	    FIELD("muc#roomconfig_roomdesc", "Masks &amp; dancing")
	    FIELD("muc#roomconfig_lang", "it")
	    FIELD("muc#roomconfig_moderatedroom", "1")
	    FIELD("muc#roomconfig_whois", "anyone")
	    FIELD("muc#roomconfig_maxusers", "30")
	    FIELD("muc#roomconfig_historylength", "7")
	    FIELD("muc#roomconfig_allowpm", "moderators")
	    "</x></query></iq>", c->room, c->user);
	sendf(u, "<iq to='%s@" MUC_HOST "' type='set' id='a1'><query xmlns='"
	    NS_MUC "#admin'><item affiliation='member' jid='%s@localhost'/>"
	    "<item affiliation='outcast' jid='%s@localhost'><reason>Prince "
	    "of cats</reason></item></query></iq>", c->room, c->mate, c->foe);
	sendf(u, "<message to='%s@" MUC_HOST "' type='groupchat'><subject>"
	    "Two households</subject></message>", c->room);
	t = take_tree(u);
	CHECK(result_of(t, "c1") != NULL);
	CHECK(result_of(t, "a1") != NULL);
	xml_free(t);
	/* the member registers a nick (XEP-0045 §7.10) */
	sendf(m, "<iq to='%s@" MUC_HOST "' type='set' id='g1'><query "
	    "xmlns='jabber:iq:register'><x xmlns='" NS_DATA "' type='submit'>"
	    FIELD("FORM_TYPE", NS_MUC "#register")
	    FIELD("muc#register_roomnick", "Jules")
	    "</x></query></iq>", c->room);
	t = take_tree(m);
	CHECK(result_of(t, "g1") != NULL);
	xml_free(t);
}

/* A message the mate's resumable session never acknowledged: it
 * hibernates and the stop sends it to offline storage (sm_shutdown). */
static void
populate_unacked(struct cast *c, struct client *u, struct client *m)
{
	struct tm tm;
	char *out;

	sendf(m, "<enable xmlns='" NS_SM "' resume='true'/>");
	free(take(m));
	fake_now += 3600;
	gmtime_r(&fake_now, &tm);
	strftime(c->stamp, sizeof(c->stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sendf(u, "<message to='%s@localhost/balcony' type='chat'><body>"
	    "unacked kiss</body></message>", c->mate);
	out = take(m);
	CHECK(contains(out, "<body>unacked kiss</body>"));
	free(out);
	live_remove(m);
	client_drop(m);
	CHECK(sm_hibernating() == 1);
	fake_now += 60;
}

static void
populate(struct cast *c, int with_sm)
{
	struct client *u = login_live(c->user, "orchard");
	struct client *m = login_live(c->mate, "balcony");

	populate_roster(c, u);
	populate_account_data(c, u);
	populate_room(c, u, m);
	if (with_sm) {
		populate_unacked(c, u, m);
	}
	free(take(u));
}

/* ---- after the restart ---- */

static void
verify_roster(const struct cast *c, struct client *u)
{
	char mate[64], absent[64];
	struct xml_node *t;
	const struct xml_node *iq, *q, *it, *g;

	snprintf(mate, sizeof(mate), "%s@localhost", c->mate);
	snprintf(absent, sizeof(absent), "%s@localhost", c->absent);
	sendf(u, "<iq type='get' id='r3'><query xmlns='jabber:iq:roster'/>"
	    "</iq>");
	t = take_tree(u);
	iq = result_of(t, "r3");
	q = kid(iq, "query", NULL);
	CHECK_STR(attr_or_empty(q, "ver"), c->ver);
	CHECK(count_el(q, "item", NULL) == 2);
	it = item_of(iq, mate);
	CHECK_STR(attr_or_empty(it, "name"), "Sweet & <fair>");
	CHECK_STR(attr_or_empty(it, "subscription"), "none");
	CHECK(count_el(it, "group", NULL) == 2);
	g = kid(it, "group", NULL);
	CHECK_STR(g != NULL ? xml_text(g) : NULL, "Capulets");
	g = g != NULL ? xml_next(g, "group", NULL) : NULL;
	CHECK_STR(g != NULL ? xml_text(g) : NULL, "Friends");
	it = item_of(iq, absent);
	CHECK_STR(attr_or_empty(it, "subscription"), "none");
	CHECK_STR(attr_or_empty(it, "ask"), "subscribe");
	xml_free(t);
	/* RFC 6121 §2.6.3: the version is the same one, so nothing comes */
	sendf(u, "<iq type='get' id='r4'><query xmlns='jabber:iq:roster' "
	    "ver='%s'/></iq>", c->ver);
	t = take_tree(u);
	iq = result_of(t, "r4");
	CHECK(iq != NULL && kid(iq, "query", NULL) == NULL);
	xml_free(t);
}

static void
verify_account_data(const struct cast *c, struct client *u)
{
	char foe[64], fn[64];
	struct xml_node *t;
	const struct xml_node *iq, *el;
	struct client *x;

	snprintf(foe, sizeof(foe), "%s@localhost", c->foe);
	snprintf(fn, sizeof(fn), "%s Montague", c->user);
	sendf(u, "<iq type='get' id='p2'><query xmlns='jabber:iq:private'>"
	    "<notes xmlns='test:notes'/></query></iq>");
	sendf(u, "<iq type='get' id='v2'><vCard xmlns='vcard-temp'/></iq>");
	sendf(u, "<iq type='get' id='b2'><blocklist xmlns='urn:xmpp:blocking'"
	    "/></iq>");
	t = take_tree(u);
	iq = result_of(t, "p2");
	el = kid(iq, "query", "jabber:iq:private");
	el = kid(el, "notes", "test:notes");
	CHECK_STR(child_text(el, "note"), "balcony at nine");
	iq = result_of(t, "v2");
	el = kid(iq, "vCard", "vcard-temp");
	CHECK_STR(child_text(el, "FN"), fn);
	CHECK_STR(child_text(el, "NICKNAME"), c->user);
	iq = result_of(t, "b2");
	CHECK(count_el(kid(iq, "blocklist", NULL), "item", NULL) == 2);
	el = kid(iq, "blocklist", NULL);
	CHECK(el != NULL && find_el(el, "item", "jid", foe) != NULL);
	CHECK(el != NULL && find_el(el, "item", "jid", "spam.example") !=
	    NULL);
	xml_free(t);
	/* and others see the vCard (XEP-0054 §3.1) */
	x = login_live(c->mate, "desk");
	sendf(x, "<iq to='%s@localhost' type='get' id='v3'><vCard "
	    "xmlns='vcard-temp'/></iq>", c->user);
	t = take_tree(x);
	iq = result_of(t, "v3");
	el = kid(iq, "vCard", "vcard-temp");
	CHECK_STR(child_text(el, "FN"), fn);
	xml_free(t);
	logout(x);
	/* the block still holds (XEP-0191 §3.5): a blocked sender's
	 * request bounces too */
	x = login_live(c->foe, "sword");
	sendf(x, "<iq to='%s@localhost' type='get' id='v4'><vCard "
	    "xmlns='vcard-temp'/></iq>", c->user);
	sendf(x, "<message to='%s@localhost' type='chat' id='x1'><body>draw"
	    "</body></message>", c->user);
	t = take_tree(x);
	el = find_el(t, "message", "id", "x1");
	CHECK_STR(attr_or_empty(el, "type"), "error");
	el = find_el(t, "iq", "id", "v4");
	CHECK_STR(attr_or_empty(el, "type"), "error");
	xml_free(t);
	t = take_tree(u);
	CHECK(find_el(t, "message", NULL, NULL) == NULL);
	xml_free(t);
	logout(x);
}

/* What the absent user gets at its first initial presence: the pending
 * request, then the messages, each with one delay from the server. */
static void
verify_absent(const struct cast *c)
{
	char user[64];
	struct client *a = login_live(c->absent, "kitchen");
	struct xml_node *t;
	const struct xml_node *p, *m1, *m2, *d;

	snprintf(user, sizeof(user), "%s@localhost", c->user);
	sendf(a, "<presence/>");
	t = take_tree(a);
	p = find_el(t, "presence", "type", "subscribe");
	CHECK_STR(attr_or_empty(p, "from"), user);
	m1 = find_el(t, "message", "id", "m1");
	m2 = find_el(t, "message", "id", "m2");
	CHECK_STR(child_text(m1, "body"), "first <&> words");
	CHECK_STR(child_text(m2, "body"), "second words");
	CHECK(count_el(t, "message", NULL) == 2);
	/* in the order they were sent */
	CHECK(m1 != NULL && xml_next(m1, "message", NULL) == m2);
	CHECK(count_el(m1, "delay", NS_DELAY) == 1);
	CHECK(count_el(m2, "delay", NS_DELAY) == 1);
	d = kid(m1, "delay", NS_DELAY);
	CHECK_STR(attr_or_empty(d, "from"), "localhost");
	CHECK(strlen(attr_or_empty(d, "stamp")) == 20);
	CHECK(strncmp(attr_or_empty(m1, "from"), user, strlen(user)) == 0);
	xml_free(t);
	logout(a);
}

static void
verify_room(const struct cast *c, struct client *u)
{
	char room[64], mate[64], foe[64], name[64];
	struct client *m, *x;
	struct xml_node *t;
	const struct xml_node *iq, *q, *it, *p;

	snprintf(room, sizeof(room), "%s@" MUC_HOST, c->room);
	snprintf(mate, sizeof(mate), "%s@localhost", c->mate);
	snprintf(foe, sizeof(foe), "%s@localhost", c->foe);
	snprintf(name, sizeof(name), "Hall of %s", c->user);
	m = login_live(c->mate, "balcony");
	sendf(m, "<iq to='%s' type='get' id='d1'><query xmlns='http://"
	    "jabber.org/protocol/disco#info'/></iq>", room);
	sendf(m, "<iq to='%s' type='get' id='g2'><query xmlns='jabber:iq:"
	    "register'/></iq>", room);
	t = take_tree(m);
	iq = result_of(t, "d1");
	q = kid(iq, "query", NULL);
	CHECK_STR(attr_or_empty(kid(q, "identity", NULL), "name"), name);
	CHECK(q != NULL && find_el(q, "feature", "var", "muc_persistent"));
	CHECK(q != NULL && find_el(q, "feature", "var", "muc_moderated"));
	CHECK(q != NULL && find_el(q, "feature", "var", "muc_nonanonymous"));
	CHECK_STR(form_field(iq, "muc#roominfo_description"),
	    "Masks & dancing");
	CHECK_STR(form_field(iq, "muc#roominfo_lang"), "it");
	CHECK_STR(form_field(iq, "muc#roominfo_subject"), "Two households");
	CHECK_STR(form_field(iq, "muc#roominfo_maxusers"), "30");
	iq = result_of(t, "g2");
	q = kid(iq, "query", NULL);
	CHECK(kid(q, "registered", NULL) != NULL);
	CHECK_STR(child_text(q, "username"), "Jules");
	xml_free(t);

	/* the owner: the whole configuration, the lists */
	sendf(u, "<iq to='%s' type='get' id='c2'><query xmlns='" NS_MUC
	    "#owner'/></iq>", room);
	sendf(u, "<iq to='%s' type='get' id='l1'><query xmlns='" NS_MUC
	    "#admin'><item affiliation='member'/></query></iq>", room);
	sendf(u, "<iq to='%s' type='get' id='l2'><query xmlns='" NS_MUC
	    "#admin'><item affiliation='outcast'/></query></iq>", room);
	sendf(u, "<iq to='%s' type='get' id='l3'><query xmlns='" NS_MUC
	    "#admin'><item affiliation='owner'/></query></iq>", room);
	t = take_tree(u);
	iq = result_of(t, "c2");
	CHECK_STR(form_field(iq, "muc#roomconfig_persistentroom"), "1");
	CHECK_STR(form_field(iq, "muc#roomconfig_roomname"), name);
	CHECK_STR(form_field(iq, "muc#roomconfig_roomdesc"),
	    "Masks & dancing");
	CHECK_STR(form_field(iq, "muc#roomconfig_moderatedroom"), "1");
	CHECK_STR(form_field(iq, "muc#roomconfig_whois"), "anyone");
	CHECK_STR(form_field(iq, "muc#roomconfig_maxusers"), "30");
	CHECK_STR(form_field(iq, "muc#roomconfig_historylength"), "7");
	CHECK_STR(form_field(iq, "muc#roomconfig_allowpm"), "moderators");
	CHECK_STR(form_field(iq, "muc#roomconfig_membersonly"), "0");
	iq = result_of(t, "l1");
	CHECK(count_el(kid(iq, "query", NULL), "item", NULL) == 1);
	it = item_of(iq, mate);
	CHECK_STR(attr_or_empty(it, "affiliation"), "member");
	CHECK_STR(attr_or_empty(it, "nick"), "Jules");
	iq = result_of(t, "l2");
	it = item_of(iq, foe);
	CHECK_STR(attr_or_empty(it, "affiliation"), "outcast");
	CHECK_STR(child_text(it, "reason"), "Prince of cats");
	iq = result_of(t, "l3");
	CHECK(count_el(kid(iq, "query", NULL), "item", NULL) == 1);
	xml_free(t);

	/* the outcast stays out */
	x = login_live(c->foe, "sword");
	sendf(x, "<presence to='%s/Cat'><x xmlns='" NS_MUC "'/></presence>",
	    room);
	t = take_tree(x);
	p = find_el(t, "presence", "type", "error");
	CHECK(kid(kid(p, "error", NULL), "forbidden", NULL) != NULL);
	xml_free(t);
	logout(x);
	/* the room exists, unlocked: joining creates nothing (no 201) */
	sendf(u, "<presence to='%s/Host'><x xmlns='" NS_MUC "'/></presence>",
	    room);
	t = take_tree(u);
	p = find_el(t, "presence", NULL, NULL);
	CHECK(p != NULL);
	CHECK(find_el(t, "message", "type", "groupchat") != NULL);
	xml_free(t);
	{
		char *out;

		sendf(m, "<presence to='%s/Jules'><x xmlns='" NS_MUC "'/>"
		    "</presence>", room);
		out = take(m);
		CHECK(!contains(out, "code='201'"));
		CHECK(contains(out, "affiliation='member'"));
		CHECK(contains(out, "affiliation='owner'"));
		CHECK(contains(out, "<subject>Two households</subject>"));
		free(out);
	}
	logout(m);
}

/* The message the mate never acknowledged, from offline storage: one
 * delay, stamped with the time it was first sent (XEP-0198 §4). */
static void
verify_unacked(const struct cast *c)
{
	struct client *m = login_live(c->mate, "desk");
	struct xml_node *t;
	const struct xml_node *msg;

	sendf(m, "<presence/>");
	t = take_tree(m);
	msg = find_el(t, "message", "type", "chat");
	CHECK_STR(child_text(msg, "body"), "unacked kiss");
	CHECK(count_el(msg, "delay", NS_DELAY) == 1);
	CHECK_STR(attr_or_empty(kid(msg, "delay", NS_DELAY), "stamp"),
	    c->stamp);
	xml_free(t);
	logout(m);
}

static void
verify(const struct cast *c, int with_sm)
{
	struct client *u = login_live(c->user, "orchard");

	verify_roster(c, u);
	verify_account_data(c, u);
	verify_absent(c);
	verify_room(c, u);
	if (with_sm) {
		verify_unacked(c);
	}
	logout(u);
}

/*
 * After the first restart: the request is still pending (redelivered at
 * each initial presence until answered), the messages are gone; the
 * absent user approves; after one more restart both rosters show it.
 */
static void
verify_answered(const struct cast *c)
{
	char user[64], absent[64];
	struct client *a, *u;
	struct xml_node *t;
	const struct xml_node *iq, *it;

	snprintf(user, sizeof(user), "%s@localhost", c->user);
	snprintf(absent, sizeof(absent), "%s@localhost", c->absent);
	a = login_live(c->absent, "kitchen");
	sendf(a, "<presence/>");
	t = take_tree(a);
	CHECK(find_el(t, "presence", "type", "subscribe") != NULL);
	CHECK(find_el(t, "message", NULL, NULL) == NULL);
	xml_free(t);
	sendf(a, "<presence to='%s' type='subscribed'/>", user);
	/* XEP-0012 §4: what the user will see of its going away */
	sendf(a, "<presence type='unavailable'><status>gone to market"
	    "</status></presence>");
	free(take(a));
	server_restart();

	u = login_live(c->user, "orchard");
	sendf(u, "<iq type='get' id='r6'><query xmlns='jabber:iq:roster'/>"
	    "</iq>");
	/* before the absent user is back */
	sendf(u, "<iq to='%s' type='get' id='l9'><query xmlns='jabber:iq:"
	    "last'/></iq>", absent);
	t = take_tree(u);
	iq = result_of(t, "r6");
	it = item_of(iq, absent);
	CHECK_STR(attr_or_empty(it, "subscription"), "to");
	CHECK(it != NULL && xml_attr(it, "ask") == NULL);
	CHECK(strtoull(attr_or_empty(kid(iq, "query", NULL), "ver"), NULL,
	    10) > strtoull(c->ver, NULL, 10));
	CHECK_STR(child_text(result_of(t, "l9"), "query"), "gone to market");
	xml_free(t);
	a = login_live(c->absent, "kitchen");
	sendf(a, "<iq type='get' id='r5'><query xmlns='jabber:iq:roster'/>"
	    "</iq>");
	sendf(a, "<presence/>");
	t = take_tree(a);
	it = item_of(result_of(t, "r5"), user);
	CHECK_STR(attr_or_empty(it, "subscription"), "from");
	CHECK(find_el(t, "presence", "type", "subscribe") == NULL);
	CHECK(find_el(t, "message", NULL, NULL) == NULL);
	xml_free(t);
	logout(u);
	logout(a);
}

/* ---- bookmarks ---- */

#define BM_PRIVATE_KEY	"paris@localhost storage storage:bookmarks"
#define BM_GET_ITEMS	"<iq type='get' id='%s'><pubsub xmlns=" \
	"'http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'" \
	"/></pubsub></iq>"
#define BM_GET_PRIVATE	"<iq type='get' id='%s'><query xmlns=" \
	"'jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>"

/* The number of XEP-0402 items in the result iq id of t (-1: none), and
 * of conferences in the private XML result pid. */
static int
bm_items(const struct xml_node *t, const char *id)
{
	const struct xml_node *iq = result_of(t, id);
	const struct xml_node *items = kid(kid(iq, "pubsub", NULL), "items",
	    NULL);

	return items != NULL ? (int)count_el(items, "item", NULL) : -1;
}

static int
bm_private(const struct xml_node *t, const char *id)
{
	const struct xml_node *iq = result_of(t, id);
	const struct xml_node *st = kid(kid(iq, "query", "jabber:iq:private"),
	    "storage", "storage:bookmarks");

	return st != NULL ? (int)count_el(st, "conference", NULL) : -1;
}

static void
test_bookmarks(void)
{
	struct client *u;
	struct xml_node *t;
	const struct xml_node *iq, *conf;
	char **keys, err[600];
	size_t n;

	/* an XEP-0048 list a client left in private XML storage */
	server_stop();
	CHECK(store_open(datadir, STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK(store_put("private", BM_PRIVATE_KEY, "<storage xmlns='storage:"
	    "bookmarks'><conference jid='vault@" MUC_HOST "' name='Vault' "
	    "autojoin='true'><nick>P</nick></conference></storage>") == 0);
	CHECK(store_flush() == 0);
	store_close();
	server_start();
	CHECK(store_get("private", BM_PRIVATE_KEY) == NULL);
	u = login_live("paris", "bm");
	sendf(u, BM_GET_ITEMS, "b1");
	sendf(u, BM_GET_PRIVATE, "b2");
	t = take_tree(u);
	CHECK(bm_items(t, "b1") == 1);
	iq = result_of(t, "b1");
	conf = kid(kid(kid(kid(iq, "pubsub", NULL), "items", NULL), "item",
	    NULL), "conference", "urn:xmpp:bookmarks:1");
	CHECK_STR(attr_or_empty(conf, "name"), "Vault");
	CHECK_STR(child_text(conf, "nick"), "P");
	CHECK(bm_private(t, "b2") == 1);
	xml_free(t);
	/* one more room, then a restart */
	sendf(u, "<iq type='set' id='b3'><pubsub xmlns='http://jabber.org/"
	    "protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item "
	    "id='crypt@" MUC_HOST "'><conference xmlns='urn:xmpp:bookmarks:1'"
	    " name='Crypt'/></item></publish></pubsub></iq>");
	t = take_tree(u);
	CHECK(result_of(t, "b3") != NULL);
	xml_free(t);
	server_restart();
	u = login_live("paris", "bm");
	sendf(u, BM_GET_ITEMS, "b4");
	sendf(u, BM_GET_PRIVATE, "b5");
	t = take_tree(u);
	CHECK(bm_items(t, "b4") == 2);
	CHECK(bm_private(t, "b5") == 2);
	xml_free(t);
	logout(u);
	/* the account goes, and its bookmarks with it */
	CHECK(services_delete_account("paris@localhost") == 0);
	keys = store_keys("ps-item", "paris@localhost ", &n);
	CHECK(n == 0);
	store_keys_free(keys);
	keys = store_keys("ps-node", "paris@localhost ", &n);
	CHECK(n == 0);
	store_keys_free(keys);
	CHECK(account_create("paris@localhost", "password") == 0);
	CHECK(store_flush() == 0);
	server_restart();
	u = login_live("paris", "bm");
	sendf(u, BM_GET_ITEMS, "b6");
	sendf(u, BM_GET_PRIVATE, "b7");
	t = take_tree(u);
	iq = find_el(t, "iq", "id", "b6");
	CHECK_STR(attr_or_empty(iq, "type"), "error");
	CHECK(kid(kid(iq, "error", NULL), "item-not-found", NULL) != NULL);
	CHECK(bm_private(t, "b7") == 0);
	xml_free(t);
	logout(u);
}

/* ---- the runs ---- */

static void
test_clean_restart(void)
{
	struct cast c = { "romeo", "juliet", "nurse", "tybalt", "capulet",
	    "", "" };

	populate(&c, 1);
	server_restart();
	verify(&c, 1);
	verify_answered(&c);
}

/* One short server life in a child process: a message left for an
 * absent user, then the process ends without closing anything. */
static void
child_leaves_message(const char *body)
{
	int status = 0, failed_before = check_failed;
	struct client *s;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		server_start();
		s = login("sampson", "password", "gate");
		sendf(s, "<message to='balthasar@localhost' type='chat'><body>"
		    "%s</body></message>", body);
		_exit(check_failed != failed_before ? 3 : 0);
	}
	if (pid > 0) {
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/*
 * Offline messages left in successive server lives, a moment apart (a
 * restart loop; a clock that went back at boot): none overwrites
 * another, and they come in the order they were sent.  Runs first, so
 * that each child starts as a fresh server does, with no offline
 * message stored by this process yet.
 */
static void
test_quick_restarts(void)
{
	struct client *b;
	struct xml_node *t;
	const struct xml_node *m;

	server_stop();
	child_leaves_message("one");
	child_leaves_message("two");
	child_leaves_message("three");
	server_start();
	b = login_live("balthasar", "mantua");
	sendf(b, "<presence/>");
	t = take_tree(b);
	CHECK(count_el(t, "message", NULL) == 3);
	m = find_el(t, "message", NULL, NULL);
	CHECK_STR(child_text(m, "body"), "one");
	m = m != NULL ? xml_next(m, "message", NULL) : NULL;
	CHECK_STR(child_text(m, "body"), "two");
	m = m != NULL ? xml_next(m, "message", NULL) : NULL;
	CHECK_STR(child_text(m, "body"), "three");
	xml_free(t);
	logout(b);
}

/* A crash: a child process writes (flushing each turn, as the reactor
 * does) and dies without closing the store or stopping a module. */
static void
test_crash_restart(void)
{
	struct cast c = { "benvolio", "rosaline", "friar", "paris", "crypt",
	    "", "" };
	int status = 0, fds[2], failed_before = check_failed;
	ssize_t n;
	pid_t pid;

	server_stop();
	CHECK(pipe(fds) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		server_start();
		populate(&c, 0);
		/* the roster version the child's client saw, for the parent */
		n = write(fds[1], c.ver, strlen(c.ver));
		_exit(check_failed != failed_before || n <= 0 ? 3 : 0);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		server_start();
		return;
	}
	n = read(fds[0], c.ver, sizeof(c.ver) - 1);
	c.ver[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(c.ver[0] != '\0');
	server_start();
	verify(&c, 0);
	verify_answered(&c);
}

int
main(void)
{
	static const char *const users[] = { "romeo", "juliet", "nurse",
	    "tybalt", "benvolio", "rosaline", "friar", "paris", "sampson",
	    "balthasar", NULL };
	char cmd[128];
	size_t i;

	snprintf(datadir, sizeof(datadir), "/tmp/uxmppd-test-persist.XXXXXX");
	if (mkdtemp(datadir) == NULL) {
		return 1;
	}
	if (load_config() != 0) {
		return 1;
	}
	log_open(NULL, LOG_LEVEL_ERR);
	server_start();
	for (i = 0; users[i] != NULL; i++) {
		char jid[64];

		snprintf(jid, sizeof(jid), "%s@localhost", users[i]);
		CHECK(account_create(jid, "password") == 0);
	}
	CHECK(store_flush() == 0);
	c2s_init();

	test_quick_restarts();
	test_clean_restart();
	test_crash_restart();
	test_bookmarks();

	server_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", datadir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", datadir);
	}
	return check_summary("persist");
}
