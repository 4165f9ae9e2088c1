/*
 * ws.h - the WebSocket protocol, server side (RFC 6455): the opening
 * handshake's accept value and an incremental frame parser for what a
 * client sends, and framing of what the server sends.  No socket here:
 * c2s_ws.c runs XMPP (RFC 7395) over it.
 *
 * The parser takes any chunk size and reassembles fragmented messages.
 * It enforces what §5 requires of a client's frames (masking, no RSV
 * bits, known opcodes, short unfragmented control frames, continuation
 * only inside a message, valid UTF-8 text, a well-formed close) and a
 * message size limit; each violation is an error carrying the close code
 * to send (§7.4.1).
 */
#ifndef UXMPPD_WS_H
#define UXMPPD_WS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WS_OP_CONT	0x0
#define WS_OP_TEXT	0x1
#define WS_OP_BINARY	0x2
#define WS_OP_CLOSE	0x8
#define WS_OP_PING	0x9
#define WS_OP_PONG	0xa

/* Close codes (§7.4.1). */
#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_UNSUPPORTED	1003
#define WS_CLOSE_NO_STATUS	1005	/* never sent */
#define WS_CLOSE_BAD_DATA	1007
#define WS_CLOSE_POLICY		1008
#define WS_CLOSE_TOO_BIG	1009

/* ws_feed() results. */
#define WS_OK		0
#define WS_STOPPED	1	/* a callback asked to stop */
#define WS_E_PROTOCOL	(-1)	/* close with 1002 */
#define WS_E_TOO_BIG	(-2)	/* 1009 */
#define WS_E_UTF8	(-3)	/* 1007 */

/* Returning non-zero stops ws_feed() after the frame (WS_STOPPED). */
struct ws_callbacks {
	/* A whole text or binary message, unmasked; borrowed, valid
	 * during the call. */
	int	(*on_message)(void *ud, int opcode, const char *data,
		    size_t len);
	/* A control frame: WS_OP_PING/PONG with its payload (code 0), or
	 * WS_OP_CLOSE with code (WS_CLOSE_NO_STATUS when absent) and the
	 * reason as data. */
	int	(*on_control)(void *ud, int opcode, unsigned code,
		    const char *data, size_t len);
};

struct ws_parser;

/* max_message: bytes of one (reassembled) message.  Caller frees with
 * ws_parser_free(). */
struct ws_parser *ws_parser_new(size_t max_message,
	    const struct ws_callbacks *cb, void *ud);
void	ws_parser_free(struct ws_parser *p);
/* Parse len bytes; *used gets how many were consumed (all of them unless
 * WS_STOPPED or an error).  Errors are sticky. */
int	ws_feed(struct ws_parser *p, const char *data, size_t len,
	    size_t *used);
/* The close code for a WS_E_* error. */
unsigned ws_error_close_code(int err);

/* Append one unmasked, unfragmented frame (server to client). */
void	ws_frame(struct buf *out, int opcode, const void *data, size_t len);
/* The header alone of an unmasked final frame of len bytes into h; its
 * length. */
#define WS_MAX_HEADER	10
size_t	ws_frame_header(unsigned char h[WS_MAX_HEADER], int opcode, size_t len);
/* Append a close frame with code and a short reason (may be NULL). */
void	ws_frame_close(struct buf *out, unsigned code, const char *reason);
/*
 * Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2): base64 of the
 * SHA-1 of key + the protocol's GUID, into out (at least 29 bytes).
 * 0, or -1 when key is not the base64 of 16 bytes.
 */
int	ws_accept_key(const char *key, char out[29]);
/* Is data[0..len) valid UTF-8 (RFC 3629: no overlongs, no surrogates)? */
int	ws_utf8_valid(const char *data, size_t len);

#endif
