/*
 * soak_client.c - the mixed workload of tests/soak-test.sh (make soak).
 *
 * usage: soak_client HOST PORT SECONDS NUSERS NSLOW
 *
 * NUSERS clients log in as soak0..soakN-1 and NSLOW as slow0..slowN-1,
 * all with password "soak" (PLAIN, pipelined through tests/login.h), for
 * SECONDS in all:
 *
 *  - soak0 and soak1 are the probe pair: they never drop, and every
 *    second soak0 sends soak1 a message that soak1 echoes; each round
 *    trip is timed;
 *  - every other soak client enables stream management with resumption
 *    (XEP-0198), joins one of ROOMS rooms and, every 50-400 ms, does one
 *    thing at random: a groupchat message, a chat message to a random
 *    account, a presence change in its room or outside it, leaving or
 *    joining its room, a ping, dropping its connection without a word
 *    (then it reconnects and resumes the session, counting 'h' of every
 *    stanza it parsed), or a clean logout and a fresh login;
 *  - every PRESENCE_STORM_S seconds every joined client changes its
 *    presence in its room three times at once (a presence storm);
 *  - the slow readers join every room, get 64 KB headlines from the
 *    others now and then, and read 512 bytes a second; the server cuts
 *    them off at max_output_bytes and they log in again.
 *
 * With SERVER_PID set it samples the server's RSS each second: the plateau
 * is the highest sample between 25% and 50% of the run, "late" the highest
 * in its last quarter; after the load, every connection closed and
 * SETTLE_S seconds, the final sample.  It fails (exit 1) when late or
 * final is more than 10% above the plateau, when a probe goes
 * unanswered, when a resumption never succeeded, when no slow reader was
 * ever cut off, when a normal client gets a stream error or is closed by
 * the server, or when nothing was delivered; it prints what it did and
 * why it failed.
 *
 * Each normal client parses its stream with xml.c (the counting of 'h'
 * must be exact); the slow readers only count "</message>" markers
 * (bench_client.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench/bench_client.h"
#include "buf.h"
#include "tests/login.h"
#include "xml.h"

#define ROOMS			4
#define PRESENCE_STORM_S	10
#define WIND_DOWN_S		5	/* no drops in the last seconds */
#define SETTLE_S		3
#define PROBE_TIMEOUT_S		5.0
#define RSS_SLACK		1.10
#define BIG_BODY_BYTES		65536	/* the headlines to slow readers */
#define MUC_HOST		"conference.localhost"
#define NS_SM			"urn:xmpp:sm:3"
#define NS_SASL			"urn:ietf:params:xml:ns:xmpp-sasl"

enum role { ROLE_PROBE, ROLE_NORMAL, ROLE_SLOW };

enum cstate {
	CS_OFF,		/* no connection; reconnect at next_s */
	CS_LOGIN,	/* header, auth, header and bind or resume sent */
	CS_ONLINE
};

struct client {
	int		 idx;		/* in cl[] */
	enum role	 role;
	char		 user[32];
	enum cstate	 state;
	int		 fd;
	struct xml_parser *p;
	double		 next_s;	/* next action or reconnect */
	int		 room;		/* ROOMS: none */
	int		 joined;
	unsigned	 seq;		/* stanza counter for ids and bodies */
	/* stream management */
	char		 sm_id[128];
	uint32_t	 in_h;		/* stanzas handled since <enable/> */
	int		 sm_on;		/* <enabled/> seen on this session */
	int		 resuming;
	/* slow readers */
	struct bench_tail tail;
	unsigned long	 slow_msgs;
	double		 slow_read_s;
};

static struct client *cl;
static int ncl, epfd, nusers, nslow;
static char big_body[BIG_BODY_BYTES + 1];
static const char *host;
static int port;
static double t_start, t_end;
static struct buf out;

static struct {
	unsigned long logins, resumed, resume_failed, drops, logouts;
	unsigned long cut_off;		/* the server closed it */
	unsigned long stream_errors;	/* on normal or probe clients */
	unsigned long sent, msgs_in, presences_in, acks;
	unsigned long joins, leaves, storms, slow_cut, slow_msgs;
	unsigned long probes, probe_lost;
	double probe_max_s, probe_sum_s;
	char first_error[200];
} st;

/* The outstanding probe: sent at probe_sent_s, body probe_seq. */
static double probe_sent_s;
static unsigned probe_seq, probe_got;

static const char filler[] = "Lorem ipsum dolor sit amet, consectetur "
    "adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
    "ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute "
    "irure dolor in reprehenderit in voluptate velit esse cillum dolore eu "
    "fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, "
    "sunt in culpa qui officia deserunt mollit anim id est laborum.";

static double
rnd(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}

static void note_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Keep the first thing that went wrong, for the report. */
static void
note_error(const char *fmt, ...)
{
	va_list ap;

	if (st.first_error[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(st.first_error, sizeof(st.first_error), fmt, ap);
		va_end(ap);
	}
}

static int
send_out(struct client *c)
{
	if (c->fd < 0 || out.err) {
		return -1;
	}
	return bench_send_all(c->fd, out.data, out.len);
}

/* Send one element now; the connection goes on failure. */
static void client_lost(struct client *c, int by_server);

static void
send_el(struct client *c, const char *el)
{
	buf_reset(&out);
	bench_put_el(&out, el);
	if (send_out(c) != 0) {
		client_lost(c, 1);
	} else {
		st.sent++;
	}
}

static void
room_jid(char *dst, size_t cap, const struct client *c)
{
	snprintf(dst, cap, "soak%d@" MUC_HOST "/%s", c->room, c->user);
}

static void
join_room(struct client *c)
{
	char s[512], rj[128];

	room_jid(rj, sizeof(rj), c);
	snprintf(s, sizeof(s), "<presence to='%s'><x xmlns='http://jabber.org/"
	    "protocol/muc'><history maxstanzas='%d'/></x></presence>", rj,
	    c->role == ROLE_SLOW ? 20 : 2);
	send_el(c, s);
	/* The first to join creates the room, locked until its owner
	 * configures it (XEP-0045 §10.1): make it persistent, so it stays
	 * for the others.  Anyone else gets an error, ignored. */
	snprintf(s, sizeof(s), "<iq type='set' id='cfg' to='soak%d@" MUC_HOST
	    "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='"
	    "jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http:"
	    "//jabber.org/protocol/muc#roomconfig</value></field><field var='"
	    "muc#roomconfig_persistentroom'><value>1</value></field></x>"
	    "</query></iq>", c->room);
	send_el(c, s);
	c->joined = 1;
	st.joins++;
}

static void
leave_room(struct client *c)
{
	char s[256], rj[128];

	room_jid(rj, sizeof(rj), c);
	snprintf(s, sizeof(s), "<presence to='%s' type='unavailable'/>", rj);
	send_el(c, s);
	c->joined = 0;
	st.leaves++;
}

static void
room_presence(struct client *c)
{
	static const char *const shows[] = { "away", "chat", "dnd", "xa" };
	char s[512], rj[128];

	room_jid(rj, sizeof(rj), c);
	snprintf(s, sizeof(s), "<presence to='%s'><show>%s</show><status>"
	    "status %u of %s</status></presence>", rj,
	    shows[c->seq % 4], c->seq, c->user);
	c->seq++;
	send_el(c, s);
}

/* Connect and send the whole login at once: header, PLAIN, the restart
 * header, then <resume/> for a session to resume, else bind and the
 * session's start. */
static void
client_connect(struct client *c)
{
	struct login *l;
	struct buf auth;
	char s[1024];
	struct timeval tv = { 5, 0 };
	struct epoll_event ev;

	c->fd = bench_connect(host, port);
	if (c->fd < 0) {
		note_error("connect as %s failed", c->user);
		c->next_s = bench_now_s() + 1;
		return;
	}
	/* a write blocked this long means the server stopped reading */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (c->role == ROLE_SLOW) {
		int small = 4096;

		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small,
		    sizeof(small));
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = (uint32_t)c->idx;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	xml_parser_reset(c->p);
	memset(&c->tail, 0, sizeof(c->tail));
	buf_init(&auth, 0);
	l = login_new("PLAIN", c->user, "soak", NULL);
	if (l == NULL || login_start(l, &auth) != 0) {
		fprintf(stderr, "soak_client: cannot build the PLAIN auth\n");
		exit(2);
	}
	login_free(l);
	buf_reset(&out);
	bench_put_open(&out, "localhost");
	bench_put_el(&out, auth.data);
	bench_put_open(&out, "localhost");
	buf_free(&auth);
	c->resuming = c->sm_id[0] != '\0';
	if (c->resuming) {
		snprintf(s, sizeof(s), "<resume xmlns='" NS_SM "' previd='%s'"
		    " h='%u'/>", c->sm_id, (unsigned)c->in_h);
		bench_put_el(&out, s);
	} else {
		/* a slow reader's resource is known: big headlines go
		 * to it */
		if (c->role == ROLE_SLOW) {
			snprintf(s, sizeof(s), "<iq type='set' id='bind'><bind "
			    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>"
			    "slow</resource></bind></iq>");
		} else {
			snprintf(s, sizeof(s), "<iq type='set' id='bind'><bind "
			    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>"
			    "r%u</resource></bind></iq>", c->seq++);
		}
		bench_put_el(&out, s);
		if (c->role == ROLE_NORMAL) {
			bench_put_el(&out, "<enable xmlns='" NS_SM "' "
			    "resume='true'/>");
			c->in_h = 0;
		}
		bench_put_el(&out, "<presence/>");
	}
	c->state = CS_LOGIN;
	c->sm_on = 0;
	if (send_out(c) != 0) {
		client_lost(c, 1);
		return;
	}
	if (c->role == ROLE_SLOW) {
		/* every room's traffic, to fill its queue sooner */
		for (c->room = 0; c->room < ROOMS; c->room++) {
			join_room(c);
		}
	} else if (!c->resuming && c->role != ROLE_PROBE) {
		c->room = c->idx % ROOMS;
		join_room(c);
	}
	c->slow_read_s = bench_now_s() + 1;
	c->next_s = bench_now_s() + 0.2 + rnd() * 0.3;
	st.logins++;
}

/*
 * The connection of c is gone: by_server when the server closed it (or
 * it failed), else we dropped it on purpose.  A resumable session
 * reconnects with <resume/> soon; otherwise it logs in afresh.
 */
static void
client_lost(struct client *c, int by_server)
{
	if (c->fd < 0) {
		return;
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = CS_OFF;
	c->joined = c->joined && c->sm_id[0] != '\0';
	if (by_server) {
		st.cut_off++;
		if (c->role == ROLE_SLOW) {
			st.slow_cut++;
		} else if (bench_now_s() < t_end) {
			note_error("%s: the server closed its connection",
			    c->user);
		}
		c->sm_id[0] = '\0';
		c->joined = 0;
	}
	c->next_s = bench_now_s() + 0.1 + rnd() * 1.5;
}

/* A clean logout: the session ends; the next login is fresh. */
static void
client_logout(struct client *c)
{
	buf_reset(&out);
	bench_put_close(&out);
	(void)send_out(c);
	c->sm_id[0] = '\0';
	c->joined = 0;
	client_lost(c, 0);
	st.logouts++;
}

static int
is_stanza(const struct xml_node *n)
{
	return strcmp(n->ns, XML_NS_CLIENT) == 0 &&
	    (strcmp(n->name, "message") == 0 ||
	    strcmp(n->name, "presence") == 0 || strcmp(n->name, "iq") == 0);
}

static const char *
body_of(const struct xml_node *n)
{
	const struct xml_node *ch;

	for (ch = n->first_child; ch != NULL; ch = ch->next) {
		if (ch->type == XML_ELEMENT && strcmp(ch->name, "body") == 0 &&
		    ch->first_child != NULL &&
		    ch->first_child->type == XML_TEXT) {
			return ch->first_child->text;
		}
	}
	return NULL;
}

/* The probe pair: soak1 echoes, soak0 times the echo. */
static void
probe_message(struct client *c, const struct xml_node *n)
{
	const char *body = body_of(n);
	char s[256];
	unsigned k;

	if (body == NULL || sscanf(body, "probe %u", &k) != 1) {
		return;
	}
	if (c->idx == 1) {
		snprintf(s, sizeof(s), "<message to='soak0@localhost' type="
		    "'chat'><body>echo %u</body></message>", k);
		send_el(c, s);
	}
}

static void
probe_echo(const struct xml_node *n)
{
	const char *body = body_of(n);
	unsigned k;
	double dt;

	if (body == NULL || sscanf(body, "echo %u", &k) != 1 ||
	    k != probe_seq || probe_got == probe_seq) {
		return;
	}
	probe_got = k;
	dt = bench_now_s() - probe_sent_s;
	st.probe_sum_s += dt;
	if (dt > st.probe_max_s) {
		st.probe_max_s = dt;
	}
}

static int
on_open(void *ud, const struct xml_node *header)
{
	(void)ud;
	(void)header;
	return 0;
}

static int
on_stanza(void *ud, struct xml_node *n)
{
	struct client *c = ud;
	char s[128];
	int restart = 0;

	if (is_stanza(n)) {
		if (c->sm_on) {
			c->in_h++;	/* XEP-0198 §4: counted from <enabled/> */
		}
		if (strcmp(n->name, "message") == 0) {
			st.msgs_in++;
			if (c->role == ROLE_PROBE) {
				if (c->idx == 0) {
					probe_echo(n);
				} else {
					probe_message(c, n);
				}
			}
		} else if (strcmp(n->name, "presence") == 0) {
			st.presences_in++;
		} else if (strcmp(n->name, "iq") == 0 && xml_attr(n, "id") &&
		    strcmp(xml_attr(n, "id"), "bind") == 0) {
			c->state = CS_ONLINE;
		}
	} else if (strcmp(n->ns, NS_SASL) == 0) {
		if (strcmp(n->name, "success") == 0) {
			restart = 1;	/* the next header starts a new stream */
		} else {
			note_error("%s: SASL %s", c->user, n->name);
			st.stream_errors++;
		}
	} else if (strcmp(n->ns, NS_SM) == 0) {
		if (strcmp(n->name, "r") == 0) {
			snprintf(s, sizeof(s), "<a xmlns='" NS_SM "' h='%u'/>",
			    (unsigned)c->in_h);
			send_el(c, s);
			st.acks++;
		} else if (strcmp(n->name, "enabled") == 0) {
			const char *id = xml_attr(n, "id");

			snprintf(c->sm_id, sizeof(c->sm_id), "%s",
			    id != NULL ? id : "");
			c->sm_on = 1;
		} else if (strcmp(n->name, "resumed") == 0) {
			st.resumed++;
			c->state = CS_ONLINE;
			c->sm_on = 1;
		} else if (strcmp(n->name, "failed") == 0 && c->resuming) {
			/* gone (a timeout): a fresh session */
			st.resume_failed++;
			c->sm_id[0] = '\0';
			c->resuming = 0;
			c->joined = 0;
			snprintf(s, sizeof(s), "<iq type='set' id='bind'><bind "
			    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
			send_el(c, s);
			send_el(c, "<enable xmlns='" NS_SM "' resume='true'/>");
			c->in_h = 0;
			send_el(c, "<presence/>");
			if (c->fd >= 0) {
				join_room(c);
			}
		}
	} else if (strcmp(n->ns, XML_NS_STREAM) == 0 &&
	    strcmp(n->name, "error") == 0) {
		const char *cond = n->first_child != NULL ?
		    n->first_child->name : "?";

		if (c->role != ROLE_SLOW) {
			note_error("%s: stream error %s", c->user, cond);
			st.stream_errors++;
		}
	}
	xml_free(n);
	return restart;
}

static int
on_close(void *ud)
{
	(void)ud;
	return 0;
}

static void
client_input(struct client *c)
{
	static char rbuf[65536];
	size_t want = sizeof(rbuf), off = 0, used;
	ssize_t r;
	int rc;

	if (c->role == ROLE_SLOW && c->state == CS_ONLINE) {
		/* a slow reader: 512 bytes a second */
		if (bench_now_s() < c->slow_read_s) {
			return;
		}
		c->slow_read_s = bench_now_s() + 1;
		want = 512;
	}
	r = recv(c->fd, rbuf, want, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (r <= 0) {
		client_lost(c, 1);
		return;
	}
	if (c->role == ROLE_SLOW) {
		unsigned long k = bench_count(&c->tail, rbuf, (size_t)r,
		    "</message>");

		c->slow_msgs += k;
		st.slow_msgs += k;
		bench_keep_tail(&c->tail, rbuf, (size_t)r);
		if (c->state == CS_LOGIN && bench_count(&c->tail, rbuf,
		    (size_t)r, "id='bind'") > 0) {
			c->state = CS_ONLINE;
		}
		return;
	}
	while (off < (size_t)r && c->fd >= 0) {
		rc = xml_feed(c->p, rbuf + off, (size_t)r - off, &used);
		if (rc == XML_STOPPED) {
			off += used;
			xml_parser_reset(c->p);
			continue;
		}
		if (rc < 0) {
			note_error("%s: bad XML from the server: %s", c->user,
			    xml_strerror(rc));
			st.stream_errors++;
			client_lost(c, 1);
		}
		break;
	}
}

/* One random action of a normal client that is online. */
static void
client_act(struct client *c, double now)
{
	double x = rnd();
	char s[1024];

	c->next_s = now + 0.05 + rnd() * 0.35;
	if (x < 0.45 && c->joined) {
		/* a longer body: the slow readers' queues fill sooner */
		snprintf(s, sizeof(s), "<message to='soak%d@" MUC_HOST "' type="
		    "'groupchat'><body>%s says %u: %.*s</body></message>",
		    c->room, c->user, c->seq++, (int)(rnd() * 400), filler);
		send_el(c, s);
	} else if (x < 0.62) {
		snprintf(s, sizeof(s), "<message to='soak%d@localhost' type="
		    "'chat' id='m%u'><body>hello %u</body></message>",
		    2 + (int)(rnd() * (nusers - 2)), c->seq, c->seq);
		c->seq++;
		send_el(c, s);
	} else if (x < 0.72 && c->joined) {
		room_presence(c);
	} else if (x < 0.77) {
		if (c->joined) {
			leave_room(c);
		} else {
			c->room = (int)(rnd() * ROOMS);
			join_room(c);
		}
	} else if (x < 0.84) {
		snprintf(s, sizeof(s), "<iq type='get' id='p%u' to='localhost'>"
		    "<ping xmlns='urn:xmpp:ping'/></iq>", c->seq++);
		send_el(c, s);
	} else if (x < 0.87 && now < t_end - WIND_DOWN_S && c->sm_on) {
		client_lost(c, 0);	/* a phone losing its network */
		st.drops++;
	} else if (x < 0.88 && now < t_end - WIND_DOWN_S) {
		client_logout(c);
	} else if (x < 0.93 && nslow > 0) {
		/* A big headline to a slow reader: the kernel's socket
		 * buffers take megabytes before the server's own queue
		 * grows.  A headline to a resource that is gone is dropped
		 * (RFC 6121 §8.5.3.2.1), never stored offline. */
		buf_reset(&out);
		buf_printf(&out, "<message to='slow%d@localhost/slow' type="
		    "'headline'><body>", (int)(rnd() * nslow));
		buf_puts(&out, big_body);
		buf_puts(&out, "</body></message>");
		if (send_out(c) != 0) {
			client_lost(c, 1);
		} else {
			st.sent++;
		}
	} else {
		snprintf(s, sizeof(s), "<presence><status>%u</status>"
		    "</presence>", c->seq++);
		send_el(c, s);
	}
}

static void
presence_storm(void)
{
	int i, k;

	for (i = 0; i < ncl; i++) {
		for (k = 0; k < 3; k++) {
			if (cl[i].role == ROLE_NORMAL &&
			    cl[i].state == CS_ONLINE && cl[i].joined) {
				room_presence(&cl[i]);
			}
		}
	}
	st.storms++;
}

static void
tick(double now)
{
	int i;
	char s[256];

	for (i = 0; i < ncl; i++) {
		struct client *c = &cl[i];

		if (c->state == CS_OFF && now >= c->next_s && now < t_end) {
			client_connect(c);
		} else if (c->state == CS_ONLINE && c->role == ROLE_NORMAL &&
		    now >= c->next_s && now < t_end) {
			client_act(c, now);
		}
	}
	/* the probe pair: one round trip outstanding at a time */
	if (cl[0].state == CS_ONLINE && cl[1].state == CS_ONLINE &&
	    now < t_end) {
		if (probe_got == probe_seq && now >= probe_sent_s + 1) {
			probe_seq++;
			probe_sent_s = now;
			snprintf(s, sizeof(s), "<message to='soak1@localhost' "
			    "type='chat'><body>probe %u</body></message>",
			    probe_seq);
			send_el(&cl[0], s);
			st.probes++;
		} else if (probe_got != probe_seq &&
		    now > probe_sent_s + PROBE_TIMEOUT_S) {
			note_error("probe %u unanswered after %.0f s",
			    probe_seq, PROBE_TIMEOUT_S);
			st.probe_lost++;
			probe_got = probe_seq;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct xml_callbacks cbs = { on_open, on_stanza,
	    on_close };
	const char *pid = getenv("SERVER_PID");
	long rss, plateau = 0, late = 0, final_rss;
	double seconds, now, next_sample, next_storm;
	int i, bad = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: soak_client HOST PORT SECONDS NUSERS "
		    "NSLOW\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	seconds = atof(argv[3]);
	nusers = atoi(argv[4]);
	nslow = atoi(argv[5]);
	if (nusers < 4 || nslow < 0 || seconds < 10) {
		fprintf(stderr, "soak_client: at least 4 users, 10 s\n");
		return 2;
	}
	srandom(1);
	for (i = 0; i < BIG_BODY_BYTES; i++) {
		big_body[i] = filler[(size_t)i % (sizeof(filler) - 1)];
	}
	ncl = nusers + nslow;
	cl = calloc((size_t)ncl, sizeof(*cl));
	epfd = epoll_create1(0);
	buf_init(&out, 0);
	for (i = 0; i < ncl; i++) {
		cl[i].idx = i;
		cl[i].fd = -1;
		cl[i].role = i < 2 ? ROLE_PROBE : i < nusers ? ROLE_NORMAL :
		    ROLE_SLOW;
		if (i < nusers) {
			snprintf(cl[i].user, sizeof(cl[i].user), "soak%d", i);
		} else {
			snprintf(cl[i].user, sizeof(cl[i].user), "slow%d",
			    i - nusers);
		}
		cl[i].p = xml_parser_new(NULL, &cbs, &cl[i], 1);
		cl[i].room = ROOMS;
		cl[i].next_s = 0;
	}
	t_start = bench_now_s();
	t_end = t_start + seconds;
	next_sample = t_start + 1;
	next_storm = t_start + PRESENCE_STORM_S;
	for (;;) {
		struct epoll_event ev[64];
		int n, k;

		now = bench_now_s();
		if (now >= t_end) {
			break;
		}
		tick(now);
		if (now >= next_storm) {
			presence_storm();
			next_storm = now + PRESENCE_STORM_S;
		}
		if (now >= next_sample) {
			double f = (now - t_start) / seconds;

			rss = bench_rss_kib(pid);
			if (f >= 0.25 && f <= 0.5 && rss > plateau) {
				plateau = rss;
			}
			if (f >= 0.75 && rss > late) {
				late = rss;
			}
			next_sample = now + 1;
		}
		n = epoll_wait(epfd, ev, 64, 10);
		for (k = 0; k < n; k++) {
			struct client *c = &cl[ev[k].data.u32];

			if (c->fd >= 0) {
				client_input(c);
			}
		}
	}
	/* the end: every session closed cleanly (none left hibernating) */
	for (i = 0; i < ncl; i++) {
		if (cl[i].fd >= 0) {
			buf_reset(&out);
			bench_put_close(&out);
			(void)send_out(&cl[i]);
			close(cl[i].fd);
			cl[i].fd = -1;
		}
		cl[i].sm_id[0] = '\0';
		xml_parser_free(cl[i].p);
	}
	sleep(SETTLE_S);
	final_rss = bench_rss_kib(pid);

	printf("soak: %.0f s, %d clients (%d slow readers)\n", seconds, ncl,
	    nslow);
	printf("soak: %lu logins, %lu resumed, %lu resumptions failed, %lu "
	    "drops, %lu logouts, %lu closed by the server (%lu slow readers)\n",
	    st.logins, st.resumed, st.resume_failed, st.drops, st.logouts,
	    st.cut_off, st.slow_cut);
	printf("soak: %lu elements sent; received %lu messages, %lu "
	    "presences, %lu acks sent; %lu joins, %lu leaves, %lu presence "
	    "storms; slow readers got %lu messages\n", st.sent, st.msgs_in,
	    st.presences_in, st.acks, st.joins, st.leaves, st.storms,
	    st.slow_msgs);
	if (st.probes > 0) {
		printf("soak: %lu probe round trips, mean %.1f ms, max %.1f "
		    "ms, %lu unanswered\n", st.probes,
		    st.probe_sum_s * 1e3 / (double)st.probes,
		    st.probe_max_s * 1e3, st.probe_lost);
	}
	if (pid != NULL) {
		printf("soak: server RSS plateau %ld KiB (25-50%% of the run), "
		    "last quarter %ld KiB, after the load %ld KiB\n", plateau,
		    late, final_rss);
		if (plateau <= 0 || final_rss <= 0) {
			printf("FAIL rss: no RSS samples\n");
			bad = 1;
		} else {
			if ((double)late > (double)plateau * RSS_SLACK) {
				printf("FAIL rss: grew %.1f%% under the same "
				    "load\n", 100.0 * (double)(late - plateau)
				    / (double)plateau);
				bad = 1;
			}
			if ((double)final_rss > (double)plateau * RSS_SLACK) {
				printf("FAIL rss: %.1f%% above the plateau after "
				    "the load\n", 100.0 * (double)(final_rss -
				    plateau) / (double)plateau);
				bad = 1;
			}
		}
	}
	if (st.first_error[0] != '\0') {
		printf("FAIL first error: %s\n", st.first_error);
		bad = 1;
	}
	if (st.resumed == 0 || st.msgs_in == 0 || st.probes == 0 ||
	    st.storms == 0 || (nslow > 0 && (st.slow_msgs == 0 ||
	    st.slow_cut == 0))) {
		printf("FAIL workload: some part of it never happened\n");
		bad = 1;
	}
	buf_free(&out);
	free(cl);
	return bad;
}
