/*
 * avatar.h - XEP-0398: an account's avatar between its vCard photo
 * (XEP-0054/XEP-0153, kept by services.c) and its XEP-0084 PEP nodes
 * urn:xmpp:avatar:data and urn:xmpp:avatar:metadata, as Prosody's
 * mod_vcard_legacy does.  services.c owns the vCard; this file reads and
 * writes only PEP.
 */
#ifndef UXMPPD_AVATAR_H
#define UXMPPD_AVATAR_H

#include "xml.h"

struct pubsub_event;

/* SHA-1 hex (XEP-0084 §4.1 item ids, XEP-0153 §4.1 hashes) with NUL. */
#define AVATAR_HASH_BYTES	(2 * 20 + 1)

/*
 * XEP-0398 §3.2: vCard vcard of bare was stored.  When it holds a photo
 * (PHOTO/BINVAL, base64), publish it on bare's behalf: the image to
 * urn:xmpp:avatar:data, then one <info/> to urn:xmpp:avatar:metadata
 * (item ids the SHA-1 hex, nodes created with access open as Prosody),
 * unless the metadata node already names that image.  Borrowed.
 */
void	avatar_from_vcard(const char *bare, const struct xml_node *vcard);

/* What a metadata event says the vCard photo now is. */
struct avatar_photo {
	char	 hash[AVATAR_HASH_BYTES];	/* "" with removed */
	char	 type[64];			/* MIME type, may be "" */
	char	*b64;				/* the image; caller frees */
	int	 removed;			/* avatar publishing disabled */
};

/*
 * XEP-0398 §3.1: is ev a publish to an account's urn:xmpp:avatar:metadata
 * node?  1 with *out the photo its <info/> without url names (fetched
 * from the data node, which must be open access (§6), its SHA-1 checked)
 * or removed set for an empty <metadata/> (XEP-0084 §4.2); 0 for any
 * other event, or one naming no usable image.  Caller frees out->b64.
 */
int	avatar_from_event(const struct pubsub_event *ev,
	    struct avatar_photo *out);

#endif
