/*
 * pubsub_iq.c - XEP-0060 requests as XML: see pubsub_iq.h.
 *
 * Handled: create (with a configure form), publish (with publish-options,
 * §7.1.5), retract (§7.2), items (all, by id, max_items; §6.5),
 * subscribe/unsubscribe (§6.1, §6.2), subscriptions and affiliations
 * (§5.6, §5.7, §8.8, §8.9), and in the #owner namespace configure get/set
 * (§8.2), delete (§8.4) and purge (§8.5).  Payloads are kept serialised in
 * the core and parsed back here for item replies.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ns.h"
#include "pubsub.h"
#include "pubsub_iq.h"
#include "xml.h"

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
	struct xml_node *x, *f;
	const char *const *var;
	char val[PUBSUB_MAX_TITLE_BYTES + 1];

	x = xml_add(parent, "x", NS_DATA);
	xml_set_attr(x, "type", "form");
	f = xml_add(x, "field", NS_DATA);
	xml_set_attr(f, "var", "FORM_TYPE");
	xml_set_attr(f, "type", "hidden");
	xml_add_text_child(f, "value", NS_DATA, NS_PUBSUB_NODE_CONFIG);
	for (var = pubsub_config_vars(); *var != NULL; var++) {
		pubsub_config_get(c, *var, val, sizeof(val));
		f = xml_add(x, "field", NS_DATA);
		xml_set_attr(f, "var", *var);
		xml_add_text_child(f, "value", NS_DATA, val);
	}
}

/* Submitted form child x of el, or NULL. */
static const struct xml_node *
form_of(const struct xml_node *el)
{
	return el == NULL ? NULL : xml_child(el, "x", NS_DATA);
}

static int
do_create(const char *svc, const char *req, const struct xml_node *ps,
    const struct xml_node *create)
{
	struct pubsub_config c;
	const struct xml_node *x = form_of(xml_child(ps, "configure", NS_PUBSUB));
	const char *node = xml_attr(create, "node");
	int rc;

	pubsub_config_default(&c);
	if (x != NULL && (rc = form_apply(x, &c)) != 0) {
		return rc;
	}
	if (node == NULL) {
		/* Instant nodes (§8.1.2) are not offered. */
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	return pubsub_create(svc, node, req, &c);
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
	buf_init(&b, PUBSUB_MAX_PAYLOAD_BYTES + 1);
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
add_item(void *ud, const char *id, const char *payload)
{
	struct items_ctx *ic = ud;
	struct xml_node *it = xml_add(ic->items, "item", NULL), *frag, *c;
	int err;

	xml_set_attr(it, "id", id);
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

	xml_set_attr(a, "node", node);
	/* Only the owner's list names the jid (§8.9.1 vs §5.7). */
	if (strcmp(((struct xml_node *)ud)->ns, NS_PUBSUB_OWNER) == 0) {
		xml_set_attr(a, "jid", jid);
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

static int
do_subscribe(const char *svc, const char *req, const struct xml_node *el,
    struct xml_node **reply)
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
	if ((rc = pubsub_subscribe(svc, node, req, jid)) != 0) {
		return rc;
	}
	r = xml_new("pubsub", NS_PUBSUB);
	s = xml_add(r, "subscription", NULL);
	xml_set_attr(s, "node", node);
	xml_set_attr(s, "jid", jid);
	xml_set_attr(s, "subscription", "subscribed");
	*reply = r;
	return PUBSUB_OK;
}

static int
handle_user(const char *svc, const char *req, int is_set,
    const struct xml_node *ps, int autocreate, struct xml_node **reply)
{
	const struct xml_node *op;
	const char *notify;

	if ((op = xml_child(ps, "create", NS_PUBSUB)) != NULL && is_set) {
		return do_create(svc, req, ps, op);
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
		return do_subscribe(svc, req, op, reply);
	}
	if ((op = xml_child(ps, "unsubscribe", NS_PUBSUB)) != NULL && is_set) {
		if (xml_attr(op, "node") == NULL) {
			return PUBSUB_ERR_NODEID_REQUIRED;
		}
		return pubsub_unsubscribe(svc, xml_attr(op, "node"), req,
		    xml_attr(op, "jid") ? xml_attr(op, "jid") : "");
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
	if ((op = xml_child(ps, "affiliations", NS_PUBSUB_OWNER)) != NULL &&
	    !is_set) {
		return do_list(svc, req, op, NS_PUBSUB_OWNER, 0, reply);
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

	xml_set_attr(e, "type", pubsub_err_type((enum pubsub_err)err));
	xml_add(e, pubsub_err_condition((enum pubsub_err)err), NS_STANZAS);
	if (child != NULL) {
		xml_add(e, child, NS_PUBSUB_ERRORS);
	}
}
