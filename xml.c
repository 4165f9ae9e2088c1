/*
 * xml.c - incremental XML stream parser, stanza trees and serializer.
 *
 * Design (see STYLE.md §3):
 *  - xml_feed() tokenizes straight out of the caller's chunk.  A token (start
 *    tag, end tag, text run, CDATA section, PI) that is cut by the end of the
 *    chunk is copied to a small pending buffer; later bytes are appended to it
 *    by a resumable end-of-token scanner (O(1) per byte, so one-byte feeds
 *    stay linear) and the token is parsed once it is complete.  Start tags are
 *    parsed optimistically and rolled back (arena mark + namespace stack
 *    length) when the chunk ends inside them.
 *  - Every stanza is built in its own arena (bump allocation in malloc'd
 *    blocks); the arena is handed to the stanza callback with the tree.  Idle
 *    between stanzas the parser holds only its struct and the stream
 *    header's namespace bindings (usually a ~100 byte block).
 *  - Byte classes come from one 256-entry table; all comparisons are on
 *    unsigned char.
 */
#include "xml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- character classes ---- */

#define C_WS	0x01	/* XML S: space, tab, LF, CR */
#define C_NSTART 0x02	/* ASCII NameStartChar except ':' */
#define C_NCHAR	0x04	/* ASCII NameChar except ':' */
#define C_TXT	0x08	/* needs a look in character data */
#define C_ATT	0x10	/* needs a look in an attribute value */
#define C_CDT	0x20	/* needs a look in a CDATA section */
#define C_ESCT	0x40	/* escaped when serializing text */
#define C_ESCA	0x80	/* escaped when serializing an attribute value */

static const unsigned char cls[256] = {
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x91, 0x91, 0x38, 0x38, 0xf9, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0xd8, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x04, 0x00,
	0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x00, 0xd8, 0x00, 0xc8, 0x00,
	0x00, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06,
	0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x00, 0x00, 0x00, 0x00, 0x06,
	0x00, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06,
	0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
	0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38, 0x38,
};


/* internal result: the token continues past the end of the data */
#define NEED_MORE	100
/* internal result of utf8_char(): the sequence is cut by the end */
#define UTF8_TRUNC	(-100)

/* ---- arena ---- */

struct arena_blk {
	struct arena_blk *prev;
	size_t	 cap;		/* bytes usable after the header */
	size_t	 used;
};

#define BLK_HDR		((sizeof(struct arena_blk) + 15) & ~(size_t)15)
#define BLK_DATA(b)	((char *)(b) + BLK_HDR)
#define ARENA_MAX_STEP	(64 * 1024)
/* Room left in a clone's first block for the edits that usually follow. */
#define XML_CLONE_SLACK	256

struct xml_arena {
	struct arena_blk *cur;	/* newest block; older ones via prev */
	size_t	 next_cap;
	size_t	 total;		/* bytes of all blocks */
};

struct arena_mark {
	struct arena_blk *blk;
	size_t	 used;
	size_t	 next_cap;
};

static struct xml_arena *
arena_new(size_t first)
{
	struct arena_blk *b;
	struct xml_arena *a;

	b = xmalloc(BLK_HDR + first);
	b->prev = NULL;
	b->cap = first;
	a = (struct xml_arena *)(void *)BLK_DATA(b);
	b->used = (sizeof(*a) + 7) & ~(size_t)7;
	a->cur = b;
	a->next_cap = first * 2;
	a->total = first;
	return a;
}

static void
arena_free(struct xml_arena *a)
{
	struct arena_blk *b, *prev;

	if (a == NULL) {
		return;
	}
	/* a lives in the oldest block, which is freed last */
	for (b = a->cur; b != NULL; b = prev) {
		prev = b->prev;
		free(b);
	}
}

static void *
arena_grow(struct xml_arena *a, size_t n)
{
	struct arena_blk *b;
	size_t cap = a->next_cap;

	if (n > cap) {
		cap = n;
	}
	b = xmalloc(BLK_HDR + cap);
	b->prev = a->cur;
	b->cap = cap;
	b->used = n;
	a->cur = b;
	a->total += cap;
	if (a->next_cap < ARENA_MAX_STEP) {
		a->next_cap *= 2;
	}
	return BLK_DATA(b);
}

/* n bytes aligned for any of our structs. */
static inline void *
arena_alloc(struct xml_arena *a, size_t n)
{
	struct arena_blk *b = a->cur;
	size_t off = (b->used + 7) & ~(size_t)7;

	if (off <= b->cap && n <= b->cap - off) {
		b->used = off + n;
		return BLK_DATA(b) + off;
	}
	return arena_grow(a, n);
}

/* n bytes for a string (no alignment). */
static inline char *
arena_str(struct xml_arena *a, size_t n)
{
	struct arena_blk *b = a->cur;

	if (n <= b->cap - b->used) {
		char *s = BLK_DATA(b) + b->used;

		b->used += n;
		return s;
	}
	return arena_grow(a, n);
}

/* Give back the tail of the newest allocation s, keeping n bytes. */
static inline void
arena_trim(struct xml_arena *a, const char *s, size_t n)
{
	struct arena_blk *b = a->cur;

	b->used = (size_t)(s - BLK_DATA(b)) + n;
}

static char *
arena_strndup(struct xml_arena *a, const char *s, size_t n)
{
	char *d = arena_str(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static struct arena_mark
arena_mark(const struct xml_arena *a)
{
	struct arena_mark m;

	m.blk = a->cur;
	m.used = a->cur->used;
	m.next_cap = a->next_cap;
	return m;
}

static void
arena_rollback(struct xml_arena *a, struct arena_mark m)
{
	struct arena_blk *prev;

	while (a->cur != m.blk) {
		prev = a->cur->prev;
		a->total -= a->cur->cap;
		free(a->cur);
		a->cur = prev;
	}
	a->cur->used = m.used;
	a->next_cap = m.next_cap;	/* same growth however input was cut */
}

/* ---- well-known namespaces: shared static strings, never copied ---- */

static const char *const ns_tab[] = {
	XML_NS_CLIENT, XML_NS_STREAM, XML_NS_XML, "jabber:server",
	"jabber:component:accept", "jabber:iq:roster", "jabber:iq:private",
	"jabber:iq:register", "jabber:iq:version", "jabber:iq:last",
	"jabber:iq:auth", "jabber:x:data", "jabber:x:conference", "vcard-temp",
	"urn:ietf:params:xml:ns:xmpp-stanzas",
	"urn:ietf:params:xml:ns:xmpp-streams",
	"urn:ietf:params:xml:ns:xmpp-sasl", "urn:ietf:params:xml:ns:xmpp-tls",
	"urn:ietf:params:xml:ns:xmpp-bind",
	"urn:ietf:params:xml:ns:xmpp-session",
	"http://jabber.org/protocol/muc", "http://jabber.org/protocol/muc#user",
	"http://jabber.org/protocol/muc#admin",
	"http://jabber.org/protocol/muc#owner",
	"http://jabber.org/protocol/disco#info",
	"http://jabber.org/protocol/disco#items",
	"http://jabber.org/protocol/caps", "http://jabber.org/protocol/chatstates",
	"http://jabber.org/protocol/rsm", "urn:xmpp:ping", "urn:xmpp:delay",
	"urn:xmpp:time", "urn:xmpp:receipts", "urn:xmpp:sm:3",
	"urn:xmpp:carbons:2", "urn:xmpp:mam:2", "urn:xmpp:sid:0",
	"urn:xmpp:forward:0", XML_NS_XMLNS,
};
#define NS_TAB_N	(sizeof(ns_tab) / sizeof(ns_tab[0]))

/* The static copy of the namespace s[0..n), or NULL. */
static const char *
ns_intern(const char *s, size_t n)
{
	size_t i;

	if (n < 9) {
		return NULL;
	}
	for (i = 0; i < NS_TAB_N; i++) {
		const char *t = ns_tab[i];

		if (t[0] == s[0] && strncmp(t, s, n) == 0 && t[n] == '\0') {
			return t;
		}
	}
	return NULL;
}

static int
ns_is_static(const char *s)
{
	size_t i;

	for (i = 0; i < NS_TAB_N; i++) {
		if (s == ns_tab[i]) {
			return 1;
		}
	}
	return 0;
}

/* s as a string of arena a: the static copy or a new arena copy. */
static const char *
arena_ns(struct xml_arena *a, const char *s)
{
	const char *t;
	size_t n;

	if (s == NULL || s[0] == '\0') {
		return "";
	}
	if (ns_is_static(s)) {
		return s;
	}
	n = strlen(s);
	if ((t = ns_intern(s, n)) != NULL) {
		return t;
	}
	return arena_strndup(a, s, n);
}

/* ---- parser state ---- */

/* An element being parsed: the public node plus what the parser needs. */
struct pnode {
	struct xml_node	 n;		/* first: a pnode is an xml_node */
	const char	*prefix;	/* element prefix, NULL if none */
	const char	*dflt;		/* default namespace inside */
	size_t		 ns_mark;	/* ns stack length before its decls */
};

struct nsbind {
	const char	*prefix;
	size_t		 plen;
	const char	*uri;
	int		 owned;		/* uri must be copied into a stanza */
};

enum {
	ST_PROLOG,	/* before the root element */
	ST_TOP,		/* inside the root, between stanzas */
	ST_IN,		/* inside a stanza */
	ST_CLOSED	/* after the root closed */
};

enum { MODE_STREAM, MODE_ANYROOT, MODE_DOC };

enum { EV_NONE, EV_OPEN, EV_OPEN_CLOSE, EV_STANZA, EV_CLOSE };

enum { PK_NONE, PK_TEXT, PK_LT, PK_STAG, PK_ETAG, PK_BANG, PK_PI };

struct xml_parser {
	struct xml_limits lim;
	struct xml_callbacks cb;
	void		*ud;
	int		 mode;
	int		 state;
	int		 err;
	int		 at_start;	/* nothing consumed yet in this stream */
	int		 restarted;	/* a stream restart: see xml_parser_reset */
	unsigned	 depth;		/* open elements in the stanza */
	unsigned long	 line;
	unsigned long long byte;

	/* stanza under construction */
	struct xml_arena *arena;
	struct pnode	*cur;		/* innermost open element */
	size_t		 stanza_bytes;

	/* namespace declarations inside the stanza */
	struct nsbind	*ns;
	size_t		 ns_len, ns_cap;

	/* stream scope: the header's bindings, in one block (hblock) */
	const struct nsbind *hns;
	size_t		 hns_len;
	const char	*hdflt;
	int		 hdflt_owned;
	const char	*hprefix, *hname;	/* root element, for its close */
	void		*hblock;

	/* token cut by the end of a chunk */
	unsigned char	*pend;
	size_t		 plen, pcap;
	size_t		 pn;		/* bytes scanned of the token */
	unsigned char	 pkind, pquote, p1, p2;

	const unsigned char *data_end;	/* of the chunk being fed */

	/* event to deliver after the token */
	int		 ev;
	struct xml_node	*evnode;
	struct xml_arena *evarena;
};

#define ARENA_FIRST	(2048 - 32)
/* a stanza's tree may take ARENA_FACTOR times its byte limit (+ slack) */
#define ARENA_FACTOR	8
#define ARENA_SLACK	(64 * 1024)
#define PEND_KEEP	256

static void
ns_push(struct xml_parser *p, const char *prefix, size_t plen,
    const char *uri)
{
	if (p->ns_len == p->ns_cap) {
		p->ns_cap = p->ns_cap ? p->ns_cap * 2 : 8;
		p->ns = xrealloc(p->ns, p->ns_cap * sizeof(*p->ns));
	}
	p->ns[p->ns_len].prefix = prefix;
	p->ns[p->ns_len].plen = plen;
	p->ns[p->ns_len].uri = uri;
	p->ns[p->ns_len].owned = 0;
	p->ns_len++;
}

/* URI bound to prefix[0..plen) for the current stanza, or NULL. */
static const char *
ns_lookup(struct xml_parser *p, const char *prefix, size_t plen)
{
	size_t i;

	for (i = p->ns_len; i-- > 0;) {
		if (p->ns[i].plen == plen &&
		    memcmp(p->ns[i].prefix, prefix, plen) == 0) {
			return p->ns[i].uri;
		}
	}
	for (i = 0; i < p->hns_len; i++) {
		if (p->hns[i].plen == plen &&
		    memcmp(p->hns[i].prefix, prefix, plen) == 0) {
			if (p->hns[i].owned) {
				return arena_strndup(p->arena, p->hns[i].uri,
				    strlen(p->hns[i].uri));
			}
			return p->hns[i].uri;
		}
	}
	if (plen == 3 && memcmp(prefix, "xml", 3) == 0) {
		return XML_NS_XML;
	}
	return NULL;
}

/* ---- UTF-8 and names ---- */

static int
xml_char_ok(uint32_t cp)
{
	if (cp < 0x20) {
		return cp == 0x9 || cp == 0xA || cp == 0xD;
	}
	if (cp <= 0xD7FF) {
		return 1;
	}
	if (cp >= 0xE000 && cp <= 0xFFFD) {
		return 1;
	}
	return cp >= 0x10000 && cp <= 0x10FFFF;
}

/*
 * Decode the multi-byte sequence at q (q[0] >= 0x80): its length, or
 * XML_ERR_UTF8 (malformed, overlong, surrogate, > U+10FFFF, U+FFFE/FFFF),
 * or UTF8_TRUNC when it runs past e.
 */
static int
utf8_char(const unsigned char *q, const unsigned char *e, uint32_t *cpp)
{
	unsigned c = q[0];
	uint32_t cp;
	int n, i;

	if (c < 0xC2) {
		return XML_ERR_UTF8;
	} else if (c < 0xE0) {
		n = 2;
		cp = c & 0x1F;
	} else if (c < 0xF0) {
		n = 3;
		cp = c & 0x0F;
	} else if (c < 0xF5) {
		n = 4;
		cp = c & 0x07;
	} else {
		return XML_ERR_UTF8;
	}
	for (i = 1; i < n; i++) {
		if (q + i >= e) {
			return UTF8_TRUNC;
		}
		if ((q[i] & 0xC0) != 0x80) {
			return XML_ERR_UTF8;
		}
		cp = (cp << 6) | (q[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    !xml_char_ok(cp)) {
		return XML_ERR_UTF8;
	}
	*cpp = cp;
	return n;
}

static int
name_start_ok(uint32_t c)
{
	return (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) ||
	    (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) ||
	    (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) ||
	    (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) ||
	    (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) ||
	    (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

static int
name_char_ok(uint32_t c)
{
	return name_start_ok(c) || c == 0xB7 || (c >= 0x300 && c <= 0x36F) ||
	    (c >= 0x203F && c <= 0x2040);
}

/*
 * Scan a QName (NCName or NCName:NCName) at q.  On success returns 0,
 * *endp past it and *colonp at the colon (NULL if none).  NEED_MORE when
 * the data ends inside it.
 */
static int
scan_qname(const struct xml_parser *p, const unsigned char *q,
    const unsigned char *e, const unsigned char **endp,
    const unsigned char **colonp)
{
	const unsigned char *s = q, *colon = NULL;
	int first = 1;
	uint32_t cp;
	int n;

	for (;;) {
		unsigned c;

		if ((size_t)(q - s) > p->lim.max_name_len) {
			return XML_ERR_LIMIT_NAME;
		}
		if (q >= e) {
			return NEED_MORE;
		}
		c = *q;
		if (cls[c] & C_NCHAR) {
			if (first && !(cls[c] & C_NSTART)) {
				return XML_ERR_SYNTAX;
			}
			first = 0;
			q++;
		} else if (c == ':') {
			if (first || colon != NULL) {
				return XML_ERR_SYNTAX;
			}
			colon = q++;
			first = 1;
		} else if (c >= 0x80) {
			n = utf8_char(q, e, &cp);
			if (n == UTF8_TRUNC) {
				return NEED_MORE;
			}
			if (n < 0) {
				return n;
			}
			if (first ? !name_start_ok(cp) : !name_char_ok(cp)) {
				return XML_ERR_SYNTAX;
			}
			first = 0;
			q += n;
		} else {
			break;
		}
	}
	if (first) {
		return XML_ERR_SYNTAX;
	}
	*endp = q;
	*colonp = colon;
	return 0;
}

/* ---- character data ---- */

enum { DEC_TEXT, DEC_ATTR, DEC_CDATA };

static char *
put_utf8(char *d, uint32_t cp)
{
	if (cp < 0x80) {
		*d++ = (char)cp;
	} else if (cp < 0x800) {
		*d++ = (char)(0xC0 | (cp >> 6));
		*d++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*d++ = (char)(0xE0 | (cp >> 12));
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*d++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*d++ = (char)(0xF0 | (cp >> 18));
		*d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*d++ = (char)(0x80 | (cp & 0x3F));
	}
	return d;
}

/*
 * Decode the reference at q ('&') within [q, e) into *dp.  Returns the
 * bytes consumed or an error: XML_ERR_ENTITY for a well-formed reference
 * to an undefined entity, XML_ERR_UTF8 for a char ref to a forbidden
 * character, XML_ERR_SYNTAX otherwise.
 */
static long
decode_ref(const unsigned char *q, const unsigned char *e, char **dp)
{
	const unsigned char *r = q + 1;
	uint32_t cp = 0;
	char *d = *dp;

	if (r < e && *r == '#') {
		r++;
		if (r < e && *r == 'x') {
			r++;
			if (r >= e || *r == ';') {
				return XML_ERR_SYNTAX;
			}
			for (; r < e && *r != ';'; r++) {
				unsigned c = *r, v;

				if (c >= '0' && c <= '9') {
					v = c - '0';
				} else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
					v = (c | 0x20) - 'a' + 10;
				} else {
					return XML_ERR_SYNTAX;
				}
				cp = cp * 16 + v;
				if (cp > 0x10FFFF) {
					return XML_ERR_UTF8;
				}
			}
		} else {
			if (r >= e || *r == ';') {
				return XML_ERR_SYNTAX;
			}
			for (; r < e && *r != ';'; r++) {
				if (*r < '0' || *r > '9') {
					return XML_ERR_SYNTAX;
				}
				cp = cp * 10 + (uint32_t)(*r - '0');
				if (cp > 0x10FFFF) {
					return XML_ERR_UTF8;
				}
			}
		}
		if (r >= e) {
			return XML_ERR_SYNTAX;
		}
		if (!xml_char_ok(cp)) {
			return XML_ERR_UTF8;
		}
		*dp = put_utf8(d, cp);
		return r + 1 - q;
	}
	/* named: the five predefined entities only (RFC 6120 §11.1) */
	while (r < e && *r != ';' && r - q < 8) {
		r++;
	}
	if (r >= e || *r != ';') {
		return XML_ERR_SYNTAX;
	}
	switch (r - q - 1) {
	case 2:
		if (q[1] == 'l' && q[2] == 't') {
			*d = '<';
		} else if (q[1] == 'g' && q[2] == 't') {
			*d = '>';
		} else {
			goto unknown;
		}
		break;
	case 3:
		if (memcmp(q + 1, "amp", 3) != 0) {
			goto unknown;
		}
		*d = '&';
		break;
	case 4:
		if (memcmp(q + 1, "quot", 4) == 0) {
			*d = '"';
		} else if (memcmp(q + 1, "apos", 4) == 0) {
			*d = '\'';
		} else {
			goto unknown;
		}
		break;
	default:
		goto unknown;
	}
	*dp = d + 1;
	return r + 1 - q;
unknown:
	if (r == q + 1 || (q[1] < 0x80 && !(cls[q[1]] & C_NSTART))) {
		return XML_ERR_SYNTAX;
	}
	for (q++; q < r; q++) {
		if (*q < 0x80 && !(cls[*q] & C_NCHAR) && *q != ':') {
			return XML_ERR_SYNTAX;
		}
	}
	return XML_ERR_ENTITY;
}

/*
 * Decode character data [s, e) into dst (room for e - s bytes): entity
 * and char refs (not in CDATA), line-end normalization, attribute value
 * whitespace normalization (XML 1.0 §3.3.3), UTF-8 and Char checks.
 * Returns the decoded length or a negative error.
 */
static long
decode(const unsigned char *s, const unsigned char *e, char *dst, int mode)
{
	const unsigned char *q = s, *run;
	unsigned char mask = mode == DEC_TEXT ? C_TXT :
	    (mode == DEC_ATTR ? C_ATT : C_CDT);
	char *d = dst;
	uint32_t cp;
	long r;

	for (;;) {
		run = q;
		while (q < e && !(cls[*q] & mask)) {
			q++;
		}
		if (q != run) {
			memcpy(d, run, (size_t)(q - run));
			d += q - run;
		}
		if (q >= e) {
			break;
		}
		switch (*q) {
		case '&':
			r = decode_ref(q, e, &d);
			if (r < 0) {
				return r;
			}
			q += r;
			break;
		case '\r':
			/* §2.11: CR LF and lone CR become LF */
			if (q + 1 < e && q[1] == '\n') {
				q++;
			}
			*d++ = mode == DEC_ATTR ? ' ' : '\n';
			q++;
			break;
		case '\n':
		case '\t':
			*d++ = ' ';
			q++;
			break;
		case '<':
			return XML_ERR_SYNTAX;
		case '>':
			/* "]]>" may not appear in character data (§2.4) */
			if (q - s >= 2 && q[-1] == ']' && q[-2] == ']') {
				return XML_ERR_SYNTAX;
			}
			*d++ = '>';
			q++;
			break;
		default:
			if (*q < 0x80) {
				return XML_ERR_UTF8;
			}
			r = utf8_char(q, e, &cp);
			if (r < 0) {
				return XML_ERR_UTF8;
			}
			memcpy(d, q, (size_t)r);
			d += r;
			q += r;
			break;
		}
	}
	return d - dst;
}

static struct xml_node *
node_text_new(struct xml_arena *a, char *text, size_t len)
{
	struct xml_node *t = arena_alloc(a, sizeof(*t));

	memset(t, 0, sizeof(*t));
	t->type = XML_TEXT;
	t->arena = a;
	t->text = text;
	t->text_len = len;
	return t;
}

static void
node_append(struct xml_node *parent, struct xml_node *child)
{
	child->parent = parent;
	child->next = NULL;
	if (parent->last_child != NULL) {
		parent->last_child->next = child;
	} else {
		parent->first_child = child;
	}
	parent->last_child = child;
}

/* Append decoded [s, e) to the open element, merged with a trailing text. */
static int
add_text(struct xml_parser *p, const unsigned char *s, const unsigned char *e,
    int mode)
{
	struct xml_arena *a = p->arena;
	struct xml_node *par = &p->cur->n, *t = par->last_child;
	size_t n = (size_t)(e - s), off = 0;
	char *dst;
	long dl;

	if (t != NULL && t->type == XML_TEXT) {
		off = t->text_len;
		dst = arena_str(a, off + n + 1);
		memcpy(dst, t->text, off);
	} else {
		t = NULL;
		dst = arena_str(a, n + 1);
	}
	dl = decode(s, e, dst + off, mode);
	if (dl < 0) {
		return (int)dl;
	}
	dst[off + (size_t)dl] = '\0';
	arena_trim(a, dst, off + (size_t)dl + 1);
	if (t != NULL) {
		t->text = dst;
		t->text_len = off + (size_t)dl;
	} else if (dl > 0) {
		node_append(par, node_text_new(a, dst, (size_t)dl));
	}
	return 0;
}

/* ---- tokens ---- */

static void
stanza_done(struct xml_parser *p)
{
	/* idle between stanzas: drop the token buffer unless a cut token is
	 * being parsed from it right now (pend_clear() handles that one) */
	if (p->pkind == PK_NONE) {
		free(p->pend);
		p->pend = NULL;
		p->pcap = 0;
	}
	p->arena = NULL;
	p->cur = NULL;
	p->depth = 0;
	p->state = ST_TOP;
	free(p->ns);
	p->ns = NULL;
	p->ns_len = p->ns_cap = 0;
}

/* Save the root element's scope for the rest of the stream. */
static void
hdr_save(struct xml_parser *p, const struct pnode *el)
{
	size_t need, i, n = p->ns_len;
	struct nsbind *hb;
	char *sp;
	int dflt_copy = !ns_is_static(el->dflt) && el->dflt[0] != '\0';

	need = n * sizeof(*hb);
	for (i = 0; i < n; i++) {
		need += p->ns[i].plen + 1;
		if (!ns_is_static(p->ns[i].uri)) {
			need += strlen(p->ns[i].uri) + 1;
		}
	}
	need += strlen(el->n.name) + 1;
	need += el->prefix ? strlen(el->prefix) + 1 : 0;
	need += dflt_copy ? strlen(el->dflt) + 1 : 0;
	hb = xmalloc(need);
	sp = (char *)(hb + n);
	for (i = 0; i < n; i++) {
		hb[i].plen = p->ns[i].plen;
		hb[i].prefix = sp;
		memcpy(sp, p->ns[i].prefix, hb[i].plen);
		sp[hb[i].plen] = '\0';
		sp += hb[i].plen + 1;
		if (ns_is_static(p->ns[i].uri)) {
			hb[i].uri = p->ns[i].uri;
			hb[i].owned = 0;
		} else {
			hb[i].uri = strcpy(sp, p->ns[i].uri);
			sp += strlen(sp) + 1;
			hb[i].owned = 1;
		}
	}
	p->hname = strcpy(sp, el->n.name);
	sp += strlen(sp) + 1;
	p->hprefix = NULL;
	if (el->prefix != NULL) {
		p->hprefix = strcpy(sp, el->prefix);
		sp += strlen(sp) + 1;
	}
	if (dflt_copy) {
		p->hdflt = strcpy(sp, el->dflt);
		p->hdflt_owned = 1;
	} else {
		p->hdflt = el->dflt[0] != '\0' ? el->dflt : "";
		p->hdflt_owned = 0;
	}
	free(p->hblock);
	p->hblock = hb;
	p->hns = hb;
	p->hns_len = n;
	p->ns_len = 0;
	free(p->ns);
	p->ns = NULL;
	p->ns_cap = 0;
}

/* Does attribute a clash with an earlier one of the same element? */
static int
attr_dup(const struct xml_attr *list, const struct xml_attr *a)
{
	const struct xml_attr *b;

	for (b = list; b != a; b = b->next) {
		if (strcmp(b->name, a->name) != 0) {
			continue;
		}
		if (a->ns == b->ns || (a->ns != NULL && b->ns != NULL &&
		    strcmp(a->ns, b->ns) == 0)) {
			return 1;
		}
	}
	return 0;
}

/* What parse_stag collects while it reads one start tag. */
struct stag {
	struct xml_arena	*a;
	struct xml_attr		*attrs;		/* in document order */
	struct xml_attr		**tailp;
	size_t			 ns_mark;	/* ns stack length before */
	unsigned		 nattrs;
	int			 header;	/* the stream header */
	int			 has_dflt;	/* an xmlns='...' was seen */
	const char		*dflt;
};

/* One attribute as scanned: its name [an, ne), colon or NULL, value. */
struct attr_tok {
	const unsigned char	*an, *ne, *acolon;
	char			*val;		/* decoded, in the arena */
	long			 vl;
};

static void
stag_add_attr(struct stag *st, const char *name, const char *ns,
    const char *prefix, const char *value)
{
	struct xml_attr *at = arena_alloc(st->a, sizeof(*at));

	at->next = NULL;
	at->name = name;
	at->ns = ns;
	at->prefix = prefix;
	at->value = value;
	*st->tailp = at;
	st->tailp = &at->next;
}

/*
 * The attribute at q (the whitespace before it already skipped): name,
 * '=', the quoted value decoded into the arena.  *endp follows the
 * closing quote.  0, NEED_MORE or an XML_ERR_*.
 */
static int
stag_scan_attr(struct xml_parser *p, struct stag *st,
    const unsigned char *q, const unsigned char *e, struct attr_tok *t,
    const unsigned char **endp)
{
	const unsigned char *ve;
	unsigned char quote;
	int r;

	t->an = q;
	if ((r = scan_qname(p, q, e, &t->ne, &t->acolon)) != 0) {
		return r;
	}
	q = t->ne;
	while (q < e && (cls[*q] & C_WS)) {
		q++;
	}
	if (q >= e) {
		return NEED_MORE;
	}
	if (*q != '=') {
		return XML_ERR_SYNTAX;
	}
	q++;
	while (q < e && (cls[*q] & C_WS)) {
		q++;
	}
	if (q >= e) {
		return NEED_MORE;
	}
	quote = *q++;
	if (quote != '"' && quote != '\'') {
		return XML_ERR_SYNTAX;
	}
	ve = memchr(q, quote, (size_t)(e - q));
	if ((size_t)((ve ? ve : e) - q) > p->lim.max_attr_value_len) {
		return XML_ERR_LIMIT_VALUE;
	}
	if (ve == NULL) {
		return NEED_MORE;
	}
	if (++st->nattrs > p->lim.max_attrs) {
		return XML_ERR_LIMIT_ATTRS;
	}
	t->val = arena_str(st->a, (size_t)(ve - q) + 1);
	t->vl = decode(q, ve, t->val, DEC_ATTR);
	if (t->vl < 0) {
		return (int)t->vl;
	}
	t->val[t->vl] = '\0';
	arena_trim(st->a, t->val, (size_t)t->vl + 1);
	*endp = ve + 1;
	return 0;
}

/*
 * A namespace declaration (Namespaces in XML 1.0 §3): 1 when t was one
 * (recorded; the stream header also keeps it as an attribute), 0 when t
 * is an ordinary attribute, or an XML_ERR_*.
 */
static int
stag_ns_decl(struct xml_parser *p, struct stag *st, const struct attr_tok *t)
{
	const char *uri, *pf;
	size_t pl, i;
	int is_xml;

	if (t->acolon == NULL && t->ne - t->an == 5 &&
	    memcmp(t->an, "xmlns", 5) == 0) {
		if (st->has_dflt) {
			return XML_ERR_DUP_ATTR;
		}
		st->has_dflt = 1;
		if (strcmp(t->val, XML_NS_XML) == 0 ||
		    strcmp(t->val, XML_NS_XMLNS) == 0) {
			return XML_ERR_NS_DECL;
		}
		uri = ns_intern(t->val, (size_t)t->vl);
		st->dflt = uri != NULL ? uri : t->val;
		if (st->header) {
			stag_add_attr(st, "xmlns", XML_NS_XMLNS, NULL,
			    st->dflt);
		}
		return 1;
	}
	if (t->acolon == NULL || t->acolon - t->an != 5 ||
	    memcmp(t->an, "xmlns", 5) != 0) {
		return 0;
	}
	pf = (const char *)t->acolon + 1;
	pl = (size_t)(t->ne - t->acolon - 1);
	is_xml = pl == 3 && memcmp(pf, "xml", 3) == 0;
	if ((pl == 5 && memcmp(pf, "xmlns", 5) == 0) || t->vl == 0 ||
	    strcmp(t->val, XML_NS_XMLNS) == 0 ||
	    is_xml != (strcmp(t->val, XML_NS_XML) == 0)) {
		return XML_ERR_NS_DECL;
	}
	for (i = st->ns_mark; i < p->ns_len; i++) {
		if (p->ns[i].plen == pl && memcmp(p->ns[i].prefix, pf, pl) == 0) {
			return XML_ERR_DUP_ATTR;
		}
	}
	if (is_xml) {
		return 1;
	}
	uri = ns_intern(t->val, (size_t)t->vl);
	if (uri == NULL) {
		uri = t->val;
	}
	pf = arena_strndup(st->a, pf, pl);
	ns_push(p, pf, pl, uri);
	if (st->header) {
		stag_add_attr(st, pf, XML_NS_XMLNS, "xmlns", uri);
	}
	return 1;
}

/* An ordinary attribute; its namespace is resolved with the element's. */
static void
stag_plain_attr(struct stag *st, const struct attr_tok *t)
{
	if (t->acolon != NULL) {
		stag_add_attr(st, arena_strndup(st->a, (const char *)t->acolon +
		    1, (size_t)(t->ne - t->acolon - 1)), NULL,
		    arena_strndup(st->a, (const char *)t->an,
		    (size_t)(t->acolon - t->an)), t->val);
	} else {
		stag_add_attr(st, arena_strndup(st->a, (const char *)t->an,
		    (size_t)(t->ne - t->an)), NULL, NULL, t->val);
	}
}

/* The element's and its prefixed attributes' namespaces, once all the
 * declarations of the tag are known; duplicates refused.  0 or error. */
static int
stag_resolve(struct xml_parser *p, struct pnode *el, struct pnode *parent,
    struct stag *st)
{
	struct xml_attr *at;
	const char *uri;

	if (st->has_dflt) {
		el->dflt = st->dflt;
	} else if (parent != NULL) {
		el->dflt = parent->dflt;
	} else if (p->hdflt_owned) {
		el->dflt = arena_strndup(st->a, p->hdflt, strlen(p->hdflt));
	} else {
		el->dflt = p->hdflt != NULL ? p->hdflt : "";
	}
	if (el->prefix != NULL) {
		if (strcmp(el->prefix, "xmlns") == 0) {
			return XML_ERR_NS_DECL;
		}
		uri = ns_lookup(p, el->prefix, strlen(el->prefix));
		if (uri == NULL) {
			return XML_ERR_NS_UNBOUND;
		}
		el->n.ns = uri;
	} else {
		el->n.ns = el->dflt;
	}
	for (at = st->attrs; at != NULL; at = at->next) {
		if (at->prefix != NULL && at->ns == NULL) {
			uri = ns_lookup(p, at->prefix, strlen(at->prefix));
			if (uri == NULL) {
				return XML_ERR_NS_UNBOUND;
			}
			at->ns = uri;
		}
		if (attr_dup(st->attrs, at)) {
			return XML_ERR_DUP_ATTR;
		}
	}
	el->n.attrs = st->attrs;
	return 0;
}

/* The element of a start tag named [q, ne), prefixed when colon is not
 * NULL, in st's arena; not linked into the tree yet. */
static struct pnode *
stag_element(const struct stag *st, const unsigned char *q,
    const unsigned char *ne, const unsigned char *colon)
{
	struct pnode *el = arena_alloc(st->a, sizeof(*el));

	memset(el, 0, sizeof(*el));
	el->n.type = XML_ELEMENT;
	el->n.arena = st->a;
	if (colon != NULL) {
		el->prefix = arena_strndup(st->a, (const char *)q,
		    (size_t)(colon - q));
		el->n.name = arena_strndup(st->a, (const char *)colon + 1,
		    (size_t)(ne - colon - 1));
	} else {
		el->n.name = arena_strndup(st->a, (const char *)q,
		    (size_t)(ne - q));
	}
	el->ns_mark = st->ns_mark;
	return el;
}

/*
 * The attributes of a start tag, from q (after the name) to its '>' or
 * "/>": *endp is set past it and *emptyp to 1 for "/>".  0, NEED_MORE or
 * an XML_ERR_*.
 */
static int
stag_attrs(struct xml_parser *p, struct stag *st, const unsigned char *q,
    const unsigned char *e, const unsigned char **endp, int *emptyp)
{
	struct attr_tok t;
	int r, ws;

	for (;;) {
		ws = 0;
		while (q < e && (cls[*q] & C_WS)) {
			q++;
			ws = 1;
		}
		if (q >= e) {
			return NEED_MORE;
		}
		if (*q == '>') {
			*endp = q + 1;
			*emptyp = 0;
			return 0;
		}
		if (*q == '/') {
			if (q + 1 >= e) {
				return NEED_MORE;
			}
			if (q[1] != '>') {
				return XML_ERR_SYNTAX;
			}
			*endp = q + 2;
			*emptyp = 1;
			return 0;
		}
		if (!ws) {
			return XML_ERR_SYNTAX;
		}
		if ((r = stag_scan_attr(p, st, q, e, &t, &q)) != 0 ||
		    (r = stag_ns_decl(p, st, &t)) < 0) {
			return r;
		}
		if (r == 0) {
			stag_plain_attr(st, &t);
		}
	}
}

/*
 * Start tag at s ('<' + name).  Builds the element and links it into the
 * tree; on NEED_MORE or an error everything is rolled back.
 */
static int
parse_stag(struct xml_parser *p, const unsigned char *s,
    const unsigned char *e, const unsigned char **endp)
{
	const unsigned char *q = s + 1, *ne, *colon;
	struct pnode *el, *parent = p->cur;
	struct arena_mark mark;
	struct stag st;
	int r, created = 0, empty;

	if ((r = scan_qname(p, q, e, &ne, &colon)) != 0) {
		return r;
	}
	if (p->state == ST_IN && p->depth >= p->lim.max_depth) {
		return XML_ERR_LIMIT_DEPTH;
	}
	if (p->arena == NULL) {
		p->arena = arena_new(ARENA_FIRST);
		created = 1;
	}
	memset(&st, 0, sizeof(st));
	st.a = p->arena;
	st.tailp = &st.attrs;
	st.ns_mark = p->ns_len;
	st.header = p->state == ST_PROLOG;
	mark = arena_mark(st.a);
	el = stag_element(&st, q, ne, colon);
	if ((r = stag_attrs(p, &st, ne, e, &q, &empty)) != 0) {
		goto fail;
	}

	/* a tree of tiny elements costs far more than its raw bytes: cap it */
	if (st.a->total > ARENA_FACTOR * p->lim.max_stanza_bytes +
	    ARENA_SLACK) {
		r = XML_ERR_LIMIT_STANZA;
		goto fail;
	}
	if ((r = stag_resolve(p, el, parent, &st)) != 0) {
		goto fail;
	}
	*endp = q;

	if (st.header) {
		if (p->mode == MODE_STREAM && (strcmp(el->n.name, "stream") != 0 ||
		    strcmp(el->n.ns, XML_NS_STREAM) != 0)) {
			r = XML_ERR_NOT_STREAM;
			goto fail;
		}
		hdr_save(p, el);
		p->ev = empty ? EV_OPEN_CLOSE : EV_OPEN;
		p->evnode = &el->n;
		p->evarena = st.a;
		p->arena = NULL;
		p->state = empty ? ST_CLOSED : ST_TOP;
		return 0;
	}
	if (parent != NULL) {
		node_append(&parent->n, &el->n);
		p->stanza_bytes += (size_t)(q - s);
	} else {
		p->stanza_bytes = (size_t)(q - s);
		p->state = ST_IN;
	}
	if (!empty) {
		p->cur = el;
		p->depth++;
		return 0;
	}
	p->ns_len = st.ns_mark;
	if (parent == NULL) {
		p->ev = EV_STANZA;
		p->evnode = &el->n;
		stanza_done(p);
	}
	return 0;

fail:
	p->ns_len = st.ns_mark;
	if (created) {
		arena_free(st.a);
		p->arena = NULL;
	} else {
		arena_rollback(st.a, mark);
	}
	return r;
}

/* End tag at s ("</"). */
static int
parse_etag(struct xml_parser *p, const unsigned char *s,
    const unsigned char *e, const unsigned char **endp)
{
	const unsigned char *gt, *q = s + 2, *ne, *colon, *nm;
	const char *want_prefix, *want_name;
	size_t pl, nl;
	int r;

	gt = memchr(q, '>', (size_t)(e - q));
	if (gt == NULL) {
		/* report a bad or long name now, as the complete token would */
		r = scan_qname(p, q, e, &ne, &colon);
		if (r == 0) {
			while (ne < e && (cls[*ne] & C_WS)) {
				ne++;
			}
			r = ne < e ? XML_ERR_SYNTAX : NEED_MORE;
		}
		return r;
	}
	if ((r = scan_qname(p, q, gt + 1, &ne, &colon)) != 0) {
		return r == NEED_MORE ? XML_ERR_SYNTAX : r;
	}
	for (; ne < gt; ne++) {
		if (!(cls[*ne] & C_WS)) {
			return XML_ERR_SYNTAX;
		}
	}
	if (p->state == ST_IN) {
		want_prefix = p->cur->prefix;
		want_name = p->cur->n.name;
	} else if (p->state == ST_TOP && p->mode != MODE_DOC) {
		want_prefix = p->hprefix;
		want_name = p->hname;
	} else {
		return XML_ERR_SYNTAX;
	}
	nm = colon != NULL ? colon + 1 : q;
	pl = colon != NULL ? (size_t)(colon - q) : 0;
	nl = (size_t)(ne - nm);
	while (nl > 0 && (cls[nm[nl - 1]] & C_WS)) {
		nl--;
	}
	if ((want_prefix == NULL) != (colon == NULL) ||
	    (colon != NULL && (strlen(want_prefix) != pl ||
	    memcmp(want_prefix, q, pl) != 0)) ||
	    strlen(want_name) != nl || memcmp(want_name, nm, nl) != 0) {
		return XML_ERR_TAG_MISMATCH;
	}
	*endp = gt + 1;
	if (p->state == ST_TOP) {
		p->state = ST_CLOSED;
		p->ev = EV_CLOSE;
		return 0;
	}
	p->stanza_bytes += (size_t)(gt + 1 - s);
	p->ns_len = p->cur->ns_mark;
	if (--p->depth > 0) {
		p->cur = (struct pnode *)(void *)p->cur->n.parent;
		return 0;
	}
	p->ev = EV_STANZA;
	p->evnode = &p->cur->n;
	stanza_done(p);
	return 0;
}

static const char cdata_open[] = "<![CDATA[";

/* "<!": CDATA section, or a DTD/comment (refused: RFC 6120 §11.1). */
static int
parse_bang(struct xml_parser *p, const unsigned char *s,
    const unsigned char *e, const unsigned char **endp)
{
	const unsigned char *q;
	size_t i, n = (size_t)(e - s);

	for (i = 2; i < 9; i++) {
		if (i >= n) {
			return NEED_MORE;
		}
		if (s[i] != (unsigned char)cdata_open[i]) {
			if (s[2] == '-' || s[2] == 'D' || s[2] == 'E' ||
			    s[2] == 'A' || s[2] == 'N') {
				return XML_ERR_RESTRICTED;
			}
			return XML_ERR_SYNTAX;
		}
	}
	if (p->state == ST_TOP) {
		return XML_ERR_TEXT_AT_TOP;
	}
	if (p->state != ST_IN) {
		return XML_ERR_SYNTAX;
	}
	for (q = s + 9; q + 2 < e; q++) {
		q = memchr(q, ']', (size_t)(e - q - 2));
		if (q == NULL) {
			break;
		}
		if (q[1] == ']' && q[2] == '>') {
			int r = add_text(p, s + 9, q, DEC_CDATA);

			if (r != 0) {
				return r;
			}
			*endp = q + 3;
			p->stanza_bytes += (size_t)(q + 3 - s);
			return 0;
		}
	}
	return NEED_MORE;
}

/* "<?": only the XML declaration, only at the very start. */
static int
parse_pi(struct xml_parser *p, const unsigned char *s,
    const unsigned char *e, const unsigned char **endp)
{
	const unsigned char *q, *end = NULL, *ne, *colon, *v, *ve;
	int seen = 0;

	if (!p->at_start) {
		return XML_ERR_RESTRICTED;
	}
	for (q = s + 2; q + 1 < e; q++) {
		if (q[0] == '?' && q[1] == '>') {
			end = q;
			break;
		}
	}
	if (end == NULL) {
		return NEED_MORE;
	}
	if (end - s < 5 || memcmp(s + 2, "xml", 3) != 0 ||
	    (s + 5 < end && !(cls[s[5]] & C_WS))) {
		return XML_ERR_RESTRICTED;
	}
	/* XML 1.0 §2.8: version, then optional encoding and standalone */
	q = s + 5;
	for (;;) {
		while (q < end && (cls[*q] & C_WS)) {
			q++;
		}
		if (q == end) {
			break;
		}
		if (scan_qname(p, q, end, &ne, &colon) != 0 || colon != NULL) {
			return XML_ERR_SYNTAX;
		}
		v = ne;
		while (v < end && (cls[*v] & C_WS)) {
			v++;
		}
		if (v >= end || *v++ != '=') {
			return XML_ERR_SYNTAX;
		}
		while (v < end && (cls[*v] & C_WS)) {
			v++;
		}
		if (v >= end || (*v != '"' && *v != '\'')) {
			return XML_ERR_SYNTAX;
		}
		ve = memchr(v + 1, *v, (size_t)(end - v - 1));
		if (ve == NULL) {
			return XML_ERR_SYNTAX;
		}
		v++;
		if (ne - q == 7 && memcmp(q, "version", 7) == 0 && seen == 0) {
			if (ve - v != 3 || memcmp(v, "1.0", 3) != 0) {
				return XML_ERR_SYNTAX;
			}
			seen = 1;
		} else if (ne - q == 8 && memcmp(q, "encoding", 8) == 0 &&
		    seen == 1) {
			if (ve - v != 5 || strncasecmp((const char *)v, "UTF-8",
			    5) != 0) {
				return XML_ERR_ENCODING;
			}
			seen = 2;
		} else if (ne - q == 10 && memcmp(q, "standalone", 10) == 0 &&
		    seen >= 1 && seen < 3) {
			if (!((ve - v == 3 && memcmp(v, "yes", 3) == 0) ||
			    (ve - v == 2 && memcmp(v, "no", 2) == 0))) {
				return XML_ERR_SYNTAX;
			}
			seen = 3;
		} else {
			return XML_ERR_SYNTAX;
		}
		q = ve + 1;
		if (q < end && !(cls[*q] & C_WS)) {
			return XML_ERR_SYNTAX;
		}
	}
	if (seen == 0) {
		return XML_ERR_SYNTAX;
	}
	*endp = end + 2;
	return 0;
}

/*
 * One token at s.  whole: [s, e) is exactly one complete token (from the
 * pending buffer); otherwise e is just the end of the available data.
 */
static int
token(struct xml_parser *p, const unsigned char *s, const unsigned char *e,
    const unsigned char **endp, int whole)
{
	const unsigned char *te;
	int r;

	if (s >= e) {
		return NEED_MORE;
	}
	if (*s != '<') {
		if (whole) {
			te = e;
		} else if ((te = memchr(s, '<', (size_t)(e - s))) == NULL) {
			/* the '<' ending a text may sit just past the budget */
			if (e < p->data_end && *e == '<') {
				te = e;
			} else {
				return NEED_MORE;
			}
		}
		if ((r = add_text(p, s, te, DEC_TEXT)) != 0) {
			return r;
		}
		p->stanza_bytes += (size_t)(te - s);
		*endp = te;
		return 0;
	}
	if (e - s < 2) {
		return NEED_MORE;
	}
	switch (s[1]) {
	case '/':
		return parse_etag(p, s, e, endp);
	case '!':
		return parse_bang(p, s, e, endp);
	case '?':
		return parse_pi(p, s, e, endp);
	default:
		return parse_stag(p, s, e, endp);
	}
}

/* ---- the pending (cut) token ---- */

static void
pend_begin(struct xml_parser *p, unsigned char first)
{
	p->pkind = first == '<' ? PK_LT : PK_TEXT;
	p->pn = 0;
	p->plen = 0;
	p->pquote = p->p1 = p->p2 = 0;
}

static void
pend_clear(struct xml_parser *p)
{
	p->pkind = PK_NONE;
	p->plen = 0;
	if (p->pcap > PEND_KEEP || p->state != ST_IN) {
		free(p->pend);
		p->pend = NULL;
		p->pcap = 0;
	}
}

/* The end of the pending token within [q, e), or NULL if it goes on. */
static const unsigned char *
pend_scan(struct xml_parser *p, const unsigned char *q,
    const unsigned char *e)
{
	unsigned c;
	size_t n;

	if (p->pkind == PK_TEXT) {
		return memchr(q, '<', (size_t)(e - q));
	}
	for (; q < e; q++) {
		c = *q;
		n = p->pn++;
		switch (p->pkind) {
		case PK_LT:
			if (n == 0) {
				break;
			}
			if (c == '/') {
				p->pkind = PK_ETAG;
			} else if (c == '!') {
				p->pkind = PK_BANG;
			} else if (c == '?') {
				p->pkind = PK_PI;
				if (!p->at_start) {
					return q + 1;
				}
			} else {
				p->pkind = PK_STAG;
				if (c == '>') {
					return q + 1;
				}
			}
			break;
		case PK_STAG:
			if (p->pquote != 0) {
				if (c == p->pquote) {
					p->pquote = 0;
				}
			} else if (c == '"' || c == '\'') {
				p->pquote = (unsigned char)c;
			} else if (c == '>') {
				return q + 1;
			}
			break;
		case PK_ETAG:
			if (c == '>') {
				return q + 1;
			}
			break;
		case PK_BANG:
			if (n < 9) {
				if (c != (unsigned char)cdata_open[n]) {
					return q + 1;
				}
			} else if (c == '>' && n >= 11 && p->p1 == ']' &&
			    p->p2 == ']') {
				return q + 1;
			}
			break;
		case PK_PI:
			if (c == '>' && n >= 3 && p->p1 == '?') {
				return q + 1;
			}
			break;
		}
		p->p2 = p->p1;
		p->p1 = (unsigned char)c;
	}
	return NULL;
}

/*
 * The pending token grows past the stanza budget: report what parsing the
 * budget's worth of it directly would have reported (an earlier error in
 * the token, else XML_ERR_LIMIT_STANZA), so that errors do not depend on
 * how the input was cut.
 */
static int
pend_overflow(struct xml_parser *p, const unsigned char *q, size_t budget)
{
	const unsigned char *te;
	size_t take = budget - p->plen;
	int r;

	if (p->plen + take > p->pcap) {
		p->pend = xrealloc(p->pend, p->plen + take);
		p->pcap = p->plen + take;
	}
	memcpy(p->pend + p->plen, q, take);
	p->data_end = p->pend + budget;
	r = token(p, p->pend, p->pend + budget, &te, 0);
	if (r < 0) {
		return r;
	}
	return XML_ERR_LIMIT_STANZA;
}

/*
 * Move bytes from *qp into the pending token up to its end.  Returns 1
 * when the token is complete, 0 when all of [*qp, e) was taken, or
 * XML_ERR_LIMIT_STANZA.
 */
static int
pend_feed(struct xml_parser *p, const unsigned char **qp,
    const unsigned char *e)
{
	const unsigned char *q = *qp, *end;
	size_t n, budget = p->lim.max_stanza_bytes;

	if (p->state == ST_IN) {
		budget -= p->stanza_bytes;
	}
	end = pend_scan(p, q, e);
	n = (size_t)((end != NULL ? end : e) - q);
	if (n > budget - p->plen) {
		return pend_overflow(p, q, budget);
	}
	if (p->plen + n > p->pcap) {
		size_t cap = p->pcap ? p->pcap : 64;

		while (cap < p->plen + n) {
			cap *= 2;
		}
		if (cap > budget) {
			cap = budget;
		}
		p->pend = xrealloc(p->pend, cap);
		p->pcap = cap;
	}
	if (n > 0) {
		memcpy(p->pend + p->plen, q, n);
	}
	p->plen += n;
	*qp = q + n;
	return end != NULL;
}

/* ---- feeding ---- */

static int
deliver(struct xml_parser *p)
{
	int ev = p->ev, r = 0;
	struct xml_node *n = p->evnode;
	struct xml_arena *a = p->evarena;

	p->ev = EV_NONE;
	p->evnode = NULL;
	p->evarena = NULL;
	switch (ev) {
	case EV_OPEN:
	case EV_OPEN_CLOSE:
		if (p->cb.stream_open != NULL) {
			r = p->cb.stream_open(p->ud, n);
		}
		arena_free(a);
		if (ev == EV_OPEN_CLOSE && p->cb.stream_close != NULL) {
			r |= p->cb.stream_close(p->ud);
		}
		break;
	case EV_STANZA:
		if (p->cb.stanza != NULL) {
			r = p->cb.stanza(p->ud, n);
		} else {
			xml_free(n);
		}
		break;
	case EV_CLOSE:
		if (p->cb.stream_close != NULL) {
			r = p->cb.stream_close(p->ud);
		}
		break;
	}
	return r;
}

static void
account(struct xml_parser *p, const unsigned char *s, const unsigned char *q)
{
	const unsigned char *nl;

	p->byte += (unsigned long long)(q - s);
	while (s < q && (nl = memchr(s, '\n', (size_t)(q - s))) != NULL) {
		p->line++;
		s = nl + 1;
	}
}

/*
 * Push len bytes (see xml.h).  Tokens are parsed straight from data; a
 * token cut by the end of data continues in the pending buffer.
 */
int
xml_feed(struct xml_parser *p, const char *data, size_t len, size_t *used)
{
	const unsigned char *s = (const unsigned char *)data, *q = s;
	const unsigned char *e = s + len, *te, *lim_e;
	size_t budget;
	int r;

	if (used != NULL) {
		*used = 0;
	}
	if (p->err != 0) {
		return p->err;
	}
	p->data_end = e;
	for (;;) {
		if (p->pkind != PK_NONE) {
			r = pend_feed(p, &q, e);
			if (r < 0) {
				goto fail;
			}
			if (r == 0) {
				break;
			}
			r = token(p, p->pend, p->pend + p->plen, &te, 1);
			pend_clear(p);
			if (r == NEED_MORE) {
				r = XML_ERR_SYNTAX;
			}
			if (r < 0) {
				goto fail;
			}
			p->at_start = 0;
			if (p->ev != EV_NONE && deliver(p) != 0) {
				goto stopped;
			}
			continue;
		}
		if (q >= e) {
			break;
		}
		if (p->state != ST_IN) {
			unsigned c = *q;

			if (cls[c] & C_WS) {
				q++;
				if (!(p->restarted && p->state == ST_PROLOG)) {
					p->at_start = 0;
				}
				continue;
			}
			if (p->state == ST_CLOSED) {
				r = XML_ERR_AFTER_CLOSE;
				goto fail;
			}
			if (c != '<') {
				r = p->state == ST_TOP ? XML_ERR_TEXT_AT_TOP :
				    XML_ERR_SYNTAX;
				goto fail;
			}
			budget = p->lim.max_stanza_bytes;
		} else {
			budget = p->lim.max_stanza_bytes - p->stanza_bytes;
		}
		lim_e = (size_t)(e - q) > budget ? q + budget : e;
		r = token(p, q, lim_e, &te, 0);
		if (r == NEED_MORE) {
			if (lim_e != e) {
				r = XML_ERR_LIMIT_STANZA;
				goto fail;
			}
			pend_begin(p, *q);
			continue;
		}
		if (r < 0) {
			goto fail;
		}
		q = te;
		p->at_start = 0;
		if (p->ev != EV_NONE && deliver(p) != 0) {
			goto stopped;
		}
	}
	account(p, s, q);
	if (used != NULL) {
		*used = len;
	}
	return XML_OK;
stopped:
	account(p, s, q);
	if (used != NULL) {
		*used = (size_t)(q - s);
	}
	return XML_STOPPED;
fail:
	account(p, s, q);
	if (used != NULL) {
		*used = (size_t)(q - s);
	}
	p->err = r;
	return r;
}

/* Fill *l with the documented defaults. */
void
xml_limits_default(struct xml_limits *l)
{
	l->max_stanza_bytes = 256 * 1024;
	l->max_depth = 32;
	l->max_attrs = 64;
	l->max_name_len = 256;
	l->max_attr_value_len = 64 * 1024;
}

static void
parser_clear(struct xml_parser *p)
{
	arena_free(p->arena);
	arena_free(p->evarena);
	if (p->evnode != NULL && p->ev == EV_STANZA) {
		xml_free(p->evnode);
	}
	free(p->ns);
	free(p->pend);
	free(p->hblock);
}

static void
parser_init(struct xml_parser *p)
{
	struct xml_limits lim = p->lim;
	struct xml_callbacks cb = p->cb;
	void *ud = p->ud;
	int mode = p->mode;

	memset(p, 0, sizeof(*p));
	p->lim = lim;
	p->cb = cb;
	p->ud = ud;
	p->mode = mode;
	p->state = ST_PROLOG;
	p->at_start = 1;
	p->line = 1;
	p->hdflt = "";
}

/* See xml.h.  Caller frees with xml_parser_free(). */
struct xml_parser *
xml_parser_new(const struct xml_limits *lim, const struct xml_callbacks *cb,
    void *ud, int require_stream)
{
	struct xml_parser *p = xcalloc(1, sizeof(*p));

	if (lim != NULL) {
		p->lim = *lim;
	} else {
		xml_limits_default(&p->lim);
	}
	if (cb != NULL) {
		p->cb = *cb;
	}
	p->ud = ud;
	p->mode = require_stream ? MODE_STREAM : MODE_ANYROOT;
	parser_init(p);
	return p;
}

/* Free the parser, any stanza in progress and its buffers.  NULL is fine. */
void
xml_parser_free(struct xml_parser *p)
{
	if (p == NULL) {
		return;
	}
	parser_clear(p);
	free(p);
}

/* Back to a fresh stream (after STARTTLS/SASL); limits, callbacks and
 * user data stay.  Safe to call from inside a callback that then stops.
 * Whitespace before the new stream's XML declaration is allowed: a client
 * that ends its last stanza with a newline (go-xmpp does) wrote it on the
 * old stream, before it saw the <success/> that restarts it. */
void
xml_parser_reset(struct xml_parser *p)
{
	parser_clear(p);
	parser_init(p);
	p->restarted = 1;
}

/* Line (1-based) and byte offset of the first byte not consumed. */
void
xml_position(const struct xml_parser *p, unsigned long *line,
    unsigned long long *byte)
{
	if (line != NULL) {
		*line = p->line;
	}
	if (byte != NULL) {
		*byte = p->byte;
	}
}

/* Heap bytes held besides the struct (see xml.h). */
size_t
xml_parser_idle_bytes(const struct xml_parser *p)
{
	size_t n = 0, i;
	struct arena_blk *b;

	if (p->hblock != NULL) {
		n += p->hns_len * sizeof(struct nsbind);
		for (i = 0; i < p->hns_len; i++) {
			n += p->hns[i].plen + 1;
			if (p->hns[i].owned) {
				n += strlen(p->hns[i].uri) + 1;
			}
		}
		n += strlen(p->hname) + 1;
		n += p->hprefix != NULL ? strlen(p->hprefix) + 1 : 0;
		n += p->hdflt_owned ? strlen(p->hdflt) + 1 : 0;
	}
	n += p->pcap + p->ns_cap * sizeof(struct nsbind);
	if (p->arena != NULL) {
		for (b = p->arena->cur; b != NULL; b = b->prev) {
			n += BLK_HDR + b->cap;
		}
	}
	return n;
}

/* sizeof(struct xml_parser). */
size_t
xml_parser_sizeof(void)
{
	return sizeof(struct xml_parser);
}

/* Static message for an error code; never NULL. */
const char *
xml_strerror(int err)
{
	switch (err) {
	case XML_OK:
		return "no error";
	case XML_STOPPED:
		return "stopped by a callback";
	case XML_ERR_SYNTAX:
		return "not well-formed";
	case XML_ERR_UTF8:
		return "invalid UTF-8 or character not allowed in XML";
	case XML_ERR_ENTITY:
		return "undefined entity";
	case XML_ERR_RESTRICTED:
		return "DTD, comment or processing instruction not allowed";
	case XML_ERR_NS_UNBOUND:
		return "unbound namespace prefix";
	case XML_ERR_DUP_ATTR:
		return "duplicate attribute";
	case XML_ERR_TAG_MISMATCH:
		return "mismatched end tag";
	case XML_ERR_LIMIT_STANZA:
		return "stanza too large";
	case XML_ERR_LIMIT_DEPTH:
		return "elements nested too deeply";
	case XML_ERR_LIMIT_ATTRS:
		return "too many attributes";
	case XML_ERR_LIMIT_NAME:
		return "name too long";
	case XML_ERR_LIMIT_VALUE:
		return "attribute value too long";
	case XML_ERR_NOT_STREAM:
		return "root element is not <stream:stream>";
	case XML_ERR_TEXT_AT_TOP:
		return "text between stanzas";
	case XML_ERR_AFTER_CLOSE:
		return "data after the end of the stream";
	case XML_ERR_NS_DECL:
		return "illegal namespace declaration";
	case XML_ERR_ENCODING:
		return "unsupported encoding";
	}
	return "unknown error";
}

/* RFC 6120 §4.9.3 condition for an error code (static string). */
const char *
xml_error_condition(int err)
{
	switch (err) {
	case XML_ERR_RESTRICTED:
		return "restricted-xml";
	case XML_ERR_LIMIT_STANZA:
	case XML_ERR_LIMIT_DEPTH:
	case XML_ERR_LIMIT_ATTRS:
	case XML_ERR_LIMIT_NAME:
	case XML_ERR_LIMIT_VALUE:
		return "policy-violation";
	case XML_ERR_NOT_STREAM:
		return "invalid-namespace";
	case XML_ERR_TEXT_AT_TOP:
		return "bad-format";
	case XML_ERR_ENCODING:
		return "unsupported-encoding";
	case XML_OK:
	case XML_STOPPED:
		return "undefined-condition";
	default:
		return "not-well-formed";
	}
}

/* ---- standalone documents ---- */

struct doc_ctx {
	struct xml_node *wrap;
};

static int
doc_stanza(void *ud, struct xml_node *st)
{
	struct doc_ctx *d = ud;

	xml_copy_into(d->wrap, st);
	xml_free(st);
	return 0;
}

/* See xml.h.  Caller xml_free()s. */
struct xml_node *
xml_parse_fragment(const char *data, size_t len, const char *default_ns,
    int *err)
{
	return xml_parse_fragment_prefixed(data, len, default_ns, NULL, NULL,
	    err);
}

/* See xml.h.  Caller xml_free()s. */
struct xml_node *
xml_parse_fragment_prefixed(const char *data, size_t len,
    const char *default_ns, const char *prefix, const char *prefix_uri,
    int *err)
{
	struct nsbind hns = { prefix, prefix ? strlen(prefix) : 0,
	    prefix_uri, 1 };
	struct xml_parser *p;
	struct xml_callbacks cb;
	struct xml_limits lim;
	struct doc_ctx d;
	int r;

	xml_limits_default(&lim);
	if (lim.max_stanza_bytes < len) {
		lim.max_stanza_bytes = len;
	}
	memset(&cb, 0, sizeof(cb));
	cb.stanza = doc_stanza;
	d.wrap = xml_new("fragment", default_ns);
	p = xml_parser_new(&lim, &cb, &d, 0);
	p->mode = MODE_DOC;
	p->state = ST_TOP;
	p->hns = &hns;
	p->hns_len = prefix != NULL ? 1 : 0;
	p->hdflt = d.wrap->ns;
	p->hdflt_owned = !ns_is_static(p->hdflt) && p->hdflt[0] != '\0';
	r = xml_feed(p, data, len, NULL);
	if (r == XML_OK && (p->state != ST_TOP || p->pkind != PK_NONE)) {
		r = XML_ERR_SYNTAX;
	}
	p->hns = NULL;
	p->hns_len = 0;
	xml_parser_free(p);
	if (err != NULL) {
		*err = r;
	}
	if (r != XML_OK) {
		xml_free(d.wrap);
		return NULL;
	}
	return d.wrap;
}

/* See xml.h.  Caller xml_free()s. */
struct xml_node *
xml_parse_document(const char *data, size_t len, const char *default_ns,
    int *err)
{
	struct xml_node *wrap, *root;

	wrap = xml_parse_fragment(data, len, default_ns, err);
	if (wrap == NULL) {
		return NULL;
	}
	root = wrap->first_child;
	if (root == NULL || root->next != NULL) {
		xml_free(wrap);
		if (err != NULL) {
			*err = XML_ERR_SYNTAX;
		}
		return NULL;
	}
	/* the root keeps the wrapper's arena: xml_free(root) frees both */
	xml_unlink(root);
	return root;
}

/* ---- tree access ---- */

/* Unnamespaced attribute value or NULL; borrowed from el's arena. */
const char *
xml_attr(const struct xml_node *el, const char *name)
{
	const struct xml_attr *a;

	for (a = el->attrs; a != NULL; a = a->next) {
		if (a->ns == NULL && strcmp(a->name, name) == 0) {
			return a->value;
		}
	}
	return NULL;
}

/* Attribute value in namespace ns (NULL/"" = none) or NULL; borrowed. */
const char *
xml_attr_ns(const struct xml_node *el, const char *ns, const char *name)
{
	const struct xml_attr *a;

	if (ns == NULL || ns[0] == '\0') {
		return xml_attr(el, name);
	}
	for (a = el->attrs; a != NULL; a = a->next) {
		if (a->ns != NULL && strcmp(a->name, name) == 0 &&
		    (a->ns == ns || strcmp(a->ns, ns) == 0)) {
			return a->value;
		}
	}
	return NULL;
}

static int
el_match(const struct xml_node *n, const char *name, const char *ns)
{
	return n->type == XML_ELEMENT &&
	    (name == NULL || strcmp(n->name, name) == 0) &&
	    (ns == NULL || n->ns == ns || strcmp(n->ns, ns) == 0);
}

/* First child element matching name and ns (NULL = any), or NULL. */
struct xml_node *
xml_child(const struct xml_node *el, const char *name, const char *ns)
{
	struct xml_node *c;

	for (c = el->first_child; c != NULL; c = c->next) {
		if (el_match(c, name, ns)) {
			return c;
		}
	}
	return NULL;
}

/* Next sibling element after "after" matching name and ns, or NULL. */
struct xml_node *
xml_next(const struct xml_node *after, const char *name, const char *ns)
{
	struct xml_node *c;

	for (c = after->next; c != NULL; c = c->next) {
		if (el_match(c, name, ns)) {
			return c;
		}
	}
	return NULL;
}

/* Text of the first text child or ""; borrowed. */
const char *
xml_text(const struct xml_node *el)
{
	const struct xml_node *c;

	for (c = el->first_child; c != NULL; c = c->next) {
		if (c->type == XML_TEXT) {
			return c->text;
		}
	}
	return "";
}

/* Number of element children. */
size_t
xml_child_count(const struct xml_node *el)
{
	const struct xml_node *c;
	size_t n = 0;

	for (c = el->first_child; c != NULL; c = c->next) {
		n += c->type == XML_ELEMENT;
	}
	return n;
}

/* ---- building ---- */

static struct xml_node *
node_el_new(struct xml_arena *a, const char *name, const char *ns)
{
	struct xml_node *n = arena_alloc(a, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->type = XML_ELEMENT;
	n->arena = a;
	n->name = arena_strndup(a, name, strlen(name));
	n->ns = arena_ns(a, ns);
	return n;
}

/* New root in a new arena; strings are copied.  Caller xml_free()s. */
struct xml_node *
xml_new(const char *name, const char *ns)
{
	return node_el_new(arena_new(1024 - 32), name, ns);
}

/* New last child element of parent (ns NULL = parent's), in its arena. */
struct xml_node *
xml_add(struct xml_node *parent, const char *name, const char *ns)
{
	struct xml_node *n;

	n = node_el_new(parent->arena, name, ns != NULL ? ns : "");
	if (ns == NULL) {
		n->ns = parent->ns;
	}
	node_append(parent, n);
	return n;
}

/* New child element holding text (copied). */
struct xml_node *
xml_add_text_child(struct xml_node *parent, const char *name,
    const char *ns, const char *text)
{
	struct xml_node *n = xml_add(parent, name, ns);

	if (text != NULL) {
		xml_add_text(n, text, strlen(text));
	}
	return n;
}

/* Set, replace or (value NULL) remove an attribute; strings copied. */
void
xml_set_attr_ns(struct xml_node *el, const char *ns, const char *prefix,
    const char *name, const char *value)
{
	struct xml_attr *a, **ap;
	struct xml_arena *ar = el->arena;

	if (ns != NULL && ns[0] == '\0') {
		ns = NULL;
	}
	for (ap = &el->attrs; (a = *ap) != NULL; ap = &a->next) {
		if (strcmp(a->name, name) == 0 && ((ns == NULL && a->ns == NULL) ||
		    (ns != NULL && a->ns != NULL && strcmp(a->ns, ns) == 0))) {
			break;
		}
	}
	if (value == NULL) {
		if (a != NULL) {
			*ap = a->next;
		}
		return;
	}
	if (a == NULL) {
		a = arena_alloc(ar, sizeof(*a));
		a->next = NULL;
		a->name = arena_strndup(ar, name, strlen(name));
		a->ns = ns != NULL ? arena_ns(ar, ns) : NULL;
		a->prefix = NULL;
		if (ns != NULL && prefix != NULL) {
			a->prefix = arena_strndup(ar, prefix, strlen(prefix));
		}
		*ap = a;
	}
	a->value = arena_strndup(ar, value, strlen(value));
}

/* Unnamespaced xml_set_attr_ns(). */
void
xml_set_attr(struct xml_node *el, const char *name, const char *value)
{
	xml_set_attr_ns(el, NULL, NULL, name, value);
}

/* Append len bytes of text (copied), merged with a trailing text child. */
void
xml_add_text(struct xml_node *el, const char *text, size_t len)
{
	struct xml_node *t = el->last_child;
	char *d;

	if (len == 0) {
		return;
	}
	if (t != NULL && t->type == XML_TEXT) {
		d = arena_str(el->arena, t->text_len + len + 1);
		memcpy(d, t->text, t->text_len);
		memcpy(d + t->text_len, text, len);
		t->text_len += len;
		d[t->text_len] = '\0';
		t->text = d;
		return;
	}
	d = arena_strndup(el->arena, text, len);
	node_append(el, node_text_new(el->arena, d, len));
}

static const char *
copy_str(struct xml_arena *a, const struct xml_arena *from, const char *s)
{
	if (s == NULL || a == from || ns_is_static(s)) {
		return s;
	}
	return arena_strndup(a, s, strlen(s));
}

static struct xml_node *
copy_node(struct xml_arena *a, const struct xml_node *src)
{
	struct xml_node *n;
	const struct xml_node *c;
	const struct xml_attr *sa;
	struct xml_attr *da, **tailp;
	char *t;

	if (src->type == XML_TEXT) {
		t = arena_strndup(a, src->text, src->text_len);
		return node_text_new(a, t, src->text_len);
	}
	n = arena_alloc(a, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->type = XML_ELEMENT;
	n->arena = a;
	n->name = copy_str(a, src->arena, src->name);
	n->ns = src->ns != NULL ? copy_str(a, src->arena, src->ns) : "";
	tailp = &n->attrs;
	for (sa = src->attrs; sa != NULL; sa = sa->next) {
		da = arena_alloc(a, sizeof(*da));
		da->next = NULL;
		da->name = copy_str(a, src->arena, sa->name);
		da->ns = copy_str(a, src->arena, sa->ns);
		da->prefix = copy_str(a, src->arena, sa->prefix);
		da->value = copy_str(a, src->arena, sa->value);
		*tailp = da;
		tailp = &da->next;
	}
	for (c = src->first_child; c != NULL; c = c->next) {
		node_append(n, copy_node(a, c));
	}
	return n;
}

/* Deep copy of src (any tree) as parent's last child, in parent's arena. */
struct xml_node *
xml_copy_into(struct xml_node *parent, const struct xml_node *src)
{
	struct xml_node *n = copy_node(parent->arena, src);

	node_append(parent, n);
	return n;
}

/* An upper bound of the bytes copy_node takes for src (alignment
 * included, static namespace strings counted as copied). */
static size_t
copy_size(const struct xml_node *src)
{
	const struct xml_node *c;
	const struct xml_attr *sa;
	size_t n;

	if (src->type == XML_TEXT) {
		return sizeof(struct xml_node) + 8 + src->text_len + 1;
	}
	n = sizeof(struct xml_node) + 8 + strlen(src->name) + 1 +
	    (src->ns != NULL ? strlen(src->ns) + 1 : 0);
	for (sa = src->attrs; sa != NULL; sa = sa->next) {
		n += sizeof(*sa) + 8 + strlen(sa->name) + 1 +
		    (sa->ns != NULL ? strlen(sa->ns) + 1 : 0) +
		    (sa->prefix != NULL ? strlen(sa->prefix) + 1 : 0) +
		    (sa->value != NULL ? strlen(sa->value) + 1 : 0);
	}
	for (c = src->first_child; c != NULL; c = c->next) {
		n += copy_size(c);
	}
	return n;
}

/*
 * Deep copy of src as a new tree.  Caller xml_free()s.  Its first block
 * fits the copy and a little more (a kept presence gets a <delay/>):
 * clones are what the server keeps per session and per queued stanza,
 * so a fixed 2 KiB block would be most of an idle client's cost.
 */
struct xml_node *
xml_clone(const struct xml_node *src)
{
	size_t first = sizeof(struct xml_arena) + 8 + copy_size(src) +
	    XML_CLONE_SLACK;

	return copy_node(arena_new(first), src);
}

/* Detach node from its parent; its memory stays in the arena. */
void
xml_unlink(struct xml_node *node)
{
	struct xml_node *par = node->parent, *c, *prev = NULL;

	if (par == NULL) {
		return;
	}
	for (c = par->first_child; c != NULL && c != node; c = c->next) {
		prev = c;
	}
	if (c == node) {
		if (prev != NULL) {
			prev->next = node->next;
		} else {
			par->first_child = node->next;
		}
		if (par->last_child == node) {
			par->last_child = prev;
		}
	}
	node->parent = NULL;
	node->next = NULL;
}

/* Free the arena of root's tree (every node of it).  NULL is fine. */
void
xml_free(struct xml_node *root)
{
	if (root != NULL) {
		arena_free(root->arena);
	}
}

/* Copy s into the arena of any_node's tree; valid until xml_free. */
const char *
xml_strdup(struct xml_node *any_node, const char *s)
{
	return arena_strndup(any_node->arena, s, strlen(s));
}

/* ---- serializing ---- */

/* Append s escaped for text or (in_attr) an attribute value to out. */
void
xml_escape(struct buf *out, const char *s, size_t len, int in_attr)
{
	const unsigned char *q = (const unsigned char *)s, *e = q + len, *run;
	unsigned char mask = in_attr ? C_ESCA : C_ESCT;
	const char *rep;

	while (q < e) {
		run = q;
		while (q < e && !(cls[*q] & mask)) {
			q++;
		}
		if (q != run) {
			buf_append(out, run, (size_t)(q - run));
		}
		if (q >= e) {
			break;
		}
		switch (*q++) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		case '\t':
			rep = "&#9;";
			break;
		case '\n':
			rep = "&#10;";
			break;
		default:
			rep = "&#13;";
			break;
		}
		buf_puts(out, rep);
	}
}

struct ser_decl {
	const char	*ns;
	const char	*prefix;
	char		 gen[16];
};

static int
prefix_usable(const char *pf)
{
	return pf != NULL && pf[0] != '\0' && strcmp(pf, "xml") != 0 &&
	    strncmp(pf, "xmlns", 5) != 0;
}

/* The prefix to write attribute ns with on this element, declared once. */
static const char *
ser_prefix(struct buf *out, struct ser_decl *d, size_t *nd, size_t max,
    const char *ns, const char *want)
{
	size_t i, gen = 0;
	const char *pf = want;

	for (i = 0; i < *nd; i++) {
		if (strcmp(d[i].ns, ns) == 0) {
			return d[i].prefix;
		}
	}
	if (*nd == max) {
		return NULL;
	}
	if (!prefix_usable(pf)) {
		pf = NULL;
	}
	for (;;) {
		for (i = 0; pf != NULL && i < *nd; i++) {
			if (strcmp(d[i].prefix, pf) == 0) {
				break;
			}
		}
		if (pf != NULL && i == *nd) {
			break;
		}
		snprintf(d[*nd].gen, sizeof(d[*nd].gen), "ns%zu", gen++);
		pf = d[*nd].gen;
	}
	d[*nd].ns = ns;
	d[*nd].prefix = pf;
	(*nd)++;
	buf_puts(out, " xmlns:");
	buf_puts(out, pf);
	buf_puts(out, "='");
	xml_escape(out, ns, strlen(ns), 1);
	buf_putc(out, '\'');
	return pf;
}

static void
ser_node(const struct xml_node *el, const char *pns, struct buf *out)
{
	const struct xml_node *c;
	const struct xml_attr *a;
	const char *ns = el->ns != NULL ? el->ns : "", *pf;
	struct ser_decl decl[16];
	size_t nd = 0;

	if (el->type == XML_TEXT) {
		xml_escape(out, el->text, el->text_len, 0);
		return;
	}
	buf_putc(out, '<');
	buf_puts(out, el->name);
	if (ns != pns && strcmp(ns, pns) != 0) {
		buf_puts(out, " xmlns='");
		xml_escape(out, ns, strlen(ns), 1);
		buf_putc(out, '\'');
	}
	for (a = el->attrs; a != NULL; a = a->next) {
		if (a->ns == NULL || a->ns[0] == '\0') {
			pf = NULL;
		} else if (strcmp(a->ns, XML_NS_XML) == 0) {
			pf = "xml";
		} else if (strcmp(a->ns, XML_NS_XMLNS) == 0) {
			continue;	/* declarations follow from ns */
		} else {
			pf = ser_prefix(out, decl, &nd,
			    sizeof(decl) / sizeof(decl[0]), a->ns, a->prefix);
			if (pf == NULL) {
				continue;	/* > 16 namespaces on one element */
			}
		}
		buf_putc(out, ' ');
		if (pf != NULL) {
			buf_puts(out, pf);
			buf_putc(out, ':');
		}
		buf_puts(out, a->name);
		buf_puts(out, "='");
		xml_escape(out, a->value, strlen(a->value), 1);
		buf_putc(out, '\'');
	}
	if (el->first_child == NULL) {
		buf_puts(out, "/>");
		return;
	}
	buf_putc(out, '>');
	for (c = el->first_child; c != NULL; c = c->next) {
		ser_node(c, ns, out);
	}
	buf_puts(out, "</");
	buf_puts(out, el->name);
	buf_putc(out, '>');
}

/* Append el and its subtree to out (see xml.h for namespaces). */
void
xml_serialize(const struct xml_node *el, const char *parent_ns,
    struct buf *out)
{
	ser_node(el, parent_ns != NULL ? parent_ns : "", out);
}
