/*
 * fuzz_sasl.c - libFuzzer target for sasl.c.
 *
 * The first byte picks what the rest feeds:
 *  0  base64_decode; anything accepted re-encodes to the same text.
 *  1  sasl_creds_parse; anything accepted survives format -> parse.
 *  2-4  a server exchange (SCRAM-SHA-1, SCRAM-SHA-256, PLAIN) for the
 *     user "u" (password "p"), nonces forced so deep states are
 *     reachable; messages are separated by 0xFF bytes and base64-encoded
 *     unless they start with '!' (then passed raw).
 *  5  a client exchange (mech from the next byte) fed server messages the
 *     same way.
 *  6  client <-> server round trip with a username and password from the
 *     input (NUL-separated): the right password must always succeed.
 * Beyond "no crash, no leak": the invariants above, and a server never
 * reports success for a proof it did not verify (the fake path).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "jid.h"
#include "sasl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ITER	2	/* cheap PBKDF2 for fuzzing speed */

static const char *const mechs[] = {
	"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"
};
static struct sasl_creds fz_creds;
static const char *fz_password;

static int
fz_lookup(void *ud, const char *username, struct sasl_creds *out)
{
	(void)ud;
	if (strcmp(username, "err") == 0) {
		return SASL_LOOKUP_ERROR;
	}
	if (fz_password == NULL && strcmp(username, "u") != 0) {
		return SASL_LOOKUP_NOUSER;
	}
	*out = fz_creds;
	return SASL_LOOKUP_OK;
}

static int
fz_make_creds(const char *password)
{
	static const unsigned char salt[SASL_SALT_LEN] = "0123456789abcdef";

	memset(&fz_creds, 0, sizeof(fz_creds));
	if (sasl_scram_keys_derive(SASL_SHA1, password, salt, sizeof(salt),
	    FUZZ_ITER, &fz_creds.sha1) != 0 ||
	    sasl_scram_keys_derive(SASL_SHA256, password, salt, sizeof(salt),
	    FUZZ_ITER, &fz_creds.sha256) != 0) {
		abort();
	}
	return 0;
}

/* Next 0xFF-separated message as step input (base64 unless '!'). */
static int
next_msg(const uint8_t **p, const uint8_t *end, struct buf *in)
{
	const uint8_t *s = *p, *sep;
	size_t n;

	if (s >= end) {
		return 0;
	}
	sep = memchr(s, 0xFF, (size_t)(end - s));
	n = sep != NULL ? (size_t)(sep - s) : (size_t)(end - s);
	*p = sep != NULL ? sep + 1 : end;
	buf_reset(in);
	if (n > 0 && s[0] == '!') {
		buf_append(in, s + 1, n - 1);
	} else {
		base64_encode(s, n, in);
	}
	return 1;
}

static void
fz_b64(const uint8_t *d, size_t n)
{
	struct buf a, b;

	buf_init(&a, 0);
	buf_init(&b, 0);
	if (base64_decode((const char *)d, n, &a) == 0) {
		base64_encode((const unsigned char *)a.data, a.len, &b);
		if (b.len != n || (n > 0 && memcmp(b.data, d, n) != 0)) {
			abort();
		}
	}
	buf_free(&a);
	buf_free(&b);
}

static void
fz_creds_parse(const uint8_t *d, size_t n)
{
	struct sasl_creds c, c2;
	struct buf a, b;
	char *s = malloc(n + 1);

	if (s == NULL) {
		return;
	}
	memcpy(s, d, n);
	s[n] = '\0';
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (sasl_creds_parse(s, &c) == 0) {
		sasl_creds_format(&c, &a);
		if (a.err || sasl_creds_parse(a.data, &c2) != 0) {
			abort();
		}
		sasl_creds_format(&c2, &b);
		if (strcmp(a.data, b.data) != 0) {
			abort();
		}
	}
	buf_free(&a);
	buf_free(&b);
	free(s);
}

static void
fz_server(const char *mech, const uint8_t *p, const uint8_t *end)
{
	struct sasl_server *s = sasl_server_new(mech, 1, fz_lookup, NULL);
	struct buf in, out;
	enum sasl_result r = SASL_CONTINUE;
	int steps = 0;

	if (s == NULL) {
		abort();
	}
	sasl_server_set_domain(s, "d");
	sasl_server_set_nonce_for_test(s, "N");
	buf_init(&in, 0);
	buf_init(&out, 0);
	while (steps++ < 6 && next_msg(&p, end, &in)) {
		buf_reset(&out);
		r = sasl_server_step(s, in.len ? in.data : "", in.len, &out);
		if (out.err) {
			abort();
		}
		if (r == SASL_FAILURE) {
			if (sasl_condition(s) == NULL ||
			    sasl_username(s) != NULL) {
				abort();
			}
		} else if (r == SASL_SUCCESS) {
			if (sasl_username(s) == NULL ||
			    strcmp(sasl_username(s), "u") != 0) {
				abort();
			}
		}
	}
	buf_free(&in);
	buf_free(&out);
	sasl_server_free(s);
}

static void
fz_client(const char *mech, const uint8_t *p, const uint8_t *end)
{
	struct sasl_client *c = sasl_client_new(mech, "u", "p");
	struct buf in, out;
	int steps = 0;

	if (c == NULL) {
		abort();
	}
	sasl_client_set_nonce_for_test(c, "C");
	buf_init(&in, 0);
	buf_init(&out, 0);
	(void)sasl_client_step(c, NULL, 0, &out);
	while (steps++ < 6 && next_msg(&p, end, &in)) {
		buf_reset(&out);
		(void)sasl_client_step(c, in.len ? in.data : "", in.len, &out);
	}
	buf_free(&in);
	buf_free(&out);
	sasl_client_free(c);
}

/* Round trip with a fuzzed username and password. */
static void
fz_roundtrip(const char *mech, const uint8_t *d, size_t n)
{
	char *user, *pw, local[JID_PART_MAX + 1];
	const uint8_t *nul = memchr(d, 0, n);
	struct sasl_server *s;
	struct sasl_client *c;
	struct buf co, so;
	enum sasl_result sr = SASL_FAILURE, cr;
	int i;

	if (nul == NULL) {
		return;
	}
	user = malloc((size_t)(nul - d) + 1);
	pw = malloc(n - (size_t)(nul - d));
	if (user == NULL || pw == NULL) {
		abort();
	}
	memcpy(user, d, (size_t)(nul - d));
	user[nul - d] = '\0';
	memcpy(pw, nul + 1, n - (size_t)(nul - d) - 1);
	pw[n - (size_t)(nul - d) - 1] = '\0';
	fz_make_creds(pw);
	fz_password = pw;
	s = sasl_server_new(mech, 1, fz_lookup, NULL);
	c = sasl_client_new(mech, user, pw);
	buf_init(&co, 0);
	buf_init(&so, 0);
	cr = sasl_client_step(c, NULL, 0, &co);
	for (i = 0; i < 4 && cr == SASL_CONTINUE; i++) {
		buf_reset(&so);
		sr = sasl_server_step(s, co.data, co.len, &so);
		if (sr == SASL_FAILURE) {
			break;
		}
		buf_reset(&co);
		cr = sasl_client_step(c, so.len ? so.data : "", so.len, &co);
		if (sr == SASL_SUCCESS) {
			break;
		}
	}
	/* Valid names with a password free of NULs must get in, and only
	 * as their normalized localpart. */
	if (pw[0] != '\0' && jid_utf8_valid(pw, strlen(pw)) &&
	    jid_local_canon(user, local, sizeof(local)) == 0 &&
	    strcmp(local, "err") != 0) {
		if (sr != SASL_SUCCESS || cr != SASL_SUCCESS ||
		    strcmp(sasl_username(s), local) != 0) {
			abort();
		}
	}
	fz_password = NULL;
	buf_free(&co);
	buf_free(&so);
	sasl_server_free(s);
	sasl_client_free(c);
	free(user);
	free(pw);
	fz_make_creds("p");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const uint8_t *p = data + 1, *end = data + size;

	if (!init) {
		fz_make_creds("p");
		init = 1;
	}
	if (size < 1 || size > 16384) {
		return 0;
	}
	switch (data[0] % 7) {
	case 0:
		fz_b64(p, size - 1);
		break;
	case 1:
		fz_creds_parse(p, size - 1);
		break;
	case 2:
	case 3:
	case 4:
		fz_server(mechs[data[0] % 7 - 2], p, end);
		break;
	case 5:
		if (size >= 2) {
			fz_client(mechs[data[1] % 3], p + 1, end);
		}
		break;
	case 6:
		if (size >= 2) {
			fz_roundtrip(mechs[data[1] % 3], p + 1, size - 2);
		}
		break;
	}
	return 0;
}
