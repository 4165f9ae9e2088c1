/*
 * control.h - the local administration socket.  A running server holds
 * the store's lock, so `uxmppd adduser|passwd|deluser` hand their request
 * to it over a UNIX socket in the data directory (mode 0600: only the
 * server's user and root reach it) instead of opening the store.
 *
 * Protocol: one request line "COMMAND<TAB>JID[<TAB>PASSWORD]\n", one
 * answer line "ok\n" or "error REASON\n", then the server closes.  The
 * invite commands (control.c) answer "ok ..." with their data, and
 * "status<TAB>-" (answered by server.c itself: it owns the connections
 * and listeners) "ok\n" then "name: value" lines; answers are at most
 * CONTROL_MAX_REPLY bytes.
 */
#ifndef UXMPPD_CONTROL_H
#define UXMPPD_CONTROL_H

#include <stddef.h>

#include "uxlimits.h"

#define CONTROL_SOCKET_NAME	"uxmppd.sock"

/* The socket's path for data_dir into out; -1 if it does not fit. */
int	control_path(const char *data_dir, char *out, size_t cap);

/* Server side: bind and listen (non-blocking).  Returns the fd, or -1
 * (logged) when the socket cannot be made. */
int	control_listen(const char *data_dir);
/* Server side: run one complete request line (not status); the answer
 * (with its newline) is written to reply.  The store is flushed before
 * an "ok" for a change is produced. */
void	control_execute(const char *request, char *reply, size_t cap);

/*
 * Client side: send a request to the server running on data_dir.
 * Returns 1 with the answer in reply when a server answered, 0 when no
 * server is listening there, -1 on a broken exchange (err says why).
 */
int	control_request(const char *data_dir, const char *request,
	    char *reply, size_t cap, char *err, size_t errlen);

#endif
