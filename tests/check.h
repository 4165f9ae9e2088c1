/*
 * check.h - the unit tests' assertions.  Each failure prints file:line; a
 * test binary ends with check_summary(), which prints
 * "N passed, N failed" and returns the exit code.
 */
#ifndef UXMPPD_CHECK_H
#define UXMPPD_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
	if (cond) { \
		check_passed++; \
	} else { \
		check_failed++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *check_g_ = (got), *check_w_ = (want); \
	if (check_g_ != NULL && check_w_ != NULL && \
	    strcmp(check_g_, check_w_) == 0) { \
		check_passed++; \
	} else { \
		check_failed++; \
		fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n  got:  %s\n" \
		    "  want: %s\n", __FILE__, __LINE__, #got, \
		    check_g_ ? check_g_ : "(null)", \
		    check_w_ ? check_w_ : "(null)"); \
	} \
} while (0)

static inline int
check_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
