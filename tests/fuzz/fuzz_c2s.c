/*
 * fuzz_c2s.c - whole client streams: the input is what a hostile client
 * sends, fed to a c2s session over the fake reactor (no sockets), with a
 * second logged-in user to route to.  Whatever arrives, the server must
 * not crash, leak or hang, and it must keep serving: after the input a
 * fresh client still logs in and gets a ping answered.
 *
 * The first byte picks how the stream starts (raw over loopback, raw from
 * elsewhere, or already logged in) and how the rest is cut into chunks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tests/fake_reactor.h"
#include "log.h"
#include "muc.h"
#include "sasl.h"
#include "sm.h"
#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Accounts with one PBKDF2 round, so logging in costs nothing here. */
static void
fuzz_account(const char *bare, const char *password)
{
	struct sasl_creds creds;
	struct buf b;

	buf_init(&b, 0);
	if (sasl_creds_make(password, 1, &creds) == 0) {
		sasl_creds_format(&creds, &b);
		store_put("account", bare, b.data);
	}
	buf_free(&b);
}

static void
fuzz_setup(void)
{
	static char dir[] = "/tmp/uxmppd-fuzz-c2s.XXXXXX";
	char err[600];

	if (mkdtemp(dir) == NULL) {
		abort();
	}
	config_load(NULL, err, sizeof(err));
	log_open("/dev/null", LOG_LEVEL_ERR);
	if (store_open(dir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		abort();
	}
	fuzz_account("user@localhost", "password");
	fuzz_account("juliet@localhost", "password");
	store_flush();
	muc_init();
	c2s_init();
}

/* The server still works: a new login and a ping. */
static void
fuzz_still_serving(void)
{
	struct client *cl = login("juliet", "password", "check");
	char *out;

	send_str(cl, "<iq type='get' id='alive' to='localhost'>"
	    "<ping xmlns='urn:xmpp:ping'/></iq>");
	out = take(cl);
	if (strstr(out, "id='alive'") == NULL) {
		abort();
	}
	free(out);
	client_free(cl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct client *peer, *cl;
	size_t chunk, off, n;
	unsigned mode;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	if (size == 0) {
		return 0;
	}
	mode = data[0];
	data++;
	size--;
	peer = login("juliet", "password", "peer");
	send_str(peer, "<presence/>");
	switch (mode & 3) {
	case 0:
		cl = client_new(1);
		break;
	case 1:
		cl = client_new(0);	/* not loopback: TLS required */
		break;
	default:
		cl = login("user", "password", "fuzz");
		break;
	}
	/* chunks of 1..64 bytes, or everything at once */
	chunk = (mode >> 2) == 0 ? size : (mode >> 2);
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		c2s_input(cl->s, (const char *)data + off, n);
		free(take(cl));
		free(take(peer));
	}
	c2s_tick(cl->s);
	client_drop(cl);
	client_free(peer);
	/* sessions left hibernating by stream management end now */
	sm_shutdown();
	store_flush();
	fuzz_still_serving();
	return 0;
}
