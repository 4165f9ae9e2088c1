/*
 * roster.h - rosters (RFC 6121 §2) and the presence subscription state
 * machine (§3), kept in the store:
 *
 *   ("roster", "user@dom contact@dom") -> "<sub>[ ask][ pre]\x1f<name>
 *                                          [\x1f<group>]..."
 *   ("roster-ver", "user@dom")         -> version counter, decimal
 *   ("subin", "user@dom contact@dom")  -> the pending inbound subscribe
 *                                         stanza, serialized (§3.1.3)
 *
 * \x1f cannot occur in XML character data, so names and groups need no
 * escaping.  Protocol only: replies and pushes leave through route.h.
 */
#ifndef UXMPPD_ROSTER_H
#define UXMPPD_ROSTER_H

#include <stddef.h>

#include "ns.h"
#include "uxlimits.h"
#include "xml.h"

/* Subscription bits: ROSTER_SUB_TO = the user receives the contact's
 * presence, ROSTER_SUB_FROM = the contact receives the user's. */
#define ROSTER_SUB_TO		1u
#define ROSTER_SUB_FROM		2u

struct roster_item {
	char		*jid;		/* contact, canonical bare JID */
	char		*name;		/* NULL when none */
	char		**groups;
	size_t		 ngroups;
	unsigned	 sub;		/* ROSTER_SUB_* bits */
	unsigned	 ask:1;		/* pending out (ask='subscribe') */
	unsigned	 approved:1;	/* pre-approved (§3.4) */
};

/* The item for contact in user's roster, or NULL.  Both canonical bare
 * JIDs.  Borrowed: valid until the next change to that roster. */
const struct roster_item *roster_find(const char *user, const char *contact);
/* Does contact receive user's presence (subscription from or both)? */
int	roster_has_from(const char *user, const char *contact);
/* Call fn for each item of user's roster until it returns non-zero.  fn
 * must not change the roster. */
void	roster_foreach(const char *user,
	    int (*fn)(void *ud, const struct roster_item *it), void *ud);

/*
 * A jabber:iq:roster get or set from one of user's own sessions (checked
 * by the caller).  Replies and pushes through route_stanza().  Returns 1
 * when it was a get answered with the roster (the session now receives
 * pushes), else 0.  Borrowed.
 */
int	roster_iq(const struct xml_node *iq, const char *user);

/*
 * Presence of type subscribe, subscribed, unsubscribe or unsubscribed
 * sent by a session of local user user to bare JID contact (§3, outbound
 * side): updates user's roster, pushes, and routes what must go out.
 */
void	roster_outbound(const struct xml_node *pres, const char *user,
	    const char *contact);
/*
 * The same types arriving for local user user from bare JID contact
 * (inbound side).  pres is the stanza as routed; borrowed.
 */
void	roster_inbound(const struct xml_node *pres, const char *user,
	    const char *contact);
/*
 * The session full (of user) sent initial presence: hand it the pending
 * inbound subscription requests, as stored, through send(ud, bytes, len).
 */
void	roster_resend_pending(const char *user,
	    void (*send)(void *ud, const char *data, size_t len), void *ud);
/* Drop contact's pending inbound request to user, if any (blocking). */
void	roster_drop_pending(const char *user, const char *contact);
/* Is there a pending inbound request from contact to user? */
int	roster_is_pending_in(const char *user, const char *contact);

/*
 * Local accounts a and b (canonical bare JIDs) subscribe to each other
 * (subscription both in both rosters, pushed) without the usual
 * requests: a contact invite was used (XEP-0401 §5, as Prosody's
 * mod_invites_register).  0, or -1 when the store refused a change.
 */
int	roster_subscribe_mutual(const char *a, const char *b);
/*
 * user's account is being deleted: cancel its subscriptions with every
 * contact (unsubscribe/unsubscribed routed as if user had removed each
 * item) and delete its roster, version and pending requests.
 */
void	roster_account_removed(const char *user);
/* Free the in-memory roster cache (shutdown; tests). */
void	roster_cache_clear(void);

#endif
