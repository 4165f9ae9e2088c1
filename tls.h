/*
 * tls.h - everything that touches mbedTLS: hashes, HMAC, PBKDF2 and random
 * bytes for SASL; later TLS sessions.  The only file that includes mbedTLS
 * headers is tls.c, and all 2.28/3.x differences live there.
 */
#ifndef UXMPPD_TLS_H
#define UXMPPD_TLS_H

#include <stddef.h>

enum tls_md { TLS_MD_SHA1, TLS_MD_SHA256 };

/* Digest length in bytes (20 or 32). */
size_t	tls_md_len(enum tls_md md);
/* out receives tls_md_len(md) bytes.  0, or -1 on failure. */
int	tls_hash(enum tls_md md, const void *data, size_t len,
	    unsigned char *out);
int	tls_hmac(enum tls_md md, const void *key, size_t key_len,
	    const void *data, size_t len, unsigned char *out);
int	tls_pbkdf2(enum tls_md md, const void *pw, size_t pw_len,
	    const unsigned char *salt, size_t salt_len, unsigned iterations,
	    unsigned char *out, size_t out_len);
/* Cryptographically strong random bytes.  0, or -1. */
int	tls_random(void *out, size_t len);
/* Wipe secrets so the compiler cannot drop it. */
void	tls_zeroize(void *p, size_t len);
/* Compare in constant time; 0 when equal. */
int	tls_memcmp_ct(const void *a, const void *b, size_t len);

/* ---- TLS sessions (section 2 of tls.c) ---- */

/* Results of the session calls besides a byte count. */
#define TLS_ERR		(-1)	/* fatal: close the connection */
#define TLS_WANT_READ	(-2)	/* wait until the socket is readable */
#define TLS_WANT_WRITE	(-3)	/* wait until the socket is writable */

#define TLS_FINGERPRINT_LEN	96	/* "AB:CD:..." of SHA-256, with NUL */
#define TLS_CB_MAX	3	/* channel-binding types a session offers */

struct tls_conn;

/*
 * Write a fresh self-signed certificate (ECDSA P-256, SHA-256, ten years)
 * for names[0..nnames-1] (CN = names[0], every name a dNSName SAN) to
 * cert_path and its key to key_path (mode 0600); both are replaced
 * atomically.  fpr receives the SHA-256 fingerprint ("AB:CD:...").
 * 0, or -1 with the reason in err.
 */
int	tls_cert_generate(const char *cert_path, const char *key_path,
	    const char *const *names, size_t nnames,
	    char fpr[TLS_FINGERPRINT_LEN], char *err, size_t errlen);
/*
 * Load the server certificate chain (PEM, leaf first) and its key and
 * make them the ones new sessions use.  Sessions already open keep the
 * previous ones until they end (reload on SIGHUP).  On failure nothing
 * changes.  0, or -1 with the reason in err.
 */
int	tls_server_load(const char *cert_path, const char *key_path,
	    char *err, size_t errlen);
/* Has a certificate been loaded (can the server offer TLS)? */
int	tls_server_ready(void);
/* SHA-256 fingerprint of the loaded leaf certificate.  Borrowed, valid
 * until the next tls_server_load(); "" when none is loaded. */
const char *tls_server_fingerprint(void);
/* Release the server certificate (sessions still open keep theirs). */
void	tls_server_shutdown(void);

/*
 * A server session on the connected non-blocking socket fd (the caller
 * keeps owning fd).  NULL when no certificate is loaded.  Caller frees
 * with tls_conn_free().
 */
struct tls_conn *tls_conn_new_server(int fd);
/*
 * A client session (for the test runner and benchmarks) on fd, sending
 * server_name as SNI.  The server certificate is not verified (SCRAM
 * with channel binding authenticates the server).  NULL on failure.
 * Caller frees with tls_conn_free().
 */
struct tls_conn *tls_conn_new_client(int fd, const char *server_name);
/* Advance the handshake: 0 once complete, TLS_WANT_READ/WRITE, TLS_ERR. */
int	tls_conn_handshake(struct tls_conn *t);
/* Is the handshake complete? */
int	tls_conn_established(const struct tls_conn *t);
/*
 * Read decrypted bytes (runs the handshake first if needed): >0 bytes,
 * 0 when the peer closed, TLS_WANT_READ/WRITE, TLS_ERR.  After a
 * positive return, call again while tls_conn_pending() is non-zero: those
 * bytes are buffered here and epoll will not report them.
 */
int	tls_conn_read(struct tls_conn *t, void *buf, size_t len);
/*
 * Encrypt and send up to len bytes: the count accepted (>0), or
 * TLS_WANT_READ/WRITE (nothing accepted: call again with the same data
 * when the socket is ready), or TLS_ERR.
 */
int	tls_conn_write(struct tls_conn *t, const void *buf, size_t len);
/* Decrypted bytes buffered and not yet returned by tls_conn_read(). */
size_t	tls_conn_pending(const struct tls_conn *t);
/* Send close_notify, best effort, never blocking. */
void	tls_conn_close_notify(struct tls_conn *t);
void	tls_conn_free(struct tls_conn *t);
/* Why the last call failed (mbedTLS's text).  Borrowed, static. */
const char *tls_conn_error(const struct tls_conn *t);
/* Protocol version and ciphersuite names ("TLSv1.2", ...).  Borrowed. */
const char *tls_conn_version(const struct tls_conn *t);
const char *tls_conn_cipher(const struct tls_conn *t);
/*
 * Channel-binding types available on the established session, strongest
 * first (RFC 5929, RFC 9266): "tls-exporter" (TLS 1.3), "tls-unique"
 * (TLS 1.2), "tls-server-end-point".  Fills types (static strings) and
 * returns how many, at most max.
 */
size_t	tls_conn_cb_types(const struct tls_conn *t, const char **types,
	    size_t max);
/*
 * Can TLS 1.3 sessions offer tls-exporter (RFC 9266)?  Non-zero when
 * mbedTLS exports keying material (3.6.4 and later, unless configured
 * out); 0 with 2.28, which has no TLS 1.3.
 */
int	tls_has_exporter(void);
/* Channel-binding data of type, or NULL when unavailable.  Borrowed,
 * valid while t lives; *len receives its length. */
const unsigned char *tls_conn_cb_data(const struct tls_conn *t,
	    const char *type, size_t *len);

#endif
