/*
 * pubsub_internal.h - what pubsub.c and pubsub_config.c share; not for
 * other files.
 */
#ifndef UXMPPD_PUBSUB_INTERNAL_H
#define UXMPPD_PUBSUB_INTERNAL_H

#include "pubsub.h"

/* Is service an account's (PEP) rather than the pubsub.<domain> one? */
int	pubsub_is_pep(const char *service);
/* The index of v in names[0..n-1] into *out: 0, or -1 when absent. */
int	pubsub_parse_enum(const char *v, const char *const *names, int n,
	    int *out);
/* Does precondition p hold for c?  FORM_TYPE always does; "max" matches
 * the cap; booleans compare by meaning ("true" equals "1"). */
int	pubsub_precond_holds(const struct pubsub_config *c,
	    const struct pubsub_precond *p);

#endif
