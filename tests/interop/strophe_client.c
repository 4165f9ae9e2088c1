/*
 * tests/interop/strophe_client.c - libstrophe as a client under test, as a
 * line-oriented controller like peer.py (driven by clients/libstrophe.sh).
 *
 *   strophe_client JID PASSWORD HOST PORT [direct]
 *
 * Connects with libstrophe (STARTTLS made mandatory, or direct TLS with
 * "direct"), verifying the server certificate against $UXMPPD_CERT, and
 * prints "ready MECHANISM TLS" once the session is up (or "fail REASON").
 * Then one command per line on stdin, one answer line each:
 *
 *   raw XML            send XML as is; ok
 *   expect T W1 W2...  wait up to T s for a received stanza whose text
 *                      contains every word Wn (removed from the queue
 *                      once matched; stanzas are queued from login on)
 *   cut                shut the TCP socket down under libstrophe (no
 *                      </stream>), wait for the disconnect; ok
 *   resume             reconnect handing libstrophe the XEP-0198 state of
 *                      the cut connection; "ok resumed" when the server
 *                      answered <resumed/>, fail otherwise
 *   quit               disconnect and exit
 *
 * Everything libstrophe logs goes to stderr.  Relaxed style (test tool):
 * built by `make interop`, not part of the server.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <strophe.h>

#define MAX_QUEUED 512

static xmpp_ctx_t *ctx;
static xmpp_conn_t *conn;
static const char *jid, *pass, *host;
static unsigned short port;
static int direct;
static int sock_fd = -1;
static int connected, disconnected, failed, saw_resumed;
static char mech[64] = "?";
static char *queue[MAX_QUEUED];
static int nqueued;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
log_handler(void *ud, xmpp_log_level_t level, const char *area,
    const char *msg)
{
	const char *m;
	size_t i;

	(void)ud;
	fprintf(stderr, "strophe %d %s: %s\n", (int)level, area, msg);
	if (strstr(msg, "<resumed") != NULL) {
		saw_resumed = 1;
	}
	/* SENT: <auth xmlns=... mechanism="SCRAM-SHA-256-PLUS"> */
	if (strncmp(msg, "SENT: <auth", 11) == 0 &&
	    (m = strstr(msg, "mechanism=")) != NULL) {
		m += 11;
		for (i = 0; i < sizeof(mech) - 1 && m[i] != '"' &&
		    m[i] != '\'' && m[i] != '\0'; i++) {
			mech[i] = m[i];
		}
		mech[i] = '\0';
	}
}

static int
sockopt_cb(xmpp_conn_t *c, void *sock)
{
	sock_fd = *(int *)sock;
	return xmpp_sockopt_cb_keepalive(c, sock);
}

static int
stanza_handler(xmpp_conn_t *c, xmpp_stanza_t *st, void *ud)
{
	char *buf;
	size_t len;

	(void)c;
	(void)ud;
	if (xmpp_stanza_to_text(st, &buf, &len) != 0) {
		return 1;
	}
	if (nqueued < MAX_QUEUED) {
		queue[nqueued++] = strdup(buf);
	}
	xmpp_free(ctx, buf);
	return 1;
}

static void
conn_handler(xmpp_conn_t *c, xmpp_conn_event_t ev, int err,
    xmpp_stream_error_t *se, void *ud)
{
	(void)c;
	(void)ud;
	(void)se;
	if (ev == XMPP_CONN_CONNECT) {
		connected = 1;
	} else if (ev == XMPP_CONN_DISCONNECT || ev == XMPP_CONN_FAIL) {
		if (!connected) {
			failed = err != 0 ? err : -1;
		}
		disconnected = 1;
	}
}

static int
start(xmpp_sm_state_t *sm)
{
	long flags = direct ? XMPP_CONN_FLAG_LEGACY_SSL :
	    XMPP_CONN_FLAG_MANDATORY_TLS;
	const char *cert = getenv("UXMPPD_CERT");

	conn = xmpp_conn_new(ctx);
	xmpp_conn_set_flags(conn, flags);
	xmpp_conn_set_jid(conn, jid);
	xmpp_conn_set_pass(conn, pass);
	if (cert != NULL) {
		xmpp_conn_set_cafile(conn, cert);
	}
	xmpp_conn_set_sockopt_callback(conn, sockopt_cb);
	if (sm != NULL && xmpp_conn_set_sm_state(conn, sm) != XMPP_EOK) {
		return -1;
	}
	xmpp_handler_add(conn, stanza_handler, NULL, NULL, NULL, NULL);
	connected = disconnected = failed = 0;
	return xmpp_connect_client(conn, host, port, conn_handler, NULL);
}

/* Run the loop until *flag or timeout; 0 if the flag was set. */
static int
run_until(int *flag, double timeout_s)
{
	double end = now_s() + timeout_s;

	while (!*flag && now_s() < end) {
		xmpp_run_once(ctx, 20);
	}
	return *flag ? 0 : -1;
}

static int
matches(const char *text, char **words, int nwords)
{
	int i;

	for (i = 0; i < nwords; i++) {
		if (strstr(text, words[i]) == NULL) {
			return 0;
		}
	}
	return 1;
}

static void
cmd_expect(char *args)
{
	char *words[32];
	int nwords = 0, i;
	double end;
	char *w, *save = NULL;
	double t = strtod(args, &args);

	for (w = strtok_r(args, " ", &save); w != NULL && nwords < 32;
	    w = strtok_r(NULL, " ", &save)) {
		words[nwords++] = w;
	}
	end = now_s() + t;
	for (;;) {
		for (i = 0; i < nqueued; i++) {
			if (matches(queue[i], words, nwords)) {
				free(queue[i]);
				memmove(&queue[i], &queue[i + 1],
				    (nqueued - i - 1) * sizeof(queue[0]));
				nqueued--;
				printf("ok\n");
				return;
			}
		}
		if (now_s() >= end) {
			break;
		}
		xmpp_run_once(ctx, 20);
	}
	printf("fail no stanza with those words within %gs\n", t);
}

static void
cmd_resume(void)
{
	xmpp_sm_state_t *sm = xmpp_conn_get_sm_state(conn);

	if (sm == NULL) {
		printf("fail libstrophe kept no stream management state\n");
		return;
	}
	xmpp_conn_release(conn);
	saw_resumed = 0;
	if (start(sm) != XMPP_EOK) {
		printf("fail reconnect failed\n");
		return;
	}
	if (run_until(&connected, 10) != 0) {
		printf("fail no session after reconnect (error %d)\n", failed);
		return;
	}
	/* Let the resumed exchange and redelivered stanzas come in. */
	run_until(&saw_resumed, 2);
	printf(saw_resumed ? "ok resumed\n" :
	    "fail session re-established without <resumed/>\n");
}

int
main(int argc, char **argv)
{
	xmpp_log_t log = { log_handler, NULL };
	char line[8192];
	size_t len = 0;
	struct pollfd pfd = { 0, POLLIN, 0 };

	if (argc < 5) {
		fprintf(stderr, "usage: strophe_client JID PASSWORD HOST PORT [direct]\n");
		return 2;
	}
	jid = argv[1];
	pass = argv[2];
	host = argv[3];
	port = (unsigned short)atoi(argv[4]);
	direct = argc > 5 && strcmp(argv[5], "direct") == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);	/* writes on the cut socket */
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, &log);
	if (start(NULL) != XMPP_EOK || run_until(&connected, 15) != 0) {
		printf("fail no session (error %d)\n", failed);
		return 1;
	}
	printf("ready %s %s\n", mech,
	    xmpp_conn_is_secured(conn) ? "tls" : "plain");
	for (;;) {
		ssize_t n;
		char *nl;

		xmpp_run_once(ctx, 10);
		if (poll(&pfd, 1, 0) <= 0) {
			continue;
		}
		n = read(0, line + len, sizeof(line) - 1 - len);
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
		line[len] = '\0';
		while ((nl = strchr(line, '\n')) != NULL) {
			char cmd[8192];

			*nl = '\0';
			snprintf(cmd, sizeof(cmd), "%s", line);
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len + 1);
			fprintf(stderr, "strophe_client > %s\n", cmd);
			if (strncmp(cmd, "raw ", 4) == 0) {
				xmpp_send_raw_string(conn, "%s", cmd + 4);
				printf("ok\n");
			} else if (strncmp(cmd, "expect ", 7) == 0) {
				cmd_expect(cmd + 7);
			} else if (strcmp(cmd, "cut") == 0) {
				if (sock_fd < 0) {
					printf("fail no socket\n");
					continue;
				}
				shutdown(sock_fd, SHUT_RDWR);
				if (run_until(&disconnected, 5) == 0) {
					printf("ok\n");
				} else {
					printf("fail libstrophe did not notice\n");
				}
			} else if (strcmp(cmd, "resume") == 0) {
				cmd_resume();
			} else if (strcmp(cmd, "quit") == 0) {
				printf("ok\n");
				xmpp_disconnect(conn);
				run_until(&disconnected, 3);
				goto out;
			} else {
				printf("fail unknown command\n");
			}
		}
	}
out:
	xmpp_conn_release(conn);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return 0;
}
