/*
 * fuzz_xml.c - libFuzzer target for xml.c.
 *
 * The first input byte picks the feeding pattern and whether callbacks ask
 * to stop; the rest is the stream.  Checks, beyond "no crash, no leak":
 *  - the events (serialized) are the same fed whole and fed in pieces
 *    (up to where one of the two runs failed), and two failed runs fail
 *    with the same code; a reset parser fed the stream again behaves as
 *    a new one (unless the stream starts with whitespace, which a
 *    restarted stream may);
 *  - every stanza survives serialize -> xml_parse_document -> serialize;
 *  - xml_parse_fragment() on the raw input does not crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct buf	 trace;
	size_t		 events;
	int		 rc;		/* final code of the run */
	size_t		 main_len;	/* trace length before the re-run */
	int		 stop_every;
};

static void
roundtrip(const struct xml_node *st)
{
	struct buf a, b;
	struct xml_node *again;
	int err;

	buf_init(&a, 0);
	buf_init(&b, 0);
	xml_serialize(st, "", &a);
	again = xml_parse_document(a.data, a.len, NULL, &err);
	if (again == NULL) {
		abort();
	}
	xml_serialize(again, "", &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		abort();
	}
	xml_free(again);
	buf_free(&a);
	buf_free(&b);
}

static int
ev_open(void *ud, const struct xml_node *h)
{
	struct run *r = ud;

	buf_puts(&r->trace, "O");
	xml_serialize(h, "", &r->trace);
	buf_putc(&r->trace, '\n');
	r->events++;
	return r->stop_every && r->events % (size_t)r->stop_every == 0;
}

static int
ev_stanza(void *ud, struct xml_node *st)
{
	struct run *r = ud;

	buf_puts(&r->trace, "S");
	xml_serialize(st, XML_NS_CLIENT, &r->trace);
	buf_putc(&r->trace, '\n');
	roundtrip(st);
	xml_free(st);
	r->events++;
	return r->stop_every && r->events % (size_t)r->stop_every == 0;
}

static int
ev_close(void *ud)
{
	struct run *r = ud;

	buf_puts(&r->trace, "C\n");
	r->events++;
	return r->stop_every && r->events % (size_t)r->stop_every == 0;
}

/* Feed data in pieces of the given pattern; resume after XML_STOPPED. */
static int
run_feed(struct run *r, const uint8_t *data, size_t size, unsigned pattern,
    int require_stream, const struct run *again)
{
	struct xml_callbacks cb = { ev_open, ev_stanza, ev_close };
	struct xml_limits lim;
	struct xml_parser *p;
	size_t off = 0, n, used, step = 0;
	int rc = XML_OK;

	xml_limits_default(&lim);
	lim.max_stanza_bytes = 2048;
	lim.max_depth = 8;
	lim.max_attrs = 8;
	lim.max_name_len = 32;
	lim.max_attr_value_len = 256;
	buf_init(&r->trace, 0);
	r->events = 0;
	p = xml_parser_new(&lim, &cb, r, require_stream);
	while (off < size) {
		if (pattern == 0) {
			n = size - off;
		} else if (pattern == 1) {
			n = 1;
		} else {
			/* a varying piece size derived from the pattern */
			n = 1 + (pattern * 7 + step * 13) % (pattern + 3);
			step++;
		}
		if (n > size - off) {
			n = size - off;
		}
		rc = xml_feed(p, (const char *)data + off, n, &used);
		if (used > n) {
			abort();
		}
		off += used;
		if (rc < 0) {
			break;
		}
		if (rc == XML_OK && used != n) {
			abort();
		}
	}
	r->main_len = r->trace.len;
	if (again != NULL && !(size > 0 && (data[0] == ' ' ||
	    data[0] == '\t' || data[0] == '\r' || data[0] == '\n'))) {
		/* after a reset the same parser must behave like a new one,
		 * but for the one difference xml_parser_reset documents:
		 * whitespace before a restarted stream's XML declaration */
		size_t mark = r->trace.len;
		int rc2;

		xml_parser_reset(p);
		r->stop_every = 0;
		rc2 = xml_feed(p, (const char *)data, size, &used);
		if (rc2 != again->rc || r->trace.len - mark !=
		    again->trace.len || (again->trace.len > 0 &&
		    memcmp(r->trace.data + mark, again->trace.data,
		    again->trace.len) != 0)) {
			abort();
		}
	}
	xml_parser_free(p);
	return rc;
}

/* Is one trace a prefix of the other? */
static int
trace_prefix(const struct run *a, const struct run *b)
{
	size_t n = a->main_len < b->main_len ? a->main_len : b->main_len;

	return n == 0 || memcmp(a->trace.data, b->trace.data, n) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, piece;
	struct xml_node *frag;
	unsigned pattern;
	int rw, rp, err, require_stream;

	if (size < 1) {
		return 0;
	}
	pattern = data[0] & 0x0f;
	require_stream = (data[0] & 0x10) != 0;
	whole.stop_every = 0;
	piece.stop_every = (data[0] >> 5) & 3;
	data++;
	size--;
	rw = run_feed(&whole, data, size, 0, require_stream, NULL);
	whole.rc = rw;
	rp = run_feed(&piece, data, size, pattern == 0 ? 1 : pattern,
	    require_stream, &whole);
#ifdef FUZZ_XML_DEBUG
	fprintf(stderr, "whole %d:\n%s\npieces(%u) %d:\n%s\n", rw,
	    whole.trace.data ? whole.trace.data : "", pattern, rp,
	    piece.trace.data ? piece.trace.data : "");
#endif
	if (!trace_prefix(&whole, &piece)) {
		abort();
	}
	if (rw < 0 && rp < 0 && rw != rp) {
		abort();
	}
	if (rw >= 0 && rp >= 0 && whole.main_len != piece.main_len) {
		abort();
	}
	buf_free(&whole.trace);
	buf_free(&piece.trace);

	frag = xml_parse_fragment((const char *)data, size, XML_NS_CLIENT, &err);
	xml_free(frag);
	return 0;
}
