/*
 * sm.h - stream management (XEP-0198: acks, resumption within a window,
 * redelivery of unacknowledged stanzas) and client state indication
 * (XEP-0352) for client sessions.
 *
 * c2s.c owns a session's struct sm (NULL until <enable/>) and calls these
 * hooks; sm.c calls back into c2s.c through the "for sm.c" section of
 * c2s.h.  A resumable session whose connection drops without
 * </stream:stream> hibernates: it stays in the routing table, its
 * stanzas are queued, and a <resume/> on a new authenticated stream takes
 * it over.  When the window passes, sm_tick() ends it for real.
 */
#ifndef UXMPPD_SM_H
#define UXMPPD_SM_H

#include <stddef.h>
#include <time.h>

#include "ns.h"
#include "uxlimits.h"
#include "xml.h"

#define SM_ACK_EVERY	5	/* request an ack after this many stanzas */
#define SM_ID_BYTES	18	/* random bytes in an SM-ID (36 hex chars) */

/* What the post-authentication stream features add. */
#define SM_FEATURES	"<sm xmlns='" NS_SM "'/><csi xmlns='" NS_CSI "'/>"

struct c2s;
struct sm;

/*
 * A top-level element in NS_SM or NS_CSI from an authenticated client,
 * bound (OPEN) or not.  *smp is the session's state: created by a
 * successful <enable/>; a <resume/> moves another session's state into
 * it (through c2s_adopt()).  Borrowed el.
 */
void	sm_element(struct c2s *s, struct sm **smp, const struct xml_node *el,
	    int bound);
/* A stanza from the client was handled: count it for 'h'. */
void	sm_inbound(struct sm *sm);
/*
 * A serialized stanza (one) for the client: keep it until acked, and
 * write it (with an ack request every SM_ACK_EVERY stanzas) when the
 * session has a live stream.  While the client is inactive (CSI) a
 * presence may be held back instead.  Returns 0, or -1 when the unacked
 * queue is over its cap (the caller ends the stream; a hibernating
 * session is ended at the next sm_tick()).
 */
int	sm_send(struct sm *sm, const char *data, size_t len);
/* Once a second per live stream: request an ack for stanzas sent since
 * the last request. */
void	sm_conn_tick(struct sm *sm);
/*
 * The session's connection is going away without a clean close: keep it
 * for the resumption window.  Returns 1 when it now hibernates (the
 * caller keeps its c2s alive, minus the connection), 0 when it is not
 * resumable.
 */
int	sm_hibernate(struct sm *sm);
/* The session will not be resumed: forget it at the next sm_tick(). */
void	sm_kill(struct sm *sm);
/*
 * The session ends for real (its route entry is already gone): re-route
 * its unacknowledged stanzas as if sent to an unavailable resource
 * (messages to another resource or offline storage, iq requests bounced
 * with <service-unavailable/>), then free sm.  jid: the session's full JID.
 */
void	sm_end(struct sm *sm, const char *jid);
/* Module tick (server.c, once a second): end the sessions whose
 * resumption window passed. */
void	sm_tick(time_t now);
/* Server stopping: end every hibernating session now (unavailable
 * presence, unacknowledged messages to offline storage). */
void	sm_shutdown(void);
/* Sessions hibernating now (for tests and stats). */
size_t	sm_hibernating(void);

#endif
