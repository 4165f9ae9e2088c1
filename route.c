/*
 * route.c - the session table and local delivery (RFC 6121 §8): which
 * sessions get a stanza addressed to a bare or full JID, presence
 * broadcast to a user's own resources, directed presence, and offline
 * messages (XEP-0160).
 */
#include "route.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "c2s.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "muc.h"
#include "server.h"
#include "services.h"
#include "stanza.h"
#include "store.h"

#define ROUTE_OFFLINE_KIND	"offline"
#define ROUTE_OFFLINE_MAX	100	/* messages kept per user */
#define NS_DELAY		"urn:xmpp:delay"

/* One bound session as the router sees it. */
struct route_sess {
	struct c2s		*c2s;
	struct route_sess	*next;		/* same user */
	char			**directed;	/* JIDs sent directed presence */
	size_t			 ndirected;
	char			*presence;	/* last broadcast presence, serialized */
	size_t			 presence_len;
};

struct route_user {
	char			*bare;
	struct route_sess	*sessions;
	struct route_user	*hnext;
};

static struct {
	struct route_user	**buckets;
	size_t			 nbuckets;
	size_t			 nusers;
	size_t			 nsessions;
	struct buf		 out;		/* serializing */
	unsigned long long	 offline_seq;
} rt;

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct route_user *
user_find(const char *bare, size_t bare_len)
{
	struct route_user *u;
	char key[JID_MAX + 1];

	if (rt.nbuckets == 0 || bare_len > JID_MAX)
		return NULL;
	memcpy(key, bare, bare_len);
	key[bare_len] = '\0';
	for (u = rt.buckets[hash_str(key) % rt.nbuckets]; u; u = u->hnext) {
		if (strcmp(u->bare, key) == 0)
			return u;
	}
	return NULL;
}

static void
table_grow(void)
{
	struct route_user **nb, *u, *next;
	size_t i, n = rt.nbuckets ? rt.nbuckets * 2 : 64;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < rt.nbuckets; i++) {
		for (u = rt.buckets[i]; u; u = next) {
			next = u->hnext;
			u->hnext = nb[hash_str(u->bare) % n];
			nb[hash_str(u->bare) % n] = u;
		}
	}
	free(rt.buckets);
	rt.buckets = nb;
	rt.nbuckets = n;
}

static struct route_user *
user_get(const char *bare, size_t bare_len)
{
	struct route_user *u = user_find(bare, bare_len);
	size_t b;

	if (u != NULL)
		return u;
	if (rt.nusers + 1 > rt.nbuckets)
		table_grow();
	u = xcalloc(1, sizeof(*u));
	u->bare = xstrndup(bare, bare_len);
	b = hash_str(u->bare) % rt.nbuckets;
	u->hnext = rt.buckets[b];
	rt.buckets[b] = u;
	rt.nusers++;
	return u;
}

static void
user_drop_if_empty(struct route_user *u)
{
	struct route_user **pp;

	if (u->sessions != NULL)
		return;
	for (pp = &rt.buckets[hash_str(u->bare) % rt.nbuckets]; *pp;
	    pp = &(*pp)->hnext) {
		if (*pp == u) {
			*pp = u->hnext;
			break;
		}
	}
	rt.nusers--;
	free(u->bare);
	free(u);
}

static struct route_sess *
sess_find_full(const char *full)
{
	struct route_user *u = user_find(full, jid_bare_len(full));
	struct route_sess *rs;

	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (strcmp(c2s_jid(rs->c2s), full) == 0)
			return rs;
	}
	return NULL;
}

static struct route_sess *
sess_of(const struct c2s *s)
{
	const char *full = c2s_jid(s);
	struct route_user *u = user_find(full, jid_bare_len(full));
	struct route_sess *rs;

	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (rs->c2s == s)
			return rs;
	}
	return NULL;
}

static void
sess_free(struct route_sess *rs)
{
	size_t i;

	for (i = 0; i < rs->ndirected; i++)
		free(rs->directed[i]);
	free(rs->directed);
	free(rs->presence);
	free(rs);
}

/* ---- sending ---- */

static void
send_to_session(struct route_sess *rs, const struct xml_node *st)
{
	c2s_send_stanza(rs->c2s, st);
}

/* Reply to st with a stanza error, unless st is itself an error. */
static void
route_error(const struct xml_node *st, const char *cond)
{
	struct xml_node *reply;

	if (stanza_is_error(st) || xml_attr(st, "from") == NULL)
		return;
	reply = stanza_error_reply(st, NULL, cond, NULL);
	route_stanza(reply);
	xml_free(reply);
}

void
route_prepare(struct route_prepared *p, const struct xml_node *st)
{
	struct xml_node *copy = xml_clone(st);

	xml_set_attr(copy, "to", NULL);
	buf_init(&p->bytes, 0);
	xml_serialize(copy, XML_NS_CLIENT, &p->bytes);
	p->name_len = 1 + strlen(st->name);
	xml_free(copy);
}

void
route_prepared_send(const struct route_prepared *p, const char *to)
{
	struct route_sess *rs = sess_find_full(to);

	if (rs == NULL || p->bytes.err || p->bytes.len < p->name_len)
		return;
	buf_reset(&rt.out);
	buf_append(&rt.out, p->bytes.data, p->name_len);
	buf_puts(&rt.out, " to='");
	xml_escape(&rt.out, to, strlen(to), 1);
	buf_putc(&rt.out, '\'');
	buf_append(&rt.out, p->bytes.data + p->name_len,
	    p->bytes.len - p->name_len);
	c2s_send(rs->c2s, rt.out.data, rt.out.len);
}

void
route_prepared_free(struct route_prepared *p)
{
	buf_free(&p->bytes);
}

/* ---- offline messages (XEP-0160) ---- */

static int
count_cb(void *ud, const char *key, const char *value)
{
	(void)key;
	(void)value;
	(*(size_t *)ud)++;
	return 0;
}

static void
offline_store(const struct xml_node *msg, const char *bare)
{
	const struct config *cfg = config_get();
	struct xml_node *copy;
	struct xml_node *delay;
	char prefix[JID_MAX + 2], key[JID_MAX + 40], stamp[32];
	size_t count = 0;
	time_t now = time(NULL);
	struct tm tm;

	snprintf(prefix, sizeof(prefix), "%s ", bare);
	store_foreach(ROUTE_OFFLINE_KIND, prefix, count_cb, &count);
	if (count >= ROUTE_OFFLINE_MAX) {
		route_error(msg, "service-unavailable");
		return;
	}
	copy = xml_clone(msg);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	delay = xml_add(copy, "delay", NS_DELAY);
	xml_set_attr(delay, "from", cfg->domain);
	xml_set_attr(delay, "stamp", stamp);
	if (rt.offline_seq == 0)
		rt.offline_seq = (unsigned long long)now * 1000000ULL;
	snprintf(key, sizeof(key), "%s %016llx", bare, ++rt.offline_seq);
	buf_reset(&rt.out);
	xml_serialize(copy, XML_NS_CLIENT, &rt.out);
	store_put(ROUTE_OFFLINE_KIND, key, rt.out.data);
	xml_free(copy);
}

struct offline_list {
	char	**keys;
	size_t	 n, cap;
};

static int
offline_collect(void *ud, const char *key, const char *value)
{
	struct offline_list *l = ud;

	(void)value;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->keys = xrealloc(l->keys, l->cap * sizeof(*l->keys));
	}
	l->keys[l->n++] = xstrdup(key);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
offline_deliver(struct route_sess *rs, const char *bare)
{
	struct offline_list l = { NULL, 0, 0 };
	char prefix[JID_MAX + 2];
	const char *v;
	size_t i;

	snprintf(prefix, sizeof(prefix), "%s ", bare);
	store_foreach(ROUTE_OFFLINE_KIND, prefix, offline_collect, &l);
	qsort(l.keys, l.n, sizeof(*l.keys), cmp_str);
	for (i = 0; i < l.n; i++) {
		v = store_get(ROUTE_OFFLINE_KIND, l.keys[i]);
		if (v != NULL)
			c2s_send(rs->c2s, v, strlen(v));
		store_del(ROUTE_OFFLINE_KIND, l.keys[i]);
		free(l.keys[i]);
	}
	free(l.keys);
}

/* ---- local delivery (RFC 6121 §8.5) ---- */

static void
deliver_message_bare(const struct xml_node *st, const char *bare,
    const char *type)
{
	struct route_user *u = user_find(bare, strlen(bare));
	struct route_sess *rs;
	int best = -1;

	if (strcmp(type, "groupchat") == 0) {
		route_error(st, "service-unavailable");
		return;
	}
	if (strcmp(type, "error") == 0)
		return;
	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (c2s_available(rs->c2s) && c2s_priority(rs->c2s) > best)
			best = c2s_priority(rs->c2s);
	}
	if (best < 0) {
		/* §8.5.2.2: no available resource with priority >= 0. */
		if (strcmp(type, "headline") != 0)
			offline_store(st, bare);
		return;
	}
	for (rs = u->sessions; rs; rs = rs->next) {
		if (!c2s_available(rs->c2s))
			continue;
		/* chat and normal go to the top priority; headline to all
		 * non-negative ones */
		if (c2s_priority(rs->c2s) == best ||
		    (strcmp(type, "headline") == 0 &&
		    c2s_priority(rs->c2s) >= 0))
			send_to_session(rs, st);
	}
}

static void
deliver_local(const struct xml_node *st, const char *to)
{
	const char *type = xml_attr(st, "type");
	const char *res = jid_resource(to);
	char bare[JID_MAX + 1];
	struct route_user *u;
	struct route_sess *rs;
	int is_msg = strcmp(st->name, "message") == 0;
	int is_iq = strcmp(st->name, "iq") == 0;

	jid_bare(to, bare, sizeof(bare));
	if (type == NULL)
		type = is_msg ? "normal" : "";
	if (!account_exists(bare)) {
		/* §8.5.1: no such user */
		if (is_msg || (is_iq && (strcmp(type, "get") == 0 ||
		    strcmp(type, "set") == 0)))
			route_error(st, "service-unavailable");
		return;
	}
	if (res != NULL) {
		rs = sess_find_full(to);
		if (rs != NULL) {
			send_to_session(rs, st);
			return;
		}
		/* §8.5.3.2: no such resource */
		if (is_msg) {
			if (strcmp(type, "chat") == 0 ||
			    strcmp(type, "normal") == 0)
				deliver_message_bare(st, bare, type);
			else if (strcmp(type, "groupchat") == 0)
				route_error(st, "service-unavailable");
		} else if (is_iq) {
			if (strcmp(type, "get") == 0 ||
			    strcmp(type, "set") == 0)
				route_error(st, "service-unavailable");
		}
		return;
	}
	if (is_msg) {
		deliver_message_bare(st, bare, type);
	} else if (is_iq) {
		services_account_iq(st, bare);
	} else {
		/* presence to a bare JID: every available resource */
		u = user_find(bare, strlen(bare));
		for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
			if (c2s_available(rs->c2s))
				send_to_session(rs, st);
		}
	}
}

void
route_stanza(const struct xml_node *st)
{
	const struct config *cfg = config_get();
	const char *to = xml_attr(st, "to");
	char canon[JID_MAX + 1], dom[JID_MAX + 1];

	if (to == NULL) {
		log_debug("route: dropping %s without 'to'", st->name);
		return;
	}
	if (jid_canon(to, canon, sizeof(canon)) != 0 ||
	    jid_domain(canon, dom, sizeof(dom)) != 0) {
		route_error(st, "jid-malformed");
		return;
	}
	if (strcmp(dom, cfg->muc_domain) == 0) {
		muc_handle(st);
	} else if (strcmp(dom, cfg->domain) != 0) {
		/* no server-to-server yet */
		route_error(st, "remote-server-not-found");
	} else if (strchr(canon, '@') == NULL && jid_resource(canon) == NULL) {
		if (strcmp(st->name, "iq") == 0)
			services_server_iq(st);
	} else if (strchr(canon, '@') == NULL) {
		/* domain/resource: nothing lives there */
		route_error(st, "service-unavailable");
	} else {
		deliver_local(st, canon);
	}
}

/* ---- presence ---- */

static void
directed_add(struct route_sess *rs, const char *jid)
{
	size_t i;

	for (i = 0; i < rs->ndirected; i++) {
		if (strcmp(rs->directed[i], jid) == 0)
			return;
	}
	rs->directed = xrealloc(rs->directed,
	    (rs->ndirected + 1) * sizeof(*rs->directed));
	rs->directed[rs->ndirected++] = xstrdup(jid);
}

static void
directed_remove(struct route_sess *rs, const char *jid)
{
	size_t i;

	for (i = 0; i < rs->ndirected; i++) {
		if (strcmp(rs->directed[i], jid) == 0) {
			free(rs->directed[i]);
			rs->directed[i] = rs->directed[--rs->ndirected];
			return;
		}
	}
}

/* Presence without 'to' from a client: RFC 6121 §4.2 and §4.5. */
static void
presence_broadcast(struct c2s *s, struct route_sess *rs,
    struct xml_node *st)
{
	const char *type = xml_attr(st, "type");
	const char *full = c2s_jid(s);
	struct route_user *u = user_find(full, jid_bare_len(full));
	struct route_prepared p;
	struct route_sess *o;
	char bare[JID_MAX + 1];
	int initial;
	size_t i;

	if (type != NULL && strcmp(type, "unavailable") != 0)
		return;		/* subscriptions and probes need a 'to' */
	jid_bare(full, bare, sizeof(bare));
	route_prepare(&p, st);
	if (type == NULL) {
		initial = !c2s_available(s);
		c2s_set_available(s, 1);
		free(rs->presence);
		rs->presence = xstrndup(p.bytes.data, p.bytes.len);
		rs->presence_len = p.bytes.len;
		for (o = u->sessions; o; o = o->next) {
			if (c2s_available(o->c2s))
				route_prepared_send(&p, c2s_jid(o->c2s));
		}
		if (initial) {
			/* the new resource learns of the others */
			for (o = u->sessions; o; o = o->next) {
				struct route_prepared op;

				if (o == rs || !c2s_available(o->c2s) ||
				    o->presence == NULL)
					continue;
				op.bytes.data = o->presence;
				op.bytes.len = o->presence_len;
				op.bytes.err = 0;
				op.name_len = strlen("<presence");
				route_prepared_send(&op, full);
			}
			if (c2s_priority(s) >= 0)
				offline_deliver(rs, bare);
		}
	} else {
		c2s_set_available(s, 0);
		for (o = u->sessions; o; o = o->next) {
			if (o != rs && c2s_available(o->c2s))
				route_prepared_send(&p, c2s_jid(o->c2s));
		}
		/* §4.6.3: unavailable to every directed-presence peer */
		for (i = 0; i < rs->ndirected; i++) {
			xml_set_attr(st, "to", rs->directed[i]);
			route_stanza(st);
		}
		while (rs->ndirected > 0)
			free(rs->directed[--rs->ndirected]);
		free(rs->presence);
		rs->presence = NULL;
	}
	route_prepared_free(&p);
}

void
route_from_client(struct c2s *s, struct xml_node *st)
{
	const char *to = xml_attr(st, "to");
	const char *type = xml_attr(st, "type");
	struct route_sess *rs = sess_of(s);
	char canon[JID_MAX + 1], bare[JID_MAX + 1];

	if (rs == NULL)
		return;
	jid_bare(c2s_jid(s), bare, sizeof(bare));
	if (strcmp(st->name, "presence") == 0) {
		if (to == NULL) {
			presence_broadcast(s, rs, st);
			return;
		}
		if (jid_canon(to, canon, sizeof(canon)) != 0) {
			route_error(st, "jid-malformed");
			return;
		}
		if (type == NULL)
			directed_add(rs, canon);
		else if (strcmp(type, "unavailable") == 0)
			directed_remove(rs, canon);
		route_stanza(st);
		return;
	}
	if (to == NULL) {
		/* RFC 6120 §10.3: handled on behalf of the account */
		if (strcmp(st->name, "iq") == 0) {
			services_account_iq(st, bare);
			return;
		}
		xml_set_attr(st, "to", bare);
	}
	route_stanza(st);
}

/* ---- sessions ---- */

void
route_session_add(struct c2s *s)
{
	const char *full = c2s_jid(s);
	struct route_sess *old = sess_find_full(full);
	struct route_user *u;
	struct route_sess *rs;

	if (rt.out.max == 0)
		buf_init(&rt.out, 0);
	if (old != NULL) {
		/* RFC 6120 §7.7.2.2: the new session wins */
		struct c2s *olds = old->c2s;

		route_session_remove(olds);
		c2s_replaced(olds);
	}
	u = user_get(full, jid_bare_len(full));
	rs = xcalloc(1, sizeof(*rs));
	rs->c2s = s;
	rs->next = u->sessions;
	u->sessions = rs;
	rt.nsessions++;
}

void
route_session_remove(struct c2s *s)
{
	const char *full = c2s_jid(s);
	struct route_user *u;
	struct route_sess **pp, *rs = sess_of(s);
	struct xml_node *pres;
	size_t i;

	if (rs == NULL)
		return;
	/* Rooms learn of it from muc_session_gone(), with its status. */
	for (i = 0; i < rs->ndirected; ) {
		char dom[JID_MAX + 1];

		if (jid_domain(rs->directed[i], dom, sizeof(dom)) == 0 &&
		    strcmp(dom, config_get()->muc_domain) == 0)
			directed_remove(rs, rs->directed[i]);
		else
			i++;
	}
	muc_session_gone(full);
	if (c2s_available(s) || rs->ndirected > 0) {
		/* went away without unavailable presence: say it for them */
		pres = xml_new("presence", XML_NS_CLIENT);
		xml_set_attr(pres, "type", "unavailable");
		xml_set_attr(pres, "from", full);
		if (c2s_available(s))
			presence_broadcast(s, rs, pres);
		for (i = 0; i < rs->ndirected; i++) {
			xml_set_attr(pres, "to", rs->directed[i]);
			route_stanza(pres);
		}
		xml_free(pres);
	}
	u = user_find(full, jid_bare_len(full));
	for (pp = &u->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == rs) {
			*pp = rs->next;
			break;
		}
	}
	sess_free(rs);
	rt.nsessions--;
	user_drop_if_empty(u);
}

int
route_user_exists(const char *bare_jid)
{
	return account_exists(bare_jid);
}
