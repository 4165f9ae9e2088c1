/*
 * invite.h - invitations (XEP-0401 easy onboarding, with the XEP-0379
 * pre-auth token as Conversations and Prosody's mod_invites use it),
 * kept in the store:
 *
 *   ("invite", TOKEN) -> "EXPIRES\tFLAGS\tINVITER\tUSERNAME"
 *
 * EXPIRES is a unix time; FLAGS "a" makes the new account a service
 * administrator (account.h's role record), "-" does not;
 * INVITER is the bare JID of the account whose contact invite it is
 * (empty for an account invite); USERNAME the only local part the
 * invite may register (empty: any).  A token is used once: registering
 * with it deletes it.
 */
#ifndef UXMPPD_INVITE_H
#define UXMPPD_INVITE_H

#include <stddef.h>
#include <time.h>

#include "uxlimits.h"

#define INVITE_KIND		"invite"
#define INVITE_TOKEN_BYTES	12	/* random bytes; hex in the URI */
#define INVITE_TOKEN_LEN	(2 * INVITE_TOKEN_BYTES)

struct invite {
	time_t	 expires;
	int	 admin;
	char	 inviter[JID_MAX + 1];	/* "" for an account invite */
	char	 username[JID_PART_MAX + 1]; /* "" for any */
};

/*
 * A new invite valid for ttl_s seconds from now.  inviter: a local bare
 * JID (contact invite) or NULL; username: a canonical local part or
 * NULL.  The token (INVITE_TOKEN_LEN characters) goes to token.  0, or
 * -1 when the store refused it or randomness failed.  Not yet flushed.
 */
int	invite_create(const char *inviter, const char *username, int admin,
	    long ttl_s, char *token, size_t cap);
/* The unexpired invite of token into out: 0, or -1 (unknown, expired). */
int	invite_get(const char *token, struct invite *out);
/*
 * bare_jid (just created) registered with token, checked by the caller
 * with invite_get(): delete the token, make bare_jid an administrator
 * for an admin invite, and subscribe it and the inviter to each other
 * for a contact invite (roster.h).  0, or -1 when the store refused.
 */
int	invite_use(const char *token, const char *bare_jid);
/*
 * XEP-0379 §3: an existing account sent inviter a subscription request
 * carrying token.  When token is inviter's unexpired contact invite it
 * is used up (deleted) and 0 is returned: the request is pre-approved.
 * Else -1, nothing changed.
 */
int	invite_use_contact(const char *token, const char *inviter);
/* Delete token: 0, or -1 when there is no such invite. */
int	invite_revoke(const char *token);
/* One line per unexpired invite, "TOKEN EXPIRES admin|- INVITER|- USER|-",
 * written to out (truncated to cap).  Returns the number of invites. */
size_t	invite_list(char *out, size_t cap);
/* The xmpp: URI for token (XEP-0401 §4, XEP-0379 §2) into out. */
void	invite_uri(const char *token, const struct invite *inv, char *out,
	    size_t cap);
/* "7d", "12h", "30m", "90s" or plain seconds: 0 with *out, else -1. */
int	invite_parse_duration(const char *s, long *out);

#endif
