/*
 * server.h - what the reactor offers the per-connection protocol code:
 * queued output, closing, and facts about the transport.
 *
 * Output is queued and written at the end of the reactor turn, after the
 * store has made the turn's changes durable (group commit), so nothing a
 * handler queues can acknowledge a change that is not yet on disk.
 */
#ifndef UXMPPD_SERVER_H
#define UXMPPD_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conn;

/* Queue bytes for the peer.  Past the output cap the connection is closed
 * (the c2s layer is told through c2s_output_overflow()). */
void	conn_write(struct conn *c, const void *data, size_t len);
/* Queue bytes exactly as they go on the wire, past a WebSocket's
 * framing (conn_write frames what c2s writes on a WebSocket). */
void	conn_write_raw(struct conn *c, const void *data, size_t len);
/* Stop reading; close once queued output has drained (or after a short
 * grace period).  reason is logged.  Safe to call more than once. */
void	conn_close(struct conn *c, const char *reason);
/* Connection id for logs. */
unsigned long conn_id(const struct conn *c);
/* Did the peer connect over loopback? */
int	conn_is_loopback(const struct conn *c);
/* Is the transport encrypted (TLS)? */
int	conn_is_encrypted(const struct conn *c);
/* Between <proceed/> (or a direct-TLS accept) and the end of the TLS
 * handshake: nothing may be written in the clear. */
int	conn_tls_handshaking(const struct conn *c);
/* Could STARTTLS start now (a certificate is loaded, no TLS yet)? */
int	conn_tls_available(const struct conn *c);
/*
 * Start TLS once the output queued so far (ending with <proceed/>) has
 * been written in the clear; nothing more is read in the clear.  0, or
 * -1 when TLS is unavailable or already on (RFC 6120 §5.4.2.3).
 */
int	conn_starttls(struct conn *c);
/* The TLS session once its handshake is complete, else NULL (channel
 * binding).  Borrowed, valid while the connection lives. */
struct tls_conn;
struct tls_conn *conn_tls(const struct conn *c);
/* Stop (pause 1) or resume (0) reading from the peer: an HTTP
 * connection streaming a response holds pipelined requests back. */
void	conn_pause_input(struct conn *c, int pause);
/* Hand bytes read earlier and held back while input was paused to the
 * connection's protocol, as if just read. */
void	conn_feed(struct conn *c, const char *data, size_t len);
/* Bytes queued and not yet written. */
size_t	conn_pending(const struct conn *c);
/* The peer's address (ratelimit.h).  Borrowed, valid while c lives. */
struct rl_addr;
const struct rl_addr *conn_addr(const struct conn *c);
/* Stop reading from the peer until server_now_ms() reaches resume_ms
 * (a later time extends a pause); then the stream is told with
 * c2s_resume() and reading goes on.  Input is delayed, never dropped. */
void	conn_pause_input_until(struct conn *c, int64_t resume_ms);
/* The stream authenticated: the connection stops counting against its
 * address's pre-authentication limit (max_preauth_per_ip). */
void	conn_authenticated(struct conn *c);

/*
 * Run the server in the foreground with the loaded configuration: open
 * the log, the store, the MUC service and TLS, then the event loop until
 * SIGTERM.  config_path (may be NULL: the built-in defaults) is read again
 * on SIGHUP.  The exit status; a failed start is fatal().
 */
int	server_main(const char *config_path);
/* The generated certificate's file names in data_dir (cap bytes each). */
void	server_cert_paths(char *cert, char *key, size_t cap);
/* Write a new self-signed certificate for the domain and the MUC domain;
 * fpr receives its SHA-256 fingerprint (TLS_FINGERPRINT_LEN bytes).  0, or
 * -1 with err filled. */
int	server_cert_generate(const char *cert, const char *key, char *fpr,
	    char *err, size_t errlen);

/* Open connections (clients, HTTP, WebSocket). */
size_t	server_conn_count(void);
/* Seconds since the server started (for XEP-0012 uptime). */
time_t	server_uptime(void);
/* Wall clock, refreshed once per reactor turn. */
time_t	server_now(void);
/* A monotonic clock in milliseconds, refreshed once per reactor turn
 * (rate limits). */
int64_t	server_now_ms(void);

#endif
