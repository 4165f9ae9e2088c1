/*
 * jid.h - XMPP addresses (RFC 7622): validation, normalization, parts.
 *
 * JIDs are handled as canonical strings "local@domain/resource": local and
 * domain case-folded, each part validated.  Functions that take a
 * "canonical" JID expect the output of jid_canon().
 */
#ifndef UXMPPD_JID_H
#define UXMPPD_JID_H

#include <stddef.h>

#include "uxlimits.h"

/* Views into a JID string; len 0 / ptr NULL when a part is absent. */
struct jid_parts {
	const char	*local;
	size_t		 local_len;
	const char	*domain;
	size_t		 domain_len;
	const char	*resource;
	size_t		 resource_len;
};

/*
 * Validate and normalize in into out (cap bytes, NUL-terminated).
 * Returns 0, or -1 if in is not a valid JID or does not fit.
 */
int	jid_canon(const char *in, char *out, size_t cap);
/* Split a JID (canonical or not) into parts; -1 if malformed. */
int	jid_split(const char *jid, struct jid_parts *out);
/* Length of the bare part (local@domain) of a canonical JID. */
size_t	jid_bare_len(const char *jid);
/* Copy the bare part of jid into out; -1 if it does not fit. */
int	jid_bare(const char *jid, char *out, size_t cap);
/* Resource of a canonical JID, or NULL.  Borrowed from jid. */
const char *jid_resource(const char *jid);
/* Do the two canonical JIDs have the same bare part? */
int	jid_bare_eq(const char *a, const char *b);
/* Copy the domain part of jid into out; -1 if it does not fit. */
int	jid_domain(const char *jid, char *out, size_t cap);
/* Validate/normalize a localpart alone (UsernameCaseMapped); -1 if bad. */
int	jid_local_canon(const char *in, char *out, size_t cap);
/* Validate/normalize a MUC nickname (RFC 7700 / resourcepart rules);
 * -1 if not acceptable as a nick. */
int	jid_nick_canon(const char *in, char *out, size_t cap);
/* Is s[0..len) valid UTF-8 (RFC 3629) without NUL bytes?  1 or 0. */
int	jid_utf8_valid(const char *s, size_t len);

#endif
