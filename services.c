/*
 * services.c - the server's own iq responders: XEP-0030 disco on the
 * domain and on accounts, XEP-0199 ping, XEP-0092 version, XEP-0012
 * uptime and last activity, XEP-0202 time, and the per-account data
 * services: XEP-0049 private XML storage, XEP-0054 vcard-temp and the
 * account side of XEP-0077 (password change, cancellation).  Anything
 * else: service-unavailable.
 */
#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "adhoc.h"
#include "avatar.h"
#include "base64.h"
#include "blocking.h"
#include "bookmarks.h"
#include "buf.h"
#include "caps.h"
#include "config.h"
#include "extdisco.h"
#include "jid.h"
#include "log.h"
#include "mam.h"
#include "muc.h"
#include "ns.h"
#include "pep.h"
#include "pubsub.h"
#include "roster.h"
#include "route.h"
#include "server.h"
#include "stanza.h"
#include "store.h"
#include "tls.h"
#include "upload.h"
#include "uxlimits.h"
#include "version.h"

/* XEP-0115 §4: a URI naming the software; .invalid (RFC 2606) since
 * uxmppd has no web site of its own. */
#define CAPS_NODE	"https://uxmppd.invalid/caps"
#define SERVER_CATEGORY	"server"
#define SERVER_TYPE	"im"
#define SERVER_NAME	"uxmppd"

#define LAST_KIND	"last"		/* bare -> "<unix time> <status>" */
#define PRIVATE_KIND	"private"	/* "bare ns name" -> element */
#define VCARD_KIND	"vcard"		/* bare -> <vCard/> */
#define PHOTO_KIND	"vcard-photo"	/* bare -> SHA-1 hex of the photo */

static const char *const server_features[] = {
	NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION, NS_LAST, NS_TIME,
	NS_ROSTER, NS_ROSTERVER, NS_BLOCKING, NS_CARBONS,
	NS_PRIVATE, NS_VCARD, NS_REGISTER, "msgoffline", NS_COMMANDS, NULL
};

static const char *const account_features[] = {
	NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MAM1, NS_MAM, NS_MAM_EXT, NULL
};

static struct buf sbuf;		/* serializing, reused */
static char self_ver[64];	/* base64 SHA-1 of the server's disco#info */

static void
reply_and_free(struct xml_node *reply)
{
	route_stanza(reply);
	xml_free(reply);
}

static void
reply_error(const struct xml_node *iq, const char *cond)
{
	reply_and_free(stanza_error_reply(iq, NULL, cond, NULL));
}

/* The one payload child of a get/set iq, or NULL (RFC 6120 §8.2.3). */
static const struct xml_node *
iq_payload(const struct xml_node *iq)
{
	const struct xml_node *c = xml_child(iq, NULL, NULL);

	if (c == NULL || xml_next(c, NULL, NULL) != NULL) {
		return NULL;
	}
	return c;
}

/* XEP-0157 §2: the contact addresses as an XEP-0128 extended form,
 * each kind a list-multi field (empty when none is configured). */
static void
contact_form(struct xml_node *query)
{
	const struct config *cfg = config_get();
	struct xml_node *x, *f;
	char var[64];
	int k, i;

	x = xml_add(query, "x", NS_DATA);
	xml_set_attr(x, "type", "result");
	f = xml_add(x, "field", NULL);
	xml_set_attr(f, "var", "FORM_TYPE");
	xml_set_attr(f, "type", "hidden");
	xml_add_text_child(f, "value", NULL, NS_SERVERINFO);
	for (k = 0; k < CONFIG_CONTACT_KINDS; k++) {
		f = xml_add(x, "field", NULL);
		snprintf(var, sizeof(var), "%s-addresses",
		    config_contact_name((enum config_contact_kind)k));
		xml_set_attr(f, "var", var);
		xml_set_attr(f, "type", "list-multi");
		for (i = 0; i < cfg->contact_count; i++) {
			if ((int)cfg->contacts[i].kind == k) {
				xml_add_text_child(f, "value", NULL,
				    cfg->contacts[i].uri);
			}
		}
	}
}

/* What the server's disco#info holds besides its identity and
 * server_features, as the configuration has it: external services
 * (XEP-0215 §4) and contact addresses (XEP-0157). */
static void
server_info_more(struct xml_node *query)
{
	const struct config *cfg = config_get();

	if (cfg->ext_service_count > 0) {
		xml_set_attr(xml_add(query, "feature", NULL), "var",
		    NS_EXTDISCO);
	}
	if (cfg->contact_count > 0) {
		contact_form(query);
	}
}

/* The server's own verification string, of its disco#info as the
 * configuration has it now (a reload may change the extended form).
 * Borrowed, valid until the next call. */
static const char *
caps_ver_self(void)
{
	struct xml_node *q = xml_new("query", NS_DISCO_INFO);
	struct xml_node *id = xml_add(q, "identity", NULL);
	const char *const *f;

	xml_set_attr(id, "category", SERVER_CATEGORY);
	xml_set_attr(id, "type", SERVER_TYPE);
	xml_set_attr(id, "name", SERVER_NAME);
	for (f = server_features; *f != NULL; f++) {
		xml_set_attr(xml_add(q, "feature", NULL), "var", *f);
	}
	server_info_more(q);
	if (caps_ver(q, "sha-1", self_ver, sizeof(self_ver)) != 0) {
		self_ver[0] = '\0';
	}
	xml_free(q);
	return self_ver;
}

/* See services.h. */
void
services_caps_feature(struct buf *out)
{
	buf_printf(out, "<c xmlns='" NS_CAPS "' hash='sha-1' node='"
	    CAPS_NODE "' ver='%s'/>", caps_ver_self());
}

/* Is node the XEP-0115 "node#ver" of the server's own caps? */
static int
is_caps_node(const char *node)
{
	size_t nl = strlen(CAPS_NODE);

	return strncmp(node, CAPS_NODE, nl) == 0 && node[nl] == '#' &&
	    strcmp(node + nl + 1, caps_ver_self()) == 0;
}

/* disco#info with one identity.  caps: the features are the server's,
 * so a query on its caps node is answered too (XEP-0115 §6.2). */
static void
disco_info(const struct xml_node *iq, const struct xml_node *q,
    const char *category, const char *type, const char *name,
    const char *const *features, int caps,
    void (*more)(struct xml_node *query))
{
	struct xml_node *reply = stanza_result(iq);
	struct xml_node *query = xml_add(reply, "query", NS_DISCO_INFO);
	struct xml_node *id;
	const char *node = xml_attr(q, "node");

	if (node != NULL && !(caps && is_caps_node(node))) {
		xml_free(reply);
		reply_error(iq, "item-not-found");
		return;
	}
	if (node != NULL) {
		xml_set_attr(query, "node", node);
	}
	id = xml_add(query, "identity", NULL);
	xml_set_attr(id, "category", category);
	xml_set_attr(id, "type", type);
	if (name != NULL) {
		xml_set_attr(id, "name", name);
	}
	for (; *features; features++) {
		xml_set_attr(xml_add(query, "feature", NULL), "var", *features);
	}
	if (more != NULL) {
		more(query);
	}
	reply_and_free(reply);
}

static int
is_get(const struct xml_node *iq)
{
	const char *type = xml_attr(iq, "type");

	return type != NULL && strcmp(type, "get") == 0;
}

/* Common checks; 0 when iq is a get/set with one payload in *out. */
static int
iq_request(const struct xml_node *iq, const struct xml_node **out)
{
	const char *type = xml_attr(iq, "type");

	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0)) {
		return -1;	/* results and errors are not answered */
	}
	*out = iq_payload(iq);
	if (*out == NULL || xml_attr(iq, "id") == NULL) {
		reply_error(iq, "bad-request");
		return -1;
	}
	return 0;
}

/* Is iq from a local account?  Its bare JID into bare. */
static int
from_local_account(const struct xml_node *iq, char *bare, size_t cap)
{
	const char *from = xml_attr(iq, "from");

	return from != NULL && jid_bare(from, bare, cap) == 0 &&
	    account_exists(bare);
}

void
services_server_iq(const struct xml_node *iq)
{
	const struct config *cfg = config_get();
	const struct xml_node *q;
	struct xml_node *reply, *query, *item;
	char buf[64], bare[JID_MAX + 1];
	time_t now;
	struct tm tm;

	if (iq_request(iq, &q) != 0) {
		return;
	}
	if (is_get(iq) && strcmp(q->ns, NS_DISCO_INFO) == 0) {
		disco_info(iq, q, SERVER_CATEGORY, SERVER_TYPE, SERVER_NAME,
		    server_features, 1, server_info_more);
	} else if (is_get(iq) && strcmp(q->ns, NS_DISCO_ITEMS) == 0 &&
	    xml_attr(q, "node") != NULL &&
	    strcmp(xml_attr(q, "node"), NS_COMMANDS) == 0) {
		/* XEP-0050 §2.2: the commands this requester may run */
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_DISCO_ITEMS);
		xml_set_attr(query, "node", NS_COMMANDS);
		adhoc_items(query, from_local_account(iq, bare, sizeof(bare)) ?
		    bare : NULL);
		reply_and_free(reply);
	} else if (!is_get(iq) && strcmp(q->ns, NS_COMMANDS) == 0 &&
	    strcmp(q->name, "command") == 0) {
		adhoc_command(iq, q, from_local_account(iq, bare,
		    sizeof(bare)) ? bare : NULL);
	} else if (is_get(iq) && strcmp(q->ns, NS_DISCO_ITEMS) == 0) {
		if (xml_attr(q, "node") != NULL) {
			reply_error(iq, "item-not-found");
			return;
		}
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_DISCO_ITEMS);
		item = xml_add(query, "item", NULL);
		xml_set_attr(item, "jid", cfg->muc_domain);
		xml_set_attr(item, "name", "Chatrooms");
		if (cfg->pubsub) {
			item = xml_add(query, "item", NULL);
			xml_set_attr(item, "jid", cfg->pubsub_domain);
			xml_set_attr(item, "name", "Publish-Subscribe");
		}
		if (cfg->http_upload) {
			item = xml_add(query, "item", NULL);
			xml_set_attr(item, "jid", cfg->http_upload_domain);
			xml_set_attr(item, "name", "HTTP File Upload");
		}
		reply_and_free(reply);
	} else if (is_get(iq) && strcmp(q->ns, NS_PING) == 0 &&
	    strcmp(q->name, "ping") == 0) {
		reply_and_free(stanza_result(iq));
	} else if (from_local_account(iq, bare, sizeof(bare)) &&
	    (strcmp(q->ns, NS_REGISTER) == 0 || strcmp(q->ns, NS_SESSION) ==
	    0)) {
		/* XEP-0077 §3.3 sends a password change to the server, and
		 * clients send the legacy session iq there too */
		services_account_iq(iq, bare);
	} else if (strcmp(q->ns, NS_EXTDISCO) == 0 ||
	    strcmp(q->ns, NS_EXTDISCO_1) == 0) {
		extdisco_iq(iq, q, from_local_account(iq, bare,
		    sizeof(bare)));
	} else if (is_get(iq) && strcmp(q->ns, NS_VERSION) == 0) {
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_VERSION);
		xml_add_text_child(query, "name", NULL, "uxmppd");
		xml_add_text_child(query, "version", NULL, UXMPPD_VERSION);
		reply_and_free(reply);
	} else if (is_get(iq) && strcmp(q->ns, NS_LAST) == 0) {
		/* XEP-0012 §5: to a server, the time since it started */
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_LAST);
		snprintf(buf, sizeof(buf), "%lld", (long long)server_uptime());
		xml_set_attr(query, "seconds", buf);
		reply_and_free(reply);
	} else if (is_get(iq) && strcmp(q->ns, NS_TIME) == 0) {
		reply = stanza_result(iq);
		query = xml_add(reply, "time", NS_TIME);
		now = time(NULL);
		gmtime_r(&now, &tm);
		xml_add_text_child(query, "tzo", NULL, "+00:00");
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		xml_add_text_child(query, "utc", NULL, buf);
		reply_and_free(reply);
	} else {
		reply_error(iq, "service-unavailable");
	}
}

/* ---- XEP-0012 last activity of accounts ---- */

void
services_last_record(const char *bare, const char *status)
{
	char v[1100];

	snprintf(v, sizeof(v), "%lld %.1023s", (long long)time(NULL), status);
	/* at logout, nobody to tell: the previous record stays */
	if (store_put(LAST_KIND, bare, v) != 0) {
		log_warn("last activity of %s not saved", bare);
	}
}

/* §4: own account, or a contact allowed to see presence */
static void
last_activity(const struct xml_node *iq, const char *bare, const char *from)
{
	char from_bare[JID_MAX + 1];
	struct xml_node *reply, *query;
	const char *v, *sp;
	char secs[32] = "0";
	long long t;

	if (jid_bare(from, from_bare, sizeof(from_bare)) != 0 ||
	    (strcmp(from_bare, bare) != 0 &&
	    !roster_has_from(bare, from_bare))) {
		reply_error(iq, "forbidden");
		return;
	}
	reply = stanza_result(iq);
	query = xml_add(reply, "query", NS_LAST);
	v = store_get(LAST_KIND, bare);
	if (!route_user_available(bare) && v != NULL) {
		t = strtoll(v, NULL, 10);
		snprintf(secs, sizeof(secs), "%lld",
		    (long long)time(NULL) > t ? (long long)time(NULL) - t : 0);
		sp = strchr(v, ' ');
		if (sp != NULL && sp[1] != '\0') {
			xml_add_text(query, sp + 1, strlen(sp + 1));
		}
	}
	xml_set_attr(query, "seconds", secs);
	reply_and_free(reply);
}

/* ---- stored XML: XEP-0049 private storage, XEP-0054 vcard-temp ---- */

static struct xml_node *
stored_xml(const char *kind, const char *key)
{
	const char *v = store_get(kind, key);
	int err;

	if (v == NULL) {
		return NULL;
	}
	return xml_parse_document(v, strlen(v), XML_NS_CLIENT, &err);
}

/* Serialize el into sbuf; -1 when it is over max bytes. */
static int
serialize_el(const struct xml_node *el, size_t max)
{
	if (sbuf.data == NULL) {
		buf_init(&sbuf, 0);
	}
	buf_reset(&sbuf);
	xml_serialize(el, XML_NS_CLIENT, &sbuf);
	return sbuf.err || sbuf.len > max ? -1 : 0;
}

static int
private_count_cb(void *ud, const char *key, const char *value)
{
	(void)key;
	(void)value;
	(*(size_t *)ud)++;
	return 0;
}

static int
reserved_ns(const char *ns)
{
	return strcmp(ns, XML_NS_CLIENT) == 0 ||
	    strcmp(ns, "jabber:server") == 0 ||
	    strcmp(ns, NS_PRIVATE) == 0 || *ns == '\0';
}

static void
private_iq(const struct xml_node *iq, const struct xml_node *q,
    const char *bare, int own)
{
	const struct xml_node *el = xml_child(q, NULL, NULL);
	struct xml_node *reply, *query, *data;
	char key[JID_MAX + 2048], prefix[JID_MAX + 2];
	size_t count = 0;

	if (!own) {
		reply_error(iq, "forbidden");
		return;
	}
	/* exactly one child in a namespace of its own */
	if (el == NULL || xml_next(el, NULL, NULL) != NULL ||
	    reserved_ns(el->ns)) {
		reply_error(iq, "not-acceptable");
		return;
	}
	/* XEP-0411: XEP-0048 bookmarks live in the XEP-0402 node */
	if (bookmarks_private_iq(iq, el, bare)) {
		return;
	}
	if (strlen(el->ns) + strlen(el->name) + 2 > sizeof(key) - JID_MAX - 2) {
		reply_error(iq, "not-acceptable");
		return;
	}
	snprintf(key, sizeof(key), "%s %s %s", bare, el->name, el->ns);
	if (is_get(iq)) {
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_PRIVATE);
		data = stored_xml(PRIVATE_KIND, key);
		if (data != NULL) {
			xml_copy_into(query, data);
			xml_free(data);
		} else {
			xml_add(query, el->name, el->ns);
		}
		reply_and_free(reply);
		return;
	}
	if (xml_child(el, NULL, NULL) == NULL && *xml_text(el) == '\0') {
		/* an empty element clears the data */
		if (store_get(PRIVATE_KIND, key) != NULL &&
		    store_del(PRIVATE_KIND, key) != 0) {
			reply_error(iq, "resource-constraint");
			return;
		}
		reply_and_free(stanza_result(iq));
		return;
	}
	if (store_get(PRIVATE_KIND, key) == NULL) {
		snprintf(prefix, sizeof(prefix), "%s ", bare);
		store_foreach(PRIVATE_KIND, prefix, private_count_cb, &count);
		if (count >= SERVICES_MAX_PRIVATE) {
			reply_error(iq, "resource-constraint");
			return;
		}
	}
	if (serialize_el(el, SERVICES_MAX_PRIVATE_BYTES) != 0) {
		reply_error(iq, "not-acceptable");
		return;
	}
	/* the store refuses when it cannot write or the record is too big;
	 * the old data stays */
	if (store_put(PRIVATE_KIND, key, sbuf.data) != 0) {
		reply_error(iq, "resource-constraint");
		return;
	}
	reply_and_free(stanza_result(iq));
}

static void vcard_photo_update(const struct xml_node *, const char *);

static void
vcard_iq(const struct xml_node *iq, const struct xml_node *q,
    const char *bare, int own)
{
	struct xml_node *reply, *data;

	if (is_get(iq)) {
		data = stored_xml(VCARD_KIND, bare);
		if (data == NULL && !own) {
			/* XEP-0054 §3.1: no vCard */
			reply_error(iq, "item-not-found");
			return;
		}
		reply = stanza_result(iq);
		if (data != NULL) {
			xml_copy_into(reply, data);
			xml_free(data);
		} else {
			xml_add(reply, "vCard", NS_VCARD);
		}
		reply_and_free(reply);
		return;
	}
	if (!own) {
		reply_error(iq, "forbidden");
		return;
	}
	if (strcmp(q->name, "vCard") != 0) {
		reply_error(iq, "bad-request");
		return;
	}
	if (serialize_el(q, SERVICES_MAX_VCARD) != 0) {
		reply_error(iq, "not-acceptable");
		return;
	}
	if (store_put(VCARD_KIND, bare, sbuf.data) != 0) {
		reply_error(iq, "resource-constraint");
		return;
	}
	vcard_photo_update(q, bare);
	avatar_from_vcard(bare, q);	/* XEP-0398 §3.2 */
	reply_and_free(stanza_result(iq));
}

/*
 * XEP-0153 §4.1: presence carries the SHA-1 of the vCard photo.  It is
 * computed once, when the vCard is stored, not on every presence.
 */
static void
vcard_photo_update(const struct xml_node *vcard, const char *bare)
{
	const struct xml_node *photo = xml_child(vcard, "PHOTO", NS_VCARD);
	const struct xml_node *bin = photo ? xml_child(photo, "BINVAL",
	    NS_VCARD) : NULL;
	const char *text = bin ? xml_text(bin) : "";
	unsigned char md[20];
	char hex[41];
	struct buf b64, raw;
	size_t i;

	buf_init(&b64, 0);
	buf_init(&raw, 0);
	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
		    text[i] != '\r') {
			buf_putc(&b64, text[i]);
		}
	}
	if (b64.len > 0 && base64_decode(b64.data, b64.len, &raw) == 0 &&
	    raw.len > 0 && tls_hash(TLS_MD_SHA1, raw.data, raw.len, md) == 0) {
		for (i = 0; i < sizeof(md); i++) {
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		}
		store_put(PHOTO_KIND, bare, hex);
	} else if (store_get(PHOTO_KIND, bare) != NULL) {
		store_del(PHOTO_KIND, bare);
	}
	buf_free(&b64);
	buf_free(&raw);
}

void
services_presence_stamp(struct xml_node *pres, const char *bare)
{
	const char *hash;
	struct xml_node *x;

	x = xml_child(pres, "x", NS_VCARD_UPDATE);
	if (x != NULL && xml_child(x, "photo", NULL) != NULL) {
		return;		/* the client said it itself */
	}
	/* XEP-0398 §4: an <x/> without <photo/> is filled in */
	hash = store_get(PHOTO_KIND, bare);
	if (x == NULL) {
		x = xml_add(pres, "x", NS_VCARD_UPDATE);
	}
	/* an empty <photo/> means "no avatar" (§3.2) */
	if (hash != NULL) {
		xml_add_text_child(x, "photo", NULL, hash);
	} else {
		xml_add(x, "photo", NULL);
	}
}

/* ---- XEP-0077 for a logged-in account ---- */

/* After the account record is deleted: everything kept for it goes, and
 * its sessions end. */
static void
account_removed_everywhere(const char *bare)
{
	services_account_removed(bare);
	muc_account_removed(bare);
	pep_account_removed(bare);
	route_user_gone(bare, NULL);
}

int
services_delete_account(const char *bare)
{
	/* the store may refuse (full disk): then nothing else goes */
	if (!account_exists(bare) || account_delete(bare) != 0) {
		return -1;
	}
	account_removed_everywhere(bare);
	return 0;
}

static void
register_own(const struct xml_node *iq, const struct xml_node *q,
    const char *bare)
{
	const struct xml_node *user_el, *pass_el;
	struct xml_node *reply, *query;
	char local[JID_PART_MAX + 1];
	const char *at = strchr(bare, '@');
	size_t llen = at ? (size_t)(at - bare) : 0;

	if (llen > JID_PART_MAX) {
		llen = JID_PART_MAX;
	}
	memcpy(local, bare, llen);
	local[llen] = '\0';
	if (is_get(iq)) {
		/* §3.2.1: already registered */
		reply = stanza_result(iq);
		query = xml_add(reply, "query", NS_REGISTER);
		xml_add(query, "registered", NULL);
		xml_add_text_child(query, "username", NULL, local);
		xml_add(query, "password", NULL);
		reply_and_free(reply);
		return;
	}
	if (xml_child(q, "remove", NS_REGISTER) != NULL) {
		/* §3.2: cancel: answer, then end every session */
		if (!account_exists(bare)) {
			reply_error(iq, "internal-server-error");
			return;
		}
		if (account_delete(bare) != 0) {
			reply_error(iq, "resource-constraint");
			return;
		}
		log_info("account %s removed by its owner", bare);
		reply_and_free(stanza_result(iq));
		account_removed_everywhere(bare);
		return;
	}
	user_el = xml_child(q, "username", NS_REGISTER);
	pass_el = xml_child(q, "password", NS_REGISTER);
	/* §3.3: password change; the username must be the account's */
	if (user_el == NULL || pass_el == NULL ||
	    *xml_text(pass_el) == '\0') {
		reply_error(iq, "bad-request");
		return;
	}
	if (jid_local_canon(xml_text(user_el), local, sizeof(local)) != 0 ||
	    strlen(local) != llen || strncmp(local, bare, llen) != 0) {
		reply_error(iq, "not-authorized");
		return;
	}
	if (account_set_password(bare, xml_text(pass_el)) != 0) {
		/* the store refused it: the old password stays */
		reply_error(iq, "resource-constraint");
		return;
	}
	log_info("account %s changed its password", bare);
	reply_and_free(stanza_result(iq));
}

/* What the account's disco#info adds to its identity and features. */
static void
account_disco_more(struct xml_node *query)
{
	pep_disco_info(query);
	bookmarks_disco_info(query);
	xml_set_attr(xml_add(query, "feature", NULL), "var",
	    NS_PEP_VCARD_CONVERSION);
}

void
services_account_iq(const struct xml_node *iq, const char *bare)
{
	const struct xml_node *q;
	const char *from = xml_attr(iq, "from");
	const char *type = xml_attr(iq, "type");
	int own = from != NULL && jid_bare_eq(from, bare);
	struct xml_node *reply;

	if (type != NULL && (strcmp(type, "result") == 0 ||
	    strcmp(type, "error") == 0)) {
		pep_account_iq_response(iq, bare);
		return;
	}
	if (iq_request(iq, &q) != 0 || bookmarks_account_iq(iq, bare) ||
	    pep_account_iq(iq, bare)) {
		return;
	}
	if (is_get(iq) && strcmp(q->ns, NS_DISCO_INFO) == 0) {
		disco_info(iq, q, "account", "registered", NULL,
		    account_features, 0, account_disco_more);
	} else if (is_get(iq) && strcmp(q->ns, NS_DISCO_ITEMS) == 0) {
		reply = stanza_result(iq);
		pep_disco_items(xml_add(reply, "query", NS_DISCO_ITEMS), bare,
		    from != NULL ? from : bare);
		reply_and_free(reply);
	} else if (own && is_get(iq) && strcmp(q->ns, NS_PING) == 0) {
		reply_and_free(stanza_result(iq));
	} else if (own && !is_get(iq) && strcmp(q->ns, NS_SESSION) == 0 &&
	    strcmp(q->name, "session") == 0) {
		/* RFC 3921 §3: legacy session establishment, a no-op now */
		reply_and_free(stanza_result(iq));
	} else if (is_get(iq) && strcmp(q->ns, NS_LAST) == 0) {
		last_activity(iq, bare, from != NULL ? from : "");
	} else if (strcmp(q->ns, NS_PRIVATE) == 0 &&
	    strcmp(q->name, "query") == 0) {
		private_iq(iq, q, bare, own);
	} else if (strcmp(q->ns, NS_VCARD) == 0) {
		vcard_iq(iq, q, bare, own);
	} else if (own && strcmp(q->ns, NS_REGISTER) == 0) {
		register_own(iq, q, bare);
	} else if (mam_is_ns(q->ns)) {
		mam_account_iq(iq, q, bare, own);
	} else if (!own && strcmp(q->ns, NS_ROSTER) == 0) {
		/* RFC 6121 §2.1.5: only the account itself */
		reply_error(iq, "forbidden");
	} else {
		reply_error(iq, "service-unavailable");
	}
}

/* Presence to the server's domain: it answers probes and accepts every
 * subscription (RFC 6121 §4.3, §3.1.3). */
void
services_server_presence(const struct xml_node *pres)
{
	const char *type = xml_attr(pres, "type");
	const char *from = xml_attr(pres, "from");
	char bare[JID_MAX + 1];
	struct xml_node *p;

	if (type == NULL || from == NULL ||
	    jid_bare(from, bare, sizeof(bare)) != 0) {
		return;
	}
	if (strcmp(type, "probe") != 0 && strcmp(type, "subscribe") != 0) {
		return;
	}
	p = xml_new("presence", XML_NS_CLIENT);
	xml_set_attr(p, "from", config_get()->domain);
	xml_set_attr(p, "to", bare);
	if (strcmp(type, "subscribe") == 0) {
		xml_set_attr(p, "type", "subscribed");
		route_stanza(p);
		xml_set_attr(p, "type", NULL);
	}
	route_stanza(p);
	xml_free(p);
}

void
services_account_removed(const char *bare)
{
	char prefix[JID_MAX + 2];

	roster_account_removed(bare);
	blocking_account_removed(bare);
	route_account_removed(bare);
	mam_archive_removed(bare);
	if (store_get(LAST_KIND, bare) != NULL) {
		store_del(LAST_KIND, bare);
	}
	if (store_get(VCARD_KIND, bare) != NULL) {
		store_del(VCARD_KIND, bare);
	}
	if (store_get(PHOTO_KIND, bare) != NULL) {
		store_del(PHOTO_KIND, bare);
	}
	snprintf(prefix, sizeof(prefix), "%s ", bare);
	store_del_prefix(PRIVATE_KIND, prefix);
	upload_account_removed(bare);
}

/* XEP-0411 §4: XEP-0048 bookmarks kept in private XML storage before
 * bookmarks.c existed become XEP-0402 items, once. */
static void
bookmarks_migrate(void)
{
	char **keys, *sp;
	struct xml_node *data;
	size_t i, n;
	int rc;

	keys = store_keys(PRIVATE_KIND, NULL, &n);
	for (i = 0; i < n; i++) {
		/* "bare storage storage:bookmarks" */
		if ((sp = strchr(keys[i], ' ')) == NULL ||
		    strcmp(sp + 1, "storage " NS_BOOKMARKS) != 0) {
			continue;
		}
		data = stored_xml(PRIVATE_KIND, keys[i]);
		*sp = '\0';
		rc = data != NULL ? bookmarks_import(keys[i], data) : 0;
		xml_free(data);
		*sp = ' ';
		if (rc != 0) {
			log_warn("bookmarks %.*s: private XML kept, not moved "
			    "to XEP-0402", (int)(sp - keys[i]), keys[i]);
			continue;
		}
		log_info("bookmarks %.*s: private XML moved to XEP-0402",
		    (int)(sp - keys[i]), keys[i]);
		store_del(PRIVATE_KIND, keys[i]);
	}
	store_keys_free(keys);
}

/*
 * XEP-0398 §3.1: a new XEP-0084 avatar becomes the vCard photo (and so
 * the XEP-0153 hash in presence); an empty <metadata/> removes it.
 */
static void
vcard_from_pep(const struct pubsub_event *ev)
{
	const char *bare = ev->service, *cur;
	struct xml_node *vcard, *c, *next, *photo;
	struct avatar_photo p;

	if (!avatar_from_event(ev, &p)) {
		return;
	}
	cur = store_get(PHOTO_KIND, bare);
	if (p.removed ? cur == NULL : (cur != NULL &&
	    strcmp(cur, p.hash) == 0)) {
		free(p.b64);
		return;		/* the vCard says so already */
	}
	vcard = stored_xml(VCARD_KIND, bare);
	if (vcard == NULL) {
		vcard = xml_new("vCard", NS_VCARD);
	}
	for (c = xml_child(vcard, "PHOTO", NS_VCARD); c != NULL; c = next) {
		next = xml_next(c, "PHOTO", NS_VCARD);
		xml_unlink(c);
	}
	if (!p.removed) {
		photo = xml_add(vcard, "PHOTO", NS_VCARD);
		if (p.type[0] != '\0') {
			xml_add_text_child(photo, "TYPE", NULL, p.type);
		}
		xml_add_text_child(photo, "BINVAL", NULL, p.b64);
	}
	free(p.b64);
	if (serialize_el(vcard, SERVICES_MAX_VCARD) != 0) {
		log_warn("avatar %s: too big for the vCard", bare);
	} else if (store_put(VCARD_KIND, bare, sbuf.data) == 0) {
		vcard_photo_update(vcard, bare);
		log_debug("avatar %s: vCard photo from PEP", bare);
	}
	xml_free(vcard);
}

/* Every event of the pubsub core, after PEP delivered it. */
static void
on_pep_event(const struct pubsub_event *ev)
{
	bookmarks_event(ev);
	vcard_from_pep(ev);
}

void
services_init(void)
{
	pep_set_observer(on_pep_event);
	pep_set_newcomer(bookmarks_newcomer);
	bookmarks_migrate();
}
