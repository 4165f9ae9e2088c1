/*
 * test_muc.c - muc.c in-process: the route.h functions are replaced by
 * recorders, so these tests see every stanza the service sends.  They
 * cover what the scenarios cannot: persistent rooms across a restart
 * (muc_shutdown + muc_init on the same store), the fan-out being
 * serialized once per groupchat message whatever the room size, history
 * limits (maxchars, seconds, since), temporary rooms going away, the
 * account-removal hook, and a reply to a forwarded iq finding its way back.
 */
#include "mam.h"
#include "muc.h"
#include "config.h"
#include "log.h"
#include "route.h"
#include "store.h"
#include "xml.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- recording route.h ---- */

#define MAX_OUT 8192

static char *out[MAX_OUT];	/* every stanza sent, serialized with 'to' */
static size_t nout;
static unsigned long n_prepare, n_prepared_send, n_route;

static void
record(const char *s)
{
	if (nout < MAX_OUT) {
		out[nout++] = xstrdup(s);
	}
}

static void
out_clear(void)
{
	size_t i;

	for (i = 0; i < nout; i++) {
		free(out[i]);
	}
	nout = 0;
	n_prepare = n_prepared_send = n_route = 0;
}

void
route_stanza(const struct xml_node *st)
{
	struct buf b;

	buf_init(&b, 0);
	xml_serialize(st, XML_NS_CLIENT, &b);
	record(b.data);
	buf_free(&b);
	n_route++;
}

void
route_prepare(struct route_prepared *p, const struct xml_node *st)
{
	struct xml_node *c = xml_clone(st);

	xml_set_attr(c, "to", NULL);
	buf_init(&p->bytes, 0);
	xml_serialize(c, XML_NS_CLIENT, &p->bytes);
	p->name_len = strlen(st->name) + 1;
	xml_free(c);
	n_prepare++;
}

void
route_prepared_send(const struct route_prepared *p, const char *to)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append(&b, p->bytes.data, p->name_len);
	buf_printf(&b, " to='%s'", to);
	buf_append(&b, p->bytes.data + p->name_len,
	    p->bytes.len - p->name_len);
	buf_putc(&b, '\0');
	record(b.data);
	buf_free(&b);
	n_prepared_send++;
}

void
route_prepared_free(struct route_prepared *p)
{
	buf_free(&p->bytes);
}

/* route.h: the senders are exempt from the rate limits unless a test
 * says otherwise (test_rate_limits). */
static int sender_unlimited = 1;

int
route_sender_unlimited(void)
{
	return sender_unlimited;
}

/* muc_init registers the MUC domain; here muc_handle is called directly. */
int
route_register_domain(const char *domain,
    void (*handle)(const struct xml_node *stanza),
    void (*session_gone)(const char *full_jid))
{
	(void)domain;
	(void)handle;
	(void)session_gone;
	return 0;
}

/* ---- mam.h: room archives are tested by the scenarios (they need the
 * router and the archives), so here the MUC archives nothing ---- */

int
mam_archive_room(struct xml_node *msg, const char *room,
    const char *real_jid)
{
	(void)msg;
	(void)room;
	(void)real_jid;
	return 0;
}

void
mam_room_iq(const struct xml_node *iq, const struct xml_node *q,
    const char *room, int allowed, int show_jids)
{
	(void)iq;
	(void)q;
	(void)room;
	(void)allowed;
	(void)show_jids;
}

void
mam_archive_removed(const char *bare)
{
	(void)bare;
}

int
mam_is_ns(const char *ns)
{
	(void)ns;
	return 0;
}

/* ---- helpers ---- */

static void
feed(const char *xml)
{
	struct xml_node *st;
	int err = 0;

	st = xml_parse_document(xml, strlen(xml), XML_NS_CLIENT, &err);
	if (st == NULL) {
		fprintf(stderr, "bad test stanza (%d): %s\n", err, xml);
		abort();
	}
	muc_handle(st);
	xml_free(st);
}

/* Number of recorded stanzas holding all of the given substrings. */
static size_t
count_out(const char *a, const char *b)
{
	size_t i, n = 0;

	for (i = 0; i < nout; i++) {
		if (strstr(out[i], a) != NULL &&
		    (b == NULL || strstr(out[i], b) != NULL)) {
			n++;
		}
	}
	return n;
}

static void
join(const char *room, const char *nick, const char *full, const char *x)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "<presence from='%s' to='%s@"
	    "conference.localhost/%s'><x xmlns='http://jabber.org/protocol/"
	    "muc'>%s</x></presence>", full, room, nick, x != NULL ? x : "");
	feed(buf);
}

static void
say(const char *room, const char *full, const char *body)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "<message from='%s' to='%s@"
	    "conference.localhost' type='groupchat'><body>%s</body>"
	    "</message>", full, room, body);
	feed(buf);
}

static void
configure(const char *room, const char *full, const char *fields)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "<iq from='%s' to='%s@conference."
	    "localhost' type='set' id='cfg'><query xmlns='http://jabber.org/"
	    "protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"
	    "<field var='FORM_TYPE'><value>http://jabber.org/protocol/"
	    "muc#roomconfig</value></field>%s</x></query></iq>", full, room,
	    fields);
	feed(buf);
}

static char data_dir[] = "/tmp/test_muc.XXXXXX";

static void
store_start(void)
{
	char err[256];

	if (store_open(data_dir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
}

/* ---- tests ---- */

/* A persistent room keeps its configuration, affiliations, reserved
 * nicks and subject across a restart; a temporary room does not. */
static void
test_persistence(void)
{
	out_clear();
	join("keep", "Romeo", "romeo@localhost/a", NULL);
	configure("keep", "romeo@localhost/a",
	    "<field var='muc#roomconfig_persistentroom'><value>1</value>"
	    "</field><field var='muc#roomconfig_roomname'><value>Kept"
	    "</value></field><field var='muc#roomconfig_membersonly'>"
	    "<value>1</value></field>");
	feed("<iq from='romeo@localhost/a' to='keep@conference.localhost' "
	    "type='set' id='m'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member' jid='juliet@localhost' "
	    "nick='Jules'/><item affiliation='outcast' jid='tybalt@localhost'>"
	    "<reason>Prince of cats</reason></item></query></iq>");
	feed("<message from='romeo@localhost/a' to='keep@conference."
	    "localhost' type='groupchat'><subject>Kept subject</subject>"
	    "</message>");
	join("temp", "Romeo", "romeo@localhost/a", NULL);
	configure("temp", "romeo@localhost/a", "");
	CHECK(count_out("type='result'", "id='m'") == 1);

	/* restart */
	muc_shutdown();
	CHECK(store_flush() == 0);
	store_close();
	store_start();
	CHECK(muc_init() == 0);
	out_clear();

	feed("<iq from='juliet@localhost/b' to='keep@conference.localhost' "
	    "type='get' id='d'><query xmlns='http://jabber.org/protocol/"
	    "disco#info'/></iq>");
	CHECK(count_out("id='d'", "name='Kept'") == 1);
	CHECK(count_out("id='d'", "muc_persistent") == 1);
	CHECK(count_out("id='d'", "muc_membersonly") == 1);
	/* the reserved nick is still Juliet's */
	feed("<iq from='juliet@localhost/b' to='keep@conference.localhost' "
	    "type='get' id='n'><query xmlns='http://jabber.org/protocol/"
	    "disco#info' node='x-roomuser-item'/></iq>");
	CHECK(count_out("id='n'", "name='Jules'") == 1);
	/* the member may enter the members-only room, with the subject */
	join("keep", "Jules", "juliet@localhost/b", NULL);
	CHECK(count_out("affiliation='member'", "code='110'") == 1);
	CHECK(count_out("<subject>Kept subject</subject>",
	    "to='juliet@localhost/b'") == 1);
	/* the owner is still the owner, the outcast still banned */
	join("keep", "Romeo", "romeo@localhost/a", NULL);
	CHECK(count_out("to='romeo@localhost/a'", "affiliation='owner'") >= 1);
	join("keep", "Tybalt", "tybalt@localhost/c", NULL);
	CHECK(count_out("to='tybalt@localhost/c'", "registration-required")
	    == 1);
	feed("<iq from='romeo@localhost/a' to='keep@conference.localhost' "
	    "type='get' id='bl'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='outcast'/></query></iq>");
	CHECK(count_out("id='bl'", "<reason>Prince of cats</reason>") == 1);
	/* the temporary room is gone */
	feed("<iq from='romeo@localhost/a' to='temp@conference.localhost' "
	    "type='get' id='t'><query xmlns='http://jabber.org/protocol/"
	    "disco#info'/></iq>");
	CHECK(count_out("id='t'", "item-not-found") == 1);

	/* destroying it forgets it for good */
	feed("<iq from='romeo@localhost/a' to='keep@conference.localhost' "
	    "type='set' id='x'><query xmlns='http://jabber.org/protocol/"
	    "muc#owner'><destroy><reason>Done</reason></destroy></query>"
	    "</iq>");
	muc_shutdown();
	CHECK(store_flush() == 0);
	store_close();
	store_start();
	muc_init();
	out_clear();
	feed("<iq from='romeo@localhost/a' to='keep@conference.localhost' "
	    "type='get' id='g'><query xmlns='http://jabber.org/protocol/"
	    "disco#info'/></iq>");
	CHECK(count_out("id='g'", "item-not-found") == 0);
	/* ...but for the tombstone it leaves, which outlives a restart */
	CHECK(count_out("id='g'", "<gone") == 1);
	join("keep", "Romeo", "romeo@localhost/a", NULL);
	CHECK(count_out("to='romeo@localhost/a'", "<gone") == 2);
	/* a service admin may create it again */
	out_clear();
	join("keep", "Prince", "admin@localhost/p", NULL);
	CHECK(count_out("to='admin@localhost/p'", "code='201'") == 1);
	muc_session_gone("admin@localhost/p");
	out_clear();
	feed("<iq from='romeo@localhost/a' to='keep@conference.localhost' "
	    "type='get' id='g2'><query xmlns='http://jabber.org/protocol/"
	    "disco#info'/></iq>");
	CHECK(count_out("id='g2'", "item-not-found") == 1);
}

/* A store that refuses changes (a full disk): a persistent room's
 * affiliations, configuration, subject and destruction are refused with
 * resource-constraint and stay as stored, across a restart too. */
static void
test_store_refused(void)
{
	out_clear();
	join("full", "Romeo", "romeo@localhost/a", NULL);
	configure("full", "romeo@localhost/a",
	    "<field var='muc#roomconfig_persistentroom'><value>1</value>"
	    "</field><field var='muc#roomconfig_roomname'><value>Before"
	    "</value></field>");
	out_clear();
	store_test_refuse_changes(1);
	feed("<iq from='romeo@localhost/a' to='full@conference.localhost' "
	    "type='set' id='m'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member' jid='juliet@localhost'/>"
	    "</query></iq>");
	CHECK(count_out("id='m'", "<resource-constraint") == 1);
	configure("full", "romeo@localhost/a",
	    "<field var='muc#roomconfig_roomname'><value>After</value>"
	    "</field>");
	CHECK(count_out("type='error'", "<resource-constraint") == 2);
	feed("<message from='romeo@localhost/a' to='full@conference."
	    "localhost' type='groupchat' id='s'><subject>New</subject>"
	    "</message>");
	CHECK(count_out("id='s'", "<resource-constraint") == 1);
	CHECK(count_out("<subject>New</subject>", "type='groupchat'") == 0);
	feed("<iq from='romeo@localhost/a' to='full@conference.localhost' "
	    "type='set' id='x'><query xmlns='http://jabber.org/protocol/"
	    "muc#owner'><destroy/></query></iq>");
	CHECK(count_out("id='x'", "<resource-constraint") == 1);
	store_test_refuse_changes(0);
	muc_shutdown();
	CHECK(store_flush() == 0);
	store_close();
	store_start();
	CHECK(muc_init() == 0);
	out_clear();
	feed("<iq from='juliet@localhost/b' to='full@conference.localhost' "
	    "type='get' id='d'><query xmlns='http://jabber.org/protocol/"
	    "disco#info'/></iq>");
	CHECK(count_out("id='d'", "name='Before'") == 1);
	feed("<iq from='romeo@localhost/a' to='full@conference.localhost' "
	    "type='get' id='ml'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member'/></query></iq>");
	CHECK(count_out("id='ml'", "juliet@localhost") == 0);
	/* writable again: destroy it */
	join("full", "Romeo", "romeo@localhost/a", NULL);
	out_clear();
	feed("<iq from='romeo@localhost/a' to='full@conference.localhost' "
	    "type='set' id='x2'><query xmlns='http://jabber.org/protocol/"
	    "muc#owner'><destroy/></query></iq>");
	CHECK(count_out("id='x2'", "type='result'") == 1);
}

/* A groupchat message to N occupants is serialized once (plus once for
 * the history) and sent N times; only 'to' differs. */
static void
test_fanout(void)
{
	char full[64], nick[32];
	size_t sizes[] = { 10, 100, 1000 }, k, i;

	for (k = 0; k < 3; k++) {
		char room[32];

		snprintf(room, sizeof(room), "fan%zu", sizes[k]);
		join(room, "owner", "owner@localhost/o", NULL);
		configure(room, "owner@localhost/o",
		    "<field var='muc#roomconfig_maxusers'><value>none</value>"
		    "</field><field var='muc#roomconfig_presencebroadcast'>"
		    "<value>moderator</value></field>");
		for (i = 1; i < sizes[k]; i++) {
			snprintf(full, sizeof(full), "u%zu@localhost/r", i);
			snprintf(nick, sizeof(nick), "n%zu", i);
			join(room, nick, full, "<history maxstanzas='0'/>");
		}
		out_clear();
		say(room, "u1@localhost/r", "hello all");
		CHECK(n_prepare == 2);
		CHECK(n_prepared_send == sizes[k]);
		CHECK(n_route == 0);
		CHECK(count_out("from='", "<body>hello all</body>") ==
		    sizes[k]);
		CHECK(count_out("to='u999@localhost/r'", "hello all") ==
		    (sizes[k] == 1000));
		/* everyone leaves; the temporary room goes */
		for (i = 1; i < sizes[k]; i++) {
			char buf[256];

			snprintf(buf, sizeof(buf), "u%zu@localhost/r", i);
			muc_session_gone(buf);
		}
		muc_session_gone("owner@localhost/o");
		out_clear();
		feed("<iq from='owner@localhost/o' to='fan10@conference."
		    "localhost' type='get' id='g'><query xmlns='http://"
		    "jabber.org/protocol/disco#info'/></iq>");
		CHECK(count_out("id='g'", "item-not-found") == 1);
	}
}

/*
 * muc_max_messages_per_s and muc_max_presence_per_s at their defaults
 * (10 and 5, buckets of 5 s): 55 messages at once, 50 go out and the
 * rest bounce with a wait policy-violation to the sender alone; another
 * occupant is not held back; presence changes likewise, leaving never.
 */
static void
test_rate_limits(void)
{
	char body[32], st[256];
	int i;

	join("rl", "owner", "owner@localhost/o", NULL);
	configure("rl", "owner@localhost/o", "");
	join("rl", "bob", "bob@localhost/b", "<history maxstanzas='0'/>");
	sender_unlimited = 0;
	out_clear();
	for (i = 0; i < 55; i++) {
		snprintf(body, sizeof(body), "m%d", i);
		say("rl", "owner@localhost/o", body);
	}
	/* a refill of 100 ms may let one more through */
	CHECK(count_out("to='bob@localhost/b'", "type='groupchat'") >= 50);
	CHECK(count_out("to='bob@localhost/b'", "type='groupchat'") <= 51);
	CHECK(count_out("to='owner@localhost/o'", "<policy-violation") >= 4);
	CHECK(count_out("type='error'", "type='wait'") >= 4);
	CHECK(count_out("to='bob@localhost/b'", "policy-violation") == 0);
	out_clear();
	say("rl", "bob@localhost/b", "still here");
	CHECK(count_out("to='owner@localhost/o'", "still here") == 1);
	CHECK(count_out("policy-violation", NULL) == 0);
	out_clear();
	for (i = 0; i < 30; i++) {
		snprintf(st, sizeof(st), "<presence from='bob@localhost/b' "
		    "to='rl@conference.localhost/bob'><status>s%d</status>"
		    "</presence>", i);
		feed(st);
	}
	CHECK(count_out("to='bob@localhost/b'", "<policy-violation") >= 4);
	CHECK(count_out("to='bob@localhost/b'", "<policy-violation") <= 5);
	out_clear();
	feed("<presence from='bob@localhost/b' to='rl@conference.localhost/"
	    "bob' type='unavailable'/>");
	CHECK(count_out("policy-violation", NULL) == 0);
	CHECK(count_out("to='owner@localhost/o'", "unavailable") == 1);
	/* muc_max_rooms_per_user (100): the 101st room is refused, and
	 * an exempt sender is not */
	out_clear();
	for (i = 0; i < 100; i++) {
		snprintf(body, sizeof(body), "own%d", i);
		join(body, "m", "maker@localhost/m", NULL);
	}
	CHECK(count_out("status code='201'", NULL) == 100);
	out_clear();
	join("own100", "m", "maker@localhost/m", NULL);
	CHECK(count_out("to='maker@localhost/m'", "<policy-violation") == 1);
	CHECK(count_out("status code='201'", NULL) == 0);
	sender_unlimited = 1;
	out_clear();
	join("own100", "m", "maker@localhost/m", NULL);
	CHECK(count_out("status code='201'", NULL) == 1);
	muc_session_gone("maker@localhost/m");
	muc_session_gone("owner@localhost/o");
	out_clear();
}

/* History limits on join (§7.2.15). */
static void
test_history(void)
{
	join("hist", "Romeo", "romeo@localhost/a", NULL);
	configure("hist", "romeo@localhost/a", "");
	say("hist", "romeo@localhost/a", "one");
	say("hist", "romeo@localhost/a", "two");
	say("hist", "romeo@localhost/a", "three");

	out_clear();
	join("hist", "J1", "juliet@localhost/1", NULL);
	CHECK(count_out("to='juliet@localhost/1'", "<delay") == 3);
	CHECK(count_out("<body>one</body>", "from='hist@conference."
	    "localhost'") == 1);

	out_clear();
	join("hist", "J2", "juliet@localhost/2", "<history maxstanzas='2'/>");
	CHECK(count_out("to='juliet@localhost/2'", "<body>") == 2);
	CHECK(count_out("to='juliet@localhost/2'", "<body>one</body>") == 0);

	out_clear();
	join("hist", "J3", "juliet@localhost/3", "<history maxchars='0'/>");
	CHECK(count_out("to='juliet@localhost/3'", "<body>") == 0);
	CHECK(count_out("to='juliet@localhost/3'", "<subject") == 1);

	out_clear();
	join("hist", "J4", "juliet@localhost/4", "<history seconds='3600'/>");
	CHECK(count_out("to='juliet@localhost/4'", "<body>") == 3);

	out_clear();
	join("hist", "J5", "juliet@localhost/5",
	    "<history since='2999-01-01T00:00:00Z'/>");
	CHECK(count_out("to='juliet@localhost/5'", "<body>") == 0);

	out_clear();
	join("hist", "J6", "juliet@localhost/6",
	    "<history since='1970-01-02T00:00:00.123+01:00'/>");
	CHECK(count_out("to='juliet@localhost/6'", "<body>") == 3);

	/* history length 1 keeps the last message only */
	configure("hist", "romeo@localhost/a",
	    "<field var='muc#roomconfig_historylength'><value>1</value>"
	    "</field>");
	out_clear();
	join("hist", "J7", "juliet@localhost/7", NULL);
	CHECK(count_out("to='juliet@localhost/7'", "<body>") == 1);
	CHECK(count_out("to='juliet@localhost/7'", "<body>three</body>") == 1);

	/* the history also has a byte budget (MUC_HISTORY_BYTES) */
	configure("hist", "romeo@localhost/a",
	    "<field var='muc#roomconfig_historylength'><value>20</value>"
	    "</field>");
	{
		char *big = xmalloc(60 * 1024 + 1);
		int k;

		memset(big, 'x', 60 * 1024);
		big[60 * 1024] = '\0';
		for (k = 0; k < 3; k++) {
			size_t n = strlen(big) + 200;
			char *m = xmalloc(n);

			snprintf(m, n, "<message from='romeo@localhost/a' to='hist"
			    "@conference.localhost' type='groupchat'><body>%d%s"
			    "</body></message>", k, big);
			feed(m);
			free(m);
		}
		free(big);
	}
	out_clear();
	join("hist", "J8", "juliet@localhost/8", NULL);
	CHECK(count_out("to='juliet@localhost/8'", "<body>") == 2);
	CHECK(count_out("to='juliet@localhost/8'", "<body>0x") == 0);
	CHECK(count_out("to='juliet@localhost/8'", "<body>2x") == 1);
}

/* A reply to an iq forwarded between occupants goes back to the asking
 * session with its own id; the account-removal hook takes a member out
 * of a members-only room with 321. */
static void
test_iq_and_account(void)
{
	const char *p, *q;
	char id[256], buf[1024];
	size_t i;

	join("iq", "Romeo", "romeo@localhost/a", NULL);
	configure("iq", "romeo@localhost/a",
	    "<field var='muc#roomconfig_membersonly'><value>1</value>"
	    "</field>");
	feed("<iq from='romeo@localhost/a' to='iq@conference.localhost' "
	    "type='set' id='m'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member' jid='juliet@localhost'/>"
	    "</query></iq>");
	join("iq", "Juliet", "juliet@localhost/b", NULL);
	out_clear();
	feed("<iq from='juliet@localhost/b' to='iq@conference.localhost/"
	    "Romeo' type='get' id='orig-1'><query xmlns='jabber:iq:version'/>"
	    "</iq>");
	CHECK(nout == 1);
	id[0] = '\0';
	for (i = 0; i < nout; i++) {
		p = strstr(out[i], " id='");
		if (p != NULL && strstr(out[i], "to='romeo@localhost/a'")) {
			p += 5;
			q = strchr(p, '\'');
			snprintf(id, sizeof(id), "%.*s", (int)(q - p), p);
		}
	}
	CHECK(id[0] != '\0' && strcmp(id, "orig-1") != 0);
	CHECK(count_out("from='iq@conference.localhost/Juliet'", "version")
	    == 1);
	out_clear();
	snprintf(buf, sizeof(buf), "<iq from='romeo@localhost/a' to='iq@"
	    "conference.localhost/Juliet' type='result' id='%s'><query "
	    "xmlns='jabber:iq:version'><name>x</name></query></iq>", id);
	feed(buf);
	CHECK(count_out("to='juliet@localhost/b'", "id='orig-1'") == 1);
	CHECK(count_out("from='iq@conference.localhost/Romeo'", "<name>x")
	    == 1);
	/* a forged id goes nowhere */
	out_clear();
	feed("<iq from='romeo@localhost/a' to='iq@conference.localhost/"
	    "Juliet' type='result' id='mq0000000000000000:orig-1'/>");
	CHECK(nout == 0);

	out_clear();
	muc_account_removed("juliet@localhost");
	CHECK(count_out("to='juliet@localhost/b'", "code='321'") == 1);
	CHECK(count_out("to='romeo@localhost/a'", "code='321'") == 1);
	out_clear();
	join("iq", "Juliet", "juliet@localhost/b", NULL);
	CHECK(count_out("to='juliet@localhost/b'", "registration-required")
	    == 1);
}

/* Odd and hostile input: no crash, no leak (run under ASan), and the
 * service keeps working afterwards. */
static void
test_hostile(void)
{
	static const char *const bad[] = {
		"<presence to='odd@conference.localhost/x'/>",
		"<presence from='a@localhost/r'/>",
		"<presence from='a@localhost/r' to='@conference.localhost/x'/>",
		"<presence from='a@localhost/r' to='odd@conference.localhost/'>"
		    "<x xmlns='http://jabber.org/protocol/muc'/></presence>",
		"<presence from='a@localhost/r' to='odd@conference.localhost/\t'>"
		    "<x xmlns='http://jabber.org/protocol/muc'/></presence>",
		"<presence from='a@localhost/r' to='odd@conference.localhost/x' "
		    "type='subscribe'/>",
		"<presence from='a@localhost/r' to='odd@conference.localhost/x' "
		    "type='probe'/>",
		"<message from='a@localhost/r' to='odd@conference.localhost'>"
		    "<x xmlns='http://jabber.org/protocol/muc#user'/></message>",
		"<message from='a@localhost/r' to='odd@conference.localhost'>"
		    "<x xmlns='http://jabber.org/protocol/muc#user'><invite/>"
		    "</x></message>",
		"<message from='a@localhost/r' to='odd@conference.localhost'>"
		    "<x xmlns='http://jabber.org/protocol/muc#user'><decline to="
		    "'odd@conference.localhost/nobody'/></x></message>",
		"<message from='a@localhost/r' to='odd@conference.localhost'>"
		    "<x xmlns='jabber:x:data'><field var='FORM_TYPE'><value>"
		    "http://jabber.org/protocol/muc#request</value></field></x>"
		    "</message>",
		"<message from='a@localhost/r' to='odd@conference.localhost' "
		    "type='error'><error><bogus/></error></message>",
		"<iq from='a@localhost/r' to='odd@conference.localhost' "
		    "type='set' id='1'/>",
		"<iq from='a@localhost/r' to='odd@conference.localhost' "
		    "type='set' id='2'><query xmlns='http://jabber.org/protocol/"
		    "muc#admin'><item/></query></iq>",
		"<iq from='a@localhost/r' to='odd@conference.localhost' "
		    "type='set' id='3'><query xmlns='http://jabber.org/protocol/"
		    "muc#admin'><item affiliation='king' jid='b@localhost'/>"
		    "<item role='emperor' nick='x'/><item jid='@@'/></query></iq>",
		"<iq from='a@localhost/r' to='odd@conference.localhost' "
		    "type='get' id='4'><query xmlns='http://jabber.org/protocol/"
		    "muc#admin'/></iq>",
		"<iq from='a@localhost/r' to='odd@conference.localhost' "
		    "type='set' id='5'><query xmlns='http://jabber.org/protocol/"
		    "muc#owner'/></iq>",
		"<iq from='a@localhost/r' to='odd@conference.localhost' "
		    "type='set' id='6'><query xmlns='http://jabber.org/protocol/"
		    "muc#owner'><x xmlns='jabber:x:data' type='submit'><field "
		    "var='muc#roomconfig_historylength'><value>99999999999"
		    "</value></field><field var='muc#roomconfig_maxusers'>"
		    "<value>-5</value></field><field var='muc#roomconfig_"
		    "presencebroadcast'/><field/></x></query></iq>",
		"<iq from='a@localhost/r' to='odd@conference.localhost' "
		    "type='set' id='7'><query xmlns='jabber:iq:register'><x "
		    "xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
		    "<value>http://jabber.org/protocol/muc#register</value>"
		    "</field></x></query></iq>",
		"<iq from='a@localhost/r' to='odd@conference.localhost/x' "
		    "type='result' id='mq:'/>",
		"<iq from='a@localhost/r' to='odd@conference.localhost/x' "
		    "type='get' id='8'/>",
		"<iq from='a@localhost/r' to='conference.localhost' type='set' "
		    "id='9'><command xmlns='http://jabber.org/protocol/commands'/>"
		    "</iq>",
		"<iq from='admin@localhost/r' to='conference.localhost' "
		    "type='set' id='10'><command xmlns='http://jabber.org/"
		    "protocol/commands' node='http://prosody.im/protocol/"
		    "muc#destroy'><x xmlns='jabber:x:data' type='submit'><field "
		    "var='rooms'><value>@</value><value>nope@conference."
		    "localhost</value></field></x></command></iq>",
		"<iq from='admin@localhost/r' to='conference.localhost' "
		    "type='set' id='11'><command xmlns='http://jabber.org/"
		    "protocol/commands' node='http://prosody.im/protocol/"
		    "muc#set-affiliation'><x xmlns='jabber:x:data' type='submit'>"
		    "<field var='room'><value>odd@conference.localhost</value>"
		    "</field></x></command></iq>",
		"<message from='a@localhost/r' to='conference.localhost'/>",
		"<message from='a@localhost/r' to='odd@conference.localhost/x' "
		    "type='error'/>",
		"<presence from='a@localhost/r' to='odd@conference.localhost/x' "
		    "type='error'/>",
	};
	size_t i;

	join("odd", "x", "a@localhost/r", "<history maxchars='-1' "
	    "maxstanzas='x' seconds='-100' since='garbage'/>");
	configure("odd", "a@localhost/r", "");
	join("odd", "y", "b@localhost/r", NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		feed(bad[i]);
	}
	/* a huge nickname (larger than any JID part) */
	{
		char big[3000], buf[3200];

		memset(big, 'n', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(buf, sizeof(buf), "<presence from='a@localhost/r' "
		    "to='odd@conference.localhost/%s'/>", big);
		feed(buf);
	}
	/* (the error presence above took the occupant out) */
	join("odd", "x", "a@localhost/r", NULL);
	out_clear();
	say("odd", "a@localhost/r", "still here");
	CHECK(count_out("to='a@localhost/r'", "still here") == 1);
	CHECK(count_out("to='b@localhost/r'", "still here") == 1);
	muc_session_gone("a@localhost/r");
	muc_session_gone("b@localhost/r");
}

/* muc#admin: an empty nick unsets a reserved nickname (§9.5), and a room
 * holds at most MUC_AFFS_MAX (10000) affiliations, so neither an admin
 * nor invitations can grow it without bound. */
static void
test_admin_limits(void)
{
	struct buf q;
	int i, k;

	join("lim", "Owner", "boss@localhost/a", NULL);
	configure("lim", "boss@localhost/a", "");
	out_clear();
	feed("<iq from='boss@localhost/a' to='lim@conference.localhost' "
	    "type='set' id='n1'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member' jid='juliet@localhost' "
	    "nick='Jules'/></query></iq>");
	CHECK(count_out("id='n1'", "type='result'") == 1);
	feed("<iq from='boss@localhost/a' to='lim@conference.localhost' "
	    "type='set' id='n2'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member' jid='juliet@localhost' "
	    "nick=''/></query></iq>");
	CHECK(count_out("id='n2'", "type='result'") == 1);
	feed("<iq from='boss@localhost/a' to='lim@conference.localhost' "
	    "type='get' id='n3'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member'/></query></iq>");
	CHECK(count_out("id='n3'", "jid='juliet@localhost'") == 1);
	CHECK(count_out("id='n3'", "Jules") == 0);
	/* the nickname is free again */
	join("lim", "Jules", "romeo@localhost/a", NULL);
	CHECK(count_out("from='lim@conference.localhost/Jules' "
	    "to='romeo@localhost/a'", "code='110'") == 1);

	/* fill the room's affiliation list (Owner and juliet hold two) */
	buf_init(&q, 0);
	for (i = 0; i < 100; i++) {
		out_clear();
		buf_reset(&q);
		buf_printf(&q, "<iq from='boss@localhost/a' to='lim@conference."
		    "localhost' type='set' id='f%d'><query xmlns='http://jabber"
		    ".org/protocol/muc#admin'>", i);
		for (k = 0; k < 100; k++) {
			buf_printf(&q, "<item affiliation='outcast' "
			    "jid='spam%d-%d@example.com'/>", i, k);
		}
		buf_puts(&q, "</query></iq>");
		feed(q.data);
	}
	/* the last batch stopped at the limit */
	CHECK(count_out("id='f99'", "resource-constraint") == 1);
	out_clear();
	feed("<iq from='boss@localhost/a' to='lim@conference.localhost' "
	    "type='set' id='f100'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='outcast' jid='one@more.example'/>"
	    "</query></iq>");
	CHECK(count_out("id='f100'", "resource-constraint") == 1);
	/* changing an existing entry still works */
	feed("<iq from='boss@localhost/a' to='lim@conference.localhost' "
	    "type='set' id='f101'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='none' jid='spam0-0@example.com'/>"
	    "</query></iq>");
	CHECK(count_out("id='f101'", "type='result'") == 1);
	feed("<iq from='boss@localhost/a' to='lim@conference.localhost' "
	    "type='set' id='f102'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='outcast' jid='one@more.example'/>"
	    "</query></iq>");
	CHECK(count_out("id='f102'", "type='result'") == 1);
	buf_free(&q);
	muc_session_gone("romeo@localhost/a");
	muc_session_gone("boss@localhost/a");
	out_clear();
}

/* §8.4: not even an owner may revoke an admin's voice (Prosody lets
 * owners do it); kicking the admin stays allowed (§8.2). */
static void
test_admin_voice(void)
{
	join("vox", "Owner", "boss@localhost/a", NULL);
	configure("vox", "boss@localhost/a", "");
	feed("<iq from='boss@localhost/a' to='vox@conference.localhost' "
	    "type='set' id='v0'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='admin' jid='adm@localhost'/>"
	    "</query></iq>");
	join("vox", "Adm", "adm@localhost/a", NULL);
	out_clear();
	feed("<iq from='boss@localhost/a' to='vox@conference.localhost' "
	    "type='set' id='v1'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item role='visitor' nick='Adm'/></query></iq>");
	CHECK(count_out("id='v1'", "not-allowed") == 1);
	CHECK(count_out("role='visitor'", NULL) == 0);
	feed("<iq from='boss@localhost/a' to='vox@conference.localhost' "
	    "type='set' id='v2'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item role='none' nick='Adm'/></query></iq>");
	CHECK(count_out("id='v2'", "type='result'") == 1);
	CHECK(count_out("to='adm@localhost/a'", "code='307'") == 1);
	muc_session_gone("boss@localhost/a");
	out_clear();
}

/* An invitation to a members-only room makes the invitee a member, but
 * must not lift a ban (§9.1): a member could undo an admin's ban. */
static void
test_invite_outcast(void)
{
	join("club", "Owner", "boss@localhost/a", NULL);
	configure("club", "boss@localhost/a",
	    "<field var='muc#roomconfig_membersonly'><value>1</value></field>"
	    "<field var='muc#roomconfig_allowinvites'><value>1</value>"
	    "</field>");
	feed("<iq from='boss@localhost/a' to='club@conference.localhost' "
	    "type='set' id='b0'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='member' jid='mem@localhost'/>"
	    "<item affiliation='outcast' jid='tybalt@localhost'/>"
	    "<item affiliation='outcast' jid='evil.example'/>"
	    "</query></iq>");
	join("club", "Mem", "mem@localhost/a", NULL);
	out_clear();
	feed("<message from='mem@localhost/a' to='club@conference.localhost'>"
	    "<x xmlns='http://jabber.org/protocol/muc#user'><invite "
	    "to='tybalt@localhost'/></x></message>");
	feed("<message from='mem@localhost/a' to='club@conference.localhost'>"
	    "<x xmlns='http://jabber.org/protocol/muc#user'><invite "
	    "to='x@evil.example'/></x></message>");
	feed("<message from='mem@localhost/a' to='club@conference.localhost'>"
	    "<x xmlns='http://jabber.org/protocol/muc#user'><invite "
	    "to='nurse@localhost'/></x></message>");
	join("club", "Tybalt", "tybalt@localhost/a", NULL);
	CHECK(count_out("to='tybalt@localhost/a'", "type='error'") == 1);
	join("club", "X", "x@evil.example/a", NULL);
	CHECK(count_out("to='x@evil.example/a'", "type='error'") == 1);
	join("club", "Nurse", "nurse@localhost/a", NULL);
	CHECK(count_out("from='club@conference.localhost/Nurse' "
	    "to='nurse@localhost/a'", "code='110'") == 1);
	feed("<iq from='boss@localhost/a' to='club@conference.localhost' "
	    "type='get' id='b1'><query xmlns='http://jabber.org/protocol/"
	    "muc#admin'><item affiliation='outcast'/></query></iq>");
	CHECK(count_out("id='b1'", "jid='tybalt@localhost'") == 1);
	muc_session_gone("nurse@localhost/a");
	muc_session_gone("mem@localhost/a");
	muc_session_gone("boss@localhost/a");
	out_clear();
}

int
main(void)
{
	char path[300], err[256];
	FILE *fp;

	log_open(NULL, LOG_LEVEL_WARN);
	if (mkdtemp(data_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/uxmppd.conf", data_dir);
	fp = fopen(path, "w");
	if (fp == NULL) {
		perror(path);
		return 1;
	}
	fprintf(fp, "domain = localhost\nmuc_domain = conference.localhost\n"
	    "admins = admin@localhost\n");
	fclose(fp);
	if (config_load(path, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return 1;
	}
	store_start();
	muc_init();

	test_persistence();
	test_store_refused();
	test_fanout();
	test_rate_limits();
	test_history();
	test_iq_and_account();
	test_hostile();
	test_admin_limits();
	test_admin_voice();
	test_invite_outcast();

	muc_shutdown();
	store_close();
	out_clear();
	snprintf(path, sizeof(path), "rm -rf '%s'", data_dir);
	if (system(path) != 0) {
		fprintf(stderr, "could not remove %s\n", data_dir);
	}
	return check_summary("test_muc");
}
