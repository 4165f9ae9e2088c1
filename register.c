/*
 * register.c - XEP-0077 account creation before authentication.
 */
#include "register.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "invite.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "stanza.h"

int
register_enabled(void)
{
	return config_get()->allow_registration > 0;
}

static struct xml_node *
error(const struct xml_node *iq, const char *cond, const char *text)
{
	return stanza_error_reply(iq, NULL, cond, text);
}

int
register_is_token_iq(const struct xml_node *iq)
{
	const char *type = xml_attr(iq, "type");

	return strcmp(iq->name, "iq") == 0 && type != NULL &&
	    strcmp(type, "set") == 0 &&
	    xml_child(iq, "preauth", NS_PARS) != NULL;
}

struct xml_node *
register_token_iq(const struct xml_node *iq, int *valid)
{
	const struct xml_node *p = xml_child(iq, "preauth", NS_PARS);
	struct invite inv;

	*valid = p != NULL && invite_get(xml_attr(p, "token"), &inv) == 0;
	if (!*valid) {
		/* as Prosody: the same answer for unknown, used, expired */
		return error(iq, "forbidden",
		    "The invite token is invalid or expired");
	}
	return stanza_result(iq);
}

struct xml_node *
register_preauth_iq(const struct xml_node *iq, const char *token,
    int *used)
{
	struct invite inv;
	int invited;
	const char *type = xml_attr(iq, "type");
	const struct xml_node *q = xml_child(iq, "query", NS_REGISTER);
	const struct xml_node *user_el, *pass_el;
	const char *pass;
	char local[JID_PART_MAX + 1], bare[JID_MAX + 1];
	struct xml_node *reply, *query;

	*used = 0;
	/* the token is checked again: it may have expired or been revoked
	 * since the stream presented it */
	invited = token != NULL && invite_get(token, &inv) == 0;
	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0)) {
		return NULL;
	}
	if (q == NULL || xml_child_count(iq) != 1) {
		return error(iq, "bad-request", NULL);
	}
	/* Off, the form is still given (as Prosody's invite-only mode):
	 * clients such as slixmpp ask for it before they present the
	 * invite's token; only creating the account needs one. */
	if (!register_enabled() && !invited && strcmp(type, "set") == 0) {
		return error(iq, "service-unavailable",
		    "Registration on this server is by invitation only");
	}
	if (strcmp(type, "get") == 0) {
		/* §3.1: the fields we need */
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_REGISTER);
		xml_add_text_child(query, "instructions", NULL,
		    "Choose a username and password to register.");
		if (invited && inv.username[0] != '\0') {
			xml_add_text_child(query, "username", NULL,
			    inv.username);
		} else {
			xml_add(query, "username", NULL);
		}
		xml_add(query, "password", NULL);
		return reply;
	}
	if (xml_child(q, "remove", NS_REGISTER) != NULL) {
		return error(iq, "not-authorized", NULL);
	}
	user_el = xml_child(q, "username", NS_REGISTER);
	pass_el = xml_child(q, "password", NS_REGISTER);
	if (user_el == NULL || pass_el == NULL) {
		return error(iq, "not-acceptable",
		    "Username and password are required");
	}
	pass = xml_text(pass_el);
	if (*pass == '\0' || strlen(pass) > REGISTER_MAX_PASSWORD) {
		return error(iq, "not-acceptable", "Unacceptable password");
	}
	if (jid_local_canon(xml_text(user_el), local, sizeof(local)) != 0 ||
	    (size_t)snprintf(bare, sizeof(bare), "%s@%s", local,
	    config_get()->domain) >= sizeof(bare)) {
		return error(iq, "not-acceptable", "Invalid username");
	}
	if (invited && inv.username[0] != '\0' &&
	    strcmp(inv.username, local) != 0) {
		return error(iq, "not-acceptable",
		    "The chosen username is not valid with this invitation");
	}
	if (account_exists(bare)) {
		return error(iq, "conflict", NULL);
	}
	if (account_create(bare, pass) != 0 ||
	    (invited && invite_use(token, bare) != 0)) {
		/* the store refused the record (full disk, I/O error) */
		return error(iq, "resource-constraint", NULL);
	}
	*used = invited;
	log_info("account %s registered in-band%s", bare,
	    invited ? " with an invite" : "");
	return stanza_result(iq);
}
