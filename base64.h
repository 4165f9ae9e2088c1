/*
 * base64.h - strict base64 (RFC 4648 §4) into a bounded buffer.
 */
#ifndef UXMPPD_BASE64_H
#define UXMPPD_BASE64_H

#include <stddef.h>

#include "buf.h"

/* Append the base64 encoding (with padding) of in[0..len) to out. */
void	base64_encode(const unsigned char *in, size_t len, struct buf *out);
/*
 * Strictly decode in[0..len) and append the bytes to out: length a
 * multiple of 4, padding only at the end, no whitespace, unused bits zero.
 * Empty input decodes to nothing.  0, or -1 on invalid input or when out
 * refuses the bytes (out is then unchanged, apart from its sticky error).
 */
int	base64_decode(const char *in, size_t len, struct buf *out);

#endif
