/*
 * pep.c - XEP-0163 PEP and the pubsub core's notifications: see pep.h.
 */
#include "pep.h"

#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "log.h"
#include "ns.h"
#include "pubsub.h"
#include "pubsub_iq.h"
#include "roster.h"
#include "route.h"
#include "stanza.h"
#include "uxlimits.h"

/* XEP-0060 §6.1.3: presence and roster access, by the owner's roster. */
static int
can_see(void *ud, const char *owner, const char *requester,
    enum pubsub_access model)
{
	char bare[JID_MAX + 1];
	const struct roster_item *it;

	(void)ud;
	if (jid_bare(requester, bare, sizeof(bare)) != 0) {
		return 0;
	}
	if (model == PUBSUB_ACCESS_PRESENCE) {
		return roster_has_from(owner, bare);
	}
	/* roster: any contact in a group; no groups-allowed list yet */
	it = roster_find(owner, bare);
	return it != NULL && it->ngroups > 0;
}

/* The event's <message/>, from the service, type headline (XEP-0060
 * §7.1.2.1 says the service MAY; clients expect it).  Caller frees. */
static struct xml_node *
event_message(const struct pubsub_event *ev)
{
	struct xml_node *frag, *msg = NULL;
	int err = 0;

	frag = xml_parse_fragment(ev->stanza, strlen(ev->stanza),
	    XML_NS_CLIENT, &err);
	if (frag != NULL && xml_child(frag, NULL, NULL) != NULL) {
		msg = xml_clone(xml_child(frag, NULL, NULL));
	} else {
		log_err("pep: cannot parse a notification (%d)", err);
	}
	xml_free(frag);
	if (msg == NULL) {
		return NULL;
	}
	xml_set_attr(msg, "from", ev->service);
	xml_set_attr(msg, "type", "headline");
	return msg;
}

static void
on_notify(void *ud, const struct pubsub_event *ev)
{
	struct xml_node *msg;
	size_t i;

	(void)ud;
	if (ev->nsubs == 0 || (msg = event_message(ev)) == NULL) {
		return;
	}
	for (i = 0; i < ev->nsubs; i++) {
		xml_set_attr(msg, "to", ev->subs[i]);
		route_stanza(msg);
	}
	xml_free(msg);
}

static const struct pubsub_hooks hooks = { can_see, on_notify, NULL };

/* See pep.h. */
int
pep_init(void)
{
	return pubsub_init(&hooks);
}

/* See pep.h. */
void
pep_shutdown(void)
{
	pubsub_shutdown();
}

/* See pep.h. */
int
pep_account_iq(const struct xml_node *iq, const char *bare)
{
	const struct xml_node *el = xml_child(iq, NULL, NULL);
	const char *type = xml_attr(iq, "type");
	const char *from = xml_attr(iq, "from");
	struct xml_node *reply, *payload = NULL;
	int rc;

	if (el == NULL || strcmp(el->name, "pubsub") != 0 ||
	    (strcmp(el->ns, NS_PUBSUB) != 0 &&
	    strcmp(el->ns, NS_PUBSUB_OWNER) != 0) || type == NULL) {
		return 0;
	}
	rc = pubsub_iq_handle(bare, from != NULL ? from : bare,
	    strcmp(type, "set") == 0, el, 1, &payload);
	if (rc == 0) {
		reply = stanza_result(iq);
		if (payload != NULL) {
			xml_copy_into(reply, payload);
			xml_free(payload);
		}
	} else {
		reply = stanza_result(iq);
		xml_set_attr(reply, "type", "error");
		pubsub_iq_error(reply, rc);
	}
	route_stanza(reply);
	xml_free(reply);
	return 1;
}

/* See pep.h. */
void
pep_account_iq_response(const struct xml_node *iq, const char *bare)
{
	(void)iq;
	(void)bare;
}

/* See pep.h. */
void
pep_presence(const char *bare, const struct xml_node *pres)
{
	(void)bare;
	(void)pres;
}

/* See pep.h. */
void
pep_account_removed(const char *bare)
{
	(void)bare;
}
