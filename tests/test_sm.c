/*
 * test_sm.c - stream management (XEP-0198) and client state indication
 * (XEP-0352) end to end without sockets: the fake reactor plays server.c,
 * the test moves the clock and runs sm_tick() as server_tick() would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "log.h"
#include "muc.h"
#include "route.h"
#include "sm.h"
#include "store.h"

#include "fake_reactor.h"

#define SM_NS		"urn:xmpp:sm:3"
#define ENABLE_RESUME	"<enable xmlns='" SM_NS "' resume='true'/>"
#define R		"<r xmlns='" SM_NS "'/>"

static char confdir[64];

/* The value of attribute name in the first element of out that has it;
 * caller frees.  "" when absent. */
static char *
attr_of(const char *out, const char *name)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), " %s='", name);
	p = strstr(out, pat);
	if (p == NULL) {
		return xstrdup("");
	}
	p += strlen(pat);
	e = strchr(p, '\'');
	return xstrndup(p, e ? (size_t)(e - p) : strlen(p));
}

/* Enable resumable SM on a bound client; returns the SM-ID (caller
 * frees). */
static char *
enable_resume(struct client *cl)
{
	char *out, *id;

	send_str(cl, ENABLE_RESUME);
	out = take(cl);
	CHECK(contains(out, "<enabled xmlns='" SM_NS "'"));
	id = attr_of(out, "id");
	CHECK(strlen(id) == 2 * SM_ID_BYTES);
	free(out);
	return id;
}

static void
send_chat(struct client *from, const char *to, const char *body)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "<message to='%s' type='chat'>"
	    "<body>%s</body></message>", to, body);
	send_str(from, msg);
}

static void
send_ack(struct client *cl, unsigned h)
{
	char a[64];

	snprintf(a, sizeof(a), "<a xmlns='" SM_NS "' h='%u'/>", h);
	send_str(cl, a);
}

/* Log in a fresh resource of user, become available and return what came
 * (offline messages); the client is closed cleanly.  Caller frees. */
static char *
collect_offline(const char *user, const char *resource)
{
	struct client *cl = login(user, "password", resource);
	char *out;

	send_str(cl, "<presence/>");
	out = take(cl);
	send_str(cl, "</stream:stream>");
	client_free(cl);
	return out;
}

static int
load_config(const char *extra)
{
	char conf[128], err[600];
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/uxmppd.conf", confdir);
	fp = fopen(conf, "w");
	if (fp == NULL) {
		return -1;
	}
	fprintf(fp, "data_dir = %s\nstore_sync = none\nsm_max_unacked = 20\n"
	    "%s", confdir, extra);
	fclose(fp);
	if (config_load(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static void
test_features_and_enable(void)
{
	struct client *cl;
	char *feat, *out;

	cl = login_auth("user", "password", &feat);
	CHECK(contains(feat, "<sm xmlns='" SM_NS "'/>"));
	CHECK(contains(feat, "<csi xmlns='urn:xmpp:csi:0'/>"));
	free(feat);
	/* §3: not before binding */
	send_str(cl, ENABLE_RESUME);
	out = take(cl);
	CHECK(contains(out, "<failed xmlns='" SM_NS "'><unexpected-request "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"));
	CHECK(!cl->conn.closing);
	free(out);
	login_bind(cl, "phone");
	send_str(cl, ENABLE_RESUME);
	out = take(cl);
	CHECK(contains(out, "resume='true'"));
	CHECK(contains(out, "max='300'"));
	CHECK(contains(out, " id='"));
	free(out);
	/* only once */
	send_str(cl, ENABLE_RESUME);
	out = take(cl);
	CHECK(contains(out, "<failed xmlns='" SM_NS "'><unexpected-request"));
	CHECK(!cl->conn.closing);
	free(out);
	/* r/a: three iq handled, three results sent */
	send_str(cl, R);
	out = take(cl);
	CHECK(contains(out, "<a xmlns='" SM_NS "' h='0'/>"));
	free(out);
	send_str(cl, "<iq to='localhost' type='get' id='p1'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>"
	    "<iq to='localhost' type='get' id='p2'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>"
	    "<iq to='localhost' type='get' id='p3'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>" R);
	out = take(cl);
	/* one reply each, whatever it is */
	CHECK(count_of(out, "<iq ") == 3);
	CHECK(contains(out, "<a xmlns='" SM_NS "' h='3'/>"));
	/* fewer than SM_ACK_EVERY sent: no request yet */
	CHECK(!contains(out, R));
	free(out);
	send_ack(cl, 2);
	send_ack(cl, 3);
	out = take(cl);
	CHECK(strcmp(out, "") == 0);
	CHECK(!cl->conn.closing);
	free(out);
	/* §5: acknowledging more than was sent */
	send_ack(cl, 4);
	out = take(cl);
	CHECK(contains(out, "<undefined-condition "));
	CHECK(contains(out, "<handled-count-too-high xmlns='" SM_NS "' "
	    "h='4' send-count='3'/>"));
	CHECK(contains(out, "</stream:stream>"));
	CHECK(cl->conn.closing);
	free(out);
	client_free(cl);
	CHECK(sm_hibernating() == 0);

	/* a shorter window asked by the client; no resumption asked */
	cl = login("user", "password", "phone");
	send_str(cl, "<enable xmlns='" SM_NS "' resume='1' max='60'/>");
	out = take(cl);
	CHECK(contains(out, "max='60'"));
	free(out);
	send_str(cl, "</stream:stream>");
	client_free(cl);
	cl = login("user", "password", "phone");
	send_str(cl, "<enable xmlns='" SM_NS "'/>");
	out = take(cl);
	CHECK(contains(out, "<enabled xmlns='" SM_NS "'/>"));
	free(out);
	client_drop(cl);
	/* not resumable: gone with its connection */
	CHECK(sm_hibernating() == 0);
	CHECK(!route_user_available("user@localhost"));

	/* acks without stream management */
	cl = login("user", "password", "phone");
	send_str(cl, R);
	out = take(cl);
	CHECK(contains(out, "<unsupported-stanza-type"));
	CHECK(cl->conn.closing);
	free(out);
	client_free(cl);
}

static void
test_ack_requests(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char body[16], *out, *r;
	int i;

	send_str(a, "<enable xmlns='" SM_NS "'/>");
	free(take(a));
	for (i = 1; i <= 5; i++) {
		snprintf(body, sizeof(body), "m%d", i);
		send_chat(b, "user@localhost/phone", body);
	}
	out = take(a);
	CHECK(count_of(out, "<body>m") == 5);
	/* one request, after the fifth stanza */
	CHECK(count_of(out, R) == 1);
	r = strstr(out, R);
	CHECK(r != NULL && strstr(out, "<body>m5</body>") < r);
	free(out);
	send_chat(b, "user@localhost/phone", "m6");
	out = take(a);
	CHECK(contains(out, "<body>m6</body>"));
	CHECK(!contains(out, R));
	free(out);
	/* the tick asks for what was sent since the last request, once */
	c2s_tick(a->s);
	out = take(a);
	CHECK_STR(out, R);
	free(out);
	c2s_tick(a->s);
	out = take(a);
	CHECK_STR(out, "");
	free(out);
	send_ack(a, 6);
	send_str(a, "</stream:stream>");
	client_free(a);
	send_str(b, "</stream:stream>");
	client_free(b);
	/* all acked: nothing went offline */
	out = collect_offline("user", "check");
	CHECK(!contains(out, "<body>m"));
	free(out);
}

static void
test_queue_cap(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char body[16], *out;
	int i;

	send_str(a, "<enable xmlns='" SM_NS "'/>");
	free(take(a));
	/* sm_max_unacked = 20 in this test's configuration */
	for (i = 1; i <= 20; i++) {
		snprintf(body, sizeof(body), "q%d", i);
		send_chat(b, "user@localhost/phone", body);
	}
	CHECK(!a->conn.closing);
	send_ack(a, 15);		/* trims the queue to 5 */
	for (i = 21; i <= 35; i++) {
		snprintf(body, sizeof(body), "q%d", i);
		send_chat(b, "user@localhost/phone", body);
	}
	CHECK(!a->conn.closing);
	send_chat(b, "user@localhost/phone", "q36");
	out = take(a);
	CHECK(contains(out, "<resource-constraint "));
	CHECK(a->conn.closing);
	free(out);
	client_free(a);
	/* the 21 unacknowledged (q16..q36) were kept offline */
	out = collect_offline("user", "check");
	CHECK(count_of(out, "<body>q") == 21);
	CHECK(contains(out, "<body>q16</body>"));
	CHECK(contains(out, "<body>q36</body>"));
	CHECK(!contains(out, "<body>q15</body>"));
	free(out);
	send_str(b, "</stream:stream>");
	client_free(b);
}

static void
test_resume(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char req[256], *id, *out, *p3, *p4, *r;

	id = enable_resume(a);
	send_str(a, "<presence/>");
	out = take(a);
	CHECK(contains(out, "<presence"));
	free(out);
	send_chat(b, "user@localhost/phone", "m1");
	send_chat(b, "user@localhost/phone", "m2");
	send_chat(b, "user@localhost/phone", "m3");
	free(take(a));
	send_ack(a, 2);			/* presence echo and m1 */
	client_drop(a);
	/* hibernating: still online for others, still reachable */
	CHECK(sm_hibernating() == 1);
	CHECK(route_user_available("user@localhost"));
	free(take(b));
	send_chat(b, "user@localhost/phone", "m4");
	out = take(b);
	CHECK(!contains(out, "error"));
	free(out);
	sm_tick(fake_now + 299);
	CHECK(sm_hibernating() == 1);

	a = login_auth("user", "password", NULL);
	snprintf(req, sizeof(req), "<resume xmlns='" SM_NS "' previd='%s' "
	    "h='3'/>", id);
	send_str(a, req);
	out = take(a);
	snprintf(req, sizeof(req), "<resumed xmlns='" SM_NS "' h='1' "
	    "previd='%s'/>", id);
	CHECK(contains(out, req));
	/* m2 was handled per the client's h; m3 and m4 come again */
	CHECK(!contains(out, "<body>m1</body>"));
	CHECK(!contains(out, "<body>m2</body>"));
	p3 = strstr(out, "<body>m3</body>");
	p4 = strstr(out, "<body>m4</body>");
	r = strstr(out, R);
	CHECK(p3 != NULL && p4 != NULL && p3 < p4 && r != NULL && p4 < r);
	free(out);
	CHECK(sm_hibernating() == 0);
	/* the session lives on in the new stream, both ways */
	send_chat(b, "user@localhost/phone", "m5");
	out = take(a);
	CHECK(contains(out, "<body>m5</body>"));
	CHECK(contains(out, "to='user@localhost/phone'"));
	free(out);
	send_chat(a, "juliet@localhost/laptop", "back");
	out = take(b);
	CHECK(contains(out, "from='user@localhost/phone'"));
	CHECK(contains(out, "<body>back</body>"));
	free(out);
	/* counters carry over: in 1 (presence) + 1 (message) */
	send_str(a, R);
	out = take(a);
	CHECK(contains(out, "<a xmlns='" SM_NS "' h='2'/>"));
	free(out);
	/* the id stays valid for the resumed session: a second drop */
	send_ack(a, 6);
	client_drop(a);
	CHECK(sm_hibernating() == 1);
	a = login_auth("user", "password", NULL);
	snprintf(req, sizeof(req), "<resume xmlns='" SM_NS "' previd='%s' "
	    "h='6'/>", id);
	send_str(a, req);
	out = take(a);
	CHECK(contains(out, "<resumed "));
	CHECK(!contains(out, "<body>"));
	CHECK(!contains(out, R));
	free(out);
	/* a clean close ends the session: unavailable, no hibernation */
	send_str(a, "</stream:stream>");
	client_free(a);
	CHECK(sm_hibernating() == 0);
	CHECK(!route_user_available("user@localhost"));
	send_str(b, "</stream:stream>");
	client_free(b);
	out = collect_offline("user", "check");
	CHECK(!contains(out, "<body>m"));
	free(out);
	free(id);
}

/* §5: the old stream is still open when the session is resumed. */
static void
test_resume_live_old(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	struct client *a2;
	char req[256], *id, *out;

	id = enable_resume(a);
	send_chat(b, "user@localhost/phone", "x1");
	/* presence held back on the old stream (CSI) */
	send_str(a, "<inactive xmlns='urn:xmpp:csi:0'/>");
	send_str(b, "<presence to='user@localhost/phone'><status>held1"
	    "</status></presence>");
	free(take(a));
	a2 = login_auth("user", "password", NULL);
	snprintf(req, sizeof(req), "<resume xmlns='" SM_NS "' previd='%s' "
	    "h='0'/>", id);
	send_str(a2, req);
	out = take(a);
	CHECK(contains(out, "<conflict "));
	CHECK(a->conn.closing);
	free(out);
	out = take(a2);
	CHECK(contains(out, "<resumed "));
	CHECK(contains(out, "<body>x1</body>"));
	/* after the redelivery, once; the new stream is active */
	CHECK(count_of(out, "<status>held1</status>") == 1);
	CHECK(strstr(out, "<resumed ") < strstr(out, "<status>held1"));
	free(out);
	/* the old connection going away does not take the session along */
	client_drop(a);
	CHECK(sm_hibernating() == 0);
	send_chat(b, "user@localhost/phone", "x2");
	out = take(a2);
	CHECK(contains(out, "<body>x2</body>"));
	free(out);
	send_ack(a2, 3);
	send_str(a2, "</stream:stream>");
	client_free(a2);
	send_str(b, "</stream:stream>");
	client_free(b);
	free(id);
}

static void
test_resume_failures(void)
{
	struct client *a, *j;
	char req[256], *id, *out;

	/* unknown id: <failed/>, then binding still works (§5) */
	a = login_auth("user", "password", NULL);
	send_str(a, "<resume xmlns='" SM_NS "' previd='nope' h='0'/>");
	out = take(a);
	CHECK(contains(out, "<failed xmlns='" SM_NS "'><item-not-found "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"));
	CHECK(!a->conn.closing);
	free(out);
	send_str(a, "<resume xmlns='" SM_NS "' previd='x'/>");
	out = take(a);
	CHECK(contains(out, "<bad-request "));
	free(out);
	login_bind(a, "desk");
	/* after binding it is too late */
	send_str(a, "<resume xmlns='" SM_NS "' previd='nope' h='0'/>");
	out = take(a);
	CHECK(contains(out, "<unexpected-request "));
	free(out);
	send_str(a, "</stream:stream>");
	client_free(a);

	/* someone else's session */
	j = login("juliet", "password", "tablet");
	id = enable_resume(j);
	client_drop(j);
	CHECK(sm_hibernating() == 1);
	a = login_auth("user", "password", NULL);
	snprintf(req, sizeof(req), "<resume xmlns='" SM_NS "' previd='%s' "
	    "h='0'/>", id);
	send_str(a, req);
	out = take(a);
	CHECK(contains(out, "<item-not-found "));
	free(out);
	client_drop(a);
	/* the owner acknowledging more than was sent: stream error, and the
	 * session keeps hibernating */
	j = login_auth("juliet", "password", NULL);
	snprintf(req, sizeof(req), "<resume xmlns='" SM_NS "' previd='%s' "
	    "h='5'/>", id);
	send_str(j, req);
	out = take(j);
	CHECK(contains(out, "<handled-count-too-high "));
	CHECK(j->conn.closing);
	free(out);
	client_free(j);
	CHECK(sm_hibernating() == 1);
	CHECK(route_user_available("juliet@localhost") == 0);
	/* the window passes: an expired id is unknown */
	fake_now += 301;
	sm_tick(fake_now);
	CHECK(sm_hibernating() == 0);
	j = login_auth("juliet", "password", NULL);
	send_str(j, req);
	out = take(j);
	CHECK(contains(out, "<item-not-found "));
	free(out);
	client_drop(j);
	free(id);
}

/* §4: the window passes; what the client never acknowledged is handled
 * as if sent to an unavailable resource. */
static void
test_expiry(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char *id, *out;

	id = enable_resume(a);
	send_str(a, "<presence/>");
	free(take(a));
	send_ack(a, 1);
	send_chat(b, "user@localhost/phone", "lost1");
	send_str(b, "<iq to='user@localhost/phone' type='get' id='q9'>"
	    "<query xmlns='jabber:iq:version'/></iq>");
	free(take(a));
	client_drop(a);
	free(take(b));
	sm_tick(fake_now);
	fake_now += 299;
	sm_tick(fake_now);
	CHECK(sm_hibernating() == 1);
	CHECK(route_user_available("user@localhost"));
	out = take(b);
	CHECK_STR(out, "");
	free(out);
	fake_now += 1;
	sm_tick(fake_now);
	CHECK(sm_hibernating() == 0);
	CHECK(!route_user_available("user@localhost"));
	/* the request comes back as an error */
	out = take(b);
	CHECK(contains(out, "id='q9'"));
	CHECK(contains(out, "type='error'"));
	CHECK(contains(out, "<service-unavailable "));
	free(out);
	/* the message went to offline storage, stamped */
	out = collect_offline("user", "desk");
	CHECK(contains(out, "<body>lost1</body>"));
	/* stamped with the time it was first sent (the fake clock's) */
	CHECK(contains(out, "stamp='1970-01-"));
	free(out);
	send_str(b, "</stream:stream>");
	client_free(b);
	free(id);
}

/* A hibernating session replaced by a new bind of its full JID: ended at
 * the next tick, its unacked message goes to the new session. */
static void
test_hibernating_replaced(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char req[256], *id, *out;

	id = enable_resume(a);
	send_chat(b, "user@localhost/phone", "r1");
	client_drop(a);
	CHECK(sm_hibernating() == 1);
	a = login("user", "password", "phone");
	sm_tick(fake_now);
	CHECK(sm_hibernating() == 0);
	out = take(a);
	CHECK(contains(out, "<body>r1</body>"));
	free(out);
	/* and its id is gone */
	send_str(a, "</stream:stream>");
	client_free(a);
	a = login_auth("user", "password", NULL);
	snprintf(req, sizeof(req), "<resume xmlns='" SM_NS "' previd='%s' "
	    "h='0'/>", id);
	send_str(a, req);
	out = take(a);
	CHECK(contains(out, "<item-not-found "));
	free(out);
	client_drop(a);
	send_str(b, "</stream:stream>");
	client_free(b);
	free(id);
}

/* A clean close with unacked stanzas: no hibernation, offline storage. */
static void
test_clean_close(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char *id, *out;

	id = enable_resume(a);
	send_chat(b, "user@localhost/phone", "bye1");
	send_str(a, "</stream:stream>");
	out = take(a);
	CHECK(contains(out, "</stream:stream>"));
	free(out);
	client_free(a);
	CHECK(sm_hibernating() == 0);
	out = collect_offline("user", "desk");
	CHECK(contains(out, "<body>bye1</body>"));
	free(out);
	send_str(b, "</stream:stream>");
	client_free(b);
	free(id);
}

static void
test_csi(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char *out, *p, *m;

	send_str(a, "<inactive xmlns='urn:xmpp:csi:0'/>");
	out = take(a);
	CHECK_STR(out, "");
	CHECK(!a->conn.closing);
	free(out);
	send_str(b, "<presence to='user@localhost/phone'><status>one</status>"
	    "</presence>");
	send_str(b, "<presence to='user@localhost/phone'><status>two</status>"
	    "</presence>");
	out = take(a);
	CHECK_STR(out, "");
	free(out);
	/* active again: the latest presence per sender */
	send_str(a, "<active xmlns='urn:xmpp:csi:0'/>");
	out = take(a);
	CHECK(contains(out, "<status>two</status>"));
	CHECK(!contains(out, "<status>one</status>"));
	free(out);
	/* a message is important: held presence goes first, then it */
	send_str(a, "<inactive xmlns='urn:xmpp:csi:0'/>");
	send_str(b, "<presence to='user@localhost/phone'><status>three"
	    "</status></presence>");
	send_chat(b, "user@localhost/phone", "hello");
	out = take(a);
	p = strstr(out, "<status>three</status>");
	m = strstr(out, "<body>hello</body>");
	CHECK(p != NULL && m != NULL && p < m);
	free(out);
	/* with stream management: held presence is counted once sent */
	send_str(a, "<enable xmlns='" SM_NS "'/>");
	free(take(a));
	send_str(b, "<presence to='user@localhost/phone'><status>four"
	    "</status></presence>");
	send_str(a, R);
	out = take(a);
	CHECK(!contains(out, "four"));
	CHECK(contains(out, "h='0'"));
	free(out);
	send_str(a, "<active xmlns='urn:xmpp:csi:0'/>");
	out = take(a);
	CHECK(contains(out, "<status>four</status>"));
	free(out);
	send_ack(a, 1);
	out = take(a);
	CHECK_STR(out, "");
	CHECK(!a->conn.closing);
	free(out);
	send_str(a, "</stream:stream>");
	client_free(a);
	send_str(b, "</stream:stream>");
	client_free(b);
}

static void
test_resumption_off(void)
{
	struct client *a;
	char *out;

	CHECK(load_config("sm_resume_timeout_s = 0\n") == 0);
	a = login("user", "password", "phone");
	send_str(a, ENABLE_RESUME);
	out = take(a);
	CHECK(contains(out, "<enabled xmlns='" SM_NS "'/>"));
	free(out);
	client_drop(a);
	CHECK(sm_hibernating() == 0);
	a = login_auth("user", "password", NULL);
	send_str(a, "<resume xmlns='" SM_NS "' previd='x' h='0'/>");
	out = take(a);
	CHECK(contains(out, "<feature-not-implemented "));
	free(out);
	client_drop(a);
	CHECK(load_config("") == 0);
}

/* Server stopping: hibernating sessions end, unacked messages kept. */
static void
test_shutdown(void)
{
	struct client *a = login("user", "password", "phone");
	struct client *b = login("juliet", "password", "laptop");
	char *id, *out;

	id = enable_resume(a);
	send_chat(b, "user@localhost/phone", "late1");
	client_drop(a);
	CHECK(sm_hibernating() == 1);
	sm_shutdown();
	CHECK(sm_hibernating() == 0);
	out = collect_offline("user", "desk");
	CHECK(contains(out, "<body>late1</body>"));
	free(out);
	send_str(b, "</stream:stream>");
	client_free(b);
	free(id);
}

int
main(void)
{
	char err[600];

	snprintf(confdir, sizeof(confdir), "/tmp/uxmppd-test-sm.XXXXXX");
	if (mkdtemp(confdir) == NULL) {
		return 1;
	}
	if (load_config("") != 0) {
		return 1;
	}
	log_open(NULL, LOG_LEVEL_ERR);
	if (store_open(confdir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK(account_create("user@localhost", "password") == 0);
	CHECK(account_create("juliet@localhost", "password") == 0);
	muc_init();
	c2s_init();

	test_features_and_enable();
	test_ack_requests();
	test_queue_cap();
	test_resume();
	test_resume_live_old();
	test_resume_failures();
	test_expiry();
	test_hibernating_replaced();
	test_clean_close();
	test_csi();
	test_resumption_off();
	test_shutdown();

	muc_shutdown();
	store_close();
	snprintf(err, sizeof(err), "rm -rf '%s'", confdir);
	if (system(err) != 0) {
		fprintf(stderr, "could not remove %s\n", confdir);
	}
	return check_summary("sm");
}
