/*
 * muc_stanza.c - the small helpers every muc file uses: affiliation and
 * role names, strings, XEP-0082 time stamps, nickname validation, stanza
 * building and stanza errors, muc#user items and data forms (XEP-0004).
 * No state but the stanza id counter.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "jid.h"
#include "tls.h"
#include "muc_internal.h"
#include "ns.h"

static unsigned long id_counter;

/* Rank helpers for affiliations and roles as text. */
const char *
muc_aff_name(int aff)
{
	switch (aff) {
	case AFF_OUTCAST:
		return "outcast";
	case AFF_MEMBER:
		return "member";
	case AFF_ADMIN:
		return "admin";
	case AFF_OWNER:
		return "owner";
	default:
		return "none";
	}
}

/* The enum muc_aff of s, or -2 when s is not an affiliation. */
int
muc_aff_parse(const char *s)
{
	if (s == NULL) {
		return -2;
	}
	if (strcmp(s, "outcast") == 0) {
		return AFF_OUTCAST;
	} else if (strcmp(s, "none") == 0) {
		return AFF_NONE;
	} else if (strcmp(s, "member") == 0) {
		return AFF_MEMBER;
	} else if (strcmp(s, "admin") == 0) {
		return AFF_ADMIN;
	} else if (strcmp(s, "owner") == 0) {
		return AFF_OWNER;
	}
	return -2;
}

/* The name of an enum muc_role. */
const char *
muc_role_name(int role)
{
	switch (role) {
	case ROLE_VISITOR:
		return "visitor";
	case ROLE_PARTICIPANT:
		return "participant";
	case ROLE_MODERATOR:
		return "moderator";
	default:
		return "none";
	}
}

/* The enum muc_role of s, or -1 when s is not a role. */
int
muc_role_parse(const char *s)
{
	if (s == NULL) {
		return -1;
	}
	if (strcmp(s, "none") == 0) {
		return ROLE_NONE;
	} else if (strcmp(s, "visitor") == 0) {
		return ROLE_VISITOR;
	} else if (strcmp(s, "participant") == 0) {
		return ROLE_PARTICIPANT;
	} else if (strcmp(s, "moderator") == 0) {
		return ROLE_MODERATOR;
	}
	return -1;
}

/* Replace *dst with a copy of s (NULL or "" clears it). */
void
muc_set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = (s != NULL && *s != '\0') ? xstrdup(s) : NULL;
}

/* Are a and b equal strings (or both NULL)? */
int
muc_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	return strcmp(a, b) == 0;
}

/* "true"/"1" as XEP-0004 booleans. */
int
muc_parse_bool(const char *s)
{
	return s != NULL && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0);
}

/* The service's domain (conference.<domain>). */
const char *
muc_host(void)
{
	return config_get()->muc_domain;
}

/* Bare part of a (canonical) full JID into out. */
void
muc_bare_of(const char *full, char *out, size_t cap)
{
	if (jid_bare(full, out, cap) != 0) {
		snprintf(out, cap, "%s", full);
	}
}

/* Format t as an XEP-0082 DateTime (UTC). */
void
muc_fmt_stamp(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Parse an XEP-0082 DateTime; -1 if malformed. */
int
muc_parse_stamp(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	long off = 0;
	const char *p;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &sec, &n) != 6 || n == 0) {
		return -1;
	}
	p = s + n;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
		}
	}
	if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) {
			return -1;
		}
		off = (oh * 60L + om) * 60L * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != '\0') {
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - off;
	return 0;
}

/* Decode one UTF-8 sequence; returns its length (>= 1). */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0 && s[1] != 0) {
		*cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	} else if ((s[0] & 0xF0) == 0xE0 && s[1] != 0 && s[2] != 0) {
		*cp = ((uint32_t)(s[0] & 0x0F) << 12) |
		    ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return 3;
	} else if ((s[0] & 0xF8) == 0xF0 && s[1] != 0 && s[2] != 0 &&
	    s[3] != 0) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) |
		    ((uint32_t)(s[1] & 0x3F) << 12) |
		    ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		return 4;
	}
	*cp = 0xFFFD;
	return 1;
}

/*
 * Code points stringprep (RFC 3454 table B.1) maps to nothing and PRECIS
 * disallows as default-ignorable: soft hyphen, joiners, variation
 * selectors, BOM...  A nickname holding one fails strict validation.
 */
static int
is_ignorable(uint32_t cp)
{
	return cp == 0x00AD || cp == 0x034F || cp == 0x1806 ||
	    (cp >= 0x180B && cp <= 0x180D) ||
	    (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 ||
	    (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF ||
	    (cp >= 0xE0100 && cp <= 0xE01EF);
}

/* Strict nickname check on top of jid_nick_canon(); 0 or -1. */
int
muc_nick_strict(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	uint32_t cp;

	if (jid_nick_canon(in, out, cap) != 0) {
		return -1;
	}
	while (*p != '\0') {
		p += utf8_next(p, &cp);
		if (is_ignorable(cp)) {
			return -1;
		}
	}
	return 0;
}

/* in with the ignorable code points removed (lax preparation, for the
 * 'from' of an error about a nickname that failed strict validation). */
void
muc_nick_lax(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n, len = 0;
	uint32_t cp;

	while (*p != '\0') {
		n = utf8_next(p, &cp);
		if (!is_ignorable(cp) && len + n < cap) {
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
	}
	out[len] = '\0';
}

/* ---- stanza helpers ---- */

/* A new stanza name in jabber:client with the attributes that are not
 * NULL.  Caller frees. */
struct xml_node *
muc_stanza_new(const char *name, const char *from, const char *to,
    const char *type, const char *id)
{
	struct xml_node *st = xml_new(name, XML_NS_CLIENT);

	if (from != NULL) {
		xml_set_attr(st, "from", from);
	}
	if (to != NULL) {
		xml_set_attr(st, "to", to);
	}
	if (type != NULL) {
		xml_set_attr(st, "type", type);
	}
	if (id != NULL) {
		xml_set_attr(st, "id", id);
	}
	return st;
}

/* Route and free. */
void
muc_send_free(struct xml_node *st)
{
	route_stanza(st);
	xml_free(st);
}

/*
 * Reply to st with a stanza error (RFC 6120 §8.3) from 'from' (NULL: the
 * address st was sent to), carrying by= when by is not NULL.  Stanzas of
 * type error are never answered.
 */
void
muc_send_error_from(const struct xml_node *st, const char *from,
    const char *type, const char *cond, const char *text, const char *by)
{
	const char *t = xml_attr(st, "type");
	struct xml_node *r, *e;

	if (t != NULL && strcmp(t, "error") == 0) {
		return;
	}
	if (from == NULL) {
		from = xml_attr(st, "to");
	}
	r = muc_stanza_new(st->name, from, xml_attr(st, "from"), "error",
	    xml_attr(st, "id"));
	e = xml_add(r, "error", NULL);
	xml_set_attr(e, "type", type);
	if (by != NULL && !muc_str_eq(by, from)) {
		xml_set_attr(e, "by", by);
	}
	xml_add(e, cond, NS_STANZAS);
	if (text != NULL) {
		xml_add_text_child(e, "text", NS_STANZAS, text);
	}
	muc_send_free(r);
}

/* muc_send_error_from() from the address st was sent to. */
void
muc_send_error(const struct xml_node *st, const char *type, const char *cond,
    const char *text, const char *by)
{
	muc_send_error_from(st, NULL, type, cond, text, by);
}

/* An empty iq result for iq.  Caller frees. */
struct xml_node *
muc_iq_result(const struct xml_node *iq)
{
	return muc_stanza_new("iq", xml_attr(iq, "to"), xml_attr(iq, "from"),
	    "result", xml_attr(iq, "id"));
}

/* The first child element of el, skipping text. */
struct xml_node *
muc_first_elem(const struct xml_node *el)
{
	struct xml_node *c;

	for (c = el->first_child; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT) {
			return c;
		}
	}
	return NULL;
}

/* Copy st's attributes except from/to onto dst. */
void
muc_copy_attrs(struct xml_node *dst, const struct xml_node *st)
{
	const struct xml_attr *a;

	for (a = st->attrs; a != NULL; a = a->next) {
		if (a->ns != NULL && *a->ns != '\0') {
			xml_set_attr_ns(dst, a->ns, a->prefix, a->name,
			    a->value);
		} else if (strcmp(a->name, "from") != 0 &&
		    strcmp(a->name, "to") != 0 &&
		    strcmp(a->name, "xmlns") != 0) {
			xml_set_attr(dst, a->name, a->value);
		}
	}
}

/* Is c one of the MUC payloads we never pass on from clients? */
static int
is_muc_payload(const struct xml_node *c)
{
	return c->ns != NULL && (strcmp(c->ns, NS_MUC) == 0 ||
	    strcmp(c->ns, NS_MUC_USER) == 0 ||
	    strcmp(c->ns, NS_OCCUPANT_ID) == 0);
}

/* Deep-copy the child elements of src into dst, except MUC payloads. */
void
muc_copy_children_filtered(struct xml_node *dst, const struct xml_node *src)
{
	const struct xml_node *c;

	for (c = src->first_child; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT && !is_muc_payload(c)) {
			xml_copy_into(dst, c);
		}
	}
}

/* A fresh stanza id ("muc" + counter + random). */
void
muc_new_id(char *out, size_t cap)
{
	unsigned char r[6];

	if (tls_random(r, sizeof(r)) != 0) {
		memset(r, 0, sizeof(r));
	}
	snprintf(out, cap, "muc%lx-%02x%02x%02x%02x%02x%02x", ++id_counter,
	    r[0], r[1], r[2], r[3], r[4], r[5]);
}

/* Add <status code='code'/> to x. */
void
muc_add_status(struct xml_node *x, const char *code)
{
	struct xml_node *s = xml_add(x, "status", NULL);

	xml_set_attr(s, "code", code);
}

/* <item/> in muc#user or muc#admin x/query.  role NULL omits it. */
struct xml_node *
muc_add_item(struct xml_node *x, int aff, const char *role, const char *jid,
    const char *nick, const char *actor_nick, const char *actor_jid,
    const char *reason)
{
	struct xml_node *it = xml_add(x, "item", NULL), *ac;

	xml_set_attr(it, "affiliation", muc_aff_name(aff));
	if (role != NULL) {
		xml_set_attr(it, "role", role);
	}
	if (jid != NULL) {
		xml_set_attr(it, "jid", jid);
	}
	if (nick != NULL) {
		xml_set_attr(it, "nick", nick);
	}
	if (actor_nick != NULL || actor_jid != NULL) {
		ac = xml_add(it, "actor", NULL);
		if (actor_nick != NULL) {
			xml_set_attr(ac, "nick", actor_nick);
		}
		if (actor_jid != NULL) {
			xml_set_attr(ac, "jid", actor_jid);
		}
	}
	if (reason != NULL) {
		xml_add_text_child(it, "reason", NULL, reason);
	}
	return it;
}

/* ---- data forms (XEP-0004) ---- */

/* The <field var='var'/> of form x, or NULL. */
const struct xml_node *
muc_form_field(const struct xml_node *x, const char *var)
{
	const struct xml_node *f;

	for (f = xml_child(x, "field", NS_DATA); f != NULL;
	    f = xml_next(f, "field", NS_DATA)) {
		if (muc_str_eq(xml_attr(f, "var"), var)) {
			return f;
		}
	}
	return NULL;
}

/* First value of a field, "" when it has none, NULL when absent. */
const char *
muc_form_value(const struct xml_node *x, const char *var)
{
	const struct xml_node *f = muc_form_field(x, var), *v;

	if (f == NULL) {
		return NULL;
	}
	v = xml_child(f, "value", NS_DATA);
	return v != NULL ? xml_text(v) : "";
}

/* Add a <field/> to form x; NULL arguments are left out.  Returns the
 * field (owned by x). */
struct xml_node *
muc_form_add_field(struct xml_node *x, const char *var, const char *type,
    const char *label, const char *value)
{
	struct xml_node *f = xml_add(x, "field", NULL);

	if (type != NULL) {
		xml_set_attr(f, "type", type);
	}
	if (label != NULL) {
		xml_set_attr(f, "label", label);
	}
	if (var != NULL) {
		xml_set_attr(f, "var", var);
	}
	if (value != NULL) {
		xml_add_text_child(f, "value", NULL, value);
	}
	return f;
}

/* Add an <option/> with value (and label when not NULL) to field f. */
void
muc_form_add_option(struct xml_node *f, const char *label, const char *value)
{
	struct xml_node *o = xml_add(f, "option", NULL);

	if (label != NULL) {
		xml_set_attr(o, "label", label);
	}
	xml_add_text_child(o, "value", NULL, value);
}
