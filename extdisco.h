/*
 * extdisco.h - XEP-0215 external service discovery: the STUN, TURN and
 * other services of the configuration (key `external_service`), with
 * TURN credentials made by the TURN REST API scheme
 * (draft-uberti-behave-turn-rest-00 §2.2) from a secret shared with the
 * TURN server, as Prosody's mod_external_services and coturn's
 * `use-auth-secret` do.
 */
#ifndef UXMPPD_EXTDISCO_H
#define UXMPPD_EXTDISCO_H

#include <stddef.h>
#include <time.h>

#include "xml.h"

/*
 * An iq to the server whose payload q is <services/> or <credentials/>
 * in NS_EXTDISCO (or NS_EXTDISCO_1); local says whether it comes from a
 * local account (others get forbidden).  Answers it.  Borrowed.
 */
void	extdisco_iq(const struct xml_node *iq, const struct xml_node *q,
	    int local);

/*
 * TURN REST credentials valid until expiry: username "EXPIRY" or
 * "EXPIRY:user" (user NULL or "" for the first), password
 * base64(HMAC-SHA1(secret, username)).  0, or -1 when a buffer is too
 * small.
 */
int	extdisco_turn_credentials(const char *secret, const char *user,
	    time_t expiry, char *username, size_t ucap, char *password,
	    size_t pcap);

#endif
