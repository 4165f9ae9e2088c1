/*
 * htab.h - one chained hash table of string keys for the whole server.
 *
 * Intrusive: the caller's struct embeds a struct hnode and owns the key
 * string, which must stay put while the node is in a table.  The table
 * grows itself (load factor 1) and frees only its bucket array.
 */
#ifndef UXMPPD_HTAB_H
#define UXMPPD_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode	*next;
	const char	*key;
	size_t		 key_len;
	uint32_t	 hash;
};

struct htab {
	struct hnode	**buckets;
	size_t		 nbuckets;
	size_t		 count;
};

/* The struct of type that embeds node as member. */
#define HTAB_ENTRY(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* The node whose key is the len bytes at key, or NULL. */
struct hnode *htab_find(const struct htab *t, const char *key, size_t len);
/* Add n under key (NUL-terminated, borrowed).  Keys must be unique. */
void	htab_add(struct htab *t, struct hnode *n, const char *key);
/* Take n out of the table. */
void	htab_del(struct htab *t, struct hnode *n);
/*
 * Walk every node: for (n = htab_first(t, &pos); n; n = htab_next(t, n,
 * &pos)).  The current node may be deleted only if the next one was
 * fetched first.
 */
struct hnode *htab_first(const struct htab *t, size_t *pos);
struct hnode *htab_next(const struct htab *t, const struct hnode *n,
	    size_t *pos);
/* Free the bucket array (the nodes are the caller's); empty again. */
void	htab_clear(struct htab *t);

#endif
