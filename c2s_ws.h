/*
 * c2s_ws.h - XMPP over WebSocket (RFC 7395): the endpoint at
 * /xmpp-websocket on the HTTP listeners, host-meta pointing at it, and
 * the framing between a WebSocket and the same c2s stream state machine
 * a TCP client gets.
 *
 * c2s.c does not know about WebSocket.  Input: each text message is one
 * element; <open/> becomes the stream header c2s expects (also after
 * SASL, where RFC 7395 §3.5 has a new <open/> instead of a restart),
 * <close/> the stream's end, everything else goes to c2s as it is.
 * Output: what c2s queues is cut into top-level elements, one text
 * message each, the header becoming <open/> and </stream:stream>
 * <close/>, with the namespace declarations a standalone document needs
 * (§3.3.3).
 */
#ifndef UXMPPD_C2S_WS_H
#define UXMPPD_C2S_WS_H

#include <stddef.h>

struct conn;
struct c2s;
struct c2s_ws;

/* Register /xmpp-websocket and its discovery, /.well-known/host-meta
 * and host-meta.json (XEP-0156), with httpd.h (at start). */
void	c2s_ws_init(void);
/* A connection that just switched to WebSocket, with its stream s
 * (both owned by the caller, server.c).  Free with c2s_ws_free(). */
struct c2s_ws *c2s_ws_new(struct conn *c, struct c2s *s);
/* Bytes from the peer: frames. */
void	c2s_ws_input(struct c2s_ws *w, const char *data, size_t len);
/* Bytes c2s queued (conn_write): framed and queued with conn_write_raw. */
void	c2s_ws_output(struct c2s_ws *w, const char *data, size_t len);
/* The connection is closing: the closing handshake's frame, once. */
void	c2s_ws_closing(struct c2s_ws *w);
void	c2s_ws_free(struct c2s_ws *w);

#endif
