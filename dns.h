/*
 * dns.h - the DNS wire format for the resolver of s2s: a query (RFC 1035
 * §4.1 with an EDNS0 OPT record, RFC 6891), a reply parsed into the
 * records federation needs (A, AAAA, CNAME, SRV; the SOA minimum for
 * negative caching, RFC 2308 §5), the CNAME chain followed, and SRV
 * targets put in the order RFC 2782 prescribes.  No sockets and no
 * clock: the resolver sends, receives and caches.
 *
 * Reply bytes come from the network and are hostile: every length is
 * checked against the message, compression pointers must point backwards
 * (so they cannot loop), names are at most 255 wire bytes, and a record
 * whose name cannot be written as text (a '.', '\\' or a byte outside
 * printable ASCII inside a label) is skipped rather than misread.
 */
#ifndef UXMPPD_DNS_H
#define UXMPPD_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_TYPE_A	1
#define DNS_TYPE_CNAME	5
#define DNS_TYPE_SOA	6
#define DNS_TYPE_AAAA	28
#define DNS_TYPE_SRV	33
#define DNS_TYPE_OPT	41

/* A name as text: at most 253 bytes, no trailing dot, "" for the root. */
#define DNS_NAME_TEXT_MAX	253
/* The UDP payload size we advertise (the DNS flag day 2020 value). */
#define DNS_EDNS_PAYLOAD	1232
/* Records kept from one reply; more are counted in dropped. */
#define DNS_MAX_RECORDS		32
/* CNAME hops followed before a chain counts as a loop. */
#define DNS_MAX_CNAME_HOPS	8

enum dns_status {
	DNS_OK = 0,
	DNS_NXDOMAIN,		/* the name does not exist (rcode 3) */
	DNS_SERVFAIL,		/* the server could not answer (rcode 2) */
	DNS_REFUSED,		/* rcode 5, or another rcode we cannot use */
	DNS_TRUNCATED,		/* TC set: ask again over TCP */
	DNS_ERR_FORMAT,		/* malformed message (or rcode 1) */
	DNS_ERR_MISMATCH,	/* not the answer to our question (id, QR,
				 * opcode or question differ) */
	DNS_TIMEOUT		/* no usable answer from any server in time
				 * (resolver.c) */
};

struct dns_record {
	char		name[DNS_NAME_TEXT_MAX + 1];	/* owner, lowercase */
	uint16_t	type;
	uint32_t	ttl;		/* seconds; RFC 2181 §8: > 2^31-1 is 0 */
	unsigned char	addr[16];	/* A: 4 bytes, AAAA: 16 */
	uint16_t	priority, weight, port;	/* SRV */
	char		target[DNS_NAME_TEXT_MAX + 1];	/* CNAME, SRV;
						 * lowercase, "" is "." */
};

struct dns_reply {
	uint16_t	id;
	int		authoritative;
	size_t		nrecords;
	struct dns_record records[DNS_MAX_RECORDS];
	size_t		dropped;	/* usable records past DNS_MAX_RECORDS */
	int		has_negative_ttl;
	uint32_t	negative_ttl;	/* from an SOA in the authority section */
};

/*
 * Write a recursive query for name (text, a trailing dot allowed) and
 * type into out[0..cap), with an EDNS0 OPT record.  The length, or -1
 * when the name is not a valid DNS name or out is too small.
 */
int	dns_query_build(uint16_t id, const char *name, uint16_t type,
	    unsigned char *out, size_t cap);

/*
 * Parse msg[0..len) as the reply to the query (id, qname, qtype) into
 * *r.  DNS_OK fills r with the answer section's A, AAAA, CNAME and SRV
 * records of class IN (other types are skipped); DNS_NXDOMAIN and an
 * empty DNS_OK answer also set the negative TTL when the authority
 * section carries an SOA.  Any other status leaves r without records.
 */
enum dns_status dns_reply_parse(const unsigned char *msg, size_t len,
	    uint16_t id, const char *qname, uint16_t qtype,
	    struct dns_reply *r);

/*
 * The records of type qtype for qname in r, following CNAMEs from qname
 * (at most DNS_MAX_CNAME_HOPS).  Up to max pointers into r go to out
 * (borrowed, valid while r is).  The number found, or -1 for a CNAME
 * chain that loops or is too long.
 */
int	dns_reply_answers(const struct dns_reply *r, const char *qname,
	    uint16_t qtype, const struct dns_record **out, size_t max);

/*
 * Order srv[0..n) for connection attempts (RFC 2782 "Usage rules"): by
 * priority, lowest first; within a priority, a weighted random choice,
 * weight-0 records placed first so they are picked rarely.  rnd returns a
 * uniformly random 32-bit number (ud is its argument).
 */
void	dns_srv_order(const struct dns_record **srv, size_t n,
	    uint32_t (*rnd)(void *), void *ud);

/*
 * 1 when srv[0..n) says the service is decidedly not available: a single
 * record whose target is "." (RFC 2782; RFC 6120 §3.2.1).
 */
int	dns_srv_unavailable(const struct dns_record *const *srv, size_t n);

/*
 * The name in canonical text into out[0..cap): lowercase ASCII, one
 * trailing dot removed, every label 1..63 bytes of letters, digits,
 * '-' or '_' (service labels), at most DNS_NAME_TEXT_MAX bytes.  0, or -1
 * when it is not such a name or does not fit.
 */
int	dns_name_normalize(const char *in, char *out, size_t cap);

/* A short English name of status, for logs. */
const char *dns_status_name(enum dns_status status);

#endif
