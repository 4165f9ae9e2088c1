/*
 * tls.c - the only file that includes mbedTLS headers.
 *
 * Section 1: crypto wrappers for SASL (hash, HMAC, PBKDF2, random bytes,
 * zeroize, constant-time compare).
 * Section 2: TLS sessions (certificates, handshakes, records, channel
 * binding).
 *
 * Builds against mbedTLS 2.28 (Debian 12) and 3.x (checked with 3.6.6);
 * every version difference is guarded here, with MBEDTLS_VERSION_NUMBER
 * or the feature's own config macro.
 */
#include "tls.h"

#include <stdint.h>
#include <string.h>

#include <mbedtls/version.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

/* ==================================================================== */
/* Section 1: crypto wrappers                                            */
/* ==================================================================== */

/* The DRBG is seeded once, on first use, and lives for the process. */
static mbedtls_entropy_context	tls_entropy;
static mbedtls_ctr_drbg_context	tls_drbg;
static int			tls_drbg_ready;

/*
 * mbedTLS 3.x may route hashes through PSA; psa_crypto_init() must have
 * run first.  2.28 needs nothing.  0, or -1.
 */
static int
tls_crypto_init(void)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
	static int done;

	if (!done) {
		if (psa_crypto_init() != PSA_SUCCESS) {
			return -1;
		}
		done = 1;
	}
#endif
	return 0;
}

static const mbedtls_md_info_t *
tls_md_info(enum tls_md md)
{
	if (tls_crypto_init() != 0) {
		return NULL;
	}
	switch (md) {
	case TLS_MD_SHA1:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
	case TLS_MD_SHA256:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	}
	return NULL;
}

/*
 * Digest length in bytes: 20 for SHA-1, 32 for SHA-256, 0 for an unknown
 * value.
 */
size_t
tls_md_len(enum tls_md md)
{
	switch (md) {
	case TLS_MD_SHA1:
		return 20;
	case TLS_MD_SHA256:
		return 32;
	}
	return 0;
}

/*
 * out receives tls_md_len(md) bytes of H(data).  0, or -1 when the hash
 * is unavailable.
 */
int
tls_hash(enum tls_md md, const void *data, size_t len, unsigned char *out)
{
	const mbedtls_md_info_t *info = tls_md_info(md);

	if (info == NULL) {
		return -1;
	}
	return mbedtls_md(info, data, len, out) == 0 ? 0 : -1;
}

/*
 * out receives tls_md_len(md) bytes of HMAC(key, data).  0, or -1.
 */
int
tls_hmac(enum tls_md md, const void *key, size_t key_len, const void *data,
    size_t len, unsigned char *out)
{
	const mbedtls_md_info_t *info = tls_md_info(md);

	if (info == NULL) {
		return -1;
	}
	return mbedtls_md_hmac(info, key, key_len, data, len, out) == 0 ?
	    0 : -1;
}

/* Both supported hashes work on 64-byte blocks (FIPS 180-4). */
#define TLS_MD_BLOCK	64

/*
 * PBKDF2-HMAC (RFC 8018 §5.2) of pw with salt; out_len bytes into out.
 * 0, or -1 (iterations 0, out_len 0, hash unavailable).
 *
 * Written over the generic md API rather than mbedtls_pkcs5_pbkdf2_hmac
 * (2.28) / _ext (3.x): those re-key the HMAC on every iteration (four
 * compressions), while cloning the keyed inner and outer states costs two,
 * which halves login time for PLAIN and the SCRAM client.
 */
int
tls_pbkdf2(enum tls_md md, const void *pw, size_t pw_len,
    const unsigned char *salt, size_t salt_len, unsigned iterations,
    unsigned char *out, size_t out_len)
{
	const mbedtls_md_info_t *info = tls_md_info(md);
	mbedtls_md_context_t inner, outer, work;
	unsigned char key[TLS_MD_BLOCK], pad[TLS_MD_BLOCK];
	unsigned char u[MBEDTLS_MD_MAX_SIZE], t[MBEDTLS_MD_MAX_SIZE];
	unsigned char cnt[4];
	size_t hl, n, i;
	uint32_t block;
	unsigned it;
	int rc = -1;

	if (info == NULL || iterations == 0 || out_len == 0) {
		return -1;
	}
	hl = mbedtls_md_get_size(info);
	mbedtls_md_init(&inner);
	mbedtls_md_init(&outer);
	mbedtls_md_init(&work);
	memset(key, 0, sizeof(key));
	if (mbedtls_md_setup(&inner, info, 0) != 0 ||
	    mbedtls_md_setup(&outer, info, 0) != 0 ||
	    mbedtls_md_setup(&work, info, 0) != 0) {
		goto out;
	}
	/* HMAC key: the password, hashed first when longer than a block. */
	if (pw_len > TLS_MD_BLOCK) {
		if (mbedtls_md(info, pw, pw_len, key) != 0) {
			goto out;
		}
	} else if (pw_len > 0) {
		memcpy(key, pw, pw_len);
	}
	for (i = 0; i < TLS_MD_BLOCK; i++) {
		pad[i] = key[i] ^ 0x36;
	}
	if (mbedtls_md_starts(&inner) != 0 ||
	    mbedtls_md_update(&inner, pad, TLS_MD_BLOCK) != 0) {
		goto out;
	}
	for (i = 0; i < TLS_MD_BLOCK; i++) {
		pad[i] = key[i] ^ 0x5c;
	}
	if (mbedtls_md_starts(&outer) != 0 ||
	    mbedtls_md_update(&outer, pad, TLS_MD_BLOCK) != 0) {
		goto out;
	}
	for (block = 1; out_len > 0; block++) {
		cnt[0] = (unsigned char)(block >> 24);
		cnt[1] = (unsigned char)(block >> 16);
		cnt[2] = (unsigned char)(block >> 8);
		cnt[3] = (unsigned char)block;
		/* U1 = PRF(P, S || INT(i)); Uj = PRF(P, Uj-1); T = xor of all */
		if (mbedtls_md_clone(&work, &inner) != 0 ||
		    mbedtls_md_update(&work, salt, salt_len) != 0 ||
		    mbedtls_md_update(&work, cnt, 4) != 0 ||
		    mbedtls_md_finish(&work, u) != 0 ||
		    mbedtls_md_clone(&work, &outer) != 0 ||
		    mbedtls_md_update(&work, u, hl) != 0 ||
		    mbedtls_md_finish(&work, u) != 0) {
			goto out;
		}
		memcpy(t, u, hl);
		for (it = 1; it < iterations; it++) {
			if (mbedtls_md_clone(&work, &inner) != 0 ||
			    mbedtls_md_update(&work, u, hl) != 0 ||
			    mbedtls_md_finish(&work, u) != 0 ||
			    mbedtls_md_clone(&work, &outer) != 0 ||
			    mbedtls_md_update(&work, u, hl) != 0 ||
			    mbedtls_md_finish(&work, u) != 0) {
				goto out;
			}
			for (i = 0; i < hl; i++) {
				t[i] ^= u[i];
			}
		}
		n = out_len < hl ? out_len : hl;
		memcpy(out, t, n);
		out += n;
		out_len -= n;
	}
	rc = 0;
out:
	mbedtls_md_free(&inner);
	mbedtls_md_free(&outer);
	mbedtls_md_free(&work);
	mbedtls_platform_zeroize(key, sizeof(key));
	mbedtls_platform_zeroize(pad, sizeof(pad));
	mbedtls_platform_zeroize(u, sizeof(u));
	mbedtls_platform_zeroize(t, sizeof(t));
	return rc;
}

/* Seed the DRBG from the platform entropy source once.  0, or -1. */
static int
tls_drbg_seed(void)
{
	static const char pers[] = "uxmppd";

	if (tls_drbg_ready) {
		return 0;
	}
	if (tls_crypto_init() != 0) {
		return -1;
	}
	mbedtls_entropy_init(&tls_entropy);
	mbedtls_ctr_drbg_init(&tls_drbg);
	if (mbedtls_ctr_drbg_seed(&tls_drbg, mbedtls_entropy_func,
	    &tls_entropy, (const unsigned char *)pers, sizeof(pers) - 1) != 0) {
		mbedtls_ctr_drbg_free(&tls_drbg);
		mbedtls_entropy_free(&tls_entropy);
		return -1;
	}
	tls_drbg_ready = 1;
	return 0;
}

/*
 * Fill out with len cryptographically strong random bytes (CTR_DRBG
 * seeded from the platform entropy source on first use).  0, or -1.
 */
int
tls_random(void *out, size_t len)
{
	unsigned char *p = out;
	size_t n;

	if (tls_drbg_seed() != 0) {
		return -1;
	}
	/* One DRBG call is capped at MBEDTLS_CTR_DRBG_MAX_REQUEST bytes. */
	while (len > 0) {
		n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len :
		    MBEDTLS_CTR_DRBG_MAX_REQUEST;
		if (mbedtls_ctr_drbg_random(&tls_drbg, p, n) != 0) {
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Wipe len bytes at p in a way the compiler cannot drop. */
void
tls_zeroize(void *p, size_t len)
{
	if (p != NULL && len > 0) {
		mbedtls_platform_zeroize(p, len);
	}
}

/*
 * Compare len bytes in time independent of the contents; 0 when equal,
 * 1 otherwise.
 */
int
tls_memcmp_ct(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *pa = a, *pb = b;
	unsigned char diff = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		diff |= pa[i] ^ pb[i];
	}
	return diff != 0;
}

/* ==================================================================== */
/* Section 2: TLS sessions                                               */
/* ==================================================================== */
/*
 * One shared mbedtls_ssl_config per loaded certificate (struct tls_srv,
 * reference counted so SIGHUP can swap certificates under open sessions)
 * and one mbedtls_ssl_context per session, created only at STARTTLS or on
 * a direct-TLS accept.  I/O goes straight to the non-blocking socket
 * through our own BIO callbacks; WANT_READ/WANT_WRITE come back to the
 * caller, which only changes its epoll interest set.
 *
 * No session cache, no tickets, no renegotiation: every handshake is a
 * full one, which is what makes tls-unique the client's Finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "buf.h"
#include "uxlimits.h"

/* Fields mbedTLS 3.x marks private (there is no accessor for them). */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define TLS_PRIV(field)	MBEDTLS_PRIVATE(field)
#else
#define TLS_PRIV(field)	field
#endif

#define TLS_RECORD_MAX		16384	/* plaintext bytes per record */
#define TLS_CERT_DAYS		3650
#define TLS_EXPORTER_LABEL	"EXPORTER-Channel-Binding"	/* RFC 9266 */

struct tls_srv {
	unsigned		 refs;
	mbedtls_ssl_config	 conf;
	mbedtls_x509_crt	 chain;
	mbedtls_pk_context	 key;
	unsigned char		 endpoint[MBEDTLS_MD_MAX_SIZE];
	size_t			 endpoint_len;
	char			 fpr[TLS_FINGERPRINT_LEN];
};

struct tls_conn {
	mbedtls_ssl_context	 ssl;
	struct tls_srv		*srv;		/* server side; NULL for a client */
	int			 fd;
	int			 established;
	int			 last_err;	/* mbedTLS code of the last failure */
	size_t			 wlen;		/* length of a write left pending */
	unsigned char		 unique[36];	/* tls-unique: first Finished */
	size_t			 unique_len;
	unsigned char		 exporter[32];	/* tls-exporter (TLS 1.3) */
	size_t			 exporter_len;
	unsigned char		 endpoint[MBEDTLS_MD_MAX_SIZE];
	size_t			 endpoint_len;
};

static struct tls_srv		*tls_srv_cur;
static mbedtls_ssl_config	 tls_cli_conf;
static int			 tls_cli_ready;
/* ECDHE groups (and the curves accepted in certificates), cheapest first,
 * the order OpenSSL and browsers offer them in; P-521 last, for peers that
 * only have it. */
#if MBEDTLS_VERSION_NUMBER < 0x03010000
static const mbedtls_ecp_group_id tls_curves[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
	MBEDTLS_ECP_DP_CURVE25519,
#endif
	MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_NONE
};
#else
static const uint16_t tls_groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};
#endif

/* AEAD with forward secrecy only; TLS 1.3 suites where the library has
 * them (a custom list must name them or TLS 1.3 cannot be negotiated). */
static const int tls_suites[] = {
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
#endif
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0
};

static void
tls_strerror(int rc, char *out, size_t cap)
{
#if defined(MBEDTLS_ERROR_C)
	char text[128];

	mbedtls_strerror(rc, text, sizeof(text));
	snprintf(out, cap, "%s (-0x%04x)", text, (unsigned)-rc);
#else
	snprintf(out, cap, "mbedTLS error -0x%04x", (unsigned)-rc);
#endif
}

/* "AB:CD:..." of SHA-256(der). */
static void
tls_fingerprint(const unsigned char *der, size_t len,
    char out[TLS_FINGERPRINT_LEN])
{
	unsigned char h[32];
	size_t i;

	out[0] = '\0';
	if (tls_hash(TLS_MD_SHA256, der, len, h) != 0) {
		return;
	}
	for (i = 0; i < sizeof(h); i++) {
		snprintf(out + 3 * i, 4, "%02X%s", h[i],
		    i + 1 < sizeof(h) ? ":" : "");
	}
}

/*
 * tls-server-end-point (RFC 5929 §4.1): the certificate hashed with its
 * signature's hash, SHA-256 when that is MD5 or SHA-1.  Length, or 0.
 */
static size_t
tls_endpoint_hash(const mbedtls_x509_crt *crt, unsigned char *out)
{
	mbedtls_md_type_t md = crt->TLS_PRIV(sig_md);
	const mbedtls_md_info_t *info;

	if (md == MBEDTLS_MD_NONE || md == MBEDTLS_MD_MD5 ||
	    md == MBEDTLS_MD_SHA1) {
		md = MBEDTLS_MD_SHA256;
	}
	info = mbedtls_md_info_from_type(md);
	if (info == NULL || mbedtls_md(info, crt->raw.p, crt->raw.len,
	    out) != 0) {
		return 0;
	}
	return mbedtls_md_get_size(info);
}

/* Settings both sides share.  0, or an mbedTLS error code. */
static int
tls_conf_common(mbedtls_ssl_config *conf, int endpoint)
{
	int rc;

	if (tls_drbg_seed() != 0) {
		return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
	}
	rc = mbedtls_ssl_config_defaults(conf, endpoint,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc != 0) {
		return rc;
	}
	mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &tls_drbg);
#if MBEDTLS_VERSION_NUMBER < 0x03000000
	/* 3.x has no TLS 1.0/1.1 at all. */
	mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);
#endif
	mbedtls_ssl_conf_ciphersuites(conf, tls_suites);
	/* 2.28's default list starts with secp521r1 and a 2.28 server picks
	 * by its own order: every handshake, even with a client offering
	 * X25519 first, paid for P-521 (2.3 ms more server CPU per TLS
	 * login on the bench machine, bench/README.md) */
#if MBEDTLS_VERSION_NUMBER < 0x03010000
	mbedtls_ssl_conf_curves(conf, tls_curves);
#else
	mbedtls_ssl_conf_groups(conf, tls_groups);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION)
	mbedtls_ssl_conf_renegotiation(conf,
	    MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
	mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
	return 0;
}

static void
tls_srv_unref(struct tls_srv *s)
{
	if (s == NULL || --s->refs > 0) {
		return;
	}
	mbedtls_ssl_config_free(&s->conf);
	mbedtls_x509_crt_free(&s->chain);
	mbedtls_pk_free(&s->key);
	free(s);
}

/*
 * Load cert_path (PEM chain, leaf first) and key_path; they become the
 * ones new sessions use.  0, or -1 with err filled.
 */
int
tls_server_load(const char *cert_path, const char *key_path, char *err,
    size_t errlen)
{
	struct tls_srv *s = xcalloc(1, sizeof(*s));
	char why[200];
	int rc;

	s->refs = 1;
	mbedtls_ssl_config_init(&s->conf);
	mbedtls_x509_crt_init(&s->chain);
	mbedtls_pk_init(&s->key);
	if (tls_crypto_init() != 0 || tls_drbg_seed() != 0) {
		snprintf(err, errlen, "cannot seed the random generator");
		goto fail;
	}
	rc = mbedtls_x509_crt_parse_file(&s->chain, cert_path);
	if (rc != 0) {
		if (rc > 0) {
			snprintf(why, sizeof(why), "%d certificates did not "
			    "parse", rc);
		} else {
			tls_strerror(rc, why, sizeof(why));
		}
		snprintf(err, errlen, "%s: %s", cert_path, why);
		goto fail;
	}
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	rc = mbedtls_pk_parse_keyfile(&s->key, key_path, NULL,
	    mbedtls_ctr_drbg_random, &tls_drbg);
	if (rc == 0) {
		rc = mbedtls_pk_check_pair(&s->chain.pk, &s->key,
		    mbedtls_ctr_drbg_random, &tls_drbg);
	}
#else
	rc = mbedtls_pk_parse_keyfile(&s->key, key_path, NULL);
	if (rc == 0) {
		rc = mbedtls_pk_check_pair(&s->chain.pk, &s->key);
	}
#endif
	if (rc != 0) {
		tls_strerror(rc, why, sizeof(why));
		snprintf(err, errlen, "%s: %s", key_path, why);
		goto fail;
	}
	rc = tls_conf_common(&s->conf, MBEDTLS_SSL_IS_SERVER);
	if (rc == 0) {
		rc = mbedtls_ssl_conf_own_cert(&s->conf, &s->chain, &s->key);
	}
	if (rc != 0) {
		tls_strerror(rc, why, sizeof(why));
		snprintf(err, errlen, "TLS setup: %s", why);
		goto fail;
	}
	s->endpoint_len = tls_endpoint_hash(&s->chain, s->endpoint);
	tls_fingerprint(s->chain.raw.p, s->chain.raw.len, s->fpr);
	tls_srv_unref(tls_srv_cur);
	tls_srv_cur = s;
	return 0;
fail:
	tls_srv_unref(s);
	return -1;
}

/* Is a certificate loaded? */
int
tls_server_ready(void)
{
	return tls_srv_cur != NULL;
}

/* Fingerprint of the loaded leaf; borrowed, "" when none. */
const char *
tls_server_fingerprint(void)
{
	return tls_srv_cur != NULL ? tls_srv_cur->fpr : "";
}

/* Drop the current certificate; open sessions keep their reference. */
void
tls_server_shutdown(void)
{
	tls_srv_unref(tls_srv_cur);
	tls_srv_cur = NULL;
	if (tls_cli_ready) {
		mbedtls_ssl_config_free(&tls_cli_conf);
		tls_cli_ready = 0;
	}
}

/* DER length octets for len at p; returns how many were written. */
static size_t
tls_der_len(unsigned char *p, size_t len)
{
	if (len < 0x80) {
		p[0] = (unsigned char)len;
		return 1;
	}
	if (len < 0x100) {
		p[0] = 0x81;
		p[1] = (unsigned char)len;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)len;
	return 3;
}

/* Write data to path via a temporary file and rename.  0, or -1. */
static int
tls_write_file(const char *path, const unsigned char *data, size_t len,
    mode_t mode)
{
	char tmp[1024];
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		return -1;
	}
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A DNS name we are willing to put in a certificate. */
static int
tls_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253) {
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-')) {
			return 0;
		}
	}
	return 1;
}

/* The subjectAltName extension's value: a SEQUENCE of dNSName for each
 * name, into san (8 * 260 + 4 bytes) and *slen.  0, or -1 with err. */
static int
tls_san_encode(const char *const *names, size_t nnames, unsigned char *san,
    size_t *slen, char *err, size_t errlen)
{
	unsigned char body[8 * 260];
	size_t i, blen = 0, nl;

	if (nnames == 0 || nnames > 8) {
		snprintf(err, errlen, "need 1 to 8 names");
		return -1;
	}
	for (i = 0; i < nnames; i++) {
		if (!tls_name_ok(names[i])) {
			snprintf(err, errlen, "not a DNS name: %s", names[i]);
			return -1;
		}
		nl = strlen(names[i]);
		/* GeneralName dNSName: [2] IMPLICIT IA5String */
		body[blen++] = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
		blen += tls_der_len(body + blen, nl);
		memcpy(body + blen, names[i], nl);
		blen += nl;
	}
	*slen = 0;
	san[(*slen)++] = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
	*slen += tls_der_len(san + *slen, blen);
	memcpy(san + *slen, body, blen);
	*slen += blen;
	return 0;
}

/* Everything of a self-signed leaf certificate for key but the
 * signature: serial, validity nb..na, subject and issuer, constraints,
 * key usage, the SAN extension.  0, or an mbedTLS error.  serial is not
 * const: 3.x's mbedtls_x509write_crt_set_serial_raw() takes it so. */
static int
tls_crt_fill(mbedtls_x509write_cert *wr, mbedtls_pk_context *key,
    unsigned char *serial, size_t serial_len, const char *nb,
    const char *na, const char *subject, const unsigned char *san,
    size_t slen)
{
	int rc;

	mbedtls_x509write_crt_set_version(wr, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(wr, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(wr, key);
	mbedtls_x509write_crt_set_issuer_key(wr, key);
#if MBEDTLS_VERSION_NUMBER >= 0x03040000
	rc = mbedtls_x509write_crt_set_serial_raw(wr, serial, serial_len);
#else
	{
		mbedtls_mpi sn;	/* set_serial copies it */

		mbedtls_mpi_init(&sn);
		rc = mbedtls_mpi_read_binary(&sn, serial, serial_len);
		if (rc == 0) {
			rc = mbedtls_x509write_crt_set_serial(wr, &sn);
		}
		mbedtls_mpi_free(&sn);
	}
#endif
	if (rc == 0) {
		rc = mbedtls_x509write_crt_set_validity(wr, nb, na);
	}
	if (rc == 0) {
		rc = mbedtls_x509write_crt_set_subject_name(wr, subject);
	}
	if (rc == 0) {
		rc = mbedtls_x509write_crt_set_issuer_name(wr, subject);
	}
	if (rc == 0) {
		rc = mbedtls_x509write_crt_set_basic_constraints(wr, 0, -1);
	}
	if (rc == 0) {
		rc = mbedtls_x509write_crt_set_key_usage(wr,
		    MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
		    MBEDTLS_X509_KU_KEY_AGREEMENT);
	}
	if (rc == 0) {
		rc = mbedtls_x509write_crt_set_extension(wr,
		    MBEDTLS_OID_SUBJECT_ALT_NAME,
		    MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
		    slen);
	}
	return rc;
}

/*
 * Self-signed certificate for names; see tls.h.  0, or -1 with err.
 */
int
tls_cert_generate(const char *cert_path, const char *key_path,
    const char *const *names, size_t nnames,
    char fpr[TLS_FINGERPRINT_LEN], char *err, size_t errlen)
{
	mbedtls_pk_context key;
	mbedtls_x509write_cert wr;
	mbedtls_x509_crt parsed;
	unsigned char serial[16];
	unsigned char san[8 * 260 + 4];
	unsigned char *pem = xmalloc(TLS_CERT_PEM_MAX);
	unsigned char *kpem = xmalloc(TLS_KEY_PEM_MAX);
	char subject[300], nb[32], na[32], why[200];
	size_t slen = 0;
	time_t now = time(NULL), later;
	struct tm tm;
	int rc, ret = -1;

	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&wr);
	mbedtls_x509_crt_init(&parsed);
	fpr[0] = '\0';
	if (tls_san_encode(names, nnames, san, &slen, err, errlen) != 0) {
		goto out;
	}
	snprintf(subject, sizeof(subject), "CN=%s", names[0]);
	if (tls_crypto_init() != 0 || tls_drbg_seed() != 0 ||
	    tls_random(serial, sizeof(serial)) != 0) {
		snprintf(err, errlen, "cannot seed the random generator");
		goto out;
	}
	serial[0] &= 0x7f;	/* a positive INTEGER */
	serial[0] |= 0x01;
	now -= 86400;		/* tolerate clocks a little behind */
	later = now + (time_t)TLS_CERT_DAYS * 86400;
	strftime(nb, sizeof(nb), "%Y%m%d%H%M%S", gmtime_r(&now, &tm));
	strftime(na, sizeof(na), "%Y%m%d%H%M%S", gmtime_r(&later, &tm));

	rc = mbedtls_pk_setup(&key,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (rc == 0) {
		rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
		    mbedtls_pk_ec(key), mbedtls_ctr_drbg_random, &tls_drbg);
	}
	if (rc != 0) {
		tls_strerror(rc, why, sizeof(why));
		snprintf(err, errlen, "key generation: %s", why);
		goto out;
	}
	rc = tls_crt_fill(&wr, &key, serial, sizeof(serial), nb, na, subject,
	    san, slen);
	if (rc == 0) {
		rc = mbedtls_x509write_crt_pem(&wr, pem, TLS_CERT_PEM_MAX,
		    mbedtls_ctr_drbg_random, &tls_drbg);
	}
	if (rc == 0) {
		rc = mbedtls_pk_write_key_pem(&key, kpem, TLS_KEY_PEM_MAX);
	}
	if (rc == 0) {
		/* The PEM buffers are NUL-terminated; parse wants the NUL. */
		rc = mbedtls_x509_crt_parse(&parsed, pem,
		    strlen((char *)pem) + 1);
	}
	if (rc != 0) {
		tls_strerror(rc, why, sizeof(why));
		snprintf(err, errlen, "certificate: %s", why);
		goto out;
	}
	if (tls_write_file(key_path, kpem, strlen((char *)kpem), 0600) != 0) {
		snprintf(err, errlen, "%s: %s", key_path, strerror(errno));
		goto out;
	}
	if (tls_write_file(cert_path, pem, strlen((char *)pem), 0644) != 0) {
		snprintf(err, errlen, "%s: %s", cert_path, strerror(errno));
		goto out;
	}
	tls_fingerprint(parsed.raw.p, parsed.raw.len, fpr);
	ret = 0;
out:
	tls_zeroize(kpem, TLS_KEY_PEM_MAX);
	free(kpem);
	free(pem);
	mbedtls_x509_crt_free(&parsed);
	mbedtls_x509write_crt_free(&wr);
	mbedtls_pk_free(&key);
	return ret;
}

/* ---- sessions ---- */

static int
tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *t = ctx;
	ssize_t n;

	for (;;) {
		n = send(t->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			return (int)n;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		}
		if (errno == EPIPE || errno == ECONNRESET) {
			return MBEDTLS_ERR_NET_CONN_RESET;
		}
		return MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

static int
tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *t = ctx;
	ssize_t n;

	for (;;) {
		n = read(t->fd, buf, len);
		if (n >= 0) {
			return (int)n;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return MBEDTLS_ERR_SSL_WANT_READ;
		}
		if (errno == ECONNRESET) {
			return MBEDTLS_ERR_NET_CONN_RESET;
		}
		return MBEDTLS_ERR_NET_RECV_FAILED;
	}
}

static struct tls_conn *
tls_conn_setup(int fd, const mbedtls_ssl_config *conf, struct tls_srv *srv)
{
	struct tls_conn *t = xcalloc(1, sizeof(*t));

	mbedtls_ssl_init(&t->ssl);
	t->fd = fd;
	if (srv != NULL) {
		t->srv = srv;
		srv->refs++;
	}
	if (mbedtls_ssl_setup(&t->ssl, conf) != 0) {
		tls_conn_free(t);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, tls_bio_send, tls_bio_recv, NULL);
	return t;
}

/* Server session on fd; NULL without a certificate.  Caller frees. */
struct tls_conn *
tls_conn_new_server(int fd)
{
	if (tls_srv_cur == NULL) {
		return NULL;
	}
	return tls_conn_setup(fd, &tls_srv_cur->conf, tls_srv_cur);
}

/* Client session on fd (no certificate verification).  Caller frees. */
struct tls_conn *
tls_conn_new_client(int fd, const char *server_name)
{
	struct tls_conn *t;

	if (!tls_cli_ready) {
		if (tls_crypto_init() != 0) {
			return NULL;
		}
		mbedtls_ssl_config_init(&tls_cli_conf);
		if (tls_conf_common(&tls_cli_conf, MBEDTLS_SSL_IS_CLIENT) != 0) {
			mbedtls_ssl_config_free(&tls_cli_conf);
			return NULL;
		}
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
		mbedtls_ssl_conf_session_tickets(&tls_cli_conf,
		    MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
		tls_cli_ready = 1;
	}
	t = tls_conn_setup(fd, &tls_cli_conf, NULL);
	if (t != NULL && server_name != NULL &&
	    mbedtls_ssl_set_hostname(&t->ssl, server_name) != 0) {
		tls_conn_free(t);
		return NULL;
	}
	return t;
}

static int
tls_conn_fail(struct tls_conn *t, int rc)
{
	if (rc == MBEDTLS_ERR_SSL_WANT_READ) {
		return TLS_WANT_READ;
	}
	if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		return TLS_WANT_WRITE;
	}
	t->last_err = rc;
	return TLS_ERR;
}

/* Remember the channel-binding data of the finished handshake. */
static void
tls_conn_capture(struct tls_conn *t)
{
	const char *v = mbedtls_ssl_get_version(&t->ssl);

	if (strcmp(v, "TLSv1.3") == 0) {
		/* The exporter exists from mbedTLS 3.6.4 on (on by default);
		 * before that TLS 1.3 offers only tls-server-end-point. */
#if defined(MBEDTLS_SSL_KEYING_MATERIAL_EXPORT)
		/* RFC 9266: 32 bytes, empty context (use_context 0 means a
		 * 0-length context in TLS 1.3). */
		if (mbedtls_ssl_export_keying_material(&t->ssl, t->exporter,
		    sizeof(t->exporter), TLS_EXPORTER_LABEL,
		    sizeof(TLS_EXPORTER_LABEL) - 1, NULL, 0, 0) == 0) {
			t->exporter_len = sizeof(t->exporter);
		}
#endif
	} else {
#if defined(MBEDTLS_SSL_RENEGOTIATION)
		/* RFC 5929 §3.1: the first Finished of the connection.  In a
		 * full handshake (we never resume) that is the client's. */
		size_t n = t->ssl.TLS_PRIV(verify_data_len);

		if (n > 0 && n <= sizeof(t->unique)) {
			memcpy(t->unique, t->srv != NULL ?
			    t->ssl.TLS_PRIV(peer_verify_data) :
			    t->ssl.TLS_PRIV(own_verify_data), n);
			t->unique_len = n;
		}
#endif
	}
	if (t->srv != NULL) {
		memcpy(t->endpoint, t->srv->endpoint, t->srv->endpoint_len);
		t->endpoint_len = t->srv->endpoint_len;
	} else {
#if defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE)
		const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);

		if (peer != NULL) {
			t->endpoint_len = tls_endpoint_hash(peer, t->endpoint);
		}
#endif
	}
}

/* Advance the handshake; 0 when complete.  See tls.h. */
int
tls_conn_handshake(struct tls_conn *t)
{
	int rc;

	if (t->established) {
		return 0;
	}
	rc = mbedtls_ssl_handshake(&t->ssl);
	if (rc != 0) {
		return tls_conn_fail(t, rc);
	}
	t->established = 1;
	tls_conn_capture(t);
	return 0;
}

int
tls_conn_established(const struct tls_conn *t)
{
	return t->established;
}

/* Decrypted bytes, 0 at EOF, or TLS_WANT_READ/WRITE or TLS_ERR.  See tls.h. */
int
tls_conn_read(struct tls_conn *t, void *buf, size_t len)
{
	int rc;

	if (!t->established && (rc = tls_conn_handshake(t)) != 0) {
		return rc;
	}
	if (len > INT_MAX) {
		len = INT_MAX;
	}
	for (;;) {
		rc = mbedtls_ssl_read(&t->ssl, buf, len);
		if (rc > 0) {
			return rc;
		}
		if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    rc == MBEDTLS_ERR_SSL_CONN_EOF) {
			return 0;
		}
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
		if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			continue;
		}
#endif
		return tls_conn_fail(t, rc);
	}
}

/* Bytes accepted, or TLS_WANT_READ/WRITE or TLS_ERR.  See tls.h. */
int
tls_conn_write(struct tls_conn *t, const void *buf, size_t len)
{
	size_t len0 = len;
	int rc;

	if (!t->established && (rc = tls_conn_handshake(t)) != 0) {
		return rc;
	}
	/* After WANT_WRITE mbedTLS must be called again with the same
	 * arguments: it has the record already and reports its length. */
	if (t->wlen > 0) {
		len = t->wlen;
	} else if (len > TLS_RECORD_MAX) {
		len = TLS_RECORD_MAX;
	}
	rc = mbedtls_ssl_write(&t->ssl, buf, len);
	if (rc > 0) {
		t->wlen = 0;
		/* Never report more than the caller offered (a caller that
		 * dropped its data after WANT_WRITE is closing anyway). */
		return (size_t)rc > len0 ? (int)len0 : rc;
	}
	if (rc == MBEDTLS_ERR_SSL_WANT_READ ||
	    rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->wlen = len;
	}
	return tls_conn_fail(t, rc);
}

size_t
tls_conn_pending(const struct tls_conn *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl);
}

/* close_notify once, without waiting for the socket. */
void
tls_conn_close_notify(struct tls_conn *t)
{
	if (t->established && t->wlen == 0) {
		(void)mbedtls_ssl_close_notify(&t->ssl);
	}
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL) {
		return;
	}
	mbedtls_ssl_free(&t->ssl);
	tls_srv_unref(t->srv);
	tls_zeroize(t, sizeof(*t));
	free(t);
}

/* mbedTLS's text for the last failure.  Borrowed, static buffer. */
const char *
tls_conn_error(const struct tls_conn *t)
{
	static char text[200];

	tls_strerror(t->last_err, text, sizeof(text));
	return text;
}

const char *
tls_conn_version(const struct tls_conn *t)
{
	return t->established ? mbedtls_ssl_get_version(&t->ssl) : "none";
}

const char *
tls_conn_cipher(const struct tls_conn *t)
{
	return t->established ? mbedtls_ssl_get_ciphersuite(&t->ssl) : "none";
}

/* Does this mbedTLS give TLS 1.3 sessions tls-exporter?  See tls.h. */
int
tls_has_exporter(void)
{
#if defined(MBEDTLS_SSL_KEYING_MATERIAL_EXPORT) && \
    defined(MBEDTLS_SSL_PROTO_TLS1_3)
	return 1;
#else
	return 0;
#endif
}

/* Available channel-binding types, strongest first.  See tls.h. */
size_t
tls_conn_cb_types(const struct tls_conn *t, const char **types, size_t max)
{
	size_t n = 0;

	if (!t->established) {
		return 0;
	}
	if (t->exporter_len > 0 && n < max) {
		types[n++] = "tls-exporter";
	}
	if (t->unique_len > 0 && n < max) {
		types[n++] = "tls-unique";
	}
	if (t->endpoint_len > 0 && n < max) {
		types[n++] = "tls-server-end-point";
	}
	return n;
}

/* Binding data of type; borrowed from t.  NULL when unavailable. */
const unsigned char *
tls_conn_cb_data(const struct tls_conn *t, const char *type, size_t *len)
{
	*len = 0;
	if (!t->established || type == NULL) {
		return NULL;
	}
	if (strcmp(type, "tls-exporter") == 0 && t->exporter_len > 0) {
		*len = t->exporter_len;
		return t->exporter;
	}
	if (strcmp(type, "tls-unique") == 0 && t->unique_len > 0) {
		*len = t->unique_len;
		return t->unique;
	}
	if (strcmp(type, "tls-server-end-point") == 0 &&
	    t->endpoint_len > 0) {
		*len = t->endpoint_len;
		return t->endpoint;
	}
	return NULL;
}
