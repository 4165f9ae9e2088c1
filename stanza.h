/*
 * stanza.h - building replies: results and stanza errors (RFC 6120 §8.3).
 */
#ifndef UXMPPD_STANZA_H
#define UXMPPD_STANZA_H

#include "ns.h"
#include "xml.h"

/*
 * An error reply to st: same element name and id, from/to swapped,
 * type='error', with <error type='TYPE'><COND/>[<text/>]</error>.  type
 * NULL picks the usual type for cond.  Caller frees.  Never reply to a
 * stanza of type error (the caller checks with stanza_is_error()).
 */
struct xml_node *stanza_error_reply(const struct xml_node *st,
	    const char *type, const char *cond, const char *text);
/* <iq type='result'/> for iq, from/to swapped, same id.  Caller frees. */
struct xml_node *stanza_result(const struct xml_node *iq);
/* Is st of type 'error'? */
int	stanza_is_error(const struct xml_node *st);
/* The RFC 6120 §8.3.2 error type usually paired with cond. */
const char *stanza_error_type(const char *cond);

#endif
