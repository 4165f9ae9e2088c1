/*
 * sasl.h - SASL mechanisms for client streams: PLAIN (RFC 4616),
 * SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), server and client
 * sides.  Protocol only: it takes and produces the base64 text carried in
 * <auth/>, <challenge/>, <response/> and <success/>, and never touches a
 * socket or a file.
 *
 * Credentials are only ever stored as SCRAM keys (salt, iteration count,
 * StoredKey, ServerKey); PLAIN is verified by deriving StoredKey from the
 * offered password with the stored salt.
 */
#ifndef UXMPPD_SASL_H
#define UXMPPD_SASL_H

#include <stddef.h>

#include "buf.h"
#include "uxlimits.h"

enum sasl_hash { SASL_SHA1, SASL_SHA256 };
#define SASL_SALT_LEN	16
#define SASL_KEY_MAX	32

struct sasl_scram_keys {
	unsigned char	salt[SASL_SALT_LEN];
	unsigned	iterations;
	unsigned char	stored_key[SASL_KEY_MAX];	/* hash length bytes used */
	unsigned char	server_key[SASL_KEY_MAX];
	/* bytes of salt used (1..SASL_SALT_LEN); 0 means SASL_SALT_LEN,
	 * so zero-initialized structs keep working */
	unsigned	salt_len;
};

/* A user's credentials: keys for both hashes (iterations 0: absent). */
struct sasl_creds {
	struct sasl_scram_keys sha1;
	struct sasl_scram_keys sha256;
};

/*
 * Derive credentials from a password with fresh random salts; iterations
 * 0 means SASL_ITERATIONS_DEFAULT.  Returns 0, or -1 on failure (RNG,
 * iterations above SASL_ITERATIONS_MAX).  The password is not kept.
 */
int	sasl_creds_make(const char *password, unsigned iterations,
	    struct sasl_creds *out);
/* Text form for storage ("sha1:ITER:SALT:STORED:SERVER sha256:..."),
 * base64 fields; and back (-1 on malformed input). */
void	sasl_creds_format(const struct sasl_creds *c, struct buf *out);
int	sasl_creds_parse(const char *s, struct sasl_creds *out);
/*
 * Derive one hash's keys from password and a given salt (salt_len
 * 1..SASL_SALT_LEN, iterations 1..SASL_ITERATIONS_MAX).  0, or -1.
 */
int	sasl_scram_keys_derive(enum sasl_hash h, const char *password,
	    const unsigned char *salt, size_t salt_len, unsigned iterations,
	    struct sasl_scram_keys *out);

/*
 * Looks up a user's credentials for the server side.  username is the
 * authcid already normalized as a localpart by jid_local_canon() (no full
 * SASLprep; normalizing again is harmless).  Returns 0 and fills *out, or
 * -1 when the user does not exist.  Authcids that are not valid
 * localparts never reach the callback: they fail like unknown users.
 */
typedef int (*sasl_lookup_fn)(void *ud, const char *username,
	    struct sasl_creds *out);
/* Lookup results: SASL_LOOKUP_ERROR means an internal failure and gives
 * <temporary-auth-failure/>. */
#define SASL_LOOKUP_OK		0
#define SASL_LOOKUP_NOUSER	(-1)
#define SASL_LOOKUP_ERROR	(-2)

enum sasl_result {
	SASL_CONTINUE = 0,	/* send <challenge> with the output */
	SASL_SUCCESS = 1,	/* send <success> with the output (may be empty) */
	SASL_FAILURE = -1,	/* send <failure> with sasl_condition() */
};

struct sasl_server;

/*
 * Which mechanisms to offer, in preference order, as a NULL-terminated
 * list of names; allow_plain adds PLAIN at the end.
 */
const char *const *sasl_mechanisms(int allow_plain);
/* As sasl_mechanisms(), with the SCRAM-*-PLUS variants first when plus
 * is set (only for streams that pass channel binding data to
 * sasl_server_new_cb()). */
const char *const *sasl_mechanisms_cb(int allow_plain, int plus);

/*
 * Start a server exchange for mech (e.g. "SCRAM-SHA-256").  Returns NULL
 * if the mechanism is unknown or not allowed (→ <invalid-mechanism/>).
 * Caller frees with sasl_server_free().
 */
struct sasl_server *sasl_server_new(const char *mech, int allow_plain,
	    sasl_lookup_fn lookup, void *ud);
/*
 * One step: in is the base64 text from <auth/> or <response/> (may be
 * empty or "=").  Output (base64, possibly empty) is appended to out.
 */
enum sasl_result sasl_server_step(struct sasl_server *s, const char *in,
	    size_t in_len, struct buf *out);
/* RFC 6120 §6.5 condition after SASL_FAILURE, e.g. "not-authorized". */
const char *sasl_condition(const struct sasl_server *s);
/* After SASL_SUCCESS: the authenticated username (localpart). Borrowed. */
const char *sasl_username(const struct sasl_server *s);
/* The canonical localpart the client tried, successful or not (NULL
 * before one was parsed): for log lines of failures.  Borrowed, valid
 * until sasl_server_free. */
const char *sasl_tried_username(const struct sasl_server *s);
void	sasl_server_free(struct sasl_server *s);
/*
 * The stream's domain (copied), so an authzid "user@domain" naming the
 * authenticating user can be accepted; without it any non-empty authzid
 * gives <invalid-authzid/>.  Call before the first step.
 */
void	sasl_server_set_domain(struct sasl_server *s, const char *domain);
/*
 * Channel binding for SCRAM-*-PLUS (RFC 5802 §6, RFC 9266): c2s.c passes
 * what the TLS session offers.  type is e.g. "tls-exporter",
 * data the binding bytes (both copied).  Passing cb to the server means
 * this stream offered -PLUS: then the -PLUS mechanisms are accepted and a
 * client flag "y" fails (downgrade protection).  cb NULL is sasl_server_new.
 */
struct sasl_cb {
	const char		*type;
	const unsigned char	*data;
	size_t			 len;
};
struct sasl_server *sasl_server_new_cb(const char *mech, int allow_plain,
	    const struct sasl_cb *cb, sasl_lookup_fn lookup, void *ud);
/* Offer several types (cbs[0..ncbs-1], copied, strongest first);
 * the client's "p=" picks one, an unoffered type fails with
 * not-authorized.  ncbs 0 is sasl_server_new(). */
struct sasl_server *sasl_server_new_cbs(const char *mech, int allow_plain,
	    const struct sasl_cb *cbs, size_t ncbs, sasl_lookup_fn lookup,
	    void *ud);
/*
 * Secret keying the fake salts sent for unknown users (so they look like
 * real ones); random per process unless the server sets a persistent one.
 */
void	sasl_set_fake_salt_key(const void *key, size_t len);
/* Iteration count announced for unknown users; set it to the count new
 * accounts get (config scram_iterations) so it matches real users.
 * 0 restores SASL_ITERATIONS_DEFAULT. */
void	sasl_set_fake_iterations(unsigned iterations);

/* ---- client side (sasl_client.c: the tests and the scenario runner) ---- */

struct sasl_client;

/* Start a client exchange; mech as above.  NULL if unknown. */
struct sasl_client *sasl_client_new(const char *mech, const char *username,
	    const char *password);
/*
 * in is the server's base64 challenge (NULL for the initial response);
 * the base64 response is appended to out.  On the final server message
 * (<success/> data) returns SASL_SUCCESS only if the server signature
 * verifies, otherwise SASL_FAILURE.
 */
enum sasl_result sasl_client_step(struct sasl_client *c, const char *in,
	    size_t in_len, struct buf *out);
void	sasl_client_free(struct sasl_client *c);
/* Client with channel binding data (copied): a -PLUS mech sends
 * "p=type", another SCRAM sends "y".  cb NULL is sasl_client_new. */
struct sasl_client *sasl_client_new_cb(const char *mech, const char *username,
	    const char *password, const struct sasl_cb *cb);

/* ---- test only: force the nonces (RFC 5802/7677 test vectors) ---- */
void	sasl_server_set_nonce_for_test(struct sasl_server *s,
	    const char *nonce_suffix);
void	sasl_client_set_nonce_for_test(struct sasl_client *c,
	    const char *nonce);

#endif
