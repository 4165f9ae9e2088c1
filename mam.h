/*
 * mam.h - message archive management (XEP-0313 urn:xmpp:mam:2, and
 * urn:xmpp:mam:1 answered alike) over
 * archive.c: which messages are archived (XEP-0334 hints, the XEP-0441
 * preferences), their XEP-0359 stanza-ids, and the query, metadata and
 * preferences iqs of an account's or a room's archive.
 */
#ifndef UXMPPD_MAM_H
#define UXMPPD_MAM_H

#include "xml.h"

/*
 * Remove every <stanza-id/> from msg whose 'by' is at this server's
 * domain or its MUC domain: only this server adds those (XEP-0359 §5),
 * so a client's must go before its message travels.
 */
void	mam_strip_stanza_ids(struct xml_node *msg);

/* Does msg carry a stanza-id by the archive owner (already archived
 * there, e.g. delivered again by stream management)? */
int	mam_has_stanza_id(const struct xml_node *msg, const char *owner);

/*
 * Archive msg in the archive of local account owner (its peer: with, a
 * JID; NULL: not archived) if its type, hints and owner's preferences say
 * so, and it is not there already (it carries owner's stanza-id).
 * Returns a copy of msg with the <stanza-id by=owner/> added, to deliver
 * in its place (caller frees), or NULL when it was not archived (or on a
 * write error, logged).
 */
struct xml_node *mam_archive_user(const struct xml_node *msg,
	    const char *owner, const char *with);

/*
 * Archive groupchat msg (as the room sends it, from the occupant's room
 * JID) in room's archive and add the room's <stanza-id by=room/>.
 * real_jid: the sender's bare JID, kept in a muc#user <x/> in a
 * non-anonymous room (XEP-0313 §5.1.2), else NULL.  1 when archived, 0
 * when not.
 */
int	mam_archive_room(struct xml_node *msg, const char *room,
	    const char *real_jid);

/* Is ns a MAM namespace this server answers (urn:xmpp:mam:2 or :1)? */
int	mam_is_ns(const char *ns);

/*
 * An iq with a MAM payload q (mam_is_ns()) to account bare (own: from the
 * account itself; any other requester gets forbidden): query (get: the
 * form; set: the results), metadata, prefs.  Replies through route.h.
 */
void	mam_account_iq(const struct xml_node *iq, const struct xml_node *q,
	    const char *bare, int own);

/*
 * The same for room's archive; the MUC service decides who may read it
 * (allowed 0: the reply is forbidden) and whether results show the
 * senders' real JIDs (show_jids: a non-anonymous room, as Prosody).
 * Rooms have no preferences.
 */
void	mam_room_iq(const struct xml_node *iq, const struct xml_node *q,
	    const char *room, int allowed, int show_jids);

/* Account or room deleted: its archive and preferences go. */
void	mam_archive_removed(const char *bare);

#endif
