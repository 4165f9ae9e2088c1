/*
 * muc_internal.h - what the muc files share, and nothing outside them
 * includes: namespaces, limits, the room model and the functions one muc
 * file calls in another (muc.h is the service's public interface).
 *
 * Model: rooms live in a hash table keyed by bare room JID.  A room holds
 * its configuration, its affiliation list (with reserved nicknames), its
 * occupants and a ring of prepared history messages.  An occupant is one
 * nickname; it holds one or more sessions (real full JIDs of one bare JID)
 * with the last presence each sent, filtered and stamped with the
 * occupant JID.  Persistent rooms keep their configuration and
 * affiliations in the store (kinds "muc_room" and "muc_aff").
 *
 * Fan-out: a stanza for many recipients is serialized once with
 * route_prepare() and sent per session with route_prepared_send(); at most
 * a handful of variants (full JIDs / anonymous / self) are built.
 */
#ifndef UXMPPD_MUC_INTERNAL_H
#define UXMPPD_MUC_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include "htab.h"
#include "muc.h"
#include "ns.h"
#include "ratelimit.h"
#include "route.h"
#include "uxlimits.h"
#include "xml.h"

#define FORM_ROOMCONFIG	"http://jabber.org/protocol/muc#roomconfig"
#define FORM_ROOMINFO	"http://jabber.org/protocol/muc#roominfo"
#define FORM_REGISTER	"http://jabber.org/protocol/muc#register"
#define FORM_REQUEST	"http://jabber.org/protocol/muc#request"
#define NODE_DESTROY	"http://prosody.im/protocol/muc#destroy"
#define NODE_SETAFF	"http://prosody.im/protocol/muc#set-affiliation"

enum muc_aff { AFF_OUTCAST = -1, AFF_NONE, AFF_MEMBER, AFF_ADMIN, AFF_OWNER };
enum muc_role { ROLE_NONE, ROLE_VISITOR, ROLE_PARTICIPANT, ROLE_MODERATOR };
enum muc_allowpm { PM_ANYONE, PM_PARTICIPANTS, PM_MODERATORS, PM_NONE };

/* Views of an occupant's presence (who may see which JIDs). */
enum muc_view { VIEW_FULL, VIEW_ANON, VIEW_SELF };

struct muc_affent {
	char	*jid;		/* bare JID (or a domain, for host bans) */
	int	 aff;		/* enum muc_aff, never AFF_NONE */
	char	*nick;		/* reserved nickname, or NULL */
	char	*reason;	/* reason given with the last change, or NULL */
};

struct muc_session {
	char	*jid;		/* real full JID */
	struct xml_node *pres;	/* last presence: filtered, from = occupant JID */
	int	 gone;		/* left; dropped once the change is published */
};

struct muc_occupant {
	char	*nick;		/* nickname (resource of the occupant JID) */
	char	*bare;		/* real bare JID */
	int	 role;		/* enum muc_role */
	struct muc_session *sess;
	size_t	 nsess, capsess;
	char	 id[48];	/* XEP-0421 occupant-id */
	unsigned buckets_set:1;	/* the two below are initialized */
	struct rl_bucket msg_bucket;	/* muc_max_messages_per_s */
	struct rl_bucket pres_bucket;	/* muc_max_presence_per_s */
};

struct muc_hist {
	struct route_prepared p;	/* message with delay, without 'to' */
	time_t	 ts;
};

struct muc_room {
	struct hnode node;	/* in the rooms table, by jid */
	char	*jid;		/* bare room JID */
	/* configuration (muc#roomconfig) */
	char	*name, *desc, *lang, *password;
	int	 persistent, public, members_only, moderated, whois_anyone;
	int	 changesubject, allow_invites, allowpm;
	int	 archiving;		/* XEP-0313: 1, 0, -1 as persistent */
	unsigned max_users;		/* 0 = no limit */
	unsigned history_len;		/* messages kept */
	unsigned history_default;	/* sent when the joiner asks nothing */
	unsigned bcast;			/* bit (1 << role): presence broadcast */
	unsigned getmemberlist;		/* bit (1 << role): may get member list */
	char	*subject, *subject_from;
	time_t	 subject_time;
	char	 salt[40];		/* occupant-id and iq id salt */
	time_t	 locked_until;		/* 0: open; else locked until then */
	/* state */
	struct muc_affent *affs;
	size_t	 naffs, capaffs;
	struct muc_occupant **occ;
	size_t	 nocc, capocc;
	struct muc_hist *hist;		/* ring of history_len entries */
	size_t	 hist_start, hist_n, hist_cap;
	size_t	 hist_bytes;		/* serialized size of the ring */
	int	 busy;			/* >0 while a handler uses the room */
	int	 destroyed;		/* freed when busy drops to 0 */
};

struct pubinfo {
	const char *codes[4];		/* status codes before the items */
	size_t	 ncodes;
	const struct xml_node *destroy;	/* <destroy/> to put first */
	const char *newnick;		/* item nick (303 nick change) */
	const char *actor;		/* actor's real full JID, or NULL */
	const char *reason;
	int	 prev_role;		/* role before the change, -1 unknown */
	int	 force_unavail;		/* everyone sees it unavailable */
	int	 omit_gone;		/* leaving sessions get nothing */
	const char *self_codes[2];	/* extra codes for the self presence */
	size_t	 nself_codes;
	const struct muc_occupant *only;	/* probe: just this recipient */
};

struct muc_err {
	const char *type;
	const char *cond;
	const char *text;
};

struct muc_tomb;	/* a destroyed room's tombstone, opaque (muc_room.c) */

/* muc_stanza.c: names, strings, stamps, nicknames, stanzas, forms */
const char *muc_aff_name(int aff);
int	muc_aff_parse(const char *s);
const char *muc_role_name(int role);
int	muc_role_parse(const char *s);
void	muc_set_str(char **dst, const char *s);
int	muc_str_eq(const char *a, const char *b);
int	muc_parse_bool(const char *s);
const char *muc_host(void);
void	muc_bare_of(const char *full, char *out, size_t cap);
void	muc_fmt_stamp(time_t t, char *out, size_t cap);
int	muc_parse_stamp(const char *s, time_t *out);
int	muc_nick_strict(const char *in, char *out, size_t cap);
void	muc_nick_lax(const char *in, char *out, size_t cap);
struct xml_node *muc_stanza_new(const char *name, const char *from,
	    const char *to, const char *type, const char *id);
void	muc_send_free(struct xml_node *st);
void	muc_send_error_from(const struct xml_node *st, const char *from,
	    const char *type, const char *cond, const char *text,
	    const char *by);
void	muc_send_error(const struct xml_node *st, const char *type,
	    const char *cond, const char *text, const char *by);
struct xml_node *muc_iq_result(const struct xml_node *iq);
struct xml_node *muc_first_elem(const struct xml_node *el);
void	muc_copy_attrs(struct xml_node *dst, const struct xml_node *st);
void	muc_copy_children_filtered(struct xml_node *dst,
	    const struct xml_node *src);
void	muc_new_id(char *out, size_t cap);
void	muc_add_status(struct xml_node *x, const char *code);
struct xml_node *muc_add_item(struct xml_node *x, int aff, const char *role,
	    const char *jid, const char *nick, const char *actor_nick,
	    const char *actor_jid, const char *reason);
const struct xml_node *muc_form_field(const struct xml_node *x,
	    const char *var);
const char *muc_form_value(const struct xml_node *x, const char *var);
struct xml_node *muc_form_add_field(struct xml_node *x, const char *var,
	    const char *type, const char *label, const char *value);
void	muc_form_add_option(struct xml_node *f, const char *label,
	    const char *value);

/* muc_room.c: the room table, occupants, affiliations, the store,
 * tombstones, history and subject */
struct muc_room *muc_room_find(const char *jid);
struct muc_room *muc_room_first(size_t *pos);
/* May bare JID not create another room: it owns muc_max_rooms_per_user
 * rooms already (and its session is not limits_exempt)? */
int	muc_rooms_limit_reached(const char *bare);
struct muc_room *muc_room_next(struct muc_room *r, size_t *pos);
struct muc_room *muc_room_new(const char *jid);
int	muc_room_archiving(const struct muc_room *r);
void	muc_occ_free(struct muc_occupant *o);
int	muc_room_locked(struct muc_room *r);
struct muc_affent *muc_aff_find(const struct muc_room *r, const char *bare);
int	muc_aff_get(const struct muc_room *r, const char *jid);
int	muc_role_default(const struct muc_room *r, int aff);
const char *muc_room_nick_owner(const struct muc_room *r, const char *nick);
const char *muc_room_reserved_nick(const struct muc_room *r, const char *bare);
struct muc_occupant *muc_occ_by_nick(const struct muc_room *r,
	    const char *nick);
struct muc_session *muc_occ_session(const struct muc_occupant *o,
	    const char *full);
struct muc_occupant *muc_occ_by_real(const struct muc_room *r,
	    const char *full);
size_t	muc_occ_live_sessions(const struct muc_occupant *o);
struct muc_session *muc_occ_primary(const struct muc_occupant *o);
struct muc_occupant *muc_occ_new(const struct muc_room *r, const char *nick,
	    const char *bare, int role);
void	muc_occ_insert(struct muc_room *r, struct muc_occupant *o);
void	muc_occ_remove(struct muc_room *r, struct muc_occupant *o);
struct muc_session *muc_occ_set_session(struct muc_occupant *o,
	    const char *full, struct xml_node *p, int gone);
void	muc_occ_drop_session(struct muc_occupant *o, const char *full);
int	muc_occ_settle(struct muc_room *r, struct muc_occupant *o);
void	muc_occ_send(const struct route_prepared *p,
	    const struct muc_occupant *q);
void	muc_room_broadcast(const struct muc_room *r, const struct xml_node *st,
	    int min_role);
void	muc_room_save(const struct muc_room *r);
void	muc_room_store_all(const struct muc_room *r);
void	muc_room_unstore(const struct muc_room *r);
struct muc_tomb *muc_tomb_add(const char *jid, const char *reason,
	    const char *newjid, time_t expires);
void	muc_tomb_store(const struct muc_tomb *t);
void	muc_aff_store_set(struct muc_room *r, const char *bare, int aff,
	    const char *nick, const char *reason);
void	muc_hist_resize(struct muc_room *r, size_t n);
int	muc_hist_is_historic(const struct xml_node *m);
void	muc_hist_add(struct muc_room *r, const struct xml_node *msg);
void	muc_hist_send(const struct muc_room *r, const struct xml_node *join,
	    const char *to);
struct xml_node *muc_subject_msg(const char *from, const char *subject);
void	muc_subject_send(const struct muc_room *r, const char *to);
void	muc_room_gc(struct muc_room *r);
void	muc_room_release(struct muc_room *r);
int	muc_tomb_gone(const struct xml_node *st, const char *from,
	    const char *room_jid);

/* muc_presence.c: occupant presence and its publication */
int	muc_pres_bcast_role(const struct muc_room *r, int role);
void	muc_pres_publicise(struct muc_room *r, struct muc_occupant *o,
	    const struct pubinfo *pi);
void	muc_pres_send_list_except(const struct muc_room *r, const char *to,
	    const char *except_bare);
void	muc_pres_apply_role(struct muc_room *r, struct muc_occupant *o,
	    int role, const char *actor, const char *reason, const char *code);
void	muc_pres_kick_errored(struct muc_room *r, const struct xml_node *st,
	    const char *from);
int	muc_pres_nick_visible(const char *nick);
void	muc_pres_create(const char *room_jid, const struct xml_node *st,
	    const char *from, const char *nick);
void	muc_pres_occupant(struct muc_room *r, const struct xml_node *st,
	    const char *from, const char *nick_raw);
void	muc_pres_handle(struct muc_room *r, const struct xml_node *st,
	    const char *from, const char *nick_raw);
void	muc_pres_destroy(struct muc_room *r, const char *newjid,
	    const char *reason, const char *password);

/* muc_admin.c: affiliations, roles, configuration, registration */
int	muc_admin_set_affiliation(struct muc_room *r, const char *actor,
	    const char *jid, int aff, const char *reason, const char *nick,
	    struct muc_err *e);
int	muc_admin_set_role(struct muc_room *r, const char *actor,
	    struct muc_occupant *o, int role, const char *reason,
	    struct muc_err *e);
void	muc_admin_reply_err(const struct xml_node *st,
	    const struct muc_err *e);
void	muc_admin_set(struct muc_room *r, const struct xml_node *iq,
	    const char *from, const struct xml_node *q);
void	muc_admin_get(struct muc_room *r, const struct xml_node *iq,
	    const char *from, const struct xml_node *q);
void	muc_admin_add_role_options(struct xml_node *f, int with_none);
void	muc_admin_owner_get(struct muc_room *r, const struct xml_node *iq,
	    const char *from);
void	muc_admin_owner_set(struct muc_room *r, const struct xml_node *iq,
	    const char *from, const struct xml_node *q);
void	muc_admin_register(struct muc_room *r, const struct xml_node *iq,
	    const char *from, const struct xml_node *q);

/* muc_message.c: messages to rooms and occupants */
void	muc_msg_private(struct muc_room *r, const struct xml_node *st,
	    const char *from, const char *nick_raw);
void	muc_msg_room(struct muc_room *r, const struct xml_node *st,
	    const char *from);

#endif
