/*
 * test_c2s.c - client streams end to end without sockets: the test plays
 * the reactor (tests/fake_reactor.h implements server.h over memory) and feeds
 * bytes to c2s exactly as a client would send them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "base64.h"
#include "caps.h"
#include "config.h"
#include "fake_reactor.h"
#include "log.h"
#include "muc.h"
#include "route.h"
#include "services.h"
#include "store.h"
#include "uxlimits.h"

#define HEADER FAKE_HEADER

static void expect_stanza_error(struct client *, const char *, const char *,
    int);

/* Send the header and expect a stream error with condition cond. */
static void
expect_stream_error(const char *input, const char *cond, int line)
{
	struct client *cl = client_new(1);
	char want[128];
	char *out;

	send_str(cl, input);
	out = take(cl);
	snprintf(want, sizeof(want), "<%s xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-streams'/>", cond);
	if (!contains(out, want) || !contains(out, "</stream:stream>") ||
	    !cl->conn.closing) {
		fprintf(stderr, "line %d: expected stream error %s, got: %s\n",
		    line, cond, out);
	}
	CHECK(contains(out, want));
	CHECK(contains(out, "</stream:stream>"));
	/* RFC 6120 §4.9.1.2: our header first, even for a bad header */
	CHECK(strncmp(out, "<?xml version='1.0'?><stream:stream ", 36) == 0);
	CHECK(cl->conn.closing);
	free(out);
	client_free(cl);
}

static void
b64(const char *raw, size_t len, struct buf *out)
{
	base64_encode((const unsigned char *)raw, len, out);
}

/* PLAIN login through to a bound resource; NULL resource = generated. */
static struct client *
login_plain(const char *user, const char *pass, const char *resource)
{
	struct client *cl;
	char *out;

	if (resource != NULL) {
		return login(user, pass, resource);
	}
	cl = login_auth(user, pass, NULL);
	send_str(cl, "<iq type='set' id='b1'><bind xmlns='urn:ietf:"
	    "params:xml:ns:xmpp-bind'/></iq>");
	out = take(cl);
	CHECK(contains(out, "type='result'"));
	CHECK(contains(out, "<jid>"));
	free(out);
	return cl;
}

/*
 * go-xmpp's login: a newline after </auth>, then the restarted stream with
 * an XML declaration.  The features after it carry roster versioning
 * (RFC 6121 §2.6.1) and the server's caps (XEP-0115 §6.3), whose ver
 * must be the hash of the disco#info the server answers on node#ver.
 */
static void
test_restart_and_features(void)
{
	struct client *cl = client_new(1);
	char ver[64], node[160], *out, *p, *q;

	send_str(cl, FAKE_HEADER);
	out = take(cl);
	CHECK(contains(out, "<c xmlns='http://jabber.org/protocol/caps'"));
	free(out);
	/* "\0user\0password" */
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAcGFzc3dvcmQ=</auth>\n");
	out = take(cl);
	CHECK(contains(out, "<success"));
	free(out);
	send_str(cl, FAKE_HEADER);
	out = take(cl);
	CHECK(!cl->conn.closing);
	CHECK(contains(out, "urn:ietf:params:xml:ns:xmpp-bind"));
	CHECK(contains(out, "<ver xmlns='urn:xmpp:features:rosterver'/>"));
	p = strstr(out, "<c xmlns='http://jabber.org/protocol/caps'");
	CHECK(p != NULL && contains(p, "hash='sha-1'"));
	ver[0] = '\0';
	node[0] = '\0';
	if (p != NULL && (q = strstr(p, " ver='")) != NULL) {
		snprintf(ver, sizeof(ver), "%.*s", (int)strcspn(q + 6, "'"),
		    q + 6);
	}
	if (p != NULL && (q = strstr(p, " node='")) != NULL) {
		snprintf(node, sizeof(node), "%.*s", (int)strcspn(q + 7, "'"),
		    q + 7);
	}
	CHECK(ver[0] != '\0' && node[0] != '\0');
	free(out);
	login_bind(cl, "gox");
	/* node#ver answers the server's disco#info; a wrong ver does not */
	{
		char iq[400];
		char *full;

		snprintf(iq, sizeof(iq), "<iq to='localhost' type='get' "
		    "id='c1'><query xmlns='http://jabber.org/protocol/"
		    "disco#info' node='%s#%s'/></iq>", node, ver);
		send_str(cl, iq);
		full = take(cl);
		CHECK(contains(full, "type='result'"));
		CHECK(contains(full, "category='server'"));
		CHECK(contains(full, "var='urn:xmpp:carbons:2'"));
		CHECK(contains(full, "#"));
		/* the answer hashes to the advertised ver (§5.1) */
		{
			struct xml_node *doc;
			char got[64] = "";
			int err = 0;

			doc = xml_parse_document(full, strlen(full),
			    "jabber:client", &err);
			CHECK(doc != NULL && caps_ver(xml_child(doc, "query",
			    "http://jabber.org/protocol/disco#info"), "sha-1",
			    got, sizeof(got)) == 0);
			CHECK_STR(got, ver);
			xml_free(doc);
		}
		free(full);
		snprintf(iq, sizeof(iq), "<iq to='localhost' type='get' "
		    "id='c2'><query xmlns='http://jabber.org/protocol/"
		    "disco#info' node='%s#AAAA'/></iq>", node);
		send_str(cl, iq);
		full = take(cl);
		CHECK(contains(full, "<item-not-found"));
		free(full);
	}
	client_free(cl);
}

static void
test_stream_errors(void)
{
	expect_stream_error("<?xml version='1.0'?><stream:stream to='example.org' "
	    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
	    "version='1.0'>", "host-unknown", __LINE__);
	expect_stream_error("<stream:stream xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
	    "host-unknown", __LINE__);
	expect_stream_error("<stream:stream to='localhost' xmlns='jabber:client' "
	    "xmlns:stream='http://wrong.example/streams' version='1.0'>",
	    "invalid-namespace", __LINE__);
	expect_stream_error(HEADER "<message><body>x</message>",
	    "not-well-formed", __LINE__);
	expect_stream_error(HEADER "<!-- comment -->", "restricted-xml",
	    __LINE__);
	expect_stream_error(HEADER "<?pi data?>", "restricted-xml", __LINE__);
	expect_stream_error("<?xml version='1.0'?><!DOCTYPE foo>",
	    "restricted-xml", __LINE__);
	/* undeclared entity: not well-formed (XML 1.0 WFC Entity Declared) */
	expect_stream_error(HEADER "<message>&ent;</message>",
	    "not-well-formed", __LINE__);
	expect_stream_error(HEADER "<message/>", "not-authorized", __LINE__);
	expect_stream_error(HEADER "<x:y/>", "not-well-formed", __LINE__);
	expect_stream_error("<stream:stream to='localhost' xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' version='2.0'>",
	    "unsupported-version", __LINE__);
	/* overlong UTF-8 */
	expect_stream_error(HEADER "<message>\xc0\x80</message>",
	    "not-well-formed", __LINE__);
	expect_stream_error(HEADER "garbage", "bad-format", __LINE__);
	/* RFC 6120 §4.8.3: a content namespace we do not support */
	expect_stream_error("<stream:stream to='localhost' xmlns='jabber:bogus' "
	    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
	    "invalid-namespace", __LINE__);
	expect_stream_error("<stream:stream to='localhost' xmlns='jabber:server' "
	    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
	    "invalid-namespace", __LINE__);
}

/* The response header for a client header (its attributes inside). */
static char *
response_header(const char *attrs)
{
	struct client *cl = client_new(1);
	char in[400], *out, *end;

	snprintf(in, sizeof(in), "<stream:stream to='localhost' %s "
	    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
	    "streams'>", attrs);
	send_str(cl, in);
	out = take(cl);
	end = strstr(out, "<stream:features>");
	if (end != NULL) {
		*end = '\0';
	}
	client_free(cl);
	return out;
}

/* The id='' of the first stream header in out, into id. */
static void
stream_id(const char *out, char *id, size_t cap)
{
	const char *p = strstr(out, "<stream:stream");

	id[0] = '\0';
	if (p != NULL && (p = strstr(p, " id='")) != NULL) {
		snprintf(id, cap, "%.*s", (int)strcspn(p + 5, "'"), p + 5);
	}
}

/*
 * RFC 6120 §4.7: the response header's 'to' is the bare JID of the
 * client's 'from' (absent without one, §4.7.2); its version the lower of
 * the client's and 1.0, none without one (§4.7.5); a new unpredictable
 * id at every restart (§4.3.3, §4.7.3), whatever id the client sent.
 */
static void
test_header_attributes(void)
{
	struct client *cl;
	char *out, id1[40], id2[40];

	out = response_header("version='1.0' from='user@localhost/res'");
	CHECK(contains(out, " to='user@localhost'"));
	CHECK(contains(out, " version='1.0'"));
	CHECK(contains(out, " xml:lang='en'"));
	CHECK(contains(out, " from='localhost'"));
	free(out);
	out = response_header("version='1.0' id='chosen'");
	CHECK(!contains(out, " to='"));
	CHECK(!contains(out, "id='chosen'"));
	free(out);
	out = response_header("version='0.9'");
	CHECK(contains(out, " version='0.9'"));
	free(out);
	out = response_header("version='1.5'");
	CHECK(contains(out, " version='1.0'"));
	free(out);
	out = response_header("from='user@localhost'");
	CHECK(strstr(out, "<stream:stream") != NULL &&
	    !contains(strstr(out, "<stream:stream"), "version="));
	CHECK(contains(out, " to='user@localhost'"));
	free(out);
	/* a new stream id after SASL's restart */
	cl = client_new(1);
	send_str(cl, FAKE_HEADER);
	out = take(cl);
	stream_id(out, id1, sizeof(id1));
	free(out);
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAcGFzc3dvcmQ=</auth>");
	free(take(cl));
	send_str(cl, FAKE_HEADER);
	out = take(cl);
	stream_id(out, id2, sizeof(id2));
	free(out);
	CHECK(strlen(id1) == 16 && strlen(id2) == 16);
	CHECK(strcmp(id1, id2) != 0);
	client_free(cl);
}

/* §4.8.2: prefix-free canonicalization (no default namespace) is fine. */
static void
test_prefix_free_header(void)
{
	struct client *cl = client_new(1);
	char *out;

	send_str(cl, "<stream to='localhost' version='1.0' "
	    "xmlns='http://etherx.jabber.org/streams'>");
	out = take(cl);
	CHECK(contains(out, "<stream:features>"));
	CHECK(!contains(out, "<stream:error>"));
	CHECK(!cl->conn.closing);
	free(out);
	client_free(cl);
}

/*
 * RFC 6120 §7.1: before bind, a stanza to another entity closes the stream
 * with <not-authorized/>; the server and the account may be addressed
 * (a request other than bind gets a stanza error, a result nothing).
 */
static void
test_prebind_stanzas(void)
{
	static const char *const others[] = {
		"<message to='juliet@localhost'><body>x</body></message>",
		"<presence to='juliet@localhost'/>",
		"<iq type='get' id='o1' to='juliet@localhost'>"
		    "<ping xmlns='urn:xmpp:ping'/></iq>",
		"<iq type='get' id='o2' to='user@localhost/other'>"
		    "<ping xmlns='urn:xmpp:ping'/></iq>",
		"<message to='romeo@example.net'><body>x</body></message>",
		"<message to='not a jid@@'><body>x</body></message>",
	};
	struct client *cl;
	char *out;
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		cl = login_auth("user", "password", NULL);
		send_str(cl, others[i]);
		out = take(cl);
		CHECK(contains(out, "<not-authorized xmlns='urn:ietf:params:"
		    "xml:ns:xmpp-streams'/>"));
		CHECK(!contains(out, "type='error'"));
		CHECK(cl->conn.closing);
		free(out);
		client_free(cl);
	}
	cl = login_auth("user", "password", NULL);
	send_str(cl, "<iq type='get' id='s1' to='localhost'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>");
	out = take(cl);
	CHECK(contains(out, "id='s1'"));
	CHECK(contains(out, "<not-allowed"));
	free(out);
	send_str(cl, "<iq type='get' id='s2' to='user@localhost'>"
	    "<query xmlns='jabber:iq:roster'/></iq>");
	out = take(cl);
	CHECK(contains(out, "id='s2'"));
	CHECK(contains(out, "<not-allowed"));
	free(out);
	/* §8.3.1 / §8.2.3 rule 4: no reply to a result or an error */
	send_str(cl, "<iq type='result' id='s3'/><iq type='error' id='s4' "
	    "to='localhost'/><message type='error'/>");
	out = take(cl);
	CHECK(strcmp(out, "") == 0);
	free(out);
	/* §8.2.3 rule 2 holds before bind too */
	send_str(cl, "<iq type='fetch' id='s5'><bind xmlns='urn:ietf:"
	    "params:xml:ns:xmpp-bind'/></iq>");
	out = take(cl);
	CHECK(contains(out, "id='s5'"));
	CHECK(contains(out, "<bad-request"));
	free(out);
	CHECK(!cl->conn.closing);
	login_bind(cl, "prebind");
	CHECK(!cl->conn.closing);
	client_free(cl);
}

/* §8.2.3 rule 2: an iq with a missing or unknown type gets <bad-request/>;
 * §4.8.3: a jabber:server stanza on a client stream <invalid-namespace/>. */
static void
test_iq_type_and_content_ns(void)
{
	struct client *a = login_plain("user", "password", "types");
	struct client *b = login_plain("juliet", "password", "types");
	char *out;

	send_str(a, "<iq type='bogus' id='t1' to='localhost'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>");
	out = take(a);
	CHECK(contains(out, "id='t1'"));
	CHECK(contains(out, "type='error'"));
	CHECK(contains(out, "<bad-request"));
	CHECK(contains(out, "to='user@localhost/types'"));
	free(out);
	send_str(a, "<iq id='t2' to='juliet@localhost/types'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>");
	out = take(a);
	CHECK(contains(out, "id='t2'"));
	CHECK(contains(out, "<bad-request"));
	free(out);
	/* not routed to the peer */
	out = take(b);
	CHECK(!contains(out, "t2"));
	free(out);
	/* §8.2.3 rule 4, §8.3.1: no answer to a result or an error */
	send_str(a, "<iq type='result' id='t3' to='localhost'/><iq "
	    "type='error' id='t4' to='nobody@localhost'/><message "
	    "type='error' to='nobody@localhost'/>");
	out = take(a);
	CHECK(strcmp(out, "") == 0);
	free(out);
	/* §8.1.5: xml:lang reaches the recipient untouched; §8.1.1.1: so
	 * does 'to' */
	send_str(a, "<message to='juliet@localhost/types' xml:lang='de' "
	    "type='chat'><body>hallo</body></message>");
	out = take(b);
	CHECK(contains(out, "xml:lang='de'"));
	CHECK(contains(out, "to='juliet@localhost/types'"));
	CHECK(contains(out, "<body>hallo</body>"));
	free(out);
	CHECK(!a->conn.closing);
	send_str(a, "<message xmlns='jabber:server' to='juliet@localhost'>"
	    "<body>x</body></message>");
	out = take(a);
	CHECK(contains(out, "<invalid-namespace"));
	CHECK(a->conn.closing);
	free(out);
	out = take(b);
	CHECK(!contains(out, "<body>x</body>"));
	free(out);
	client_free(a);
	client_free(b);
}

static void
test_features_and_mechanisms(void)
{
	struct client *cl = client_new(1);
	char *out;

	send_str(cl, HEADER);
	out = take(cl);
	CHECK(contains(out, "<stream:stream"));
	CHECK(contains(out, "from='localhost'"));
	CHECK(contains(out, "<mechanism>SCRAM-SHA-256</mechanism>"));
	CHECK(contains(out, "<mechanism>SCRAM-SHA-1</mechanism>"));
	CHECK(contains(out, "<mechanism>PLAIN</mechanism>"));
	/* RFC 6120 §7.4: no bind feature before authentication */
	CHECK(!contains(out, "urn:ietf:params:xml:ns:xmpp-bind"));
	free(out);
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='X-UNKNOWN'/>");
	out = take(cl);
	CHECK(contains(out, "<invalid-mechanism/>"));
	free(out);
	/* RFC 6120 §6.4.2: abort */
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='SCRAM-SHA-1'>biwsbj11c2VyLHI9Znlrbytk</auth>");
	out = take(cl);
	CHECK(contains(out, "<challenge"));
	free(out);
	send_str(cl, "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
	out = take(cl);
	CHECK(contains(out, "<aborted/>"));
	free(out);
	/* §6.4.2: a new <auth/> during a handshake replaces it */
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='SCRAM-SHA-1'>biwsbj11c2VyLHI9Znlrbytk</auth>");
	out = take(cl);
	CHECK(contains(out, "<challenge"));
	free(out);
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAcGFzc3dvcmQ=</auth>");
	out = take(cl);
	CHECK(contains(out, "<success"));
	free(out);
	client_free(cl);
	cl = client_new(1);
	send_str(cl, HEADER);
	free(take(cl));
	/* whitespace keep-alives are fine */
	send_str(cl, "   \n  ");
	out = take(cl);
	CHECK(strcmp(out, "") == 0);
	CHECK(!cl->conn.closing);
	free(out);
	client_free(cl);

	/* not loopback, not encrypted: no PLAIN, and by default
	 * (require_encryption) no SASL at all before TLS */
	cl = client_new(0);
	send_str(cl, HEADER);
	out = take(cl);
	CHECK(!contains(out, "<mechanism>PLAIN</mechanism>"));
	free(out);
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAcGFzc3dvcmQ=</auth>");
	out = take(cl);
	CHECK(contains(out, "<encryption-required/>"));
	free(out);
	client_free(cl);
}

static void
test_plain_failures(void)
{
	struct client *cl = client_new(1);
	const char *bad = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAd3Jvbmc=</auth>";	/* user/wrong */
	char *out;

	send_str(cl, HEADER);
	free(take(cl));
	send_str(cl, bad);
	out = take(cl);
	CHECK(contains(out, "<not-authorized/>"));
	CHECK(!cl->conn.closing);
	free(out);
	send_str(cl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AG5vYm9keQBwYXNzd29yZA==</auth>"); /* nobody */
	out = take(cl);
	CHECK(contains(out, "<not-authorized/>"));
	free(out);
	send_str(cl, bad);
	out = take(cl);
	CHECK(contains(out, "<policy-violation"));
	CHECK(cl->conn.closing);
	free(out);
	client_free(cl);
}

/*
 * max_auth_failures_per_ip: past it an <auth/> (even a right one) gets no
 * answer and pauses the input until auth_failure_delay_ms; at the resume
 * <temporary-auth-failure/>, and what was pipelined behind it is parsed
 * only then (here: refused again).  A minute later all is forgiven.
 */
static void
test_auth_rate_limit(void)
{
	struct rl_limits l;
	struct client *a = client_new(1), *b = client_new(1);
	const char *bad = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAd3Jvbmc=</auth>";	/* user/wrong */
	const char *good = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAcGFzc3dvcmQ=</auth>"; /* user/password */
	char *out;

	memset(&l, 0, sizeof(l));
	l.auth_failures_per_min = 2;
	ratelimit_configure(&l);
	send_str(a, HEADER);
	send_str(a, bad);
	send_str(a, bad);
	out = take(a);
	CHECK(count_of(out, "<not-authorized/>") == 2);
	free(out);
	send_str(b, HEADER);
	free(take(b));
	send_str(b, good);
	send_str(b, good);
	out = take(b);
	CHECK(out[0] == '\0');
	CHECK(b->conn.paused_ms == server_now_ms() + 2000);
	free(out);
	b->conn.paused_ms = 0;
	fake_ms += 2000;
	c2s_resume(b->s);
	out = take(b);
	CHECK(count_of(out, "<temporary-auth-failure/>") == 1);
	CHECK(!contains(out, "<success"));
	free(out);
	/* the second, held back, is refused in turn after its own delay */
	CHECK(b->conn.paused_ms == server_now_ms() + 2000);
	fake_ms += 2000;
	c2s_resume(b->s);
	out = take(b);
	CHECK(count_of(out, "<temporary-auth-failure/>") == 1);
	CHECK(!b->conn.closing);
	free(out);
	client_free(b);
	/* a minute on, the address may try again */
	fake_now += 120;
	b = client_new(1);
	send_str(b, HEADER);
	free(take(b));
	send_str(b, good);
	out = take(b);
	CHECK(contains(out, "<success"));
	CHECK(b->conn.authenticated);
	free(out);
	client_free(b);
	client_free(a);
	memset(&l, 0, sizeof(l));
	ratelimit_configure(&l);
	ratelimit_reset();
}

/*
 * max_stanzas_per_s 10, burst 5: of eight pings sent at once six are
 * answered (the sixth emptied the bucket), the rest wait unparsed until
 * the resume, one per 100 ms; nothing is lost.
 */
static void
test_stanza_rate(const char *conf_path)
{
	char path[700], err[600], ping[128];
	struct buf in;
	struct client *cl;
	char *out;
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s.rate", conf_path);
	fp = fopen(path, "w");
	fprintf(fp, "data_dir = %s\nstore_sync = none\n"
	    "max_stanzas_per_s = 10\nmax_stanzas_burst = 5\n",
	    config_get()->data_dir);
	fclose(fp);
	CHECK(config_load(path, err, sizeof(err)) == 0);
	c2s_init();
	cl = login_plain("user", "password", "rate");
	/* the login took three of the five tokens; refill them */
	fake_ms += 1000;
	buf_init(&in, 0);
	for (i = 0; i < 8; i++) {
		snprintf(ping, sizeof(ping), "<iq type='get' id='p%d' to="
		    "'localhost'><ping xmlns='urn:xmpp:ping'/></iq>", i);
		buf_puts(&in, ping);
	}
	cl->conn.paused_ms = 0;
	send_str(cl, in.data);
	out = take(cl);
	CHECK(count_of(out, "type='result'") == 6);
	CHECK(contains(out, "id='p5'") && !contains(out, "id='p6'"));
	CHECK(cl->conn.paused_ms == server_now_ms() + 100);
	free(out);
	fake_ms += 100;
	c2s_resume(cl->s);
	out = take(cl);
	CHECK(count_of(out, "type='result'") == 1 && contains(out, "id='p6'"));
	free(out);
	fake_ms += 100;
	c2s_resume(cl->s);
	out = take(cl);
	CHECK(count_of(out, "type='result'") == 1 && contains(out, "id='p7'"));
	CHECK(!cl->conn.closing);
	free(out);
	buf_free(&in);
	client_free(cl);
	CHECK(config_load(conf_path, err, sizeof(err)) == 0);
	c2s_init();
	unlink(path);
}

/* RFC 4616: an authzid naming the user's own JID is fine, another not. */
static void
test_plain_authzid(void)
{
	static const struct { const char *authzid; const char *want; } cases[] = {
		{ "user@localhost", "<success" },
		{ "juliet@localhost", "<invalid-authzid/>" },
	};
	struct buf auth, msg;
	char raw[128];
	size_t i, n;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct client *cl = client_new(1);

		send_str(cl, HEADER);
		free(take(cl));
		n = (size_t)snprintf(raw, sizeof(raw), "%s%cuser%cpassword",
		    cases[i].authzid, 0, 0);
		buf_init(&auth, 0);
		b64(raw, n, &auth);
		buf_init(&msg, 0);
		buf_printf(&msg, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
		    "mechanism='PLAIN'>%s</auth>", auth.data);
		send_str(cl, msg.data);
		out = take(cl);
		CHECK(contains(out, cases[i].want));
		free(out);
		buf_free(&auth);
		buf_free(&msg);
		client_free(cl);
	}
}

/* A SCRAM login (tests/login.h): the server's challenge, then its
 * success, whose proof the client checks. */
static void
scram_login(const char *mech)
{
	struct client *cl = client_new(1);
	struct login *l = login_new(mech, "user", "password", NULL);
	struct buf msg;
	char *out;

	CHECK(l != NULL);
	if (l == NULL) {
		client_free(cl);
		return;
	}
	send_str(cl, HEADER);
	free(take(cl));
	buf_init(&msg, 0);
	CHECK(login_start(l, &msg) == 0);
	send_str(cl, msg.data);
	out = take(cl);
	CHECK(contains(out, "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"));
	buf_reset(&msg);
	CHECK(login_step_text(l, out, &msg) == LOGIN_MORE);
	free(out);
	send_str(cl, msg.len ? msg.data : "");
	out = take(cl);
	CHECK(contains(out, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"));
	/* the server proved it knows the password too */
	CHECK(login_step_text(l, out, &msg) == LOGIN_OK);
	free(out);
	buf_free(&msg);
	login_free(l);
	client_free(cl);
}

static void
test_bind_and_routing(void)
{
	struct client *a = login_plain("user", "password", "laptop");
	struct client *b = login_plain("juliet", "password", "phone");
	struct client *a2;
	char *out;

	/* message between full JIDs; 'from' stamped by the server */
	send_str(a, "<message to='juliet@localhost/phone' type='chat'>"
	    "<body>hi &amp; bye</body></message>");
	out = take(b);
	CHECK(contains(out, "from='user@localhost/laptop'"));
	CHECK(contains(out, "<body>hi &amp; bye</body>"));
	free(out);
	/* to a resource that is not there: chat falls back to the bare JID,
	 * where nobody is available: kept offline, nothing sent now */
	send_str(a, "<message to='juliet@localhost/nowhere' type='chat'>"
	    "<body>later</body></message>");
	out = take(b);
	CHECK(strcmp(out, "") == 0);
	free(out);
	/* available presence: echo, then offline message with delay */
	send_str(b, "<presence/>");
	out = take(b);
	CHECK(contains(out, "<presence"));
	CHECK(contains(out, "<body>later</body>"));
	CHECK(contains(out, "urn:xmpp:delay"));
	free(out);
	/* iq to an unknown user */
	send_str(a, "<iq to='nobody@localhost' type='get' id='q1'>"
	    "<query xmlns='jabber:iq:version'/></iq>");
	out = take(a);
	CHECK(contains(out, "type='error'"));
	CHECK(contains(out, "<service-unavailable"));
	free(out);
	/* a remote domain: no s2s */
	send_str(a, "<message to='romeo@example.net'><body>x</body></message>");
	out = take(a);
	CHECK(contains(out, "<remote-server-not-found"));
	free(out);
	/* iq to the server */
	send_str(a, "<iq to='localhost' type='get' id='p1'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>");
	out = take(a);
	CHECK(contains(out, "id='p1'"));
	CHECK(contains(out, "type='result'"));
	free(out);
	send_str(a, "<iq to='localhost' type='get' id='u1'>"
	    "<unknown xmlns='urn:example:nothing'/></iq>");
	out = take(a);
	CHECK(contains(out, "<service-unavailable"));
	free(out);
	send_str(a, "<iq to='localhost' type='get' id='v1'>"
	    "<query xmlns='jabber:iq:version'/></iq>");
	out = take(a);
	CHECK(contains(out, "<name>uxmppd</name>"));
	free(out);
	send_str(a, "<iq to='localhost' type='get' id='l1'>"
	    "<query xmlns='jabber:iq:last'/></iq>");
	out = take(a);
	CHECK(contains(out, "seconds='42'"));
	free(out);
	/* a second session with the same full JID replaces the first */
	a2 = login_plain("user", "password", "laptop");
	out = take(a);
	CHECK(contains(out, "<conflict"));
	CHECK(a->conn.closing);
	free(out);
	send_str(b, "<message to='user@localhost/laptop' type='chat'>"
	    "<body>new</body></message>");
	out = take(a2);
	CHECK(contains(out, "<body>new</body>"));
	free(out);
	/* a foreign 'from' is overridden, not fatal (RFC 6120 §8.1.2.1) */
	send_str(a2, "<message from='juliet@localhost/phone' "
	    "to='juliet@localhost' type='chat'><body>x</body></message>");
	out = take(a2);
	CHECK(!contains(out, "<invalid-from"));
	CHECK(!a2->conn.closing);
	free(out);
	out = take(b);
	CHECK(contains(out, "from='user@localhost/laptop'"));
	CHECK(contains(out, "<body>x</body>"));
	CHECK(!contains(out, "from='juliet@localhost/phone'"));
	free(out);
	send_str(a2, "<message from='not a jid@@' to='juliet@localhost' "
	    "type='chat'><body>y</body></message>");
	out = take(b);
	CHECK(contains(out, "from='user@localhost/laptop'"));
	CHECK(contains(out, "<body>y</body>"));
	free(out);
	CHECK(!a2->conn.closing);
	/* an element that is no stanza */
	send_str(b, "<foo/>");
	out = take(b);
	CHECK(contains(out, "<unsupported-stanza-type"));
	free(out);
	client_free(a);
	client_free(a2);
	client_free(b);
}

/* The resourcepart bind generated for cl (after its '/'), into res. */
static void
bound_resource(struct client *cl, char *res, size_t cap)
{
	char *out;
	const char *p;

	send_str(cl, "<iq type='get' id='w' to='localhost'><ping xmlns="
	    "'urn:xmpp:ping'/></iq>");
	out = take(cl);
	res[0] = '\0';
	if ((p = strstr(out, "to='user@localhost/")) != NULL) {
		snprintf(res, cap, "%.*s", (int)strcspn(p + 19, "'"), p + 19);
	}
	free(out);
}

static void
test_generated_resource_and_close(void)
{
	struct client *cl = login_plain("user", "password", NULL);
	struct client *other = login_plain("user", "password", NULL);
	char *out, r1[64], r2[64];

	/* RFC 6120 §7.6: generated, random, so two differ */
	bound_resource(cl, r1, sizeof(r1));
	bound_resource(other, r2, sizeof(r2));
	CHECK(strncmp(r1, "uxmppd-", 7) == 0 && strlen(r1) > 7);
	CHECK(strncmp(r2, "uxmppd-", 7) == 0 && strcmp(r1, r2) != 0);
	client_free(other);
	/* RFC 6120 §7.3.2: no restart after bind: a header is no stanza */
	other = login_plain("user", "password", NULL);
	send_str(other, FAKE_HEADER);
	out = take(other);
	CHECK(contains(out, "<stream:error>"));
	CHECK(other->conn.closing);
	free(out);
	client_free(other);
	/* §8.2.3 rule 5: a get or set with no child or two */
	other = login_plain("user", "password", NULL);
	expect_stanza_error(other, "<iq type='get' id='e0'/>", "bad-request",
	    __LINE__);
	expect_stanza_error(other, "<iq type='get' id='e2'><query xmlns="
	    "'jabber:iq:roster'/><query xmlns='jabber:iq:roster'/></iq>",
	    "bad-request", __LINE__);
	client_free(other);

	send_str(cl, "</stream:stream>");
	out = take(cl);
	CHECK(contains(out, "</stream:stream>"));
	CHECK(cl->conn.closing);
	free(out);
	client_free(cl);
}

static void
test_limits_and_timeouts(void)
{
	struct client *cl = login_plain("user", "password", "big");
	struct buf big;
	char *out;
	size_t i;

	buf_init(&big, 0);
	buf_puts(&big, "<message to='juliet@localhost'><body>");
	for (i = 0; i < 300 * 1024; i++) {
		buf_putc(&big, 'a');
	}
	buf_puts(&big, "</body></message>");
	send_str(cl, big.data);
	out = take(cl);
	CHECK(contains(out, "<policy-violation"));
	CHECK(cl->conn.closing);
	free(out);
	buf_free(&big);
	client_free(cl);

	/* authentication must finish within auth_timeout_s */
	cl = client_new(1);
	send_str(cl, HEADER);
	free(take(cl));
	c2s_tick(cl->s);
	CHECK(!cl->conn.closing);
	fake_now += 31;
	c2s_tick(cl->s);
	out = take(cl);
	CHECK(contains(out, "<connection-timeout"));
	free(out);
	client_free(cl);

	/* shutdown */
	cl = login_plain("user", "password", "x");
	c2s_shutdown(cl->s);
	out = take(cl);
	CHECK(contains(out, "<system-shutdown"));
	CHECK(contains(out, "</stream:stream>"));
	free(out);
	client_free(cl);
}

/* RFC 6121 §4.7.2.3: a priority that is no integer in -128..127 is 0. */
static void
test_priority_values(void)
{
	static const char *const bad[] = { "high", "1000", "-129",
	    "99999999999999999999", "5x", "" };
	size_t i;
	char *out;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct client *odd = login_plain("juliet", "password", "odd");
		struct client *neg = login_plain("juliet", "password", "neg");
		struct client *from = login_plain("user", "password", "w");
		struct buf pres;

		buf_init(&pres, 0);
		buf_printf(&pres, "<presence><priority>%s</priority></presence>",
		    bad[i]);
		send_str(odd, pres.data);
		send_str(neg, "<presence><priority>-1</priority></presence>");
		free(take(odd));
		free(take(neg));
		/* odd counts as 0, above -1: the bare-JID message goes there */
		send_str(from, "<message to='juliet@localhost' type='chat'>"
		    "<body>which</body></message>");
		out = take(odd);
		if (!contains(out, "<body>which</body>")) {
			fprintf(stderr, "priority '%s' not taken as 0\n", bad[i]);
		}
		CHECK(contains(out, "<body>which</body>"));
		free(out);
		out = take(neg);
		CHECK(!contains(out, "<body>which</body>"));
		free(out);
		buf_free(&pres);
		client_free(from);
		client_free(neg);
		client_free(odd);
	}
}

/* idle_timeout_s: a bound client silent that long is closed; input
 * restarts the clock.  conf is the test's config file, rewritten here. */
static void
test_idle_timeout(const char *conf, const char *dir)
{
	char err[600];
	struct client *cl;
	FILE *fp;
	char *out;

	fp = fopen(conf, "w");
	fprintf(fp, "data_dir = %s\nstore_sync = none\n"
	    "allow_registration = yes\nidle_timeout_s = 60\n"
	    "max_stanzas_per_s = 0\nmax_bytes_per_s = 0\n", dir);
	fclose(fp);
	CHECK(config_load(conf, err, sizeof(err)) == 0);
	cl = login_plain("user", "password", "idle");
	fake_now += 50;
	c2s_tick(cl->s);
	CHECK(!cl->conn.closing);
	send_str(cl, " ");	/* a whitespace keep-alive counts as input */
	fake_now += 50;
	c2s_tick(cl->s);
	CHECK(!cl->conn.closing);
	fake_now += 11;
	c2s_tick(cl->s);
	out = take(cl);
	CHECK(contains(out, "<connection-timeout"));
	CHECK(cl->conn.closing);
	free(out);
	client_free(cl);
	/* back to the suite's configuration: no idle timeout */
	fp = fopen(conf, "w");
	fprintf(fp, "data_dir = %s\nstore_sync = none\n"
	    "allow_registration = yes\n"
	    "max_stanzas_per_s = 0\nmax_bytes_per_s = 0\n", dir);
	fclose(fp);
	CHECK(config_load(conf, err, sizeof(err)) == 0);
}

/* An account deleted between authentication and bind cannot bind. */
static void
test_bind_after_delete(void)
{
	struct client *cl;
	char *out;

	CHECK(account_create("brief@localhost", "password") == 0);
	cl = login_auth("brief", "password", NULL);
	CHECK(services_delete_account("brief@localhost") == 0);
	send_str(cl, "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:"
	    "xml:ns:xmpp-bind'/></iq>");
	out = take(cl);
	CHECK(contains(out, "<not-authorized"));
	CHECK(!contains(out, "<jid>"));
	CHECK(cl->conn.closing);
	free(out);
	client_free(cl);
}

/* XEP-0077 §3: in-band registration before authentication. */
static void
test_register_preauth(void)
{
	struct client *cl = client_new(1);
	struct client *nu;
	char *out;
	int i;

	send_str(cl, HEADER);
	out = take(cl);
	CHECK(contains(out, "http://jabber.org/features/iq-register"));
	free(out);
	send_str(cl, "<iq type='get' id='r1'><query xmlns='jabber:iq:register'/>"
	    "</iq>");
	out = take(cl);
	CHECK(contains(out, "<username/>"));
	CHECK(contains(out, "<password/>"));
	free(out);
	send_str(cl, "<iq type='set' id='r2'><query xmlns='jabber:iq:register'>"
	    "<username>newbie</username><password>s3cret</password></query>"
	    "</iq>");
	out = take(cl);
	CHECK(contains(out, "id='r2'"));
	CHECK(contains(out, "type='result'"));
	free(out);
	CHECK(account_exists("newbie@localhost"));
	/* taken now */
	send_str(cl, "<iq type='set' id='r3'><query xmlns='jabber:iq:register'>"
	    "<username>newbie</username><password>x</password></query></iq>");
	out = take(cl);
	CHECK(contains(out, "<conflict"));
	free(out);
	/* five attempts per connection, then the stream is closed */
	for (i = 0; i < 2 && !cl->conn.closing; i++) {
		send_str(cl, "<iq type='get' id='rx'><query xmlns='jabber:iq:"
		    "register'/></iq>");
		free(take(cl));
	}
	CHECK(!cl->conn.closing);
	send_str(cl, "<iq type='get' id='ry'><query xmlns='jabber:iq:"
	    "register'/></iq>");
	out = take(cl);
	CHECK(contains(out, "<policy-violation"));
	free(out);
	client_free(cl);
	/* and the new account can log in */
	nu = login_plain("newbie", "s3cret", "first");
	client_free(nu);
}

static void
test_split_input(void)
{
	/* The same login fed one byte at a time. */
	struct client *cl = client_new(1);
	const char *in = HEADER "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AHVzZXIAcGFzc3dvcmQ=</auth>" HEADER
	    "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-bind'><resource>bytes</resource></bind></iq>";
	char *out;
	size_t i;

	for (i = 0; in[i]; i++) {
		c2s_input(cl->s, in + i, 1);
	}
	out = take(cl);
	CHECK(contains(out, "<success"));
	CHECK(contains(out, "<jid>user@localhost/bytes</jid>"));
	free(out);
	client_free(cl);

	/* and pipelined: header after <success/> in the same chunk */
	cl = client_new(1);
	send_str(cl, in);
	out = take(cl);
	CHECK(contains(out, "<jid>user@localhost/bytes</jid>"));
	free(out);
	client_free(cl);
}

/* RFC 6121 §4.6: the directed-presence peers a session remembers are
 * bounded (the list is scanned on each presence); over the cap the
 * presence bounces with <resource-constraint/> and nothing is kept. */
static void
test_directed_presence_cap(void)
{
	struct client *a = login_plain("user", "password", "dp");
	char st[128];
	char *out;
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(st, sizeof(st), "<presence to='peer%d@example.net'/>",
		    i);
		send_str(a, st);
	}
	out = take(a);
	CHECK(!contains(out, "<resource-constraint"));
	free(out);
	send_str(a, "<presence to='one-more@example.net'/>");
	out = take(a);
	CHECK(contains(out, "<resource-constraint"));
	free(out);
	/* one already remembered is fine, and unavailable makes room */
	send_str(a, "<presence to='peer7@example.net'/>");
	out = take(a);
	CHECK(!contains(out, "<resource-constraint"));
	free(out);
	send_str(a, "<presence to='peer7@example.net' type='unavailable'/>");
	send_str(a, "<presence to='one-more@example.net'/>");
	out = take(a);
	CHECK(!contains(out, "<resource-constraint"));
	free(out);
	client_free(a);
}

/* Send s on cl and expect a stanza error cond in the reply. */
static void
expect_stanza_error(struct client *cl, const char *s, const char *cond,
    int line)
{
	char want[80];
	char *out;

	snprintf(want, sizeof(want), "<%s xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-stanzas'/>", cond);
	send_str(cl, s);
	out = take(cl);
	if (!contains(out, want) || !contains(out, "type='error'")) {
		fprintf(stderr, "line %d: expected %s, got: %s\n", line, cond,
		    out);
	}
	CHECK(contains(out, want));
	CHECK(contains(out, "type='error'"));
	free(out);
}

/* Send s on cl; the reply must contain want. */
static void
expect_reply(struct client *cl, const char *s, const char *want, int line)
{
	char *out;

	send_str(cl, s);
	out = take(cl);
	if (!contains(out, want)) {
		fprintf(stderr, "line %d: expected %s, got: %s\n", line, want,
		    out);
	}
	CHECK(contains(out, want));
	free(out);
}

/*
 * A store that refuses changes (a full disk; store_test_refuse_changes):
 * each change a client asks for gets <resource-constraint/> and nothing
 * of it stays in memory; once the store writes again, all works.
 */
static void
test_store_refused(void)
{
	struct client *a = login_plain("user", "password", "full");
	char *out;

	CHECK(account_create("away@localhost", "password") == 0);
	expect_reply(a, "<iq type='set' id='r0'><query xmlns='jabber:iq:"
	    "roster'><item jid='kept@localhost' name='Old'/></query></iq>",
	    "type='result'", __LINE__);
	expect_reply(a, "<iq type='set' id='p0'><query xmlns='jabber:iq:"
	    "private'><n xmlns='urn:t'>old</n></query></iq>",
	    "type='result'", __LINE__);
	expect_reply(a, "<iq type='set' id='v0'><vCard xmlns='vcard-temp'>"
	    "<FN>Old</FN></vCard></iq>", "type='result'", __LINE__);
	free(take(a));

	/* an offline message too big for a store record (possible with a
	 * large max_stanza_bytes; routed here directly): the sender learns
	 * it was not kept */
	{
		size_t n = STORE_MAX_LINE + 4096;
		char *body = xmalloc(n + 1);
		struct xml_node *m = xml_new("message", XML_NS_CLIENT);

		memset(body, 'b', n);
		body[n] = '\0';
		xml_set_attr(m, "from", "user@localhost/full");
		xml_set_attr(m, "to", "away@localhost");
		xml_set_attr(m, "type", "chat");
		xml_set_attr(m, "id", "big");
		xml_add_text_child(m, "body", NULL, body);
		route_stanza(m);
		xml_free(m);
		free(body);
		out = take(a);
		CHECK(contains(out, "id='big'"));
		CHECK(contains(out, "<resource-constraint"));
		CHECK(strlen(out) < 4096);	/* the error, not the message */
		free(out);
	}
	store_test_refuse_changes(1);
	expect_stanza_error(a, "<iq type='set' id='r1'><query xmlns='jabber:"
	    "iq:roster'><item jid='new@localhost' name='N'/></query></iq>",
	    "resource-constraint", __LINE__);
	expect_stanza_error(a, "<iq type='set' id='r2'><query xmlns='jabber:"
	    "iq:roster'><item jid='kept@localhost' name='Renamed'/></query>"
	    "</iq>", "resource-constraint", __LINE__);
	expect_stanza_error(a, "<iq type='set' id='r3'><query xmlns='jabber:"
	    "iq:roster'><item jid='kept@localhost' subscription='remove'/>"
	    "</query></iq>", "resource-constraint", __LINE__);
	expect_stanza_error(a, "<presence to='sub@localhost' "
	    "type='subscribe'/>", "resource-constraint", __LINE__);
	expect_stanza_error(a, "<iq type='set' id='p1'><query xmlns='jabber:"
	    "iq:private'><n xmlns='urn:t'>new</n></query></iq>",
	    "resource-constraint", __LINE__);
	expect_stanza_error(a, "<iq type='set' id='v1'><vCard xmlns='vcard-"
	    "temp'><FN>New</FN></vCard></iq>", "resource-constraint",
	    __LINE__);
	expect_stanza_error(a, "<iq type='set' id='b1'><block xmlns='urn:"
	    "xmpp:blocking'><item jid='spam@localhost'/></block></iq>",
	    "resource-constraint", __LINE__);
	expect_stanza_error(a, "<message to='away@localhost' type='chat' "
	    "id='m1'><body>lost?</body></message>", "resource-constraint",
	    __LINE__);
	expect_stanza_error(a, "<iq type='set' id='a1'><prefs xmlns='urn:"
	    "xmpp:mam:2' default='never'/></iq>", "resource-constraint",
	    __LINE__);
	expect_stanza_error(a, "<iq type='set' id='pw'><query xmlns='jabber:"
	    "iq:register'><username>user</username><password>changed"
	    "</password></query></iq>", "resource-constraint", __LINE__);
	/* reads keep working while the store refuses */
	send_str(a, "<iq type='get' id='r4'><query xmlns='jabber:iq:roster'/>"
	    "</iq>");
	out = take(a);
	CHECK(contains(out, "name='Old'"));
	CHECK(!contains(out, "Renamed"));
	CHECK(!contains(out, "new@localhost"));
	CHECK(!contains(out, "sub@localhost"));
	free(out);
	store_test_refuse_changes(0);

	/* memory is what was stored */
	expect_reply(a, "<iq type='get' id='p2'><query xmlns='jabber:iq:"
	    "private'><n xmlns='urn:t'/></query></iq>", ">old</n>", __LINE__);
	expect_reply(a, "<iq type='get' id='v2'><vCard xmlns='vcard-temp'/>"
	    "</iq>", "<FN>Old</FN>", __LINE__);
	send_str(a, "<iq type='get' id='b2'><blocklist xmlns='urn:xmpp:"
	    "blocking'/></iq>");
	out = take(a);
	CHECK(!contains(out, "spam@localhost"));
	free(out);
	send_str(a, "<iq type='get' id='a2'><prefs xmlns='urn:xmpp:mam:2'/>"
	    "</iq>");
	out = take(a);
	CHECK(!contains(out, "default='never'"));
	free(out);
	client_free(a);
	/* the refused offline message was not kept either */
	a = login_plain("away", "password", "back");
	send_str(a, "<presence/>");
	out = take(a);
	CHECK(!contains(out, "lost?"));
	free(out);
	client_free(a);
	/* the old password still works, and the stored roster item is back */
	a = login_plain("user", "password", "full2");
	send_str(a, "<iq type='get' id='r5'><query xmlns='jabber:iq:roster'/>"
	    "</iq>");
	out = take(a);
	CHECK(contains(out, "name='Old'"));
	free(out);
	/* writable again: the same requests work */
	expect_reply(a, "<iq type='set' id='r6'><query xmlns='jabber:iq:"
	    "roster'><item jid='kept@localhost' subscription='remove'/>"
	    "</query></iq>", "type='result'", __LINE__);
	expect_reply(a, "<iq type='set' id='v3'><vCard xmlns='vcard-temp'>"
	    "<FN>New</FN></vCard></iq>", "type='result'", __LINE__);
	client_free(a);
}

int
main(void)
{
	char dir[] = "/tmp/uxmppd-test-c2s.XXXXXX";
	char conf[600], err[600];
	FILE *fp;

	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/uxmppd.conf", dir);
	fp = fopen(conf, "w");
	/* the fake clients have no address on limits_exempt: the tests
	 * that send thousands of stanzas run without the buckets */
	fprintf(fp, "data_dir = %s\nscram_iterations = 4096\n"
	    "store_sync = none\nallow_registration = yes\n"
	    "max_stanzas_per_s = 0\nmax_bytes_per_s = 0\n", dir);
	fclose(fp);
	if (config_load(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	log_open(NULL, LOG_LEVEL_ERR);
	if (store_open(dir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK(account_create("user@localhost", "password") == 0);
	CHECK(account_create("juliet@localhost", "password") == 0);
	CHECK(account_create("user@localhost", "again") != 0);
	muc_init();
	c2s_init();

	test_stream_errors();
	test_features_and_mechanisms();
	test_restart_and_features();
	test_plain_failures();
	test_auth_rate_limit();
	test_plain_authzid();
	scram_login("SCRAM-SHA-1");
	scram_login("SCRAM-SHA-256");
	test_bind_and_routing();
	test_generated_resource_and_close();
	test_limits_and_timeouts();
	test_split_input();
	test_register_preauth();
	test_priority_values();
	test_bind_after_delete();
	test_prefix_free_header();
	test_header_attributes();
	test_prebind_stanzas();
	test_iq_type_and_content_ns();
	test_store_refused();
	test_idle_timeout(conf, dir);
	test_directed_presence_cap();
	test_stanza_rate(conf);

	muc_shutdown();
	store_close();
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0) {
		fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_summary("c2s");
}
