/*
 * bookmarks.h - an account's chat room bookmarks: XEP-0402 items in its
 * PEP node urn:xmpp:bookmarks:1, and the XEP-0411 / XEP-0402 §5
 * compatibility with the two XEP-0048 forms, <storage
 * xmlns='storage:bookmarks'/> in private XML storage (XEP-0049) and in
 * the PEP node storage:bookmarks.
 *
 * The XEP-0402 node is the one copy: an XEP-0048 read is built from its
 * items (one <conference jid=ITEM-ID/> each, sorted by JID), an XEP-0048
 * write becomes publishes of the changed rooms and retractions of the
 * missing ones (XEP-0402 §5.2: nothing for unchanged ones), and every
 * change of the node is told to the account's resources that want
 * storage:bookmarks+notify as one XEP-0048 event.  Neither XEP-0048 form
 * is stored.  The node is created private (XEP-0223: access whitelist,
 * persist_items, max_items max, send_last_published_item never), also
 * when a client's first XEP-0402 publish comes without publish-options.
 */
#ifndef UXMPPD_BOOKMARKS_H
#define UXMPPD_BOOKMARKS_H

#include "xml.h"

/* An event of the pubsub core (pep_set_observer()): a change of an
 * account's XEP-0402 node becomes an XEP-0048 event.  Borrowed. */
struct pubsub_event;
void	bookmarks_event(const struct pubsub_event *ev);

/* A new recipient full of account bare's PEP events (pep_set_newcomer()):
 * one of bare's resources that wants storage:bookmarks gets the XEP-0048
 * list. */
void	bookmarks_newcomer(const char *bare, const char *full);

/*
 * An iq get or set to account bare's own JID with a <pubsub/> child
 * (services.c calls it before pep_account_iq()): 1 when it was a
 * request on storage:bookmarks or urn:xmpp:bookmarks:0 and has been
 * answered; 0 otherwise, for PEP to handle, having first created the
 * urn:xmpp:bookmarks:1 node private if the owner publishes to it and it
 * does not exist yet.  Borrowed.
 */
int	bookmarks_account_iq(const struct xml_node *iq, const char *bare);

/*
 * A private XML storage (XEP-0049) get or set by account bare of its own
 * element el: 1 when el is <storage xmlns='storage:bookmarks'/> and the
 * iq has been answered from or into the XEP-0402 node, else 0.
 * Borrowed.
 */
int	bookmarks_private_iq(const struct xml_node *iq,
	    const struct xml_node *el, const char *bare);

/*
 * XEP-0411 §4: XEP-0048 storage (a <storage xmlns='storage:bookmarks'/>
 * element) kept for account bare before the XEP-0402 node existed: its
 * rooms become items, no item of the node is removed.  0, or a negative
 * enum pubsub_err.  Borrowed.
 */
int	bookmarks_import(const char *bare, const struct xml_node *storage);

/* Add the compatibility features (XEP-0402 §6 #compat and #compat-pep,
 * XEP-0411 §3) to an account's disco#info <query/>. */
void	bookmarks_disco_info(struct xml_node *query);

#endif
