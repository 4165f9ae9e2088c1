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
	c->store_batch_ms = DEFAULT_STORE_BATCH_MS;
	c->max_stanza_bytes = DEFAULT_MAX_STANZA_BYTES;
	c->max_depth = DEFAULT_MAX_DEPTH;
	c->max_attrs = DEFAULT_MAX_ATTRS;
	c->max_output_bytes = DEFAULT_MAX_OUTPUT_BYTES;
	c->auth_timeout_s = DEFAULT_AUTH_TIMEOUT_S;
	c->idle_timeout_s = DEFAULT_IDLE_TIMEOUT_S;
	c->max_clients = DEFAULT_MAX_CLIENTS;
	c->muc_history_default = DEFAULT_MUC_HISTORY;
	c->muc_max_rooms = DEFAULT_MUC_MAX_ROOMS;
	c->muc_max_occupants = DEFAULT_MUC_MAX_OCCUPANTS;
	c->allow_registration = 0;
	c->sm_resume_timeout_s = DEFAULT_SM_RESUME_TIMEOUT_S;
	c->sm_max_unacked = DEFAULT_SM_MAX_UNACKED;
	c->require_encryption = -1;
	c->pubsub = 1;
	c->pubsub_create_nodes = 1;
	c->pubsub_expose_publisher = 0;
	c->pubsub_max_items = DEFAULT_PUBSUB_MAX_ITEMS;
	c->pubsub_max_payload_bytes = DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES;
	c->pubsub_max_nodes = DEFAULT_PUBSUB_MAX_NODES;
	c->pep_max_nodes = DEFAULT_PEP_MAX_NODES;
}

/* Fill in what depends on other keys once the file is read. */
static void
config_finish(struct config *c)
{
	if (c->muc_domain[0] == '\0') {
		snprintf(c->muc_domain, sizeof(c->muc_domain), "conference.%s",
		    c->domain);
	}
	if (c->pubsub_domain[0] == '\0') {
		snprintf(c->pubsub_domain, sizeof(c->pubsub_domain),
		    "pubsub.%s", c->domain);
	}
	if (c->c2s_listen_count == 0) {
		snprintf(c->c2s_listen[0], sizeof(c->c2s_listen[0]),
		    "127.0.0.1:5222");
		c->c2s_listen_count = 1;
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

/* admins: a list separated by spaces or commas; the key may repeat. */
static int
add_admins(struct config *c, const char *v)
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
		if (c->admin_count >= CONFIG_MAX_ADMINS ||
		    n >= sizeof(c->admins[0])) {
			return -1;
		}
		memcpy(c->admins[c->admin_count], p, n);
		c->admins[c->admin_count][n] = '\0';
		for (char *q = c->admins[c->admin_count]; *q; q++) {
			*q = (char)tolower((unsigned char)*q);
		}
		c->admin_count++;
		p += n;
	}
	return 0;
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
	UK(muc_history_default, 1000),
	UK(muc_max_rooms, 10000000),
	UK(muc_max_occupants, 1000000),
	UK(sm_resume_timeout_s, 86400),
	UK(sm_max_unacked, 1000000),
	UK(pubsub_max_items, 100000),
	UK(pubsub_max_payload_bytes, 64UL * 1024 * 1024),
	UK(pubsub_max_nodes, 10000000),
	UK(pep_max_nodes, 1000000),
};

/* Apply one key; returns NULL or the reason it is refused. */
static const char *
config_set(struct config *c, const char *key, const char *v)
{
	unsigned long n;
	size_t i;

	if (strcmp(key, "domain") == 0) {
		return set_string(c->domain, sizeof(c->domain), v) ?
		    "too long" : NULL;
	}
	if (strcmp(key, "muc_domain") == 0) {
		return set_string(c->muc_domain, sizeof(c->muc_domain), v) ?
		    "too long" : NULL;
	}
	if (strcmp(key, "pubsub") == 0) {
		return parse_bool(v, &c->pubsub) ? "expected yes or no" : NULL;
	}
	if (strcmp(key, "pubsub_domain") == 0) {
		return set_string(c->pubsub_domain, sizeof(c->pubsub_domain),
		    v) ? "too long" : NULL;
	}
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
	if (strcmp(key, "pubsub_expose_publisher") == 0) {
		return parse_bool(v, &c->pubsub_expose_publisher) ?
		    "expected yes or no" : NULL;
	}
	if (strcmp(key, "c2s_listen") == 0) {
		if (c->c2s_listen_count >= CONFIG_MAX_LISTEN) {
			return "too many listeners";
		}
		if (strrchr(v, ':') == NULL) {
			return "expected ADDRESS:PORT";
		}
		if (set_string(c->c2s_listen[c->c2s_listen_count],
		    sizeof(c->c2s_listen[0]), v) != 0) {
			return "too long";
		}
		c->c2s_listen_count++;
		return NULL;
	}
	if (strcmp(key, "c2s_direct_tls_listen") == 0) {
		if (c->c2s_direct_tls_listen_count >= CONFIG_MAX_LISTEN) {
			return "too many listeners";
		}
		if (strrchr(v, ':') == NULL) {
			return "expected ADDRESS:PORT";
		}
		if (set_string(c->c2s_direct_tls_listen[
		    c->c2s_direct_tls_listen_count],
		    sizeof(c->c2s_direct_tls_listen[0]), v) != 0) {
			return "too long";
		}
		c->c2s_direct_tls_listen_count++;
		return NULL;
	}
	if (strcmp(key, "cert") == 0) {
		return set_string(c->tls_cert, sizeof(c->tls_cert), v) ?
		    "too long" : NULL;
	}
	if (strcmp(key, "key") == 0) {
		return set_string(c->tls_key, sizeof(c->tls_key), v) ?
		    "too long" : NULL;
	}
	if (strcmp(key, "require_encryption") == 0) {
		if (strcmp(v, "non-loopback") == 0) {
			c->require_encryption = -1;
			return NULL;
		}
		return parse_bool(v, &c->require_encryption) ?
		    "expected yes, no or non-loopback" : NULL;
	}
	if (strcmp(key, "data_dir") == 0) {
		return set_string(c->data_dir, sizeof(c->data_dir), v) ?
		    "too long" : NULL;
	}
	if (strcmp(key, "log_file") == 0) {
		return set_string(c->log_file, sizeof(c->log_file), v) ?
		    "too long" : NULL;
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
	if (strcmp(key, "allow_registration") == 0) {
		return parse_bool(v, &c->allow_registration) ?
		    "expected yes or no" : NULL;
	}
	if (strcmp(key, "admins") == 0) {
		return add_admins(c, v) ? "too many or too long" : NULL;
	}
	if (strcmp(key, "store_sync") == 0) {
		if (strcmp(v, "always") && strcmp(v, "batch") &&
		    strcmp(v, "none")) {
			return "expected always, batch or none";
		}
		return set_string(c->store_sync, sizeof(c->store_sync), v) ?
		    "too long" : NULL;
	}
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
