/*
 * c2s.c - one client stream (RFC 6120): header and features, SASL,
 * stream restart, resource binding, then stanzas to route.c.
 *
 * States: HEADER (waiting for <stream:stream>), AUTH (SASL), BIND
 * (authenticated, restarted stream, no resource yet), OPEN (bound),
 * CLOSED (stream error or close sent; input ignored).
 */
#include "c2s.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "ratelimit.h"
#include "register.h"
#include "roster.h"
#include "route.h"
#include "sasl.h"
#include "secret.h"
#include "server.h"
#include "services.h"
#include "sm.h"
#include "stanza.h"
#include "tls.h"
#include "uxlimits.h"
#include "xml.h"

enum c2s_state {
	C2S_HEADER,
	C2S_AUTH,
	C2S_BIND,
	C2S_OPEN,
	C2S_CLOSED,
};

static const char *const state_names[] = {
	"header", "auth", "bind", "open", "closed"
};

/* The per-session buckets, allocated only for sessions that have them
 * (an idle session from an exempt address pays nothing). */
struct c2s_rate {
	struct rl_bucket	 stanzas;	/* max_stanzas_per_s */
	struct rl_bucket	 bytes;		/* max_bytes_per_s */
};

struct c2s {
	struct conn		*conn;
	struct xml_parser	*parser;
	struct sasl_server	*sasl;
	struct sm		*sm;		/* XEP-0198/0352 state, or NULL */
	char			*user;		/* bare JID once authenticated */
	char			*jid;		/* full JID once bound */
	struct route_sess	*route;	/* in the routing table, or NULL */
	enum c2s_state		 state;
	unsigned		 header_sent:1;
	unsigned		 restart:1;	/* reset the parser after this stanza */
	unsigned		 drop_rest:1;	/* and discard the rest (STARTTLS) */
	unsigned		 no_resume:1;	/* closed for good: never hibernate */
	unsigned		 paused:1;	/* input held until c2s_resume */
	unsigned		 rate_exempt:1;	/* limits_exempt address */
	unsigned		 auth_refusal:1; /* due at c2s_resume */
	struct buf		*held;		/* input not parsed while paused */
	const char		*mech;		/* the SASL mechanism tried (a
						   static name), for logs */
	struct c2s_rate		*rate;		/* NULL: a limits_exempt address */
	const char		*refuse_cond;	/* c2s_refuse(): static string */
	const char		*refuse_text;
	unsigned		 auth_failures;
	unsigned		 register_attempts;
	char			*invite_token;	/* presented, or NULL */
	time_t			 started;
	time_t			 last_input;
};

static struct xml_limits c2s_limits;
/* The per-session rates of the configuration in force (a SIGHUP's new
 * values apply to every session's next take). */
static struct rl_rate
c2s_stanza_rate(void)
{
	const struct config *cfg = config_get();
	struct rl_rate r = { cfg->max_stanzas_per_s, 1000,
	    cfg->max_stanzas_burst };

	return r;
}

static struct rl_rate
c2s_byte_rate(void)
{
	const struct config *cfg = config_get();
	struct rl_rate r = { cfg->max_bytes_per_s, 1000,
	    cfg->max_bytes_burst };

	return r;
}
static struct buf scratch;	/* serializing, reused; zero is an empty buf */

static int c2s_on_header(void *ud, const struct xml_node *header);
static int c2s_on_stanza(void *ud, struct xml_node *stanza);
static int c2s_on_close(void *ud);

static const struct xml_callbacks c2s_callbacks = {
	c2s_on_header, c2s_on_stanza, c2s_on_close
};

void
c2s_init(void)
{
	const struct config *cfg = config_get();

	xml_limits_default(&c2s_limits);
	c2s_limits.max_stanza_bytes = cfg->max_stanza_bytes;
	c2s_limits.max_depth = cfg->max_depth;
	c2s_limits.max_attrs = cfg->max_attrs;
	/* unknown users look like real ones, iteration count included */
	sasl_set_fake_iterations(cfg->scram_iterations);
}

/* See c2s.h. */
int
c2s_load_secrets(void)
{
	unsigned char key[32];
	char err[700];

	if (secret_load(config_get()->data_dir, C2S_FAKE_SALT_FILE, key,
	    sizeof(key), err, sizeof(err)) != 0) {
		log_err("c2s: %s", err);
		return -1;
	}
	sasl_set_fake_salt_key(key, sizeof(key));
	tls_zeroize(key, sizeof(key));
	return 0;
}

static void
c2s_enter(struct c2s *s, enum c2s_state state)
{
	log_debug("c2s %lu state %s -> %s", conn_id(s->conn),
	    state_names[s->state], state_names[state]);
	s->state = state;
}

struct c2s *
c2s_new(struct conn *c)
{
	struct c2s *s = xcalloc(1, sizeof(*s));

	s->conn = c;
	s->state = C2S_HEADER;
	s->started = s->last_input = server_now();
	s->rate_exempt = ratelimit_exempt(conn_addr(c)) ? 1 : 0;
	if (!s->rate_exempt) {
		struct rl_rate sr = c2s_stanza_rate(), br = c2s_byte_rate();

		s->rate = xmalloc(sizeof(*s->rate));
		rl_bucket_init(&s->rate->stanzas, &sr, server_now_ms());
		rl_bucket_init(&s->rate->bytes, &br, server_now_ms());
	}
	return s;
}

/* See c2s.h. */
void
c2s_refuse(struct c2s *s, const char *cond, const char *text)
{
	s->refuse_cond = cond;
	s->refuse_text = text;
}

static void
c2s_write(struct c2s *s, const char *text)
{
	conn_write(s->conn, text, strlen(text));
}

/* stanzas handled from bound clients, and sent to clients */
static unsigned long long stanzas_in, stanzas_out;

/* See c2s.h. */
void
c2s_stanza_counts(unsigned long long *in, unsigned long long *out)
{
	*in = stanzas_in;
	*out = stanzas_out;
}

static void
c2s_send(struct c2s *s, const char *data, size_t len)
{
	stanzas_out++;
	/* With stream management a stanza is kept until acked, even when
	 * the stream is closing or gone (hibernating). */
	if (s->sm != NULL) {
		if (sm_send(s->sm, data, len) != 0 && s->conn != NULL) {
			c2s_stream_error_app(s, "resource-constraint", NULL,
			    "Too many unacknowledged stanzas");
		}
		return;
	}
	if (s->state != C2S_CLOSED && s->conn != NULL) {
		conn_write(s->conn, data, len);
	}
}

void
c2s_write_raw(struct c2s *s, const char *data, size_t len)
{
	if (s->state != C2S_CLOSED && s->conn != NULL) {
		conn_write(s->conn, data, len);
	}
}

static void
c2s_send_stanza(struct c2s *s, const struct xml_node *stanza)
{
	buf_reset(&scratch);
	xml_serialize(stanza, XML_NS_CLIENT, &scratch);
	c2s_send(s, scratch.data, scratch.len);
}

const char *
c2s_jid(const struct c2s *s)
{
	return s->jid;
}

/*
 * Our half of the stream header, once; header is the client's (NULL when
 * an error comes before it).  RFC 6120 §4.7.2: 'to' is the bare JID of the
 * client's 'from' if it gave one, else absent; §4.7.5: 'version' is the
 * lower of the client's and ours (1.0), absent when the client gave none.
 */
static void
c2s_send_header(struct c2s *s, const struct xml_node *header)
{
	const struct config *cfg = config_get();
	const char *from = header ? xml_attr(header, "from") : NULL;
	const char *version = header ? xml_attr(header, "version") : "1.0";
	unsigned char rnd[8];
	char id[17], canon[JID_MAX + 1], bare[JID_MAX + 1];
	unsigned long major = 1, minor = 0;
	char *end;
	int i;

	if (s->header_sent) {
		return;
	}
	s->header_sent = 1;
	if (tls_random(rnd, sizeof(rnd)) != 0) {
		memset(rnd, 0, sizeof(rnd));
	}
	for (i = 0; i < 8; i++) {
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	}
	buf_reset(&scratch);
	buf_puts(&scratch, "<?xml version='1.0'?><stream:stream xmlns='"
	    XML_NS_CLIENT "' xmlns:stream='" XML_NS_STREAM "' id='");
	buf_puts(&scratch, id);
	buf_puts(&scratch, "' from='");
	xml_escape(&scratch, cfg->domain, strlen(cfg->domain), 1);
	buf_putc(&scratch, '\'');
	if (from != NULL && jid_canon(from, canon, sizeof(canon)) == 0 &&
	    jid_bare(canon, bare, sizeof(bare)) == 0) {
		buf_puts(&scratch, " to='");
		xml_escape(&scratch, bare, strlen(bare), 1);
		buf_putc(&scratch, '\'');
	}
	if (version != NULL) {
		/* numbers, not a string match; leading zeros ignored */
		major = strtoul(version, &end, 10);
		minor = *end == '.' ? strtoul(end + 1, NULL, 10) : 0;
		if (major >= 1) {
			major = 1;
			minor = 0;
		}
		buf_printf(&scratch, " version='%lu.%lu'", major, minor);
	}
	buf_puts(&scratch, " xml:lang='en'>");
	conn_write(s->conn, scratch.data, scratch.len);
}

/*
 * Send a stream error and close (RFC 6120 §4.9): the header first if we
 * never sent one, then the error and </stream:stream>.
 */
void
c2s_stream_error_app(struct c2s *s, const char *cond, const char *app_xml,
    const char *text)
{
	if (s->state == C2S_CLOSED || s->conn == NULL) {
		return;
	}
	/* XEP-0198 §6: an unfinished stream may be resumed; one we end
	 * for a reason other than a timeout may not */
	if (strcmp(cond, "connection-timeout") != 0) {
		s->no_resume = 1;
	}
	log_info("c2s %lu stream error %s%s%s", conn_id(s->conn), cond,
	    text ? ": " : "", text ? text : "");
	if (conn_tls_handshaking(s->conn)) {
		/* No XML between <proceed/> and the end of the handshake
		 * (RFC 6120 §5.4.3.1): just close. */
		c2s_enter(s, C2S_CLOSED);
		conn_close(s->conn, cond);
		return;
	}
	c2s_send_header(s, NULL);
	buf_reset(&scratch);
	buf_printf(&scratch, "<stream:error><%s xmlns='" NS_STREAMS "'/>",
	    cond);
	if (app_xml != NULL) {
		buf_puts(&scratch, app_xml);
	}
	if (text != NULL) {
		buf_puts(&scratch, "<text xmlns='" NS_STREAMS "'>");
		xml_escape(&scratch, text, strlen(text), 0);
		buf_puts(&scratch, "</text>");
	}
	buf_puts(&scratch, "</stream:error></stream:stream>");
	conn_write(s->conn, scratch.data, scratch.len);
	c2s_enter(s, C2S_CLOSED);
	conn_close(s->conn, cond);
}

static void
c2s_stream_error(struct c2s *s, const char *cond, const char *text)
{
	c2s_stream_error_app(s, cond, NULL, text);
}

static int
plain_allowed(const struct c2s *s)
{
	int allow = config_get()->allow_plain_unencrypted;

	if (conn_is_encrypted(s->conn)) {
		return 1;
	}
	return allow > 0 || (allow < 0 && conn_is_loopback(s->conn));
}

/* Must this stream negotiate TLS before SASL (require_encryption)? */
static int
c2s_tls_required(const struct c2s *s)
{
	int req = config_get()->require_encryption;

	if (conn_is_encrypted(s->conn)) {
		return 0;
	}
	return req > 0 || (req < 0 && !conn_is_loopback(s->conn));
}

/* The session's channel bindings, strongest first; data borrowed from
 * the TLS session.  Returns how many (0 without TLS). */
static size_t
c2s_channel_bindings(const struct c2s *s, struct sasl_cb cbs[TLS_CB_MAX])
{
	struct tls_conn *t = conn_tls(s->conn);
	const char *types[TLS_CB_MAX];
	size_t i, n, used = 0;

	if (t == NULL) {
		return 0;
	}
	n = tls_conn_cb_types(t, types, TLS_CB_MAX);
	for (i = 0; i < n; i++) {
		cbs[used].type = types[i];
		cbs[used].data = tls_conn_cb_data(t, types[i], &cbs[used].len);
		if (cbs[used].data != NULL) {
			used++;
		}
	}
	return used;
}

static void
c2s_send_features(struct c2s *s)
{
	const char *const *mech;
	struct sasl_cb cbs[TLS_CB_MAX];
	size_t i, ncb;
	int offer_tls = !conn_is_encrypted(s->conn) &&
	    conn_tls_available(s->conn);

	buf_reset(&scratch);
	buf_puts(&scratch, "<stream:features>");
	if (s->state == C2S_AUTH && offer_tls) {
		buf_puts(&scratch, "<starttls xmlns='" NS_TLS "'>");
		if (c2s_tls_required(s)) {
			buf_puts(&scratch, "<required/>");
		}
		buf_puts(&scratch, "</starttls>");
	}
	if (s->state == C2S_AUTH && c2s_tls_required(s)) {
		/* RFC 6120 §5.3.1: nothing but STARTTLS while it is
		 * mandatory-to-negotiate. */
	} else if (s->state == C2S_AUTH) {
		ncb = c2s_channel_bindings(s, cbs);
		if (ncb > 0) {
			buf_puts(&scratch, "<sasl-channel-binding xmlns='"
			    NS_SASL_CB "'>");
			for (i = 0; i < ncb; i++) {
				buf_printf(&scratch, "<channel-binding "
				    "type='%s'/>", cbs[i].type);
			}
			buf_puts(&scratch, "</sasl-channel-binding>");
		}
		buf_puts(&scratch, "<mechanisms xmlns='" NS_SASL "'>");
		for (mech = sasl_mechanisms_cb(plain_allowed(s), ncb > 0);
		    *mech; mech++) {
			buf_printf(&scratch, "<mechanism>%s</mechanism>",
			    *mech);
		}
		buf_puts(&scratch, "</mechanisms>");
		if (register_enabled()) {
			buf_puts(&scratch, REGISTER_FEATURE);
		}
		if (!c2s_tls_required(s)) {
			buf_puts(&scratch, REGISTER_INVITE_FEATURES);
		}
	} else {
		/* RFC 6121 §2.6.1: roster versioning is a stream feature */
		buf_puts(&scratch, "<bind xmlns='" NS_BIND "'/>"
		    "<session xmlns='" NS_SESSION "'><optional/></session>"
		    "<ver xmlns='" NS_ROSTERVER "'/>" SM_FEATURES);
	}
	services_caps_feature(&scratch);
	buf_puts(&scratch, "</stream:features>");
	conn_write(s->conn, scratch.data, scratch.len);
}

static int
c2s_on_header(void *ud, const struct xml_node *header)
{
	struct c2s *s = ud;
	const struct config *cfg = config_get();
	const char *to = xml_attr(header, "to");
	const char *version = xml_attr(header, "version");
	const char *content_ns = xml_attr_ns(header, XML_NS_XMLNS, "xmlns");
	char dom[JID_MAX + 1];

	if (s->state == C2S_CLOSED) {
		return 1;
	}
	c2s_send_header(s, header);
	/* RFC 6120 §4.8.1: the header is <stream/> in the stream
	 * namespace; §4.8.3: a content namespace other than jabber:client
	 * declared as the default (jabber:server is s2s, not here) gets
	 * <invalid-namespace/>.  No default, or the stream namespace as
	 * the default, is prefix-free canonicalization (§4.8.2): allowed. */
	if (strcmp(header->name, "stream") != 0 ||
	    strcmp(header->ns, XML_NS_STREAM) != 0 ||
	    (content_ns != NULL && strcmp(content_ns, XML_NS_CLIENT) != 0 &&
	    strcmp(content_ns, XML_NS_STREAM) != 0)) {
		c2s_stream_error(s, "invalid-namespace", NULL);
		return 1;
	}
	if (to == NULL || jid_canon(to, dom, sizeof(dom)) != 0 ||
	    strcmp(dom, cfg->domain) != 0) {
		c2s_stream_error(s, "host-unknown", NULL);
		return 1;
	}
	if (version != NULL && strtoul(version, NULL, 10) > 1) {
		c2s_stream_error(s, "unsupported-version", NULL);
		return 1;
	}
	if (s->refuse_cond != NULL) {
		c2s_stream_error(s, s->refuse_cond, s->refuse_text);
		return 1;
	}
	if (s->state == C2S_HEADER) {
		c2s_enter(s, C2S_AUTH);
	}
	c2s_send_features(s);
	return 0;
}

static int
c2s_on_close(void *ud)
{
	struct c2s *s = ud;

	/* XEP-0198 §6: a clean close ends the session, no hibernation */
	s->no_resume = 1;
	if (s->state != C2S_CLOSED) {
		c2s_write(s, "</stream:stream>");
		c2s_enter(s, C2S_CLOSED);
		conn_close(s->conn, "stream closed by client");
	}
	return 1;
}

/* ---- pausing input (rate limits) ---- */

/* Hold input back until resume_ms: the stanza being handled is the last
 * one parsed; the rest waits in s->held for c2s_resume. */
static void
c2s_pause(struct c2s *s, int64_t resume_ms)
{
	s->paused = 1;
	conn_pause_input_until(s->conn, resume_ms);
}

/*
 * max_stanzas_per_s: a stanza past the bucket is handled (it was read),
 * and parsing stops there until the bucket is back at zero; what follows
 * waits in s->held and the socket is not read meanwhile.  Delayed, never
 * dropped.
 */
static void
c2s_count_stanza(struct c2s *s)
{
	struct rl_rate r = c2s_stanza_rate();
	int64_t wait_ms;

	if (s->rate == NULL || s->state == C2S_CLOSED || s->conn == NULL) {
		return;
	}
	wait_ms = rl_bucket_take(&s->rate->stanzas, &r, 1, server_now_ms());
	if (wait_ms > 0) {
		log_debug("c2s %lu stanza rate: paused %lld ms",
		    conn_id(s->conn), (long long)wait_ms);
		c2s_pause(s, server_now_ms() + wait_ms);
	}
}

/* ---- SASL ---- */

/* A peer-supplied name for a log line: printable ASCII other than space
 * and '=' (a fail2ban filter splits on them), at most 64 bytes. */
static void
c2s_log_safe(const char *in, char *out, size_t cap)
{
	size_t i;

	if (in == NULL || *in == '\0') {
		in = "-";
	}
	for (i = 0; in[i] != '\0' && i + 1 < cap && i < 64; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[i] = ch > 0x20 && ch < 0x7f && ch != '=' ? (char)ch : '?';
	}
	out[i] = '\0';
}

/*
 * A failed authentication: one line a fail2ban filter matches (README
 * "Rate limits"), counted against the address.  Never the password or
 * any other SASL payload: the user is the name the mechanism parsed.
 */
static void
c2s_log_auth_failure(struct c2s *s, const char *what, const char *cond)
{
	char ip[64], user[80];

	rl_addr_format(conn_addr(s->conn), ip, sizeof(ip));
	c2s_log_safe(s->sasl != NULL ? sasl_tried_username(s->sasl) : NULL,
	    user, sizeof(user));
	log_info("c2s %lu auth %s ip=%s user=%s mechanism=%s reason=%s",
	    conn_id(s->conn), what, ip, user, s->mech ? s->mech : "-",
	    cond);
	ratelimit_auth_failed(conn_addr(s->conn), server_now_ms());
}

static int
c2s_lookup_creds(void *ud, const char *username, struct sasl_creds *out)
{
	const struct config *cfg = config_get();
	char bare[JID_MAX + 1];
	char local[JID_PART_MAX + 1];

	(void)ud;
	if (jid_local_canon(username, local, sizeof(local)) != 0) {
		return SASL_LOOKUP_NOUSER;
	}
	if ((size_t)snprintf(bare, sizeof(bare), "%s@%s", local,
	    cfg->domain) >= sizeof(bare)) {
		return SASL_LOOKUP_NOUSER;
	}
	if (!account_exists(bare)) {
		return SASL_LOOKUP_NOUSER;
	}
	/* stored but unreadable: temporary-auth-failure, not "no user" */
	return account_creds(bare, out) == 0 ? SASL_LOOKUP_OK :
	    SASL_LOOKUP_ERROR;
}

static void
c2s_sasl_reply(struct c2s *s, enum sasl_result r, struct buf *out)
{
	const struct config *cfg = config_get();
	char local[JID_PART_MAX + 1];

	buf_reset(&scratch);
	switch (r) {
	case SASL_CONTINUE:
		buf_printf(&scratch, "<challenge xmlns='" NS_SASL "'>%s"
		    "</challenge>", out->len ? out->data : "");
		break;
	case SASL_SUCCESS:
		if (jid_local_canon(sasl_username(s->sasl), local,
		    sizeof(local)) != 0) {
			c2s_stream_error(s, "internal-server-error", NULL);
			return;
		}
		free(s->user);
		s->user = xmalloc(strlen(local) + strlen(cfg->domain) + 2);
		sprintf(s->user, "%s@%s", local, cfg->domain);
		buf_printf(&scratch, "<success xmlns='" NS_SASL "'>%s</success>",
		    out->len ? out->data : "");
		log_info("c2s %lu authenticated user=%s", conn_id(s->conn),
		    s->user);
		conn_authenticated(s->conn);
		sasl_server_free(s->sasl);
		s->sasl = NULL;
		/* RFC 6120 §6.4.6: the client restarts the stream. */
		s->restart = 1;
		c2s_enter(s, C2S_BIND);
		s->header_sent = 0;
		break;
	case SASL_FAILURE:
		buf_printf(&scratch, "<failure xmlns='" NS_SASL "'><%s/>"
		    "</failure>", sasl_condition(s->sasl));
		c2s_log_auth_failure(s, "failed", sasl_condition(s->sasl));
		sasl_server_free(s->sasl);
		s->sasl = NULL;
		s->auth_failures++;
		break;
	}
	conn_write(s->conn, scratch.data, scratch.len);
	if (s->auth_failures >= cfg->max_auth_failures_per_stream) {
		c2s_stream_error(s, "policy-violation",
		    "Too many failed authentication attempts");
	}
}

static void
c2s_sasl_failure(struct c2s *s, const char *cond)
{
	buf_reset(&scratch);
	buf_printf(&scratch, "<failure xmlns='" NS_SASL "'><%s/></failure>",
	    cond);
	conn_write(s->conn, scratch.data, scratch.len);
}

/* The static name of mechanism mech for log lines ("unknown" for one we
 * do not offer: peer text stays out of the log). */
static const char *
c2s_mech_name(const char *mech)
{
	const char *const *m;

	for (m = sasl_mechanisms_cb(1, 1); *m != NULL; m++) {
		if (strcmp(*m, mech) == 0) {
			return *m;
		}
	}
	return "unknown";
}

/*
 * The address has used up max_auth_failures_per_ip: no credentials are
 * checked; after auth_failure_delay_ms (reading paused, the reactor
 * free) the answer is <temporary-auth-failure/> (RFC 6120 §6.5.11), as
 * Prosody's mod_limit_auth tarpit answers.  The refusal counts as a
 * failure, so a guesser that keeps trying stays refused.
 */
static void
c2s_auth_refuse(struct c2s *s)
{
	c2s_log_auth_failure(s, "refused", "max_auth_failures_per_ip");
	s->auth_failures++;
	s->auth_refusal = 1;
	c2s_pause(s, server_now_ms() + config_get()->auth_failure_delay_ms);
}

static void
c2s_handle_sasl(struct c2s *s, struct xml_node *el)
{
	const char *mech;
	const char *text = xml_text(el);
	struct buf out;
	struct sasl_cb cbs[TLS_CB_MAX];
	size_t ncb;
	enum sasl_result r;

	if (strcmp(el->name, "auth") == 0) {
		if (s->sasl != NULL) {
			sasl_server_free(s->sasl);
			s->sasl = NULL;
		}
		if (c2s_tls_required(s)) {
			/* RFC 6120 §6.5.2 */
			c2s_sasl_failure(s, "encryption-required");
			return;
		}
		mech = xml_attr(el, "mechanism");
		if (mech == NULL) {
			c2s_sasl_failure(s, "invalid-mechanism");
			return;
		}
		s->mech = c2s_mech_name(mech);
		if (ratelimit_auth_blocked(conn_addr(s->conn),
		    server_now_ms())) {
			c2s_auth_refuse(s);
			return;
		}
		ncb = c2s_channel_bindings(s, cbs);
		s->sasl = sasl_server_new_cbs(mech, plain_allowed(s), cbs, ncb,
		    c2s_lookup_creds, s);
		if (s->sasl == NULL) {
			c2s_sasl_failure(s, "invalid-mechanism");
			return;
		}
		/* an authzid may only name the user's own bare JID */
		sasl_server_set_domain(s->sasl, config_get()->domain);
	} else if (strcmp(el->name, "response") == 0) {
		if (s->sasl == NULL) {
			c2s_sasl_failure(s, "malformed-request");
			return;
		}
	} else if (strcmp(el->name, "abort") == 0) {
		if (s->sasl != NULL) {
			sasl_server_free(s->sasl);
			s->sasl = NULL;
		}
		c2s_sasl_failure(s, "aborted");
		return;
	} else {
		c2s_stream_error(s, "unsupported-stanza-type", NULL);
		return;
	}
	buf_init(&out, 0);
	r = sasl_server_step(s->sasl, text, strlen(text), &out);
	c2s_sasl_reply(s, r, &out);
	buf_free(&out);
}

/* ---- STARTTLS (RFC 6120 §5.4) ---- */

static void
c2s_handle_starttls(struct c2s *s, struct xml_node *el)
{
	if (strcmp(el->name, "starttls") != 0 || s->sasl != NULL ||
	    !conn_tls_available(s->conn)) {
		/* §5.4.2.2: not offered (TLS already on, a second STARTTLS)
		 * or malformed: <failure/>, close the stream. */
		log_info("c2s %lu starttls refused", conn_id(s->conn));
		c2s_write(s, "<failure xmlns='" NS_TLS "'/></stream:stream>");
		c2s_enter(s, C2S_CLOSED);
		conn_close(s->conn, "starttls refused");
		return;
	}
	c2s_write(s, "<proceed xmlns='" NS_TLS "'/>");
	if (conn_starttls(s->conn) != 0) {
		c2s_enter(s, C2S_CLOSED);
		conn_close(s->conn, "starttls failed");
		return;
	}
	/* §5.4.3.3: a new stream over TLS; whatever else came in the clear
	 * is discarded. */
	s->restart = 1;
	s->drop_rest = 1;
	s->header_sent = 0;
	c2s_enter(s, C2S_HEADER);
}

/* ---- binding ---- */

static void
c2s_random_resource(char *out, size_t cap)
{
	unsigned char rnd[6];
	size_t i;

	if (tls_random(rnd, sizeof(rnd)) != 0) {
		memset(rnd, 0x5a, sizeof(rnd));
	}
	snprintf(out, cap, "uxmppd-");
	for (i = 0; i < sizeof(rnd) && strlen(out) + 3 <= cap; i++) {
		snprintf(out + strlen(out), 3, "%02x", rnd[i]);
	}
}

/* route.h's send: a stanza for this session. */
static void
c2s_route_send(void *owner, const char *data, size_t len)
{
	c2s_send(owner, data, len);
}

/* End the session with stream error cond (and text, may be NULL); no
 * resumption.  A hibernating session is ended at the next tick, never
 * here: the caller may be in the middle of the routing table. */
static void
c2s_kick(struct c2s *s, const char *cond, const char *text)
{
	s->no_resume = 1;
	if (s->conn == NULL && s->sm != NULL) {
		sm_kill(s->sm);
		return;
	}
	c2s_stream_error(s, cond, text);
}

/* route.h's end: the router has dropped the session. */
static void
c2s_route_end(void *owner, const char *cond)
{
	struct c2s *s = owner;

	s->route = NULL;
	c2s_kick(s, cond, strcmp(cond, "conflict") == 0 ?
	    "Replaced by new connection" : NULL);
}

static const struct route_session_ops c2s_route_ops = {
	c2s_route_send, c2s_route_end
};

static void
c2s_handle_bind(struct c2s *s, struct xml_node *iq, struct xml_node *bind)
{
	struct xml_node *reply, *res_el, *b;
	const char *res = NULL;
	char gen[32], full[JID_MAX + 1], raw[JID_MAX + 2];
	size_t max;

	/* the account may have been deleted since authentication */
	if (!account_exists(s->user)) {
		c2s_stream_error(s, "not-authorized", NULL);
		return;
	}
	res_el = xml_child(bind, "resource", NS_BIND);
	if (res_el != NULL && *xml_text(res_el) != '\0') {
		res = xml_text(res_el);
	}
	if (res == NULL) {
		c2s_random_resource(gen, sizeof(gen));
		res = gen;
	}
	if ((size_t)snprintf(raw, sizeof(raw), "%s/%s", s->user, res) >=
	    sizeof(raw) || jid_canon(raw, full, sizeof(full)) != 0 ||
	    jid_resource(full) == NULL) {
		reply = stanza_error_reply(iq, "modify", "bad-request", NULL);
		c2s_send_stanza(s, reply);
		xml_free(reply);
		return;
	}
	/* RFC 6120 §7.6.2.1: past the account's resources, <resource-
	 * constraint/>; binding a resource already bound replaces it
	 * (§7.7.2.2), so that one does not count.  Exempt addresses (the
	 * benchmarks bind 19,000 resources of one account) are not held. */
	max = config_get()->max_resources_per_account;
	if (max > 0 && !s->rate_exempt &&
	    route_user_other_sessions(full) >= max) {
		log_info("c2s %lu bind refused user=%s limit="
		    "max_resources_per_account", conn_id(s->conn), s->user);
		reply = stanza_error_reply(iq, "wait", "resource-constraint",
		    NULL);
		c2s_send_stanza(s, reply);
		xml_free(reply);
		return;
	}
	s->jid = xstrdup(full);
	c2s_enter(s, C2S_OPEN);
	s->route = route_session_add(s, s->jid, &c2s_route_ops);
	route_session_set_unlimited(s->route, s->rate_exempt);
	log_info("c2s %lu bound jid=%s", conn_id(s->conn), s->jid);
	reply = stanza_result(iq);
	b = xml_add(reply, "bind", NS_BIND);
	xml_add_text_child(b, "jid", NULL, s->jid);
	xml_set_attr(reply, "to", s->jid);
	c2s_send_stanza(s, reply);
	xml_free(reply);
}

/*
 * A first-level element from an authenticated client that is not a valid
 * stanza gets its answer here; returns 0 for a stanza to go on with.
 * RFC 6120 §4.8.3: a stanza in a content namespace we do not speak on this
 * stream (jabber:server) closes it with <invalid-namespace/>; §4.9.3.24:
 * any other element is <unsupported-stanza-type/>; §8.2.3 rule 2: an iq
 * whose type is missing or none of get/set/result/error gets a
 * <bad-request/> stanza error (not sent again if it claims to be one).
 */
static int
c2s_check_stanza(struct c2s *s, struct xml_node *st)
{
	const char *type = xml_attr(st, "type");
	struct xml_node *reply;

	if (strcmp(st->ns, NS_JABBER_SERVER) == 0) {
		c2s_stream_error(s, "invalid-namespace", NULL);
		return -1;
	}
	if (strcmp(st->ns, XML_NS_CLIENT) != 0 ||
	    (strcmp(st->name, "message") != 0 &&
	    strcmp(st->name, "presence") != 0 &&
	    strcmp(st->name, "iq") != 0)) {
		c2s_stream_error(s, "unsupported-stanza-type", NULL);
		return -1;
	}
	if (strcmp(st->name, "iq") == 0 && (type == NULL ||
	    (strcmp(type, "get") != 0 && strcmp(type, "set") != 0 &&
	    strcmp(type, "result") != 0 && strcmp(type, "error") != 0))) {
		reply = stanza_error_reply(st, "modify", "bad-request",
		    "iq type must be get, set, result or error");
		c2s_send_stanza(s, reply);
		xml_free(reply);
		return -1;
	}
	return 0;
}

/*
 * RFC 6120 §7.1: before binding, a client may address only the server
 * itself or its own account (no 'to', the domain or the bare JID).
 */
static int
c2s_to_self(const struct c2s *s, const struct xml_node *st)
{
	const char *to = xml_attr(st, "to");
	char canon[JID_MAX + 1];

	if (to == NULL) {
		return 1;
	}
	if (jid_canon(to, canon, sizeof(canon)) != 0) {
		return 0;
	}
	return strcmp(canon, config_get()->domain) == 0 ||
	    strcmp(canon, s->user) == 0;
}

/*
 * Stanzas between SASL success and bind.  §7.1: one to any other entity
 * is not processed and closes the stream with <not-authorized/>.  To the
 * server or the account: the bind request; any other request or message
 * gets <not-allowed/> (we serve nothing before bind), and results and
 * errors are dropped (§8.3.1: no error for an error).
 */
static void
c2s_handle_prebind(struct c2s *s, struct xml_node *st)
{
	struct xml_node *bind, *reply;
	const char *type = xml_attr(st, "type");

	/* replies go back over this stream, to no client-chosen address */
	xml_set_attr(st, "from", NULL);
	if (c2s_check_stanza(s, st) != 0) {
		return;
	}
	if (!c2s_to_self(s, st)) {
		c2s_stream_error(s, "not-authorized",
		    "Bind a resource before addressing other entities");
		return;
	}
	bind = xml_child(st, "bind", NS_BIND);
	if (strcmp(st->name, "iq") == 0 && bind != NULL &&
	    strcmp(type, "set") == 0) {
		c2s_handle_bind(s, st, bind);
		return;
	}
	if (type != NULL && (strcmp(type, "error") == 0 ||
	    (strcmp(st->name, "iq") == 0 && strcmp(type, "result") == 0))) {
		return;
	}
	reply = stanza_error_reply(st, "cancel", "not-allowed", NULL);
	c2s_send_stanza(s, reply);
	xml_free(reply);
}

/* A stanza from a bound client: validate, stamp 'from', route. */
static void
c2s_handle_stanza(struct c2s *s, struct xml_node *st)
{
	const char *from = xml_attr(st, "from");
	char canon[JID_MAX + 1];

	/* RFC 6120 §8.1.2.1 item 1: the server adds 'from' or overrides
	 * it with the session's full JID, as Prosody and ejabberd do. */
	if (from != NULL && (jid_canon(from, canon, sizeof(canon)) != 0 ||
	    (strcmp(canon, s->jid) != 0 && strcmp(canon, s->user) != 0))) {
		log_debug("c2s %lu foreign from overridden", conn_id(s->conn));
	}
	xml_set_attr(st, "from", s->jid);
	if (c2s_check_stanza(s, st) != 0) {
		return;
	}
	stanzas_in++;
	if (s->route != NULL) {
		route_from_client(s->route, st);
	}
}

/* XEP-0077 §3: registration on a stream that is not authenticated. */
static int
c2s_is_register_iq(const struct c2s *s, const struct xml_node *st)
{
	/* with registration off too: an invite's token allows it */
	return !c2s_tls_required(s) &&
	    strcmp(st->name, "iq") == 0 &&
	    strcmp(st->ns, XML_NS_CLIENT) == 0 &&
	    (xml_child(st, "query", NS_REGISTER) != NULL ||
	    register_is_token_iq(st));
}

static void
c2s_handle_register(struct c2s *s, struct xml_node *st)
{
	struct xml_node *reply;

	/* each attempt costs like a failed login: no account farming */
	if (++s->register_attempts > C2S_MAX_REGISTER_ATTEMPTS) {
		c2s_stream_error(s, "policy-violation",
		    "Too many registration attempts");
		return;
	}
	if (register_is_token_iq(st)) {
		int valid;

		reply = register_token_iq(st, &valid);
		free(s->invite_token);
		s->invite_token = valid ? xstrdup(xml_attr(xml_child(st,
		    "preauth", NS_PARS), "token")) : NULL;
	} else {
		int used;

		reply = register_preauth_iq(st, s->invite_token, &used);
		if (used) {
			free(s->invite_token);
			s->invite_token = NULL;
		}
	}
	if (reply != NULL) {
		c2s_send_stanza(s, reply);
		xml_free(reply);
	}
}

static int
c2s_on_stanza(void *ud, struct xml_node *st)
{
	struct c2s *s = ud;
	int stop;

	switch (s->state) {
	case C2S_AUTH:
		if (strcmp(st->ns, NS_TLS) == 0) {
			c2s_handle_starttls(s, st);
		} else if (strcmp(st->ns, NS_SASL) == 0) {
			c2s_handle_sasl(s, st);
		} else if (c2s_is_register_iq(s, st)) {
			c2s_handle_register(s, st);
		} else {
			c2s_stream_error(s, "not-authorized", NULL);
		}
		break;
	case C2S_BIND:
		if (strcmp(st->ns, NS_SM) == 0 || strcmp(st->ns, NS_CSI) == 0) {
			sm_element(s, &s->sm, st, 0);
		} else {
			c2s_handle_prebind(s, st);
		}
		break;
	case C2S_OPEN:
		if (strcmp(st->ns, NS_SM) == 0 || strcmp(st->ns, NS_CSI) == 0) {
			sm_element(s, &s->sm, st, 1);
			break;
		}
		c2s_handle_stanza(s, st);
		if (s->sm != NULL) {
			sm_inbound(s->sm);
		}
		break;
	default:
		break;
	}
	xml_free(st);
	c2s_count_stanza(s);
	stop = s->restart || s->paused || s->state == C2S_CLOSED;
	return stop;
}

/* Keep input for c2s_resume; the buffer exists only while paused. */
static void
c2s_hold(struct c2s *s, const char *data, size_t len)
{
	if (s->held == NULL) {
		s->held = xmalloc(sizeof(*s->held));
		buf_init(s->held, 0);
	}
	buf_append(s->held, data, len);
}

static void
c2s_held_free(struct c2s *s)
{
	if (s->held != NULL) {
		buf_free(s->held);
		free(s->held);
		s->held = NULL;
	}
}

/* Parse input (new, or held back by a pause). */
static void
c2s_feed(struct c2s *s, const char *data, size_t len)
{
	size_t used;
	int rc;

	if (s->paused) {
		/* what the reactor read before the pause took effect */
		c2s_hold(s, data, len);
		return;
	}
	while (len > 0 && s->state != C2S_CLOSED) {
		if (s->parser == NULL) {
			s->parser = xml_parser_new(&c2s_limits, &c2s_callbacks,
			    s, 1);
		}
		used = 0;
		rc = xml_feed(s->parser, data, len, &used);
		if (rc < 0) {
			c2s_stream_error(s, xml_error_condition(rc),
			    xml_strerror(rc));
			return;
		}
		if (rc == XML_STOPPED) {
			data += used;
			len -= used;
			if (s->restart) {
				s->restart = 0;
				xml_parser_reset(s->parser);
			}
			if (s->drop_rest) {
				s->drop_rest = 0;
				return;
			}
			if (s->paused && s->state != C2S_CLOSED) {
				c2s_hold(s, data, len);
				return;
			}
			continue;
		}
		break;
	}
}

/*
 * max_bytes_per_s: the bytes read are parsed now; past the bucket the
 * socket is not read again until the debt is repaid (the kernel's
 * buffers and TCP's window hold the rest back).
 */
void
c2s_input(struct c2s *s, const char *data, size_t len)
{
	int64_t wait_ms = 0;

	s->last_input = server_now();
	if (s->rate != NULL) {
		struct rl_rate r = c2s_byte_rate();

		wait_ms = rl_bucket_take(&s->rate->bytes, &r,
		    len > UINT32_MAX ? UINT32_MAX : (unsigned)len,
		    server_now_ms());
	}
	c2s_feed(s, data, len);
	if (wait_ms > 0 && s->conn != NULL && s->state != C2S_CLOSED) {
		log_debug("c2s %lu byte rate: reading paused %lld ms",
		    conn_id(s->conn), (long long)wait_ms);
		conn_pause_input_until(s->conn, server_now_ms() + wait_ms);
	}
}

void
c2s_resume(struct c2s *s)
{
	struct buf *held;

	if (!s->paused) {
		return;
	}
	s->paused = 0;
	if (s->auth_refusal && s->state != C2S_CLOSED) {
		s->auth_refusal = 0;
		c2s_sasl_failure(s, "temporary-auth-failure");
		if (s->auth_failures >=
		    config_get()->max_auth_failures_per_stream) {
			c2s_stream_error(s, "policy-violation",
			    "Too many failed authentication attempts");
		}
	}
	if (s->held != NULL && s->state != C2S_CLOSED) {
		/* parsing may pause again: that needs a new s->held */
		held = s->held;
		s->held = NULL;
		c2s_feed(s, held->data, held->len);
		buf_free(held);
		free(held);
	}
}

void
c2s_eof(struct c2s *s)
{
	if (s->state != C2S_CLOSED) {
		c2s_enter(s, C2S_CLOSED);
	}
}

void
c2s_output_overflow(struct c2s *s)
{
	if (s->state == C2S_CLOSED) {
		return;
	}
	/* The queue was just emptied: there is room for the error. */
	c2s_stream_error(s, "policy-violation", "Output queue overflow");
}

void
c2s_tick(struct c2s *s)
{
	const struct config *cfg = config_get();
	time_t now = server_now();

	if (s->state == C2S_CLOSED) {
		return;
	}
	if (s->state != C2S_OPEN && cfg->auth_timeout_s > 0 &&
	    now - s->started >= (time_t)cfg->auth_timeout_s) {
		c2s_stream_error(s, "connection-timeout", NULL);
		return;
	}
	if (cfg->idle_timeout_s > 0 &&
	    now - s->last_input >= (time_t)cfg->idle_timeout_s) {
		c2s_stream_error(s, "connection-timeout", NULL);
		return;
	}
	if (s->sm != NULL && s->state == C2S_OPEN) {
		sm_conn_tick(s->sm);
	}
}

void
c2s_shutdown(struct c2s *s)
{
	c2s_kick(s, "system-shutdown", NULL);
}

/* The one place a session ends: leave the routing table, re-route what
 * the client never acknowledged, free. */
static void
c2s_destroy(struct c2s *s)
{
	struct sm *sm = s->sm;

	if (s->route != NULL) {
		route_session_remove(s->route);
		s->route = NULL;
	}
	s->sm = NULL;
	if (sm != NULL) {
		sm_end(sm, s->jid);
	}
	if (s->sasl != NULL) {
		sasl_server_free(s->sasl);
	}
	if (s->parser != NULL) {
		xml_parser_free(s->parser);
	}
	c2s_held_free(s);
	free(s->rate);
	free(s->user);
	free(s->jid);
	free(s->invite_token);
	free(s);
}

void
c2s_free(struct c2s *s)
{
	/* XEP-0198 §6: an unfinished stream of a resumable session: the
	 * session outlives its connection for the resumption window */
	if (s->sm != NULL && s->route != NULL && !s->no_resume &&
	    sm_hibernate(s->sm)) {
		if (s->state != C2S_CLOSED) {
			c2s_enter(s, C2S_CLOSED);
		}
		s->conn = NULL;
		if (s->sasl != NULL) {
			sasl_server_free(s->sasl);
		}
		s->sasl = NULL;
		if (s->parser != NULL) {
			xml_parser_free(s->parser);
		}
		s->parser = NULL;
		c2s_held_free(s);
		s->paused = 0;
		return;
	}
	c2s_destroy(s);
}

int
c2s_can_resume(const struct c2s *old, const struct c2s *s)
{
	return old->route != NULL && !old->no_resume && old->user != NULL &&
	    s->user != NULL && strcmp(old->user, s->user) == 0;
}

void
c2s_adopt(struct c2s *s, struct c2s *old)
{
	free(s->jid);
	s->jid = xstrdup(old->jid);
	s->sm = old->sm;
	old->sm = NULL;
	old->no_resume = 1;
	if (old->route != NULL) {
		route_session_rebind(old->route, s, s->jid);
		route_session_set_unlimited(old->route, s->rate_exempt);
		s->route = old->route;
		old->route = NULL;
	}
	c2s_enter(s, C2S_OPEN);
	log_info("c2s %lu resumed jid=%s", conn_id(s->conn), s->jid);
	if (old->conn == NULL) {
		c2s_destroy(old);
	} else {
		c2s_stream_error(old, "conflict", "Resumed on another stream");
	}
}

void
c2s_hibernation_end(struct c2s *s)
{
	c2s_destroy(s);
}
