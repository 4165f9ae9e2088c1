/*
 * ratelimit.c - per-address counts and token buckets (ratelimit.h).
 *
 * One hash table of addresses, keyed by their text: "192.0.2.1",
 * "2001:db8::1", and "2001:db8::/64" for the IPv6 network a connection
 * also counts against.  An entry lives while it counts connections or
 * remembers recent authentication failures; ratelimit_expire() (the
 * server's 1 s tick) drops the rest.  Exempt addresses have no entry.
 * Connections are bounded by max_clients, so only failure entries need
 * the cap RATELIMIT_MAX_ADDRS: past it a new address's failures are not
 * remembered (the server keeps working; the limit is then per stream).
 */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "htab.h"
#include "log.h"
#include "uxlimits.h"

#define RL_KEY_MAX	52	/* INET6_ADDRSTRLEN + "/64" */
#define RL_AUTH_WINDOW_MS	60000

struct rl_entry {
	struct hnode	 node;
	char		 key[RL_KEY_MAX];
	unsigned	 conns;
	unsigned	 preauth;
	unsigned	 has_auth:1;	/* auth holds failures */
	unsigned	 unlogged;	/* refusals not logged */
	int64_t		 logged_ms;	/* the last refusal logged */
	struct rl_bucket auth;
};

static struct htab addrs;
static struct rl_limits limits;
static int full_logged;

static const unsigned char v4_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* ---- addresses ---- */

void
rl_addr_set(struct rl_addr *a, const void *bytes, size_t len)
{
	memset(a, 0, sizeof(*a));
	if (len == 4) {
		memcpy(a->b, v4_mapped, sizeof(v4_mapped));
		memcpy(a->b + 12, bytes, 4);
	} else if (len == 16) {
		memcpy(a->b, bytes, 16);
	}
}

int
rl_addr_is_v4(const struct rl_addr *a)
{
	return memcmp(a->b, v4_mapped, sizeof(v4_mapped)) == 0;
}

void
rl_addr_format(const struct rl_addr *a, char *out, size_t cap)
{
	const char *ok;

	if (rl_addr_is_v4(a)) {
		ok = inet_ntop(AF_INET, a->b + 12, out, (socklen_t)cap);
	} else {
		ok = inet_ntop(AF_INET6, a->b, out, (socklen_t)cap);
	}
	if (ok == NULL && cap > 0) {
		snprintf(out, cap, "?");
	}
}

int
rl_prefix_parse(const char *text, struct rl_prefix *out)
{
	char host[RL_KEY_MAX];
	unsigned char bytes[16];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long bits;
	char *end;
	int v4;

	if (hlen == 0 || hlen >= sizeof(host)) {
		return -1;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, bytes) == 1) {
		v4 = 1;
	} else if (inet_pton(AF_INET6, host, bytes) == 1) {
		v4 = 0;
	} else {
		return -1;
	}
	bits = v4 ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9') {
			return -1;
		}
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > (v4 ? 32u : 128u)) {
			return -1;
		}
	}
	rl_addr_set(&out->addr, bytes, v4 ? 4 : 16);
	out->bits = (unsigned)bits + (v4 ? 96 : 0);
	return 0;
}

int
rl_prefix_match(const struct rl_prefix *p, const struct rl_addr *a)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;
	unsigned char mask;

	if (memcmp(p->addr.b, a->b, full) != 0) {
		return 0;
	}
	if (rest == 0) {
		return 1;
	}
	mask = (unsigned char)(0xff << (8 - rest));
	return (p->addr.b[full] & mask) == (a->b[full] & mask);
}

/* ---- token buckets ---- */

static void
rl_refill(struct rl_bucket *b, const struct rl_rate *r, int64_t now_ms)
{
	int64_t full = (int64_t)r->burst * r->window_ms;

	if (now_ms > b->last_ms) {
		b->level += (now_ms - b->last_ms) * (int64_t)r->count;
		b->last_ms = now_ms;
	}
	if (b->level > full) {
		b->level = full;
	}
}

void
rl_bucket_init(struct rl_bucket *b, const struct rl_rate *r, int64_t now_ms)
{
	b->level = (int64_t)r->burst * r->window_ms;
	b->last_ms = now_ms;
}

/* Milliseconds until the level reaches want (in bucket units). */
static int64_t
rl_until(const struct rl_bucket *b, const struct rl_rate *r, int64_t want)
{
	if (b->level >= want || r->count == 0) {
		return 0;
	}
	return (want - b->level + r->count - 1) / r->count;
}

int64_t
rl_bucket_take(struct rl_bucket *b, const struct rl_rate *r, unsigned n,
    int64_t now_ms)
{
	int64_t full = (int64_t)r->burst * r->window_ms;

	if (r->count == 0) {
		return 0;
	}
	rl_refill(b, r, now_ms);
	b->level -= (int64_t)n * r->window_ms;
	if (b->level < -full) {
		b->level = -full;
	}
	return rl_until(b, r, 0);
}

int64_t
rl_bucket_wait_ms(struct rl_bucket *b, const struct rl_rate *r,
    int64_t now_ms)
{
	rl_refill(b, r, now_ms);
	return rl_until(b, r, (int64_t)r->window_ms);
}

/* ---- per-address entries ---- */

static void
rl_key_ip(const struct rl_addr *a, char key[RL_KEY_MAX])
{
	rl_addr_format(a, key, RL_KEY_MAX);
}

/* The /64 of an IPv6 address, "2001:db8:1:2::/64". */
static void
rl_key_net(const struct rl_addr *a, char key[RL_KEY_MAX])
{
	struct rl_addr net = *a;

	memset(net.b + 8, 0, 8);
	rl_addr_format(&net, key, RL_KEY_MAX - 4);
	strcat(key, "/64");
}

static struct rl_entry *
rl_find(const char *key)
{
	struct hnode *n = htab_find(&addrs, key, strlen(key));

	return n != NULL ? HTAB_ENTRY(n, struct rl_entry, node) : NULL;
}

static struct rl_entry *
rl_get(const char *key)
{
	struct rl_entry *e = rl_find(key);

	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
		htab_add(&addrs, &e->node, e->key);
	}
	return e;
}

static void
rl_drop_if_unused(struct rl_entry *e)
{
	if (e != NULL && e->conns == 0 && e->preauth == 0 && !e->has_auth) {
		htab_del(&addrs, &e->node);
		free(e);
	}
}

static const struct rl_rate *
rl_auth_rate(void)
{
	static struct rl_rate r;

	r.count = limits.auth_failures_per_min;
	r.window_ms = RL_AUTH_WINDOW_MS;
	r.burst = limits.auth_failures_per_min;
	return &r;
}

void
ratelimit_configure(const struct rl_limits *l)
{
	limits = *l;
}

int
ratelimit_exempt(const struct rl_addr *a)
{
	size_t i;

	for (i = 0; i < limits.nexempt; i++) {
		if (rl_prefix_match(&limits.exempt[i], a)) {
			return 1;
		}
	}
	return 0;
}

const char *
ratelimit_verdict_name(enum rl_verdict v)
{
	switch (v) {
	case RL_CONNS_PER_IP:
		return "max_connections_per_ip";
	case RL_CONNS_PER_NET:
		return "max_connections_per_ipv6_64";
	case RL_PREAUTH_PER_IP:
		return "max_preauth_per_ip";
	default:
		return "none";
	}
}

enum rl_verdict
ratelimit_conn_open(const struct rl_addr *a, int *counted)
{
	char key[RL_KEY_MAX], netkey[RL_KEY_MAX];
	struct rl_entry *ip, *net = NULL;

	*counted = 0;
	if (ratelimit_exempt(a)) {
		return RL_OK;
	}
	rl_key_ip(a, key);
	ip = rl_find(key);
	if (ip != NULL && limits.conns_per_ip > 0 &&
	    ip->conns >= limits.conns_per_ip) {
		return RL_CONNS_PER_IP;
	}
	if (ip != NULL && limits.preauth_per_ip > 0 &&
	    ip->preauth >= limits.preauth_per_ip) {
		return RL_PREAUTH_PER_IP;
	}
	if (!rl_addr_is_v4(a)) {
		rl_key_net(a, netkey);
		net = rl_find(netkey);
		if (net != NULL && limits.conns_per_ipv6_64 > 0 &&
		    net->conns >= limits.conns_per_ipv6_64) {
			return RL_CONNS_PER_NET;
		}
		net = rl_get(netkey);
		net->conns++;
	}
	ip = rl_get(key);
	ip->conns++;
	ip->preauth++;
	*counted = 1;
	return RL_OK;
}

int
ratelimit_refusal_log(const struct rl_addr *a, enum rl_verdict v,
    int64_t now_ms, unsigned *unlogged)
{
	char key[RL_KEY_MAX];
	struct rl_entry *e;

	*unlogged = 0;
	if (v == RL_CONNS_PER_NET) {
		rl_key_net(a, key);
	} else {
		rl_key_ip(a, key);
	}
	e = rl_find(key);
	if (e == NULL) {
		return 1;	/* not refused by a count we hold */
	}
	if (e->logged_ms != 0 && now_ms - e->logged_ms < 1000) {
		e->unlogged++;
		return 0;
	}
	e->logged_ms = now_ms;
	*unlogged = e->unlogged;
	e->unlogged = 0;
	return 1;
}

void
ratelimit_conn_authenticated(const struct rl_addr *a)
{
	char key[RL_KEY_MAX];
	struct rl_entry *e;

	rl_key_ip(a, key);
	e = rl_find(key);
	if (e != NULL && e->preauth > 0) {
		e->preauth--;
	}
}

void
ratelimit_conn_close(const struct rl_addr *a, int preauth)
{
	char key[RL_KEY_MAX];
	struct rl_entry *e;

	rl_key_ip(a, key);
	e = rl_find(key);
	if (e != NULL) {
		if (e->conns > 0) {
			e->conns--;
		}
		if (preauth && e->preauth > 0) {
			e->preauth--;
		}
		rl_drop_if_unused(e);
	}
	if (!rl_addr_is_v4(a)) {
		rl_key_net(a, key);
		e = rl_find(key);
		if (e != NULL && e->conns > 0) {
			e->conns--;
		}
		rl_drop_if_unused(e);
	}
}

void
ratelimit_auth_failed(const struct rl_addr *a, int64_t now_ms)
{
	char key[RL_KEY_MAX];
	struct rl_entry *e;

	if (limits.auth_failures_per_min == 0 || ratelimit_exempt(a)) {
		return;
	}
	rl_key_ip(a, key);
	e = rl_find(key);
	if (e == NULL) {
		if (addrs.count >= RATELIMIT_MAX_ADDRS) {
			if (!full_logged) {
				log_warn("ratelimit: %d addresses tracked; "
				    "failures of new ones not counted",
				    RATELIMIT_MAX_ADDRS);
				full_logged = 1;
			}
			return;
		}
		e = rl_get(key);
	}
	if (!e->has_auth) {
		rl_bucket_init(&e->auth, rl_auth_rate(), now_ms);
		e->has_auth = 1;
	}
	rl_bucket_take(&e->auth, rl_auth_rate(), 1, now_ms);
}

int
ratelimit_auth_blocked(const struct rl_addr *a, int64_t now_ms)
{
	char key[RL_KEY_MAX];
	struct rl_entry *e;

	if (limits.auth_failures_per_min == 0 || ratelimit_exempt(a)) {
		return 0;
	}
	rl_key_ip(a, key);
	e = rl_find(key);
	return e != NULL && e->has_auth &&
	    rl_bucket_wait_ms(&e->auth, rl_auth_rate(), now_ms) > 0;
}

void
ratelimit_expire(int64_t now_ms)
{
	struct hnode *n, *next;
	struct rl_entry *e;
	size_t pos;
	int64_t full = (int64_t)limits.auth_failures_per_min *
	    RL_AUTH_WINDOW_MS;

	for (n = htab_first(&addrs, &pos); n != NULL; n = next) {
		next = htab_next(&addrs, n, &pos);
		e = HTAB_ENTRY(n, struct rl_entry, node);
		if (e->has_auth) {
			rl_refill(&e->auth, rl_auth_rate(), now_ms);
			if (e->auth.level >= full) {
				e->has_auth = 0;	/* all forgiven */
			}
		}
		rl_drop_if_unused(e);
	}
	if (addrs.count < RATELIMIT_MAX_ADDRS) {
		full_logged = 0;
	}
}

size_t
ratelimit_tracked(void)
{
	return addrs.count;
}

void
ratelimit_reset(void)
{
	struct hnode *n, *next;
	size_t pos;

	for (n = htab_first(&addrs, &pos); n != NULL; n = next) {
		next = htab_next(&addrs, n, &pos);
		htab_del(&addrs, n);
		free(HTAB_ENTRY(n, struct rl_entry, node));
	}
	htab_clear(&addrs);
	full_logged = 0;
}
