/*
 * caps.h - XEP-0115 entity capabilities: the verification string of a
 * disco#info answer (§5.1), and the server-wide cache of what each
 * verification string stands for.
 *
 * An entry is named by "node#ver" from a <c/> element.  It starts
 * unknown; the first disco#info answer whose hash matches the ver makes
 * it known for everyone (§5.4: verified answers only).  An answer that
 * does not match stays with the one resource that sent it, as a private
 * entry outside the cache.  Of the features, only what PEP asks is kept:
 * which nodes the entity wants notifications of (NODE+notify, XEP-0163
 * §4.3).
 */
#ifndef UXMPPD_CAPS_H
#define UXMPPD_CAPS_H

#include <stddef.h>

#include "xml.h"

struct caps_entry;

/* The cached entry for key ("node#ver"), created unknown if absent; the
 * caller holds a reference.  When CAPS_MAX_ENTRIES entries are held,
 * an unreferenced one is dropped first; if none can be, NULL. */
struct caps_entry *caps_ref(const char *key);
/* Drop a reference (NULL is fine); an unknown or private entry nobody
 * holds is freed. */
void	caps_unref(struct caps_entry *e);
/* Has an answer given e its features? */
int	caps_known(const struct caps_entry *e);
/* e's key.  Borrowed. */
const char *caps_key(const struct caps_entry *e);

/*
 * query (a disco#info <query/> result) answers e, whose <c/> named hash
 * algorithm alg ("sha-1" or "sha-256").  If its verification string is
 * e's ver, e becomes known and is returned with a new reference; if not,
 * a new private entry with the answer's features is returned instead
 * (one reference, the caller's).  An already known e is returned as is
 * (a new reference).
 */
struct caps_entry *caps_answer(struct caps_entry *e, const char *alg,
	    const struct xml_node *query);
/* Does the entity want notifications of pubsub node (NODE+notify)? */
int	caps_wants(const struct caps_entry *e, const char *node);

/*
 * The §5.1 verification string of query with alg, base64, into out.
 * 0, or -1 for an unknown algorithm, a duplicate identity or feature
 * (§5.4 item 3), too many of them, or out too small.
 */
int	caps_ver(const struct xml_node *query, const char *alg, char *out,
	    size_t cap);

/* Free every entry (shutdown; references become invalid). */
void	caps_clear(void);

#endif
