/* test_jid.c - JID validation, normalization and helpers. */
#include <string.h>

#include "jid.h"
#include "check.h"

/* jid_canon(in) must give want (NULL: must be rejected). */
static void
canon_is(const char *in, const char *want)
{
	char out[JID_MAX + 1];
	int rc = jid_canon(in, out, sizeof(out));

	if (want == NULL) {
		CHECK(rc == -1);
		CHECK(out[0] == '\0');
		if (rc != -1) {
			fprintf(stderr, "  accepted: \"%s\" -> \"%s\"\n", in,
			    out);
		}
	} else {
		CHECK(rc == 0);
		CHECK_STR(out, want);
		if (rc != 0) {
			fprintf(stderr, "  rejected: \"%s\"\n", in);
		}
	}
}

/* A string of n copies of c (static, rotating). */
static const char *
rep(char c, size_t n)
{
	static char ring[4][4096];
	static int k;
	char *s = ring[k++ & 3];

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_canon_good(void)
{
	char in[4096], want[4096];

	canon_is("localhost", "localhost");
	canon_is("juliet@localhost", "juliet@localhost");
	canon_is("juliet@localhost/balcony", "juliet@localhost/balcony");
	canon_is("JuLiEt@LocalHost/Balcony", "juliet@localhost/Balcony");
	canon_is("juliet@example.com./r", "juliet@example.com/r");
	canon_is("example.com.", "example.com");
	canon_is("room@conference.localhost/Juliet",
	    "room@conference.localhost/Juliet");
	/* The resource keeps everything but controls, incl. '@' and '/'. */
	canon_is("a@b/c/d@e f", "a@b/c/d@e f");
	canon_is("a@b/ spaced ", "a@b/ spaced ");
	canon_is("b/@", "b/@");
	/* Only the first '/' separates; '@' after it is resource. */
	canon_is("b/a@c", "b/a@c");
	/* Non-ASCII: valid UTF-8 kept as is. */
	canon_is("\xc3\xa9lise@localhost/\xf0\x9f\xa4\x96",
	    "\xc3\xa9lise@localhost/\xf0\x9f\xa4\x96");
	canon_is("\xc3\x89LISE@LOCALHOST", "\xc3\x89lise@localhost");
	canon_is("user@m\xc3\xbcnchen.de", "user@m\xc3\xbcnchen.de");
	/* IP literals. */
	canon_is("user@[::1]", "user@[::1]");
	canon_is("user@[2001:DB8::1]/r", "user@[2001:db8::1]/r");
	canon_is("user@127.0.0.1", "user@127.0.0.1");
	/* Allowed localpart punctuation. */
	canon_is("a.b+c_d-e!#$%*=?^`{|}~,;@x", "a.b+c_d-e!#$%*=?^`{|}~,;@x");
	canon_is("under_score.example", "under_score.example");
	canon_is("x1-y2.a-b.c", "x1-y2.a-b.c");
	/* Exactly 1023 bytes per part is fine. */
	snprintf(in, sizeof(in), "%s@%s/%s", rep('a', 1023),
	    "d", rep('r', 1023));
	canon_is(in, in);
	snprintf(in, sizeof(in), "%s", rep('a', 63));
	canon_is(in, in);
	/* A 1023-byte domain of 63-byte labels. */
	in[0] = '\0';
	while (strlen(in) + 64 <= 1023) {
		strcat(in, rep('d', 63));
		strcat(in, ".");
	}
	strncat(in, rep('e', 1023 - strlen(in)), 1023);
	CHECK(strlen(in) == 1023);
	canon_is(in, in);
	snprintf(want, sizeof(want), "%s", in);
	strcat(in, ".");
	canon_is(in, want);
}

static void
test_canon_bad(void)
{
	static const char *const bad[] = {
		"", "@", "/", "@localhost", "juliet@", "juliet@/r",
		"juliet@localhost/", "localhost/", "/res", "a@b@c",
		"jul iet@localhost", "jul\"iet@x", "jul&iet@x", "jul'iet@x",
		"jul:iet@x", "jul<iet@x", "jul>iet@x", "jul\tiet@x",
		"jul\x7fiet@x", "jul\xc2\x85iet@x", "jul\xc2\xa0iet@x",
		"jul\xe3\x80\x80iet@x", "a@b/r\x01", "a@b/r\x7f",
		"a@b/r\xc2\x9f",
		"a@b c", "a@b..c", "a@.b", "a@.", "a@..", ".", "..",
		"a@-b.c", "a@b-.c", "a@b.-c", "a@b:5222", "a@b<c", "a@b&c",
		"a@b\"", "a@[::1", "a@[::1]x", "a@[zz::1]", "a@[]",
		"a@[127.0.0.1]", "a@x[::1]",
		"\xff@x", "a@\xff", "a@x/\xff", "\xc0\xaf@x", "\xe0\x80\xaf@x",
		"\xed\xa0\x80@x", "\xf4\x90\x80\x80@x", "\xf8\x88\x80\x80\x80@x",
		"\xc3@x", "a@x/\xe2\x82", "a@x\xc2\x80",
	};
	char in[4096];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		canon_is(bad[i], NULL);
	}
	/* Over 1023 bytes in any part. */
	snprintf(in, sizeof(in), "%s@d", rep('a', 1024));
	canon_is(in, NULL);
	snprintf(in, sizeof(in), "a@d/%s", rep('r', 1024));
	canon_is(in, NULL);
	snprintf(in, sizeof(in), "%s", rep('d', 64));
	canon_is(in, NULL);
	in[0] = '\0';
	while (strlen(in) < 1030) {
		strcat(in, "abc.");
	}
	strcat(in, "x");
	canon_is(in, NULL);
}

static void
test_canon_cap(void)
{
	char out[16];

	CHECK(jid_canon("a@b/c", out, 6) == 0);
	CHECK_STR(out, "a@b/c");
	CHECK(jid_canon("a@b/c", out, 5) == -1);
	CHECK(jid_canon("a@b./c", out, 6) == 0);
	CHECK_STR(out, "a@b/c");
	CHECK(jid_canon("x", out, 1) == -1);
	CHECK(jid_canon("x", out, 0) == -1);
}

static void
test_split(void)
{
	struct jid_parts p;
	char in[4096];

	CHECK(jid_split("Juliet@Example.com/Balcony/x", &p) == 0);
	CHECK(p.local_len == 6 && memcmp(p.local, "Juliet", 6) == 0);
	CHECK(p.domain_len == 11 && memcmp(p.domain, "Example.com", 11) == 0);
	CHECK(p.resource_len == 9 && memcmp(p.resource, "Balcony/x", 9) == 0);
	CHECK(jid_split("example.com", &p) == 0);
	CHECK(p.local == NULL && p.local_len == 0);
	CHECK(p.resource == NULL && p.resource_len == 0);
	CHECK(p.domain_len == 11);
	CHECK(jid_split("example.com/r@x", &p) == 0);
	CHECK(p.local == NULL && p.resource_len == 3);
	CHECK(jid_split("", &p) == -1);
	CHECK(jid_split("@x", &p) == -1);
	CHECK(jid_split("a@", &p) == -1);
	CHECK(jid_split("a@/r", &p) == -1);
	CHECK(jid_split("a@b/", &p) == -1);
	CHECK(p.domain == NULL);
	snprintf(in, sizeof(in), "%s@d", rep('a', 1024));
	CHECK(jid_split(in, &p) == -1);
	snprintf(in, sizeof(in), "%s@d", rep('a', 1023));
	CHECK(jid_split(in, &p) == 0);
}

static void
test_helpers(void)
{
	char out[64];

	CHECK(jid_bare_len("juliet@localhost/balcony") == 16);
	CHECK(jid_bare_len("juliet@localhost") == 16);
	CHECK(jid_bare_len("localhost/r") == 9);
	CHECK(jid_bare("juliet@localhost/balcony", out, sizeof(out)) == 0);
	CHECK_STR(out, "juliet@localhost");
	CHECK(jid_bare("juliet@localhost/balcony", out, 17) == 0);
	CHECK(jid_bare("juliet@localhost/balcony", out, 16) == -1);
	CHECK_STR(jid_resource("juliet@localhost/bal/cony"), "bal/cony");
	CHECK(jid_resource("juliet@localhost") == NULL);
	CHECK_STR(jid_resource("localhost/x@y"), "x@y");
	CHECK(jid_bare_eq("a@b/c", "a@b/d"));
	CHECK(jid_bare_eq("a@b", "a@b/d"));
	CHECK(!jid_bare_eq("a@b", "a@bc"));
	CHECK(!jid_bare_eq("a@b/c", "a@c/c"));
	CHECK(!jid_bare_eq("b", "a@b"));
	CHECK(jid_domain("juliet@localhost/r", out, sizeof(out)) == 0);
	CHECK_STR(out, "localhost");
	CHECK(jid_domain("localhost/a@b", out, sizeof(out)) == 0);
	CHECK_STR(out, "localhost");
	CHECK(jid_domain("conference.localhost", out, sizeof(out)) == 0);
	CHECK_STR(out, "conference.localhost");
	CHECK(jid_domain("juliet@localhost", out, 10) == 0);
	CHECK(jid_domain("juliet@localhost", out, 9) == -1);
	CHECK(jid_domain("@x", out, sizeof(out)) == -1);
}

static void
test_local(void)
{
	char out[2048];

	CHECK(jid_local_canon("Juliet", out, sizeof(out)) == 0);
	CHECK_STR(out, "juliet");
	CHECK(jid_local_canon("a,b=c", out, sizeof(out)) == 0);
	CHECK_STR(out, "a,b=c");
	CHECK(jid_local_canon("\xc3\x89", out, sizeof(out)) == 0);
	CHECK_STR(out, "\xc3\x89");
	CHECK(jid_local_canon("", out, sizeof(out)) == -1);
	CHECK(jid_local_canon("a@b", out, sizeof(out)) == -1);
	CHECK(jid_local_canon("a/b", out, sizeof(out)) == -1);
	CHECK(jid_local_canon("a b", out, sizeof(out)) == -1);
	CHECK(jid_local_canon("\xff", out, sizeof(out)) == -1);
	CHECK(jid_local_canon("abc", out, 4) == 0);
	CHECK(jid_local_canon("abc", out, 3) == -1);
	CHECK(jid_local_canon(rep('a', 1023), out, sizeof(out)) == 0);
	CHECK(jid_local_canon(rep('a', 1024), out, sizeof(out)) == -1);
}

static void
test_nick(void)
{
	static const char *const good[] = {
		"Juliet", "juliet", "Romeo Montague", " lead", "trail ",
		"\xf0\x9f\xa4\x96", "a@b/c", "x\xc2\xa0y", "<>&'\"",
	};
	static const char *const bad[] = {
		"", " ", "   ", "\xc2\xa0", " \xe3\x80\x80 ", "a\tb", "a\nb",
		"a\x7f", "a\xc2\x85", "\xff", "\xc3", "\xed\xa0\x80",
	};
	char out[2048];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(jid_nick_canon(good[i], out, sizeof(out)) == 0);
		CHECK_STR(out, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(jid_nick_canon(bad[i], out, sizeof(out)) == -1);
	}
	CHECK(jid_nick_canon(rep('n', 1023), out, sizeof(out)) == 0);
	CHECK(jid_nick_canon(rep('n', 1024), out, sizeof(out)) == -1);
	CHECK(jid_nick_canon("abc", out, 3) == -1);
	CHECK(jid_nick_canon("abc", out, 4) == 0);
}

static void
test_utf8(void)
{
	CHECK(jid_utf8_valid("", 0));
	CHECK(jid_utf8_valid("abc", 3));
	CHECK(jid_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\xa4\x96", 9));
	CHECK(jid_utf8_valid("\xf4\x8f\xbf\xbf", 4));
	CHECK(!jid_utf8_valid("a\0b", 3));
	CHECK(!jid_utf8_valid("\xc0\x80", 2));
	CHECK(!jid_utf8_valid("\xc1\xbf", 2));
	CHECK(!jid_utf8_valid("\xe0\x9f\xbf", 3));
	CHECK(!jid_utf8_valid("\xf0\x8f\xbf\xbf", 4));
	CHECK(!jid_utf8_valid("\xed\xbf\xbf", 3));
	CHECK(!jid_utf8_valid("\xf4\x90\x80\x80", 4));
	CHECK(!jid_utf8_valid("\x80", 1));
	CHECK(!jid_utf8_valid("\xe2\x82", 2));
	CHECK(!jid_utf8_valid("\xe2\x82\xac", 2));
}

int
main(void)
{
	test_canon_good();
	test_canon_bad();
	test_canon_cap();
	test_split();
	test_helpers();
	test_local();
	test_nick();
	test_utf8();
	return check_summary("jid");
}
