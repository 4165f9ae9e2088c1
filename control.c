/*
 * control.c - account administration requests: parsed and run here, and
 * carried over a UNIX socket when a server is running (control.h).
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
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
