/*
 * account.h - local user accounts: SCRAM credentials kept in the store
 * (kind "account", key = bare JID).  Never a plaintext password.  An
 * account made by an admin invite (invite.h) also has the record
 * ("role", bare JID) -> "admin", deleted with it.
 */
#ifndef UXMPPD_ACCOUNT_H
#define UXMPPD_ACCOUNT_H

#include <stddef.h>

#include "sasl.h"

#define ACCOUNT_ROLE_KIND	"role"

/* Does bare_jid (canonical) have an account? */
int	account_exists(const char *bare_jid);
/* Credentials of bare_jid.  0, or -1 if no such account or unreadable. */
int	account_creds(const char *bare_jid, struct sasl_creds *out);
/* Create the account or set its password (create: fails with -1 if it
 * exists; set: fails if it does not).  0 on success. */
int	account_create(const char *bare_jid, const char *password);
int	account_set_password(const char *bare_jid, const char *password);
/* Is bare_jid a service administrator: listed in `admins` (config.h) or
 * made one by an admin invite (invite.h's role record)?  The one check
 * every module uses. */
int	account_is_admin(const char *bare_jid);
/* How many accounts there are. */
size_t	account_count(void);
/* Remove the account and the data kept for it.  0, or -1 if absent. */
int	account_delete(const char *bare_jid);

#endif
