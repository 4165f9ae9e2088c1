/*
 * pubsub_service.h - the XEP-0060 publish-subscribe service at its own
 * domain (config `pubsub_domain`, "pubsub.<domain>"; `pubsub = no` turns
 * it off), on the core of pubsub.c.  Local accounts (or only the service
 * administrators, `pubsub_create_nodes = admins`) create nodes; the
 * administrators (`admins`) are owners of every node.
 */
#ifndef UXMPPD_PUBSUB_SERVICE_H
#define UXMPPD_PUBSUB_SERVICE_H

/*
 * Register the domain with the router and set the core's policy (call
 * after pep_init(), which starts the core).  0, also when the service is
 * off; -1 when the router has no room for another domain.
 */
int	pubsub_service_init(void);

#endif
