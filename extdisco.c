/*
 * extdisco.c - XEP-0215 external service discovery from the
 * configuration.  Services are listed in the order of the config file;
 * a service with a shared secret gets fresh TURN REST credentials on
 * every request, so nothing is kept between requests.
 */
#include "extdisco.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base64.h"
#include "buf.h"
#include "config.h"
#include "route.h"
#include "stanza.h"
#include "tls.h"

/* See extdisco.h. */
int
extdisco_turn_credentials(const char *secret, const char *user,
    time_t expiry, char *username, size_t ucap, char *password, size_t pcap)
{
	unsigned char mac[20];
	struct buf b64;
	int n, rc = -1;

	if (user != NULL && user[0] != '\0') {
		n = snprintf(username, ucap, "%lld:%s", (long long)expiry, user);
	} else {
		n = snprintf(username, ucap, "%lld", (long long)expiry);
	}
	if (n < 0 || (size_t)n >= ucap) {
		return -1;
	}
	if (tls_hmac(TLS_MD_SHA1, secret, strlen(secret), username,
	    (size_t)n, mac) != 0) {
		return -1;
	}
	buf_init(&b64, 0);
	base64_encode(mac, sizeof(mac), &b64);
	if (!b64.err && b64.len < pcap) {
		memcpy(password, b64.data, b64.len);
		password[b64.len] = '\0';
		rc = 0;
	}
	buf_free(&b64);
	tls_zeroize(mac, sizeof(mac));
	return rc;
}

/* <service/> for s under parent, with credentials made now. */
static void
add_service(struct xml_node *parent, const struct config_ext_service *s)
{
	const struct config *cfg = config_get();
	struct xml_node *el = xml_add(parent, "service", NULL);
	char num[32], user[200], pass[64];
	time_t now = time(NULL), expiry;
	struct tm tm;

	xml_set_attr(el, "type", s->type);
	if (s->transport[0] != '\0') {
		xml_set_attr(el, "transport", s->transport);
	}
	xml_set_attr(el, "host", s->host);
	if (s->port != 0) {
		snprintf(num, sizeof(num), "%u", s->port);
		xml_set_attr(el, "port", num);
	}
	expiry = now + (s->ttl_s != 0 ? s->ttl_s :
	    cfg->external_service_ttl_s);
	if (s->secret[0] != '\0' && extdisco_turn_credentials(s->secret,
	    s->username, expiry, user, sizeof(user), pass,
	    sizeof(pass)) == 0) {
		xml_set_attr(el, "username", user);
		xml_set_attr(el, "password", pass);
		tls_zeroize(pass, sizeof(pass));
	} else {
		if (s->username[0] != '\0') {
			xml_set_attr(el, "username", s->username);
		}
		if (s->password[0] != '\0') {
			xml_set_attr(el, "password", s->password);
		}
	}
	/* as Prosody: an expiry is shown only for a lifetime of the
	 * service's own (XEP-0082 dateTime, UTC) */
	if (s->ttl_s != 0) {
		gmtime_r(&expiry, &tm);
		strftime(num, sizeof(num), "%Y-%m-%dT%H:%M:%SZ", &tm);
		xml_set_attr(el, "expires", num);
	}
	if (s->restricted) {
		xml_set_attr(el, "restricted", "1");
	}
}

/* §3.1, §3.2: every service, or those of the requested type. */
static struct xml_node *
services_reply(const struct xml_node *iq, const struct xml_node *q)
{
	const struct config *cfg = config_get();
	const char *type = xml_attr(q, "type");
	struct xml_node *reply = stanza_result(iq);
	struct xml_node *list = xml_add(reply, "services", q->ns);
	int i;

	for (i = 0; i < cfg->ext_service_count; i++) {
		if (type == NULL || strcmp(type, cfg->ext_services[i].type) ==
		    0) {
			add_service(list, &cfg->ext_services[i]);
		}
	}
	return reply;
}

/* §3.3: credentials for each requested (type, host[, port]); the
 * service element must name type and host. */
static struct xml_node *
credentials_reply(const struct xml_node *iq, const struct xml_node *q)
{
	const struct config *cfg = config_get();
	const struct config_ext_service *s;
	const struct xml_node *want;
	const char *type, *host, *port;
	struct xml_node *reply, *list;
	char num[16];
	int i, found = 0;

	want = xml_child(q, "service", q->ns);
	if (want == NULL) {
		return stanza_error_reply(iq, "modify", "bad-request", NULL);
	}
	for (; want != NULL; want = xml_next(want, "service", q->ns)) {
		if (xml_attr(want, "type") == NULL ||
		    xml_attr(want, "host") == NULL) {
			return stanza_error_reply(iq, "modify", "bad-request",
			    NULL);
		}
	}
	reply = stanza_result(iq);
	list = xml_add(reply, "credentials", q->ns);
	for (want = xml_child(q, "service", q->ns); want != NULL;
	    want = xml_next(want, "service", q->ns)) {
		type = xml_attr(want, "type");
		host = xml_attr(want, "host");
		port = xml_attr(want, "port");
		for (i = 0; i < cfg->ext_service_count; i++) {
			s = &cfg->ext_services[i];
			snprintf(num, sizeof(num), "%u", s->port);
			if (!s->restricted || strcmp(s->type, type) != 0 ||
			    strcasecmp(s->host, host) != 0 ||
			    (port != NULL && strcmp(port, num) != 0)) {
				continue;
			}
			add_service(list, s);
			found++;
		}
	}
	if (found == 0) {
		xml_free(reply);
		return stanza_error_reply(iq, "cancel", "item-not-found",
		    NULL);
	}
	return reply;
}

/* See extdisco.h. */
void
extdisco_iq(const struct xml_node *iq, const struct xml_node *q, int local)
{
	const char *type = xml_attr(iq, "type");
	struct xml_node *reply;

	if (type == NULL || strcmp(type, "get") != 0) {
		reply = stanza_error_reply(iq, NULL, "bad-request", NULL);
	} else if (!local) {
		reply = stanza_error_reply(iq, "auth", "forbidden", NULL);
	} else if (strcmp(q->name, "services") == 0) {
		reply = services_reply(iq, q);
	} else if (strcmp(q->name, "credentials") == 0) {
		reply = credentials_reply(iq, q);
	} else {
		reply = stanza_error_reply(iq, NULL, "feature-not-implemented",
		    NULL);
	}
	route_stanza(reply);
	xml_free(reply);
}
