/*
 * muc.h - the multi-user chat service (XEP-0045) at conference.<domain>.
 *
 * Protocol only: stanzas in through muc_handle(), stanzas out through
 * route.h; persistent rooms, affiliations and registered nicks through
 * store.h.  Never touches a socket.
 */
#ifndef UXMPPD_MUC_H
#define UXMPPD_MUC_H

#include "xml.h"

/* Start the service: load persistent rooms from the store (store_open()
 * must have run).  0, or -1 with a message logged. */
int	muc_init(void);
void	muc_shutdown(void);
/* The server is stopping: every occupant is told it left the room, with
 * status 332 (XEP-0045 §15 registry; "service shut down"). */
void	muc_announce_shutdown(void);

/*
 * A stanza addressed to the service or to a room/occupant JID.  Its 'from'
 * is the sender's full JID, stamped by the server.  Borrowed.
 */
void	muc_handle(const struct xml_node *stanza);

/* A client session ended without leaving its rooms: act as if it sent
 * unavailable presence to each (status from its last presence). */
void	muc_session_gone(const char *full_jid);
/* An account was deleted: remove its affiliations and take it out of
 * rooms as Prosody does (status 321 in members-only rooms). */
void	muc_account_removed(const char *bare_jid);
/* Rooms in the table, destroyed ones not yet freed included. */
size_t	muc_room_count(void);
/* Occupants of all rooms (for /metrics; walks the rooms). */
size_t	muc_occupant_count(void);

#endif
