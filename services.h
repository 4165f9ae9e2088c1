/*
 * services.h - what the server itself answers: iq to the domain
 * (disco, ping, version, uptime, time) and iq to an account's bare JID
 * handled on the account's behalf (disco on accounts, last activity,
 * private XML storage, vcard-temp, registration changes).
 */
#ifndef UXMPPD_SERVICES_H
#define UXMPPD_SERVICES_H

#include "buf.h"
#include "xml.h"

/* Append the server's <c xmlns='http://jabber.org/protocol/caps'/> to
 * stream features (XEP-0115 §6.3). */
void	services_caps_feature(struct buf *out);

/* Start what the account services do with PEP, after pep_init():
 * bookmarks (XEP-0402) with the XEP-0048 ones kept in private XML
 * storage moved into them (XEP-0411 §4), and the XEP-0398 avatar
 * conversion. */
void	services_init(void);

/* An iq addressed to the server's domain.  Borrowed. */
void	services_server_iq(const struct xml_node *iq);
/* A presence addressed to the server's domain (probe, subscribe). */
void	services_server_presence(const struct xml_node *pres);
/* An iq addressed to the bare JID of local account bare (from its owner
 * or anyone else).  Borrowed. */
void	services_account_iq(const struct xml_node *iq, const char *bare);
/* Local user bare went unavailable with this status text ("" for none):
 * kept for XEP-0012 queries. */
void	services_last_record(const char *bare, const char *status);
/*
 * Account bare has been deleted (account_delete() done): cancel its
 * subscriptions and delete its roster, blocklist, offline messages,
 * private XML, vCard and last activity.  Call it wherever an account is
 * deleted (XEP-0077 cancellation does; `uxmppd deluser` must too).
 */
void	services_account_removed(const char *bare);

/* Add XEP-0153's <x xmlns='vcard-temp:x:update'><photo/></x> to an
 * available presence from local account bare, unless it has one. */
void	services_presence_stamp(struct xml_node *pres, const char *bare);

/* Delete local account bare and everything kept for it (roster, offline
 * messages, room affiliations, ...); its sessions end with
 * <not-authorized/>.  0, or -1 if there is no such account. */
int	services_delete_account(const char *bare);

#endif
