/*
 * upload.c - XEP-0363 HTTP file upload, the XMPP side (see upload.h for
 * the slot, URL and signature formats).
 *
 * Store records, kind "upload", key the slot id:
 *   "OWNER\tSIZE\tSTATE\tTIME\tTYPE\tNAME"
 * STATE is "pending" (TIME: when the PUT URL expires) or "stored" (TIME:
 * when the upload completed).  NAME comes last: it may hold any byte
 * but '/', '\\' and control bytes.  A pending slot whose PUT URL has
 * expired, or a stored file older than http_upload_expire_days, is
 * deleted by upload_expire() with its file (and any partial upload).
 *
 * Quota and sweeps walk every slot: fine for the thousands of files a
 * small server holds.
 */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "hex.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "route.h"
#include "stanza.h"
#include "secret.h"
#include "store.h"
#include "tls.h"

#define UPLOAD_KIND	"upload"
#define SECRET_FILE	"upload-secret"
#define SECRET_LEN	32
#define DEFAULT_TYPE	"application/octet-stream"

static unsigned char secret[SECRET_LEN];
static int have_secret;
static time_t last_sweep;
static char prefix[512];
/* slots with a PUT under way (upload_put_begin); few at a time */
static char busy[UPLOAD_MAX_CONCURRENT][33];
static size_t nbusy;

/* A slot record, parsed; the strings point into a copy of the value. */
struct slot_rec {
	char	*copy;
	const char *owner, *type, *name;
	unsigned long long size;
	int	 stored;
	time_t	 when;
};

static void
rec_free(struct slot_rec *r)
{
	free(r->copy);
	r->copy = NULL;
}

/* Parse value into r (caller frees with rec_free()).  0, or -1. */
static int
rec_parse(const char *value, struct slot_rec *r)
{
	char *f[6], *p, *end;
	int i;

	memset(r, 0, sizeof(*r));
	r->copy = xstrdup(value);
	p = r->copy;
	for (i = 0; i < 6; i++) {
		f[i] = p;
		if (i < 5) {
			p = strchr(p, '\t');
			if (p == NULL) {
				rec_free(r);
				return -1;
			}
			*p++ = '\0';
		}
	}
	r->owner = f[0];
	errno = 0;
	r->size = strtoull(f[1], &end, 10);
	if (errno != 0 || *end != '\0') {
		rec_free(r);
		return -1;
	}
	r->stored = strcmp(f[2], "stored") == 0;
	r->when = (time_t)strtoll(f[3], NULL, 10);
	r->type = f[4];
	r->name = f[5];
	return 0;
}

static int
rec_put(const char *id, const char *owner, unsigned long long size,
    int stored, time_t when, const char *type, const char *name)
{
	struct buf v;
	int rc;

	buf_init(&v, 0);
	buf_printf(&v, "%s\t%llu\t%s\t%lld\t%s\t%s", owner, size,
	    stored ? "stored" : "pending", (long long)when, type, name);
	rc = v.err ? -1 : store_put(UPLOAD_KIND, id, v.data);
	buf_free(&v);
	return rc;
}

/* Has r expired at now? */
static int
rec_expired(const struct slot_rec *r, time_t now)
{
	unsigned days = config_get()->http_upload_expire_days;

	if (!r->stored) {
		return now > r->when;
	}
	return days != 0 && now - r->when >= (time_t)days * 86400;
}

/* Is a PUT to slot id under way? */
static int
slot_busy(const char *id)
{
	size_t i;

	for (i = 0; i < nbusy; i++) {
		if (strcmp(busy[i], id) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
slot_paths(const char *id, char *file, size_t fcap, char *part, size_t pcap)
{
	const char *dir = config_get()->data_dir;

	snprintf(file, fcap, "%.500s/upload/%.40s", dir, id);
	if (part != NULL) {
		snprintf(part, pcap, "%.500s/upload/%.40s.part", dir, id);
	}
}

/* ---- the secret and the signature ---- */

/* Read data_dir/upload-secret, or make it (secret.h). */
static int
secret_load_upload(void)
{
	char err[700];

	if (secret_load(config_get()->data_dir, SECRET_FILE, secret,
	    sizeof(secret), err, sizeof(err)) != 0) {
		log_err("upload: %s", err);
		return -1;
	}
	have_secret = 1;
	return 0;
}

/* Hex HMAC-SHA256 of "ID\nSIZE\nTYPE\nEXPIRY" into sig (65 bytes). */
static int
sign(const char *id, unsigned long long size, const char *type,
    long long expiry, char sig[65])
{
	unsigned char mac[32];
	struct buf m;
	int rc;

	buf_init(&m, 0);
	buf_printf(&m, "%s\n%llu\n%s\n%lld", id, size, type, expiry);
	rc = m.err || tls_hmac(TLS_MD_SHA256, secret, sizeof(secret),
	    m.data, m.len, mac) != 0 ? -1 : 0;
	buf_free(&m);
	if (rc == 0) {
		hex_encode(mac, sizeof(mac), sig);
	}
	return rc;
}

/* ---- names, types, URLs ---- */

/* A file name we accept: UTF-8, no '/', '\\' or control bytes, not "."
 * or "..", at most UPLOAD_FILENAME_MAX bytes. */
static int
filename_ok(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > UPLOAD_FILENAME_MAX ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    !jid_utf8_valid(name, len)) {
		return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
			return 0;
		}
	}
	return 1;
}

/* A media type "type/subtype[; params]" of printable ASCII. */
static int
type_ok(const char *type)
{
	size_t len = strlen(type), i;
	const char *slash = strchr(type, '/');

	if (len == 0 || len > UPLOAD_TYPE_MAX || slash == NULL ||
	    slash == type || slash[1] == '\0') {
		return 0;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)type[i] < 0x20 ||
		    (unsigned char)type[i] >= 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* Is type (its parameters aside) allowed by http_upload_allowed_types?
 * An entry names one type ("image/png") or, with "*" as its subtype,
 * every type under its top-level type. */
static int
type_allowed(const char *type)
{
	const struct config *cfg = config_get();
	size_t len = strcspn(type, "; \t"), n;
	const char *a;
	int i;

	if (cfg->http_upload_type_count == 0) {
		return 1;
	}
	for (i = 0; i < cfg->http_upload_type_count; i++) {
		a = cfg->http_upload_types[i];
		n = strlen(a);
		if (n >= 2 && strcmp(a + n - 2, "/*") == 0) {
			if (len > n - 1 && strncasecmp(type, a, n - 1) == 0) {
				return 1;
			}
		} else if (n == len && strncasecmp(type, a, n) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Percent-encode name for a path segment (RFC 3986 unreserved kept). */
static void
url_escape(struct buf *out, const char *name)
{
	static const char digits[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			buf_putc(out, (char)*p);
		} else {
			buf_putc(out, '%');
			buf_putc(out, digits[*p >> 4]);
			buf_putc(out, digits[*p & 15]);
		}
	}
}

/* Decode a percent-encoded segment of len bytes into out (cap bytes
 * with the NUL).  0, or -1 on a bad escape, NUL or overflow. */
static int
url_unescape(const char *s, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (i + 2 >= len) {
				return -1;
			}
			hi = hex_digit_value((unsigned char)s[i + 1]);
			lo = hex_digit_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				return -1;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap) {
			return -1;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* Split path "PREFIX/FIRST/NAME" into its first segment and decoded
 * name.  0, or -1 when it has another shape. */
static int
path_split(const char *path, char *first, size_t fcap, char *name,
    size_t ncap)
{
	size_t plen = strlen(prefix), n;
	const char *p, *slash;

	if (strncmp(path, prefix, plen) != 0 || path[plen] != '/') {
		return -1;
	}
	p = path + plen + 1;
	slash = strchr(p, '/');
	if (slash == NULL || slash == p || (n = (size_t)(slash - p)) >= fcap) {
		return -1;
	}
	memcpy(first, p, n);
	first[n] = '\0';
	if (strchr(slash + 1, '/') != NULL ||
	    url_unescape(slash + 1, strlen(slash + 1), name, ncap) != 0) {
		return -1;
	}
	return 0;
}

/* Is s 32 lowercase hex digits (a slot id)? */
static int
id_ok(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return s[32] == '\0';
}

/* ---- quota and expiry ---- */

struct usage_walk {
	const char	*owner;
	time_t		 now;
	unsigned long long bytes;
};

static int
usage_cb(void *ud, const char *key, const char *value)
{
	struct usage_walk *w = ud;
	struct slot_rec r;

	(void)key;
	if (rec_parse(value, &r) != 0) {
		return 0;
	}
	if (strcmp(r.owner, w->owner) == 0 && !rec_expired(&r, w->now)) {
		w->bytes += r.size;
	}
	rec_free(&r);
	return 0;
}

/* See upload.h. */
unsigned long long
upload_usage(const char *owner, time_t now)
{
	struct usage_walk w = { owner, now, 0 };

	store_foreach(UPLOAD_KIND, NULL, usage_cb, &w);
	return w.bytes;
}

/* Delete the slots expired at now, or (owner not NULL) all of owner's,
 * with their files.  Returns how many went. */
static size_t
sweep(time_t now, const char *owner)
{
	char **keys = store_keys(UPLOAD_KIND, NULL, NULL);
	char file[600], part[600];
	struct slot_rec r;
	const char *v;
	size_t i, n = 0;
	int drop;

	for (i = 0; keys != NULL && keys[i] != NULL; i++) {
		v = store_get(UPLOAD_KIND, keys[i]);
		if (v == NULL) {
			continue;
		}
		if (rec_parse(v, &r) != 0) {
			drop = owner == NULL;	/* unreadable: nobody's */
		} else {
			drop = owner != NULL ? strcmp(r.owner, owner) == 0 :
			    rec_expired(&r, now);
			rec_free(&r);
		}
		if (!drop || (owner == NULL && slot_busy(keys[i]))) {
			continue;
		}
		slot_paths(keys[i], file, sizeof(file), part, sizeof(part));
		if ((unlink(file) != 0 && errno != ENOENT) ||
		    (unlink(part) != 0 && errno != ENOENT)) {
			log_warn_errno("upload: cannot delete %s", file);
			continue;	/* the record stays, so it is tried again */
		}
		if (store_del(UPLOAD_KIND, keys[i]) == 0) {
			n++;
		}
	}
	store_keys_free(keys);
	return n;
}

/* See upload.h. */
size_t
upload_expire(time_t now)
{
	size_t n;

	last_sweep = now;
	n = sweep(now, NULL);
	if (n > 0) {
		log_info("upload: %zu expired slots and files deleted", n);
	}
	return n;
}

/* See upload.h. */
void
upload_tick(time_t now)
{
	if (have_secret && now - last_sweep >= UPLOAD_SWEEP_S) {
		upload_expire(now);
	}
}

/* See upload.h. */
void
upload_account_removed(const char *bare)
{
	size_t n = sweep(0, bare);

	if (n > 0) {
		log_info("upload: %zu files of %s deleted", n, bare);
	}
}

/* ---- slots ---- */

/* See upload.h. */
enum upload_err
upload_slot_new(const char *owner, const char *filename, const char *size,
    const char *type, time_t now, struct upload_slot *out)
{
	const struct config *cfg = config_get();
	unsigned char rnd[16];
	unsigned long long n;
	char sig[65], *end;
	long long expiry;
	struct buf u;
	int rc;

	if (filename == NULL || !filename_ok(filename)) {
		return UPLOAD_ERR_FILENAME;
	}
	if (size == NULL || *size < '0' || *size > '9') {
		return UPLOAD_ERR_SIZE;
	}
	errno = 0;
	n = strtoull(size, &end, 10);
	if (errno != 0 || *end != '\0') {
		return UPLOAD_ERR_SIZE;
	}
	if (n > cfg->http_upload_max_bytes) {
		return UPLOAD_ERR_TOO_LARGE;
	}
	if (type == NULL || *type == '\0') {
		type = DEFAULT_TYPE;
	}
	if (!type_ok(type)) {
		return UPLOAD_ERR_TYPE;
	}
	if (!type_allowed(type)) {
		return UPLOAD_ERR_TYPE_NOT_ALLOWED;
	}
	if (now - last_sweep >= UPLOAD_SWEEP_S || now < last_sweep) {
		upload_expire(now);
	}
	if (cfg->http_upload_quota_bytes != 0 &&
	    upload_usage(owner, now) + n > cfg->http_upload_quota_bytes) {
		return UPLOAD_ERR_QUOTA;
	}
	if (!have_secret || tls_random(rnd, sizeof(rnd)) != 0) {
		return UPLOAD_ERR_INTERNAL;
	}
	hex_encode(rnd, sizeof(rnd), out->id);
	expiry = (long long)now + config_get()->http_upload_put_ttl_s;
	if (sign(out->id, n, type, expiry, sig) != 0) {
		return UPLOAD_ERR_INTERNAL;
	}
	if (rec_put(out->id, owner, n, 0, (time_t)expiry, type,
	    filename) != 0) {
		return UPLOAD_ERR_STORE;	/* a full disk, say */
	}
	buf_init(&u, 0);
	buf_printf(&u, "%s/%s/", cfg->http_upload_url, out->id);
	url_escape(&u, filename);
	rc = !u.err && u.len < sizeof(out->get_url);
	if (rc) {
		memcpy(out->get_url, u.data, u.len + 1);
	}
	buf_reset(&u);
	buf_printf(&u, "%s/%s.%lld.%s/", cfg->http_upload_url, out->id,
	    expiry, sig);
	url_escape(&u, filename);
	rc = rc && !u.err && u.len < sizeof(out->put_url);
	if (rc) {
		memcpy(out->put_url, u.data, u.len + 1);
	}
	buf_free(&u);
	snprintf(out->authorization, sizeof(out->authorization),
	    "Bearer %s.%lld.%s", out->id, expiry, sig);
	if (!rc) {
		store_del(UPLOAD_KIND, out->id);
		return UPLOAD_ERR_INTERNAL;
	}
	return UPLOAD_OK;
}

/* See upload.h. */
int
upload_put_check(const char *path, unsigned long long content_length,
    const char *content_type, const char *authorization, time_t now,
    struct upload_put *out)
{
	char first[160], name[UPLOAD_FILENAME_MAX + 1], sig[65], *dot, *end;
	struct slot_rec r;
	const char *v;
	long long expiry;
	int status = 0;

	if (path_split(path, first, sizeof(first), name, sizeof(name)) != 0) {
		return 404;
	}
	/* SLOT.EXPIRY.SIG */
	dot = strchr(first, '.');
	if (dot == NULL) {
		return 403;	/* a GET URL: no signature */
	}
	*dot = '\0';
	errno = 0;
	expiry = strtoll(dot + 1, &end, 10);
	if (!id_ok(first) || errno != 0 || *end != '.' ||
	    strlen(end + 1) != 64) {
		return 404;
	}
	if (authorization != NULL && (strncmp(authorization, "Bearer ", 7) !=
	    0 || strncmp(authorization + 7, first, 32) != 0 ||
	    authorization[7 + 32] != '.' ||
	    strcmp(authorization + 7 + 33, dot + 1) != 0)) {
		return 403;
	}
	v = store_get(UPLOAD_KIND, first);
	if (v == NULL || rec_parse(v, &r) != 0) {
		return 404;
	}
	if (!have_secret || sign(first, r.size, r.type, expiry, sig) != 0 ||
	    tls_memcmp_ct(sig, end + 1, 64) != 0) {
		status = 403;
	} else if (r.stored) {
		status = 409;
	} else if (now > expiry) {
		status = 403;
	} else if (strcmp(name, r.name) != 0) {
		status = 404;
	} else if (content_length > r.size) {
		status = 413;
	} else if (content_length < r.size) {
		status = 400;
	} else if (strcasecmp(content_type != NULL ? content_type :
	    DEFAULT_TYPE, r.type) != 0) {
		status = 400;
	}
	if (status == 0) {
		memcpy(out->slot, first, 33);
		out->size = (size_t)r.size;
		slot_paths(first, out->file_path, sizeof(out->file_path),
		    out->part_path, sizeof(out->part_path));
	}
	rec_free(&r);
	return status;
}

/* See upload.h. */
int
upload_put_begin(const char *slot)
{
	unsigned limit = config_get()->http_upload_max_concurrent;

	if (slot_busy(slot)) {
		return 409;
	}
	if (nbusy >= UPLOAD_MAX_CONCURRENT || nbusy >= limit) {
		return 503;
	}
	snprintf(busy[nbusy++], sizeof(busy[0]), "%s", slot);
	return 0;
}

/* See upload.h. */
void
upload_put_end(const char *slot)
{
	size_t i;

	for (i = 0; i < nbusy; i++) {
		if (strcmp(busy[i], slot) == 0) {
			memmove(busy[i], busy[i + 1], (nbusy - i - 1) *
			    sizeof(busy[0]));
			nbusy--;
			return;
		}
	}
}

/* See upload.h. */
int
upload_put_done(const char *slot, time_t now)
{
	struct slot_rec r;
	const char *v = store_get(UPLOAD_KIND, slot);
	int rc = -1;

	if (v == NULL || rec_parse(v, &r) != 0) {
		return -1;
	}
	if (!r.stored) {
		rc = rec_put(slot, r.owner, r.size, 1, now, r.type, r.name);
	}
	rec_free(&r);
	return rc;
}

/* See upload.h. */
int
upload_get_lookup(const char *path, time_t now, struct upload_file *out)
{
	char first[160], name[UPLOAD_FILENAME_MAX + 1];
	struct slot_rec r;
	const char *v;
	int status = 404;

	if (path_split(path, first, sizeof(first), name, sizeof(name)) != 0 ||
	    !id_ok(first) || (v = store_get(UPLOAD_KIND, first)) == NULL ||
	    rec_parse(v, &r) != 0) {
		return 404;
	}
	if (r.stored && !rec_expired(&r, now) && strcmp(r.name, name) == 0) {
		out->size = (size_t)r.size;
		snprintf(out->type, sizeof(out->type), "%s", r.type);
		snprintf(out->name, sizeof(out->name), "%s", r.name);
		slot_paths(first, out->path, sizeof(out->path), NULL, 0);
		status = 0;
	}
	rec_free(&r);
	return status;
}

/* See upload.h. */
const char *
upload_path_prefix(void)
{
	return prefix;
}

/* ---- the component ---- */

static void
send_and_free(struct xml_node *st)
{
	route_stanza(st);
	xml_free(st);
}

/* §2: disco#info, with the size limit as an XEP-0128 form. */
static void
disco_info(const struct xml_node *iq)
{
	struct xml_node *reply = stanza_result(iq);
	struct xml_node *q = xml_add(reply, "query", NS_DISCO_INFO);
	struct xml_node *id = xml_add(q, "identity", NULL);
	struct xml_node *x, *f;
	char num[32];

	xml_set_attr(id, "category", "store");
	xml_set_attr(id, "type", "file");
	xml_set_attr(id, "name", "HTTP File Upload");
	xml_set_attr(xml_add(q, "feature", NULL), "var", NS_DISCO_INFO);
	xml_set_attr(xml_add(q, "feature", NULL), "var", NS_HTTP_UPLOAD);
	x = xml_add(q, "x", NS_DATA);
	xml_set_attr(x, "type", "result");
	f = xml_add(x, "field", NULL);
	xml_set_attr(f, "var", "FORM_TYPE");
	xml_set_attr(f, "type", "hidden");
	xml_add_text_child(f, "value", NULL, NS_HTTP_UPLOAD);
	f = xml_add(x, "field", NULL);
	xml_set_attr(f, "var", "max-file-size");
	snprintf(num, sizeof(num), "%zu", config_get()->http_upload_max_bytes);
	xml_add_text_child(f, "value", NULL, num);
	send_and_free(reply);
}

/* §4: a slot, or the error saying why not. */
static void
slot_request(const struct xml_node *iq, const struct xml_node *req)
{
	const struct config *cfg = config_get();
	const char *from = xml_attr(iq, "from");
	char bare[JID_MAX + 1], domain[JID_MAX + 1], num[32];
	struct xml_node *reply, *slot, *el, *e;
	struct upload_slot s;
	enum upload_err err;

	if (from == NULL || jid_bare(from, bare, sizeof(bare)) != 0 ||
	    jid_domain(from, domain, sizeof(domain)) != 0 ||
	    strcmp(domain, cfg->domain) != 0 || !account_exists(bare)) {
		send_and_free(stanza_error_reply(iq, "auth", "forbidden",
		    "Only local users may upload"));
		return;
	}
	err = upload_slot_new(bare, xml_attr(req, "filename"),
	    xml_attr(req, "size"), xml_attr(req, "content-type"), time(NULL),
	    &s);
	switch (err) {
	case UPLOAD_OK:
		break;
	case UPLOAD_ERR_FILENAME:
		send_and_free(stanza_error_reply(iq, "modify", "bad-request",
		    "Invalid filename"));
		return;
	case UPLOAD_ERR_SIZE:
		send_and_free(stanza_error_reply(iq, "modify", "bad-request",
		    "File size must be positive integer"));
		return;
	case UPLOAD_ERR_TYPE:
		send_and_free(stanza_error_reply(iq, "modify", "bad-request",
		    "Invalid content type"));
		return;
	case UPLOAD_ERR_TOO_LARGE:
		reply = stanza_error_reply(iq, "modify", "not-acceptable",
		    "File too large");
		e = xml_add(xml_child(reply, "error", NULL), "file-too-large",
		    NS_HTTP_UPLOAD);
		snprintf(num, sizeof(num), "%zu", cfg->http_upload_max_bytes);
		xml_add_text_child(e, "max-file-size", NULL, num);
		send_and_free(reply);
		return;
	case UPLOAD_ERR_TYPE_NOT_ALLOWED:
		send_and_free(stanza_error_reply(iq, "modify", "not-acceptable",
		    "File type not allowed"));
		return;
	case UPLOAD_ERR_QUOTA:
		send_and_free(stanza_error_reply(iq, "wait",
		    "resource-constraint", "Quota reached"));
		return;
	case UPLOAD_ERR_STORE:
		send_and_free(stanza_error_reply(iq, "wait",
		    "resource-constraint", "Cannot store the slot now"));
		return;
	case UPLOAD_ERR_INTERNAL:
	default:
		send_and_free(stanza_error_reply(iq, "wait",
		    "internal-server-error", NULL));
		return;
	}
	log_info("upload: slot %s for %s, %s bytes", s.id, bare,
	    xml_attr(req, "size"));
	reply = stanza_result(iq);
	slot = xml_add(reply, "slot", NS_HTTP_UPLOAD);
	xml_set_attr(xml_add(slot, "get", NULL), "url", s.get_url);
	el = xml_add(slot, "put", NULL);
	xml_set_attr(el, "url", s.put_url);
	xml_set_attr(xml_add_text_child(el, "header", NULL, s.authorization),
	    "name", "Authorization");
	tls_zeroize(&s, sizeof(s));
	send_and_free(reply);
}

/* Every stanza to the upload domain or a JID at it. */
static void
upload_handle(const struct xml_node *st)
{
	const char *type = xml_attr(st, "type");
	const char *to = xml_attr(st, "to");
	const struct xml_node *q;

	if (stanza_is_error(st) || strcmp(st->name, "presence") == 0) {
		return;
	}
	if (strcmp(st->name, "iq") != 0) {
		send_and_free(stanza_error_reply(st, NULL,
		    "service-unavailable", NULL));
		return;
	}
	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0)) {
		return;		/* results are not answered */
	}
	q = xml_child(st, NULL, NULL);
	if (q == NULL || xml_next(q, NULL, NULL) != NULL) {
		send_and_free(stanza_error_reply(st, NULL, "bad-request",
		    NULL));
		return;
	}
	if (to == NULL || strcmp(to, config_get()->http_upload_domain) != 0) {
		send_and_free(stanza_error_reply(st, NULL,
		    "service-unavailable", NULL));
	} else if (strcmp(type, "get") == 0 &&
	    strcmp(q->ns, NS_DISCO_INFO) == 0 && xml_attr(q, "node") == NULL) {
		disco_info(st);
	} else if (strcmp(type, "get") == 0 &&
	    strcmp(q->ns, NS_DISCO_ITEMS) == 0 &&
	    xml_attr(q, "node") == NULL) {
		struct xml_node *reply = stanza_result(st);

		xml_add(reply, "query", NS_DISCO_ITEMS);
		send_and_free(reply);
	} else if (strcmp(type, "get") == 0 && strcmp(q->ns,
	    NS_HTTP_UPLOAD) == 0 && strcmp(q->name, "request") == 0) {
		slot_request(st, q);
	} else {
		send_and_free(stanza_error_reply(st, NULL,
		    "service-unavailable", NULL));
	}
}

/* The path part of http_upload_url: after "scheme://authority". */
static void
prefix_init(void)
{
	const char *url = config_get()->http_upload_url;
	const char *p = strstr(url, "://");
	const char *slash = p != NULL ? strchr(p + 3, '/') : NULL;

	snprintf(prefix, sizeof(prefix), "%s", slash != NULL ? slash : "");
}

/* See upload.h. */
int
upload_init(void)
{
	const struct config *cfg = config_get();
	char dir[600];

	if (!cfg->http_upload) {
		return 0;
	}
	prefix_init();
	snprintf(dir, sizeof(dir), "%s/upload", cfg->data_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_err("upload: cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	if (secret_load_upload() != 0) {
		return -1;
	}
	upload_expire(time(NULL));
	if (route_register_domain(cfg->http_upload_domain, upload_handle,
	    NULL) != 0) {
		log_err("upload: cannot register %s", cfg->http_upload_domain);
		return -1;
	}
	log_info("upload %s: files under %s, URLs under %s",
	    cfg->http_upload_domain, dir, cfg->http_upload_url);
	return 0;
}

/* See upload.h. */
void
upload_shutdown(void)
{
	tls_zeroize(secret, sizeof(secret));
	have_secret = 0;
}
