/*
 * uxlimits.h - every fixed limit, in one place (as dropbear's
 * default_options.h), and the defaults of the limits users may set in
 * the configuration file (config.c; README "Configuration reference").
 * Not "limits.h": with -I. that name would shadow the C library's.
 * Going over a peer-facing limit gets the peer the stanza or stream error
 * the spec names; the server keeps serving everyone else.
 */
#ifndef UXMPPD_UXLIMITS_H
#define UXMPPD_UXLIMITS_H

/* ---- reactor ---- */
#define SERVER_READ_CHUNK	16384	/* bytes per read() */
#define SERVER_MAX_READ_PER_EVENT	(4 * SERVER_READ_CHUNK)
#define SERVER_MAX_WRITE_PER_TURN	(256 * 1024)
#define SERVER_CLOSE_GRACE_S	5	/* wait this long for output to drain */
#define SERVER_SHUTDOWN_GRACE_S	3
#define SERVER_STORE_FAIL_S	10	/* store disabled for good this long: stop (server_store_flush) */

/* ---- streams ---- */
#define C2S_MAX_REGISTER_ATTEMPTS	5

/* ---- addresses and SASL ---- */
#define JID_PART_MAX	1023	/* bytes per part, RFC 7622 §3.2-3.4 */
#define JID_MAX	(3 * JID_PART_MAX + 2)
#define SASL_ITERATIONS_DEFAULT	4096	/* RFC 7677 §4: at least 4096 */
#define SASL_ITERATIONS_MAX	1000000	/* refused above (CPU cost) */
#define SASL_MSG_MAX	4096	/* bytes of one decoded SASL message */
#define REGISTER_MAX_PASSWORD	1024	/* bytes */

/* ---- IM ---- */
#define ROUTE_OFFLINE_MAX	100	/* messages kept per user */
#define ROUTE_MAX_DIRECTED	1000	/* directed-presence peers per session */
#define ROUTE_MAX_SERVICES	8	/* service domains one server hosts */
#define ROSTER_MAX_ITEMS	1000	/* contacts per user */
#define ROSTER_MAX_NAME	1023	/* bytes of a name or group */
#define ROSTER_MAX_GROUPS	64	/* groups per item */
#define BLOCKING_MAX_ITEMS	1000	/* blocked JIDs per user */
#define SM_CSI_MAX_HELD	100	/* presence held back while inactive */
#define SERVICES_MAX_PRIVATE	64	/* private XML elements per user */
#define SERVICES_MAX_VCARD	(64 * 1024)	/* bytes of one vCard */
#define SERVICES_MAX_PRIVATE_BYTES	(64 * 1024)	/* bytes of one element */
#define CAPS_MAX_ENTRIES	1024	/* verification strings remembered */
#define CAPS_MAX_ITEMS		512	/* identities+features+fields hashed */
#define PEP_MAX_RECIPIENTS	5000	/* resources one account's PEP serves */
#define PEP_MAX_CAPS_KEY	1024	/* "node#ver" of a <c/> */

/* ---- multi-user chat ---- */
#define MUC_LOCK_TIMEOUT_S	300	/* unconfigured rooms open after 5 min */
#define MUC_HISTORY_MAX	1000	/* cap on muc#roomconfig_historylength */
#define MUC_TOMBSTONE_S	(31 * 86400)	/* destroyed persistent rooms */
#define MUC_HISTORY_BYTES	(128 * 1024)	/* history kept per room */
#define MUC_TEXT_MAX	1024	/* room name, description, password */
#define MUC_SUBJECT_MAX	4096	/* bytes of a room subject */
#define MUC_AFFS_MAX	10000	/* affiliations (with bans) per room */
#define MUC_RATE_BURST_S	5	/* occupant buckets hold 5 s of their rate */

/* ---- publish-subscribe ---- */
#define PUBSUB_MAX_NAME_BYTES	256	/* node name, item id */
#define PUBSUB_MAX_TITLE_BYTES	256	/* title, description, type */
#define PUBSUB_MAX_AFFS	1000	/* affiliations per node */

/* ---- storage ---- */
#define STORE_MAX_LINE	(4u * 1024 * 1024)	/* one escaped record */
#define STORE_MAX_KINDS	256
#define ARCHIVE_NAME_MAX	JID_MAX	/* bytes of an archive's bare JID */
#define JID_MAX_ARCHIVE	JID_MAX	/* bytes of a message's 'with' JID */
#define ARCHIVE_MAX_RECORD	(DEFAULT_MAX_STANZA_BYTES + 2 * JID_MAX + 64)
#define ARCHIVE_SEG_MSGS	65536	/* messages per segment file */
#define ARCHIVE_SEG_BYTES	(16u * 1024 * 1024)	/* per segment file */
#define ARCHIVE_MAX_OPEN	64	/* archives open at once (4 fds each) */
#define ARCHIVE_COMPACT_PER_STEP	8	/* archives expired per second */
#define ARCHIVE_COMPACT_ROUND_S	3600	/* between rounds of expiry */
#define ARCHIVE_DIR_NAME_MAX	200	/* longer escaped names are hashed */
#define PATH_MAX_ARCHIVE	4096	/* bytes of a segment's path */
#define MAM_MAX_PAGE	50	/* messages in one MAM page (as Prosody) */
#define MAM_DEFAULT_PAGE	20	/* without RSM <max/> (as Prosody) */
#define MAM_MAX_IDS	250	/* ids in one <field var='ids'/> */
#define MAM_COUNT_SCAN_MAX	16384	/* index entries read for a <count/>
					   under a 'with' filter (512 KiB) */
#define MAM_COUNT_SPAN_BYTES	(256u * 1024)	/* records read at once
						   to check those entries */
#define MAM_COUNT_SPAN_PER_MATCH	2048	/* ... when this close (bytes
						   per match) */
#define MAM_MAX_PREFS_JIDS	1000	/* always + never JIDs per user */

/* ---- TLS ---- */
#define TLS_CERT_PEM_MAX	8192
#define TLS_KEY_PEM_MAX	2048

/* ---- HTTP file upload (upload.c, XEP-0363) ---- */
#define UPLOAD_FILENAME_MAX	255	/* bytes of a requested file name */
#define UPLOAD_TYPE_MAX		127	/* bytes of a content type */
#define UPLOAD_URL_MAX		1536	/* a PUT or GET URL */
#define UPLOAD_SWEEP_S		60	/* expired slots swept at most this often */
#define UPLOAD_MAX_CONCURRENT	256	/* http_upload_max_concurrent's ceiling */
/* unsynced bytes of an upload before its writeback is started (so the
 * fsync before 201 has little left to do) */
#define UPLOAD_WRITEBACK_BYTES	(4 * 1024 * 1024)
/* ---- HTTP and WebSocket (http.c, httpd.c, ws.c) ---- */
#define HTTP_MAX_REQUEST_LINE	8192	/* bytes: 414 past it */
#define HTTP_MAX_HEADER_BYTES	16384	/* the header section: 431 */
#define HTTP_MAX_HEADERS	64	/* header lines: 431 */
#define HTTP_MAX_CHUNK_LINE	256	/* a chunk-size or trailer line: 400 */
#define HTTP_MAX_HANDLERS	16	/* paths in the dispatch table */
/* a request body refused before it arrives is read and dropped up to
 * this size; a larger one closes the connection after the answer */
#define HTTP_DISCARD_MAX	(64 * 1024)
#define HTTP_STREAM_CHUNK	(64 * 1024)	/* file body read per piece */
/* bytes read past a request while its file body streams (one read's worth) */
#define HTTP_HELD_MAX		(2 * SERVER_MAX_READ_PER_EVENT)
#define WS_MAX_CONTROL	125	/* control frame payload, RFC 6455 §5.5 */

/* ---- rate limits (ratelimit.c) ---- */
#define RATELIMIT_MAX_ADDRS	100000	/* addresses with failures remembered */
#define CONFIG_MAX_EXEMPT	32	/* limits_exempt entries */

/* ---- configuration ---- */
#define CONFIG_MAX_LISTEN	8
#define CONFIG_MAX_ADMINS	32
#define CONFIG_MAX_CONTACTS	32	/* XEP-0157 addresses, all kinds */
#define CONFIG_MAX_EXT_SERVICES	16	/* XEP-0215 external services */
#define CONFIG_MAX_UPLOAD_TYPES	32	/* http_upload_allowed_types */
#define CONTROL_MAX_REQUEST	2048
#define CONTROL_MAX_REPLY	16384	/* bytes: invite list, status */

/* ---- configurable: the defaults of the config keys of the same name ---- */
#define DEFAULT_MAX_STANZA_BYTES	(256 * 1024)
#define DEFAULT_MAX_DEPTH	32	/* element nesting in one stanza */
#define DEFAULT_MAX_ATTRS	64	/* attributes on one element */
#define DEFAULT_MAX_OUTPUT_BYTES	(1024 * 1024)	/* queued per client */
#define DEFAULT_AUTH_TIMEOUT_S	30	/* to authenticate and bind */
#define DEFAULT_IDLE_TIMEOUT_S	0	/* 0: never */
#define DEFAULT_MAX_CLIENTS	19000	/* under a 20000 open-file limit */
/* Rate limits: far above a home network's or a real client's use. */
#define DEFAULT_LIMITS_EXEMPT	"127.0.0.1 ::1"	/* the benchmarks' address */
#define DEFAULT_MAX_CONNECTIONS_PER_IP	100	/* a NAT of a few dozen devices */
#define DEFAULT_MAX_CONNECTIONS_PER_IPV6_64	200	/* one home network */
#define DEFAULT_MAX_PREAUTH_PER_IP	30	/* connecting at the same time */
#define DEFAULT_MAX_AUTH_FAILURES_PER_IP	20	/* per minute */
#define DEFAULT_AUTH_FAILURE_DELAY_MS	2000	/* before a refusal */
#define DEFAULT_MAX_AUTH_FAILURES_PER_STREAM	3	/* then policy-violation */
#define DEFAULT_MAX_RESOURCES_PER_ACCOUNT	100	/* bound at once */
#define DEFAULT_MAX_STANZAS_PER_S	100	/* per session, sustained */
#define DEFAULT_MAX_STANZAS_BURST	1000	/* a login joining many rooms */
#define DEFAULT_MAX_BYTES_PER_S	(256 * 1024)	/* per session, sustained */
#define DEFAULT_MAX_BYTES_BURST	(1024 * 1024)
#define DEFAULT_MAX_MEMORY_MB	0	/* no budget; 40 on a 64 MB router */
/* The memory budget (mem.h): new connections are refused from this share
 * of max_memory_mb, slow readers closed above all of it. */
#define MEM_NEAR_PERCENT	90
#define MEM_TRIM_MIN_QUEUED	4096	/* a queue this small is no slow reader */
#define MEM_TRIM_PER_TURN	16	/* closed per loop turn at most */
#define DEFAULT_MUC_HISTORY	20	/* messages a room keeps */
#define DEFAULT_MUC_MAX_ROOMS	10000
#define DEFAULT_MUC_MAX_OCCUPANTS	200	/* per room */
#define DEFAULT_MUC_MAX_ROOMS_PER_USER	100	/* owned, at creation */
#define DEFAULT_MUC_MAX_MESSAGES_PER_S	10	/* per occupant */
#define DEFAULT_MUC_MAX_PRESENCE_PER_S	5	/* changes per occupant */
#define DEFAULT_SM_RESUME_TIMEOUT_S	300
#define DEFAULT_SM_MAX_UNACKED	1000
#define DEFAULT_ARCHIVE_EXPIRES_DAYS	7	/* as Prosody: a week; 0 = keep */
#define DEFAULT_ARCHIVE_MAX_MESSAGES	0	/* per archive; 0 = no limit */
#define DEFAULT_STORE_BATCH_MS	50
#define DEFAULT_PUBSUB_MAX_ITEMS	256	/* per node; also "max" */
#define DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES	(256 * 1024)	/* one item */
#define DEFAULT_PUBSUB_MAX_NODES	1000	/* pubsub.<domain> */
#define DEFAULT_PEP_MAX_NODES	128	/* per account */
#define DEFAULT_EXT_SERVICE_TTL_S	86400	/* TURN REST credentials */
#define DEFAULT_HTTP_UPLOAD_MAX_BYTES	(10 * 1024 * 1024)	/* one file */
#define DEFAULT_HTTP_UPLOAD_QUOTA_BYTES	(100 * 1024 * 1024)	/* per user */
#define DEFAULT_HTTP_UPLOAD_EXPIRE_DAYS	7	/* files kept; 0: forever */
#define DEFAULT_HTTP_UPLOAD_PUT_TTL_S	300	/* PUT URLs valid (XEP-0363 §8) */
#define DEFAULT_HTTP_UPLOAD_MAX_CONCURRENT 16	/* PUTs at once; more: 503 */
#define DEFAULT_HTTP_MAX_BODY_BYTES	(1024 * 1024)	/* 413 past it */
#define DEFAULT_HTTP_HEADER_TIMEOUT_S	10	/* a head's first to last byte */
#define DEFAULT_HTTP_IDLE_TIMEOUT_S	60	/* keep-alive between requests */

#endif
