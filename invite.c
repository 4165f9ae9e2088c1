/*
 * invite.c - invitations and their pre-auth tokens in the store
 * (invite.h).  Behaviour as Prosody's mod_invites / mod_invites_register,
 * which Conversations is written against: an account invite is
 * xmpp:DOMAIN?register;preauth=TOKEN (xmpp:USER@DOMAIN?register;... when
 * the name is fixed), a contact invite is
 * xmpp:INVITER?roster;preauth=TOKEN;ibr=y, and the client hands the token
 * to the server in <preauth xmlns='urn:xmpp:pars:0'/> before it
 * registers.
 */
#include "invite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "hex.h"
#include "log.h"
#include "roster.h"
#include "store.h"
#include "tls.h"

/* Tokens are lower-case hex: anything else is not one of ours, and is
 * never used as a store key. */
static int
token_valid(const char *token)
{
	size_t i;

	for (i = 0; token[i] != '\0'; i++) {
		if ((token[i] < '0' || token[i] > '9') &&
		    (token[i] < 'a' || token[i] > 'f')) {
			return 0;
		}
	}
	return i == INVITE_TOKEN_LEN;
}

int
invite_create(const char *inviter, const char *username, int admin,
    long ttl_s, char *token, size_t cap)
{
	unsigned char raw[INVITE_TOKEN_BYTES];
	char value[JID_MAX + JID_PART_MAX + 64];

	if (cap < INVITE_TOKEN_LEN + 1 || ttl_s <= 0 ||
	    tls_random(raw, sizeof(raw)) != 0) {
		return -1;
	}
	hex_encode(raw, sizeof(raw), token);
	snprintf(value, sizeof(value), "%lld\t%s\t%s\t%s",
	    (long long)time(NULL) + ttl_s, admin ? "a" : "-",
	    inviter != NULL ? inviter : "", username != NULL ? username : "");
	return store_put(INVITE_KIND, token, value);
}

/* Parse a stored value; 0, or -1 when it is not one of ours. */
static int
invite_decode(const char *v, struct invite *out)
{
	const char *f, *u;
	char *end;
	size_t n;

	memset(out, 0, sizeof(*out));
	errno = 0;
	out->expires = (time_t)strtoll(v, &end, 10);
	if (errno != 0 || *end != '\t' || (end[1] != 'a' && end[1] != '-') ||
	    end[2] != '\t') {
		return -1;
	}
	out->admin = end[1] == 'a';
	f = end + 3;
	u = strchr(f, '\t');
	if (u == NULL || (n = (size_t)(u - f)) >= sizeof(out->inviter) ||
	    strlen(u + 1) >= sizeof(out->username)) {
		return -1;
	}
	memcpy(out->inviter, f, n);
	out->inviter[n] = '\0';
	snprintf(out->username, sizeof(out->username), "%s", u + 1);
	return 0;
}

int
invite_get(const char *token, struct invite *out)
{
	const char *v;

	if (token == NULL || !token_valid(token) ||
	    (v = store_get(INVITE_KIND, token)) == NULL ||
	    invite_decode(v, out) != 0) {
		return -1;
	}
	return out->expires > time(NULL) ? 0 : -1;
}

int
invite_use(const char *token, const char *bare_jid)
{
	struct invite inv;
	int rc = 0;

	if (invite_get(token, &inv) != 0) {
		return -1;
	}
	/* single use: gone before anything it grants */
	if (store_del(INVITE_KIND, token) != 0) {
		return -1;
	}
	if (inv.admin && store_put(ACCOUNT_ROLE_KIND, bare_jid, "admin") != 0) {
		rc = -1;
	}
	if (inv.inviter[0] != '\0' && account_exists(inv.inviter) &&
	    roster_subscribe_mutual(inv.inviter, bare_jid) != 0) {
		rc = -1;
	}
	log_info("invite used by %s%s%s%s", bare_jid, inv.admin ?
	    " (admin)" : "", inv.inviter[0] ? " contact of " : "",
	    inv.inviter);
	return rc;
}

int
invite_use_contact(const char *token, const char *inviter)
{
	struct invite inv;

	if (invite_get(token, &inv) != 0 ||
	    strcmp(inv.inviter, inviter) != 0 ||
	    store_del(INVITE_KIND, token) != 0) {
		return -1;
	}
	log_info("invite of %s used by an existing account", inviter);
	return 0;
}

int
invite_revoke(const char *token)
{
	if (!token_valid(token) || store_get(INVITE_KIND, token) == NULL) {
		return -1;
	}
	return store_del(INVITE_KIND, token);
}

struct list_ctx {
	char	*out;
	size_t	 cap, len, count;
	time_t	 now;
};

static int
list_cb(void *ud, const char *key, const char *value)
{
	struct list_ctx *c = ud;
	struct invite inv;
	int n;

	if (invite_decode(value, &inv) != 0 || inv.expires <= c->now) {
		return 0;
	}
	c->count++;
	n = snprintf(c->out + c->len, c->cap - c->len, "%s %lld %s %s %s\n",
	    key, (long long)inv.expires, inv.admin ? "admin" : "-",
	    inv.inviter[0] ? inv.inviter : "-",
	    inv.username[0] ? inv.username : "-");
	if (n > 0 && (size_t)n < c->cap - c->len) {
		c->len += (size_t)n;
	}
	return 0;
}

size_t
invite_list(char *out, size_t cap)
{
	struct list_ctx c = { out, cap, 0, 0, time(NULL) };

	if (cap == 0) {
		return 0;
	}
	out[0] = '\0';
	store_foreach(INVITE_KIND, "", list_cb, &c);
	return c.count;
}

void
invite_uri(const char *token, const struct invite *inv, char *out,
    size_t cap)
{
	const char *domain = config_get()->domain;

	if (inv->inviter[0] != '\0') {
		/* XEP-0401 §4: a contact invite also allows registration */
		snprintf(out, cap, "xmpp:%s?roster;preauth=%s;ibr=y",
		    inv->inviter, token);
	} else if (inv->username[0] != '\0') {
		snprintf(out, cap, "xmpp:%s@%s?register;preauth=%s",
		    inv->username, domain, token);
	} else {
		snprintf(out, cap, "xmpp:%s?register;preauth=%s", domain,
		    token);
	}
}

int
invite_parse_duration(const char *s, long *out)
{
	char *end;
	long n, unit = 1;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || n <= 0) {
		return -1;
	}
	if (*end == 'd') {
		unit = 86400;
	} else if (*end == 'h') {
		unit = 3600;
	} else if (*end == 'm') {
		unit = 60;
	} else if (*end == 's') {
		unit = 1;
	} else if (*end != '\0') {
		return -1;
	}
	if (*end != '\0' && end[1] != '\0') {
		return -1;
	}
	if (n > 3650L * 86400 / unit) {
		return -1;
	}
	*out = n * unit;
	return 0;
}
