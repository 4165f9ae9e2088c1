/*
 * ws.c - WebSocket frames, server side (RFC 6455 §5), and the handshake's
 * accept value (§4.2.2).
 *
 * The parser reads a frame header (2 to 14 bytes) byte by byte into hdr,
 * then the payload: control frames into ctl (at most 125 bytes), data
 * frames onto msg, the message being reassembled (bounded by
 * max_message).  Unmasking runs as the bytes arrive, with the key offset
 * carried across calls.
 */
#include "ws.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "tls.h"
#include "uxlimits.h"

#define WS_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum ws_state { WS_HDR, WS_PAYLOAD, WS_ERROR };

struct ws_parser {
	const struct ws_callbacks *cb;
	void		*ud;
	size_t		 max_message;
	enum ws_state	 state;
	int		 err;
	unsigned char	 hdr[14];
	size_t		 hdr_len;	/* bytes of hdr read */
	size_t		 hdr_need;	/* bytes the header has */
	int		 fin, opcode;
	unsigned char	 mask[4];
	uint64_t	 remaining;	/* payload bytes left */
	uint64_t	 done;		/* payload bytes read (mask offset) */
	int		 msg_opcode;	/* TEXT/BINARY while a message is open */
	struct buf	 msg;
	char		*ctl;		/* WS_MAX_CONTROL bytes while a control
					 * frame is read, else NULL */
	size_t		 ctl_len;
};

/* See ws.h. */
struct ws_parser *
ws_parser_new(size_t max_message, const struct ws_callbacks *cb, void *ud)
{
	struct ws_parser *p = xcalloc(1, sizeof(*p));

	p->cb = cb;
	p->ud = ud;
	p->max_message = max_message;
	p->hdr_need = 2;
	buf_init(&p->msg, max_message);
	return p;
}

/* See ws.h. */
void
ws_parser_free(struct ws_parser *p)
{
	if (p == NULL) {
		return;
	}
	buf_free(&p->msg);
	free(p->ctl);
	free(p);
}

static int
ws_fail(struct ws_parser *p, int err)
{
	p->state = WS_ERROR;
	p->err = err;
	return err;
}

/* The header is complete: check it against §5.2 and §5.5. */
static int
ws_header_done(struct ws_parser *p)
{
	const unsigned char *h = p->hdr;
	size_t i, lenbytes = p->hdr_need - 6;
	uint64_t len = h[1] & 0x7f;

	if (lenbytes > 0) {
		len = 0;
		for (i = 0; i < lenbytes; i++) {
			len = len << 8 | h[2 + i];
		}
		/* §5.2: the minimal length encoding, and no top bit */
		if ((lenbytes == 2 && len < 126) ||
		    (lenbytes == 8 && (len < 65536 || len >> 63))) {
			return WS_E_PROTOCOL;
		}
	}
	memcpy(p->mask, h + 2 + lenbytes, 4);
	p->remaining = len;
	p->done = 0;
	if (p->opcode >= 8) {
		if (!p->fin || len > WS_MAX_CONTROL) {
			return WS_E_PROTOCOL;
		}
		p->ctl_len = 0;
		if (p->ctl == NULL) {
			p->ctl = xmalloc(WS_MAX_CONTROL);
		}
		return 0;
	}
	if (p->msg.len + len > p->max_message) {
		return WS_E_TOO_BIG;
	}
	return 0;
}

/* Read header bytes; 1 once the header is complete. */
static int
ws_header_byte(struct ws_parser *p, unsigned char c)
{
	p->hdr[p->hdr_len++] = c;
	if (p->hdr_len == 2) {
		unsigned char b0 = p->hdr[0], b1 = p->hdr[1];

		p->fin = (b0 & 0x80) != 0;
		p->opcode = b0 & 0x0f;
		if ((b0 & 0x70) != 0 || !(b1 & 0x80)) {
			/* RSV bits without an extension; §5.1: a client
			 * frame must be masked */
			return WS_E_PROTOCOL;
		}
		switch (p->opcode) {
		case WS_OP_CONT:
			if (p->msg_opcode == 0) {
				return WS_E_PROTOCOL;
			}
			break;
		case WS_OP_TEXT:
		case WS_OP_BINARY:
			if (p->msg_opcode != 0) {
				return WS_E_PROTOCOL;	/* §5.4 */
			}
			break;
		case WS_OP_CLOSE:
		case WS_OP_PING:
		case WS_OP_PONG:
			break;
		default:
			return WS_E_PROTOCOL;
		}
		p->hdr_need = 2 + 4 + ((b1 & 0x7f) == 126 ? 2 :
		    (b1 & 0x7f) == 127 ? 8 : 0);
	}
	return p->hdr_len == p->hdr_need;
}

/* A control frame's payload is in: deliver it. */
static int
ws_control_done(struct ws_parser *p)
{
	unsigned code = p->opcode == WS_OP_CLOSE ? WS_CLOSE_NO_STATUS : 0;
	const char *data = p->ctl;
	size_t len = p->ctl_len;
	int stop;

	if (p->opcode == WS_OP_CLOSE) {
		if (len == 1) {
			return WS_E_PROTOCOL;
		}
		if (len >= 2) {
			code = (unsigned)(unsigned char)data[0] << 8 |
			    (unsigned char)data[1];
			data += 2;
			len -= 2;
			/* §7.4: codes a peer may send */
			if (code < 1000 || code >= 5000 ||
			    (code >= 1004 && code <= 1006) ||
			    (code >= 1012 && code < 3000)) {
				return WS_E_PROTOCOL;
			}
			if (!ws_utf8_valid(data, len)) {
				return WS_E_UTF8;
			}
		}
	}
	stop = p->cb->on_control != NULL &&
	    p->cb->on_control(p->ud, p->opcode, code, data, len);
	/* pings are rare: an idle session keeps no control buffer */
	free(p->ctl);
	p->ctl = NULL;
	return stop ? WS_STOPPED : 0;
}

/* A data frame is in; at FIN the message goes to the caller. */
static int
ws_data_done(struct ws_parser *p)
{
	int op, stop;

	if (p->opcode != WS_OP_CONT) {
		p->msg_opcode = p->opcode;
	}
	if (!p->fin) {
		return 0;
	}
	op = p->msg_opcode;
	p->msg_opcode = 0;
	if (op == WS_OP_TEXT && !ws_utf8_valid(p->msg.data, p->msg.len)) {
		return WS_E_UTF8;
	}
	stop = p->cb->on_message != NULL &&
	    p->cb->on_message(p->ud, op, p->msg.len ? p->msg.data : "",
	    p->msg.len);
	buf_free(&p->msg);	/* idle sessions hold no buffer */
	return stop ? WS_STOPPED : 0;
}

/* See ws.h. */
int
ws_feed(struct ws_parser *p, const char *data, size_t len, size_t *used)
{
	size_t off = 0, n, i;
	int rc = 0;

	*used = 0;
	while (p->state != WS_ERROR && rc == 0 &&
	    (off < len || (p->state == WS_PAYLOAD && p->remaining == 0))) {
		if (p->state == WS_HDR) {
			rc = ws_header_byte(p, (unsigned char)data[off++]);
			if (rc == 1) {
				rc = ws_header_done(p);
				p->state = WS_PAYLOAD;
			}
			if (rc < 0) {
				break;
			}
			continue;
		}
		n = len - off;
		if (n > p->remaining) {
			n = (size_t)p->remaining;
		}
		if (p->opcode >= 8) {
			for (i = 0; i < n; i++) {
				p->ctl[p->ctl_len++] = (char)(data[off + i] ^
				    p->mask[(p->done + i) & 3]);
			}
		} else if (n > 0) {
			size_t start = p->msg.len;

			buf_append(&p->msg, data + off, n);
			if (p->msg.err) {
				rc = WS_E_TOO_BIG;
				break;
			}
			for (i = 0; i < n; i++) {
				p->msg.data[start + i] ^= (char)
				    p->mask[(p->done + i) & 3];
			}
		}
		off += n;
		p->done += n;
		p->remaining -= n;
		if (p->remaining > 0) {
			continue;
		}
		p->state = WS_HDR;
		p->hdr_len = 0;
		p->hdr_need = 2;
		rc = p->opcode >= 8 ? ws_control_done(p) : ws_data_done(p);
	}
	*used = off;
	if (rc < 0) {
		return ws_fail(p, rc);
	}
	if (p->state == WS_ERROR) {
		return p->err;
	}
	return rc == WS_STOPPED ? WS_STOPPED : WS_OK;
}

/* See ws.h. */
unsigned
ws_error_close_code(int err)
{
	switch (err) {
	case WS_E_TOO_BIG:
		return WS_CLOSE_TOO_BIG;
	case WS_E_UTF8:
		return WS_CLOSE_BAD_DATA;
	default:
		return WS_CLOSE_PROTOCOL;
	}
}

/* See ws.h. */
size_t
ws_frame_header(unsigned char h[WS_MAX_HEADER], int opcode, size_t len)
{
	size_t hl = 2, i;

	h[0] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		h[1] = (unsigned char)len;
	} else if (len < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		hl = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++) {
			h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		}
		hl = 10;
	}
	return hl;
}

/* See ws.h. */
void
ws_frame(struct buf *out, int opcode, const void *data, size_t len)
{
	unsigned char h[WS_MAX_HEADER];

	buf_append(out, h, ws_frame_header(h, opcode, len));
	buf_append(out, data, len);
}

/* See ws.h. */
void
ws_frame_close(struct buf *out, unsigned code, const char *reason)
{
	char p[WS_MAX_CONTROL];
	size_t rl = reason != NULL ? strlen(reason) : 0;

	if (rl > sizeof(p) - 2) {
		rl = sizeof(p) - 2;
	}
	p[0] = (char)(code >> 8);
	p[1] = (char)code;
	if (rl > 0) {
		memcpy(p + 2, reason, rl);
	}
	ws_frame(out, WS_OP_CLOSE, p, 2 + rl);
}

/* See ws.h. */
int
ws_accept_key(const char *key, char out[29])
{
	unsigned char md[20];
	struct buf b, dec;
	size_t klen = strlen(key);
	int rc = -1;

	buf_init(&dec, 64);
	buf_init(&b, 0);
	/* §4.2.1 item 5: a base64-encoded 16-byte value */
	if (base64_decode(key, klen, &dec) != 0 || dec.len != 16) {
		goto out;
	}
	buf_append(&b, key, klen);
	buf_puts(&b, WS_GUID);
	if (tls_hash(TLS_MD_SHA1, b.data, b.len, md) != 0) {
		goto out;
	}
	buf_reset(&b);
	base64_encode(md, sizeof(md), &b);
	if (b.err || b.len != 28) {
		goto out;
	}
	memcpy(out, b.data, 29);
	rc = 0;
out:
	buf_free(&b);
	buf_free(&dec);
	return rc;
}

/* See ws.h. */
int
ws_utf8_valid(const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n) {
			return 0;
		}
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return 0;
			}
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			return 0;
		}
		i += n + 1;
	}
	return 1;
}
