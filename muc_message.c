/*
 * muc_message.c - messages to rooms and occupants (XEP-0045 §7.4, §7.5,
 * §7.8, §7.13, §8.1, §8.6): groupchat fan-out and history, subject
 * changes, private messages, mediated invitations and declines, voice
 * requests, and message errors that take an occupant out.
 */
#include <string.h>
#include <time.h>

#include "buf.h"
#include "jid.h"
#include "mam.h"
#include "muc_internal.h"
#include "ns.h"
#include "store.h"

/* ---- messages (§7.4, §7.5, §7.8, §8.6) ---- */

/* Error conditions in a message error that mean the client is gone. */
static int
is_kickable_error(const struct xml_node *st)
{
	static const char *const conds[] = { "gone", "internal-server-error",
	    "item-not-found", "jid-malformed", "recipient-unavailable",
	    "redirect", "remote-server-not-found", "remote-server-timeout",
	    "service-unavailable" };
	const struct xml_node *e = xml_child(st, "error", NULL), *c;
	size_t i;

	if (e == NULL) {
		return 1;
	}
	for (c = e->first_child; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT || !muc_str_eq(c->ns, NS_STANZAS) ||
		    strcmp(c->name, "text") == 0) {
			continue;
		}
		for (i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
			if (strcmp(c->name, conds[i]) == 0) {
				return 1;
			}
		}
		return 0;
	}
	return 1;
}

static void
add_occupant_id(struct xml_node *st, const struct muc_occupant *o)
{
	if (o->id[0] != '\0') {
		xml_set_attr(xml_add(st, "occupant-id", NS_OCCUPANT_ID), "id",
		    o->id);
	}
}

static void
set_subject(struct muc_room *r, const char *from, const char *subject)
{
	struct xml_node *m;

	if (subject != NULL && *subject == '\0') {
		subject = NULL;
	}
	if (muc_str_eq(r->subject, subject) && muc_str_eq(r->subject_from,
	    from)) {
		return;
	}
	muc_set_str(&r->subject, subject);
	muc_set_str(&r->subject_from, from);
	r->subject_time = time(NULL);
	m = muc_subject_msg(from, subject);
	muc_room_broadcast(r, m, ROLE_NONE);
	xml_free(m);
	muc_room_save(r);
}

static void
groupchat(struct muc_room *r, const struct xml_node *st, const char *from)
{
	struct muc_occupant *o = muc_occ_by_real(r, from);
	int role = o != NULL ? o->role : ROLE_NONE;
	const struct xml_node *subj, *c;
	struct xml_node *m;
	char id[64];
	struct buf nj;

	if (role == ROLE_NONE) {
		muc_send_error(st, "cancel", "not-acceptable",
		    "You are not currently connected to this chat", NULL);
		return;
	}
	if (role == ROLE_VISITOR) {
		muc_send_error(st, "auth", "forbidden",
		    "You do not currently have permission to speak in this "
		    "chat", NULL);
		return;
	}
	buf_init(&nj, 0);
	buf_printf(&nj, "%s/%s", r->jid, o->nick);
	subj = xml_child(st, "subject", NULL);
	if (subj != NULL && xml_child(st, "body", NULL) == NULL &&
	    xml_child(st, "thread", NULL) == NULL) {
		/* §8.1: a subject change */
		if (strlen(xml_text(subj)) > MUC_SUBJECT_MAX) {
			muc_send_error(st, "modify", "not-acceptable",
			    "Subject too long", NULL);
		} else if ((role == ROLE_MODERATOR || r->changesubject) &&
		    r->persistent && !store_writable()) {
			/* a persistent room's subject is stored */
			muc_send_error(st, "wait", "resource-constraint",
			    NULL, NULL);
		} else if (role == ROLE_MODERATOR || r->changesubject) {
			set_subject(r, nj.data, xml_text(subj));
		} else {
			muc_send_error(st, "auth", "forbidden",
			    "You are not allowed to change the subject", NULL);
		}
		buf_free(&nj);
		return;
	}
	m = xml_new("message", XML_NS_CLIENT);
	muc_copy_attrs(m, st);
	xml_set_attr(m, "from", nj.data);
	if (xml_attr(st, "id") == NULL) {
		muc_new_id(id, sizeof(id));
		xml_set_attr(m, "id", id);
	}
	for (c = st->first_child; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT ||
		    muc_str_eq(c->ns, NS_OCCUPANT_ID) ||
		    (muc_str_eq(c->ns, NS_DELAY) && strcmp(c->name,
		    "delay") == 0 && muc_str_eq(xml_attr(c, "from"), r->jid)) ||
		    (muc_str_eq(c->ns, "jabber:x:delay") &&
		    muc_str_eq(xml_attr(c, "from"), r->jid))) {
			continue;
		}
		xml_copy_into(m, c);
	}
	add_occupant_id(m, o);
	/* XEP-0313: into the room's archive; occupants get its stanza-id */
	if (muc_room_archiving(r)) {
		mam_archive_room(m, r->jid, r->whois_anyone ? o->bare : NULL);
	}
	muc_room_broadcast(r, m, ROLE_NONE);
	if (muc_hist_is_historic(m)) {
		muc_hist_add(r, m);
	}
	xml_free(m);
	buf_free(&nj);
}

/* Message to an occupant JID: a private message (§7.5). */
void
muc_msg_private(struct muc_room *r, const struct xml_node *st,
    const char *from, const char *nick_raw)
{
	struct muc_occupant *s = muc_occ_by_real(r, from), *t;
	const char *type = xml_attr(st, "type");
	char nick[JID_PART_MAX + 1];
	struct route_prepared p;
	struct xml_node *m;
	struct buf nj;
	int ok;

	if (s == NULL) {
		muc_send_error(st, "cancel", "not-acceptable",
		    "You are not currently connected to this chat", r->jid);
		return;
	}
	if (muc_str_eq(type, "groupchat")) {
		muc_send_error(st, "modify", "bad-request", NULL, r->jid);
		return;
	}
	if (muc_str_eq(type, "error") && is_kickable_error(st)) {
		muc_pres_kick_errored(r, st, from);
		return;
	}
	t = jid_nick_canon(nick_raw, nick, sizeof(nick)) == 0 ?
	    muc_occ_by_nick(r, nick) : NULL;
	if (t == NULL) {
		muc_send_error(st, "cancel", "item-not-found",
		    "Recipient not in room", r->jid);
		return;
	}
	switch (r->allowpm) {
	case PM_NONE:
		ok = 0;
		break;
	case PM_MODERATORS:
		ok = s->role >= ROLE_MODERATOR;
		break;
	case PM_PARTICIPANTS:
		ok = s->role >= ROLE_PARTICIPANT;
		break;
	default:
		ok = 1;
	}
	if (!ok) {
		muc_send_error(st, "cancel", "not-allowed",
		    "Private messages are not allowed in this room", r->jid);
		return;
	}
	buf_init(&nj, 0);
	buf_printf(&nj, "%s/%s", r->jid, s->nick);
	m = xml_new("message", XML_NS_CLIENT);
	muc_copy_attrs(m, st);
	xml_set_attr(m, "from", nj.data);
	muc_copy_children_filtered(m, st);
	xml_add(m, "x", NS_MUC_USER);
	add_occupant_id(m, s);
	route_prepare(&p, m);
	muc_occ_send(&p, t);
	route_prepared_free(&p);
	xml_free(m);
	buf_free(&nj);
}

static void
mediated_invite(struct muc_room *r, const struct xml_node *st,
    const char *from, const struct xml_node *inv)
{
	char to[JID_MAX + 1], tbare[JID_MAX + 1];
	struct muc_occupant *io = muc_occ_by_real(r, from);
	int ia = muc_aff_get(r, from), role;
	const struct xml_node *rn = xml_child(inv, "reason", NULL);
	const char *reason = rn != NULL ? xml_text(rn) : "";
	const char *shown = from;
	struct xml_node *m, *x, *i, *xc;
	struct buf nj, body, why;
	struct muc_err e;

	if (jid_canon(xml_attr(inv, "to"), to, sizeof(to)) != 0) {
		muc_send_error(st, "cancel", "jid-malformed", NULL, NULL);
		return;
	}
	role = io != NULL ? io->role : muc_role_default(r, ia);
	if (role <= ROLE_VISITOR) {
		muc_send_error(st, "auth", "forbidden", NULL, NULL);
		return;
	}
	if (r->members_only && ia < (r->allow_invites ? AFF_MEMBER :
	    AFF_ADMIN)) {
		muc_send_error(st, "auth", "forbidden", NULL, r->jid);
		return;
	}
	muc_bare_of(to, tbare, sizeof(tbare));
	buf_init(&nj, 0);
	if (!r->whois_anyone && io != NULL &&
	    muc_role_default(r, muc_aff_get(r, tbare)) != ROLE_MODERATOR) {
		buf_printf(&nj, "%s/%s", r->jid, io->nick);
		shown = nj.data;
	}
	m = xml_new("message", XML_NS_CLIENT);
	muc_copy_attrs(m, st);
	xml_set_attr(m, "from", r->jid);
	xml_set_attr(m, "to", to);
	muc_copy_children_filtered(m, st);
	x = xml_add(m, "x", NS_MUC_USER);
	i = xml_add(x, "invite", NULL);
	xml_set_attr(i, "from", shown);
	xml_add_text_child(i, "reason", NULL, reason);
	if (r->password != NULL) {
		xml_add_text_child(x, "password", NULL, r->password);
	}
	xc = xml_add(m, "x", "jabber:x:conference");
	xml_set_attr(xc, "jid", r->jid);
	if (*reason != '\0') {
		xml_add_text(xc, reason, strlen(reason));
	}
	if (xml_child(st, "body", NULL) == NULL) {
		buf_init(&body, 0);
		buf_printf(&body, "%s invited you to the room %s", shown,
		    r->jid);
		if (*reason != '\0') {
			buf_printf(&body, " (%s)", reason);
		}
		xml_add_text_child(m, "body", NULL, body.data);
		buf_free(&body);
	}
	if (r->members_only && muc_aff_get(r, tbare) == AFF_NONE) {
		/* Prosody: an invitation to a members-only room makes the
		 * invitee a member; unlike Prosody, not when banned, or
		 * any member could lift an admin's ban (§9.1) */
		buf_init(&why, 0);
		buf_printf(&why, "Invited by %s", shown);
		muc_admin_set_affiliation(r, NULL, tbare, AFF_MEMBER, why.data,
		    NULL, &e);
		buf_free(&why);
	}
	muc_send_free(m);
	buf_free(&nj);
}

static void
mediated_decline(struct muc_room *r, const struct xml_node *st,
    const char *from, const struct xml_node *dec)
{
	char to[JID_MAX + 1], tbare[JID_MAX + 1];
	const struct xml_node *rn = xml_child(dec, "reason", NULL);
	const char *reason = rn != NULL ? xml_text(rn) : "";
	struct xml_node *m, *x, *d;
	struct muc_occupant *o = NULL;
	struct route_prepared p;
	struct buf body;

	if (jid_canon(xml_attr(dec, "to"), to, sizeof(to)) != 0) {
		muc_send_error(st, "cancel", "jid-malformed", NULL, NULL);
		return;
	}
	m = xml_new("message", XML_NS_CLIENT);
	muc_copy_attrs(m, st);
	xml_set_attr(m, "from", r->jid);
	xml_set_attr(m, "to", to);
	muc_copy_children_filtered(m, st);
	x = xml_add(m, "x", NS_MUC_USER);
	d = xml_add(x, "decline", NULL);
	xml_set_attr(d, "from", from);
	xml_add_text_child(d, "reason", NULL, reason);
	if (xml_child(st, "body", NULL) == NULL) {
		buf_init(&body, 0);
		buf_printf(&body, "%s declined your invite to the room %s",
		    from, r->jid);
		if (*reason != '\0') {
			buf_printf(&body, " (%s)", reason);
		}
		xml_add_text_child(m, "body", NULL, body.data);
		buf_free(&body);
	}
	muc_bare_of(to, tbare, sizeof(tbare));
	if (strcmp(tbare, r->jid) == 0 && jid_resource(to) != NULL) {
		o = muc_occ_by_nick(r, jid_resource(to));
	}
	if (o != NULL) {
		route_prepare(&p, m);
		muc_occ_send(&p, o);
		route_prepared_free(&p);
	} else {
		route_stanza(m);
	}
	xml_free(m);
}

/* Voice request from a visitor, or a moderator's answer (§7.13, §8.6). */
static void
voice_request(struct muc_room *r, const struct xml_node *st,
    const char *from, const struct xml_node *form)
{
	struct muc_occupant *o = muc_occ_by_real(r, from), *t = NULL;
	struct xml_node *m, *x, *f;
	const char *v;
	char full[JID_MAX + 1];
	struct muc_err e;

	if (o == NULL) {
		muc_send_error(st, "cancel", "not-acceptable",
		    "You are not currently connected to this chat", r->jid);
		return;
	}
	if (o->role == ROLE_MODERATOR) {
		if (!muc_parse_bool(muc_form_value(form,
		    "muc#request_allow"))) {
			return;
		}
		v = muc_form_value(form, "muc#jid");
		if (v != NULL && jid_canon(v, full, sizeof(full)) == 0) {
			t = muc_occ_by_real(r, full);
		}
		v = muc_form_value(form, "muc#roomnick");
		if (t == NULL && v != NULL) {
			t = muc_occ_by_nick(r, v);
		}
		if (t == NULL || t->role != ROLE_VISITOR) {
			return;
		}
		if (muc_admin_set_role(r, from, t, ROLE_PARTICIPANT,
		    "Voice granted", &e) != 0) {
			muc_admin_reply_err(st, &e);
		}
		return;
	}
	if (o->role != ROLE_VISITOR) {
		return;
	}
	m = muc_stanza_new("message", r->jid, NULL, "normal", NULL);
	x = xml_add(m, "x", NS_DATA);
	xml_set_attr(x, "type", "form");
	xml_add_text_child(x, "title", NULL, "Voice Request");
	muc_form_add_field(x, "FORM_TYPE", "hidden", NULL, FORM_REQUEST);
	muc_form_add_field(x, "muc#jid", "jid-single", "User ID", from);
	muc_form_add_field(x, "muc#roomnick", "text-single", "Room nickname",
	    o->nick);
	f = muc_form_add_field(x, "muc#role", "list-single", "Requested role",
	    "participant");
	muc_admin_add_role_options(f, 1);
	muc_form_add_field(x, "muc#request_allow", "boolean",
	    "Grant voice to this person?", "0");
	muc_room_broadcast(r, m, ROLE_MODERATOR);
	xml_free(m);
}

/* A message to the bare room JID: groupchat, an error, a mediated
 * invitation or decline, or a voice request; anything else is refused. */
void
muc_msg_room(struct muc_room *r, const struct xml_node *st, const char *from)
{
	const char *type = xml_attr(st, "type");
	const struct xml_node *x, *pl, *form;

	if (muc_str_eq(type, "groupchat")) {
		groupchat(r, st, from);
		return;
	}
	if (muc_str_eq(type, "error")) {
		if (is_kickable_error(st)) {
			muc_pres_kick_errored(r, st, from);
		}
		return;
	}
	if (type == NULL || strcmp(type, "normal") == 0) {
		x = xml_child(st, "x", NS_MUC_USER);
		if (x != NULL) {
			pl = muc_first_elem(x);
			if (pl != NULL && strcmp(pl->name, "invite") == 0 &&
			    xml_attr(pl, "to") != NULL) {
				mediated_invite(r, st, from, pl);
			} else if (pl != NULL &&
			    strcmp(pl->name, "decline") == 0 &&
			    xml_attr(pl, "to") != NULL) {
				mediated_decline(r, st, from, pl);
			} else {
				muc_send_error(st, "cancel", "bad-request",
				    NULL, NULL);
			}
			return;
		}
		for (form = xml_child(st, "x", NS_DATA); form != NULL;
		    form = xml_next(form, "x", NS_DATA)) {
			if (muc_str_eq(muc_form_value(form, "FORM_TYPE"),
			    FORM_REQUEST)) {
				voice_request(r, st, from, form);
				return;
			}
		}
	}
	muc_send_error(st, "cancel", "service-unavailable", NULL, NULL);
}
