/*
 * tls.c - the only file that includes mbedTLS headers.
 *
 * Section 1: crypto wrappers for SASL (hash, HMAC, PBKDF2, random bytes,
 * zeroize, constant-time compare).
 * Section 2 (later): TLS sessions.
 *
 * Builds against mbedTLS 2.28 (Debian) and 3.x; every version difference
 * is guarded here with MBEDTLS_VERSION_NUMBER.
 */
#include "tls.h"

#include <stdint.h>
#include <string.h>

#include <mbedtls/version.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
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

/*
 * PBKDF2-HMAC (RFC 8018) of pw with salt; out_len bytes into out.  0, or
 * -1 (bad arguments, iterations 0, hash unavailable).
 */
int
tls_pbkdf2(enum tls_md md, const void *pw, size_t pw_len,
    const unsigned char *salt, size_t salt_len, unsigned iterations,
    unsigned char *out, size_t out_len)
{
	const mbedtls_md_info_t *info = tls_md_info(md);
	int rc;

	if (info == NULL || iterations == 0 || out_len == 0 ||
	    out_len > UINT32_MAX) {
		return -1;
	}
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
	rc = mbedtls_pkcs5_pbkdf2_hmac_ext(mbedtls_md_get_type(info), pw,
	    pw_len, salt, salt_len, iterations, (uint32_t)out_len, out);
#else
	{
		mbedtls_md_context_t ctx;

		mbedtls_md_init(&ctx);
		rc = mbedtls_md_setup(&ctx, info, 1);
		if (rc == 0) {
			rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, pw, pw_len, salt,
			    salt_len, iterations, (uint32_t)out_len, out);
		}
		mbedtls_md_free(&ctx);
	}
#endif
	return rc == 0 ? 0 : -1;
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
/* Section 2: TLS sessions (to come)                                     */
/* ==================================================================== */
