/*
 * resolver.h - DNS lookups that never block the reactor, for s2s: queries
 * over UDP to the name servers of /etc/resolv.conf (or the dns_server
 * key), each try timed out and retried on the next server, answers kept
 * in a small cache for their TTL (RFC 1035 §7, RFC 2308 for negative
 * answers).  No sockets and no clock here: the reactor sends the
 * datagrams this hands it, feeds back what arrives and passes the time,
 * so all of it is tested and fuzzed from memory (the wire format is
 * dns.c's).
 */
#ifndef UXMPPD_RESOLVER_H
#define UXMPPD_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define RESOLVER_MAX_SERVERS	3	/* as glibc's MAXNS */
#define RESOLVER_ADDR_MAX	46	/* INET6_ADDRSTRLEN */
#define RESOLVER_MAX_PENDING	256	/* queries in flight */
#define RESOLVER_CACHE_MAX	512	/* names x types kept */
#define RESOLVER_TTL_MAX	86400	/* a longer TTL is cut to a day */
#define RESOLVER_NEGATIVE_TTL	60	/* NXDOMAIN without an SOA */

struct resolver_config {
	char	 servers[RESOLVER_MAX_SERVERS][RESOLVER_ADDR_MAX];
	size_t	 nservers;
	unsigned timeout_ms;	/* per try; resolv.conf "timeout:" */
	unsigned attempts;	/* rounds over all servers; "attempts:" */
};

/*
 * The name servers and options of a resolv.conf text (nameserver lines,
 * "options timeout:N attempts:N"; the rest ignored) into cfg, after the
 * defaults (2 s, 2 rounds).  The number of servers found.
 */
size_t	resolver_conf_parse(const char *text, struct resolver_config *cfg);

struct resolver;

/*
 * A lookup's end: status DNS_OK with the n records of the asked type
 * (CNAMEs followed; n may be 0: no such record), DNS_NXDOMAIN, or an
 * error (DNS_TIMEOUT when no server answered usefully).  answers are
 * borrowed for the call.
 */
typedef void resolver_cb(void *ud, enum dns_status status,
    const struct dns_record *const *answers, size_t n);

/* rnd gives random 32-bit numbers (query ids).  Caller frees. */
struct resolver *resolver_new(const struct resolver_config *cfg,
	    uint32_t (*rnd)(void *), void *rnd_ud);
/* Pending lookups are dropped without their callbacks. */
void	resolver_free(struct resolver *r);

/*
 * Look name up (type DNS_TYPE_*).  The callback comes later, never from
 * inside this call: from resolver_input, or from resolver_run for a
 * cached answer or a timeout.  A handle (non-zero) for resolver_cancel,
 * or 0 when the name is not a DNS name or too many lookups are pending.
 */
unsigned resolver_query(struct resolver *r, const char *name, uint16_t type,
	    resolver_cb *cb, void *ud, uint64_t now_ms);
/* Forget a lookup: its callback will not come. */
void	resolver_cancel(struct resolver *r, unsigned handle);

/*
 * The next datagram to send, into buf[0..cap): its length, with the
 * index of the server (cfg order) in *server; 0 when nothing is due.
 * Call until 0 after resolver_query, resolver_input and resolver_run.
 */
size_t	resolver_next_datagram(struct resolver *r, unsigned char *buf,
	    size_t cap, size_t *server, uint64_t now_ms);
/* A datagram from server index `server`: replies to nothing pending (a
 * wrong id, name or server) are ignored, as spoofing attempts. */
void	resolver_input(struct resolver *r, size_t server,
	    const unsigned char *pkt, size_t len, uint64_t now_ms);
/* Deliver cached answers, move timed-out tries to the next server,
 * report lookups out of tries. */
void	resolver_run(struct resolver *r, uint64_t now_ms);
/* Milliseconds until resolver_run has something to do, or -1. */
int64_t	resolver_next_ms(const struct resolver *r, uint64_t now_ms);

#endif
