/*
 * test_resolver.c - resolver.c from memory: resolv.conf parsing, a query
 * answered, replies that are not ours ignored (id, server, question), a
 * try timed out or refused moving to the next server, lookups out of
 * tries, the cache (hits, TTL expiry, NXDOMAIN by the SOA's TTL, TTL 0
 * not kept), cancelling, callbacks that start new lookups, and the
 * pending cap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"
#include "tests/check.h"
#include "tests/dns_msg.h"

struct result {
	int		 calls;
	enum dns_status	 status;
	size_t		 n;
	unsigned char	 first_addr[4];
	uint16_t	 first_port;
};

static void
on_result(void *ud, enum dns_status status,
    const struct dns_record *const *ans, size_t n)
{
	struct result *res = ud;

	res->calls++;
	res->status = status;
	res->n = n;
	if (n > 0) {
		memcpy(res->first_addr, ans[0]->addr, 4);
		res->first_port = ans[0]->port;
	}
}

static uint32_t
counter_rnd(void *ud)
{
	uint32_t *s = ud;

	return *s += 0x9e37;
}

static uint32_t seed;
static struct dns_reply scratch;
static unsigned char dgram[512];
static size_t dgram_len, dgram_server;

/* The next datagram the resolver wants sent, or 0. */
static size_t
take(struct resolver *r, uint64_t now)
{
	dgram_len = resolver_next_datagram(r, dgram, sizeof(dgram),
	    &dgram_server, now);
	return dgram_len;
}

/* An A reply to the datagram just taken: one address, ttl. */
static void
a_reply(struct msg *m, const char *name, unsigned rcode, uint32_t ttl)
{
	static const unsigned char ip[4] = { 192, 0, 2, 9 };
	unsigned id = (unsigned)(dgram[0] << 8 | dgram[1]);

	m_header(m, id, rcode, 1, rcode == 0 ? 1 : 0, 0, 0);
	m_question(m, name, DNS_TYPE_A);
	if (rcode == 0) {
		m_a(m, name, ip, ttl);
	}
}

static struct resolver *
two_servers(void)
{
	struct resolver_config cfg;

	resolver_conf_parse("nameserver 192.0.2.53\nnameserver 2001:db8::53\n"
	    "options timeout:1 attempts:2\n", &cfg);
	return resolver_new(&cfg, counter_rnd, &seed);
}

static void
test_conf(void)
{
	struct resolver_config cfg;

	CHECK(resolver_conf_parse("# comment\n; another\n"
	    "search example.org\nnameserver 10.0.0.1\n"
	    "nameserver\tfe80::1\n nameserver 10.0.0.3 # trailing\n"
	    "nameserver 10.0.0.4\nnameserver not-an-address\n"
	    "options ndots:2 timeout:3 attempts:4 rotate\n", &cfg) == 3);
	CHECK_STR(cfg.servers[0], "10.0.0.1");
	CHECK_STR(cfg.servers[1], "fe80::1");
	CHECK_STR(cfg.servers[2], "10.0.0.3");
	CHECK(cfg.timeout_ms == 3000 && cfg.attempts == 4);
	CHECK(resolver_conf_parse("", &cfg) == 0);
	CHECK(cfg.timeout_ms == 2000 && cfg.attempts == 2);
	CHECK(resolver_conf_parse("options timeout:0 attempts:99\n"
	    "nameserver 1.2.3.4", &cfg) == 1);	/* no final newline */
	CHECK(cfg.timeout_ms == 2000 && cfg.attempts == 2);
}

static void
test_answer_and_cache(void)
{
	struct resolver *r = two_servers();
	struct result res = { 0 }, res2 = { 0 }, res3 = { 0 };
	struct msg m;
	enum dns_status st;
	unsigned h;

	h = resolver_query(r, "XMPP.Example.org.", DNS_TYPE_A, on_result, &res,
	    1000);
	CHECK(h != 0);
	CHECK(take(r, 1000) > 0 && dgram_server == 0);
	/* what went out is our question: with QR set it parses as an empty
	 * answer to it */
	memcpy(m.b, dgram, dgram_len);
	m.b[2] |= 0x80;
	st = dns_reply_parse(m.b, dgram_len, (uint16_t)(dgram[0] << 8 |
	    dgram[1]), "xmpp.example.org", DNS_TYPE_A, &scratch);
	CHECK(st == DNS_OK && scratch.nrecords == 0);
	CHECK(take(r, 1000) == 0);	/* one try out at a time */
	CHECK(resolver_next_ms(r, 1000) == 1000);
	/* replies that are not ours: another server, another id, another
	 * name */
	a_reply(&m, "xmpp.example.org", 0, 300);
	resolver_input(r, 1, m.b, m.len, 1010);
	m.b[1] ^= 1;
	resolver_input(r, 0, m.b, m.len, 1010);
	a_reply(&m, "evil.example.org", 0, 300);
	resolver_input(r, 0, m.b, m.len, 1010);
	CHECK(res.calls == 0);
	a_reply(&m, "xmpp.example.org", 0, 300);
	resolver_input(r, 0, m.b, m.len, 1020);
	CHECK(res.calls == 1 && res.status == DNS_OK && res.n == 1);
	CHECK(res.first_addr[0] == 192 && res.first_addr[3] == 9);
	/* a duplicate of the reply changes nothing */
	resolver_input(r, 0, m.b, m.len, 1030);
	CHECK(res.calls == 1);
	CHECK(resolver_next_ms(r, 1030) == -1);

	/* the same name again: from the cache, at the next run, no query */
	CHECK(resolver_query(r, "xmpp.example.org", DNS_TYPE_A, on_result,
	    &res2, 2000) != 0);
	CHECK(res2.calls == 0);
	CHECK(take(r, 2000) == 0);
	CHECK(resolver_next_ms(r, 2000) == 0);
	resolver_run(r, 2000);
	CHECK(res2.calls == 1 && res2.status == DNS_OK && res2.n == 1);
	/* after its TTL (300 s from 1.02 s), asked again */
	CHECK(resolver_query(r, "xmpp.example.org", DNS_TYPE_A, on_result,
	    &res3, 301100) != 0);
	resolver_run(r, 301100);
	CHECK(res3.calls == 0);
	CHECK(take(r, 301100) > 0);
	resolver_free(r);	/* pending: no callback */
	CHECK(res3.calls == 0);
}

static void
test_retries(void)
{
	struct resolver *r = two_servers();
	struct result res = { 0 };
	struct msg m;

	resolver_query(r, "slow.example", DNS_TYPE_A, on_result, &res, 0);
	CHECK(take(r, 0) > 0 && dgram_server == 0);
	resolver_run(r, 999);
	CHECK(take(r, 999) == 0);	/* not yet */
	resolver_run(r, 1000);
	CHECK(take(r, 1000) > 0 && dgram_server == 1);
	/* SERVFAIL from server 1: on to server 0 at once */
	a_reply(&m, "slow.example", 2, 0);
	resolver_input(r, 1, m.b, m.len, 1100);
	CHECK(res.calls == 0);
	CHECK(take(r, 1100) > 0 && dgram_server == 0);
	/* a late answer to the first try (its id is gone) is ignored */
	resolver_run(r, 2100);
	CHECK(take(r, 2100) > 0 && dgram_server == 1);	/* 4th and last */
	resolver_run(r, 3099);
	CHECK(res.calls == 0);
	resolver_run(r, 3100);
	CHECK(res.calls == 1 && res.status == DNS_SERVFAIL);	/* last error */
	CHECK(resolver_next_ms(r, 3100) == -1);

	/* nobody answers at all: DNS_TIMEOUT after 4 tries */
	memset(&res, 0, sizeof(res));
	resolver_query(r, "void.example", DNS_TYPE_AAAA, on_result, &res, 0);
	CHECK(take(r, 0) > 0);
	resolver_run(r, 1000);
	CHECK(take(r, 1000) > 0);
	resolver_run(r, 2000);
	CHECK(take(r, 2000) > 0);
	resolver_run(r, 3000);
	CHECK(take(r, 3000) > 0);
	CHECK(take(r, 3000) == 0);
	resolver_run(r, 4000);
	CHECK(res.calls == 1 && res.status == DNS_TIMEOUT);

	/* a truncated answer moves on too (no TCP yet) */
	memset(&res, 0, sizeof(res));
	resolver_query(r, "big.example", DNS_TYPE_A, on_result, &res, 0);
	CHECK(take(r, 0) > 0);
	a_reply(&m, "big.example", 0, 60);
	m.b[2] |= 0x02;
	resolver_input(r, dgram_server, m.b, m.len, 10);
	CHECK(res.calls == 0);
	CHECK(take(r, 10) > 0 && dgram_server == 1);
	a_reply(&m, "big.example", 0, 60);
	resolver_input(r, 1, m.b, m.len, 20);
	CHECK(res.calls == 1 && res.status == DNS_OK);
	resolver_free(r);
}

static void
test_negative_and_ttl0(void)
{
	struct resolver *r = two_servers();
	struct result res = { 0 }, again = { 0 };
	struct msg m;
	size_t rd;

	resolver_query(r, "gone.example", DNS_TYPE_A, on_result, &res, 0);
	CHECK(take(r, 0) > 0);
	m_header(&m, (unsigned)(dgram[0] << 8 | dgram[1]), 3, 1, 0, 1, 0);
	m_question(&m, "gone.example", DNS_TYPE_A);
	m_name(&m, "example");
	rd = m_rr(&m, DNS_TYPE_SOA, 3600);
	m_name(&m, "ns.example");
	m_name(&m, "hostmaster.example");
	m_u32(&m, 1);
	m_u32(&m, 7200);
	m_u32(&m, 900);
	m_u32(&m, 86400);
	m_u32(&m, 30);		/* MINIMUM: kept 30 s */
	m_rd_end(&m, rd);
	resolver_input(r, dgram_server, m.b, m.len, 0);
	CHECK(res.calls == 1 && res.status == DNS_NXDOMAIN && res.n == 0);
	resolver_query(r, "gone.example", DNS_TYPE_A, on_result, &again,
	    29000);
	resolver_run(r, 29000);
	CHECK(again.calls == 1 && again.status == DNS_NXDOMAIN);
	memset(&again, 0, sizeof(again));
	resolver_query(r, "gone.example", DNS_TYPE_A, on_result, &again,
	    30000);
	resolver_run(r, 30000);
	CHECK(again.calls == 0 && take(r, 30000) > 0);
	resolver_free(r);

	/* TTL 0: used once, not kept */
	r = two_servers();
	memset(&res, 0, sizeof(res));
	resolver_query(r, "zero.example", DNS_TYPE_A, on_result, &res, 0);
	CHECK(take(r, 0) > 0);
	a_reply(&m, "zero.example", 0, 0);
	resolver_input(r, dgram_server, m.b, m.len, 0);
	CHECK(res.calls == 1 && res.n == 1);
	memset(&res, 0, sizeof(res));
	resolver_query(r, "zero.example", DNS_TYPE_A, on_result, &res, 1);
	resolver_run(r, 1);
	CHECK(res.calls == 0 && take(r, 1) > 0);
	resolver_free(r);
}

/* A callback that looks the next name up, and one that cancels. */
struct chain {
	struct resolver	*r;
	int		 calls;
	unsigned	 cancel;
};

static void
chain_cb(void *ud, enum dns_status status,
    const struct dns_record *const *ans, size_t n)
{
	struct chain *c = ud;

	(void)status;
	(void)ans;
	(void)n;
	c->calls++;
	if (c->calls == 1) {
		resolver_query(c->r, "next.example", DNS_TYPE_A, chain_cb, c,
		    0);
	}
	if (c->cancel != 0) {
		resolver_cancel(c->r, c->cancel);
		c->cancel = 0;
	}
}

static void
test_callbacks_and_limits(void)
{
	struct resolver *r = two_servers();
	struct resolver_config none;
	struct result res = { 0 }, other = { 0 };
	struct chain c = { r, 0, 0 };
	struct msg m;
	unsigned h;
	int i, accepted = 0;

	resolver_query(r, "first.example", DNS_TYPE_A, chain_cb, &c, 0);
	h = resolver_query(r, "cancelled.example", DNS_TYPE_A, on_result,
	    &other, 0);
	c.cancel = h;
	CHECK(take(r, 0) > 0);
	a_reply(&m, "first.example", 0, 60);
	resolver_input(r, dgram_server, m.b, m.len, 0);
	CHECK(c.calls == 1);
	/* the cancelled one's try was never sent; the chained one is */
	CHECK(take(r, 0) > 0);
	a_reply(&m, "next.example", 0, 60);
	resolver_input(r, dgram_server, m.b, m.len, 0);
	CHECK(c.calls == 2 && other.calls == 0);
	CHECK(take(r, 0) == 0);

	/* cancel a lookup whose try is out: its answer is dropped */
	h = resolver_query(r, "drop.example", DNS_TYPE_A, on_result, &res, 0);
	CHECK(take(r, 0) > 0);
	resolver_cancel(r, h);
	a_reply(&m, "drop.example", 0, 60);
	resolver_input(r, dgram_server, m.b, m.len, 0);
	CHECK(res.calls == 0);

	CHECK(resolver_query(r, "not a name", DNS_TYPE_A, on_result, &res, 0) ==
	    0);
	for (i = 0; i < RESOLVER_MAX_PENDING + 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d.example", i);
		accepted += resolver_query(r, name, DNS_TYPE_A, on_result,
		    &res, 0) != 0;
	}
	CHECK(accepted == RESOLVER_MAX_PENDING);
	resolver_free(r);

	/* no server at all: the lookup times out at the next run */
	resolver_conf_parse("", &none);
	r = resolver_new(&none, counter_rnd, &seed);
	memset(&res, 0, sizeof(res));
	resolver_query(r, "x.example", DNS_TYPE_A, on_result, &res, 0);
	CHECK(take(r, 0) == 0);
	CHECK(resolver_next_ms(r, 0) == 0);
	resolver_run(r, 0);
	CHECK(res.calls == 1 && res.status == DNS_TIMEOUT);
	resolver_free(r);
}

int
main(void)
{
	test_conf();
	test_answer_and_cache();
	test_retries();
	test_negative_and_ttl0();
	test_callbacks_and_limits();
	return check_summary("test_resolver");
}
