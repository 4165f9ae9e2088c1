/* htab.c - chained hash table of string keys (FNV-1a). */
#include "htab.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static uint32_t
htab_hash(const char *key, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	}
	return h;
}

struct hnode *
htab_find(const struct htab *t, const char *key, size_t len)
{
	uint32_t h;
	struct hnode *n;

	if (t->nbuckets == 0) {
		return NULL;
	}
	h = htab_hash(key, len);
	for (n = t->buckets[h & (t->nbuckets - 1)]; n != NULL; n = n->next) {
		if (n->hash == h && n->key_len == len &&
		    memcmp(n->key, key, len) == 0) {
			return n;
		}
	}
	return NULL;
}

static void
htab_grow(struct htab *t)
{
	size_t i, size = t->nbuckets ? t->nbuckets * 2 : 64;
	struct hnode **nb = xcalloc(size, sizeof(*nb));
	struct hnode *n, *next;

	for (i = 0; i < t->nbuckets; i++) {
		for (n = t->buckets[i]; n != NULL; n = next) {
			next = n->next;
			n->next = nb[n->hash & (size - 1)];
			nb[n->hash & (size - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = size;
}

void
htab_add(struct htab *t, struct hnode *n, const char *key)
{
	struct hnode **b;

	if (t->count + 1 > t->nbuckets) {
		htab_grow(t);
	}
	n->key = key;
	n->key_len = strlen(key);
	n->hash = htab_hash(key, n->key_len);
	b = &t->buckets[n->hash & (t->nbuckets - 1)];
	n->next = *b;
	*b = n;
	t->count++;
}

void
htab_del(struct htab *t, struct hnode *n)
{
	struct hnode **pp;

	if (t->nbuckets == 0) {
		return;
	}
	for (pp = &t->buckets[n->hash & (t->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			t->count--;
			return;
		}
	}
}

struct hnode *
htab_first(const struct htab *t, size_t *pos)
{
	for (*pos = 0; *pos < t->nbuckets; (*pos)++) {
		if (t->buckets[*pos] != NULL) {
			return t->buckets[*pos];
		}
	}
	return NULL;
}

struct hnode *
htab_next(const struct htab *t, const struct hnode *n, size_t *pos)
{
	if (n->next != NULL) {
		return n->next;
	}
	for ((*pos)++; *pos < t->nbuckets; (*pos)++) {
		if (t->buckets[*pos] != NULL) {
			return t->buckets[*pos];
		}
	}
	return NULL;
}

void
htab_clear(struct htab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}
