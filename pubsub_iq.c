/*
 * pubsub_iq.c - XEP-0060 requests as XML: see pubsub_iq.h.
 *
 * Handled: create (named or instant, with a configure form), publish
 * (with publish-options, §7.1.5), retract (§7.2), items (all, by id,
 * max_items; §6.5), subscribe/unsubscribe (§6.1, §6.2), subscriptions and
 * affiliations (§5.6, §5.7, §8.8, §8.9), and in the #owner namespace
 * configure get/set (§8.2), default (§8.3), delete (§8.4), purge (§8.5)
 * and affiliations get/set (§8.9).  Payloads are kept serialised in the
 * core and parsed back here for item replies.  The forms are laid out as
 * Prosody's (labels, options, order), which clients and Prosody's test
 * suite compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "ns.h"
#include "pubsub.h"
#include "pubsub_iq.h"
#include "stanza.h"
#include "tls.h"
#include "xml.h"

/* One field of the node configuration form (XEP-0060 §16.4.4). */
struct form_field {
	const char *var;
	const char *name;	/* Prosody's name, used in error texts */
	const char *type;
	const char *label;	/* NULL: none */
	const char *const *options; /* value, label pairs; NULL-ended */
};

static const char *const opt_access[] = {
	"authorize", "authorize", "open", "open", "presence", "presence",
	"roster", "roster", "whitelist", "whitelist", NULL,
};
static const char *const opt_publish[] = {
	"publishers", "publishers", "subscribers", "subscribers",
	"open", "open", NULL,
};
static const char *const opt_send_last[] = {
	"never", "never", "on_sub", "on_sub",
	"on_sub_and_presence", "on_sub_and_presence", NULL,
};
static const char *const opt_notification[] = {
	"normal", "Messages of type normal",
	"headline", "Messages of type headline", NULL,
};
static const char *const opt_itemreply[] = {
	"owner", "Include the node owner's JID",
	"publisher", "Include the item publisher's JID",
	"none", "Don't include any JID with items", NULL,
};

static const struct form_field form_fields[] = {
	{ "pubsub#title", "title", "text-single", "Title", NULL },
	{ "pubsub#description", "description", "text-single", "Description",
	    NULL },
	{ "pubsub#type", "payload_type", "text-single", "The type of node "
	    "data, usually specified by the namespace of the payload (if any)",
	    NULL },
	{ "pubsub#max_items", "max_items", "text-single",
	    "Max # of items to persist", NULL },
	{ "pubsub#persist_items", "persist_items", "boolean",
	    "Persist items to storage", NULL },
	{ "pubsub#access_model", "access_model", "list-single",
	    "Specify the subscriber model", opt_access },
	{ "pubsub#roster_groups_allowed", "roster_groups_allowed",
	    "list-multi", "Roster groups allowed to subscribe", NULL },
	{ "pubsub#publish_model", "publish_model", "list-single",
	    "Specify the publisher model", opt_publish },
	{ "pubsub#send_last_published_item", "send_last_published_item",
	    "list-single", NULL, opt_send_last },
	{ "pubsub#deliver_notifications", "notify_items", "boolean",
	    "Whether to deliver event notifications", NULL },
	{ "pubsub#deliver_payloads", "include_payload", "boolean",
	    "Whether to deliver payloads with event notifications", NULL },
	{ "pubsub#notification_type", "notification_type", "list-single",
	    "Specify the delivery style for notifications", opt_notification },
	{ "pubsub#notify_delete", "notify_delete", "boolean",
	    "Whether to notify subscribers when the node is deleted", NULL },
	{ "pubsub#notify_retract", "notify_retract", "boolean",
	    "Whether to notify subscribers when items are removed from the "
	    "node", NULL },
	{ "pubsub#itemreply", "itemreply", "list-single",
	    "Specify whose JID to include as the publisher of items",
	    opt_itemreply },
};
#define NFORM_FIELDS	(sizeof(form_fields) / sizeof(form_fields[0]))

/* Apply a submitted data form's fields to c (§8.2.4); FORM_TYPE ignored. */
static int
form_apply(const struct xml_node *x, struct pubsub_config *c)
{
	const struct xml_node *f;
	const struct xml_node *v;
	const char *var;
	int rc;

	for (f = xml_child(x, "field", NS_DATA); f != NULL;
	    f = xml_next(f, "field", NS_DATA)) {
		if ((var = xml_attr(f, "var")) == NULL) {
			continue;
		}
		v = xml_child(f, "value", NS_DATA);
		rc = pubsub_config_set(c, var, v ? xml_text(v) : "");
		if (rc != 0) {
			return rc;
		}
	}
	return PUBSUB_OK;
}

/* The configuration as a form of type 'form' (§8.2.1) under parent. */
static void
form_add(struct xml_node *parent, const struct pubsub_config *c)
{
	const struct form_field *ff;
	const char *const *o;
	struct xml_node *x, *f, *opt, *v;
	char val[PUBSUB_MAX_TITLE_BYTES + 1], num[16];
	size_t i;

	x = xml_add(parent, "x", NS_DATA);
	xml_set_attr(x, "type", "form");
	f = xml_add(x, "field", NS_DATA);
	xml_set_attr(f, "var", "FORM_TYPE");
	xml_set_attr(f, "type", "hidden");
	xml_add_text_child(f, "value", NS_DATA, NS_PUBSUB_NODE_CONFIG);
	for (i = 0; i < NFORM_FIELDS; i++) {
		ff = &form_fields[i];
		f = xml_add(x, "field", NS_DATA);
		xml_set_attr(f, "var", ff->var);
		if (ff->label != NULL) {
			xml_set_attr(f, "label", ff->label);
		}
		xml_set_attr(f, "type", ff->type);
		if (strcmp(ff->var, "pubsub#max_items") == 0) {
			/* XEP-0122 §5: an integer, or "max" (§16.4.4) */
			v = xml_add(f, "validate", NS_XDATA_VALIDATE);
			xml_set_attr(v, "datatype", "pubsub:integer-or-max");
			v = xml_add(v, "range", NULL);
			xml_set_attr(v, "min", "1");
			snprintf(num, sizeof(num), "%d", pubsub_max_items());
			xml_set_attr(v, "max", num);
		}
		for (o = ff->options; o != NULL && *o != NULL; o += 2) {
			opt = xml_add(f, "option", NS_DATA);
			xml_set_attr(opt, "label", o[1]);
			xml_add_text_child(opt, "value", NS_DATA, o[0]);
		}
		if (pubsub_config_get(c, ff->var, val, sizeof(val)) == 0 &&
		    *val != '\0') {
			xml_add_text_child(f, "value", NS_DATA, val);
		}
	}
}

/* The var's Prosody name ("access_model"), for error texts. */
static const char *
field_name(const char *var)
{
	size_t i;

	for (i = 0; i < NFORM_FIELDS; i++) {
		if (strcmp(form_fields[i].var, var) == 0) {
			return form_fields[i].name;
		}
	}
	return var;
}

/* Submitted form child x of el, or NULL. */
static const struct xml_node *
form_of(const struct xml_node *el)
{
	return el == NULL ? NULL : xml_child(el, "x", NS_DATA);
}

static int
do_create(const char *svc, const char *req, const struct xml_node *ps,
    const struct xml_node *create, struct xml_node **reply)
{
	struct pubsub_config c;
	const struct xml_node *x = form_of(xml_child(ps, "configure", NS_PUBSUB));
	const char *node = xml_attr(create, "node");
	unsigned char rnd[8];
	char gen[2 * sizeof(rnd) + 1];
	struct xml_node *r;
	size_t i;
	int rc, tries;

	pubsub_config_default_for(svc, &c);
	if (x != NULL && (rc = form_apply(x, &c)) != 0) {
		return rc;
	}
	if (node != NULL) {
		return pubsub_create(svc, node, req, &c);
	}
	/* An instant node (§8.1.2): the service names it. */
	for (tries = 0; tries < 4; tries++) {
		if (tls_random(rnd, sizeof(rnd)) != 0) {
			return PUBSUB_ERR_STORE;
		}
		for (i = 0; i < sizeof(rnd); i++) {
			snprintf(gen + 2 * i, 3, "%02x", rnd[i]);
		}
		if ((rc = pubsub_create(svc, gen, req, &c)) !=
		    PUBSUB_ERR_CONFLICT) {
			break;
		}
	}
	if (rc != PUBSUB_OK) {
		return rc;
	}
	r = xml_new("pubsub", NS_PUBSUB);
	xml_set_attr(xml_add(r, "create", NULL), "node", gen);
	*reply = r;
	return PUBSUB_OK;
}

#define PRECOND_MAX	16

static int
do_publish(const char *svc, const char *req, const struct xml_node *ps,
    const struct xml_node *pub, int autocreate, struct xml_node **reply)
{
	struct pubsub_precond pre[PRECOND_MAX];
	const struct xml_node *item, *payload, *x, *f, *v;
	const char *node = xml_attr(pub, "node");
	char id[PUBSUB_ID_BYTES];
	struct buf b;
	size_t npre = 0;
	struct xml_node *p, *r;
	int rc;

	if (node == NULL) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	item = xml_child(pub, "item", NS_PUBSUB);
	if (item != NULL && xml_next(item, "item", NS_PUBSUB) != NULL) {
		return PUBSUB_ERR_BAD_REQUEST_XML;	/* one item per publish */
	}
	x = form_of(xml_child(ps, "publish-options", NS_PUBSUB));
	for (f = x ? xml_child(x, "field", NS_DATA) : NULL; f != NULL;
	    f = xml_next(f, "field", NS_DATA)) {
		if (xml_attr(f, "var") == NULL) {
			continue;
		}
		if (npre == PRECOND_MAX) {
			return PUBSUB_ERR_PRECONDITION;
		}
		v = xml_child(f, "value", NS_DATA);
		pre[npre].var = xml_attr(f, "var");
		pre[npre].value = v ? xml_text(v) : "";
		npre++;
	}
	buf_init(&b, config_get()->pubsub_max_payload_bytes + 1);
	payload = item ? xml_child(item, NULL, NULL) : NULL;
	if (payload != NULL) {
		xml_serialize(payload, "", &b);
	}
	if (b.err) {
		buf_free(&b);
		return PUBSUB_ERR_PAYLOAD_TOO_BIG;
	}
	rc = pubsub_publish(svc, node, req, item ? xml_attr(item, "id") : NULL,
	    b.len ? b.data : "", pre, npre, autocreate, id);
	buf_free(&b);
	if (rc != 0) {
		return rc;
	}
	r = xml_new("pubsub", NS_PUBSUB);
	p = xml_add(r, "publish", NULL);
	xml_set_attr(p, "node", node);
	xml_set_attr(xml_add(p, "item", NULL), "id", id);
	*reply = r;
	return PUBSUB_OK;
}

struct items_ctx {
	struct xml_node *items;
	int	bad;
};

static void
add_item(void *ud, const char *id, const char *publisher,
    const char *payload)
{
	struct items_ctx *ic = ud;
	struct xml_node *it = xml_add(ic->items, "item", NULL), *frag, *c;
	int err;

	xml_set_attr(it, "id", id);
	if (publisher != NULL) {
		xml_set_attr(it, "publisher", publisher);
	}
	if (*payload == '\0') {
		return;
	}
	frag = xml_parse_fragment(payload, strlen(payload), NULL, &err);
	if (frag == NULL) {
		ic->bad = 1;
		return;
	}
	for (c = xml_child(frag, NULL, NULL); c != NULL;
	    c = xml_next(c, NULL, NULL)) {
		xml_copy_into(it, c);
	}
	xml_free(frag);
}

static int
do_items(const char *svc, const char *req, const struct xml_node *el,
    struct xml_node **reply)
{
	struct items_ctx ic = { NULL, 0 };
	const struct xml_node *want;
	const char *node = xml_attr(el, "node"), *m = xml_attr(el, "max_items");
	struct xml_node *r;
	char *end;
	unsigned long max = 0;
	int rc = PUBSUB_OK;

	if (node == NULL) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if (m != NULL) {
		max = strtoul(m, &end, 10);
		if (*m == '\0' || *end != '\0' || max == 0) {
			return PUBSUB_ERR_BAD_REQUEST_XML;
		}
	}
	r = xml_new("pubsub", NS_PUBSUB);
	ic.items = xml_add(r, "items", NULL);
	xml_set_attr(ic.items, "node", node);
	want = xml_child(el, "item", NS_PUBSUB);
	if (want == NULL) {
		rc = pubsub_items(svc, node, req, NULL, max, add_item, &ic);
	}
	/* §6.5.8: several ids; all must exist. */
	for (; want != NULL && rc == PUBSUB_OK;
	    want = xml_next(want, "item", NS_PUBSUB)) {
		if (xml_attr(want, "id") == NULL) {
			rc = PUBSUB_ERR_BAD_REQUEST_XML;
			break;
		}
		rc = pubsub_items(svc, node, req, xml_attr(want, "id"), 0,
		    add_item, &ic);
	}
	if (rc == PUBSUB_OK && ic.bad) {
		rc = PUBSUB_ERR_STORE;
	}
	if (rc != PUBSUB_OK) {
		xml_free(r);
		return rc;
	}
	*reply = r;
	return PUBSUB_OK;
}

static void
add_sub(void *ud, const char *node, const char *jid)
{
	struct xml_node *s = xml_add(ud, "subscription", NULL);

	xml_set_attr(s, "node", node);
	xml_set_attr(s, "jid", jid);
	xml_set_attr(s, "subscription", "subscribed");
}

static void
add_aff(void *ud, const char *node, const char *jid, const char *aff)
{
	struct xml_node *a = xml_add(ud, "affiliation", NULL);

	/* The owner's list of one node names jids (§8.9.1.2), the
	 * entity's own list names nodes (§5.7.2). */
	if (strcmp(((struct xml_node *)ud)->ns, NS_PUBSUB_OWNER) == 0) {
		xml_set_attr(a, "jid", jid);
	} else {
		xml_set_attr(a, "node", node);
	}
	xml_set_attr(a, "affiliation", aff);
}

static int
do_list(const char *svc, const char *req, const struct xml_node *el,
    const char *ns, int subs, struct xml_node **reply)
{
	struct xml_node *r = xml_new("pubsub", ns), *l;
	int owner = strcmp(ns, NS_PUBSUB_OWNER) == 0, rc;

	l = xml_add(r, subs ? "subscriptions" : "affiliations", NULL);
	if (xml_attr(el, "node") != NULL) {
		xml_set_attr(l, "node", xml_attr(el, "node"));
	} else if (owner) {
		xml_free(r);
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if (subs) {
		rc = pubsub_subscriptions(svc, xml_attr(el, "node"), req, owner,
		    add_sub, l);
	} else {
		rc = pubsub_affiliations(svc, xml_attr(el, "node"), req, owner,
		    add_aff, l);
	}
	if (rc != 0) {
		xml_free(r);
		return rc;
	}
	*reply = r;
	return PUBSUB_OK;
}

/* §6.1.2 and §6.2: subscribe or unsubscribe; the reply names the
 * subscription, "subscribed" or now "none" (as Prosody). */
static int
do_subscription(const char *svc, const char *req, const struct xml_node *el,
    int subscribe, struct xml_node **reply)
{
	const char *node = xml_attr(el, "node"), *jid = xml_attr(el, "jid");
	struct xml_node *r, *s;
	int rc;

	if (node == NULL) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if (jid == NULL) {
		return PUBSUB_ERR_INVALID_JID;
	}
	rc = subscribe ? pubsub_subscribe(svc, node, req, jid) :
	    pubsub_unsubscribe(svc, node, req, jid);
	if (rc != 0) {
		return rc;
	}
	r = xml_new("pubsub", NS_PUBSUB);
	s = xml_add(r, "subscription", NULL);
	xml_set_attr(s, "node", node);
	xml_set_attr(s, "jid", jid);
	xml_set_attr(s, "subscription", subscribe ? "subscribed" : "none");
	*reply = r;
	return PUBSUB_OK;
}

/* §8.9.2: every <affiliation/> applied in turn; the first error stops. */
static int
set_affiliations(const char *svc, const char *req, const struct xml_node *el)
{
	const struct xml_node *a;
	const char *node = xml_attr(el, "node");
	int rc;

	if (node == NULL) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	for (a = xml_child(el, "affiliation", NS_PUBSUB_OWNER); a != NULL;
	    a = xml_next(a, "affiliation", NS_PUBSUB_OWNER)) {
		rc = pubsub_set_affiliation(svc, node, req,
		    xml_attr(a, "jid"), xml_attr(a, "affiliation"));
		if (rc != PUBSUB_OK) {
			return rc;
		}
	}
	return PUBSUB_OK;
}

static int
handle_user(const char *svc, const char *req, int is_set,
    const struct xml_node *ps, int autocreate, struct xml_node **reply)
{
	const struct xml_node *op;
	const char *notify;

	if ((op = xml_child(ps, "create", NS_PUBSUB)) != NULL && is_set) {
		return do_create(svc, req, ps, op, reply);
	}
	if ((op = xml_child(ps, "publish", NS_PUBSUB)) != NULL && is_set) {
		return do_publish(svc, req, ps, op, autocreate, reply);
	}
	if ((op = xml_child(ps, "retract", NS_PUBSUB)) != NULL && is_set) {
		const struct xml_node *it = xml_child(op, "item", NS_PUBSUB);

		if (xml_attr(op, "node") == NULL) {
			return PUBSUB_ERR_NODEID_REQUIRED;
		}
		notify = xml_attr(op, "notify");
		return pubsub_retract(svc, xml_attr(op, "node"), req,
		    it ? xml_attr(it, "id") : NULL, notify != NULL &&
		    (strcmp(notify, "1") == 0 || strcmp(notify, "true") == 0));
	}
	if ((op = xml_child(ps, "subscribe", NS_PUBSUB)) != NULL && is_set) {
		return do_subscription(svc, req, op, 1, reply);
	}
	if ((op = xml_child(ps, "unsubscribe", NS_PUBSUB)) != NULL && is_set) {
		return do_subscription(svc, req, op, 0, reply);
	}
	if ((op = xml_child(ps, "items", NS_PUBSUB)) != NULL && !is_set) {
		return do_items(svc, req, op, reply);
	}
	if ((op = xml_child(ps, "subscriptions", NS_PUBSUB)) != NULL &&
	    !is_set) {
		return do_list(svc, req, op, NS_PUBSUB, 1, reply);
	}
	if ((op = xml_child(ps, "affiliations", NS_PUBSUB)) != NULL &&
	    !is_set) {
		return do_list(svc, req, op, NS_PUBSUB, 0, reply);
	}
	return PUBSUB_ERR_FEATURE;
}

static int
handle_owner(const char *svc, const char *req, int is_set,
    const struct xml_node *ps, struct xml_node **reply)
{
	struct pubsub_config c;
	const struct xml_node *op, *x;
	struct xml_node *r, *cf;
	const char *node;
	int rc;

	if ((op = xml_child(ps, "configure", NS_PUBSUB_OWNER)) != NULL) {
		if ((node = xml_attr(op, "node")) == NULL) {
			return PUBSUB_ERR_NODEID_REQUIRED;
		}
		if ((rc = pubsub_get_config(svc, node, req, &c)) != 0) {
			return rc;
		}
		if (is_set) {
			if ((x = form_of(op)) == NULL) {
				return PUBSUB_ERR_BAD_REQUEST_XML;
			}
			/* §8.2.4: fields not in the form keep their values */
			if (strcmp(xml_attr(x, "type") ? xml_attr(x, "type") :
			    "", "cancel") == 0) {
				return PUBSUB_OK;
			}
			if ((rc = form_apply(x, &c)) != 0) {
				return rc;
			}
			return pubsub_configure(svc, node, req, &c);
		}
		r = xml_new("pubsub", NS_PUBSUB_OWNER);
		cf = xml_add(r, "configure", NULL);
		xml_set_attr(cf, "node", node);
		form_add(cf, &c);
		*reply = r;
		return PUBSUB_OK;
	}
	if ((op = xml_child(ps, "delete", NS_PUBSUB_OWNER)) != NULL && is_set) {
		if (xml_attr(op, "node") == NULL) {
			return PUBSUB_ERR_NODEID_REQUIRED;
		}
		return pubsub_delete(svc, xml_attr(op, "node"), req);
	}
	if ((op = xml_child(ps, "purge", NS_PUBSUB_OWNER)) != NULL && is_set) {
		if (xml_attr(op, "node") == NULL) {
			return PUBSUB_ERR_NODEID_REQUIRED;
		}
		return pubsub_purge(svc, xml_attr(op, "node"), req);
	}
	if ((op = xml_child(ps, "subscriptions", NS_PUBSUB_OWNER)) != NULL &&
	    !is_set) {
		return do_list(svc, req, op, NS_PUBSUB_OWNER, 1, reply);
	}
	if ((op = xml_child(ps, "affiliations", NS_PUBSUB_OWNER)) != NULL) {
		if (is_set) {
			return set_affiliations(svc, req, op);
		}
		return do_list(svc, req, op, NS_PUBSUB_OWNER, 0, reply);
	}
	if ((op = xml_child(ps, "default", NS_PUBSUB_OWNER)) != NULL &&
	    !is_set) {
		/* §8.3: the default configuration of a new node */
		pubsub_config_default_for(svc, &c);
		r = xml_new("pubsub", NS_PUBSUB_OWNER);
		form_add(xml_add(r, "default", NULL), &c);
		*reply = r;
		return PUBSUB_OK;
	}
	return PUBSUB_ERR_FEATURE;
}

int
pubsub_iq_handle(const char *service, const char *requester, int is_set,
    const struct xml_node *el, int autocreate, struct xml_node **reply)
{
	*reply = NULL;
	if (el == NULL || strcmp(el->name, "pubsub") != 0) {
		return PUBSUB_ERR_BAD_REQUEST_XML;
	}
	if (strcmp(el->ns, NS_PUBSUB) == 0) {
		return handle_user(service, requester, is_set, el, autocreate,
		    reply);
	}
	if (strcmp(el->ns, NS_PUBSUB_OWNER) == 0) {
		return handle_owner(service, requester, is_set, el, reply);
	}
	return PUBSUB_ERR_BAD_REQUEST_XML;
}

void
pubsub_iq_error(struct xml_node *parent, int err)
{
	struct xml_node *e = xml_add(parent, "error", NULL);
	const char *child = pubsub_err_child((enum pubsub_err)err);
	char text[128];

	xml_set_attr(e, "type", pubsub_err_type((enum pubsub_err)err));
	xml_add(e, pubsub_err_condition((enum pubsub_err)err), NS_STANZAS);
	if (err == PUBSUB_ERR_PRECONDITION && *pubsub_precondition_var()) {
		snprintf(text, sizeof(text), "Field does not match: %s",
		    field_name(pubsub_precondition_var()));
		xml_add_text_child(e, "text", NS_STANZAS, text);
	}
	if (child != NULL) {
		xml_add(e, child, NS_PUBSUB_ERRORS);
	}
}

/* See pubsub_iq.h. */
struct xml_node *
pubsub_iq_error_reply(const struct xml_node *iq, int err)
{
	struct xml_node *reply = stanza_result(iq);

	xml_set_attr(reply, "type", "error");
	pubsub_iq_error(reply, err);
	return reply;
}
