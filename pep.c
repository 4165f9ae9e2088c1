/*
 * pep.c - XEP-0163 PEP and the pubsub core's notifications: see pep.h.
 */
#include "pep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "htab.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "pubsub.h"
#include "pubsub_iq.h"
#include "roster.h"
#include "route.h"
#include "stanza.h"
#include "uxlimits.h"

/* Prosody's id for its caps queries; clients answer with it. */
#define PEP_DISCO_ID	"disco"

/* XEP-0060 §6.1.3: presence and roster access, by the owner's roster. */
static int
can_see(void *ud, const char *owner, const char *requester,
    enum pubsub_access model)
{
	char bare[JID_MAX + 1];
	const struct roster_item *it;

	(void)ud;
	if (jid_bare(requester, bare, sizeof(bare)) != 0) {
		return 0;
	}
	if (model == PUBSUB_ACCESS_PRESENCE) {
		return roster_has_from(owner, bare);
	}
	/* roster: any contact in a group; no groups-allowed list yet */
	it = roster_find(owner, bare);
	return it != NULL && it->ngroups > 0;
}

/* The event's <message/>, from the service, type headline (XEP-0060
 * §7.1.2.1 says the service MAY; clients expect it).  Caller frees. */
static struct xml_node *
event_message(const struct pubsub_event *ev)
{
	struct xml_node *frag, *msg = NULL;
	int err = 0;

	frag = xml_parse_fragment(ev->stanza, strlen(ev->stanza),
	    XML_NS_CLIENT, &err);
	if (frag != NULL && xml_child(frag, NULL, NULL) != NULL) {
		msg = xml_clone(xml_child(frag, NULL, NULL));
	} else {
		log_err("pep: cannot parse a notification (%d)", err);
	}
	xml_free(frag);
	if (msg == NULL) {
		return NULL;
	}
	xml_set_attr(msg, "from", ev->service);
	xml_set_attr(msg, "type", "headline");
	return msg;
}

/* ---- who hears a PEP service's events ---- */

/* A resource that sent the account available presence. */
struct pep_recipient {
	char		*full;
	struct caps_entry *caps;	/* its <c/>'s node#ver */
	unsigned	 asked:1;	/* our disco#info is outstanding */
	unsigned	 sha256:1;	/* <c hash='sha-256'/>, else sha-1 */
	unsigned	 hash_known:1;	/* one of the two */
};

/* The recipients of one account's PEP service. */
struct pep_user {
	struct hnode	 node;
	char		*bare;
	struct pep_recipient *r;
	size_t		 n, cap;
};

static struct htab users;

static struct pep_user *
user_find(const char *bare)
{
	struct hnode *n = htab_find(&users, bare, strlen(bare));

	return n ? HTAB_ENTRY(n, struct pep_user, node) : NULL;
}

static struct pep_recipient *
recipient_find(struct pep_user *u, const char *full)
{
	size_t i;

	for (i = 0; u != NULL && i < u->n; i++) {
		if (strcmp(u->r[i].full, full) == 0) {
			return &u->r[i];
		}
	}
	return NULL;
}

static void
user_free(struct pep_user *u)
{
	size_t i;

	htab_del(&users, &u->node);
	for (i = 0; i < u->n; i++) {
		caps_unref(u->r[i].caps);
		free(u->r[i].full);
	}
	free(u->r);
	free(u->bare);
	free(u);
}

static void
recipient_remove(struct pep_user *u, struct pep_recipient *r)
{
	caps_unref(r->caps);
	free(r->full);
	*r = u->r[--u->n];
	if (u->n == 0) {
		user_free(u);
	}
}

/* May the recipient full of owner's service get an event of a node with
 * this access model (XEP-0163 §4.3: contacts with a presence
 * subscription; the owner's own resources always)? */
static int
may_hear(const char *owner, const char *full, enum pubsub_access model)
{
	char bare[JID_MAX + 1];

	if (jid_bare(full, bare, sizeof(bare)) != 0) {
		return 0;
	}
	if (strcmp(bare, owner) == 0) {
		return 1;
	}
	if (!roster_has_from(owner, bare)) {
		return 0;
	}
	switch (model) {
	case PUBSUB_ACCESS_OPEN:
	case PUBSUB_ACCESS_PRESENCE:
		return 1;
	case PUBSUB_ACCESS_ROSTER:
		return can_see(NULL, owner, bare, model);
	case PUBSUB_ACCESS_WHITELIST:
		break;
	}
	return 0;
}

/* Is full already served by an explicit subscription of ev? */
static int
explicitly_subscribed(const struct pubsub_event *ev, const char *full)
{
	size_t i;

	for (i = 0; i < ev->nsubs; i++) {
		if (strcmp(ev->subs[i], full) == 0 ||
		    (jid_resource(ev->subs[i]) == NULL &&
		    jid_bare_eq(ev->subs[i], full))) {
			return 1;
		}
	}
	return 0;
}

static void
on_notify(void *ud, const struct pubsub_event *ev)
{
	struct pep_user *u = NULL;
	struct route_prepared p;
	struct xml_node *msg;
	size_t i, sent = 0;

	(void)ud;
	if (!ev->single && strchr(ev->service, '@') != NULL) {
		u = user_find(ev->service);
	}
	if ((ev->nsubs == 0 && u == NULL) ||
	    (msg = event_message(ev)) == NULL) {
		return;
	}
	for (i = 0; i < ev->nsubs; i++) {
		xml_set_attr(msg, "to", ev->subs[i]);
		route_stanza(msg);
	}
	if (u != NULL) {
		/* serialized once for every contact (STYLE.md §4) */
		xml_set_attr(msg, "to", NULL);
		route_prepare(&p, msg);
		for (i = 0; i < u->n; i++) {
			const struct pep_recipient *r = &u->r[i];

			if (caps_wants(r->caps, ev->node) &&
			    may_hear(ev->service, r->full, ev->access_model) &&
			    !explicitly_subscribed(ev, r->full)) {
				route_prepared_send(&p, r->full);
				sent++;
			}
		}
		log_debug("pep %s event node=%s to %zu of %zu recipients",
		    ev->service, ev->node, sent, u->n);
		route_prepared_free(&p);
	}
	xml_free(msg);
}

/* Told of every event after its delivery (pep_set_observer). */
static void (*observer)(const struct pubsub_event *ev);
/* Told of each new recipient (pep_set_newcomer). */
static void (*newcomer)(const char *service, const char *full);

static void
on_event(void *ud, const struct pubsub_event *ev)
{
	on_notify(ud, ev);
	if (observer != NULL) {
		observer(ev);
	}
}

static const struct pubsub_hooks hooks = { can_see, on_event, NULL };

/* See pep.h. */
int
pep_init(void)
{
	return pubsub_init(&hooks);
}

/* See pep.h. */
void
pep_shutdown(void)
{
	struct hnode *n, *next;
	size_t pos;

	for (n = htab_first(&users, &pos); n; n = next) {
		next = htab_next(&users, n, &pos);
		user_free(HTAB_ENTRY(n, struct pep_user, node));
	}
	htab_clear(&users);
	caps_clear();
	pubsub_shutdown();
}

/* See pep.h. */
int
pep_account_iq(const struct xml_node *iq, const char *bare)
{
	const struct xml_node *el = xml_child(iq, NULL, NULL);
	const char *type = xml_attr(iq, "type");
	const char *from = xml_attr(iq, "from");
	struct xml_node *reply, *payload = NULL;
	int rc;

	if (el == NULL || strcmp(el->name, "pubsub") != 0 ||
	    (strcmp(el->ns, NS_PUBSUB) != 0 &&
	    strcmp(el->ns, NS_PUBSUB_OWNER) != 0) || type == NULL) {
		return 0;
	}
	/* the subscribe result before the last item (§6.1.7 follows §6.1.2) */
	pubsub_hold_last();
	rc = pubsub_iq_handle(bare, from != NULL ? from : bare,
	    strcmp(type, "set") == 0, el, 1, &payload);
	if (rc == 0) {
		reply = stanza_result(iq);
		if (payload != NULL) {
			xml_copy_into(reply, payload);
			xml_free(payload);
		}
	} else {
		reply = pubsub_iq_error_reply(iq, rc);
	}
	route_stanza(reply);
	xml_free(reply);
	pubsub_release_last();
	return 1;
}

/* ---- learning the recipients ---- */

struct last_ctx {
	const char	*service;
	const struct pep_recipient *r;
};

static void
send_last_cb(void *ud, const char *node)
{
	const struct last_ctx *c = ud;

	if (caps_wants(c->r->caps, node)) {
		pubsub_send_last(c->service, node, c->r->full);
	}
}

/* XEP-0163 §4.3.2: a new recipient gets the last item of each node it
 * wants notifications of. */
static void
send_last_items(const char *service, const struct pep_recipient *r)
{
	struct last_ctx c = { service, r };

	pubsub_nodes(service, send_last_cb, &c);
	if (newcomer != NULL) {
		newcomer(service, r->full);
	}
}

/* XEP-0115 §6.3: ask full what node#ver means, from the account's JID. */
static void
ask_caps(const char *bare, const char *full, const char *key)
{
	struct xml_node *iq = xml_new("iq", XML_NS_CLIENT);
	struct xml_node *q;

	xml_set_attr(iq, "type", "get");
	xml_set_attr(iq, "id", PEP_DISCO_ID);
	xml_set_attr(iq, "from", bare);
	xml_set_attr(iq, "to", full);
	q = xml_add(iq, "query", NS_DISCO_INFO);
	xml_set_attr(q, "node", key);
	route_stanza(iq);
	xml_free(iq);
}

/* The <c/> of pres as "node#ver" into key; 0, or -1 when it has none. */
static int
caps_of(const struct xml_node *pres, char *key, size_t cap)
{
	const struct xml_node *c = xml_child(pres, "c", NS_CAPS);
	const char *node, *ver;
	int n;

	if (c == NULL || (node = xml_attr(c, "node")) == NULL ||
	    (ver = xml_attr(c, "ver")) == NULL || xml_attr(c, "hash") == NULL) {
		return -1;
	}
	n = snprintf(key, cap, "%s#%s", node, ver);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* See pep.h. */
void
pep_presence(const char *bare, const struct xml_node *pres)
{
	const char *from = xml_attr(pres, "from");
	const char *type = xml_attr(pres, "type");
	char from_bare[JID_MAX + 1], key[PEP_MAX_CAPS_KEY];
	struct pep_user *u = user_find(bare);
	struct pep_recipient *r;
	struct caps_entry *e = NULL;
	const char *hash;

	if (from == NULL || jid_resource(from) == NULL ||
	    jid_bare(from, from_bare, sizeof(from_bare)) != 0) {
		return;
	}
	r = recipient_find(u, from);
	if (type != NULL) {
		if (r != NULL && (strcmp(type, "unavailable") == 0 ||
		    strcmp(type, "error") == 0)) {
			recipient_remove(u, r);
		}
		return;
	}
	/* XEP-0163 §4.3: the owner, or a contact it lets see its presence */
	if (strcmp(from_bare, bare) != 0 && !roster_has_from(bare, from_bare)) {
		return;
	}
	if (caps_of(pres, key, sizeof(key)) != 0) {
		/* no caps, no +notify: not worth the memory of a recipient */
		if (r != NULL) {
			recipient_remove(u, r);
		}
		return;
	}
	if (r != NULL && strcmp(caps_key(r->caps), key) == 0) {
		return;		/* nothing new */
	}
	if ((e = caps_ref(key)) == NULL) {
		return;		/* the cache is full of vers in use */
	}
	if (r == NULL) {
		if (u == NULL) {
			u = xcalloc(1, sizeof(*u));
			u->bare = xstrdup(bare);
			htab_add(&users, &u->node, u->bare);
		}
		if (u->n == PEP_MAX_RECIPIENTS) {
			caps_unref(e);
			return;
		}
		if (u->n == u->cap) {
			u->cap = u->cap ? u->cap * 2 : 4;
			u->r = xrealloc(u->r, u->cap * sizeof(u->r[0]));
		}
		r = &u->r[u->n++];
		r->full = xstrdup(from);
		r->caps = NULL;
		r->asked = 0;
	}
	caps_unref(r->caps);
	r->caps = e;
	r->asked = 0;
	hash = xml_attr(xml_child(pres, "c", NS_CAPS), "hash");
	r->sha256 = strcmp(hash, "sha-256") == 0;
	r->hash_known = r->sha256 || strcmp(hash, "sha-1") == 0;
	log_debug("pep %s recipient %s caps %s", bare, from,
	    caps_known(e) ? "known" : "asked");
	if (caps_known(e)) {
		send_last_items(bare, r);
	} else {
		r->asked = 1;
		ask_caps(bare, from, key);
	}
}

/* The hash algorithm r's <c/> named, or NULL for one we don't know (its
 * answer cannot be verified, so it is never cached). */
static const char *
caps_alg_of(const struct pep_recipient *r)
{
	if (!r->hash_known) {
		return NULL;
	}
	return r->sha256 ? "sha-256" : "sha-1";
}

/* See pep.h. */
void
pep_account_iq_response(const struct xml_node *iq, const char *bare)
{
	const char *from = xml_attr(iq, "from");
	const char *id = xml_attr(iq, "id");
	const char *type = xml_attr(iq, "type");
	struct pep_user *u = user_find(bare);
	struct pep_recipient *r;
	const struct xml_node *q;
	const char *node;
	struct caps_entry *learned;

	if (from == NULL || id == NULL || strcmp(id, PEP_DISCO_ID) != 0 ||
	    (r = recipient_find(u, from)) == NULL || r->caps == NULL ||
	    !r->asked) {
		return;
	}
	q = xml_child(iq, "query", NS_DISCO_INFO);
	if (strcmp(type, "error") == 0) {
		r->asked = 0;	/* it will not tell: no +notify */
		return;
	}
	if (q == NULL || (node = xml_attr(q, "node")) == NULL ||
	    strcmp(node, caps_key(r->caps)) != 0) {
		return;		/* the answer for an older ver */
	}
	r->asked = 0;
	learned = caps_answer(r->caps, caps_alg_of(r), q);
	log_debug("pep %s caps of %s %s", bare, from,
	    learned == r->caps ? "verified" : "not verified: kept for it alone");
	caps_unref(r->caps);
	r->caps = learned;
	send_last_items(bare, r);
}

/* What PEP does of XEP-0060, as disco#info features (§10).  Converse.js
 * asks for config-node-max before it publishes max_items "max" (else 9999,
 * over pubsub_max_items). */
static const char *const pep_features[] = {
	"access-presence", "access-open", "access-roster",
	"access-whitelist", "auto-create", "config-node", "config-node-max",
	"create-nodes", "delete-items", "delete-nodes", "filtered-notifications",
	"item-ids", "last-published", "persistent-items", "publish",
	"publish-options", "purge-nodes", "retract-items", "retrieve-items",
	"retrieve-affiliations", "retrieve-subscriptions", "subscribe",
	NULL
};

/* See pep.h. */
void
pep_disco_info(struct xml_node *query)
{
	const char *const *f;
	struct xml_node *id = xml_add(query, "identity", NULL);
	char var[128];

	xml_set_attr(id, "category", "pubsub");
	xml_set_attr(id, "type", "pep");
	xml_set_attr(xml_add(query, "feature", NULL), "var", NS_PUBSUB);
	for (f = pep_features; *f != NULL; f++) {
		snprintf(var, sizeof(var), NS_PUBSUB "#%s", *f);
		xml_set_attr(xml_add(query, "feature", NULL), "var", var);
	}
}

struct items_ctx {
	struct xml_node	*query;
	const char	*bare, *requester;
};

static void
disco_node_cb(void *ud, const char *node)
{
	const struct items_ctx *c = ud;
	struct pubsub_config cfg;
	struct xml_node *item;

	/* the access check of an items request; named by its title
	 * (XEP-0060 §5.2, as Prosody) */
	if (pubsub_node_meta(c->bare, node, c->requester, &cfg) !=
	    PUBSUB_OK) {
		return;
	}
	item = xml_add(c->query, "item", NULL);
	xml_set_attr(item, "jid", c->bare);
	xml_set_attr(item, "node", node);
	if (cfg.title[0] != '\0') {
		xml_set_attr(item, "name", cfg.title);
	}
}

/* See pep.h. */
void
pep_disco_items(struct xml_node *query, const char *bare,
    const char *requester)
{
	struct items_ctx c = { query, bare, requester };

	pubsub_nodes(bare, disco_node_cb, &c);
}

/* See pep.h. */
void
pep_account_removed(const char *bare)
{
	struct pep_user *u = user_find(bare);

	if (u != NULL) {
		user_free(u);
	}
	pubsub_remove_service(bare);
}

/* See pep.h. */
void
pep_set_observer(void (*fn)(const struct pubsub_event *ev))
{
	observer = fn;
}

/* See pep.h. */
void
pep_notify(const struct pubsub_event *ev)
{
	on_notify(NULL, ev);
}

/* See pep.h. */
void
pep_set_newcomer(void (*fn)(const char *service, const char *full))
{
	newcomer = fn;
}

/* See pep.h. */
int
pep_recipient_wants(const char *service, const char *full,
    const char *node)
{
	const struct pep_recipient *r = recipient_find(user_find(service),
	    full);

	return r != NULL && caps_wants(r->caps, node);
}
