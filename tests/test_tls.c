/*
 * test_tls.c - TLS sessions in tls.c: certificate generation and loading,
 * a client and a server session over a non-blocking socketpair (WANT_READ
 * and WANT_WRITE driven by hand), records bigger than one TLS record and
 * bigger than the socket buffer, channel-binding data agreeing on both
 * sides, a SCRAM-*-PLUS exchange bound to it, and garbage instead of a
 * ClientHello.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "sasl.h"
#include "tls.h"
#include "check.h"

#define BIG_LEN	(300 * 1024)	/* more than a socket buffer */

static char dir[] = "/tmp/uxmppd-test-tls.XXXXXX";
static char cert_path[128], key_path[128];

/* Drive both handshakes until both are done (or one fails).  0 or -1. */
static int
handshake_both(struct tls_conn *cli, struct tls_conn *srv)
{
	int i, rc_c = TLS_WANT_READ, rc_s = TLS_WANT_READ;

	for (i = 0; i < 200 && (rc_c != 0 || rc_s != 0); i++) {
		if (rc_c != 0) {
			rc_c = tls_conn_handshake(cli);
		}
		if (rc_s != 0) {
			rc_s = tls_conn_handshake(srv);
		}
		if (rc_c == TLS_ERR || rc_s == TLS_ERR) {
			return -1;
		}
	}
	return rc_c == 0 && rc_s == 0 ? 0 : -1;
}

/* Send len bytes from a to b, interleaving writes and reads as the
 * socket allows.  Returns the bytes received (compared by the caller). */
static size_t
pump(struct tls_conn *a, struct tls_conn *b, const unsigned char *data,
    size_t len, unsigned char *got, int *want_write_seen)
{
	size_t sent = 0, recvd = 0;
	int n, rounds = 0;

	while (recvd < len && rounds++ < 100000) {
		/* Write until the socket is full, then drain it. */
		while (sent < len) {
			n = tls_conn_write(a, data + sent, len - sent);
			if (n > 0) {
				sent += (size_t)n;
				continue;
			}
			if (n == TLS_WANT_WRITE) {
				*want_write_seen = 1;
			} else if (n != TLS_WANT_READ) {
				return recvd;
			}
			break;
		}
		do {
			n = tls_conn_read(b, got + recvd, len - recvd);
			if (n > 0) {
				recvd += (size_t)n;
			}
		} while (n > 0 && recvd < len);
		if (n == TLS_ERR || n == 0) {
			break;
		}
	}
	return recvd;
}

static void
test_cert(void)
{
	const char *names[] = { "example.org", "conference.example.org" };
	const char *bad[] = { "exa mple" };
	char fpr[TLS_FINGERPRINT_LEN], fpr2[TLS_FINGERPRINT_LEN], err[256];
	struct stat st;

	CHECK(tls_cert_generate(cert_path, key_path, names, 2, fpr, err,
	    sizeof(err)) == 0);
	CHECK(strlen(fpr) == 95 && fpr[2] == ':');
	CHECK(stat(key_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(tls_cert_generate(cert_path, key_path, bad, 1, fpr2, err,
	    sizeof(err)) == -1);
	CHECK(strstr(err, "not a DNS name") != NULL);
	CHECK(!tls_server_ready());
	CHECK(tls_server_load("/nonexistent", key_path, err,
	    sizeof(err)) == -1);
	CHECK(!tls_server_ready());
	/* a key that does not match the certificate */
	CHECK(tls_server_load(cert_path, cert_path, err, sizeof(err)) == -1);
	CHECK(tls_server_load(cert_path, key_path, err, sizeof(err)) == 0);
	CHECK(tls_server_ready());
	CHECK_STR(tls_server_fingerprint(), fpr);
}

static void
test_session(void)
{
	int sv[2];
	struct tls_conn *cli, *srv;
	const char *ct[TLS_CB_MAX], *stypes[TLS_CB_MAX], *strongest;
	const unsigned char *cd, *sd;
	size_t cn, sn, i, clen, slen;
	unsigned char *data = malloc(BIG_LEN), *got = malloc(BIG_LEN);
	int ww = 0, tls12;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	cli = tls_conn_new_client(sv[0], "example.org");
	srv = tls_conn_new_server(sv[1]);
	CHECK(cli != NULL && srv != NULL);
	CHECK(!tls_conn_established(srv));
	CHECK(tls_conn_read(srv, got, 16) == TLS_WANT_READ);
	CHECK(tls_conn_cb_types(srv, stypes, TLS_CB_MAX) == 0);
	CHECK(handshake_both(cli, srv) == 0);
	CHECK(tls_conn_established(cli) && tls_conn_established(srv));
	CHECK(strncmp(tls_conn_version(srv), "TLSv1.", 6) == 0);

	/* TLS 1.2: tls-unique, tls-server-end-point.  TLS 1.3 (mbedTLS
	 * 3.x): tls-exporter when the library exports keys (3.6.4 on),
	 * tls-server-end-point. */
	tls12 = strcmp(tls_conn_version(srv), "TLSv1.2") == 0;
	CHECK(tls12 || strcmp(tls_conn_version(srv), "TLSv1.3") == 0);
	CHECK_STR(tls_conn_version(cli), tls_conn_version(srv));
	strongest = tls12 ? "tls-unique" :
	    tls_has_exporter() ? "tls-exporter" : NULL;
	/* Both ends see the same binding data for every type. */
	cn = tls_conn_cb_types(cli, ct, TLS_CB_MAX);
	sn = tls_conn_cb_types(srv, stypes, TLS_CB_MAX);
	CHECK(cn == sn && sn == (strongest != NULL ? 2u : 1u));
	if (strongest != NULL) {
		CHECK_STR(stypes[0], strongest);
	}
	CHECK_STR(stypes[sn - 1], "tls-server-end-point");
	for (i = 0; i < sn && i < cn; i++) {
		CHECK_STR(ct[i], stypes[i]);
		cd = tls_conn_cb_data(cli, ct[i], &clen);
		sd = tls_conn_cb_data(srv, stypes[i], &slen);
		CHECK(cd != NULL && sd != NULL && clen == slen && clen > 0 &&
		    memcmp(cd, sd, clen) == 0);
	}
	CHECK(tls_conn_cb_data(srv, "tls-bogus", &slen) == NULL && slen == 0);
	if (tls12) {
		CHECK(tls_conn_cb_data(srv, "tls-unique", &slen) != NULL &&
		    slen == 12);
		CHECK(tls_conn_cb_data(srv, "tls-exporter", &slen) == NULL);
	} else if (tls_has_exporter()) {
		CHECK(tls_conn_cb_data(srv, "tls-exporter", &slen) != NULL &&
		    slen == 32);
	} else {
		CHECK(tls_conn_cb_data(srv, "tls-exporter", &slen) == NULL);
	}
	if (!tls12) {
		CHECK(tls_conn_cb_data(srv, "tls-unique", &slen) == NULL);
	}
	CHECK(tls_conn_cb_data(srv, "tls-server-end-point", &slen) != NULL &&
	    slen == 32);

	/* More than one record and more than the socket buffer. */
	for (i = 0; i < BIG_LEN; i++) {
		data[i] = (unsigned char)(i * 7 + (i >> 9));
	}
	CHECK(pump(srv, cli, data, BIG_LEN, got, &ww) == BIG_LEN);
	CHECK(memcmp(data, got, BIG_LEN) == 0);
	CHECK(ww == 1);
	CHECK(pump(cli, srv, data, 5, got, &ww) == 5);
	CHECK(tls_conn_pending(srv) == 0);

	/* close_notify reads as EOF on the other side. */
	tls_conn_close_notify(cli);
	CHECK(tls_conn_read(srv, got, 16) == 0);
	tls_conn_free(cli);
	tls_conn_free(srv);
	close(sv[0]);
	close(sv[1]);
	free(data);
	free(got);
}

/* SCRAM-SHA-256-PLUS with each binding type, both sides from the TLS
 * sessions; a wrong binding fails. */
static struct sasl_creds creds;

static int
lookup(void *ud, const char *user, struct sasl_creds *out)
{
	(void)ud;
	if (strcmp(user, "juliet") != 0) {
		return SASL_LOOKUP_NOUSER;
	}
	*out = creds;
	return SASL_LOOKUP_OK;
}

static enum sasl_result
scram_plus(const struct sasl_cb *ccb, const struct sasl_cb *scbs, size_t n)
{
	struct sasl_client *c = sasl_client_new_cb("SCRAM-SHA-256-PLUS",
	    "juliet", "secret", ccb);
	struct sasl_server *s = sasl_server_new_cbs("SCRAM-SHA-256-PLUS", 0,
	    scbs, n, lookup, NULL);
	struct buf a, b;
	enum sasl_result r = SASL_FAILURE;

	buf_init(&a, 0);
	buf_init(&b, 0);
	if (c == NULL || s == NULL ||
	    sasl_client_step(c, NULL, 0, &a) == SASL_FAILURE) {
		goto out;
	}
	buf_putc(&a, '\0');
	if (sasl_server_step(s, a.data, a.len - 1, &b) != SASL_CONTINUE) {
		goto out;
	}
	buf_reset(&a);
	buf_putc(&b, '\0');
	if (sasl_client_step(c, b.data, b.len - 1, &a) == SASL_FAILURE) {
		goto out;
	}
	buf_reset(&b);
	buf_putc(&a, '\0');
	r = sasl_server_step(s, a.data, a.len - 1, &b);
out:
	sasl_client_free(c);
	sasl_server_free(s);
	buf_free(&a);
	buf_free(&b);
	return r;
}

static void
test_scram_plus(void)
{
	int sv[2];
	struct tls_conn *cli, *srv;
	const char *types[TLS_CB_MAX];
	struct sasl_cb scbs[TLS_CB_MAX], ccb;
	size_t n, i;

	CHECK(sasl_creds_make("secret", 4096, &creds) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	cli = tls_conn_new_client(sv[0], "example.org");
	srv = tls_conn_new_server(sv[1]);
	CHECK(handshake_both(cli, srv) == 0);
	n = tls_conn_cb_types(srv, types, TLS_CB_MAX);
	for (i = 0; i < n; i++) {
		scbs[i].type = types[i];
		scbs[i].data = tls_conn_cb_data(srv, types[i], &scbs[i].len);
	}
	for (i = 0; i < n; i++) {
		ccb.type = types[i];
		ccb.data = tls_conn_cb_data(cli, types[i], &ccb.len);
		CHECK(scram_plus(&ccb, scbs, n) == SASL_SUCCESS);
	}
	/* The client's view of the binding differs (a MITM): refused. */
	ccb.type = types[0];
	ccb.data = (const unsigned char *)"0123456789abcdef0123456789abcdef";
	CHECK(scram_plus(&ccb, scbs, n) == SASL_FAILURE);
	/* A type the server does not offer: refused. */
	ccb.type = "tls-bogus";
	CHECK(scram_plus(&ccb, scbs, n) == SASL_FAILURE);
	tls_conn_free(cli);
	tls_conn_free(srv);
	close(sv[0]);
	close(sv[1]);
}

static void
test_garbage(void)
{
	static const char junk[] = "GET / HTTP/1.0\r\n\r\n<stream:stream>";
	int sv[2], rc, i;
	struct tls_conn *srv;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	srv = tls_conn_new_server(sv[1]);
	CHECK(write(sv[0], junk, sizeof(junk) - 1) ==
	    (ssize_t)(sizeof(junk) - 1));
	rc = TLS_WANT_READ;
	for (i = 0; i < 10 && rc == TLS_WANT_READ; i++) {
		rc = tls_conn_handshake(srv);
	}
	CHECK(rc == TLS_ERR);
	CHECK(strlen(tls_conn_error(srv)) > 0);
	tls_conn_free(srv);
	close(sv[0]);
	close(sv[1]);

	/* EOF in the middle of the handshake is an error, not a hang. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	srv = tls_conn_new_server(sv[1]);
	CHECK(write(sv[0], "\x16\x03\x01\x00\x40\x01", 6) == 6);
	close(sv[0]);
	rc = TLS_WANT_READ;
	for (i = 0; i < 10 && rc == TLS_WANT_READ; i++) {
		rc = tls_conn_handshake(srv);
	}
	CHECK(rc == TLS_ERR);
	tls_conn_free(srv);
	close(sv[1]);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	test_cert();
	test_session();
	test_scram_plus();
	test_garbage();
	tls_server_shutdown();
	unlink(cert_path);
	unlink(key_path);
	rmdir(dir);
	return check_summary("tls");
}
