/*
 * sasl_client.c - the client side of SASL PLAIN and SCRAM-SHA-1/-SHA-256
 * (with -PLUS), for the tests and the scenario runner: the server never
 * links it.
 */
#include "sasl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sasl_internal.h"
#include "tls.h"

enum cli_state { CLI_START, CLI_WAIT_FIRST, CLI_WAIT_FINAL, CLI_DONE };

struct sasl_client {
	const struct sasl_mech	*mech;
	enum cli_state		 state;
	char			*username;
	char			*password;
	char			*cb_type;
	unsigned char		*cb_data;
	size_t			 cb_len;
	char			*test_nonce;
	char			*cnonce;
	char			*gs2_header;
	struct buf		 first_bare;
	unsigned char		 server_sig[SASL_KEY_MAX];
	int			 verified;
};


/*
 * Start a client exchange for mech as username with password (both
 * copied), with channel binding data cb or NULL.  NULL if the mechanism
 * is unknown, or -PLUS without cb.  Caller frees with sasl_client_free().
 */
struct sasl_client *
sasl_client_new_cb(const char *mech, const char *username,
    const char *password, const struct sasl_cb *cb)
{
	const struct sasl_mech *m = mech != NULL ? sasl_mech_find(mech) : NULL;
	struct sasl_client *c;

	if (m == NULL || username == NULL || password == NULL ||
	    (m->plus && (cb == NULL || cb->type == NULL))) {
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->mech = m;
	c->state = CLI_START;
	c->username = xstrdup(username);
	c->password = xstrdup(password);
	buf_init(&c->first_bare, SASL_MSG_MAX);
	if (cb != NULL && cb->type != NULL) {
		c->cb_type = xstrdup(cb->type);
		c->cb_data = xmalloc(cb->len);
		if (cb->len > 0) {
			memcpy(c->cb_data, cb->data, cb->len);
		}
		c->cb_len = cb->len;
	}
	return c;
}

/* Start a client exchange without channel binding; NULL if unknown.
 * Caller frees with sasl_client_free(). */
struct sasl_client *
sasl_client_new(const char *mech, const char *username, const char *password)
{
	return sasl_client_new_cb(mech, username, password, NULL);
}

/* Test only: use nonce as the client nonce (copied). */
void
sasl_client_set_nonce_for_test(struct sasl_client *c, const char *nonce)
{
	free(c->test_nonce);
	c->test_nonce = xstrdup(nonce);
}

static enum sasl_result
cli_fail(struct sasl_client *c)
{
	c->state = CLI_DONE;
	c->verified = 0;
	return SASL_FAILURE;
}

/* Build the client-first-message. */
static enum sasl_result
cli_scram_first(struct sasl_client *c, struct buf *out)
{
	struct buf msg;

	c->cnonce = c->test_nonce != NULL ? xstrdup(c->test_nonce) :
	    sasl_nonce_new();
	if (c->cnonce == NULL) {
		return cli_fail(c);
	}
	buf_init(&msg, 0);
	if (c->mech->plus) {
		buf_printf(&msg, "p=%s,,", c->cb_type);
	} else if (c->cb_type != NULL) {
		buf_puts(&msg, "y,,");
	} else {
		buf_puts(&msg, "n,,");
	}
	c->gs2_header = xstrndup(msg.data, msg.len);
	buf_puts(&c->first_bare, "n=");
	sasl_name_encode(c->username, &c->first_bare);
	buf_printf(&c->first_bare, ",r=%s", c->cnonce);
	buf_append(&msg, c->first_bare.data, c->first_bare.len);
	if (c->first_bare.err) {
		buf_free(&msg);
		return cli_fail(c);
	}
	base64_encode((const unsigned char *)msg.data, msg.len, out);
	buf_free(&msg);
	c->state = CLI_WAIT_FIRST;
	return SASL_CONTINUE;
}

/* server-first-message -> client-final-message. */
static enum sasl_result
cli_scram_final(struct sasl_client *c, const char *msg, size_t len,
    struct buf *out)
{
	const char *p = msg, *end = msg + len, *val, *nonce;
	size_t vlen, nonce_len, hl = sasl_hash_len(c->mech->hash), i;
	size_t cn_len = strlen(c->cnonce);
	enum tls_md md = sasl_hash_md(c->mech->hash);
	unsigned char salted[SASL_KEY_MAX], ckey[SASL_KEY_MAX];
	unsigned char stored[SASL_KEY_MAX], skey[SASL_KEY_MAX];
	unsigned char sig[SASL_KEY_MAX];
	struct buf salt, am, wp, cbind;
	enum sasl_result r = SASL_FAILURE;
	unsigned iter;
	char name;

	buf_init(&salt, SASL_MSG_MAX);
	buf_init(&am, 0);
	buf_init(&wp, 0);
	buf_init(&cbind, 0);
	if (len == 0 || memchr(msg, '\0', len) != NULL ||
	    sasl_attr_next(&p, end, &name, &nonce, &nonce_len) != 0 ||
	    name != 'r' || nonce_len <= cn_len ||
	    memcmp(nonce, c->cnonce, cn_len) != 0 ||
	    !sasl_nonce_valid(nonce, nonce_len) ||
	    sasl_attr_next(&p, end, &name, &val, &vlen) != 0 || name != 's' ||
	    base64_decode(val, vlen, &salt) != 0 || salt.len == 0 ||
	    sasl_attr_next(&p, end, &name, &val, &vlen) != 0 || name != 'i' ||
	    (iter = sasl_iter_parse(val, vlen)) == 0) {
		goto out;
	}
	while (p < end) {
		if (sasl_attr_next(&p, end, &name, &val, &vlen) != 0) {
			goto out;
		}
	}
	if (tls_pbkdf2(md, c->password, strlen(c->password),
	    (const unsigned char *)salt.data, salt.len, iter, salted, hl) != 0 ||
	    tls_hmac(md, salted, hl, "Client Key", 10, ckey) != 0 ||
	    tls_hash(md, ckey, hl, stored) != 0 ||
	    tls_hmac(md, salted, hl, "Server Key", 10, skey) != 0) {
		goto out;
	}
	buf_puts(&cbind, c->gs2_header);
	if (c->mech->plus && c->cb_len > 0) {
		buf_append(&cbind, c->cb_data, c->cb_len);
	}
	buf_puts(&wp, "c=");
	base64_encode((const unsigned char *)cbind.data, cbind.len, &wp);
	buf_puts(&wp, ",r=");
	buf_append(&wp, nonce, nonce_len);
	buf_append(&am, c->first_bare.data, c->first_bare.len);
	buf_putc(&am, ',');
	buf_append(&am, msg, len);
	buf_putc(&am, ',');
	buf_append(&am, wp.data, wp.len);
	if (tls_hmac(md, stored, hl, am.data, am.len, sig) != 0) {
		goto out;
	}
	for (i = 0; i < hl; i++) {
		sig[i] ^= ckey[i];	/* ClientProof */
	}
	buf_puts(&wp, ",p=");
	base64_encode(sig, hl, &wp);
	if (tls_hmac(md, skey, hl, am.data, am.len, c->server_sig) != 0 ||
	    wp.err) {
		goto out;
	}
	base64_encode((const unsigned char *)wp.data, wp.len, out);
	c->state = CLI_WAIT_FINAL;
	r = SASL_CONTINUE;
out:
	tls_zeroize(salted, sizeof(salted));
	tls_zeroize(ckey, sizeof(ckey));
	tls_zeroize(stored, sizeof(stored));
	tls_zeroize(skey, sizeof(skey));
	tls_zeroize(sig, sizeof(sig));
	buf_free(&salt);
	buf_free(&am);
	buf_free(&wp);
	buf_free(&cbind);
	return r == SASL_CONTINUE ? r : cli_fail(c);
}

/* server-final-message: "v=" must match our ServerSignature. */
static enum sasl_result
cli_scram_verify(struct sasl_client *c, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len, *val;
	size_t vlen, hl = sasl_hash_len(c->mech->hash);
	struct buf v;
	char name;
	int ok = 0;

	buf_init(&v, SASL_KEY_MAX);
	if (len > 0 && memchr(msg, '\0', len) == NULL &&
	    sasl_attr_next(&p, end, &name, &val, &vlen) == 0 && name == 'v' &&
	    base64_decode(val, vlen, &v) == 0 && v.len == hl &&
	    tls_memcmp_ct(v.data, c->server_sig, hl) == 0) {
		ok = 1;
		while (p < end) {
			if (sasl_attr_next(&p, end, &name, &val, &vlen) != 0) {
				ok = 0;
				break;
			}
		}
	}
	buf_free(&v);
	if (!ok) {
		return cli_fail(c);
	}
	c->state = CLI_DONE;
	c->verified = 1;
	return SASL_SUCCESS;
}

/*
 * One client step; see sasl.h.  in NULL (or empty) starts the exchange;
 * then the server's challenges, and finally the <success/> data, which
 * for SCRAM must carry a valid server signature (it may also come in a
 * challenge, then an empty <success/> confirms).  Any other message gives
 * SASL_FAILURE.
 */
enum sasl_result
sasl_client_step(struct sasl_client *c, const char *in, size_t in_len,
    struct buf *out)
{
	struct buf msg;
	enum sasl_result r;

	if (in == NULL) {
		in = "";
		in_len = 0;
	}
	if (c->state == CLI_DONE) {
		if (c->verified && (in_len == 0 ||
		    (in_len == 1 && in[0] == '='))) {
			return SASL_SUCCESS;
		}
		return cli_fail(c);
	}
	if (c->state == CLI_START) {
		if (in_len != 0 && !(in_len == 1 && in[0] == '=')) {
			return cli_fail(c);
		}
		if (c->mech->kind == MECH_SCRAM) {
			return cli_scram_first(c, out);
		}
		buf_init(&msg, 0);
		buf_putc(&msg, '\0');
		buf_puts(&msg, c->username);
		buf_putc(&msg, '\0');
		buf_puts(&msg, c->password);
		base64_encode((const unsigned char *)msg.data, msg.len, out);
		sasl_buf_wipe_free(&msg);
		c->state = CLI_WAIT_FINAL;
		return SASL_CONTINUE;
	}
	buf_init(&msg, SASL_MSG_MAX);
	if (sasl_payload_decode(in, in_len, &msg) != 0) {
		r = cli_fail(c);
	} else if (c->mech->kind == MECH_PLAIN) {
		/* PLAIN success carries no data. */
		if (msg.len == 0) {
			c->state = CLI_DONE;
			c->verified = 1;
			r = SASL_SUCCESS;
		} else {
			r = cli_fail(c);
		}
	} else if (c->state == CLI_WAIT_FIRST) {
		r = cli_scram_final(c, msg.data, msg.len, out);
	} else {
		r = cli_scram_verify(c, msg.data, msg.len);
	}
	buf_free(&msg);
	return r;
}

/* Free a client exchange and wipe the password; NULL is ignored. */
void
sasl_client_free(struct sasl_client *c)
{
	if (c == NULL) {
		return;
	}
	free(c->username);
	sasl_str_wipe_free(c->password);
	free(c->cb_type);
	if (c->cb_data != NULL) {
		tls_zeroize(c->cb_data, c->cb_len);
		free(c->cb_data);
	}
	free(c->test_nonce);
	free(c->cnonce);
	free(c->gs2_header);
	buf_free(&c->first_bare);
	tls_zeroize(c, sizeof(*c));
	free(c);
}
