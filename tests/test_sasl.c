/* test_sasl.c - SASL PLAIN/SCRAM, base64 and credentials. */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "sasl.h"
#include "tls.h"
#include "check.h"

/* ---- helpers ---- */

static struct sasl_creds creds_juliet, creds_comma;
static char last_lookup[256];

static int
lookup(void *ud, const char *username, struct sasl_creds *out)
{
	(void)ud;
	snprintf(last_lookup, sizeof(last_lookup), "%s", username);
	if (strcmp(username, "juliet") == 0) {
		*out = creds_juliet;
		return SASL_LOOKUP_OK;
	}
	if (strcmp(username, "a,b=c") == 0) {
		*out = creds_comma;
		return SASL_LOOKUP_OK;
	}
	if (strcmp(username, "broken") == 0) {
		return SASL_LOOKUP_ERROR;
	}
	return SASL_LOOKUP_NOUSER;
}

/* Vector credentials for the RFC examples, set per test. */
static struct sasl_creds creds_vector;

static int
lookup_vector(void *ud, const char *username, struct sasl_creds *out)
{
	(void)ud;
	if (strcmp(username, "user") != 0) {
		return SASL_LOOKUP_NOUSER;
	}
	*out = creds_vector;
	return SASL_LOOKUP_OK;
}

/* base64 of n bytes of s, into a static rotating buffer. */
static const char *
enc(const char *s, size_t n)
{
	static char ring[4][8192];
	static int k;
	struct buf b;
	char *dst = ring[k++ & 3];

	buf_init(&b, 0);
	base64_encode((const unsigned char *)s, n, &b);
	snprintf(dst, sizeof(ring[0]), "%s", b.len ? b.data : "");
	buf_free(&b);
	return dst;
}

static const char *
encs(const char *s)
{
	return enc(s, strlen(s));
}

/* Decode base64 text to a static string ("<bad>" when invalid). */
static const char *
dec(const char *s, size_t n)
{
	static char ring[4][8192];
	static int k;
	struct buf b;
	char *dst = ring[k++ & 3];

	buf_init(&b, 0);
	if (base64_decode(s, n, &b) != 0) {
		snprintf(dst, sizeof(ring[0]), "<bad>");
	} else {
		snprintf(dst, sizeof(ring[0]), "%s", b.len ? b.data : "");
	}
	buf_free(&b);
	return dst;
}

static const char *
decb(const struct buf *b)
{
	return dec(b->len ? b->data : "", b->len);
}

/* One server step with text t; output (base64) left in out. */
static enum sasl_result
sstep(struct sasl_server *s, const char *t, struct buf *out)
{
	buf_reset(out);
	return sasl_server_step(s, t, strlen(t), out);
}

static enum sasl_result
cstep(struct sasl_client *c, const char *t, struct buf *out)
{
	buf_reset(out);
	return sasl_client_step(c, t, t ? strlen(t) : 0, out);
}

/* Full client<->server run; returns the server's last result. */
static enum sasl_result
run(const char *mech, const char *user, const char *pw, const char *domain,
    const char **cond, const char **username, enum sasl_result *client_res)
{
	static char cond_copy[64], user_copy[256];
	struct sasl_server *s = sasl_server_new(mech, 1, lookup, NULL);
	struct sasl_client *c = sasl_client_new(mech, user, pw);
	struct buf co, so;
	enum sasl_result sr = SASL_FAILURE, cr;
	int i;

	buf_init(&co, 0);
	buf_init(&so, 0);
	*cond = NULL;
	*username = NULL;
	*client_res = SASL_FAILURE;
	if (s == NULL || c == NULL) {
		goto out;
	}
	if (domain != NULL) {
		sasl_server_set_domain(s, domain);
	}
	cr = cstep(c, NULL, &co);
	for (i = 0; i < 4 && cr == SASL_CONTINUE; i++) {
		sr = sasl_server_step(s, co.data, co.len, &so);
		if (sr == SASL_FAILURE) {
			break;
		}
		buf_reset(&co);
		cr = sasl_client_step(c, so.len ? so.data : "", so.len, &co);
		buf_reset(&so);
		if (sr == SASL_SUCCESS) {
			break;
		}
	}
	*client_res = cr;
	if (sr == SASL_FAILURE) {
		snprintf(cond_copy, sizeof(cond_copy), "%s",
		    sasl_condition(s));
		*cond = cond_copy;
	} else if (sr == SASL_SUCCESS && sasl_username(s) != NULL) {
		snprintf(user_copy, sizeof(user_copy), "%s",
		    sasl_username(s));
		*username = user_copy;
	}
out:
	sasl_server_free(s);
	sasl_client_free(c);
	buf_free(&co);
	buf_free(&so);
	return sr;
}

/* Parse "r=..,s=..,i=.." into nonce, salt (decoded) and iterations. */
static int
parse_server_first(const char *sf, char *nonce, size_t ncap,
    unsigned char *salt, size_t *salt_len, unsigned *iter)
{
	const char *r, *sp, *ip;
	struct buf b;

	if (strncmp(sf, "r=", 2) != 0 || (sp = strstr(sf, ",s=")) == NULL ||
	    (ip = strstr(sf, ",i=")) == NULL) {
		return -1;
	}
	r = sf + 2;
	if ((size_t)(sp - r) + 1 > ncap) {
		return -1;
	}
	memcpy(nonce, r, (size_t)(sp - r));
	nonce[sp - r] = '\0';
	buf_init(&b, 64);
	if (base64_decode(sp + 3, (size_t)(ip - (sp + 3)), &b) != 0) {
		buf_free(&b);
		return -1;
	}
	memcpy(salt, b.data, b.len);
	*salt_len = b.len;
	buf_free(&b);
	*iter = (unsigned)strtoul(ip + 3, NULL, 10);
	return 0;
}

/*
 * A hand-built SCRAM client: sends gs2 + "n=user,r=cnonce" + first_ext,
 * then a final message with c= (cbind_b64 or base64(gs2)), the server's
 * nonce (or nonce_override), final_ext before p=, and a proof computed
 * from password.  Returns the server's result of the last step run.
 */
static enum sasl_result
manual_scram(struct sasl_server *s, enum sasl_hash h, const char *gs2,
    const char *user, const char *password, const char *first_ext,
    const char *cbind_b64, const char *nonce_override, const char *final_ext,
    struct buf *server_out)
{
	enum tls_md md = h == SASL_SHA1 ? TLS_MD_SHA1 : TLS_MD_SHA256;
	size_t hl = tls_md_len(md), salt_len, i;
	char cf[512], sf[512], wp[1024], am[2048], fin[1200], nonce[256];
	unsigned char salt[64], salted[32], ck[32], sk[32], sig[32];
	unsigned iter;
	enum sasl_result r;

	snprintf(cf, sizeof(cf), "%sn=%s,r=clientnonce%s", gs2, user,
	    first_ext ? first_ext : "");
	r = sstep(s, encs(cf), server_out);
	if (r != SASL_CONTINUE) {
		return r;
	}
	snprintf(sf, sizeof(sf), "%s", decb(server_out));
	if (parse_server_first(sf, nonce, sizeof(nonce), salt, &salt_len,
	    &iter) != 0) {
		return SASL_FAILURE;
	}
	snprintf(wp, sizeof(wp), "c=%s,r=%s%s",
	    cbind_b64 ? cbind_b64 : encs(gs2),
	    nonce_override ? nonce_override : nonce,
	    final_ext ? final_ext : "");
	snprintf(am, sizeof(am), "%s,%s,%s", cf + strlen(gs2), sf, wp);
	tls_pbkdf2(md, password, strlen(password), salt, salt_len, iter,
	    salted, hl);
	tls_hmac(md, salted, hl, "Client Key", 10, ck);
	tls_hash(md, ck, hl, sk);
	tls_hmac(md, sk, hl, am, strlen(am), sig);
	for (i = 0; i < hl; i++) {
		sig[i] ^= ck[i];
	}
	snprintf(fin, sizeof(fin), "%s,p=%s", wp, enc((const char *)sig, hl));
	return sstep(s, encs(fin), server_out);
}

/* Copy t into dst with each "%s" replaced by v. */
static void
subst(char *dst, size_t cap, const char *t, const char *v)
{
	size_t o = 0;

	while (*t != '\0' && o + strlen(v) + 1 < cap) {
		if (t[0] == '%' && t[1] == 's') {
			memcpy(dst + o, v, strlen(v));
			o += strlen(v);
			t += 2;
		} else {
			dst[o++] = *t++;
		}
	}
	dst[o] = '\0';
}

/* ---- tests ---- */

static void
test_b64(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n",
		"=Zm9", "Zg==Zg==", "Zm9v====", "Zm-v", "Zm_v", "====", "A",
		"Zm8=Zm9v", "Zg=a", "\xc3\xa9\xc3\xa9",
	};
	unsigned char bin[256];
	struct buf b, b2;
	size_t i, n;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		CHECK_STR(encs(vec[i][0]), vec[i][1]);
		CHECK_STR(dec(vec[i][1], strlen(vec[i][1])), vec[i][0]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_STR(dec(bad[i], strlen(bad[i])), "<bad>");
	}
	/* NUL inside the text is not base64. */
	CHECK_STR(dec("Zm\0v", 4), "<bad>");
	/* Binary round trip at every length 0..256. */
	for (i = 0; i < sizeof(bin); i++) {
		bin[i] = (unsigned char)(i * 37 + 11);
	}
	for (n = 0; n <= sizeof(bin); n++) {
		buf_init(&b, 0);
		buf_init(&b2, 0);
		base64_encode(bin, n, &b);
		CHECK(b.len == (n + 2) / 3 * 4);
		CHECK(base64_decode(b.len ? b.data : "", b.len, &b2) == 0);
		CHECK(b2.len == n && (n == 0 || memcmp(b2.data, bin, n) == 0));
		buf_free(&b);
		buf_free(&b2);
	}
	/* Decode appends; an over-cap output is refused and rolled back. */
	buf_init(&b, 4);
	buf_puts(&b, "ab");
	CHECK(base64_decode("Zm9v", 4, &b) == -1);
	CHECK(b.len == 2 && strcmp(b.data, "ab") == 0);
	buf_free(&b);
	buf_init(&b, 0);
	buf_puts(&b, "x");
	CHECK(base64_decode("Zm9v", 4, &b) == 0);
	CHECK_STR(b.data, "xfoo");
	CHECK(base64_decode("Zm9", 3, &b) == -1);
	CHECK_STR(b.data, "xfoo");
	buf_free(&b);
}

static void
test_creds(void)
{
	struct sasl_creds c, d;
	struct buf b, b2;
	char s[1024];
	static const char *const bad[] = {
		"", " ", "sha1", "sha1:4096", "md5:4096:AAAA:AAAA:AAAA",
		"sha1:0:QSXCR+Q6sek8bf92:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"sha1:04096:QSXCR+Q6sek8bf92:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"sha1:99999999:QSXCR+Q6sek8bf92:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"sha1:4096:QSXCR+Q6sek8bf92:AAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"sha1:4096::AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"sha1:4096:QSXCR+Q6sek8bf92:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=:x",
		"sha1:4096:QSXCR+Q6sek8bf92:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA= ",
		"sha1:4096:QSXCR+Q6sek8bf92:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA= sha1:4096:QSXCR+Q6sek8bf92:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		/* 17-byte salt is too long */
		"sha1:4096:AAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"sha1:4096:QSXCR+Q6sek8bf9:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};
	size_t i;

	CHECK(sasl_creds_make("secret", 0, &c) == 0);
	CHECK(c.sha1.iterations == SASL_ITERATIONS_DEFAULT);
	CHECK(c.sha256.iterations == SASL_ITERATIONS_DEFAULT);
	CHECK(SASL_ITERATIONS_DEFAULT >= 4096);
	CHECK(c.sha1.salt_len == SASL_SALT_LEN);
	CHECK(memcmp(c.sha1.salt, c.sha256.salt, SASL_SALT_LEN) != 0);
	buf_init(&b, 0);
	sasl_creds_format(&c, &b);
	CHECK(!b.err && strncmp(b.data, "sha1:4096:", 10) == 0);
	CHECK(strstr(b.data, " sha256:4096:") != NULL);
	CHECK(sasl_creds_parse(b.data, &d) == 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	buf_init(&b2, 0);
	sasl_creds_format(&d, &b2);
	CHECK_STR(b2.data, b.data);
	buf_free(&b2);

	/* Fresh salts every time. */
	CHECK(sasl_creds_make("secret", 5000, &d) == 0);
	CHECK(d.sha256.iterations == 5000);
	CHECK(memcmp(c.sha256.salt, d.sha256.salt, SASL_SALT_LEN) != 0);
	CHECK(memcmp(c.sha256.stored_key, d.sha256.stored_key, 32) != 0);

	/* One hash alone, and a 12-byte salt, parse too. */
	snprintf(s, sizeof(s), "%s", strchr(b.data, ' ') + 1);
	CHECK(sasl_creds_parse(s, &d) == 0);
	CHECK(d.sha1.iterations == 0 && d.sha256.iterations == 4096);
	CHECK(memcmp(&d.sha256, &c.sha256, sizeof(c.sha256)) == 0);
	CHECK(sasl_creds_parse("sha1:4096:QSXCR+Q6sek8bf92:"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    &d) == 0);
	CHECK(d.sha1.salt_len == 12 && d.sha256.iterations == 0);
	buf_reset(&b);
	sasl_creds_format(&d, &b);
	CHECK_STR(b.data, "sha1:4096:QSXCR+Q6sek8bf92:"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	buf_free(&b);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sasl_creds_parse(bad[i], &d) != -1) {
			fprintf(stderr, "creds accepted: %s\n", bad[i]);
			CHECK(0);
		} else {
			CHECK(d.sha1.iterations == 0);
		}
	}
	CHECK(sasl_scram_keys_derive(SASL_SHA1, "x", c.sha1.salt, 0, 4096,
	    &d.sha1) == -1);
	CHECK(sasl_scram_keys_derive(SASL_SHA1, "x", c.sha1.salt, 17, 4096,
	    &d.sha1) == -1);
	CHECK(sasl_scram_keys_derive(SASL_SHA1, "x", c.sha1.salt, 16, 0,
	    &d.sha1) == -1);
	tls_zeroize(&c, sizeof(c));
}

/* RFC 5802 §5 and RFC 7677 §3 examples, both directions. */
static void
test_vector(enum sasl_hash h, const char *mech, const char *cnonce,
    const char *snonce, const char *salt_b64, const char *cfirst,
    const char *sfirst, const char *cfinal, const char *sfinal)
{
	struct sasl_server *s;
	struct sasl_client *c;
	struct buf co, so, salt;

	buf_init(&salt, 0);
	CHECK(base64_decode(salt_b64, strlen(salt_b64), &salt) == 0);
	memset(&creds_vector, 0, sizeof(creds_vector));
	CHECK(sasl_scram_keys_derive(h, "pencil",
	    (const unsigned char *)salt.data, salt.len, 4096,
	    h == SASL_SHA1 ? &creds_vector.sha1 : &creds_vector.sha256) == 0);
	buf_free(&salt);

	buf_init(&co, 0);
	buf_init(&so, 0);
	s = sasl_server_new(mech, 0, lookup_vector, NULL);
	c = sasl_client_new(mech, "user", "pencil");
	CHECK(s != NULL && c != NULL);
	sasl_server_set_nonce_for_test(s, snonce);
	sasl_client_set_nonce_for_test(c, cnonce);

	CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
	CHECK_STR(decb(&co), cfirst);
	CHECK(sstep(s, co.data, &so) == SASL_CONTINUE);
	CHECK_STR(decb(&so), sfirst);
	CHECK(cstep(c, so.data, &co) == SASL_CONTINUE);
	CHECK_STR(decb(&co), cfinal);
	CHECK(sstep(s, co.data, &so) == SASL_SUCCESS);
	CHECK_STR(decb(&so), sfinal);
	CHECK_STR(sasl_username(s), "user");
	CHECK(cstep(c, so.data, &co) == SASL_SUCCESS);
	CHECK(co.len == 0);
	/* An empty <success/> after the verified signature still succeeds. */
	CHECK(cstep(c, "", &co) == SASL_SUCCESS);
	/* A step after the end fails. */
	CHECK(sstep(s, co.len ? co.data : "", &so) == SASL_FAILURE);
	sasl_server_free(s);
	sasl_client_free(c);

	/* Client against the RFC's server messages, with a forged signature. */
	c = sasl_client_new(mech, "user", "pencil");
	sasl_client_set_nonce_for_test(c, cnonce);
	CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
	CHECK(cstep(c, encs(sfirst), &co) == SASL_CONTINUE);
	CHECK_STR(decb(&co), cfinal);
	CHECK(cstep(c, h == SASL_SHA1 ?
	    encs("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=") :
	    encs("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
	    &co) == SASL_FAILURE);
	CHECK(cstep(c, "", &co) == SASL_FAILURE);
	sasl_client_free(c);

	/* A client with the wrong password computes a different proof and
	 * the server refuses it. */
	s = sasl_server_new(mech, 0, lookup_vector, NULL);
	c = sasl_client_new(mech, "user", "pencil2");
	sasl_server_set_nonce_for_test(s, snonce);
	sasl_client_set_nonce_for_test(c, cnonce);
	CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
	CHECK(sstep(s, co.data, &so) == SASL_CONTINUE);
	CHECK(cstep(c, so.data, &co) == SASL_CONTINUE);
	CHECK(strcmp(decb(&co), cfinal) != 0);
	CHECK(sstep(s, co.data, &so) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "not-authorized");
	CHECK(sasl_username(s) == NULL);
	CHECK(so.len == 0);
	sasl_server_free(s);
	sasl_client_free(c);
	buf_free(&co);
	buf_free(&so);
}

static void
test_roundtrips(void)
{
	static const char *const mechs[] = {
		"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"
	};
	const char *cond, *user;
	enum sasl_result cr;
	size_t i;

	for (i = 0; i < 3; i++) {
		CHECK(run(mechs[i], "juliet", "secret", NULL, &cond, &user,
		    &cr) == SASL_SUCCESS);
		CHECK_STR(user, "juliet");
		CHECK(cr == SASL_SUCCESS);

		/* Username is normalized as a localpart. */
		CHECK(run(mechs[i], "JuLiet", "secret", NULL, &cond, &user,
		    &cr) == SASL_SUCCESS);
		CHECK_STR(user, "juliet");
		CHECK_STR(last_lookup, "juliet");

		CHECK(run(mechs[i], "juliet", "Secret", NULL, &cond, &user,
		    &cr) == SASL_FAILURE);
		CHECK_STR(cond, "not-authorized");
		CHECK(user == NULL && cr != SASL_SUCCESS);

		CHECK(run(mechs[i], "romeo", "secret", NULL, &cond, &user,
		    &cr) == SASL_FAILURE);
		CHECK_STR(cond, "not-authorized");

		/* Not a valid localpart: treated as unknown. */
		CHECK(run(mechs[i], "ro meo", "secret", NULL, &cond, &user,
		    &cr) == SASL_FAILURE);
		CHECK_STR(cond, "not-authorized");

		CHECK(run(mechs[i], "broken", "secret", NULL, &cond, &user,
		    &cr) == SASL_FAILURE);
		CHECK_STR(cond, "temporary-auth-failure");

		/* ',' and '=' need saslname escaping in SCRAM. */
		CHECK(run(mechs[i], "a,b=c", "pw", NULL, &cond, &user,
		    &cr) == SASL_SUCCESS);
		CHECK_STR(user, "a,b=c");
	}
}

static void
test_mechanisms(void)
{
	const char *const *m;
	int n, plain, plus;

	for (n = plain = plus = 0, m = sasl_mechanisms(1); *m; m++, n++) {
		plain += strcmp(*m, "PLAIN") == 0;
		plus += strstr(*m, "PLUS") != NULL;
	}
	CHECK(n == 3 && plain == 1 && plus == 0);
	CHECK_STR(sasl_mechanisms(1)[0], "SCRAM-SHA-256");
	for (n = plain = 0, m = sasl_mechanisms(0); *m; m++, n++) {
		plain += strcmp(*m, "PLAIN") == 0;
	}
	CHECK(n == 2 && plain == 0);
	CHECK(sasl_mechanisms_cb(1, 0) == sasl_mechanisms(1));
	CHECK_STR(sasl_mechanisms_cb(0, 1)[0], "SCRAM-SHA-256-PLUS");
	CHECK_STR(sasl_mechanisms_cb(1, 1)[4], "PLAIN");
	CHECK(sasl_mechanisms_cb(0, 1)[4] == NULL);
	CHECK(sasl_server_new("PLAIN", 0, lookup, NULL) == NULL);
	CHECK(sasl_server_new("DIGEST-MD5", 1, lookup, NULL) == NULL);
	CHECK(sasl_server_new("scram-sha-1", 1, lookup, NULL) == NULL);
	CHECK(sasl_server_new("", 1, lookup, NULL) == NULL);
	CHECK(sasl_server_new("SCRAM-SHA-1-PLUS", 1, lookup, NULL) == NULL);
	CHECK(sasl_server_new("SCRAM-SHA-256-PLUS", 1, lookup, NULL) == NULL);
	CHECK(sasl_client_new("X-FOO", "a", "b") == NULL);
	CHECK(sasl_client_new("SCRAM-SHA-1-PLUS", "a", "b") == NULL);
}

static void
expect_plain(const char *msg, size_t len, const char *domain,
    const char *want_cond, const char *want_user)
{
	struct sasl_server *s = sasl_server_new("PLAIN", 1, lookup, NULL);
	struct buf out;
	enum sasl_result r;

	buf_init(&out, 0);
	if (domain != NULL) {
		sasl_server_set_domain(s, domain);
	}
	r = sstep(s, enc(msg, len), &out);
	if (want_cond == NULL) {
		CHECK(r == SASL_SUCCESS);
		CHECK_STR(sasl_username(s), want_user);
		CHECK(out.len == 0);
	} else {
		CHECK(r == SASL_FAILURE);
		CHECK_STR(sasl_condition(s), want_cond);
		CHECK(sasl_username(s) == NULL);
	}
	sasl_server_free(s);
	buf_free(&out);
}

#define PL(lit) lit, sizeof(lit) - 1

static void
test_plain(void)
{
	struct sasl_server *s;
	struct sasl_client *c;
	struct buf out;

	expect_plain(PL("\0juliet\0secret"), NULL, NULL, "juliet");
	expect_plain(PL("\0Juliet\0secret"), NULL, NULL, "juliet");
	expect_plain(PL("\0juliet\0secreT"), NULL, "not-authorized", NULL);
	expect_plain(PL("\0juliet\0secret "), NULL, "not-authorized", NULL);
	expect_plain(PL("\0nobody\0secret"), NULL, "not-authorized", NULL);
	expect_plain(PL("\0broken\0secret"), NULL, "temporary-auth-failure",
	    NULL);
	expect_plain(PL("julietsecret"), NULL, "malformed-request", NULL);
	expect_plain(PL("\0julietsecret"), NULL, "malformed-request", NULL);
	expect_plain(PL("\0\0secret"), NULL, "malformed-request", NULL);
	expect_plain(PL("\0juliet\0"), NULL, "malformed-request", NULL);
	expect_plain(PL("\0juliet\0sec\0ret"), NULL, "malformed-request",
	    NULL);
	expect_plain(PL("\0jul\xffiet\0secret"), NULL, "malformed-request",
	    NULL);
	expect_plain(PL("\0juliet\0secret\xc3"), NULL, "malformed-request",
	    NULL);
	/* authzid: the user's own bare JID only. */
	expect_plain(PL("juliet@localhost\0juliet\0secret"), "localhost", NULL,
	    "juliet");
	expect_plain(PL("Juliet@LocalHost.\0juliet\0secret"), "localhost",
	    NULL, "juliet");
	expect_plain(PL("romeo@localhost\0juliet\0secret"), "localhost",
	    "invalid-authzid", NULL);
	expect_plain(PL("juliet@example.org\0juliet\0secret"), "localhost",
	    "invalid-authzid", NULL);
	expect_plain(PL("juliet@localhost/res\0juliet\0secret"), "localhost",
	    "invalid-authzid", NULL);
	expect_plain(PL("localhost\0juliet\0secret"), "localhost",
	    "invalid-authzid", NULL);
	expect_plain(PL("@@@\0juliet\0secret"), "localhost",
	    "invalid-authzid", NULL);
	expect_plain(PL("juliet@localhost\0juliet\0secret"), NULL,
	    "invalid-authzid", NULL);
	/* Bad credentials win over a bad authzid (no information leak). */
	expect_plain(PL("romeo@localhost\0juliet\0wrong"), "localhost",
	    "not-authorized", NULL);

	buf_init(&out, 0);
	/* No initial response: empty challenge, then the response. */
	s = sasl_server_new("PLAIN", 1, lookup, NULL);
	CHECK(sstep(s, "", &out) == SASL_CONTINUE);
	CHECK(out.len == 0);
	CHECK(sstep(s, enc(PL("\0juliet\0secret")), &out) == SASL_SUCCESS);
	sasl_server_free(s);
	/* "=" is an empty response: malformed for PLAIN. */
	s = sasl_server_new("PLAIN", 1, lookup, NULL);
	CHECK(sstep(s, "=", &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "malformed-request");
	sasl_server_free(s);
	s = sasl_server_new("PLAIN", 1, lookup, NULL);
	CHECK(sstep(s, "AGp1bGlldABzZWNyZXQ", &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "malformed-request");
	sasl_server_free(s);
	s = sasl_server_new("PLAIN", 1, lookup, NULL);
	CHECK(sstep(s, "AGp1bGlldABzZWNyZXQ= ", &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "malformed-request");
	sasl_server_free(s);

	/* Client PLAIN: exact message; success takes no data. */
	c = sasl_client_new("PLAIN", "juliet", "secret");
	CHECK(cstep(c, NULL, &out) == SASL_CONTINUE);
	CHECK_STR(out.data, enc(PL("\0juliet\0secret")));
	CHECK(cstep(c, "=", &out) == SASL_SUCCESS);
	sasl_client_free(c);
	c = sasl_client_new("PLAIN", "juliet", "secret");
	CHECK(cstep(c, NULL, &out) == SASL_CONTINUE);
	CHECK(cstep(c, encs("junk"), &out) == SASL_FAILURE);
	sasl_client_free(c);
	buf_free(&out);
}

/* A SCRAM first message and the expected failure condition. */
static void
expect_scram_first(const char *mech, const char *cf, size_t len,
    const char *want_cond)
{
	struct sasl_server *s = sasl_server_new(mech, 0, lookup, NULL);
	struct buf out;
	enum sasl_result r;

	buf_init(&out, 0);
	r = sstep(s, enc(cf, len), &out);
	if (want_cond == NULL) {
		CHECK(r == SASL_CONTINUE);
	} else {
		CHECK(r == SASL_FAILURE);
		CHECK_STR(sasl_condition(s), want_cond);
		if (r != SASL_FAILURE || strcmp(sasl_condition(s),
		    want_cond) != 0) {
			fprintf(stderr, "  for client-first: %s\n", cf);
		}
	}
	sasl_server_free(s);
	buf_free(&out);
}

static void
test_scram_first_malformed(void)
{
	static const char *const bad[] = {
		"x,,n=juliet,r=abc", "n,n=juliet,r=abc", "n,,r=abc",
		"n,,n=juliet", "n,,n=,r=abc", "n,,n=jul=2Xiet,r=abc",
		"n,,n=jul=2ciet,r=abc", "n,,n=juliet=,r=abc",
		"n,,m=foo,n=juliet,r=abc", "n,,n=juliet,r=ab,c",
		"n,,n=juliet,r=abc,", "n,,n=juliet,r=", "n,,r=abc,n=juliet",
		"n,,n=juliet,r=a\177c", "n,,n=juliet,r=a c",
		"p=tls-unique,,n=juliet,r=abc", "p=,,n=juliet,r=abc",
		"p=tls unique,,n=juliet,r=abc", "p=tls-unique",
		"n,a=,n=juliet,r=abc", "n,a=juliet,n=juliet,r=abc,",
		"n,b=x,n=juliet,r=abc", "n", "n,", "n,,", "y", "y,,n",
		"n,,n=jul\xc3iet,r=abc", "N,,n=juliet,r=abc",
		"n,,n=juliet,r=abc,1=x", "n,,n=juliet,r=abc,xx=1",
		"n,a=x,", "n,a", ",,n=juliet,r=abc",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_scram_first("SCRAM-SHA-1", bad[i], strlen(bad[i]),
		    "malformed-request");
	}
	expect_scram_first("SCRAM-SHA-256", "n,,n=juliet\0,r=abc", 18,
	    "malformed-request");
	expect_scram_first("SCRAM-SHA-256", "n,,n=broken,r=abc", 17,
	    "temporary-auth-failure");
	/* Accepted forms: 'y' without offered binding, authzid, escapes,
	 * extensions after the nonce, an unknown user (fake salt). */
	expect_scram_first("SCRAM-SHA-256", "y,,n=juliet,r=abc", 17, NULL);
	expect_scram_first("SCRAM-SHA-256", "n,a=x=2Cy,n=juliet,r=abc", 24,
	    NULL);
	expect_scram_first("SCRAM-SHA-256", "n,,n=juliet,r=abc,x=1,y=2", 25,
	    NULL);
	expect_scram_first("SCRAM-SHA-256", "n,,n=nobody,r=abc", 17, NULL);
}

static void
test_scram_steps(void)
{
	struct sasl_server *s;
	struct buf out;
	enum sasl_result r;
	char sf[256], n1[128], n2[128], n3[128];
	unsigned char salt[64];
	size_t salt_len;
	unsigned iter;

	buf_init(&out, 0);

	/* Whole-message bad base64 and an empty first message. */
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(sstep(s, "bixuPWp1bGlldCxyPWFiYw", &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "malformed-request");
	sasl_server_free(s);
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(sstep(s, "=", &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "malformed-request");
	sasl_server_free(s);
	/* No initial response: empty challenge first. */
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(sstep(s, "", &out) == SASL_CONTINUE);
	CHECK(out.len == 0);
	CHECK(manual_scram(s, SASL_SHA1, "n,,", "juliet", "secret", NULL,
	    NULL, NULL, NULL, &out) == SASL_SUCCESS);
	sasl_server_free(s);

	/* Server first message for a real user. */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(sstep(s, encs("n,,n=juliet,r=abc"), &out) == SASL_CONTINUE);
	snprintf(sf, sizeof(sf), "%s", decb(&out));
	CHECK(parse_server_first(sf, n1, sizeof(n1), salt, &salt_len,
	    &iter) == 0);
	CHECK(strncmp(n1, "abc", 3) == 0 && strlen(n1) >= 3 + 24);
	CHECK(salt_len == SASL_SALT_LEN);
	CHECK(memcmp(salt, creds_juliet.sha256.salt, SASL_SALT_LEN) == 0);
	CHECK(iter == 4096);
	/* The final step with bad base64 fails malformed. */
	CHECK(sstep(s, "!!!!", &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "malformed-request");
	sasl_server_free(s);

	/* Unknown users get a stable salt that differs per user and hash,
	 * and nonces are fresh. */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(sstep(s, encs("n,,n=nobody,r=abc"), &out) == SASL_CONTINUE);
	snprintf(sf, sizeof(sf), "%s", decb(&out));
	sasl_server_free(s);
	CHECK(parse_server_first(sf, n2, sizeof(n2), salt, &salt_len,
	    &iter) == 0);
	CHECK(salt_len == SASL_SALT_LEN && iter == 4096);
	CHECK(strcmp(n1, n2) != 0);
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(sstep(s, encs("n,,n=nobody,r=abc"), &out) == SASL_CONTINUE);
	CHECK(parse_server_first(decb(&out), n3, sizeof(n3), salt + 16,
	    &salt_len, &iter) == 0);
	CHECK(memcmp(salt, salt + 16, 16) == 0);
	CHECK(strcmp(n2, n3) != 0);
	sasl_server_free(s);
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(sstep(s, encs("n,,n=nobody2,r=abc"), &out) == SASL_CONTINUE);
	CHECK(parse_server_first(decb(&out), n3, sizeof(n3), salt + 16,
	    &salt_len, &iter) == 0);
	CHECK(memcmp(salt, salt + 16, 16) != 0);
	sasl_server_free(s);
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(sstep(s, encs("n,,n=nobody,r=abc"), &out) == SASL_CONTINUE);
	CHECK(parse_server_first(decb(&out), n3, sizeof(n3), salt + 16,
	    &salt_len, &iter) == 0);
	CHECK(memcmp(salt, salt + 16, 16) != 0);
	sasl_server_free(s);
	/* The announced count for unknown users follows the setting. */
	sasl_set_fake_iterations(10000);
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(sstep(s, encs("n,,n=nobody,r=abc"), &out) == SASL_CONTINUE);
	CHECK(strstr(decb(&out), ",i=10000") != NULL);
	sasl_server_free(s);
	sasl_set_fake_iterations(0);
	/* ...and even the right "password" for a fake salt fails. */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA256, "n,,", "nobody", "", NULL, NULL,
	    NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "not-authorized");
	sasl_server_free(s);

	/* Hand-built finals. */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA256, "n,,", "juliet", "secret", NULL,
	    NULL, NULL, NULL, &out) == SASL_SUCCESS);
	CHECK(strncmp(decb(&out), "v=", 2) == 0);
	sasl_server_free(s);
	/* extensions in both messages */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA256, "n,,", "juliet", "secret",
	    ",x=first", NULL, NULL, ",y=final", &out) == SASL_SUCCESS);
	sasl_server_free(s);
	/* wrong nonce */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA256, "n,,", "juliet", "secret", NULL,
	    NULL, "clientnonceXXXX", NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "not-authorized");
	sasl_server_free(s);
	/* channel binding data that is not our gs2 header */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA256, "n,,", "juliet", "secret", NULL,
	    encs("y,,"), NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "not-authorized");
	sasl_server_free(s);
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA256, "n,,", "juliet", "secret", NULL,
	    "biws=", NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "malformed-request");
	sasl_server_free(s);
	/* 'y' flag, correctly echoed */
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA1, "y,,", "juliet", "secret", NULL,
	    NULL, NULL, NULL, &out) == SASL_SUCCESS);
	sasl_server_free(s);
	/* a proof for another password */
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA1, "n,,", "juliet", "secreT", NULL,
	    NULL, NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "not-authorized");
	CHECK(out.len == 0);
	sasl_server_free(s);

	/* Structural errors in client-final. */
	{
		static const char *const finals[][2] = {
			{ "c=biws,r=%s", "malformed-request" },
			{ "r=%s,c=biws,p=AAAA", "malformed-request" },
			{ "c=biws,p=AAAA", "malformed-request" },
			{ "c=biws,r=%s,p=!!!!", "malformed-request" },
			{ "c=biws,r=%s,p=AAAA", "malformed-request" },
			{ "c=biws,r=%s,p=", "malformed-request" },
			{ "c=biws,r=%s,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=,x=1",
			    "malformed-request" },
			{ "c=biws,r=%s,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=,",
			    "malformed-request" },
			{ "c=biws,r=%s,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			    "not-authorized" },
			{ "c=biws,r=%s,x=1,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			    "not-authorized" },
			{ "c=eSws,r=%s,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			    "not-authorized" },
			{ "c=biws,r=abc,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			    "not-authorized" },
			{ "", "malformed-request" },
		};
		char fin[512];
		size_t i;

		for (i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
			s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
			sasl_server_set_nonce_for_test(s, "SRV");
			CHECK(sstep(s, encs("n,,n=juliet,r=abc"), &out) ==
			    SASL_CONTINUE);
			subst(fin, sizeof(fin), finals[i][0], "abcSRV");
			r = sstep(s, fin[0] ? encs(fin) : "=", &out);
			CHECK(r == SASL_FAILURE);
			CHECK_STR(sasl_condition(s), finals[i][1]);
			sasl_server_free(s);
		}
	}
	buf_free(&out);
}

static void
test_authzid(void)
{
	struct sasl_server *s;
	struct buf out;

	buf_init(&out, 0);
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	sasl_server_set_domain(s, "localhost");
	CHECK(manual_scram(s, SASL_SHA256, "n,a=juliet@localhost,", "juliet",
	    "secret", NULL, NULL, NULL, NULL, &out) == SASL_SUCCESS);
	CHECK_STR(sasl_username(s), "juliet");
	sasl_server_free(s);
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	sasl_server_set_domain(s, "LOCALHOST");
	CHECK(manual_scram(s, SASL_SHA256, "n,a=JULIET@localhost,", "Juliet",
	    "secret", NULL, NULL, NULL, NULL, &out) == SASL_SUCCESS);
	sasl_server_free(s);
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	sasl_server_set_domain(s, "localhost");
	CHECK(manual_scram(s, SASL_SHA256, "n,a=romeo@localhost,", "juliet",
	    "secret", NULL, NULL, NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "invalid-authzid");
	CHECK(sasl_username(s) == NULL);
	sasl_server_free(s);
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	sasl_server_set_domain(s, "localhost");
	CHECK(manual_scram(s, SASL_SHA1, "n,a=juliet@localhost/r,", "juliet",
	    "secret", NULL, NULL, NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "invalid-authzid");
	sasl_server_free(s);
	/* Without a domain no authzid can be checked. */
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	CHECK(manual_scram(s, SASL_SHA1, "n,a=juliet@localhost,", "juliet",
	    "secret", NULL, NULL, NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "invalid-authzid");
	sasl_server_free(s);
	/* Wrong password with a bad authzid: not-authorized. */
	s = sasl_server_new("SCRAM-SHA-1", 0, lookup, NULL);
	sasl_server_set_domain(s, "localhost");
	CHECK(manual_scram(s, SASL_SHA1, "n,a=romeo@localhost,", "juliet",
	    "x", NULL, NULL, NULL, NULL, &out) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "not-authorized");
	sasl_server_free(s);
	buf_free(&out);
}

static void
test_client_errors(void)
{
	static const char *const firsts[] = {
		"e=other-error", "r=xyzSRV,s=QSXCR+Q6sek8bf92,i=4096",
		"r=abc,s=QSXCR+Q6sek8bf92,i=4096",
		"r=abcSRV,s=,i=4096", "r=abcSRV,s=QSXCR+Q6sek8bf9,i=4096",
		"r=abcSRV,s=QSXCR+Q6sek8bf92,i=0",
		"r=abcSRV,s=QSXCR+Q6sek8bf92,i=-1",
		"r=abcSRV,s=QSXCR+Q6sek8bf92,i=99999999",
		"r=abcSRV,s=QSXCR+Q6sek8bf92", "m=x,r=abcSRV,s=QSXCR+Q6sek8bf92,i=1",
		"r=abcSRV,i=4096,s=QSXCR+Q6sek8bf92",
		"r=abcSRV,s=QSXCR+Q6sek8bf92,i=4096,",
		"",
	};
	struct sasl_client *c;
	struct buf out;
	size_t i;

	buf_init(&out, 0);
	for (i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		c = sasl_client_new("SCRAM-SHA-1", "user", "pencil");
		sasl_client_set_nonce_for_test(c, "abc");
		CHECK(cstep(c, NULL, &out) == SASL_CONTINUE);
		CHECK(cstep(c, firsts[i][0] ? encs(firsts[i]) : "=", &out) ==
		    SASL_FAILURE);
		CHECK(cstep(c, "", &out) == SASL_FAILURE);
		sasl_client_free(c);
	}
	/* Server error in the final message, extensions after v=. */
	c = sasl_client_new("SCRAM-SHA-1", "user", "pencil");
	sasl_client_set_nonce_for_test(c, "fyko+d2lbbFgONRv9qkxdawL");
	CHECK(cstep(c, NULL, &out) == SASL_CONTINUE);
	CHECK(cstep(c, encs("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096"), &out) == SASL_CONTINUE);
	CHECK(cstep(c, encs("e=invalid-proof"), &out) == SASL_FAILURE);
	sasl_client_free(c);
	c = sasl_client_new("SCRAM-SHA-1", "user", "pencil");
	sasl_client_set_nonce_for_test(c, "fyko+d2lbbFgONRv9qkxdawL");
	CHECK(cstep(c, NULL, &out) == SASL_CONTINUE);
	CHECK(cstep(c, encs("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096"), &out) == SASL_CONTINUE);
	CHECK(cstep(c, encs("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=,z=1"), &out) ==
	    SASL_SUCCESS);
	sasl_client_free(c);
	/* An extension in server-first is part of the AuthMessage: accepted,
	 * and the RFC signature (made without it) then no longer verifies. */
	c = sasl_client_new("SCRAM-SHA-1", "user", "pencil");
	sasl_client_set_nonce_for_test(c, "fyko+d2lbbFgONRv9qkxdawL");
	CHECK(cstep(c, NULL, &out) == SASL_CONTINUE);
	CHECK(cstep(c, encs("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096,x=ext"), &out) == SASL_CONTINUE);
	CHECK(cstep(c, encs("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="), &out) ==
	    SASL_FAILURE);
	sasl_client_free(c);
	/* A non-empty "challenge" before the initial response. */
	c = sasl_client_new("SCRAM-SHA-1", "user", "pencil");
	CHECK(cstep(c, encs("hello"), &out) == SASL_FAILURE);
	sasl_client_free(c);
	/* Client saslname escaping. */
	c = sasl_client_new("SCRAM-SHA-1", "a,b=c", "pw");
	sasl_client_set_nonce_for_test(c, "N");
	CHECK(cstep(c, NULL, &out) == SASL_CONTINUE);
	CHECK_STR(decb(&out), "n,,n=a=2Cb=3Dc,r=N");
	sasl_client_free(c);
	buf_free(&out);
}

static void
test_plus(void)
{
	static const unsigned char cbd[] = { 1, 2, 3, 0, 250 };
	static const unsigned char cbd2[] = { 1, 2, 3, 0, 251 };
	struct sasl_cb cb = { "tls-exporter", cbd, sizeof(cbd) };
	struct sasl_cb cb2 = { "tls-exporter", cbd2, sizeof(cbd2) };
	struct sasl_cb cbu = { "tls-unique", cbd, sizeof(cbd) };
	const char *mechs[] = { "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS" };
	struct sasl_server *s;
	struct sasl_client *c;
	struct buf co, so;
	size_t i;

	buf_init(&co, 0);
	buf_init(&so, 0);
	for (i = 0; i < 2; i++) {
		s = sasl_server_new_cb(mechs[i], 0, &cb, lookup, NULL);
		c = sasl_client_new_cb(mechs[i], "juliet", "secret", &cb);
		CHECK(s != NULL && c != NULL);
		CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
		CHECK(strncmp(decb(&co), "p=tls-exporter,,n=juliet,", 25) == 0);
		CHECK(sstep(s, co.data, &so) == SASL_CONTINUE);
		CHECK(cstep(c, so.data, &co) == SASL_CONTINUE);
		CHECK(sstep(s, co.data, &so) == SASL_SUCCESS);
		CHECK(cstep(c, so.data, &co) == SASL_SUCCESS);
		sasl_server_free(s);
		sasl_client_free(c);

		/* Different binding data (a MITM's TLS session). */
		s = sasl_server_new_cb(mechs[i], 0, &cb, lookup, NULL);
		c = sasl_client_new_cb(mechs[i], "juliet", "secret", &cb2);
		CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
		CHECK(sstep(s, co.data, &so) == SASL_CONTINUE);
		CHECK(cstep(c, so.data, &co) == SASL_CONTINUE);
		CHECK(sstep(s, co.data, &so) == SASL_FAILURE);
		CHECK_STR(sasl_condition(s), "not-authorized");
		sasl_server_free(s);
		sasl_client_free(c);

		/* Other binding type. */
		s = sasl_server_new_cb(mechs[i], 0, &cb, lookup, NULL);
		c = sasl_client_new_cb(mechs[i], "juliet", "secret", &cbu);
		CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
		CHECK(sstep(s, co.data, &so) == SASL_FAILURE);
		CHECK_STR(sasl_condition(s), "not-authorized");
		sasl_server_free(s);
		sasl_client_free(c);

		/* -PLUS with flag 'n'. */
		s = sasl_server_new_cb(mechs[i], 0, &cb, lookup, NULL);
		CHECK(sstep(s, encs("n,,n=juliet,r=abc"), &so) ==
		    SASL_FAILURE);
		CHECK_STR(sasl_condition(s), "malformed-request");
		sasl_server_free(s);
	}
	/* Server offered binding, client says 'y': downgrade. */
	s = sasl_server_new_cb("SCRAM-SHA-256", 0, &cb, lookup, NULL);
	c = sasl_client_new_cb("SCRAM-SHA-256", "juliet", "secret", &cb);
	CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
	CHECK(strncmp(decb(&co), "y,,", 3) == 0);
	CHECK(sstep(s, co.data, &so) == SASL_FAILURE);
	CHECK_STR(sasl_condition(s), "not-authorized");
	sasl_server_free(s);
	sasl_client_free(c);
	/* Without binding on the server, 'y' is fine. */
	s = sasl_server_new("SCRAM-SHA-256", 0, lookup, NULL);
	c = sasl_client_new_cb("SCRAM-SHA-256", "juliet", "secret", &cb);
	CHECK(cstep(c, NULL, &co) == SASL_CONTINUE);
	CHECK(sstep(s, co.data, &so) == SASL_CONTINUE);
	CHECK(cstep(c, so.data, &co) == SASL_CONTINUE);
	CHECK(sstep(s, co.data, &so) == SASL_SUCCESS);
	CHECK(cstep(c, so.data, &co) == SASL_SUCCESS);
	sasl_server_free(s);
	sasl_client_free(c);
	buf_free(&co);
	buf_free(&so);
}

static void
test_crypto(void)
{
	unsigned char out[32], a[64], b[64];
	static const unsigned char sha1_abc[] = {
		0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
		0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d,
	};
	/* RFC 6070 PBKDF2-HMAC-SHA1 "password"/"salt", c=4096, dkLen 20 */
	static const unsigned char pbkdf2_4096[] = {
		0x4b, 0x00, 0x79, 0x01, 0xb7, 0x65, 0x48, 0x9a, 0xbe, 0xad,
		0x49, 0xd9, 0x26, 0xf7, 0x21, 0xd0, 0x65, 0xa4, 0x29, 0xc1,
	};

	CHECK(tls_md_len(TLS_MD_SHA1) == 20 && tls_md_len(TLS_MD_SHA256) == 32);
	CHECK(tls_hash(TLS_MD_SHA1, "abc", 3, out) == 0);
	CHECK(memcmp(out, sha1_abc, 20) == 0);
	CHECK(tls_pbkdf2(TLS_MD_SHA1, "password", 8,
	    (const unsigned char *)"salt", 4, 4096, out, 20) == 0);
	CHECK(memcmp(out, pbkdf2_4096, 20) == 0);
	CHECK(tls_pbkdf2(TLS_MD_SHA1, "password", 8,
	    (const unsigned char *)"salt", 4, 0, out, 20) == -1);
	CHECK(tls_random(a, sizeof(a)) == 0 && tls_random(b, sizeof(b)) == 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(tls_memcmp_ct(a, a, sizeof(a)) == 0);
	memcpy(b, a, sizeof(a));
	b[63] ^= 1;
	CHECK(tls_memcmp_ct(a, b, sizeof(a)) != 0);
	tls_zeroize(a, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) == 0);
}

int
main(void)
{
	CHECK(sasl_creds_make("secret", 4096, &creds_juliet) == 0);
	CHECK(sasl_creds_make("pw", 4096, &creds_comma) == 0);

	test_crypto();
	test_b64();
	test_creds();
	test_vector(SASL_SHA1, "SCRAM-SHA-1", "fyko+d2lbbFgONRv9qkxdawL",
	    "3rfcNHYJY1ZVvWVs7j", "QSXCR+Q6sek8bf92",
	    "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096",
	    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	test_vector(SASL_SHA256, "SCRAM-SHA-256", "rOprNGfwEbeRWgbNEkqO",
	    "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", "W22ZaJ0SNY7soEsUEjb6gQ==",
	    "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	test_mechanisms();
	test_roundtrips();
	test_plain();
	test_scram_first_malformed();
	test_scram_steps();
	test_authzid();
	test_client_errors();
	test_plus();
	return check_summary("sasl");
}
