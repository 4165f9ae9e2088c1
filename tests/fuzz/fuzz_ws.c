/*
 * fuzz_ws.c - libFuzzer target for ws.c's frame parser.
 *
 * The first input byte picks the piece size (0: whole) and the message
 * limit; the rest is what a client sends after the handshake.  Beyond
 * "no crash, no leak": the messages and control frames (serialized) fed
 * whole and in pieces are the same, and so is the final code; every
 * text message is valid UTF-8; re-framing a message and parsing it as a
 * (masked) client frame gives it back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
ev_message(void *ud, int op, const char *data, size_t len)
{
	struct buf *t = ud;

	if (op == WS_OP_TEXT && !ws_utf8_valid(data, len)) {
		abort();
	}
	buf_printf(t, "M%d %zu:", op, len);
	buf_append(t, data, len);
	buf_putc(t, '\n');
	return 0;
}

static int
ev_control(void *ud, int op, unsigned code, const char *data, size_t len)
{
	struct buf *t = ud;

	buf_printf(t, "C%d %u %zu:", op, code, len);
	buf_append(t, data, len);
	buf_putc(t, '\n');
	return 0;
}

static const struct ws_callbacks cbs = { ev_message, ev_control };

static int
run(const uint8_t *data, size_t size, size_t piece, size_t max,
    struct buf *t)
{
	struct ws_parser *p = ws_parser_new(max, &cbs, t);
	size_t off = 0, n, used;
	int rc = WS_OK;

	while (off < size) {
		n = piece == 0 ? size - off : piece;
		if (n > size - off) {
			n = size - off;
		}
		rc = ws_feed(p, (const char *)data + off, n, &used);
		if (used > n || (rc == WS_OK && used != n)) {
			abort();
		}
		off += used;
		if (rc < 0) {
			break;
		}
	}
	buf_printf(t, "rc=%d", rc);
	ws_parser_free(p);
	return rc;
}

/* A server frame with the mask bit and a zero key added is a client
 * frame of the same payload. */
static void
reframe(const uint8_t *data, size_t len)
{
	struct buf f, t;
	size_t hl;

	buf_init(&f, 0);
	buf_init(&t, 0);
	ws_frame(&f, WS_OP_BINARY, data, len);
	hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
	f.data[1] |= (char)0x80;
	buf_append(&f, "", 0);
	{
		struct buf g;

		buf_init(&g, 0);
		buf_append(&g, f.data, hl);
		buf_append(&g, "\0\0\0\0", 4);
		buf_append(&g, f.data + hl, f.len - hl);
		run((const uint8_t *)g.data, g.len, 0, 1 << 20, &t);
		buf_free(&g);
	}
	if (strncmp(t.data, "M2 ", 3) != 0 ||
	    memcmp(strchr(t.data, ':') + 1, data, len) != 0) {
		abort();
	}
	buf_free(&f);
	buf_free(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	size_t piece, max;

	if (size < 1) {
		return 0;
	}
	piece = data[0] & 0x0f;
	max = (size_t)(data[0] >> 4) * 64;
	buf_init(&a, 0);
	buf_init(&b, 0);
	run(data + 1, size - 1, 0, max, &a);
	run(data + 1, size - 1, piece == 0 ? 1 : piece, max, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		fprintf(stderr, "whole:\n%s\npieces:\n%s\n", a.data, b.data);
		abort();
	}
	buf_free(&a);
	buf_free(&b);
	reframe(data + 1, size - 1);
	return 0;
}
