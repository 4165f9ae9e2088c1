/*
 * sasl.c - SASL PLAIN (RFC 4616) and SCRAM-SHA-1/-SHA-256 (RFC 5802,
 * RFC 7677), the server side (the client side is sasl_client.c); the
 * SASL elements carry strict base64 (RFC 6120 §6.4.2, base64.h).
 *
 * Failure conditions follow RFC 6120 §6.5: malformed-request for syntax
 * errors, not-authorized for bad credentials or unknown users (the two are
 * indistinguishable: unknown users get a fake but stable salt in SCRAM and
 * a full PBKDF2 run in PLAIN), invalid-authzid when the authorization
 * identity is not the user's own bare JID, temporary-auth-failure when the
 * credential lookup or the RNG fails.
 *
 * Limitation: SASLprep (RFC 4013) is not applied (it needs Unicode
 * tables); names and passwords are compared as UTF-8 bytes, with the
 * username normalized as a JID localpart (ASCII case folding).
 *
 * Channel binding (-PLUS): sasl_server_new_cbs() takes the types the TLS
 * session offers, and sasl_mechanisms_cb() lists the -PLUS variants first
 * when there is one (c2s.c advertises them inside TLS).
 */
#include "sasl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "jid.h"
#include "sasl_internal.h"
#include "tls.h"

static const struct sasl_mech mech_table[] = {
	{ "SCRAM-SHA-256-PLUS", MECH_SCRAM, SASL_SHA256, 1 },
	{ "SCRAM-SHA-1-PLUS", MECH_SCRAM, SASL_SHA1, 1 },
	{ "SCRAM-SHA-256", MECH_SCRAM, SASL_SHA256, 0 },
	{ "SCRAM-SHA-1", MECH_SCRAM, SASL_SHA1, 0 },
	{ "PLAIN", MECH_PLAIN, SASL_SHA256, 0 },
};

static const char *const mechs_scram[] = {
	"SCRAM-SHA-256", "SCRAM-SHA-1", NULL
};
static const char *const mechs_all[] = {
	"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", NULL
};
static const char *const mechs_plus_scram[] = {
	"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
	"SCRAM-SHA-1", NULL
};
static const char *const mechs_plus_all[] = {
	"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
	"SCRAM-SHA-1", "PLAIN", NULL
};

#define COND_MALFORMED	"malformed-request"
#define COND_NOTAUTH	"not-authorized"
#define COND_AUTHZID	"invalid-authzid"
#define COND_TEMP	"temporary-auth-failure"

#define NONCE_RAW_LEN	24	/* random bytes; 32 base64 characters */

enum srv_state { SRV_START, SRV_WAIT_INITIAL, SRV_WAIT_FINAL, SRV_DONE };

/* A channel-binding type a server exchange offers (owned copies). */
struct srv_cb {
	char		*type;
	unsigned char	*data;
	size_t		 len;
};

struct sasl_server {
	const struct sasl_mech	*mech;
	sasl_lookup_fn		 lookup;
	void			*ud;
	enum srv_state		 state;
	const char		*cond;		/* after SASL_FAILURE */
	char			*domain;	/* for authzid; may be NULL */
	char			*cb_type;	/* -PLUS offered when set */
	unsigned char		*cb_data;
	size_t			 cb_len;
	struct srv_cb		*cb_alts;	/* all types offered */
	size_t			 cb_nalts;
	char			*test_nonce;
	/* Outcome of the exchange. */
	char			*username;	/* canonical localpart */
	int			 success;
	/* SCRAM state between the two client messages. */
	char			*authzid;	/* decoded, may be NULL */
	char			*gs2_header;
	size_t			 gs2_len;
	char			*nonce;		/* client + server nonce */
	struct buf		 auth_msg;
	struct sasl_scram_keys	 keys;
	enum sasl_hash		 keys_hash;	/* which hash keys are for */
	int			 fake;		/* unknown user */
};

static unsigned char	fake_key[32];
static int		fake_key_set;
static unsigned		fake_iterations = SASL_ITERATIONS_DEFAULT;

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

enum tls_md
sasl_hash_md(enum sasl_hash h)
{
	return h == SASL_SHA1 ? TLS_MD_SHA1 : TLS_MD_SHA256;
}

size_t
sasl_hash_len(enum sasl_hash h)
{
	return tls_md_len(sasl_hash_md(h));
}

static size_t
keys_salt_len(const struct sasl_scram_keys *k)
{
	if (k->salt_len == 0 || k->salt_len > SASL_SALT_LEN) {
		return SASL_SALT_LEN;
	}
	return k->salt_len;
}

/* Wipe a buffer's whole allocation, then free it. */
void
sasl_buf_wipe_free(struct buf *b)
{
	if (b->data != NULL) {
		tls_zeroize(b->data, b->cap);
	}
	buf_free(b);
}

void
sasl_str_wipe_free(char *s)
{
	if (s != NULL) {
		tls_zeroize(s, strlen(s));
		free(s);
	}
}

const struct sasl_mech *
sasl_mech_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(mech_table) / sizeof(mech_table[0]); i++) {
		if (strcmp(mech_table[i].name, name) == 0) {
			return &mech_table[i];
		}
	}
	return NULL;
}

/*
 * Decode an XMPP SASL payload: "=" is the empty message (RFC 6120
 * §6.4.2), anything else strict base64.  0, or -1.
 */
int
sasl_payload_decode(const char *in, size_t len, struct buf *out)
{
	if (len == 1 && in[0] == '=') {
		return 0;
	}
	if (len > (SASL_MSG_MAX / 3 + 1) * 4) {
		return -1;
	}
	return base64_decode(in, len, out);
}

/* A fresh printable nonce (base64 of random bytes), or NULL if the RNG
 * fails.  Caller frees. */
char *
sasl_nonce_new(void)
{
	unsigned char raw[NONCE_RAW_LEN];
	struct buf b;
	char *s;

	if (tls_random(raw, sizeof(raw)) != 0) {
		return NULL;
	}
	buf_init(&b, 0);
	base64_encode(raw, sizeof(raw), &b);
	s = xstrndup(b.data, b.len);
	buf_free(&b);
	return s;
}

/* RFC 5802 nonce characters: printable ASCII except ','. */
int
sasl_nonce_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0) {
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7E || s[i] == ',') {
			return 0;
		}
	}
	return 1;
}

/*
 * Decode a saslname (RFC 5802 §5.1: "=2C" is ',', "=3D" is '=', any other
 * '=' is an error) into a new string; NULL if malformed, empty or not
 * UTF-8.  Caller frees.
 */
static char *
saslname_decode(const char *s, size_t len)
{
	char *out;
	size_t i = 0, o = 0;

	if (len == 0) {
		return NULL;
	}
	out = xmalloc(len + 1);
	while (i < len) {
		if (s[i] == ',') {
			goto bad;
		}
		if (s[i] != '=') {
			out[o++] = s[i++];
			continue;
		}
		if (len - i < 3) {
			goto bad;
		}
		if (s[i + 1] == '2' && s[i + 2] == 'C') {
			out[o++] = ',';
		} else if (s[i + 1] == '3' && s[i + 2] == 'D') {
			out[o++] = '=';
		} else {
			goto bad;
		}
		i += 3;
	}
	out[o] = '\0';
	if (!jid_utf8_valid(out, o)) {
		goto bad;
	}
	return out;
bad:
	free(out);
	return NULL;
}

/* Append s as a saslname (',' and '=' escaped). */
void
sasl_name_encode(const char *s, struct buf *out)
{
	for (; *s != '\0'; s++) {
		if (*s == ',') {
			buf_puts(out, "=2C");
		} else if (*s == '=') {
			buf_puts(out, "=3D");
		} else {
			buf_putc(out, *s);
		}
	}
}

/*
 * One attribute "x=value" at *p (up to end).  Fills the name and the value
 * view, and moves *p past the following ',' (or to end).  0, or -1 when
 * there is no well-formed attribute.
 */
int
sasl_attr_next(const char **p, const char *end, char *name, const char **val,
    size_t *vlen)
{
	const char *s = *p, *comma;
	unsigned char c;

	if (end - s < 2 || s[1] != '=') {
		return -1;
	}
	c = (unsigned char)s[0];
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
		return -1;
	}
	*name = (char)c;
	*val = s + 2;
	comma = memchr(s + 2, ',', (size_t)(end - (s + 2)));
	if (comma == NULL) {
		*vlen = (size_t)(end - (s + 2));
		*p = end;
	} else {
		*vlen = (size_t)(comma - (s + 2));
		*p = comma + 1;
		if (*p == end) {
			return -1;	/* trailing ',' */
		}
	}
	return 0;
}

/* Parse a decimal iteration count in 1..SASL_ITERATIONS_MAX; 0 if bad. */
unsigned
sasl_iter_parse(const char *s, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 10 || s[0] == '0') {
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return 0;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= SASL_ITERATIONS_MAX ? (unsigned)v : 0;
}

/*
 * SaltedPassword -> ClientKey, StoredKey, ServerKey (RFC 5802 §3) for
 * hash h.  0, or -1.
 */
static int
scram_keys_from_salted(enum sasl_hash h, const unsigned char *salted,
    unsigned char *client_key, struct sasl_scram_keys *k)
{
	enum tls_md md = sasl_hash_md(h);
	size_t hl = sasl_hash_len(h);

	if (tls_hmac(md, salted, hl, "Client Key", 10, client_key) != 0 ||
	    tls_hash(md, client_key, hl, k->stored_key) != 0 ||
	    tls_hmac(md, salted, hl, "Server Key", 10, k->server_key) != 0) {
		return -1;
	}
	return 0;
}

/*
 * Derive one hash's keys from password and a given salt (salt_len
 * 1..SASL_SALT_LEN, iterations 1..SASL_ITERATIONS_MAX) into *out.  0, or
 * -1 on bad arguments or a crypto failure.
 */
int
sasl_scram_keys_derive(enum sasl_hash h, const char *password,
    const unsigned char *salt, size_t salt_len, unsigned iterations,
    struct sasl_scram_keys *out)
{
	unsigned char salted[SASL_KEY_MAX], client_key[SASL_KEY_MAX];
	size_t hl = sasl_hash_len(h);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (salt_len == 0 || salt_len > SASL_SALT_LEN || iterations == 0 ||
	    iterations > SASL_ITERATIONS_MAX) {
		return -1;
	}
	if (tls_pbkdf2(sasl_hash_md(h), password, strlen(password), salt, salt_len,
	    iterations, salted, hl) != 0) {
		goto out;
	}
	if (scram_keys_from_salted(h, salted, client_key, out) != 0) {
		goto out;
	}
	memcpy(out->salt, salt, salt_len);
	out->salt_len = (unsigned)salt_len;
	out->iterations = iterations;
	rc = 0;
out:
	tls_zeroize(salted, sizeof(salted));
	tls_zeroize(client_key, sizeof(client_key));
	if (rc != 0) {
		tls_zeroize(out, sizeof(*out));
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* credentials                                                         */
/* ------------------------------------------------------------------ */

/*
 * Derive credentials for both hashes from password with fresh random
 * salts; iterations 0 means SASL_ITERATIONS_DEFAULT.  Returns 0, or -1
 * (RNG or crypto failure, iterations above SASL_ITERATIONS_MAX).
 */
int
sasl_creds_make(const char *password, unsigned iterations,
    struct sasl_creds *out)
{
	unsigned char salt[2][SASL_SALT_LEN];

	memset(out, 0, sizeof(*out));
	if (iterations == 0) {
		iterations = SASL_ITERATIONS_DEFAULT;
	}
	if (tls_random(salt, sizeof(salt)) != 0 ||
	    sasl_scram_keys_derive(SASL_SHA1, password, salt[0],
	    SASL_SALT_LEN, iterations, &out->sha1) != 0 ||
	    sasl_scram_keys_derive(SASL_SHA256, password, salt[1],
	    SASL_SALT_LEN, iterations, &out->sha256) != 0) {
		tls_zeroize(out, sizeof(*out));
		return -1;
	}
	return 0;
}

static void
keys_format(const char *name, enum sasl_hash h,
    const struct sasl_scram_keys *k, struct buf *out)
{
	buf_printf(out, "%s:%u:", name, k->iterations);
	base64_encode(k->salt, keys_salt_len(k), out);
	buf_putc(out, ':');
	base64_encode(k->stored_key, sasl_hash_len(h), out);
	buf_putc(out, ':');
	base64_encode(k->server_key, sasl_hash_len(h), out);
}

/*
 * Append the storage form "sha1:ITER:SALT:STORED:SERVER sha256:..." (base64
 * fields; a hash with iterations 0 is left out) to out.
 */
void
sasl_creds_format(const struct sasl_creds *c, struct buf *out)
{
	int any = 0;

	if (c->sha1.iterations != 0) {
		keys_format("sha1", SASL_SHA1, &c->sha1, out);
		any = 1;
	}
	if (c->sha256.iterations != 0) {
		if (any) {
			buf_putc(out, ' ');
		}
		keys_format("sha256", SASL_SHA256, &c->sha256, out);
	}
}

/* Decode one base64 field of exactly want bytes (or 1..want if !exact). */
static int
field_decode(const char *s, size_t len, unsigned char *dst, size_t want,
    int exact)
{
	struct buf b;
	int rc = -1;

	buf_init(&b, want);
	if (base64_decode(s, len, &b) == 0 && b.len > 0 &&
	    (b.len == want || (!exact && b.len <= want))) {
		memcpy(dst, b.data, b.len);
		rc = (int)b.len;
	}
	sasl_buf_wipe_free(&b);
	return rc;
}

/* Parse one "NAME:ITER:SALT:STORED:SERVER" of len bytes.  0, or -1. */
static int
keys_parse(const char *s, size_t len, struct sasl_creds *out)
{
	const char *f[5], *end = s + len, *p = s, *colon;
	size_t flen[5];
	struct sasl_scram_keys *k;
	enum sasl_hash h;
	int i, n;

	for (i = 0; i < 5; i++) {
		colon = memchr(p, ':', (size_t)(end - p));
		if ((colon == NULL) != (i == 4)) {
			return -1;
		}
		f[i] = p;
		flen[i] = (size_t)((colon != NULL ? colon : end) - p);
		p = colon != NULL ? colon + 1 : end;
	}
	if (flen[0] == 4 && memcmp(f[0], "sha1", 4) == 0) {
		h = SASL_SHA1;
		k = &out->sha1;
	} else if (flen[0] == 6 && memcmp(f[0], "sha256", 6) == 0) {
		h = SASL_SHA256;
		k = &out->sha256;
	} else {
		return -1;
	}
	if (k->iterations != 0) {
		return -1;	/* the same hash twice */
	}
	k->iterations = sasl_iter_parse(f[1], flen[1]);
	n = field_decode(f[2], flen[2], k->salt, SASL_SALT_LEN, 0);
	if (k->iterations == 0 || n < 0 ||
	    field_decode(f[3], flen[3], k->stored_key, sasl_hash_len(h), 1) < 0 ||
	    field_decode(f[4], flen[4], k->server_key, sasl_hash_len(h), 1) < 0) {
		return -1;
	}
	k->salt_len = (unsigned)n;
	return 0;
}

/*
 * Parse the storage form written by sasl_creds_format into *out: one or
 * both hashes, each at most once, separated by one space.  0, or -1 on
 * malformed input (*out is then zeroed).
 */
int
sasl_creds_parse(const char *s, struct sasl_creds *out)
{
	const char *sp;
	size_t len;

	memset(out, 0, sizeof(*out));
	for (;;) {
		sp = strchr(s, ' ');
		len = sp != NULL ? (size_t)(sp - s) : strlen(s);
		if (keys_parse(s, len, out) != 0) {
			tls_zeroize(out, sizeof(*out));
			return -1;
		}
		if (sp == NULL) {
			break;
		}
		s = sp + 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* server                                                              */
/* ------------------------------------------------------------------ */

/* Offered mechanisms, in preference order; NULL-terminated, static. */
const char *const *
sasl_mechanisms(int allow_plain)
{
	return allow_plain ? mechs_all : mechs_scram;
}

/* Offered mechanisms, -PLUS variants first when plus is set; static. */
const char *const *
sasl_mechanisms_cb(int allow_plain, int plus)
{
	if (!plus) {
		return sasl_mechanisms(allow_plain);
	}
	return allow_plain ? mechs_plus_all : mechs_plus_scram;
}

/*
 * Set the key for fake salts (see sasl.h).  Keys longer than 32 bytes are
 * hashed down.
 */
void
sasl_set_fake_salt_key(const void *key, size_t len)
{
	if (len <= sizeof(fake_key)) {
		memset(fake_key, 0, sizeof(fake_key));
		memcpy(fake_key, key, len);
	} else if (tls_hash(TLS_MD_SHA256, key, len, fake_key) != 0) {
		return;
	}
	fake_key_set = 1;
}

/* Iteration count for unknown users (0: SASL_ITERATIONS_DEFAULT; capped
 * at SASL_ITERATIONS_MAX). */
void
sasl_set_fake_iterations(unsigned iterations)
{
	if (iterations == 0) {
		iterations = SASL_ITERATIONS_DEFAULT;
	}
	fake_iterations = iterations > SASL_ITERATIONS_MAX ?
	    SASL_ITERATIONS_MAX : iterations;
}

/*
 * Start a server exchange with channel binding data cb (NULL when the
 * stream has none; -PLUS mechanisms are then refused).  NULL if mech is
 * unknown or not allowed.  Caller frees with sasl_server_free().
 */
struct sasl_server *
sasl_server_new_cb(const char *mech, int allow_plain, const struct sasl_cb *cb,
    sasl_lookup_fn lookup, void *ud)
{
	const struct sasl_mech *m = mech != NULL ? sasl_mech_find(mech) : NULL;
	struct sasl_server *s;

	if (m == NULL || lookup == NULL ||
	    (m->kind == MECH_PLAIN && !allow_plain) ||
	    (m->plus && (cb == NULL || cb->type == NULL))) {
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->mech = m;
	s->lookup = lookup;
	s->ud = ud;
	s->state = SRV_START;
	buf_init(&s->auth_msg, 3 * SASL_MSG_MAX);
	if (cb != NULL && cb->type != NULL) {
		s->cb_type = xstrdup(cb->type);
		s->cb_data = xmalloc(cb->len);
		if (cb->len > 0) {
			memcpy(s->cb_data, cb->data, cb->len);
		}
		s->cb_len = cb->len;
	}
	return s;
}

/*
 * Start a server exchange offering every channel-binding type in
 * cbs[0..ncbs-1] (strongest first); the client's "p=" picks one.  ncbs 0
 * is sasl_server_new().  NULL as sasl_server_new_cb().  Caller frees with
 * sasl_server_free().
 */
struct sasl_server *
sasl_server_new_cbs(const char *mech, int allow_plain,
    const struct sasl_cb *cbs, size_t ncbs, sasl_lookup_fn lookup, void *ud)
{
	struct sasl_server *s;
	size_t i;

	s = sasl_server_new_cb(mech, allow_plain, ncbs > 0 ? &cbs[0] : NULL,
	    lookup, ud);
	if (s == NULL || ncbs < 2) {
		return s;
	}
	s->cb_alts = xcalloc(ncbs, sizeof(*s->cb_alts));
	for (i = 0; i < ncbs; i++) {
		s->cb_alts[i].type = xstrdup(cbs[i].type);
		s->cb_alts[i].data = xmalloc(cbs[i].len);
		if (cbs[i].len > 0) {
			memcpy(s->cb_alts[i].data, cbs[i].data, cbs[i].len);
		}
		s->cb_alts[i].len = cbs[i].len;
	}
	s->cb_nalts = ncbs;
	return s;
}

/* Make the offered type named by the client's "p=" the one checked. */
static void
srv_select_cb(struct sasl_server *s, const char *name, size_t len)
{
	const struct srv_cb *alt;
	size_t i;

	for (i = 0; i < s->cb_nalts; i++) {
		alt = &s->cb_alts[i];
		if (strlen(alt->type) != len ||
		    memcmp(alt->type, name, len) != 0) {
			continue;
		}
		free(s->cb_type);
		tls_zeroize(s->cb_data, s->cb_len);
		free(s->cb_data);
		s->cb_type = xstrdup(alt->type);
		s->cb_data = xmalloc(alt->len);
		if (alt->len > 0) {
			memcpy(s->cb_data, alt->data, alt->len);
		}
		s->cb_len = alt->len;
		return;
	}
}

/*
 * Start a server exchange for mech without channel binding.  NULL if the
 * mechanism is unknown or not allowed.  Caller frees with
 * sasl_server_free().
 */
struct sasl_server *
sasl_server_new(const char *mech, int allow_plain, sasl_lookup_fn lookup,
    void *ud)
{
	return sasl_server_new_cb(mech, allow_plain, NULL, lookup, ud);
}

/* Remember the stream's domain (copied) for authzid checks. */
void
sasl_server_set_domain(struct sasl_server *s, const char *domain)
{
	free(s->domain);
	s->domain = domain != NULL ? xstrdup(domain) : NULL;
}

/* Test only: use nonce_suffix as the server's nonce part (copied). */
void
sasl_server_set_nonce_for_test(struct sasl_server *s, const char *nonce_suffix)
{
	free(s->test_nonce);
	s->test_nonce = xstrdup(nonce_suffix);
}

static enum sasl_result
srv_fail(struct sasl_server *s, const char *cond)
{
	s->cond = cond;
	s->state = SRV_DONE;
	s->success = 0;
	/* the username stays for sasl_tried_username (log lines) */
	return SASL_FAILURE;
}

/*
 * Is authzid acceptable for the user with canonical localpart local?
 * Empty/NULL is; otherwise it must be the bare JID local@domain.
 */
static int
authzid_ok(const struct sasl_server *s, const char *local,
    const char *authzid)
{
	char canon[JID_MAX + 1], domain[JID_PART_MAX + 1];
	size_t ll;

	if (authzid == NULL || authzid[0] == '\0') {
		return 1;
	}
	if (s->domain == NULL || jid_canon(authzid, canon, sizeof(canon)) != 0 ||
	    jid_canon(s->domain, domain, sizeof(domain)) != 0) {
		return 0;
	}
	ll = strlen(local);
	return strncmp(canon, local, ll) == 0 && canon[ll] == '@' &&
	    strcmp(canon + ll + 1, domain) == 0;
}

/*
 * Look the user up.  Fills s->username and s->keys, or sets s->fake with
 * a fake salt for unknown users.  0, or -1 on an internal failure.
 */
static int
srv_lookup(struct sasl_server *s, const char *authcid)
{
	char local[JID_PART_MAX + 1];
	struct sasl_creds creds;
	const struct sasl_scram_keys *k;
	unsigned char mac[32];
	struct buf msg;
	int rc;

	memset(&creds, 0, sizeof(creds));
	memset(&s->keys, 0, sizeof(s->keys));
	s->keys_hash = s->mech->hash;
	s->fake = 1;
	rc = SASL_LOOKUP_NOUSER;
	if (jid_local_canon(authcid, local, sizeof(local)) == 0) {
		s->username = xstrdup(local);
		rc = s->lookup(s->ud, local, &creds);
	}
	if (rc == SASL_LOOKUP_OK) {
		if (s->mech->kind == MECH_PLAIN) {
			s->keys_hash = creds.sha256.iterations != 0 ?
			    SASL_SHA256 : SASL_SHA1;
		} else {
			s->keys_hash = s->mech->hash;
		}
		k = s->keys_hash == SASL_SHA1 ? &creds.sha1 : &creds.sha256;
		if (k->iterations != 0 && k->iterations <= SASL_ITERATIONS_MAX) {
			s->keys = *k;
			s->fake = 0;
		}
	} else if (rc != SASL_LOOKUP_NOUSER) {
		tls_zeroize(&creds, sizeof(creds));
		return -1;
	}
	tls_zeroize(&creds, sizeof(creds));
	if (!s->fake) {
		return 0;
	}
	/*
	 * Unknown user: a salt that is stable for this name and looks like a
	 * real one, so probing cannot tell users apart (keys stay zero and
	 * never verify).
	 */
	if (!fake_key_set) {
		if (tls_random(fake_key, sizeof(fake_key)) != 0) {
			return -1;
		}
		fake_key_set = 1;
	}
	buf_init(&msg, 0);
	buf_printf(&msg, "%s", s->mech->hash == SASL_SHA1 ? "sha1" : "sha256");
	buf_append(&msg, "", 1);
	buf_puts(&msg, authcid);
	rc = tls_hmac(TLS_MD_SHA256, fake_key, sizeof(fake_key), msg.data,
	    msg.len, mac);
	buf_free(&msg);
	if (rc != 0) {
		return -1;
	}
	memcpy(s->keys.salt, mac, SASL_SALT_LEN);
	s->keys.salt_len = SASL_SALT_LEN;
	s->keys.iterations = fake_iterations;
	return 0;
}

/*
 * Does password match s->keys (derive StoredKey with the stored salt)?
 * Always runs the full derivation, also for fake users.  1 or 0.
 */
static int
srv_password_ok(const struct sasl_server *s, const char *password)
{
	struct sasl_scram_keys k;
	enum sasl_hash h;
	size_t hl;
	int ok;

	h = s->keys_hash;
	hl = sasl_hash_len(h);
	if (sasl_scram_keys_derive(h, password, s->keys.salt,
	    keys_salt_len(&s->keys), s->keys.iterations, &k) != 0) {
		return 0;
	}
	ok = tls_memcmp_ct(k.stored_key, s->keys.stored_key, hl) == 0 &&
	    !s->fake;
	tls_zeroize(&k, sizeof(k));
	return ok;
}

/* PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd. */
static enum sasl_result
plain_step(struct sasl_server *s, const char *in, size_t in_len)
{
	const char *data, *end, *nul1, *nul2, *authcid, *pw;
	enum sasl_result r;
	struct buf msg;

	if (s->state == SRV_START && in_len == 0) {
		/* No initial response: send an empty challenge. */
		s->state = SRV_WAIT_INITIAL;
		return SASL_CONTINUE;
	}
	buf_init(&msg, SASL_MSG_MAX);
	if (sasl_payload_decode(in, in_len, &msg) != 0 || msg.len == 0) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	data = msg.data;
	end = data + msg.len;
	nul1 = memchr(data, '\0', msg.len);
	nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0',
	    (size_t)(end - (nul1 + 1))) : NULL;
	if (nul2 == NULL ||
	    memchr(nul2 + 1, '\0', (size_t)(end - (nul2 + 1))) != NULL) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	authcid = nul1 + 1;
	pw = nul2 + 1;		/* NUL-terminated by the buffer */
	if (nul2 == authcid || pw == end ||
	    !jid_utf8_valid(data, (size_t)(nul1 - data)) ||
	    !jid_utf8_valid(authcid, (size_t)(nul2 - authcid)) ||
	    !jid_utf8_valid(pw, (size_t)(end - pw))) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	if (srv_lookup(s, authcid) != 0) {
		r = srv_fail(s, COND_TEMP);
		goto out;
	}
	if (!srv_password_ok(s, pw)) {
		r = srv_fail(s, COND_NOTAUTH);
		goto out;
	}
	if (!authzid_ok(s, s->username, data)) {
		r = srv_fail(s, COND_AUTHZID);
		goto out;
	}
	s->state = SRV_DONE;
	s->success = 1;
	r = SASL_SUCCESS;
out:
	sasl_buf_wipe_free(&msg);
	return r;
}

/* RFC 5802 cb-name: 1*(ALPHA / DIGIT / "." / "-"). */
static int
cbname_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0) {
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-')) {
			return 0;
		}
	}
	return 1;
}

/*
 * The gs2-header opening a client-first-message (RFC 5802 §7),
 * gs2-cbind-flag "," [ authzid ] ",", of a msg of len > 0 bytes: sets
 * *flag ('n', 'y' or 'p'), for 'p' the channel binding name (borrowed
 * from msg), s->authzid when there is one, s->gs2_header and
 * s->gs2_len.  0, or -1 when it is malformed.
 */
static int
scram_gs2_header(struct sasl_server *s, const char *msg, size_t len,
    char *flag, const char **cbname, size_t *cbname_len)
{
	const char *p, *comma, *end = msg + len;

	*flag = msg[0];
	if ((*flag == 'n' || *flag == 'y') && len >= 2 && msg[1] == ',') {
		p = msg + 2;
	} else if (*flag == 'p' && len >= 2 && msg[1] == '=') {
		*cbname = msg + 2;
		comma = memchr(*cbname, ',', (size_t)(end - *cbname));
		*cbname_len = comma != NULL ? (size_t)(comma - *cbname) : 0;
		if (!cbname_valid(*cbname, *cbname_len)) {
			return -1;
		}
		p = comma + 1;
	} else {
		return -1;
	}
	if (p < end && *p == 'a') {
		comma = memchr(p, ',', (size_t)(end - p));
		if (end - p < 2 || p[1] != '=' || comma == NULL ||
		    (s->authzid = saslname_decode(p + 2,
		    (size_t)(comma - (p + 2)))) == NULL) {
			return -1;
		}
		p = comma;
	}
	if (p >= end || *p != ',') {
		return -1;
	}
	p++;
	s->gs2_len = (size_t)(p - msg);
	s->gs2_header = xstrndup(msg, s->gs2_len);
	return 0;
}

/* SCRAM client-first-message -> server-first-message (RFC 5802 §5.1). */
static enum sasl_result
scram_first(struct sasl_server *s, const char *msg, size_t len,
    struct buf *out)
{
	const char *p, *end, *val, *bare;
	const char *cbname = NULL, *cnonce;
	size_t vlen, cbname_len = 0, cnonce_len;
	char name, flag, *authcid = NULL, *snonce = NULL;
	struct buf sf;
	enum sasl_result r = SASL_FAILURE;

	buf_init(&sf, SASL_MSG_MAX);
	/* an empty message may come as NULL: no pointer arithmetic on it */
	if (len == 0 || memchr(msg, '\0', len) != NULL) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	end = msg + len;
	if (scram_gs2_header(s, msg, len, &flag, &cbname, &cbname_len) != 0) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	p = msg + s->gs2_len;

	/* client-first-message-bare; "m=" is a mandatory extension we do not
	 * know, so authentication must fail (RFC 5802 §5.1). */
	bare = p;
	if (sasl_attr_next(&p, end, &name, &val, &vlen) != 0 || name != 'n' ||
	    (authcid = saslname_decode(val, vlen)) == NULL ||
	    sasl_attr_next(&p, end, &name, &val, &vlen) != 0 || name != 'r' ||
	    !sasl_nonce_valid(val, vlen)) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	cnonce = val;
	cnonce_len = vlen;
	while (p < end) {
		if (sasl_attr_next(&p, end, &name, &val, &vlen) != 0) {
			r = srv_fail(s, COND_MALFORMED);
			goto out;
		}
	}

	/* Channel binding flag (RFC 5802 §6). */
	if (flag == 'p') {
		if (!s->mech->plus) {
			/* -PLUS is not offered: refuse to bind. */
			r = srv_fail(s, COND_MALFORMED);
			goto out;
		}
		srv_select_cb(s, cbname, cbname_len);
		if (strlen(s->cb_type) != cbname_len ||
		    memcmp(s->cb_type, cbname, cbname_len) != 0) {
			r = srv_fail(s, COND_NOTAUTH);
			goto out;
		}
	} else if (s->mech->plus) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	} else if (flag == 'y' && s->cb_type != NULL) {
		/* The client thinks we lack binding, but we offered it:
		 * a downgrade. */
		r = srv_fail(s, COND_NOTAUTH);
		goto out;
	}

	if (srv_lookup(s, authcid) != 0) {
		r = srv_fail(s, COND_TEMP);
		goto out;
	}
	snonce = s->test_nonce != NULL ? xstrdup(s->test_nonce) : sasl_nonce_new();
	if (snonce == NULL) {
		r = srv_fail(s, COND_TEMP);
		goto out;
	}
	s->nonce = xmalloc(cnonce_len + strlen(snonce) + 1);
	memcpy(s->nonce, cnonce, cnonce_len);
	strcpy(s->nonce + cnonce_len, snonce);

	buf_printf(&sf, "r=%s,s=", s->nonce);
	base64_encode(s->keys.salt, keys_salt_len(&s->keys), &sf);
	buf_printf(&sf, ",i=%u", s->keys.iterations);
	buf_append(&s->auth_msg, bare, (size_t)(end - bare));
	buf_putc(&s->auth_msg, ',');
	buf_append(&s->auth_msg, sf.data, sf.len);
	if (sf.err || s->auth_msg.err) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	base64_encode((const unsigned char *)sf.data, sf.len, out);
	s->state = SRV_WAIT_FINAL;
	r = SASL_CONTINUE;
out:
	free(authcid);
	free(snonce);
	buf_free(&sf);
	return r;
}

/* SCRAM client-final-message -> server-final-message (RFC 5802 §5.1). */
static enum sasl_result
scram_final(struct sasl_server *s, const char *msg, size_t len,
    struct buf *out)
{
	const char *p = msg, *end = msg + len, *val, *q, *proof_attr = NULL;
	const char *cval, *rval, *pval = NULL;
	size_t vlen, clen, rlen, plen = 0, hl = sasl_hash_len(s->mech->hash), i;
	enum tls_md md = sasl_hash_md(s->mech->hash);
	unsigned char sig[SASL_KEY_MAX], key[SASL_KEY_MAX], h[SASL_KEY_MAX];
	struct buf cb, proof, v;
	enum sasl_result r = SASL_FAILURE;
	char name;
	int ok;

	buf_init(&cb, SASL_MSG_MAX);
	buf_init(&proof, SASL_KEY_MAX);
	buf_init(&v, 0);
	if (len == 0 || memchr(msg, '\0', len) != NULL ||
	    sasl_attr_next(&p, end, &name, &cval, &clen) != 0 || name != 'c' ||
	    sasl_attr_next(&p, end, &name, &rval, &rlen) != 0 || name != 'r') {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	while (p < end) {
		q = p;
		if (sasl_attr_next(&p, end, &name, &val, &vlen) != 0 ||
		    pval != NULL) {
			r = srv_fail(s, COND_MALFORMED);
			goto out;
		}
		if (name == 'p') {
			proof_attr = q;
			pval = val;
			plen = vlen;
		}
	}
	if (pval == NULL || base64_decode(cval, clen, &cb) != 0 ||
	    base64_decode(pval, plen, &proof) != 0 || proof.len != hl) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	/* c= carries the gs2 header plus, for -PLUS, the binding data. */
	if (cb.len != s->gs2_len + (s->mech->plus ? s->cb_len : 0) ||
	    memcmp(cb.data, s->gs2_header, s->gs2_len) != 0 ||
	    (s->mech->plus && s->cb_len > 0 &&
	    memcmp(cb.data + s->gs2_len, s->cb_data, s->cb_len) != 0)) {
		r = srv_fail(s, COND_NOTAUTH);
		goto out;
	}
	if (rlen != strlen(s->nonce) || memcmp(rval, s->nonce, rlen) != 0) {
		r = srv_fail(s, COND_NOTAUTH);
		goto out;
	}
	/* AuthMessage = bare "," server-first "," final-without-proof */
	buf_putc(&s->auth_msg, ',');
	buf_append(&s->auth_msg, msg, (size_t)(proof_attr - 1 - msg));
	if (s->auth_msg.err) {
		r = srv_fail(s, COND_MALFORMED);
		goto out;
	}
	/* ClientKey = proof XOR HMAC(StoredKey, AuthMessage);
	 * valid when H(ClientKey) == StoredKey. */
	if (tls_hmac(md, s->keys.stored_key, hl, s->auth_msg.data,
	    s->auth_msg.len, sig) != 0) {
		r = srv_fail(s, COND_TEMP);
		goto out;
	}
	for (i = 0; i < hl; i++) {
		key[i] = (unsigned char)proof.data[i] ^ sig[i];
	}
	if (tls_hash(md, key, hl, h) != 0) {
		r = srv_fail(s, COND_TEMP);
		goto out;
	}
	ok = tls_memcmp_ct(h, s->keys.stored_key, hl) == 0;
	if (!ok || s->fake) {
		r = srv_fail(s, COND_NOTAUTH);
		goto out;
	}
	if (!authzid_ok(s, s->username, s->authzid)) {
		r = srv_fail(s, COND_AUTHZID);
		goto out;
	}
	if (tls_hmac(md, s->keys.server_key, hl, s->auth_msg.data,
	    s->auth_msg.len, sig) != 0) {
		r = srv_fail(s, COND_TEMP);
		goto out;
	}
	buf_puts(&v, "v=");
	base64_encode(sig, hl, &v);
	base64_encode((const unsigned char *)v.data, v.len, out);
	s->state = SRV_DONE;
	s->success = 1;
	r = SASL_SUCCESS;
out:
	tls_zeroize(sig, sizeof(sig));
	tls_zeroize(key, sizeof(key));
	tls_zeroize(h, sizeof(h));
	sasl_buf_wipe_free(&proof);
	buf_free(&cb);
	buf_free(&v);
	return r;
}

/*
 * One server step: in is the base64 text of <auth/> or <response/> (empty
 * for no initial response, "=" for an empty one).  Output (base64,
 * possibly empty) is appended to out.  After SASL_FAILURE see
 * sasl_condition(); any step after the exchange ended fails.
 */
enum sasl_result
sasl_server_step(struct sasl_server *s, const char *in, size_t in_len,
    struct buf *out)
{
	struct buf msg;
	enum sasl_result r;

	if (in == NULL) {
		in = "";
		in_len = 0;
	}
	if (s->state == SRV_DONE) {
		return srv_fail(s, s->cond != NULL ? s->cond : COND_MALFORMED);
	}
	if (s->mech->kind == MECH_PLAIN) {
		return plain_step(s, in, in_len);
	}
	if (s->state == SRV_START && in_len == 0) {
		s->state = SRV_WAIT_INITIAL;
		return SASL_CONTINUE;
	}
	buf_init(&msg, SASL_MSG_MAX);
	if (sasl_payload_decode(in, in_len, &msg) != 0) {
		r = srv_fail(s, COND_MALFORMED);
	} else if (s->state == SRV_WAIT_FINAL) {
		r = scram_final(s, msg.data, msg.len, out);
	} else {
		r = scram_first(s, msg.data, msg.len, out);
	}
	sasl_buf_wipe_free(&msg);
	return r;
}

/* RFC 6120 §6.5 condition after SASL_FAILURE ("not-authorized" if none). */
const char *
sasl_condition(const struct sasl_server *s)
{
	return s->cond != NULL ? s->cond : COND_NOTAUTH;
}

/* After SASL_SUCCESS: the canonical localpart; NULL before.  Borrowed,
 * valid until sasl_server_free(). */
const char *
sasl_username(const struct sasl_server *s)
{
	return s->success ? s->username : NULL;
}

/* See sasl.h. */
const char *
sasl_tried_username(const struct sasl_server *s)
{
	return s->username;
}

/* Free a server exchange and wipe its secrets; NULL is ignored. */
void
sasl_server_free(struct sasl_server *s)
{
	if (s == NULL) {
		return;
	}
	free(s->domain);
	free(s->cb_type);
	if (s->cb_data != NULL) {
		tls_zeroize(s->cb_data, s->cb_len);
		free(s->cb_data);
	}
	for (size_t i = 0; i < s->cb_nalts; i++) {
		free(s->cb_alts[i].type);
		tls_zeroize(s->cb_alts[i].data, s->cb_alts[i].len);
		free(s->cb_alts[i].data);
	}
	free(s->cb_alts);
	free(s->test_nonce);
	free(s->username);
	free(s->authzid);
	free(s->gs2_header);
	free(s->nonce);
	buf_free(&s->auth_msg);
	tls_zeroize(s, sizeof(*s));
	free(s);
}
