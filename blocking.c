/*
 * blocking.c - XEP-0191 blocking command: the blocklist in the store,
 * blocklist get, block and unblock with their pushes and presence side
 * effects (§3.3, §3.4).  The filtering itself happens in route.c through
 * blocking_is_blocked().
 */
#include "blocking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "roster.h"
#include "route.h"
#include "stanza.h"
#include "store.h"

#define BLOCK_KIND	"block"

static unsigned long push_id;

static int
has_item(const char *user, const char *jid)
{
	char key[2 * JID_MAX + 2];

	if ((size_t)snprintf(key, sizeof(key), "%s %s", user, jid) >=
	    sizeof(key)) {
		return 0;
	}
	return store_get(BLOCK_KIND, key) != NULL;
}

int
blocking_is_blocked(const char *user, const char *jid)
{
	char bare[JID_MAX + 1] = "", dom[JID_MAX + 1], domres[2 * JID_MAX + 2];
	const char *res = jid_resource(jid);

	if (has_item(user, jid)) {
		return 1;
	}
	if (jid_bare(jid, bare, sizeof(bare)) == 0 && strcmp(bare, jid) != 0 &&
	    has_item(user, bare)) {
		return 1;
	}
	if (jid_domain(jid, dom, sizeof(dom)) != 0) {
		return 0;
	}
	if (res != NULL && strchr(bare, '@') != NULL) {
		snprintf(domres, sizeof(domres), "%s/%s", dom, res);
		if (has_item(user, domres)) {
			return 1;
		}
	}
	return strcmp(dom, jid) != 0 && has_item(user, dom);
}

struct jid_list {
	char	**jids;
	size_t	 n, cap;
};

static void
list_add(struct jid_list *l, const char *jid)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->jids[i], jid) == 0) {
			return;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->jids = xrealloc(l->jids, l->cap * sizeof(*l->jids));
	}
	l->jids[l->n++] = xstrdup(jid);
}

static void
list_free(struct jid_list *l)
{
	while (l->n > 0) {
		free(l->jids[--l->n]);
	}
	free(l->jids);
	l->jids = NULL;
	l->cap = 0;
}

/* Collects the JIDs (part after "user ") of a user's block records. */
static int
collect_cb(void *ud, const char *key, const char *value)
{
	struct jid_list *l = ud;
	const char *sp = strchr(key, ' ');

	(void)value;
	if (sp != NULL) {
		list_add(l, sp + 1);
	}
	return 0;
}

static void
user_items(const char *user, struct jid_list *l)
{
	char prefix[JID_MAX + 2];

	snprintf(prefix, sizeof(prefix), "%s ", user);
	store_foreach(BLOCK_KIND, prefix, collect_cb, l);
}

static void
reply_and_free(struct xml_node *reply)
{
	route_stanza(reply);
	xml_free(reply);
}

static void
blocklist_get(const struct xml_node *iq, const char *user)
{
	struct xml_node *reply = stanza_result(iq);
	struct xml_node *list = xml_add(reply, "blocklist", NS_BLOCKING);
	struct jid_list l = { NULL, 0, 0 };
	size_t i;

	user_items(user, &l);
	for (i = 0; i < l.n; i++) {
		xml_set_attr(xml_add(list, "item", NULL), "jid", l.jids[i]);
	}
	list_free(&l);
	reply_and_free(reply);
}

static void
push(const char *user, const char *verb, const struct jid_list *l)
{
	struct xml_node *iq = xml_new("iq", XML_NS_CLIENT);
	struct xml_node *el;
	char id[32];
	size_t i;

	snprintf(id, sizeof(id), "block-push%lu", ++push_id);
	xml_set_attr(iq, "type", "set");
	xml_set_attr(iq, "id", id);
	xml_set_attr(iq, "from", user);
	el = xml_add(iq, verb, NS_BLOCKING);
	for (i = 0; i < l->n; i++) {
		xml_set_attr(xml_add(el, "item", NULL), "jid", l->jids[i]);
	}
	route_blocklist_push(user, iq);
	xml_free(iq);
}

/* The canonical JIDs of el's <item/>s into l; -1 on a bad one. */
static int
parse_items(const struct xml_node *el, struct jid_list *l)
{
	const struct xml_node *item;
	const char *jid;
	char canon[JID_MAX + 1];

	for (item = xml_child(el, "item", NS_BLOCKING); item != NULL;
	    item = xml_next(item, "item", NS_BLOCKING)) {
		jid = xml_attr(item, "jid");
		if (jid == NULL || jid_canon(jid, canon, sizeof(canon)) != 0) {
			return -1;
		}
		list_add(l, canon);
	}
	return 0;
}

static void
block_set(const struct xml_node *iq, const struct xml_node *el,
    const char *user, int block)
{
	struct jid_list items = { NULL, 0, 0 }, cur = { NULL, 0, 0 };
	char key[2 * JID_MAX + 2], bare[JID_MAX + 1];
	size_t i, added = 0;

	if (parse_items(el, &items) != 0) {
		reply_and_free(stanza_error_reply(iq, NULL, "jid-malformed",
		    NULL));
		goto out;
	}
	if (block && items.n == 0) {
		reply_and_free(stanza_error_reply(iq, NULL, "bad-request",
		    NULL));
		goto out;
	}
	user_items(user, &cur);
	if (!block && items.n == 0) {
		/* §3.5: unblock everything */
		for (i = 0; i < cur.n; i++) {
			list_add(&items, cur.jids[i]);
		}
	}
	if (block) {
		for (i = 0; i < items.n; i++) {
			if (!has_item(user, items.jids[i])) {
				added++;
			}
		}
		if (cur.n + added > BLOCKING_MAX_ITEMS) {
			reply_and_free(stanza_error_reply(iq, NULL,
			    "resource-constraint", NULL));
			goto out;
		}
	}
	/* several records, each with its presence side effects: refuse
	 * the whole request up front when the store cannot write */
	if (!store_writable()) {
		reply_and_free(stanza_error_reply(iq, NULL,
		    "resource-constraint", NULL));
		goto out;
	}
	for (i = 0; i < items.n; i++) {
		snprintf(key, sizeof(key), "%s %s", user, items.jids[i]);
		if (jid_bare(items.jids[i], bare, sizeof(bare)) != 0) {
			continue;
		}
		if (block && !has_item(user, items.jids[i])) {
			/* §3.3: the blocked JID sees the user go offline */
			if (roster_has_from(user, bare)) {
				route_presence_of(user, items.jids[i], 1);
			} else {
				roster_drop_pending(user, bare);
			}
			if (store_put(BLOCK_KIND, key, "1") != 0) {
				log_err("blocking %s: a block not saved", user);
			}
		} else if (!block && has_item(user, items.jids[i])) {
			if (store_del(BLOCK_KIND, key) != 0) {
				log_err("blocking %s: an unblock not saved",
				    user);
			}
			/* §3.4: and online again, if it may see presence */
			if (roster_has_from(user, bare)) {
				route_presence_of(user, items.jids[i], 0);
			}
		}
	}
	reply_and_free(stanza_result(iq));
	if (items.n > 0) {
		push(user, block ? "block" : "unblock", &items);
	}
out:
	list_free(&items);
	list_free(&cur);
}

int
blocking_iq(const struct xml_node *iq, const char *user)
{
	const char *type = xml_attr(iq, "type");
	const struct xml_node *el = xml_child(iq, NULL, NS_BLOCKING);

	if (type == NULL || el == NULL) {
		return 0;
	}
	if (strcmp(type, "get") == 0 && strcmp(el->name, "blocklist") == 0) {
		blocklist_get(iq, user);
		return 1;
	}
	if (strcmp(type, "set") == 0 && (strcmp(el->name, "block") == 0 ||
	    strcmp(el->name, "unblock") == 0)) {
		block_set(iq, el, user, strcmp(el->name, "block") == 0);
		return 0;
	}
	if (strcmp(type, "get") == 0 || strcmp(type, "set") == 0) {
		reply_and_free(stanza_error_reply(iq, NULL, "bad-request",
		    NULL));
	}
	return 0;
}

void
blocking_account_removed(const char *user)
{
	struct jid_list l = { NULL, 0, 0 };
	char key[2 * JID_MAX + 2];
	size_t i;

	user_items(user, &l);
	for (i = 0; i < l.n; i++) {
		snprintf(key, sizeof(key), "%s %s", user, l.jids[i]);
		store_del(BLOCK_KIND, key);
	}
	list_free(&l);
}
