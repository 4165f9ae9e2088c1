/*
 * mam.c - message archive management (XEP-0313, urn:xmpp:mam:2 with the
 * #extended features, and urn:xmpp:mam:1 for older clients: the same
 * answers in that namespace, without #extended's metadata): what is archived, stanza-ids (XEP-0359), queries
 * with data form filters and RSM paging (XEP-0059), archive metadata and
 * the user's preferences (XEP-0441), over archive.c.
 *
 * Where the XEPs leave a choice we do what Prosody's mod_mam does: pages
 * of 20 without <max/> and at most MAM_MAX_PAGE; the stored message is
 * the one routed, without chat states and this server's stanza-ids;
 * results come from the iq's 'to' (absent for the own account without
 * one) with a delay stamped to the second; a missing preference is
 * default='always'.
 */
#include "mam.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "buf.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "roster.h"
#include "route.h"
#include "stanza.h"
#include "store.h"
#include "uxlimits.h"

#define MAM_PREFS_KIND	"mamprefs"

static struct buf mbuf;		/* serializing, reused */

static void
reply_and_free(struct xml_node *reply)
{
	route_stanza(reply);
	xml_free(reply);
}

static void
reply_error(const struct xml_node *iq, const char *type, const char *cond,
    const char *text)
{
	reply_and_free(stanza_error_reply(iq, type, cond, text));
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* XEP-0082 DateTime, to the second (as Prosody). */
static void
stamp_us(int64_t t_us, char *out, size_t cap)
{
	time_t t = (time_t)(t_us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * Parse a XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD "Z" or
 * "+hh:mm"/"-hh:mm") into microseconds since the epoch.  0 or -1.
 */
static int
parse_datetime(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, th = 0, tm = 0, sign = 0;
	int64_t frac = 0, scale = 100000, t;
	const char *p;

	if (s == NULL || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec)) {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60) {
		return -1;
	}
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9') {
			return -1;
		}
		for (; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &th) || p[3] != ':' ||
		    digits(p + 4, 2, &tm) || th > 23 || tm > 59) {
			return -1;
		}
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0') {
		return -1;
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (th * 3600 + tm * 60);
	*out = t * 1000000 + frac;
	return 0;
}

/* ---- stanza-ids (XEP-0359) ---- */

static int
by_is_local(const char *by)
{
	const struct config *cfg = config_get();
	char canon[JID_MAX + 1], dom[JID_MAX + 1];

	if (by == NULL || jid_canon(by, canon, sizeof(canon)) != 0 ||
	    jid_domain(canon, dom, sizeof(dom)) != 0) {
		return 0;
	}
	return strcmp(dom, cfg->domain) == 0 ||
	    strcmp(dom, cfg->muc_domain) == 0;
}

/* See mam.h. */
void
mam_strip_stanza_ids(struct xml_node *msg)
{
	struct xml_node *s, *next;

	for (s = xml_child(msg, "stanza-id", NS_SID); s != NULL; s = next) {
		next = xml_next(s, "stanza-id", NS_SID);
		if (by_is_local(xml_attr(s, "by"))) {
			xml_unlink(s);
		}
	}
}

/* See mam.h. */
int
mam_has_stanza_id(const struct xml_node *msg, const char *owner)
{
	const struct xml_node *s;
	const char *by;

	for (s = xml_child(msg, "stanza-id", NS_SID); s != NULL;
	    s = xml_next(s, "stanza-id", NS_SID)) {
		by = xml_attr(s, "by");
		if (by != NULL && strcmp(by, owner) == 0) {
			return 1;
		}
	}
	return 0;
}

/* ---- preferences (XEP-0441) ---- */

/*
 * The stored preferences of bare: "DEFAULT\n" then "+JID\n" (always) and
 * "-JID\n" (never) lines.  What is its rule for bare JID with?  1 store,
 * 0 not, -1 no rule for it (then the default: 'a'lways, 'n'ever,
 * 'r'oster in *def).
 */
static int
prefs_rule(const char *bare, const char *with, char *def)
{
	const char *v = store_get(MAM_PREFS_KIND, bare);
	const char *p, *nl;
	size_t wl = strlen(with);

	*def = 'a';
	if (v == NULL) {
		return -1;
	}
	*def = v[0];
	for (p = strchr(v, '\n'); p != NULL && p[1] != '\0'; p = nl) {
		p++;
		nl = strchr(p, '\n');
		if (nl == NULL) {
			break;
		}
		if ((size_t)(nl - p - 1) == wl && memcmp(p + 1, with, wl) == 0) {
			return *p == '+';
		}
	}
	return -1;
}

static int
shall_store(const char *owner, const char *with)
{
	char bare[JID_MAX + 1], def;
	int rule;

	if (jid_bare(with, bare, sizeof(bare)) != 0) {
		return 0;
	}
	rule = prefs_rule(owner, bare, &def);
	if (rule >= 0) {
		return rule;
	}
	if (def == 'r') {
		return roster_find(owner, bare) != NULL;
	}
	return def == 'a';
}

static const char *
default_name(char c)
{
	return c == 'n' ? "never" : c == 'r' ? "roster" : "always";
}

/* <prefs/> as stored for bare, in namespace ns.  Caller frees. */
static struct xml_node *
prefs_element(const char *bare, const char *ns)
{
	const char *v = store_get(MAM_PREFS_KIND, bare);
	struct xml_node *prefs = xml_new("prefs", ns);
	struct xml_node *always, *never;
	const char *p, *nl;
	char jid[JID_MAX + 1];

	xml_set_attr(prefs, "default", default_name(v != NULL ? v[0] : 'a'));
	always = xml_add(prefs, "always", NULL);
	never = xml_add(prefs, "never", NULL);
	for (p = v != NULL ? strchr(v, '\n') : NULL; p != NULL && p[1] != '\0';
	    p = nl) {
		p++;
		nl = strchr(p, '\n');
		if (nl == NULL || (size_t)(nl - p - 1) > JID_MAX) {
			break;
		}
		memcpy(jid, p + 1, (size_t)(nl - p - 1));
		jid[nl - p - 1] = '\0';
		xml_add_text_child(*p == '+' ? always : never, "jid", NULL, jid);
	}
	return prefs;
}

/* Add the canonical <jid/>s of list to b as SIGN lines, skipping bad ones
 * and those already in b.  -1 past MAM_MAX_PREFS_JIDS. */
static int
prefs_collect(const struct xml_node *list, char sign, struct buf *b,
    size_t *n)
{
	const struct xml_node *j;
	char canon[JID_MAX + 1], line[JID_MAX + 4];
	const char *t;

	for (j = list != NULL ? xml_child(list, "jid", NULL) : NULL; j != NULL;
	    j = xml_next(j, "jid", NULL)) {
		t = xml_text(j);
		/* XEP-0441 §2: JIDs are compared prepped (Prosody's jid.prep);
		 * one that does not prep is dropped, as Prosody does */
		if (t == NULL || jid_canon(t, canon, sizeof(canon)) != 0) {
			continue;
		}
		snprintf(line, sizeof(line), "\n+%s\n", canon);
		if (b->data != NULL && strstr(b->data, line) != NULL) {
			continue;
		}
		line[1] = '-';
		if (b->data != NULL && strstr(b->data, line) != NULL) {
			continue;
		}
		if (++*n > MAM_MAX_PREFS_JIDS) {
			return -1;
		}
		buf_putc(b, sign);
		buf_puts(b, canon);
		buf_putc(b, '\n');
	}
	return 0;
}

static void
prefs_iq(const struct xml_node *iq, const struct xml_node *q,
    const char *bare, const char *ns)
{
	const char *type = xml_attr(iq, "type");
	const char *def;
	struct xml_node *reply;
	struct buf b;
	size_t n = 0;

	if (strcmp(type, "set") == 0) {
		def = xml_attr(q, "default");
		if (def == NULL || (strcmp(def, "always") != 0 &&
		    strcmp(def, "never") != 0 && strcmp(def, "roster") != 0)) {
			reply_error(iq, "modify", "bad-request",
			    "default must be always, never or roster");
			return;
		}
		buf_init(&b, 0);
		buf_putc(&b, def[0]);
		buf_putc(&b, '\n');
		/* a JID in both lists: never wins, as in Prosody */
		if (prefs_collect(xml_child(q, "never", NULL), '-', &b, &n)
		    != 0 || prefs_collect(xml_child(q, "always", NULL), '+',
		    &b, &n) != 0) {
			buf_free(&b);
			reply_error(iq, "wait", "resource-constraint",
			    "Too many JIDs");
			return;
		}
		if (b.err || store_put(MAM_PREFS_KIND, bare, b.data) != 0) {
			buf_free(&b);
			reply_error(iq, "wait", "resource-constraint", NULL);
			return;
		}
		buf_free(&b);
	}
	reply = stanza_result(iq);
	{
		struct xml_node *prefs = prefs_element(bare, ns);

		xml_copy_into(reply, prefs);
		xml_free(prefs);
	}
	reply_and_free(reply);
}

/* ---- archiving ---- */

/* XEP-0334 and XEP-0313 §7 (Prosody's should_store, for what has a
 * body): is msg worth archiving? */
static int
should_store(const struct xml_node *msg)
{
	const char *type = xml_attr(msg, "type");

	if (type == NULL) {
		type = "normal";
	}
	if (strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0) {
		return 0;	/* headline, error; groupchat is the room's */
	}
	if (xml_child(msg, "no-store", NS_HINTS) != NULL ||
	    xml_child(msg, "no-permanent-store", NS_HINTS) != NULL) {
		return 0;
	}
	if (xml_child(msg, "store", NS_HINTS) != NULL) {
		return 1;
	}
	return xml_child(msg, "body", NULL) != NULL;
}

/* Is c a <x xmlns='muc#user'/>? */
static int
is_muc_x(const struct xml_node *c)
{
	return c->type == XML_ELEMENT && strcmp(c->name, "x") == 0 &&
	    strcmp(c->ns, NS_MUC_USER) == 0;
}

/*
 * Serialize what the archive keeps of msg into mbuf: no chat states and
 * none of this server's stanza-ids, the stream's language stamped as
 * Prosody's stanzas carry it.  A room's message (room set) loses any
 * muc#user <x/> (§5.1.2: the room's own is the only one) and gets one
 * with the sender's real_jid when that is not NULL (a non-anonymous
 * room).  0, or -1 on an error.
 */
static int
storage_copy(const struct xml_node *msg, int room, const char *real_jid)
{
	struct xml_node *copy = xml_clone(msg), *c, *next;

	for (c = copy->first_child; c != NULL; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT &&
		    (strcmp(c->ns, NS_CHATSTATES) == 0 ||
		    (room && is_muc_x(c)) ||
		    (strcmp(c->name, "stanza-id") == 0 &&
		    strcmp(c->ns, NS_SID) == 0 &&
		    by_is_local(xml_attr(c, "by"))))) {
			xml_unlink(c);
		}
	}
	if (room && real_jid != NULL) {
		xml_set_attr(xml_add(xml_add(copy, "x", NS_MUC_USER), "item",
		    NULL), "jid", real_jid);
	}
	if (xml_attr_ns(copy, XML_NS_XML, "lang") == NULL) {
		xml_set_attr_ns(copy, XML_NS_XML, "xml", "lang", "en");
	}
	if (mbuf.max == 0 && mbuf.data == NULL) {
		buf_init(&mbuf, 0);
	}
	buf_reset(&mbuf);
	xml_serialize(copy, XML_NS_CLIENT, &mbuf);
	xml_free(copy);
	return mbuf.err ? -1 : 0;
}

static void
add_stanza_id(struct xml_node *msg, const char *by, const char *id)
{
	struct xml_node *sid = xml_add(msg, "stanza-id", NS_SID);

	xml_set_attr(sid, "by", by);
	xml_set_attr(sid, "id", id);
}

static int
archive_msg(struct xml_node *msg, const char *owner, const char *with,
    int room, const char *real_jid)
{
	char id[ARCHIVE_ID_LEN + 1];

	if (storage_copy(msg, room, real_jid) != 0) {
		return 0;
	}
	if (archive_append(owner, with, mbuf.data, mbuf.len, now_us(), id)
	    != 0) {
		log_warn("mam: could not archive a message for %s", owner);
		return 0;
	}
	add_stanza_id(msg, owner, id);
	return 1;
}

/* See mam.h. */
struct xml_node *
mam_archive_user(const struct xml_node *msg, const char *owner,
    const char *with)
{
	struct xml_node *copy;

	if (with == NULL || !archive_is_open() || !should_store(msg) ||
	    mam_has_stanza_id(msg, owner) || !shall_store(owner, with)) {
		return NULL;
	}
	copy = xml_clone(msg);
	if (!archive_msg(copy, owner, with, 0, NULL)) {
		xml_free(copy);
		return NULL;
	}
	return copy;
}

/* See mam.h. */
int
mam_archive_room(struct xml_node *msg, const char *room,
    const char *real_jid)
{
	const char *from = xml_attr(msg, "from");

	if (xml_child(msg, "no-store", NS_HINTS) != NULL ||
	    xml_child(msg, "no-permanent-store", NS_HINTS) != NULL ||
	    (xml_child(msg, "body", NULL) == NULL &&
	    xml_child(msg, "store", NS_HINTS) == NULL)) {
		return 0;
	}
	if (!archive_is_open()) {
		return 0;
	}
	return archive_msg(msg, room, from != NULL ? from : room, 1,
	    real_jid);
}

/* See mam.h. */
void
mam_archive_removed(const char *bare)
{
	archive_delete(bare);
	if (store_get(MAM_PREFS_KIND, bare) != NULL) {
		store_del(MAM_PREFS_KIND, bare);
	}
}

/* ---- queries ---- */

/* The query form (§4.1.2), in namespace ns. */
static void
query_form(const struct xml_node *iq, const char *ns)
{
	static const char *const fields[][2] = {
		{ "jid-single", "with" }, { "text-single", "start" },
		{ "text-single", "end" }, { "text-single", "before-id" },
		{ "text-single", "after-id" }, { "list-multi", "ids" },
	};
	struct xml_node *reply = stanza_result(iq), *x, *f;
	size_t i;

	x = xml_add(xml_add(reply, "query", ns), "x", NS_DATA);
	xml_set_attr(x, "type", "form");
	f = xml_add(x, "field", NULL);
	xml_set_attr(f, "type", "hidden");
	xml_set_attr(f, "var", "FORM_TYPE");
	xml_add_text_child(f, "value", NULL, ns);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		f = xml_add(x, "field", NULL);
		xml_set_attr(f, "type", fields[i][0]);
		xml_set_attr(f, "var", fields[i][1]);
		if (strcmp(fields[i][1], "ids") == 0) {
			struct xml_node *v = xml_add(f, "validate",
			    NS_XDATA_VALIDATE);

			xml_set_attr(v, "datatype", "xs:string");
			xml_add(v, "open", NULL);
		}
	}
	reply_and_free(reply);
}

/* A query being answered. */
struct mam_run {
	const struct xml_node *iq;
	const char	*ns;		/* the query's: mam:2 or mam:1 */
	const char	*queryid;
	const char	*from;		/* of the result messages, or NULL */
	const char	*to;		/* the requester */
	int		 hide_jids;	/* drop muc#user <x/>: real JIDs */
	struct xml_node	**msgs;		/* built, sent after the page */
	size_t		 n;
};

static int
build_result(void *ud, const struct archive_msg *m)
{
	struct mam_run *r = ud;
	struct xml_node *msg, *res, *fwd, *delay, *orig;
	char stamp[40];
	int err;

	orig = xml_parse_document(m->xml, m->xml_len, XML_NS_CLIENT, &err);
	if (orig == NULL) {
		log_err("mam: archived message %s does not parse", m->id);
		return -1;
	}
	if (r->hide_jids) {
		struct xml_node *c, *next;

		for (c = orig->first_child; c != NULL; c = next) {
			next = c->next;
			if (is_muc_x(c)) {
				xml_unlink(c);
			}
		}
	}
	msg = xml_new("message", XML_NS_CLIENT);
	xml_set_attr(msg, "to", r->to);
	if (r->from != NULL) {
		xml_set_attr(msg, "from", r->from);
	}
	res = xml_add(msg, "result", r->ns);
	if (r->queryid != NULL) {
		xml_set_attr(res, "queryid", r->queryid);
	}
	xml_set_attr(res, "id", m->id);
	fwd = xml_add(res, "forwarded", NS_FORWARD);
	delay = xml_add(fwd, "delay", NS_DELAY);
	stamp_us(m->time_us, stamp, sizeof(stamp));
	xml_set_attr(delay, "stamp", stamp);
	xml_copy_into(fwd, orig);
	xml_free(orig);
	r->msgs[r->n++] = msg;
	return 0;
}

/* The form's fields into q (its FORM_TYPE: ns); 0, or -1 with the reply
 * sent. */
static int
parse_form(const struct xml_node *iq, const struct xml_node *x,
    const char *ns, struct archive_query *q, char *with, size_t with_cap,
    const char **ids, size_t *nids)
{
	const struct xml_node *f, *v;
	const char *var, *val, *ft = NULL;

	for (f = xml_child(x, "field", NULL); f != NULL;
	    f = xml_next(f, "field", NULL)) {
		var = xml_attr(f, "var");
		v = xml_child(f, "value", NULL);
		val = v != NULL ? xml_text(v) : NULL;
		if (var == NULL) {
			reply_error(iq, "modify", "bad-request",
			    "A field without 'var'");
			return -1;
		}
		if (strcmp(var, "FORM_TYPE") == 0) {
			ft = val != NULL ? val : "";
			continue;
		}
		if (strcmp(var, "ids") == 0) {
			for (; v != NULL; v = xml_next(v, "value", NULL)) {
				if (*nids == MAM_MAX_IDS) {
					reply_error(iq, "modify",
					    "policy-violation", "Too many ids");
					return -1;
				}
				val = xml_text(v);
				ids[(*nids)++] = val != NULL ? val : "";
			}
			q->ids = ids;
			q->nids = *nids;
			continue;
		}
		if (strcmp(var, "with") != 0 && strcmp(var, "start") != 0 &&
		    strcmp(var, "end") != 0 && strcmp(var, "before-id") != 0 &&
		    strcmp(var, "after-id") != 0) {
			/* §4.1.2 */
			reply_error(iq, "cancel", "feature-not-implemented",
			    "Unknown field");
			return -1;
		}
		if (val == NULL || *val == '\0') {
			continue;	/* an empty field filters nothing */
		}
		if (strcmp(var, "with") == 0) {
			if (jid_canon(val, with, with_cap) != 0) {
				reply_error(iq, "modify", "bad-request",
				    "Bad 'with' JID");
				return -1;
			}
			q->with = with;
		} else if (strcmp(var, "start") == 0 ||
		    strcmp(var, "end") == 0) {
			if (parse_datetime(val, var[0] == 's' ? &q->start_us :
			    &q->end_us) != 0) {
				reply_error(iq, "modify", "bad-request",
				    "Bad XEP-0082 DateTime");
				return -1;
			}
		} else if (strcmp(var, "before-id") == 0) {
			q->before_id = val;
		} else {
			q->after_id = val;
		}
	}
	if (ft == NULL || strcmp(ft, ns) != 0) {
		reply_error(iq, "modify", "bad-request",
		    "FORM_TYPE must be the query's namespace");
		return -1;
	}
	return 0;
}

static int
parse_uint_text(const char *t, unsigned long *out)
{
	char *end;

	if (t == NULL || *t < '0' || *t > '9') {
		return -1;
	}
	errno = 0;
	*out = strtoul(t, &end, 10);
	return *end != '\0' || errno != 0 || *out > 0x7fffffffUL ? -1 : 0;
}

/* RSM (XEP-0059) into q; 0, or -1 with the reply sent. */
static int
parse_rsm(const struct xml_node *iq, const struct xml_node *set,
    struct archive_query *q)
{
	const struct xml_node *c;
	unsigned long n;
	const char *t;

	if ((c = xml_child(set, "max", NULL)) != NULL) {
		if (parse_uint_text(xml_text(c), &n) != 0) {
			reply_error(iq, "modify", "bad-request", "Bad <max/>");
			return -1;
		}
		q->max = n < MAM_MAX_PAGE ? n : MAM_MAX_PAGE;
	}
	if ((c = xml_child(set, "after", NULL)) != NULL) {
		t = xml_text(c);
		if (t == NULL || *t == '\0') {
			reply_error(iq, "modify", "bad-request",
			    "Empty <after/>");
			return -1;
		}
		q->page_after = t;
	}
	if ((c = xml_child(set, "before", NULL)) != NULL) {
		t = xml_text(c);
		q->page_before = t != NULL ? t : "";
	}
	if ((c = xml_child(set, "index", NULL)) != NULL) {
		if (parse_uint_text(xml_text(c), &n) != 0) {
			reply_error(iq, "modify", "bad-request",
			    "Bad <index/>");
			return -1;
		}
		q->page_index = (long)n;
	}
	return 0;
}

/* §4: a query of archive name, answered to iq's sender in namespace
 * ns. */
static void
run_query(const struct xml_node *iq, const struct xml_node *query,
    const char *ns, const char *name, int hide_jids)
{
	struct archive_query q;
	struct archive_page_info info;
	struct mam_run r;
	const struct xml_node *x, *set;
	struct xml_node *reply, *fin, *rs, *first;
	const char *ids[MAM_MAX_IDS];
	char with[JID_MAX + 1], num[32];
	size_t nids = 0, i;
	int rc, flip;

	memset(&q, 0, sizeof(q));
	q.start_us = INT64_MIN;
	q.end_us = INT64_MAX;
	q.page_index = -1;
	q.max = MAM_DEFAULT_PAGE;
	x = xml_child(query, "x", NS_DATA);
	if (x != NULL &&
	    parse_form(iq, x, ns, &q, with, sizeof(with), ids, &nids) != 0) {
		return;
	}
	set = xml_child(query, "set", NS_RSM);
	if (set != NULL && parse_rsm(iq, set, &q) != 0) {
		return;
	}
	flip = xml_child(query, "flip-page", NULL) != NULL;
	memset(&r, 0, sizeof(r));
	r.iq = iq;
	r.ns = ns;
	r.queryid = xml_attr(query, "queryid");
	r.from = xml_attr(iq, "to");
	r.to = xml_attr(iq, "from");
	r.hide_jids = hide_jids;
	r.msgs = xcalloc(q.max + 1, sizeof(*r.msgs));
	rc = archive_query(name, &q, build_result, &r, &info);
	if (rc == ARCHIVE_ENOTFOUND) {
		reply_error(iq, "cancel", "item-not-found",
		    "No such message in the archive");
	} else if (rc != 0) {
		reply_error(iq, "wait", "internal-server-error", NULL);
	} else {
		for (i = 0; i < r.n; i++) {
			route_stanza(r.msgs[flip ? r.n - 1 - i : i]);
		}
		reply = stanza_result(iq);
		fin = xml_add(reply, "fin", ns);
		if (info.complete) {
			xml_set_attr(fin, "complete", "true");
		}
		rs = xml_add(fin, "set", NS_RSM);
		if (info.n > 0) {
			first = xml_add_text_child(rs, "first", NULL,
			    info.first_id);
			if (info.have_count) {
				snprintf(num, sizeof(num), "%" PRIu64,
				    info.first_index);
				xml_set_attr(first, "index", num);
			}
			xml_add_text_child(rs, "last", NULL, info.last_id);
		}
		if (info.have_count) {
			snprintf(num, sizeof(num), "%" PRIu64, info.count);
			xml_add_text_child(rs, "count", NULL, num);
		}
		reply_and_free(reply);
	}
	for (i = 0; i < r.n; i++) {
		xml_free(r.msgs[i]);
	}
	free(r.msgs);
}

/* §6.1 (#extended): the first and last message. */
static void
metadata(const struct xml_node *iq, const char *name)
{
	char fid[ARCHIVE_ID_LEN + 1], lid[ARCHIVE_ID_LEN + 1], stamp[40];
	int64_t ft, lt;
	struct xml_node *reply, *md, *e;
	int rc = archive_bounds(name, fid, &ft, lid, &lt);

	if (rc < 0) {
		reply_error(iq, "wait", "internal-server-error", NULL);
		return;
	}
	reply = stanza_result(iq);
	md = xml_add(reply, "metadata", NS_MAM);
	if (rc == 1) {
		e = xml_add(md, "start", NULL);
		xml_set_attr(e, "id", fid);
		stamp_us(ft, stamp, sizeof(stamp));
		xml_set_attr(e, "timestamp", stamp);
		e = xml_add(md, "end", NULL);
		xml_set_attr(e, "id", lid);
		stamp_us(lt, stamp, sizeof(stamp));
		xml_set_attr(e, "timestamp", stamp);
	}
	reply_and_free(reply);
}

/* q's namespace: NS_MAM or NS_MAM1 (mam_is_ns() said it is one). */
static const char *
query_ns(const struct xml_node *q)
{
	return strcmp(q->ns, NS_MAM1) == 0 ? NS_MAM1 : NS_MAM;
}

/* See mam.h. */
int
mam_is_ns(const char *ns)
{
	return ns != NULL && (strcmp(ns, NS_MAM) == 0 ||
	    strcmp(ns, NS_MAM1) == 0);
}

/* The iq on archive name (its reader may read it); hide_jids: results
 * without the senders' real JIDs. */
static void
archive_iq(const struct xml_node *iq, const struct xml_node *q,
    const char *name, int hide_jids)
{
	const char *type = xml_attr(iq, "type");
	const char *ns = query_ns(q);
	int get = type != NULL && strcmp(type, "get") == 0;

	if (strcmp(q->name, "query") == 0) {
		if (get) {
			query_form(iq, ns);
		} else {
			run_query(iq, q, ns, name, hide_jids);
		}
	} else if (strcmp(q->name, "metadata") == 0 && get &&
	    strcmp(ns, NS_MAM) == 0) {
		/* #extended is mam:2's */
		metadata(iq, name);
	} else {
		reply_error(iq, "cancel", "feature-not-implemented", NULL);
	}
}

/* See mam.h. */
void
mam_account_iq(const struct xml_node *iq, const struct xml_node *q,
    const char *bare, int own)
{
	if (!own) {
		/* §8: only the account reads its archive */
		reply_error(iq, "auth", "forbidden", NULL);
		return;
	}
	if (strcmp(q->name, "prefs") == 0) {
		prefs_iq(iq, q, bare, query_ns(q));
		return;
	}
	archive_iq(iq, q, bare, 0);
}

/* See mam.h. */
void
mam_room_iq(const struct xml_node *iq, const struct xml_node *q,
    const char *room, int allowed, int show_jids)
{
	if (!allowed) {
		/* §9.1: SHOULD be forbidden (Prosody's mod_muc_mam too) */
		reply_error(iq, "auth", "forbidden",
		    "Only members may read this archive");
		return;
	}
	if (strcmp(q->name, "prefs") == 0) {
		reply_error(iq, "cancel", "feature-not-implemented", NULL);
		return;
	}
	archive_iq(iq, q, room, !show_jids);
}
