/*
 * pubsub_config.c - the node configuration of pubsub.h (XEP-0060 §16.4.4
 * pubsub#node_config): defaults for the service and for PEP, the form's
 * fields as text both ways, and publish-options preconditions (§7.1.5).
 * No node state: pubsub.c keeps the nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pubsub.h"
#include "pubsub_internal.h"
#include "uxlimits.h"

/* In the order of Prosody's node configuration form. */
static const char *const config_vars[] = {
	"pubsub#title", "pubsub#description", "pubsub#type",
	"pubsub#max_items", "pubsub#persist_items", "pubsub#access_model",
	"pubsub#roster_groups_allowed", "pubsub#publish_model",
	"pubsub#send_last_published_item", "pubsub#deliver_notifications",
	"pubsub#deliver_payloads", "pubsub#notification_type",
	"pubsub#notify_delete", "pubsub#notify_retract", "pubsub#itemreply",
	NULL,
};

static const char *const access_names[] = {
	"open", "presence", "roster", "whitelist",
};
static const char *const publish_names[] = {
	"publishers", "subscribers", "open",
};
static const char *const send_last_names[] = {
	"never", "on_sub", "on_sub_and_presence",
};
static const char *const itemreply_names[] = {
	"owner", "publisher", "none",
};

/* See pubsub_internal.h. */
int
pubsub_is_pep(const char *service)
{
	return strchr(service, '@') != NULL;
}

/* See pubsub.h. */
int
pubsub_max_items(void)
{
	return (int)config_get()->pubsub_max_items;
}

/* See pubsub.h. */
void
pubsub_config_default(struct pubsub_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_items = PUBSUB_DEFAULT_MAX_ITEMS;
	if (c->max_items > pubsub_max_items()) {
		c->max_items = pubsub_max_items();
	}
	c->persist_items = 1;
	c->access_model = PUBSUB_ACCESS_OPEN;
	c->publish_model = PUBSUB_PUBLISH_PUBLISHERS;
	c->notify_retract = 1;
	c->itemreply = PUBSUB_ITEMREPLY_NONE;
	c->send_last = PUBSUB_SEND_LAST_NEVER;
	c->deliver_payloads = 1;
	c->deliver_notifications = 1;
	c->notify_delete = 1;
}

/* See pubsub.h. */
void
pubsub_config_default_for(const char *service, struct pubsub_config *c)
{
	if (pubsub_is_pep(service)) {
		pubsub_config_pep_default(c);
	} else {
		pubsub_config_default(c);
	}
}

/* A text field: at most PUBSUB_MAX_TITLE_BYTES, no tab or newline (the
 * record separators). */
static int
set_text(char *dst, const char *value)
{
	if (strlen(value) > PUBSUB_MAX_TITLE_BYTES ||
	    strpbrk(value, "\t\n\r") != NULL) {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	strcpy(dst, value);
	return PUBSUB_OK;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*out = 1;
	} else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0) {
		*out = 0;
	} else {
		return -1;
	}
	return 0;
}

/* See pubsub_internal.h. */
int
pubsub_parse_enum(const char *v, const char *const *names, int n, int *out)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

int
pubsub_config_set(struct pubsub_config *c, const char *var,
    const char *value)
{
	int v;
	char *end;
	long l;

	if (strcmp(var, "FORM_TYPE") == 0) {
		return PUBSUB_OK;
	}
	if (strcmp(var, "pubsub#max_items") == 0) {
		if (strcmp(value, "max") == 0) {
			c->max_items = pubsub_max_items();
			return PUBSUB_OK;
		}
		l = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || l < 1 ||
		    l > pubsub_max_items()) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
		c->max_items = (int)l;
	} else if (strcmp(var, "pubsub#persist_items") == 0) {
		if (parse_bool(value, &c->persist_items) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
	} else if (strcmp(var, "pubsub#access_model") == 0) {
		if (pubsub_parse_enum(value, access_names, 4, &v) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
		c->access_model = (enum pubsub_access)v;
	} else if (strcmp(var, "pubsub#publish_model") == 0) {
		if (pubsub_parse_enum(value, publish_names, 3, &v) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
		c->publish_model = (enum pubsub_publish_model)v;
	} else if (strcmp(var, "pubsub#notify_retract") == 0) {
		if (parse_bool(value, &c->notify_retract) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
	} else if (strcmp(var, "pubsub#itemreply") == 0) {
		if (pubsub_parse_enum(value, itemreply_names, 3, &v) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
		c->itemreply = (enum pubsub_itemreply)v;
	} else if (strcmp(var, "pubsub#send_last_published_item") == 0) {
		if (pubsub_parse_enum(value, send_last_names, 3, &v) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
		c->send_last = (enum pubsub_send_last)v;
	} else if (strcmp(var, "pubsub#deliver_payloads") == 0) {
		if (parse_bool(value, &c->deliver_payloads) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
	} else if (strcmp(var, "pubsub#deliver_notifications") == 0) {
		if (parse_bool(value, &c->deliver_notifications) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
	} else if (strcmp(var, "pubsub#notify_delete") == 0) {
		if (parse_bool(value, &c->notify_delete) != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
	} else if (strcmp(var, "pubsub#notification_type") == 0) {
		/* Only headline: the router sends every event as one. */
		if (strcmp(value, "headline") != 0) {
			return PUBSUB_ERR_BAD_CONFIG;
		}
	} else if (strcmp(var, "pubsub#roster_groups_allowed") == 0) {
		/* No groups-allowed list yet: only the empty one. */
		if (*value != '\0') {
			return PUBSUB_ERR_BAD_CONFIG;
		}
	} else if (strcmp(var, "pubsub#title") == 0) {
		return set_text(c->title, value);
	} else if (strcmp(var, "pubsub#description") == 0) {
		return set_text(c->description, value);
	} else if (strcmp(var, "pubsub#type") == 0) {
		return set_text(c->payload_type, value);
	} else {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	return PUBSUB_OK;
}

int
pubsub_config_get(const struct pubsub_config *c, const char *var,
    char *out, size_t cap)
{
	const char *s = NULL;
	char num[16];

	if (strcmp(var, "pubsub#max_items") == 0) {
		snprintf(num, sizeof(num), "%d", c->max_items);
		s = num;
	} else if (strcmp(var, "pubsub#persist_items") == 0) {
		s = c->persist_items ? "1" : "0";
	} else if (strcmp(var, "pubsub#access_model") == 0) {
		s = access_names[c->access_model];
	} else if (strcmp(var, "pubsub#publish_model") == 0) {
		s = publish_names[c->publish_model];
	} else if (strcmp(var, "pubsub#notify_retract") == 0) {
		s = c->notify_retract ? "1" : "0";
	} else if (strcmp(var, "pubsub#itemreply") == 0) {
		s = itemreply_names[c->itemreply];
	} else if (strcmp(var, "pubsub#send_last_published_item") == 0) {
		s = send_last_names[c->send_last];
	} else if (strcmp(var, "pubsub#deliver_payloads") == 0) {
		s = c->deliver_payloads ? "1" : "0";
	} else if (strcmp(var, "pubsub#deliver_notifications") == 0) {
		s = c->deliver_notifications ? "1" : "0";
	} else if (strcmp(var, "pubsub#notify_delete") == 0) {
		s = c->notify_delete ? "1" : "0";
	} else if (strcmp(var, "pubsub#notification_type") == 0) {
		s = "headline";
	} else if (strcmp(var, "pubsub#roster_groups_allowed") == 0) {
		s = "";
	} else if (strcmp(var, "pubsub#title") == 0) {
		s = c->title;
	} else if (strcmp(var, "pubsub#description") == 0) {
		s = c->description;
	} else if (strcmp(var, "pubsub#type") == 0) {
		s = c->payload_type;
	} else {
		return PUBSUB_ERR_BAD_CONFIG;
	}
	snprintf(out, cap, "%s", s);
	return PUBSUB_OK;
}

const char *const *
pubsub_config_vars(void)
{
	return config_vars;
}

/* See pubsub_internal.h.  Does a precondition hold?  "max" matches the cap; booleans compare by
 * meaning ("true" equals "1"). */
int
pubsub_precond_holds(const struct pubsub_config *c, const struct pubsub_precond *p)
{
	struct pubsub_config want = *c;
	char have[PUBSUB_MAX_TITLE_BYTES + 1], got[PUBSUB_MAX_TITLE_BYTES + 1];

	if (strcmp(p->var, "FORM_TYPE") == 0) {
		return 1;
	}
	if (pubsub_config_get(c, p->var, have, sizeof(have)) != 0 ||
	    pubsub_config_set(&want, p->var, p->value) != 0) {
		return 0;
	}
	pubsub_config_get(&want, p->var, got, sizeof(got));
	return strcmp(have, got) == 0;
}

/* See pubsub.h. */
void
pubsub_config_pep_default(struct pubsub_config *c)
{
	pubsub_config_default(c);
	c->max_items = PEP_DEFAULT_MAX_ITEMS;
	c->access_model = PUBSUB_ACCESS_PRESENCE;
	c->send_last = PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE;
}
