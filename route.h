/*
 * route.h - delivering stanzas to local sessions (RFC 6121 §8), for the
 * protocol modules (muc.c, ...) that produce stanzas.
 */
#ifndef UXMPPD_ROUTE_H
#define UXMPPD_ROUTE_H

#include "buf.h"
#include "uxlimits.h"
#include "xml.h"

/*
 * Deliver stanza (its 'from' and 'to' set) by the RFC 6121 rules for its
 * recipient: a local user's bare or full JID, the server, or a service
 * domain.  Borrowed: the caller still frees the stanza.
 */
void	route_stanza(const struct xml_node *stanza);

/*
 * A service at a domain of its own (the MUC, pubsub and upload
 * services): every stanza to the domain or a JID at it goes to handle
 * (borrowed), and session_gone (may be NULL) hears of each client session
 * that ends, by full JID, so the service needs no directed presence.
 * Registering a domain again replaces its handlers.  0, or -1 when
 * ROUTE_MAX_SERVICES are registered.
 */
int	route_register_domain(const char *domain,
	    void (*handle)(const struct xml_node *stanza),
	    void (*session_gone)(const char *full_jid));

/*
 * Fan-out without rebuilding: serialize a stanza once without its 'to'
 * attribute, then send the bytes to many full JIDs with only 'to' written
 * per recipient.  A recipient that is not connected is skipped.
 */
struct route_prepared {
	struct buf	bytes;		/* "<message from=... </message>" */
	size_t		name_len;	/* length of "<message" */
};
/* Serialize stanza (its 'to' attribute is skipped) into p.  Free with
 * route_prepared_free(). */
void	route_prepare(struct route_prepared *p, const struct xml_node *stanza);
void	route_prepared_send(const struct route_prepared *p, const char *to);
void	route_prepared_free(struct route_prepared *p);

/* ---- for c2s.c: sessions and client stanzas ---- */

/* What a bound client stream offers the router, for its owner pointer. */
struct route_session_ops {
	/* Queue serialized stanza bytes on the stream. */
	void	(*send)(void *owner, const char *data, size_t len);
	/* The router has dropped the session (already unregistered): end the
	 * stream with stream error cond, "conflict" when a new session took
	 * its full JID, "not-authorized" when its account was deleted. */
	void	(*end)(void *owner, const char *cond);
};
struct route_sess;

/* Register a bound session under its full JID (borrowed: valid while the
 * session is registered, so it costs no copy); ops must outlive it.  An older session with the same full JID is ended with "conflict".
 * Returns the session's handle for the calls below. */
struct route_sess *route_session_add(void *owner, const char *full,
	    const struct route_session_ops *ops);
/* The session is going away: unregister it and broadcast unavailable
 * presence for it when it was available.  rs is freed. */
void	route_session_remove(struct route_sess *rs);
/* Is the session's stream from a limits_exempt address?  Then the
 * services apply no rate limit to what it sends (route_sender_unlimited). */
void	route_session_set_unlimited(struct route_sess *rs, int on);
/* While route_from_client hands a stanza on: is its session unlimited?
 * 0 for stanzas from anywhere else. */
int	route_sender_unlimited(void);
/* Sessions (hibernating ones too) of full's account other than full
 * itself: what binding full would add to (max_resources_per_account). */
size_t	route_user_other_sessions(const char *full);
/* Stream resumption (XEP-0198): the session now lives on another stream,
 * owner, whose copy of the same full JID it borrows from now on.  No
 * presence is sent; nothing else changes. */
void	route_session_rebind(struct route_sess *rs, void *owner,
	    const char *full);
/* A stanza from the session's client; 'from' is already stamped with the
 * session's full JID.  Borrowed. */
void	route_from_client(struct route_sess *rs, struct xml_node *stanza);

/* ---- for the IM modules (roster.c, blocking.c, services.c) ---- */

/* Send iq to each session of bare that fetched its roster (a roster
 * push), 'to' set per session.  Borrowed. */
void	route_roster_push(const char *bare, const struct xml_node *iq);
/* Send iq to each session of bare that fetched its blocklist. */
void	route_blocklist_push(const char *bare, const struct xml_node *iq);
/*
 * Send the presence of each available resource of local user bare to
 * 'to': its last presence (with its XEP-0203 delay), or with unavailable
 * set an unavailable presence from each.  Returns how many were sent.
 */
int	route_presence_of(const char *bare, const char *to, int unavailable);
/* Send st as is to each available resource of local user bare (no
 * subscription processing, no blocking check).  Borrowed. */
void	route_to_available(const char *bare, const struct xml_node *st);
/* Has local user bare at least one available resource? */
int	route_user_available(const char *bare);
/* Account bare was deleted: end each of its sessions except the one with
 * full JID except (may be NULL), which the caller closes itself. */
void	route_user_gone(const char *bare, const char *except);
/* Delete the offline messages kept for account bare (account deletion). */
void	route_account_removed(const char *bare);
/* Bound sessions (hibernating ones included). */
size_t	route_session_count(void);
/* Call fn with the full JID of every session (borrowed for the call);
 * fn must not add or end sessions. */
void	route_foreach_session(void (*fn)(void *ud, const char *full),
	    void *ud);

#endif
