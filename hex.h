/*
 * hex.h - hexadecimal digits, both ways (secrets in data_dir, upload slot
 * ids and signatures, URL escapes).
 */
#ifndef UXMPPD_HEX_H
#define UXMPPD_HEX_H

#include <stddef.h>

/* The value of one hex digit (either case), or -1. */
int	hex_digit_value(int c);
/* in[0..len) as lowercase hex into out (2 * len + 1 bytes, NUL ended). */
void	hex_encode(const unsigned char *in, size_t len, char *out);

#endif
