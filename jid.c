/*
 * jid.c - XMPP addresses (RFC 7622).
 *
 * A JID is split at the first '/' (everything after it is the
 * resourcepart) and, before that, at the first '@' (localpart before it).
 * Each part is validated and normalized:
 *
 *  - localpart: valid UTF-8, no controls or spaces, none of " & ' / : < >
 *    @ (RFC 7622 §3.3.1); ASCII letters are case-folded.
 *  - domainpart: a trailing dot is stripped (§3.2); either an IP literal
 *    "[v6]" or dot-separated labels of letters, digits, '-', '_' or
 *    non-ASCII UTF-8; ASCII letters are case-folded.
 *  - resourcepart: valid UTF-8 without control characters; kept as is.
 *
 * Limitation: full PRECIS (RFC 8264/8265/8266) and IDNA2008 need the
 * Unicode tables, which we do not carry.  Non-ASCII characters are kept
 * as sent after UTF-8 validation (no case folding, width mapping or NFC),
 * so two JIDs differing only in non-ASCII case or normalization are
 * distinct here.
 */
#include "jid.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

/* Split without length checks; 0, or -1 when structurally malformed. */
static int
jid_split_raw(const char *jid, struct jid_parts *p)
{
	const char *slash, *at, *dom;
	size_t bare;

	memset(p, 0, sizeof(*p));
	slash = strchr(jid, '/');
	bare = slash != NULL ? (size_t)(slash - jid) : strlen(jid);
	at = memchr(jid, '@', bare);
	if (at != NULL) {
		if (at == jid) {
			return -1;	/* '@' with empty localpart */
		}
		p->local = jid;
		p->local_len = (size_t)(at - jid);
		dom = at + 1;
	} else {
		dom = jid;
	}
	p->domain = dom;
	p->domain_len = bare - (size_t)(dom - jid);
	if (p->domain_len == 0) {
		return -1;
	}
	if (slash != NULL) {
		p->resource = slash + 1;
		p->resource_len = strlen(slash + 1);
		if (p->resource_len == 0) {
			return -1;	/* '/' with empty resourcepart */
		}
	}
	return 0;
}

/*
 * Decode one UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF) from s[0..len).  Returns its length, or 0 if invalid.
 */
static size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (len == 0) {
		return 0;
	}
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (len < n) {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			return 0;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
		return 0;
	}
	*cp = c;
	return n;
}

/*
 * Is s[0..len) valid UTF-8 (RFC 3629) without NUL bytes?  1 or 0.
 */
int
jid_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (len > 0) {
		n = utf8_decode(p, len, &cp);
		if (n == 0 || cp == 0) {
			return 0;
		}
		p += n;
		len -= n;
	}
	return 1;
}

/* C0 controls, DEL and C1 controls. */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Space separators (Unicode Zs) other than U+0020, and line/para seps. */
static int
is_unicode_space(uint32_t cp)
{
	return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
	    cp == 0x3000;
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Validate a localpart and write its case-folded form to out (which has
 * room for len bytes).  0, or -1.
 */
static int
local_check(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t i = 0, n;

	if (len == 0 || len > JID_PART_MAX) {
		return -1;
	}
	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || cp == 0x20 || is_control(cp) ||
		    is_unicode_space(cp)) {
			return -1;
		}
		if (cp < 0x80) {
			if (strchr("\"&'/:<>@", (int)cp) != NULL) {
				return -1;
			}
			out[i] = ascii_lower(s[i]);
		} else {
			memcpy(out + i, s + i, n);
		}
		i += n;
	}
	return 0;
}

/* Validate an IPv6 literal "[...]" (s includes the brackets).  0, or -1. */
static int
domain_ip6_check(const char *s, size_t len)
{
	char tmp[64];
	unsigned char addr[16];

	if (len < 3 || len - 2 >= sizeof(tmp) || s[len - 1] != ']') {
		return -1;
	}
	memcpy(tmp, s + 1, len - 2);
	tmp[len - 2] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1 ? 0 : -1;
}

/*
 * Validate a domainpart (trailing dot already stripped) and write its
 * case-folded form to out (room for len bytes).  0, or -1.
 */
static int
domain_check(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, label_start = 0;
	int label_ascii = 1;
	uint32_t cp;

	if (len == 0 || len > JID_PART_MAX) {
		return -1;
	}
	if (s[0] == '[') {
		if (domain_ip6_check(s, len) != 0) {
			return -1;
		}
		for (i = 0; i < len; i++) {
			out[i] = ascii_lower(s[i]);
		}
		return 0;
	}
	while (i <= len) {
		if (i == len || s[i] == '.') {
			/* End of a label: non-empty, LDH-style ends. */
			if (i == label_start || s[label_start] == '-' ||
			    s[i - 1] == '-') {
				return -1;
			}
			if (label_ascii && i - label_start > 63) {
				return -1;
			}
			if (i < len) {
				out[i] = '.';
			}
			i++;
			label_start = i;
			label_ascii = 1;
			continue;
		}
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			return -1;
		}
		if (cp < 0x80) {
			if (!((cp >= 'a' && cp <= 'z') ||
			    (cp >= 'A' && cp <= 'Z') ||
			    (cp >= '0' && cp <= '9') || cp == '-' ||
			    cp == '_')) {
				return -1;
			}
			out[i] = ascii_lower(s[i]);
		} else {
			if (is_control(cp) || is_unicode_space(cp)) {
				return -1;
			}
			label_ascii = 0;
			memcpy(out + i, s + i, n);
		}
		i += n;
	}
	return 0;
}

/* Validate a resourcepart (copied as is by the caller).  0, or -1. */
static int
resource_check(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t i = 0, n;

	if (len == 0 || len > JID_PART_MAX) {
		return -1;
	}
	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || is_control(cp)) {
			return -1;
		}
		i += n;
	}
	return 0;
}

/*
 * Validate and normalize in into out (cap bytes, NUL-terminated): local
 * and domain ASCII-case-folded, a trailing dot in the domain stripped.
 * Returns 0, or -1 if in is not a valid JID or does not fit (out is then
 * an empty string when cap > 0).
 */
int
jid_canon(const char *in, char *out, size_t cap)
{
	struct jid_parts p;
	size_t dlen, need, o = 0;

	if (cap > 0) {
		out[0] = '\0';
	}
	if (jid_split_raw(in, &p) != 0) {
		return -1;
	}
	dlen = p.domain_len;
	if (p.domain[dlen - 1] == '.') {
		dlen--;		/* RFC 7622 §3.2: strip a final dot */
	}
	need = (p.local != NULL ? p.local_len + 1 : 0) + dlen +
	    (p.resource != NULL ? p.resource_len + 1 : 0) + 1;
	if (need > cap || dlen == 0) {
		return -1;
	}
	if (p.local != NULL) {
		if (local_check(p.local, p.local_len, out) != 0) {
			goto bad;
		}
		o = p.local_len;
		out[o++] = '@';
	}
	if (domain_check(p.domain, dlen, out + o) != 0) {
		goto bad;
	}
	o += dlen;
	if (p.resource != NULL) {
		if (resource_check(p.resource, p.resource_len) != 0) {
			goto bad;
		}
		out[o++] = '/';
		memcpy(out + o, p.resource, p.resource_len);
		o += p.resource_len;
	}
	out[o] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return -1;
}

/*
 * Split a JID (canonical or not) into views of its parts; -1 if
 * malformed: empty domain, '@' with empty localpart, '/' with empty
 * resource, or a part longer than JID_PART_MAX bytes.  The parts are not
 * validated further (use jid_canon for that).
 */
int
jid_split(const char *jid, struct jid_parts *out)
{
	if (jid_split_raw(jid, out) != 0 || out->local_len > JID_PART_MAX ||
	    out->domain_len > JID_PART_MAX ||
	    out->resource_len > JID_PART_MAX) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

/* Length of the bare part (local@domain) of a canonical JID. */
size_t
jid_bare_len(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash != NULL ? (size_t)(slash - jid) : strlen(jid);
}

/* Copy the bare part of jid into out (NUL-terminated); -1 if it does not
 * fit. */
int
jid_bare(const char *jid, char *out, size_t cap)
{
	size_t n = jid_bare_len(jid);

	if (n + 1 > cap) {
		return -1;
	}
	memcpy(out, jid, n);
	out[n] = '\0';
	return 0;
}

/* Resource of a canonical JID, or NULL.  Borrowed from jid. */
const char *
jid_resource(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash != NULL ? slash + 1 : NULL;
}

/* Do the two canonical JIDs have the same bare part?  1 or 0. */
int
jid_bare_eq(const char *a, const char *b)
{
	size_t la = jid_bare_len(a), lb = jid_bare_len(b);

	return la == lb && memcmp(a, b, la) == 0;
}

/* Copy the domain part of jid into out (NUL-terminated); -1 if jid is
 * malformed or the domain does not fit. */
int
jid_domain(const char *jid, char *out, size_t cap)
{
	struct jid_parts p;

	if (jid_split_raw(jid, &p) != 0 || p.domain_len + 1 > cap) {
		return -1;
	}
	memcpy(out, p.domain, p.domain_len);
	out[p.domain_len] = '\0';
	return 0;
}

/*
 * Validate a localpart alone and write its normalized (ASCII case-folded)
 * form into out (cap bytes, NUL-terminated).  -1 if invalid or it does
 * not fit.
 */
int
jid_local_canon(const char *in, char *out, size_t cap)
{
	size_t len = strlen(in);

	if (len + 1 > cap || local_check(in, len, out) != 0) {
		if (cap > 0) {
			out[0] = '\0';
		}
		return -1;
	}
	out[len] = '\0';
	return 0;
}

/*
 * Validate a MUC nickname (RFC 7700-ish, used as a resourcepart): valid
 * UTF-8, no control characters, at most JID_PART_MAX bytes, and not empty
 * or only whitespace.  The nick is copied as given (case and surrounding
 * spaces kept, as Prosody does) into out (cap bytes).  -1 if not
 * acceptable or it does not fit.
 */
int
jid_nick_canon(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t len = strlen(in), i = 0, n;
	int visible = 0;
	uint32_t cp;

	if (cap > 0) {
		out[0] = '\0';
	}
	if (len == 0 || len > JID_PART_MAX || len + 1 > cap) {
		return -1;
	}
	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || is_control(cp)) {
			return -1;
		}
		if (cp != 0x20 && !is_unicode_space(cp)) {
			visible = 1;
		}
		i += n;
	}
	if (!visible) {
		return -1;
	}
	memcpy(out, in, len + 1);
	return 0;
}
