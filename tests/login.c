/* tests/login.c - see login.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/login.h"
#include "buf.h"

#define NS_SASL_ "urn:ietf:params:xml:ns:xmpp-sasl"

struct login {
	struct sasl_client	*sc;
	char			 mech[32];
	char			 error[128];
};

struct login *
login_new(const char *mech, const char *user, const char *password,
    const struct sasl_cb *cb)
{
	struct login *l;
	struct sasl_client *sc;

	if (strlen(mech) >= sizeof(l->mech) ||
	    (sc = sasl_client_new_cb(mech, user, password, cb)) == NULL) {
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->sc = sc;
	snprintf(l->mech, sizeof(l->mech), "%s", mech);
	return l;
}

void
login_free(struct login *l)
{
	if (l != NULL) {
		sasl_client_free(l->sc);
		free(l);
	}
}

const char *
login_error(const struct login *l)
{
	return l->error;
}

int
login_start(struct login *l, struct buf *out)
{
	struct buf resp;
	int rc = 0;

	buf_init(&resp, 0);
	if (sasl_client_step(l->sc, NULL, 0, &resp) == SASL_FAILURE) {
		snprintf(l->error, sizeof(l->error), "SASL %s: cannot start",
		    l->mech);
		rc = -1;
	} else {
		/* RFC 6120 §6.4.2: "=" is an empty initial response */
		buf_printf(out, "<auth xmlns='" NS_SASL_ "' mechanism='%s'>"
		    "%s</auth>", l->mech, resp.len ? resp.data : "=");
	}
	buf_free(&resp);
	return rc;
}

enum login_result
login_step(struct login *l, const char *name, const char *text, size_t len,
    struct buf *out)
{
	struct buf resp;
	enum sasl_result r;

	if (strcmp(name, "failure") == 0) {
		snprintf(l->error, sizeof(l->error), "SASL %s failed",
		    l->mech);
		return LOGIN_FAILED;
	}
	if (strcmp(name, "challenge") != 0 && strcmp(name, "success") != 0) {
		snprintf(l->error, sizeof(l->error),
		    "unexpected <%s/> during SASL", name);
		return LOGIN_FAILED;
	}
	/* PLAIN is done when the server says so; SCRAM checks the proof */
	if (strcmp(name, "success") == 0 && strcmp(l->mech, "PLAIN") == 0) {
		return LOGIN_OK;
	}
	buf_init(&resp, 0);
	r = sasl_client_step(l->sc, text, len, &resp);
	if (strcmp(name, "success") == 0) {
		buf_free(&resp);
		if (r != SASL_SUCCESS) {
			snprintf(l->error, sizeof(l->error), "SASL %s: server "
			    "signature did not verify", l->mech);
			return LOGIN_FAILED;
		}
		return LOGIN_OK;
	}
	if (r == SASL_FAILURE) {
		buf_free(&resp);
		snprintf(l->error, sizeof(l->error), "SASL %s: bad challenge",
		    l->mech);
		return LOGIN_FAILED;
	}
	buf_printf(out, "<response xmlns='" NS_SASL_ "'>%s</response>",
	    resp.len ? resp.data : "");
	buf_free(&resp);
	return LOGIN_MORE;
}

enum login_result
login_step_text(struct login *l, const char *received, struct buf *out)
{
	static const char *const names[] = { "challenge", "success",
	    "failure" };
	const char *first = NULL, *name = NULL, *p, *text, *end;
	char tag[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(tag, sizeof(tag), "<%s xmlns='" NS_SASL_ "'",
		    names[i]);
		p = strstr(received, tag);
		if (p != NULL && (first == NULL || p < first)) {
			first = p;
			name = names[i];
		}
	}
	if (first == NULL) {
		snprintf(l->error, sizeof(l->error), "no SASL reply in "
		    "\"%.60s\"", received);
		return LOGIN_FAILED;
	}
	p = first + strlen(name) + strlen(" xmlns='" NS_SASL_ "'") + 1;
	text = end = p;
	if (*p == '>') {
		text = p + 1;
		end = strchr(text, '<');
		if (end == NULL) {
			end = text + strlen(text);
		}
	}
	return login_step(l, name, text, (size_t)(end - text), out);
}
