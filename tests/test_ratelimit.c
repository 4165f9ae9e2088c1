/*
 * test_ratelimit.c - ratelimit.c: prefixes, token buckets, per-address
 * connection, pre-auth and authentication-failure counts and expiry.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"
#include "tests/check.h"

static struct rl_addr
addr(const char *text)
{
	struct rl_prefix p;

	memset(&p, 0, sizeof(p));
	CHECK(rl_prefix_parse(text, &p) == 0);
	return p.addr;
}

static void
test_prefixes(void)
{
	struct rl_prefix p;
	struct rl_addr a;
	char out[64];

	CHECK(rl_prefix_parse("127.0.0.1", &p) == 0 && p.bits == 128);
	a = addr("127.0.0.1");
	CHECK(rl_prefix_match(&p, &a));
	a = addr("127.0.0.2");
	CHECK(!rl_prefix_match(&p, &a));
	CHECK(rl_prefix_parse("10.0.0.0/8", &p) == 0 && p.bits == 104);
	a = addr("10.200.3.4");
	CHECK(rl_prefix_match(&p, &a));
	a = addr("11.0.0.1");
	CHECK(!rl_prefix_match(&p, &a));
	CHECK(rl_prefix_parse("2001:db8::/33", &p) == 0 && p.bits == 33);
	a = addr("2001:db8:7fff::1");
	CHECK(rl_prefix_match(&p, &a));
	a = addr("2001:db8:8000::1");
	CHECK(!rl_prefix_match(&p, &a));
	CHECK(rl_prefix_parse("::/0", &p) == 0);
	CHECK(rl_prefix_match(&p, &a));
	/* an IPv4 prefix never matches an IPv6 address and back */
	CHECK(rl_prefix_parse("0.0.0.0/0", &p) == 0);
	CHECK(!rl_prefix_match(&p, &a));
	a = addr("192.0.2.7");
	CHECK(rl_prefix_match(&p, &a));
	CHECK(rl_addr_is_v4(&a));
	rl_addr_format(&a, out, sizeof(out));
	CHECK_STR(out, "192.0.2.7");
	a = addr("2001:DB8::1");
	CHECK(!rl_addr_is_v4(&a));
	rl_addr_format(&a, out, sizeof(out));
	CHECK_STR(out, "2001:db8::1");
	CHECK(rl_prefix_parse("10.0.0.0/33", &p) != 0);
	CHECK(rl_prefix_parse("::/129", &p) != 0);
	CHECK(rl_prefix_parse("10.0.0.0/", &p) != 0);
	CHECK(rl_prefix_parse("10.0.0.0/8x", &p) != 0);
	CHECK(rl_prefix_parse("localhost", &p) != 0);
	CHECK(rl_prefix_parse("", &p) != 0);
	CHECK(rl_prefix_parse("/8", &p) != 0);
}

static void
test_bucket(void)
{
	/* 10 a second, bursts of 5 */
	struct rl_rate r = { 10, 1000, 5 };
	struct rl_rate per_min = { 3, 60000, 3 };
	struct rl_rate off = { 0, 1000, 0 };
	struct rl_bucket b;
	int i;

	rl_bucket_init(&b, &r, 0);
	for (i = 0; i < 5; i++) {
		CHECK(rl_bucket_take(&b, &r, 1, 0) == 0);
	}
	/* the sixth is debt: one token takes 100 ms to come back */
	CHECK(rl_bucket_take(&b, &r, 1, 0) == 100);
	CHECK(rl_bucket_wait_ms(&b, &r, 0) == 200);
	CHECK(rl_bucket_wait_ms(&b, &r, 150) == 50);
	CHECK(rl_bucket_wait_ms(&b, &r, 200) == 0);
	/* refills never pass the burst */
	CHECK(rl_bucket_take(&b, &r, 5, 100000) == 0);
	CHECK(rl_bucket_take(&b, &r, 1, 100000) == 100);
	/* a big take: the debt is at most one bucket (500 ms here) */
	CHECK(rl_bucket_take(&b, &r, 1000, 100000) == 500);
	/* per minute: 3, then 20 s for the next */
	rl_bucket_init(&b, &per_min, 0);
	for (i = 0; i < 3; i++) {
		CHECK(rl_bucket_take(&b, &per_min, 1, 0) == 0);
	}
	CHECK(rl_bucket_wait_ms(&b, &per_min, 0) == 20000);
	CHECK(rl_bucket_wait_ms(&b, &per_min, 19999) == 1);
	CHECK(rl_bucket_wait_ms(&b, &per_min, 20000) == 0);
	/* count 0: no limit */
	rl_bucket_init(&b, &off, 0);
	CHECK(rl_bucket_take(&b, &off, 1000000, 0) == 0);
}

static void
test_connections(void)
{
	struct rl_prefix exempt[2];
	struct rl_limits l;
	struct rl_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");
	struct rl_addr lo = addr("127.0.0.1");
	struct rl_addr v6a = addr("2001:db8:1:2::a"), v6b = addr(
	    "2001:db8:1:2:ffff::b"), v6c = addr("2001:db8:1:3::c");
	int i, counted;

	CHECK(rl_prefix_parse("127.0.0.1", &exempt[0]) == 0);
	CHECK(rl_prefix_parse("::1", &exempt[1]) == 0);
	memset(&l, 0, sizeof(l));
	l.conns_per_ip = 4;
	l.conns_per_ipv6_64 = 6;
	l.preauth_per_ip = 3;
	l.exempt = exempt;
	l.nexempt = 2;
	ratelimit_configure(&l);

	/* pre-auth: three at once, the fourth refused, room again once one
	 * authenticates; then the per-IP count of four */
	for (i = 0; i < 3; i++) {
		CHECK(ratelimit_conn_open(&a, &counted) == RL_OK && counted);
	}
	CHECK(ratelimit_conn_open(&a, &counted) == RL_PREAUTH_PER_IP);
	CHECK(!counted);
	CHECK(ratelimit_conn_open(&b, &counted) == RL_OK && counted);
	ratelimit_conn_authenticated(&a);
	ratelimit_conn_authenticated(&a);
	CHECK(ratelimit_conn_open(&a, &counted) == RL_OK);
	CHECK(ratelimit_conn_open(&a, &counted) == RL_CONNS_PER_IP);
	ratelimit_conn_close(&a, 0);
	CHECK(ratelimit_conn_open(&a, &counted) == RL_OK);
	CHECK(ratelimit_tracked() == 2);
	/* the exempt address is never limited and never tracked */
	for (i = 0; i < 100; i++) {
		CHECK(ratelimit_conn_open(&lo, &counted) == RL_OK);
		CHECK(!counted);
	}
	CHECK(ratelimit_tracked() == 2);
	/* closing everything forgets the addresses */
	ratelimit_conn_close(&a, 0);
	ratelimit_conn_close(&a, 1);
	ratelimit_conn_close(&a, 1);
	CHECK(ratelimit_tracked() == 2);
	ratelimit_conn_close(&a, 1);
	ratelimit_conn_close(&b, 1);
	CHECK(ratelimit_tracked() == 0);

	/* IPv6: 4 per address, 6 per /64 */
	l.preauth_per_ip = 0;
	ratelimit_configure(&l);
	for (i = 0; i < 4; i++) {
		CHECK(ratelimit_conn_open(&v6a, &counted) == RL_OK);
	}
	CHECK(ratelimit_conn_open(&v6a, &counted) == RL_CONNS_PER_IP);
	CHECK(ratelimit_conn_open(&v6b, &counted) == RL_OK);
	CHECK(ratelimit_conn_open(&v6b, &counted) == RL_OK);
	CHECK(ratelimit_conn_open(&v6b, &counted) == RL_CONNS_PER_NET);
	/* another /64 is not affected */
	CHECK(ratelimit_conn_open(&v6c, &counted) == RL_OK);
	ratelimit_conn_close(&v6a, 1);
	CHECK(ratelimit_conn_open(&v6b, &counted) == RL_OK);
	/* one log line a second per address, with the count of the rest */
	{
		unsigned unlogged;

		CHECK(ratelimit_refusal_log(&v6b, RL_CONNS_PER_NET, 5000,
		    &unlogged) && unlogged == 0);
		CHECK(!ratelimit_refusal_log(&v6a, RL_CONNS_PER_NET, 5100,
		    &unlogged));
		CHECK(!ratelimit_refusal_log(&v6b, RL_CONNS_PER_NET, 5999,
		    &unlogged));
		CHECK(ratelimit_refusal_log(&v6a, RL_CONNS_PER_IP, 5999,
		    &unlogged) && unlogged == 0);
		CHECK(ratelimit_refusal_log(&v6b, RL_CONNS_PER_NET, 6000,
		    &unlogged) && unlogged == 2);
	}
	CHECK(strcmp(ratelimit_verdict_name(RL_CONNS_PER_NET),
	    "max_connections_per_ipv6_64") == 0);
	ratelimit_reset();
	CHECK(ratelimit_tracked() == 0);
}

static void
test_auth_failures(void)
{
	struct rl_limits l;
	struct rl_addr a = addr("198.51.100.9"), b = addr("198.51.100.10");
	int i;

	memset(&l, 0, sizeof(l));
	l.auth_failures_per_min = 5;
	ratelimit_configure(&l);
	for (i = 0; i < 5; i++) {
		CHECK(!ratelimit_auth_blocked(&a, 1000));
		ratelimit_auth_failed(&a, 1000);
	}
	CHECK(ratelimit_auth_blocked(&a, 1000));
	CHECK(!ratelimit_auth_blocked(&b, 1000));
	/* one failure comes back every 12 s */
	CHECK(ratelimit_auth_blocked(&a, 1000 + 11999));
	CHECK(!ratelimit_auth_blocked(&a, 1000 + 12000));
	/* a guesser that keeps trying while refused stays refused */
	for (i = 0; i < 100; i++) {
		ratelimit_auth_failed(&a, 20000);
	}
	CHECK(ratelimit_auth_blocked(&a, 20000 + 60000));
	CHECK(!ratelimit_auth_blocked(&a, 20000 + 72000));
	/* expiry forgets it once every failure is forgiven */
	ratelimit_expire(20000 + 72000);
	CHECK(ratelimit_tracked() == 1);
	ratelimit_expire(20000 + 120000 + 1);
	CHECK(ratelimit_tracked() == 0);
	/* 0: no limit, nothing tracked */
	l.auth_failures_per_min = 0;
	ratelimit_configure(&l);
	for (i = 0; i < 100; i++) {
		ratelimit_auth_failed(&b, 0);
	}
	CHECK(!ratelimit_auth_blocked(&b, 0));
	CHECK(ratelimit_tracked() == 0);
}

int
main(void)
{
	test_prefixes();
	test_bucket();
	test_connections();
	test_auth_failures();
	ratelimit_reset();
	return check_summary("ratelimit");
}
