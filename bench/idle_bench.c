/*
 * idle_bench.c - what an idle authenticated client costs the server.
 *
 * usage: idle_bench HOST PORT USER PASSWORD PID N [-d] [-w]
 *
 * Opens N connections to the server (whose process id is PID), logs each
 * in with PLAIN as USER under its own resource (the login is pipelined in
 * one write), waits until all are bound, lets the server settle, and
 * prints the server's resident memory before and after and the cost per
 * connection.  The connections stay open until the figures are printed.
 * With -d, as a user's client does: connection i logs in as its own
 * account USER<i> (they must exist), fetches its roster and sends initial
 * presence, and counts as done when the roster result arrives.  With -w,
 * PORT is an http_listen port and every client speaks XMPP over WebSocket
 * (RFC 7395) at /xmpp-websocket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_client.h"
#include "buf.h"
#include "tests/login.h"

/* The PLAIN <auth/> of user and pass into out; -1 (said) if it cannot be built. */
static int
plain_auth(const char *user, const char *pass, struct buf *out)
{
	struct login *l = login_new("PLAIN", user, pass, NULL);
	int rc = l != NULL ? login_start(l, out) : -1;

	login_free(l);
	if (rc != 0) {
		fprintf(stderr, "cannot build the PLAIN <auth/> of %s\n", user);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	const char *host, *user, *pass, *pid;
	struct buf login, auth;
	char rbuf[4096], name[256], el[256];
	struct pollfd *pfds;
	int *bound, port, n, i, distinct, done = 0;
	long before, after;
	time_t deadline;

	distinct = 0;
	for (i = 7; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0) {
			distinct = 1;
		} else if (strcmp(argv[i], "-w") == 0) {
			bench_use_websocket("/xmpp-websocket");
		} else {
			break;
		}
	}
	if (argc < 7 || i < argc) {
		fprintf(stderr, "usage: idle_bench HOST PORT USER PASSWORD "
		    "PID N [-d] [-w]\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	user = argv[3];
	pass = argv[4];
	pid = argv[5];
	n = atoi(argv[6]);
	pfds = calloc((size_t)n, sizeof(*pfds));
	bound = calloc((size_t)n, sizeof(*bound));
	before = bench_rss_kib(pid);
	buf_init(&auth, 0);
	if (!distinct && plain_auth(user, pass, &auth) != 0) {
		return 1;
	}
	buf_init(&login, 0);
	for (i = 0; i < n; i++) {
		pfds[i].fd = bench_connect(host, port);
		if (pfds[i].fd < 0) {
			fprintf(stderr, "connect %d: %s\n", i, strerror(errno));
			return 1;
		}
		pfds[i].events = POLLIN;
		buf_reset(&login);
		if (distinct) {
			snprintf(name, sizeof(name), "%s%d", user, i);
			buf_reset(&auth);
			if (plain_auth(name, pass, &auth) != 0) {
				return 1;
			}
		}
		bench_put_open(&login, "localhost");
		bench_put_el(&login, auth.data);
		bench_put_open(&login, "localhost");
		snprintf(el, sizeof(el), "<iq type='set' id='b'><bind xmlns='"
		    "urn:ietf:params:xml:ns:xmpp-bind'><resource>r%d</resource>"
		    "</bind></iq>", i);
		bench_put_el(&login, el);
		if (distinct) {
			bench_put_el(&login, "<iq type='get' id='r'><query "
			    "xmlns='jabber:iq:roster'/></iq>");
			bench_put_el(&login, "<presence/>");
		}
		if (write(pfds[i].fd, login.data, login.len) !=
		    (ssize_t)login.len) {
			fprintf(stderr, "write %d failed\n", i);
			return 1;
		}
	}
	deadline = time(NULL) + 120;
	while (done < n && time(NULL) < deadline) {
		if (poll(pfds, (nfds_t)n, 1000) < 0) {
			break;
		}
		for (i = 0; i < n; i++) {
			const char *mark;
			ssize_t r;

			if (!(pfds[i].revents & (POLLIN | POLLHUP))) {
				continue;
			}
			r = read(pfds[i].fd, rbuf, sizeof(rbuf) - 1);
			if (r <= 0) {
				fprintf(stderr, "connection %d closed\n", i);
				return 1;
			}
			rbuf[r] = '\0';
			/* memmem: a WebSocket frame header may hold a NUL */
			mark = distinct ? "id='r'" : "</jid>";
			if (!bound[i] && memmem(rbuf, (size_t)r, mark,
			    strlen(mark)) != NULL) {
				bound[i] = 1;
				done++;
			}
		}
	}
	if (done < n) {
		fprintf(stderr, "only %d of %d clients bound\n", done, n);
		return 1;
	}
	sleep(2);	/* let the server release per-turn buffers */
	after = bench_rss_kib(pid);
	printf("idle clients: %d, server RSS %ld KiB -> %ld KiB, "
	    "%.0f bytes per idle authenticated client\n", n, before, after,
	    (after - before) * 1024.0 / n);
	for (i = 0; i < n; i++) {
		close(pfds[i].fd);
	}
	buf_free(&login);
	buf_free(&auth);
	free(pfds);
	free(bound);
	return 0;
}
