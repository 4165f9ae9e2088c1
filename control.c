/*
 * control.c - account administration requests: parsed and run here, and
 * carried over a UNIX socket when a server is running (control.h).
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "invite.h"
#include "jid.h"
#include "log.h"
#include "services.h"
#include "store.h"
#include "tls.h"

int
control_path(const char *data_dir, char *out, size_t cap)
{
	struct sockaddr_un sun;
	size_t need = (size_t)snprintf(out, cap, "%s/%s", data_dir,
	    CONTROL_SOCKET_NAME);

	return need >= cap || need >= sizeof(sun.sun_path) ? -1 : 0;
}

static int
control_addr(const char *data_dir, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	return control_path(data_dir, sun->sun_path, sizeof(sun->sun_path));
}

int
control_listen(const char *data_dir)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (control_addr(data_dir, &sun) != 0) {
		log_warn("control socket: path under %s too long; account "
		    "commands need the server stopped", data_dir);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	/* We hold the store lock: a socket file left there is stale. */
	unlink(sun.sun_path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 16) != 0) {
		umask(old);
		log_warn_errno("control socket %s", sun.sun_path);
		close(fd);
		return -1;
	}
	umask(old);
	chmod(sun.sun_path, 0600);
	return fd;
}

/* The canonical bare JID of a local account, or -1 with a reason. */
static int
account_jid(const char *arg, char *out, size_t cap, const char **why)
{
	char dom[JID_MAX + 1];

	if (jid_canon(arg, out, cap) != 0 || jid_resource(out) != NULL ||
	    strchr(out, '@') == NULL) {
		*why = "not a valid account JID";
		return -1;
	}
	if (jid_domain(out, dom, sizeof(dom)) != 0 ||
	    strcmp(dom, config_get()->domain) != 0) {
		*why = "not on this server's domain";
		return -1;
	}
	return 0;
}

/*
 * The invitation commands (invite.h), each answered with one "ok" line
 * and, for a list, the invites after it:
 *   invite<TAB>INVITER|-<TAB>USERNAME|-<TAB>TTL_S<TAB>0|1  -> ok TOKEN URI
 *   invite-list<TAB>-                                   -> ok N, N lines
 *   invite-revoke<TAB>TOKEN                             -> ok
 */
static void
control_invite(const char *cmd, char *arg, char *reply, size_t cap)
{
	char *f[4], token[INVITE_TOKEN_LEN + 1], inviter[JID_MAX + 1];
	char local[JID_PART_MAX + 1], uri[JID_MAX + 128];
	const char *why = NULL;
	struct invite inv;
	size_t i, n;
	long ttl;

	if (strcmp(cmd, "invite-list") == 0) {
		char *list = xmalloc(cap);

		n = invite_list(list, cap);
		snprintf(reply, cap, "ok %zu\n%s", n, list);
		free(list);
		return;
	}
	if (strcmp(cmd, "invite-revoke") == 0) {
		if (invite_revoke(arg) != 0) {
			snprintf(reply, cap, "error no such invite: %s\n", arg);
		} else if (store_flush() != 0) {
			snprintf(reply, cap, "error could not store the "
			    "change\n");
		} else {
			log_info("control: invite revoked");
			snprintf(reply, cap, "ok\n");
		}
		return;
	}
	f[0] = arg;
	for (i = 1; i < 4; i++) {
		f[i] = f[i - 1] != NULL ? strchr(f[i - 1], '\t') : NULL;
		if (f[i] != NULL) {
			*f[i]++ = '\0';
		}
	}
	if (f[3] == NULL || invite_parse_duration(f[2], &ttl) != 0) {
		snprintf(reply, cap, "error malformed invite request\n");
		return;
	}
	if (strcmp(f[0], "-") != 0) {
		if (account_jid(f[0], inviter, sizeof(inviter), &why) != 0) {
			snprintf(reply, cap, "error %s: %s\n", why, f[0]);
			return;
		}
		if (!account_exists(inviter)) {
			snprintf(reply, cap, "error no such account: %s\n",
			    inviter);
			return;
		}
	}
	if (strcmp(f[1], "-") != 0 &&
	    jid_local_canon(f[1], local, sizeof(local)) != 0) {
		snprintf(reply, cap, "error not a valid username: %s\n", f[1]);
		return;
	}
	if (strcmp(f[1], "-") != 0) {
		snprintf(uri, sizeof(uri), "%s@%s", local,
		    config_get()->domain);
		if (account_exists(uri)) {
			snprintf(reply, cap, "error account exists: %s\n", uri);
			return;
		}
	}
	if (invite_create(strcmp(f[0], "-") != 0 ? inviter : NULL,
	    strcmp(f[1], "-") != 0 ? local : NULL, strcmp(f[3], "1") == 0,
	    ttl, token, sizeof(token)) != 0 || store_flush() != 0 ||
	    invite_get(token, &inv) != 0) {
		snprintf(reply, cap, "error could not store the invite\n");
		return;
	}
	invite_uri(token, &inv, uri, sizeof(uri));
	log_info("control: invite created%s%s", inv.inviter[0] ?
	    " by " : "", inv.inviter);
	snprintf(reply, cap, "ok %s %lld %s\n", token,
	    (long long)inv.expires, uri);
}

void
control_execute(const char *request, char *reply, size_t cap)
{
	char buf[CONTROL_MAX_REQUEST + 1], jid[JID_MAX + 1];
	char *cmd, *arg, *password, *nl;
	const char *why = NULL;
	int rc;

	if (strlen(request) > CONTROL_MAX_REQUEST) {
		snprintf(reply, cap, "error request too long\n");
		return;
	}
	snprintf(buf, sizeof(buf), "%s", request);
	nl = strchr(buf, '\n');
	if (nl != NULL) {
		*nl = '\0';
	}
	cmd = buf;
	arg = strchr(cmd, '\t');
	if (arg == NULL) {
		snprintf(reply, cap, "error malformed request\n");
		return;
	}
	*arg++ = '\0';
	if (strncmp(cmd, "invite", 6) == 0) {
		control_invite(cmd, arg, reply, cap);
		goto out;
	}
	password = strchr(arg, '\t');
	if (password != NULL) {
		*password++ = '\0';
	}
	if (account_jid(arg, jid, sizeof(jid), &why) != 0) {
		snprintf(reply, cap, "error %s: %s\n", why, arg);
		goto out;
	}
	if (strcmp(cmd, "adduser") == 0 || strcmp(cmd, "passwd") == 0) {
		if (password == NULL || *password == '\0') {
			snprintf(reply, cap, "error empty password\n");
			goto out;
		}
		if (strcmp(cmd, "adduser") == 0 && account_exists(jid)) {
			snprintf(reply, cap, "error account exists: %s\n", jid);
			goto out;
		}
		if (strcmp(cmd, "passwd") == 0 && !account_exists(jid)) {
			snprintf(reply, cap, "error no such account: %s\n", jid);
			goto out;
		}
		rc = strcmp(cmd, "adduser") == 0 ?
		    account_create(jid, password) :
		    account_set_password(jid, password);
	} else if (strcmp(cmd, "deluser") == 0) {
		if (!account_exists(jid)) {
			snprintf(reply, cap, "error no such account: %s\n", jid);
			goto out;
		}
		rc = services_delete_account(jid);
	} else {
		snprintf(reply, cap, "error unknown command: %s\n", cmd);
		goto out;
	}
	/* the answer is an acknowledgement: durable first */
	if (rc != 0 || store_flush() != 0) {
		snprintf(reply, cap, "error could not store the change\n");
		goto out;
	}
	log_info("control: %s %s", cmd, jid);
	snprintf(reply, cap, "ok\n");
out:
	tls_zeroize(buf, sizeof(buf));
}

int
control_request(const char *data_dir, const char *request, char *reply,
    size_t cap, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	size_t len = strlen(request), done = 0;
	ssize_t n;
	int fd;

	if (control_addr(data_dir, &sun) != 0) {
		return 0;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		/* no server there (or a stale socket file) */
		close(fd);
		return 0;
	}
	while (done < len) {
		n = write(fd, request + done, len - done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	done = 0;
	while (done + 1 < cap) {
		n = read(fd, reply + done, cap - 1 - done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		done += (size_t)n;
	}
	reply[done] = '\0';
	close(fd);
	if (done == 0) {
		snprintf(err, errlen, "the server closed without answering");
		return -1;
	}
	return 1;
}
