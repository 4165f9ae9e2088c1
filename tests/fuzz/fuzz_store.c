/*
 * fuzz_store.c - libFuzzer target for the store's replay.
 *
 * The input is written as store.log in a scratch data directory and the
 * store is opened.  Beyond "no crash, no leak": an open that fails leaves
 * the file exactly as it was; an open that succeeds leaves a store that
 * takes a put, compacts and opens again with that put and the same
 * number of records.
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];
static char fz_log[128];
static char fz_tmp[128];

static int
count_cb(void *ud, const char *key, const char *value)
{
	(void)key;
	(void)value;
	(*(size_t *)ud)++;
	return 0;
}

static size_t
count_all(void)
{
	size_t n = 0;

	store_foreach("aff", NULL, count_cb, &n);
	store_foreach("account", NULL, count_cb, &n);
	return n;
}

static void
write_input(const uint8_t *data, size_t size)
{
	int fd = open(fz_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) != 0) {
		abort();
	}
}

/* Is the file still exactly the input? */
static int
unchanged(const uint8_t *data, size_t size)
{
	FILE *f = fopen(fz_log, "rb");
	uint8_t *b;
	size_t got;
	int same;

	if (f == NULL) {
		return 0;
	}
	b = malloc(size + 1);
	if (b == NULL) {
		abort();
	}
	got = fread(b, 1, size + 1, f);
	fclose(f);
	same = got == size && memcmp(b, data, size) == 0;
	free(b);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	size_t before;
	const char *v;

	if (fz_dir[0] == '\0') {
		snprintf(fz_dir, sizeof(fz_dir), "/tmp/fuzz_store.%ld",
		    (long)getpid());
		snprintf(fz_log, sizeof(fz_log), "%s/store.log", fz_dir);
		snprintf(fz_tmp, sizeof(fz_tmp), "%s/store.log.tmp", fz_dir);
		mkdir(fz_dir, 0700);
		log_set_level(LOG_LEVEL_ERR);
	}
	unlink(fz_tmp);
	write_input(data, size);
	if (store_open(fz_dir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		if (!unchanged(data, size)) {
			abort();	/* a refused store is left alone */
		}
		return 0;
	}
	before = count_all();
	if (store_put("account", "fuzz@localhost", "v\t\n\\") != 0 ||
	    store_flush() != 0 || store_compact() != 0) {
		abort();
	}
	store_close();
	if (store_open(fz_dir, STORE_SYNC_NONE, 0, err, sizeof(err)) != 0) {
		abort();	/* what we wrote must open again */
	}
	v = store_get("account", "fuzz@localhost");
	if (v == NULL || strcmp(v, "v\t\n\\") != 0 ||
	    count_all() < before || count_all() > before + 1) {
		abort();
	}
	store_close();
	return 0;
}
