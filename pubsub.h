/*
 * pubsub.h - the XEP-0060 publish-subscribe core: services, nodes, items,
 * subscriptions.  Pure protocol state: no sockets, no c2s, no routing.
 * Access decisions that need the roster come from a caller's callback,
 * and notifications go out through another; the core never sends.
 *
 * A service is named by its owner: an account's bare JID (PEP) or the
 * pubsub.<domain> service's JID.  Nodes live in a service; items in a node
 * are ordered by publish time (oldest first).  Nodes, subscriptions and
 * the items of persist_items nodes are kept in the store (kinds "ps-node",
 * "ps-sub", "ps-item") and reloaded by pubsub_init().
 */
#ifndef UXMPPD_PUBSUB_H
#define UXMPPD_PUBSUB_H

#include <stddef.h>

#include "uxlimits.h"

/*
 * The limits (XEP-0060 §7.1.3.6, §8.1.3) come from the configuration:
 * pubsub_max_items (the cap of pubsub#max_items, also what "max" means),
 * pubsub_max_payload_bytes (one serialised item), pubsub_max_nodes (the
 * pubsub.<domain> service) and pep_max_nodes (each account); defaults in
 * uxlimits.h.  A service whose name holds '@' is an account's (PEP).
 */
#define PUBSUB_DEFAULT_MAX_ITEMS	20	/* a service node's default */
#define PEP_DEFAULT_MAX_ITEMS		1	/* a PEP node's (XEP-0163 §4.3) */
#define PUBSUB_ID_BYTES			(PUBSUB_MAX_NAME_BYTES + 1)

enum pubsub_access {
	PUBSUB_ACCESS_OPEN,
	PUBSUB_ACCESS_PRESENCE,
	PUBSUB_ACCESS_ROSTER,
	PUBSUB_ACCESS_WHITELIST,
};

enum pubsub_publish_model {
	PUBSUB_PUBLISH_PUBLISHERS,
	PUBSUB_PUBLISH_SUBSCRIBERS,
	PUBSUB_PUBLISH_OPEN,
};

enum pubsub_send_last {
	PUBSUB_SEND_LAST_NEVER,
	PUBSUB_SEND_LAST_ON_SUB,
	PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE,
};

/* pubsub#itemreply; the numbers are stored (ps-node records). */
enum pubsub_itemreply {
	PUBSUB_ITEMREPLY_OWNER = 0,
	PUBSUB_ITEMREPLY_PUBLISHER = 1,
	PUBSUB_ITEMREPLY_NONE = 2,
};

/* The node configuration (XEP-0060 §16.4.4 pubsub#node_config). */
struct pubsub_config {
	int	max_items;		/* 1..pubsub_max_items */
	int	persist_items;
	enum pubsub_access access_model;
	enum pubsub_publish_model publish_model;
	int	notify_retract;
	enum pubsub_itemreply itemreply; /* publisher: items name it */
	enum pubsub_send_last send_last;
	int	deliver_payloads;
	int	deliver_notifications;	/* item events at all */
	int	notify_delete;
	char	title[PUBSUB_MAX_TITLE_BYTES + 1];
	char	description[PUBSUB_MAX_TITLE_BYTES + 1];
	char	payload_type[PUBSUB_MAX_TITLE_BYTES + 1]; /* pubsub#type */
};

/* Every failure, mapped by pubsub_err_condition() and pubsub_err_child(). */
enum pubsub_err {
	PUBSUB_OK = 0,
	PUBSUB_ERR_ITEM_NOT_FOUND = -1,	/* node or item absent */
	PUBSUB_ERR_FORBIDDEN = -2,	/* not owner / not a publisher */
	PUBSUB_ERR_NOT_AUTHORIZED_PRESENCE = -3, /* presence-subscription-required */
	PUBSUB_ERR_NOT_AUTHORIZED_ROSTER = -4,	/* not-in-roster-group */
	PUBSUB_ERR_NOT_ALLOWED_WHITELIST = -5,	/* closed-node */
	PUBSUB_ERR_CONFLICT = -6,	/* node exists */
	PUBSUB_ERR_PRECONDITION = -7,	/* publish-options mismatch */
	PUBSUB_ERR_PAYLOAD_TOO_BIG = -8,
	PUBSUB_ERR_MAX_NODES = -9,
	PUBSUB_ERR_NODEID_REQUIRED = -10,
	PUBSUB_ERR_ITEM_REQUIRED = -11,	/* retract without an id */
	PUBSUB_ERR_BAD_CONFIG = -12,	/* bad field value */
	PUBSUB_ERR_NOT_SUBSCRIBED = -13,	/* unexpected-request + not-subscribed */
	PUBSUB_ERR_INVALID_JID = -14,	/* bad-request + invalid-jid */
	PUBSUB_ERR_STORE = -15,		/* internal-server-error */
	PUBSUB_ERR_BAD_REQUEST_XML = -16, /* malformed or unsupported request */
	PUBSUB_ERR_FEATURE = -17,	/* feature-not-implemented */
};

/* The RFC 6120 stanza condition, e.g. "item-not-found". Static string. */
const char *pubsub_err_condition(enum pubsub_err e);
/* The pubsub#errors child name, e.g. "payload-too-big", or NULL. */
const char *pubsub_err_child(enum pubsub_err e);
/* The error type: "cancel", "auth", "modify" or "wait". */
const char *pubsub_err_type(enum pubsub_err e);

/*
 * One notification (XEP-0060 §7.1.2.1, §7.2.2.1, §8.4.2, §8.5.2), built
 * once for every recipient: stanza is a serialised <message> without
 * 'to', 'from' or 'type' (the router sets them).  subs are the node's
 * explicit subscribers (bare or full JIDs).  With single set, the event
 * is for subs[0] alone (the last item on subscription, §6.1.7), so PEP
 * must not widen it to contacts.  All borrowed for the call.
 */
struct pubsub_event {
	const char	*service;
	const char	*node;
	enum pubsub_access access_model;
	const char	*stanza;
	const char *const *subs;
	size_t		 nsubs;
	int		 single;
};

/*
 * What the caller supplies.  can_see returns non-zero when requester may
 * read owner's node under the presence or roster access model (roster.c's
 * business, not ours).  notify delivers one event, and is called even
 * when the node has no explicit subscribers (PEP adds its contacts).
 */
struct pubsub_hooks {
	int	(*can_see)(void *ud, const char *owner, const char *requester,
		    enum pubsub_access model);
	void	(*notify)(void *ud, const struct pubsub_event *ev);
	void	*ud;
};

/*
 * What a service decides beyond the node configuration (the pubsub.<domain>
 * component sets it; PEP needs none): is_admin says bare is an owner of
 * every node of service (its administrators), expose_publisher that
 * service's items always carry their publisher's JID.  Either may be NULL.
 */
struct pubsub_policy {
	int	(*is_admin)(const char *service, const char *bare);
	int	(*expose_publisher)(const char *service);
};

/* Load nodes, items, affiliations and subscriptions from the open store;
 * hooks copied.  Returns 0, or -1 if the store holds an unreadable node
 * record. */
int	pubsub_init(const struct pubsub_hooks *hooks);
/* Drop all in-memory state (the store is untouched; the policy stays). */
void	pubsub_shutdown(void);
/* Set the policy (copied; NULL: none). */
void	pubsub_set_policy(const struct pubsub_policy *p);

/* The defaults for a new service node, as Prosody's: max_items
 * PUBSUB_DEFAULT_MAX_ITEMS, persist on, access open, publishers,
 * send_last never, itemreply none, every notification on. */
void	pubsub_config_default(struct pubsub_config *c);
/* The defaults for a new node of service: pubsub_config_default, or for
 * an account's (PEP) pubsub_config_pep_default. */
void	pubsub_config_default_for(const char *service,
	    struct pubsub_config *c);
/* The most items a node may keep (pubsub_max_items). */
int	pubsub_max_items(void);
/*
 * Set one form field (var such as "pubsub#max_items", value as in the
 * form; "max" allowed for max_items).  Unknown vars other than FORM_TYPE
 * and bad values: PUBSUB_ERR_BAD_CONFIG.
 */
int	pubsub_config_set(struct pubsub_config *c, const char *var,
	    const char *value);
/* The field's form value into out (cap bytes); 0, or BAD_CONFIG for an
 * unknown var. */
int	pubsub_config_get(const struct pubsub_config *c, const char *var,
	    char *out, size_t cap);
/* The vars pubsub_config_get knows, NULL-terminated; static. */
const char *const *pubsub_config_vars(void);

/* Create node in service, owned by requester (cfg NULL: the defaults
 * for service).  CONFLICT, MAX_NODES, NODEID_REQUIRED, STORE. */
int	pubsub_create(const char *service, const char *node,
	    const char *requester, const struct pubsub_config *cfg);
/* Copy the node's config to out. ITEM_NOT_FOUND, FORBIDDEN (not owner). */
int	pubsub_get_config(const char *service, const char *node,
	    const char *requester, struct pubsub_config *out);
/* Replace the config (owner only); lowering max_items trims the oldest,
 * turning persist_items off removes the stored items. */
int	pubsub_configure(const char *service, const char *node,
	    const char *requester, const struct pubsub_config *cfg);
/* Delete node, its items and subscriptions; subscribers are told
 * (XEP-0060 §8.4.2).  Owner only. */
int	pubsub_delete(const char *service, const char *node,
	    const char *requester);
/* Remove every item; subscribers get a <purge/> (§8.5.2).  Owner only. */
int	pubsub_purge(const char *service, const char *node,
	    const char *requester);

/* One precondition of publish-options (§7.1.5): var = value. */
struct pubsub_precond {
	const char *var;
	const char *value;
};

/*
 * Publish payload (one serialised element, or NULL/"" for none) as item
 * id (NULL or "": one is generated) and write the id used to id_out
 * (PUBSUB_ID_BYTES).  A same id replaces the item and moves it to newest.
 * With autocreate, an absent node is created with defaults and the
 * preconditions applied (PEP, XEP-0163 §3).  Each precondition must equal
 * the node's field or PRECONDITION is returned (the field's var is then
 * pubsub_precondition_var()).  Also FORBIDDEN, PAYLOAD_TOO_BIG (nothing
 * stored, nobody notified), ITEM_NOT_FOUND, MAX_NODES, STORE.  The item
 * records requester's bare JID as its publisher.  Notifies subscribers.
 */
int	pubsub_publish(const char *service, const char *node,
	    const char *requester, const char *id, const char *payload,
	    const struct pubsub_precond *pre, size_t npre, int autocreate,
	    char *id_out);
/* The var of the precondition that failed last (static; "" if none). */
const char *pubsub_precondition_var(void);
/* Retract item id; with notify_retract, subscribers get <retract/>.
 * ITEM_REQUIRED, ITEM_NOT_FOUND, FORBIDDEN. */
int	pubsub_retract(const char *service, const char *node,
	    const char *requester, const char *id, int notify);

/*
 * Call fn for the item with id (if id set), else for the max newest (0:
 * all), oldest first.  publisher is the item's publisher when the node
 * shows it (the service's expose_publisher, or pubsub#itemreply
 * publisher), else NULL.  All borrowed for the call.  ITEM_NOT_FOUND
 * (node or id), NOT_AUTHORIZED_*, NOT_ALLOWED_WHITELIST, FORBIDDEN
 * (outcast).
 */
int	pubsub_items(const char *service, const char *node,
	    const char *requester, const char *id, size_t max,
	    void (*fn)(void *ud, const char *id, const char *publisher,
	    const char *payload), void *ud);

/* Subscribe jid (its bare JID must be requester's) to node; the last
 * item is sent if send_last_published_item says so (§6.1.7), or held
 * until pubsub_release_last() while pubsub_hold_last() is on.
 * INVALID_JID, ITEM_NOT_FOUND, NOT_AUTHORIZED_*, NOT_ALLOWED_WHITELIST. */
int	pubsub_subscribe(const char *service, const char *node,
	    const char *requester, const char *jid);
/* NOT_SUBSCRIBED, INVALID_JID, ITEM_NOT_FOUND. */
int	pubsub_unsubscribe(const char *service, const char *node,
	    const char *requester, const char *jid);

/* Subscriptions (node, jid) in service: requester's own (node NULL: all
 * nodes), or, for the node's owner with owner_view, every subscriber. */
int	pubsub_subscriptions(const char *service, const char *node,
	    const char *requester, int owner_view,
	    void (*fn)(void *ud, const char *node, const char *jid), void *ud);
/*
 * While on, the last item a subscription sends waits until
 * pubsub_release_last(), so the subscribe result can leave first
 * (§6.1.7 follows §6.1.2).  pubsub_release_last() sends it (if the node
 * still has an item) and turns the hold off.
 */
void	pubsub_hold_last(void);
void	pubsub_release_last(void);

/* Affiliations (node, jid, "owner"/"publisher"/"member"/"outcast") in
 * service as seen by requester: its own, or every one of node for its
 * owner. */
int	pubsub_affiliations(const char *service, const char *node,
	    const char *requester, int owner_view,
	    void (*fn)(void *ud, const char *node, const char *jid,
	    const char *affiliation), void *ud);

/* The defaults of a node PEP creates on publish (XEP-0163 §3, as
 * Prosody): one item, presence access, last item on subscription and
 * presence. */
void	pubsub_config_pep_default(struct pubsub_config *c);
/*
 * Set jid's affiliation with node (§8.9.2) to aff: "owner", "publisher",
 * "member", "outcast" or "none" (removed).  Owners only (FORBIDDEN);
 * ITEM_NOT_FOUND; INVALID_JID; BAD_CONFIG for another affiliation or for
 * changing the creator's.  An outcast loses its subscriptions.
 */
int	pubsub_set_affiliation(const char *service, const char *node,
	    const char *requester, const char *jid, const char *aff);

/*
 * The configuration of node for disco (§5.4 meta-data) and node lists:
 * 0 with *out filled when requester may see the node (everyone but an
 * outcast or, for presence/roster/whitelist nodes, who cannot read it),
 * else ITEM_NOT_FOUND or the access error.
 */
int	pubsub_node_meta(const char *service, const char *node,
	    const char *requester, struct pubsub_config *out);

/* PEP (XEP-0163 §4.3.2): send jid the newest item of node, if it has
 * one, send_last_published_item is not "never" and jid may read it.
 * Returns 1 when sent. */
int	pubsub_send_last(const char *service, const char *node,
	    const char *jid);
/* Call fn for each node of service (disco#items, PEP). */
void	pubsub_nodes(const char *service,
	    void (*fn)(void *ud, const char *node), void *ud);

/* Drop service's nodes with their items, subscriptions and
 * affiliations, and the subscriptions and affiliations of the JID
 * service (an account) with any node: the account was deleted.  Nobody
 * is notified. */
void	pubsub_remove_service(const char *service);

/* Number of nodes in service (for disco and the limit). */
size_t	pubsub_node_count(const char *service);

#endif
