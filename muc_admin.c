/*
 * muc_admin.c - who may do what in a room: affiliation and role changes
 * (XEP-0045 §8, §9, §10, muc#admin), room configuration (§10.2,
 * muc#owner, including destruction by an owner) and nickname
 * registration (§7.10, jabber:iq:register).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "jid.h"
#include "muc_internal.h"
#include "ns.h"
#include "store.h"

/* ---- affiliations and roles (§9, §10) ---- */

static int
fail(struct muc_err *e, const char *type, const char *cond)
{
	e->type = type;
	e->cond = cond;
	e->text = NULL;
	return -1;
}

/*
 * May actor (real full JID, NULL for the service) give bare JID jid
 * affiliation aff (Prosody set_affiliation's checks)?  0, or -1 with e
 * filled: only owners change owners and admins, an admin changes
 * members, outcasts and none; the last owner cannot step down (§10.4);
 * a room holds at most MUC_AFFS_MAX affiliations.
 */
static int
aff_allowed(const struct muc_room *r, const char *actor, const char *jid,
    int aff, struct muc_err *e)
{
	const struct muc_affent *cur = muc_aff_find(r, jid);
	int target = cur != NULL ? cur->aff : AFF_NONE, actor_aff;
	char abare[JID_MAX + 1];
	size_t i;

	if (aff != AFF_OWNER && account_is_admin(jid)) {
		return fail(e, "modify", "not-acceptable");
	}
	if (cur == NULL && aff != AFF_NONE && r->naffs >= MUC_AFFS_MAX) {
		/* a bound on what admins, and invitations to members-only
		 * rooms, can make the room (and the store) hold */
		return fail(e, "wait", "resource-constraint");
	}
	if (actor == NULL) {
		return 0;
	}
	actor_aff = muc_aff_get(r, actor);
	muc_bare_of(actor, abare, sizeof(abare));
	if (actor_aff == AFF_OWNER) {
		if (strcmp(abare, jid) == 0 && target > aff) {
			for (i = 0; i < r->naffs; i++) {
				if (r->affs[i].aff == AFF_OWNER &&
				    strcmp(r->affs[i].jid, jid) != 0) {
					break;
				}
			}
			if (i == r->naffs) {
				return fail(e, "cancel", "conflict");
			}
		}
	} else if (aff == AFF_OWNER || aff == AFF_ADMIN ||
	    actor_aff != AFF_ADMIN || target == AFF_OWNER ||
	    target == AFF_ADMIN) {
		return fail(e, "cancel", "not-allowed");
	}
	return 0;
}

/*
 * Change the affiliation of bare JID jid (Prosody set_affiliation).
 * actor: the real full JID asking, or NULL for the service itself.  nick:
 * NULL keeps a reserved nickname, "" drops it, else reserves it.  The
 * occupants concerned are told (kicked with 301/321 when they lose their
 * role); when none is in the room, the room hears the change by message.
 */
int
muc_admin_set_affiliation(struct muc_room *r, const char *actor,
    const char *jid,
    int aff, const char *reason, const char *nick, struct muc_err *e)
{
	struct muc_affent *cur = muc_aff_find(r, jid);
	int target = cur != NULL ? cur->aff : AFF_NONE;
	int downgrade = target > aff, role, is_host;
	char dom[JID_MAX + 1];
	struct muc_occupant **upd = NULL;
	int *old = NULL;
	size_t nupd = 0, i, k;
	struct pubinfo pi;
	struct xml_node *m, *x;

	if (aff_allowed(r, actor, jid, aff, e) != 0) {
		return -1;
	}
	/* a persistent room's affiliations are in the store: refused, not
	 * kept in memory only, when it cannot write */
	if (r->persistent && !store_writable()) {
		return fail(e, "wait", "resource-constraint");
	}
	is_host = strchr(jid, '@') == NULL;
	muc_aff_store_set(r, jid, aff, aff == AFF_NONE ? NULL : nick,
	    reason != NULL ? reason : "");
	r->busy++;

	role = muc_role_default(r, aff);
	if (r->nocc > 0) {
		upd = xcalloc(r->nocc, sizeof(*upd));
		old = xcalloc(r->nocc, sizeof(*old));
	}
	for (i = 0; i < r->nocc; i++) {
		struct muc_occupant *o = r->occ[i];

		if (strcmp(o->bare, jid) != 0 && !(is_host &&
		    aff == AFF_OUTCAST && jid_domain(o->bare, dom,
		    sizeof(dom)) == 0 && strcmp(dom, jid) == 0)) {
			continue;
		}
		upd[nupd] = o;
		old[nupd++] = o->role;
		if (o->role != role && (downgrade || o->role < role)) {
			o->role = role;
		}
	}
	memset(&pi, 0, sizeof(pi));
	if (role == ROLE_NONE) {
		pi.codes[pi.ncodes++] = aff == AFF_OUTCAST ? "301" : "321";
	}
	pi.actor = actor;
	pi.reason = reason;
	for (i = 0; i < nupd; i++) {
		struct muc_occupant *o = upd[i];

		pi.prev_role = old[i];
		muc_pres_publicise(r, o, &pi);
		if (o->role == ROLE_NONE) {
			muc_occ_remove(r, o);
		} else if (!r->whois_anyone && (old[i] == ROLE_MODERATOR) !=
		    (o->role == ROLE_MODERATOR)) {
			/* JID visibility changed: send the room again */
			for (k = 0; k < o->nsess; k++) {
				muc_pres_send_list_except(r, o->sess[k].jid,
				    o->bare);
			}
		}
	}
	if (nupd == 0) {
		/* XEP-0045 example 195: tell the room */
		m = muc_stanza_new("message", r->jid, NULL, NULL, NULL);
		x = xml_add(m, "x", NS_MUC_USER);
		for (i = 0; i < pi.ncodes; i++) {
			muc_add_status(x, pi.codes[i]);
		}
		muc_add_item(x, aff, NULL, jid, NULL, NULL, NULL, reason);
		muc_room_broadcast(r, m, r->whois_anyone ? ROLE_NONE :
		    ROLE_MODERATOR);
		xml_free(m);
	}
	free(upd);
	free(old);
	r->busy--;
	return 0;
}

/* Prosody may_set_role + set_role; unlike Prosody, an owner cannot make
 * an admin or owner a visitor either (XEP-0045 §8.4 MUST NOT). */
int
muc_admin_set_role(struct muc_room *r, const char *actor,
    struct muc_occupant *o, int role, const char *reason, struct muc_err *e)
{
	int actor_aff, occ_aff;
	struct muc_occupant *ao;

	if (actor != NULL) {
		actor_aff = muc_aff_get(r, actor);
		occ_aff = muc_aff_get(r, o->bare);
		if (actor_aff < occ_aff) {
			return fail(e, "cancel", "not-allowed");
		}
		/* §8.4: nobody revokes the voice of an admin or owner */
		if (role == ROLE_VISITOR && occ_aff >= AFF_ADMIN) {
			return fail(e, "cancel", "not-allowed");
		}
		if ((o->role == ROLE_MODERATOR || role == ROLE_MODERATOR) &&
		    actor_aff < AFF_ADMIN) {
			return fail(e, "cancel", "not-allowed");
		}
		ao = muc_occ_by_real(r, actor);
		if (ao == NULL || ao->role != ROLE_MODERATOR) {
			return fail(e, "cancel", "not-allowed");
		}
	}
	muc_pres_apply_role(r, o, role, actor, reason, NULL);
	return 0;
}

/* Reply to st with the stanza error e describes. */
void
muc_admin_reply_err(const struct xml_node *st, const struct muc_err *e)
{
	muc_send_error(st, e->type, e->cond, e->text, NULL);
}

/* Validate a bare JID from an admin item into out; -1 with e filled. */
static int
item_jid(const char *in, char *out, size_t cap, struct muc_err *e)
{
	if (jid_canon(in, out, cap) != 0) {
		return fail(e, "modify", "jid-malformed");
	}
	if (jid_resource(out) != NULL) {
		fail(e, "modify", "jid-malformed");
		e->text = "Bare JID expected, got full JID";
		return -1;
	}
	return 0;
}

/* One <item/> of a muc#admin set (Prosody handle_admin_query_set). */
static int
admin_item(struct muc_room *r, const char *from, const struct xml_node *it,
    struct muc_err *e)
{
	const char *ajid = xml_attr(it, "jid"), *anick = xml_attr(it, "nick");
	const char *saff = xml_attr(it, "affiliation");
	const char *srole = xml_attr(it, "role");
	const struct xml_node *rn = xml_child(it, "reason", NULL);
	const char *reason = rn != NULL ? xml_text(rn) : NULL;
	char jid[JID_MAX + 1], nick[JID_PART_MAX + 1];
	struct muc_occupant *o;
	int aff, role;
	size_t i;

	jid[0] = nick[0] = '\0';
	if (ajid != NULL && item_jid(ajid, jid, sizeof(jid), e) != 0) {
		return -1;
	}
	if (anick != NULL && *anick == '\0') {
		/* §9.5: an empty nick unsets the reserved nickname */
		nick[0] = '\0';
	} else if (anick != NULL &&
	    jid_nick_canon(anick, nick, sizeof(nick)) != 0) {
		fail(e, "modify", "jid-malformed");
		e->text = "invalid nickname";
		return -1;
	}
	if (ajid == NULL && anick != NULL) {
		o = muc_occ_by_nick(r, nick);
		if (o != NULL) {
			snprintf(jid, sizeof(jid), "%s", o->bare);
			ajid = jid;
		}
	} else if (srole != NULL && anick == NULL && ajid != NULL) {
		for (i = 0; i < r->nocc; i++) {
			if (strcmp(r->occ[i]->bare, jid) == 0) {
				snprintf(nick, sizeof(nick), "%s",
				    r->occ[i]->nick);
				anick = nick;
				break;
			}
		}
	}
	if (saff != NULL && ajid != NULL && srole == NULL) {
		aff = muc_aff_parse(saff);
		if (aff < AFF_OUTCAST) {
			return fail(e, "modify", "not-acceptable");
		}
		if (anick != NULL) {
			/* checked first: reserving a nickname kicks its
			 * holder, which only the actor's rank allows (§8.2) */
			if (aff_allowed(r, from, jid, aff, e) != 0) {
				return -1;
			}
			o = muc_occ_by_nick(r, nick);
			if (o != NULL && strcmp(o->bare, jid) != 0 &&
			    muc_aff_get(r, o->bare) > muc_aff_get(r, from)) {
				return fail(e, "cancel", "not-allowed");
			}
			if (o != NULL && strcmp(o->bare, jid) != 0) {
				muc_pres_apply_role(r, o, ROLE_NONE, NULL,
				    "This nickname is reserved", NULL);
			}
		}
		return muc_admin_set_affiliation(r, from, jid, aff, reason,
		    anick != NULL ? nick : NULL, e);
	}
	if (srole != NULL && anick != NULL && saff == NULL) {
		o = muc_occ_by_nick(r, nick);
		if (o == NULL) {
			return fail(e, "modify", "item-not-found");
		}
		role = muc_role_parse(srole);
		if (role < 0) {
			return fail(e, "modify", "not-acceptable");
		}
		return muc_admin_set_role(r, from, o, role, reason, e);
	}
	return fail(e, "cancel", "bad-request");
}

/* A muc#admin set (§9, §10): apply each <item/> in order; the first
 * refused one is the reply (earlier ones stay applied), else a result. */
void
muc_admin_set(struct muc_room *r, const struct xml_node *iq, const char *from,
    const struct xml_node *q)
{
	const struct xml_node *it = xml_child(q, "item", NS_MUC_ADMIN);
	struct muc_err e;

	if (it == NULL) {
		muc_send_error(iq, "cancel", "bad-request", NULL, NULL);
		return;
	}
	for (; it != NULL; it = xml_next(it, "item", NS_MUC_ADMIN)) {
		if (admin_item(r, from, it, &e) != 0) {
			muc_admin_reply_err(iq, &e);
			return;
		}
	}
	muc_send_free(muc_iq_result(iq));
}

/* A muc#admin get: the list of one affiliation (for admins and owners up
 * to their own rank, or for others where the room allows it), or the
 * occupants with one role (for moderators). */
void
muc_admin_get(struct muc_room *r, const struct xml_node *iq, const char *from,
    const struct xml_node *q)
{
	const struct xml_node *it = xml_child(q, "item", NS_MUC_ADMIN);
	const char *saff = it != NULL ? xml_attr(it, "affiliation") : NULL;
	const char *srole = it != NULL ? xml_attr(it, "role") : NULL;
	struct muc_occupant *me = muc_occ_by_real(r, from), *o;
	int ra = muc_aff_get(r, from), want, myrole, allowed;
	struct xml_node *res, *rq;
	size_t i, k;

	myrole = me != NULL ? me->role : muc_role_default(r, ra);
	if (saff != NULL && srole == NULL &&
	    muc_aff_parse(saff) >= AFF_OUTCAST) {
		want = muc_aff_parse(saff);
		allowed = (ra >= AFF_ADMIN && ra >= want) ||
		    (r->members_only && r->whois_anyone && ra >= AFF_MEMBER) ||
		    (want == AFF_MEMBER && me != NULL &&
		    (r->getmemberlist & (1u << me->role)) != 0);
		if (!allowed) {
			muc_send_error(iq, "auth", "forbidden", NULL, NULL);
			return;
		}
		res = muc_iq_result(iq);
		rq = xml_add(res, "query", NS_MUC_ADMIN);
		for (i = 0; i < r->naffs; i++) {
			if (r->affs[i].aff != want) {
				continue;
			}
			muc_add_item(rq, want, NULL, r->affs[i].jid,
			    r->affs[i].nick, NULL, NULL,
			    want == AFF_OUTCAST ? r->affs[i].reason : NULL);
		}
		muc_send_free(res);
		return;
	}
	if (srole != NULL && saff == NULL && muc_role_parse(srole) >= 0) {
		want = muc_role_parse(srole);
		if (myrole < ROLE_MODERATOR) {
			muc_send_error(iq, "auth", "forbidden", NULL, NULL);
			return;
		}
		res = muc_iq_result(iq);
		rq = xml_add(res, "query", NS_MUC_ADMIN);
		for (i = 0; i < r->nocc; i++) {
			o = r->occ[i];
			if (o->role != want) {
				continue;
			}
			for (k = 0; k < o->nsess; k++) {
				muc_add_item(rq, muc_aff_get(r, o->bare),
				    muc_role_name(o->role), o->sess[k].jid,
				    o->nick, NULL, NULL, NULL);
			}
		}
		muc_send_free(res);
		return;
	}
	muc_send_error(iq, "cancel", "bad-request", NULL, NULL);
}

/* ---- configuration (§10.2) ---- */

static const char *const allowpm_names[] = {
	"anyone", "participants", "moderators", "none"
};

/* The role options of a form field (none first when with_none). */
void
muc_admin_add_role_options(struct xml_node *f, int with_none)
{
	if (with_none) {
		muc_form_add_option(f, "None", "none");
	}
	muc_form_add_option(f, "Visitor", "visitor");
	muc_form_add_option(f, "Participant", "participant");
	muc_form_add_option(f, "Moderator", "moderator");
}

static void
add_role_values(struct xml_node *f, unsigned mask)
{
	int role;

	for (role = ROLE_NONE; role <= ROLE_MODERATOR; role++) {
		if (mask & (1u << role)) {
			xml_add_text_child(f, "value", NULL,
			    muc_role_name(role));
		}
	}
}

static void
config_form(const struct muc_room *r, struct xml_node *parent)
{
	struct xml_node *x = xml_add(parent, "x", NS_DATA), *f;
	char tmp[64];
	struct buf t;
	size_t i;

	xml_set_attr(x, "type", "form");
	buf_init(&t, 0);
	buf_printf(&t, "Configuration for %s", r->jid);
	xml_add_text_child(x, "title", NULL, t.data);
	buf_free(&t);
	xml_add_text_child(x, "instructions", NULL,
	    "Complete and submit this form to configure the room.");
	muc_form_add_field(x, "FORM_TYPE", "hidden", NULL, FORM_ROOMCONFIG);
	muc_form_add_field(x, NULL, "fixed", NULL, "Room information");
	muc_form_add_field(x, "muc#roomconfig_roomname", "text-single", "Title",
	    r->name != NULL ? r->name : "");
	muc_form_add_field(x, "muc#roomconfig_roomdesc", "text-single",
	    "Description", r->desc != NULL ? r->desc : "");
	muc_form_add_field(x, "muc#roomconfig_lang", "text-single",
	    "Language tag for room (e.g. 'en', 'de', 'fr' etc.)",
	    r->lang != NULL ? r->lang : "");
	muc_form_add_field(x, "muc#roomconfig_persistentroom", "boolean",
	    "Persistent (room should remain even when it is empty)",
	    r->persistent ? "1" : "0");
	muc_form_add_field(x, "muc#roomconfig_publicroom", "boolean",
	    "Include room information in public lists",
	    r->public ? "1" : "0");
	muc_form_add_field(x, NULL, "fixed", NULL, "Access to the room");
	muc_form_add_field(x, "muc#roomconfig_roomsecret", "text-private",
	    "Password", r->password != NULL ? r->password : "");
	muc_form_add_field(x, "muc#roomconfig_membersonly", "boolean",
	    "Only allow members to join", r->members_only ? "1" : "0");
	muc_form_add_field(x, "muc#roomconfig_allowinvites", "boolean",
	    "Allow members to invite new members",
	    r->allow_invites ? "1" : "0");
	if (r->max_users != 0) {
		snprintf(tmp, sizeof(tmp), "%u", r->max_users);
	} else {
		snprintf(tmp, sizeof(tmp), "none");
	}
	f = muc_form_add_field(x, "muc#roomconfig_maxusers", "list-single",
	    "Maximum number of occupants", tmp);
	{
		static const char *const opts[] = { "5", "10", "20", "30",
		    "50", "100", "200", "500", "1000" };

		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
			muc_form_add_option(f, NULL, opts[i]);
		}
		muc_form_add_option(f, "No limit", "none");
	}
	muc_form_add_field(x, NULL, "fixed", NULL, "Permissions in the room");
	muc_form_add_field(x, "muc#roomconfig_changesubject", "boolean",
	    "Allow anyone to set the room's subject",
	    r->changesubject ? "1" : "0");
	muc_form_add_field(x, "muc#roomconfig_moderatedroom", "boolean",
	    "Moderated (require permission to speak)",
	    r->moderated ? "1" : "0");
	f = muc_form_add_field(x, "muc#roomconfig_whois", "list-single",
	    "Addresses (JIDs) of room occupants may be viewed by:",
	    r->whois_anyone ? "anyone" : "moderators");
	muc_form_add_option(f, "Moderators only", "moderators");
	muc_form_add_option(f, "Anyone", "anyone");
	f = muc_form_add_field(x, "muc#roomconfig_allowpm", "list-single",
	    "Who may send private messages", allowpm_names[r->allowpm]);
	muc_form_add_option(f, "Anyone", "anyone");
	muc_form_add_option(f, "Anyone with voice", "participants");
	muc_form_add_option(f, "Moderators only", "moderators");
	muc_form_add_option(f, "Nobody", "none");
	f = muc_form_add_field(x, "muc#roomconfig_presencebroadcast",
	    "list-multi", "Only show participants with roles:", NULL);
	add_role_values(f, r->bcast);
	muc_admin_add_role_options(f, 1);
	f = muc_form_add_field(x, "muc#roomconfig_getmemberlist", "list-multi",
	    "Roles that may retrieve the member list", NULL);
	add_role_values(f, r->getmemberlist);
	muc_admin_add_role_options(f, 0);
	muc_form_add_field(x, NULL, "fixed", NULL, "Other options");
	snprintf(tmp, sizeof(tmp), "%u", r->history_len);
	f = muc_form_add_field(x, "muc#roomconfig_historylength", "text-single",
	    "Maximum number of history messages returned by room", tmp);
	snprintf(tmp, sizeof(tmp), "%u", r->history_default);
	muc_form_add_field(x, "muc#roomconfig_defaulthistorymessages",
	    "text-single",
	    "Default number of history messages returned by room", tmp);
	muc_form_add_field(x, "muc#roomconfig_enablearchiving", "boolean",
	    "Archive chat on server", muc_room_archiving(r) ? "1" : "0");
}

/* Set a string option; 1 when it changed. */
static int
opt_str(char **dst, const char *val)
{
	const char *v = (val != NULL && *val != '\0') ? val : NULL;

	if (muc_str_eq(*dst, v)) {
		return 0;
	}
	muc_set_str(dst, v);
	return 1;
}

static int
opt_bool(int *dst, const char *val)
{
	int v = muc_parse_bool(val);

	if (*dst == v) {
		return 0;
	}
	*dst = v;
	return 1;
}

/* Roles of a list-multi field as a mask. */
static unsigned
field_roles(const struct xml_node *f)
{
	const struct xml_node *v;
	unsigned mask = 0;
	int role;

	for (v = xml_child(f, "value", NS_DATA); v != NULL;
	    v = xml_next(v, "value", NS_DATA)) {
		role = muc_role_parse(xml_text(v));
		if (role >= 0) {
			mask |= 1u << role;
		}
	}
	return mask;
}

/* Presence broadcast changed: announce or hide occupants. */
static void
bcast_changed(struct muc_room *r, unsigned old)
{
	struct pubinfo pi;
	size_t i;
	int was, is;

	for (i = 0; i < r->nocc; i++) {
		struct muc_occupant *o = r->occ[i];

		was = (old & (1u << o->role)) != 0;
		is = muc_pres_bcast_role(r, o->role);
		if (was == is) {
			continue;
		}
		memset(&pi, 0, sizeof(pi));
		pi.prev_role = -1;
		pi.force_unavail = was && !is;
		muc_pres_publicise(r, o, &pi);
	}
}

/* Room became members-only: out with non-members (status 322). */
static void
kick_nonmembers(struct muc_room *r)
{
	struct pubinfo pi;
	size_t i = 0;

	memset(&pi, 0, sizeof(pi));
	pi.codes[pi.ncodes++] = "322";
	while (i < r->nocc) {
		struct muc_occupant *o = r->occ[i];

		if (muc_aff_get(r, o->bare) > AFF_NONE) {
			i++;
			continue;
		}
		pi.prev_role = o->role;
		o->role = ROLE_NONE;
		muc_pres_publicise(r, o, &pi);
		muc_occ_remove(r, o);
	}
}

/*
 * The options of a submitted muc#roomconfig form that only set a value,
 * from the room name to who may send private messages; sets *c104 when
 * one changed, *cwhois to 172 or 173 when whois did.
 */
static void
config_apply_plain(struct muc_room *r, const struct xml_node *x, int *c104,
    int *cwhois)
{
	const char *v;
	unsigned long n;
	int i;

	if ((v = muc_form_value(x, "muc#roomconfig_roomname")) != NULL) {
		*c104 |= opt_str(&r->name, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_roomdesc")) != NULL) {
		*c104 |= opt_str(&r->desc, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_lang")) != NULL) {
		*c104 |= opt_str(&r->lang, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_persistentroom")) != NULL) {
		*c104 |= opt_bool(&r->persistent, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_publicroom")) != NULL) {
		*c104 |= opt_bool(&r->public, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_roomsecret")) != NULL) {
		*c104 |= opt_str(&r->password, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_passwordprotectedroom")) !=
	    NULL && !muc_parse_bool(v) && r->password != NULL) {
		muc_set_str(&r->password, NULL);
		*c104 = 1;
	}
	if ((v = muc_form_value(x, "muc#roomconfig_allowinvites")) != NULL) {
		*c104 |= opt_bool(&r->allow_invites, v);
	}
	if ((v = muc_form_value(x,
	    "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites")) !=
	    NULL) {
		*c104 |= opt_bool(&r->allow_invites, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_maxusers")) != NULL) {
		n = (strcmp(v, "none") == 0 || *v == '\0') ? 0 :
		    strtoul(v, NULL, 10);
		if (n != r->max_users && n <= 1000000) {
			r->max_users = (unsigned)n;
			*c104 = 1;
		}
	}
	if ((v = muc_form_value(x, "muc#roomconfig_changesubject")) != NULL) {
		*c104 |= opt_bool(&r->changesubject, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_moderatedroom")) != NULL) {
		*c104 |= opt_bool(&r->moderated, v);
	}
	if ((v = muc_form_value(x, "muc#roomconfig_whois")) != NULL &&
	    (strcmp(v, "anyone") == 0 || strcmp(v, "moderators") == 0)) {
		i = strcmp(v, "anyone") == 0;
		if (i != r->whois_anyone) {
			r->whois_anyone = i;
			*cwhois = i ? 172 : 173;
		}
	}
	if ((v = muc_form_value(x, "muc#roomconfig_allowpm")) != NULL) {
		for (i = 0; i < 4; i++) {
			if (strcmp(v, allowpm_names[i]) == 0 &&
			    r->allowpm != i) {
				r->allowpm = i;
				*c104 = 1;
			}
		}
	}
}

/*
 * Apply a submitted muc#roomconfig form; fills the status codes.  The
 * plain options first; then history, member list, members-only and
 * presence broadcast (which may publish presence), in that order; then
 * what acts on occupants and on the store.
 */
static void
config_apply(struct muc_room *r, const struct xml_node *x, int *c104,
    int *cwhois, int *carch)
{
	const struct xml_node *f;
	const char *v;
	unsigned long n;
	unsigned mask;
	int was_persistent = r->persistent, was_mo = r->members_only;
	int was_archiving = muc_room_archiving(r);

	config_apply_plain(r, x, c104, cwhois);
	/* The owner chooses archiving by changing what the form showed: a
	 * client that sends the whole form back (Gajim does) with only the
	 * persistence changed leaves archiving to follow persistence.
	 * XEP-0045 §10.2.1: 170 logging now on, 171 off, either way. */
	if ((v = muc_form_value(x, "muc#roomconfig_enablearchiving")) !=
	    NULL && muc_parse_bool(v) != was_archiving) {
		r->archiving = muc_parse_bool(v);
	}
	if (muc_room_archiving(r) != was_archiving) {
		*carch = was_archiving ? 171 : 170;
	}
	if ((v = muc_form_value(x, "muc#roomconfig_historylength")) != NULL &&
	    *v != '\0') {
		n = strtoul(v, NULL, 10);
		if (n > MUC_HISTORY_MAX) {
			n = MUC_HISTORY_MAX;
		}
		if (n != r->history_len) {
			r->history_len = (unsigned)n;
			muc_hist_resize(r, n);
			*c104 = 1;
		}
	}
	if ((v = muc_form_value(x, "muc#roomconfig_defaulthistorymessages")) !=
	    NULL && *v != '\0') {
		n = strtoul(v, NULL, 10);
		if (n > r->history_len) {
			n = r->history_len;
		}
		if (n != r->history_default) {
			r->history_default = (unsigned)n;
			*c104 = 1;
		}
	}
	if ((f = muc_form_field(x, "muc#roomconfig_getmemberlist")) != NULL) {
		mask = field_roles(f);
		if (mask != r->getmemberlist) {
			r->getmemberlist = mask;
			*c104 = 1;
		}
	}
	if ((v = muc_form_value(x, "muc#roomconfig_membersonly")) != NULL) {
		*c104 |= opt_bool(&r->members_only, v);
	}
	if ((f = muc_form_field(x,
	    "muc#roomconfig_presencebroadcast")) != NULL) {
		mask = field_roles(f);
		if (mask != r->bcast) {
			unsigned old = r->bcast;

			r->bcast = mask;
			bcast_changed(r, old);
			*c104 = 1;
		}
	}
	if (r->members_only && !was_mo) {
		kick_nonmembers(r);
	}
	if (r->persistent && !was_persistent) {
		muc_room_store_all(r);
	} else if (!r->persistent && was_persistent) {
		muc_room_unstore(r);
	}
}

/* A muc#owner get: the configuration form, to owners only (§10.2). */
void
muc_admin_owner_get(struct muc_room *r, const struct xml_node *iq,
    const char *from)
{
	struct xml_node *res;

	if (muc_aff_get(r, from) != AFF_OWNER) {
		muc_send_error(iq, "auth", "forbidden",
		    "Only owners can configure rooms", NULL);
		return;
	}
	res = muc_iq_result(iq);
	config_form(r, xml_add(res, "query", NS_MUC_OWNER));
	muc_send_free(res);
}

/* A muc#owner set from an owner: destroy the room (§10.9), cancel the
 * initial configuration, or apply a submitted form, which unlocks the
 * room, and announce the changes (status 104, 172/173). */
void
muc_admin_owner_set(struct muc_room *r, const struct xml_node *iq,
    const char *from, const struct xml_node *q)
{
	const struct xml_node *c = muc_first_elem(q), *t;
	const char *ft, *type, *reason, *pw;
	struct xml_node *m, *x;
	int c104 = 0, cwhois = 0, carch = 0;
	char code[8];
	char newjid[JID_MAX + 1];

	if (muc_aff_get(r, from) != AFF_OWNER) {
		muc_send_error(iq, "auth", "forbidden",
		    "Only owners can configure rooms", NULL);
		return;
	}
	if (c == NULL) {
		muc_send_error(iq, "modify", "bad-request", NULL, NULL);
		return;
	}
	/* every change to a persistent room (or one becoming persistent)
	 * goes to the store: refused whole when it cannot write */
	if (!store_writable() && (r->persistent ||
	    muc_str_eq(muc_form_value(c, "muc#roomconfig_persistentroom"),
	    "1") || muc_str_eq(muc_form_value(c,
	    "muc#roomconfig_persistentroom"), "true"))) {
		muc_send_error(iq, "wait", "resource-constraint", NULL, NULL);
		return;
	}
	if (strcmp(c->name, "destroy") == 0) {
		t = xml_child(c, "reason", NULL);
		reason = t != NULL ? xml_text(t) : NULL;
		t = xml_child(c, "password", NULL);
		pw = t != NULL ? xml_text(t) : NULL;
		newjid[0] = '\0';
		if (xml_attr(c, "jid") != NULL && jid_canon(xml_attr(c, "jid"),
		    newjid, sizeof(newjid)) != 0) {
			muc_send_error(iq, "modify", "jid-malformed", NULL,
			    NULL);
			return;
		}
		muc_pres_destroy(r, newjid[0] != '\0' ? newjid : NULL, reason,
		    pw);
		muc_send_free(muc_iq_result(iq));
		return;
	}
	if (strcmp(c->name, "x") != 0 || !muc_str_eq(c->ns, NS_DATA)) {
		muc_send_error(iq, "cancel", "service-unavailable", NULL, NULL);
		return;
	}
	type = xml_attr(c, "type");
	if (muc_str_eq(type, "cancel")) {
		muc_send_free(muc_iq_result(iq));
		if (muc_room_locked(r)) {
			/* §10.1.3: cancelling the initial configuration */
			muc_pres_destroy(r, NULL, NULL, NULL);
		}
		return;
	}
	if (!muc_str_eq(type, "submit")) {
		muc_send_error(iq, "cancel", "bad-request",
		    "Not a submitted form", NULL);
		return;
	}
	if (muc_first_elem(c) != NULL) {
		ft = muc_form_value(c, "FORM_TYPE");
		if (!muc_str_eq(ft, FORM_ROOMCONFIG)) {
			muc_send_error(iq, "cancel", "bad-request",
			    "Form is not of type room configuration", NULL);
			return;
		}
		for (t = xml_child(c, "field", NS_DATA); t != NULL;
		    t = xml_next(t, "field", NS_DATA)) {
			const struct xml_node *v = xml_child(t, "value",
			    NS_DATA);

			if (v != NULL && strlen(xml_text(v)) > MUC_TEXT_MAX) {
				muc_send_error(iq, "modify", "not-acceptable",
				    "Value too long", NULL);
				return;
			}
		}
		config_apply(r, c, &c104, &cwhois, &carch);
	}
	r->locked_until = 0;
	muc_room_save(r);
	muc_send_free(muc_iq_result(iq));
	if (c104 || cwhois || carch) {
		m = muc_stanza_new("message", r->jid, NULL, "groupchat", NULL);
		x = xml_add(m, "x", NS_MUC_USER);
		if (c104) {
			muc_add_status(x, "104");
		}
		if (cwhois) {
			snprintf(code, sizeof(code), "%d", cwhois);
			muc_add_status(x, code);
		}
		if (carch) {
			snprintf(code, sizeof(code), "%d", carch);
			muc_add_status(x, code);
		}
		muc_room_broadcast(r, m, ROLE_NONE);
		xml_free(m);
	}
	muc_room_gc(r);
}

/* ---- registration (§7.10) ---- */

/* jabber:iq:register to a room (§7.10): the form or the reserved nick
 * (get), reserving a nickname or removing the registration (set). */
void
muc_admin_register(struct muc_room *r, const struct xml_node *iq,
    const char *from, const struct xml_node *q)
{
	char bare[JID_MAX + 1], nick[JID_PART_MAX + 1];
	int aff = muc_aff_get(r, from);
	const char *type = xml_attr(iq, "type"), *mine, *v, *owner;
	const struct xml_node *x;
	struct xml_node *res, *rq, *fx, *f;
	struct muc_occupant *o;
	struct muc_err e;

	muc_bare_of(from, bare, sizeof(bare));
	if (aff == AFF_OUTCAST) {
		muc_send_error(iq, "auth", "forbidden", NULL, NULL);
		return;
	}
	if (aff == AFF_NONE) {
		muc_send_error(iq, "auth", "registration-required", NULL, NULL);
		return;
	}
	mine = muc_room_reserved_nick(r, bare);
	if (muc_str_eq(type, "get")) {
		res = muc_iq_result(iq);
		rq = xml_add(res, "query", NS_REGISTER);
		if (mine != NULL) {
			xml_add(rq, "registered", NULL);
			xml_add_text_child(rq, "username", NULL, mine);
		} else {
			fx = xml_add(rq, "x", NS_DATA);
			xml_set_attr(fx, "type", "form");
			muc_form_add_field(fx, "FORM_TYPE", "hidden", NULL,
			    FORM_REGISTER);
			f = muc_form_add_field(fx, "muc#register_roomnick",
			    "text-single", "Nickname", NULL);
			xml_add(f, "required", NULL);
		}
		muc_send_free(res);
		return;
	}
	if (!muc_str_eq(type, "set")) {
		return;
	}
	if (xml_child(q, "remove", NULL) != NULL) {
		if (muc_admin_set_affiliation(r, NULL, bare, aff == AFF_MEMBER ?
		    AFF_NONE : aff, NULL, "", &e) != 0) {
			muc_admin_reply_err(iq, &e);
			return;
		}
		muc_send_free(muc_iq_result(iq));
		return;
	}
	x = xml_child(q, "x", NS_DATA);
	if (x == NULL) {
		muc_send_error(iq, "modify", "bad-request", "Missing dataform",
		    NULL);
		return;
	}
	if (!muc_str_eq(muc_form_value(x, "FORM_TYPE"), FORM_REGISTER)) {
		muc_send_error(iq, "modify", "bad-request", "Error in form",
		    NULL);
		return;
	}
	v = muc_form_value(x, "muc#register_roomnick");
	if (v == NULL || muc_nick_strict(v, nick, sizeof(nick)) != 0) {
		muc_send_error(iq, "modify", "bad-request", "Invalid Nickname",
		    NULL);
		return;
	}
	o = muc_occ_by_nick(r, nick);
	owner = muc_room_nick_owner(r, nick);
	if ((o != NULL && strcmp(o->bare, bare) != 0) ||
	    (owner != NULL && strcmp(owner, bare) != 0)) {
		muc_send_error(iq, "cancel", "conflict", NULL, NULL);
		return;
	}
	if (!muc_str_eq(mine, nick) && muc_admin_set_affiliation(r, NULL, bare,
	    aff > AFF_NONE ? aff : AFF_MEMBER, NULL, nick, &e) != 0) {
		muc_admin_reply_err(iq, &e);
		return;
	}
	muc_send_free(muc_iq_result(iq));
}
