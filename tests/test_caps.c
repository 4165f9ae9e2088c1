/* test_caps.c - XEP-0115 verification strings and the caps cache. */
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "check.h"
#include "uxlimits.h"
#include "xml.h"

static struct xml_node *
parse(const char *s)
{
	int err = 0;
	struct xml_node *n = xml_parse_document(s, strlen(s),
	    "http://jabber.org/protocol/disco#info", &err);

	CHECK(n != NULL);
	return n;
}

/* caps_ver(query, alg) must give want (NULL: refused). */
static void
ver_is(const char *query, const char *alg, const char *want)
{
	struct xml_node *q = parse(query);
	char out[128] = "";
	int rc = q != NULL ? caps_ver(q, alg, out, sizeof(out)) : -2;

	if (want == NULL) {
		CHECK(rc == -1);
	} else {
		CHECK(rc == 0);
		CHECK_STR(out, want);
	}
	xml_free(q);
}

#define DISCO	"<query xmlns='http://jabber.org/protocol/disco#info'>"
#define SIMPLE	DISCO "<identity category='client' type='pc' " \
	"name='Exodus 0.9.1'/>" \
	"<feature var='http://jabber.org/protocol/disco#info'/>" \
	"<feature var='http://jabber.org/protocol/disco#items'/>" \
	"<feature var='http://jabber.org/protocol/muc'/>" \
	"<feature var='http://jabber.org/protocol/caps'/></query>"

static void
test_ver(void)
{
	/* §5.2 */
	ver_is(SIMPLE, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0=");
	/* §5.3: two languages, a form, multi-valued field, order mixed */
	ver_is(DISCO
	    "<identity xml:lang='en' category='client' name='Psi 0.11' "
	    "type='pc'/>"
	    "<identity xml:lang='el' category='client' "
	    "name='&#936; 0.11' type='pc'/>"
	    "<feature var='http://jabber.org/protocol/muc'/>"
	    "<feature var='http://jabber.org/protocol/caps'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='software_version'><value>0.11</value></field>"
	    "<field var='FORM_TYPE' type='hidden'>"
	    "<value>urn:xmpp:dataforms:softwareinfo</value></field>"
	    "<field var='ip_version' type='text-multi'>"
	    "<value>ipv6</value><value>ipv4</value></field>"
	    "<field var='os'><value>Mac</value></field>"
	    "<field var='os_version'><value>10.5.1</value></field>"
	    "<field var='software'><value>Psi</value></field>"
	    "</x></query>", "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w=");
	/* the pep scenarios' client, and an answer with nothing in it */
	ver_is(DISCO "<identity type='pc' name='Verse' category='client'/>"
	    "<feature var='http://jabber.org/protocol/tune+notify'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "<feature var='http://jabber.org/protocol/caps'/>"
	    "<feature var='http://jabber.org/protocol/mood+notify'/>"
	    "</query>", "sha-1", "IfQwbaaDB4LEP5tkGArEaB/3Y+s=");
	ver_is(DISCO "</query>", "sha-1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
	ver_is(DISCO "</query>", "sha-256",
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	/* §5.4 item 3: duplicates make the answer unusable */
	ver_is(DISCO "<feature var='a'/><feature var='a'/></query>", "sha-1",
	    NULL);
	ver_is(DISCO "<identity category='c' type='t'/>"
	    "<identity category='c' type='t'/></query>", "sha-1", NULL);
	ver_is(DISCO "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>u</value></field>"
	    "</x><x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>u</value></field>"
	    "</x></query>", "sha-1", NULL);
	/* a form whose FORM_TYPE is not hidden is left out (§5.4 3.6) */
	ver_is(DISCO "<identity category='client' type='pc' "
	    "name='Exodus 0.9.1'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "<feature var='http://jabber.org/protocol/muc'/>"
	    "<feature var='http://jabber.org/protocol/caps'/>"
	    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'>"
	    "<value>u</value></field></x></query>", "sha-1",
	    "QgayPKawpkPSDYmwT/WM94uAlu0=");
	ver_is(SIMPLE, "md5", NULL);
}

#define NOTIFY	DISCO "<identity category='client' type='pc' name='N'/>" \
	"<feature var='urn:xmpp:avatar:metadata+notify'/>" \
	"<feature var='http://jabber.org/protocol/caps'/></query>"

static void
test_cache(void)
{
	struct xml_node *good = parse(NOTIFY), *simple = parse(SIMPLE);
	struct caps_entry *a, *b, *c, *mine, *learned;
	char ver[128], key[256];
	size_t i;

	CHECK(caps_ver(good, "sha-1", ver, sizeof(ver)) == 0);
	snprintf(key, sizeof(key), "n#%s", ver);
	a = caps_ref(key);
	b = caps_ref(key);
	CHECK(a != NULL && a == b);
	CHECK(!caps_known(a));
	CHECK(!caps_wants(a, "urn:xmpp:avatar:metadata"));
	/* a wrong answer is kept for the one who gave it */
	mine = caps_answer(a, "sha-1", simple);
	CHECK(mine != a);
	CHECK(caps_known(mine) && !caps_known(a));
	CHECK(!caps_wants(mine, "urn:xmpp:avatar:metadata"));
	caps_unref(mine);
	/* the right one teaches everyone holding the entry */
	learned = caps_answer(a, "sha-1", good);
	CHECK(learned == a && caps_known(b));
	CHECK(caps_wants(b, "urn:xmpp:avatar:metadata"));
	CHECK(!caps_wants(b, "urn:xmpp:avatar"));
	CHECK(!caps_wants(b, "http://jabber.org/protocol/caps"));
	caps_unref(learned);
	caps_unref(a);
	caps_unref(b);
	/* known and unreferenced: still cached for the next resource */
	c = caps_ref(key);
	CHECK(caps_known(c));
	caps_unref(c);
	/* an unknown one nobody holds is gone */
	c = caps_ref("n#unknown");
	caps_unref(c);
	c = caps_ref("n#unknown");
	CHECK(c != NULL && !caps_known(c));
	caps_unref(c);
	/* a full cache evicts what nobody holds, refuses when all are held */
	{
		struct caps_entry **held = calloc(CAPS_MAX_ENTRIES + 1,
		    sizeof(*held));
		int refused = 0;

		for (i = 0; i < CAPS_MAX_ENTRIES + 1; i++) {
			snprintf(key, sizeof(key), "fill#%zu", i);
			held[i] = caps_ref(key);
			refused += held[i] == NULL;
		}
		CHECK(refused == 1);
		for (i = 0; i < CAPS_MAX_ENTRIES + 1; i++) {
			caps_unref(held[i]);
		}
		free(held);
	}
	caps_clear();
	xml_free(good);
	xml_free(simple);
}

int
main(void)
{
	test_ver();
	test_cache();
	return check_summary("caps");
}
