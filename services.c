/*
 * services.c - the server's own iq responders: XEP-0030 disco on the
 * domain and on accounts, XEP-0199 ping, XEP-0092 version, XEP-0012
 * uptime and XEP-0202 time.  Anything else: service-unavailable.
 */
#include "services.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "jid.h"
#include "route.h"
#include "server.h"
#include "stanza.h"

#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define NS_PING		"urn:xmpp:ping"
#define NS_VERSION	"jabber:iq:version"
#define NS_LAST		"jabber:iq:last"
#define NS_TIME		"urn:xmpp:time"
#define UXMPPD_VERSION	"0.1"

static const char *const server_features[] = {
	NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION, NS_LAST, NS_TIME,
	NULL
};

static const char *const account_features[] = {
	NS_DISCO_INFO, NS_DISCO_ITEMS, NULL
};

static void
reply_and_free(struct xml_node *reply)
{
	route_stanza(reply);
	xml_free(reply);
}

static void
reply_error(const struct xml_node *iq, const char *cond)
{
	reply_and_free(stanza_error_reply(iq, NULL, cond, NULL));
}

/* The one payload child of a get/set iq, or NULL (RFC 6120 §8.2.3). */
static const struct xml_node *
iq_payload(const struct xml_node *iq)
{
	const struct xml_node *c = xml_child(iq, NULL, NULL);

	if (c == NULL || xml_next(c, NULL, NULL) != NULL)
		return NULL;
	return c;
}

static void
disco_info(const struct xml_node *iq, const struct xml_node *q,
    const char *category, const char *type, const char *name,
    const char *const *features)
{
	struct xml_node *reply = stanza_result(iq);
	struct xml_node *query = xml_add(reply, "query", NS_DISCO_INFO);
	struct xml_node *id;
	const char *node = xml_attr(q, "node");

	if (node != NULL) {
		xml_free(reply);
		reply_error(iq, "item-not-found");
		return;
	}
	id = xml_add(query, "identity", NULL);
	xml_set_attr(id, "category", category);
	xml_set_attr(id, "type", type);
	if (name != NULL)
		xml_set_attr(id, "name", name);
	for (; *features; features++)
		xml_set_attr(xml_add(query, "feature", NULL), "var", *features);
	reply_and_free(reply);
}

static int
is_get(const struct xml_node *iq)
{
	const char *type = xml_attr(iq, "type");

	return type != NULL && strcmp(type, "get") == 0;
}

/* Common checks; 0 when iq is a get/set with one payload in *out. */
static int
iq_request(const struct xml_node *iq, const struct xml_node **out)
{
	const char *type = xml_attr(iq, "type");

	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0))
		return -1;	/* results and errors are not answered */
	*out = iq_payload(iq);
	if (*out == NULL || xml_attr(iq, "id") == NULL) {
		reply_error(iq, "bad-request");
		return -1;
	}
	return 0;
}

void
services_server_iq(const struct xml_node *iq)
{
	const struct config *cfg = config_get();
	const struct xml_node *q;
	struct xml_node *reply, *query, *item;
	char buf[64];
	time_t now;
	struct tm tm;

	if (iq_request(iq, &q) != 0)
		return;
	if (is_get(iq) && strcmp(q->ns, NS_DISCO_INFO) == 0) {
		disco_info(iq, q, "server", "im", "uxmppd", server_features);
	} else if (is_get(iq) && strcmp(q->ns, NS_DISCO_ITEMS) == 0) {
		if (xml_attr(q, "node") != NULL) {
			reply_error(iq, "item-not-found");
			return;
		}
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_DISCO_ITEMS);
		item = xml_add(query, "item", NULL);
		xml_set_attr(item, "jid", cfg->muc_domain);
		xml_set_attr(item, "name", "Chatrooms");
		reply_and_free(reply);
	} else if (is_get(iq) && strcmp(q->ns, NS_PING) == 0 &&
	    strcmp(q->name, "ping") == 0) {
		reply_and_free(stanza_result(iq));
	} else if (is_get(iq) && strcmp(q->ns, NS_VERSION) == 0) {
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_VERSION);
		xml_add_text_child(query, "name", NULL, "uxmppd");
		xml_add_text_child(query, "version", NULL, UXMPPD_VERSION);
		reply_and_free(reply);
	} else if (is_get(iq) && strcmp(q->ns, NS_LAST) == 0) {
		/* XEP-0012 §5: to a server, the time since it started */
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_LAST);
		snprintf(buf, sizeof(buf), "%lld", (long long)server_uptime());
		xml_set_attr(query, "seconds", buf);
		reply_and_free(reply);
	} else if (is_get(iq) && strcmp(q->ns, NS_TIME) == 0) {
		reply = stanza_result(iq);
		query = xml_add(reply, "time", NS_TIME);
		now = time(NULL);
		gmtime_r(&now, &tm);
		xml_add_text_child(query, "tzo", NULL, "+00:00");
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		xml_add_text_child(query, "utc", NULL, buf);
		reply_and_free(reply);
	} else {
		reply_error(iq, "service-unavailable");
	}
}

void
services_account_iq(const struct xml_node *iq, const char *bare)
{
	const struct xml_node *q;
	const char *from = xml_attr(iq, "from");
	int own = from != NULL && jid_bare_eq(from, bare);
	struct xml_node *reply;

	if (iq_request(iq, &q) != 0)
		return;
	if (is_get(iq) && strcmp(q->ns, NS_DISCO_INFO) == 0) {
		disco_info(iq, q, "account", "registered", NULL,
		    account_features);
	} else if (is_get(iq) && strcmp(q->ns, NS_DISCO_ITEMS) == 0) {
		reply = stanza_result(iq);
		xml_add(reply, "query", NS_DISCO_ITEMS);
		reply_and_free(reply);
	} else if (own && is_get(iq) && strcmp(q->ns, NS_PING) == 0) {
		reply_and_free(stanza_result(iq));
	} else {
		reply_error(iq, "service-unavailable");
	}
}
