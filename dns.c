/*
 * dns.c - the DNS wire format (see dns.h).
 *
 * Message layout (RFC 1035 §4.1): a 12-byte header (id, flags, four
 * section counts), the question, then answer, authority and additional
 * resource records: owner name, type, class, TTL, rdata length, rdata.
 * Names are labels of 1..63 bytes ended by a zero byte, or ended early by
 * a two-byte compression pointer (§4.1.4) to an earlier occurrence.
 */
#include <string.h>

#include "dns.h"

#define HEADER_LEN	12
#define CLASS_IN	1
#define FLAG_QR		0x8000
#define FLAG_AA		0x0400
#define FLAG_TC		0x0200
#define FLAG_RD		0x0100
#define NAME_WIRE_MAX	255
#define LABEL_MAX	63

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 'a' - 'A') : c;
}

/* RFC 2181 §8: a TTL with the top bit set is treated as zero. */
static uint32_t
sane_ttl(uint32_t ttl)
{
	return ttl > 0x7fffffffu ? 0 : ttl;
}

int
dns_name_normalize(const char *in, char *out, size_t cap)
{
	size_t len = strlen(in), i, label = 0;

	if (len > 0 && in[len - 1] == '.') {
		len--;
	}
	if (len == 0 || len > DNS_NAME_TEXT_MAX || cap <= len) {
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = lower((unsigned char)in[i]);

		if (c == '.') {
			if (label == 0) {
				return -1;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') {
			if (++label > LABEL_MAX) {
				return -1;
			}
		} else {
			return -1;
		}
		out[i] = (char)c;
	}
	if (label == 0) {
		return -1;
	}
	out[len] = '\0';
	return 0;
}

int
dns_query_build(uint16_t id, const char *name, uint16_t type,
    unsigned char *out, size_t cap)
{
	char norm[DNS_NAME_TEXT_MAX + 1];
	size_t nlen, need, pos, start;

	if (dns_name_normalize(name, norm, sizeof(norm)) < 0) {
		return -1;
	}
	nlen = strlen(norm);
	/* header, labels (one length byte per label + root), qtype, qclass,
	 * the OPT record (root name, type, class, ttl, rdlength) */
	need = HEADER_LEN + nlen + 2 + 4 + 11;
	if (cap < need) {
		return -1;
	}
	memset(out, 0, need);
	put16(out, id);
	put16(out + 2, FLAG_RD);
	put16(out + 4, 1);		/* QDCOUNT */
	put16(out + 10, 1);		/* ARCOUNT: the OPT record */
	pos = HEADER_LEN;
	start = 0;
	while (start < nlen) {
		const char *dot = strchr(norm + start, '.');
		size_t l = dot ? (size_t)(dot - norm) - start : nlen - start;

		out[pos++] = (unsigned char)l;
		memcpy(out + pos, norm + start, l);
		pos += l;
		start += l + 1;
	}
	out[pos++] = 0;
	put16(out + pos, type);
	put16(out + pos + 2, CLASS_IN);
	pos += 4;
	/* RFC 6891 §6.1.2: root owner, type OPT, CLASS = payload size,
	 * TTL = extended rcode 0, version 0, flags 0; no options. */
	out[pos++] = 0;
	put16(out + pos, DNS_TYPE_OPT);
	put16(out + pos + 2, DNS_EDNS_PAYLOAD);
	pos += 10;
	return (int)pos;
}

/*
 * Read the name at msg[*off] into out (at least DNS_NAME_TEXT_MAX + 1
 * bytes, lowercase text) and move *off past it as it is written there.
 * 0; 1 when the name is well-formed but has a byte that text would make
 * ambiguous; -1 when malformed.  Each pointer must point before every
 * position read so far, which makes loops impossible.
 */
static int
read_name(const unsigned char *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, lowest = *off, resume = 0, wire = 0, tlen = 0;
	int jumped = 0, ambiguous = 0;

	for (;;) {
		unsigned c;

		if (pos >= len) {
			return -1;
		}
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len) {
				return -1;
			}
			target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (target >= lowest) {
				return -1;
			}
			if (!jumped) {
				resume = pos + 2;
				jumped = 1;
			}
			pos = lowest = target;
			continue;
		}
		if (c & 0xc0) {
			return -1;	/* 0x40 and 0x80: no such label type */
		}
		pos++;
		wire += c + 1;
		if (wire > NAME_WIRE_MAX) {
			return -1;
		}
		if (c == 0) {
			break;
		}
		if (pos + c > len) {
			return -1;
		}
		if (tlen > 0) {
			out[tlen++] = '.';
		}
		for (; c > 0; c--, pos++) {
			unsigned char b = msg[pos];

			if (b == '.' || b == '\\' || b < 0x21 || b > 0x7e) {
				ambiguous = 1;
			}
			out[tlen++] = (char)lower(b);
		}
	}
	out[tlen] = '\0';
	*off = jumped ? resume : pos;
	return ambiguous;
}

/* Skip the question at msg[*off]; its name into qname. -1 if malformed. */
static int
read_question(const unsigned char *msg, size_t len, size_t *off,
    char *qname, uint16_t *qtype, uint16_t *qclass)
{
	int rc = read_name(msg, len, off, qname);

	if (rc < 0 || *off + 4 > len) {
		return -1;
	}
	*qtype = get16(msg + *off);
	*qclass = get16(msg + *off + 2);
	*off += 4;
	return rc;
}

/*
 * The name that fills rdata[*off .. end) exactly; -1 when malformed
 * (including a name that ends before or after the rdata does).
 */
static int
read_rdata_name(const unsigned char *msg, size_t len, size_t *off,
    size_t end, char *out)
{
	int rc = read_name(msg, len, off, out);

	if (rc < 0 || *off != end) {
		return -1;
	}
	return rc;
}

/* RFC 2308 §5: the negative TTL is the smaller of the SOA's own TTL and
 * its MINIMUM field. */
static int
read_soa(const unsigned char *msg, size_t len, size_t off, size_t end,
    uint32_t ttl, struct dns_reply *r)
{
	char name[DNS_NAME_TEXT_MAX + 1];
	uint32_t minimum;

	if (read_name(msg, len, &off, name) < 0 ||
	    read_name(msg, len, &off, name) < 0 || off + 20 != end) {
		return -1;
	}
	minimum = sane_ttl(get32(msg + off + 16));
	r->negative_ttl = ttl < minimum ? ttl : minimum;
	r->has_negative_ttl = 1;
	return 0;
}

/*
 * The rdata of an answer record into rec; 1: skip it (a type we do not
 * use, or a target we could not name), -1: malformed.
 */
static int
read_answer_rdata(const unsigned char *msg, size_t len, size_t off,
    size_t end, struct dns_record *rec)
{
	size_t rdlen = end - off;

	switch (rec->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		if (rdlen != (rec->type == DNS_TYPE_A ? 4u : 16u)) {
			return -1;
		}
		memcpy(rec->addr, msg + off, rdlen);
		return 0;
	case DNS_TYPE_CNAME:
		return read_rdata_name(msg, len, &off, end, rec->target);
	case DNS_TYPE_SRV:
		if (rdlen < 7) {
			return -1;
		}
		rec->priority = get16(msg + off);
		rec->weight = get16(msg + off + 2);
		rec->port = get16(msg + off + 4);
		off += 6;
		return read_rdata_name(msg, len, &off, end, rec->target);
	default:
		return 1;
	}
}

/*
 * The resource records of one section.  Answers (keep set) go into r;
 * in the authority section only an SOA is read.  -1 when malformed.
 */
static int
read_section(const unsigned char *msg, size_t len, size_t *off,
    unsigned count, int keep, struct dns_reply *r)
{
	struct dns_record rec;

	for (; count > 0; count--) {
		size_t rdata, end;
		uint16_t class;
		int rc;

		memset(&rec, 0, sizeof(rec));
		rc = read_name(msg, len, off, rec.name);
		if (rc < 0 || *off + 10 > len) {
			return -1;
		}
		rec.type = get16(msg + *off);
		class = get16(msg + *off + 2);
		rec.ttl = sane_ttl(get32(msg + *off + 4));
		rdata = *off + 10;
		end = rdata + get16(msg + *off + 8);
		if (end > len) {
			return -1;
		}
		*off = end;
		if (class != CLASS_IN) {
			continue;
		}
		if (!keep) {
			if (rec.type == DNS_TYPE_SOA &&
			    read_soa(msg, len, rdata, end, rec.ttl, r) < 0) {
				return -1;
			}
			continue;
		}
		switch (read_answer_rdata(msg, len, rdata, end, &rec)) {
		case -1:
			return -1;
		case 1:
			continue;
		default:
			break;
		}
		if (rc == 1) {
			continue;	/* an owner we could not name */
		}
		if (r->nrecords == DNS_MAX_RECORDS) {
			r->dropped++;
			continue;
		}
		r->records[r->nrecords++] = rec;
	}
	return 0;
}

static enum dns_status
status_of_rcode(unsigned rcode)
{
	switch (rcode) {
	case 0:
		return DNS_OK;
	case 1:
		return DNS_ERR_FORMAT;
	case 2:
		return DNS_SERVFAIL;
	case 3:
		return DNS_NXDOMAIN;
	default:
		return DNS_REFUSED;
	}
}

enum dns_status
dns_reply_parse(const unsigned char *msg, size_t len, uint16_t id,
    const char *qname, uint16_t qtype, struct dns_reply *r)
{
	char want[DNS_NAME_TEXT_MAX + 1], got[DNS_NAME_TEXT_MAX + 1];
	uint16_t flags, qd, an, ns, gtype, gclass;
	enum dns_status status;
	size_t off = HEADER_LEN;

	memset(r, 0, sizeof(*r));
	if (len < HEADER_LEN) {
		return len >= 2 && get16(msg) != id ? DNS_ERR_MISMATCH :
		    DNS_ERR_FORMAT;
	}
	flags = get16(msg + 2);
	if (get16(msg) != id || !(flags & FLAG_QR) || (flags >> 11 & 0xf) != 0) {
		return DNS_ERR_MISMATCH;
	}
	r->id = id;
	r->authoritative = (flags & FLAG_AA) != 0;
	qd = get16(msg + 4);
	an = get16(msg + 6);
	ns = get16(msg + 8);
	status = status_of_rcode(flags & 0xf);
	/* A server may leave the question out of an error reply. */
	if (qd == 0 && status != DNS_OK) {
		return status == DNS_NXDOMAIN ? DNS_ERR_MISMATCH : status;
	}
	if (qd != 1) {
		return DNS_ERR_FORMAT;
	}
	if (dns_name_normalize(qname, want, sizeof(want)) < 0) {
		return DNS_ERR_MISMATCH;
	}
	if (read_question(msg, len, &off, got, &gtype, &gclass) != 0 ||
	    strcmp(got, want) != 0 || gtype != qtype || gclass != CLASS_IN) {
		return DNS_ERR_MISMATCH;
	}
	/* RFC 2181 §9: a truncated answer is not to be used; ask over TCP. */
	if (flags & FLAG_TC) {
		return DNS_TRUNCATED;
	}
	if (status != DNS_OK && status != DNS_NXDOMAIN) {
		return status;
	}
	if (read_section(msg, len, &off, an, status == DNS_OK, r) < 0 ||
	    read_section(msg, len, &off, ns, 0, r) < 0) {
		memset(r, 0, sizeof(*r));
		return DNS_ERR_FORMAT;
	}
	/* The additional section is not read: its addresses for SRV targets
	 * are not trusted, so those are asked for on their own. */
	return status;
}

int
dns_reply_answers(const struct dns_reply *r, const char *qname,
    uint16_t qtype, const struct dns_record **out, size_t max)
{
	char cur[DNS_NAME_TEXT_MAX + 1];
	unsigned hops;
	size_t i, n;

	if (dns_name_normalize(qname, cur, sizeof(cur)) < 0) {
		return 0;
	}
	for (hops = 0;; hops++) {
		const struct dns_record *alias = NULL;

		n = 0;
		for (i = 0; i < r->nrecords; i++) {
			const struct dns_record *rec = &r->records[i];

			if (strcmp(rec->name, cur) != 0) {
				continue;
			}
			if (rec->type == qtype) {
				if (n < max) {
					out[n] = rec;
				}
				n++;
			} else if (rec->type == DNS_TYPE_CNAME) {
				alias = rec;
			}
		}
		if (n > 0 || alias == NULL) {
			return (int)(n < max ? n : max);
		}
		if (hops == DNS_MAX_CNAME_HOPS) {
			return -1;
		}
		memcpy(cur, alias->target, sizeof(cur));
	}
}

/* Move a[from] to a[to] (to <= from), keeping the order of the rest. */
static void
move_back(const struct dns_record **a, size_t from, size_t to)
{
	const struct dns_record *rec = a[from];

	memmove(a + to + 1, a + to, (from - to) * sizeof(*a));
	a[to] = rec;
}

void
dns_srv_order(const struct dns_record **srv, size_t n,
    uint32_t (*rnd)(void *), void *ud)
{
	size_t i, j, k, m;

	/* insertion sort by priority: stable, and n is small */
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && srv[j - 1]->priority > srv[i]->priority;
		    j--) {
		}
		move_back(srv, i, j);
	}
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && srv[j]->priority == srv[i]->priority; j++) {
		}
		for (k = i, m = i; m < j; m++) {
			if (srv[m]->weight == 0) {
				move_back(srv, m, k++);
			}
		}
		for (k = i; k + 1 < j; k++) {
			uint64_t sum = 0, run = 0, pick;

			for (m = k; m < j; m++) {
				sum += srv[m]->weight;
			}
			pick = sum == 0 ? 0 : rnd(ud) % (sum + 1);
			for (m = k; m < j; m++) {
				run += srv[m]->weight;
				if (run >= pick) {
					break;
				}
			}
			move_back(srv, m, k);
		}
	}
}

int
dns_srv_unavailable(const struct dns_record *const *srv, size_t n)
{
	return n == 1 && srv[0]->target[0] == '\0';
}

const char *
dns_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_SERVFAIL:
		return "servfail";
	case DNS_REFUSED:
		return "refused";
	case DNS_TRUNCATED:
		return "truncated";
	case DNS_ERR_FORMAT:
		return "malformed reply";
	case DNS_ERR_MISMATCH:
		return "reply to another query";
	case DNS_TIMEOUT:
		return "timed out";
	}
	return "?";
}
