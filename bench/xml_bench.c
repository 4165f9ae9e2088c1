/*
 * xml_bench.c - parse speed of xml.c (building and freeing a tree per
 * stanza) against libexpat (namespace processing on, handlers that only
 * count) on the same ~100 MB generated client stream, fed in the same
 * chunks.  The last line is the summary:
 *   xml: <ours> MB/s, expat: <expat> MB/s, ratio <ours/expat>
 */
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xml.h"

#define BENCH_BYTES	(100u * 1000 * 1000)
#define CHUNK		(16 * 1024)
#define ROUNDS		3

static uint32_t rng = 2463534242u;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static const char *const words[] = {
	"hello", "world", "fair", "Verona", "where", "we", "lay", "our",
	"scene", "&amp;", "&lt;3", "caf\xc3\xa9", "\xe2\x98\xba", "don&apos;t",
	"&quot;quoted&quot;", "a", "the", "whereas", "tomorrow", "2&gt;1",
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

static const char *const users[] = {
	"romeo@montague.lit", "juliet@capulet.lit", "nurse@capulet.lit",
	"mercutio@montague.lit", "benvolio@montague.lit", "tybalt@capulet.lit",
};
#define NUSERS	(sizeof(users) / sizeof(users[0]))

static void
put_text(struct buf *b, unsigned nwords)
{
	unsigned i;

	for (i = 0; i < nwords; i++) {
		if (i > 0) {
			buf_putc(b, ' ');
		}
		buf_puts(b, words[rnd() % NWORDS]);
	}
}

static void
gen_stanza(struct buf *b, unsigned long id)
{
	const char *from = users[rnd() % NUSERS], *to = users[rnd() % NUSERS];
	unsigned k = rnd() % 100, i, n;

	if (k < 40) {
		buf_printf(b, "<message from='%s/balcony' to='%s/orchard' "
		    "type='chat' id='m%lu' xml:lang='en'><body>", from, to, id);
		put_text(b, 3 + rnd() % 30);
		buf_printf(b, "</body><thread>th%u</thread><active xmlns="
		    "'http://jabber.org/protocol/chatstates'/>"
		    "<request xmlns='urn:xmpp:receipts'/></message>\n",
		    rnd() % 1000);
	} else if (k < 50) {
		buf_printf(b, "<message from='room@conference.montague.lit/%u' "
		    "to='%s/orchard' type='groupchat' id='g%lu'><body>",
		    rnd() % 50, to, id);
		put_text(b, 5 + rnd() % 20);
		buf_printf(b, "</body><delay xmlns='urn:xmpp:delay' "
		    "from='room@conference.montague.lit' "
		    "stamp='2024-01-%02uT10:%02u:00Z'/><x xmlns="
		    "'http://jabber.org/protocol/muc#user'><item "
		    "affiliation='member' role='participant' jid='%s/x'/>"
		    "</x></message>\n", 1 + rnd() % 28, rnd() % 60, from);
	} else if (k < 75) {
		buf_printf(b, "<presence from='%s/balcony' to='%s' id='p%lu'>"
		    "<show>%s</show><status>", from, to, id,
		    rnd() % 2 ? "away" : "dnd");
		put_text(b, 1 + rnd() % 8);
		buf_printf(b, "</status><priority>%u</priority><c xmlns="
		    "'http://jabber.org/protocol/caps' hash='sha-1' "
		    "node='http://psi-im.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='"
		    "/></presence>\n", rnd() % 10);
	} else if (k < 85) {
		buf_printf(b, "<iq type='get' id='r%lu' from='%s/balcony'>"
		    "<query xmlns='jabber:iq:roster'/></iq>\n", id, from);
	} else if (k < 95) {
		buf_printf(b, "<iq type='result' id='r%lu' to='%s/balcony'>"
		    "<query xmlns='jabber:iq:roster' ver='v%u'>", id, to,
		    rnd() % 100);
		n = 2 + rnd() % 8;
		for (i = 0; i < n; i++) {
			buf_printf(b, "<item jid='%s' name='Friend %u' "
			    "subscription='both'><group>Friends</group></item>",
			    users[rnd() % NUSERS], i);
		}
		buf_puts(b, "</query></iq>\n");
	} else {
		buf_printf(b, "<iq type='set' id='ps%lu' from='%s/balcony'>"
		    "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
		    "<publish node='urn:xmpp:microblog:0'><item id='i%lu'>"
		    "<entry xmlns='http://www.w3.org/2005/Atom'><title "
		    "type='text'>", id, from, id);
		put_text(b, 4 + rnd() % 10);
		buf_puts(b, "</title><content><![CDATA[<b>bold</b> & more]]>"
		    "</content></entry></item></publish></pubsub></iq>\n");
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ours ---- */

static unsigned long our_stanzas;

static int
our_stanza(void *ud, struct xml_node *st)
{
	(void)ud;
	our_stanzas++;
	xml_free(st);
	return 0;
}

static double
run_ours(const char *data, size_t len)
{
	struct xml_callbacks cb = { NULL, our_stanza, NULL };
	struct xml_parser *p = xml_parser_new(NULL, &cb, NULL, 1);
	size_t off, n;
	double t0 = now_s();
	int r = XML_OK;

	our_stanzas = 0;
	for (off = 0; off < len && r == XML_OK; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		r = xml_feed(p, data + off, n, NULL);
	}
	t0 = now_s() - t0;
	if (r != XML_OK) {
		fprintf(stderr, "xml_bench: our parser failed: %s\n",
		    xml_strerror(r));
		exit(1);
	}
	xml_parser_free(p);
	return t0;
}

/* ---- expat ---- */

static unsigned long ex_elements, ex_chars;

static void XMLCALL
ex_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)ud;
	(void)name;
	(void)atts;
	ex_elements++;
}

static void XMLCALL
ex_end(void *ud, const XML_Char *name)
{
	(void)ud;
	(void)name;
}

static void XMLCALL
ex_chardata(void *ud, const XML_Char *s, int len)
{
	(void)ud;
	(void)s;
	ex_chars += (unsigned long)len;
}

static double
run_expat(const char *data, size_t len)
{
	XML_Parser p = XML_ParserCreateNS(NULL, ' ');
	size_t off, n;
	double t0 = now_s();

	XML_SetElementHandler(p, ex_start, ex_end);
	XML_SetCharacterDataHandler(p, ex_chardata);
	ex_elements = ex_chars = 0;
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		if (XML_Parse(p, data + off, (int)n, off + n == len) ==
		    XML_STATUS_ERROR) {
			fprintf(stderr, "xml_bench: expat failed: %s\n",
			    XML_ErrorString(XML_GetErrorCode(p)));
			exit(1);
		}
	}
	t0 = now_s() - t0;
	XML_ParserFree(p);
	return t0;
}

int
main(void)
{
	struct buf b;
	unsigned long id = 0;
	double ours = 1e9, expat = 1e9, t, mb;
	int i;

	buf_init(&b, 0);
	buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' "
	    "to='montague.lit' version='1.0' xml:lang='en'>\n");
	while (b.len < BENCH_BYTES) {
		gen_stanza(&b, id++);
	}
	buf_puts(&b, "</stream:stream>\n");
	mb = (double)b.len / 1e6;
	printf("stream: %.1f MB, %lu stanzas, chunks of %d bytes, best of %d\n",
	    mb, id, CHUNK, ROUNDS);
	for (i = 0; i < ROUNDS; i++) {
		t = run_ours(b.data, b.len);
		ours = t < ours ? t : ours;
		t = run_expat(b.data, b.len);
		expat = t < expat ? t : expat;
	}
	printf("ours: %lu stanzas, %.3f s; expat: %lu elements, %.3f s\n",
	    our_stanzas, ours, ex_elements, expat);
	buf_free(&b);
	printf("xml: %.2f MB/s, expat: %.2f MB/s, ratio %.2f\n", mb / ours,
	    mb / expat, expat / ours);
	return 0;
}
