/*
 * route.c - the session table and local delivery (RFC 6121 §8): which
 * sessions get a stanza addressed to a bare or full JID; presence (§4):
 * broadcast to the user's resources and subscribers, probes, directed
 * presence; offline messages (XEP-0160 with XEP-0203 delay); the
 * blocking filter (XEP-0191) and message carbons (XEP-0280), both being
 * delivery rules.
 */
#include "route.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "blocking.h"
#include "config.h"
#include "htab.h"
#include "jid.h"
#include "log.h"
#include "mam.h"
#include "ns.h"
#include "pep.h"
#include "roster.h"
#include "services.h"
#include "stanza.h"
#include "store.h"
#include "uxlimits.h"

#define ROUTE_OFFLINE_KIND	"offline"

_Static_assert(ROUTE_MAX_DIRECTED <= USHRT_MAX,
    "struct route_sess counts directed presence in 16 bits");

/* One bound session as the router sees it. */
struct route_sess {
	void			*owner;		/* the session's stream */
	const struct route_session_ops *ops;
	const char		*jid;		/* full JID, borrowed from owner */
	struct route_sess	*next;		/* same user */
	char			**directed;	/* JIDs sent directed presence */
	struct xml_node		*presence;	/* last available presence,
						   with its delay, no 'to' */
	/* 16 bits, so that the counter, the flags and the priority fit
	 * the 8 bytes after the pointers: 56 bytes, a 64-byte malloc
	 * chunk instead of an 80-byte one (every idle session has one). */
	unsigned short		 ndirected;	/* <= ROUTE_MAX_DIRECTED */
	unsigned		 roster_interested:1; /* fetched the roster */
	unsigned		 block_interested:1;  /* fetched the blocklist */
	unsigned		 carbons:1;	/* XEP-0280 enabled */
	unsigned		 mark:1;	/* got the stanza being delivered */
	unsigned		 available:1;	/* broadcast presence is available */
	unsigned		 unlimited:1;	/* from a limits_exempt address */
	int			 priority;	/* of the last available presence */
};

struct route_user {
	char			*bare;
	struct route_sess	*sessions;
	struct hnode		 node;		/* in rt.users, by bare */
};

static struct {
	struct htab		 users;
	size_t			 nsessions;
	struct buf		 out;		/* serializing */
	struct buf		 stanza;	/* serializing one for a session;
						   zeroed: an empty buffer */
	struct route_service {
		char	*domain;
		void	(*handle)(const struct xml_node *st);
		void	(*session_gone)(const char *full_jid);
	}			 services[ROUTE_MAX_SERVICES];
	size_t			 nservices;
	unsigned long long	 offline_seq;
	int			 sender_unlimited; /* route_sender_unlimited */
} rt;

static struct route_user *
user_find(const char *bare, size_t bare_len)
{
	struct hnode *n = htab_find(&rt.users, bare, bare_len);

	return n ? HTAB_ENTRY(n, struct route_user, node) : NULL;
}

static struct route_user *
user_get(const char *bare, size_t bare_len)
{
	struct route_user *u = user_find(bare, bare_len);

	if (u != NULL) {
		return u;
	}
	u = xcalloc(1, sizeof(*u));
	u->bare = xstrndup(bare, bare_len);
	htab_add(&rt.users, &u->node, u->bare);
	return u;
}

static void
user_drop_if_empty(struct route_user *u)
{
	if (u->sessions != NULL) {
		return;
	}
	htab_del(&rt.users, &u->node);
	free(u->bare);
	free(u);
}

static struct route_sess *
sess_find_full(const char *full)
{
	struct route_user *u = user_find(full, jid_bare_len(full));
	struct route_sess *rs;

	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (strcmp(rs->jid, full) == 0) {
			return rs;
		}
	}
	return NULL;
}

static void
sess_free(struct route_sess *rs)
{
	size_t i;

	for (i = 0; i < rs->ndirected; i++) {
		free(rs->directed[i]);
	}
	free(rs->directed);
	xml_free(rs->presence);
	free(rs);
}

/* Unregister rs, then tell its stream to end with cond.  The stream
 * learns it has no session any more from the call itself. */
static void
sess_end(struct route_sess *rs, const char *cond)
{
	void *owner = rs->owner;
	const struct route_session_ops *ops = rs->ops;

	route_session_remove(rs);
	ops->end(owner, cond);
}

/* ---- sending ---- */

/* Serialize st and queue it on the session's stream. */
static void
sess_send_stanza(struct route_sess *rs, const struct xml_node *st)
{
	buf_reset(&rt.stanza);
	xml_serialize(st, XML_NS_CLIENT, &rt.stanza);
	rs->ops->send(rs->owner, rt.stanza.data, rt.stanza.len);
}

static void
send_to_session(struct route_sess *rs, const struct xml_node *st)
{
	rs->mark = 1;
	sess_send_stanza(rs, st);
}

/* Reply to st with a stanza error, unless st is itself an error. */
static void
route_error(const struct xml_node *st, const char *cond)
{
	struct xml_node *reply;

	if (stanza_is_error(st) || xml_attr(st, "from") == NULL) {
		return;
	}
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

	if (rs == NULL || p->bytes.err || p->bytes.len < p->name_len) {
		return;
	}
	buf_reset(&rt.out);
	buf_append(&rt.out, p->bytes.data, p->name_len);
	buf_puts(&rt.out, " to='");
	xml_escape(&rt.out, to, strlen(to), 1);
	buf_putc(&rt.out, '\'');
	buf_append(&rt.out, p->bytes.data + p->name_len,
	    p->bytes.len - p->name_len);
	rs->ops->send(rs->owner, rt.out.data, rt.out.len);
}

void
route_prepared_free(struct route_prepared *p)
{
	buf_free(&p->bytes);
}

/* ---- offline messages (XEP-0160) ---- */

/* A user's stored messages: how many, and the highest sequence number
 * in their keys ("bare %016llx"). */
struct offline_scan {
	size_t			count;
	unsigned long long	max_seq;
};

static int
scan_cb(void *ud, const char *key, const char *value)
{
	struct offline_scan *sc = ud;
	const char *sp = strrchr(key, ' ');
	unsigned long long seq;

	(void)value;
	sc->count++;
	seq = sp != NULL ? strtoull(sp + 1, NULL, 16) : 0;
	if (seq > sc->max_seq) {
		sc->max_seq = seq;
	}
	return 0;
}

static void
stamp_now(char *out, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
add_delay(struct xml_node *st)
{
	struct xml_node *delay;
	char stamp[32];

	stamp_now(stamp, sizeof(stamp));
	delay = xml_add(st, "delay", NS_DELAY);
	xml_set_attr(delay, "from", config_get()->domain);
	xml_set_attr(delay, "stamp", stamp);
}

/* Does st carry a delay stamped by this server (XEP-0203 §3)? */
static int
has_own_delay(const struct xml_node *st)
{
	const struct xml_node *d;
	const char *from;

	for (d = xml_child(st, "delay", NS_DELAY); d != NULL;
	    d = xml_next(d, "delay", NS_DELAY)) {
		from = xml_attr(d, "from");
		if (from != NULL && strcmp(from, config_get()->domain) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Remove delays a client claims this server stamped. */
static void
strip_own_delays(struct xml_node *st)
{
	struct xml_node *d, *next;
	const char *from;

	for (d = xml_child(st, "delay", NS_DELAY); d != NULL; d = next) {
		next = xml_next(d, "delay", NS_DELAY);
		from = xml_attr(d, "from");
		if (from != NULL && strcmp(from, config_get()->domain) == 0) {
			xml_unlink(d);
		}
	}
}

static void
offline_store(const struct xml_node *msg, const char *bare)
{
	struct xml_node *copy;
	char prefix[JID_MAX + 2], key[JID_MAX + 40];
	struct offline_scan sc = { 0, 0 };

	/* XEP-0160 §3: a bare chat state notification is not worth keeping */
	if (xml_child(msg, "body", NULL) == NULL &&
	    xml_child(msg, NULL, NS_CHATSTATES) != NULL) {
		return;
	}
	snprintf(prefix, sizeof(prefix), "%s ", bare);
	store_foreach(ROUTE_OFFLINE_KIND, prefix, scan_cb, &sc);
	if (sc.count >= ROUTE_OFFLINE_MAX) {
		route_error(msg, "service-unavailable");
		return;
	}
	copy = xml_clone(msg);
	/* one delay per delaying entity: stream management already stamped
	 * a re-routed message with the time it was first sent */
	if (!has_own_delay(copy)) {
		add_delay(copy);
	}
	if (rt.offline_seq == 0) {
		rt.offline_seq = (unsigned long long)time(NULL) * 1000000ULL;
	}
	/* after those kept by an earlier run, whatever the clock says: a
	 * restart within the same second (or with the clock set back) must
	 * neither overwrite nor reorder them */
	if (rt.offline_seq < sc.max_seq) {
		rt.offline_seq = sc.max_seq;
	}
	snprintf(key, sizeof(key), "%s %016llx", bare, ++rt.offline_seq);
	buf_reset(&rt.out);
	xml_serialize(copy, XML_NS_CLIENT, &rt.out);
	/* not kept (store full, failing or the message too big for a
	 * record): the sender learns it was not delivered */
	if (rt.out.err ||
	    store_put(ROUTE_OFFLINE_KIND, key, rt.out.data) != 0) {
		log_warn("offline message for %s not stored", bare);
		route_error(msg, "resource-constraint");
	}
	xml_free(copy);
}

/* Deliver (to == NULL: delete) the stored messages of bare, in order. */
static void
offline_flush(struct route_sess *rs, const char *bare)
{
	char prefix[JID_MAX + 2];
	const char *v;
	char **keys;
	size_t i;

	snprintf(prefix, sizeof(prefix), "%s ", bare);
	/* keys are fixed-width hex sequence numbers: sorted is in order */
	keys = store_keys(ROUTE_OFFLINE_KIND, prefix, NULL);
	for (i = 0; keys[i] != NULL; i++) {
		v = store_get(ROUTE_OFFLINE_KIND, keys[i]);
		if (v != NULL && rs != NULL) {
			rs->ops->send(rs->owner, v, strlen(v));
		}
		/* a delete the store refuses keeps the message: sent again
		 * at the next login rather than lost */
		if (store_del(ROUTE_OFFLINE_KIND, keys[i]) != 0) {
			log_warn("offline message of %s kept: the store "
			    "refused its deletion", bare);
		}
	}
	store_keys_free(keys);
}

/* ---- message carbons (XEP-0280) ---- */

/* §6: which messages are copied. */
static int
carbons_should_copy(const struct xml_node *st, int to_full)
{
	const char *type = xml_attr(st, "type");

	if (type == NULL) {
		type = "normal";
	}
	if (xml_child(st, "private", NS_CARBONS) != NULL ||
	    xml_child(st, "no-copy", NS_HINTS) != NULL) {
		return 0;
	}
	/* a private message from a room occupant (to a full JID) */
	if (to_full && xml_child(st, "x", NS_MUC_USER) != NULL) {
		return 0;
	}
	/* a carbon itself is never copied */
	if (xml_child(st, "sent", NS_CARBONS) != NULL ||
	    xml_child(st, "received", NS_CARBONS) != NULL) {
		return 0;
	}
	if (strcmp(type, "chat") == 0) {
		return 1;
	}
	return strcmp(type, "normal") == 0 &&
	    xml_child(st, "body", NULL) != NULL;
}

/* Send a copy of st wrapped in <dir/> to each carbons-enabled session of
 * u except 'skip' and the marked ones. */
static void
carbons_send(struct route_user *u, const struct xml_node *st,
    const char *dir, const struct route_sess *skip)
{
	struct route_sess *o;
	struct xml_node *wrap = NULL, *fwd;
	const char *type = xml_attr(st, "type");

	for (o = u->sessions; o; o = o->next) {
		if (!o->carbons || o == skip || o->mark) {
			continue;
		}
		if (wrap == NULL) {
			wrap = xml_new("message", XML_NS_CLIENT);
			xml_set_attr(wrap, "from", u->bare);
			if (type != NULL) {
				xml_set_attr(wrap, "type", type);
			}
			fwd = xml_add(xml_add(wrap, dir, NS_CARBONS),
			    "forwarded", NS_FORWARD);
			xml_copy_into(fwd, st);
		}
		xml_set_attr(wrap, "to", o->jid);
		sess_send_stanza(o, wrap);
	}
	xml_free(wrap);
}

static void
marks_clear(struct route_user *u)
{
	struct route_sess *o;

	for (o = u ? u->sessions : NULL; o; o = o->next) {
		o->mark = 0;
	}
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
	if (strcmp(type, "error") == 0) {
		return;
	}
	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (rs->available && rs->priority > best) {
			best = rs->priority;
		}
	}
	if (best < 0) {
		/* §8.5.2.2: no available resource with priority >= 0 */
		if (strcmp(type, "headline") != 0) {
			offline_store(st, bare);
		}
		return;
	}
	for (rs = u->sessions; rs; rs = rs->next) {
		if (!rs->available) {
			continue;
		}
		/* chat and normal go to the top priority; headline to all
		 * non-negative ones */
		if (rs->priority == best ||
		    (strcmp(type, "headline") == 0 &&
		    rs->priority >= 0)) {
			send_to_session(rs, st);
		}
	}
}

/* §4.3.2: a probe from 'from' for the presence of local user bare. */
static void
answer_probe(const char *bare, const char *from)
{
	char from_bare[JID_MAX + 1];
	struct xml_node *p;

	if (jid_bare(from, from_bare, sizeof(from_bare)) != 0) {
		return;
	}
	p = xml_new("presence", XML_NS_CLIENT);
	xml_set_attr(p, "from", bare);
	if (strcmp(from_bare, bare) == 0 || roster_has_from(bare, from_bare)) {
		if (route_presence_of(bare, from, 0) == 0) {
			xml_set_attr(p, "to", from);
			xml_set_attr(p, "type", "unavailable");
			route_stanza(p);
		}
	} else {
		xml_set_attr(p, "to", from_bare);
		xml_set_attr(p, "type", "unsubscribed");
		route_stanza(p);
	}
	xml_free(p);
}

static int
is_sub_type(const char *type)
{
	return type != NULL && (strcmp(type, "subscribe") == 0 ||
	    strcmp(type, "subscribed") == 0 ||
	    strcmp(type, "unsubscribe") == 0 ||
	    strcmp(type, "unsubscribed") == 0);
}

static void
deliver_presence(const struct xml_node *st, const char *to,
    const char *bare, const char *type)
{
	const char *from = xml_attr(st, "from");
	char from_bare[JID_MAX + 1];
	struct route_user *u;
	struct route_sess *rs;

	if (from == NULL || jid_bare(from, from_bare, sizeof(from_bare)) != 0) {
		return;
	}
	if (is_sub_type(type)) {
		roster_inbound(st, bare, from_bare);
		return;
	}
	if (type != NULL && strcmp(type, "probe") == 0) {
		answer_probe(bare, from);
		return;
	}
	if (type != NULL && strcmp(type, "unavailable") != 0 &&
	    strcmp(type, "error") != 0) {
		return;
	}
	/* the sender may hear this account's PEP events (XEP-0163 §4.3) */
	pep_presence(bare, st);
	if (jid_resource(to) != NULL) {
		rs = sess_find_full(to);
		if (rs != NULL) {
			send_to_session(rs, st);
		}
		return;
	}
	u = user_find(bare, strlen(bare));
	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (rs->available) {
			send_to_session(rs, st);
		}
	}
}

/* XEP-0191 §3.5: what a blocked sender's stanza becomes. */
static void
deliver_blocked(const struct xml_node *st, const char *to, const char *type)
{
	if (strcmp(st->name, "message") == 0) {
		if (strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0) {
			return;
		}
		if (jid_resource(to) != NULL && sess_find_full(to) != NULL) {
			return;
		}
		route_error(st, "service-unavailable");
	} else if (strcmp(st->name, "iq") == 0) {
		if (strcmp(type, "get") == 0 || strcmp(type, "set") == 0) {
			route_error(st, "service-unavailable");
		}
	}
}

/*
 * §8.5.1: a probe or subscription request for an account that does not
 * exist (any more) is answered with an error and unsubscribed, straight
 * to the sending session so that its roster state does not filter it.
 */
static void
presence_no_user(const struct xml_node *st, const char *bare,
    const char *type)
{
	const char *from = xml_attr(st, "from");
	char canon[JID_MAX + 1];
	struct route_sess *rs;
	struct xml_node *p;

	if (strcmp(type, "probe") != 0 && strcmp(type, "subscribe") != 0) {
		return;
	}
	if (from == NULL || jid_canon(from, canon, sizeof(canon)) != 0) {
		return;
	}
	route_error(st, "service-unavailable");
	rs = sess_find_full(canon);
	if (rs == NULL) {
		return;
	}
	p = xml_new("presence", XML_NS_CLIENT);
	xml_set_attr(p, "from", bare);
	xml_set_attr(p, "to", canon);
	xml_set_attr(p, "type", "unsubscribed");
	send_to_session(rs, p);
	xml_free(p);
}

static void
deliver_local(const struct xml_node *st, const char *to)
{
	const char *type = xml_attr(st, "type");
	const char *from = xml_attr(st, "from");
	const char *res = jid_resource(to);
	char bare[JID_MAX + 1], from_canon[JID_MAX + 1];
	struct route_user *u;
	struct route_sess *rs;
	struct xml_node *archived = NULL;
	int is_msg = strcmp(st->name, "message") == 0;
	int is_iq = strcmp(st->name, "iq") == 0;

	jid_bare(to, bare, sizeof(bare));
	if (type == NULL) {
		type = is_msg ? "normal" : "";
	} else if (is_msg && strcmp(type, "chat") != 0 &&
	    strcmp(type, "groupchat") != 0 && strcmp(type, "headline") != 0 &&
	    strcmp(type, "error") != 0) {
		/* RFC 6121 §5.2.2: an unknown type is handled as normal */
		type = "normal";
	}
	if (!account_exists(bare)) {
		/* §8.5.1: no such user */
		if (is_msg || (is_iq && (strcmp(type, "get") == 0 ||
		    strcmp(type, "set") == 0))) {
			route_error(st, "service-unavailable");
		} else if (!is_msg && !is_iq) {
			presence_no_user(st, bare, type);
		}
		return;
	}
	if (from != NULL &&
	    jid_canon(from, from_canon, sizeof(from_canon)) == 0 &&
	    !jid_bare_eq(from_canon, bare) &&
	    blocking_is_blocked(bare, from_canon)) {
		deliver_blocked(st, to, type);
		return;
	}
	if (!is_msg && !is_iq) {
		deliver_presence(st, to, bare, xml_attr(st, "type"));
		return;
	}
	/* XEP-0313: into the recipient's archive, delivered (offline and
	 * carbons too) with its stanza-id */
	if (is_msg && (archived = mam_archive_user(st, bare, from)) != NULL) {
		st = archived;
	}
	u = user_find(bare, strlen(bare));
	marks_clear(u);
	if (res != NULL) {
		rs = sess_find_full(to);
		if (rs != NULL) {
			send_to_session(rs, st);
		} else if (is_msg) {
			/* §8.5.3.2: no such resource */
			if (strcmp(type, "chat") == 0 ||
			    strcmp(type, "normal") == 0) {
				deliver_message_bare(st, bare, type);
			} else if (strcmp(type, "groupchat") == 0) {
				route_error(st, "service-unavailable");
			}
		} else if (is_iq) {
			if (strcmp(type, "get") == 0 ||
			    strcmp(type, "set") == 0) {
				route_error(st, "service-unavailable");
			}
		}
	} else if (is_msg) {
		deliver_message_bare(st, bare, type);
	} else {
		services_account_iq(st, bare);
		return;
	}
	u = user_find(bare, strlen(bare));
	if (is_msg && u != NULL && carbons_should_copy(st, res != NULL)) {
		carbons_send(u, st, "received", NULL);
	}
	xml_free(archived);
}

/* The service registered at domain dom, or NULL. */
static struct route_service *
service_of(const char *dom)
{
	size_t i;

	for (i = 0; i < rt.nservices; i++) {
		if (strcmp(rt.services[i].domain, dom) == 0) {
			return &rt.services[i];
		}
	}
	return NULL;
}

/* See route.h. */
int
route_register_domain(const char *domain,
    void (*handle)(const struct xml_node *stanza),
    void (*session_gone)(const char *full_jid))
{
	struct route_service *svc = service_of(domain);

	if (svc == NULL) {
		if (rt.nservices == ROUTE_MAX_SERVICES) {
			return -1;
		}
		svc = &rt.services[rt.nservices++];
		svc->domain = xstrdup(domain);
	}
	svc->handle = handle;
	svc->session_gone = session_gone;
	return 0;
}

void
route_stanza(const struct xml_node *st)
{
	const struct config *cfg = config_get();
	const char *to = xml_attr(st, "to");
	char canon[JID_MAX + 1], dom[JID_MAX + 1];
	const struct route_service *svc;

	if (rt.out.max == 0 && rt.out.data == NULL) {
		buf_init(&rt.out, 0);
	}
	if (to == NULL) {
		log_debug("route: dropping %s without 'to'", st->name);
		return;
	}
	if (jid_canon(to, canon, sizeof(canon)) != 0 ||
	    jid_domain(canon, dom, sizeof(dom)) != 0) {
		route_error(st, "jid-malformed");
		return;
	}
	if ((svc = service_of(dom)) != NULL) {
		svc->handle(st);
	} else if (strcmp(dom, cfg->domain) != 0) {
		/* no server-to-server yet */
		route_error(st, "remote-server-not-found");
	} else if (strchr(canon, '@') == NULL && jid_resource(canon) == NULL) {
		if (strcmp(st->name, "iq") == 0) {
			services_server_iq(st);
		} else if (strcmp(st->name, "presence") == 0) {
			services_server_presence(st);
		}
	} else if (strchr(canon, '@') == NULL) {
		/* domain/resource: nothing lives there */
		route_error(st, "service-unavailable");
	} else {
		deliver_local(st, canon);
	}
}

/* ---- presence ---- */

/* Remember jid as a directed-presence peer; -1 when the list is full
 * (it is scanned linearly and peer-controlled, so it must be bounded). */
static int
directed_add(struct route_sess *rs, const char *jid)
{
	size_t i;

	for (i = 0; i < rs->ndirected; i++) {
		if (strcmp(rs->directed[i], jid) == 0) {
			return 0;
		}
	}
	if (rs->ndirected >= ROUTE_MAX_DIRECTED) {
		return -1;
	}
	rs->directed = xrealloc(rs->directed,
	    (rs->ndirected + 1) * sizeof(*rs->directed));
	rs->directed[rs->ndirected++] = xstrdup(jid);
	return 0;
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

struct bcast {
	struct xml_node	*st;
	const char	*user;
	unsigned	 want;		/* ROSTER_SUB_* bit */
};

/* Route b->st to each contact with subscription b->want. */
static int
bcast_cb(void *ud, const struct roster_item *it)
{
	struct bcast *b = ud;

	if (!(it->sub & b->want) || blocking_is_blocked(b->user, it->jid)) {
		return 0;
	}
	xml_set_attr(b->st, "to", it->jid);
	route_stanza(b->st);
	return 0;
}

/* roster.c wants the session's own pending requests: bytes to send. */
static void
send_bytes_cb(void *ud, const char *data, size_t len)
{
	struct route_sess *rs = ud;

	rs->ops->send(rs->owner, data, len);
}

/* RFC 6121 §4.7.2.3: an integer from -128 to 127; anything else is 0. */
static int
parse_priority(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') {
		end++;
	}
	if (errno != 0 || end == text || *end != '\0' || v < -128 ||
	    v > 127) {
		return 0;
	}
	return (int)v;
}

/* Presence without 'to' from a client: RFC 6121 §4.2, §4.4 and §4.5. */
static void
presence_broadcast(struct route_sess *rs,
    struct xml_node *st)
{
	const char *type = xml_attr(st, "type");
	const char *full = rs->jid;
	struct route_user *u = user_find(full, jid_bare_len(full));
	struct route_prepared p;
	struct route_sess *o;
	struct bcast b;
	struct xml_node *probe, *prio;
	char bare[JID_MAX + 1];
	int initial;
	size_t i;

	if (type != NULL && strcmp(type, "unavailable") != 0) {
		if (strcmp(type, "error") != 0) {
			struct xml_node *reply = stanza_error_reply(st,
			    "modify", "bad-request", "Invalid presence type");

			sess_send_stanza(rs, reply);
			xml_free(reply);
		}
		return;
	}
	jid_bare(full, bare, sizeof(bare));
	route_prepare(&p, st);
	b.st = xml_clone(st);
	b.user = bare;
	b.want = ROSTER_SUB_FROM;
	if (type == NULL) {
		prio = xml_child(st, "priority", NULL);
		rs->priority = prio != NULL ? parse_priority(xml_text(prio)) : 0;
		initial = !rs->available;
		rs->available = 1;
		/* first, so a caps query precedes the echo (as Prosody) */
		pep_presence(bare, st);
		/* §4.2.2: the user's own available resources, itself too */
		for (o = u->sessions; o; o = o->next) {
			if (o->available) {
				route_prepared_send(&p, o->jid);
			}
		}
		/* §4.4.2: every contact subscribed to the user */
		roster_foreach(bare, bcast_cb, &b);
		/* kept for probes and later resources, stamped (XEP-0203) */
		xml_free(rs->presence);
		rs->presence = xml_clone(st);
		xml_set_attr(rs->presence, "to", NULL);
		add_delay(rs->presence);
		if (initial) {
			/* §4.2.2: probe the contacts the user is subscribed to */
			probe = xml_new("presence", XML_NS_CLIENT);
			xml_set_attr(probe, "type", "probe");
			xml_set_attr(probe, "from", full);
			xml_free(b.st);
			b.st = probe;
			b.want = ROSTER_SUB_TO;
			roster_foreach(bare, bcast_cb, &b);
			/* the new resource learns of the others */
			for (o = u->sessions; o; o = o->next) {
				if (o == rs || !o->available ||
				    o->presence == NULL) {
					continue;
				}
				xml_set_attr(o->presence, "to", full);
				sess_send_stanza(rs, o->presence);
				xml_set_attr(o->presence, "to", NULL);
			}
			/* §3.1.3: pending subscription requests */
			roster_resend_pending(bare, send_bytes_cb, rs);
			if (rs->priority >= 0) {
				offline_flush(rs, bare);
			}
		}
	} else {
		const struct xml_node *status = xml_child(st, "status", NULL);

		services_last_record(bare, status ? xml_text(status) : "");
		rs->available = 0;
		pep_presence(bare, st);
		/* itself (if still connected), and its other resources */
		for (o = u->sessions; o; o = o->next) {
			if (o == rs || o->available) {
				route_prepared_send(&p, o->jid);
			}
		}
		roster_foreach(bare, bcast_cb, &b);
		/* §4.6.3: unavailable to every directed-presence peer */
		for (i = 0; i < rs->ndirected; i++) {
			xml_set_attr(st, "to", rs->directed[i]);
			route_stanza(st);
		}
		xml_set_attr(st, "to", NULL);
		while (rs->ndirected > 0) {
			free(rs->directed[--rs->ndirected]);
		}
		xml_free(rs->presence);
		rs->presence = NULL;
	}
	xml_free(b.st);
	route_prepared_free(&p);
}

/* XEP-0191 §3.3: what the user sends to a JID it blocked bounces. */
static int
outbound_blocked(struct route_sess *rs, const struct xml_node *st,
    const char *bare,
    const char *to)
{
	const char *type = xml_attr(st, "type");
	struct xml_node *reply, *err;

	/* §5: never between the user's own resources, whatever the list
	 * holds (its own bare JID or domain) */
	if (jid_bare_eq(to, bare) || !blocking_is_blocked(bare, to)) {
		return 0;
	}
	if (type != NULL && (strcmp(type, "error") == 0 ||
	    (strcmp(st->name, "iq") == 0 && strcmp(type, "result") == 0))) {
		return 1;
	}
	reply = stanza_error_reply(st, "cancel", "not-acceptable",
	    "You have blocked this JID");
	err = xml_child(reply, "error", NULL);
	if (err != NULL) {
		xml_add(err, "blocked", NS_BLOCKING_ERRORS);
	}
	sess_send_stanza(rs, reply);
	xml_free(reply);
	return 1;
}

static void
reply_result(struct route_sess *rs, const struct xml_node *iq)
{
	struct xml_node *reply = stanza_result(iq);

	xml_set_attr(reply, "from", NULL);
	sess_send_stanza(rs, reply);
	xml_free(reply);
}

/* iq a session sends to its own account: those that change the session's
 * state are handled here, the rest by services.c.  1 when handled. */
static int
own_iq(struct route_sess *rs, const struct xml_node *st, const char *bare)
{
	const struct xml_node *q = xml_child(st, NULL, NULL);
	const char *type = xml_attr(st, "type");

	if (q == NULL || type == NULL) {
		return 0;
	}
	if (strcmp(q->ns, NS_ROSTER) == 0 && strcmp(q->name, "query") == 0) {
		if (roster_iq(st, bare)) {
			rs->roster_interested = 1;
		}
		return 1;
	}
	if (strcmp(q->ns, NS_BLOCKING) == 0) {
		if (blocking_iq(st, bare)) {
			rs->block_interested = 1;
		}
		return 1;
	}
	if (strcmp(q->ns, NS_CARBONS) == 0 && strcmp(type, "set") == 0 &&
	    (strcmp(q->name, "enable") == 0 ||
	    strcmp(q->name, "disable") == 0)) {
		rs->carbons = strcmp(q->name, "enable") == 0;
		reply_result(rs, st);
		return 1;
	}
	return 0;
}

/* See route.h. */
void
route_session_set_unlimited(struct route_sess *rs, int on)
{
	rs->unlimited = on ? 1 : 0;
}

/* See route.h. */
int
route_sender_unlimited(void)
{
	return rt.sender_unlimited;
}

static void route_client_stanza(struct route_sess *rs, struct xml_node *st);

void
route_from_client(struct route_sess *rs, struct xml_node *st)
{
	int was = rt.sender_unlimited;

	rt.sender_unlimited = rs->unlimited;
	route_client_stanza(rs, st);
	rt.sender_unlimited = was;
}

static void
route_client_stanza(struct route_sess *rs, struct xml_node *st)
{
	const char *to = xml_attr(st, "to");
	const char *type = xml_attr(st, "type");
	struct route_user *u;
	struct xml_node *archived = NULL;
	char canon[JID_MAX + 1], bare[JID_MAX + 1], to_bare[JID_MAX + 1];

	jid_bare(rs->jid, bare, sizeof(bare));
	if (to != NULL && jid_canon(to, canon, sizeof(canon)) != 0) {
		route_error(st, "jid-malformed");
		return;
	}
	if (strcmp(st->name, "presence") == 0) {
		if (type == NULL) {
			/* what Prosody's clients see: the avatar hash */
			services_presence_stamp(st, bare);
		}
		if (to == NULL) {
			presence_broadcast(rs, st);
			return;
		}
		jid_bare(canon, to_bare, sizeof(to_bare));
		/* XEP-0191 §3.3: nothing goes out to a blocked JID, roster
		 * subscription traffic included (Prosody 0.12 lets that
		 * through; the XEP says MUST NOT route) */
		if (outbound_blocked(rs, st, bare, canon)) {
			return;
		}
		if (is_sub_type(type)) {
			roster_outbound(st, bare, to_bare);
			return;
		}
		/* §4.6: directed presence, remembered unless the peer gets
		 * the broadcast anyway */
		if (!roster_has_from(bare, to_bare)) {
			if (type == NULL) {
				if (directed_add(rs, canon) != 0) {
					struct xml_node *reply =
					    stanza_error_reply(st, NULL,
					    "resource-constraint",
					    "Too many directed presences");

					sess_send_stanza(rs, reply);
					xml_free(reply);
					return;
				}
			} else if (strcmp(type, "unavailable") == 0 ||
			    strcmp(type, "error") == 0) {
				/* an error presence ends it too (as Prosody) */
				directed_remove(rs, canon);
			}
		}
		route_stanza(st);
		return;
	}
	if (to == NULL || strcmp(canon, bare) == 0) {
		/* RFC 6120 §10.3: handled on behalf of the account */
		if (strcmp(st->name, "iq") == 0) {
			if (!own_iq(rs, st, bare)) {
				services_account_iq(st, bare);
			}
			return;
		}
		if (to == NULL) {
			xml_set_attr(st, "to", bare);
		}
	} else if (outbound_blocked(rs, st, bare, canon)) {
		return;
	}
	if (strcmp(st->name, "message") == 0) {
		/* only this server stamps delays from its domain (offline
		 * storage trusts them), and stanza-ids by its JIDs */
		strip_own_delays(st);
		mam_strip_stanza_ids(st);
		/* XEP-0313: into the sender's archive; the sent carbon and
		 * the recipient get its stanza-id */
		archived = mam_archive_user(st, bare, to != NULL ? canon :
		    bare);
		if (archived != NULL) {
			st = archived;
		}
	}
	/* XEP-0280 §6.1: a private message the user sends to a room
	 * occupant is copied; only received ones are not */
	if (strcmp(st->name, "message") == 0 && carbons_should_copy(st, 0)) {
		u = user_find(bare, strlen(bare));
		marks_clear(u);
		carbons_send(u, st, "sent", rs);
	}
	route_stanza(st);
	xml_free(archived);
}

/* ---- for the IM modules ---- */

/* An iq push to every session of bare that asked for that list. */
static void
push_to_interested(const char *bare, const struct xml_node *iq,
    int blocklist)
{
	struct route_user *u = user_find(bare, strlen(bare));
	struct xml_node *copy;
	struct route_sess *rs;

	if (u == NULL) {
		return;
	}
	copy = xml_clone(iq);
	for (rs = u->sessions; rs; rs = rs->next) {
		if (!(blocklist ? rs->block_interested :
		    rs->roster_interested)) {
			continue;
		}
		xml_set_attr(copy, "to", rs->jid);
		sess_send_stanza(rs, copy);
	}
	xml_free(copy);
}

void
route_roster_push(const char *bare, const struct xml_node *iq)
{
	push_to_interested(bare, iq, 0);
}

void
route_blocklist_push(const char *bare, const struct xml_node *iq)
{
	push_to_interested(bare, iq, 1);
}

int
route_presence_of(const char *bare, const char *to, int unavailable)
{
	struct route_user *u = user_find(bare, strlen(bare));
	struct route_sess *rs;
	struct xml_node *p;
	int n = 0;

	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (!rs->available || rs->presence == NULL) {
			continue;
		}
		if (unavailable) {
			p = xml_new("presence", XML_NS_CLIENT);
			xml_set_attr(p, "type", "unavailable");
			xml_set_attr(p, "from", rs->jid);
			xml_set_attr(p, "to", to);
			route_stanza(p);
			xml_free(p);
		} else {
			xml_set_attr(rs->presence, "to", to);
			route_stanza(rs->presence);
			xml_set_attr(rs->presence, "to", NULL);
		}
		n++;
	}
	return n;
}

void
route_to_available(const char *bare, const struct xml_node *st)
{
	struct route_user *u = user_find(bare, strlen(bare));
	struct route_sess *rs;

	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (rs->available) {
			send_to_session(rs, st);
		}
	}
}

int
route_user_available(const char *bare)
{
	struct route_user *u = user_find(bare, strlen(bare));
	struct route_sess *rs;

	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (rs->available) {
			return 1;
		}
	}
	return 0;
}

void
route_user_gone(const char *bare, const char *except)
{
	struct route_user *u;

	for (;;) {
		struct route_sess *rs;

		u = user_find(bare, strlen(bare));
		for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
			if (except == NULL || strcmp(rs->jid, except) != 0) {
				break;
			}
		}
		if (rs == NULL) {
			return;
		}
		sess_end(rs, "not-authorized");
	}
}

/* Delete what route.c keeps for an account being removed. */
void
route_account_removed(const char *bare)
{
	offline_flush(NULL, bare);
}

/* ---- sessions ---- */

/* See route.h. */
struct route_sess *
route_session_add(void *owner, const char *full,
    const struct route_session_ops *ops)
{
	struct route_sess *old = sess_find_full(full);
	struct route_user *u;
	struct route_sess *rs;

	if (rt.out.max == 0 && rt.out.data == NULL) {
		buf_init(&rt.out, 0);
	}
	if (old != NULL) {
		/* RFC 6120 §7.7.2.2: the new session wins */
		sess_end(old, "conflict");
	}
	u = user_get(full, jid_bare_len(full));
	rs = xcalloc(1, sizeof(*rs));
	rs->owner = owner;
	rs->ops = ops;
	rs->jid = full;
	rs->next = u->sessions;
	u->sessions = rs;
	rt.nsessions++;
	return rs;
}

/* See route.h. */
size_t
route_session_count(void)
{
	return rt.nsessions;
}

/* See route.h. */
size_t
route_user_other_sessions(const char *full)
{
	struct route_user *u = user_find(full, jid_bare_len(full));
	struct route_sess *rs;
	size_t n = 0;

	for (rs = u ? u->sessions : NULL; rs; rs = rs->next) {
		if (strcmp(rs->jid, full) != 0) {
			n++;
		}
	}
	return n;
}

/* See route.h. */
void
route_session_remove(struct route_sess *rs)
{
	const char *full = rs->jid;
	struct route_user *u;
	struct route_sess **pp;
	struct xml_node *pres;
	size_t i;

	/* Services learn of it from their session_gone, rooms with the
	 * occupant's status: no unavailable presence to them. */
	for (i = 0; i < rs->ndirected; ) {
		char dom[JID_MAX + 1];
		const struct route_service *svc;

		if (jid_domain(rs->directed[i], dom, sizeof(dom)) == 0 &&
		    (svc = service_of(dom)) != NULL &&
		    svc->session_gone != NULL) {
			directed_remove(rs, rs->directed[i]);
		} else {
			i++;
		}
	}
	for (i = 0; i < rt.nservices; i++) {
		if (rt.services[i].session_gone != NULL) {
			rt.services[i].session_gone(full);
		}
	}
	if (rs->available || rs->ndirected > 0) {
		/* went away without unavailable presence: say it for them */
		pres = xml_new("presence", XML_NS_CLIENT);
		xml_set_attr(pres, "type", "unavailable");
		xml_set_attr(pres, "from", full);
		if (rs->available) {
			presence_broadcast(rs, pres);
		} else {
			for (i = 0; i < rs->ndirected; i++) {
				xml_set_attr(pres, "to", rs->directed[i]);
				route_stanza(pres);
			}
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

/* See route.h. */
void
route_session_rebind(struct route_sess *rs, void *owner, const char *full)
{
	rs->owner = owner;
	rs->jid = full;
}

/* See route.h. */
void
route_foreach_session(void (*fn)(void *ud, const char *full), void *ud)
{
	struct hnode *n;
	const struct route_sess *rs;
	size_t pos;

	for (n = htab_first(&rt.users, &pos); n != NULL;
	    n = htab_next(&rt.users, n, &pos)) {
		for (rs = HTAB_ENTRY(n, struct route_user, node)->sessions;
		    rs != NULL; rs = rs->next) {
			fn(ud, rs->jid);
		}
	}
}
