/*
 * pubsub.c - the XEP-0060 core: see pubsub.h.
 *
 * State: a list of nodes, each naming its service, and a hash table of
 * them by "SERVICE NODE"; items as an array,
 * oldest first; subscribers as an array of JIDs; affiliations other than
 * the creator's as an array.  Store records:
 *   ps-node "SERVICE NODE"      -> "OWNER\tmax\tpersist\taccess\tpublish\t
 *                                   notify_retract\titemreply\tsend_last\t
 *                                   deliver_payloads\tTITLE\t
 *                                   deliver_notifications\tnotify_delete\t
 *                                   DESCRIPTION\tTYPE"  (older records end
 *                                   at TITLE: the rest is the defaults)
 *   ps-item "SERVICE NODE SEQ"  -> "ID\tPUBLISHER\tPAYLOAD"  (SEQ: 16 hex
 *                                   digits, so the store's sorted keys give
 *                                   publish order; older records are
 *                                   "ID\tPAYLOAD", told apart because a
 *                                   payload is empty or starts with '<' and
 *                                   a JID never does)
 *   ps-sub  "SERVICE NODE JID"  -> "subscribed"
 *   ps-aff  "SERVICE NODE JID"  -> "owner" | "publisher" | "member" |
 *                                   "outcast"
 * Node names and item ids may not hold spaces, tabs or control bytes, so
 * the keys split unambiguously.  A failed store write fails the operation
 * (PUBSUB_ERR_STORE) before memory changes where it can.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "htab.h"
#include "ns.h"
#include "pubsub.h"
#include "pubsub_internal.h"
#include "store.h"
#include "xml.h"

struct ps_item {
	char	*id;
	char	*publisher;		/* bare JID, "" if unknown */
	char	*payload;		/* serialised element or "" */
	unsigned long long seq;		/* publish order */
};

enum ps_aff {
	PS_AFF_OWNER,
	PS_AFF_PUBLISHER,
	PS_AFF_MEMBER,
	PS_AFF_OUTCAST,
	PS_AFF_NONE,
};

struct ps_affil {
	char	*jid;			/* bare */
	enum ps_aff aff;
};

struct ps_node {
	struct ps_node *next;
	struct ps_node **pprev;		/* the pointer to this node */
	struct hnode hn;		/* in by_key under key */
	char	*key;			/* "SERVICE NODE" */
	char	*service;
	char	*name;
	char	*owner;
	struct pubsub_config cfg;
	struct ps_item *items;		/* oldest first */
	size_t	nitems;
	char	**subs;
	size_t	nsubs;
	struct ps_affil *affs;
	size_t	naffs;
};

static struct ps_node *nodes;
static struct htab by_key;
static struct pubsub_hooks hooks;
static struct pubsub_policy policy;
static unsigned long long next_seq = 1;
static char precond_var[64];
/* pubsub_hold_last(): the one last-item send that waits. */
static int hold_on;
static char *held_service, *held_node, *held_jid;

static const char *const aff_names[] = {
	"owner", "publisher", "member", "outcast", "none",
};

static size_t
max_nodes(const char *service)
{
	const struct config *c = config_get();

	return pubsub_is_pep(service) ? c->pep_max_nodes : c->pubsub_max_nodes;
}

const char *
pubsub_err_condition(enum pubsub_err e)
{
	switch (e) {
	case PUBSUB_OK:				return NULL;
	case PUBSUB_ERR_ITEM_NOT_FOUND:		return "item-not-found";
	case PUBSUB_ERR_FORBIDDEN:		return "forbidden";
	case PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE:
	case PUBSUB_ERR_NOT_AUTHORIZED_ROSTER:	return "not-authorized";
	case PUBSUB_ERR_NOT_ALLOWED_WHITELIST:	return "not-allowed";
	case PUBSUB_ERR_CONFLICT:
	case PUBSUB_ERR_PRECONDITION:		return "conflict";
	case PUBSUB_ERR_PAYLOAD_TOO_BIG:
	case PUBSUB_ERR_BAD_CONFIG:		return "not-acceptable";
	case PUBSUB_ERR_MAX_NODES:		return "policy-violation";
	case PUBSUB_ERR_NODEID_REQUIRED:
	case PUBSUB_ERR_ITEM_REQUIRED:
	case PUBSUB_ERR_INVALID_JID:
	case PUBSUB_ERR_BAD_REQUEST_XML:	return "bad-request";
	case PUBSUB_ERR_FEATURE:		return "feature-not-implemented";
	case PUBSUB_ERR_NOT_SUBSCRIBED:		return "unexpected-request";
	case PUBSUB_ERR_STORE:			return "resource-constraint";
	}
	return "internal-server-error";
}

const char *
pubsub_err_child(enum pubsub_err e)
{
	switch (e) {
	case PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE:
		return "presence-subscription-required";
	case PUBSUB_ERR_NOT_AUTHORIZED_ROSTER:	return "not-in-roster-group";
	case PUBSUB_ERR_NOT_ALLOWED_WHITELIST:	return "closed-node";
	case PUBSUB_ERR_PRECONDITION:		return "precondition-not-met";
	case PUBSUB_ERR_PAYLOAD_TOO_BIG:	return "payload-too-big";
	case PUBSUB_ERR_MAX_NODES:		return "max-nodes-exceeded";
	case PUBSUB_ERR_NODEID_REQUIRED:	return "nodeid-required";
	case PUBSUB_ERR_ITEM_REQUIRED:		return "item-required";
	case PUBSUB_ERR_NOT_SUBSCRIBED:		return "not-subscribed";
	case PUBSUB_ERR_INVALID_JID:		return "invalid-jid";
	default:				return NULL;
	}
}

const char *
pubsub_err_type(enum pubsub_err e)
{
	switch (e) {
	case PUBSUB_ERR_FORBIDDEN:
	case PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE:
	case PUBSUB_ERR_NOT_AUTHORIZED_ROSTER:	return "auth";
	case PUBSUB_ERR_PAYLOAD_TOO_BIG:
	case PUBSUB_ERR_BAD_CONFIG:
	case PUBSUB_ERR_NODEID_REQUIRED:
	case PUBSUB_ERR_ITEM_REQUIRED:
	case PUBSUB_ERR_INVALID_JID:
	case PUBSUB_ERR_BAD_REQUEST_XML:	return "modify";
	case PUBSUB_ERR_STORE:			return "wait";
	default:				return "cancel";
	}
}

/* A node name or item id: 1..PUBSUB_MAX_NAME_BYTES, no space or control. */
static int
name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0') {
		return 0;
	}
	for (; s[n] != '\0'; n++) {
		if ((unsigned char)s[n] <= ' ' || n >= PUBSUB_MAX_NAME_BYTES) {
			return 0;
		}
	}
	return 1;
}

/* requester's bare JID equals jid's bare part. */
static int
same_bare(const char *a, const char *b)
{
	size_t la = strcspn(a, "/"), lb = strcspn(b, "/");

	return la == lb && strncmp(a, b, la) == 0;
}

static struct ps_node *
node_find(const char *service, const char *name)
{
	struct hnode *h;
	struct buf k;

	buf_init(&k, 0);
	buf_printf(&k, "%s %s", service, name);
	h = htab_find(&by_key, k.data, k.len);
	buf_free(&k);
	return h != NULL ? HTAB_ENTRY(h, struct ps_node, hn) : NULL;
}

size_t
pubsub_node_count(const char *service)
{
	struct ps_node *n;
	size_t c = 0;

	for (n = nodes; n != NULL; n = n->next) {
		if (strcmp(n->service, service) == 0) {
			c++;
		}
	}
	return c;
}

/* ---- the store ---- */

static int
node_save(const struct ps_node *n)
{
	char key[1024];
	struct buf v;
	int rc;

	snprintf(key, sizeof(key), "%s %s", n->service, n->name);
	buf_init(&v, 0);
	buf_printf(&v, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%s\t%s",
	    n->owner, n->cfg.max_items, n->cfg.persist_items,
	    (int)n->cfg.access_model, (int)n->cfg.publish_model,
	    n->cfg.notify_retract, (int)n->cfg.itemreply,
	    (int)n->cfg.send_last, n->cfg.deliver_payloads, n->cfg.title,
	    n->cfg.deliver_notifications, n->cfg.notify_delete,
	    n->cfg.description, n->cfg.payload_type);
	rc = store_put("ps-node", key, v.data);
	buf_free(&v);
	return rc == 0 ? PUBSUB_OK : PUBSUB_ERR_STORE;
}

static void
item_key(const struct ps_node *n, unsigned long long seq, char *key,
    size_t cap)
{
	snprintf(key, cap, "%s %s %016llx", n->service, n->name, seq);
}

static int
item_save(const struct ps_node *n, const struct ps_item *it)
{
	char key[1024];
	struct buf v;
	int rc;

	if (!n->cfg.persist_items) {
		return PUBSUB_OK;
	}
	item_key(n, it->seq, key, sizeof(key));
	buf_init(&v, 0);
	buf_printf(&v, "%s\t%s\t%s", it->id, it->publisher, it->payload);
	rc = store_put("ps-item", key, v.data);
	buf_free(&v);
	return rc == 0 ? PUBSUB_OK : PUBSUB_ERR_STORE;
}

static void
item_unstore(const struct ps_node *n, const struct ps_item *it)
{
	char key[1024];

	if (n->cfg.persist_items) {
		item_key(n, it->seq, key, sizeof(key));
		store_del("ps-item", key);
	}
}

/* The key of a ps-sub or ps-aff record. */
static void
sub_key(const struct ps_node *n, const char *jid, char *key, size_t cap)
{
	int len = snprintf(key, cap, "%s %s %s", n->service, n->name, jid);

	/* callers bound the parts: a cut key would name another record */
	if (len < 0 || (size_t)len >= cap) {
		key[0] = '\0';
	}
}

/* ---- memory ---- */

static struct ps_node *
node_new(const char *service, const char *name, const char *owner,
    const struct pubsub_config *cfg)
{
	struct ps_node *n = xcalloc(1, sizeof(*n));

	n->service = xstrdup(service);
	n->name = xstrdup(name);
	n->owner = xstrdup(owner);
	n->cfg = *cfg;
	n->key = xcalloc(1, strlen(service) + strlen(name) + 2);
	sprintf(n->key, "%s %s", service, name);
	htab_add(&by_key, &n->hn, n->key);
	n->next = nodes;
	n->pprev = &nodes;
	if (nodes != NULL) {
		nodes->pprev = &n->next;
	}
	nodes = n;
	return n;
}

static void
item_free(struct ps_item *it)
{
	free(it->id);
	free(it->publisher);
	free(it->payload);
}

/* Remove items[i] from memory (and the store). */
static void
item_remove(struct ps_node *n, size_t i)
{
	item_unstore(n, &n->items[i]);
	item_free(&n->items[i]);
	memmove(&n->items[i], &n->items[i + 1],
	    (n->nitems - i - 1) * sizeof(n->items[0]));
	n->nitems--;
}

static void
trim(struct ps_node *n)
{
	while (n->nitems > (size_t)n->cfg.max_items) {
		item_remove(n, 0);
	}
}

static void
node_unlink_free(struct ps_node *n)
{
	size_t i;

	*n->pprev = n->next;
	if (n->next != NULL) {
		n->next->pprev = n->pprev;
	}
	htab_del(&by_key, &n->hn);
	for (i = 0; i < n->nitems; i++) {
		item_free(&n->items[i]);
	}
	for (i = 0; i < n->nsubs; i++) {
		free(n->subs[i]);
	}
	for (i = 0; i < n->naffs; i++) {
		free(n->affs[i].jid);
	}
	free(n->affs);
	free(n->items);
	free(n->subs);
	free(n->key);
	free(n->service);
	free(n->name);
	free(n->owner);
	free(n);
}

static void
sub_add_mem(struct ps_node *n, const char *jid)
{
	n->subs = xrealloc(n->subs, (n->nsubs + 1) * sizeof(n->subs[0]));
	n->subs[n->nsubs++] = xstrdup(jid);
}

static void
aff_add_mem(struct ps_node *n, const char *jid, enum ps_aff aff)
{
	n->affs = xrealloc(n->affs, (n->naffs + 1) * sizeof(n->affs[0]));
	n->affs[n->naffs].jid = xstrdup(jid);
	n->affs[n->naffs].aff = aff;
	n->naffs++;
}

static void
item_add_mem(struct ps_node *n, const char *id, const char *publisher,
    const char *payload, unsigned long long seq)
{
	struct ps_item *it;

	n->items = xrealloc(n->items, (n->nitems + 1) * sizeof(n->items[0]));
	it = &n->items[n->nitems++];
	it->id = xstrdup(id);
	it->publisher = xstrdup(publisher);
	it->payload = xstrdup(payload);
	it->seq = seq;
	if (seq >= next_seq) {
		next_seq = seq + 1;
	}
}

/* ---- notifications (§7.1.2.1, §7.2.2.1, §8.4.2, §8.5.2) ---- */

/* One event with body inside <event/>, for every subscriber or, with
 * only_jid, for that JID alone. */
static void
notify_all(const struct ps_node *n, const char *body, const char *only_jid)
{
	struct pubsub_event ev;
	struct buf m;

	if (hooks.notify == NULL) {
		return;
	}
	buf_init(&m, 0);
	buf_puts(&m, "<message><event xmlns='" NS_PUBSUB_EVENT "'>");
	buf_puts(&m, body);
	buf_puts(&m, "</event></message>");
	ev.service = n->service;
	ev.node = n->name;
	ev.access_model = n->cfg.access_model;
	ev.stanza = m.data;
	if (only_jid != NULL) {
		ev.subs = &only_jid;
		ev.nsubs = 1;
		ev.single = 1;
	} else {
		ev.subs = (const char *const *)n->subs;
		ev.nsubs = n->nsubs;
		ev.single = 0;
	}
	hooks.notify(hooks.ud, &ev);
	buf_free(&m);
}

/* Does n show its items' publishers (§7.1.2.1 'publisher')? */
static int
shows_publisher(const struct ps_node *n)
{
	return n->cfg.itemreply == PUBSUB_ITEMREPLY_PUBLISHER ||
	    (policy.expose_publisher != NULL &&
	    policy.expose_publisher(n->service));
}

static void
items_body(struct buf *b, const struct ps_node *n, const char *inner_tag,
    const char *id, const char *publisher, const char *payload)
{
	buf_puts(b, "<items node='");
	xml_escape(b, n->name, strlen(n->name), 1);
	buf_printf(b, "'><%s id='", inner_tag);
	xml_escape(b, id, strlen(id), 1);
	if (publisher != NULL && *publisher != '\0') {
		buf_puts(b, "' publisher='");
		xml_escape(b, publisher, strlen(publisher), 1);
	}
	if (payload != NULL) {
		buf_puts(b, "'>");
		buf_puts(b, payload);
		buf_printf(b, "</%s></items>", inner_tag);
	} else {
		buf_puts(b, "'/></items>");
	}
}

static void
notify_item(const struct ps_node *n, const struct ps_item *it,
    const char *only_jid)
{
	struct buf b;

	if (!n->cfg.deliver_notifications) {
		return;
	}
	buf_init(&b, 0);
	items_body(&b, n, "item", it->id,
	    shows_publisher(n) ? it->publisher : NULL,
	    n->cfg.deliver_payloads ? it->payload : NULL);
	notify_all(n, b.data, only_jid);
	buf_free(&b);
}

static void
notify_simple(const struct ps_node *n, const char *tag)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "<%s node='", tag);
	xml_escape(&b, n->name, strlen(n->name), 1);
	buf_puts(&b, "'/>");
	notify_all(n, b.data, NULL);
	buf_free(&b);
}

/* ---- access ---- */

/* requester's affiliation with n, the creator's and administrators'
 * included. */
static enum ps_aff
aff_of(const struct ps_node *n, const char *requester)
{
	char bare[1024];
	size_t i;

	if (same_bare(n->owner, requester)) {
		return PS_AFF_OWNER;
	}
	for (i = 0; i < n->naffs; i++) {
		if (same_bare(n->affs[i].jid, requester)) {
			return n->affs[i].aff;
		}
	}
	snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(requester, "/"),
	    requester);
	if (policy.is_admin != NULL && policy.is_admin(n->service, bare)) {
		return PS_AFF_OWNER;
	}
	return PS_AFF_NONE;
}

static int
is_owner(const struct ps_node *n, const char *requester)
{
	return aff_of(n, requester) == PS_AFF_OWNER;
}

static int
is_subscriber(const struct ps_node *n, const char *requester)
{
	size_t i;

	for (i = 0; i < n->nsubs; i++) {
		if (same_bare(n->subs[i], requester)) {
			return 1;
		}
	}
	return 0;
}

/* May requester read n?  XEP-0060 §6.1.3 gives the error per model. */
static int
can_read(const struct ps_node *n, const char *requester)
{
	enum ps_aff a = aff_of(n, requester);

	if (a == PS_AFF_OWNER || a == PS_AFF_PUBLISHER || a == PS_AFF_MEMBER) {
		return PUBSUB_OK;
	}
	if (a == PS_AFF_OUTCAST) {
		return PUBSUB_ERR_FORBIDDEN;	/* §6.1.3.8 */
	}
	switch (n->cfg.access_model) {
	case PUBSUB_ACCESS_OPEN:
		return PUBSUB_OK;
	case PUBSUB_ACCESS_PRESENCE:
	case PUBSUB_ACCESS_ROSTER:
		if (hooks.can_see != NULL && hooks.can_see(hooks.ud,
		    n->owner, requester, n->cfg.access_model)) {
			return PUBSUB_OK;
		}
		return n->cfg.access_model == PUBSUB_ACCESS_PRESENCE ?
		    PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE :
		    PUBSUB_ERR_NOT_AUTHORIZED_ROSTER;
	case PUBSUB_ACCESS_WHITELIST:
		break;
	}
	return PUBSUB_ERR_NOT_ALLOWED_WHITELIST;
}

static int
can_publish(const struct ps_node *n, const char *requester)
{
	enum ps_aff a = aff_of(n, requester);

	if (a == PS_AFF_OWNER || a == PS_AFF_PUBLISHER) {
		return 1;
	}
	if (a == PS_AFF_OUTCAST) {
		return 0;
	}
	switch (n->cfg.publish_model) {
	case PUBSUB_PUBLISH_OPEN:
		return 1;
	case PUBSUB_PUBLISH_SUBSCRIBERS:
		return is_subscriber(n, requester);
	case PUBSUB_PUBLISH_PUBLISHERS:
		break;
	}
	return 0;
}

/* ---- operations ---- */

/* Can service have a node configured as c?  The pubsub.<domain> service
 * has no roster, so its nodes are open or whitelisted (as Prosody's). */
static int
config_fits(const char *service, const struct pubsub_config *c)
{
	if (c->max_items < 1 || c->max_items > pubsub_max_items()) {
		return 0;
	}
	return pubsub_is_pep(service) || c->access_model == PUBSUB_ACCESS_OPEN ||
	    c->access_model == PUBSUB_ACCESS_WHITELIST;
}

int
pubsub_create(const char *service, const char *node, const char *requester,
    const struct pubsub_config *cfg)
{
	struct pubsub_config def;
	struct ps_node *n;
	char key[1024];
	int rc;

	if (!name_ok(node)) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if (node_find(service, node) != NULL) {
		return PUBSUB_ERR_CONFLICT;
	}
	if (pubsub_node_count(service) >= max_nodes(service)) {
		return PUBSUB_ERR_MAX_NODES;
	}
	if (cfg == NULL) {
		pubsub_config_default_for(service, &def);
		cfg = &def;
	}
	if (!config_fits(service, cfg)) {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	n = node_new(service, node, requester, cfg);
	/* The owner is the bare JID. */
	n->owner[strcspn(n->owner, "/")] = '\0';
	if ((rc = node_save(n)) != PUBSUB_OK) {
		snprintf(key, sizeof(key), "%s %s", service, node);
		store_del("ps-node", key);
		node_unlink_free(n);
	}
	return rc;
}

static int
owner_node(const char *service, const char *node, const char *requester,
    struct ps_node **out)
{
	struct ps_node *n = node_find(service, node);

	if (n == NULL) {
		return PUBSUB_ERR_ITEM_NOT_FOUND;
	}
	if (!is_owner(n, requester)) {
		return PUBSUB_ERR_FORBIDDEN;
	}
	*out = n;
	return PUBSUB_OK;
}

int
pubsub_get_config(const char *service, const char *node,
    const char *requester, struct pubsub_config *out)
{
	struct ps_node *n;
	int rc;

	if ((rc = owner_node(service, node, requester, &n)) != PUBSUB_OK) {
		return rc;
	}
	*out = n->cfg;
	return PUBSUB_OK;
}

int
pubsub_configure(const char *service, const char *node,
    const char *requester, const struct pubsub_config *cfg)
{
	struct ps_node *n;
	size_t i;
	int rc;

	if ((rc = owner_node(service, node, requester, &n)) != PUBSUB_OK) {
		return rc;
	}
	/* several records change: refused whole when the store can't write */
	if (!store_writable()) {
		return PUBSUB_ERR_STORE;
	}
	if (!config_fits(service, cfg)) {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	if (n->cfg.persist_items && !cfg->persist_items) {
		for (i = 0; i < n->nitems; i++) {
			item_unstore(n, &n->items[i]);
		}
	}
	if (!n->cfg.persist_items && cfg->persist_items) {
		n->cfg.persist_items = 1;
		for (i = 0; i < n->nitems; i++) {
			item_save(n, &n->items[i]);
		}
	}
	n->cfg = *cfg;
	trim(n);
	return node_save(n);
}

int
pubsub_delete(const char *service, const char *node, const char *requester)
{
	struct ps_node *n;
	char key[1024];
	int rc;

	if ((rc = owner_node(service, node, requester, &n)) != PUBSUB_OK) {
		return rc;
	}
	snprintf(key, sizeof(key), "%s %s", service, node);
	/* the node stays, unannounced, when the store refuses */
	if (!store_writable() || store_del("ps-node", key) != 0) {
		return PUBSUB_ERR_STORE;
	}
	if (n->cfg.notify_delete) {
		notify_simple(n, "delete");
	}
	/* The trailing space keeps node "a" from taking "ab"'s records. */
	snprintf(key, sizeof(key), "%s %s ", service, node);
	store_del_prefix("ps-item", key);
	store_del_prefix("ps-sub", key);
	store_del_prefix("ps-aff", key);
	node_unlink_free(n);
	return PUBSUB_OK;
}

int
pubsub_purge(const char *service, const char *node, const char *requester)
{
	struct ps_node *n;
	int rc;

	if ((rc = owner_node(service, node, requester, &n)) != PUBSUB_OK) {
		return rc;
	}
	if (n->cfg.persist_items && !store_writable()) {
		return PUBSUB_ERR_STORE;
	}
	while (n->nitems > 0) {
		item_remove(n, n->nitems - 1);
	}
	notify_simple(n, "purge");
	return PUBSUB_OK;
}

static struct ps_item *
item_find(struct ps_node *n, const char *id, size_t *idx)
{
	size_t i;

	for (i = 0; i < n->nitems; i++) {
		if (strcmp(n->items[i].id, id) == 0) {
			*idx = i;
			return &n->items[i];
		}
	}
	return NULL;
}

int
pubsub_publish(const char *service, const char *node, const char *requester,
    const char *id, const char *payload, const struct pubsub_precond *pre,
    size_t npre, int autocreate, char *id_out)
{
	struct pubsub_config cfg;
	struct ps_node *n;
	struct ps_item *it;
	char gen[32], publisher[1024];
	size_t i, idx;
	int rc;

	precond_var[0] = '\0';
	if (!name_ok(node)) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if (payload == NULL) {
		payload = "";
	}
	if (strlen(payload) > config_get()->pubsub_max_payload_bytes) {
		return PUBSUB_ERR_PAYLOAD_TOO_BIG;
	}
	if (id != NULL && *id != '\0' && !name_ok(id)) {
		return PUBSUB_ERR_ITEM_REQUIRED;
	}
	n = node_find(service, node);
	if (n == NULL) {
		if (!autocreate) {
			return PUBSUB_ERR_ITEM_NOT_FOUND;
		}
		/* §7.1.5: with no node, the preconditions configure it. */
		pubsub_config_default_for(service, &cfg);
		for (i = 0; i < npre; i++) {
			if (pubsub_config_set(&cfg, pre[i].var,
			    pre[i].value) != 0) {
				snprintf(precond_var, sizeof(precond_var), "%s",
				    pre[i].var);
				return PUBSUB_ERR_PRECONDITION;
			}
		}
		if ((rc = pubsub_create(service, node, requester, &cfg)) != 0) {
			return rc;
		}
		n = node_find(service, node);
	} else {
		if (!can_publish(n, requester)) {
			return PUBSUB_ERR_FORBIDDEN;
		}
		for (i = 0; i < npre; i++) {
			if (!pubsub_precond_holds(&n->cfg, &pre[i])) {
				snprintf(precond_var, sizeof(precond_var), "%s",
				    pre[i].var);
				return PUBSUB_ERR_PRECONDITION;
			}
		}
	}
	if (id == NULL || *id == '\0') {
		snprintf(gen, sizeof(gen), "%016llx", next_seq);
		id = gen;
	}
	snprintf(publisher, sizeof(publisher), "%.*s",
	    (int)strcspn(requester, "/"), requester);
	item_add_mem(n, id, publisher, payload, next_seq);
	it = &n->items[n->nitems - 1];
	if ((rc = item_save(n, it)) != PUBSUB_OK) {
		/* the store refused it: an item of the same id stays */
		item_free(it);
		n->nitems--;
		return rc;
	}
	/* only now replace the item of the same id (not the new one, last) */
	if (item_find(n, id, &idx) != NULL && idx + 1 < n->nitems) {
		item_remove(n, idx);
	}
	trim(n);
	it = &n->items[n->nitems - 1];
	if (id_out != NULL) {
		snprintf(id_out, PUBSUB_ID_BYTES, "%s", it->id);
	}
	notify_item(n, it, NULL);
	return PUBSUB_OK;
}

/* See pubsub.h. */
const char *
pubsub_precondition_var(void)
{
	return precond_var;
}

int
pubsub_retract(const char *service, const char *node, const char *requester,
    const char *id, int notify)
{
	struct ps_node *n;
	struct buf b;
	size_t idx;

	if (id == NULL || *id == '\0') {
		return PUBSUB_ERR_ITEM_REQUIRED;
	}
	if (!name_ok(node)) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if ((n = node_find(service, node)) == NULL) {
		return PUBSUB_ERR_ITEM_NOT_FOUND;
	}
	if (!can_publish(n, requester)) {
		return PUBSUB_ERR_FORBIDDEN;
	}
	if (item_find(n, id, &idx) == NULL) {
		return PUBSUB_ERR_ITEM_NOT_FOUND;
	}
	if (n->cfg.persist_items && !store_writable()) {
		return PUBSUB_ERR_STORE;
	}
	item_remove(n, idx);
	if (notify || n->cfg.notify_retract) {
		buf_init(&b, 0);
		items_body(&b, n, "retract", id, NULL, NULL);
		notify_all(n, b.data, NULL);
		buf_free(&b);
	}
	return PUBSUB_OK;
}

int
pubsub_items(const char *service, const char *node, const char *requester,
    const char *id, size_t max,
    void (*fn)(void *ud, const char *id, const char *publisher,
    const char *payload), void *ud)
{
	struct ps_node *n;
	struct ps_item *it;
	size_t i, idx;
	int rc, pub;

	if (!name_ok(node)) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if ((n = node_find(service, node)) == NULL) {
		return PUBSUB_ERR_ITEM_NOT_FOUND;
	}
	if ((rc = can_read(n, requester)) != PUBSUB_OK) {
		return rc;
	}
	pub = shows_publisher(n);
	if (id != NULL && *id != '\0') {
		if ((it = item_find(n, id, &idx)) == NULL) {
			return PUBSUB_ERR_ITEM_NOT_FOUND;
		}
		fn(ud, it->id, pub && *it->publisher ? it->publisher : NULL,
		    it->payload);
		return PUBSUB_OK;
	}
	/* The max newest, in publish order (as Prosody gives them). */
	i = max != 0 && max < n->nitems ? n->nitems - max : 0;
	for (; i < n->nitems; i++) {
		it = &n->items[i];
		fn(ud, it->id, pub && *it->publisher ? it->publisher : NULL,
		    it->payload);
	}
	return PUBSUB_OK;
}

int
pubsub_subscribe(const char *service, const char *node,
    const char *requester, const char *jid)
{
	struct ps_node *n;
	char key[1024];
	size_t i;
	int rc;

	if (!name_ok(node)) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if (jid == NULL || *jid == '\0' || strpbrk(jid, " \t\n") != NULL ||
	    strlen(jid) > PUBSUB_MAX_NAME_BYTES || !same_bare(jid, requester)) {
		return PUBSUB_ERR_INVALID_JID;
	}
	if ((n = node_find(service, node)) == NULL) {
		return PUBSUB_ERR_ITEM_NOT_FOUND;
	}
	if ((rc = can_read(n, requester)) != PUBSUB_OK) {
		return rc;
	}
	for (i = 0; i < n->nsubs; i++) {
		if (strcmp(n->subs[i], jid) == 0) {
			break;
		}
	}
	if (i == n->nsubs) {
		sub_key(n, jid, key, sizeof(key));
		if (store_put("ps-sub", key, "subscribed") != 0) {
			return PUBSUB_ERR_STORE;
		}
		sub_add_mem(n, jid);
	}
	if (n->cfg.send_last != PUBSUB_SEND_LAST_NEVER && n->nitems > 0) {
		if (hold_on) {
			free(held_service);
			free(held_node);
			free(held_jid);
			held_service = xstrdup(service);
			held_node = xstrdup(node);
			held_jid = xstrdup(jid);
		} else {
			notify_item(n, &n->items[n->nitems - 1], jid);
		}
	}
	return PUBSUB_OK;
}

/* See pubsub.h. */
void
pubsub_hold_last(void)
{
	hold_on = 1;
}

static void
held_clear(void)
{
	free(held_service);
	free(held_node);
	free(held_jid);
	held_service = held_node = held_jid = NULL;
}

/* See pubsub.h. */
void
pubsub_release_last(void)
{
	struct ps_node *n;

	hold_on = 0;
	if (held_service != NULL &&
	    (n = node_find(held_service, held_node)) != NULL &&
	    n->nitems > 0) {
		notify_item(n, &n->items[n->nitems - 1], held_jid);
	}
	held_clear();
}

/* See pubsub.h. */
int
pubsub_send_last(const char *service, const char *node, const char *jid)
{
	struct ps_node *n = node_find(service, node);

	if (n == NULL || n->nitems == 0 ||
	    n->cfg.send_last == PUBSUB_SEND_LAST_NEVER ||
	    can_read(n, jid) != PUBSUB_OK) {
		return 0;
	}
	notify_item(n, &n->items[n->nitems - 1], jid);
	return 1;
}

/* See pubsub.h. */
void
pubsub_nodes(const char *service, void (*fn)(void *ud, const char *node),
    void *ud)
{
	struct ps_node *n;

	for (n = nodes; n != NULL; n = n->next) {
		if (strcmp(n->service, service) == 0) {
			fn(ud, n->name);
		}
	}
}

int
pubsub_unsubscribe(const char *service, const char *node,
    const char *requester, const char *jid)
{
	struct ps_node *n;
	char key[1024];
	size_t i;

	if (!name_ok(node)) {
		return PUBSUB_ERR_NODEID_REQUIRED;
	}
	if (jid == NULL || *jid == '\0' || !same_bare(jid, requester)) {
		return PUBSUB_ERR_INVALID_JID;
	}
	if ((n = node_find(service, node)) == NULL) {
		return PUBSUB_ERR_ITEM_NOT_FOUND;
	}
	for (i = 0; i < n->nsubs; i++) {
		if (strcmp(n->subs[i], jid) == 0) {
			sub_key(n, jid, key, sizeof(key));
			if (store_del("ps-sub", key) != 0) {
				return PUBSUB_ERR_STORE;
			}
			free(n->subs[i]);
			n->subs[i] = n->subs[--n->nsubs];
			return PUBSUB_OK;
		}
	}
	return PUBSUB_ERR_NOT_SUBSCRIBED;
}

int
pubsub_subscriptions(const char *service, const char *node,
    const char *requester, int owner_view,
    void (*fn)(void *ud, const char *node, const char *jid), void *ud)
{
	struct ps_node *n;
	size_t i;
	int rc;

	if (owner_view) {
		if ((rc = owner_node(service, node ? node : "",
		    requester, &n)) != PUBSUB_OK) {
			return rc;
		}
		for (i = 0; i < n->nsubs; i++) {
			fn(ud, n->name, n->subs[i]);
		}
		return PUBSUB_OK;
	}
	for (n = nodes; n != NULL; n = n->next) {
		if (strcmp(n->service, service) != 0 ||
		    (node != NULL && strcmp(n->name, node) != 0)) {
			continue;
		}
		for (i = 0; i < n->nsubs; i++) {
			if (same_bare(n->subs[i], requester)) {
				fn(ud, n->name, n->subs[i]);
			}
		}
	}
	return PUBSUB_OK;
}

int
pubsub_affiliations(const char *service, const char *node,
    const char *requester, int owner_view,
    void (*fn)(void *ud, const char *node, const char *jid,
    const char *affiliation), void *ud)
{
	struct ps_node *n;
	enum ps_aff a;
	size_t i;
	int rc;

	if (owner_view) {
		if ((rc = owner_node(service, node ? node : "",
		    requester, &n)) != PUBSUB_OK) {
			return rc;
		}
		fn(ud, n->name, n->owner, "owner");
		for (i = 0; i < n->naffs; i++) {
			fn(ud, n->name, n->affs[i].jid,
			    aff_names[n->affs[i].aff]);
		}
		return PUBSUB_OK;
	}
	for (n = nodes; n != NULL; n = n->next) {
		if (strcmp(n->service, service) == 0 &&
		    (node == NULL || strcmp(n->name, node) == 0) &&
		    (a = aff_of(n, requester)) != PS_AFF_NONE) {
			fn(ud, n->name, requester, aff_names[a]);
		}
	}
	return PUBSUB_OK;
}

/* Drop jid's subscriptions to n (an outcast's, §8.9.2). */
static void
subs_drop_bare(struct ps_node *n, const char *jid)
{
	char key[1024];
	size_t i = 0;

	while (i < n->nsubs) {
		if (same_bare(n->subs[i], jid)) {
			sub_key(n, n->subs[i], key, sizeof(key));
			store_del("ps-sub", key);
			free(n->subs[i]);
			n->subs[i] = n->subs[--n->nsubs];
		} else {
			i++;
		}
	}
}

/* See pubsub.h. */
int
pubsub_set_affiliation(const char *service, const char *node,
    const char *requester, const char *jid, const char *aff)
{
	struct ps_node *n;
	char key[1024];
	size_t i;
	int a, rc;

	if ((rc = owner_node(service, node, requester, &n)) != PUBSUB_OK) {
		return rc;
	}
	if (jid == NULL || *jid == '\0' || strchr(jid, '/') != NULL ||
	    strlen(jid) > PUBSUB_MAX_NAME_BYTES ||
	    strpbrk(jid, " \t\n") != NULL) {
		return PUBSUB_ERR_INVALID_JID;
	}
	if (aff == NULL || pubsub_parse_enum(aff, aff_names, 5, &a) != 0) {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	if (same_bare(n->owner, jid)) {
		/* The creator stays the owner (§8.9.2.4 keeps one owner). */
		return a == PS_AFF_OWNER ? PUBSUB_OK : PUBSUB_ERR_BAD_CONFIG;
	}
	sub_key(n, jid, key, sizeof(key));
	for (i = 0; i < n->naffs; i++) {
		if (strcmp(n->affs[i].jid, jid) == 0) {
			break;
		}
	}
	if (a == PS_AFF_NONE) {
		if (i < n->naffs) {
			if (store_del("ps-aff", key) != 0) {
				return PUBSUB_ERR_STORE;
			}
			free(n->affs[i].jid);
			n->affs[i] = n->affs[--n->naffs];
		}
		return PUBSUB_OK;
	}
	if (i == n->naffs && n->naffs >= PUBSUB_MAX_AFFS) {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	if (store_put("ps-aff", key, aff_names[a]) != 0) {
		return PUBSUB_ERR_STORE;
	}
	if (i == n->naffs) {
		aff_add_mem(n, jid, (enum ps_aff)a);
	} else {
		n->affs[i].aff = (enum ps_aff)a;
	}
	if (a == PS_AFF_OUTCAST) {
		subs_drop_bare(n, jid);
	}
	return PUBSUB_OK;
}

/* See pubsub.h. */
int
pubsub_node_meta(const char *service, const char *node,
    const char *requester, struct pubsub_config *out)
{
	struct ps_node *n = node_find(service, node);
	int rc;

	if (n == NULL) {
		return PUBSUB_ERR_ITEM_NOT_FOUND;
	}
	if (n->cfg.access_model != PUBSUB_ACCESS_OPEN ||
	    aff_of(n, requester) == PS_AFF_OUTCAST) {
		if ((rc = can_read(n, requester)) != PUBSUB_OK) {
			return rc;
		}
	}
	*out = n->cfg;
	return PUBSUB_OK;
}

/* ---- reload ---- */

/* Split v at tabs into at most max fields (copies in buf, cap bytes);
 * empty fields are kept.  The number of fields, or -1 if too many. */
static int
split_tabs(const char *v, char *buf, size_t cap, char **f, int max)
{
	int n = 0;
	char *p;

	snprintf(buf, cap, "%s", v);
	for (p = buf;; p++) {
		if (n == max) {
			return -1;
		}
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL) {
			return n;
		}
		*p = '\0';
	}
}

/* A stored small number in [lo, hi]; 0 or -1. */
static int
field_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long l = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || l < lo || l > hi) {
		return -1;
	}
	*out = (int)l;
	return 0;
}

#define NODE_FIELDS_OLD	10	/* up to TITLE */
#define NODE_FIELDS	14

static int
load_node(void *ud, const char *key, const char *value)
{
	struct pubsub_config c;
	char service[512], name[PUBSUB_MAX_NAME_BYTES + 1];
	char buf[8192], *f[NODE_FIELDS];
	int a, p, s, ir, nf;
	int *bad = ud;

	pubsub_config_default(&c);
	nf = split_tabs(value, buf, sizeof(buf), f, NODE_FIELDS);
	if (sscanf(key, "%511s %256s", service, name) != 2 ||
	    (nf != NODE_FIELDS_OLD && nf != NODE_FIELDS) || *f[0] == '\0' ||
	    field_int(f[1], 1, 1 << 30, &c.max_items) != 0 ||
	    field_int(f[2], 0, 1, &c.persist_items) != 0 ||
	    field_int(f[3], 0, 3, &a) != 0 || field_int(f[4], 0, 2, &p) != 0 ||
	    field_int(f[5], 0, 1, &c.notify_retract) != 0 ||
	    field_int(f[6], 0, 2, &ir) != 0 || field_int(f[7], 0, 2, &s) != 0 ||
	    field_int(f[8], 0, 1, &c.deliver_payloads) != 0 ||
	    (nf == NODE_FIELDS &&
	    (field_int(f[10], 0, 1, &c.deliver_notifications) != 0 ||
	    field_int(f[11], 0, 1, &c.notify_delete) != 0))) {
		*bad = 1;
		return 1;
	}
	/* A lowered pubsub_max_items applies to the nodes already there. */
	if (c.max_items > pubsub_max_items()) {
		c.max_items = pubsub_max_items();
	}
	c.access_model = (enum pubsub_access)a;
	c.publish_model = (enum pubsub_publish_model)p;
	c.send_last = (enum pubsub_send_last)s;
	c.itemreply = (enum pubsub_itemreply)ir;
	snprintf(c.title, sizeof(c.title), "%s", f[9]);
	if (nf == NODE_FIELDS) {
		snprintf(c.description, sizeof(c.description), "%s", f[12]);
		snprintf(c.payload_type, sizeof(c.payload_type), "%s", f[13]);
	}
	node_new(service, name, f[0], &c);
	return 0;
}

/* Split "SERVICE NODE REST" in place; 0 or -1. */
static int
split_key(char *k, char **node, char **rest)
{
	char *sp = strchr(k, ' ');

	if (sp == NULL) {
		return -1;
	}
	*sp = '\0';
	*node = sp + 1;
	if ((sp = strchr(*node, ' ')) == NULL) {
		return -1;
	}
	*sp = '\0';
	*rest = sp + 1;
	return 0;
}

static void
load_items(void)
{
	char **keys = store_keys("ps-item", NULL, NULL);
	char *k, *node, *rest, *id, *pub;
	const char *v, *tab;
	struct ps_node *n;
	size_t i;

	for (i = 0; keys != NULL && keys[i] != NULL; i++) {
		v = store_get("ps-item", keys[i]);
		k = xstrdup(keys[i]);
		if (v != NULL && (tab = strchr(v, '\t')) != NULL &&
		    split_key(k, &node, &rest) == 0 &&
		    (n = node_find(k, node)) != NULL) {
			id = xstrndup(v, (size_t)(tab - v));
			v = tab + 1;
			/* "ID\tPAYLOAD" (older) or "ID\tPUBLISHER\tPAYLOAD" */
			if (*v == '\0' || *v == '<' ||
			    (tab = strchr(v, '\t')) == NULL) {
				pub = xstrdup("");
			} else {
				pub = xstrndup(v, (size_t)(tab - v));
				v = tab + 1;
			}
			item_add_mem(n, id, pub, v, strtoull(rest, NULL, 16));
			free(pub);
			free(id);
		}
		free(k);
	}
	store_keys_free(keys);
}

static int
load_sub(void *ud, const char *key, const char *value)
{
	char *k = xstrdup(key), *node, *jid;
	struct ps_node *n;

	(void)ud;
	(void)value;
	if (split_key(k, &node, &jid) == 0 &&
	    (n = node_find(k, node)) != NULL) {
		sub_add_mem(n, jid);
	}
	free(k);
	return 0;
}

static int
load_aff(void *ud, const char *key, const char *value)
{
	char *k = xstrdup(key), *node, *jid;
	struct ps_node *n;
	int a;

	(void)ud;
	if (split_key(k, &node, &jid) == 0 &&
	    (n = node_find(k, node)) != NULL &&
	    pubsub_parse_enum(value, aff_names, 4, &a) == 0) {
		aff_add_mem(n, jid, (enum ps_aff)a);
	}
	free(k);
	return 0;
}

/* See pubsub.h. */
void
pubsub_set_policy(const struct pubsub_policy *p)
{
	if (p != NULL) {
		policy = *p;
	} else {
		memset(&policy, 0, sizeof(policy));
	}
}

int
pubsub_init(const struct pubsub_hooks *h)
{
	int bad = 0;

	pubsub_shutdown();
	if (h != NULL) {
		hooks = *h;
	}
	store_foreach("ps-node", NULL, load_node, &bad);
	if (bad) {
		pubsub_shutdown();
		return -1;
	}
	load_items();
	store_foreach("ps-sub", NULL, load_sub, NULL);
	store_foreach("ps-aff", NULL, load_aff, NULL);
	return 0;
}

void
pubsub_shutdown(void)
{
	while (nodes != NULL) {
		node_unlink_free(nodes);
	}
	htab_clear(&by_key);
	memset(&hooks, 0, sizeof(hooks));
	next_seq = 1;
	hold_on = 0;
	held_clear();
}

/* See pubsub.h. */
void
pubsub_remove_service(const char *service)
{
	struct ps_node *n, *next;
	char key[1024];
	size_t i;

	for (n = nodes; n != NULL; n = next) {
		next = n->next;
		if (strcmp(n->service, service) == 0) {
			snprintf(key, sizeof(key), "%s %s", n->service,
			    n->name);
			store_del("ps-node", key);
			snprintf(key, sizeof(key), "%s %s ", n->service,
			    n->name);
			store_del_prefix("ps-item", key);
			store_del_prefix("ps-sub", key);
			store_del_prefix("ps-aff", key);
			node_unlink_free(n);
			continue;
		}
		/* its affiliations and subscriptions elsewhere go too */
		for (i = 0; i < n->naffs; ) {
			if (same_bare(n->affs[i].jid, service)) {
				sub_key(n, n->affs[i].jid, key, sizeof(key));
				store_del("ps-aff", key);
				free(n->affs[i].jid);
				n->affs[i] = n->affs[--n->naffs];
			} else {
				i++;
			}
		}
		subs_drop_bare(n, service);
	}
}
