/*
 * test_register.c - XEP-0077 account creation before authentication
 * (register.c): off by default, the form, field errors, conflict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "check.h"
#include "config.h"
#include "log.h"
#include "register.h"
#include "store.h"
#include "xml.h"

/* Parse an iq, run it through register_preauth_iq(), and return the
 * reply serialized (caller frees), or NULL when there was none. */
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
	reply = register_preauth_iq(iq);
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
	check_reply(FORM_GET, "<service-unavailable", __LINE__);
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

	store_close();
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0) {
		fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_summary("register");
}
