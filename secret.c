/*
 * secret.c - random secrets in data_dir, read at start, made once.
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "tls.h"

static int
secret_read(int fd, const char *path, unsigned char *out, size_t len,
    char *err, size_t errlen)
{
	char hex[2 * SECRET_MAX_LEN + 2];
	ssize_t n;
	size_t i;
	int rc = -1;

	do {
		n = read(fd, hex, 2 * len + 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((size_t)n < 2 * len) {
		snprintf(err, errlen, "%s: too short", path);
		goto out;
	}
	for (i = 0; i < len; i++) {
		int hi = hex_digit_value((unsigned char)hex[2 * i]);
		int lo = hex_digit_value((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "%s: not hex", path);
			goto out;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	rc = 0;
out:
	tls_zeroize(hex, sizeof(hex));
	return rc;
}

/* Write all of data to fd, retrying short writes and EINTR. */
static int
write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
secret_make(const char *dir, const char *path, unsigned char *out,
    size_t len, char *err, size_t errlen)
{
	char tmp[600], hex[2 * SECRET_MAX_LEN + 2];
	int fd = -1, dfd = -1, rc = -1;

	if (tls_random(out, len) != 0) {
		snprintf(err, errlen, "%s: no random bytes", path);
		return -1;
	}
	hex_encode(out, len, hex);
	hex[2 * len] = '\n';
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		goto out;
	}
	/* a leftover tmp from a crash is just overwritten */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 ||
	    write_all(fd, hex, 2 * len + 1) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	/* the rename is durable only once the directory is synced */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		snprintf(err, errlen, "cannot sync %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (dfd >= 0) {
		close(dfd);
	}
	if (fd >= 0) {
		close(fd);
	}
	if (rc != 0) {
		unlink(tmp);
		tls_zeroize(out, len);
	}
	tls_zeroize(hex, sizeof(hex));
	return rc;
}

int
secret_load(const char *dir, const char *name, unsigned char *out,
    size_t len, char *err, size_t errlen)
{
	char path[600];
	int fd, rc;

	if (len == 0 || len > SECRET_MAX_LEN ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s/%s: bad secret file", dir, name);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		rc = secret_read(fd, path, out, len, err, errlen);
		close(fd);
		return rc;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return secret_make(dir, path, out, len, err, errlen);
}
