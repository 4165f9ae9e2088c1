/*
 * c2s_ws.c - XMPP over WebSocket (RFC 7395) on top of ws.c and c2s.c,
 * and its discovery (XEP-0156 host-meta).
 *
 * The handshake (RFC 6455 §4.2) is an httpd.h handler.  After it the
 * connection carries frames: c2s_ws_input() parses them and hands c2s
 * the stream it knows (see c2s_ws.h); c2s_ws_output() cuts c2s's output
 * into top-level elements with a scanner that relies on our own
 * serializer's output being well-formed: '<' always opens a tag, quotes
 * only inside tags, no comments or CDATA.  A partial element waits in
 * pend (bounded by max_output_bytes) until its end is queued.
 */
#include "c2s_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "c2s.h"
#include "config.h"
#include "httpd.h"
#include "log.h"
#include "ns.h"
#include "server.h"
#include "ws.h"
#include "xml.h"

struct c2s_ws {
	struct conn	*conn;
	struct c2s	*c2s;
	struct ws_parser *parser;
	/* the output scanner */
	struct buf	 pend;		/* an element cut by the end of an
					 * output call, until its end comes */
	unsigned	 depth;		/* element nesting in the element */
	size_t		 tag_off;	/* where the open tag starts in it */
	size_t		 root_end;	/* end of the root's start tag, or 0 */
	char		 quote;		/* inside a quoted attribute value */
	unsigned	 in_tag:1;
	unsigned	 close_sent:1;	/* our WebSocket close frame is out */
};

static struct buf frame;	/* building a control frame, reused */

/* ---- output: c2s's stream to messages ---- */

/* The bytes that matter inside a tag. */
static const unsigned char tag_special[256] = {
	['>'] = 1, ['\''] = 1, ['"'] = 1,
};

/* Queue one text message made of up to three pieces, straight into the
 * connection's output (no copy of the element on the way). */
static void
ws_send3(struct c2s_ws *w, const char *a, size_t alen, const char *b,
    size_t blen, const char *c, size_t clen)
{
	unsigned char h[WS_MAX_HEADER];

	conn_write_raw(w->conn, h, ws_frame_header(h, WS_OP_TEXT,
	    alen + blen + clen));
	conn_write_raw(w->conn, a, alen);
	if (blen > 0) {
		conn_write_raw(w->conn, b, blen);
	}
	if (clen > 0) {
		conn_write_raw(w->conn, c, clen);
	}
}

/*
 * Our stream header to <open/>: its attributes but the namespace
 * declarations (RFC 7395 §3.4).  tag[0..len) is "<stream:stream ...>".
 */
static void
ws_send_open(struct c2s_ws *w, const char *tag, size_t len)
{
	char *copy = xstrndup(tag, len);
	const char *p = copy + strlen("<stream:stream"), *name, *eq, *end;
	struct buf b;
	char q;

	buf_init(&b, 0);
	buf_puts(&b, "<open xmlns='" NS_FRAMING "'");
	for (;;) {
		while (*p == ' ') {
			p++;
		}
		if (*p == '>' || *p == '/' || *p == '\0') {
			break;
		}
		name = p;
		eq = strchr(p, '=');
		if (eq == NULL || (eq[1] != '\'' && eq[1] != '"')) {
			break;
		}
		q = eq[1];
		end = strchr(eq + 2, q);
		if (end == NULL) {
			break;
		}
		if (strncmp(name, "xmlns", 5) != 0) {
			buf_putc(&b, ' ');
			buf_append(&b, name, (size_t)(end + 1 - name));
		}
		p = end + 1;
	}
	buf_puts(&b, "/>");
	ws_send3(w, b.data, b.len, NULL, 0, NULL, 0);
	buf_free(&b);
	free(copy);
}

/* One complete top-level element el[0..len): send it as a standalone
 * document, declaring the namespace it inherited from the stream. */
static void
ws_send_element(struct c2s_ws *w, const char *el, size_t len)
{
	size_t tag_len = w->root_end, nlen = 0;
	const char *decl = NULL;

	while (1 + nlen < tag_len && el[1 + nlen] != ' ' &&
	    el[1 + nlen] != '/' && el[1 + nlen] != '>') {
		nlen++;
	}
	if (nlen > 7 && strncmp(el + 1, "stream:", 7) == 0) {
		if (memmem(el, tag_len, " xmlns:stream=", 14) == NULL) {
			decl = " xmlns:stream='" XML_NS_STREAM "'";
		}
	} else if (memchr(el + 1, ':', nlen) == NULL &&
	    memmem(el, tag_len, " xmlns=", 7) == NULL) {
		decl = " xmlns='" XML_NS_CLIENT "'";
	}
	if (decl == NULL) {
		ws_send3(w, el, len, NULL, 0, NULL, 0);
	} else {
		ws_send3(w, el, 1 + nlen, decl, strlen(decl), el + 1 + nlen,
		    len - 1 - nlen);
	}
}

/*
 * A tag ended at the last byte of el[0..len), the element being cut out
 * (the tag starts at tag_off).  What is left of the element: len, or 0
 * once it went out (or was dropped), or tag_off without an XML
 * declaration (not sent, §3.3.3).
 */
static size_t
ws_tag_done(struct c2s_ws *w, const char *el, size_t len)
{
	const char *t = el + w->tag_off;
	size_t tlen = len - w->tag_off;
	int top = w->depth == 0;

	w->in_tag = 0;
	if (t[1] == '?') {
		return w->tag_off;
	}
	if (t[1] == '/') {
		if (top) {
			/* </stream:stream> */
			ws_send3(w, "<close xmlns='" NS_FRAMING "'/>",
			    strlen("<close xmlns='" NS_FRAMING "'/>"), NULL, 0,
			    NULL, 0);
			return 0;
		}
		w->depth--;
	} else if (t[tlen - 2] == '/') {
		if (top) {
			w->root_end = tlen;
		}
	} else if (top && tlen > 14 && strncmp(t, "<stream:stream", 14) == 0 &&
	    (t[14] == ' ' || t[14] == '>')) {
		ws_send_open(w, t, tlen);
		return 0;
	} else {
		if (top) {
			w->root_end = tlen;
		}
		w->depth++;
	}
	if (w->depth == 0) {
		ws_send_element(w, el, len);
		w->root_end = 0;
		return 0;
	}
	return len;
}

/*
 * See c2s_ws.h.  An element whose end is in data goes out from data
 * itself ("direct"); only one cut by the end of data waits in pend, so a
 * fan-out of whole stanzas copies nothing here and an idle session holds
 * no buffer.
 */
void
c2s_ws_output(struct c2s_ws *w, const char *data, size_t len)
{
	size_t i = 0, start, el_start = 0, have, left;
	int direct = 0;		/* the element so far is data[el_start..i) */
	const char *lt;

	while (i < len) {
		have = direct ? i - el_start : w->pend.len;
		if (!w->in_tag) {
			if (w->depth == 0 && have == 0) {
				/* whitespace between elements */
				lt = memchr(data + i, '<', len - i);
				if (lt == NULL) {
					break;
				}
				i = (size_t)(lt - data);
				direct = 1;
				el_start = i;
			} else if (data[i] != '<') {
				/* text inside an element, up to the next '<' */
				lt = memchr(data + i, '<', len - i);
				start = i;
				i = lt != NULL ? (size_t)(lt - data) : len;
				if (!direct) {
					buf_append(&w->pend, data + start,
					    i - start);
				}
				continue;
			}
			w->in_tag = 1;
			w->quote = 0;
			w->tag_off = direct ? i - el_start : w->pend.len;
		}
		/* inside a tag, up to its '>' outside quoted values: a run
		 * at a time (memchr to a quote's end, else to the next of
		 * '>', '\'' and '"') */
		for (start = i; i < len; i++) {
			if (w->quote != 0) {
				lt = memchr(data + i, w->quote, len - i);
				if (lt == NULL) {
					i = len;
					break;
				}
				i = (size_t)(lt - data);
				w->quote = 0;
				continue;
			}
			while (i < len && !tag_special[(unsigned char)data[i]]) {
				i++;
			}
			if (i == len || data[i] == '>') {
				break;
			}
			w->quote = data[i];
		}
		if (i == len) {
			if (!direct) {
				buf_append(&w->pend, data + start, len - start);
			}
			break;
		}
		i++;
		if (direct) {
			left = ws_tag_done(w, data + el_start, i - el_start);
			if (left == 0) {
				el_start = i;
			} else if (left < i - el_start) {
				/* a tag dropped inside: go on in pend */
				buf_append(&w->pend, data + el_start, left);
				direct = 0;
			}
		} else {
			buf_append(&w->pend, data + start, i - start);
			if (w->pend.err) {
				break;
			}
			w->pend.len = ws_tag_done(w, w->pend.data, w->pend.len);
			if (w->pend.len == 0) {
				buf_free(&w->pend);
			}
		}
	}
	/* an element cut by the end of data waits for the rest */
	if (direct && (w->in_tag || w->depth > 0)) {
		buf_append(&w->pend, data + el_start, len - el_start);
	}
	if (w->pend.err) {
		log_info("c2s %lu websocket element over %zu bytes",
		    conn_id(w->conn), w->pend.max);
		buf_free(&w->pend);
		w->pend.err = 0;
		conn_close(w->conn, "output overflow");
	}
}

/* See c2s_ws.h. */
void
c2s_ws_closing(struct c2s_ws *w)
{
	if (!w->close_sent) {
		w->close_sent = 1;
		buf_reset(&frame);
		ws_frame_close(&frame, WS_CLOSE_NORMAL, NULL);
		conn_write_raw(w->conn, frame.data, frame.len);
	}
}

/* ---- input: messages to c2s's stream ---- */

/* Does message m start with the element <name followed by a space, '/'
 * or '>' (after whitespace)? */
static int
ws_is_element(const char *m, size_t len, const char *name)
{
	size_t i = 0, n = strlen(name);

	while (i < len && (m[i] == ' ' || m[i] == '\t' || m[i] == '\r' ||
	    m[i] == '\n')) {
		i++;
	}
	return len - i > n + 1 && m[i] == '<' &&
	    memcmp(m + i + 1, name, n) == 0 && (m[i + 1 + n] == ' ' ||
	    m[i + 1 + n] == '/' || m[i + 1 + n] == '>' ||
	    m[i + 1 + n] == '\t' || m[i + 1 + n] == '\r' ||
	    m[i + 1 + n] == '\n');
}

/*
 * <open/> to the stream header c2s parses.  Its namespace becomes the
 * stream prefix's, so a wrong one gets c2s's <invalid-namespace/>
 * (RFC 7395 §3.3.2).  A message that is not one well-formed element is
 * given to c2s as it is, to fail there.
 */
static void
ws_input_open(struct c2s_ws *w, const char *m, size_t len)
{
	struct xml_node *frag, *el;
	struct buf b;
	const char *v;
	int err;

	frag = xml_parse_fragment(m, len, NULL, &err);
	el = frag != NULL ? xml_child(frag, NULL, NULL) : NULL;
	if (el == NULL || xml_child_count(frag) != 1) {
		xml_free(frag);
		c2s_input(w->c2s, m, len);
		return;
	}
	buf_init(&b, 0);
	buf_puts(&b, "<stream:stream xmlns='" XML_NS_CLIENT "' xmlns:stream='");
	v = strcmp(el->ns, NS_FRAMING) == 0 ? XML_NS_STREAM :
	    el->ns[0] != '\0' ? el->ns : XML_NS_CLIENT;
	xml_escape(&b, v, strlen(v), 1);
	buf_putc(&b, '\'');
	if ((v = xml_attr(el, "to")) != NULL) {
		buf_puts(&b, " to='");
		xml_escape(&b, v, strlen(v), 1);
		buf_putc(&b, '\'');
	}
	if ((v = xml_attr(el, "version")) != NULL) {
		buf_puts(&b, " version='");
		xml_escape(&b, v, strlen(v), 1);
		buf_putc(&b, '\'');
	}
	if ((v = xml_attr_ns(el, XML_NS_XML, "lang")) != NULL) {
		buf_puts(&b, " xml:lang='");
		xml_escape(&b, v, strlen(v), 1);
		buf_putc(&b, '\'');
	}
	buf_putc(&b, '>');
	xml_free(frag);
	c2s_input(w->c2s, b.data, b.len);
	buf_free(&b);
}

static int
ws_on_message(void *ud, int opcode, const char *data, size_t len)
{
	struct c2s_ws *w = ud;

	if (opcode != WS_OP_TEXT) {
		/* RFC 7395 §3.2: XMPP is sent in text frames only */
		log_info("c2s %lu websocket binary message", conn_id(w->conn));
		buf_reset(&frame);
		ws_frame_close(&frame, WS_CLOSE_UNSUPPORTED, NULL);
		conn_write_raw(w->conn, frame.data, frame.len);
		w->close_sent = 1;
		c2s_eof(w->c2s);
		conn_close(w->conn, "websocket binary message");
		return 1;
	}
	if (ws_is_element(data, len, "open")) {
		ws_input_open(w, data, len);
	} else if (ws_is_element(data, len, "close")) {
		c2s_input(w->c2s, "</stream:stream>", 16);
	} else {
		c2s_input(w->c2s, data, len);
	}
	return 0;
}

static int
ws_on_control(void *ud, int opcode, unsigned code, const char *data,
    size_t len)
{
	struct c2s_ws *w = ud;

	if (opcode == WS_OP_PING) {
		buf_reset(&frame);
		ws_frame(&frame, WS_OP_PONG, data, len);
		conn_write_raw(w->conn, frame.data, frame.len);
		return 0;
	}
	if (opcode != WS_OP_CLOSE) {
		return 0;
	}
	/* §5.5.1: answer with a close frame (the same code), then close;
	 * a stream not closed first just ends (RFC 7395 §3.6: resumable
	 * with stream management) */
	log_debug("c2s %lu websocket close code=%u", conn_id(w->conn), code);
	if (!w->close_sent) {
		w->close_sent = 1;
		buf_reset(&frame);
		if (code == WS_CLOSE_NO_STATUS) {
			ws_frame(&frame, WS_OP_CLOSE, NULL, 0);
		} else {
			ws_frame_close(&frame, code, NULL);
		}
		conn_write_raw(w->conn, frame.data, frame.len);
	}
	c2s_eof(w->c2s);
	conn_close(w->conn, "websocket closed by client");
	return 1;
}

static const struct ws_callbacks ws_cbs = { ws_on_message, ws_on_control };

/* See c2s_ws.h. */
void
c2s_ws_input(struct c2s_ws *w, const char *data, size_t len)
{
	size_t used;
	int rc;

	rc = ws_feed(w->parser, data, len, &used);
	if (rc < 0) {
		log_info("c2s %lu websocket protocol error close=%u",
		    conn_id(w->conn), ws_error_close_code(rc));
		if (!w->close_sent) {
			w->close_sent = 1;
			buf_reset(&frame);
			ws_frame_close(&frame, ws_error_close_code(rc), NULL);
			conn_write_raw(w->conn, frame.data, frame.len);
		}
		c2s_eof(w->c2s);
		conn_close(w->conn, "websocket protocol error");
	}
}

/* See c2s_ws.h. */
struct c2s_ws *
c2s_ws_new(struct conn *c, struct c2s *s)
{
	const struct config *cfg = config_get();
	struct c2s_ws *w = xcalloc(1, sizeof(*w));

	w->conn = c;
	w->c2s = s;
	/* a message is a stanza: the stanza limit, plus room for <open/> */
	w->parser = ws_parser_new(cfg->max_stanza_bytes + 1024, &ws_cbs, w);
	buf_init(&w->pend, cfg->max_output_bytes);
	return w;
}

/* See c2s_ws.h. */
void
c2s_ws_free(struct c2s_ws *w)
{
	if (w == NULL) {
		return;
	}
	ws_parser_free(w->parser);
	buf_free(&w->pend);
	free(w);
}

/* ---- the handshake (RFC 6455 §4.2.1, RFC 7395 §3.1) ---- */

/* Does origin (the Origin header) match host (the Host header)? */
static int
ws_same_origin(const char *origin, const char *host)
{
	const char *p = strstr(origin, "://");

	return p != NULL && host != NULL && strcasecmp(p + 3, host) == 0;
}

/*
 * websocket_origins: "" allows a browser page from the host it connects
 * to, "*" any page, else a list of origins ("https://chat.example.org").
 * Clients that are not browsers send no Origin and are let in.
 */
static int
ws_origin_allowed(const char *origin, const char *host)
{
	const char *list = config_get()->websocket_origins;
	size_t n, olen;

	if (origin == NULL) {
		return 1;
	}
	if (list[0] == '\0') {
		return ws_same_origin(origin, host);
	}
	olen = strlen(origin);
	while (*list != '\0') {
		list += strspn(list, " ,\t");
		n = strcspn(list, " ,\t");
		if ((n == 1 && *list == '*') ||
		    (n == olen && strncasecmp(list, origin, n) == 0)) {
			return 1;
		}
		list += n;
	}
	return 0;
}

static void
ws_refuse(struct http_exchange *x, int status, const char *extra,
    const char *why)
{
	log_info("c2s %lu websocket refused: %s",
	    conn_id(http_exchange_conn(x)), why);
	http_respond(x, status, "text/plain; charset=utf-8", extra, why,
	    strlen(why));
}

static void
ws_handshake(struct http_exchange *x, const struct http_request *req)
{
	const char *key = http_header(req, "Sec-WebSocket-Key");
	const char *version = http_header(req, "Sec-WebSocket-Version");
	const char *proto = http_header(req, "Sec-WebSocket-Protocol");
	char accept[29], extra[256];

	if (!http_has_token(http_header(req, "Upgrade"), "websocket") ||
	    !http_has_token(http_header(req, "Connection"), "upgrade")) {
		ws_refuse(x, 426, "Upgrade: websocket\r\n",
		    "XMPP over WebSocket (RFC 7395) lives here: connect with "
		    "a WebSocket client, subprotocol xmpp.\n");
		return;
	}
	if (version == NULL || strcmp(version, "13") != 0) {
		ws_refuse(x, 426, "Sec-WebSocket-Version: 13\r\n",
		    "WebSocket version 13 only\n");
		return;
	}
	if (key == NULL || ws_accept_key(key, accept) != 0) {
		ws_refuse(x, 400, NULL, "bad Sec-WebSocket-Key\n");
		return;
	}
	if (!http_has_token(proto, "xmpp")) {
		ws_refuse(x, 400, NULL, "the subprotocol must be xmpp\n");
		return;
	}
	if (!ws_origin_allowed(http_header(req, "Origin"),
	    http_header(req, "Host"))) {
		ws_refuse(x, 403, NULL, "origin not allowed\n");
		return;
	}
	snprintf(extra, sizeof(extra), "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
	    "Sec-WebSocket-Protocol: xmpp\r\n", accept);
	http_respond(x, 101, NULL, extra, NULL, 0);
	http_exchange_upgrade(x);
}

/* ---- discovery (XEP-0156 §3) ---- */

/*
 * The endpoint's URL as the client reached this server: the Host it
 * asked for (letters, digits, '.', '-', ':', '[', ']' only, so it needs
 * no escaping in XML or JSON), wss:// over TLS.  -1 without a usable
 * Host.
 */
static int
ws_url(struct http_exchange *x, const struct http_request *req, char *out,
    size_t cap)
{
	const char *host = http_header(req, "Host");
	const char *p;

	if (host == NULL || *host == '\0' || strlen(host) > 255) {
		return -1;
	}
	for (p = host; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(".-:[]", *p) != NULL)) {
			return -1;
		}
	}
	snprintf(out, cap, "%s://%s/xmpp-websocket",
	    conn_is_encrypted(http_exchange_conn(x)) ? "wss" : "ws", host);
	return 0;
}

/* Cross-origin pages may read it (XEP-0156 §3: web clients ask). */
#define WS_CORS	"Access-Control-Allow-Origin: *\r\n"

static void
ws_host_meta(struct http_exchange *x, const struct http_request *req)
{
	char url[300], body[600];

	if (ws_url(x, req, url, sizeof(url)) != 0) {
		http_respond(x, 400, "text/plain; charset=utf-8", NULL,
		    "no usable Host\n", 15);
		return;
	}
	snprintf(body, sizeof(body), "<?xml version='1.0' encoding='utf-8'?>\n"
	    "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"
	    "  <Link rel='urn:xmpp:alt-connections:websocket' href='%s'/>\n"
	    "</XRD>\n", url);
	http_respond(x, 200, "application/xrd+xml", WS_CORS, body,
	    strlen(body));
}

static void
ws_host_meta_json(struct http_exchange *x, const struct http_request *req)
{
	char url[300], body[600];

	if (ws_url(x, req, url, sizeof(url)) != 0) {
		http_respond(x, 400, "text/plain; charset=utf-8", NULL,
		    "no usable Host\n", 15);
		return;
	}
	snprintf(body, sizeof(body), "{\"links\":[{\"rel\":"
	    "\"urn:xmpp:alt-connections:websocket\",\"href\":\"%s\"}]}\n",
	    url);
	http_respond(x, 200, "application/json", WS_CORS, body, strlen(body));
}

static const struct http_handler ws_handlers[] = {
	{ "/xmpp-websocket", "GET", 0, ws_handshake, NULL, NULL, NULL, 0 },
	{ "/.well-known/host-meta", "GET", 0, ws_host_meta, NULL, NULL, NULL,
	    0 },
	{ "/.well-known/host-meta.json", "GET", 0, ws_host_meta_json, NULL,
	    NULL, NULL, 0 },
};

/* See c2s_ws.h. */
void
c2s_ws_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(ws_handlers) / sizeof(ws_handlers[0]); i++) {
		if (http_register(&ws_handlers[i]) != 0) {
			log_err("cannot register %s", ws_handlers[i].path);
		}
	}
}
