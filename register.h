/*
 * register.h - XEP-0077 in-band registration before authentication:
 * account creation on an unauthenticated stream, offered only with the
 * config key allow_registration.  (Password change and cancellation by a
 * logged-in account are in services.c.)
 *
 * Wiring in c2s.c (C2S_AUTH state): when register_enabled(), advertise
 * REGISTER_FEATURE in <stream:features>, and answer an <iq/> in
 * jabber:client whose payload is <query xmlns='jabber:iq:register'/>
 * with the stanza register_preauth_iq() returns.
 */
#ifndef UXMPPD_REGISTER_H
#define UXMPPD_REGISTER_H

#include "ns.h"
#include "uxlimits.h"
#include "xml.h"

#define REGISTER_FEATURE \
	"<register xmlns='http://jabber.org/features/iq-register'/>"

/* Is in-band registration on (allow_registration = 1)? */
int	register_enabled(void);
/*
 * A jabber:iq:register iq from an unauthenticated stream: get returns
 * the form (username, password), set creates the account.  Returns the
 * reply to send (no 'from'), or NULL for results and errors, which are
 * not answered.  Caller frees.  Errors: service-unavailable when
 * registration is off, not-acceptable (missing or bad field), conflict
 * (account exists), bad-request (anything else).
 */
struct xml_node *register_preauth_iq(const struct xml_node *iq);

#endif
