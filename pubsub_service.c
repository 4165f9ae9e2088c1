/*
 * pubsub_service.c - the pubsub.<domain> component: see pubsub_service.h.
 *
 * Protocol only: stanzas come in from the router with 'from' stamped by
 * the server and leave through route.h.  The service answers disco
 * (XEP-0030: the service, its nodes, a node's meta-data and items) and
 * <pubsub/> and <pubsub xmlns='...#owner'/> requests, which pubsub_iq.c
 * runs on the core with auto-create off.  Notifications leave through
 * the core's notify hook (pep.c), from the service's JID.  Where XEP-0060
 * leaves a choice, the behaviour is Prosody's mod_pubsub's.
 */
#include "pubsub_service.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "pubsub.h"
#include "pubsub_iq.h"
#include "route.h"
#include "stanza.h"

/* XEP-0060 §10 features, as Prosody's mod_pubsub lists those we have. */
static const char *const features[] = {
	"access-open", "config-node", "config-node-max",
	"create-and-configure", "create-nodes", "delete-items",
	"delete-nodes", "instant-nodes", "item-ids", "member-affiliation",
	"meta-data", "modify-affiliations", "multi-items",
	"outcast-affiliation", "persistent-items", "publish",
	"publish-options", "publisher-affiliation", "purge-nodes",
	"retract-items", "retrieve-affiliations", "retrieve-default",
	"retrieve-items", "retrieve-subscriptions", "subscribe", NULL,
};

static const char *
domain(void)
{
	return config_get()->pubsub_domain;
}

static int
policy_is_admin(const char *service, const char *bare)
{
	return strcmp(service, domain()) == 0 && account_is_admin(bare);
}

static int
policy_expose_publisher(const char *service)
{
	return strcmp(service, domain()) == 0 &&
	    config_get()->pubsub_expose_publisher;
}

static const struct pubsub_policy policy = {
	policy_is_admin, policy_expose_publisher,
};

static void
send_free(struct xml_node *st)
{
	route_stanza(st);
	xml_free(st);
}

static void
send_error(const struct xml_node *st, const char *cond)
{
	send_free(stanza_error_reply(st, NULL, cond, NULL));
}

/*
 * May from create nodes?  An administrator always; with
 * pubsub_create_nodes = local, any account of ours (Prosody lets only
 * its administrators, our `admins` setting).
 */
static int
may_create(const char *from)
{
	char bare[JID_MAX + 1], dom[JID_MAX + 1];

	if (jid_bare(from, bare, sizeof(bare)) != 0) {
		return 0;
	}
	if (account_is_admin(bare)) {
		return 1;
	}
	return config_get()->pubsub_create_nodes &&
	    jid_domain(bare, dom, sizeof(dom)) == 0 &&
	    strcmp(dom, config_get()->domain) == 0 && account_exists(bare);
}

static void
add_feature(struct xml_node *q, const char *var)
{
	xml_set_attr(xml_add(q, "feature", NULL), "var", var);
}

/* A result form field var = value (none when value is ""). */
static void
meta_field(struct xml_node *x, const char *var, const char *value)
{
	struct xml_node *f = xml_add(x, "field", NS_DATA);

	xml_set_attr(f, "var", var);
	if (*value != '\0') {
		xml_add_text_child(f, "value", NS_DATA, value);
	}
}

/* disco#info on the service, or on a node (§5.4: identity and meta-data). */
static void
disco_info(const struct xml_node *iq, const char *from, const char *node)
{
	struct pubsub_config c;
	struct xml_node *reply, *q, *id, *x;
	char var[128], val[PUBSUB_MAX_TITLE_BYTES + 1];
	size_t i;
	int rc;

	reply = stanza_result(iq);
	q = xml_add(reply, "query", NS_DISCO_INFO);
	if (node != NULL) {
		if ((rc = pubsub_node_meta(domain(), node, from, &c)) != 0) {
			xml_free(reply);
			send_free(pubsub_iq_error_reply(iq, rc));
			return;
		}
		xml_set_attr(q, "node", node);
		id = xml_add(q, "identity", NULL);
		xml_set_attr(id, "category", "pubsub");
		xml_set_attr(id, "type", "leaf");
		x = xml_add(q, "x", NS_DATA);
		xml_set_attr(x, "type", "result");
		meta_field(x, "FORM_TYPE", NS_PUBSUB_META_DATA);
		xml_set_attr(xml_child(x, "field", NS_DATA), "type", "hidden");
		meta_field(x, "pubsub#title", c.title);
		meta_field(x, "pubsub#description", c.description);
		meta_field(x, "pubsub#type", c.payload_type);
		pubsub_config_get(&c, "pubsub#access_model", val, sizeof(val));
		meta_field(x, "pubsub#access_model", val);
		pubsub_config_get(&c, "pubsub#publish_model", val, sizeof(val));
		meta_field(x, "pubsub#publish_model", val);
		send_free(reply);
		return;
	}
	id = xml_add(q, "identity", NULL);
	xml_set_attr(id, "category", "pubsub");
	xml_set_attr(id, "type", "service");
	xml_set_attr(id, "name", "Publish-Subscribe");
	add_feature(q, NS_DISCO_INFO);
	add_feature(q, NS_DISCO_ITEMS);
	add_feature(q, NS_PUBSUB);
	for (i = 0; features[i] != NULL; i++) {
		snprintf(var, sizeof(var), "%s#%s", NS_PUBSUB, features[i]);
		add_feature(q, var);
	}
	send_free(reply);
}

struct items_ctx {
	struct xml_node *q;
	const char *from;
};

/* disco#items of the service: one item per node the requester may see,
 * named by its title (§5.2). */
static void
add_node_item(void *ud, const char *node)
{
	struct items_ctx *ic = ud;
	struct pubsub_config c;
	struct xml_node *it;

	if (pubsub_node_meta(domain(), node, ic->from, &c) != 0) {
		return;
	}
	it = xml_add(ic->q, "item", NULL);
	xml_set_attr(it, "jid", domain());
	xml_set_attr(it, "node", node);
	if (c.title[0] != '\0') {
		xml_set_attr(it, "name", c.title);
	}
}

/* disco#items of a node: its items by id (§5.5). */
static void
add_item_item(void *ud, const char *id, const char *publisher,
    const char *payload)
{
	struct items_ctx *ic = ud;
	struct xml_node *it = xml_add(ic->q, "item", NULL);

	(void)publisher;
	(void)payload;
	xml_set_attr(it, "jid", domain());
	xml_set_attr(it, "name", id);
}

static void
disco_items(const struct xml_node *iq, const char *from, const char *node)
{
	struct items_ctx ic;
	struct xml_node *reply;
	int rc;

	reply = stanza_result(iq);
	ic.q = xml_add(reply, "query", NS_DISCO_ITEMS);
	ic.from = from;
	if (node == NULL) {
		pubsub_nodes(domain(), add_node_item, &ic);
	} else {
		xml_set_attr(ic.q, "node", node);
		rc = pubsub_items(domain(), node, from, NULL, 0,
		    add_item_item, &ic);
		if (rc != 0) {
			xml_free(reply);
			send_free(pubsub_iq_error_reply(iq, rc));
			return;
		}
	}
	send_free(reply);
}

/* A <pubsub/> request: the reply, then the last item a subscription
 * sends (§6.1.7 after §6.1.2). */
static void
pubsub_request(const struct xml_node *iq, const char *from,
    const struct xml_node *el, int is_set)
{
	struct xml_node *reply, *payload = NULL;
	int rc;

	if (is_set && strcmp(el->ns, NS_PUBSUB) == 0 &&
	    xml_child(el, "create", NS_PUBSUB) != NULL && !may_create(from)) {
		send_free(pubsub_iq_error_reply(iq, PUBSUB_ERR_FORBIDDEN));
		return;
	}
	pubsub_hold_last();
	rc = pubsub_iq_handle(domain(), from, is_set, el, 0, &payload);
	if (rc == 0) {
		reply = stanza_result(iq);
		if (payload != NULL) {
			xml_copy_into(reply, payload);
			xml_free(payload);
		}
		send_free(reply);
	} else {
		send_free(pubsub_iq_error_reply(iq, rc));
	}
	pubsub_release_last();
}

static void
handle_iq(const struct xml_node *iq, const char *from)
{
	const char *type = xml_attr(iq, "type");
	const struct xml_node *q = xml_child(iq, NULL, NULL);
	int is_get;

	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0)) {
		return;		/* results and errors are not answered */
	}
	if (q == NULL || xml_attr(iq, "id") == NULL) {
		send_error(iq, "bad-request");
		return;
	}
	is_get = strcmp(type, "get") == 0;
	if (is_get && strcmp(q->ns, NS_DISCO_INFO) == 0 &&
	    strcmp(q->name, "query") == 0) {
		disco_info(iq, from, xml_attr(q, "node"));
	} else if (is_get && strcmp(q->ns, NS_DISCO_ITEMS) == 0 &&
	    strcmp(q->name, "query") == 0) {
		disco_items(iq, from, xml_attr(q, "node"));
	} else if (strcmp(q->name, "pubsub") == 0 &&
	    (strcmp(q->ns, NS_PUBSUB) == 0 ||
	    strcmp(q->ns, NS_PUBSUB_OWNER) == 0)) {
		pubsub_request(iq, from, q, !is_get);
	} else if (is_get && strcmp(q->ns, NS_PING) == 0) {
		send_free(stanza_result(iq));
	} else {
		send_error(iq, "service-unavailable");
	}
}

/* Every stanza to the domain or a JID at it (route_register_domain). */
static void
handle(const struct xml_node *st)
{
	const char *from = xml_attr(st, "from"), *to = xml_attr(st, "to");
	const char *type = xml_attr(st, "type");

	if (from == NULL || to == NULL || stanza_is_error(st)) {
		return;
	}
	if (strcmp(st->name, "iq") == 0 && strcmp(to, domain()) == 0) {
		handle_iq(st, from);
	} else if (strcmp(st->name, "presence") != 0 &&
	    (type == NULL || strcmp(type, "result") != 0)) {
		/* no JIDs at the service, and no messages to it */
		send_error(st, "service-unavailable");
	}
}

/* See pubsub_service.h. */
int
pubsub_service_init(void)
{
	const struct config *c = config_get();

	if (!c->pubsub) {
		pubsub_set_policy(NULL);
		return 0;
	}
	pubsub_set_policy(&policy);
	if (route_register_domain(domain(), handle, NULL) != 0) {
		return -1;
	}
	log_info("pubsub %s: %zu nodes", domain(),
	    pubsub_node_count(domain()));
	return 0;
}
