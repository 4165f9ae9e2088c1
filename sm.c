/*
 * sm.c - stream management (XEP-0198) and client state indication
 * (XEP-0352): what a mobile client's session needs on top of a stream.
 *
 * Counters (§4): in_h counts the stanzas handled from the client, out_sent
 * those sent to it, out_acked the last 'h' it acknowledged; all modulo
 * 2^32.  Each sent stanza is kept (serialized) in the unacked queue until
 * an <a/> covers it, so queue length == out_sent - out_acked.
 *
 * Resumable sessions are indexed by SM-ID.  A hibernating one (its
 * connection gone without </stream:stream>) sits on a list with its
 * deadline; sm_tick() ends those past it through c2s_hibernation_end().
 * Ending a session here never happens inside a delivery: the router may be
 * walking its session list, so a session that must go is only marked and
 * ended at the next tick.
 *
 * CSI: while the client is inactive, available/unavailable presence for
 * it is held back, one per sender (the latest wins), and flushed before
 * any other stanza or when the client becomes active again.
 */
#include "sm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "c2s.h"
#include "htab.h"
#include "config.h"
#include "log.h"
#include "ns.h"
#include "route.h"
#include "server.h"
#include "stanza.h"
#include "tls.h"
#include "xml.h"

struct sm_item {
	struct sm_item	*next;
	size_t		 len;
	time_t		 sent;		/* first sent, for XEP-0203 */
	char		 data[];	/* serialized stanza, NUL-terminated */
};

struct sm_held {
	char		*from;		/* sender, the key */
	char		*data;		/* serialized presence */
	size_t		 len;
};

struct sm {
	struct c2s	*owner;
	char		 id[2 * SM_ID_BYTES + 1];
	unsigned	 enabled:1;	/* <enabled/> sent */
	unsigned	 resumable:1;	/* in the id table */
	unsigned	 hibernating:1;	/* on the hibernation list */
	unsigned	 dead:1;	/* end at the next tick */
	unsigned	 inactive:1;	/* CSI */
	unsigned	 max_s;		/* resumption window, seconds */
	uint32_t	 in_h;
	uint32_t	 out_sent;
	uint32_t	 out_acked;
	unsigned	 since_r;	/* sent since the last <r/> */
	struct sm_item	*head, *tail;
	size_t		 qlen, qbytes;
	time_t		 deadline;	/* while hibernating */
	struct sm_held	*held;
	size_t		 nheld;
	struct hnode	 node;		/* in sms.ids while resumable */
	struct sm	*hib_prev, *hib_next;
};

static struct {
	struct htab	 ids;		/* resumable sessions by SM-ID */
	struct sm	*hib;		/* hibernating sessions */
	size_t		 nhib;
	struct buf	 out;
} sms;

/* ---- the SM-ID table ---- */

static void
table_add(struct sm *sm)
{
	htab_add(&sms.ids, &sm->node, sm->id);
	sm->resumable = 1;
}

static void
table_del(struct sm *sm)
{
	if (!sm->resumable) {
		return;
	}
	htab_del(&sms.ids, &sm->node);
	sm->resumable = 0;
}

static struct sm *
table_find(const char *id)
{
	struct hnode *n = htab_find(&sms.ids, id, strlen(id));

	return n ? HTAB_ENTRY(n, struct sm, node) : NULL;
}

static void
hib_unlink(struct sm *sm)
{
	if (!sm->hibernating) {
		return;
	}
	if (sm->hib_prev != NULL) {
		sm->hib_prev->hib_next = sm->hib_next;
	} else {
		sms.hib = sm->hib_next;
	}
	if (sm->hib_next != NULL) {
		sm->hib_next->hib_prev = sm->hib_prev;
	}
	sm->hib_prev = sm->hib_next = NULL;
	sm->hibernating = 0;
	sms.nhib--;
}

/* ---- output ---- */

static void
sm_write(struct sm *sm, const char *text)
{
	c2s_write_raw(sm->owner, text, strlen(text));
}

static void
sm_request_ack(struct sm *sm)
{
	sm->since_r = 0;
	sm_write(sm, "<r xmlns='" NS_SM "'/>");
}

static void
sm_failed(struct c2s *s, const char *cond)
{
	buf_reset(&sms.out);
	buf_printf(&sms.out, "<failed xmlns='" NS_SM "'><%s xmlns='"
	    NS_STANZAS "'/></failed>", cond);
	c2s_write_raw(s, sms.out.data, sms.out.len);
}

static int
sm_over_cap(const struct sm *sm)
{
	const struct config *cfg = config_get();

	return (cfg->sm_max_unacked > 0 && sm->qlen > cfg->sm_max_unacked) ||
	    sm->qbytes > cfg->max_output_bytes;
}

/* Send (and keep until acked, once enabled) one stanza. */
static int
sm_send_now(struct sm *sm, const char *data, size_t len)
{
	struct sm_item *it;

	if (sm->enabled) {
		it = xmalloc(sizeof(*it) + len + 1);
		it->next = NULL;
		it->len = len;
		it->sent = server_now();
		memcpy(it->data, data, len);
		it->data[len] = '\0';
		if (sm->tail != NULL) {
			sm->tail->next = it;
		} else {
			sm->head = it;
		}
		sm->tail = it;
		sm->qlen++;
		sm->qbytes += len;
		sm->out_sent++;
		sm->since_r++;
	}
	c2s_write_raw(sm->owner, data, len);
	if (!sm->enabled) {
		return 0;
	}
	if (sm_over_cap(sm)) {
		if (sm->hibernating) {
			sm->dead = 1;
		}
		return -1;
	}
	if (sm->since_r >= SM_ACK_EVERY && !sm->hibernating) {
		sm_request_ack(sm);
	}
	return 0;
}

/* Drop the n oldest queued stanzas (acknowledged). */
static void
sm_trim(struct sm *sm, uint32_t n)
{
	struct sm_item *it;

	while (n-- > 0 && sm->head != NULL) {
		it = sm->head;
		sm->head = it->next;
		if (sm->head == NULL) {
			sm->tail = NULL;
		}
		sm->qlen--;
		sm->qbytes -= it->len;
		free(it);
	}
}

/*
 * Take h as the client's count of handled stanzas.  0, or -1 after a
 * <handled-count-too-high/> stream error (§5).
 */
static int
sm_ack(struct sm *sm, struct c2s *s, uint32_t h)
{
	uint32_t delta = h - sm->out_acked;
	uint32_t pending = sm->out_sent - sm->out_acked;
	char app[160], text[128];

	if (delta > pending) {
		snprintf(app, sizeof(app), "<handled-count-too-high xmlns='"
		    NS_SM "' h='%lu' send-count='%lu'/>", (unsigned long)h,
		    (unsigned long)sm->out_sent);
		snprintf(text, sizeof(text), "You acknowledged %lu stanzas, "
		    "but I only sent you %lu so far.", (unsigned long)h,
		    (unsigned long)sm->out_sent);
		c2s_stream_error_app(s, "undefined-condition", app, text);
		return -1;
	}
	sm_trim(sm, delta);
	sm->out_acked = h;
	return 0;
}

/* An unsigned 32-bit counter attribute; -1 when missing or malformed. */
static int
parse_h(const char *v, uint32_t *out)
{
	unsigned long long n = 0;

	if (v == NULL || *v == '\0') {
		return -1;
	}
	for (; *v; v++) {
		if (*v < '0' || *v > '9') {
			return -1;
		}
		n = n * 10 + (unsigned)(*v - '0');
		if (n > 0xffffffffULL) {
			return -1;
		}
	}
	*out = (uint32_t)n;
	return 0;
}

/* ---- CSI: holding presence back ---- */

static void
held_free(struct sm_held *h)
{
	free(h->from);
	free(h->data);
}

/* Send everything held back, oldest first. */
static void
csi_flush(struct sm *sm)
{
	struct sm_held *held = sm->held;
	size_t i, n = sm->nheld;

	sm->held = NULL;
	sm->nheld = 0;
	for (i = 0; i < n; i++) {
		sm_send_now(sm, held[i].data, held[i].len);
		held_free(&held[i]);
	}
	free(held);
}

/*
 * While inactive: hold an available or unavailable presence back,
 * replacing an older one from the same sender.  1 when held.
 */
static int
csi_hold(struct sm *sm, const char *data, size_t len)
{
	struct xml_node *st;
	const char *type, *from;
	size_t i;
	int err, held = 0;

	if (len < 9 || memcmp(data, "<presence", 9) != 0) {
		return 0;
	}
	st = xml_parse_document(data, len, XML_NS_CLIENT, &err);
	if (st == NULL) {
		return 0;
	}
	type = xml_attr(st, "type");
	from = xml_attr(st, "from");
	if (from == NULL || (type != NULL && strcmp(type, "unavailable") != 0)) {
		goto out;
	}
	for (i = 0; i < sm->nheld; i++) {
		if (strcmp(sm->held[i].from, from) == 0) {
			break;
		}
	}
	if (i < sm->nheld) {
		/* keep the order of first arrival; the content is the latest */
		free(sm->held[i].data);
	} else {
		if (sm->nheld >= SM_CSI_MAX_HELD) {
			goto out;
		}
		sm->held = xrealloc(sm->held,
		    (sm->nheld + 1) * sizeof(*sm->held));
		sm->held[i].from = xstrdup(from);
		sm->nheld++;
	}
	sm->held[i].data = xstrndup(data, len);
	sm->held[i].len = len;
	held = 1;
out:
	xml_free(st);
	return held;
}

static struct sm *
sm_get(struct c2s *s, struct sm **smp)
{
	if (*smp == NULL) {
		*smp = xcalloc(1, sizeof(**smp));
		(*smp)->owner = s;
	}
	return *smp;
}

/* ---- protocol ---- */

static void
sm_enable(struct c2s *s, struct sm **smp, const struct xml_node *el,
    int bound)
{
	const struct config *cfg = config_get();
	const char *resume = xml_attr(el, "resume");
	const char *max = xml_attr(el, "max");
	unsigned char rnd[SM_ID_BYTES];
	struct sm *sm;
	uint32_t want;
	size_t i;

	/* §3: after binding, and only once */
	if (!bound || (*smp != NULL && (*smp)->enabled)) {
		sm_failed(s, "unexpected-request");
		return;
	}
	sm = sm_get(s, smp);
	sm->enabled = 1;
	sm->in_h = sm->out_sent = sm->out_acked = 0;
	sm->since_r = 0;
	buf_reset(&sms.out);
	buf_puts(&sms.out, "<enabled xmlns='" NS_SM "'");
	if (resume != NULL && (strcmp(resume, "true") == 0 ||
	    strcmp(resume, "1") == 0) && cfg->sm_resume_timeout_s > 0) {
		if (tls_random(rnd, sizeof(rnd)) != 0) {
			log_err("sm: no randomness for an SM-ID");
			sm_failed(s, "internal-server-error");
			sm->enabled = 0;
			return;
		}
		for (i = 0; i < sizeof(rnd); i++) {
			snprintf(sm->id + 2 * i, 3, "%02x", rnd[i]);
		}
		sm->max_s = cfg->sm_resume_timeout_s;
		/* the client's preferred maximum, when shorter */
		if (parse_h(max, &want) == 0 && want > 0 && want < sm->max_s) {
			sm->max_s = want;
		}
		table_add(sm);
		buf_printf(&sms.out, " id='%s' resume='true' max='%u'", sm->id,
		    sm->max_s);
	}
	buf_puts(&sms.out, "/>");
	c2s_write_raw(s, sms.out.data, sms.out.len);
	log_debug("sm: enabled for %s resumable=%d", c2s_jid(s),
	    sm->resumable);
}

static void
sm_resume(struct c2s *s, struct sm **smp, const struct xml_node *el,
    int bound)
{
	const char *previd = xml_attr(el, "previd");
	struct sm *sm;
	struct c2s *old;
	struct sm_item *it;
	uint32_t h;

	if (bound) {
		sm_failed(s, "unexpected-request");
		return;
	}
	if (config_get()->sm_resume_timeout_s == 0) {
		sm_failed(s, "feature-not-implemented");
		return;
	}
	if (previd == NULL || parse_h(xml_attr(el, "h"), &h) != 0) {
		sm_failed(s, "bad-request");
		return;
	}
	sm = table_find(previd);
	if (sm == NULL || sm->dead || (old = sm->owner) == s ||
	    !c2s_can_resume(old, s)) {
		/* §5: unknown or expired; the client may bind instead */
		sm_failed(s, "item-not-found");
		return;
	}
	/* the h in <resume/> acts as an <a/> on the old stream (§5) */
	if (sm_ack(sm, s, h) != 0) {
		return;
	}
	if (*smp != NULL) {
		/* CSI state of this stream before the resume: dropped */
		sm_end(*smp, NULL);
		*smp = NULL;
	}
	hib_unlink(sm);
	c2s_adopt(s, old);	/* moves sm to s; old is closed or freed */
	sm->owner = s;
	buf_reset(&sms.out);
	buf_printf(&sms.out, "<resumed xmlns='" NS_SM "' h='%lu' "
	    "previd='", (unsigned long)sm->in_h);
	xml_escape(&sms.out, sm->id, strlen(sm->id), 1);
	buf_puts(&sms.out, "'/>");
	c2s_write_raw(s, sms.out.data, sms.out.len);
	for (it = sm->head; it != NULL; it = it->next) {
		c2s_write_raw(s, it->data, it->len);
	}
	log_info("sm: resumed %s redelivered=%zu", c2s_jid(s), sm->qlen);
	/* XEP-0352 §5.2: a resumed stream starts active; presence held back
	 * on the old stream follows as new stanzas */
	sm->inactive = 0;
	if (sm->nheld > 0) {
		csi_flush(sm);
	}
	if (sm->qlen > 0) {
		sm_request_ack(sm);
	} else {
		sm->since_r = 0;
	}
}

void
sm_element(struct c2s *s, struct sm **smp, const struct xml_node *el,
    int bound)
{
	struct sm *sm = *smp;
	uint32_t h;
	char ack[64];

	if (strcmp(el->ns, NS_CSI) == 0) {
		/* XEP-0352 §4: no reply either way */
		if (strcmp(el->name, "inactive") == 0) {
			sm_get(s, smp)->inactive = 1;
		} else if (strcmp(el->name, "active") == 0 && sm != NULL) {
			sm->inactive = 0;
			if (sm->nheld > 0) {
				csi_flush(sm);
			}
		}
		return;
	}
	if (strcmp(el->name, "enable") == 0) {
		sm_enable(s, smp, el, bound);
	} else if (strcmp(el->name, "resume") == 0) {
		sm_resume(s, smp, el, bound);
	} else if (sm == NULL || !sm->enabled) {
		/* acks without stream management */
		c2s_stream_error_app(s, "unsupported-stanza-type", NULL,
		    "Stream management is not enabled");
	} else if (strcmp(el->name, "r") == 0) {
		snprintf(ack, sizeof(ack), "<a xmlns='" NS_SM "' h='%lu'/>",
		    (unsigned long)sm->in_h);
		sm_write(sm, ack);
	} else if (strcmp(el->name, "a") == 0) {
		if (parse_h(xml_attr(el, "h"), &h) != 0) {
			c2s_stream_error_app(s, "invalid-xml", NULL,
			    "<a/> needs a numeric 'h'");
			return;
		}
		sm_ack(sm, s, h);
	} else {
		c2s_stream_error_app(s, "unsupported-stanza-type", NULL, NULL);
	}
}

void
sm_inbound(struct sm *sm)
{
	if (sm->enabled) {
		sm->in_h++;	/* wraps to 0 after 2^32 - 1 (§4) */
	}
}

int
sm_send(struct sm *sm, const char *data, size_t len)
{
	if (sm->inactive && !sm->hibernating && csi_hold(sm, data, len)) {
		return 0;
	}
	/* anything else is important: what was held goes out first */
	if (sm->nheld > 0) {
		csi_flush(sm);
	}
	return sm_send_now(sm, data, len);
}

void
sm_conn_tick(struct sm *sm)
{
	if (sm->enabled && sm->since_r > 0) {
		sm_request_ack(sm);
	}
}

int
sm_hibernate(struct sm *sm)
{
	if (!sm->enabled || !sm->resumable || sm->dead ||
	    config_get()->sm_resume_timeout_s == 0) {
		return 0;
	}
	/* held presence joins the queue, for the resumed stream */
	if (sm->nheld > 0) {
		csi_flush(sm);
	}
	sm->inactive = 0;
	sm->hibernating = 1;
	sm->deadline = server_now() + (time_t)sm->max_s;
	sm->hib_prev = NULL;
	sm->hib_next = sms.hib;
	if (sms.hib != NULL) {
		sms.hib->hib_prev = sm;
	}
	sms.hib = sm;
	sms.nhib++;
	log_info("sm: %s hibernating for %us, unacked=%zu",
	    c2s_jid(sm->owner), sm->max_s, sm->qlen);
	return 1;
}

void
sm_kill(struct sm *sm)
{
	sm->dead = 1;
}

static void
add_delay(struct xml_node *st, time_t when)
{
	struct xml_node *delay;
	struct tm tm;
	char stamp[32];

	gmtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	delay = xml_add(st, "delay", NS_DELAY);
	xml_set_attr(delay, "from", config_get()->domain);
	xml_set_attr(delay, "stamp", stamp);
}

/*
 * §4: an unacknowledged stanza is treated as one sent to an unavailable
 * resource.  Messages are routed again (to another resource or offline
 * storage, by the RFC 6121 rules), requests bounced; presence, results,
 * errors, groupchat, headlines and carbon copies are dropped.
 */
static void
sm_reroute(const struct sm_item *it, const char *jid)
{
	struct xml_node *st, *reply;
	const char *type;
	int err;

	st = xml_parse_document(it->data, it->len, XML_NS_CLIENT, &err);
	if (st == NULL) {
		return;
	}
	type = xml_attr(st, "type");
	if (type == NULL) {
		type = "";
	}
	if (strcmp(st->name, "message") == 0) {
		if (strcmp(type, "error") != 0 &&
		    strcmp(type, "groupchat") != 0 &&
		    strcmp(type, "headline") != 0 &&
		    xml_child(st, "sent", NS_CARBONS) == NULL &&
		    xml_child(st, "received", NS_CARBONS) == NULL &&
		    xml_attr(st, "from") != NULL) {
			if (xml_attr(st, "to") == NULL) {
				xml_set_attr(st, "to", jid);
			}
			/* §4: stamped with the original delivery time */
			if (xml_child(st, "delay", NS_DELAY) == NULL) {
				add_delay(st, it->sent);
			}
			route_stanza(st);
		}
	} else if (strcmp(st->name, "iq") == 0 &&
	    (strcmp(type, "get") == 0 || strcmp(type, "set") == 0) &&
	    xml_attr(st, "from") != NULL) {
		reply = stanza_error_reply(st, NULL, "service-unavailable",
		    NULL);
		if (xml_attr(reply, "from") == NULL) {
			xml_set_attr(reply, "from", jid);
		}
		route_stanza(reply);
		xml_free(reply);
	}
	xml_free(st);
}

void
sm_end(struct sm *sm, const char *jid)
{
	struct sm_item *it, *next;
	size_t i, n = sm->qlen;

	table_del(sm);
	hib_unlink(sm);
	for (i = 0; i < sm->nheld; i++) {
		held_free(&sm->held[i]);
	}
	free(sm->held);
	sm->held = NULL;
	sm->nheld = 0;
	/* detach the queue first: routing may come back to this session's
	 * JID (now unregistered), never to this queue */
	it = sm->head;
	sm->head = sm->tail = NULL;
	sm->qlen = sm->qbytes = 0;
	sm->enabled = 0;
	if (n > 0 && jid != NULL) {
		log_info("sm: %s ended with %zu unacked stanzas", jid, n);
	}
	for (; it != NULL; it = next) {
		next = it->next;
		if (jid != NULL) {
			sm_reroute(it, jid);
		}
		free(it);
	}
	free(sm);
}

void
sm_tick(time_t now)
{
	struct sm *sm;

	/* one at a time: ending a session routes presence and messages,
	 * which may mark others dead (never unlink them) */
	for (;;) {
		for (sm = sms.hib; sm != NULL; sm = sm->hib_next) {
			if (sm->dead || now >= sm->deadline) {
				break;
			}
		}
		if (sm == NULL) {
			break;
		}
		hib_unlink(sm);
		log_info("sm: %s resumption window over%s",
		    c2s_jid(sm->owner), sm->dead ? " (ended)" : "");
		c2s_hibernation_end(sm->owner);	/* calls sm_end() */
	}
}

void
sm_shutdown(void)
{
	struct sm *sm;

	for (sm = sms.hib; sm != NULL; sm = sm->hib_next) {
		sm->dead = 1;
	}
	sm_tick(server_now());
	buf_free(&sms.out);
	if (sms.ids.count == 0) {
		htab_clear(&sms.ids);
	}
}

size_t
sm_hibernating(void)
{
	return sms.nhib;
}
