/*
 * caps.c - XEP-0115 verification strings and their cache: see caps.h.
 */
#include "caps.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "htab.h"
#include "ns.h"
#include "tls.h"
#include "uxlimits.h"

struct caps_entry {
	struct hnode	 node;		/* in cache, when cached */
	char		*key;
	unsigned	 refs;
	unsigned	 known:1;
	unsigned	 cached:1;
	char		**notify;	/* node names of NODE+notify */
	size_t		 nnotify;
};

static struct htab cache;

static struct caps_entry *
entry_new(const char *key)
{
	struct caps_entry *e = xcalloc(1, sizeof(*e));

	e->key = xstrdup(key);
	return e;
}

static void
entry_free(struct caps_entry *e)
{
	size_t i;

	if (e->cached) {
		htab_del(&cache, &e->node);
	}
	for (i = 0; i < e->nnotify; i++) {
		free(e->notify[i]);
	}
	free(e->notify);
	free(e->key);
	free(e);
}

/* Make room in a full cache: drop one entry nobody holds.  0 or -1. */
static int
evict_one(void)
{
	struct hnode *n;
	size_t pos;

	for (n = htab_first(&cache, &pos); n; n = htab_next(&cache, n, &pos)) {
		struct caps_entry *e = HTAB_ENTRY(n, struct caps_entry, node);

		if (e->refs == 0) {
			entry_free(e);
			return 0;
		}
	}
	return -1;
}

/* See caps.h. */
struct caps_entry *
caps_ref(const char *key)
{
	struct hnode *n = htab_find(&cache, key, strlen(key));
	struct caps_entry *e;

	if (n != NULL) {
		e = HTAB_ENTRY(n, struct caps_entry, node);
	} else {
		if (cache.count >= CAPS_MAX_ENTRIES && evict_one() != 0) {
			return NULL;
		}
		e = entry_new(key);
		e->cached = 1;
		htab_add(&cache, &e->node, e->key);
	}
	e->refs++;
	return e;
}

/* See caps.h. */
void
caps_unref(struct caps_entry *e)
{
	if (e == NULL || --e->refs > 0) {
		return;
	}
	/* a known cached entry stays for the next resource with that ver */
	if (!e->known || !e->cached) {
		entry_free(e);
	}
}

/* See caps.h. */
int
caps_known(const struct caps_entry *e)
{
	return e != NULL && e->known;
}

/* See caps.h. */
const char *
caps_key(const struct caps_entry *e)
{
	return e->key;
}

/* Keep the NODE+notify features of query in e. */
static void
learn_features(struct caps_entry *e, const struct xml_node *query)
{
	static const char suffix[] = "+notify";
	const struct xml_node *f;
	const char *var;
	size_t len;

	for (f = xml_child(query, "feature", NS_DISCO_INFO); f != NULL;
	    f = xml_next(f, "feature", NS_DISCO_INFO)) {
		var = xml_attr(f, "var");
		if (var == NULL || (len = strlen(var)) <= sizeof(suffix) - 1 ||
		    strcmp(var + len - (sizeof(suffix) - 1), suffix) != 0) {
			continue;
		}
		e->notify = xrealloc(e->notify,
		    (e->nnotify + 1) * sizeof(e->notify[0]));
		e->notify[e->nnotify++] = xstrndup(var,
		    len - (sizeof(suffix) - 1));
	}
	e->known = 1;
}

/* See caps.h. */
struct caps_entry *
caps_answer(struct caps_entry *e, const char *alg,
    const struct xml_node *query)
{
	const char *hash = strrchr(e->key, '#');
	char ver[128];
	struct caps_entry *mine;

	if (e->known) {
		e->refs++;
		return e;
	}
	if (hash != NULL && alg != NULL &&
	    caps_ver(query, alg, ver, sizeof(ver)) == 0 &&
	    strcmp(hash + 1, ver) == 0) {
		learn_features(e, query);
		e->refs++;
		return e;
	}
	mine = entry_new(e->key);
	learn_features(mine, query);
	mine->refs = 1;
	return mine;
}

/* See caps.h. */
int
caps_wants(const struct caps_entry *e, const char *node)
{
	size_t i;

	for (i = 0; e != NULL && i < e->nnotify; i++) {
		if (strcmp(e->notify[i], node) == 0) {
			return 1;
		}
	}
	return 0;
}

/* ---- §5.1 ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted list of strings of one kind, owned. */
struct strs {
	char	*s[CAPS_MAX_ITEMS];
	size_t	 n;
};

static int
strs_add(struct strs *l, struct buf *b)
{
	if (l->n == CAPS_MAX_ITEMS || b->err) {
		return -1;
	}
	l->s[l->n++] = b->data != NULL ? xstrndup(b->data, b->len) :
	    xstrdup("");
	return 0;
}

/* Field strings "var<value<value..." in the order of their vars alone:
 * a var ends at its '<' or at the end. */
static int
cmp_field(const void *a, const void *b)
{
	const unsigned char *x = *(unsigned char *const *)a;
	const unsigned char *y = *(unsigned char *const *)b;
	int xend, yend;

	for (;; x++, y++) {
		xend = *x == '<' || *x == '\0';
		yend = *y == '<' || *y == '\0';
		if (xend || yend) {
			return yend - xend;
		}
		if (*x != *y) {
			return (int)*x - (int)*y;
		}
	}
}

/* Sort with cmp, refuse duplicates (§5.4 item 3), append each + '<'. */
static int
strs_emit(struct strs *l, struct buf *out,
    int (*cmp)(const void *, const void *))
{
	size_t i;

	qsort(l->s, l->n, sizeof(l->s[0]), cmp);
	for (i = 0; i < l->n; i++) {
		if (i > 0 && strcmp(l->s[i - 1], l->s[i]) == 0) {
			return -1;
		}
		buf_puts(out, l->s[i]);
		buf_putc(out, '<');
	}
	return 0;
}

static void
strs_free(struct strs *l)
{
	while (l->n > 0) {
		free(l->s[--l->n]);
	}
}

/* The FORM_TYPE value of a data form, or NULL when it has none that is
 * hidden (§5.4 item 3.6: such a form is ignored). */
static const char *
form_type(const struct xml_node *x)
{
	const struct xml_node *f;
	const char *type;

	for (f = xml_child(x, "field", NS_DATA); f; f = xml_next(f, "field",
	    NS_DATA)) {
		if (xml_attr(f, "var") != NULL &&
		    strcmp(xml_attr(f, "var"), "FORM_TYPE") == 0) {
			type = xml_attr(f, "type");
			if (type == NULL || strcmp(type, "hidden") != 0) {
				return NULL;
			}
			return xml_text(xml_child(f, "value", NS_DATA));
		}
	}
	return NULL;
}

/* One form: "FORM_TYPE<", then per field, by var, "var<" and each of
 * its values with '<' after it. */
static int
form_string(const struct xml_node *x, const char *type, struct buf *out)
{
	struct strs *fields = xcalloc(1, sizeof(*fields));
	struct strs *values = xcalloc(1, sizeof(*values));
	const struct xml_node *f, *v;
	struct buf b;
	size_t i;
	int rc = 0;

	buf_init(&b, 0);
	for (f = xml_child(x, "field", NS_DATA); f && rc == 0;
	    f = xml_next(f, "field", NS_DATA)) {
		const char *var = xml_attr(f, "var");

		if (var == NULL || strcmp(var, "FORM_TYPE") == 0) {
			continue;
		}
		buf_reset(&b);
		buf_puts(&b, var);
		for (v = xml_child(f, "value", NS_DATA); v && rc == 0;
		    v = xml_next(v, "value", NS_DATA)) {
			struct buf one;

			buf_init(&one, 0);
			buf_puts(&one, xml_text(v));
			rc = strs_add(values, &one);
			buf_free(&one);
		}
		/* values sort among themselves; duplicates are allowed */
		qsort(values->s, values->n, sizeof(values->s[0]), cmp_str);
		for (i = 0; i < values->n; i++) {
			buf_putc(&b, '<');
			buf_puts(&b, values->s[i]);
		}
		strs_free(values);
		if (rc == 0) {
			rc = strs_add(fields, &b);
		}
	}
	strs_free(values);
	if (rc == 0) {
		buf_puts(out, type);
		buf_putc(out, '<');
		rc = strs_emit(fields, out, cmp_field);
	}
	strs_free(fields);
	free(fields);
	free(values);
	buf_free(&b);
	return rc;
}

/* See caps.h. */
int
caps_ver(const struct xml_node *query, const char *alg, char *out,
    size_t cap)
{
	struct strs *l = xcalloc(1, sizeof(*l));
	struct strs *types = xcalloc(1, sizeof(*types));
	const struct xml_node *c;
	unsigned char digest[32];
	size_t dlen, i, j;
	struct buf s, b, b64;
	enum tls_md md;
	int rc = 0;

	if (strcmp(alg, "sha-1") == 0) {
		md = TLS_MD_SHA1;
		dlen = 20;
	} else if (strcmp(alg, "sha-256") == 0) {
		md = TLS_MD_SHA256;
		dlen = 32;
	} else {
		free(l);
		free(types);
		return -1;
	}
	buf_init(&s, 0);
	buf_init(&b, 0);
	buf_init(&b64, 0);
	/* §5.1 steps 2-3: category/type/lang/name */
	for (c = xml_child(query, "identity", NS_DISCO_INFO); c && rc == 0;
	    c = xml_next(c, "identity", NS_DISCO_INFO)) {
		const char *lang = xml_attr_ns(c, XML_NS_XML, "lang");

		buf_reset(&b);
		buf_printf(&b, "%s/%s/%s/%s", xml_attr(c, "category") ?
		    xml_attr(c, "category") : "", xml_attr(c, "type") ?
		    xml_attr(c, "type") : "", lang ? lang : "",
		    xml_attr(c, "name") ? xml_attr(c, "name") : "");
		rc = strs_add(l, &b);
	}
	if (rc == 0) {
		rc = strs_emit(l, &s, cmp_str);
	}
	strs_free(l);
	/* steps 4-5: features */
	for (c = xml_child(query, "feature", NS_DISCO_INFO); c && rc == 0;
	    c = xml_next(c, "feature", NS_DISCO_INFO)) {
		buf_reset(&b);
		buf_puts(&b, xml_attr(c, "var") ? xml_attr(c, "var") : "");
		rc = strs_add(l, &b);
	}
	if (rc == 0) {
		rc = strs_emit(l, &s, cmp_str);
	}
	strs_free(l);
	/* step 6: extended forms, by FORM_TYPE; two of one type: invalid */
	for (c = xml_child(query, "x", NS_DATA); c && rc == 0;
	    c = xml_next(c, "x", NS_DATA)) {
		const char *type = form_type(c);

		if (type == NULL) {
			continue;
		}
		buf_reset(&b);
		buf_puts(&b, type);
		rc = strs_add(types, &b);
	}
	if (rc == 0) {
		qsort(types->s, types->n, sizeof(types->s[0]), cmp_str);
	}
	for (i = 0; i < types->n && rc == 0; i++) {
		if (i > 0 && strcmp(types->s[i - 1], types->s[i]) == 0) {
			rc = -1;
			break;
		}
		for (c = xml_child(query, "x", NS_DATA), j = 0; c;
		    c = xml_next(c, "x", NS_DATA)) {
			const char *type = form_type(c);

			if (type != NULL && strcmp(type, types->s[i]) == 0 &&
			    j++ == 0) {
				rc = form_string(c, type, &s);
			}
		}
	}
	strs_free(types);
	if (rc == 0 && !s.err &&
	    tls_hash(md, s.data != NULL ? s.data : "", s.len, digest) == 0) {
		base64_encode(digest, dlen, &b64);
		if (b64.err || b64.len >= cap) {
			rc = -1;
		} else {
			memcpy(out, b64.data, b64.len);
			out[b64.len] = '\0';
		}
	} else {
		rc = -1;
	}
	buf_free(&s);
	buf_free(&b);
	buf_free(&b64);
	free(l);
	free(types);
	return rc;
}

/* See caps.h. */
void
caps_clear(void)
{
	struct hnode *n, *next;
	size_t pos;

	for (n = htab_first(&cache, &pos); n; n = next) {
		next = htab_next(&cache, n, &pos);
		entry_free(HTAB_ENTRY(n, struct caps_entry, node));
	}
	htab_clear(&cache);
}
