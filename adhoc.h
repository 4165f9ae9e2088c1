/*
 * adhoc.h - the server's ad-hoc commands (XEP-0050) for service
 * administrators: the XEP-0133 service administration set (add user,
 * delete user, change password, list online users, announce, end a
 * user's sessions), and invitations as Prosody's mod_invites_adhoc:
 * urn:xmpp:invite#invite (the requester's contact invite: admins, and
 * every account with allow_user_invites) and
 * urn:xmpp:invite#create-account (admins).  Administrators are the
 * config key `admins` and accounts made by an admin invite (invite.h).  services.c hands over
 * the commands and the disco#items of their node; replies leave through
 * route.h.
 */
#ifndef UXMPPD_ADHOC_H
#define UXMPPD_ADHOC_H

#include "xml.h"

/* May local bare JID run the admin commands? */
int	adhoc_is_admin(const char *bare_jid);
/* disco#items of node NS_COMMANDS: the commands bare may run into query
 * (none for a non-admin). */
void	adhoc_items(struct xml_node *query, const char *bare);
/*
 * A <command xmlns='http://jabber.org/protocol/commands'/> set to the
 * server from bare (a local account, or NULL when it is none): the form
 * first, then the submitted form run (§3.4, one stage each).  Errors:
 * forbidden for a non-admin, item-not-found for an unknown node,
 * bad-request for a bad form.  Borrowed.
 */
void	adhoc_command(const struct xml_node *iq, const struct xml_node *cmd,
	    const char *bare);

#endif
