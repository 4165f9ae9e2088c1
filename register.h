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
/* Invitations (XEP-0401 §5, as Prosody advertises them, the legacy name
 * first): a token in <preauth xmlns='urn:xmpp:pars:0'/> is accepted. */
#define REGISTER_INVITE_FEATURES \
	"<register xmlns='urn:xmpp:invite'/>" \
	"<register xmlns='urn:xmpp:ibr-token:0'/>"

/* Is in-band registration on (allow_registration = 1)? */
int	register_enabled(void);
/*
 * A jabber:iq:register iq from an unauthenticated stream: get returns
 * the form (username, password), set creates the account.  token is the
 * invite the stream presented (register_token_iq), or NULL; with a valid
 * one registration works even when it is off, and the invite is used
 * (invite.h).  Returns the reply to send (no 'from'), or NULL for
 * results and errors, which are not answered.  Caller frees.  A get is
 * answered with the form even when registration is off.  Errors:
 * service-unavailable for a set when registration is off and there is
 * no valid token, not-acceptable (missing or bad field, or a name the invite does
 * not allow), conflict (account exists), bad-request (anything else).
 * *used is set to 1 when the token was used up.
 */
struct xml_node *register_preauth_iq(const struct xml_node *iq,
	    const char *token, int *used);
/* Is iq a <preauth xmlns='urn:xmpp:pars:0'/> set? */
int	register_is_token_iq(const struct xml_node *iq);
/*
 * XEP-0401 §5 / XEP-0379: the stream presents an invite's token before
 * registering.  The reply (result, or forbidden for an unknown or
 * expired token); *valid says which.  Caller frees.
 */
struct xml_node *register_token_iq(const struct xml_node *iq, int *valid);

#endif
