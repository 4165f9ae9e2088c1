/*
 * test_ws.c - the WebSocket frame parser and framing (ws.c): RFC 6455's
 * handshake example, masked and fragmented frames with control frames
 * between them, every close code a violation gets; each case fed whole,
 * byte by byte and split at every offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "ws.h"

static int
t_message(void *ud, int op, const char *data, size_t len)
{
	struct buf *t = ud;

	buf_printf(t, "M%d[", op);
	buf_append(t, data, len);
	buf_puts(t, "]");
	return 0;
}

static int
t_control(void *ud, int op, unsigned code, const char *data, size_t len)
{
	struct buf *t = ud;

	buf_printf(t, "C%d/%u[", op, code);
	buf_append(t, data, len);
	buf_puts(t, "]");
	return 0;
}

static const struct ws_callbacks cbs = { t_message, t_control };

/* A client frame: masked with a fixed key. */
static void
cframe(struct buf *b, int fin, int op, const char *payload, size_t len)
{
	static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	unsigned char h[10];
	size_t hl = 2, i;

	h[0] = (unsigned char)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		h[1] = (unsigned char)(0x80 | len);
	} else {
		h[1] = 0x80 | 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		hl = 4;
	}
	buf_append(b, h, hl);
	buf_append(b, key, 4);
	for (i = 0; i < len; i++) {
		buf_putc(b, (char)(payload[i] ^ key[i & 3]));
	}
}

static char *
run(const char *in, size_t len, size_t a, size_t step)
{
	struct buf t;
	struct ws_parser *p;
	size_t off = 0, n, used;
	int rc = WS_OK;
	char *res;

	buf_init(&t, 0);
	p = ws_parser_new(200, &cbs, &t);
	while (off < len) {
		n = step > 0 ? step : off < a ? a - off : len - off;
		if (n > len - off) {
			n = len - off;
		}
		rc = ws_feed(p, in + off, n, &used);
		off += used;
		if (rc < 0) {
			break;
		}
	}
	if (rc < 0) {
		buf_printf(&t, "!%u", ws_error_close_code(rc));
	}
	ws_parser_free(p);
	res = xstrdup(t.data != NULL ? t.data : "");
	buf_free(&t);
	return res;
}

static void
check_case(const char *name, const struct buf *in, const char *want)
{
	size_t a;
	char *got;
	int bad = 0;

	got = run(in->data, in->len, in->len, 0);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s whole:\n  got:  %s\n  want: %s\n", name,
		    got, want);
		bad = 1;
	}
	free(got);
	got = run(in->data, in->len, 0, 1);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s bytewise:\n  got:  %s\n", name, got);
		bad = 1;
	}
	free(got);
	for (a = 0; a <= in->len && !bad; a++) {
		got = run(in->data, in->len, a, 0);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "%s split %zu:\n  got:  %s\n", name, a,
			    got);
			bad = 1;
		}
		free(got);
	}
	CHECK(!bad);
}

int
main(void)
{
	struct buf b;
	char accept[29], big[300];
	static const unsigned char unmasked[] = { 0x81, 0x02, 'h', 'i' };
	static const unsigned char rsv[] = { 0xc1, 0x80, 0, 0, 0, 0 };
	static const unsigned char nonminimal[] = { 0x81, 0xfe, 0, 1, 0, 0, 0,
	    0, 'x' };

	/* RFC 6455 §1.3's example */
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept) == 0);
	CHECK_STR(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	CHECK(ws_accept_key("short", accept) != 0);
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ", accept) != 0);

	buf_init(&b, 0);
	cframe(&b, 1, WS_OP_TEXT, "<open/>", 7);
	cframe(&b, 0, WS_OP_TEXT, "<mess", 5);
	cframe(&b, 1, WS_OP_PING, "p", 1);
	cframe(&b, 0, WS_OP_CONT, "age>caf\xc3", 8);
	cframe(&b, 1, WS_OP_CONT, "\xa9</message>", 11);
	cframe(&b, 1, WS_OP_PONG, "", 0);
	cframe(&b, 1, WS_OP_BINARY, "\x00\xff", 2);
	memset(big, 'x', sizeof(big));
	cframe(&b, 1, WS_OP_TEXT, big, 150);
	cframe(&b, 1, WS_OP_CLOSE, "\x03\xe8" "bye", 5);
	cframe(&b, 1, WS_OP_CLOSE, "", 0);
	check_case("stream", &b, "M1[<open/>]C9/0[p]M1[<message>caf\xc3\xa9"
	    "</message>]C10/0[]M2[\x00\xff]M1[xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxx]C8/1000[bye]C8/1005[]");

	buf_reset(&b);
	buf_append(&b, unmasked, sizeof(unmasked));
	check_case("unmasked", &b, "!1002");
	buf_reset(&b);
	buf_append(&b, rsv, sizeof(rsv));
	check_case("rsv", &b, "!1002");
	buf_reset(&b);
	buf_append(&b, nonminimal, sizeof(nonminimal));
	check_case("non-minimal length", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 1, 3, "", 0);
	check_case("reserved opcode", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 0, WS_OP_PING, "", 0);
	check_case("fragmented ping", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 1, WS_OP_PING, big, 126);
	check_case("long ping", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 1, WS_OP_CONT, "x", 1);
	check_case("stray continuation", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 0, WS_OP_TEXT, "x", 1);
	cframe(&b, 1, WS_OP_TEXT, "y", 1);
	check_case("text inside text", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 1, WS_OP_CLOSE, "\x03", 1);
	check_case("one-byte close", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 1, WS_OP_CLOSE, "\x03\xed", 2);
	check_case("close code 1005", &b, "!1002");
	buf_reset(&b);
	cframe(&b, 1, WS_OP_TEXT, "\xed\xa0\x80", 3);
	check_case("surrogate", &b, "!1007");
	buf_reset(&b);
	cframe(&b, 1, WS_OP_TEXT, "\xc0\xaf", 2);
	check_case("overlong", &b, "!1007");
	buf_reset(&b);
	cframe(&b, 0, WS_OP_TEXT, big, 150);
	cframe(&b, 1, WS_OP_CONT, big, 60);
	check_case("message too big", &b, "!1009");

	/* server frames */
	buf_reset(&b);
	ws_frame(&b, WS_OP_TEXT, "<close/>", 8);
	CHECK(b.len == 10 && (unsigned char)b.data[0] == 0x81 &&
	    b.data[1] == 8 && memcmp(b.data + 2, "<close/>", 8) == 0);
	buf_reset(&b);
	ws_frame(&b, WS_OP_TEXT, big, 300);
	CHECK(b.len == 304 && (unsigned char)b.data[1] == 126 &&
	    (unsigned char)b.data[2] == 1 && (unsigned char)b.data[3] == 44);
	buf_reset(&b);
	ws_frame_close(&b, WS_CLOSE_NORMAL, NULL);
	CHECK(b.len == 4 && (unsigned char)b.data[0] == 0x88 &&
	    b.data[1] == 2 && b.data[2] == 3 && (unsigned char)b.data[3] == 0xe8);
	buf_free(&b);

	CHECK(ws_utf8_valid("\xf0\x9f\x98\x80", 4));
	CHECK(!ws_utf8_valid("\xf4\x90\x80\x80", 4));
	CHECK(!ws_utf8_valid("\xe2\x82", 2));
	return check_summary("test_ws");
}
