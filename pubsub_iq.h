/*
 * pubsub_iq.h - the XEP-0060 XML layer over pubsub.c: a <pubsub/> or
 * <pubsub xmlns='...#owner'/> iq child in, the reply payload or an
 * <error/> out.  No routing: the caller hands it the iq's child and sends
 * what comes back.
 */
#ifndef UXMPPD_PUBSUB_IQ_H
#define UXMPPD_PUBSUB_IQ_H

struct xml_node;

/*
 * Run the request in el (the iq's <pubsub/> child) against service for
 * requester (a full or bare JID); is_set is 1 for type='set'.  With
 * autocreate (PEP, XEP-0163 §3), publish creates an absent node.
 * Returns 0 with *reply the result payload (caller xml_free()s; NULL for
 * an empty result), or a negative enum pubsub_err (see
 * pubsub_iq_error()); unsupported or malformed requests give
 * PUBSUB_ERR_BAD_REQUEST_XML.
 */
int	pubsub_iq_handle(const char *service, const char *requester,
	    int is_set, const struct xml_node *el, int autocreate,
	    struct xml_node **reply);

/* Append to parent the <error type=...><COND xmlns=stanzas/>[<CHILD
 * xmlns=pubsub#errors/>]</error> for err (RFC 6120 §8.3, XEP-0060 §7). */
void	pubsub_iq_error(struct xml_node *parent, int err);
/* The error reply to iq for err: from/to swapped, same id, type error,
 * the <error/> of pubsub_iq_error().  Caller frees. */
struct xml_node *pubsub_iq_error_reply(const struct xml_node *iq, int err);

#endif
