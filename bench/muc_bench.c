/*
 * muc_bench.c - groupchat fan-out through a running server, end to end.
 *
 * usage: muc_bench HOST PORT USERPREFIX PASSWORD [-w] [OCCUPANTS...]
 *
 * For each room size (default 10 100 1000) it opens that many client
 * connections, client i logged in as account USERPREFIX<i> (PLAIN,
 * pipelined; the accounts must exist, all with PASSWORD), has the first
 * create a room (presence broadcast limited to moderators, so the setup
 * stays linear) and the others join it, then measures:
 *
 *  - latency: one message at a time from a rotating sender; the time from
 *    the write to its arrival at each occupant (the sender's own copy
 *    included), over all deliveries: p50 and p99;
 *  - throughput: one sender keeps a window of messages in flight (it
 *    waits for its own reflections); deliveries per second is messages x
 *    occupants over the wall time until the last occupant got the last
 *    message.
 *
 * With -w, PORT is an http_listen port and every client speaks XMPP over
 * WebSocket (RFC 7395) at /xmpp-websocket.
 *
 * Arrival is detected by counting "</message>" in each connection's
 * stream, so everything else the server sends is drained before timing.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_client.h"
#include "buf.h"
#include "tests/login.h"

#define MARK_MAX	16
#define WINDOW		32	/* throughput: messages in flight */
#define DEADLINE_S	120

struct client {
	int	 fd;
	struct bench_tail tail;	/* end of the previous read */
	unsigned long msgs;		/* "</message>" seen */
	unsigned long subjects;		/* "<subject" seen (joined) */
	unsigned long results;		/* "type='result'" seen */
};

static struct client *cl;
static int ncl, epfd;
static size_t pending;		/* clients below their target */
static const char *room_host = "conference.localhost";

/*
 * Read what is there.  With target set, stamp into t_arrive the time each
 * client's message count reaches target[i] and count it off pending.
 * Returns -1 if a connection closed.
 */
static int
pump(int timeout_ms, double *t_arrive, const unsigned long *target)
{
	static char rbuf[65536];
	struct epoll_event ev[256];
	int k, n, i;
	ssize_t r;

	n = epoll_wait(epfd, ev, 256, timeout_ms);
	if (n < 0) {
		return errno == EINTR ? 0 : -1;
	}
	for (k = 0; k < n; k++) {
		struct client *c;
		unsigned long before;

		i = ev[k].data.u32;
		c = &cl[i];
		r = read(c->fd, rbuf, sizeof(rbuf));
		if (r < 0 && errno == EAGAIN) {
			continue;
		}
		if (r <= 0) {
			fprintf(stderr, "connection %d closed\n", i);
			return -1;
		}
		before = c->msgs;
		c->msgs += bench_count(&c->tail, rbuf, (size_t)r,
		    "</message>");
		c->subjects += bench_count(&c->tail, rbuf, (size_t)r,
		    "<subject");
		c->results += bench_count(&c->tail, rbuf, (size_t)r,
		    "type='result'");
		bench_keep_tail(&c->tail, rbuf, (size_t)r);
		if (target != NULL && before < target[i] &&
		    c->msgs >= target[i]) {
			if (t_arrive != NULL) {
				t_arrive[i] = bench_now_s();
			}
			pending--;
		}
	}
	return 0;
}

/* Wait until every client's counter (field at offset off) reaches want. */
static int
wait_all(size_t off, unsigned long want)
{
	double end = bench_now_s() + DEADLINE_S;
	int i;

	for (i = 0; i < ncl; i++) {
		while (*(unsigned long *)((char *)&cl[i] + off) < want) {
			if (bench_now_s() > end) {
				fprintf(stderr, "timed out waiting for %d\n",
				    i);
				return -1;
			}
			if (pump(1000, NULL, NULL) != 0) {
				return -1;
			}
		}
	}
	return 0;
}

/* Wait until every client's message count reaches target[i]. */
static int
wait_msgs(const unsigned long *target, double *t_arrive)
{
	double end = bench_now_s() + DEADLINE_S;

	while (pending > 0) {
		if (bench_now_s() > end) {
			fprintf(stderr, "timed out: %zu clients short\n",
			    pending);
			return -1;
		}
		if (pump(1000, t_arrive, target) != 0) {
			return -1;
		}
	}
	return 0;
}

/* Set targets msgs + add; returns how many are pending. */
static void
set_targets(unsigned long *target, unsigned long add)
{
	int i;

	for (i = 0; i < ncl; i++) {
		target[i] = cl[i].msgs + add;
	}
	pending = (size_t)ncl;
}

/* The PLAIN <auth/> of account user<i> (tests/login.h) into out.  -1 if
 * it cannot be built. */
static int
plain_auth(const char *user, int i, const char *pass, struct buf *out)
{
	char name[256];
	struct login *l;
	int rc;

	snprintf(name, sizeof(name), "%s%d", user, i);
	buf_reset(out);
	if ((l = login_new("PLAIN", name, pass, NULL)) == NULL) {
		return -1;
	}
	rc = login_start(l, out);
	login_free(l);
	return rc;
}

static int
run_size(const char *host, int port, const char *user, const char *pass,
    int n, int round)
{
	struct buf auth;
	char room[64], s[1024];
	struct buf out;
	double *lat, *t_arrive, t0, t1, cpu_srv, cpu_own;
	unsigned long *target;
	long rss0, rss1;
	size_t nlat = 0, k;
	int i, rounds, msgs, sent;
	unsigned long base;

	ncl = n;
	cl = calloc((size_t)n, sizeof(*cl));
	epfd = epoll_create1(0);
	t_arrive = calloc((size_t)n, sizeof(*t_arrive));
	target = calloc((size_t)n, sizeof(*target));
	snprintf(room, sizeof(room), "bench%d-%d@%s", n, round, room_host);
	buf_init(&out, 0);
	buf_init(&auth, 0);
	for (i = 0; i < n; i++) {
		if (plain_auth(user, i, pass, &auth) != 0) {
			fprintf(stderr, "cannot build the PLAIN <auth/>\n");
			return -1;
		}
		cl[i].fd = bench_connect(host, port);
		if (cl[i].fd < 0) {
			fprintf(stderr, "connect %d: %s\n", i, strerror(errno));
			return -1;
		}
		{
			struct epoll_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN;
			ev.data.u32 = (uint32_t)i;
			epoll_ctl(epfd, EPOLL_CTL_ADD, cl[i].fd, &ev);
		}
		buf_reset(&out);
		bench_put_open(&out, "localhost");
		bench_put_el(&out, auth.data);
		bench_put_open(&out, "localhost");
		snprintf(s, sizeof(s), "<iq type='set' id='b'><bind xmlns='"
		    "urn:ietf:params:xml:ns:xmpp-bind'><resource>m%d-%d"
		    "</resource></bind></iq>", round, i);
		bench_put_el(&out, s);
		if (i == 0) {
			snprintf(s, sizeof(s), "<presence to='%s/n0'><x xmlns="
			    "'http://jabber.org/protocol/muc'/></presence>", room);
			bench_put_el(&out, s);
		}
		if (bench_send_all(cl[i].fd, out.data, out.len) != 0) {
			return -1;
		}
	}
	/* everyone bound (PLAIN logins cost a key derivation each) */
	if (wait_all(offsetof(struct client, results), 1) != 0) {
		return -1;
	}
	/* the owner: room created (subject), then configured */
	while (cl[0].subjects < 1) {
		if (pump(1000, NULL, NULL) != 0) {
			return -1;
		}
	}
	base = cl[0].results;
	snprintf(s, sizeof(s), "<iq type='set' id='cfg' to='%s'><query "
	    "xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:"
	    "x:data' type='submit'><field var='FORM_TYPE'><value>http://"
	    "jabber.org/protocol/muc#roomconfig</value></field><field var='"
	    "muc#roomconfig_maxusers'><value>none</value></field><field var='"
	    "muc#roomconfig_presencebroadcast'><value>moderator</value>"
	    "</field></x></query></iq>", room);
	bench_send_el(cl[0].fd, s);
	while (cl[0].results <= base) {
		if (pump(1000, NULL, NULL) != 0) {
			return -1;
		}
	}
	usleep(200000);
	rss0 = bench_rss_kib(getenv("SERVER_PID"));
	t0 = bench_now_s();
	for (i = 1; i < n; i++) {
		snprintf(s, sizeof(s), "<presence to='%s/n%d'><x xmlns='http://"
		    "jabber.org/protocol/muc'><history maxstanzas='0'/></x>"
		    "</presence>", room, i);
		if (bench_send_el(cl[i].fd, s) != 0) {
			return -1;
		}
	}
	if (wait_all(offsetof(struct client, subjects), 1) != 0) {
		return -1;
	}
	t1 = bench_now_s();
	/* drain (the 104 config message to the owner, presences) */
	while (bench_now_s() < t1 + 0.3) {
		pump(50, NULL, NULL);
	}
	printf("room of %4d: %d joins in %.3f s\n", n, n - 1, t1 - t0);
	rss1 = bench_rss_kib(getenv("SERVER_PID"));
	if (rss0 > 0 && rss1 > 0 && n > 1) {
		printf("room of %4d: server RSS %ld -> %ld KiB: about %.0f "
		    "bytes per occupant\n", n, rss0, rss1,
		    (rss1 - rss0) * 1024.0 / (n - 1));
	}

	/* latency: one message at a time */
	rounds = n >= 1000 ? 100 : n >= 100 ? 300 : 1000;
	lat = calloc((size_t)rounds * (size_t)n, sizeof(*lat));
	for (k = 0; k < (size_t)rounds; k++) {
		int who = (int)(k % (size_t)n);

		set_targets(target, 1);
		snprintf(s, sizeof(s), "<message to='%s' type='groupchat'>"
		    "<body>latency probe %zu</body></message>", room, k);
		t0 = bench_now_s();
		bench_send_el(cl[who].fd, s);
		if (wait_msgs(target, t_arrive) != 0) {
			return -1;
		}
		for (i = 0; i < n; i++) {
			lat[nlat++] = t_arrive[i] - t0;
		}
	}
	qsort(lat, nlat, sizeof(*lat), bench_cmp_double);
	printf("room of %4d: latency over %zu deliveries: p50 %.3f ms, "
	    "p99 %.3f ms, max %.3f ms\n", n, nlat, lat[nlat / 2] * 1e3,
	    lat[nlat * 99 / 100] * 1e3, lat[nlat - 1] * 1e3);
	free(lat);

	/* throughput: a window of messages in flight from one sender */
	msgs = 1000000 / n;
	if (msgs < 200) {
		msgs = 200;
	}
	set_targets(target, (unsigned long)msgs);
	base = cl[0].msgs;
	sent = 0;
	cpu_srv = bench_cpu_s(getenv("SERVER_PID"));
	cpu_own = bench_cpu_s(NULL);
	t0 = bench_now_s();
	while (sent < msgs) {
		while (sent < msgs &&
		    (unsigned long)sent < cl[0].msgs - base + WINDOW) {
			snprintf(s, sizeof(s), "<message to='%s' type='"
			    "groupchat'><body>throughput %d</body></message>",
			    room, sent);
			bench_send_el(cl[0].fd, s);
			sent++;
		}
		if (pump(1000, NULL, target) != 0) {
			return -1;
		}
	}
	if (wait_msgs(target, NULL) != 0) {
		return -1;
	}
	t1 = bench_now_s();
	cpu_srv = bench_cpu_s(getenv("SERVER_PID")) - cpu_srv;
	cpu_own = bench_cpu_s(NULL) - cpu_own;
	printf("room of %4d: %d messages, %lu deliveries in %.3f s: "
	    "%.0f deliveries/s\n", n, msgs, (unsigned long)msgs * n, t1 - t0,
	    (double)msgs * n / (t1 - t0));
	/* the server's CPU per delivery does not depend on the client's
	 * speed; a client near 100% of the wall time is the bottleneck */
	printf("room of %4d: CPU server %.2f s (%.0f ns per delivery), "
	    "client %.2f s (%.0f%% of the wall time)\n", n, cpu_srv,
	    cpu_srv * 1e9 / ((double)msgs * n), cpu_own,
	    cpu_own * 100 / (t1 - t0));
	fflush(stdout);

	for (i = 0; i < n; i++) {
		buf_reset(&out);
		bench_put_close(&out);
		bench_send_all(cl[i].fd, out.data, out.len);
		close(cl[i].fd);
	}
	buf_free(&out);
	buf_free(&auth);
	free(cl);
	close(epfd);
	free(t_arrive);
	free(target);
	return 0;
}

int
main(int argc, char **argv)
{
	static const int def_sizes[] = { 10, 100, 1000 };
	int i, nsizes, port, first = 5;

	if (argc < 5) {
		fprintf(stderr, "usage: muc_bench HOST PORT USERPREFIX PASSWORD "
		    "[-w] [OCCUPANTS...]\n");
		return 2;
	}
	port = atoi(argv[2]);
	if (argc > 5 && strcmp(argv[5], "-w") == 0) {
		bench_use_websocket("/xmpp-websocket");
		first = 6;
	}
	if (getenv("MUC_HOST") != NULL) {
		room_host = getenv("MUC_HOST");
	}
	nsizes = argc > first ? argc - first : 3;
	for (i = 0; i < nsizes; i++) {
		int n = argc > first ? atoi(argv[first + i]) : def_sizes[i];

		if (n < 1 || run_size(argv[1], port, argv[3], argv[4], n, i) !=
		    0) {
			fprintf(stderr, "muc_bench: room of %d failed\n", n);
			return 1;
		}
	}
	return 0;
}
