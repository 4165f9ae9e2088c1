/* account.c - accounts as SCRAM credentials in the store. */
#include "account.h"

#include <string.h>

#include "buf.h"
#include "config.h"
#include "store.h"
#include "tls.h"

#define ACCOUNT_KIND	"account"

int
account_exists(const char *bare_jid)
{
	return store_get(ACCOUNT_KIND, bare_jid) != NULL;
}

int
account_creds(const char *bare_jid, struct sasl_creds *out)
{
	const char *v = store_get(ACCOUNT_KIND, bare_jid);

	if (v == NULL) {
		return -1;
	}
	return sasl_creds_parse(v, out);
}

static int
account_store(const char *bare_jid, const char *password)
{
	struct sasl_creds creds;
	struct buf b;
	int rc;

	if (sasl_creds_make(password, config_get()->scram_iterations,
	    &creds) != 0) {
		return -1;
	}
	buf_init(&b, 0);
	sasl_creds_format(&creds, &b);
	rc = b.err ? -1 : store_put(ACCOUNT_KIND, bare_jid, b.data);
	tls_zeroize(&creds, sizeof(creds));
	buf_free(&b);
	return rc;
}

int
account_create(const char *bare_jid, const char *password)
{
	if (account_exists(bare_jid)) {
		return -1;
	}
	return account_store(bare_jid, password);
}

int
account_set_password(const char *bare_jid, const char *password)
{
	if (!account_exists(bare_jid)) {
		return -1;
	}
	return account_store(bare_jid, password);
}

int
account_is_admin(const char *bare_jid)
{
	const char *role = store_get(ACCOUNT_ROLE_KIND, bare_jid);

	return config_is_admin(bare_jid) ||
	    (role != NULL && strcmp(role, "admin") == 0);
}

size_t
account_count(void)
{
	size_t n = 0;
	char **keys = store_keys(ACCOUNT_KIND, NULL, &n);

	store_keys_free(keys);
	return n;
}

int
account_delete(const char *bare_jid)
{
	if (!account_exists(bare_jid)) {
		return -1;
	}
	/* a role from an admin invite (invite.h) goes with the account */
	if (store_get(ACCOUNT_ROLE_KIND, bare_jid) != NULL &&
	    store_del(ACCOUNT_ROLE_KIND, bare_jid) != 0) {
		return -1;
	}
	return store_del(ACCOUNT_KIND, bare_jid);
}
