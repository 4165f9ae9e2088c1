/*
 * load.c - one load generator for any XMPP server: one process, one epoll
 * loop, many clients, each logging in its own account (SCRAM-SHA-1, RFC
 * 5802) over plain TCP, STARTTLS or direct TLS (XEP-0368).
 *
 * usage: load [options] WORKLOAD
 *   -H HOST -p PORT      the server (default 127.0.0.1:5222)
 *   -t plain|starttls|tls  transport (tls: PORT is a direct TLS port)
 *   -d DOMAIN -m MUCDOMAIN  (localhost, conference.localhost)
 *   -u PREFIX -w PASSWORD   accounts PREFIX0.. (u, bench)
 *   -n N                 clients (or accounts in the login pool)
 *   -c C                 logins in flight at once (50)
 *   -k PID               the server's process: its CPU time and RSS
 *   -T SECONDS           time bound of each measured phase (20)
 *   -D SECONDS           how long a login, fan-out or 1:1 phase sends (3)
 *   -M COUNT             at most COUNT logins or messages in that phase
 *   -S K                 spread the clients over K loopback source
 *                        addresses 127.0.0.10.. (1: the kernel's choice)
 * WORKLOAD: idle, login, muc, msg, register (XEP-0077, to create the
 * accounts of servers without a bulk command).
 *
 * Each measured phase prints one line
 *   RESULT <workload> <transport> ops=.. wall_s=.. server_cpu_s=..
 *     client_cpu_s=.. per_op=.. <unit> rate=../s [rss_per_session=.. B]
 * where per_op is the server's CPU time (user+system of all its threads,
 * /proc/PID/stat) divided by the operations: it does not depend on how
 * fast this client is.  client_cpu_s near wall_s means the client, not
 * the server, was the bottleneck of rate.
 *
 * The client tells what arrived by markers in the byte stream, not by
 * parsing XML; it works with servers quoting attributes either way.
 * SCRAM keeps the salted password per (salt, iterations): a login pool is
 * logged in once untimed, so PBKDF2 runs once per account, not per login.
 * Every loop is bounded in count and in time; a phase that runs out of
 * time says so and the program exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base64.h"
#include "bench/bench_client.h"
#include "buf.h"
#include "tls.h"

#define IN_CAP		65536	/* bytes kept while waiting for a marker */
#define WINDOW		32	/* messages in flight per sender */
#define SCRAM_CACHE	8192	/* salted passwords kept (a power of two) */
#define NS_SASL_	"urn:ietf:params:xml:ns:xmpp-sasl"

enum transport { T_PLAIN, T_STARTTLS, T_TLS };
enum workload { W_IDLE, W_LOGIN, W_MUC, W_MSG, W_REGISTER };
enum cstate {
	S_FREE, S_TLS_HS, S_FEAT1, S_PROCEED, S_SASL, S_SASL_FINAL,
	S_FEAT2, S_BIND, S_ROSTER, S_JOIN, S_REG, S_READY, S_CLOSING
};

struct client {
	int		 fd;
	int		 idx;		/* account number */
	enum cstate	 state;
	struct tls_conn	*tls;
	int		 want_out;	/* EPOLLOUT registered */
	int		 restarted;	/* the stream after TLS was opened */
	char		*in;		/* IN_CAP bytes, waiting for markers */
	size_t		 in_len;
	struct buf	 out;
	char		 cnonce[32];
	char		 first_bare[160];
	unsigned char	 server_sig[20];
	char		 jid[160];	/* bound full JID */
	struct bench_tail tail;
	unsigned long	 msgs;		/* "</message>" seen once READY */
	unsigned long	 sent;
};

struct scram_entry {
	unsigned char	 salt[64];
	size_t		 salt_len;
	unsigned	 iter;
	unsigned char	 client_key[20], stored_key[20], server_key[20];
};

static struct {
	const char	*host, *domain, *muc, *prefix, *password;
	int		 port, n, conc, srcs, server_pid;
	double		 limit_s, run_s;
	long		 msgs;
	enum transport	 tr;
	enum workload	 wl;
} opt = { "127.0.0.1", "localhost", "conference.localhost", "u", "bench",
	5222, 100, 50, 1, 0, 20, 3, 0, T_PLAIN, W_IDLE };

static struct client *cl;
static int epfd;
static char room[128];
static unsigned long logins_done, ready_count, failures;
static struct scram_entry *scram_cache;
static unsigned long scram_hits, scram_misses;

static void
die(const char *what)
{
	fprintf(stderr, "load: %s\n", what);
	exit(1);
}

/* ---- CPU and memory of both sides ---- */

/* Server user+system seconds (all threads) from /proc/PID/stat; 0 without. */
static double
server_cpu_s(void)
{
	char path[64], line[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *fp;
	int i;

	if (opt.server_pid <= 0) {
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", opt.server_pid);
	if ((fp = fopen(path, "r")) == NULL) {
		return 0;
	}
	p = fgets(line, sizeof(line), fp);
	fclose(fp);
	/* the command name may hold spaces: fields count from its ')' */
	if (p == NULL || (p = strrchr(line, ')')) == NULL) {
		return 0;
	}
	for (i = 2; i < 14 && p != NULL; i++) {
		p = strchr(p + 1, ' ');
	}
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2) {
		return 0;
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
client_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long
server_rss_kib(void)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", opt.server_pid);
	return opt.server_pid > 0 ? bench_rss_kib(pid) : -1;
}

struct mark {
	double	wall, srv, cli;
};

static void
mark_now(struct mark *m)
{
	m->wall = bench_now_s();
	m->srv = server_cpu_s();
	m->cli = client_cpu_s();
}

static const char *
tr_name(void)
{
	return opt.tr == T_PLAIN ? "plain" : opt.tr == T_STARTTLS ?
	    "starttls" : "tls";
}

/* One RESULT line for ops operations since m; scale: 1e6 (us) or 1e9. */
static void
report(const char *what, const struct mark *m, double ops, double scale,
    const char *unit, const char *extra)
{
	struct mark e;

	mark_now(&e);
	if (ops <= 0) {
		ops = 1;
	}
	printf("RESULT %s %s ops=%.0f wall_s=%.3f server_cpu_s=%.3f "
	    "client_cpu_s=%.3f per_op=%.1f %s rate=%.0f/s%s%s\n", what,
	    tr_name(), ops, e.wall - m->wall, e.srv - m->srv, e.cli - m->cli,
	    (e.srv - m->srv) * scale / ops, unit, ops / (e.wall - m->wall),
	    extra != NULL ? " " : "", extra != NULL ? extra : "");
	fflush(stdout);
}

/* ---- SCRAM-SHA-1 client with a salted-password cache ---- */

static struct scram_entry *
scram_keys(const unsigned char *salt, size_t salt_len, unsigned iter)
{
	unsigned char sp[20];
	struct scram_entry *e;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < salt_len; i++) {
		h = (h ^ salt[i]) * 16777619u;
	}
	e = &scram_cache[(h ^ iter) & (SCRAM_CACHE - 1)];
	if (e->iter == iter && e->salt_len == salt_len &&
	    memcmp(e->salt, salt, salt_len) == 0) {
		scram_hits++;
		return e;
	}
	scram_misses++;
	if (salt_len > sizeof(e->salt) || tls_pbkdf2(TLS_MD_SHA1,
	    opt.password, strlen(opt.password), salt, salt_len, iter, sp,
	    sizeof(sp)) != 0) {
		return NULL;
	}
	tls_hmac(TLS_MD_SHA1, sp, 20, "Client Key", 10, e->client_key);
	tls_hash(TLS_MD_SHA1, e->client_key, 20, e->stored_key);
	tls_hmac(TLS_MD_SHA1, sp, 20, "Server Key", 10, e->server_key);
	memcpy(e->salt, salt, salt_len);
	e->salt_len = salt_len;
	e->iter = iter;
	return e;
}

/* The attribute a= of a SCRAM message (RFC 5802 §5.1), copied into v. */
static int
scram_attr(const char *msg, char a, char *v, size_t cap)
{
	const char *p = msg, *end;

	while (p != NULL && *p != '\0') {
		if (p[0] == a && p[1] == '=') {
			p += 2;
			end = strchr(p, ',');
			if (end == NULL) {
				end = p + strlen(p);
			}
			if ((size_t)(end - p) >= cap) {
				return -1;
			}
			memcpy(v, p, (size_t)(end - p));
			v[end - p] = '\0';
			return 0;
		}
		p = strchr(p, ',');
		if (p != NULL) {
			p++;
		}
	}
	return -1;
}

/* server-first-message (base64 b64) -> client-final-message into out. */
static int
scram_final(struct client *c, const char *b64, size_t len, struct buf *out)
{
	struct buf sf, am, salt, fin;
	char nonce[256], salt64[128], iters[16];
	unsigned char sig[20], proof[20];
	struct scram_entry *e;
	int rc = -1, i;

	buf_init(&sf, 4096);
	buf_init(&am, 0);
	buf_init(&salt, 0);
	buf_init(&fin, 0);
	if (base64_decode(b64, len, &sf) != 0 || sf.err ||
	    scram_attr(sf.data, 'r', nonce, sizeof(nonce)) != 0 ||
	    strncmp(nonce, c->cnonce, strlen(c->cnonce)) != 0 ||
	    scram_attr(sf.data, 's', salt64, sizeof(salt64)) != 0 ||
	    scram_attr(sf.data, 'i', iters, sizeof(iters)) != 0 ||
	    base64_decode(salt64, strlen(salt64), &salt) != 0 ||
	    (e = scram_keys((unsigned char *)salt.data, salt.len,
	    (unsigned)atoi(iters))) == NULL) {
		goto out;
	}
	buf_printf(&fin, "c=biws,r=%s", nonce);
	buf_printf(&am, "%s,%s,%s", c->first_bare, sf.data, fin.data);
	tls_hmac(TLS_MD_SHA1, e->stored_key, 20, am.data, am.len, sig);
	for (i = 0; i < 20; i++) {
		proof[i] = e->client_key[i] ^ sig[i];
	}
	tls_hmac(TLS_MD_SHA1, e->server_key, 20, am.data, am.len,
	    c->server_sig);
	buf_puts(&fin, ",p=");
	base64_encode(proof, 20, &fin);
	buf_puts(out, "<response xmlns='" NS_SASL_ "'>");
	base64_encode((unsigned char *)fin.data, fin.len, out);
	buf_puts(out, "</response>");
	rc = 0;
out:
	buf_free(&sf);
	buf_free(&am);
	buf_free(&salt);
	buf_free(&fin);
	return rc;
}

/* <success/>'s text: v=ServerSignature, checked. */
static int
scram_verify(const struct client *c, const char *b64, size_t len)
{
	struct buf sf, sig;
	char v[64];
	int rc = -1;

	buf_init(&sf, 4096);
	buf_init(&sig, 0);
	if (base64_decode(b64, len, &sf) == 0 && !sf.err &&
	    scram_attr(sf.data, 'v', v, sizeof(v)) == 0 &&
	    base64_decode(v, strlen(v), &sig) == 0 && sig.len == 20 &&
	    memcmp(sig.data, c->server_sig, 20) == 0) {
		rc = 0;
	}
	buf_free(&sf);
	buf_free(&sig);
	return rc;
}

/* ---- connections ---- */

static void
set_interest(struct client *c, int want_out)
{
	struct epoll_event ev;

	if (want_out == c->want_out) {
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = want_out;
}

static void
client_close(struct client *c)
{
	if (c->tls != NULL) {
		tls_conn_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
	}
	c->fd = -1;
	c->state = S_FREE;
	c->in_len = 0;
	buf_reset(&c->out);
}

static void
client_fail(struct client *c, const char *why)
{
	failures++;
	if (failures <= 5) {
		fprintf(stderr, "load: client %d (state %d): %s%s%.*s\n", c->idx,
		    c->state, why, c->in_len ? ": " : "",
		    (int)(c->in_len < 300 ? c->in_len : 300), c->in);
	}
	client_close(c);
}

/* Write what is queued; -1 when the connection failed. */
static int
client_flush(struct client *c)
{
	ssize_t w;
	int r;

	while (c->out.len > 0) {
		if (c->tls != NULL) {
			r = tls_conn_write(c->tls, c->out.data, c->out.len);
			if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
				set_interest(c, 1);
				return 0;
			}
			if (r < 0) {
				return -1;
			}
			w = r;
		} else {
			w = write(c->fd, c->out.data, c->out.len);
			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				set_interest(c, 1);
				return 0;
			}
			if (w <= 0) {
				return -1;
			}
		}
		buf_consume(&c->out, (size_t)w);
	}
	set_interest(c, 0);
	return 0;
}

static void
put_header(struct client *c)
{
	buf_printf(&c->out, "<?xml version='1.0'?><stream:stream to='%s' "
	    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
	    "streams' version='1.0'>", opt.domain);
}

static void
put_auth(struct client *c)
{
	struct buf first;
	unsigned char rnd[12];

	tls_random(rnd, sizeof(rnd));
	buf_init(&first, 0);
	base64_encode(rnd, sizeof(rnd), &first);
	snprintf(c->cnonce, sizeof(c->cnonce), "%s", first.data);
	snprintf(c->first_bare, sizeof(c->first_bare), "n=%s%d,r=%s",
	    opt.prefix, c->idx, c->cnonce);
	buf_reset(&first);
	buf_printf(&first, "n,,%s", c->first_bare);
	buf_puts(&c->out, "<auth xmlns='" NS_SASL_ "' mechanism='SCRAM-SHA-1'>");
	base64_encode((unsigned char *)first.data, first.len, &c->out);
	buf_puts(&c->out, "</auth>");
	buf_free(&first);
}

/* Open client slot c as account idx and start its stream. */
static int
client_open(struct client *c, int idx)
{
	struct sockaddr_in sa, src;
	struct epoll_event ev;
	int one = 1;

	c->idx = idx;
	c->in_len = 0;
	c->msgs = c->sent = 0;
	c->restarted = 0;
	c->want_out = 0;
	memset(&c->tail, 0, sizeof(c->tail));
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* our closed connections' TIME_WAIT entries must not keep the next
	 * server from binding a listener to the same loopback port */
	setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opt.srcs > 1) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f00000a + (uint32_t)(idx %
		    opt.srcs));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
			close(c->fd);
			return -1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)opt.port);
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	/* loopback: connect completes at once while the backlog has room,
	 * which the bound on logins in flight keeps */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	if (opt.tr == T_TLS) {
		if ((c->tls = tls_conn_new_client(c->fd, opt.domain)) == NULL) {
			return -1;
		}
		c->state = S_TLS_HS;
		set_interest(c, 1);
		return 0;
	}
	put_header(c);
	c->state = S_FEAT1;
	return client_flush(c);
}

/* Find mark in c->in; the offset just past it, or 0. */
static size_t
seen(const struct client *c, const char *mark)
{
	const char *p = memmem(c->in, c->in_len, mark, strlen(mark));

	return p == NULL ? 0 : (size_t)(p - c->in) + strlen(mark);
}

/* Drop c->in up to off. */
static void
eat(struct client *c, size_t off)
{
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

/* The text of the element whose start tag begins at mark ("<challenge"). */
static int
el_text(const struct client *c, const char *mark, const char **text,
    size_t *len)
{
	const char *p = memmem(c->in, c->in_len, mark, strlen(mark));
	const char *end = c->in + c->in_len, *q;

	if (p == NULL || (q = memchr(p, '>', (size_t)(end - p))) == NULL) {
		return -1;
	}
	if (q[-1] == '/') {
		*text = q;
		*len = 0;
		return 0;
	}
	*text = q + 1;
	if ((q = memchr(*text, '<', (size_t)(end - *text))) == NULL) {
		return -1;
	}
	*len = (size_t)(q - *text);
	return 0;
}

static void workload_after_bind(struct client *c);
static void workload_ready(struct client *c);

/* Advance c's login on what has arrived; 0, or -1 when it failed. */
static int
advance(struct client *c)
{
	const char *text;
	size_t off, len;
	char el[512];

	for (;;) {
		switch (c->state) {
		case S_FEAT1:
			if ((off = seen(c, "</stream:features>")) == 0) {
				return 0;
			}
			if (opt.wl == W_REGISTER) {
				eat(c, off);
				snprintf(el, sizeof(el), "<iq type='set' id='reg'>"
				    "<query xmlns='jabber:iq:register'><username>"
				    "%s%d</username><password>%s</password>"
				    "</query></iq>", opt.prefix, c->idx,
				    opt.password);
				buf_puts(&c->out, el);
				c->state = S_REG;
				break;
			}
			if (opt.tr == T_STARTTLS && c->tls == NULL) {
				eat(c, off);
				buf_puts(&c->out, "<starttls xmlns='urn:ietf:"
				    "params:xml:ns:xmpp-tls'/>");
				c->state = S_PROCEED;
				break;
			}
			eat(c, off);
			put_auth(c);
			c->state = S_SASL;
			break;
		case S_PROCEED:
			if ((off = seen(c, "<proceed")) == 0) {
				return seen(c, "<failure") ? -1 : 0;
			}
			c->in_len = 0;
			if (client_flush(c) != 0 || (c->tls =
			    tls_conn_new_client(c->fd, opt.domain)) == NULL) {
				return -1;
			}
			c->state = S_TLS_HS;
			set_interest(c, 1);
			return 0;
		case S_SASL:
			if (seen(c, "<failure")) {
				return -1;
			}
			if (el_text(c, "<challenge", &text, &len) != 0) {
				return 0;
			}
			if (scram_final(c, text, len, &c->out) != 0) {
				return -1;
			}
			c->in_len = 0;
			c->state = S_SASL_FINAL;
			break;
		case S_SASL_FINAL:
			if (seen(c, "<failure")) {
				return -1;
			}
			if (el_text(c, "<success", &text, &len) != 0) {
				return 0;
			}
			if (scram_verify(c, text, len) != 0) {
				return -1;
			}
			c->in_len = 0;
			put_header(c);
			c->state = S_FEAT2;
			break;
		case S_FEAT2:
			if ((off = seen(c, "</stream:features>")) == 0) {
				return 0;
			}
			eat(c, off);
			buf_puts(&c->out, "<iq type='set' id='bind1'><bind xmlns="
			    "'urn:ietf:params:xml:ns:xmpp-bind'><resource>r"
			    "</resource></bind></iq>");
			c->state = S_BIND;
			break;
		case S_BIND:
			if ((off = seen(c, "</jid>")) == 0) {
				return seen(c, "type='error'") ||
				    seen(c, "type=\"error\"") ? -1 : 0;
			}
			{
				size_t j = seen(c, "<jid>");

				len = off - 6 - j;
				if (j == 0 || len >= sizeof(c->jid)) {
					return -1;
				}
				memcpy(c->jid, c->in + j, len);
				c->jid[len] = '\0';
			}
			eat(c, off);
			logins_done++;
			workload_after_bind(c);
			if (c->state == S_FREE) {
				return 0;
			}
			break;
		case S_ROSTER:
			if ((off = seen(c, "jabber:iq:roster")) == 0) {
				return 0;
			}
			eat(c, off);
			workload_ready(c);
			break;
		case S_JOIN:
			/* XEP-0045 §7.2.2: status 110 marks our own presence */
			if ((off = seen(c, "110'")) == 0 &&
			    (off = seen(c, "110\"")) == 0) {
				return seen(c, "type='error'") ||
				    seen(c, "type=\"error\"") ? -1 : 0;
			}
			c->in_len = 0;
			workload_ready(c);
			break;
		case S_REG:
			if (seen(c, "type='result'") ||
			    seen(c, "type=\"result\"")) {
				logins_done++;
				buf_puts(&c->out, "</stream:stream>");
				client_flush(c);
				client_close(c);
				return 0;
			}
			if (seen(c, "<conflict")) {
				/* already there: fine for a bulk setup */
				logins_done++;
				client_close(c);
				return 0;
			}
			return seen(c, "type='error'") ||
			    seen(c, "type=\"error\"") ? -1 : 0;
		default:
			return 0;
		}
		if (client_flush(c) != 0) {
			return -1;
		}
	}
}

/* Read and handle what the server sent to c. */
static void
client_input(struct client *c)
{
	static char rbuf[65536];
	int r, loops;
	size_t room_left;

	for (loops = 0; loops < 64; loops++) {
		if (c->state == S_TLS_HS) {
			r = tls_conn_handshake(c->tls);
			if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
				set_interest(c, r == TLS_WANT_WRITE);
				return;
			}
			if (r != 0) {
				client_fail(c, tls_conn_error(c->tls));
				return;
			}
			set_interest(c, 0);
			put_header(c);
			c->restarted = 1;
			c->state = S_FEAT1;
			if (client_flush(c) != 0) {
				client_fail(c, "write");
			}
			return;
		}
		if (c->tls != NULL) {
			r = tls_conn_read(c->tls, rbuf, sizeof(rbuf));
			if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
				return;
			}
		} else {
			r = (int)read(c->fd, rbuf, sizeof(rbuf));
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				return;
			}
		}
		if (r <= 0) {
			if (c->state == S_CLOSING) {
				client_close(c);
			} else {
				client_fail(c, r == 0 ? "closed by the server" :
				    "read error");
			}
			return;
		}
		if (c->state == S_READY || c->state == S_CLOSING) {
			c->msgs += bench_count(&c->tail, rbuf, (size_t)r,
			    "</message>");
			bench_keep_tail(&c->tail, rbuf, (size_t)r);
			continue;
		}
		room_left = IN_CAP - c->in_len;
		if ((size_t)r > room_left) {
			/* waiting for a marker through a flood: keep the end */
			size_t keep = IN_CAP / 4;

			if (c->in_len > keep) {
				eat(c, c->in_len - keep);
			}
			if ((size_t)r > IN_CAP - c->in_len) {
				r = (int)(IN_CAP - c->in_len);
			}
		}
		memcpy(c->in + c->in_len, rbuf, (size_t)r);
		c->in_len += (size_t)r;
		if (advance(c) != 0) {
			client_fail(c, "login step failed");
			return;
		}
		if (c->state == S_FREE) {
			return;
		}
	}
}

/* One turn of the loop: at most timeout_ms waiting. */
static void
pump(int timeout_ms)
{
	struct epoll_event ev[256];
	int n, k;

	n = epoll_wait(epfd, ev, 256, timeout_ms);
	for (k = 0; k < n; k++) {
		struct client *c = ev[k].data.ptr;

		if (c->fd < 0) {
			continue;
		}
		if (ev[k].events & EPOLLOUT) {
			if (c->state == S_TLS_HS) {
				client_input(c);
				continue;
			}
			if (client_flush(c) != 0) {
				client_fail(c, "write");
				continue;
			}
		}
		if (ev[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			client_input(c);
			/* bytes mbedTLS decrypted beyond what we read */
			while (c->fd >= 0 && c->tls != NULL &&
			    tls_conn_pending(c->tls) > 0 &&
			    c->state != S_TLS_HS) {
				client_input(c);
			}
		}
	}
}

/* ---- workloads ---- */

static void
workload_after_bind(struct client *c)
{
	char el[512];

	switch (opt.wl) {
	case W_LOGIN:
		buf_puts(&c->out, "</stream:stream>");
		client_flush(c);
		client_close(c);
		return;
	case W_IDLE:
		buf_puts(&c->out, "<iq type='get' id='ro1'><query xmlns="
		    "'jabber:iq:roster'/></iq><presence/>");
		c->state = S_ROSTER;
		return;
	case W_MSG:
		buf_puts(&c->out, "<presence/>");
		workload_ready(c);
		return;
	case W_MUC:
		snprintf(el, sizeof(el), "<presence to='%s/n%d'><x xmlns='http:"
		    "//jabber.org/protocol/muc'><history maxstanzas='0'/></x>"
		    "</presence>", room, c->idx);
		buf_puts(&c->out, el);
		c->state = S_JOIN;
		return;
	default:
		return;
	}
}

static void
workload_ready(struct client *c)
{
	c->state = S_READY;
	c->in_len = 0;
	ready_count++;
}

static void
check_time(double deadline, const char *what)
{
	if (bench_now_s() > deadline) {
		fprintf(stderr, "load: %s: out of time (%.0f s)\n", what,
		    opt.limit_s);
		exit(1);
	}
}

/* Log clients [from, to) in, at most opt.conc in flight, until each is
 * past the bind and its workload's first step (ready_count). */
static void
login_all(int from, int to, const char *what)
{
	double deadline = bench_now_s() + opt.limit_s;
	unsigned long want = ready_count + (unsigned long)(to - from);
	int next = from, i;

	while (ready_count < want) {
		unsigned long inflight = 0;

		check_time(deadline, what);
		for (i = from; i < next; i++) {
			if (cl[i].state != S_READY && cl[i].state != S_FREE) {
				inflight++;
			}
		}
		while (next < to && inflight < (unsigned long)opt.conc) {
			if (client_open(&cl[next], next) != 0) {
				die("connect failed");
			}
			next++;
			inflight++;
		}
		pump(100);
		if (failures > 0) {
			die("a login failed");
		}
	}
}

static void
alloc_clients(int n)
{
	int i;

	cl = xcalloc((size_t)n, sizeof(*cl));
	for (i = 0; i < n; i++) {
		cl[i].fd = -1;
		cl[i].in = xmalloc(IN_CAP);
		buf_init(&cl[i].out, 0);
	}
}

static void
run_idle(void)
{
	struct mark m;
	long rss0, rss1;
	char extra[96];

	alloc_clients(opt.n);
	rss0 = server_rss_kib();
	mark_now(&m);
	login_all(0, opt.n, "idle logins");
	usleep(500000);
	rss1 = server_rss_kib();
	snprintf(extra, sizeof(extra), "rss_kib=%ld->%ld rss_per_session=%.0f B",
	    rss0, rss1, (rss1 - rss0) * 1024.0 / opt.n);
	report("idle", &m, opt.n, 1e6, "us/login", extra);
}

/* Full logins of a pool of opt.n accounts, again and again. */
static void
run_login(void)
{
	double deadline;
	struct mark m;
	unsigned long target, started = 0, base;
	int i;

	alloc_clients(opt.conc);
	/* untimed: one pass over the pool fills the SCRAM cache */
	opt.wl = W_LOGIN;
	deadline = bench_now_s() + opt.limit_s * 3;
	for (i = 0; i < opt.n; ) {
		int k;

		check_time(deadline, "login warm-up");
		for (k = 0; k < opt.conc && i < opt.n; k++) {
			if (cl[k].state == S_FREE) {
				if (client_open(&cl[k], i++) != 0) {
					die("connect failed");
				}
			}
		}
		pump(100);
		if (failures > 0) {
			die("a login failed");
		}
	}
	while (1) {
		int busy = 0;

		for (i = 0; i < opt.conc; i++) {
			busy += cl[i].state != S_FREE;
		}
		if (busy == 0) {
			break;
		}
		check_time(deadline, "login warm-up");
		pump(100);
	}
	target = opt.msgs > 0 ? (unsigned long)opt.msgs : 1000000;
	base = logins_done;
	mark_now(&m);
	deadline = m.wall + opt.run_s;
	while (logins_done - base < target && bench_now_s() < deadline) {
		for (i = 0; i < opt.conc; i++) {
			if (cl[i].state == S_FREE && started < target) {
				if (client_open(&cl[i], (int)(started++ %
				    (unsigned long)opt.n)) != 0) {
					die("connect failed");
				}
			}
		}
		pump(100);
		if (failures > 0) {
			die("a login failed");
		}
	}
	/* the logins in flight finish inside the measurement */
	deadline = bench_now_s() + opt.limit_s;
	for (;;) {
		int busy = 0;

		for (i = 0; i < opt.conc; i++) {
			busy += cl[i].state != S_FREE;
		}
		if (busy == 0) {
			break;
		}
		check_time(deadline, "last logins");
		pump(100);
	}
	report("login", &m, logins_done - base, 1e6, "us/login", NULL);
	fprintf(stderr, "load: SCRAM cache %lu hits, %lu misses\n", scram_hits,
	    scram_misses);
}

static void
put_msg(struct client *c, const char *to, const char *type)
{
	char el[512];

	snprintf(el, sizeof(el), "<message to='%s' type='%s'><body>load %lu"
	    "</body></message>", to, type, c->sent++);
	buf_puts(&c->out, el);
}

/* Wait until a fan-out's every occupant has want[i] messages. */
static unsigned long
total_msgs(int n)
{
	unsigned long t = 0;
	int i;

	for (i = 0; i < n; i++) {
		t += cl[i].msgs;
	}
	return t;
}

/* An occupant limit above n from the list servers offer (ejabberd
 * refuses the form with any other value). */
static int
room_max_users(int n)
{
	static const int sizes[] = { 20, 50, 100, 200, 500, 1000, 2000, 5000 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] > n) {
			return sizes[i];
		}
	}
	return sizes[i - 1];
}

static void
run_muc(void)
{
	char el[1024];
	double deadline;
	struct mark m;
	unsigned long msgs, want, base;
	int n = opt.n, i;

	snprintf(room, sizeof(room), "load%d-%d@%s", n, (int)getpid(), opt.muc);
	alloc_clients(n);
	/* the owner creates and configures the room (XEP-0045 §10.1.3):
	 * no occupant limit, presence broadcast to moderators only so the
	 * joins stay linear where the server has the option */
	login_all(0, 1, "room creation");
	deadline = bench_now_s() + opt.limit_s;
	snprintf(el, sizeof(el), "<iq type='set' id='cfg' to='%s'><query "
	    "xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:"
	    "x:data' type='submit'><field var='FORM_TYPE'><value>http://"
	    "jabber.org/protocol/muc#roomconfig</value></field><field var='"
	    "muc#roomconfig_maxusers'><value>%d</value></field><field var='"
	    "muc#roomconfig_presencebroadcast'><value>moderator</value>"
	    "</field><field var='muc#roomconfig_historylength'><value>0"
	    "</value></field></x></query></iq>", room, room_max_users(n));
	cl[0].state = S_ROSTER;	/* wait for the result's marker below */
	cl[0].in_len = 0;
	buf_puts(&cl[0].out, el);
	client_flush(&cl[0]);
	while (1) {
		check_time(deadline, "room configuration");
		pump(100);
		const char *id = memmem(cl[0].in, cl[0].in_len, "id='cfg'", 8);

		if (id == NULL) {
			id = memmem(cl[0].in, cl[0].in_len, "id=\"cfg\"", 8);
		}
		if (id != NULL) {
			/* the start tag of the answer: <iq ... id='cfg' ...> */
			const char *end = memchr(id, '>', (size_t)(cl[0].in +
			    cl[0].in_len - id));
			const char *start = id;

			while (start > cl[0].in && *start != '<') {
				start--;
			}
			if (end != NULL && memmem(start, (size_t)(end - start),
			    "error", 5) != NULL) {
				fprintf(stderr, "load: room configuration "
				    "refused: %.*s\n", (int)(cl[0].in_len -
				    (size_t)(start - cl[0].in)), start);
			}
			break;
		}
	}
	cl[0].state = S_READY;
	login_all(1, n, "joins");
	/* let join presences drain before counting */
	deadline = bench_now_s() + 1;
	while (bench_now_s() < deadline) {
		pump(50);
	}
	msgs = opt.msgs > 0 ? (unsigned long)opt.msgs : 100000000;
	base = total_msgs(n);
	mark_now(&m);
	deadline = m.wall + opt.limit_s;
	/* one sender keeps WINDOW messages in flight: it waits for its own
	 * reflections (XEP-0045 §7.4); it stops after msgs or opt.run_s,
	 * and the phase ends when every occupant has every message */
	{
		unsigned long own0 = cl[0].msgs;
		double stop = m.wall + opt.run_s;

		do {
			check_time(deadline, "muc fan-out");
			if (bench_now_s() > stop && msgs > cl[0].sent) {
				msgs = cl[0].sent;
			}
			while (cl[0].sent < msgs &&
			    cl[0].sent < cl[0].msgs - own0 + WINDOW) {
				put_msg(&cl[0], room, "groupchat");
			}
			client_flush(&cl[0]);
			pump(10);
			if (failures > 0) {
				die("a connection failed");
			}
		} while (total_msgs(n) < base + msgs * (unsigned long)n);
	}
	(void)want;
	snprintf(el, sizeof(el), "room=%d messages=%lu", n, msgs);
	report("muc", &m, (double)msgs * n, 1e9, "ns/delivery", el);
	(void)i;
}

/* Pairs (2i, 2i+1) send to each other's full JID. */
static void
run_msg(void)
{
	double deadline;
	struct mark m;
	unsigned long per, base, want;
	int n = opt.n & ~1, i;

	if (n < 2) {
		die("msg needs -n 2 or more");
	}
	alloc_clients(n);
	login_all(0, n, "logins");
	deadline = bench_now_s() + 1;
	while (bench_now_s() < deadline) {
		pump(50);
	}
	per = opt.msgs > 0 ? (unsigned long)opt.msgs / (unsigned long)n :
	    100000000;
	if (per < 1) {
		per = 1;
	}
	base = total_msgs(n);
	for (i = 0; i < n; i++) {
		cl[i].sent = 0;
	}
	mark_now(&m);
	deadline = m.wall + opt.limit_s;
	{
		unsigned long *got0 = xcalloc((size_t)n, sizeof(*got0));
		unsigned long sent = 0;
		double stop = m.wall + opt.run_s;
		int stopped = 0;

		for (i = 0; i < n; i++) {
			got0[i] = cl[i].msgs;
		}
		do {
			check_time(deadline, "1:1 messages");
			if (!stopped && bench_now_s() > stop) {
				stopped = 1;
			}
			for (i = 0; i < n && !stopped; i++) {
				struct client *c = &cl[i], *peer = &cl[i ^ 1];

				while (c->sent < per && c->sent <
				    peer->msgs - got0[i ^ 1] + WINDOW) {
					put_msg(c, peer->jid, "chat");
				}
				client_flush(c);
			}
			pump(10);
			if (failures > 0) {
				die("a connection failed");
			}
			for (sent = 0, i = 0; i < n; i++) {
				sent += cl[i].sent;
			}
			want = base + sent;
		} while (!stopped || total_msgs(n) < want);
		free(got0);
		per = sent;
	}
	report("msg", &m, (double)per, 1e9, "ns/message", NULL);
}

static void
run_register(void)
{
	double deadline = bench_now_s() + opt.limit_s;
	int next = 0, i;

	opt.tr = T_PLAIN;
	alloc_clients(opt.conc);
	while (logins_done < (unsigned long)opt.n) {
		check_time(deadline, "registration");
		for (i = 0; i < opt.conc && next < opt.n; i++) {
			if (cl[i].state == S_FREE) {
				if (client_open(&cl[i], next++) != 0) {
					die("connect failed");
				}
			}
		}
		pump(100);
		if (failures > 0) {
			die("a registration failed");
		}
	}
	printf("registered %d accounts %s0..%s%d\n", opt.n, opt.prefix,
	    opt.prefix, opt.n - 1);
}

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "H:p:t:d:m:u:w:n:c:k:T:D:M:S:")) != -1) {
		switch (ch) {
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 't':
			opt.tr = strcmp(optarg, "tls") == 0 ? T_TLS :
			    strcmp(optarg, "starttls") == 0 ? T_STARTTLS :
			    T_PLAIN;
			break;
		case 'd': opt.domain = optarg; break;
		case 'm': opt.muc = optarg; break;
		case 'u': opt.prefix = optarg; break;
		case 'w': opt.password = optarg; break;
		case 'n': opt.n = atoi(optarg); break;
		case 'c': opt.conc = atoi(optarg); break;
		case 'k': opt.server_pid = atoi(optarg); break;
		case 'T': opt.limit_s = atof(optarg); break;
		case 'D': opt.run_s = atof(optarg); break;
		case 'M': opt.msgs = atol(optarg); break;
		case 'S': opt.srcs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: load [-H host] [-p port] [-t "
			    "plain|starttls|tls] [-d domain] [-m muc] [-u "
			    "prefix] [-w password] [-n N] [-c C] [-k pid] "
			    "[-T s] [-D s] [-M count] [-S k] idle|login|muc|msg|"
			    "register\n");
			return 2;
		}
	}
	if (optind >= argc || opt.n < 1 || opt.conc < 1 || opt.srcs < 1 ||
	    opt.srcs > 21) {
		die("a workload (idle login muc msg register), -n >= 1, "
		    "-c >= 1, -S 1..21");
	}
	if (strcmp(argv[optind], "idle") == 0) {
		opt.wl = W_IDLE;
	} else if (strcmp(argv[optind], "login") == 0) {
		opt.wl = W_LOGIN;
	} else if (strcmp(argv[optind], "muc") == 0) {
		opt.wl = W_MUC;
	} else if (strcmp(argv[optind], "msg") == 0) {
		opt.wl = W_MSG;
	} else if (strcmp(argv[optind], "register") == 0) {
		opt.wl = W_REGISTER;
	} else {
		die("unknown workload");
	}
	signal(SIGPIPE, SIG_IGN);
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	scram_cache = xcalloc(SCRAM_CACHE, sizeof(*scram_cache));
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		die("epoll_create1");
	}
	switch (opt.wl) {
	case W_IDLE: run_idle(); break;
	case W_LOGIN: run_login(); break;
	case W_MUC: run_muc(); break;
	case W_MSG: run_msg(); break;
	case W_REGISTER: run_register(); break;
	}
	return 0;
}
