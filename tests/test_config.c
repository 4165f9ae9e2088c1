/*
 * test_config.c - embedded defaults, the key = value file, and the errors
 * that name file:line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static char path[64];

/* Write text as the config file and load it; returns config_load's rc. */
static int
load(const char *text, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	err[0] = '\0';
	return config_load(path, err, errlen);
}

static void
test_defaults(void)
{
	char err[600];
	const struct config *c;

	CHECK(config_load(NULL, err, sizeof(err)) == 0);
	c = config_get();
	CHECK_STR(c->domain, "localhost");
	CHECK_STR(c->muc_domain, "conference.localhost");
	CHECK(c->c2s_listen_count == 1);
	CHECK_STR(c->c2s_listen[0], "127.0.0.1:5222");
	CHECK_STR(c->data_dir, "./data");
	CHECK(c->allow_plain_unencrypted == -1);
	CHECK(c->scram_iterations == 4096);
	CHECK(c->allow_registration == 0);
	CHECK(c->allow_user_invites == 0);
	CHECK_STR(c->store_sync, "always");
	CHECK(c->max_stanza_bytes == 256 * 1024);
	CHECK(c->pubsub == 1);
	CHECK_STR(c->pubsub_domain, "pubsub.localhost");
	CHECK(c->pubsub_create_nodes == 1);
	CHECK(c->pubsub_expose_publisher == 0);
	CHECK(c->pubsub_max_items == DEFAULT_PUBSUB_MAX_ITEMS);
	CHECK(c->pubsub_max_payload_bytes == DEFAULT_PUBSUB_MAX_PAYLOAD_BYTES);
	CHECK(c->pubsub_max_nodes == DEFAULT_PUBSUB_MAX_NODES);
	CHECK(c->pep_max_nodes == DEFAULT_PEP_MAX_NODES);
}

/* limits_exempt: loopback by default; given, it replaces the default */
static void
test_limits(void)
{
	char err[600];
	const struct config *c;
	struct rl_addr a;
	unsigned char lo2[4] = { 127, 0, 0, 2 }, v6[16] = { 0x20, 0x01,
	    0x0d, 0xb8 };

	CHECK(config_load(NULL, err, sizeof(err)) == 0);
	c = config_get();
	CHECK(c->limits_exempt_count == 2);
	CHECK(c->max_connections_per_ip == DEFAULT_MAX_CONNECTIONS_PER_IP);
	CHECK(c->max_auth_failures_per_stream == 3);
	CHECK(load("limits_exempt = 127.0.0.0/8, 2001:db8::/32\n"
	    "limits_exempt = 192.0.2.1\nmax_preauth_per_ip = 7\n", err,
	    sizeof(err)) == 0);
	c = config_get();
	CHECK(c->limits_exempt_count == 3);
	CHECK(c->max_preauth_per_ip == 7);
	rl_addr_set(&a, lo2, 4);
	CHECK(rl_prefix_match(&c->limits_exempt[0], &a));
	rl_addr_set(&a, v6, 16);
	CHECK(rl_prefix_match(&c->limits_exempt[1], &a));
	CHECK(load("limits_exempt =\n", err, sizeof(err)) == 0);
	CHECK(config_get()->limits_exempt_count == 0);
	CHECK(load("limits_exempt = localhost\n", err, sizeof(err)) != 0);
	CHECK(strstr(err, ":1: expected addresses") != NULL);
	CHECK(load("limits_exempt = 10.0.0.0/40\n", err, sizeof(err)) != 0);
	CHECK(load("max_auth_failures_per_stream = 0\n", err,
	    sizeof(err)) != 0);
}

static void
test_file(void)
{
	char err[600];
	const struct config *c;

	CHECK(load("# a comment\n"
	    "domain = example.org\n"
	    "\n"
	    "c2s_listen = 127.0.0.1:5222\n"
	    "c2s_listen = [::1]:5222\n"
	    "admins = Admin@example.org, boss@example.org\n"
	    "admins = third@example.org\n"
	    "allow_plain_unencrypted = no\n"
	    "   log_level   =   debug   \n"
	    "scram_iterations = 10000\n"
	    "max_stanza_bytes = 65536\n"
	    "store_sync = batch\n"
	    "pubsub_create_nodes = admins\n"
	    "pubsub_expose_publisher = yes\n"
	    "pubsub_max_items = 50\n"
	    "pubsub_max_payload_bytes = 4096\n"
	    "pubsub_max_nodes = 7\n"
	    "pep_max_nodes = 9\n", err, sizeof(err)) == 0);
	c = config_get();
	CHECK_STR(c->domain, "example.org");
	/* derived from the domain when not set */
	CHECK_STR(c->muc_domain, "conference.example.org");
	CHECK(c->c2s_listen_count == 2);
	CHECK_STR(c->c2s_listen[1], "[::1]:5222");
	CHECK(c->admin_count == 3);
	CHECK(config_is_admin("admin@example.org"));
	CHECK(config_is_admin("BOSS@example.org"));
	CHECK(config_is_admin("third@example.org"));
	CHECK(!config_is_admin("nobody@example.org"));
	CHECK(c->allow_plain_unencrypted == 0);
	CHECK_STR(c->log_level, "debug");
	CHECK(c->scram_iterations == 10000);
	CHECK(c->max_stanza_bytes == 65536);
	CHECK_STR(c->store_sync, "batch");
	CHECK_STR(c->pubsub_domain, "pubsub.example.org");
	CHECK(c->pubsub_create_nodes == 0);
	CHECK(c->pubsub_expose_publisher == 1);
	CHECK(c->pubsub_max_items == 50);
	CHECK(c->pubsub_max_payload_bytes == 4096);
	CHECK(c->pubsub_max_nodes == 7);
	CHECK(c->pep_max_nodes == 9);
	CHECK(load("pubsub = no\npubsub_domain = ps.example.org\n", err,
	    sizeof(err)) == 0);
	CHECK(config_get()->pubsub == 0);
	CHECK_STR(config_get()->pubsub_domain, "ps.example.org");
}

/* The HTTP keys: off by default, listeners repeatable. */
static void
test_http(void)
{
	char err[600];
	const struct config *c;

	CHECK(config_load(NULL, err, sizeof(err)) == 0);
	c = config_get();
	CHECK(c->http_listen_count == 0 && c->https_listen_count == 0);
	CHECK(c->http_max_body_bytes == DEFAULT_HTTP_MAX_BODY_BYTES);
	CHECK(c->http_header_timeout_s == DEFAULT_HTTP_HEADER_TIMEOUT_S);
	CHECK(c->http_idle_timeout_s == DEFAULT_HTTP_IDLE_TIMEOUT_S);
	CHECK_STR(c->websocket_origins, "");
	CHECK(load("http_listen = 127.0.0.1:5280\nhttp_listen = [::1]:5280\n"
	    "https_listen = *:5281\nhttp_max_body_bytes = 100\n"
	    "http_header_timeout_s = 3\nhttp_idle_timeout_s = 4\n"
	    "websocket_origins = https://a.example, https://b.example\n", err,
	    sizeof(err)) == 0);
	c = config_get();
	CHECK(c->http_listen_count == 2);
	CHECK_STR(c->http_listen[1], "[::1]:5280");
	CHECK(c->https_listen_count == 1);
	CHECK_STR(c->https_listen[0], "*:5281");
	CHECK(c->http_max_body_bytes == 100);
	CHECK(c->http_header_timeout_s == 3);
	CHECK(c->http_idle_timeout_s == 4);
	CHECK_STR(c->websocket_origins, "https://a.example, https://b.example");
}

static void
expect_error(const char *text, const char *want_in_err)
{
	char err[600];
	const struct config *before = config_get();
	char domain[256];

	snprintf(domain, sizeof(domain), "%s", before->domain);
	CHECK(load(text, err, sizeof(err)) == -1);
	if (strstr(err, want_in_err) == NULL) {
		fprintf(stderr, "error was: %s (wanted %s)\n", err,
		    want_in_err);
	}
	CHECK(strstr(err, want_in_err) != NULL);
	/* a refused file leaves the configuration in force unchanged */
	CHECK_STR(config_get()->domain, domain);
}

static void
test_errors(void)
{
	char want[128];

	snprintf(want, sizeof(want), "%s:2: unknown key", path);
	expect_error("domain = a.example\nno_such_key = 1\n", want);
	snprintf(want, sizeof(want), "%s:1:", path);
	expect_error("just some words\n", want);
	expect_error("scram_iterations = 100\n", "at least 4096");
	expect_error("scram_iterations = lots\n", "expected a number");
	expect_error("max_depth = -1\n", "expected a number");
	expect_error("log_level = loud\n", "expected error, warn, info");
	expect_error("store_sync = sometimes\n", "expected always, batch");
	expect_error("allow_registration = perhaps\n", "expected yes or no");
	expect_error("c2s_listen = nowhere\n", "ADDRESS:PORT");
	expect_error("pubsub_create_nodes = anyone\n", "expected local or admins");
	expect_error("pubsub_max_items = 0\n", "at least 1");
	expect_error("pep_max_nodes = 0\n", "at least 1");
	expect_error("pubsub = maybe\n", "expected yes or no");
	expect_error("contact_fax = tel:123\n", "unknown key");
	expect_error("contact_abuse = abuse\n", "expected URIs");
	expect_error("external_service = host=x\n", "service type first");
	expect_error("external_service = turn port=0\n", "bad port");
	expect_error("external_service = turn colour=red\n", "unknown service");
	expect_error("external_service = turn secret\n",
	    "needs external_service_secret");
	expect_error("http_upload_url = ftp://x\n", "http:// or https://");
	expect_error("http_listen = 5280\n", "ADDRESS:PORT");
	expect_error("https_listen = a:1\nhttps_listen = a:2\nhttps_listen = a:3\n"
	    "https_listen = a:4\nhttps_listen = a:5\nhttps_listen = a:6\n"
	    "https_listen = a:7\nhttps_listen = a:8\nhttps_listen = a:9\n",
	    "too many listeners");
	expect_error("http_header_timeout_s = soon\n", "expected a number");
	CHECK(config_load("/nonexistent/uxmppd.conf", want,
	    sizeof(want)) == -1);
}

/* XEP-0157 contacts, XEP-0215 services and their defaults, upload. */
static void
test_services(void)
{
	char err[600];
	const struct config *c;

	CHECK(load("domain = example.org\n"
	    "contact_abuse = mailto:abuse@example.org, xmpp:abuse@example.org\n"
	    "contact_support = https://example.org/help\n"
	    "contact_abuse = xmpp:third@example.org\n"
	    "external_service_port = 3478\n"
	    "external_service_secret = s3cret\n"
	    "external_service = stun transport=udp\n"
	    "external_service = turn transport=tcp host=turn.example.org "
	    "port=5349 secret ttl_s=600 username=u\n"
	    "external_service = ftp password=pw\n"
	    "http_upload = yes\n"
	    "http_upload_url = https://files.example.org/up/\n"
	    "http_upload_allowed_types = image/*, text/plain\n",
	    err, sizeof(err)) == 0);
	c = config_get();
	CHECK(c->contact_count == 4);
	CHECK(c->contacts[0].kind == CONFIG_CONTACT_ABUSE);
	CHECK_STR(c->contacts[1].uri, "xmpp:abuse@example.org");
	CHECK(c->contacts[2].kind == CONFIG_CONTACT_SUPPORT);
	CHECK_STR(c->contacts[3].uri, "xmpp:third@example.org");
	CHECK_STR(config_contact_name(CONFIG_CONTACT_SUPPORT), "support");
	CHECK(c->ext_service_count == 3);
	CHECK_STR(c->ext_services[0].host, "example.org");
	CHECK(c->ext_services[0].port == 3478);
	CHECK(!c->ext_services[0].restricted);
	CHECK_STR(c->ext_services[1].host, "turn.example.org");
	CHECK(c->ext_services[1].port == 5349);
	CHECK_STR(c->ext_services[1].secret, "s3cret");
	CHECK(c->ext_services[1].ttl_s == 600);
	CHECK(c->ext_services[1].restricted);
	CHECK(c->ext_services[2].restricted);
	CHECK(c->external_service_ttl_s == 86400);
	CHECK(c->http_upload == 1);
	CHECK_STR(c->http_upload_domain, "upload.example.org");
	CHECK_STR(c->http_upload_url, "https://files.example.org/up");
	CHECK(c->http_upload_type_count == 2);
	CHECK_STR(c->http_upload_types[1], "text/plain");
	CHECK(c->http_upload_max_bytes == 10 * 1024 * 1024);
	CHECK(c->http_upload_expire_days == 7);
	CHECK(c->http_upload_put_ttl_s == DEFAULT_HTTP_UPLOAD_PUT_TTL_S);
	CHECK(c->http_upload_max_concurrent ==
	    DEFAULT_HTTP_UPLOAD_MAX_CONCURRENT);

	CHECK(load("", err, sizeof(err)) == 0);
	c = config_get();
	CHECK(c->contact_count == 0 && c->ext_service_count == 0);
	CHECK(c->http_upload == 0);
	CHECK_STR(c->http_upload_url, "https://upload.localhost:5281/upload");
	CHECK_STR(c->http_metrics, "no");
	CHECK(load("http_metrics = loopback\nhttp_upload_put_ttl_s = 60\n"
	    "http_upload_max_concurrent = 2\n", err, sizeof(err)) == 0);
	c = config_get();
	CHECK_STR(c->http_metrics, "loopback");
	CHECK(c->http_upload_put_ttl_s == 60);
	CHECK(c->http_upload_max_concurrent == 2);
	CHECK(load("http_metrics = maybe\n", err, sizeof(err)) != 0);
	CHECK(load("http_upload_max_concurrent = 257\n", err, sizeof(err)) != 0);
}

int
main(void)
{
	snprintf(path, sizeof(path), "/tmp/uxmppd-test-config.%ld",
	    (long)getpid());
	test_defaults();
	test_limits();
	test_file();
	test_http();
	test_errors();
	test_services();
	unlink(path);
	return check_summary("config");
}
