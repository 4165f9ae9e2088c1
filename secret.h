/*
 * secret.h - small random secrets kept in data_dir across restarts (the
 * upload signing key, the key of SCRAM's fake salts).
 */
#ifndef UXMPPD_SECRET_H
#define UXMPPD_SECRET_H

#include <stddef.h>

/*
 * Fill out[0..len-1] (len at most SECRET_MAX_LEN) from dir/name, stored
 * as hex and a newline; at first use make it from tls_random.  Creation
 * is crash-safe: written to name.tmp with mode 0600, fsynced, renamed
 * over name and the directory fsynced, so a crash leaves either no file
 * (made again next start) or the whole secret.  0, or -1 with err set
 * (unreadable, malformed or unwritable file).
 */
#define SECRET_MAX_LEN	64
int	secret_load(const char *dir, const char *name, unsigned char *out,
	    size_t len, char *err, size_t errlen);

#endif
