/*
 * config.c - embedded defaults and the `key = value` config file.
 * An unknown key or a bad value is an error naming file:line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uxlimits.h"

static struct config current;
static int loaded;

static void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->domain, sizeof(c->domain), "localhost");
	c->c2s_listen_count = 0;
	snprintf(c->data_dir, sizeof(c->data_dir), "./data");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->allow_plain_unencrypted = -1;
	c->scram_iterations = SASL_ITERATIONS_DEFAULT;
	snprintf(c->store_sync, sizeof(c->store_sync), "always");
	snprintf(c->http_metrics, sizeof(c->http_metrics), "no");
	c->store_batch_ms = DEFAULT_STORE_BATCH_MS;
	c->max_stanza_bytes = DEFAULT_MAX_STANZA_BYTES;
	c->max_depth = DEFAULT_MAX_DEPTH;
	c->max_attrs = DEFAULT_MAX_ATTRS;
	c->max_output_bytes = DEFAULT_MAX_OUTPUT_BYTES;
	c->auth_timeout_s = DEFAULT_AUTH_TIMEOUT_S;
	c->idle_timeout_s = DEFAULT_IDLE_TIMEOUT_S;
	c->max_clients = DEFAULT_MAX_CLIENTS;
	c->max_connections_per_ip = DEFAULT_MAX_CONNECTIONS_PER_IP;
	c->max_connections_per_ipv6_64 = DEFAULT_MAX_CONNECTIONS_PER_IPV6_64;
	c->max_preauth_per_ip = DEFAULT_MAX_PREAUTH_PER_IP;
	c->max_auth_failures_per_ip = DEFAULT_MAX_AUTH_FAILURES_PER_IP;
	c->auth_failure_delay_ms = DEFAULT_AUTH_FAILURE_DELAY_MS;
	c->max_auth_failures_per_stream =
	    DEFAULT_MAX_AUTH_FAILURES_PER_STREAM;
	c->max_resources_per_account = DEFAULT_MAX_RESOURCES_PER_ACCOUNT;
	c->max_stanzas_per_s = DEFAULT_MAX_STANZAS_PER_S;
	c->max_stanzas_burst = DEFAULT_MAX_STANZAS_BURST;
	c->max_bytes_per_s = DEFAULT_MAX_BYTES_PER_S;
	c->max_bytes_burst = DEFAULT_MAX_BYTES_BURST;
	c->max_memory_mb = DEFAULT_MAX_MEMORY_MB;
	c->muc_history_default = DEFAULT_MUC_HISTORY;
	c->muc_max_rooms = DEFAULT_MUC_MAX_ROOMS;
	c->muc_max_occupants = DEFAULT_MUC_MAX_OCCUPANTS;
	c->muc_max_rooms_per_user = DEFAULT_MUC_MAX_ROOMS_PER_USER;
	c->muc_max_messages_per_s = DEFAULT_MUC_MAX_MESSAGES_PER_S;
	c->muc_max_presence_per_s = DEFAULT_MUC_MAX_PRESENCE_PER_S;
	c->allow_registration = 0;
	c->allow_user_invites = 0;
	c->sm_resume_timeout_s = DEFAULT_SM_RESUME_TIMEOUT_S;
	c->sm_max_unacked = DEFAULT_SM_MAX_UNACKED;
	c->archive_expires_days = DEFAULT_ARCHIVE_EXPIRES_DAYS;
	c->archive_max_messages = DEFAULT_ARCHIVE_MAX_MESSAGES;
	c->require_encryption = -1;
	c->pubsub = 1;
	c->pubsub_create_nodes = 1;
	c->pubsub_expose_publisher = 0;
	c->pubsub_max_items = DEFAULT_PUBSUB_MAX_ITEMS;
	c->pubsub_max_payload_bytes = DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES;
	c->pubsub_max_nodes = DEFAULT_PUBSUB_MAX_NODES;
	c->pep_max_nodes = DEFAULT_PEP_MAX_NODES;
	c->external_service_ttl_s = DEFAULT_EXT_SERVICE_TTL_S;
	c->http_upload_max_bytes = DEFAULT_HTTP_UPLOAD_MAX_BYTES;
	c->http_upload_quota_bytes = DEFAULT_HTTP_UPLOAD_QUOTA_BYTES;
	c->http_upload_expire_days = DEFAULT_HTTP_UPLOAD_EXPIRE_DAYS;
	c->http_upload_put_ttl_s = DEFAULT_HTTP_UPLOAD_PUT_TTL_S;
	c->http_upload_max_concurrent = DEFAULT_HTTP_UPLOAD_MAX_CONCURRENT;
	c->http_max_body_bytes = DEFAULT_HTTP_MAX_BODY_BYTES;
	c->http_header_timeout_s = DEFAULT_HTTP_HEADER_TIMEOUT_S;
	c->http_idle_timeout_s = DEFAULT_HTTP_IDLE_TIMEOUT_S;
}

static int add_words(char *slots, size_t len, int max, int *count,
    const char *v);

/* limits_exempt: addresses or prefixes ("10.0.0.0/8"), space or comma
 * separated; the key may repeat.  NULL or the reason it is refused. */
static const char *
add_exempt(struct config *c, const char *v)
{
	char words[CONFIG_MAX_EXEMPT][64];
	int i, n = 0;

	if (add_words(words[0], sizeof(words[0]),
	    CONFIG_MAX_EXEMPT - c->limits_exempt_count, &n, v) != 0) {
		return "too many or too long";
	}
	for (i = 0; i < n; i++) {
		if (rl_prefix_parse(words[i],
		    &c->limits_exempt[c->limits_exempt_count + i]) != 0) {
			return "expected addresses or ADDRESS/BITS prefixes";
		}
	}
	c->limits_exempt_count += n;
	return NULL;
}

/* Fill in what depends on other keys once the file is read. */
static void
config_finish(struct config *c)
{
	struct config_ext_service *s;
	int i;

	if (c->muc_domain[0] == '\0') {
		snprintf(c->muc_domain, sizeof(c->muc_domain), "conference.%s",
		    c->domain);
	}
	if (c->pubsub_domain[0] == '\0') {
		snprintf(c->pubsub_domain, sizeof(c->pubsub_domain),
		    "pubsub.%s", c->domain);
	}
	if (!c->limits_exempt_set) {
		(void)add_exempt(c, DEFAULT_LIMITS_EXEMPT);
	}
	if (c->c2s_listen_count == 0) {
		snprintf(c->c2s_listen[0], sizeof(c->c2s_listen[0]),
		    "127.0.0.1:5222");
		c->c2s_listen_count = 1;
	}
	if (c->external_service_host[0] == '\0') {
		snprintf(c->external_service_host,
		    sizeof(c->external_service_host), "%s", c->domain);
	}
	for (i = 0; i < c->ext_service_count; i++) {
		s = &c->ext_services[i];
		if (s->host[0] == '\0') {
			snprintf(s->host, sizeof(s->host), "%s",
			    c->external_service_host);
		}
		if (s->port == 0) {
			s->port = c->external_service_port;
		}
		if (s->default_secret) {
			snprintf(s->secret, sizeof(s->secret), "%s",
			    c->external_service_secret);
		}
		/* XEP-0215 §3.3: credentials to ask for */
		if (s->secret[0] != '\0' || s->password[0] != '\0') {
			s->restricted = 1;
		}
	}
	if (c->http_upload_domain[0] == '\0') {
		snprintf(c->http_upload_domain, sizeof(c->http_upload_domain),
		    "upload.%s", c->domain);
	}
	if (c->http_upload_url[0] == '\0') {
		snprintf(c->http_upload_url, sizeof(c->http_upload_url),
		    "https://%.280s:5281/upload", c->http_upload_domain);
	}
}

const struct config *
config_get(void)
{
	if (!loaded) {
		config_defaults(&current);
		config_finish(&current);
		loaded = 1;
	}
	return &current;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0 || strcmp(v, "on") == 0) {
		*out = 1;
	} else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
		*out = 0;
	} else {
		return -1;
	}
	return 0;
}

static int
parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*v)) {
		return -1;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > max) {
		return -1;
	}
	*out = n;
	return 0;
}

static int
set_string(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap) {
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* A list separated by spaces or commas into fixed slots of len bytes:
 * the next of *count < max.  -1 when there are too many or one is too
 * long. */
static int
add_words(char *slots, size_t len, int max, int *count, const char *v)
{
	const char *p = v;
	size_t n;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t') {
			p++;
		}
		n = strcspn(p, " ,\t");
		if (n == 0) {
			break;
		}
		if (*count >= max || n >= len) {
			return -1;
		}
		memcpy(slots + (size_t)*count * len, p, n);
		slots[(size_t)*count * len + n] = '\0';
		(*count)++;
		p += n;
	}
	return 0;
}

/* admins: a list separated by spaces or commas; the key may repeat.
 * JIDs are compared lowercased. */
static int
add_admins(struct config *c, const char *v)
{
	int first = c->admin_count, i;

	if (add_words(c->admins[0], sizeof(c->admins[0]), CONFIG_MAX_ADMINS,
	    &c->admin_count, v) != 0) {
		return -1;
	}
	for (i = first; i < c->admin_count; i++) {
		for (char *q = c->admins[i]; *q; q++) {
			*q = (char)tolower((unsigned char)*q);
		}
	}
	return 0;
}

static const char *const contact_names[CONFIG_CONTACT_KINDS] = {
	"abuse", "admin", "feedback", "sales", "security", "status",
	"support"
};

/* See config.h. */
const char *
config_contact_name(enum config_contact_kind kind)
{
	return (unsigned)kind < CONFIG_CONTACT_KINDS ? contact_names[kind] :
	    "";
}

/* contact_KIND: URIs separated by spaces or commas; the key may repeat. */
static const char *
add_contacts(struct config *c, const char *key, const char *v)
{
	char uris[CONFIG_MAX_CONTACTS][sizeof(c->contacts[0].uri)];
	int k, i, n = 0;

	for (k = 0; k < CONFIG_CONTACT_KINDS; k++) {
		if (strcmp(key + 8, contact_names[k]) == 0) {
			break;
		}
	}
	if (k == CONFIG_CONTACT_KINDS) {
		return "unknown key";
	}
	if (add_words(uris[0], sizeof(uris[0]),
	    CONFIG_MAX_CONTACTS - c->contact_count, &n, v) != 0) {
		return "too many or too long";
	}
	for (i = 0; i < n; i++) {
		if (strchr(uris[i], ':') == NULL) {
			return "expected URIs (mailto:, xmpp:, https:, ...)";
		}
	}
	for (i = 0; i < n; i++) {
		c->contacts[c->contact_count].kind = (enum config_contact_kind)k;
		memcpy(c->contacts[c->contact_count].uri, uris[i],
		    sizeof(uris[i]));
		c->contact_count++;
	}
	return NULL;
}

/*
 * external_service = TYPE [transport=T] [host=H] [port=N] [username=U]
 * [password=P] [secret | secret=S] [restricted] [ttl_s=N]
 */
static const char *
add_ext_service(struct config *c, const char *v)
{
	struct config_ext_service s;
	char word[300], *val;
	const char *p = v;
	unsigned long n;
	size_t len;
	int first = 1;

	memset(&s, 0, sizeof(s));
	if (c->ext_service_count >= CONFIG_MAX_EXT_SERVICES) {
		return "too many external services";
	}
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		len = strcspn(p, " \t");
		if (len == 0) {
			break;
		}
		if (len >= sizeof(word)) {
			return "too long";
		}
		memcpy(word, p, len);
		word[len] = '\0';
		p += len;
		val = strchr(word, '=');
		if (val != NULL) {
			*val++ = '\0';
		}
		if (first) {
			if (val != NULL || set_string(s.type, sizeof(s.type),
			    word) != 0) {
				return "expected the service type first";
			}
			first = 0;
		} else if (val == NULL && strcmp(word, "secret") == 0) {
			s.default_secret = 1;
		} else if (val == NULL && strcmp(word, "restricted") == 0) {
			s.restricted = 1;
		} else if (val == NULL) {
			return "expected NAME=VALUE";
		} else if (strcmp(word, "transport") == 0) {
			if (set_string(s.transport, sizeof(s.transport),
			    val) != 0) {
				return "bad transport";
			}
		} else if (strcmp(word, "host") == 0) {
			if (*val == '\0' ||
			    set_string(s.host, sizeof(s.host), val) != 0) {
				return "bad host";
			}
		} else if (strcmp(word, "port") == 0) {
			if (parse_uint(val, 65535, &n) != 0 || n == 0) {
				return "bad port";
			}
			s.port = (unsigned)n;
		} else if (strcmp(word, "ttl_s") == 0) {
			if (parse_uint(val, 864000, &n) != 0 || n == 0) {
				return "bad ttl_s";
			}
			s.ttl_s = (unsigned)n;
		} else if (strcmp(word, "username") == 0) {
			if (set_string(s.username, sizeof(s.username),
			    val) != 0) {
				return "username too long";
			}
		} else if (strcmp(word, "password") == 0) {
			if (set_string(s.password, sizeof(s.password),
			    val) != 0) {
				return "password too long";
			}
		} else if (strcmp(word, "secret") == 0) {
			if (*val == '\0' || set_string(s.secret,
			    sizeof(s.secret), val) != 0) {
				return "bad secret";
			}
		} else {
			return "unknown service attribute";
		}
	}
	if (first) {
		return "expected TYPE [NAME=VALUE ...]";
	}
	c->ext_services[c->ext_service_count++] = s;
	return NULL;
}

struct uint_key {
	const char	*name;
	size_t		 offset;
	int		 is_size;
	unsigned long	 max;
};

#define UK(field, max) { #field, offsetof(struct config, field), \
	sizeof(((struct config *)0)->field) == sizeof(size_t), max }
static const struct uint_key uint_keys[] = {
	UK(scram_iterations, 10000000),
	UK(store_batch_ms, 60000),
	UK(max_stanza_bytes, 64UL * 1024 * 1024),
	UK(max_depth, 1024),
	UK(max_attrs, 4096),
	UK(max_output_bytes, 1024UL * 1024 * 1024),
	UK(auth_timeout_s, 86400),
	UK(idle_timeout_s, 864000),
	UK(max_clients, 10000000),
	UK(max_connections_per_ip, 10000000),
	UK(max_connections_per_ipv6_64, 10000000),
	UK(max_preauth_per_ip, 10000000),
	UK(max_auth_failures_per_ip, 1000000),
	UK(auth_failure_delay_ms, 60000),
	UK(max_auth_failures_per_stream, 1000),
	UK(max_resources_per_account, 10000000),
	UK(max_stanzas_per_s, 1000000),
	UK(max_stanzas_burst, 10000000),
	UK(max_bytes_per_s, 1UL << 30),
	UK(max_bytes_burst, 1UL << 30),
	UK(max_memory_mb, 1024 * 1024),
	UK(muc_history_default, 1000),
	UK(muc_max_rooms, 10000000),
	UK(muc_max_occupants, 1000000),
	UK(muc_max_rooms_per_user, 10000000),
	UK(muc_max_messages_per_s, 1000000),
	UK(muc_max_presence_per_s, 1000000),
	UK(sm_resume_timeout_s, 86400),
	UK(sm_max_unacked, 1000000),
	UK(pubsub_max_items, 100000),
	UK(pubsub_max_payload_bytes, 64UL * 1024 * 1024),
	UK(pubsub_max_nodes, 10000000),
	UK(pep_max_nodes, 1000000),
	UK(external_service_port, 65535),
	UK(external_service_ttl_s, 864000),
	UK(http_upload_max_bytes, 1024UL * 1024 * 1024 * 1024),
	UK(http_upload_quota_bytes, 1024UL * 1024 * 1024 * 1024),
	UK(http_upload_expire_days, 3650),
	UK(http_upload_put_ttl_s, 86400),
	UK(http_upload_max_concurrent, UPLOAD_MAX_CONCURRENT),
	UK(archive_expires_days, 36500),
	UK(archive_max_messages, 100000000),
	UK(http_max_body_bytes, 1UL << 40),
	UK(http_header_timeout_s, 3600),
	UK(http_idle_timeout_s, 86400),
};

/* Keys whose value is a string kept as given, or yes/no. */
struct field_key {
	const char	*name;
	size_t		 offset;
	size_t		 size;		/* of the char array; 0: an int */
};

#define SK(key, field) { key, offsetof(struct config, field), \
	sizeof(((struct config *)0)->field) }
#define BK(key, field) { key, offsetof(struct config, field), 0 }

static const struct field_key field_keys[] = {
	SK("domain", domain),
	SK("muc_domain", muc_domain),
	SK("pubsub_domain", pubsub_domain),
	SK("cert", tls_cert),
	SK("key", tls_key),
	SK("data_dir", data_dir),
	SK("log_file", log_file),
	SK("external_service_secret", external_service_secret),
	SK("http_upload_domain", http_upload_domain),
	SK("websocket_origins", websocket_origins),
	BK("pubsub", pubsub),
	BK("pubsub_expose_publisher", pubsub_expose_publisher),
	BK("allow_registration", allow_registration),
	BK("allow_user_invites", allow_user_invites),
	BK("http_upload", http_upload),
};

static const char *config_set_uint(struct config *c, const char *key,
    const char *v);

/* One of field_keys, else of uint_keys; NULL, the reason it is refused,
 * or "unknown key". */
static const char *
config_set_field(struct config *c, const char *key, const char *v)
{
	const struct field_key *k;
	char *at;
	size_t i;

	for (i = 0; i < sizeof(field_keys) / sizeof(field_keys[0]); i++) {
		k = &field_keys[i];
		if (strcmp(key, k->name) != 0) {
			continue;
		}
		at = (char *)c + k->offset;
		if (k->size == 0) {
			return parse_bool(v, (int *)(void *)at) ?
			    "expected yes or no" : NULL;
		}
		return set_string(at, k->size, v) ? "too long" : NULL;
	}
	return config_set_uint(c, key, v);
}

/* One of uint_keys; returns NULL or the reason it is refused ("unknown
 * key" when it is none of them). */
static const char *
config_set_uint(struct config *c, const char *key, const char *v)
{
	unsigned long n;
	size_t i;

	for (i = 0; i < sizeof(uint_keys) / sizeof(uint_keys[0]); i++) {
		if (strcmp(key, uint_keys[i].name) != 0) {
			continue;
		}
		if (parse_uint(v, uint_keys[i].max, &n) != 0) {
			return "expected a number in range";
		}
		/* RFC 7677 §4: at least 4096 PBKDF2 iterations */
		if (strcmp(key, "scram_iterations") == 0 && n < 4096) {
			return "must be at least 4096";
		}
		if ((strcmp(key, "max_auth_failures_per_stream") == 0 ||
		    strcmp(key, "max_stanzas_burst") == 0 ||
		    strcmp(key, "max_bytes_burst") == 0) && n < 1) {
			return "must be at least 1";
		}
		if ((strncmp(key, "pubsub_max_", 11) == 0 ||
		    strcmp(key, "pep_max_nodes") == 0) && n < 1) {
			return "must be at least 1";
		}
		if (uint_keys[i].is_size) {
			*(size_t *)(void *)((char *)c + uint_keys[i].offset) = n;
		} else {
			*(unsigned *)(void *)((char *)c + uint_keys[i].offset) =
			    (unsigned)n;
		}
		return NULL;
	}
	return "unknown key";
}

/* One more ADDRESS:PORT listener: slot *count of the slots of slot_len
 * bytes each that start at slots.  NULL or the reason it is refused. */
static const char *
add_listen(char *slots, size_t slot_len, int *count, const char *v)
{
	if (*count >= CONFIG_MAX_LISTEN) {
		return "too many listeners";
	}
	if (strrchr(v, ':') == NULL) {
		return "expected ADDRESS:PORT";
	}
	if (set_string(slots + (size_t)*count * slot_len, slot_len, v) != 0) {
		return "too long";
	}
	(*count)++;
	return NULL;
}

/* Apply one key; returns NULL or the reason it is refused. */
/* An http:// or https:// base URL, without trailing slashes (a path is
 * appended after one '/'). */
static const char *
set_base_url(char *dst, size_t cap, const char *v)
{
	size_t len;

	if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) {
		return "expected an http:// or https:// URL";
	}
	if (set_string(dst, cap, v) != 0) {
		return "too long";
	}
	len = strlen(dst);
	while (len > 0 && dst[len - 1] == '/') {
		dst[--len] = '\0';
	}
	return NULL;
}

static const char *
config_set(struct config *c, const char *key, const char *v)
{
	if (strcmp(key, "pubsub_create_nodes") == 0) {
		if (strcmp(v, "local") == 0) {
			c->pubsub_create_nodes = 1;
		} else if (strcmp(v, "admins") == 0) {
			c->pubsub_create_nodes = 0;
		} else {
			return "expected local or admins";
		}
		return NULL;
	}
	if (strcmp(key, "c2s_listen") == 0) {
		return add_listen(c->c2s_listen[0], sizeof(c->c2s_listen[0]),
		    &c->c2s_listen_count, v);
	}
	if (strcmp(key, "c2s_direct_tls_listen") == 0) {
		return add_listen(c->c2s_direct_tls_listen[0],
		    sizeof(c->c2s_direct_tls_listen[0]),
		    &c->c2s_direct_tls_listen_count, v);
	}
	if (strcmp(key, "http_listen") == 0) {
		return add_listen(c->http_listen[0], sizeof(c->http_listen[0]),
		    &c->http_listen_count, v);
	}
	if (strcmp(key, "https_listen") == 0) {
		return add_listen(c->https_listen[0], sizeof(c->https_listen[0]),
		    &c->https_listen_count, v);
	}
	if (strcmp(key, "require_encryption") == 0) {
		if (strcmp(v, "non-loopback") == 0) {
			c->require_encryption = -1;
			return NULL;
		}
		return parse_bool(v, &c->require_encryption) ?
		    "expected yes, no or non-loopback" : NULL;
	}
	if (strcmp(key, "log_level") == 0) {
		if (strcmp(v, "error") && strcmp(v, "warn") &&
		    strcmp(v, "info") && strcmp(v, "debug")) {
			return "expected error, warn, info or debug";
		}
		return set_string(c->log_level, sizeof(c->log_level), v) ?
		    "too long" : NULL;
	}
	if (strcmp(key, "allow_plain_unencrypted") == 0) {
		if (strcmp(v, "loopback") == 0) {
			c->allow_plain_unencrypted = -1;
			return NULL;
		}
		return parse_bool(v, &c->allow_plain_unencrypted) ?
		    "expected yes, no or loopback" : NULL;
	}
	if (strcmp(key, "limits_exempt") == 0) {
		c->limits_exempt_set = 1;
		return add_exempt(c, v);
	}
	if (strcmp(key, "admins") == 0) {
		return add_admins(c, v) ? "too many or too long" : NULL;
	}
	if (strncmp(key, "contact_", 8) == 0) {
		return add_contacts(c, key, v);
	}
	if (strcmp(key, "external_service") == 0) {
		return add_ext_service(c, v);
	}
	if (strcmp(key, "external_service_host") == 0) {
		return *v == '\0' || set_string(c->external_service_host,
		    sizeof(c->external_service_host), v) ? "bad host" : NULL;
	}
	if (strcmp(key, "http_upload_url") == 0) {
		return set_base_url(c->http_upload_url,
		    sizeof(c->http_upload_url), v);
	}
	if (strcmp(key, "http_upload_allowed_types") == 0) {
		return add_words(c->http_upload_types[0],
		    sizeof(c->http_upload_types[0]), CONFIG_MAX_UPLOAD_TYPES,
		    &c->http_upload_type_count, v) ? "too many or too long" :
		    NULL;
	}
	if (strcmp(key, "http_metrics") == 0) {
		if (strcmp(v, "no") && strcmp(v, "loopback") &&
		    strcmp(v, "any")) {
			return "expected no, loopback or any";
		}
		return set_string(c->http_metrics, sizeof(c->http_metrics),
		    v) ? "too long" : NULL;
	}
	if (strcmp(key, "store_sync") == 0) {
		if (strcmp(v, "always") && strcmp(v, "batch") &&
		    strcmp(v, "none")) {
			return "expected always, batch or none";
		}
		return set_string(c->store_sync, sizeof(c->store_sync), v) ?
		    "too long" : NULL;
	}
	return config_set_field(c, key, v);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1])) {
		*--e = '\0';
	}
	return s;
}

/*
 * Load the defaults and then path (if not NULL).  On success the new
 * configuration replaces the one in force; on error nothing changes and
 * err says "file:line: reason: line".
 */
int
config_load(const char *path, char *err, size_t errlen)
{
	struct config c;
	char line[1024], *key, *val, *eq;
	const char *why;
	unsigned lineno = 0;
	FILE *fp;
	int i;

	config_defaults(&c);
	if (path != NULL) {
		fp = fopen(path, "r");
		if (fp == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		while (fgets(line, sizeof(line), fp) != NULL) {
			lineno++;
			if (strchr(line, '\n') == NULL && !feof(fp)) {
				snprintf(err, errlen, "%s:%u: line too long",
				    path, lineno);
				fclose(fp);
				return -1;
			}
			key = trim(line);
			if (*key == '\0' || *key == '#') {
				continue;
			}
			eq = strchr(key, '=');
			if (eq == NULL) {
				snprintf(err, errlen,
				    "%s:%u: expected key = value: %s", path,
				    lineno, key);
				fclose(fp);
				return -1;
			}
			*eq = '\0';
			val = trim(eq + 1);
			key = trim(key);
			why = config_set(&c, key, val);
			if (why != NULL) {
				snprintf(err, errlen, "%s:%u: %s: %s = %s",
				    path, lineno, why, key, val);
				fclose(fp);
				return -1;
			}
		}
		fclose(fp);
		if ((c.tls_cert[0] == '\0') != (c.tls_key[0] == '\0')) {
			snprintf(err, errlen, "%s: cert and key must be set "
			    "together", path);
			return -1;
		}
		for (i = 0; i < c.ext_service_count; i++) {
			if (c.ext_services[i].default_secret &&
			    c.external_service_secret[0] == '\0') {
				snprintf(err, errlen, "%s: external_service "
				    "%s: `secret` needs external_service_secret",
				    path, c.ext_services[i].type);
				return -1;
			}
		}
	}
	config_finish(&c);
	current = c;
	loaded = 1;
	return 0;
}

/* Is bare_jid listed in `admins`?  (Compared case-insensitively.) */
int
config_is_admin(const char *bare_jid)
{
	const struct config *c = config_get();
	int i;

	for (i = 0; i < c->admin_count; i++) {
		if (strcasecmp(c->admins[i], bare_jid) == 0) {
			return 1;
		}
	}
	return 0;
}
