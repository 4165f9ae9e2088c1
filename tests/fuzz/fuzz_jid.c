/*
 * fuzz_jid.c - libFuzzer target for jid.c.
 *
 * The input (up to the first NUL) is a JID candidate.  Beyond "no crash,
 * no over-read": jid_canon is idempotent and its output is valid UTF-8
 * whose parts the helpers agree on; a too small output buffer fails
 * cleanly; accepted nicks are copied unchanged and localparts are
 * idempotent too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_canonical(const char *in, const char *out)
{
	char again[JID_MAX + 1], tmp[JID_MAX + 1];
	struct jid_parts p;
	size_t len = strlen(out);
	const char *res;

	if (jid_canon(out, again, sizeof(again)) != 0 ||
	    strcmp(out, again) != 0 || !jid_utf8_valid(out, len) ||
	    jid_split(out, &p) != 0) {
		abort();
	}
	if (jid_bare(out, tmp, sizeof(tmp)) != 0 || !jid_bare_eq(out, tmp) ||
	    strlen(tmp) != jid_bare_len(out) ||
	    jid_canon(tmp, again, sizeof(again)) != 0 ||
	    strcmp(tmp, again) != 0) {
		abort();
	}
	res = jid_resource(out);
	if ((res == NULL) != (p.resource == NULL) ||
	    (res != NULL && strlen(res) != p.resource_len)) {
		abort();
	}
	if (jid_domain(out, tmp, sizeof(tmp)) != 0 ||
	    strlen(tmp) != p.domain_len ||
	    jid_canon(tmp, again, sizeof(again)) != 0 ||
	    strcmp(tmp, again) != 0) {
		abort();
	}
	/* One byte short must fail, not truncate. */
	if (jid_canon(in, tmp, len) != -1) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[JID_MAX + 1], again[JID_MAX + 1];
	struct jid_parts p;
	char *s;

	if (size > 2 * JID_MAX) {
		return 0;
	}
	(void)jid_utf8_valid((const char *)data, size);
	s = malloc(size + 1);
	if (s == NULL) {
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';

	if (jid_split(s, &p) == 0) {
		if (p.domain == NULL || p.domain_len == 0 ||
		    p.domain_len > JID_PART_MAX ||
		    p.local_len > JID_PART_MAX ||
		    p.resource_len > JID_PART_MAX) {
			abort();
		}
	}
	if (jid_canon(s, out, sizeof(out)) == 0) {
		check_canonical(s, out);
	}
	if (jid_local_canon(s, out, sizeof(out)) == 0) {
		if (jid_local_canon(out, again, sizeof(again)) != 0 ||
		    strcmp(out, again) != 0 || strlen(out) != strlen(s)) {
			abort();
		}
	}
	if (jid_nick_canon(s, out, sizeof(out)) == 0) {
		if (strcmp(out, s) != 0 || !jid_utf8_valid(out, strlen(out))) {
			abort();
		}
	}
	free(s);
	return 0;
}
