/*
 * services.h - what the server itself answers: iq to the domain
 * (disco, ping, version, uptime, time) and iq to an account's bare JID
 * handled on the account's behalf (disco on accounts, ...).
 */
#ifndef UXMPPD_SERVICES_H
#define UXMPPD_SERVICES_H

#include "xml.h"

/* An iq addressed to the server's domain.  Borrowed. */
void	services_server_iq(const struct xml_node *iq);
/* An iq addressed to the bare JID of local account bare (from its owner
 * or anyone else).  Borrowed. */
void	services_account_iq(const struct xml_node *iq, const char *bare);

#endif
