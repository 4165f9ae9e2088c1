/*
 * resolver.c - non-blocking DNS lookups with retries and a cache (see
 * resolver.h).
 *
 * A lookup is due to send (its next try goes to server tries % nservers),
 * waiting (a try is out until its deadline), or cached (the answer is in
 * the cache and goes out at the next resolver_run).  A try that times
 * out, or gets SERVFAIL, REFUSED, a malformed or a truncated reply, moves
 * to the next server until attempts rounds are spent; then the lookup
 * ends with the last error seen, or DNS_TIMEOUT.  Replies are matched by
 * server, id and question (dns_reply_parse), so an answer from anywhere
 * else is dropped.
 */
#include "resolver.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define DEFAULT_TIMEOUT_MS	2000
#define DEFAULT_ATTEMPTS	2
#define QUERY_MAX		(12 + DNS_NAME_TEXT_MAX + 2 + 4 + 11)

enum lookup_state { L_SEND, L_WAIT, L_CACHED };

struct lookup {
	struct lookup	*next;
	unsigned	 handle;
	enum lookup_state state;
	char		 name[DNS_NAME_TEXT_MAX + 1];
	uint16_t	 type;
	uint16_t	 id;		/* of the try out */
	size_t		 server;	/* of the try out */
	unsigned	 tries;		/* tries sent */
	uint64_t	 deadline_ms;	/* of the try out */
	enum dns_status	 last_err;	/* DNS_OK: none yet */
	resolver_cb	*cb;
	void		*ud;
};

struct cache_entry {
	char		 name[DNS_NAME_TEXT_MAX + 1];
	uint16_t	 type;
	enum dns_status	 status;	/* DNS_OK or DNS_NXDOMAIN */
	uint64_t	 expires_ms;
	size_t		 n;
	struct dns_record *recs;	/* n answers */
};

struct resolver {
	struct resolver_config cfg;
	uint32_t	(*rnd)(void *);
	void		*rnd_ud;
	struct lookup	*lookups;
	size_t		 npending;
	unsigned	 next_handle;
	struct cache_entry *cache[RESOLVER_CACHE_MAX];
	size_t		 ncache;
	struct dns_reply *scratch;	/* 17 KB: one reply parsed at a time */
};

/* ---- resolv.conf ---- */

/* The next whitespace-separated word of *p into out (cap bytes); its
 * length, 0 at the end of the line. */
static size_t
next_word(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	while (*s != '\0' && *s != '\n' && *s != ' ' && *s != '\t') {
		if (n + 1 < cap) {
			out[n++] = *s;
		}
		s++;
	}
	out[n] = '\0';
	*p = s;
	return n;
}

/* See resolver.h. */
size_t
resolver_conf_parse(const char *text, struct resolver_config *cfg)
{
	const char *p = text;
	char word[64];

	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = DEFAULT_TIMEOUT_MS;
	cfg->attempts = DEFAULT_ATTEMPTS;
	while (*p != '\0') {
		if (next_word(&p, word, sizeof(word)) == 0 || word[0] == '#' ||
		    word[0] == ';') {
			/* empty or a comment */
		} else if (strcmp(word, "nameserver") == 0) {
			if (next_word(&p, word, sizeof(word)) > 0 &&
			    strlen(word) < RESOLVER_ADDR_MAX &&
			    strspn(word, "0123456789abcdefABCDEF.:") ==
			    strlen(word) &&
			    cfg->nservers < RESOLVER_MAX_SERVERS) {
				strcpy(cfg->servers[cfg->nservers++], word);
			}
		} else if (strcmp(word, "options") == 0) {
			while (next_word(&p, word, sizeof(word)) > 0) {
				long v;

				if (strncmp(word, "timeout:", 8) == 0 &&
				    (v = strtol(word + 8, NULL, 10)) > 0 &&
				    v <= 30) {
					cfg->timeout_ms = (unsigned)v * 1000;
				} else if (strncmp(word, "attempts:", 9) == 0 &&
				    (v = strtol(word + 9, NULL, 10)) > 0 &&
				    v <= 5) {
					cfg->attempts = (unsigned)v;
				}
			}
		}
		/* the rest of the line */
		while (*p != '\0' && *p != '\n') {
			p++;
		}
		if (*p == '\n') {
			p++;
		}
	}
	return cfg->nservers;
}

/* ---- the cache ---- */

static struct cache_entry *
cache_find(struct resolver *r, const char *name, uint16_t type,
    uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < r->ncache; i++) {
		struct cache_entry *e = r->cache[i];

		if (e->type == type && e->expires_ms > now_ms &&
		    strcmp(e->name, name) == 0) {
			return e;
		}
	}
	return NULL;
}

static void
cache_drop(struct resolver *r, size_t i)
{
	free(r->cache[i]->recs);
	free(r->cache[i]);
	r->cache[i] = r->cache[--r->ncache];
}

/* Keep an answer for ttl seconds (0: not kept); the same name and type,
 * expired entries and, when full, the one expiring first make room. */
static void
cache_put(struct resolver *r, const char *name, uint16_t type,
    enum dns_status status, const struct dns_record *const *ans, size_t n,
    uint32_t ttl, uint64_t now_ms)
{
	struct cache_entry *e;
	size_t i, soonest = 0;

	if (ttl == 0) {
		return;
	}
	if (ttl > RESOLVER_TTL_MAX) {
		ttl = RESOLVER_TTL_MAX;
	}
	for (i = 0; i < r->ncache;) {
		e = r->cache[i];
		if (e->expires_ms <= now_ms ||
		    (e->type == type && strcmp(e->name, name) == 0)) {
			cache_drop(r, i);
			continue;
		}
		if (e->expires_ms < r->cache[soonest]->expires_ms) {
			soonest = i;
		}
		i++;
	}
	if (r->ncache == RESOLVER_CACHE_MAX) {
		cache_drop(r, soonest);
	}
	e = xcalloc(1, sizeof(*e));
	memcpy(e->name, name, sizeof(e->name));
	e->type = type;
	e->status = status;
	e->expires_ms = now_ms + (uint64_t)ttl * 1000;
	e->n = n;
	e->recs = n > 0 ? xcalloc(n, sizeof(*e->recs)) : NULL;
	for (i = 0; i < n; i++) {
		e->recs[i] = *ans[i];
	}
	r->cache[r->ncache++] = e;
}

/* ---- lookups ---- */

/* See resolver.h. */
struct resolver *
resolver_new(const struct resolver_config *cfg, uint32_t (*rnd)(void *),
    void *rnd_ud)
{
	struct resolver *r = xcalloc(1, sizeof(*r));

	r->cfg = *cfg;
	if (r->cfg.timeout_ms == 0) {
		r->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
	}
	if (r->cfg.attempts == 0) {
		r->cfg.attempts = DEFAULT_ATTEMPTS;
	}
	r->rnd = rnd;
	r->rnd_ud = rnd_ud;
	return r;
}

/* See resolver.h. */
void
resolver_free(struct resolver *r)
{
	struct lookup *l, *next;

	if (r == NULL) {
		return;
	}
	for (l = r->lookups; l != NULL; l = next) {
		next = l->next;
		free(l);
	}
	while (r->ncache > 0) {
		cache_drop(r, 0);
	}
	free(r->scratch);
	free(r);
}

/* See resolver.h. */
unsigned
resolver_query(struct resolver *r, const char *name, uint16_t type,
    resolver_cb *cb, void *ud, uint64_t now_ms)
{
	struct lookup *l, **tail;
	char norm[DNS_NAME_TEXT_MAX + 1];

	if (dns_name_normalize(name, norm, sizeof(norm)) != 0 ||
	    r->npending == RESOLVER_MAX_PENDING) {
		return 0;
	}
	l = xcalloc(1, sizeof(*l));
	memcpy(l->name, norm, sizeof(l->name));
	l->type = type;
	l->cb = cb;
	l->ud = ud;
	if (++r->next_handle == 0) {
		r->next_handle = 1;
	}
	l->handle = r->next_handle;
	l->state = cache_find(r, norm, type, now_ms) != NULL ? L_CACHED :
	    L_SEND;
	/* at the end: lookups are tried and answered in order */
	for (tail = &r->lookups; *tail != NULL; tail = &(*tail)->next) {
	}
	*tail = l;
	r->npending++;
	return l->handle;
}

static void
unlink_lookup(struct resolver *r, struct lookup *l)
{
	struct lookup **pp;

	for (pp = &r->lookups; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			r->npending--;
			return;
		}
	}
}

/* See resolver.h. */
void
resolver_cancel(struct resolver *r, unsigned handle)
{
	struct lookup *l;

	for (l = r->lookups; l != NULL; l = l->next) {
		if (l->handle == handle) {
			unlink_lookup(r, l);
			free(l);
			return;
		}
	}
}

/* End l with status and answers; the callback may start or cancel other
 * lookups, so l is out of the list first. */
static void
finish(struct resolver *r, struct lookup *l, enum dns_status status,
    const struct dns_record *const *ans, size_t n)
{
	resolver_cb *cb = l->cb;
	void *ud = l->ud;

	unlink_lookup(r, l);
	free(l);
	cb(ud, status, ans, n);
}

static void
finish_cached(struct resolver *r, struct lookup *l,
    const struct cache_entry *e)
{
	const struct dns_record *ans[DNS_MAX_RECORDS];
	size_t i;

	for (i = 0; i < e->n && i < DNS_MAX_RECORDS; i++) {
		ans[i] = &e->recs[i];
	}
	finish(r, l, e->status, ans, i);
}

static unsigned
max_tries(const struct resolver *r)
{
	return r->cfg.attempts * (unsigned)r->cfg.nservers;
}

/* See resolver.h. */
size_t
resolver_next_datagram(struct resolver *r, unsigned char *buf, size_t cap,
    size_t *server, uint64_t now_ms)
{
	struct lookup *l;
	int n;

	if (r->cfg.nservers == 0) {
		return 0;	/* resolver_run ends them */
	}
	for (l = r->lookups; l != NULL; l = l->next) {
		if (l->state != L_SEND || l->tries >= max_tries(r)) {
			continue;
		}
		l->id = (uint16_t)r->rnd(r->rnd_ud);
		n = dns_query_build(l->id, l->name, l->type, buf, cap);
		if (n <= 0) {
			return 0;
		}
		l->server = l->tries % r->cfg.nservers;
		l->tries++;
		l->state = L_WAIT;
		l->deadline_ms = now_ms + r->cfg.timeout_ms;
		*server = l->server;
		return (size_t)n;
	}
	return 0;
}

/* The TTL to keep a reply for: the smallest of the records that made
 * the answer, or the negative TTL (RFC 2308 §5) for none. */
static uint32_t
answer_ttl(const struct dns_reply *rep, const struct dns_record *const *ans,
    size_t n)
{
	uint32_t ttl = UINT32_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ans[i]->ttl < ttl) {
			ttl = ans[i]->ttl;
		}
	}
	for (i = 0; i < rep->nrecords; i++) {
		if (rep->records[i].type == DNS_TYPE_CNAME &&
		    rep->records[i].ttl < ttl) {
			ttl = rep->records[i].ttl;
		}
	}
	if (n == 0) {
		ttl = rep->has_negative_ttl ? rep->negative_ttl :
		    RESOLVER_NEGATIVE_TTL;
	}
	return ttl;
}

/* See resolver.h. */
void
resolver_input(struct resolver *r, size_t server, const unsigned char *pkt,
    size_t len, uint64_t now_ms)
{
	const struct dns_record *ans[DNS_MAX_RECORDS];
	struct lookup *l;
	enum dns_status st;
	int n;

	if (len < 2) {
		return;
	}
	if (r->scratch == NULL) {
		r->scratch = xmalloc(sizeof(*r->scratch));
	}
	for (l = r->lookups; l != NULL; l = l->next) {
		if (l->state != L_WAIT || l->server != server ||
		    l->id != (uint16_t)(pkt[0] << 8 | pkt[1])) {
			continue;
		}
		st = dns_reply_parse(pkt, len, l->id, l->name, l->type,
		    r->scratch);
		if (st == DNS_ERR_MISMATCH) {
			continue;	/* same id, another question */
		}
		if (st == DNS_OK || st == DNS_NXDOMAIN) {
			n = st == DNS_OK ? dns_reply_answers(r->scratch, l->name,
			    l->type, ans, DNS_MAX_RECORDS) : 0;
			if (n < 0) {
				finish(r, l, DNS_ERR_FORMAT, NULL, 0);
				return;
			}
			cache_put(r, l->name, l->type, st, ans, (size_t)n,
			    answer_ttl(r->scratch, ans, (size_t)n), now_ms);
			finish(r, l, st, ans, (size_t)n);
			return;
		}
		/* this server cannot help: the next one, at once */
		l->last_err = st;
		if (l->tries >= max_tries(r)) {
			finish(r, l, st, NULL, 0);
		} else {
			l->state = L_SEND;
		}
		return;
	}
}

/* See resolver.h. */
void
resolver_run(struct resolver *r, uint64_t now_ms)
{
	struct lookup *l;
	const struct cache_entry *e;

again:
	for (l = r->lookups; l != NULL; l = l->next) {
		if (l->state == L_CACHED) {
			e = cache_find(r, l->name, l->type, now_ms);
			if (e != NULL) {
				finish_cached(r, l, e);
				goto again;
			}
			l->state = L_SEND;	/* expired meanwhile */
		}
		if ((l->state == L_SEND && r->cfg.nservers == 0) ||
		    (l->state == L_WAIT && now_ms >= l->deadline_ms &&
		    l->tries >= max_tries(r))) {
			finish(r, l, l->last_err != DNS_OK ? l->last_err :
			    DNS_TIMEOUT, NULL, 0);
			goto again;
		}
		if (l->state == L_WAIT && now_ms >= l->deadline_ms) {
			l->state = L_SEND;
		}
	}
}

/* See resolver.h. */
int64_t
resolver_next_ms(const struct resolver *r, uint64_t now_ms)
{
	const struct lookup *l;
	int64_t best = -1, d;

	for (l = r->lookups; l != NULL; l = l->next) {
		if (l->state == L_CACHED ||
		    (l->state == L_SEND && r->cfg.nservers == 0)) {
			return 0;
		}
		if (l->state == L_WAIT) {
			d = l->deadline_ms > now_ms ?
			    (int64_t)(l->deadline_ms - now_ms) : 0;
			if (best < 0 || d < best) {
				best = d;
			}
		}
	}
	return best;
}
