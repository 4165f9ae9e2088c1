/*
 * muc.c - the multi-user chat service (XEP-0045) at conference.<domain>:
 * its entry points (muc_handle() and the session and account hooks),
 * service and room discovery, iq to rooms and occupants, and the
 * service's own ad-hoc commands.
 *
 * Protocol only: stanzas come in through muc_handle() with 'from' stamped
 * by the server, and leave through route.h.  Where XEP-0045 leaves a
 * choice, behaviour follows Prosody (its scenario files are our
 * conformance target): the order of <status/> and <item/> children, the
 * affiliation-change message for non-occupants, the room lock until the
 * first configuration, the subject message on join.
 *
 * The service is split by concern, sharing types and functions through
 * muc_internal.h:
 *   muc_stanza.c    helpers: names, stamps, nicknames, stanzas, forms
 *   muc_room.c      rooms, affiliations, occupants, storage, history
 *   muc_presence.c  occupant presence, publication, create/destroy
 *   muc_admin.c     affiliations and roles, configuration, registration
 *   muc_message.c   groupchat, private messages, invitations, voice
 */
#include "muc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "mam.h"
#include "tls.h"
#include "muc_internal.h"
#include "ns.h"

/* ---- discovery (§6) ---- */

static void
add_feature(struct xml_node *q, const char *var)
{
	xml_set_attr(xml_add(q, "feature", NULL), "var", var);
}

static void
room_disco_info(struct muc_room *r, const struct xml_node *iq,
    const char *from, const struct xml_node *q)
{
	const char *node = xml_attr(q, "node");
	struct xml_node *res, *rq, *id, *x;
	char bare[JID_MAX + 1], tmp[32];
	const char *nick;

	res = muc_iq_result(iq);
	rq = xml_add(res, "query", NS_DISCO_INFO);
	if (node != NULL && *node != '\0') {
		xml_set_attr(rq, "node", node);
		if (strcmp(node, "x-roomuser-item") == 0) {
			muc_bare_of(from, bare, sizeof(bare));
			nick = muc_room_reserved_nick(r, bare);
			if (nick != NULL) {
				id = xml_add(rq, "identity", NULL);
				xml_set_attr(id, "category", "conference");
				xml_set_attr(id, "name", nick);
				xml_set_attr(id, "type", "text");
			}
			muc_send_free(res);
		} else {
			xml_free(res);
			muc_send_error(iq, "cancel", "item-not-found", NULL,
			    NULL);
		}
		return;
	}
	id = xml_add(rq, "identity", NULL);
	xml_set_attr(id, "category", "conference");
	xml_set_attr(id, "type", "text");
	if (r->name != NULL) {
		xml_set_attr(id, "name", r->name);
	}
	add_feature(rq, NS_DISCO_INFO);
	add_feature(rq, NS_MUC);
	add_feature(rq, "http://jabber.org/protocol/muc#stable_id");
	add_feature(rq,
	    "http://jabber.org/protocol/muc#self-ping-optimization");
	add_feature(rq, NS_OCCUPANT_ID);
	add_feature(rq, NS_SID);
	if (muc_room_archiving(r)) {
		add_feature(rq, NS_MAM1);
		add_feature(rq, NS_MAM);
		add_feature(rq, NS_MAM_EXT);
	}
	add_feature(rq, "http://jabber.org/protocol/muc#request");
	add_feature(rq, NS_REGISTER);
	add_feature(rq, r->persistent ? "muc_persistent" : "muc_temporary");
	add_feature(rq, r->public ? "muc_public" : "muc_hidden");
	add_feature(rq, r->members_only ? "muc_membersonly" : "muc_open");
	add_feature(rq, r->moderated ? "muc_moderated" : "muc_unmoderated");
	add_feature(rq, r->password != NULL ? "muc_passwordprotected" :
	    "muc_unsecured");
	add_feature(rq, r->whois_anyone ? "muc_nonanonymous" :
	    "muc_semianonymous");
	x = xml_add(rq, "x", NS_DATA);
	xml_set_attr(x, "type", "result");
	muc_form_add_field(x, "FORM_TYPE", "hidden", NULL, FORM_ROOMINFO);
	muc_form_add_field(x, "muc#roomconfig_roomname", NULL, "Title",
	    r->name != NULL ? r->name : "");
	muc_form_add_field(x, "muc#roominfo_description", NULL, "Description",
	    r->desc != NULL ? r->desc : "");
	muc_form_add_field(x, "muc#roominfo_lang", NULL, "Language",
	    r->lang != NULL ? r->lang : "");
	snprintf(tmp, sizeof(tmp), "%zu", r->nocc);
	muc_form_add_field(x, "muc#roominfo_occupants", NULL,
	    "Number of occupants", tmp);
	muc_form_add_field(x, "muc#roominfo_subject", NULL, "Subject",
	    r->subject != NULL ? r->subject : "");
	muc_form_add_field(x, "muc#roomconfig_changesubject", "boolean", NULL,
	    r->changesubject ? "1" : "0");
	muc_form_add_field(x, "muc#roomconfig_allowinvites", "boolean",
	    "Allow users to invite other users",
	    (!r->members_only || r->allow_invites) ? "1" : "0");
	snprintf(tmp, sizeof(tmp), "%u", r->max_users);
	if (r->max_users != 0) {
		muc_form_add_field(x, "muc#roominfo_maxusers", NULL,
		    "Maximum number of occupants", tmp);
	}
	muc_send_free(res);
}

/* Occupants as items: to occupants, or to anyone when the room is
 * public and presence is broadcast (§6.5). */
static void
room_disco_items(struct muc_room *r, const struct xml_node *iq,
    const char *from)
{
	struct xml_node *res = muc_iq_result(iq), *rq, *it;
	int member = muc_occ_by_real(r, from) != NULL;
	struct buf j;
	size_t i;

	rq = xml_add(res, "query", NS_DISCO_ITEMS);
	buf_init(&j, 0);
	for (i = 0; member || r->public ? i < r->nocc : 0; i++) {
		if (!muc_pres_bcast_role(r, r->occ[i]->role)) {
			continue;
		}
		buf_reset(&j);
		buf_printf(&j, "%s/%s", r->jid, r->occ[i]->nick);
		it = xml_add(rq, "item", NULL);
		xml_set_attr(it, "jid", j.data);
	}
	buf_free(&j);
	muc_send_free(res);
}

/* ---- iq ---- */

/* 8 hex digits tying a forwarded iq to the session that sent it. */
static void
iq_tag(const struct muc_room *r, const char *full, char out[17])
{
	unsigned char mac[32];
	int i;

	memset(mac, 0, sizeof(mac));
	tls_hmac(TLS_MD_SHA256, r->salt, strlen(r->salt), full, strlen(full),
	    mac);
	for (i = 0; i < 8; i++) {
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	}
}

/* iq to an occupant JID: self-ping (XEP-0410) or forwarded (§7.5). */
static void
occupant_iq(struct muc_room *r, const struct xml_node *st, const char *from,
    const char *nick_raw)
{
	const char *type = xml_attr(st, "type"), *id = xml_attr(st, "id");
	struct muc_occupant *me, *t;
	const struct xml_node *q;
	struct xml_node *fw;
	char nick[JID_PART_MAX + 1], tag[17], bare[JID_MAX + 1];
	const struct muc_session *prim;
	struct buf nj, nid;
	size_t i;

	if (jid_nick_canon(nick_raw, nick, sizeof(nick)) != 0) {
		nick[0] = '\0';
	}
	t = muc_occ_by_nick(r, nick);
	if (muc_str_eq(type, "result") || muc_str_eq(type, "error")) {
		/* a response: id is "mq" + tag + ":" + original id */
		me = muc_occ_by_real(r, from);
		if (t == NULL || me == NULL || id == NULL ||
		    strncmp(id, "mq", 2) != 0 || strlen(id) < 19 ||
		    id[18] != ':') {
			return;
		}
		for (i = 0; i < t->nsess; i++) {
			iq_tag(r, t->sess[i].jid, tag);
			if (strncmp(id + 2, tag, 16) == 0) {
				break;
			}
		}
		if (i == t->nsess) {
			return;
		}
		buf_init(&nj, 0);
		buf_printf(&nj, "%s/%s", r->jid, me->nick);
		fw = xml_clone(st);
		xml_set_attr(fw, "from", nj.data);
		xml_set_attr(fw, "to", t->sess[i].jid);
		xml_set_attr(fw, "id", id + 19);
		muc_send_free(fw);
		buf_free(&nj);
		return;
	}
	me = muc_occ_by_real(r, from);
	if (me == NULL) {
		muc_send_error(st, "cancel", "not-acceptable",
		    "You are not currently connected to this chat", r->jid);
		return;
	}
	if (t == NULL) {
		muc_send_error(st, "cancel", "item-not-found",
		    "Recipient not in room", r->jid);
		return;
	}
	q = muc_first_elem(st);
	if (t == me && muc_str_eq(type, "get") && q != NULL &&
	    strcmp(q->name, "ping") == 0 && muc_str_eq(q->ns, NS_PING)) {
		muc_send_free(muc_iq_result(st));
		return;
	}
	prim = muc_occ_primary(t);
	if (prim == NULL) {
		return;
	}
	buf_init(&nj, 0);
	buf_init(&nid, 0);
	buf_printf(&nj, "%s/%s", r->jid, me->nick);
	iq_tag(r, from, tag);
	buf_printf(&nid, "mq%s:%s", tag, id != NULL ? id : "");
	fw = xml_clone(st);
	xml_set_attr(fw, "from", nj.data);
	xml_set_attr(fw, "id", nid.data);
	if (q != NULL && (muc_str_eq(q->ns, "vcard-temp") ||
	    muc_str_eq(q->ns, "http://jabber.org/protocol/pubsub") ||
	    muc_str_eq(q->ns, "urn:ietf:params:xml:ns:vcard-4.0"))) {
		muc_bare_of(prim->jid, bare, sizeof(bare));
		xml_set_attr(fw, "to", bare);
	} else {
		xml_set_attr(fw, "to", prim->jid);
	}
	muc_send_free(fw);
	buf_free(&nj);
	buf_free(&nid);
}

static void
room_iq(struct muc_room *r, const struct xml_node *st, const char *from)
{
	const char *type = xml_attr(st, "type");
	const struct xml_node *q = muc_first_elem(st);
	int get = muc_str_eq(type, "get"), set = muc_str_eq(type, "set");

	if (!get && !set) {
		return;
	}
	if (q == NULL) {
		muc_send_error(st, "modify", "bad-request", NULL, NULL);
		return;
	}
	if (get && muc_str_eq(q->ns, NS_DISCO_INFO) &&
	    strcmp(q->name, "query") == 0) {
		room_disco_info(r, st, from, q);
	} else if (get && muc_str_eq(q->ns, NS_DISCO_ITEMS)) {
		room_disco_items(r, st, from);
	} else if (muc_str_eq(q->ns, NS_MUC_ADMIN)) {
		if (get) {
			muc_admin_get(r, st, from, q);
		} else {
			muc_admin_set(r, st, from, q);
		}
	} else if (muc_str_eq(q->ns, NS_MUC_OWNER)) {
		if (get) {
			muc_admin_owner_get(r, st, from);
		} else {
			muc_admin_owner_set(r, st, from, q);
		}
	} else if (muc_str_eq(q->ns, NS_REGISTER)) {
		muc_admin_register(r, st, from, q);
	} else if (mam_is_ns(q->ns)) {
		/* XEP-0313 §9.1 (as Prosody): not the banned, nor
		 * non-members of a members-only room */
		int aff = muc_aff_get(r, from);

		mam_room_iq(st, q, r->jid, aff != AFF_OUTCAST &&
		    (!r->members_only || aff >= AFF_MEMBER), r->whois_anyone);
	} else {
		muc_send_error(st, "cancel", "service-unavailable", NULL, NULL);
	}
}

/* ---- the service itself ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The result of one ad-hoc command step (XEP-0050): <command node='...'
 * sessionid='...'/> with the request's session id, or a new one.  *cp
 * gets the command element.  Caller frees the result.
 */
static struct xml_node *
command_result(const struct xml_node *iq, const struct xml_node *cmd,
    const char *node, struct xml_node **cp)
{
	char sid[64];
	struct xml_node *res;

	if (xml_attr(cmd, "sessionid") != NULL) {
		snprintf(sid, sizeof(sid), "%s", xml_attr(cmd, "sessionid"));
	} else {
		muc_new_id(sid, sizeof(sid));
	}
	res = muc_iq_result(iq);
	*cp = xml_add(res, "command", NS_COMMANDS);
	xml_set_attr(*cp, "node", node);
	xml_set_attr(*cp, "sessionid", sid);
	return res;
}

/* Set-affiliation ad-hoc command (XEP-0050), as Prosody offers it: the
 * service itself changes an affiliation in any room. */
static void
svc_setaff(const struct xml_node *iq, const struct xml_node *cmd)
{
	const struct xml_node *x = xml_child(cmd, "x", NS_DATA);
	const char *v, *reason, *status = "completed";
	char rj[JID_MAX + 1], jid[JID_MAX + 1];
	struct xml_node *res, *c, *fx, *f, *ac;
	struct muc_room *r;
	struct muc_err e;
	struct buf note;
	int aff, err = 1;

	res = command_result(iq, cmd, NODE_SETAFF, &c);
	if (muc_str_eq(xml_attr(cmd, "action"), "cancel")) {
		xml_set_attr(c, "status", "canceled");
		muc_send_free(res);
		return;
	}
	if (x == NULL) {
		xml_set_attr(c, "status", "executing");
		ac = xml_add(c, "actions", NULL);
		xml_set_attr(ac, "execute", "complete");
		xml_add(ac, "complete", NULL);
		fx = xml_add(c, "x", NS_DATA);
		xml_set_attr(fx, "type", "form");
		xml_add_text_child(fx, "title", NULL, "Set affiliation");
		muc_form_add_field(fx, "FORM_TYPE", "hidden", NULL,
		    NODE_SETAFF);
		xml_add(muc_form_add_field(fx, "room", "jid-single", "Room",
		    NULL), "required", NULL);
		xml_add(muc_form_add_field(fx, "jid", "jid-single", "JID",
		    NULL), "required", NULL);
		f = muc_form_add_field(fx, "affiliation", "list-single",
		    "Affiliation", NULL);
		xml_add(f, "required", NULL);
		for (aff = AFF_OWNER; aff >= AFF_OUTCAST; aff--) {
			muc_form_add_option(f, NULL, muc_aff_name(aff));
		}
		muc_form_add_field(fx, "reason", "text-single", "Reason", NULL);
		muc_send_free(res);
		return;
	}
	buf_init(&note, 0);
	v = muc_form_value(x, "room");
	r = v != NULL && jid_canon(v, rj, sizeof(rj)) == 0 ? muc_room_find(rj) :
	    NULL;
	v = muc_form_value(x, "jid");
	aff = muc_aff_parse(muc_form_value(x, "affiliation"));
	reason = muc_form_value(x, "reason");
	if (reason != NULL && *reason == '\0') {
		reason = NULL;
	}
	if (r == NULL) {
		status = "canceled";
		buf_puts(&note, "No such room");
	} else if (v == NULL || jid_canon(v, jid, sizeof(jid)) != 0 ||
	    jid_resource(jid) != NULL || aff < AFF_OUTCAST) {
		status = "canceled";
		buf_puts(&note,
		    "Affiliation change failed: modify:bad-request");
	} else {
		r->busy++;
		if (muc_admin_set_affiliation(r, NULL, jid, aff, reason, NULL,
		    &e) != 0) {
			status = "canceled";
			buf_printf(&note, "Affiliation change failed: %s:%s",
			    e.type, e.cond);
		} else {
			buf_puts(&note, "Affiliation updated");
			err = 0;
		}
		muc_room_gc(r);
		muc_room_release(r);
	}
	xml_set_attr(c, "status", status);
	fx = xml_add_text_child(c, "note", NULL, note.data);
	xml_set_attr(fx, "type", err ? "error" : "info");
	buf_free(&note);
	muc_send_free(res);
}

/* Destroy-rooms ad-hoc command (XEP-0050), as Prosody offers it. */
static void
svc_command(const struct xml_node *iq, const char *from,
    const struct xml_node *cmd)
{
	char bare[JID_MAX + 1], rj[JID_MAX + 1];
	const char *node = xml_attr(cmd, "node");
	const char *action = xml_attr(cmd, "action");
	const struct xml_node *x, *f, *v;
	struct xml_node *res, *c, *fx, *fl, *ac;
	struct muc_room *r, **list = NULL;
	struct buf note;
	size_t n = 0, i, k, pos;
	const char **jids;

	muc_bare_of(from, bare, sizeof(bare));
	if (!muc_str_eq(node, NODE_DESTROY) && !muc_str_eq(node, NODE_SETAFF)) {
		muc_send_error(iq, "cancel", "item-not-found", NULL, NULL);
		return;
	}
	if (!account_is_admin(bare)) {
		muc_send_error(iq, "auth", "forbidden", NULL, NULL);
		return;
	}
	if (muc_str_eq(node, NODE_SETAFF)) {
		svc_setaff(iq, cmd);
		return;
	}
	res = command_result(iq, cmd, NODE_DESTROY, &c);
	if (muc_str_eq(action, "cancel")) {
		xml_set_attr(c, "status", "canceled");
		muc_send_free(res);
		return;
	}
	x = xml_child(cmd, "x", NS_DATA);
	if (x == NULL) {
		xml_set_attr(c, "status", "executing");
		ac = xml_add(c, "actions", NULL);
		xml_set_attr(ac, "execute", "complete");
		xml_add(ac, "complete", NULL);
		fx = xml_add(c, "x", NS_DATA);
		xml_set_attr(fx, "type", "form");
		xml_add_text_child(fx, "title", NULL, "Destroy rooms");
		xml_add_text_child(fx, "instructions", NULL,
		    "Select the rooms to destroy");
		muc_form_add_field(fx, "FORM_TYPE", "hidden", NULL,
		    NODE_DESTROY);
		fl = muc_form_add_field(fx, "rooms", "list-multi",
		    "Rooms to destroy:", NULL);
		xml_add(fl, "required", NULL);
		jids = muc_room_count() ?
		    xcalloc(muc_room_count(), sizeof(*jids)) : NULL;
		for (r = muc_room_first(&pos); r != NULL;
		    r = muc_room_next(r, &pos)) {
			if (!r->destroyed && n < muc_room_count()) {
				jids[n++] = r->jid;
			}
		}
		qsort(jids, n, sizeof(*jids), cmp_str);
		for (i = 0; i < n; i++) {
			muc_form_add_option(fl, NULL, jids[i]);
		}
		free(jids);
		muc_send_free(res);
		return;
	}
	buf_init(&note, 0);
	buf_puts(&note, "The following rooms were destroyed:");
	f = muc_form_field(x, "rooms");
	for (v = f != NULL ? xml_child(f, "value", NS_DATA) : NULL; v != NULL;
	    v = xml_next(v, "value", NS_DATA)) {
		if (jid_canon(xml_text(v), rj, sizeof(rj)) != 0) {
			continue;
		}
		r = muc_room_find(rj);
		if (r == NULL) {
			continue;
		}
		r->busy++;
		muc_pres_destroy(r, NULL, NULL, NULL);
		buf_printf(&note, "\n%s", r->jid);
		list = xrealloc(list, (n + 1) * sizeof(*list));
		list[n++] = r;
	}
	for (k = 0; k < n; k++) {
		muc_room_release(list[k]);
	}
	free(list);
	xml_set_attr(c, "status", "completed");
	fx = xml_add_text_child(c, "note", NULL, note.data);
	xml_set_attr(fx, "type", "info");
	buf_free(&note);
	muc_send_free(res);
}

static void
svc_iq(const struct xml_node *st, const char *from)
{
	const char *type = xml_attr(st, "type");
	const struct xml_node *q = muc_first_elem(st);
	struct xml_node *res, *rq, *id, *it;
	struct muc_room *r;
	char bare[JID_MAX + 1], name[40];
	unsigned char rnd[16];
	const char *node;
	size_t i, pos;

	if (!muc_str_eq(type, "get") && !muc_str_eq(type, "set")) {
		return;
	}
	if (q == NULL) {
		muc_send_error(st, "modify", "bad-request", NULL, NULL);
		return;
	}
	node = xml_attr(q, "node");
	if (muc_str_eq(type, "get") && muc_str_eq(q->ns, NS_DISCO_INFO) &&
	    node == NULL) {
		res = muc_iq_result(st);
		rq = xml_add(res, "query", NS_DISCO_INFO);
		id = xml_add(rq, "identity", NULL);
		xml_set_attr(id, "category", "conference");
		xml_set_attr(id, "type", "text");
		xml_set_attr(id, "name", "Chatrooms");
		add_feature(rq, NS_DISCO_INFO);
		add_feature(rq, NS_DISCO_ITEMS);
		add_feature(rq, NS_MUC);
		add_feature(rq, "http://jabber.org/protocol/muc#stable_id");
		add_feature(rq, NS_MUC_UNIQUE);
		add_feature(rq, NS_OCCUPANT_ID);
		add_feature(rq, NS_COMMANDS);
		add_feature(rq, NS_PING);
		muc_send_free(res);
	} else if (muc_str_eq(type, "get") && muc_str_eq(q->ns,
	    NS_DISCO_ITEMS)) {
		res = muc_iq_result(st);
		rq = xml_add(res, "query", NS_DISCO_ITEMS);
		if (node != NULL) {
			xml_set_attr(rq, "node", node);
		}
		muc_bare_of(from, bare, sizeof(bare));
		if (muc_str_eq(node, NS_COMMANDS) && account_is_admin(bare)) {
			it = xml_add(rq, "item", NULL);
			xml_set_attr(it, "jid", muc_host());
			xml_set_attr(it, "node", NODE_DESTROY);
			xml_set_attr(it, "name", "Destroy Rooms");
			it = xml_add(rq, "item", NULL);
			xml_set_attr(it, "jid", muc_host());
			xml_set_attr(it, "node", NODE_SETAFF);
			xml_set_attr(it, "name", "Set affiliation in room");
		}
		for (r = node != NULL ? NULL : muc_room_first(&pos); r != NULL;
		    r = muc_room_next(r, &pos)) {
			if (r->destroyed || !r->public || muc_room_locked(r)) {
				continue;
			}
			it = xml_add(rq, "item", NULL);
			xml_set_attr(it, "jid", r->jid);
			if (r->name != NULL) {
				xml_set_attr(it, "name", r->name);
			}
		}
		muc_send_free(res);
	} else if (muc_str_eq(type, "get") && muc_str_eq(q->ns,
	    NS_MUC_UNIQUE)) {
		if (tls_random(rnd, sizeof(rnd)) != 0) {
			muc_send_error(st, "wait", "internal-server-error",
			    NULL, NULL);
			return;
		}
		for (i = 0; i < sizeof(rnd); i++) {
			snprintf(name + 2 * i, 3, "%02x", rnd[i]);
		}
		res = muc_iq_result(st);
		xml_add_text_child(res, "unique", NS_MUC_UNIQUE, name);
		muc_send_free(res);
	} else if (muc_str_eq(type, "get") && muc_str_eq(q->ns, NS_PING)) {
		muc_send_free(muc_iq_result(st));
	} else if (muc_str_eq(type, "set") && muc_str_eq(q->ns, NS_COMMANDS) &&
	    strcmp(q->name, "command") == 0) {
		svc_command(st, from, q);
	} else {
		muc_send_error(st, "cancel", "service-unavailable", NULL, NULL);
	}
}

/* ---- rate limits ---- */

static int64_t
muc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * An occupant's messages (groupchat and private) and presence changes,
 * each a token bucket of muc_max_*_per_s holding MUC_RATE_BURST_S
 * seconds of it.  Past one the stanza bounces with <error type='wait'>
 * <policy-violation/>, as Prosody's mod_muc_limits answers (there per
 * room); errors and leaving are never held back, and joins are not
 * occupants' yet (the session's stanza bucket covers them).  Sessions
 * from limits_exempt addresses are not limited (the benchmarks).
 * Returns 1 when st was bounced.
 */
static int
muc_rate_limited(struct muc_room *r, const struct xml_node *st,
    const char *from, const char *type)
{
	const struct config *cfg = config_get();
	struct muc_occupant *o;
	struct rl_rate rate = { 0, 1000, 0 };
	struct rl_bucket *b;
	int64_t now;

	if (route_sender_unlimited() || muc_str_eq(type, "error")) {
		return 0;
	}
	if (strcmp(st->name, "message") == 0) {
		rate.count = cfg->muc_max_messages_per_s;
	} else if (strcmp(st->name, "presence") == 0 &&
	    !muc_str_eq(type, "unavailable")) {
		rate.count = cfg->muc_max_presence_per_s;
	}
	rate.burst = rate.count * MUC_RATE_BURST_S;
	if (rate.count == 0 || (o = muc_occ_by_real(r, from)) == NULL) {
		return 0;
	}
	now = muc_now_ms();
	if (!o->buckets_set) {
		struct rl_rate m = { cfg->muc_max_messages_per_s, 1000,
		    cfg->muc_max_messages_per_s * MUC_RATE_BURST_S };
		struct rl_rate p = { cfg->muc_max_presence_per_s, 1000,
		    cfg->muc_max_presence_per_s * MUC_RATE_BURST_S };

		rl_bucket_init(&o->msg_bucket, &m, now);
		rl_bucket_init(&o->pres_bucket, &p, now);
		o->buckets_set = 1;
	}
	b = strcmp(st->name, "message") == 0 ? &o->msg_bucket :
	    &o->pres_bucket;
	if (rl_bucket_wait_ms(b, &rate, now) == 0) {
		rl_bucket_take(b, &rate, 1, now);
		return 0;
	}
	log_debug("muc %s rate limit from=%s %s", r->jid, from, st->name);
	muc_send_error(st, "wait", "policy-violation",
	    "Too many stanzas to this room; try again later", NULL);
	return 1;
}

/* ---- entry points ---- */

/*
 * Join presence (with the MUC <x/>) to a room that does not exist: create
 * it (§10.1.1) once the nickname, resource, passes the checks.
 */
static void
create_on_join(const struct xml_node *st, const char *from,
    const char *room_jid, const char *resource)
{
	char nick[JID_PART_MAX + 1], lax[2 * JID_MAX + 2];

	if (!muc_pres_nick_visible(resource)) {
		muc_send_error(st, "modify", "not-allowed",
		    "Invisible Nicknames are forbidden", room_jid);
		return;
	}
	if (muc_nick_strict(resource, nick, sizeof(nick)) != 0) {
		muc_nick_lax(resource, nick, sizeof(nick));
		snprintf(lax, sizeof(lax), "%s/%s", room_jid, nick);
		muc_send_error_from(st, lax, "modify", "jid-malformed",
		    "Nickname must pass strict validation", room_jid);
		return;
	}
	muc_pres_create(room_jid, st, from, nick);
}

/*
 * A stanza for the service, a room or an occupant JID.  Its 'from' is
 * the sender's full JID (stamped by the server).  Borrowed.  Every reply
 * leaves through route.h before this returns.
 */
void
muc_handle(const struct xml_node *st)
{
	const char *from = xml_attr(st, "from"), *to = xml_attr(st, "to");
	const char *type = xml_attr(st, "type");
	char room_jid[JID_MAX + 1], local[JID_PART_MAX + 1];
	char resource[JID_PART_MAX + 1], host[JID_MAX + 1];
	struct jid_parts jp;
	struct muc_room *r;
	int has_res;

	log_debug("muc stanza %s from=%s to=%s type=%s", st->name,
	    from != NULL ? from : "-", to != NULL ? to : "-",
	    type != NULL ? type : "-");
	if (from == NULL || to == NULL || jid_split(to, &jp) != 0 ||
	    jp.domain_len >= sizeof(host) || jp.local_len >= sizeof(local) ||
	    jp.resource_len >= sizeof(resource)) {
		if (from != NULL && to != NULL) {
			muc_send_error(st, "modify", "jid-malformed", NULL,
			    NULL);
		}
		return;
	}
	memcpy(host, jp.domain, jp.domain_len);
	host[jp.domain_len] = '\0';
	has_res = jp.resource != NULL;
	if (has_res) {
		memcpy(resource, jp.resource, jp.resource_len);
		resource[jp.resource_len] = '\0';
	}
	if (jp.local == NULL) {
		if (strcmp(st->name, "iq") == 0) {
			svc_iq(st, from);
		} else if (strcmp(st->name, "message") == 0 &&
		    !muc_str_eq(type, "error")) {
			muc_send_error(st, "cancel", "service-unavailable",
			    NULL, NULL);
		}
		return;
	}
	memcpy(local, jp.local, jp.local_len);
	local[jp.local_len] = '\0';
	if (jid_local_canon(local, local, sizeof(local)) != 0 ||
	    (size_t)snprintf(room_jid, sizeof(room_jid), "%s@%s", local,
	    muc_host()) >= sizeof(room_jid)) {
		muc_send_error(st, "modify", "jid-malformed", NULL, muc_host());
		return;
	}
	r = muc_room_find(room_jid);
	if (r == NULL && muc_tomb_gone(st, from, room_jid)) {
		return;
	}
	if (strcmp(st->name, "presence") == 0 && type == NULL && !has_res &&
	    (r == NULL || muc_occ_by_real(r, from) == NULL)) {
		/* §7.2.1: joining without a nickname */
		muc_send_error(st, "modify", "jid-malformed", NULL, room_jid);
		return;
	}
	if (r == NULL) {
		if (strcmp(st->name, "presence") == 0 && type == NULL &&
		    has_res && xml_child(st, "x", NS_MUC) != NULL) {
			create_on_join(st, from, room_jid, resource);
		} else if (!muc_str_eq(type, "error") &&
		    !muc_str_eq(type, "result")) {
			muc_send_error(st, "cancel", "item-not-found", NULL,
			    muc_host());
		}
		return;
	}
	r->busy++;
	if (muc_rate_limited(r, st, from, type)) {
		/* bounced */
	} else if (strcmp(st->name, "presence") == 0) {
		if (has_res) {
			muc_pres_handle(r, st, from, resource);
		} else {
			struct muc_occupant *o = muc_occ_by_real(r, from);

			if (o != NULL) {
				char *nick = xstrdup(o->nick);

				muc_pres_handle(r, st, from, nick);
				free(nick);
			}
		}
	} else if (strcmp(st->name, "message") == 0) {
		if (has_res) {
			muc_msg_private(r, st, from, resource);
		} else {
			muc_msg_room(r, st, from);
		}
	} else if (strcmp(st->name, "iq") == 0) {
		if (has_res) {
			occupant_iq(r, st, from, resource);
		} else {
			room_iq(r, st, from);
		}
	}
	muc_room_gc(r);
	muc_room_release(r);
}

/*
 * A client session ended without leaving its rooms: act as if it sent
 * unavailable presence (with the status of its last presence) to each.
 */
void
muc_session_gone(const char *full_jid)
{
	struct muc_room *r, *next;
	struct muc_occupant *o;
	struct muc_session *s;
	const struct xml_node *status;
	struct xml_node *p;
	char *nick;
	size_t pos;

	for (r = muc_room_first(&pos); r != NULL; r = next) {
		next = muc_room_next(r, &pos);
		o = r->destroyed ? NULL : muc_occ_by_real(r, full_jid);
		if (o == NULL) {
			continue;
		}
		s = muc_occ_session(o, full_jid);
		p = muc_stanza_new("presence", full_jid, NULL, "unavailable",
		    NULL);
		status = s != NULL && s->pres != NULL ?
		    xml_child(s->pres, "status", NULL) : NULL;
		if (status != NULL) {
			xml_copy_into(p, status);
		}
		nick = xstrdup(o->nick);
		r->busy++;
		muc_pres_occupant(r, p, full_jid, nick);
		free(nick);
		xml_free(p);
		muc_room_gc(r);
		muc_room_release(r);
	}
}

/*
 * An account was deleted: drop its affiliations, which takes it out of
 * members-only rooms with status 321 as Prosody does when a member
 * deregisters.  Its sessions leave through muc_session_gone() as they
 * close.
 */
void
muc_account_removed(const char *bare_jid)
{
	struct muc_room *r, *next;
	struct muc_err e;
	size_t pos;

	for (r = muc_room_first(&pos); r != NULL; r = next) {
		next = muc_room_next(r, &pos);
		if (r->destroyed) {
			continue;
		}
		r->busy++;
		if (muc_aff_find(r, bare_jid) != NULL) {
			muc_admin_set_affiliation(r, NULL, bare_jid, AFF_NONE,
			    NULL, "", &e);
		}
		muc_room_gc(r);
		muc_room_release(r);
	}
}
