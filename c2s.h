/*
 * c2s.h - client-to-server streams (RFC 6120): stream negotiation, SASL,
 * resource binding, stanza dispatch and local routing (route.h).
 */
#ifndef UXMPPD_C2S_H
#define UXMPPD_C2S_H

#include <stddef.h>

struct conn;
struct c2s;
struct xml_node;

/* Start once at server start, after config and store. */
void	c2s_init(void);
/*
 * Key SCRAM's fake salts for unknown users from a secret in data_dir
 * (made at first start), so that they stay the same across restarts, as
 * real users' salts do (no account enumeration).  Without it the key is
 * random per process.  At start, after c2s_init().  0, or -1 (logged).
 */
#define C2S_FAKE_SALT_FILE	"scram-fake-salt-key"
int	c2s_load_secrets(void);
/* A new client connection.  Caller (server.c) frees with c2s_free(). */
struct c2s *c2s_new(struct conn *c);
/* Refuse the stream: its header is answered with ours and a stream error
 * cond (text may be NULL; both static strings), then the close, as
 * RFC 6120 §4.9.1.1 wants an error sent after the header. */
void	c2s_refuse(struct c2s *s, const char *cond, const char *text);
/* Bytes from the peer. */
void	c2s_input(struct c2s *s, const char *data, size_t len);
/* The peer closed its side (EOF) or the socket failed. */
void	c2s_eof(struct c2s *s);
/* The output queue passed its cap: a stream error, then close. */
void	c2s_output_overflow(struct c2s *s);
/* A pause asked for with conn_pause_input_until() is over: the stream goes on
 * with the input it held back. */
void	c2s_resume(struct c2s *s);
/* Once a second: timeouts. */
void	c2s_tick(struct c2s *s);
/* Server shutting down: <system-shutdown/> and the stream close. */
void	c2s_shutdown(struct c2s *s);
/* Release everything; the session leaves the routing table. */
void	c2s_free(struct c2s *s);


/* ---- for sm.c (XEP-0198 stream management, XEP-0352 CSI) ---- */

/* The session's full JID (NULL before bind).  Borrowed. */
const char *c2s_jid(const struct c2s *s);
/* Write a nonza (not counted, not queued) while the stream is live. */
void	c2s_write_raw(struct c2s *s, const char *data, size_t len);
/* A stream error with an application-specific condition element app_xml
 * (may be NULL) and text (may be NULL), then close. */
void	c2s_stream_error_app(struct c2s *s, const char *cond,
	    const char *app_xml, const char *text);
/* Can s (authenticated, not bound) take over old's session: same user,
 * old still in the routing table and not closed for good? */
int	c2s_can_resume(const struct c2s *old, const struct c2s *s);
/* Resumption: s takes over old's bound session (JID, stream management
 * state, its routing table entry with the presence state route.c keeps;
 * no presence sent).  A hibernating old is freed; a live one gets a
 * <conflict/> stream error. */
void	c2s_adopt(struct c2s *s, struct c2s *old);
/* A hibernating session's window is over: end it for real (unavailable
 * presence, unacked stanzas re-routed) and free it. */
void	c2s_hibernation_end(struct c2s *s);
/* Stanzas from bound clients and to them since start (metrics). */
void	c2s_stanza_counts(unsigned long long *in, unsigned long long *out);

#endif
