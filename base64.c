/*
 * base64.c - base64 (RFC 4648 §4: the standard alphabet, with padding, no
 * whitespace), as SASL (RFC 6120 §6.4.2), SCRAM storage, avatars and
 * entity capabilities carry it.
 */
#include "base64.h"

#include <stdint.h>

#include "tls.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* See base64.h. */
void
base64_encode(const unsigned char *in, size_t len, struct buf *out)
{
	char q[4];
	size_t i;
	uint32_t v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		q[0] = b64_alpha[v >> 18];
		q[1] = b64_alpha[(v >> 12) & 63];
		q[2] = b64_alpha[(v >> 6) & 63];
		q[3] = b64_alpha[v & 63];
		buf_append(out, q, 4);
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		q[0] = b64_alpha[v >> 18];
		q[1] = b64_alpha[(v >> 12) & 63];
		q[2] = q[3] = '=';
		buf_append(out, q, 4);
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		q[0] = b64_alpha[v >> 18];
		q[1] = b64_alpha[(v >> 12) & 63];
		q[2] = b64_alpha[(v >> 6) & 63];
		q[3] = '=';
		buf_append(out, q, 4);
	}
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	} else if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	} else if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	} else if (c == '+') {
		return 62;
	} else if (c == '/') {
		return 63;
	}
	return -1;
}

/*
 * Strictly decode base64 in[0..len) and append the bytes to out: length
 * a multiple of 4, padding only at the end, no whitespace, unused bits
 * zero.  Empty input decodes to nothing.  Returns 0, or -1 on invalid
 * input or when out refuses the bytes (out is then unchanged, apart from
 * its sticky err flag).
 */
int
base64_decode(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char tmp[3];
	size_t i, pad = 0, start = out->len;
	int v[4], j;

	if (len % 4 != 0) {
		return -1;
	}
	if (len > 0 && p[len - 1] == '=') {
		pad = (len > 1 && p[len - 2] == '=') ? 2 : 1;
	}
	/* Validate everything first so out never holds a partial result. */
	for (i = 0; i < len - pad; i++) {
		if (b64_val(p[i]) < 0) {
			return -1;
		}
	}
	if (pad == 2 && (b64_val(p[len - 3]) & 0x0F) != 0) {
		return -1;
	}
	if (pad == 1 && (b64_val(p[len - 2]) & 0x03) != 0) {
		return -1;
	}
	for (i = 0; i < len; i += 4) {
		for (j = 0; j < 4; j++) {
			v[j] = p[i + (size_t)j] == '=' ? 0 : b64_val(p[i + (size_t)j]);
		}
		tmp[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		tmp[1] = (unsigned char)((v[1] & 0x0F) << 4 | v[2] >> 2);
		tmp[2] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
		buf_append(out, tmp, i + 4 == len ? 3 - pad : 3);
	}
	tls_zeroize(tmp, sizeof(tmp));
	if (out->err) {
		out->len = start;
		if (out->data != NULL) {
			out->data[start] = '\0';
		}
		return -1;
	}
	return 0;
}
