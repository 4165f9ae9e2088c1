/*
 * avatar.c - XEP-0398 vCard photo <-> XEP-0084 PEP avatar: see avatar.h.
 */
#include "avatar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "log.h"
#include "ns.h"
#include "pubsub.h"
#include "tls.h"

/* The base64 text of el without the line breaks vCards carry, into
 * b64, and the image it decodes to into raw.  0, or -1 when it is empty
 * or not base64. */
static int
image_of(const char *text, struct buf *b64, struct buf *raw)
{
	size_t i;

	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
		    text[i] != '\r') {
			buf_putc(b64, text[i]);
		}
	}
	if (b64->len == 0 || b64->err ||
	    base64_decode(b64->data, b64->len, raw) != 0 || raw->len == 0) {
		return -1;
	}
	buf_putc(b64, '\0');	/* a C string; len counts it no more */
	b64->len--;
	return 0;
}

/* SHA-1 of data as lowercase hex into hex (AVATAR_HASH_BYTES). */
static int
sha1_hex(const void *data, size_t len, char *hex)
{
	unsigned char md[20];
	size_t i;

	if (tls_hash(TLS_MD_SHA1, data, len, md) != 0) {
		return -1;
	}
	for (i = 0; i < sizeof(md); i++) {
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	return 0;
}

/* XEP-0084 §4.2 wants a type; a vCard may omit it, so name the image
 * by its first bytes. */
static const char *
sniff_type(const unsigned char *p, size_t len)
{
	if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
		return "image/png";
	}
	if (len >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0) {
		return "image/jpeg";
	}
	if (len >= 4 && memcmp(p, "GIF8", 4) == 0) {
		return "image/gif";
	}
	if (len >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0) {
		return "image/webp";
	}
	return "application/octet-stream";
}

/* Create node in bare's PEP with PEP's defaults but access open
 * (Prosody's node_defaults): contacts and MUC occupants fetch avatars. */
static int
node_ensure(const char *bare, const char *node)
{
	struct pubsub_config c;

	if (pubsub_get_config(bare, node, bare, &c) !=
	    PUBSUB_ERR_ITEM_NOT_FOUND) {
		return PUBSUB_OK;	/* there (or not ours to change) */
	}
	pubsub_config_pep_default(&c);
	c.access_model = PUBSUB_ACCESS_OPEN;
	return pubsub_create(bare, node, bare, &c);
}

static void
noop_cb(void *ud, const char *id, const char *publisher, const char *payload)
{
	(void)ud;
	(void)id;
	(void)publisher;
	(void)payload;
}

/* See avatar.h. */
void
avatar_from_vcard(const char *bare, const struct xml_node *vcard)
{
	const struct xml_node *photo, *bin, *type_el;
	char hash[AVATAR_HASH_BYTES];
	const char *type;
	struct buf b64, raw, p;
	int rc;

	photo = xml_child(vcard, "PHOTO", NS_VCARD);
	bin = photo ? xml_child(photo, "BINVAL", NS_VCARD) : NULL;
	if (bin == NULL) {
		return;		/* none, or EXTVAL: no image to publish */
	}
	buf_init(&b64, 0);
	buf_init(&raw, 0);
	buf_init(&p, 0);
	if (image_of(xml_text(bin), &b64, &raw) != 0 ||
	    sha1_hex(raw.data, raw.len, hash) != 0) {
		goto out;
	}
	/* already the published avatar (or our own event coming back) */
	if (pubsub_items(bare, NS_AVATAR_METADATA, bare, hash, 0, noop_cb,
	    NULL) == PUBSUB_OK) {
		goto out;
	}
	type_el = xml_child(photo, "TYPE", NS_VCARD);
	type = type_el != NULL && *xml_text(type_el) != '\0' ?
	    xml_text(type_el) : sniff_type((const unsigned char *)raw.data,
	    raw.len);
	buf_puts(&p, "<data xmlns='" NS_AVATAR_DATA "'>");
	buf_puts(&p, b64.data);
	buf_puts(&p, "</data>");
	if ((rc = node_ensure(bare, NS_AVATAR_DATA)) != PUBSUB_OK ||
	    (rc = node_ensure(bare, NS_AVATAR_METADATA)) != PUBSUB_OK ||
	    (rc = p.err ? PUBSUB_ERR_PAYLOAD_TOO_BIG : pubsub_publish(bare,
	    NS_AVATAR_DATA, bare, hash, p.data, NULL, 0, 0, NULL)) !=
	    PUBSUB_OK) {
		goto fail;
	}
	/* §3.2: the data first, then the metadata that names it */
	buf_reset(&p);
	buf_printf(&p, "<metadata xmlns='" NS_AVATAR_METADATA "'><info "
	    "bytes='%zu' id='%s' type='", raw.len, hash);
	xml_escape(&p, type, strlen(type), 1);
	buf_puts(&p, "'/></metadata>");
	rc = pubsub_publish(bare, NS_AVATAR_METADATA, bare, hash, p.data,
	    NULL, 0, 0, NULL);
	if (rc == PUBSUB_OK) {
		log_debug("avatar %s: vCard photo %s published", bare, hash);
		goto out;
	}
fail:
	log_warn("avatar %s: vCard photo not published (%s)", bare,
	    pubsub_err_condition(rc));
out:
	buf_free(&p);
	buf_free(&raw);
	buf_free(&b64);
}

/* The newest item's payload (pubsub_items with max 1). */
static void
newest_cb(void *ud, const char *id, const char *publisher,
    const char *payload)
{
	char **out = ud;

	(void)id;
	(void)publisher;
	if (*out == NULL) {
		*out = xstrdup(payload);
	}
}

/* The <info/> of md without a url (§3.1: that one is in the data node). */
static const struct xml_node *
stored_info(const struct xml_node *md)
{
	const struct xml_node *i;

	for (i = xml_child(md, "info", NS_AVATAR_METADATA); i != NULL;
	    i = xml_next(i, "info", NS_AVATAR_METADATA)) {
		if (xml_attr(i, "url") == NULL && xml_attr(i, "id") != NULL) {
			return i;
		}
	}
	return NULL;
}

/* The image of data node item id into out (hash checked); 0 or -1. */
static int
fetch_image(const char *bare, const char *id, struct avatar_photo *out)
{
	struct xml_node *frag = NULL;
	const struct xml_node *data;
	char *payload = NULL, hash[AVATAR_HASH_BYTES];
	struct buf b64, raw;
	int err, rc = -1;

	buf_init(&b64, 0);
	buf_init(&raw, 0);
	if (pubsub_items(bare, NS_AVATAR_DATA, bare, id, 0, newest_cb,
	    &payload) != PUBSUB_OK || payload == NULL) {
		goto out;
	}
	frag = xml_parse_fragment(payload, strlen(payload), NULL, &err);
	data = frag ? xml_child(frag, "data", NS_AVATAR_DATA) : NULL;
	if (data == NULL || image_of(xml_text(data), &b64, &raw) != 0 ||
	    sha1_hex(raw.data, raw.len, hash) != 0) {
		goto out;
	}
	/* §3.1: SHOULD verify that the SHA-1 of the image matches the id */
	if (strcasecmp(hash, id) != 0) {
		log_info("avatar %s: data item %s is not its SHA-1", bare, id);
		goto out;
	}
	snprintf(out->hash, sizeof(out->hash), "%s", hash);
	out->b64 = xstrdup(b64.data);
	rc = 0;
out:
	xml_free(frag);
	free(payload);
	buf_free(&raw);
	buf_free(&b64);
	return rc;
}

/* See avatar.h. */
int
avatar_from_event(const struct pubsub_event *ev, struct avatar_photo *out)
{
	struct pubsub_config c;
	struct xml_node *frag = NULL;
	const struct xml_node *md, *info;
	char *payload = NULL;
	const char *type;
	int err, rc = 0;

	memset(out, 0, sizeof(*out));
	if (ev->single || strchr(ev->service, '@') == NULL ||
	    strcmp(ev->node, NS_AVATAR_METADATA) != 0) {
		return 0;
	}
	/* the node's newest item, whatever the event (and whether it
	 * carried the payload) */
	if (pubsub_items(ev->service, NS_AVATAR_METADATA, ev->service, NULL, 1,
	    newest_cb, &payload) != PUBSUB_OK || payload == NULL) {
		return 0;
	}
	frag = xml_parse_fragment(payload, strlen(payload), NULL, &err);
	md = frag ? xml_child(frag, "metadata", NS_AVATAR_METADATA) : NULL;
	if (md == NULL) {
		goto out;
	}
	if (xml_child(md, "info", NS_AVATAR_METADATA) == NULL) {
		out->removed = 1;	/* XEP-0084 §4.2: publishing stopped */
		rc = 1;
		goto out;
	}
	/* §6: only a world-readable avatar goes into the vCard */
	if ((info = stored_info(md)) == NULL ||
	    pubsub_get_config(ev->service, NS_AVATAR_DATA, ev->service, &c) !=
	    PUBSUB_OK || c.access_model != PUBSUB_ACCESS_OPEN ||
	    fetch_image(ev->service, xml_attr(info, "id"), out) != 0) {
		goto out;
	}
	type = xml_attr(info, "type");
	snprintf(out->type, sizeof(out->type), "%s", type ? type : "");
	rc = 1;
out:
	xml_free(frag);
	free(payload);
	return rc;
}
