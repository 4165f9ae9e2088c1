/*
 * register.c - XEP-0077 account creation before authentication.
 */
#include "register.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "config.h"
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

struct xml_node *
register_preauth_iq(const struct xml_node *iq)
{
	const char *type = xml_attr(iq, "type");
	const struct xml_node *q = xml_child(iq, "query", NS_REGISTER);
	const struct xml_node *user_el, *pass_el;
	const char *pass;
	char local[JID_PART_MAX + 1], bare[JID_MAX + 1];
	struct xml_node *reply, *query;

	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0)) {
		return NULL;
	}
	if (!register_enabled()) {
		return error(iq, "service-unavailable", NULL);
	}
	if (q == NULL || xml_child_count(iq) != 1) {
		return error(iq, "bad-request", NULL);
	}
	if (strcmp(type, "get") == 0) {
		/* §3.1: the fields we need */
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_REGISTER);
		xml_add_text_child(query, "instructions", NULL,
		    "Choose a username and password to register.");
		xml_add(query, "username", NULL);
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
	if (account_exists(bare)) {
		return error(iq, "conflict", NULL);
	}
	if (account_create(bare, pass) != 0) {
		/* the store refused the record (full disk, I/O error) */
		return error(iq, "resource-constraint", NULL);
	}
	log_info("account %s registered in-band", bare);
	return stanza_result(iq);
}
