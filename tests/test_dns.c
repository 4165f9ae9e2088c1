/*
 * test_dns.c - the DNS wire format (dns.c): the query bytes, replies with
 * SRV, A, AAAA and CNAME answers built here byte by byte (compressed and
 * not), every way a reply can be for another query, malformed or hostile
 * (pointer loops, forward pointers, long names, short rdata, every
 * truncation), negative TTLs, CNAME chains and loops, and the RFC 2782
 * order of SRV targets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "tests/check.h"
#include "tests/dns_msg.h"

static const char srv_name[] = "_xmpp-server._tcp.example.org";
static struct dns_reply reply;

static enum dns_status
parse(const struct msg *m, const char *qname, unsigned qtype)
{
	return dns_reply_parse(m->b, m->len, 0x4242, qname, (uint16_t)qtype,
	    &reply);
}

static void
test_query(void)
{
	static const unsigned char want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
		12, '_', 'x', 'm', 'p', 'p', '-', 's', 'e', 'r', 'v', 'e', 'r',
		4, '_', 't', 'c', 'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		3, 'o', 'r', 'g', 0, 0, 33, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0,
	};
	unsigned char out[512];
	char name[300];
	int n;

	n = dns_query_build(0x1234, "_XMPP-Server._tcp.Example.ORG.",
	    DNS_TYPE_SRV, out, sizeof(out));
	CHECK(n == (int)sizeof(want));
	CHECK(n > 0 && memcmp(out, want, sizeof(want)) == 0);
	CHECK(dns_query_build(1, "example.org", DNS_TYPE_A, out,
	    sizeof(want) - 19) == -1);	/* one byte short */
	CHECK(dns_query_build(1, "", DNS_TYPE_A, out, sizeof(out)) == -1);
	CHECK(dns_query_build(1, ".", DNS_TYPE_A, out, sizeof(out)) == -1);
	CHECK(dns_query_build(1, "a..b", DNS_TYPE_A, out, sizeof(out)) == -1);
	CHECK(dns_query_build(1, ".a", DNS_TYPE_A, out, sizeof(out)) == -1);
	CHECK(dns_query_build(1, "a b.org", DNS_TYPE_A, out, sizeof(out)) == -1);
	CHECK(dns_query_build(1, "ex!mple.org", DNS_TYPE_A, out,
	    sizeof(out)) == -1);
	/* labels of 63 bytes are fine, 64 are not */
	memset(name, 'a', 63);
	strcpy(name + 63, ".org");
	CHECK(dns_query_build(1, name, DNS_TYPE_A, out, sizeof(out)) > 0);
	memset(name, 'a', 64);
	strcpy(name + 64, ".org");
	CHECK(dns_query_build(1, name, DNS_TYPE_A, out, sizeof(out)) == -1);
	/* 253 text bytes are the most a name can have */
	memset(name, 'a', 253);
	for (n = 63; n < 253; n += 64) {
		name[n] = '.';
	}
	name[253] = '\0';
	CHECK(dns_query_build(1, name, DNS_TYPE_A, out, sizeof(out)) > 0);
	strcat(name, "a");
	CHECK(dns_query_build(1, name, DNS_TYPE_A, out, sizeof(out)) == -1);
}

static void
test_normalize(void)
{
	char out[DNS_NAME_TEXT_MAX + 1];

	CHECK(dns_name_normalize("Example.ORG.", out, sizeof(out)) == 0);
	CHECK_STR(out, "example.org");
	CHECK(dns_name_normalize("xn--bcher-kva.example", out,
	    sizeof(out)) == 0);
	CHECK(dns_name_normalize("example.org", out, 5) == -1);
	CHECK(dns_name_normalize("example..org", out, sizeof(out)) == -1);
	CHECK(dns_name_normalize("example.org..", out, sizeof(out)) == -1);
}

/* A reply of two SRV records (compressed owners) for srv_name. */
static void
build_srv_reply(struct msg *m)
{
	m_header(m, 0x4242, 0, 1, 2, 0, 0);
	m_question(m, "_xmpp-server._tcp.Example.org", DNS_TYPE_SRV);
	m_srv(m, 10, 60, 5269, "xmpp1.example.org");
	m_srv(m, 20, 0, 5270, "XMPP2.example.net");
}

static void
test_srv_reply(void)
{
	const struct dns_record *rec[8];
	struct msg m;
	size_t cut, bad_cuts;

	build_srv_reply(&m);
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_OK);
	CHECK(reply.nrecords == 2);
	CHECK_STR(reply.records[0].name, srv_name);
	CHECK(reply.records[0].priority == 10 && reply.records[0].weight == 60 &&
	    reply.records[0].port == 5269 && reply.records[0].ttl == 300);
	CHECK_STR(reply.records[0].target, "xmpp1.example.org");
	CHECK_STR(reply.records[1].target, "xmpp2.example.net");
	CHECK(dns_reply_answers(&reply, srv_name, DNS_TYPE_SRV, rec, 8) == 2);
	CHECK(dns_reply_answers(&reply, srv_name, DNS_TYPE_SRV, rec, 1) == 1);
	CHECK(dns_reply_answers(&reply, srv_name, DNS_TYPE_A, rec, 8) == 0);
	CHECK(!dns_srv_unavailable((const struct dns_record *const *)rec, 2));
	/* Every strict prefix of it is malformed, never a shorter answer. */
	for (cut = 0, bad_cuts = 0; cut < m.len; cut++) {
		enum dns_status st = dns_reply_parse(m.b, cut, 0x4242,
		    srv_name, DNS_TYPE_SRV, &reply);

		bad_cuts += (st != DNS_ERR_FORMAT && st != DNS_ERR_MISMATCH) ||
		    reply.nrecords != 0;
	}
	CHECK(bad_cuts == 0);
	/* trailing bytes after the counted sections are ignored */
	m_u32(&m, 0xdeadbeef);
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_OK);
	CHECK(reply.nrecords == 2);
}

static void
test_not_ours(void)
{
	struct msg m;

	build_srv_reply(&m);
	CHECK(dns_reply_parse(m.b, m.len, 0x4243, srv_name, DNS_TYPE_SRV,
	    &reply) == DNS_ERR_MISMATCH);
	CHECK(parse(&m, "_xmpp-server._tcp.example.com", DNS_TYPE_SRV) ==
	    DNS_ERR_MISMATCH);
	CHECK(parse(&m, srv_name, DNS_TYPE_A) == DNS_ERR_MISMATCH);
	CHECK(parse(&m, "not a name", DNS_TYPE_SRV) == DNS_ERR_MISMATCH);
	m.b[2] &= 0x7f;		/* QR clear: a query, not a reply */
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_ERR_MISMATCH);
	build_srv_reply(&m);
	m.b[2] |= 0x10;		/* opcode 2 */
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_ERR_MISMATCH);
	build_srv_reply(&m);
	/* question class CH instead of IN */
	m.b[12 + strlen(srv_name) + 2 + 3] = 3;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_ERR_MISMATCH);
	build_srv_reply(&m);
	m.b[5] = 2;		/* two questions */
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_ERR_FORMAT);
}

static void
test_rcodes(void)
{
	struct msg m;
	size_t rd;

	build_srv_reply(&m);
	m.b[2] |= 0x02;		/* TC */
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_TRUNCATED);
	CHECK(reply.nrecords == 0);
	build_srv_reply(&m);
	m.b[3] |= 2;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_SERVFAIL);
	CHECK(reply.nrecords == 0);
	m.b[3] = (m.b[3] & 0xf0) | 5;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_REFUSED);
	m.b[3] = (m.b[3] & 0xf0) | 1;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_ERR_FORMAT);
	m.b[3] = (m.b[3] & 0xf0) | 9;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_REFUSED);
	/* an error reply without its question: the rcode still counts */
	m_header(&m, 0x4242, 2, 0, 0, 0, 0);
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_SERVFAIL);

	/* NXDOMAIN with an SOA: the negative TTL is min(TTL, MINIMUM) */
	m_header(&m, 0x4242, 3, 1, 0, 1, 0);
	m_question(&m, srv_name, DNS_TYPE_SRV);
	m_name(&m, "example.org");
	rd = m_rr(&m, DNS_TYPE_SOA, 3600);
	m_name(&m, "ns.example.org");
	m_name(&m, "hostmaster.example.org");
	m_u32(&m, 2026120701);
	m_u32(&m, 7200);
	m_u32(&m, 900);
	m_u32(&m, 1209600);
	m_u32(&m, 600);		/* MINIMUM */
	m_rd_end(&m, rd);
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_NXDOMAIN);
	CHECK(reply.has_negative_ttl && reply.negative_ttl == 600);
	CHECK(reply.nrecords == 0);
	m.b[rd - 4] = 0;	/* the SOA's own TTL: 3600 -> 16 */
	m.b[rd - 3] = 16;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_NXDOMAIN);
	CHECK(reply.negative_ttl == 16);
	/* NOERROR with no answer (NODATA) keeps the SOA TTL too */
	m.b[3] &= 0xf0;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_OK);
	CHECK(reply.nrecords == 0 && reply.has_negative_ttl);
	/* an SOA whose rdata is one byte short of its fields */
	m.b[rd - 1]--;
	m.len--;
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_ERR_FORMAT);
}

static void
test_cname(void)
{
	static const unsigned char ip[4] = { 192, 0, 2, 7 };
	const struct dns_record *rec[4];
	char name[32], next[32];
	struct msg m;
	int i;

	m_header(&m, 0x4242, 0, 1, 3, 0, 0);
	m_question(&m, "xmpp.example.org", DNS_TYPE_A);
	m_cname(&m, "xmpp.example.org", "host.example.net");
	m_cname(&m, "host.example.net", "Real.Example.NET");
	m_a(&m, "real.example.net", ip, 0x80000000u);
	CHECK(parse(&m, "xmpp.example.org", DNS_TYPE_A) == DNS_OK);
	CHECK(reply.nrecords == 3);
	CHECK(dns_reply_answers(&reply, "XMPP.example.org.", DNS_TYPE_A, rec,
	    4) == 1);
	CHECK(memcmp(rec[0]->addr, ip, 4) == 0);
	CHECK(rec[0]->ttl == 0);	/* RFC 2181 §8 */
	CHECK(dns_reply_answers(&reply, "xmpp.example.org", DNS_TYPE_CNAME,
	    rec, 4) == 1);
	CHECK_STR(rec[0]->target, "host.example.net");

	/* a loop */
	m_header(&m, 0x4242, 0, 1, 2, 0, 0);
	m_question(&m, "a.example", DNS_TYPE_A);
	m_cname(&m, "a.example", "b.example");
	m_cname(&m, "b.example", "a.example");
	CHECK(parse(&m, "a.example", DNS_TYPE_A) == DNS_OK);
	CHECK(dns_reply_answers(&reply, "a.example", DNS_TYPE_A, rec, 4) == -1);

	/* DNS_MAX_CNAME_HOPS hops are followed, one more is a loop */
	for (i = 0; i < 2; i++) {
		int hops = DNS_MAX_CNAME_HOPS + i, h;

		m_header(&m, 0x4242, 0, 1, (unsigned)hops + 1, 0, 0);
		m_question(&m, "h0.example", DNS_TYPE_A);
		for (h = 0; h < hops; h++) {
			snprintf(name, sizeof(name), "h%d.example", h);
			snprintf(next, sizeof(next), "h%d.example", h + 1);
			m_cname(&m, name, next);
		}
		m_a(&m, next, ip, 60);
		CHECK(parse(&m, "h0.example", DNS_TYPE_A) == DNS_OK);
		CHECK(dns_reply_answers(&reply, "h0.example", DNS_TYPE_A, rec,
		    4) == (i == 0 ? 1 : -1));
	}
}

static void
test_aaaa_and_skips(void)
{
	static const unsigned char ip[4] = { 198, 51, 100, 1 };
	const struct dns_record *rec[40];
	struct msg m;
	size_t rd;
	int i;

	m_header(&m, 0x4242, 0, 1, 5, 0, 0);
	m_question(&m, "h.example", DNS_TYPE_AAAA);
	m_ptr(&m, 12);
	rd = m_rr(&m, DNS_TYPE_AAAA, 120);
	for (i = 0; i < 16; i++) {
		m_u8(&m, (unsigned)i);
	}
	m_rd_end(&m, rd);
	/* a TXT record: skipped */
	m_ptr(&m, 12);
	rd = m_rr(&m, 16, 120);
	m_u8(&m, 2);
	m_u16(&m, 0x6869);
	m_rd_end(&m, rd);
	/* class CH: skipped */
	m_ptr(&m, 12);
	m_u16(&m, DNS_TYPE_A);
	m_u16(&m, 3);
	m_u32(&m, 60);
	m_u16(&m, 4);
	m_u32(&m, 0x7f000001);
	/* an owner with a '.' inside a label: skipped, not misread */
	m_u8(&m, 3);
	m_u8(&m, 'h');
	m_u8(&m, '.');
	m_u8(&m, 'x');
	m_ptr(&m, 14);	/* "example" */
	rd = m_rr(&m, DNS_TYPE_AAAA, 60);
	m.len += 16;
	m_rd_end(&m, rd);
	/* a CNAME whose target has a NUL byte in a label: skipped */
	m_ptr(&m, 12);
	rd = m_rr(&m, DNS_TYPE_CNAME, 60);
	m_u8(&m, 2);
	m_u8(&m, 'a');
	m_u8(&m, 0);
	m_u8(&m, 0);
	m_rd_end(&m, rd);
	CHECK(parse(&m, "h.example", DNS_TYPE_AAAA) == DNS_OK);
	CHECK(reply.nrecords == 1);
	CHECK(reply.records[0].type == DNS_TYPE_AAAA &&
	    reply.records[0].addr[15] == 15);

	/* more records than DNS_MAX_RECORDS: the rest are counted */
	m_header(&m, 0x4242, 0, 1, DNS_MAX_RECORDS + 3, 0, 0);
	m_question(&m, "many.example", DNS_TYPE_A);
	for (i = 0; i < DNS_MAX_RECORDS + 3; i++) {
		m_a(&m, "many.example", ip, 60);
	}
	CHECK(parse(&m, "many.example", DNS_TYPE_A) == DNS_OK);
	CHECK(reply.nrecords == DNS_MAX_RECORDS && reply.dropped == 3);
	CHECK(dns_reply_answers(&reply, "many.example", DNS_TYPE_A, rec, 40) ==
	    DNS_MAX_RECORDS);
}

/* Replace the first answer's owner (right after the question of
 * h.example) with the given bytes and parse. */
static enum dns_status
parse_owner(const unsigned char *owner, size_t olen)
{
	struct msg m;
	size_t rd;

	m_header(&m, 0x4242, 0, 1, 1, 0, 0);
	m_question(&m, "h.example", DNS_TYPE_A);
	memcpy(m.b + m.len, owner, olen);
	m.len += olen;
	rd = m_rr(&m, DNS_TYPE_A, 60);
	m_u32(&m, 0x7f000001);
	m_rd_end(&m, rd);
	return parse(&m, "h.example", DNS_TYPE_A);
}

static void
test_hostile_names(void)
{
	unsigned char name[300];
	struct msg m;
	size_t i, rd;

	/* a pointer to itself, forward, into the header, to its own label */
	name[0] = 0xc0;
	name[1] = 12 + 11 + 4;		/* its own offset */
	CHECK(parse_owner(name, 2) == DNS_ERR_FORMAT);
	name[1] = 12 + 11 + 4 + 2;	/* past itself */
	CHECK(parse_owner(name, 2) == DNS_ERR_FORMAT);
	name[1] = 12;			/* backwards to the question: fine */
	CHECK(parse_owner(name, 2) == DNS_OK);
	CHECK(reply.nrecords == 1);
	CHECK_STR(reply.records[0].name, "h.example");
	name[0] = 1;
	name[1] = 'x';
	name[2] = 0xc0;
	name[3] = 12 + 11 + 4;		/* back to its own first label: loop */
	CHECK(parse_owner(name, 4) == DNS_ERR_FORMAT);
	name[0] = 0x40;			/* extended label type */
	name[1] = 0;
	CHECK(parse_owner(name, 2) == DNS_ERR_FORMAT);
	name[0] = 0x80;
	CHECK(parse_owner(name, 2) == DNS_ERR_FORMAT);
	/* 255 wire bytes is the most: four labels of 62 and one of 2 */
	for (i = 0; i < 4; i++) {
		name[i * 63] = 62;
		memset(name + i * 63 + 1, 'a', 62);
	}
	name[252] = 1;
	name[253] = 'b';
	name[254] = 0;
	CHECK(parse_owner(name, 255) == DNS_OK);
	CHECK(strlen(reply.records[0].name) == 253);
	name[252] = 2;
	name[254] = 'c';
	name[255] = 0;
	CHECK(parse_owner(name, 256) == DNS_ERR_FORMAT);
	/* a label longer than the message */
	name[0] = 50;
	CHECK(parse_owner(name, 10) == DNS_ERR_FORMAT);

	/* bad rdata: A of 5 bytes, SRV of 6, a CNAME not filling rdata */
	m_header(&m, 0x4242, 0, 1, 1, 0, 0);
	m_question(&m, "h.example", DNS_TYPE_A);
	m_ptr(&m, 12);
	rd = m_rr(&m, DNS_TYPE_A, 60);
	m_u32(&m, 1);
	m_u8(&m, 1);
	m_rd_end(&m, rd);
	CHECK(parse(&m, "h.example", DNS_TYPE_A) == DNS_ERR_FORMAT);
	m_header(&m, 0x4242, 0, 1, 1, 0, 0);
	m_question(&m, srv_name, DNS_TYPE_SRV);
	m_ptr(&m, 12);
	rd = m_rr(&m, DNS_TYPE_SRV, 60);
	m_u16(&m, 0);
	m_u16(&m, 0);
	m_u16(&m, 5269);
	m_rd_end(&m, rd);
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_ERR_FORMAT);
	m_header(&m, 0x4242, 0, 1, 1, 0, 0);
	m_question(&m, "h.example", DNS_TYPE_CNAME);
	m_ptr(&m, 12);
	rd = m_rr(&m, DNS_TYPE_CNAME, 60);
	m_name(&m, "x.example");
	m_u8(&m, 0);		/* one byte past the name */
	m_rd_end(&m, rd);
	CHECK(parse(&m, "h.example", DNS_TYPE_CNAME) == DNS_ERR_FORMAT);
	/* rdata length past the end of the message */
	m_header(&m, 0x4242, 0, 1, 1, 0, 0);
	m_question(&m, "h.example", DNS_TYPE_A);
	m_ptr(&m, 12);
	rd = m_rr(&m, DNS_TYPE_A, 60);
	m_u32(&m, 1);
	m_rd_end(&m, rd);
	m.b[rd - 1] = 5;
	CHECK(parse(&m, "h.example", DNS_TYPE_A) == DNS_ERR_FORMAT);
}

static uint32_t
xorshift(void *ud)
{
	uint32_t *s = ud;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_srv_order(void)
{
	struct dns_record recs[5];
	const struct dns_record *srv[5];
	uint32_t seed = 2463534242u;
	int first_heavy = 0, first_zero = 0, misordered = 0, round, i;

	memset(recs, 0, sizeof(recs));
	recs[0].priority = 20;
	recs[0].weight = 5;
	recs[1].priority = 10;
	recs[1].weight = 1;
	recs[2].priority = 10;
	recs[2].weight = 3;
	recs[3].priority = 5;
	recs[3].weight = 0;
	recs[4].priority = 10;
	recs[4].weight = 0;
	for (round = 0; round < 8000; round++) {
		for (i = 0; i < 5; i++) {
			srv[i] = &recs[i];
		}
		dns_srv_order(srv, 5, xorshift, &seed);
		misordered += srv[0] != &recs[3] || srv[4] != &recs[0] ||
		    srv[1]->priority != 10 || srv[2]->priority != 10 ||
		    srv[3]->priority != 10 || srv[1] == srv[2] ||
		    srv[2] == srv[3] || srv[1] == srv[3];
		first_heavy += srv[1] == &recs[2];
		first_zero += srv[1] == &recs[4];
	}
	CHECK(misordered == 0);
	/* RFC 2782: P(first) = weight / (sum + 1) with weight 0 first, so
	 * weight 3 of 4 comes first about 3/5 of the time, weight 0 about
	 * 1/5 (only when the random number is 0 of 0..4) */
	CHECK(first_heavy > 8000 * 55 / 100 && first_heavy < 8000 * 65 / 100);
	CHECK(first_zero > 8000 * 16 / 100 && first_zero < 8000 * 24 / 100);

	memset(recs, 0, sizeof(recs));	/* target "" is "." */
	srv[0] = &recs[0];
	CHECK(dns_srv_unavailable(srv, 1));
	srv[1] = &recs[1];
	CHECK(!dns_srv_unavailable(srv, 2));
	CHECK(!dns_srv_unavailable(srv, 0));
}

static void
test_root_target(void)
{
	const struct dns_record *rec[2];
	struct msg m;

	m_header(&m, 0x4242, 0, 1, 1, 0, 0);
	m_question(&m, srv_name, DNS_TYPE_SRV);
	m_srv(&m, 0, 0, 0, "");
	CHECK(parse(&m, srv_name, DNS_TYPE_SRV) == DNS_OK);
	CHECK(dns_reply_answers(&reply, srv_name, DNS_TYPE_SRV, rec, 2) == 1);
	CHECK(dns_srv_unavailable(rec, 1));
	CHECK(strcmp(dns_status_name(DNS_TRUNCATED), "truncated") == 0);
}

int
main(void)
{
	test_query();
	test_normalize();
	test_srv_reply();
	test_not_ours();
	test_rcodes();
	test_cname();
	test_aaaa_and_skips();
	test_hostile_names();
	test_srv_order();
	test_root_target();
	return check_summary("test_dns");
}
