/*
 * pep.h - XEP-0163 personal eventing on every account, on the XEP-0060
 * core of pubsub.c, and the core's way out to the router: every pubsub
 * notification, PEP or the pubsub.<domain> service's, leaves through
 * here.
 *
 * PEP delivers a node's events to its explicit subscribers and to the
 * "implicit" ones: the owner's own resources and the contacts with a
 * presence subscription whose entity capabilities (XEP-0115, caps.c)
 * list NODE+notify.  It learns those from the available presence the
 * account receives, asking a resource's caps node with disco#info when
 * caps.c does not know its verification string yet.
 */
#ifndef UXMPPD_PEP_H
#define UXMPPD_PEP_H

#include "xml.h"

/* Start the pubsub core (pubsub_init) with the router as its way out.
 * 0, or -1 if the store holds unreadable pubsub records. */
int	pep_init(void);
void	pep_shutdown(void);

/*
 * An iq get or set to account bare's JID: 1 when it was a PEP request
 * (<pubsub/> or <pubsub xmlns='...#owner'/>) and has been answered, else
 * 0.  Borrowed.
 */
int	pep_account_iq(const struct xml_node *iq, const char *bare);
/* An iq result or error to account bare (the answers to our caps
 * queries).  Borrowed. */
void	pep_account_iq_response(const struct xml_node *iq, const char *bare);
/*
 * Available or unavailable presence that reached account bare (from a
 * contact, or broadcast by one of bare's own resources): the sender
 * becomes or stops being a recipient of bare's events.  Borrowed.
 */
void	pep_presence(const char *bare, const struct xml_node *pres);
/* Add PEP's identity (pubsub/pep) and features to an account's
 * disco#info <query/> (XEP-0163 §5). */
void	pep_disco_info(struct xml_node *query);
/* Add to a disco#items <query/> on account bare the nodes requester may
 * read. */
void	pep_disco_items(struct xml_node *query, const char *bare,
	    const char *requester);
/* Account bare was deleted: its nodes and what PEP knows of it go. */
void	pep_account_removed(const char *bare);

struct pubsub_event;
/*
 * Call fn with every event of the pubsub core, after PEP delivered it
 * (bookmarks.c turns XEP-0402 changes into XEP-0048 ones); NULL: none.
 * fn may call pep_notify().
 */
void	pep_set_observer(void (*fn)(const struct pubsub_event *ev));
/* Call fn for each new recipient of a PEP service (full JID, caps
 * known), after it was sent the last items of its nodes (bookmarks.c
 * adds the XEP-0048 list); NULL: none. */
void	pep_set_newcomer(void (*fn)(const char *service, const char *full));
/* Does the recipient full of service's events want node (NODE+notify)? */
int	pep_recipient_wants(const char *service, const char *full,
	    const char *node);
/* Deliver an event no node of the core raised (a synthesised
 * XEP-0048 storage:bookmarks one) as PEP delivers the core's: to the
 * explicit subscribers in ev and the recipients that want ev->node and
 * may hear ev->access_model.  Borrowed. */
void	pep_notify(const struct pubsub_event *ev);

#endif
