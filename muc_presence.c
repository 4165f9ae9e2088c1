/*
 * muc_presence.c - occupant presence (XEP-0045 §7.1-§7.2, §7.6, §7.14,
 * §10.9): presence to occupant JIDs (join, update, nick change, leave,
 * probe, error), the publication of an occupant's presence to the room in
 * its full, anonymous and self views (Prosody publicise_occupant_status),
 * room creation on first presence and room destruction.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "mam.h"
#include "muc.h"
#include "muc_internal.h"
#include "ns.h"

/*
 * The presence a session sent, as kept: MUC payloads filtered out, from =
 * the occupant JID, our occupant-id added.  Caller frees.
 */
static struct xml_node *
pres_keep(const struct muc_room *r, const struct muc_occupant *o,
    const struct xml_node *st, const char *type)
{
	struct xml_node *p = xml_new("presence", XML_NS_CLIENT);
	struct buf from;
	struct xml_node *oid;

	buf_init(&from, 0);
	buf_printf(&from, "%s/%s", r->jid, o->nick);
	if (st != NULL) {
		muc_copy_attrs(p, st);
		muc_copy_children_filtered(p, st);
	}
	xml_set_attr(p, "from", from.data);
	xml_set_attr(p, "type", type);
	if (o->id[0] != '\0') {
		oid = xml_add(p, "occupant-id", NS_OCCUPANT_ID);
		xml_set_attr(oid, "id", o->id);
	}
	buf_free(&from);
	return p;
}

/* ---- presence publication ---- */

/* Is presence of occupants with role broadcast
 * (muc#roomconfig_presencebroadcast)? */
int
muc_pres_bcast_role(const struct muc_room *r, int role)
{
	return (r->bcast & (1u << role)) != 0;
}

/* May occupant q see real JIDs (whois)? */
static int
can_see_jids(const struct muc_room *r, const struct muc_occupant *q)
{
	return r->whois_anyone || q->role == ROLE_MODERATOR;
}

/* Is the room anonymous for real JID full (Prosody is_anonymous_for)? */
static int
anon_for(const struct muc_room *r, const char *full)
{
	const struct muc_occupant *q;

	if (r->whois_anyone || muc_aff_get(r, full) >= AFF_ADMIN) {
		return 0;
	}
	q = muc_occ_by_real(r, full);
	return !(q != NULL && q->role == ROLE_MODERATOR);
}

/* Append the muc#user <x/> describing o to presence p. */
static void
build_x(const struct muc_room *r, const struct muc_occupant *o,
    const struct pubinfo *pi, struct xml_node *p, enum muc_view view,
    int self)
{
	struct xml_node *x = xml_add(p, "x", NS_MUC_USER);
	const struct muc_occupant *ao = NULL;
	const char *actor_nick = NULL;
	int aff = muc_aff_get(r, o->bare);
	size_t i;

	if (pi->destroy != NULL) {
		xml_copy_into(x, pi->destroy);
	}
	for (i = 0; i < pi->ncodes; i++) {
		muc_add_status(x, pi->codes[i]);
	}
	if (self) {
		for (i = 0; i < pi->nself_codes; i++) {
			muc_add_status(x, pi->self_codes[i]);
		}
	}
	if (pi->actor != NULL) {
		ao = muc_occ_by_real(r, pi->actor);
		actor_nick = ao != NULL ? ao->nick : NULL;
	}
	if (view == VIEW_ANON) {
		muc_add_item(x, aff, muc_role_name(o->role), NULL, pi->newnick,
		    actor_nick, NULL, pi->reason);
	} else {
		for (i = 0; i < o->nsess; i++) {
			if (pi->omit_gone && o->sess[i].gone) {
				continue;
			}
			muc_add_item(x, aff, muc_role_name(o->role),
			    o->sess[i].jid, pi->newnick, actor_nick,
			    view == VIEW_FULL ? pi->actor : NULL, pi->reason);
		}
	}
	if (self) {
		muc_add_status(x, "110");
	}
}

/* The presence others see for o, without the muc#user x.  Caller frees. */
static struct xml_node *
pub_base(const struct muc_room *r, const struct muc_occupant *o,
    const struct pubinfo *pi)
{
	const struct muc_session *prim = muc_occ_primary(o);
	int unavail;

	if (prim != NULL && prim->pres != NULL && !pi->force_unavail) {
		unavail = muc_str_eq(xml_attr(prim->pres, "type"),
		    "unavailable");
		if (o->role != ROLE_NONE || unavail) {
			return xml_clone(prim->pres);
		}
	}
	return pres_keep(r, o, NULL, "unavailable");
}

struct variant {
	struct xml_node *st;
	struct route_prepared p;
	int	 ready;
};

static struct variant *
get_variant(struct variant v[3][2], const struct muc_room *r,
    const struct muc_occupant *o, const struct pubinfo *pi,
    const struct xml_node *base, enum muc_view view, int unavail)
{
	struct variant *vv = &v[view][unavail];

	if (!vv->ready) {
		vv->st = xml_clone(base);
		if (unavail) {
			xml_set_attr(vv->st, "type", "unavailable");
		}
		build_x(r, o, pi, vv->st, view, 0);
		route_prepare(&vv->p, vv->st);
		vv->ready = 1;
	}
	return vv;
}

/*
 * Tell the room about o's presence (Prosody publicise_occupant_status):
 * others get the full, anonymous or same-user view, as whois and
 * presence broadcast allow; o's own sessions get their own presence with
 * status 110.
 */
void
muc_pres_publicise(struct muc_room *r, struct muc_occupant *o,
    const struct pubinfo *pi)
{
	struct variant v[3][2];
	struct xml_node *base, *st;
	struct muc_occupant *q;
	enum muc_view view;
	int unavail;
	size_t i, j;

	memset(v, 0, sizeof(v));
	base = pub_base(r, o, pi);
	for (i = 0; i < r->nocc; i++) {
		q = r->occ[i];
		if (q == o || (pi->only != NULL && q != pi->only)) {
			continue;
		}
		if (pi->only != NULL || muc_pres_bcast_role(r, o->role) ||
		    pi->force_unavail) {
			unavail = 0;
		} else if (pi->prev_role >= 0 &&
		    muc_pres_bcast_role(r, pi->prev_role)) {
			unavail = 1;
		} else {
			continue;
		}
		if (can_see_jids(r, q)) {
			view = VIEW_FULL;
		} else if (strcmp(q->bare, o->bare) == 0) {
			view = VIEW_SELF;
		} else {
			view = VIEW_ANON;
		}
		muc_occ_send(&get_variant(v, r, o, pi, base, view,
		    unavail)->p, q);
	}
	if (pi->only == o) {
		/* a probe of oneself: the view without status 110 */
		view = can_see_jids(r, o) ? VIEW_FULL : VIEW_SELF;
		muc_occ_send(&get_variant(v, r, o, pi, base, view,
		    0)->p, o);
	} else if (pi->only == NULL) {
		for (j = 0; j < o->nsess; j++) {
			if (pi->omit_gone && o->sess[j].gone) {
				continue;
			}
			if (o->role == ROLE_NONE || o->sess[j].pres == NULL) {
				st = xml_clone(base);
			} else {
				st = xml_clone(o->sess[j].pres);
			}
			build_x(r, o, pi, st, VIEW_SELF, 1);
			xml_set_attr(st, "to", o->sess[j].jid);
			muc_send_free(st);
		}
	}
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 2; j++) {
			if (v[i][j].ready) {
				route_prepared_free(&v[i][j].p);
				xml_free(v[i][j].st);
			}
		}
	}
	xml_free(base);
}

/* Presences of the room's occupants (and, when presence for role none is
 * broadcast, of affiliated users who are away) to a joining session. */
static void
send_occupant_list(const struct muc_room *r, const char *to)
{
	char to_bare[JID_MAX + 1];
	const struct muc_occupant *q;
	const struct muc_session *prim;
	const struct muc_affent *a;
	struct xml_node *p, *x;
	struct pubinfo pi;
	int anon = anon_for(r, to);
	size_t i, k;
	struct buf from;

	memset(&pi, 0, sizeof(pi));
	pi.prev_role = -1;
	muc_bare_of(to, to_bare, sizeof(to_bare));
	for (i = 0; i < r->nocc; i++) {
		q = r->occ[i];
		if (muc_occ_session(q, to) != NULL) {
			continue;
		}
		if (strcmp(to_bare, q->bare) != 0 && !muc_pres_bcast_role(r,
		    q->role)) {
			continue;
		}
		prim = muc_occ_primary(q);
		p = (prim != NULL && prim->pres != NULL) ?
		    xml_clone(prim->pres) : pres_keep(r, q, NULL, NULL);
		xml_set_attr(p, "to", to);
		build_x(r, q, &pi, p, (anon && strcmp(to_bare, q->bare) != 0) ?
		    VIEW_ANON : VIEW_SELF, 0);
		muc_send_free(p);
	}
	if (!muc_pres_bcast_role(r, ROLE_NONE)) {
		return;
	}
	buf_init(&from, 0);
	for (i = 0; i < r->naffs; i++) {
		a = &r->affs[i];
		if (a->nick == NULL && anon) {
			continue;
		}
		for (k = 0; k < r->nocc; k++) {
			if (strcmp(r->occ[k]->bare, a->jid) == 0) {
				break;
			}
		}
		if (k < r->nocc) {
			continue;
		}
		buf_reset(&from);
		if (a->nick != NULL) {
			buf_printf(&from, "%s/%s", r->jid, a->nick);
		} else {
			buf_puts(&from, r->jid);
		}
		p = muc_stanza_new("presence", from.data, to, "unavailable",
		    NULL);
		x = xml_add(p, "x", NS_MUC_USER);
		muc_add_item(x, a->aff, "none", anon ? NULL : a->jid, a->nick,
		    NULL, NULL, NULL);
		muc_send_free(p);
	}
	buf_free(&from);
}

/* The presences of the room's occupants, except those of bare JID
 * except_bare, to session to, as its view now allows (after its JID
 * visibility changed). */
void
muc_pres_send_list_except(const struct muc_room *r, const char *to,
    const char *except_bare)
{
	char to_bare[JID_MAX + 1];
	const struct muc_occupant *q;
	const struct muc_session *prim;
	struct xml_node *p;
	struct pubinfo pi;
	int anon = anon_for(r, to);
	size_t i;

	memset(&pi, 0, sizeof(pi));
	muc_bare_of(to, to_bare, sizeof(to_bare));
	for (i = 0; i < r->nocc; i++) {
		q = r->occ[i];
		if (strcmp(q->bare, except_bare) == 0 ||
		    !muc_pres_bcast_role(r, q->role)) {
			continue;
		}
		prim = muc_occ_primary(q);
		if (prim == NULL || prim->pres == NULL) {
			continue;
		}
		p = xml_clone(prim->pres);
		xml_set_attr(p, "to", to);
		build_x(r, q, &pi, p, anon ? VIEW_ANON : VIEW_SELF, 0);
		muc_send_free(p);
	}
}

/* ---- leaving and destroying ---- */

/*
 * Change o's role (Prosody set_role with a known actor or none): publish
 * with status 307 when the occupant is removed.  o may be freed.
 */
void
muc_pres_apply_role(struct muc_room *r, struct muc_occupant *o, int role,
    const char *actor, const char *reason, const char *code)
{
	struct pubinfo pi;

	memset(&pi, 0, sizeof(pi));
	pi.prev_role = o->role;
	pi.actor = actor;
	pi.reason = reason;
	if (role == ROLE_NONE) {
		pi.codes[pi.ncodes++] = code != NULL ? code : "307";
	}
	o->role = role;
	muc_pres_publicise(r, o, &pi);
	if (role == ROLE_NONE) {
		muc_occ_remove(r, o);
	}
}

/*
 * An occupant session sent an error (presence error, or a message error
 * of a kind that means it is gone): take it out (Prosody
 * handle_kickable), status 333 when it was the last session.
 */
void
muc_pres_kick_errored(struct muc_room *r, const struct xml_node *st,
    const char *from)
{
	struct muc_occupant *o = muc_occ_by_real(r, from);
	const struct xml_node *e, *c, *t = NULL;
	const char *cond = NULL;
	struct xml_node *p;
	struct pubinfo pi;
	struct buf msg;
	int last;
	char *q;

	if (o == NULL) {
		return;
	}
	e = xml_child(st, "error", NULL);
	if (e != NULL) {
		for (c = e->first_child; c != NULL; c = c->next) {
			if (c->type != XML_ELEMENT ||
			    !muc_str_eq(c->ns, NS_STANZAS)) {
				continue;
			}
			if (strcmp(c->name, "text") == 0) {
				t = c;
			} else if (cond == NULL) {
				cond = c->name;
			}
		}
	}
	buf_init(&msg, 0);
	buf_puts(&msg, "Kicked: ");
	if (cond != NULL) {
		q = xstrdup(cond);
		for (char *z = q; *z != '\0'; z++) {
			if (*z == '-') {
				*z = ' ';
			}
		}
		buf_puts(&msg, q);
		free(q);
	} else {
		buf_puts(&msg, "presence error");
	}
	if (t != NULL && r->whois_anyone) {
		buf_printf(&msg, ": %s", xml_text(t));
	}
	p = pres_keep(r, o, NULL, "unavailable");
	xml_add_text_child(p, "status", NULL, msg.data);
	buf_free(&msg);
	last = muc_occ_live_sessions(o) == 1;
	muc_occ_set_session(o, from, p, 1);
	memset(&pi, 0, sizeof(pi));
	pi.prev_role = o->role;
	if (last) {
		o->role = ROLE_NONE;
		pi.codes[pi.ncodes++] = "333";
	} else {
		pi.omit_gone = 1;
	}
	muc_pres_publicise(r, o, &pi);
	muc_occ_settle(r, o);
	muc_room_gc(r);
}

/* Presence probe to an occupant JID (Prosody respond_to_probe). */
static void
respond_probe(struct muc_room *r, const struct xml_node *st,
    const char *from, const char *nick)
{
	struct muc_occupant *prober = muc_occ_by_real(r, from), *o;
	const char *owner;
	struct xml_node *p, *x;
	struct pubinfo pi;
	struct buf fj;

	if (prober == NULL) {
		muc_send_error(st, "cancel", "not-acceptable",
		    "You are not currently connected to this chat", r->jid);
		return;
	}
	o = muc_occ_by_nick(r, nick);
	if (o != NULL) {
		memset(&pi, 0, sizeof(pi));
		pi.prev_role = -1;
		pi.only = prober;
		muc_pres_publicise(r, o, &pi);
		return;
	}
	owner = muc_room_nick_owner(r, nick);
	if (owner == NULL) {
		return;
	}
	buf_init(&fj, 0);
	buf_printf(&fj, "%s/%s", r->jid, nick);
	p = muc_stanza_new("presence", fj.data, from, "unavailable", NULL);
	x = xml_add(p, "x", NS_MUC_USER);
	muc_add_item(x, muc_aff_get(r, owner), "none", anon_for(r, from) ?
	    NULL : owner, nick, NULL, NULL, NULL);
	muc_send_free(p);
	buf_free(&fj);
}

/* Does nick hold something other than white space? */
int
muc_pres_nick_visible(const char *nick)
{
	for (; *nick != '\0'; nick++) {
		if (!isspace((unsigned char)*nick)) {
			return 1;
		}
	}
	return 0;
}

/*
 * Checks before an occupant appears under nick (join or nick change);
 * replies with the error and returns -1 when refused.
 */
static int
check_nick_use(struct muc_room *r, const struct xml_node *st,
    const char *from_bare, const char *nick)
{
	const char *owner;

	if (!muc_pres_nick_visible(nick)) {
		muc_send_error(st, "modify", "not-allowed",
		    "Invisible Nicknames are forbidden", r->jid);
		return -1;
	}
	owner = muc_room_nick_owner(r, nick);
	if (owner != NULL && strcmp(owner, from_bare) != 0) {
		muc_send_error(st, "cancel", "conflict", NULL, r->jid);
		return -1;
	}
	return 0;
}

/* After a join: history, then the subject (XEP-0045 §7.2.15-16). */
static void
send_join_tail(const struct muc_room *r, const struct xml_node *st,
    const char *from)
{
	muc_hist_send(r, st, from);
	muc_subject_send(r, from);
}

/* First presence to a room that does not exist: create it (§10.1.1). */
void
muc_pres_create(const char *room_jid, const struct xml_node *st,
    const char *from, const char *nick)
{
	char bare[JID_MAX + 1];
	const struct xml_node *x = xml_child(st, "x", NS_MUC), *pw;
	struct muc_room *r;
	struct muc_occupant *o;
	struct pubinfo pi;

	if (muc_room_count() >= config_get()->muc_max_rooms) {
		muc_send_error(st, "wait", "resource-constraint", NULL,
		    muc_host());
		return;
	}
	muc_bare_of(from, bare, sizeof(bare));
	if (muc_rooms_limit_reached(bare)) {
		log_info("muc room %s refused for %s limit="
		    "muc_max_rooms_per_user", room_jid, bare);
		muc_send_error(st, "cancel", "policy-violation",
		    "Too many rooms owned", muc_host());
		return;
	}
	if (!muc_pres_nick_visible(nick)) {
		muc_send_error(st, "modify", "not-allowed",
		    "Invisible Nicknames are forbidden", NULL);
		return;
	}
	r = muc_room_new(room_jid);
	r->locked_until = time(NULL) + MUC_LOCK_TIMEOUT_S;
	pw = x != NULL ? xml_child(x, "password", NS_MUC) : NULL;
	if (pw != NULL) {
		muc_set_str(&r->password, xml_text(pw));
	}
	muc_aff_store_set(r, bare, AFF_OWNER, NULL, NULL);
	o = muc_occ_new(r, nick, bare, ROLE_MODERATOR);
	muc_occ_set_session(o, from, pres_keep(r, o, st, NULL), 0);
	muc_occ_insert(r, o);
	log_info("muc %s created by %s", r->jid, bare);
	memset(&pi, 0, sizeof(pi));
	pi.prev_role = -1;
	pi.codes[pi.ncodes++] = "201";
	if (r->whois_anyone) {
		pi.codes[pi.ncodes++] = "100";
	}
	muc_pres_publicise(r, o, &pi);
	send_join_tail(r, st, from);
}

/* Room full for this user (§7.2.10)?  Admins and owners always fit. */
static int
room_full(const struct muc_room *r, int aff)
{
	return r->max_users != 0 && r->nocc >= r->max_users &&
	    aff < AFF_ADMIN;
}

/*
 * The checks before a session joins (not yet an occupant), in Prosody's
 * order: the nickname, membership, bans, the password, the lock and room
 * size.  Replies with the error and returns -1 when refused.
 */
static int
join_allowed(struct muc_room *r, const struct xml_node *st,
    const struct xml_node *muc_x, const char *bare, const char *nick,
    int aff, int is_first)
{
	const struct xml_node *pw;

	if (check_nick_use(r, st, bare, nick) != 0) {
		return -1;
	}
	if (r->members_only && aff <= AFF_NONE) {
		muc_send_error(st, "auth", "registration-required", NULL,
		    r->jid);
		return -1;
	}
	if (aff == AFF_OUTCAST) {
		muc_send_error(st, "auth", "forbidden", NULL, r->jid);
		return -1;
	}
	pw = muc_x != NULL ? xml_child(muc_x, "password", NS_MUC) : NULL;
	if (r->password != NULL && muc_x != NULL && (pw == NULL ||
	    strcmp(xml_text(pw), r->password) != 0)) {
		muc_send_error(st, "auth", "not-authorized", NULL, r->jid);
		return -1;
	}
	if (muc_room_locked(r)) {
		muc_send_error(st, "cancel", "item-not-found", NULL,
		    muc_host());
		return -1;
	}
	if (is_first && room_full(r, aff)) {
		muc_send_error(st, "wait", "service-unavailable", NULL,
		    r->jid);
		return -1;
	}
	return 0;
}

/*
 * The session of real JID from leaves occupant orig, for good (unavail)
 * or for dest (a nick change, or joining dest's pre-existing session when
 * !is_first); aff is its affiliation and is_last tells whether it was
 * orig's only live session.  Everyone is told.  Returns orig, or NULL
 * when orig was freed.
 */
static struct muc_occupant *
orig_leave(struct muc_room *r, const struct xml_node *st, const char *from,
    struct muc_occupant *orig, const struct muc_occupant *dest,
    const char *nick, int aff, int unavail, int is_first, int is_last)
{
	struct xml_node *p, *x;
	struct pubinfo pi;
	struct buf fj;

	memset(&pi, 0, sizeof(pi));
	pi.prev_role = orig->role;
	if (unavail) {
		if (is_last) {
			orig->role = ROLE_NONE;
		}
		muc_occ_set_session(orig, from,
		    pres_keep(r, orig, st, "unavailable"), 1);
	} else {
		p = pres_keep(r, orig, NULL, "unavailable");
		if (!is_first) {
			/* merging into a pre-existing session (dest) */
			buf_init(&fj, 0);
			buf_printf(&fj, "%s/%s", r->jid, dest->nick);
			x = muc_stanza_new("presence", fj.data, from,
			    "unavailable", NULL);
			buf_reset(&fj);
			buf_printf(&fj, "you are joining pre-existing "
			    "session %s", dest->nick);
			xml_add_text_child(x, "status", NULL, fj.data);
			muc_add_item(xml_add(x, "x", NS_MUC_USER), aff,
			    "none", NULL, NULL, NULL, NULL, NULL);
			muc_send_free(x);
			buf_free(&fj);
		}
		if (is_first && is_last) {
			muc_occ_set_session(orig, from, p, 1);
			pi.codes[pi.ncodes++] = "303";
			pi.newnick = nick;
		} else {
			/* the session alone sees its nick change */
			x = xml_add(p, "x", NS_MUC_USER);
			muc_add_item(x, aff, muc_role_name(orig->role),
			    from, nick, NULL, NULL, NULL);
			muc_add_status(x, "303");
			muc_add_status(x, "110");
			xml_set_attr(p, "to", from);
			muc_send_free(p);
			muc_occ_drop_session(orig, from);
		}
	}
	muc_pres_publicise(r, orig, &pi);
	return muc_occ_settle(r, orig) ? NULL : orig;
}

/* The session from moved out of orig, a nick the same user's other
 * sessions still hold: show orig to it as it now is (no status 110). */
static void
show_again(const struct muc_room *r, const struct muc_occupant *orig,
    const char *from)
{
	struct xml_node *p;
	const struct muc_session *prim = muc_occ_primary(orig);

	if (prim != NULL && prim->pres != NULL) {
		struct pubinfo pj;

		memset(&pj, 0, sizeof(pj));
		p = xml_clone(prim->pres);
		xml_set_attr(p, "to", from);
		build_x(r, orig, &pj, p, VIEW_SELF, 0);
		muc_send_free(p);
	}
}

/*
 * Available or unavailable presence to an occupant JID: join, presence
 * update, nick change, leave (Prosody handle_normal_presence).
 */
void
muc_pres_occupant(struct muc_room *r, const struct xml_node *st,
    const char *from, const char *nick_raw)
{
	const char *type = xml_attr(st, "type");
	const struct xml_node *muc_x = xml_child(st, "x", NS_MUC);
	char nick[JID_PART_MAX + 1], lax[2 * JID_MAX + 2], bare[JID_MAX + 1];
	struct muc_occupant *orig, *dest;
	struct pubinfo pi;
	int unavail = muc_str_eq(type, "unavailable");
	int is_first = 0, is_last = 0, aff, orig_role = -1, join;

	muc_bare_of(from, bare, sizeof(bare));
	orig = muc_occ_by_real(r, from);
	if (orig == NULL && muc_x == NULL && type == NULL) {
		muc_send_error(st, "cancel", "item-not-found",
		    "You are not currently connected to this chat", r->jid);
		return;
	}
	if (unavail) {
		if (orig == NULL) {
			return;
		}
		dest = NULL;
	} else {
		if (!muc_pres_nick_visible(nick_raw)) {
			muc_send_error(st, "modify", "not-allowed",
			    "Invisible Nicknames are forbidden", r->jid);
			return;
		}
		if (muc_nick_strict(nick_raw, nick, sizeof(nick)) != 0) {
			muc_nick_lax(nick_raw, nick, sizeof(nick));
			snprintf(lax, sizeof(lax), "%s/%s", r->jid, nick);
			muc_send_error_from(st, lax, "modify", "jid-malformed",
			    "Nickname must pass strict validation", r->jid);
			return;
		}
		if (orig != NULL && strcmp(orig->nick, nick) == 0) {
			dest = orig;
		} else {
			dest = muc_occ_by_nick(r, nick);
			is_first = dest == NULL;
		}
	}
	if (orig != NULL) {
		orig_role = orig->role;
		is_last = muc_occ_live_sessions(orig) == 1;
	}
	/* decided now: orig may be freed by a nick change below */
	join = orig == NULL || muc_x != NULL;
	aff = muc_aff_get(r, from);
	if (orig == NULL) {
		if (join_allowed(r, st, muc_x, bare, nick, aff,
		    is_first) != 0) {
			return;
		}
	} else if (!unavail && dest != orig) {
		if (check_nick_use(r, st, bare, nick) != 0) {
			return;
		}
	}
	if (dest != NULL && !is_first && strcmp(dest->bare, bare) != 0) {
		muc_send_error(st, "cancel", "conflict", NULL, r->jid);
		return;
	}

	/* the original occupant: leaving or changing nick */
	if (orig != NULL && orig != dest) {
		orig = orig_leave(r, st, from, orig, dest, nick, aff, unavail,
		    is_first, is_last);
	}
	if (unavail) {
		muc_room_gc(r);
		return;
	}

	/* the destination occupant */
	if (is_first) {
		dest = muc_occ_new(r, nick, bare, orig_role >= 0 ? orig_role :
		    muc_role_default(r, aff));
		muc_occ_insert(r, dest);
	}
	muc_occ_set_session(dest, from, pres_keep(r, dest, st, NULL), 0);
	if (join) {
		send_occupant_list(r, from);
	}
	memset(&pi, 0, sizeof(pi));
	pi.prev_role = orig_role;
	if (orig_role < 0 && !is_first) {
		pi.prev_role = dest->role;
	}
	if (orig_role < 0 && r->whois_anyone) {
		pi.self_codes[pi.nself_codes++] = "100";
	}
	muc_pres_publicise(r, dest, &pi);
	if (orig != NULL && orig != dest) {
		/* the session left a multi-session nick: show it again */
		show_again(r, orig, from);
	}
	if (join) {
		send_join_tail(r, st, from);
	}
}

/* Presence to an occupant JID, any type. */
void
muc_pres_handle(struct muc_room *r, const struct xml_node *st,
    const char *from, const char *nick_raw)
{
	const char *type = xml_attr(st, "type");
	char nick[JID_PART_MAX + 1];

	if (type == NULL || strcmp(type, "unavailable") == 0) {
		muc_pres_occupant(r, st, from, nick_raw);
	} else if (strcmp(type, "error") == 0) {
		muc_pres_kick_errored(r, st, from);
	} else if (strcmp(type, "probe") == 0) {
		if (jid_nick_canon(nick_raw, nick, sizeof(nick)) == 0) {
			respond_probe(r, st, from, nick);
		}
	} else if (strcmp(type, "result") != 0 &&
	    strcmp(type, "visible") != 0 && strcmp(type, "invisible") != 0) {
		muc_send_error(st, "modify", "bad-request", NULL, r->jid);
	}
}

/* Unavailable presence to everyone: the room goes away (§10.9). */
void
muc_pres_destroy(struct muc_room *r, const char *newjid, const char *reason,
    const char *password)
{
	struct xml_node *d = xml_new("destroy", NS_MUC_USER);
	struct pubinfo pi;
	struct muc_occupant *o, **occ;
	size_t i, nocc;

	if (newjid != NULL) {
		xml_set_attr(d, "jid", newjid);
	}
	if (reason != NULL) {
		xml_add_text_child(d, "reason", NULL, reason);
	}
	if (password != NULL) {
		xml_add_text_child(d, "password", NULL, password);
	}
	memset(&pi, 0, sizeof(pi));
	pi.destroy = d;
	/* everyone is out first, so each occupant hears only of itself */
	occ = r->occ;
	nocc = r->nocc;
	r->occ = NULL;
	r->nocc = r->capocc = 0;
	for (i = 0; i < nocc; i++) {
		o = occ[i];
		pi.prev_role = o->role;
		o->role = ROLE_NONE;
		muc_pres_publicise(r, o, &pi);
		muc_occ_free(o);
	}
	free(occ);
	xml_free(d);
	muc_room_unstore(r);
	mam_archive_removed(r->jid);
	if (r->persistent) {
		muc_tomb_store(muc_tomb_add(r->jid, reason, newjid,
		    time(NULL) + MUC_TOMBSTONE_S));
	}
	log_info("muc %s destroyed", r->jid);
	r->destroyed = 1;
}

/*
 * XEP-0045 "Service removes user because of service shut down": each
 * occupant's sessions are told they left, with 110 and 332, before the
 * server closes their streams.
 */
void
muc_announce_shutdown(void)
{
	struct muc_room *r;
	struct muc_occupant *o;
	struct xml_node *p, *x, *item;
	struct buf from;
	size_t pos, i, j;

	buf_init(&from, 0);
	for (r = muc_room_first(&pos); r != NULL;
	    r = muc_room_next(r, &pos)) {
		if (r->destroyed) {
			continue;
		}
		for (i = 0; i < r->nocc; i++) {
			o = r->occ[i];
			buf_reset(&from);
			buf_printf(&from, "%s/%s", r->jid, o->nick);
			for (j = 0; j < o->nsess; j++) {
				p = muc_stanza_new("presence", from.data,
				    o->sess[j].jid, "unavailable", NULL);
				x = xml_add(p, "x", NS_MUC_USER);
				item = xml_add(x, "item", NULL);
				xml_set_attr(item, "affiliation",
				    muc_aff_name(muc_aff_get(r, o->bare)));
				xml_set_attr(item, "role", "none");
				xml_set_attr(xml_add(x, "status", NULL), "code",
				    "110");
				xml_set_attr(xml_add(x, "status", NULL), "code",
				    "332");
				muc_send_free(p);
			}
		}
	}
	buf_free(&from);
}
