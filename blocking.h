/*
 * blocking.h - XEP-0191 blocking command: each user's list of blocked
 * JIDs, kept in the store as ("block", "user@dom JID") -> "1", and the
 * check route.c makes on every stanza in and out.
 */
#ifndef UXMPPD_BLOCKING_H
#define UXMPPD_BLOCKING_H

#include "ns.h"
#include "uxlimits.h"
#include "xml.h"

/*
 * Has local user user blocked jid (canonical, bare or full)?  An item
 * matches the JID itself, its bare JID, its domain/resource or its
 * domain (XEP-0191 §3.4, XEP-0016 JID matching).  1 or 0.
 */
int	blocking_is_blocked(const char *user, const char *jid);
/*
 * An iq from one of user's own sessions with a blocking payload
 * (blocklist get, block or unblock set).  Replies, sends pushes and the
 * presence changes through route.h.  Returns 1 when it answered a
 * blocklist get (the session now receives pushes), else 0.  Borrowed.
 */
int	blocking_iq(const struct xml_node *iq, const char *user);
/* Delete user's blocklist (account deletion). */
void	blocking_account_removed(const char *user);

#endif
