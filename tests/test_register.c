/*
 * test_register.c - XEP-0077 account creation before authentication
 * (register.c): off by default, the form, field errors, conflict; with
 * an invite's token (invite.c) while it is off: single use, expiry,
 * revocation, a fixed username, admin roles and contact invites.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "check.h"
#include "config.h"
#include "invite.h"
#include "log.h"
#include "register.h"
#include "roster.h"
#include "server.h"
#include "store.h"
#include "xml.h"

/* Contact invites reach the roster, which links the iq services: they
 * ask the reactor for its uptime, and there is none here. */
time_t
server_uptime(void)
{
	return 0;
}

static const char *run_token;	/* the stream's invite token, or NULL */
static int run_used;

/* Parse an iq, run it through register_preauth_iq() with run_token, and
 * return the reply serialized (caller frees), or NULL when there was
 * none. */
static char *
run(const char *xml)
{
	struct xml_node *iq, *reply;
	struct buf b;
	char *out;
	int err;

	iq = xml_parse_document(xml, strlen(xml), XML_NS_CLIENT, &err);
	if (iq == NULL) {
		return NULL;
	}
	reply = register_preauth_iq(iq, run_token, &run_used);
	xml_free(iq);
	if (reply == NULL) {
		return NULL;
	}
	buf_init(&b, 0);
	xml_serialize(reply, XML_NS_CLIENT, &b);
	xml_free(reply);
	out = xstrdup(b.data);
	buf_free(&b);
	return out;
}

static int
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static void
check_reply(const char *xml, const char *needle, int line)
{
	char *r = run(xml);

	if (!contains(r, needle)) {
		fprintf(stderr, "line %d: reply %s lacks %s\n", line,
		    r ? r : "(none)", needle);
	}
	CHECK(contains(r, needle));
	free(r);
}

static int
load_config(const char *dir, int allow)
{
	char conf[600], err[600];
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/uxmppd.conf", dir);
	fp = fopen(conf, "w");
	if (fp == NULL) {
		return -1;
	}
	fprintf(fp, "data_dir = %s\nscram_iterations = 4096\n"
	    "store_sync = none\n%s", dir,
	    allow ? "allow_registration = 1\n" : "");
	fclose(fp);
	if (config_load(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

#define FORM_SET(u, p) \
	"<iq type='set' id='s'><query xmlns='jabber:iq:register'>" u p \
	"</query></iq>"
#define FORM_GET "<iq type='get' id='g'><query xmlns='jabber:iq:register'/></iq>"

/* Is <preauth token='token'/> accepted? */
static int
token_accepted(const char *token)
{
	char xml[256];
	struct xml_node *iq, *reply;
	int err, valid = -1;

	snprintf(xml, sizeof(xml), "<iq type='set' id='t'><preauth "
	    "xmlns='urn:xmpp:pars:0' token='%s'/></iq>", token);
	iq = xml_parse_document(xml, strlen(xml), XML_NS_CLIENT, &err);
	if (iq == NULL) {
		return -1;
	}
	CHECK(register_is_token_iq(iq));
	reply = register_token_iq(iq, &valid);
	CHECK(reply != NULL);
	CHECK_STR(xml_attr(reply, "type"), valid ? "result" : "error");
	xml_free(reply);
	xml_free(iq);
	return valid;
}

static void
check_invites(const char *dir)
{
	char tok[INVITE_TOKEN_LEN + 1], tok2[INVITE_TOKEN_LEN + 1];
	char tok3[INVITE_TOKEN_LEN + 1], list[2048], uri[256];
	const struct roster_item *it;
	struct invite inv;
	long secs;

	CHECK(load_config(dir, 0) == 0);
	CHECK(!register_enabled());

	/* an account invite, used once */
	CHECK(invite_create(NULL, NULL, 0, 3600, tok, sizeof(tok)) == 0);
	CHECK(strlen(tok) == INVITE_TOKEN_LEN);
	CHECK(invite_get(tok, &inv) == 0);
	invite_uri(tok, &inv, uri, sizeof(uri));
	CHECK(strncmp(uri, "xmpp:localhost?register;preauth=", 32) == 0);
	CHECK(token_accepted(tok) == 1);
	CHECK(token_accepted("0123456789abcdef01234567") == 0);
	CHECK(token_accepted("nothex") == 0);
	run_token = tok;
	check_reply(FORM_GET, "<username/><password/>", __LINE__);
	check_reply(FORM_SET("<username>juliet</username>",
	    "<password>pw</password>"), "type='result'", __LINE__);
	CHECK(run_used == 1);
	CHECK(account_exists("juliet@localhost"));
	CHECK(!account_is_admin("juliet@localhost"));
	/* used up: neither the stream's copy nor a new presentation work */
	check_reply(FORM_SET("<username>juliet2</username>",
	    "<password>pw</password>"), "<service-unavailable", __LINE__);
	CHECK(run_used == 0);
	CHECK(!account_exists("juliet2@localhost"));
	CHECK(token_accepted(tok) == 0);

	/* a fixed username; an admin invite */
	CHECK(invite_create(NULL, "nurse", 1, 3600, tok, sizeof(tok)) == 0);
	CHECK(invite_get(tok, &inv) == 0);
	invite_uri(tok, &inv, uri, sizeof(uri));
	CHECK(strncmp(uri, "xmpp:nurse@localhost?register;preauth=", 38) == 0);
	run_token = tok;
	check_reply(FORM_GET, "<username>nurse</username>", __LINE__);
	check_reply(FORM_SET("<username>other</username>",
	    "<password>pw</password>"), "not valid with this invitation",
	    __LINE__);
	check_reply(FORM_SET("<username>nurse</username>",
	    "<password>pw</password>"), "type='result'", __LINE__);
	CHECK(account_is_admin("nurse@localhost"));
	CHECK(account_delete("nurse@localhost") == 0);
	CHECK(!account_is_admin("nurse@localhost"));

	/* expired and revoked tokens */
	CHECK(invite_create(NULL, NULL, 0, 3600, tok, sizeof(tok)) == 0);
	CHECK(invite_create(NULL, NULL, 0, 3600, tok2, sizeof(tok2)) == 0);
	CHECK(store_put(INVITE_KIND, tok, "1000\t-\t\t") == 0);
	CHECK(token_accepted(tok) == 0);
	run_token = tok;
	check_reply(FORM_SET("<username>late</username>",
	    "<password>pw</password>"), "<service-unavailable", __LINE__);
	CHECK(invite_list(list, sizeof(list)) == 1);
	CHECK(strncmp(list, tok2, INVITE_TOKEN_LEN) == 0);
	CHECK(invite_revoke(tok2) == 0);
	CHECK(invite_revoke(tok2) == -1);
	CHECK(token_accepted(tok2) == 0);
	CHECK(invite_list(list, sizeof(list)) == 0);

	/* a contact invite: juliet and the new account subscribe both ways */
	CHECK(invite_create("juliet@localhost", NULL, 0, 60, tok3,
	    sizeof(tok3)) == 0);
	CHECK(invite_get(tok3, &inv) == 0);
	invite_uri(tok3, &inv, uri, sizeof(uri));
	CHECK(strncmp(uri, "xmpp:juliet@localhost?roster;preauth=", 37) == 0);
	CHECK(strstr(uri, ";ibr=y") != NULL);
	run_token = tok3;
	check_reply(FORM_SET("<username>romeo2</username>",
	    "<password>pw</password>"), "type='result'", __LINE__);
	it = roster_find("juliet@localhost", "romeo2@localhost");
	CHECK(it != NULL && it->sub == (ROSTER_SUB_TO | ROSTER_SUB_FROM));
	it = roster_find("romeo2@localhost", "juliet@localhost");
	CHECK(it != NULL && it->sub == (ROSTER_SUB_TO | ROSTER_SUB_FROM));
	run_token = NULL;

	CHECK(invite_parse_duration("7d", &secs) == 0 && secs == 7 * 86400);
	CHECK(invite_parse_duration("12h", &secs) == 0 && secs == 12 * 3600);
	CHECK(invite_parse_duration("90", &secs) == 0 && secs == 90);
	CHECK(invite_parse_duration("0", &secs) == -1);
	CHECK(invite_parse_duration("7dd", &secs) == -1);
	CHECK(invite_parse_duration("x", &secs) == -1);
}

int
main(void)
{
	char dir[] = "/tmp/uxmppd-test-register.XXXXXX";
	char err[600];
	struct sasl_creds creds;

	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	log_open(NULL, LOG_LEVEL_ERR);
	if (load_config(dir, 0) != 0) {
		return 1;
	}
	if (store_open(dir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	/* off by default */
	CHECK(!register_enabled());
	/* the form still (invitations need it), but no account */
	check_reply(FORM_GET, "<username/><password/>", __LINE__);
	check_reply(FORM_SET("<username>romeo</username>",
	    "<password>pw</password>"), "<service-unavailable", __LINE__);
	CHECK(!account_exists("romeo@localhost"));

	CHECK(load_config(dir, 1) == 0);
	CHECK(register_enabled());
	check_reply(FORM_GET, "<username/><password/>", __LINE__);
	/* results and errors are never answered */
	CHECK(run("<iq type='result' id='x'>"
	    "<query xmlns='jabber:iq:register'/></iq>") == NULL);
	check_reply(FORM_SET("<username>romeo</username>", ""),
	    "<not-acceptable", __LINE__);
	check_reply(FORM_SET("", "<password>pw</password>"),
	    "<not-acceptable", __LINE__);
	check_reply(FORM_SET("<username>romeo</username>",
	    "<password></password>"), "<not-acceptable", __LINE__);
	check_reply(FORM_SET("<username>ro@meo</username>",
	    "<password>pw</password>"), "Invalid username", __LINE__);
	check_reply(FORM_SET("", "<remove/>"), "<not-authorized", __LINE__);
	CHECK(!account_exists("romeo@localhost"));

	/* success, with the username case-folded */
	check_reply(FORM_SET("<username>Romeo</username>",
	    "<password>secret</password>"), "type='result'", __LINE__);
	CHECK(account_exists("romeo@localhost"));
	CHECK(account_creds("romeo@localhost", &creds) == 0);
	check_reply(FORM_SET("<username>romeo</username>",
	    "<password>other</password>"), "<conflict", __LINE__);

	check_invites(dir);

	store_close();
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0) {
		fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_summary("register");
}
