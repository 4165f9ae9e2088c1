/*
 * tests/login.h - the client half of a SASL login (RFC 6120 §6.4), shared
 * by the unit tests, the scenario runner and the crash driver, whatever
 * carries their stream (memory, a socket, TLS).  The caller sends each
 * element written to `out` and hands back each element the server answers
 * with; the mechanisms are sasl.h's client side.
 *
 *	l = login_new("SCRAM-SHA-256", "juliet", "secret", NULL);
 *	login_start(l, &out);			send <auth/>
 *	while ((r = login_step(l, name, text, len, &out)) == LOGIN_MORE)
 *		...				send <response/>, read again
 *	r == LOGIN_OK, or login_error(l) says why not
 */
#ifndef UXMPPD_TESTS_LOGIN_H
#define UXMPPD_TESTS_LOGIN_H

#include <stddef.h>

#include "buf.h"
#include "sasl.h"

enum login_result {
	LOGIN_MORE,	/* a <response/> is in out: send it, step again */
	LOGIN_OK,	/* authenticated; SCRAM: the server's proof checked */
	LOGIN_FAILED	/* see login_error() */
};

struct login;

/* A login as user (the local part); cb as for sasl_client_new_cb (NULL:
 * no channel binding).  NULL when sasl.h does not know the mechanism. */
struct login	*login_new(const char *mech, const char *user,
		    const char *password, const struct sasl_cb *cb);
void		 login_free(struct login *l);

/* Append <auth mechanism='...'>initial response</auth> to out; -1 when
 * the mechanism cannot start. */
int		 login_start(struct login *l, struct buf *out);

/* The server's reply, an element in the SASL namespace: its name
 * (challenge, success, failure; anything else fails) and its trimmed
 * text.  A <response/> to a challenge is appended to out. */
enum login_result login_step(struct login *l, const char *name,
		    const char *text, size_t len, struct buf *out);

/* The same over raw output (the fake reactor's): the first <challenge/>,
 * <success/> or <failure/> in the SASL namespace found in received. */
enum login_result login_step_text(struct login *l, const char *received,
		    struct buf *out);

/* Why the last step failed, e.g. "SASL PLAIN failed". */
const char	*login_error(const struct login *l);

#endif
