/*
 * sasl_internal.h - what the server side (sasl.c) and the client side
 * (sasl_client.c, linked only into the tests and the scenario runner)
 * share.  Not for other files.
 */
#ifndef UXMPPD_SASL_INTERNAL_H
#define UXMPPD_SASL_INTERNAL_H

#include <stddef.h>

#include "buf.h"
#include "sasl.h"
#include "tls.h"

enum mech_kind { MECH_PLAIN, MECH_SCRAM };

struct sasl_mech {
	const char	*name;
	enum mech_kind	 kind;
	enum sasl_hash	 hash;
	int		 plus;		/* needs channel binding */
};

/* The mechanism called name, or NULL. */
const struct sasl_mech *sasl_mech_find(const char *name);
enum tls_md sasl_hash_md(enum sasl_hash h);
size_t	sasl_hash_len(enum sasl_hash h);
/* Wipe, then free (NULL is fine). */
void	sasl_buf_wipe_free(struct buf *b);
void	sasl_str_wipe_free(char *s);
/* A SASL payload: "=" is empty (RFC 6120 §6.4.2), else strict base64.
 * 0, or -1. */
int	sasl_payload_decode(const char *in, size_t len, struct buf *out);
/* A fresh printable nonce; caller frees.  NULL if the RNG fails. */
char	*sasl_nonce_new(void);
/* Is s[0..len) a valid SCRAM nonce (printable, no ',')? */
int	sasl_nonce_valid(const char *s, size_t len);
/* Append s with ',' and '=' escaped as RFC 5802 §5.1 saslname. */
void	sasl_name_encode(const char *s, struct buf *out);
/* The next "n=value" attribute of a SCRAM message at *p (RFC 5802 §5.1). */
int	sasl_attr_next(const char **p, const char *end, char *name,
	    const char **val, size_t *vlen);
/* An iteration count; 0 when malformed or out of range. */
unsigned sasl_iter_parse(const char *s, size_t len);

#endif
