/*
 * log.h - one line per event, levels, stderr or a file.
 * Never log passwords, SASL payloads or message bodies.
 */
#ifndef UXMPPD_LOG_H
#define UXMPPD_LOG_H

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG };

/* Log to path (NULL: stderr) at or below level.  0, or -1 with errno. */
int	log_open(const char *path, enum log_level level);
/* Reopen the log file (SIGHUP, for log rotation). */
void	log_reopen(void);
void	log_set_level(enum log_level level);
int	log_level_parse(const char *s, enum log_level *out);
int	log_enabled(enum log_level level);

void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As log_warn, with ": strerror(errno)" appended. */
void	log_warn_errno(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Startup failures only: log and exit(1). */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
