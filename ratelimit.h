/*
 * ratelimit.h - the bookkeeping of the rate limits (README "Rate
 * limits"): addresses and prefixes, per-address connection and
 * authentication-failure counts with their expiry, and token buckets.
 *
 * No sockets and no clock of its own: callers pass addresses as bytes
 * and the time in milliseconds, so everything here is unit-tested
 * (tests/test_ratelimit.c).  server.c counts connections at accept and
 * free, c2s.c authentication failures and its input buckets, the MUC its
 * occupants' buckets.
 */
#ifndef UXMPPD_RATELIMIT_H
#define UXMPPD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address; IPv4 as the mapped ::ffff:a.b.c.d. */
struct rl_addr {
	unsigned char	 b[16];
};

/* An address and how many of its leading bits count. */
struct rl_prefix {
	struct rl_addr	 addr;
	unsigned	 bits;		/* 0..128; an IPv4 /n is 96 + n */
};

/* The address from 4 (IPv4) or 16 (IPv6) bytes in network order. */
void	rl_addr_set(struct rl_addr *a, const void *bytes, size_t len);
/* Is a an IPv4 address (mapped)? */
int	rl_addr_is_v4(const struct rl_addr *a);
/* "192.0.2.1" or "2001:db8::1" into out (at least 46 bytes). */
void	rl_addr_format(const struct rl_addr *a, char *out, size_t cap);
/* "192.0.2.1", "2001:db8::1", "10.0.0.0/8" or "2001:db8::/32" (bits
 * counted in the written family).  0, or -1 for anything else. */
int	rl_prefix_parse(const char *text, struct rl_prefix *out);
/* Is a inside p? */
int	rl_prefix_match(const struct rl_prefix *p, const struct rl_addr *a);

/*
 * A token bucket: up to `burst` tokens, refilled at `count` tokens per
 * `window_ms`.  The level is kept in tokens * window_ms so that both a
 * per-second and a per-minute rate stay in integers.  A take may drive
 * the level below zero (debt): input already read is never dropped, the
 * reader waits instead until the debt is repaid.
 */
struct rl_rate {
	unsigned	 count;		/* tokens per window; 0: no limit */
	unsigned	 window_ms;
	unsigned	 burst;		/* the most tokens held */
};

struct rl_bucket {
	int64_t		 level;		/* tokens * window_ms */
	int64_t		 last_ms;	/* of the last refill */
};

/* A full bucket at now_ms. */
void	rl_bucket_init(struct rl_bucket *b, const struct rl_rate *r,
	    int64_t now_ms);
/* Take n tokens at now_ms (after refilling); the debt is bounded by one
 * full bucket.  Returns the milliseconds until the level is back at zero
 * or above: 0 when the bucket held n tokens. */
int64_t	rl_bucket_take(struct rl_bucket *b, const struct rl_rate *r,
	    unsigned n, int64_t now_ms);
/* The milliseconds until at least one token is there (0: now). */
int64_t	rl_bucket_wait_ms(struct rl_bucket *b, const struct rl_rate *r,
	    int64_t now_ms);

/* ---- per-address limits ---- */

struct rl_limits {
	unsigned	 conns_per_ip;		/* 0: no limit */
	unsigned	 conns_per_ipv6_64;	/* 0: no limit */
	unsigned	 preauth_per_ip;	/* 0: no limit */
	unsigned	 auth_failures_per_min;	/* 0: no limit */
	const struct rl_prefix *exempt;		/* never limited */
	size_t		 nexempt;
};

enum rl_verdict {
	RL_OK,
	RL_CONNS_PER_IP,	/* conns_per_ip reached */
	RL_CONNS_PER_NET,	/* conns_per_ipv6_64 reached */
	RL_PREAUTH_PER_IP,	/* preauth_per_ip reached */
};

/* The limits in force from now on (copied; exempt is borrowed until the
 * next call).  Counts already held stay. */
void	ratelimit_configure(const struct rl_limits *l);
/* Is a on the exemption list? */
int	ratelimit_exempt(const struct rl_addr *a);
/* The limit a verdict names, for logs ("per-ip", ...). */
const char *ratelimit_verdict_name(enum rl_verdict v);
/* A new connection from a: RL_OK, or the limit it would pass.  *counted
 * says whether it was counted (as unauthenticated): not when refused or
 * exempt.  Only a counted connection is passed to the next two. */
enum rl_verdict ratelimit_conn_open(const struct rl_addr *a, int *counted);
/* A connection from a was refused with verdict v: should a line be
 * logged now?  At most one a second per address (a flood must not fill
 * the disk); *unlogged is how many refusals went unlogged before this
 * one. */
int	ratelimit_refusal_log(const struct rl_addr *a, enum rl_verdict v,
	    int64_t now_ms, unsigned *unlogged);
/* The counted connection from a authenticated: no longer pre-auth. */
void	ratelimit_conn_authenticated(const struct rl_addr *a);
/* A counted connection is gone; preauth: it never authenticated. */
void	ratelimit_conn_close(const struct rl_addr *a, int preauth);
/* An authentication failure from a. */
void	ratelimit_auth_failed(const struct rl_addr *a, int64_t now_ms);
/* Has a used up its failures for now?  Then further attempts are
 * refused (each one counted as a failure, so a guesser that keeps
 * trying stays refused). */
int	ratelimit_auth_blocked(const struct rl_addr *a, int64_t now_ms);
/* Forget addresses with nothing counted and no recent failure. */
void	ratelimit_expire(int64_t now_ms);
/* Addresses tracked (tests, logs). */
size_t	ratelimit_tracked(void);
/* Forget everything (tests, shutdown). */
void	ratelimit_reset(void);

#endif
