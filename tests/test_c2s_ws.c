/*
 * test_c2s_ws.c - RFC 7395 framing of c2s's output (c2s_ws.c): the
 * bytes c2s queues, split at every offset, become the same WebSocket
 * messages, one standalone element each, with <open/> for the stream
 * header, <close/> for its end and the inherited namespaces declared.
 * The reactor is tests/fake_reactor.h; conn_write_raw (what c2s_ws.c
 * queues frames with) is ours.
 */
#include "fake_reactor.h"

#include "c2s_ws.h"
#include "ws.h"

static struct buf wire;

void
conn_write_raw(struct conn *c, const void *data, size_t len)
{
	(void)c;
	buf_append(&wire, data, len);
}

/* The server frames on the wire as "[message]" lines; caller frees. */
static char *
messages(void)
{
	struct buf out;
	size_t off = 0, n, hl;
	char *res;

	buf_init(&out, 0);
	while (off + 2 <= wire.len) {
		const unsigned char *h = (const unsigned char *)wire.data + off;

		n = h[1] & 0x7f;
		hl = 2;
		if (n == 126) {
			n = (size_t)h[2] << 8 | h[3];
			hl = 4;
		}
		buf_printf(&out, "%d[", h[0] & 0x0f);
		buf_append(&out, wire.data + off + hl, n);
		buf_puts(&out, "]\n");
		off += hl + n;
	}
	res = xstrdup(out.data != NULL ? out.data : "");
	buf_free(&out);
	buf_reset(&wire);
	return res;
}

static const char stream_out[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='ab12' "
    "from='localhost' version='1.0' xml:lang='en'>"
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
    "<message from='a@localhost/r' to='b@localhost' id='x>y'>"
    "<body>1 &lt; 2 &apos;q&apos; a&gt;b</body><x xmlns='u'/></message>"
    "<iq type='result' id='p'/>"
    "<r xmlns='urn:xmpp:sm:3'/>"
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
    "</stream:error></stream:stream>";

static const char stream_want[] =
    "1[<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='ab12' "
    "from='localhost' version='1.0' xml:lang='en'/>]\n"
    "1[<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>]\n"
    "1[<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>]\n"
    "1[<message xmlns='jabber:client' from='a@localhost/r' to='b@localhost' "
    "id='x>y'><body>1 &lt; 2 &apos;q&apos; a&gt;b</body><x xmlns='u'/>"
    "</message>]\n"
    "1[<iq xmlns='jabber:client' type='result' id='p'/>]\n"
    "1[<r xmlns='urn:xmpp:sm:3'/>]\n"
    "1[<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"
    "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
    "</stream:error>]\n"
    "1[<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>]\n";

int
main(void)
{
	struct conn cn;
	struct c2s_ws *w;
	size_t len = strlen(stream_out), a;
	char *got;
	int bad = 0;

	memset(&cn, 0, sizeof(cn));
	buf_init(&cn.out, 0);
	buf_init(&wire, 0);
	for (a = 0; a <= len; a++) {
		w = c2s_ws_new(&cn, NULL);
		c2s_ws_output(w, stream_out, a);
		c2s_ws_output(w, stream_out + a, len - a);
		got = messages();
		if (strcmp(got, stream_want) != 0 && !bad) {
			fprintf(stderr, "split %zu:\n  got:\n%s  want:\n%s", a,
			    got, stream_want);
			bad = 1;
		}
		free(got);
		c2s_ws_free(w);
	}
	CHECK(!bad);
	/* byte by byte, then the closing handshake's frame once */
	w = c2s_ws_new(&cn, NULL);
	for (a = 0; a < len; a++) {
		c2s_ws_output(w, stream_out + a, 1);
	}
	c2s_ws_closing(w);
	c2s_ws_closing(w);
	got = messages();
	CHECK(strncmp(got, stream_want, strlen(stream_want)) == 0);
	CHECK_STR(got + strlen(stream_want), "8[\x03\xe8]\n");
	free(got);
	c2s_ws_free(w);
	/* whitespace between elements is not a message */
	w = c2s_ws_new(&cn, NULL);
	c2s_ws_output(w, " \n<presence/> ", 14);
	got = messages();
	CHECK_STR(got, "1[<presence xmlns='jabber:client'/>]\n");
	free(got);
	c2s_ws_free(w);
	buf_free(&wire);
	buf_free(&cn.out);
	return check_summary("test_c2s_ws");
}
