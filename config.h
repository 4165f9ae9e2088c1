/*
 * config.h - the server configuration: embedded defaults and a
 * `key = value` file, with the limits users may tune (their defaults and
 * every fixed limit are named in uxlimits.h).
 */
#ifndef UXMPPD_CONFIG_H
#define UXMPPD_CONFIG_H

#include <stddef.h>

#include "ratelimit.h"
#include "uxlimits.h"

/* XEP-0157 address kinds: key contact_NAME, form field NAME-addresses. */
enum config_contact_kind {
	CONFIG_CONTACT_ABUSE, CONFIG_CONTACT_ADMIN, CONFIG_CONTACT_FEEDBACK,
	CONFIG_CONTACT_SALES, CONFIG_CONTACT_SECURITY, CONFIG_CONTACT_STATUS,
	CONFIG_CONTACT_SUPPORT, CONFIG_CONTACT_KINDS
};

struct config_contact {
	enum config_contact_kind kind;
	char	 uri[256];		/* "mailto:abuse@example.org" */
};

/* One XEP-0215 external service (key `external_service`), its defaults
 * filled in from the external_service_* keys. */
struct config_ext_service {
	char	 type[32];		/* "stun", "turn", ... */
	char	 transport[8];		/* "udp", "tcp" or "" */
	char	 host[256];
	unsigned port;			/* 0: none given */
	char	 username[128];		/* "" or fixed; with secret the
					 * TURN REST username's suffix */
	char	 password[128];		/* fixed password; "" = none */
	char	 secret[128];		/* TURN REST shared secret; "" = none */
	int	 restricted;		/* needs credentials */
	int	 default_secret;	/* `secret` alone: external_service_secret */
	unsigned ttl_s;			/* credential lifetime; 0: the default,
					 * without an expires attribute */
};

struct config {
	char	 domain[256];		/* "localhost" */
	char	 muc_domain[256 + 16];	/* "conference.<domain>" */
	int	 pubsub;		/* the pubsub.<domain> service, 1 */
	char	 pubsub_domain[256 + 16]; /* "pubsub.<domain>" */
	int	 pubsub_create_nodes;	/* 1 local accounts (default), 0 admins */
	int	 pubsub_expose_publisher; /* items name their publisher, 0 */
	unsigned pubsub_max_items;	/* items per node, 256 */
	size_t	 pubsub_max_payload_bytes; /* one item, 256 KiB */
	unsigned pubsub_max_nodes;	/* nodes of pubsub.<domain>, 1000 */
	unsigned pep_max_nodes;		/* nodes per account, 128 */
	char	 c2s_listen[CONFIG_MAX_LISTEN][80]; /* "127.0.0.1:5222" */
	int	 c2s_listen_count;
	char	 data_dir[512];		/* "./data" */
	char	 log_file[512];		/* "" = stderr */
	char	 log_level[16];		/* "info" */
	int	 allow_plain_unencrypted; /* -1 = loopback only (default) */
	char	 admins[CONFIG_MAX_ADMINS][256]; /* bare JIDs */
	int	 admin_count;
	unsigned scram_iterations;	/* 4096 */
	char	 store_sync[16];	/* "always" | "batch" | "none" */
	char	 http_metrics[16];	/* "no" | "loopback" | "any" */
	unsigned store_batch_ms;	/* 50 */
	size_t	 max_stanza_bytes;	/* 262144 */
	unsigned max_depth;		/* 32 */
	unsigned max_attrs;		/* 64 */
	size_t	 max_output_bytes;	/* 1 MiB: unsent output cap */
	unsigned auth_timeout_s;	/* 30: pre-authentication timeout */
	unsigned idle_timeout_s;	/* 0 = none */
	unsigned max_clients;		/* 19000 */
	/* rate limits (ratelimit.h; README "Rate limits") */
	struct rl_prefix limits_exempt[CONFIG_MAX_EXEMPT]; /* 127.0.0.1 ::1 */
	int	 limits_exempt_count;
	int	 limits_exempt_set;	/* the key was given: no default */
	unsigned max_connections_per_ip;	/* 100; 0: none */
	unsigned max_connections_per_ipv6_64;	/* 200; 0: none */
	unsigned max_preauth_per_ip;	/* 30; 0: none */
	unsigned max_auth_failures_per_ip;	/* 20 a minute; 0: none */
	unsigned auth_failure_delay_ms;	/* 2000: before temporary-auth-failure */
	unsigned max_auth_failures_per_stream;	/* 3 */
	unsigned max_resources_per_account;	/* 100 bound at once; 0: none */
	unsigned max_stanzas_per_s;	/* 100 per session; 0: none */
	unsigned max_stanzas_burst;	/* 1000 */
	unsigned max_bytes_per_s;	/* 256 KiB per session; 0: none */
	unsigned max_bytes_burst;	/* 1 MiB */
	unsigned max_memory_mb;		/* 0 = no memory budget (mem.h) */
	unsigned muc_history_default;	/* 20 messages */
	unsigned muc_max_rooms;		/* 10000 */
	unsigned muc_max_occupants;	/* default max users per room, 200 */
	unsigned muc_max_rooms_per_user;	/* owned, 100; 0: none */
	unsigned muc_max_messages_per_s;	/* per occupant, 10; 0: none */
	unsigned muc_max_presence_per_s;	/* per occupant, 5; 0: none */
	int	 allow_registration;	/* XEP-0077 in-band account creation, 0 */
	int	 allow_user_invites;	/* accounts make contact invites, 0 */
	unsigned sm_resume_timeout_s;	/* XEP-0198 resumption window, 300; 0 = off */
	unsigned sm_max_unacked;	/* XEP-0198 unacked stanzas per session, 1000 */
	unsigned archive_expires_days;	/* XEP-0313 archives keep 7 days; 0 = all */
	unsigned archive_max_messages;	/* per archive; 0 = no limit */
	/* TLS (tls.c).  Without cert/key a self-signed certificate is made
	 * in data_dir at first start. */
	char	 tls_cert[512];		/* key `cert`: PEM chain, leaf first */
	char	 tls_key[512];		/* key `key`: PEM private key */
	int	 require_encryption;	/* 1 yes, 0 no, -1 non-loopback (default) */
	char	 c2s_direct_tls_listen[CONFIG_MAX_LISTEN][80]; /* XEP-0368 */
	int	 c2s_direct_tls_listen_count;
	/* XEP-0157 contact addresses in the server's disco#info */
	struct config_contact contacts[CONFIG_MAX_CONTACTS];
	int	 contact_count;
	/* XEP-0215 external services */
	char	 external_service_host[256];	/* default host: the domain */
	unsigned external_service_port;	/* default port, 0 = none */
	char	 external_service_secret[128]; /* default TURN REST secret */
	unsigned external_service_ttl_s;	/* TURN REST lifetime, 86400 */
	struct config_ext_service ext_services[CONFIG_MAX_EXT_SERVICES];
	int	 ext_service_count;
	/* XEP-0363 HTTP file upload (upload.c) */
	int	 http_upload;		/* the component is on, 0 */
	char	 http_upload_domain[256 + 16]; /* "upload.<domain>" */
	char	 http_upload_url[512];	/* public base URL of the files */
	size_t	 http_upload_max_bytes;	/* one file, 10 MiB */
	size_t	 http_upload_quota_bytes; /* per user, 100 MiB; 0 = none */
	unsigned http_upload_expire_days; /* 7; 0 = keep forever */
	unsigned http_upload_put_ttl_s;	/* a PUT URL's validity, 300 */
	unsigned http_upload_max_concurrent; /* PUTs at once, 16 */
	char	 http_upload_types[CONFIG_MAX_UPLOAD_TYPES][128];
	int	 http_upload_type_count; /* 0: every type is allowed */
	/* HTTP (httpd.c) and XMPP over WebSocket (c2s_ws.c); off unless a
	 * listener is configured */
	char	 http_listen[CONFIG_MAX_LISTEN][80];
	int	 http_listen_count;
	char	 https_listen[CONFIG_MAX_LISTEN][80];	/* the c2s cert */
	int	 https_listen_count;
	size_t	 http_max_body_bytes;	/* 1 MiB */
	unsigned http_header_timeout_s;	/* 10 */
	unsigned http_idle_timeout_s;	/* 60 */
	char	 websocket_origins[1024]; /* "": same origin as Host; "*": any */
};

/* The configuration in force.  Borrowed; valid until the next reload. */
const struct config *config_get(void);
/* Load defaults, then path when not NULL.  On error prints file:line and
 * the reason into err and returns -1 (the config in force is unchanged). */
int	config_load(const char *path, char *err, size_t errlen);
/* "abuse", "admin", ... for a kind (the key's and field's stem). */
const char *config_contact_name(enum config_contact_kind kind);
/* Is bare JID a service administrator (key `admins`)? */
int	config_is_admin(const char *bare_jid);

#endif
