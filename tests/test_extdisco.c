/*
 * test_extdisco.c - TURN REST credentials (XEP-0215 with
 * draft-uberti-behave-turn-rest-00): the username and the base64
 * HMAC-SHA1 password, checked against values computed independently
 * (Python's hmac module).
 */
#include <string.h>

#include "check.h"
#include "extdisco.h"
#include "tests/fake_reactor.h"	/* server.h, for the router extdisco.c links */

int
main(void)
{
	char user[64], pass[64];

	CHECK(extdisco_turn_credentials("<secret>", NULL, 1796740084, user,
	    sizeof(user), pass, sizeof(pass)) == 0);
	CHECK_STR(user, "1796740084");
	CHECK_STR(pass, "8zXwQfqsHh0W8yAi6zPpEqr8H7M=");
	CHECK(extdisco_turn_credentials("foo", "", 1796740084, user,
	    sizeof(user), pass, sizeof(pass)) == 0);
	CHECK_STR(pass, "zb+8HYsw9OBuvsfgrPi2V0QZ5AQ=");
	CHECK(extdisco_turn_credentials("north", "alice", 1700000000, user,
	    sizeof(user), pass, sizeof(pass)) == 0);
	CHECK_STR(user, "1700000000:alice");
	CHECK_STR(pass, "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
	/* buffers too small */
	CHECK(extdisco_turn_credentials("foo", "alice", 1700000000, user, 10,
	    pass, sizeof(pass)) == -1);
	CHECK(extdisco_turn_credentials("foo", NULL, 1700000000, user,
	    sizeof(user), pass, 28) == -1);
	return check_summary("extdisco");
}
