/*
 * main.c - the command line: options, the configuration check, the
 * account, store and certificate commands, and else the server itself
 * (server_main).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "config.h"
#include "control.h"
#include "invite.h"
#include "log.h"
#include "muc.h"
#include "pep.h"
#include "server.h"
#include "store.h"
#include "tls.h"
#include "version.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: uxmppd [-c FILE] [-t] [COMMAND ARGS] | uxmppd --version\n"
	    "  (no command)              run the server in the foreground\n"
	    "  -t                        check the configuration and exit\n"
	    "  status                    the running server: uptime, version,\n"
	    "                            connections, sessions, rooms, accounts,\n"
	    "                            store size, memory, listeners\n"
	    "  adduser JID [PWFILE]      create an account\n"
	    "  passwd JID [PWFILE]       change an account's password\n"
	    "  deluser JID               delete an account\n"
	    "  invite [--admin] [--expires 7d] [--user NAME] [--username NAME]\n"
	    "                            an invitation URI (XEP-0401): the new\n"
	    "                            account registers with its token;\n"
	    "                            --user: NAME's contact invite (both\n"
	    "                            subscribe); --username: the only name\n"
	    "                            it may register; --admin: the account\n"
	    "                            becomes an administrator\n"
	    "  invite list               the unused, unexpired invitations\n"
	    "  invite revoke TOKEN       cancel an invitation\n"
	    "  store-check               verify the data files\n"
	    "  store-compact             rewrite the data files compactly\n"
	    "  store-dump                print the stored records\n"
	    "  archive-dump JID          print the message archive of an\n"
	    "                            account or room (read-only)\n"
	    "  cert-generate             make a new self-signed certificate in\n"
	    "                            the data directory\n"
	    "The password is read from PWFILE, from a prompt on a terminal,\n"
	    "or as one line from standard input.\n");
	exit(2);
}

/* Read a password: from a file, a terminal prompt (twice), or stdin. */
static int
read_password(const char *file, char *out, size_t cap)
{
	struct termios old, noecho;
	char again[1024];
	FILE *fp;
	size_t n;

	if (file != NULL) {
		fp = fopen(file, "r");
		if (fp == NULL) {
			fprintf(stderr, "uxmppd: %s: %s\n", file,
			    strerror(errno));
			return -1;
		}
		if (fgets(out, (int)cap, fp) == NULL) {
			out[0] = '\0';
		}
		fclose(fp);
	} else if (isatty(STDIN_FILENO)) {
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
		fprintf(stderr, "Password: ");
		if (fgets(out, (int)cap, stdin) == NULL) {
			out[0] = '\0';
		}
		fprintf(stderr, "\nAgain: ");
		if (fgets(again, sizeof(again), stdin) == NULL) {
			again[0] = '\0';
		}
		fprintf(stderr, "\n");
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		if (strcmp(out, again) != 0) {
			fprintf(stderr, "uxmppd: passwords differ\n");
			return -1;
		}
	} else if (fgets(out, (int)cap, stdin) == NULL) {
		out[0] = '\0';
	}
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "uxmppd: empty password\n");
		return -1;
	}
	return 0;
}

static int
open_store_or_die(void)
{
	const struct config *cfg = config_get();
	char err[600];

	if (store_open(cfg->data_dir, STORE_SYNC_ALWAYS, 0, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "uxmppd: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * adduser, passwd, deluser: one request, run by the server when one is
 * running on this data directory (it holds the store), else here on the
 * store opened directly.  Either way control_execute() does the work.
 */
static int
command_account(const char *cmd, int argc, char **argv)
{
	const struct config *cfg = config_get();
	char request[CONTROL_MAX_REQUEST + 1], reply[512], err[600];
	char pw[1024] = "";
	int wants_pw = strcmp(cmd, "deluser") != 0, rc;

	if (argc < 1 || argc > (wants_pw ? 2 : 1)) {
		usage();
	}
	if (wants_pw &&
	    read_password(argc == 2 ? argv[1] : NULL, pw, sizeof(pw)) != 0) {
		return 1;
	}
	if (strchr(argv[0], '\t') != NULL || strchr(pw, '\t') != NULL ||
	    (size_t)snprintf(request, sizeof(request), "%s\t%s%s%s\n", cmd,
	    argv[0], wants_pw ? "\t" : "", pw) >= sizeof(request)) {
		fprintf(stderr, "uxmppd: JID or password not acceptable\n");
		return 1;
	}
	tls_zeroize(pw, sizeof(pw));
	rc = control_request(cfg->data_dir, request, reply, sizeof(reply),
	    err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "uxmppd: the running server: %s\n", err);
		tls_zeroize(request, sizeof(request));
		return 1;
	}
	if (rc == 0) {
		/* no server running: do it on the store ourselves */
		if (open_store_or_die() != 0) {
			tls_zeroize(request, sizeof(request));
			return 1;
		}
		/* deluser deletes the account's archive too */
		if (archive_open(cfg->data_dir, ARCHIVE_SYNC, 0, 0, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "uxmppd: %s\n", err);
			store_close();
			tls_zeroize(request, sizeof(request));
			return 1;
		}
		muc_init();
		pep_init();
		control_execute(request, reply, sizeof(reply));
		pep_shutdown();
		muc_shutdown();
		archive_close();
		store_close();
	}
	tls_zeroize(request, sizeof(request));
	if (strncmp(reply, "ok", 2) != 0) {
		fprintf(stderr, "uxmppd: %s", reply + (strncmp(reply, "error ",
		    6) == 0 ? 6 : 0));
		return 1;
	}
	printf("%s: %s done\n", argv[0], cmd);
	return 0;
}

/*
 * One control request, run by the server on this data directory or, when
 * none is running, here on the store opened directly.  0 with the answer
 * in reply, or -1 (printed).
 */
static int
control_run(const char *request, char *reply, size_t cap)
{
	const struct config *cfg = config_get();
	char err[600];
	int rc;

	rc = control_request(cfg->data_dir, request, reply, cap, err,
	    sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "uxmppd: the running server: %s\n", err);
		return -1;
	}
	if (rc == 0) {
		if (open_store_or_die() != 0) {
			return -1;
		}
		control_execute(request, reply, cap);
		store_close();
	}
	if (strncmp(reply, "ok", 2) != 0) {
		fprintf(stderr, "uxmppd: %s", reply + (strncmp(reply, "error ",
		    6) == 0 ? 6 : 0));
		return -1;
	}
	return 0;
}

/* The URI as a QR code on the terminal, through qrencode when it is
 * installed (exec'd, no shell: the URI is ours but stays an argument). */
static void
show_qr(const char *uri)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		return;
	}
	if (pid == 0) {
		execlp("qrencode", "qrencode", "-t", "UTF8", "-m", "2", uri,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 127) {
		printf("(no QR code: install qrencode to get one here)\n");
	}
}

/* uxmppd invite [options] | invite list | invite revoke TOKEN */
static int
command_invite(int argc, char **argv)
{
	char request[CONTROL_MAX_REQUEST + 1], reply[CONTROL_MAX_REPLY];
	const char *inviter = "-", *username = "-", *expires = "7d";
	char *token, *uri, *nl, when[64];
	time_t expiry;
	long ttl;
	int admin = 0, i;

	if (argc >= 1 && strcmp(argv[0], "list") == 0 && argc == 1) {
		if (control_run("invite-list\t-\n", reply, sizeof(reply)) != 0) {
			return 1;
		}
		/* "ok N\n" then "TOKEN EXPIRES ROLE INVITER USERNAME" lines */
		nl = strchr(reply, '\n');
		if (nl == NULL) {
			fprintf(stderr, "uxmppd: unexpected answer: %s", reply);
			return 1;
		}
		*nl = '\0';
		printf("%s invitation(s)\n%s", reply + 3, nl + 1);
		return 0;
	}
	if (argc >= 1 && strcmp(argv[0], "revoke") == 0) {
		if (argc != 2 || strchr(argv[1], '\t') != NULL ||
		    (size_t)snprintf(request, sizeof(request),
		    "invite-revoke\t%s\n", argv[1]) >= sizeof(request)) {
			usage();
		}
		if (control_run(request, reply, sizeof(reply)) != 0) {
			return 1;
		}
		printf("invitation %s revoked\n", argv[1]);
		return 0;
	}
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--admin") == 0) {
			admin = 1;
		} else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc) {
			expires = argv[++i];
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			inviter = argv[++i];
		} else if (strcmp(argv[i], "--username") == 0 &&
		    i + 1 < argc) {
			username = argv[++i];
		} else {
			usage();
		}
	}
	if (invite_parse_duration(expires, &ttl) != 0) {
		fprintf(stderr, "uxmppd: --expires %s: expected a number "
		    "with d, h, m or s\n", expires);
		return 1;
	}
	/* a bare name for --user is an account on this domain */
	if (strcmp(inviter, "-") != 0 && strchr(inviter, '@') == NULL) {
		static char jid[JID_MAX + 1];

		snprintf(jid, sizeof(jid), "%s@%s", inviter,
		    config_get()->domain);
		inviter = jid;
	}
	if (strchr(inviter, '\t') != NULL || strchr(username, '\t') != NULL ||
	    (size_t)snprintf(request, sizeof(request),
	    "invite\t%s\t%s\t%lds\t%d\n", inviter, username, ttl, admin) >=
	    sizeof(request)) {
		fprintf(stderr, "uxmppd: name not acceptable\n");
		return 1;
	}
	if (control_run(request, reply, sizeof(reply)) != 0) {
		return 1;
	}
	/* "ok TOKEN EXPIRES URI" */
	token = reply + 3;
	uri = strchr(token, ' ');
	uri = uri != NULL ? strchr(uri + 1, ' ') : NULL;
	if (uri == NULL) {
		fprintf(stderr, "uxmppd: unexpected answer: %s", reply);
		return 1;
	}
	expiry = (time_t)strtoll(strchr(token, ' ') + 1, NULL, 10);
	uri++;
	uri[strcspn(uri, "\n")] = '\0';
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&expiry));
	printf("%s\nexpires %s, usable once\n", uri, when);
	if (isatty(STDOUT_FILENO)) {
		show_qr(uri);
	}
	return 0;
}

/* uxmppd status: asked of the running server over its control socket. */
static int
command_status(void)
{
	const struct config *cfg = config_get();
	char reply[CONTROL_MAX_REPLY], err[600];
	int rc = control_request(cfg->data_dir, "status\t-\n", reply,
	    sizeof(reply), err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "uxmppd: the running server: %s\n", err);
		return 1;
	}
	if (rc == 0) {
		fprintf(stderr, "uxmppd: no server running on %s (no answer on "
		    "its control socket)\n", cfg->data_dir);
		return 3;
	}
	if (strncmp(reply, "ok\n", 3) != 0) {
		fprintf(stderr, "uxmppd: %s", reply);
		return 1;
	}
	printf("%s", reply + 3);
	return 0;
}

/* uxmppd cert-generate: a new self-signed certificate in data_dir. */
static int
command_cert_generate(void)
{
	const struct config *cfg = config_get();
	char cert[600], key[600], fpr[TLS_FINGERPRINT_LEN], err[800];

	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "uxmppd: %s: %s\n", cfg->data_dir,
		    strerror(errno));
		return 1;
	}
	server_cert_paths(cert, key, sizeof(cert));
	if (server_cert_generate(cert, key, fpr, err, sizeof(err)) != 0) {
		fprintf(stderr, "uxmppd: %s\n", err);
		return 1;
	}
	printf("certificate %s\nkey %s\nsha256 fingerprint %s\n", cert, key,
	    fpr);
	if (cfg->tls_cert[0] != '\0') {
		printf("note: the configuration uses %s instead\n",
		    cfg->tls_cert);
	}
	return 0;
}

static int
command_run(const char *cmd, int argc, char **argv)
{
	const struct config *cfg = config_get();
	int rc;

	if (strcmp(cmd, "adduser") == 0 || strcmp(cmd, "passwd") == 0 ||
	    strcmp(cmd, "deluser") == 0) {
		return command_account(cmd, argc, argv);
	}
	if (strcmp(cmd, "invite") == 0) {
		return command_invite(argc, argv);
	}
	if (strcmp(cmd, "archive-dump") == 0 && argc == 1) {
		return archive_dump_cmd(cfg->data_dir, argv[0]);
	}
	if (argc != 0) {
		usage();
	}
	if (strcmp(cmd, "status") == 0) {
		return command_status();
	}
	if (strcmp(cmd, "store-check") == 0) {
		rc = store_check_cmd(cfg->data_dir);
		/* and the message archives beside it */
		if (archive_check_cmd(cfg->data_dir) != 0 && rc == 0) {
			rc = 1;
		}
		return rc;
	}
	if (strcmp(cmd, "store-dump") == 0) {
		return store_dump_cmd(cfg->data_dir);
	}
	if (strcmp(cmd, "cert-generate") == 0) {
		return command_cert_generate();
	}
	if (strcmp(cmd, "store-compact") == 0) {
		if (open_store_or_die() != 0) {
			return 1;
		}
		rc = store_compact() == 0 ? 0 : 1;
		store_close();
		if (rc == 0) {
			printf("store compacted\n");
		}
		return rc;
	}
	usage();
	return 2;
}

int
main(int argc, char **argv)
{
	const struct config *cfg;
	const char *config_path = NULL;
	char err[600];
	int opt, check_only = 0;

	if (argc == 2 && (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "-V") == 0)) {
		printf("uxmppd %s\n", UXMPPD_VERSION);
		return 0;
	}
	while ((opt = getopt(argc, argv, "+c:th")) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		default:
			usage();
		}
	}
	if (config_load(config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "uxmppd: %s\n", err);
		return 1;
	}
	cfg = config_get();
	if (check_only) {
		if (cfg->tls_cert[0] != '\0' && tls_server_load(cfg->tls_cert,
		    cfg->tls_key, err, sizeof(err)) != 0) {
			fprintf(stderr, "uxmppd: %s\n", err);
			return 1;
		}
		tls_server_shutdown();
		printf("configuration OK\n");
		return 0;
	}
	if (optind < argc) {
		log_open(NULL, LOG_LEVEL_WARN);
		return command_run(argv[optind], argc - optind - 1,
		    argv + optind + 1);
	}
	return server_main(config_path);
}
