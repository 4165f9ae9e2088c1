/* log.c - levelled one-line logging to stderr or a file. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static FILE *log_fp;
static char log_path[512];
static enum log_level log_max = LOG_LEVEL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Open path for appending (NULL or "" means stderr).  0, or -1 with errno. */
int
log_open(const char *path, enum log_level level)
{
	FILE *fp;

	log_max = level;
	if (path == NULL || *path == '\0') {
		if (log_fp != NULL && log_fp != stderr) {
			fclose(log_fp);
		}
		log_fp = stderr;
		log_path[0] = '\0';
		return 0;
	}
	fp = fopen(path, "a");
	if (fp == NULL) {
		return -1;
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	if (log_fp != NULL && log_fp != stderr) {
		fclose(log_fp);
	}
	log_fp = fp;
	snprintf(log_path, sizeof(log_path), "%s", path);
	return 0;
}

/* Reopen the log file after rotation; keeps the old one on failure. */
void
log_reopen(void)
{
	FILE *fp;

	if (log_path[0] == '\0') {
		return;
	}
	fp = fopen(log_path, "a");
	if (fp == NULL) {
		return;
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	if (log_fp != NULL && log_fp != stderr) {
		fclose(log_fp);
	}
	log_fp = fp;
}

void
log_set_level(enum log_level level)
{
	log_max = level;
}

/* Parse "error", "warn", "info" or "debug".  0, or -1 if unknown. */
int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_enabled(enum log_level level)
{
	return level <= log_max;
}

static void log_vwrite(enum log_level, const char *, va_list, const char *)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap,
    const char *suffix)
{
	int saved = errno;
	FILE *fp = log_fp ? log_fp : stderr;
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if (!log_enabled(level)) {
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(fp, "%s.%03ldZ %s: ", stamp, ts.tv_nsec / 1000000,
	    level_names[level]);
	vfprintf(fp, fmt, ap);
	if (suffix != NULL) {
		fprintf(fp, ": %s", suffix);
	}
	fputc('\n', fp);
	errno = saved;
}

#define LOG_FN(fn, level) \
void \
fn(const char *fmt, ...) \
{ \
	va_list ap; \
	va_start(ap, fmt); \
	log_vwrite(level, fmt, ap, NULL); \
	va_end(ap); \
}

LOG_FN(log_err, LOG_LEVEL_ERR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
log_warn_errno(const char *fmt, ...)
{
	va_list ap;
	const char *why = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, fmt, ap, why);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
