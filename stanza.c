/* stanza.c - replies and stanza errors. */
#include "stanza.h"

#include <string.h>

static void
swap_addresses(struct xml_node *reply, const struct xml_node *st)
{
	const char *from = xml_attr(st, "from");
	const char *to = xml_attr(st, "to");
	const char *id = xml_attr(st, "id");

	if (id != NULL) {
		xml_set_attr(reply, "id", id);
	}
	if (from != NULL) {
		xml_set_attr(reply, "to", from);
	}
	if (to != NULL) {
		xml_set_attr(reply, "from", to);
	}
}

const char *
stanza_error_type(const char *cond)
{
	static const struct { const char *cond, *type; } map[] = {
		{ "bad-request", "modify" },
		{ "conflict", "cancel" },
		{ "feature-not-implemented", "cancel" },
		{ "forbidden", "auth" },
		{ "gone", "cancel" },
		{ "internal-server-error", "cancel" },
		{ "item-not-found", "cancel" },
		{ "jid-malformed", "modify" },
		{ "not-acceptable", "modify" },
		{ "not-allowed", "cancel" },
		{ "not-authorized", "auth" },
		{ "policy-violation", "modify" },
		{ "recipient-unavailable", "wait" },
		{ "redirect", "modify" },
		{ "registration-required", "auth" },
		{ "remote-server-not-found", "cancel" },
		{ "remote-server-timeout", "wait" },
		{ "resource-constraint", "wait" },
		{ "service-unavailable", "cancel" },
		{ "subscription-required", "auth" },
		{ "undefined-condition", "cancel" },
		{ "unexpected-request", "wait" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].cond, cond) == 0) {
			return map[i].type;
		}
	}
	return "cancel";
}

struct xml_node *
stanza_error_reply(const struct xml_node *st, const char *type,
    const char *cond, const char *text)
{
	struct xml_node *reply = xml_new(st->name, XML_NS_CLIENT);
	struct xml_node *err;

	swap_addresses(reply, st);
	xml_set_attr(reply, "type", "error");
	err = xml_add(reply, "error", NULL);
	xml_set_attr(err, "type", type ? type : stanza_error_type(cond));
	xml_add(err, cond, NS_STANZAS);
	if (text != NULL) {
		xml_add_text_child(err, "text", NS_STANZAS, text);
	}
	return reply;
}

struct xml_node *
stanza_result(const struct xml_node *iq)
{
	struct xml_node *reply = xml_new("iq", XML_NS_CLIENT);

	swap_addresses(reply, iq);
	xml_set_attr(reply, "type", "result");
	return reply;
}

int
stanza_is_error(const struct xml_node *st)
{
	const char *type = xml_attr(st, "type");

	return type != NULL && strcmp(type, "error") == 0;
}
