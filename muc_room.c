/*
 * muc_room.c - rooms and what they hold: the room table, affiliations
 * and reserved nicknames, occupants and their sessions, the stored form
 * of persistent rooms (store kinds "muc_room", "muc_aff", "muc_tomb",
 * loaded by muc_init()), tombstones of destroyed rooms, and discussion
 * history and subject.  The room table and the tombstones are static
 * here; other muc files reach them only through the muc_room_*,
 * muc_occ_*, muc_aff_*, muc_hist_* and muc_tomb_* functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "base64.h"
#include "buf.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "mam.h"
#include "store.h"
#include "tls.h"
#include "muc.h"
#include "muc_internal.h"
#include "ns.h"

static struct htab rooms;	/* every room, by bare JID */

/* ---- rooms, affiliations, occupants ---- */

static struct muc_room *
room_of(struct hnode *n)
{
	return n ? HTAB_ENTRY(n, struct muc_room, node) : NULL;
}

/* The live room with bare JID jid, or NULL (destroyed rooms waiting to
 * be freed are not found). */
struct muc_room *
muc_room_find(const char *jid)
{
	struct muc_room *r = room_of(htab_find(&rooms, jid, strlen(jid)));

	return r != NULL && !r->destroyed ? r : NULL;
}

/* Rooms in the table, destroyed ones not yet freed included. */
size_t
muc_room_count(void)
{
	return rooms.count;
}

/* See muc.h. */
size_t
muc_occupant_count(void)
{
	struct muc_room *r;
	size_t pos, n = 0;

	for (r = muc_room_first(&pos); r != NULL; r = muc_room_next(r, &pos)) {
		if (!r->destroyed) {
			n += r->nocc;
		}
	}
	return n;
}

/* See muc_internal.h.  Rooms owned, not rooms created: ownership moves
 * with the affiliation, and a destroyed room frees its slot. */
int
muc_rooms_limit_reached(const char *bare)
{
	unsigned max = config_get()->muc_max_rooms_per_user, n = 0;
	const struct muc_affent *a;
	struct muc_room *r;
	size_t pos;

	if (max == 0 || route_sender_unlimited()) {
		return 0;
	}
	for (r = muc_room_first(&pos); r != NULL; r = muc_room_next(r, &pos)) {
		a = muc_aff_find(r, bare);
		if (!r->destroyed && a != NULL && a->aff == AFF_OWNER &&
		    ++n >= max) {
			return 1;
		}
	}
	return 0;
}

/*
 * Walk the room table: muc_room_first(&pos), then muc_room_next(r, &pos)
 * until NULL.  Destroyed rooms not yet freed are included; fetch the next
 * room before anything that may free r.
 */
struct muc_room *
muc_room_first(size_t *pos)
{
	return room_of(htab_first(&rooms, pos));
}

struct muc_room *
muc_room_next(struct muc_room *r, size_t *pos)
{
	return room_of(htab_next(&rooms, &r->node, pos));
}

/* A new unlocked room with Prosody's defaults, added to the table. */
struct muc_room *
muc_room_new(const char *jid)
{
	struct muc_room *r = xcalloc(1, sizeof(*r));
	const struct config *cf = config_get();
	unsigned char rnd[16];
	size_t i;

	r->jid = xstrdup(jid);
	r->whois_anyone = 0;
	r->archiving = -1;
	r->allowpm = PM_ANYONE;
	r->max_users = cf->muc_max_occupants;
	r->history_len = cf->muc_history_default;
	if (r->history_len > MUC_HISTORY_MAX) {
		r->history_len = MUC_HISTORY_MAX;
	}
	r->history_default = r->history_len;
	r->bcast = (1u << ROLE_VISITOR) | (1u << ROLE_PARTICIPANT) |
	    (1u << ROLE_MODERATOR);
	if (tls_random(rnd, sizeof(rnd)) != 0) {
		for (i = 0; i < sizeof(rnd); i++) {
			rnd[i] = (unsigned char)rand();
		}
	}
	for (i = 0; i < sizeof(rnd); i++) {
		snprintf(r->salt + 2 * i, 3, "%02x", rnd[i]);
	}
	htab_add(&rooms, &r->node, r->jid);
	return r;
}

/* Free an occupant and its sessions (it must be out of its room). */
void
muc_occ_free(struct muc_occupant *o)
{
	size_t i;

	for (i = 0; i < o->nsess; i++) {
		free(o->sess[i].jid);
		xml_free(o->sess[i].pres);
	}
	free(o->sess);
	free(o->nick);
	free(o->bare);
	free(o);
}

static void
hist_clear(struct muc_room *r)
{
	size_t i;

	for (i = 0; i < r->hist_n; i++) {
		route_prepared_free(&r->hist[(r->hist_start + i) %
		    r->hist_cap].p);
	}
	free(r->hist);
	r->hist = NULL;
	r->hist_start = r->hist_n = r->hist_cap = r->hist_bytes = 0;
}

/* Unlink from the table and free everything. */
static void
room_free(struct muc_room *r)
{
	size_t i;

	htab_del(&rooms, &r->node);
	for (i = 0; i < r->nocc; i++) {
		muc_occ_free(r->occ[i]);
	}
	free(r->occ);
	for (i = 0; i < r->naffs; i++) {
		free(r->affs[i].jid);
		free(r->affs[i].nick);
		free(r->affs[i].reason);
	}
	free(r->affs);
	hist_clear(r);
	free(r->name);
	free(r->desc);
	free(r->lang);
	free(r->password);
	free(r->subject);
	free(r->subject_from);
	free(r->jid);
	free(r);
}

/* Is the room still locked for its initial configuration (§10.1.3)?
 * The lock ends by itself after MUC_LOCK_TIMEOUT_S. */
int
muc_room_locked(struct muc_room *r)
{
	if (r->locked_until != 0 && time(NULL) >= r->locked_until) {
		r->locked_until = 0;
	}
	return r->locked_until != 0;
}

/* Does the room archive its messages (XEP-0313)?  Unless its owner chose,
 * persistent rooms do and temporary ones do not. */
int
muc_room_archiving(const struct muc_room *r)
{
	return r->archiving >= 0 ? r->archiving : r->persistent;
}

/* A room with no occupants that is not persistent goes away, with its
 * archive. */
void
muc_room_gc(struct muc_room *r)
{
	if (r->destroyed || r->nocc > 0 || r->persistent) {
		return;
	}
	log_debug("muc %s empty, destroyed", r->jid);
	if (r->archiving > 0) {
		mam_archive_removed(r->jid);
	}
	r->destroyed = 1;
}

/* Free rooms marked destroyed once no handler uses them. */
void
muc_room_release(struct muc_room *r)
{
	if (r->busy > 0) {
		r->busy--;
	}
	if (r->busy == 0 && r->destroyed) {
		room_free(r);
	}
}

/* The affiliation entry of bare JID bare (or domain), or NULL. */
struct muc_affent *
muc_aff_find(const struct muc_room *r, const char *bare)
{
	size_t i;

	for (i = 0; i < r->naffs; i++) {
		if (strcmp(r->affs[i].jid, bare) == 0) {
			return &r->affs[i];
		}
	}
	return NULL;
}

/* Affiliation of a (full or bare) real JID: service admins are owners
 * everywhere; a banned domain bans its users. */
int
muc_aff_get(const struct muc_room *r, const char *jid)
{
	char bare[JID_MAX + 1], dom[JID_MAX + 1];
	const struct muc_affent *a;

	muc_bare_of(jid, bare, sizeof(bare));
	if (account_is_admin(bare)) {
		return AFF_OWNER;
	}
	a = muc_aff_find(r, bare);
	if (a != NULL) {
		return a->aff;
	}
	if (jid_domain(bare, dom, sizeof(dom)) == 0) {
		a = muc_aff_find(r, dom);
		if (a != NULL && a->aff == AFF_OUTCAST) {
			return AFF_OUTCAST;
		}
	}
	return AFF_NONE;
}

/* Default role for an affiliation (Prosody's muc-get-default-role). */
int
muc_role_default(const struct muc_room *r, int aff)
{
	if (aff >= AFF_ADMIN) {
		return ROLE_MODERATOR;
	}
	if (aff == AFF_OUTCAST) {
		return ROLE_NONE;
	}
	if (aff == AFF_NONE && r->members_only) {
		return ROLE_NONE;
	}
	if (aff == AFF_NONE && r->moderated) {
		return ROLE_VISITOR;
	}
	return ROLE_PARTICIPANT;
}

/* The bare JID that reserved nick, or NULL. */
const char *
muc_room_nick_owner(const struct muc_room *r, const char *nick)
{
	size_t i;

	for (i = 0; i < r->naffs; i++) {
		if (r->affs[i].nick != NULL &&
		    strcmp(r->affs[i].nick, nick) == 0) {
			return r->affs[i].jid;
		}
	}
	return NULL;
}

/* The nickname bare reserved in the room, or NULL. */
const char *
muc_room_reserved_nick(const struct muc_room *r, const char *bare)
{
	const struct muc_affent *a = muc_aff_find(r, bare);

	return a != NULL ? a->nick : NULL;
}

/* The occupant with nickname nick, or NULL. */
struct muc_occupant *
muc_occ_by_nick(const struct muc_room *r, const char *nick)
{
	size_t i;

	for (i = 0; i < r->nocc; i++) {
		if (strcmp(r->occ[i]->nick, nick) == 0) {
			return r->occ[i];
		}
	}
	return NULL;
}

/* The session of real full JID full in o (live or leaving), or NULL. */
struct muc_session *
muc_occ_session(const struct muc_occupant *o, const char *full)
{
	size_t i;

	for (i = 0; i < o->nsess; i++) {
		if (strcmp(o->sess[i].jid, full) == 0) {
			return &o->sess[i];
		}
	}
	return NULL;
}

/* The occupant a real full JID is in (a live session), or NULL. */
struct muc_occupant *
muc_occ_by_real(const struct muc_room *r, const char *full)
{
	struct muc_session *s;
	size_t i;

	for (i = 0; i < r->nocc; i++) {
		s = muc_occ_session(r->occ[i], full);
		if (s != NULL && !s->gone) {
			return r->occ[i];
		}
	}
	return NULL;
}

/* Sessions of o that have not left. */
size_t
muc_occ_live_sessions(const struct muc_occupant *o)
{
	size_t i, n = 0;

	for (i = 0; i < o->nsess; i++) {
		n += !o->sess[i].gone;
	}
	return n;
}

/* Primary session: the first live one, else the first (leaving) one. */
struct muc_session *
muc_occ_primary(const struct muc_occupant *o)
{
	size_t i;

	for (i = 0; i < o->nsess; i++) {
		if (!o->sess[i].gone) {
			return &o->sess[i];
		}
	}
	return o->nsess > 0 ? &o->sess[0] : NULL;
}

static void
occ_compute_id(const struct muc_room *r, struct muc_occupant *o)
{
	unsigned char mac[32];
	struct buf b;

	o->id[0] = '\0';
	if (tls_hmac(TLS_MD_SHA256, o->bare, strlen(o->bare), r->salt,
	    strlen(r->salt), mac) != 0) {
		return;
	}
	buf_init(&b, 0);
	base64_encode(mac, sizeof(mac), &b);
	if (!b.err && b.len < sizeof(o->id)) {
		memcpy(o->id, b.data, b.len);
		o->id[b.len] = '\0';
	}
	buf_free(&b);
}

/* A new occupant (not yet in the room) with its occupant-id. */
struct muc_occupant *
muc_occ_new(const struct muc_room *r, const char *nick, const char *bare,
    int role)
{
	struct muc_occupant *o = xcalloc(1, sizeof(*o));

	o->nick = xstrdup(nick);
	o->bare = xstrdup(bare);
	o->role = role;
	occ_compute_id(r, o);
	return o;
}

/* Add o at the end of the room's occupants. */
void
muc_occ_insert(struct muc_room *r, struct muc_occupant *o)
{
	if (r->nocc == r->capocc) {
		r->capocc = r->capocc ? r->capocc * 2 : 8;
		r->occ = xrealloc(r->occ, r->capocc * sizeof(*r->occ));
	}
	r->occ[r->nocc++] = o;
}

/* Remove o from the room (keeps the order of the others) and free it. */
void
muc_occ_remove(struct muc_room *r, struct muc_occupant *o)
{
	size_t i;

	for (i = 0; i < r->nocc; i++) {
		if (r->occ[i] == o) {
			memmove(&r->occ[i], &r->occ[i + 1],
			    (r->nocc - i - 1) * sizeof(*r->occ));
			r->nocc--;
			break;
		}
	}
	muc_occ_free(o);
}

/* Set (or add) the session of real JID full with presence p (owned). */
struct muc_session *
muc_occ_set_session(struct muc_occupant *o, const char *full,
    struct xml_node *p, int gone)
{
	struct muc_session *s = muc_occ_session(o, full);

	if (s == NULL) {
		if (o->nsess == o->capsess) {
			o->capsess = o->capsess ? o->capsess * 2 : 2;
			o->sess = xrealloc(o->sess,
			    o->capsess * sizeof(*o->sess));
		}
		s = &o->sess[o->nsess++];
		s->jid = xstrdup(full);
		s->pres = NULL;
	}
	xml_free(s->pres);
	s->pres = p;
	s->gone = gone;
	return s;
}

/* Remove and free the session of real full JID full from o. */
void
muc_occ_drop_session(struct muc_occupant *o, const char *full)
{
	size_t i;

	for (i = 0; i < o->nsess; i++) {
		if (strcmp(o->sess[i].jid, full) == 0) {
			free(o->sess[i].jid);
			xml_free(o->sess[i].pres);
			memmove(&o->sess[i], &o->sess[i + 1],
			    (o->nsess - i - 1) * sizeof(*o->sess));
			o->nsess--;
			return;
		}
	}
}

/* Drop the sessions marked gone; remove the occupant when none is left
 * or its role is none.  Returns 1 if o was freed. */
int
muc_occ_settle(struct muc_room *r, struct muc_occupant *o)
{
	size_t i = 0;

	while (i < o->nsess) {
		if (o->sess[i].gone) {
			muc_occ_drop_session(o, o->sess[i].jid);
		} else {
			i++;
		}
	}
	if (o->nsess == 0 || o->role == ROLE_NONE) {
		muc_occ_remove(r, o);
		return 1;
	}
	return 0;
}

/* Send prepared stanza p to every live session of occupant q. */
void
muc_occ_send(const struct route_prepared *p,
    const struct muc_occupant *q)
{
	size_t i;

	for (i = 0; i < q->nsess; i++) {
		if (!q->sess[i].gone) {
			route_prepared_send(p, q->sess[i].jid);
		}
	}
}

/* Send st (no 'to') to every live session of occupants with at least
 * min_role. */
void
muc_room_broadcast(const struct muc_room *r, const struct xml_node *st,
    int min_role)
{
	struct route_prepared p;
	size_t i;

	route_prepare(&p, st);
	for (i = 0; i < r->nocc; i++) {
		if (r->occ[i]->role >= min_role) {
			muc_occ_send(&p, r->occ[i]);
		}
	}
	route_prepared_free(&p);
}

/* ---- persistence ---- */

static void
esc_append(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\') {
			buf_puts(b, "\\\\");
		} else if (*s == '\n') {
			buf_puts(b, "\\n");
		} else if (*s == '\t') {
			buf_puts(b, "\\t");
		} else {
			buf_putc(b, *s);
		}
	}
}

/* Unescape s[0..len) into a new string.  Caller frees. */
static char *
unesc(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			i++;
			out[n++] = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' :
			    s[i];
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

static void
kv_put(struct buf *b, const char *key, const char *val)
{
	if (val == NULL) {
		return;
	}
	buf_puts(b, key);
	buf_putc(b, '\t');
	esc_append(b, val);
	buf_putc(b, '\n');
}

static void
kv_put_u(struct buf *b, const char *key, unsigned long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lu", v);
	kv_put(b, key, tmp);
}

static void
aff_key(const struct muc_room *r, const char *bare, struct buf *b)
{
	buf_printf(b, "%s %s", r->jid, bare);
}

static void
store_aff(const struct muc_room *r, const struct muc_affent *a)
{
	struct buf k, v;

	buf_init(&k, 0);
	buf_init(&v, 0);
	aff_key(r, a->jid, &k);
	buf_puts(&v, muc_aff_name(a->aff));
	buf_putc(&v, '\t');
	esc_append(&v, a->nick);
	buf_putc(&v, '\t');
	esc_append(&v, a->reason);
	if (store_put("muc_aff", k.data, v.data) != 0) {
		log_warn("muc %s: cannot store affiliation", r->jid);
	}
	buf_free(&k);
	buf_free(&v);
}

static void
unstore_aff(const struct muc_room *r, const char *bare)
{
	struct buf k;

	buf_init(&k, 0);
	aff_key(r, bare, &k);
	store_del("muc_aff", k.data);
	buf_free(&k);
}

/* Write the room's configuration (persistent rooms only). */
void
muc_room_save(const struct muc_room *r)
{
	struct buf v;

	if (!r->persistent) {
		return;
	}
	buf_init(&v, 0);
	kv_put(&v, "name", r->name);
	kv_put(&v, "desc", r->desc);
	kv_put(&v, "lang", r->lang);
	kv_put(&v, "password", r->password);
	kv_put_u(&v, "public", (unsigned long)r->public);
	kv_put_u(&v, "membersonly", (unsigned long)r->members_only);
	kv_put_u(&v, "moderated", (unsigned long)r->moderated);
	kv_put_u(&v, "whois", (unsigned long)r->whois_anyone);
	kv_put_u(&v, "changesubject", (unsigned long)r->changesubject);
	kv_put_u(&v, "allowinvites", (unsigned long)r->allow_invites);
	kv_put_u(&v, "allowpm", (unsigned long)r->allowpm);
	kv_put_u(&v, "maxusers", r->max_users);
	kv_put_u(&v, "historylength", r->history_len);
	kv_put_u(&v, "historydefault", r->history_default);
	kv_put_u(&v, "bcast", r->bcast);
	kv_put_u(&v, "getmemberlist", r->getmemberlist);
	if (r->archiving >= 0) {
		kv_put_u(&v, "archiving", (unsigned long)r->archiving);
	}
	kv_put(&v, "subject", r->subject);
	kv_put(&v, "subject_from", r->subject_from);
	kv_put_u(&v, "subject_time", (unsigned long)r->subject_time);
	kv_put(&v, "salt", r->salt);
	if (v.err || store_put("muc_room", r->jid, v.data) != 0) {
		log_warn("muc %s: cannot store room", r->jid);
	}
	buf_free(&v);
}

/* Room became persistent: write it all. */
void
muc_room_store_all(const struct muc_room *r)
{
	size_t i;

	muc_room_save(r);
	for (i = 0; i < r->naffs; i++) {
		store_aff(r, &r->affs[i]);
	}
}

/* Room destroyed or made temporary: forget its records. */
void
muc_room_unstore(const struct muc_room *r)
{
	struct buf prefix;

	store_del("muc_room", r->jid);
	buf_init(&prefix, 0);
	buf_printf(&prefix, "%s ", r->jid);
	store_del_prefix("muc_aff", prefix.data);
	buf_free(&prefix);
}

/* ---- tombstones ---- */

/*
 * A destroyed persistent room leaves a tombstone for a while (as
 * Prosody's muc_tombstones): joining it, or anything else sent to it,
 * gets <gone/> with the reason and the alternate venue, until it expires
 * or a service admin creates the room again.
 */
struct muc_tomb {
	struct muc_tomb *next;
	char	*jid;
	char	*reason;	/* or NULL */
	char	*newjid;	/* alternate venue, or NULL */
	time_t	 expires;
};

static struct muc_tomb *tombs;

static struct muc_tomb *
tomb_find(const char *jid)
{
	struct muc_tomb *t;

	for (t = tombs; t != NULL; t = t->next) {
		if (strcmp(t->jid, jid) == 0) {
			return t;
		}
	}
	return NULL;
}

static void
tomb_free(struct muc_tomb *t)
{
	free(t->jid);
	free(t->reason);
	free(t->newjid);
	free(t);
}

static void
tomb_remove(struct muc_tomb *t)
{
	struct muc_tomb **pp;

	for (pp = &tombs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	store_del("muc_tomb", t->jid);
	tomb_free(t);
}

/* Add (or update) the tombstone of room jid, in memory only; see
 * muc_tomb_store().  Borrowed strings are copied. */
struct muc_tomb *
muc_tomb_add(const char *jid, const char *reason, const char *newjid,
    time_t expires)
{
	struct muc_tomb *t = tomb_find(jid);

	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->jid = xstrdup(jid);
		t->next = tombs;
		tombs = t;
	}
	muc_set_str(&t->reason, reason);
	muc_set_str(&t->newjid, newjid);
	t->expires = expires;
	return t;
}

/* Write tombstone t to the store (a failure is logged). */
void
muc_tomb_store(const struct muc_tomb *t)
{
	struct buf v;

	buf_init(&v, 0);
	buf_printf(&v, "%lld\t", (long long)t->expires);
	esc_append(&v, t->reason);
	buf_putc(&v, '\t');
	esc_append(&v, t->newjid);
	if (v.err || store_put("muc_tomb", t->jid, v.data) != 0) {
		log_warn("muc %s: cannot store tombstone", t->jid);
	}
	buf_free(&v);
}

/*
 * A stanza to a destroyed room's tombstone gets <gone/> (cancel) with
 * the reason and the alternate venue as an xmpp: URI; returns 1 when it
 * was answered.  An expired tombstone, or a service admin joining,
 * removes it (returns 0).
 */
int
muc_tomb_gone(const struct xml_node *st, const char *from, const char *room_jid)
{
	struct muc_tomb *t = tomb_find(room_jid);
	const char *type = xml_attr(st, "type");
	char bare[JID_MAX + 1];
	struct xml_node *r, *e, *g;
	struct buf uri;

	if (t == NULL) {
		return 0;
	}
	muc_bare_of(from, bare, sizeof(bare));
	if (time(NULL) >= t->expires || (account_is_admin(bare) &&
	    strcmp(st->name, "presence") == 0 && type == NULL)) {
		tomb_remove(t);
		return 0;
	}
	if (muc_str_eq(type, "error") || muc_str_eq(type, "result")) {
		return 1;
	}
	r = muc_stanza_new(st->name, xml_attr(st, "to"), from, "error",
	    xml_attr(st, "id"));
	e = xml_add(r, "error", NULL);
	xml_set_attr(e, "type", "cancel");
	xml_set_attr(e, "by", muc_host());
	g = xml_add(e, "gone", NS_STANZAS);
	if (t->newjid != NULL) {
		buf_init(&uri, 0);
		buf_printf(&uri, "xmpp:%s?join", t->newjid);
		xml_add_text(g, uri.data, uri.len);
		buf_free(&uri);
	}
	if (t->reason != NULL) {
		xml_add_text_child(e, "text", NS_STANZAS, t->reason);
	}
	muc_send_free(r);
	return 1;
}

/*
 * Set the stored affiliation of bare (AFF_NONE removes it).  nick:
 * NULL keeps the reserved nickname, "" clears it.  reason NULL keeps.
 */
void
muc_aff_store_set(struct muc_room *r, const char *bare, int aff,
    const char *nick, const char *reason)
{
	struct muc_affent *a = muc_aff_find(r, bare);
	size_t i;

	if (aff == AFF_NONE) {
		if (a == NULL) {
			return;
		}
		i = (size_t)(a - r->affs);
		if (r->persistent) {
			unstore_aff(r, bare);
		}
		free(a->jid);
		free(a->nick);
		free(a->reason);
		memmove(&r->affs[i], &r->affs[i + 1],
		    (r->naffs - i - 1) * sizeof(*r->affs));
		r->naffs--;
		return;
	}
	if (a == NULL) {
		if (r->naffs == r->capaffs) {
			r->capaffs = r->capaffs ? r->capaffs * 2 : 8;
			r->affs = xrealloc(r->affs,
			    r->capaffs * sizeof(*r->affs));
		}
		a = &r->affs[r->naffs++];
		memset(a, 0, sizeof(*a));
		a->jid = xstrdup(bare);
	}
	a->aff = aff;
	if (nick != NULL) {
		muc_set_str(&a->nick, nick);
	}
	if (reason != NULL) {
		muc_set_str(&a->reason, reason);
	}
	if (r->persistent) {
		store_aff(r, a);
	}
}

/* ---- history and subject ---- */

static struct muc_hist *
hist_at(const struct muc_room *r, size_t i)
{
	return &r->hist[(r->hist_start + i) % r->hist_cap];
}

/* Keep at most n messages. */
void
muc_hist_resize(struct muc_room *r, size_t n)
{
	struct muc_hist *nh;
	size_t i, keep, skip;

	if (n == r->hist_cap) {
		return;
	}
	keep = r->hist_n < n ? r->hist_n : n;
	skip = r->hist_n - keep;
	nh = n > 0 ? xcalloc(n, sizeof(*nh)) : NULL;
	for (i = 0; i < r->hist_n; i++) {
		if (i < skip) {
			r->hist_bytes -= hist_at(r, i)->p.bytes.len;
			route_prepared_free(&hist_at(r, i)->p);
		} else {
			nh[i - skip] = *hist_at(r, i);
		}
	}
	free(r->hist);
	r->hist = nh;
	r->hist_cap = n;
	r->hist_start = 0;
	r->hist_n = keep;
}

/* Is a groupchat message worth keeping (Prosody muc-message-is-historic)? */
int
muc_hist_is_historic(const struct xml_node *m)
{
	const struct xml_node *c;

	if (xml_child(m, "no-store", NS_HINTS) != NULL ||
	    xml_child(m, "no-permanent-store", NS_HINTS) != NULL) {
		return 0;
	}
	if (xml_child(m, "store", NS_HINTS) != NULL ||
	    xml_child(m, "body", NULL) != NULL ||
	    xml_child(m, "encryption", "urn:xmpp:eme:0") != NULL) {
		return 1;
	}
	for (c = m->first_child; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT &&
		    muc_str_eq(c->ns, "urn:xmpp:chat-markers:0")) {
			return 1;
		}
	}
	return 0;
}

static void
add_delay(struct xml_node *st, const char *from, time_t t)
{
	struct xml_node *d = xml_add(st, "delay", NS_DELAY);
	char stamp[32];

	muc_fmt_stamp(t, stamp, sizeof(stamp));
	xml_set_attr(d, "from", from);
	xml_set_attr(d, "stamp", stamp);
}

static void
hist_drop_oldest(struct muc_room *r)
{
	r->hist_bytes -= hist_at(r, 0)->p.bytes.len;
	route_prepared_free(&hist_at(r, 0)->p);
	r->hist_start = (r->hist_start + 1) % r->hist_cap;
	r->hist_n--;
}

/* Keep groupchat message msg (with a delay stamp) in the room's history,
 * within history_len messages and MUC_HISTORY_BYTES. */
void
muc_hist_add(struct muc_room *r, const struct xml_node *msg)
{
	struct muc_hist *h;
	struct xml_node *c;
	time_t now = time(NULL);

	if (r->history_len == 0) {
		return;
	}
	muc_hist_resize(r, r->history_len);
	if (r->hist_n == r->hist_cap) {
		hist_drop_oldest(r);
	}
	h = hist_at(r, r->hist_n);
	c = xml_clone(msg);
	add_delay(c, r->jid, now);
	route_prepare(&h->p, c);
	h->ts = now;
	xml_free(c);
	r->hist_n++;
	r->hist_bytes += h->p.bytes.len;
	/* a byte budget too, so big messages cannot pile up */
	while (r->hist_bytes > MUC_HISTORY_BYTES && r->hist_n > 1) {
		hist_drop_oldest(r);
	}
}

/* Discussion history for a joining session (XEP-0045 §7.2.15). */
void
muc_hist_send(const struct muc_room *r, const struct xml_node *join,
    const char *to)
{
	const struct xml_node *x = xml_child(join, "x", NS_MUC), *h = NULL;
	const char *s;
	long maxchars = -1, maxstanzas = -1;
	time_t since = 0, t;
	size_t n = 0, chars = 0, i, tolen = strlen(to);
	int have = 0;

	if (x != NULL) {
		h = xml_child(x, "history", NS_MUC);
	}
	if (h != NULL) {
		if ((s = xml_attr(h, "maxchars")) != NULL) {
			maxchars = strtol(s, NULL, 10);
			have = 1;
		}
		if ((s = xml_attr(h, "maxstanzas")) != NULL) {
			maxstanzas = strtol(s, NULL, 10);
			have = 1;
		}
		if ((s = xml_attr(h, "since")) != NULL &&
		    muc_parse_stamp(s, &t) == 0) {
			since = t;
			have = 1;
		}
		if ((s = xml_attr(h, "seconds")) != NULL) {
			long secs = strtol(s, NULL, 10);

			/* clamped: a hostile value must not overflow time_t */
			if (secs < 0) {
				secs = 0;
			} else if (secs > 100L * 366 * 86400) {
				secs = 100L * 366 * 86400;
			}
			t = time(NULL) - secs;
			if (t > since) {
				since = t;
			}
			have = 1;
		}
	}
	if (!have) {
		maxstanzas = (long)r->history_default;
	}
	while (n < r->hist_n) {
		const struct muc_hist *e = hist_at(r, r->hist_n - 1 - n);

		if (maxchars >= 0) {
			chars += e->p.bytes.len + tolen + 6;
			if ((long)chars > maxchars) {
				break;
			}
		}
		if (since != 0 && e->ts < since) {
			break;
		}
		if (maxstanzas >= 0 && (long)n + 1 > maxstanzas) {
			break;
		}
		n++;
	}
	for (i = r->hist_n - n; i < r->hist_n; i++) {
		route_prepared_send(&hist_at(r, i)->p, to);
	}
}

/* A groupchat message carrying subject (NULL: empty) from from, without
 * 'to'.  Caller frees. */
struct xml_node *
muc_subject_msg(const char *from, const char *subject)
{
	struct xml_node *m = muc_stanza_new("message", from, NULL, "groupchat",
	    NULL);
	struct xml_node *s = xml_add(m, "subject", NULL);

	if (subject != NULL) {
		xml_add_text(s, subject, strlen(subject));
	}
	return m;
}

/* The room's subject to a joining session (§7.2.16), with a delay stamp
 * when it was set. */
void
muc_subject_send(const struct muc_room *r, const char *to)
{
	struct xml_node *m = muc_subject_msg(r->subject_from != NULL ?
	    r->subject_from : r->jid, r->subject);

	xml_set_attr(m, "to", to);
	if (r->subject_time != 0) {
		add_delay(m, r->jid, r->subject_time);
	}
	muc_send_free(m);
}

/* ---- start and stop ---- */

static int
load_room(void *ud, const char *key, const char *value)
{
	struct muc_room *r;
	const char *line, *tab, *nl;
	char k[32], *v;
	size_t kl;

	(void)ud;
	if (muc_room_find(key) != NULL) {
		return 0;
	}
	r = muc_room_new(key);
	r->persistent = 1;
	for (line = value; *line != '\0'; line = *nl ? nl + 1 : nl) {
		nl = strchr(line, '\n');
		if (nl == NULL) {
			nl = line + strlen(line);
		}
		tab = memchr(line, '\t', (size_t)(nl - line));
		if (tab == NULL) {
			continue;
		}
		kl = (size_t)(tab - line);
		if (kl >= sizeof(k)) {
			continue;
		}
		memcpy(k, line, kl);
		k[kl] = '\0';
		v = unesc(tab + 1, (size_t)(nl - tab - 1));
		if (strcmp(k, "name") == 0) {
			muc_set_str(&r->name, v);
		} else if (strcmp(k, "desc") == 0) {
			muc_set_str(&r->desc, v);
		} else if (strcmp(k, "lang") == 0) {
			muc_set_str(&r->lang, v);
		} else if (strcmp(k, "password") == 0) {
			muc_set_str(&r->password, v);
		} else if (strcmp(k, "public") == 0) {
			r->public = atoi(v) != 0;
		} else if (strcmp(k, "membersonly") == 0) {
			r->members_only = atoi(v) != 0;
		} else if (strcmp(k, "moderated") == 0) {
			r->moderated = atoi(v) != 0;
		} else if (strcmp(k, "whois") == 0) {
			r->whois_anyone = atoi(v) != 0;
		} else if (strcmp(k, "changesubject") == 0) {
			r->changesubject = atoi(v) != 0;
		} else if (strcmp(k, "allowinvites") == 0) {
			r->allow_invites = atoi(v) != 0;
		} else if (strcmp(k, "allowpm") == 0) {
			r->allowpm = atoi(v) & 3;
		} else if (strcmp(k, "maxusers") == 0) {
			r->max_users = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "historylength") == 0) {
			r->history_len = (unsigned)strtoul(v, NULL, 10);
			if (r->history_len > MUC_HISTORY_MAX) {
				r->history_len = MUC_HISTORY_MAX;
			}
		} else if (strcmp(k, "historydefault") == 0) {
			r->history_default = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "bcast") == 0) {
			r->bcast = (unsigned)strtoul(v, NULL, 10) & 15;
		} else if (strcmp(k, "getmemberlist") == 0) {
			r->getmemberlist = (unsigned)strtoul(v, NULL, 10) & 15;
		} else if (strcmp(k, "archiving") == 0) {
			r->archiving = atoi(v) != 0;
		} else if (strcmp(k, "subject") == 0) {
			muc_set_str(&r->subject, v);
		} else if (strcmp(k, "subject_from") == 0) {
			muc_set_str(&r->subject_from, v);
		} else if (strcmp(k, "subject_time") == 0) {
			r->subject_time = (time_t)strtoll(v, NULL, 10);
		} else if (strcmp(k, "salt") == 0 &&
		    strlen(v) < sizeof(r->salt)) {
			snprintf(r->salt, sizeof(r->salt), "%s", v);
		}
		free(v);
	}
	return 0;
}

static int
load_aff(void *ud, const char *key, const char *value)
{
	const char *sp = strrchr(key, ' '), *t1, *t2;
	struct muc_room *r;
	struct muc_affent *a;
	char *rj;
	int aff;

	(void)ud;
	if (sp == NULL) {
		return 0;
	}
	rj = xstrndup(key, (size_t)(sp - key));
	r = muc_room_find(rj);
	free(rj);
	t1 = strchr(value, '\t');
	aff = muc_aff_parse(value);
	if (t1 != NULL) {
		char *an = xstrndup(value, (size_t)(t1 - value));

		aff = muc_aff_parse(an);
		free(an);
	}
	if (r == NULL || aff < AFF_OUTCAST || aff == AFF_NONE ||
	    muc_aff_find(r, sp + 1) != NULL) {
		return 0;
	}
	if (r->naffs == r->capaffs) {
		r->capaffs = r->capaffs ? r->capaffs * 2 : 8;
		r->affs = xrealloc(r->affs, r->capaffs * sizeof(*r->affs));
	}
	a = &r->affs[r->naffs++];
	memset(a, 0, sizeof(*a));
	a->jid = xstrdup(sp + 1);
	a->aff = aff;
	if (t1 != NULL) {
		t2 = strchr(t1 + 1, '\t');
		a->nick = unesc(t1 + 1, t2 != NULL ? (size_t)(t2 - t1 - 1) :
		    strlen(t1 + 1));
		if (*a->nick == '\0') {
			free(a->nick);
			a->nick = NULL;
		}
		if (t2 != NULL) {
			a->reason = unesc(t2 + 1, strlen(t2 + 1));
			if (*a->reason == '\0') {
				free(a->reason);
				a->reason = NULL;
			}
		}
	}
	return 0;
}

static int
load_tomb(void *ud, const char *key, const char *value)
{
	const char *t1 = strchr(value, '\t'), *t2;
	char *reason, *newjid;

	(void)ud;
	if (t1 == NULL || (t2 = strchr(t1 + 1, '\t')) == NULL) {
		return 0;
	}
	reason = unesc(t1 + 1, (size_t)(t2 - t1 - 1));
	newjid = unesc(t2 + 1, strlen(t2 + 1));
	muc_tomb_add(key, reason, newjid, (time_t)strtoll(value, NULL, 10));
	free(reason);
	free(newjid);
	return 0;
}

/* Start the service: load persistent rooms from the store (store_open()
 * must have run).  0, or -1 with a message logged. */
int
muc_init(void)
{
	store_foreach("muc_room", NULL, load_room, NULL);
	store_foreach("muc_aff", NULL, load_aff, NULL);
	store_foreach("muc_tomb", NULL, load_tomb, NULL);
	if (route_register_domain(muc_host(), muc_handle,
	    muc_session_gone) != 0) {
		return -1;
	}
	log_info("muc %s: %zu persistent rooms loaded", muc_host(),
	    rooms.count);
	return 0;
}

/* Free every room (nothing is sent; persistent rooms are in the store). */
void
muc_shutdown(void)
{
	struct hnode *n;
	size_t pos;

	while ((n = htab_first(&rooms, &pos)) != NULL) {
		room_free(room_of(n));
	}
	htab_clear(&rooms);
	while (tombs != NULL) {
		struct muc_tomb *t = tombs;

		tombs = t->next;
		tomb_free(t);
	}
}
