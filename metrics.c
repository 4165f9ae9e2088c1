/*
 * metrics.c - the /metrics handler (metrics.h).  Every value is read from
 * its owner when asked (gauges) or is a counter the owner keeps since
 * start; nothing here keeps state of its own.
 */
#include "metrics.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "c2s.h"
#include "config.h"
#include "httpd.h"
#include "log.h"
#include "muc.h"
#include "route.h"
#include "server.h"
#include "store.h"
#include "upload_http.h"

#define METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Resident memory from /proc/self/statm (its second field, pages); 0
 * when unreadable. */
static unsigned long long
resident_bytes(void)
{
	unsigned long long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL) {
		return 0;
	}
	if (fscanf(f, "%llu %llu", &size, &resident) != 2) {
		resident = 0;
	}
	fclose(f);
	return resident * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* One metric: HELP, TYPE and its sample. */
static void
metric(struct buf *b, const char *name, const char *type, const char *help,
    unsigned long long value)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help,
	    name, type, name, value);
}

/* The store's fdatasync times as a Prometheus histogram (cumulative
 * buckets in seconds, then the sum and the count). */
static void
sync_histogram(struct buf *b, const struct store_stats *st)
{
	const char *name = "uxmppd_store_fsync_seconds";
	uint64_t cum = 0;
	size_t i;

	buf_printf(b, "# HELP %s Time of each store flush's fdatasync.\n"
	    "# TYPE %s histogram\n", name, name);
	for (i = 0; i < STORE_SYNC_NBUCKETS - 1; i++) {
		cum += st->sync_buckets[i];
		buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
		    store_sync_buckets_ms[i] / 1000.0, (unsigned long long)cum);
	}
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
	    "%s_count %llu\n", name, (unsigned long long)st->sync_count,
	    name, st->sync_us_total / 1e6, name,
	    (unsigned long long)st->sync_count);
}

static void
metrics_request(struct http_exchange *x, const struct http_request *req)
{
	unsigned long long in, out, stored, served;
	struct store_stats st;
	struct buf b;

	(void)req;
	if (strcmp(config_get()->http_metrics, "any") != 0 &&
	    !conn_is_loopback(http_exchange_conn(x))) {
		http_respond(x, 403, "text/plain; charset=utf-8", NULL,
		    "403 Forbidden\n", 14);
		return;
	}
	c2s_stanza_counts(&in, &out);
	upload_http_bytes(&stored, &served);
	store_get_stats(&st);
	buf_init(&b, 0);
	metric(&b, "uxmppd_connections", "gauge",
	    "Open connections (XMPP clients, HTTP, WebSocket).",
	    server_conn_count());
	metric(&b, "uxmppd_sessions", "gauge",
	    "Bound XMPP sessions, hibernating ones included.",
	    route_session_count());
	metric(&b, "uxmppd_stanzas_in_total", "counter",
	    "Stanzas received from bound clients.", in);
	metric(&b, "uxmppd_stanzas_out_total", "counter",
	    "Stanzas sent to clients.", out);
	metric(&b, "uxmppd_muc_rooms", "gauge", "Multi-user chat rooms.",
	    muc_room_count());
	metric(&b, "uxmppd_muc_occupants", "gauge",
	    "Occupants of all rooms.", muc_occupant_count());
	metric(&b, "uxmppd_store_bytes", "gauge",
	    "Bytes of the store's log (store.log).", st.file_bytes);
	sync_histogram(&b, &st);
	metric(&b, "uxmppd_upload_stored_bytes_total", "counter",
	    "Bytes of files stored by HTTP upload PUTs.", stored);
	metric(&b, "uxmppd_upload_served_bytes_total", "counter",
	    "Bytes of uploaded files sent to GETs.", served);
	metric(&b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.", resident_bytes());
	metric(&b, "uxmppd_uptime_seconds", "gauge",
	    "Seconds since the server started.",
	    (unsigned long long)server_uptime());
	http_respond(x, 200, METRICS_TYPE, "Cache-Control: no-store\r\n",
	    b.data, b.len);
	buf_free(&b);
}

static const struct http_handler metrics_handler = {
	"/metrics", "GET", 0, metrics_request, NULL, NULL, NULL, 0
};

/* See metrics.h. */
void
metrics_init(void)
{
	if (strcmp(config_get()->http_metrics, "no") == 0) {
		return;
	}
	if (http_register(&metrics_handler) != 0) {
		log_err("cannot register /metrics");
	}
}
