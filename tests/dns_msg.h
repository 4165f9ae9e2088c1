/*
 * tests/dns_msg.h - DNS messages built byte by byte for the tests of
 * dns.c and resolver.c: header, question, resource records with their
 * rdata length patched in, names plain or as compression pointers.
 */
#ifndef UXMPPD_TESTS_DNS_MSG_H
#define UXMPPD_TESTS_DNS_MSG_H

#include <stdint.h>
#include <string.h>

#include "dns.h"

struct msg {
	unsigned char	b[8192];
	size_t		len;
};

static inline void
m_u8(struct msg *m, unsigned v)
{
	m->b[m->len++] = (unsigned char)v;
}

static inline void
m_u16(struct msg *m, unsigned v)
{
	m_u8(m, v >> 8 & 0xff);
	m_u8(m, v & 0xff);
}

static inline void
m_u32(struct msg *m, uint32_t v)
{
	m_u16(m, v >> 16);
	m_u16(m, v & 0xffff);
}

/* A name as uncompressed labels ("" is the root). */
static inline void
m_name(struct msg *m, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		m_u8(m, (unsigned)l);
		memcpy(m->b + m->len, name, l);
		m->len += l;
		name += l + (dot != NULL);
	}
	m_u8(m, 0);
}

static inline void
m_ptr(struct msg *m, unsigned off)
{
	m_u16(m, 0xc000 | off);
}

/* Header with QR, RD, RA and rcode; counts as given. */
static inline void
m_header(struct msg *m, unsigned id, unsigned rcode, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	memset(m, 0, sizeof(*m));
	m_u16(m, id);
	m_u16(m, 0x8180 | rcode);
	m_u16(m, qd);
	m_u16(m, an);
	m_u16(m, ns);
	m_u16(m, ar);
}

static inline void
m_question(struct msg *m, const char *name, unsigned type)
{
	m_name(m, name);
	m_u16(m, type);
	m_u16(m, 1);
}

/* Type, class IN, ttl; the rdata length is patched by m_rd_end. */
static inline size_t
m_rr(struct msg *m, unsigned type, uint32_t ttl)
{
	m_u16(m, type);
	m_u16(m, 1);
	m_u32(m, ttl);
	m_u16(m, 0);
	return m->len;
}

static inline void
m_rd_end(struct msg *m, size_t start)
{
	size_t l = m->len - start;

	m->b[start - 2] = (unsigned char)(l >> 8);
	m->b[start - 1] = (unsigned char)l;
}

static inline void
m_srv(struct msg *m, unsigned prio, unsigned weight, unsigned port,
    const char *target)
{
	size_t rd;

	m_ptr(m, 12);	/* owner: the question's name */
	rd = m_rr(m, DNS_TYPE_SRV, 300);
	m_u16(m, prio);
	m_u16(m, weight);
	m_u16(m, port);
	m_name(m, target);
	m_rd_end(m, rd);
}

static inline void
m_a(struct msg *m, const char *owner, const unsigned char ip[4], uint32_t ttl)
{
	size_t rd;

	m_name(m, owner);
	rd = m_rr(m, DNS_TYPE_A, ttl);
	memcpy(m->b + m->len, ip, 4);
	m->len += 4;
	m_rd_end(m, rd);
}

static inline void
m_cname(struct msg *m, const char *owner, const char *target)
{
	size_t rd;

	m_name(m, owner);
	rd = m_rr(m, DNS_TYPE_CNAME, 60);
	m_name(m, target);
	m_rd_end(m, rd);
}

#endif
