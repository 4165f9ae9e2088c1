/*
 * roster.c - rosters (RFC 6121 §2) and the subscription state machine
 * (§3).  The store holds one record per item (see roster.h); a user's
 * roster is decoded into a cache on first use and every change goes
 * through here, so the cache never goes stale.
 */
#include "roster.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "htab.h"
#include "invite.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "route.h"
#include "stanza.h"
#include "store.h"

#define ROSTER_KIND	"roster"
#define ROSTER_VER_KIND	"roster-ver"
#define SUBIN_KIND	"subin"
#define ROSTER_SEP	'\x1f'

struct roster {
	char			*user;
	struct roster_item	**items;
	size_t			 n, cap;
	unsigned long long	 ver;
	struct hnode		 node;		/* in rc.cache, by user */
};

static struct {
	struct htab	 cache;		/* loaded rosters */
	struct buf	 tmp;
	unsigned long	 push_id;
} rc;

static const char *const sub_names[] = { "none", "to", "from", "both" };

static void
item_free(struct roster_item *it)
{
	size_t i;

	if (it == NULL) {
		return;
	}
	for (i = 0; i < it->ngroups; i++) {
		free(it->groups[i]);
	}
	free(it->groups);
	free(it->name);
	free(it->jid);
	free(it);
}

/* Decode a stored value; NULL if it is not one of ours. */
static struct roster_item *
item_decode(const char *contact, const char *v)
{
	struct roster_item *it = xcalloc(1, sizeof(*it));
	const char *p = strchr(v, ROSTER_SEP), *q;
	size_t flen = p ? (size_t)(p - v) : strlen(v);
	char flags[64];
	char *tok, *save = NULL;
	unsigned i;

	it->jid = xstrdup(contact);
	if (flen >= sizeof(flags)) {
		item_free(it);
		return NULL;
	}
	memcpy(flags, v, flen);
	flags[flen] = '\0';
	for (tok = strtok_r(flags, " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "ask") == 0) {
			it->ask = 1;
		} else if (strcmp(tok, "pre") == 0) {
			it->approved = 1;
		} else {
			for (i = 0; i < 4; i++) {
				if (strcmp(tok, sub_names[i]) == 0) {
					it->sub = i;
				}
			}
		}
	}
	if (p == NULL) {
		return it;
	}
	p++;
	q = strchr(p, ROSTER_SEP);
	if ((q ? (size_t)(q - p) : strlen(p)) > 0) {
		it->name = q ? xstrndup(p, (size_t)(q - p)) : xstrdup(p);
	}
	while (q != NULL) {
		p = q + 1;
		q = strchr(p, ROSTER_SEP);
		it->groups = xrealloc(it->groups,
		    (it->ngroups + 1) * sizeof(*it->groups));
		it->groups[it->ngroups++] = q ? xstrndup(p, (size_t)(q - p)) :
		    xstrdup(p);
	}
	return it;
}

static void
item_encode(const struct roster_item *it, struct buf *b)
{
	size_t i;

	buf_reset(b);
	buf_puts(b, sub_names[it->sub & 3]);
	if (it->ask) {
		buf_puts(b, " ask");
	}
	if (it->approved) {
		buf_puts(b, " pre");
	}
	buf_putc(b, ROSTER_SEP);
	if (it->name != NULL) {
		buf_puts(b, it->name);
	}
	for (i = 0; i < it->ngroups; i++) {
		buf_putc(b, ROSTER_SEP);
		buf_puts(b, it->groups[i]);
	}
}

static void
roster_add_item(struct roster *r, struct roster_item *it)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->items = xrealloc(r->items, r->cap * sizeof(*r->items));
	}
	r->items[r->n++] = it;
}

static int
load_cb(void *ud, const char *key, const char *value)
{
	struct roster *r = ud;
	const char *contact = strchr(key, ' ');
	struct roster_item *it;

	if (contact == NULL) {
		return 0;
	}
	it = item_decode(contact + 1, value);
	if (it == NULL) {
		log_warn("roster: bad record %s", key);
		return 0;
	}
	roster_add_item(r, it);
	return 0;
}

/* The roster of user, loaded on first use.  Never NULL. */
static struct roster *
roster_get(const char *user)
{
	struct hnode *n = htab_find(&rc.cache, user, strlen(user));
	struct roster *r;
	const char *v;
	char prefix[JID_MAX + 2];

	if (n != NULL) {
		return HTAB_ENTRY(n, struct roster, node);
	}
	r = xcalloc(1, sizeof(*r));
	r->user = xstrdup(user);
	v = store_get(ROSTER_VER_KIND, user);
	r->ver = v ? strtoull(v, NULL, 10) : 0;
	snprintf(prefix, sizeof(prefix), "%s ", user);
	store_foreach(ROSTER_KIND, prefix, load_cb, r);
	htab_add(&rc.cache, &r->node, r->user);
	return r;
}

static void
roster_free(struct roster *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		item_free(r->items[i]);
	}
	free(r->items);
	free(r->user);
	free(r);
}

static void
roster_uncache(const char *user)
{
	struct hnode *n = htab_find(&rc.cache, user, strlen(user));

	if (n != NULL) {
		htab_del(&rc.cache, n);
		roster_free(HTAB_ENTRY(n, struct roster, node));
	}
}

void
roster_cache_clear(void)
{
	struct hnode *n, *next;
	size_t pos;

	for (n = htab_first(&rc.cache, &pos); n != NULL; n = next) {
		next = htab_next(&rc.cache, n, &pos);
		roster_free(HTAB_ENTRY(n, struct roster, node));
	}
	htab_clear(&rc.cache);
	buf_free(&rc.tmp);
}

static struct roster_item *
item_find(struct roster *r, const char *contact, size_t *idx)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->items[i]->jid, contact) == 0) {
			if (idx != NULL) {
				*idx = i;
			}
			return r->items[i];
		}
	}
	return NULL;
}

const struct roster_item *
roster_find(const char *user, const char *contact)
{
	return item_find(roster_get(user), contact, NULL);
}

int
roster_has_from(const char *user, const char *contact)
{
	const struct roster_item *it = roster_find(user, contact);

	return it != NULL && (it->sub & ROSTER_SUB_FROM);
}

void
roster_foreach(const char *user,
    int (*fn)(void *ud, const struct roster_item *it), void *ud)
{
	struct roster *r = roster_get(user);
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (fn(ud, r->items[i]) != 0) {
			return;
		}
	}
}

static void
key_of(char *key, size_t cap, const char *user, const char *contact)
{
	snprintf(key, cap, "%s %s", user, contact);
}

static void
ver_bump(struct roster *r)
{
	char v[32];

	r->ver++;
	snprintf(v, sizeof(v), "%llu", r->ver);
	store_put(ROSTER_VER_KIND, r->user, v);
}

/* Memory back to what the store holds for contact: the stored item, or
 * none when nothing is stored (the store refused a change). */
static void
item_reload(struct roster *r, const char *contact)
{
	char key[2 * JID_MAX + 2];
	struct roster_item *old;
	const char *v;
	size_t i;

	if (item_find(r, contact, &i) == NULL) {
		return;
	}
	key_of(key, sizeof(key), r->user, contact);
	v = store_get(ROSTER_KIND, key);
	old = v != NULL ? item_decode(contact, v) : NULL;
	item_free(r->items[i]);
	if (old != NULL) {
		r->items[i] = old;
	} else {
		r->items[i] = r->items[--r->n];
	}
}

/*
 * Write item it (already in r, changed in memory) to the store.  0, or -1
 * when the store refused it (full disk, I/O error): then it is freed and
 * r holds what the store holds, so the caller must not use it again and
 * answers with resource-constraint.
 */
static int
item_save(struct roster *r, struct roster_item *it)
{
	char key[2 * JID_MAX + 2];

	if (rc.tmp.max == 0 && rc.tmp.data == NULL) {
		buf_init(&rc.tmp, 0);
	}
	item_encode(it, &rc.tmp);
	key_of(key, sizeof(key), r->user, it->jid);
	if (rc.tmp.err || store_put(ROSTER_KIND, key,
	    rc.tmp.data ? rc.tmp.data : "none") != 0) {
		log_warn("roster: item of %s not saved: the store refused it",
		    r->user);
		item_reload(r, it->jid);
		return -1;
	}
	ver_bump(r);
	return 0;
}

static struct roster_item *
item_create(struct roster *r, const char *contact)
{
	struct roster_item *it = xcalloc(1, sizeof(*it));

	it->jid = xstrdup(contact);
	roster_add_item(r, it);
	return it;
}

/* Delete contact's item from the store; 0, or -1 if the store refused
 * (memory untouched).  item_forget() then drops it from memory. */
static int
item_unstore(struct roster *r, const char *contact)
{
	char key[2 * JID_MAX + 2];

	key_of(key, sizeof(key), r->user, contact);
	return store_del(ROSTER_KIND, key);
}

static void
item_forget(struct roster *r, const char *contact)
{
	size_t i;

	if (item_find(r, contact, &i) == NULL) {
		return;
	}
	item_free(r->items[i]);
	r->items[i] = r->items[--r->n];
	ver_bump(r);
}

/* <item/> for it (or subscription='remove' when it is NULL). */
static void
item_xml(struct xml_node *query, const char *contact,
    const struct roster_item *it)
{
	struct xml_node *el = xml_add(query, "item", NULL);
	size_t i;

	xml_set_attr(el, "jid", contact);
	if (it == NULL) {
		xml_set_attr(el, "subscription", "remove");
		return;
	}
	xml_set_attr(el, "subscription", sub_names[it->sub & 3]);
	if (it->name != NULL) {
		xml_set_attr(el, "name", it->name);
	}
	if (it->ask) {
		xml_set_attr(el, "ask", "subscribe");
	}
	if (it->approved) {
		xml_set_attr(el, "approved", "true");
	}
	for (i = 0; i < it->ngroups; i++) {
		xml_add_text_child(el, "group", NULL, it->groups[i]);
	}
}

static void
ver_attr(struct xml_node *query, const struct roster *r)
{
	char v[32];

	/* a roster never changed is version 1, as in Prosody */
	snprintf(v, sizeof(v), "%llu", r->ver > 0 ? r->ver : 1);
	xml_set_attr(query, "ver", v);
}

/* §2.1.6: a roster push to every interested resource of r's user. */
static void
roster_push(struct roster *r, const char *contact)
{
	struct xml_node *iq = xml_new("iq", XML_NS_CLIENT);
	struct xml_node *query;
	char id[32];

	snprintf(id, sizeof(id), "push%lu", ++rc.push_id);
	xml_set_attr(iq, "type", "set");
	xml_set_attr(iq, "id", id);
	xml_set_attr(iq, "from", r->user);
	query = xml_add(iq, "query", NS_ROSTER);
	ver_attr(query, r);
	item_xml(query, contact, item_find(r, contact, NULL));
	route_roster_push(r->user, iq);
	xml_free(iq);
}

static void
reply_error(const struct xml_node *iq, const char *cond)
{
	struct xml_node *reply = stanza_error_reply(iq, NULL, cond, NULL);

	route_stanza(reply);
	xml_free(reply);
}

/* Route a presence of type (NULL: available) from 'from' to 'to'. */
static void
send_presence(const char *from, const char *to, const char *type)
{
	struct xml_node *p = xml_new("presence", XML_NS_CLIENT);

	xml_set_attr(p, "from", from);
	xml_set_attr(p, "to", to);
	if (type != NULL) {
		xml_set_attr(p, "type", type);
	}
	route_stanza(p);
	xml_free(p);
}

/* Route pres (from a client) with bare addresses, §3.1.2. */
static void
route_bare(const struct xml_node *pres, const char *from, const char *to)
{
	struct xml_node *copy = xml_clone(pres);

	xml_set_attr(copy, "from", from);
	xml_set_attr(copy, "to", to);
	route_stanza(copy);
	xml_free(copy);
}

int
roster_is_pending_in(const char *user, const char *contact)
{
	char key[2 * JID_MAX + 2];

	key_of(key, sizeof(key), user, contact);
	return store_get(SUBIN_KIND, key) != NULL;
}

void
roster_drop_pending(const char *user, const char *contact)
{
	char key[2 * JID_MAX + 2];

	key_of(key, sizeof(key), user, contact);
	if (store_get(SUBIN_KIND, key) != NULL) {
		store_del(SUBIN_KIND, key);
	}
}

/* ---- roster get and set (§2.1.3, §2.1.5) ---- */

static void
roster_get_iq(const struct xml_node *iq, const struct xml_node *q,
    struct roster *r)
{
	struct xml_node *reply = stanza_result(iq);
	struct xml_node *query;
	const char *ver = xml_attr(q, "ver");
	char cur[32];
	size_t i;

	snprintf(cur, sizeof(cur), "%llu", r->ver);
	/* §2.6.3: an up-to-date client gets an empty result.  "1" names both
	 * the untouched roster and the one after its first change (see
	 * ver_attr), so it always gets the whole roster, of one item at most */
	if (ver == NULL || strcmp(ver, cur) != 0 || r->ver <= 1) {
		query = xml_add(reply, "query", NS_ROSTER);
		ver_attr(query, r);
		for (i = 0; i < r->n; i++) {
			item_xml(query, r->items[i]->jid, r->items[i]);
		}
	}
	route_stanza(reply);
	xml_free(reply);
}

/* A removed item: cancel both directions (§2.5.2). */
static void
item_cancel(const char *user, const struct roster_item *it)
{
	int pending = roster_is_pending_in(user, it->jid);

	if ((it->sub & ROSTER_SUB_FROM) || pending) {
		send_presence(user, it->jid, "unsubscribed");
	}
	/* §3.2.2: the contact sees the user's resources go offline */
	if (it->sub != 0 || it->ask) {
		route_presence_of(user, it->jid, 1);
	}
	if ((it->sub & ROSTER_SUB_TO) || it->ask) {
		send_presence(user, it->jid, "unsubscribe");
	}
	if (pending) {
		roster_drop_pending(user, it->jid);
	}
}

static int
group_valid(const struct xml_node *item, char **groups, size_t *ngroups)
{
	const struct xml_node *g;
	const char *text;
	size_t i, n = 0;
	int rc_ = 0;

	for (g = xml_child(item, "group", NS_ROSTER); g != NULL;
	    g = xml_next(g, "group", NS_ROSTER)) {
		text = xml_text(g);
		if (*text == '\0' || strlen(text) > ROSTER_MAX_NAME ||
		    n >= ROSTER_MAX_GROUPS) {
			rc_ = -2;	/* not-acceptable */
			break;
		}
		for (i = 0; i < n; i++) {
			if (strcmp(groups[i], text) == 0) {
				break;
			}
		}
		if (i < n) {
			rc_ = -1;	/* duplicate: bad-request */
			break;
		}
		groups[n++] = xstrdup(text);
	}
	if (rc_ != 0) {
		while (n > 0) {
			free(groups[--n]);
		}
	}
	*ngroups = n;
	return rc_;
}

static void
roster_set_iq(const struct xml_node *iq, const struct xml_node *q,
    struct roster *r)
{
	const struct xml_node *item = xml_child(q, NULL, NULL);
	const char *jid, *sub, *name;
	char contact[JID_MAX + 1];
	char *groups[ROSTER_MAX_GROUPS];
	struct roster_item *it;
	struct xml_node *reply;
	size_t ngroups, i;
	int grc;

	if (item == NULL || strcmp(item->name, "item") != 0 ||
	    strcmp(item->ns, NS_ROSTER) != 0 ||
	    xml_next(item, NULL, NULL) != NULL ||
	    (jid = xml_attr(item, "jid")) == NULL) {
		reply_error(iq, "bad-request");
		return;
	}
	if (jid_canon(jid, contact, sizeof(contact)) != 0 ||
	    jid_resource(contact) != NULL) {
		reply_error(iq, "jid-malformed");
		return;
	}
	if (strcmp(contact, r->user) == 0) {
		reply_error(iq, "not-allowed");
		return;
	}
	sub = xml_attr(item, "subscription");
	if (sub != NULL && strcmp(sub, "remove") == 0) {
		it = item_find(r, contact, NULL);
		if (it == NULL) {
			reply_error(iq, "item-not-found");
			return;
		}
		if (item_unstore(r, contact) != 0) {
			reply_error(iq, "resource-constraint");
			return;
		}
		item_cancel(r->user, it);
		item_forget(r, contact);
		reply = stanza_result(iq);
		route_stanza(reply);
		xml_free(reply);
		roster_push(r, contact);
		return;
	}
	name = xml_attr(item, "name");
	if (name != NULL && strlen(name) > ROSTER_MAX_NAME) {
		reply_error(iq, "not-acceptable");
		return;
	}
	grc = group_valid(item, groups, &ngroups);
	if (grc != 0) {
		reply_error(iq, grc == -1 ? "bad-request" : "not-acceptable");
		return;
	}
	it = item_find(r, contact, NULL);
	if (it == NULL) {
		if (r->n >= ROSTER_MAX_ITEMS) {
			for (i = 0; i < ngroups; i++) {
				free(groups[i]);
			}
			reply_error(iq, "resource-constraint");
			return;
		}
		it = item_create(r, contact);
	}
	/* §2.1.5: subscription and ask are the server's, only name and
	 * groups change */
	free(it->name);
	it->name = name != NULL && *name != '\0' ? xstrdup(name) : NULL;
	for (i = 0; i < it->ngroups; i++) {
		free(it->groups[i]);
	}
	free(it->groups);
	it->groups = NULL;
	it->ngroups = ngroups;
	if (ngroups > 0) {
		it->groups = xcalloc(ngroups, sizeof(*it->groups));
		memcpy(it->groups, groups, ngroups * sizeof(*groups));
	}
	if (item_save(r, it) != 0) {
		reply_error(iq, "resource-constraint");
		return;
	}
	reply = stanza_result(iq);
	route_stanza(reply);
	xml_free(reply);
	roster_push(r, contact);
}

int
roster_iq(const struct xml_node *iq, const char *user)
{
	const char *type = xml_attr(iq, "type");
	const struct xml_node *q = xml_child(iq, NULL, NULL);
	struct roster *r = roster_get(user);

	if (type == NULL || q == NULL || xml_next(q, NULL, NULL) != NULL) {
		if (type != NULL && (strcmp(type, "get") == 0 ||
		    strcmp(type, "set") == 0)) {
			reply_error(iq, "bad-request");
		}
		return 0;
	}
	if (strcmp(type, "get") == 0) {
		roster_get_iq(iq, q, r);
		return 1;
	}
	if (strcmp(type, "set") == 0) {
		roster_set_iq(iq, q, r);
	}
	return 0;
}

/* ---- subscriptions, outbound (§3.1.2, §3.2.2, §3.3.2, §3.4) ---- */

void
roster_outbound(const struct xml_node *pres, const char *user,
    const char *contact)
{
	const char *type = xml_attr(pres, "type");
	struct roster *r;
	struct roster_item *it;
	int pending, changed;

	if (strcmp(user, contact) == 0) {
		return;		/* no self-subscriptions */
	}
	r = roster_get(user);
	it = item_find(r, contact, NULL);
	if (strcmp(type, "subscribe") == 0) {
		if (it == NULL || !(it->ask || (it->sub & ROSTER_SUB_TO))) {
			if (it == NULL && r->n >= ROSTER_MAX_ITEMS) {
				reply_error(pres, "resource-constraint");
				return;
			}
			if (it == NULL) {
				it = item_create(r, contact);
			}
			it->ask = 1;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			roster_push(r, contact);
		}
		route_bare(pres, user, contact);
	} else if (strcmp(type, "unsubscribe") == 0) {
		if (it != NULL && (it->ask || (it->sub & ROSTER_SUB_TO))) {
			it->ask = 0;
			it->sub &= ~ROSTER_SUB_TO;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			roster_push(r, contact);
		}
		route_bare(pres, user, contact);
	} else if (strcmp(type, "subscribed") == 0) {
		pending = roster_is_pending_in(user, contact);
		if (pending) {
			if (it == NULL) {
				it = item_create(r, contact);
			}
			it->sub |= ROSTER_SUB_FROM;
			it->approved = 0;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			roster_drop_pending(user, contact);
			roster_push(r, contact);
		} else if (it == NULL || !(it->sub & ROSTER_SUB_FROM)) {
			/* §3.4: pre-approval */
			if (it == NULL && r->n >= ROSTER_MAX_ITEMS) {
				reply_error(pres, "resource-constraint");
				return;
			}
			if (it == NULL) {
				it = item_create(r, contact);
			}
			if (!it->approved) {
				it->approved = 1;
				if (item_save(r, it) != 0) {
					reply_error(pres,
					    "resource-constraint");
					return;
				}
				roster_push(r, contact);
			}
			return;
		}
		route_bare(pres, user, contact);
		route_presence_of(user, contact, 0);
		/* and learn the contact's presence now if subscribed to it */
		if (it->sub & ROSTER_SUB_TO) {
			send_presence(user, contact, "probe");
		}
	} else if (strcmp(type, "unsubscribed") == 0) {
		pending = roster_is_pending_in(user, contact);
		changed = 0;
		if (pending) {
			roster_drop_pending(user, contact);
		}
		if (it != NULL && ((it->sub & ROSTER_SUB_FROM) ||
		    it->approved)) {
			changed = (it->sub & ROSTER_SUB_FROM) != 0;
			it->sub &= ~ROSTER_SUB_FROM;
			it->approved = 0;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			roster_push(r, contact);
		}
		if (pending || changed) {
			route_bare(pres, user, contact);
		}
		if (changed) {
			route_presence_of(user, contact, 1);
		}
	}
}

/* ---- subscriptions, inbound (§3.1.3, §3.2.3, §3.3.3) ---- */

/* Send pres to each available resource of user. */
static void
deliver_available(const struct xml_node *pres, const char *user)
{
	struct xml_node *copy = xml_clone(pres);

	xml_set_attr(copy, "to", user);
	route_to_available(user, copy);
	xml_free(copy);
}

/* Keep an inbound subscription request; 0, or -1 if the store refused. */
static int
pending_keep(const struct xml_node *pres, const char *user,
    const char *contact)
{
	char key[2 * JID_MAX + 2];
	struct xml_node *copy = xml_clone(pres);
	int rc_ = -1;

	xml_set_attr(copy, "from", contact);
	xml_set_attr(copy, "to", user);
	if (rc.tmp.data == NULL) {
		buf_init(&rc.tmp, 0);
	}
	buf_reset(&rc.tmp);
	xml_serialize(copy, XML_NS_CLIENT, &rc.tmp);
	key_of(key, sizeof(key), user, contact);
	if (!rc.tmp.err && store_put(SUBIN_KIND, key, rc.tmp.data) == 0) {
		/* a pending request is roster state, as Prosody versions it:
		 * the next push's ver counts it */
		ver_bump(roster_get(user));
		rc_ = 0;
	}
	xml_free(copy);
	return rc_;
}

/* Does pres carry <preauth xmlns='urn:xmpp:pars:0'/> with one of user's
 * contact invites?  It is used up then. */
static int
preauth_used(const struct xml_node *pres, const char *user)
{
	const struct xml_node *p = xml_child(pres, "preauth", NS_PARS);

	return p != NULL && xml_attr(p, "token") != NULL &&
	    invite_use_contact(xml_attr(p, "token"), user) == 0;
}

void
roster_inbound(const struct xml_node *pres, const char *user,
    const char *contact)
{
	const char *type = xml_attr(pres, "type");
	struct roster *r;
	struct roster_item *it;
	int changed, invited = 0;

	if (strcmp(user, contact) == 0) {
		return;
	}
	r = roster_get(user);
	it = item_find(r, contact, NULL);
	if (strcmp(type, "subscribe") == 0) {
		if ((it == NULL || !(it->sub & ROSTER_SUB_FROM)) &&
		    preauth_used(pres, user)) {
			/* XEP-0379 §3: the token user handed out approves */
			if (it == NULL) {
				it = item_create(r, contact);
			}
			it->approved = 1;
			invited = 1;
		}
		if (it != NULL && (it->sub & ROSTER_SUB_FROM)) {
			/* already subscribed: answer for the user */
			send_presence(user, contact, "subscribed");
			if (route_presence_of(user, contact, 0) == 0) {
				send_presence(user, contact, "unavailable");
			}
		} else if (it != NULL && it->approved) {
			/* §3.4: pre-approved, accept without asking */
			it->sub |= ROSTER_SUB_FROM;
			it->approved = 0;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			roster_push(r, contact);
			send_presence(user, contact, "subscribed");
			route_presence_of(user, contact, 0);
			if (invited && !(it->sub & ROSTER_SUB_TO) && !it->ask) {
				/* and back: the goal is a mutual
				 * subscription (as Prosody) */
				it->ask = 1;
				if (item_save(r, it) == 0) {
					roster_push(r, contact);
					send_presence(user, contact,
					    "subscribe");
				}
			}
		} else {
			/* acknowledge, as Prosody does, without revealing
			 * presence */
			send_presence(user, contact, "unavailable");
			if (!roster_is_pending_in(user, contact)) {
				if (pending_keep(pres, user, contact) != 0) {
					reply_error(pres,
					    "resource-constraint");
					return;
				}
				deliver_available(pres, user);
			}
		}
	} else if (strcmp(type, "subscribed") == 0) {
		if (it != NULL && it->ask) {
			it->ask = 0;
			it->sub |= ROSTER_SUB_TO;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			deliver_available(pres, user);
			roster_push(r, contact);
		}
	} else if (strcmp(type, "unsubscribed") == 0) {
		if (it != NULL && (it->ask || (it->sub & ROSTER_SUB_TO))) {
			it->ask = 0;
			it->sub &= ~ROSTER_SUB_TO;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			deliver_available(pres, user);
			roster_push(r, contact);
		}
	} else if (strcmp(type, "unsubscribe") == 0) {
		changed = roster_is_pending_in(user, contact);
		roster_drop_pending(user, contact);
		if (it != NULL && (it->sub & ROSTER_SUB_FROM)) {
			it->sub &= ~ROSTER_SUB_FROM;
			if (item_save(r, it) != 0) {
				reply_error(pres, "resource-constraint");
				return;
			}
			changed = 2;
		}
		if (changed) {
			deliver_available(pres, user);
			if (it != NULL) {
				roster_push(r, contact);
			}
		}
		/* §3.3.3 step 3: the contact no longer sees the user */
		if (changed == 2) {
			route_presence_of(user, contact, 1);
		}
	}
}

struct pending_ctx {
	void	(*send)(void *ud, const char *data, size_t len);
	void	*ud;
};

static int
pending_cb(void *ud, const char *key, const char *value)
{
	struct pending_ctx *c = ud;

	(void)key;
	c->send(c->ud, value, strlen(value));
	return 0;
}

void
roster_resend_pending(const char *user,
    void (*send)(void *ud, const char *data, size_t len), void *ud)
{
	struct pending_ctx c = { send, ud };
	char prefix[JID_MAX + 2];

	snprintf(prefix, sizeof(prefix), "%s ", user);
	store_foreach(SUBIN_KIND, prefix, pending_cb, &c);
}

/* ---- account removal ---- */

void
roster_account_removed(const char *user)
{
	struct roster *r = roster_get(user);
	char prefix[JID_MAX + 2];
	const char *sp;
	char **keys;
	size_t i;

	for (i = 0; i < r->n; i++) {
		item_cancel(user, r->items[i]);
	}
	snprintf(prefix, sizeof(prefix), "%s ", user);
	/* pending requests without a roster item */
	keys = store_keys(SUBIN_KIND, prefix, NULL);
	for (i = 0; keys[i] != NULL; i++) {
		sp = strchr(keys[i], ' ');
		if (sp != NULL) {
			send_presence(user, sp + 1, "unsubscribed");
		}
		store_del(SUBIN_KIND, keys[i]);
	}
	store_keys_free(keys);
	store_del_prefix(ROSTER_KIND, prefix);
	if (store_get(ROSTER_VER_KIND, user) != NULL) {
		store_del(ROSTER_VER_KIND, user);
	}
	roster_uncache(user);
}

/* One side of roster_subscribe_mutual(): contact in user's roster with
 * subscription both, no pending request, pushed to user's sessions. */
static int
subscribe_both_side(const char *user, const char *contact)
{
	struct roster *r = roster_get(user);
	struct roster_item *it = item_find(r, contact, NULL);

	if (it == NULL) {
		it = item_create(r, contact);
	}
	it->sub = ROSTER_SUB_TO | ROSTER_SUB_FROM;
	it->ask = 0;
	it->approved = 0;
	if (item_save(r, it) != 0) {
		return -1;
	}
	roster_drop_pending(user, contact);
	roster_push(r, contact);
	return 0;
}

int
roster_subscribe_mutual(const char *a, const char *b)
{
	if (subscribe_both_side(a, b) != 0 || subscribe_both_side(b, a) != 0) {
		return -1;
	}
	return 0;
}
