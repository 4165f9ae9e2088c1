/*
 * ns.h - every XML namespace uxmppd speaks, in one place (the parser's
 * own, jabber:client and the stream namespace, are XML_NS_* in xml.h).
 */
#ifndef UXMPPD_NS_H
#define UXMPPD_NS_H

/* RFC 6120: streams, TLS, SASL, binding, stanza errors */
#define NS_JABBER_SERVER "jabber:server"	/* s2s content, never on c2s */
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_SASL_CB	"urn:xmpp:sasl-cb:0"	/* XEP-0440 */
#define NS_BIND		"urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION	"urn:ietf:params:xml:ns:xmpp-session"
#define NS_FRAMING	"urn:ietf:params:xml:ns:xmpp-framing"	/* RFC 7395 */
#define NS_STREAMS	"urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"

/* RFC 6121: roster */
#define NS_ROSTER	"jabber:iq:roster"
#define NS_ROSTERVER	"urn:xmpp:features:rosterver"

/* service discovery, data forms, commands, capabilities */
#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define NS_DATA		"jabber:x:data"
#define NS_COMMANDS	"http://jabber.org/protocol/commands"
#define NS_CAPS		"http://jabber.org/protocol/caps"

/* multi-user chat (XEP-0045, XEP-0421) */
#define NS_MUC		"http://jabber.org/protocol/muc"
#define NS_MUC_USER	"http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN	"http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER	"http://jabber.org/protocol/muc#owner"
#define NS_MUC_UNIQUE	"http://jabber.org/protocol/muc#unique"
#define NS_OCCUPANT_ID	"urn:xmpp:occupant-id:0"

/* IM extensions */
#define NS_CARBONS	"urn:xmpp:carbons:2"
#define NS_FORWARD	"urn:xmpp:forward:0"
#define NS_DELAY	"urn:xmpp:delay"
#define NS_HINTS	"urn:xmpp:hints"
#define NS_CHATSTATES	"http://jabber.org/protocol/chatstates"
#define NS_BLOCKING	"urn:xmpp:blocking"
#define NS_BLOCKING_ERRORS	"urn:xmpp:blocking:errors"
#define NS_SM		"urn:xmpp:sm:3"
#define NS_CSI		"urn:xmpp:csi:0"
#define NS_MAM		"urn:xmpp:mam:2"	/* XEP-0313 */
#define NS_MAM_EXT	"urn:xmpp:mam:2#extended"
#define NS_MAM1		"urn:xmpp:mam:1"	/* XEP-0313 0.5; as mam:2 */
#define NS_SID		"urn:xmpp:sid:0"	/* XEP-0359 */
#define NS_RSM		"http://jabber.org/protocol/rsm"	/* XEP-0059 */
#define NS_XDATA_VALIDATE	"http://jabber.org/protocol/xdata-validate"

/* the server's and accounts' own services */
#define NS_PING		"urn:xmpp:ping"
#define NS_VERSION	"jabber:iq:version"
#define NS_LAST		"jabber:iq:last"
#define NS_TIME		"urn:xmpp:time"
#define NS_PRIVATE	"jabber:iq:private"
#define NS_VCARD	"vcard-temp"
#define NS_VCARD_UPDATE	"vcard-temp:x:update"
#define NS_REGISTER	"jabber:iq:register"
#define NS_PARS		"urn:xmpp:pars:0"	/* XEP-0379 pre-auth tokens */
#define NS_SERVERINFO	"http://jabber.org/network/serverinfo"	/* XEP-0157 */
#define NS_EXTDISCO	"urn:xmpp:extdisco:2"	/* XEP-0215 */
#define NS_EXTDISCO_1	"urn:xmpp:extdisco:1"	/* XEP-0215 before 0.7 */
#define NS_HTTP_UPLOAD	"urn:xmpp:http:upload:0"	/* XEP-0363 */

/* bookmarks: XEP-0402 and the XEP-0048 forms it converts (XEP-0411) */
#define NS_BOOKMARKS2		"urn:xmpp:bookmarks:1"
#define NS_BOOKMARKS2_OLD	"urn:xmpp:bookmarks:0"	/* XEP-0402 0.3 */
#define NS_BOOKMARKS		"storage:bookmarks"
#define NS_BOOKMARKS_CONVERSION	"urn:xmpp:bookmarks-conversion:0"

/* avatars: XEP-0084 nodes, XEP-0398 conversion to the vCard photo */
#define NS_AVATAR_DATA		"urn:xmpp:avatar:data"
#define NS_AVATAR_METADATA	"urn:xmpp:avatar:metadata"
#define NS_PEP_VCARD_CONVERSION	"urn:xmpp:pep-vcard-conversion:0"

/* publish-subscribe (XEP-0060) */
#define NS_PUBSUB		"http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_OWNER		"http://jabber.org/protocol/pubsub#owner"
#define NS_PUBSUB_EVENT		"http://jabber.org/protocol/pubsub#event"
#define NS_PUBSUB_ERRORS	"http://jabber.org/protocol/pubsub#errors"
#define NS_PUBSUB_NODE_CONFIG	"http://jabber.org/protocol/pubsub#node_config"
#define NS_PUBSUB_PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"
#define NS_PUBSUB_META_DATA	"http://jabber.org/protocol/pubsub#meta-data"
#define NS_XDATA_VALIDATE	"http://jabber.org/protocol/xdata-validate"

#endif
