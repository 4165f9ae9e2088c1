/*
 * test_pubsub.c - the XEP-0060 core (pubsub.c): every operation and error,
 * the config form, max_items trimming, preconditions, access models,
 * notifications, limits and persistence across a store reopen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "buf.h"
#include "pubsub.h"
#include "pubsub_iq.h"
#include "store.h"
#include "xml.h"

#define SVC	"alice@localhost"
#define PS	"pubsub.localhost"

static char data_dir[] = "/tmp/test_pubsub.XXXXXX";

/* Notifications seen, concatenated "recipient|stanza\n". */
static char notes[65536];
static int nnotes;
/* can_see answers yes for this requester only. */
static const char *friend_jid = "bob@localhost";

static void
on_notify(void *ud, const struct pubsub_event *ev)
{
	size_t i;

	(void)ud;
	for (i = 0; i < ev->nsubs; i++) {
		nnotes++;
		snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes),
		    "%s|%s\n", ev->subs[i], ev->stanza);
	}
}

static int
on_can_see(void *ud, const char *owner, const char *req,
    enum pubsub_access m)
{
	(void)ud;
	(void)owner;
	(void)m;
	return strncmp(req, friend_jid, strlen(friend_jid)) == 0;
}

static const struct pubsub_hooks hooks = { on_can_see, on_notify, NULL };

static void
reset_notes(void)
{
	notes[0] = '\0';
	nnotes = 0;
}

static void
store_start(void)
{
	char err[256];

	if (store_open(data_dir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	if (pubsub_init(&hooks) != 0) {
		fprintf(stderr, "pubsub_init failed\n");
		exit(1);
	}
}

static void
store_restart(void)
{
	pubsub_shutdown();
	store_close();
	store_start();
}

/* Items collected in the order given as "id=payload;", and their
 * publishers as "id:publisher;" ("-" for none). */
static char got[8192], pubs[1024];

static void
collect(void *ud, const char *id, const char *publisher, const char *payload)
{
	(void)ud;
	snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s=%s;", id,
	    payload);
	snprintf(pubs + strlen(pubs), sizeof(pubs) - strlen(pubs), "%s:%s;",
	    id, publisher != NULL ? publisher : "-");
}

static const char *
items(const char *svc, const char *node, const char *req, const char *id,
    size_t max, int *rc)
{
	got[0] = '\0';
	pubs[0] = '\0';
	*rc = pubsub_items(svc, node, req, id, max, collect, NULL);
	return got;
}

static void
test_errors_map(void)
{
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_ITEM_NOT_FOUND),
	    "item-not-found");
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_PRECONDITION), "conflict");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_PRECONDITION),
	    "precondition-not-met");
	CHECK_STR(pubsub_err_type(PUBSUB_ERR_PRECONDITION), "cancel");
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_PAYLOAD_TOO_BIG),
	    "not-acceptable");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_PAYLOAD_TOO_BIG),
	    "payload-too-big");
	CHECK_STR(pubsub_err_type(PUBSUB_ERR_PAYLOAD_TOO_BIG), "modify");
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_MAX_NODES),
	    "policy-violation");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_MAX_NODES), "max-nodes-exceeded");
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE),
	    "not-authorized");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE),
	    "presence-subscription-required");
	CHECK_STR(pubsub_err_type(PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE), "auth");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_NOT_AUTHORIZED_ROSTER),
	    "not-in-roster-group");
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_NOT_ALLOWED_WHITELIST),
	    "not-allowed");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_NOT_ALLOWED_WHITELIST),
	    "closed-node");
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_FORBIDDEN), "forbidden");
	CHECK(pubsub_err_child(PUBSUB_ERR_FORBIDDEN) == NULL);
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_NOT_SUBSCRIBED),
	    "unexpected-request");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_NOT_SUBSCRIBED), "not-subscribed");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_NODEID_REQUIRED),
	    "nodeid-required");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_ITEM_REQUIRED), "item-required");
	CHECK_STR(pubsub_err_child(PUBSUB_ERR_INVALID_JID), "invalid-jid");
	CHECK_STR(pubsub_err_condition(PUBSUB_ERR_STORE),
	    "resource-constraint");
	CHECK_STR(pubsub_err_type(PUBSUB_ERR_STORE), "wait");
}

/* Every field set from its form value reads back the same. */
static void
test_config_form(void)
{
	static const char *const pairs[][2] = {
		{ "pubsub#max_items", "7" },
		{ "pubsub#persist_items", "0" },
		{ "pubsub#access_model", "whitelist" },
		{ "pubsub#publish_model", "subscribers" },
		{ "pubsub#notify_retract", "0" },
		{ "pubsub#itemreply", "publisher" },
		{ "pubsub#send_last_published_item", "on_sub_and_presence" },
		{ "pubsub#deliver_payloads", "0" },
		{ "pubsub#title", "My node" },
		{ "pubsub#description", "About it" },
		{ "pubsub#type", "urn:example" },
		{ "pubsub#roster_groups_allowed", "" },
		{ "pubsub#deliver_notifications", "0" },
		{ "pubsub#notification_type", "headline" },
		{ "pubsub#notify_delete", "0" },
	};
	struct pubsub_config c;
	const char *const *v;
	char out[300];
	size_t i, n = 0;

	pubsub_config_default(&c);
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		CHECK(pubsub_config_set(&c, pairs[i][0], pairs[i][1]) == 0);
		CHECK(pubsub_config_get(&c, pairs[i][0], out, sizeof(out))
		    == 0);
		CHECK_STR(out, pairs[i][1]);
	}
	for (v = pubsub_config_vars(); *v != NULL; v++) {
		n++;
	}
	CHECK(n == sizeof(pairs) / sizeof(pairs[0]));
	CHECK(pubsub_config_set(&c, "pubsub#max_items", "max") == 0);
	CHECK(c.max_items == DEFAULT_PUBSUB_MAX_ITEMS);
	CHECK(pubsub_config_set(&c, "pubsub#itemreply", "none") == 0);
	CHECK(c.itemreply == PUBSUB_ITEMREPLY_NONE);
	CHECK(pubsub_config_set(&c, "pubsub#notification_type", "normal") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#roster_groups_allowed", "g") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#title", "a\tb") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#persist_items", "true") == 0);
	CHECK(c.persist_items == 1);
	CHECK(pubsub_config_set(&c, "FORM_TYPE", "x") == 0);
	CHECK(pubsub_config_set(&c, "pubsub#max_items", "0") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#max_items", "12x") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#max_items", "100000") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#access_model", "authorize") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#persist_items", "yes") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#nope", "1") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_get(&c, "pubsub#nope", out, sizeof(out)) ==
	    PUBSUB_ERR_BAD_CONFIG);
}

static void
test_create_configure_delete(void)
{
	struct pubsub_config c;

	CHECK(pubsub_create(SVC, "n1", SVC "/phone", NULL) == 0);
	CHECK(pubsub_create(SVC, "n1", SVC, NULL) == PUBSUB_ERR_CONFLICT);
	CHECK(pubsub_create(SVC, "", SVC, NULL) == PUBSUB_ERR_NODEID_REQUIRED);
	CHECK(pubsub_create(SVC, "a b", SVC, NULL) ==
	    PUBSUB_ERR_NODEID_REQUIRED);
	CHECK(pubsub_node_count(SVC) == 1);
	/* The owner is the creator's bare JID. */
	CHECK(pubsub_get_config(SVC, "n1", SVC "/laptop", &c) == 0);
	/* An account's node has PEP's defaults (XEP-0163 §4.3). */
	CHECK(c.max_items == PEP_DEFAULT_MAX_ITEMS);
	CHECK(c.access_model == PUBSUB_ACCESS_PRESENCE);
	CHECK(c.send_last == PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE);
	CHECK(pubsub_get_config(SVC, "n1", "bob@localhost", &c) ==
	    PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_get_config(SVC, "zz", SVC, &c) ==
	    PUBSUB_ERR_ITEM_NOT_FOUND);
	c.max_items = 3;
	snprintf(c.title, sizeof(c.title), "t");
	CHECK(pubsub_configure(SVC, "n1", "bob@localhost", &c) ==
	    PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_configure(SVC, "n1", SVC, &c) == 0);
	c.max_items = 0;
	CHECK(pubsub_configure(SVC, "n1", SVC, &c) == PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_get_config(SVC, "n1", SVC, &c) == 0);
	CHECK(c.max_items == 3);
	CHECK_STR(c.title, "t");
	CHECK(pubsub_delete(SVC, "n1", "bob@localhost") ==
	    PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_delete(SVC, "n1", SVC) == 0);
	CHECK(pubsub_delete(SVC, "n1", SVC) == PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(pubsub_node_count(SVC) == 0);
	/* Another service's node of the same name is another node, with
	 * the service defaults (as Prosody's). */
	CHECK(pubsub_create(PS, "n1", "carol@localhost", NULL) == 0);
	CHECK(pubsub_get_config(PS, "n1", "carol@localhost", &c) == 0);
	CHECK(c.max_items == PUBSUB_DEFAULT_MAX_ITEMS);
	CHECK(c.access_model == PUBSUB_ACCESS_OPEN);
	CHECK(c.send_last == PUBSUB_SEND_LAST_NEVER);
	CHECK(c.itemreply == PUBSUB_ITEMREPLY_NONE);
	/* The service has no roster: presence access does not fit it. */
	c.access_model = PUBSUB_ACCESS_PRESENCE;
	CHECK(pubsub_configure(PS, "n1", "carol@localhost", &c) ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_create(PS, "n2", "carol@localhost", &c) ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_create(SVC, "n1", SVC, NULL) == 0);
	CHECK(pubsub_delete(PS, "n1", "carol@localhost") == 0);
	CHECK(pubsub_delete(SVC, "n1", SVC) == 0);
}

static void
test_publish_retract_items(void)
{
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES], id2[PUBSUB_ID_BYTES];
	const char *s;
	int rc;

	CHECK(pubsub_publish(SVC, "nx", SVC, "i1", "<x/>", NULL, 0, 0, id) ==
	    PUBSUB_ERR_ITEM_NOT_FOUND);
	pubsub_config_default(&c);
	CHECK(pubsub_create(SVC, "p", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "p", SVC, "i1", "<a/>", NULL, 0, 0, id) == 0);
	CHECK_STR(id, "i1");
	CHECK(pubsub_publish(SVC, "p", SVC, NULL, "<b/>", NULL, 0, 0, id) == 0);
	CHECK(strlen(id) > 0 && strcmp(id, "i1") != 0);
	CHECK(pubsub_publish(SVC, "p", SVC, "", "<c/>", NULL, 0, 0, id2) == 0);
	CHECK(strcmp(id, id2) != 0);
	/* Publish model "publishers": a stranger may not. */
	CHECK(pubsub_publish(SVC, "p", "bob@localhost", "z", "<z/>", NULL, 0,
	    0, id) == PUBSUB_ERR_FORBIDDEN);
	s = items(SVC, "p", "bob@localhost", NULL, 0, &rc);
	CHECK(rc == 0);
	CHECK(strstr(s, "=<c/>;") != NULL);
	CHECK(strncmp(s, "i1=<a/>;", 8) == 0);		/* oldest first */
	CHECK(strstr(s, id2) == s + strlen(s) - strlen(id2) - strlen("=<c/>;"));
	s = items(SVC, "p", SVC, NULL, 1, &rc);
	CHECK(rc == 0);
	CHECK(strchr(s, ';') == s + strlen(s) - 1);	/* one item */
	CHECK(strstr(s, "<c/>") != NULL);
	CHECK_STR(items(SVC, "p", SVC, "i1", 0, &rc), "i1=<a/>;");
	items(SVC, "p", SVC, "nope", 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	items(SVC, "nope", SVC, NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	/* Same id: replaced and moved to newest. */
	CHECK(pubsub_publish(SVC, "p", SVC, "i1", "<a2/>", NULL, 0, 0, id) ==
	    0);
	s = items(SVC, "p", SVC, NULL, 0, &rc);
	CHECK(strstr(s, "i1=<a2/>;") == s + strlen(s) - 9);
	CHECK(strstr(s, "<a/>") == NULL);
	/* Retract. */
	CHECK(pubsub_retract(SVC, "p", SVC, NULL, 0) ==
	    PUBSUB_ERR_ITEM_REQUIRED);
	CHECK(pubsub_retract(SVC, "p", SVC, "nope", 0) ==
	    PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(pubsub_retract(SVC, "zz", SVC, "i1", 0) ==
	    PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(pubsub_retract(SVC, "p", "bob@localhost", "i1", 0) ==
	    PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_retract(SVC, "p", SVC, "i1", 0) == 0);
	items(SVC, "p", SVC, "i1", 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	/* Purge. */
	CHECK(pubsub_purge(SVC, "p", "bob@localhost") == PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_purge(SVC, "p", SVC) == 0);
	CHECK_STR(items(SVC, "p", SVC, NULL, 0, &rc), "");
	CHECK(pubsub_delete(SVC, "p", SVC) == 0);
}

static void
test_max_items(void)
{
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES];
	int rc;

	pubsub_config_default(&c);
	c.max_items = 2;
	CHECK(pubsub_create(SVC, "m", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "m", SVC, "1", "<a/>", NULL, 0, 0, id) == 0);
	CHECK(pubsub_publish(SVC, "m", SVC, "2", "<b/>", NULL, 0, 0, id) == 0);
	CHECK(pubsub_publish(SVC, "m", SVC, "3", "<c/>", NULL, 0, 0, id) == 0);
	CHECK_STR(items(SVC, "m", SVC, NULL, 0, &rc), "2=<b/>;3=<c/>;");
	c.max_items = 1;
	CHECK(pubsub_configure(SVC, "m", SVC, &c) == 0);
	CHECK_STR(items(SVC, "m", SVC, NULL, 0, &rc), "3=<c/>;");
	/* "max" keeps up to the cap. */
	CHECK(pubsub_config_set(&c, "pubsub#max_items", "max") == 0);
	CHECK(pubsub_configure(SVC, "m", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "m", SVC, "4", "<d/>", NULL, 0, 0, id) == 0);
	CHECK_STR(items(SVC, "m", SVC, NULL, 0, &rc), "3=<c/>;4=<d/>;");
	CHECK(pubsub_delete(SVC, "m", SVC) == 0);
}

static void
test_preconditions(void)
{
	struct pubsub_precond ok[] = {
		{ "FORM_TYPE", "http://jabber.org/protocol/pubsub#publish-options" },
		{ "pubsub#access_model", "presence" },
		{ "pubsub#persist_items", "true" },
	};
	struct pubsub_precond bad[] = { { "pubsub#access_model", "open" } };
	struct pubsub_precond unk[] = { { "pubsub#bogus", "1" } };
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES];
	int rc;

	/* Autocreate applies the preconditions as the config (PEP). */
	CHECK(pubsub_publish(SVC, "pre", SVC, "1", "<a/>", ok, 3, 1, id) == 0);
	CHECK(pubsub_get_config(SVC, "pre", SVC, &c) == 0);
	CHECK(c.access_model == PUBSUB_ACCESS_PRESENCE);
	/* Matching ("true" vs stored "1") passes. */
	CHECK(pubsub_publish(SVC, "pre", SVC, "2", "<b/>", ok, 3, 1, id) == 0);
	CHECK(pubsub_publish(SVC, "pre", SVC, "3", "<c/>", bad, 1, 1, id) ==
	    PUBSUB_ERR_PRECONDITION);
	CHECK(pubsub_publish(SVC, "pre", SVC, "3", "<c/>", unk, 1, 1, id) ==
	    PUBSUB_ERR_PRECONDITION);
	/* Nothing stored on failure. */
	items(SVC, "pre", SVC, "3", 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	/* An unknown field on autocreate is refused too. */
	CHECK(pubsub_publish(SVC, "pre2", SVC, "1", "<a/>", unk, 1, 1, id) ==
	    PUBSUB_ERR_PRECONDITION);
	CHECK(pubsub_node_count(SVC) == 1);
	CHECK(pubsub_delete(SVC, "pre", SVC) == 0);
}

static void
test_access_models(void)
{
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES];
	int rc;

	pubsub_config_default(&c);
	c.access_model = PUBSUB_ACCESS_PRESENCE;
	CHECK(pubsub_create(SVC, "acc", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "acc", SVC, "1", "<a/>", NULL, 0, 0, id) ==
	    0);
	items(SVC, "acc", "bob@localhost/x", NULL, 0, &rc);
	CHECK(rc == 0);
	items(SVC, "acc", "eve@localhost", NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE);
	CHECK(pubsub_subscribe(SVC, "acc", "eve@localhost", "eve@localhost")
	    == PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE);
	c.access_model = PUBSUB_ACCESS_ROSTER;
	CHECK(pubsub_configure(SVC, "acc", SVC, &c) == 0);
	items(SVC, "acc", "eve@localhost", NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_NOT_AUTHORIZED_ROSTER);
	c.access_model = PUBSUB_ACCESS_WHITELIST;
	CHECK(pubsub_configure(SVC, "acc", SVC, &c) == 0);
	items(SVC, "acc", "bob@localhost", NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_NOT_ALLOWED_WHITELIST);
	/* The owner always reads. */
	items(SVC, "acc", SVC "/r", NULL, 0, &rc);
	CHECK(rc == 0);
	/* Open publish model lets anyone publish. */
	c.publish_model = PUBSUB_PUBLISH_OPEN;
	CHECK(pubsub_configure(SVC, "acc", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "acc", "eve@localhost", "e", "<e/>", NULL, 0,
	    0, id) == 0);
	CHECK(pubsub_delete(SVC, "acc", SVC) == 0);
}

static void
test_subscribe_notify(void)
{
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES];

	pubsub_config_default(&c);
	c.send_last = PUBSUB_SEND_LAST_ON_SUB;
	CHECK(pubsub_create(PS, "news", "carol@localhost", &c) == 0);
	CHECK(pubsub_publish(PS, "news", "carol@localhost", "old", "<o/>",
	    NULL, 0, 0, id) == 0);
	reset_notes();
	CHECK(pubsub_subscribe(PS, "news", "bob@localhost/a",
	    "eve@localhost") == PUBSUB_ERR_INVALID_JID);
	CHECK(pubsub_subscribe(PS, "nope", "bob@localhost",
	    "bob@localhost") == PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(pubsub_subscribe(PS, "news", "bob@localhost/a",
	    "bob@localhost/a") == 0);
	/* send_last_published_item on_sub. */
	CHECK(nnotes == 1);
	CHECK(strstr(notes, "bob@localhost/a|<message><event xmlns='"
	    "http://jabber.org/protocol/pubsub#event'><items node='news'>"
	    "<item id='old'><o/></item></items></event></message>") != NULL);
	CHECK(pubsub_subscribe(PS, "news", "dave@localhost",
	    "dave@localhost") == 0);
	reset_notes();
	CHECK(pubsub_publish(PS, "news", "carol@localhost", "n1", "<p/>",
	    NULL, 0, 0, id) == 0);
	CHECK(nnotes == 2);
	CHECK(strstr(notes, "dave@localhost|") != NULL);
	CHECK(strstr(notes, "<item id='n1'><p/></item>") != NULL);
	/* deliver_payloads off: the item without its payload. */
	c.deliver_payloads = 0;
	CHECK(pubsub_configure(PS, "news", "carol@localhost", &c) == 0);
	reset_notes();
	CHECK(pubsub_publish(PS, "news", "carol@localhost", "n2", "<q/>",
	    NULL, 0, 0, id) == 0);
	CHECK(strstr(notes, "<item id='n2'/>") != NULL);
	CHECK(strstr(notes, "<q/>") == NULL);
	/* Retract notifies with notify_retract; not without. */
	reset_notes();
	CHECK(pubsub_retract(PS, "news", "carol@localhost", "n2", 0) == 0);
	CHECK(nnotes == 2);
	CHECK(strstr(notes, "<retract id='n2'/>") != NULL);
	c.notify_retract = 0;
	CHECK(pubsub_configure(PS, "news", "carol@localhost", &c) == 0);
	reset_notes();
	CHECK(pubsub_retract(PS, "news", "carol@localhost", "n1", 0) == 0);
	CHECK(nnotes == 0);
}

static char subs[1024];

static void
sub_cb(void *ud, const char *node, const char *jid)
{
	(void)ud;
	snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), "%s:%s;",
	    node, jid);
}

static void
aff_cb(void *ud, const char *node, const char *jid, const char *aff)
{
	(void)ud;
	snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs),
	    "%s:%s:%s;", node, jid, aff);
}

static void
test_lists_unsubscribe(void)
{
	subs[0] = '\0';
	CHECK(pubsub_subscriptions(PS, NULL, "bob@localhost", 0, sub_cb,
	    NULL) == 0);
	CHECK_STR(subs, "news:bob@localhost/a;");
	subs[0] = '\0';
	CHECK(pubsub_subscriptions(PS, "news", "bob@localhost", 1, sub_cb,
	    NULL) == PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_subscriptions(PS, "news", "carol@localhost", 1, sub_cb,
	    NULL) == 0);
	CHECK(strstr(subs, "news:bob@localhost/a;") != NULL);
	CHECK(strstr(subs, "news:dave@localhost;") != NULL);
	subs[0] = '\0';
	CHECK(pubsub_affiliations(PS, NULL, "carol@localhost", 0, aff_cb,
	    NULL) == 0);
	CHECK_STR(subs, "news:carol@localhost:owner;");
	subs[0] = '\0';
	CHECK(pubsub_affiliations(PS, NULL, "bob@localhost", 0, aff_cb,
	    NULL) == 0);
	CHECK_STR(subs, "");
	CHECK(pubsub_affiliations(PS, "news", "bob@localhost", 1, aff_cb,
	    NULL) == PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_affiliations(PS, "news", "carol@localhost", 1, aff_cb,
	    NULL) == 0);
	CHECK_STR(subs, "news:carol@localhost:owner;");
	/* Unsubscribe. */
	CHECK(pubsub_unsubscribe(PS, "news", "eve@localhost",
	    "bob@localhost/a") == PUBSUB_ERR_INVALID_JID);
	CHECK(pubsub_unsubscribe(PS, "news", "eve@localhost",
	    "eve@localhost") == PUBSUB_ERR_NOT_SUBSCRIBED);
	CHECK(pubsub_unsubscribe(PS, "zz", "bob@localhost",
	    "bob@localhost/a") == PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(pubsub_unsubscribe(PS, "news", "bob@localhost/a",
	    "bob@localhost/a") == 0);
	subs[0] = '\0';
	CHECK(pubsub_subscriptions(PS, NULL, "bob@localhost", 0, sub_cb,
	    NULL) == 0);
	CHECK_STR(subs, "");
	/* Delete and purge notify the remaining subscriber. */
	reset_notes();
	CHECK(pubsub_purge(PS, "news", "carol@localhost") == 0);
	CHECK(nnotes == 1 && strstr(notes, "dave@localhost|") != NULL);
	CHECK(strstr(notes, "<purge node='news'/>") != NULL);
}

static void
test_persistence(void)
{
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES];
	int rc;

	pubsub_config_default(&c);
	c.max_items = 5;
	c.access_model = PUBSUB_ACCESS_ROSTER;
	snprintf(c.title, sizeof(c.title), "kept title");
	CHECK(pubsub_create(SVC, "keep", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "keep", SVC, "a", "<a>1\t2</a>", NULL, 0, 0,
	    id) == 0);
	CHECK(pubsub_publish(SVC, "keep", SVC, "b", "<b/>", NULL, 0, 0, id) ==
	    0);
	CHECK(pubsub_publish(SVC, "keep", SVC, "a", "<a2/>", NULL, 0, 0, id) ==
	    0);
	CHECK(pubsub_retract(SVC, "keep", SVC, "b", 0) == 0);
	CHECK(pubsub_publish(SVC, "keep", SVC, "c", "<c/>", NULL, 0, 0, id) ==
	    0);
	CHECK(pubsub_subscribe(SVC, "keep", "bob@localhost",
	    "bob@localhost/r") == 0);
	c.persist_items = 0;
	CHECK(pubsub_create(SVC, "volatile", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "volatile", SVC, "v", "<v/>", NULL, 0, 0,
	    id) == 0);
	/* "keep" must not take "keep2"'s records on delete. */
	CHECK(pubsub_create(SVC, "keep2", SVC, NULL) == 0);
	CHECK(pubsub_publish(SVC, "keep2", SVC, "k", "<k/>", NULL, 0, 0,
	    id) == 0);
	CHECK(pubsub_create(SVC, "gone", SVC, NULL) == 0);
	CHECK(pubsub_publish(SVC, "gone", SVC, "g", "<g/>", NULL, 0, 0, id) ==
	    0);
	CHECK(pubsub_delete(SVC, "gone", SVC) == 0);
	CHECK(store_flush() == 0);

	store_restart();

	CHECK(pubsub_node_count(SVC) == 3);
	CHECK(pubsub_get_config(SVC, "keep", SVC, &c) == 0);
	CHECK(c.max_items == 5);
	CHECK(c.access_model == PUBSUB_ACCESS_ROSTER);
	CHECK_STR(c.title, "kept title");
	CHECK_STR(items(SVC, "keep", SVC, NULL, 0, &rc),
	    "a=<a2/>;c=<c/>;");
	CHECK_STR(items(SVC, "keep2", SVC, NULL, 0, &rc), "k=<k/>;");
	/* Non-persistent node: the node survives, its items do not. */
	CHECK_STR(items(SVC, "volatile", SVC, NULL, 0, &rc), "");
	CHECK(rc == 0);
	items(SVC, "gone", SVC, NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	subs[0] = '\0';
	CHECK(pubsub_subscriptions(SVC, NULL, "bob@localhost", 0, sub_cb,
	    NULL) == 0);
	CHECK_STR(subs, "keep:bob@localhost/r;");
	/* Generated ids do not reuse a stored sequence. */
	CHECK(pubsub_publish(SVC, "keep", SVC, NULL, "<n/>", NULL, 0, 0,
	    id) == 0);
	CHECK(strcmp(id, "a") != 0 && strcmp(id, "c") != 0);
	CHECK(strncmp(items(SVC, "keep", SVC, NULL, 1, &rc), id,
	    strlen(id)) == 0);
	/* Turning persist_items off drops the stored items. */
	CHECK(pubsub_get_config(SVC, "keep", SVC, &c) == 0);
	c.persist_items = 0;
	CHECK(pubsub_configure(SVC, "keep", SVC, &c) == 0);
	CHECK(store_flush() == 0);
	store_restart();
	CHECK_STR(items(SVC, "keep", SVC, NULL, 0, &rc), "");
	CHECK(pubsub_delete(SVC, "keep", SVC) == 0);
	CHECK(pubsub_delete(SVC, "keep2", SVC) == 0);
	CHECK(pubsub_delete(SVC, "volatile", SVC) == 0);
}

static void
test_limits(void)
{
	char name[32], id[PUBSUB_ID_BYTES], *big;
	int i, ok = 1, rc;

	big = malloc(DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES + 2);
	CHECK(pubsub_create(SVC, "lim", SVC, NULL) == 0);
	memset(big, 'x', DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES + 1);
	big[DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES + 1] = '\0';
	reset_notes();
	CHECK(pubsub_publish(SVC, "lim", SVC, "big", big, NULL, 0, 0, id) ==
	    PUBSUB_ERR_PAYLOAD_TOO_BIG);
	items(SVC, "lim", SVC, "big", 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	big[DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES] = '\0';
	CHECK(pubsub_publish(SVC, "lim", SVC, "big", big, NULL, 0, 0, id) ==
	    0);
	free(big);
	for (i = 1; i < DEFAULT_PEP_MAX_NODES; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		if (pubsub_create(SVC, name, SVC, NULL) != 0) {
			ok = 0;
		}
	}
	CHECK(ok);
	CHECK(pubsub_create(SVC, "one-more", SVC, NULL) ==
	    PUBSUB_ERR_MAX_NODES);
	CHECK(pubsub_publish(SVC, "one-more", SVC, "1", "<a/>", NULL, 0, 1,
	    id) == PUBSUB_ERR_MAX_NODES);
	/* Another service has its own budget. */
	CHECK(pubsub_create(PS, "other", "carol@localhost", NULL) == 0);
}

/* Run one <pubsub/> request given as XML; the reply (or "") serialised
 * into out, the return code returned. */
static char out[16384];

static int
iq(const char *svc, const char *req, int is_set, int autocreate,
    const char *xml)
{
	struct xml_node *el, *reply = NULL;
	struct buf b;
	int err, rc;

	out[0] = '\0';
	el = xml_parse_document(xml, strlen(xml), NULL, &err);
	if (el == NULL) {
		fprintf(stderr, "bad test xml: %s\n", xml);
		return 999;
	}
	rc = pubsub_iq_handle(svc, req, is_set, el, autocreate, &reply);
	xml_free(el);
	if (reply != NULL) {
		buf_init(&b, 0);
		xml_serialize(reply, "jabber:client", &b);
		snprintf(out, sizeof(out), "%s", b.data);
		buf_free(&b);
		xml_free(reply);
	}
	return rc;
}

#define PSNS	"xmlns='http://jabber.org/protocol/pubsub'"
#define OWNS	"xmlns='http://jabber.org/protocol/pubsub#owner'"
#define XD	"xmlns='jabber:x:data'"

static void
test_iq_layer(void)
{
	struct xml_node *iqel;
	struct buf b;

	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><create "
	    "node='x1'/><configure><x " XD " type='submit'><field var='"
	    "pubsub#max_items'><value>2</value></field><field var='"
	    "pubsub#title'><value>T &amp; U</value></field></x></configure>"
	    "</pubsub>") == 0);
	CHECK_STR(out, "");
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><create "
	    "node='x1'/></pubsub>") == PUBSUB_ERR_CONFLICT);
	/* An instant node (§8.1.2): the reply names it. */
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><create/>"
	    "</pubsub>") == 0);
	CHECK(strncmp(out, "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
	    "<create node='", 64) == 0);
	{
		char inst[64], del[160];

		CHECK(sscanf(out + 64, "%63[^']", inst) == 1);
		CHECK(strlen(inst) == 16);
		snprintf(del, sizeof(del), "<pubsub " OWNS "><delete node='%s'/>"
		    "</pubsub>", inst);
		CHECK(iq(PS, "carol@localhost", 1, 0, del) == 0);
	}
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><create "
	    "node='x2'/><configure><x " XD " type='submit'><field var='"
	    "pubsub#max_items'><value>lots</value></field></x></configure>"
	    "</pubsub>") == PUBSUB_ERR_BAD_CONFIG);
	/* Config form round trip. */
	CHECK(iq(PS, "carol@localhost", 0, 0, "<pubsub " OWNS "><configure "
	    "node='x1'/></pubsub>") == 0);
	CHECK(strstr(out, "<field var='pubsub#max_items' label='Max # of items"
	    " to persist' type='text-single'><validate xmlns='http://jabber.org"
	    "/protocol/xdata-validate' datatype='pubsub:integer-or-max'><range "
	    "min='1' max='256'/></validate><value>2</value></field>") != NULL);
	/* Options carry labels; an empty field has no <value/>. */
	CHECK(strstr(out, "<option label='Messages of type headline'><value>"
	    "headline</value></option>") != NULL);
	CHECK(strstr(out, "<field var='pubsub#description' label='Description'"
	    " type='text-single'/>") != NULL);
	CHECK(strstr(out, "<field var='pubsub#send_last_published_item' "
	    "type='list-single'>") != NULL);
	CHECK(strstr(out, "<value>T &amp; U</value>") != NULL);
	CHECK(strstr(out, "<value>http://jabber.org/protocol/pubsub#"
	    "node_config</value>") != NULL);
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " OWNS "><configure "
	    "node='x1'/></pubsub>") == PUBSUB_ERR_FORBIDDEN);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " OWNS "><configure "
	    "node='x1'><x " XD " type='submit'><field var='pubsub#"
	    "access_model'><value>whitelist</value></field></x></configure>"
	    "</pubsub>") == 0);
	CHECK(iq(PS, "carol@localhost", 0, 0, "<pubsub " OWNS "><configure "
	    "node='x1'/></pubsub>") == 0);
	CHECK(strstr(out, "<value>whitelist</value>") != NULL);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " OWNS "><configure "
	    "node='x1'><x " XD " type='submit'><field var='pubsub#"
	    "access_model'><value>open</value></field></x></configure>"
	    "</pubsub>") == 0);
	/* Publish, with and without an id; the reply names the id. */
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><publish "
	    "node='x1'><item id='a'><entry xmlns='urn:test'>one</entry>"
	    "</item></publish></pubsub>") == 0);
	CHECK_STR(out, "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
	    "<publish node='x1'><item id='a'/></publish></pubsub>");
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><publish "
	    "node='x1'><item><entry xmlns='urn:test'>two</entry></item>"
	    "</publish></pubsub>") == 0);
	CHECK(strstr(out, "<item id='") != NULL &&
	    strstr(out, "<item id='a'/>") == NULL);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><publish "
	    "node='x1'><item id='b'><entry xmlns='urn:test'>three</entry>"
	    "</item></publish><publish-options><x " XD " type='submit'>"
	    "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/"
	    "protocol/pubsub#publish-options</value></field><field var='"
	    "pubsub#access_model'><value>presence</value></field></x>"
	    "</publish-options></pubsub>") == PUBSUB_ERR_PRECONDITION);
	/* The error names the field as Prosody does. */
	iqel = xml_new("iq", "jabber:client");
	pubsub_iq_error(iqel, PUBSUB_ERR_PRECONDITION);
	buf_init(&b, 0);
	xml_serialize(iqel, "jabber:client", &b);
	CHECK(strstr(b.data, "<text xmlns='urn:ietf:params:xml:ns:xmpp-"
	    "stanzas'>Field does not match: access_model</text>") != NULL);
	buf_free(&b);
	xml_free(iqel);
	CHECK(iq(PS, "bob@localhost", 1, 0, "<pubsub " PSNS "><publish "
	    "node='x1'><item id='b'/></publish></pubsub>") ==
	    PUBSUB_ERR_FORBIDDEN);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><publish/>"
	    "</pubsub>") == PUBSUB_ERR_NODEID_REQUIRED);
	/* Items: max_items 2 kept two; oldest first; payload intact. */
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " PSNS "><items "
	    "node='x1'/></pubsub>") == 0);
	CHECK(strstr(out, "<entry xmlns='urn:test'>two</entry></item>"
	    "</items>") != NULL);
	CHECK(strstr(out, "<items node='x1'><item id='a'><entry xmlns='"
	    "urn:test'>one</entry></item>") != NULL);
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " PSNS "><items "
	    "node='x1' max_items='1'/></pubsub>") == 0);
	CHECK(strstr(out, "one") == NULL && strstr(out, "two") != NULL);
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " PSNS "><items "
	    "node='x1'><item id='a'/></items></pubsub>") == 0);
	CHECK(strstr(out, "one") != NULL && strstr(out, "two") == NULL);
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " PSNS "><items "
	    "node='x1'><item id='zz'/></items></pubsub>") ==
	    PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " PSNS "><items "
	    "node='x1' max_items='0'/></pubsub>") ==
	    PUBSUB_ERR_BAD_REQUEST_XML);
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " PSNS "><items "
	    "node='none'/></pubsub>") == PUBSUB_ERR_ITEM_NOT_FOUND);
	/* Subscribe, lists, unsubscribe. */
	CHECK(iq(PS, "bob@localhost/r", 1, 0, "<pubsub " PSNS "><subscribe "
	    "node='x1' jid='bob@localhost/r'/></pubsub>") == 0);
	CHECK(strstr(out, "<subscription node='x1' jid='bob@localhost/r' "
	    "subscription='subscribed'/>") != NULL);
	CHECK(iq(PS, "bob@localhost/r", 1, 0, "<pubsub " PSNS "><subscribe "
	    "node='x1' jid='eve@localhost'/></pubsub>") ==
	    PUBSUB_ERR_INVALID_JID);
	CHECK(iq(PS, "bob@localhost", 0, 0, "<pubsub " PSNS "><subscriptions"
	    "/></pubsub>") == 0);
	CHECK(strstr(out, "jid='bob@localhost/r'") != NULL);
	CHECK(iq(PS, "carol@localhost", 0, 0, "<pubsub " OWNS "><subscriptions"
	    " node='x1'/></pubsub>") == 0);
	CHECK(strstr(out, "jid='bob@localhost/r'") != NULL);
	CHECK(iq(PS, "carol@localhost", 0, 0, "<pubsub " PSNS "><affiliations"
	    "/></pubsub>") == 0);
	CHECK(strstr(out, "<affiliation node='x1' affiliation='owner'/>") !=
	    NULL);
	CHECK(iq(PS, "carol@localhost", 0, 0, "<pubsub " OWNS "><affiliations"
	    " node='x1'/></pubsub>") == 0);
	CHECK(strstr(out, "jid='carol@localhost' affiliation='owner'") !=
	    NULL);
	reset_notes();
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><retract "
	    "node='x1' notify='true'><item id='a'/></retract></pubsub>") == 0);
	CHECK(nnotes == 1 && strstr(notes, "<retract id='a'/>") != NULL);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " PSNS "><retract "
	    "node='x1'/></pubsub>") == PUBSUB_ERR_ITEM_REQUIRED);
	CHECK(iq(PS, "bob@localhost/r", 1, 0, "<pubsub " PSNS "><unsubscribe "
	    "node='x1' jid='bob@localhost/r'/></pubsub>") == 0);
	CHECK_STR(out, "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
	    "<subscription node='x1' jid='bob@localhost/r' subscription="
	    "'none'/></pubsub>");
	CHECK(iq(PS, "bob@localhost/r", 1, 0, "<pubsub " PSNS "><unsubscribe "
	    "node='x1' jid='bob@localhost/r'/></pubsub>") ==
	    PUBSUB_ERR_NOT_SUBSCRIBED);
	/* PEP autocreate on publish. */
	CHECK(iq("dan@localhost", "dan@localhost/p", 1, 1, "<pubsub " PSNS
	    "><publish node='urn:xmpp:avatar:metadata'><item id='h'><m "
	    "xmlns='urn:test'/></item></publish></pubsub>") == 0);
	CHECK(pubsub_node_count("dan@localhost") == 1);
	/* Owner ops: purge, delete; wrong type, unknown, bad namespace. */
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " OWNS "><purge "
	    "node='x1'/></pubsub>") == 0);
	CHECK(iq(PS, "carol@localhost", 0, 0, "<pubsub " PSNS "><items "
	    "node='x1'/></pubsub>") == 0);
	CHECK_STR(out, "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
	    "<items node='x1'/></pubsub>");
	CHECK(iq(PS, "bob@localhost", 1, 0, "<pubsub " OWNS "><delete "
	    "node='x1'/></pubsub>") == PUBSUB_ERR_FORBIDDEN);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " OWNS "><delete "
	    "node='x1'/></pubsub>") == 0);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub " OWNS "><delete "
	    "node='x1'/></pubsub>") == PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(iq(PS, "carol@localhost", 0, 0, "<pubsub " PSNS "><publish "
	    "node='x1'/></pubsub>") == PUBSUB_ERR_FEATURE);
	CHECK(iq(PS, "carol@localhost", 1, 0, "<pubsub xmlns='urn:other'/>")
	    == PUBSUB_ERR_BAD_REQUEST_XML);
	/* The error element. */
	iqel = xml_new("iq", "jabber:client");
	pubsub_iq_error(iqel, PUBSUB_ERR_PRECONDITION);
	buf_init(&b, 0);
	xml_serialize(iqel, "jabber:client", &b);
	CHECK_STR(b.data, "<iq><error type='cancel'><conflict xmlns='urn:ietf:"
	    "params:xml:ns:xmpp-stanzas'/><precondition-not-met xmlns='http://"
	    "jabber.org/protocol/pubsub#errors'/></error></iq>");
	buf_free(&b);
	xml_free(iqel);
}

/* PEP's calls: node list, last item to one JID, an account's removal. */
static void
node_name_cb(void *ud, const char *node)
{
	char *names = ud;

	snprintf(names + strlen(names), 256 - strlen(names), "%s;", node);
}

static void
test_pep_support(void)
{
	const char *pep = "carol@localhost", *other = "dave@localhost";
	struct pubsub_config c;
	char names[256] = "", id[PUBSUB_ID_BYTES];
	int rc;

	pubsub_config_pep_default(&c);
	CHECK(c.max_items == 1);
	CHECK(c.access_model == PUBSUB_ACCESS_PRESENCE);
	CHECK(c.send_last == PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE);
	/* auto-create takes the PEP defaults */
	CHECK(pubsub_publish(pep, "n1", pep, "a", "<x xmlns='u'>1</x>", NULL,
	    0, 1, id) == PUBSUB_OK);
	CHECK(pubsub_publish(pep, "n1", pep, "b", "<x xmlns='u'>2</x>", NULL,
	    0, 1, id) == PUBSUB_OK);
	CHECK_STR(items(pep, "n1", pep, NULL, 0, &rc), "b=<x xmlns='u'>2</x>;");
	CHECK(pubsub_publish(pep, "n2", pep, "a", "", NULL, 0, 1, id) ==
	    PUBSUB_OK);
	pubsub_nodes(pep, node_name_cb, names);
	CHECK(strstr(names, "n1;") != NULL && strstr(names, "n2;") != NULL);
	CHECK(strlen(names) == strlen("n1;n2;"));
	/* last item: to a reader only; friend_jid passes can_see */
	reset_notes();
	CHECK(pubsub_send_last(pep, "n1", "bob@localhost/r") == 1);
	CHECK(nnotes == 1);
	CHECK(strstr(notes, "bob@localhost/r|") == notes);
	CHECK(strstr(notes, "<item id='b'><x xmlns='u'>2</x></item>") != NULL);
	CHECK(pubsub_send_last(pep, "n1", "eve@localhost/r") == 0);
	CHECK(pubsub_send_last(pep, "nope", "bob@localhost/r") == 0);
	CHECK(nnotes == 1);
	/* carol subscribes to dave's open node; then her account goes */
	pubsub_config_default(&c);
	CHECK(pubsub_create(other, "d1", other, &c) == PUBSUB_OK);
	CHECK(pubsub_subscribe(other, "d1", pep, "carol@localhost/x") ==
	    PUBSUB_OK);
	CHECK(pubsub_set_affiliation(other, "d1", other, pep, "publisher") ==
	    PUBSUB_OK);
	pubsub_remove_service(pep);
	subs[0] = '\0';
	CHECK(pubsub_affiliations(other, "d1", other, 1, aff_cb, NULL) == 0);
	CHECK_STR(subs, "d1:dave@localhost:owner;");
	CHECK(pubsub_node_count(pep) == 0);
	items(pep, "n1", pep, NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(pubsub_unsubscribe(other, "d1", pep, "carol@localhost/x") ==
	    PUBSUB_ERR_NOT_SUBSCRIBED);
	/* and nothing of it comes back from the store */
	store_restart();
	CHECK(pubsub_node_count(pep) == 0);
	CHECK(pubsub_node_count(other) == 1);
	CHECK(pubsub_unsubscribe(other, "d1", pep, "carol@localhost/x") ==
	    PUBSUB_ERR_NOT_SUBSCRIBED);
	subs[0] = '\0';
	CHECK(pubsub_affiliations(other, "d1", other, 1, aff_cb, NULL) == 0);
	CHECK_STR(subs, "d1:dave@localhost:owner;");
	CHECK(pubsub_delete(other, "d1", other) == PUBSUB_OK);
}

/* Load a configuration file holding text (NULL: the defaults). */
static void
config_with(const char *text)
{
	char path[300], err[600];
	FILE *fp;

	if (text == NULL) {
		CHECK(config_load(NULL, err, sizeof(err)) == 0);
		return;
	}
	snprintf(path, sizeof(path), "%s/test.conf", data_dir);
	fp = fopen(path, "w");
	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
	if (config_load(path, err, sizeof(err)) != 0) {
		fprintf(stderr, "config_load: %s\n", err);
		exit(1);
	}
}

/* The configured limits: over each one, the XEP-0060 error, nothing
 * stored and nobody notified. */
static void
test_config_limits(void)
{
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES];
	int rc;

	config_with("pubsub_max_items = 3\npubsub_max_payload_bytes = 10\n"
	    "pubsub_max_nodes = 2\npep_max_nodes = 1\n");
	CHECK(pubsub_max_items() == 3);
	pubsub_config_default(&c);
	CHECK(c.max_items == 3);	/* the default fits under the cap */
	CHECK(pubsub_config_set(&c, "pubsub#max_items", "4") ==
	    PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_config_set(&c, "pubsub#max_items", "max") == 0);
	CHECK(c.max_items == 3);
	/* Nodes of the service, then of an account. */
	CHECK(pubsub_create("ps.test", "a", "carol@localhost", NULL) == 0);
	CHECK(pubsub_create("ps.test", "b", "carol@localhost", NULL) == 0);
	CHECK(pubsub_create("ps.test", "c", "carol@localhost", NULL) ==
	    PUBSUB_ERR_MAX_NODES);
	CHECK(pubsub_create("eve@localhost", "a", "eve@localhost", NULL) == 0);
	CHECK(pubsub_publish("eve@localhost", "b", "eve@localhost", "1",
	    "<a/>", NULL, 0, 1, id) == PUBSUB_ERR_MAX_NODES);
	CHECK(pubsub_node_count("eve@localhost") == 1);
	/* Payload bytes: 10 fit, 11 do not. */
	CHECK(pubsub_subscribe("ps.test", "a", "dave@localhost",
	    "dave@localhost") == 0);
	reset_notes();
	CHECK(pubsub_publish("ps.test", "a", "carol@localhost", "big",
	    "<a>1234</a>", NULL, 0, 0, id) == PUBSUB_ERR_PAYLOAD_TOO_BIG);
	CHECK(nnotes == 0);
	items("ps.test", "a", "carol@localhost", "big", 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(iq("ps.test", "carol@localhost", 1, 0, "<pubsub " PSNS
	    "><publish node='a'><item id='big'><x xmlns='urn:t'>1</x></item>"
	    "</publish></pubsub>") == PUBSUB_ERR_PAYLOAD_TOO_BIG);
	CHECK(nnotes == 0);
	CHECK(pubsub_publish("ps.test", "a", "carol@localhost", "ok",
	    "<a>123</a>", NULL, 0, 0, id) == 0);
	CHECK(nnotes == 1);
	/* The form shows the configured cap. */
	CHECK(iq("ps.test", "carol@localhost", 0, 0, "<pubsub " OWNS
	    "><configure node='a'/></pubsub>") == 0);
	CHECK(strstr(out, "<range min='1' max='3'/>") != NULL);
	CHECK(pubsub_delete("ps.test", "a", "carol@localhost") == 0);
	CHECK(pubsub_delete("ps.test", "b", "carol@localhost") == 0);
	CHECK(pubsub_delete("eve@localhost", "a", "eve@localhost") == 0);
	config_with(NULL);
	CHECK(pubsub_max_items() == DEFAULT_PUBSUB_MAX_ITEMS);
}

/*
 * Store refusals: a record over the store's limit (STORE_MAX_LINE) and a
 * store that refuses every change (store_test_refuse_changes, as a full
 * disk does).  Each gets PUBSUB_ERR_STORE, nobody is notified, and memory
 * is what the store holds: the same after a restart.
 */
static void
test_store_refusals(void)
{
	size_t big_len = STORE_MAX_LINE + 1024;
	char *big = xmalloc(big_len + 16);
	char id[PUBSUB_ID_BYTES];
	int rc;

	config_with("pubsub_max_payload_bytes = 8388608\n");
	memset(big, 'x', big_len + 16);
	memcpy(big, "<a>", 3);
	memcpy(big + big_len, "</a>", 5);
	CHECK(pubsub_create("ps.test", "full", "carol@localhost", NULL) == 0);
	CHECK(pubsub_subscribe("ps.test", "full", "dave@localhost",
	    "dave@localhost") == 0);
	CHECK(pubsub_publish("ps.test", "full", "carol@localhost", "x",
	    "<a>old</a>", NULL, 0, 0, id) == 0);
	reset_notes();
	/* too big for a record: the item of the same id stays */
	CHECK(pubsub_publish("ps.test", "full", "carol@localhost", "x",
	    big, NULL, 0, 0, id) == PUBSUB_ERR_STORE);
	CHECK(pubsub_publish("ps.test", "full", "carol@localhost", "y",
	    big, NULL, 0, 0, id) == PUBSUB_ERR_STORE);
	CHECK(nnotes == 0);
	CHECK_STR(items("ps.test", "full", "carol@localhost", NULL, 0, &rc),
	    "x=<a>old</a>;");
	/* a store that refuses every change */
	store_test_refuse_changes(1);
	CHECK(pubsub_publish("ps.test", "full", "carol@localhost", "x",
	    "<a>new</a>", NULL, 0, 0, id) == PUBSUB_ERR_STORE);
	CHECK(pubsub_retract("ps.test", "full", "carol@localhost", "x", 1) ==
	    PUBSUB_ERR_STORE);
	CHECK(pubsub_purge("ps.test", "full", "carol@localhost") ==
	    PUBSUB_ERR_STORE);
	CHECK(pubsub_unsubscribe("ps.test", "full", "dave@localhost",
	    "dave@localhost") == PUBSUB_ERR_STORE);
	CHECK(pubsub_delete("ps.test", "full", "carol@localhost") ==
	    PUBSUB_ERR_STORE);
	CHECK(pubsub_create("ps.test", "other", "carol@localhost", NULL) ==
	    PUBSUB_ERR_STORE);
	CHECK(nnotes == 0);
	CHECK_STR(items("ps.test", "full", "carol@localhost", NULL, 0, &rc),
	    "x=<a>old</a>;");
	store_test_refuse_changes(0);
	store_restart();
	CHECK_STR(items("ps.test", "full", "carol@localhost", NULL, 0, &rc),
	    "x=<a>old</a>;");
	items("ps.test", "other", "carol@localhost", NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_ITEM_NOT_FOUND);
	/* dave is still subscribed: a publish reaches him */
	reset_notes();
	CHECK(pubsub_publish("ps.test", "full", "carol@localhost", "x",
	    "<a>new</a>", NULL, 0, 0, id) == 0);
	CHECK(nnotes == 1);
	CHECK_STR(items("ps.test", "full", "carol@localhost", NULL, 0, &rc),
	    "x=<a>new</a>;");
	CHECK(pubsub_delete("ps.test", "full", "carol@localhost") == 0);
	config_with(NULL);
	free(big);
}

static int
t_is_admin(const char *service, const char *bare)
{
	return strcmp(service, PS) == 0 && strcmp(bare, "admin@localhost") == 0;
}

static int
t_expose(const char *service)
{
	return strcmp(service, PS) == 0;
}

static const struct pubsub_policy t_policy = { t_is_admin, t_expose };

/* Publishers on items, affiliations, administrators, the held last item,
 * and their records across a restart (old item records included). */
static void
test_publishers_affiliations(void)
{
	struct pubsub_config c;
	char id[PUBSUB_ID_BYTES], **keys;
	int rc;

	pubsub_set_policy(&t_policy);
	CHECK(pubsub_create(PS, "aff", "carol@localhost/x", NULL) == 0);
	/* Administrators own every node of the service, not of PEP. */
	CHECK(pubsub_get_config(PS, "aff", "admin@localhost/r", &c) == 0);
	CHECK(pubsub_create(SVC, "own", SVC, NULL) == 0);
	CHECK(pubsub_get_config(SVC, "own", "admin@localhost", &c) ==
	    PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_delete(SVC, "own", SVC) == 0);
	/* A publisher affiliation lets romeo publish. */
	CHECK(pubsub_publish(PS, "aff", "romeo@localhost/p", "r1", "<r/>",
	    NULL, 0, 0, id) == PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_set_affiliation(PS, "aff", "romeo@localhost",
	    "romeo@localhost", "publisher") == PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_set_affiliation(PS, "aff", "carol@localhost",
	    "romeo@localhost", "publisher") == 0);
	CHECK(pubsub_set_affiliation(PS, "aff", "carol@localhost",
	    "romeo@localhost", "boss") == PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_set_affiliation(PS, "aff", "carol@localhost",
	    "carol@localhost", "member") == PUBSUB_ERR_BAD_CONFIG);
	CHECK(pubsub_set_affiliation(PS, "aff", "carol@localhost",
	    "romeo@localhost/r", "member") == PUBSUB_ERR_INVALID_JID);
	CHECK(pubsub_set_affiliation(PS, "nope", "carol@localhost",
	    "romeo@localhost", "member") == PUBSUB_ERR_ITEM_NOT_FOUND);
	CHECK(pubsub_subscribe(PS, "aff", "dave@localhost",
	    "dave@localhost") == 0);
	reset_notes();
	CHECK(pubsub_publish(PS, "aff", "romeo@localhost/p", "r1", "<r/>",
	    NULL, 0, 0, id) == 0);
	/* The service exposes publishers: the bare JID, in events too. */
	CHECK(strstr(notes, "<item id='r1' publisher='romeo@localhost'><r/>"
	    "</item>") != NULL);
	CHECK_STR(items(PS, "aff", "eve@localhost", NULL, 0, &rc),
	    "r1=<r/>;");
	CHECK_STR(pubs, "r1:romeo@localhost;");
	subs[0] = '\0';
	CHECK(pubsub_affiliations(PS, "aff", "admin@localhost", 1, aff_cb,
	    NULL) == 0);
	CHECK_STR(subs, "aff:carol@localhost:owner;aff:romeo@localhost:"
	    "publisher;");
	subs[0] = '\0';
	CHECK(pubsub_affiliations(PS, NULL, "romeo@localhost/p", 0, aff_cb,
	    NULL) == 0);
	CHECK_STR(subs, "aff:romeo@localhost/p:publisher;");
	/* Whitelist: members read, others not; outcasts never, and lose
	 * their subscriptions. */
	CHECK(pubsub_get_config(PS, "aff", "carol@localhost", &c) == 0);
	c.access_model = PUBSUB_ACCESS_WHITELIST;
	CHECK(pubsub_configure(PS, "aff", "carol@localhost", &c) == 0);
	items(PS, "aff", "eve@localhost", NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_NOT_ALLOWED_WHITELIST);
	CHECK(pubsub_set_affiliation(PS, "aff", "carol@localhost",
	    "eve@localhost", "member") == 0);
	items(PS, "aff", "eve@localhost/z", NULL, 0, &rc);
	CHECK(rc == 0);
	CHECK(pubsub_set_affiliation(PS, "aff", "carol@localhost",
	    "dave@localhost", "outcast") == 0);
	items(PS, "aff", "dave@localhost", NULL, 0, &rc);
	CHECK(rc == PUBSUB_ERR_FORBIDDEN);
	CHECK(pubsub_node_meta(PS, "aff", "dave@localhost", &c) ==
	    PUBSUB_ERR_FORBIDDEN);
	subs[0] = '\0';
	CHECK(pubsub_subscriptions(PS, "aff", "carol@localhost", 1, sub_cb,
	    NULL) == 0);
	CHECK_STR(subs, "");
	CHECK(pubsub_set_affiliation(PS, "aff", "carol@localhost",
	    "dave@localhost", "none") == 0);
	/* The last item on subscription waits for the release. */
	c.access_model = PUBSUB_ACCESS_OPEN;
	c.send_last = PUBSUB_SEND_LAST_ON_SUB;
	CHECK(pubsub_configure(PS, "aff", "carol@localhost", &c) == 0);
	reset_notes();
	pubsub_hold_last();
	CHECK(pubsub_subscribe(PS, "aff", "dave@localhost",
	    "dave@localhost") == 0);
	CHECK(nnotes == 0);
	pubsub_release_last();
	CHECK(nnotes == 1 && strstr(notes, "dave@localhost|") == notes);
	pubsub_release_last();
	CHECK(nnotes == 1);
	/* itemreply publisher shows it on a PEP node too. */
	pubsub_config_default_for(SVC, &c);
	CHECK(pubsub_config_set(&c, "pubsub#itemreply", "publisher") == 0);
	c.max_items = 5;
	CHECK(pubsub_create(SVC, "ir", SVC, &c) == 0);
	CHECK(pubsub_publish(SVC, "ir", SVC "/d", "1", "<i/>", NULL, 0, 0,
	    id) == 0);
	items(SVC, "ir", SVC, NULL, 0, &rc);
	CHECK_STR(pubs, "1:" SVC ";");
	/* An item record of the older "ID\tPAYLOAD" form still loads. */
	CHECK(store_put("ps-item", SVC " ir 00000000000000f0", "old\t<o/>") ==
	    0);
	CHECK(store_put("ps-item", SVC " ir 00000000000000f1", "e\t") == 0);
	CHECK(store_flush() == 0);
	store_restart();
	pubsub_set_policy(&t_policy);
	CHECK_STR(items(SVC, "ir", SVC, NULL, 0, &rc), "1=<i/>;old=<o/>;e=;");
	CHECK_STR(pubs, "1:" SVC ";old:-;e:-;");
	CHECK_STR(items(PS, "aff", "eve@localhost", NULL, 0, &rc),
	    "r1=<r/>;");
	CHECK_STR(pubs, "r1:romeo@localhost;");
	subs[0] = '\0';
	CHECK(pubsub_affiliations(PS, "aff", "carol@localhost", 1, aff_cb,
	    NULL) == 0);
	CHECK_STR(subs, "aff:carol@localhost:owner;aff:romeo@localhost:"
	    "publisher;aff:eve@localhost:member;");
	CHECK(pubsub_get_config(SVC, "ir", SVC, &c) == 0);
	CHECK(c.itemreply == PUBSUB_ITEMREPLY_PUBLISHER);
	CHECK(pubsub_delete(PS, "aff", "admin@localhost") == 0);
	CHECK(pubsub_delete(SVC, "ir", SVC) == 0);
	keys = store_keys("ps-aff", NULL, NULL);
	CHECK(keys != NULL && keys[0] == NULL);
	store_keys_free(keys);
	pubsub_set_policy(NULL);
}

int
main(void)
{
	char cmd[300];

	log_open(NULL, LOG_LEVEL_WARN);
	if (mkdtemp(data_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	store_start();
	test_errors_map();
	test_config_form();
	test_create_configure_delete();
	test_publish_retract_items();
	test_max_items();
	test_preconditions();
	test_access_models();
	test_subscribe_notify();
	test_lists_unsubscribe();
	test_persistence();
	test_iq_layer();
	test_config_limits();
	test_store_refusals();
	test_publishers_affiliations();
	test_limits();
	test_pep_support();
	pubsub_shutdown();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", data_dir);
	}
	return check_summary("test_pubsub");
}
