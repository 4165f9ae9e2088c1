/*
 * test_upload.c - XEP-0363 slots (upload.c): the request checks, the
 * signed PUT URL and what spoils it (another slot, size, type, name,
 * expiry, Authorization), the GET lookup before and after the upload,
 * file expiry, the quota, and the secret kept across restarts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "store.h"
#include "upload.h"
#include "tests/fake_reactor.h"	/* server.h, for the router upload.c uses */

#define BASE	"https://files.example:5281/up"
#define NOW	1800000000

static char datadir[64];

static int
load_config(const char *extra)
{
	char conf[128], err[600];
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/uxmppd.conf", datadir);
	fp = fopen(conf, "w");
	if (fp == NULL) {
		return -1;
	}
	fprintf(fp, "data_dir = %s\nstore_sync = none\nhttp_upload = yes\n"
	    "http_upload_url = " BASE "/\nhttp_upload_max_bytes = 1000\n"
	    "http_upload_quota_bytes = 1500\n"
	    "http_upload_allowed_types = text/plain image/*\n%s",
	    datadir, extra);
	fclose(fp);
	if (config_load(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/* The path of url after BASE's authority: "/up/...". */
static const char *
path_of(const char *url)
{
	return url + strlen("https://files.example:5281");
}

/* The path of url into out (UPLOAD_URL_MAX bytes). */
static void
copy_path(char *out, const char *url)
{
	const char *p = path_of(url);
	size_t n = strlen(p);

	if (n >= UPLOAD_URL_MAX) {
		n = UPLOAD_URL_MAX - 1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
test_requests(void)
{
	struct upload_slot s;

	CHECK(upload_slot_new("a@localhost", "a/b", "5", NULL, NOW, &s) ==
	    UPLOAD_ERR_FILENAME);
	CHECK(upload_slot_new("a@localhost", "", "5", NULL, NOW, &s) ==
	    UPLOAD_ERR_FILENAME);
	CHECK(upload_slot_new("a@localhost", NULL, "5", NULL, NOW, &s) ==
	    UPLOAD_ERR_FILENAME);
	CHECK(upload_slot_new("a@localhost", "..", "5", NULL, NOW, &s) ==
	    UPLOAD_ERR_FILENAME);
	CHECK(upload_slot_new("a@localhost", "a\tb", "5", NULL, NOW, &s) ==
	    UPLOAD_ERR_FILENAME);
	CHECK(upload_slot_new("a@localhost", "x.txt", "-1000", "text/plain",
	    NOW, &s) == UPLOAD_ERR_SIZE);
	CHECK(upload_slot_new("a@localhost", "x.txt", "12abc", "text/plain",
	    NOW, &s) == UPLOAD_ERR_SIZE);
	CHECK(upload_slot_new("a@localhost", "x.txt", NULL, "text/plain",
	    NOW, &s) == UPLOAD_ERR_SIZE);
	CHECK(upload_slot_new("a@localhost", "x.txt", "1001", "text/plain",
	    NOW, &s) == UPLOAD_ERR_TOO_LARGE);
	CHECK(upload_slot_new("a@localhost", "x.exe", "10",
	    "application/x-executable", NOW, &s) ==
	    UPLOAD_ERR_TYPE_NOT_ALLOWED);
	/* no content-type: application/octet-stream, not allowed here */
	CHECK(upload_slot_new("a@localhost", "x.bin", "10", NULL, NOW, &s) ==
	    UPLOAD_ERR_TYPE_NOT_ALLOWED);
	CHECK(upload_slot_new("a@localhost", "x.txt", "10", "plain", NOW,
	    &s) == UPLOAD_ERR_TYPE);
	CHECK(upload_slot_new("a@localhost", "x.png", "10", "IMAGE/PNG", NOW,
	    &s) == UPLOAD_OK);
	CHECK(upload_slot_new("a@localhost", "x.txt", "0",
	    "text/plain; charset=utf-8", NOW, &s) == UPLOAD_OK);
	CHECK(upload_slot_new("a@localhost", "x.txt", "5", "textual/plain",
	    NOW, &s) == UPLOAD_ERR_TYPE_NOT_ALLOWED);
	/* a store that cannot write: resource-constraint, no slot */
	store_test_refuse_changes(1);
	CHECK(upload_slot_new("a@localhost", "x.txt", "5", "text/plain", NOW,
	    &s) == UPLOAD_ERR_STORE);
	store_test_refuse_changes(0);
}

static void
test_put_get(void)
{
	struct upload_slot s;
	struct upload_put put;
	struct upload_file file;
	char path[UPLOAD_URL_MAX], get_path[UPLOAD_URL_MAX], *p;
	FILE *fp;

	CHECK(upload_slot_new("a@localhost", "my file é.txt", "5",
	    "text/plain", NOW, &s) == UPLOAD_OK);
	CHECK(strncmp(s.get_url, BASE "/", strlen(BASE) + 1) == 0);
	CHECK(strstr(s.get_url, "/my%20file%20%C3%A9.txt") != NULL);
	CHECK(strstr(s.put_url, s.id) != NULL);
	CHECK(strncmp(s.authorization, "Bearer ", 7) == 0);
	CHECK_STR(upload_path_prefix(), "/up");
	copy_path(path, s.put_url);
	copy_path(get_path, s.get_url);

	/* the PUT as signed, with or without the header */
	CHECK(upload_put_check(path, 5, "text/plain", NULL, NOW, &put) == 0);
	CHECK(upload_put_check(path, 5, "text/plain", s.authorization,
	    NOW + 300, &put) == 0);
	CHECK_STR(put.slot, s.id);
	CHECK(put.size == 5);
	CHECK(strstr(put.file_path, "/upload/") != NULL);
	CHECK(strstr(put.part_path, ".part") != NULL);

	/* what spoils it */
	CHECK(upload_put_check(path, 5, "text/plain", NULL, NOW + 301,
	    &put) == 403);
	CHECK(upload_put_check(path, 6, "text/plain", NULL, NOW, &put) ==
	    413);
	CHECK(upload_put_check(path, 4, "text/plain", NULL, NOW, &put) ==
	    400);
	CHECK(upload_put_check(path, 5, "image/png", NULL, NOW, &put) ==
	    400);
	CHECK(upload_put_check(path, 5, NULL, NULL, NOW, &put) == 400);
	CHECK(upload_put_check(path, 5, "text/plain", "Bearer nope", NOW,
	    &put) == 403);
	CHECK(upload_put_check(get_path, 5, "text/plain", NULL, NOW,
	    &put) == 403);
	CHECK(upload_put_check("/elsewhere/x/y", 5, "text/plain", NULL, NOW,
	    &put) == 404);
	/* another name, a changed signature, a later expiry */
	p = strrchr(path, '/');
	snprintf(p, sizeof(path) - (size_t)(p - path), "/other.txt");
	CHECK(upload_put_check(path, 5, "text/plain", NULL, NOW, &put) ==
	    404);
	copy_path(path, s.put_url);
	p = strchr(path + strlen("/up/"), '/') - 1;
	*p = *p == '0' ? '1' : '0';
	CHECK(upload_put_check(path, 5, "text/plain", NULL, NOW, &put) ==
	    403);
	copy_path(path, s.put_url);
	p = strchr(path, '.');
	p[10] = p[10] == '9' ? '8' : '9';
	CHECK(upload_put_check(path, 5, "text/plain", NULL, NOW, &put) ==
	    403);
	copy_path(path, s.put_url);

	/* not served before the upload completes */
	CHECK(upload_get_lookup(get_path, NOW, &file) == 404);
	fp = fopen(put.file_path, "w");
	CHECK(fp != NULL);
	if (fp != NULL) {
		fputs("hello", fp);
		fclose(fp);
	}
	CHECK(upload_put_done(s.id, NOW + 10) == 0);
	CHECK(upload_put_done(s.id, NOW + 10) == -1);
	CHECK(upload_put_check(path, 5, "text/plain", NULL, NOW, &put) ==
	    409);
	CHECK(upload_get_lookup(get_path, NOW + 20, &file) == 0);
	CHECK(file.size == 5);
	CHECK_STR(file.type, "text/plain");
	CHECK_STR(file.path, put.file_path);
	CHECK(upload_get_lookup(path, NOW + 20, &file) == 404);
	p = strrchr(get_path, '/');
	CHECK(p != NULL);
	/* a day early it is there; at two days (the config's) it is gone */
	CHECK(upload_get_lookup(get_path, NOW + 10 + 86400, &file) == 0);
	CHECK(upload_get_lookup(get_path, NOW + 10 + 2 * 86400, &file) ==
	    404);
	CHECK(access(put.file_path, F_OK) == 0);
	CHECK(upload_expire(NOW + 10 + 2 * 86400) >= 1);
	CHECK(access(put.file_path, F_OK) != 0);
	CHECK(upload_usage("a@localhost", NOW + 10 + 2 * 86400) == 0);
}

static void
test_quota(void)
{
	struct upload_slot s;
	time_t t = NOW + 10 * 86400;

	CHECK(upload_usage("q@localhost", t) == 0);
	CHECK(upload_slot_new("q@localhost", "a.txt", "1000", "text/plain", t,
	    &s) == UPLOAD_OK);
	CHECK(upload_usage("q@localhost", t) == 1000);
	CHECK(upload_slot_new("q@localhost", "b.txt", "500", "text/plain", t,
	    &s) == UPLOAD_OK);
	CHECK(upload_slot_new("q@localhost", "c.txt", "1", "text/plain", t,
	    &s) == UPLOAD_ERR_QUOTA);
	/* another user has a quota of its own */
	CHECK(upload_slot_new("r@localhost", "c.txt", "1", "text/plain", t,
	    &s) == UPLOAD_OK);
	/* unused slots give their bytes back when their PUT URL expires */
	CHECK(upload_slot_new("q@localhost", "c.txt", "1", "text/plain",
	    t + 301, &s) == UPLOAD_OK);
	CHECK(upload_usage("q@localhost", t + 301) == 1);
}

/* A deleted account's slots and files go. */
static void
test_account_removed(void)
{
	struct upload_slot s, keep;
	struct upload_put put;
	FILE *fp;

	CHECK(upload_slot_new("gone@localhost", "g.txt", "2", "text/plain",
	    NOW, &s) == UPLOAD_OK);
	CHECK(upload_slot_new("stays@localhost", "k.txt", "2", "text/plain",
	    NOW, &keep) == UPLOAD_OK);
	CHECK(upload_put_check(path_of(s.put_url), 2, "text/plain", NULL, NOW,
	    &put) == 0);
	fp = fopen(put.file_path, "w");
	if (fp != NULL) {
		fputs("hi", fp);
		fclose(fp);
	}
	CHECK(upload_put_done(s.id, NOW) == 0);
	upload_account_removed("gone@localhost");
	CHECK(access(put.file_path, F_OK) != 0);
	CHECK(upload_usage("gone@localhost", NOW) == 0);
	CHECK(upload_usage("stays@localhost", NOW) == 2);
}

/* PUTs under way: one per slot (409), at most http_upload_max_concurrent
 * (503), and not swept when their URL expires meanwhile. */
static void
test_busy(void)
{
	struct upload_slot s, more[DEFAULT_HTTP_UPLOAD_MAX_CONCURRENT];
	struct upload_put put;
	char name[32];
	time_t t = NOW + 20 * 86400;
	int i;

	CHECK(upload_slot_new("b@localhost", "b.txt", "2", "text/plain", t,
	    &s) == UPLOAD_OK);
	CHECK(upload_put_check(path_of(s.put_url), 2, "text/plain", NULL, t,
	    &put) == 0);
	CHECK(upload_put_begin(s.id) == 0);
	CHECK(upload_put_begin(s.id) == 409);
	for (i = 1; i < DEFAULT_HTTP_UPLOAD_MAX_CONCURRENT; i++) {
		snprintf(name, sizeof(name), "m%d.txt", i);
		CHECK(upload_slot_new("b@localhost", name, "1", "text/plain",
		    t, &more[i]) == UPLOAD_OK);
		CHECK(upload_put_begin(more[i].id) == 0);
	}
	CHECK(upload_slot_new("b@localhost", "last.txt", "1", "text/plain", t,
	    &more[0]) == UPLOAD_OK);
	CHECK(upload_put_begin(more[0].id) == 503);
	for (i = 1; i < DEFAULT_HTTP_UPLOAD_MAX_CONCURRENT; i++) {
		upload_put_end(more[i].id);
	}
	CHECK(upload_put_begin(more[0].id) == 0);
	upload_put_end(more[0].id);
	/* the URL expires during the PUT: the slot stays until it ends */
	CHECK(upload_expire(t + 1000) >= DEFAULT_HTTP_UPLOAD_MAX_CONCURRENT);
	CHECK(upload_put_done(s.id, t + 1000) == 0);
	upload_put_end(s.id);
	CHECK(upload_usage("b@localhost", t + 1000) == 2);
}

/* The reactor's tick sweeps once UPLOAD_SWEEP_S have passed. */
static void
test_tick(void)
{
	struct upload_slot s;
	struct upload_put put;
	time_t t = NOW + 30 * 86400, gone = t + 2 * 86400;
	FILE *fp;

	CHECK(upload_slot_new("t@localhost", "t.txt", "2", "text/plain", t,
	    &s) == UPLOAD_OK);
	CHECK(upload_put_check(path_of(s.put_url), 2, "text/plain", NULL, t,
	    &put) == 0);
	fp = fopen(put.file_path, "w");
	if (fp != NULL) {
		fputs("hi", fp);
		fclose(fp);
	}
	CHECK(upload_put_done(s.id, t) == 0);
	upload_expire(gone - 1);	/* the last sweep, just before */
	upload_tick(gone + UPLOAD_SWEEP_S - 2);
	CHECK(access(put.file_path, F_OK) == 0);
	upload_tick(gone + UPLOAD_SWEEP_S);
	CHECK(access(put.file_path, F_OK) != 0);
	CHECK(upload_usage("t@localhost", gone) == 0);
}

/* The secret outlives a restart: an old URL still verifies. */
static void
test_restart(void)
{
	struct upload_slot s;
	struct upload_put put;
	char err[600], secret_path[128];
	struct stat st;

	CHECK(upload_slot_new("a@localhost", "r.txt", "3", "text/plain", NOW,
	    &s) == UPLOAD_OK);
	upload_shutdown();
	store_close();
	CHECK(store_open(datadir, STORE_SYNC_NONE, 0, err, sizeof(err)) == 0);
	CHECK(upload_init() == 0);
	CHECK(upload_put_check(path_of(s.put_url), 3, "text/plain", NULL,
	    NOW, &put) == 0);
	snprintf(secret_path, sizeof(secret_path), "%s/upload-secret",
	    datadir);
	CHECK(stat(secret_path, &st) == 0 && (st.st_mode & 077) == 0);
}

int
main(void)
{
	char cmd[128], err[600];

	snprintf(datadir, sizeof(datadir), "/tmp/uxmppd-test-upload.XXXXXX");
	if (mkdtemp(datadir) == NULL) {
		return 1;
	}
	if (load_config("http_upload_expire_days = 2\n") != 0) {
		return 1;
	}
	log_open(NULL, LOG_LEVEL_ERR);
	if (store_open(datadir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK(upload_init() == 0);
	test_requests();
	test_put_get();
	test_quota();
	test_account_removed();
	test_busy();
	test_tick();
	test_restart();
	upload_shutdown();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", datadir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", datadir);
	}
	return check_summary("upload");
}
