/*
 * metrics.h - /metrics on the HTTP listeners in the Prometheus text
 * exposition format (version 0.0.4): connections, sessions, stanzas in
 * and out, rooms, upload bytes, resident memory and uptime.  Off unless
 * http_metrics says "loopback" (only peers on loopback; others get 403)
 * or "any".
 */
#ifndef UXMPPD_METRICS_H
#define UXMPPD_METRICS_H

/* Register /metrics when http_metrics is not "no". */
void	metrics_init(void);

#endif
