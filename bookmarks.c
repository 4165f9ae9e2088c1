/*
 * bookmarks.c - XEP-0402 bookmarks with the XEP-0411 conversions: see
 * bookmarks.h.  What is done follows Prosody's mod_bookmarks, with two
 * differences: an XEP-0048 write that drops every room retracts each
 * item (XEP-0402 §5.2 speaks of retractions; Prosody purges), and an
 * item republished from XEP-0048 keeps the <extensions/> it had
 * (XEP-0402 §3: clients MUST preserve them, and an XEP-0048 client
 * cannot).
 */
#include "bookmarks.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "pep.h"
#include "pubsub.h"
#include "pubsub_iq.h"
#include "route.h"
#include "stanza.h"

/* The XEP-0048 PEP form has one item (XEP-0048 §3.2, XEP-0223). */
#define LEGACY_ITEM_ID	"current"

/* Set while an XEP-0048 write is turned into publishes: their events
 * make one XEP-0048 event at the end, not one each. */
static int syncing;

/* One XEP-0402 item: the room JID and its serialised <conference/>. */
struct bm_item {
	char	*id;
	char	*payload;
};

struct bm_list {
	struct bm_item *v;
	size_t	 n, cap;
};

static void
list_add_cb(void *ud, const char *id, const char *publisher,
    const char *payload)
{
	struct bm_list *l = ud;

	(void)publisher;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(l->v[0]));
	}
	l->v[l->n].id = xstrdup(id);
	l->v[l->n].payload = xstrdup(payload);
	l->n++;
}

static void
list_free(struct bm_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].payload);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bm_item *)a)->id,
	    ((const struct bm_item *)b)->id);
}

/* The node's items as requester may read them, sorted by room JID (the
 * XEP-0048 forms have no order; sorting makes them stable).  0 or the
 * pubsub error (ITEM_NOT_FOUND: no node).  Caller list_free()s. */
static int
list_load(const char *bare, const char *requester, struct bm_list *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	rc = pubsub_items(bare, NS_BOOKMARKS2, requester, NULL, 0, list_add_cb,
	    l);
	if (rc != PUBSUB_OK) {
		list_free(l);
		return rc;
	}
	if (l->n > 1) {
		qsort(l->v, l->n, sizeof(l->v[0]), item_cmp);
	}
	return PUBSUB_OK;
}

static const struct bm_item *
list_find(const struct bm_list *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].id, id) == 0) {
			return &l->v[i];
		}
	}
	return NULL;
}

/* The parsed payload: *conf is its <conference xmlns='urn:xmpp:bookmarks:1'/>
 * or NULL.  Caller xml_free()s the result (NULL when unparsable). */
static struct xml_node *
payload_parse(const char *payload, const struct xml_node **conf)
{
	struct xml_node *frag;
	int err;

	*conf = NULL;
	frag = xml_parse_fragment(payload, strlen(payload), NULL, &err);
	if (frag != NULL) {
		*conf = xml_child(frag, "conference", NS_BOOKMARKS2);
	}
	return frag;
}

/* Copy attribute name of from to to, if from has it. */
static void
copy_attr(struct xml_node *to, const struct xml_node *from, const char *name)
{
	const char *v = xml_attr(from, name);

	if (v != NULL) {
		xml_set_attr(to, name, v);
	}
}

/* Copy the text child name (nick, password) of from, in from_ns, to to. */
static void
copy_text_child(struct xml_node *to, const struct xml_node *from,
    const char *from_ns, const char *name)
{
	const struct xml_node *c = xml_child(from, name, from_ns);

	if (c != NULL) {
		xml_add_text_child(to, name, NULL, xml_text(c));
	}
}

/* XEP-0402 §5.1: the items cast into one XEP-0048 <storage/>.  Caller
 * xml_free()s. */
static struct xml_node *
legacy_storage(const struct bm_list *l)
{
	struct xml_node *storage = xml_new("storage", NS_BOOKMARKS);
	struct xml_node *c, *frag;
	const struct xml_node *conf;
	size_t i;

	for (i = 0; i < l->n; i++) {
		frag = payload_parse(l->v[i].payload, &conf);
		if (conf == NULL) {
			log_warn("bookmarks: item %s is no XEP-0402 conference",
			    l->v[i].id);
		}
		c = xml_add(storage, "conference", NULL);
		xml_set_attr(c, "jid", l->v[i].id);
		if (conf != NULL) {
			copy_attr(c, conf, "name");
			copy_attr(c, conf, "autojoin");
			copy_text_child(c, conf, NS_BOOKMARKS2, "nick");
			copy_text_child(c, conf, NS_BOOKMARKS2, "password");
		}
		xml_free(frag);
	}
	return storage;
}

/* autojoin as XEP-0402 §3 reads it: an xs:boolean, false when absent. */
static int
autojoin_of(const struct xml_node *conf)
{
	const char *v = xml_attr(conf, "autojoin");

	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static int
same_text_child(const struct xml_node *a, const char *a_ns,
    const struct xml_node *b, const char *b_ns, const char *name)
{
	const struct xml_node *x = xml_child(a, name, a_ns);
	const struct xml_node *y = xml_child(b, name, b_ns);

	if (x == NULL || y == NULL) {
		return x == y;
	}
	return strcmp(xml_text(x), xml_text(y)) == 0;
}

/* Does the XEP-0048 <conference/> say what the XEP-0402 one says? */
static int
same_bookmark(const struct xml_node *legacy, const struct xml_node *conf)
{
	const char *a = xml_attr(legacy, "name"), *b = xml_attr(conf, "name");

	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0)) {
		return 0;
	}
	return autojoin_of(legacy) == autojoin_of(conf) &&
	    same_text_child(legacy, NS_BOOKMARKS, conf, NS_BOOKMARKS2,
	    "nick") &&
	    same_text_child(legacy, NS_BOOKMARKS, conf, NS_BOOKMARKS2,
	    "password");
}

/* The XEP-0402 <conference/> for an XEP-0048 one, keeping old's
 * <extensions/> (old may be NULL), serialised into out. */
static void
bookmark_payload(const struct xml_node *legacy, const struct xml_node *old,
    struct buf *out)
{
	struct xml_node *c = xml_new("conference", NS_BOOKMARKS2);
	const struct xml_node *ext;

	copy_attr(c, legacy, "name");
	copy_attr(c, legacy, "autojoin");
	copy_text_child(c, legacy, NS_BOOKMARKS, "nick");
	copy_text_child(c, legacy, NS_BOOKMARKS, "password");
	if (old != NULL &&
	    (ext = xml_child(old, "extensions", NS_BOOKMARKS2)) != NULL) {
		xml_copy_into(c, ext);
	}
	xml_serialize(c, "", out);
	xml_free(c);
}

/* The node's configuration XEP-0402 §3 asks for (XEP-0223 §5). */
static void
node_config(struct pubsub_config *c)
{
	pubsub_config_default(c);
	c->persist_items = 1;
	c->max_items = pubsub_max_items();	/* "max" */
	c->access_model = PUBSUB_ACCESS_WHITELIST;
	c->send_last = PUBSUB_SEND_LAST_NEVER;
}

/*
 * Before an XEP-0048 write lands in the node: create it private, or
 * make it private again (XEP-0411 §4: after a conversion the user MUST
 * be the only one with access).  0 or the pubsub error.
 */
static int
node_ensure_private(const char *bare)
{
	struct pubsub_config c, want;

	node_config(&want);
	if (pubsub_get_config(bare, NS_BOOKMARKS2, bare, &c) != PUBSUB_OK) {
		return pubsub_create(bare, NS_BOOKMARKS2, bare, &want);
	}
	if (c.access_model == want.access_model &&
	    c.persist_items == want.persist_items &&
	    c.max_items == want.max_items && c.send_last == want.send_last) {
		return PUBSUB_OK;
	}
	log_info("bookmarks %s: node made private again", bare);
	c.access_model = want.access_model;
	c.persist_items = want.persist_items;
	c.max_items = want.max_items;
	c.send_last = want.send_last;
	return pubsub_configure(bare, NS_BOOKMARKS2, bare, &c);
}

/* The XEP-0048 event with the whole list (none with empty), to the
 * account's resources that want storage:bookmarks+notify (Prosody's
 * legacy_broadcast), or to only alone. */
static void
legacy_broadcast(const char *bare, int empty, const char *only)
{
	struct xml_node *msg, *items, *item, *storage;
	struct pubsub_event ev;
	struct bm_list l;
	struct buf b;

	if (empty || list_load(bare, bare, &l) != PUBSUB_OK) {
		memset(&l, 0, sizeof(l));	/* no node: no rooms */
	}
	msg = xml_new("message", XML_NS_CLIENT);
	items = xml_add(xml_add(msg, "event", NS_PUBSUB_EVENT), "items", NULL);
	xml_set_attr(items, "node", NS_BOOKMARKS);
	item = xml_add(items, "item", NULL);
	xml_set_attr(item, "id", LEGACY_ITEM_ID);
	storage = legacy_storage(&l);
	xml_copy_into(item, storage);
	xml_free(storage);
	list_free(&l);
	buf_init(&b, 0);
	xml_serialize(msg, XML_NS_CLIENT, &b);
	xml_free(msg);
	memset(&ev, 0, sizeof(ev));
	ev.service = bare;
	ev.node = NS_BOOKMARKS;
	ev.access_model = PUBSUB_ACCESS_WHITELIST;	/* the owner alone */
	ev.stanza = b.data;
	if (only != NULL) {
		ev.subs = &only;
		ev.nsubs = 1;
		ev.single = 1;
	}
	if (!b.err) {
		pep_notify(&ev);
	}
	buf_free(&b);
}

/*
 * Turn an XEP-0048 <storage/> into the node's items: publish each room
 * that is new or changed, and with sync retract the items whose room it
 * does not list (XEP-0402 §5.2).  One XEP-0048 event follows.  0 or the
 * pubsub error (the first failure stops it).
 */
static int
store_legacy(const char *bare, const struct xml_node *storage, int sync)
{
	const struct xml_node *c, *old_conf;
	struct xml_node *old_frag;
	const struct bm_item *old;
	struct bm_list l;
	char *seen;
	const char *jid;
	struct buf b;
	size_t i, n = 0;
	int rc;

	for (c = xml_child(storage, "conference", NS_BOOKMARKS); c != NULL;
	    c = xml_next(c, "conference", NS_BOOKMARKS)) {
		n++;
	}
	if (n > (size_t)pubsub_max_items()) {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	if ((rc = node_ensure_private(bare)) != PUBSUB_OK ||
	    (rc = list_load(bare, bare, &l)) != PUBSUB_OK) {
		return rc;
	}
	seen = xcalloc(l.n + 1, 1);
	syncing = 1;
	buf_init(&b, 0);
	for (c = xml_child(storage, "conference", NS_BOOKMARKS);
	    c != NULL && rc == PUBSUB_OK;
	    c = xml_next(c, "conference", NS_BOOKMARKS)) {
		if ((jid = xml_attr(c, "jid")) == NULL || *jid == '\0') {
			continue;	/* no room: no item id */
		}
		old = list_find(&l, jid);
		old_frag = NULL;
		old_conf = NULL;
		if (old != NULL) {
			seen[old - l.v] = 1;
			old_frag = payload_parse(old->payload, &old_conf);
		}
		if (old_conf == NULL || !same_bookmark(c, old_conf)) {
			buf_reset(&b);
			bookmark_payload(c, old_conf, &b);
			rc = b.err ? PUBSUB_ERR_PAYLOAD_TOO_BIG :
			    pubsub_publish(bare, NS_BOOKMARKS2, bare, jid,
			    b.data, NULL, 0, 0, NULL);
		}
		xml_free(old_frag);
	}
	for (i = 0; sync && rc == PUBSUB_OK && i < l.n; i++) {
		if (!seen[i]) {
			rc = pubsub_retract(bare, NS_BOOKMARKS2, bare, l.v[i].id,
			    1);
		}
	}
	syncing = 0;
	buf_free(&b);
	free(seen);
	list_free(&l);
	legacy_broadcast(bare, 0, NULL);
	if (rc != PUBSUB_OK) {
		log_warn("bookmarks %s: XEP-0048 write stopped (%s)", bare,
		    pubsub_err_condition(rc));
	}
	return rc;
}

/* See bookmarks.h. */
int
bookmarks_import(const char *bare, const struct xml_node *storage)
{
	return store_legacy(bare, storage, 0);
}

static void
reply_and_free(struct xml_node *reply)
{
	route_stanza(reply);
	xml_free(reply);
}

static void
reply_pubsub_error(const struct xml_node *iq, int rc)
{
	reply_and_free(pubsub_iq_error_reply(iq, rc));
}

/* XEP-0411 §4, XEP-0402 §5.1: items of storage:bookmarks, built from the
 * node as requester may read it (no node: item-not-found, as Prosody). */
static void
legacy_pep_get(const struct xml_node *iq, const struct xml_node *items,
    const char *bare, const char *requester)
{
	const struct xml_node *want = xml_child(items, "item", NS_PUBSUB);
	struct xml_node *reply, *r_items, *item, *storage;
	struct bm_list l;
	int rc;

	if (want != NULL && (xml_attr(want, "id") == NULL ||
	    strcmp(xml_attr(want, "id"), LEGACY_ITEM_ID) != 0)) {
		reply_pubsub_error(iq, PUBSUB_ERR_ITEM_NOT_FOUND);
		return;
	}
	if ((rc = list_load(bare, requester, &l)) != PUBSUB_OK) {
		reply_pubsub_error(iq, rc);
		return;
	}
	reply = stanza_result(iq);
	r_items = xml_add(xml_add(reply, "pubsub", NS_PUBSUB), "items", NULL);
	xml_set_attr(r_items, "node", NS_BOOKMARKS);
	item = xml_add(r_items, "item", NULL);
	xml_set_attr(item, "id", LEGACY_ITEM_ID);
	storage = legacy_storage(&l);
	xml_copy_into(item, storage);
	xml_free(storage);
	list_free(&l);
	reply_and_free(reply);
}

/* A publish to storage:bookmarks: the owner's list replaces the node's
 * rooms (its publish-options are ignored: the node decides). */
static void
legacy_pep_publish(const struct xml_node *iq, const struct xml_node *pub,
    const char *bare, int own)
{
	const struct xml_node *item = xml_child(pub, "item", NS_PUBSUB);
	const struct xml_node *storage;
	struct xml_node *reply, *p;
	int rc;

	if (!own) {
		reply_pubsub_error(iq, PUBSUB_ERR_FORBIDDEN);
		return;
	}
	storage = item ? xml_child(item, "storage", NS_BOOKMARKS) : NULL;
	if (storage == NULL || xml_next(item, "item", NS_PUBSUB) != NULL) {
		reply_pubsub_error(iq, PUBSUB_ERR_BAD_REQUEST_XML);
		return;
	}
	if ((rc = store_legacy(bare, storage, 1)) != PUBSUB_OK) {
		reply_pubsub_error(iq, rc);
		return;
	}
	reply = stanza_result(iq);
	p = xml_add(xml_add(reply, "pubsub", NS_PUBSUB), "publish", NULL);
	xml_set_attr(p, "node", NS_BOOKMARKS);
	xml_set_attr(xml_add(p, "item", NULL), "id", LEGACY_ITEM_ID);
	reply_and_free(reply);
}

/*
 * The owner's first XEP-0402 publish: the node is created private, with
 * the publish-options applied over that (XEP-0060 §7.1.5 configures a
 * new node with them), so a client that sends none does not get PEP's
 * presence-access, one-item default.  Options that do not apply leave
 * it to PEP, which refuses them.
 */
static void
node_precreate(const struct xml_node *ps, const char *bare)
{
	const struct xml_node *x, *f, *v;
	struct pubsub_config c, have;

	if (pubsub_get_config(bare, NS_BOOKMARKS2, bare, &have) !=
	    PUBSUB_ERR_ITEM_NOT_FOUND) {
		return;
	}
	node_config(&c);
	x = xml_child(ps, "publish-options", NS_PUBSUB);
	x = x ? xml_child(x, "x", NS_DATA) : NULL;
	for (f = x ? xml_child(x, "field", NS_DATA) : NULL; f != NULL;
	    f = xml_next(f, "field", NS_DATA)) {
		if (xml_attr(f, "var") == NULL) {
			continue;
		}
		v = xml_child(f, "value", NS_DATA);
		if (pubsub_config_set(&c, xml_attr(f, "var"),
		    v ? xml_text(v) : "") != PUBSUB_OK) {
			return;
		}
	}
	if (pubsub_create(bare, NS_BOOKMARKS2, bare, &c) != PUBSUB_OK) {
		log_warn("bookmarks %s: cannot create the node", bare);
	}
}

/* See bookmarks.h. */
int
bookmarks_account_iq(const struct xml_node *iq, const char *bare)
{
	const struct xml_node *ps = xml_child(iq, "pubsub", NS_PUBSUB);
	const struct xml_node *el;
	const char *type = xml_attr(iq, "type");
	const char *from = xml_attr(iq, "from");
	const char *node;
	int own;

	if (ps == NULL || type == NULL || from == NULL) {
		return 0;
	}
	own = jid_bare_eq(from, bare);
	if (strcmp(type, "get") == 0) {
		el = xml_child(ps, "items", NS_PUBSUB);
		node = el ? xml_attr(el, "node") : NULL;
		if (node != NULL && strcmp(node, NS_BOOKMARKS) == 0) {
			legacy_pep_get(iq, el, bare, from);
			return 1;
		}
		return 0;
	}
	if ((el = xml_child(ps, "publish", NS_PUBSUB)) == NULL ||
	    (node = xml_attr(el, "node")) == NULL) {
		return 0;
	}
	if (strcmp(node, NS_BOOKMARKS2_OLD) == 0) {
		/* Prosody's answer to the 0.3 namespace */
		reply_and_free(stanza_error_reply(iq, "modify", "not-allowed",
		    "XEP-0402 0.4.0 or later is required"));
		return 1;
	}
	if (strcmp(node, NS_BOOKMARKS) == 0) {
		legacy_pep_publish(iq, el, bare, own);
		return 1;
	}
	if (own && strcmp(node, NS_BOOKMARKS2) == 0) {
		node_precreate(ps, bare);
	}
	return 0;
}

/* See bookmarks.h. */
int
bookmarks_private_iq(const struct xml_node *iq, const struct xml_node *el,
    const char *bare)
{
	const char *type = xml_attr(iq, "type");
	struct xml_node *reply, *storage;
	struct bm_list l;
	int rc;

	if (strcmp(el->name, "storage") != 0 ||
	    strcmp(el->ns, NS_BOOKMARKS) != 0 || type == NULL) {
		return 0;
	}
	if (strcmp(type, "get") == 0) {
		rc = list_load(bare, bare, &l);
		if (rc != PUBSUB_OK && rc != PUBSUB_ERR_ITEM_NOT_FOUND) {
			reply_and_free(stanza_error_reply(iq, NULL,
			    pubsub_err_condition(rc), NULL));
			return 1;
		}
		if (rc != PUBSUB_OK) {
			memset(&l, 0, sizeof(l));	/* no node: none */
		}
		reply = stanza_result(iq);
		storage = legacy_storage(&l);
		xml_copy_into(xml_add(reply, "query", NS_PRIVATE), storage);
		xml_free(storage);
		list_free(&l);
		reply_and_free(reply);
		return 1;
	}
	rc = store_legacy(bare, el, 1);
	if (rc != PUBSUB_OK) {
		reply_and_free(stanza_error_reply(iq, NULL,
		    pubsub_err_condition(rc), NULL));
		return 1;
	}
	reply_and_free(stanza_result(iq));
	return 1;
}

/* Is ev a node deletion (XEP-0060 §8.4.2)?  It is told while the node
 * still has its items. */
static int
is_delete_event(const struct pubsub_event *ev)
{
	struct xml_node *frag;
	const struct xml_node *msg, *event;
	int err, del;

	frag = xml_parse_fragment(ev->stanza, strlen(ev->stanza),
	    XML_NS_CLIENT, &err);
	msg = frag ? xml_child(frag, "message", NULL) : NULL;
	event = msg ? xml_child(msg, "event", NS_PUBSUB_EVENT) : NULL;
	del = event != NULL && xml_child(event, "delete", NULL) != NULL;
	xml_free(frag);
	return del;
}

/* See bookmarks.h.  Prosody's legacy_broadcast on item-published,
 * item-retracted, node-purged and node-deleted of the XEP-0402 node. */
void
bookmarks_event(const struct pubsub_event *ev)
{
	if (ev->single || syncing || strchr(ev->service, '@') == NULL ||
	    strcmp(ev->node, NS_BOOKMARKS2) != 0) {
		return;
	}
	legacy_broadcast(ev->service, is_delete_event(ev), NULL);
}

/* See bookmarks.h.  Prosody sends the XEP-0048 list to a resource that
 * comes online wanting it, as PEP's last item of storage:bookmarks. */
void
bookmarks_newcomer(const char *bare, const char *full)
{
	if (strchr(bare, '@') != NULL && jid_bare_eq(full, bare) &&
	    pep_recipient_wants(bare, full, NS_BOOKMARKS)) {
		legacy_broadcast(bare, 0, full);
	}
}

static const char *const features[] = {
	NS_BOOKMARKS2 "#compat", NS_BOOKMARKS2 "#compat-pep",
	NS_BOOKMARKS_CONVERSION, NULL
};

/* See bookmarks.h. */
void
bookmarks_disco_info(struct xml_node *query)
{
	const char *const *f;

	for (f = features; *f != NULL; f++) {
		xml_set_attr(xml_add(query, "feature", NULL), "var", *f);
	}
}
