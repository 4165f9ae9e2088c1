/*
 * adhoc.c - XEP-0133 service administration over XEP-0050 ad-hoc
 * commands (adhoc.h).  Every command has two steps: execute gives the
 * form (status executing), submitting it runs the command (completed,
 * with a <note/>).  Nothing is kept between the steps: the form holds
 * all the command needs, so the session id is only echoed.
 */
#include "adhoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "hex.h"
#include "invite.h"
#include "jid.h"
#include "log.h"
#include "ns.h"
#include "route.h"
#include "services.h"
#include "stanza.h"
#include "tls.h"
#include "uxlimits.h"

#define ADMIN_NODE(n)	"http://jabber.org/protocol/admin#" n
#define FORM_TYPE_ADMIN	"http://jabber.org/protocol/admin"
#define ADHOC_MAX_LISTED	1000	/* online users in one answer */

struct adhoc_cmd {
	const char	*node;
	const char	*name;
	int		 admin_only;
	/* the form's fields, after FORM_TYPE; NULL: one step, run at
	 * once (x is then NULL) */
	void		(*form)(struct xml_node *x);
	/* run the submitted form x for bare: NULL with a note for the
	 * user, or an error condition with the text in note; may add a
	 * result form to cmd */
	const char	*(*run)(const struct xml_node *x, struct xml_node *cmd,
			    const char *bare, char *note, size_t cap);
};

int
adhoc_is_admin(const char *bare_jid)
{
	return account_is_admin(bare_jid);
}

static struct xml_node *
add_field(struct xml_node *x, const char *var, const char *type,
    const char *label, int required)
{
	struct xml_node *f = xml_add(x, "field", NULL);

	xml_set_attr(f, "var", var);
	xml_set_attr(f, "type", type);
	if (label != NULL) {
		xml_set_attr(f, "label", label);
	}
	if (required) {
		xml_add(f, "required", NULL);
	}
	return f;
}

/* The first <value/> of field var in x, or NULL. */
static const char *
form_value(const struct xml_node *x, const char *var)
{
	const struct xml_node *f, *v;

	for (f = xml_child(x, "field", NS_DATA); f != NULL;
	    f = xml_next(f, "field", NS_DATA)) {
		if (xml_attr(f, "var") != NULL &&
		    strcmp(xml_attr(f, "var"), var) == 0) {
			v = xml_child(f, "value", NS_DATA);
			return v != NULL ? xml_text(v) : NULL;
		}
	}
	return NULL;
}

/* The field var itself, or NULL (for the values of a multi field). */
static const struct xml_node *
form_field(const struct xml_node *x, const char *var)
{
	const struct xml_node *f;

	for (f = xml_child(x, "field", NS_DATA); f != NULL;
	    f = xml_next(f, "field", NS_DATA)) {
		if (xml_attr(f, "var") != NULL &&
		    strcmp(xml_attr(f, "var"), var) == 0) {
			return f;
		}
	}
	return NULL;
}

/* A local account's canonical bare JID from a form value, or -1. */
static int
local_jid(const char *v, char *out, size_t cap)
{
	char dom[JID_MAX + 1];

	return v == NULL || jid_canon(v, out, cap) != 0 ||
	    jid_resource(out) != NULL || strchr(out, '@') == NULL ||
	    jid_domain(out, dom, sizeof(dom)) != 0 ||
	    strcmp(dom, config_get()->domain) != 0 ? -1 : 0;
}

/* ---- the commands (XEP-0133 §4) ---- */

static void
form_add_user(struct xml_node *x)
{
	add_field(x, "accountjid", "jid-single", "The Jabber ID for the "
	    "account to be added", 1);
	add_field(x, "password", "text-private", "The password for this "
	    "account", 1);
	add_field(x, "password-verify", "text-private", "Retype password",
	    1);
}

static const char *
run_add_user(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	const char *pw = form_value(x, "password");
	const char *again = form_value(x, "password-verify");
	char jid[JID_MAX + 1];

	(void)cmd;
	(void)bare;
	if (local_jid(form_value(x, "accountjid"), jid, sizeof(jid)) != 0) {
		snprintf(note, cap, "Not an account JID of this server");
		return "bad-request";
	}
	if (pw == NULL || *pw == '\0' || strlen(pw) > REGISTER_MAX_PASSWORD ||
	    (again != NULL && strcmp(pw, again) != 0)) {
		snprintf(note, cap, "Empty or mismatched passwords");
		return "bad-request";
	}
	if (account_exists(jid)) {
		snprintf(note, cap, "Account already exists");
		return "conflict";
	}
	if (account_create(jid, pw) != 0) {
		snprintf(note, cap, "Could not store the account");
		return "resource-constraint";
	}
	log_info("adhoc: account %s added", jid);
	snprintf(note, cap, "Account %s created", jid);
	return NULL;
}

static void
form_accounts(struct xml_node *x)
{
	add_field(x, "accountjids", "jid-multi", "The Jabber ID(s)", 1);
}

/* Each value of accountjids through fn: NULL, or the first failure. */
static const char *
each_account(const struct xml_node *x, const char *what,
    int (*fn)(const char *jid), char *note, size_t cap)
{
	const struct xml_node *f = form_field(x, "accountjids"), *v;
	char jid[JID_MAX + 1];
	size_t n = 0;

	for (v = f != NULL ? xml_child(f, "value", NS_DATA) : NULL; v != NULL;
	    v = xml_next(v, "value", NS_DATA)) {
		if (local_jid(xml_text(v), jid, sizeof(jid)) != 0 ||
		    !account_exists(jid)) {
			snprintf(note, cap, "No such account: %.200s",
			    xml_text(v));
			return "item-not-found";
		}
		if (fn(jid) != 0) {
			snprintf(note, cap, "Could not store the change");
			return "resource-constraint";
		}
		log_info("adhoc: %s %s", what, jid);
		n++;
	}
	if (n == 0) {
		snprintf(note, cap, "No account given");
		return "bad-request";
	}
	snprintf(note, cap, "%s: %zu account(s)", what, n);
	return NULL;
}

static const char *
run_delete_user(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	(void)cmd;
	(void)bare;
	/* services_delete_account also ends the account's sessions */
	return each_account(x, "deleted", services_delete_account, note, cap);
}

static int
end_sessions(const char *jid)
{
	route_user_gone(jid, NULL);
	return 0;
}

static const char *
run_end_session(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	(void)cmd;
	(void)bare;
	return each_account(x, "sessions ended", end_sessions, note, cap);
}

static void
form_change_password(struct xml_node *x)
{
	add_field(x, "accountjid", "jid-single", "The Jabber ID for this "
	    "account", 1);
	add_field(x, "password", "text-private", "The password for this "
	    "account", 1);
}

static const char *
run_change_password(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	const char *pw = form_value(x, "password");
	char jid[JID_MAX + 1];

	(void)cmd;
	(void)bare;
	if (local_jid(form_value(x, "accountjid"), jid, sizeof(jid)) != 0 ||
	    !account_exists(jid)) {
		snprintf(note, cap, "No such account");
		return "item-not-found";
	}
	if (pw == NULL || *pw == '\0' || strlen(pw) > REGISTER_MAX_PASSWORD) {
		snprintf(note, cap, "Empty password");
		return "bad-request";
	}
	if (account_set_password(jid, pw) != 0) {
		snprintf(note, cap, "Could not store the password");
		return "resource-constraint";
	}
	log_info("adhoc: password of %s changed", jid);
	snprintf(note, cap, "Password of %s changed", jid);
	return NULL;
}

static void
form_online(struct xml_node *x)
{
	struct xml_node *f = add_field(x, "max_items", "list-single",
	    "Maximum number of items to show", 0);
	static const char *const opts[] = { "25", "50", "75", "100", "150",
	    "200", "none", NULL };
	size_t i;

	for (i = 0; opts[i] != NULL; i++) {
		struct xml_node *o = xml_add(f, "option", NULL);

		xml_set_attr(o, "label", opts[i]);
		xml_add_text_child(o, "value", NULL, opts[i]);
	}
}

struct online_ctx {
	char	**bare;
	size_t	 n, max;
};

static void
online_cb(void *ud, const char *full)
{
	struct online_ctx *c = ud;
	char bare[JID_MAX + 1];
	size_t i;

	if (c->n >= c->max || jid_bare(full, bare, sizeof(bare)) != 0) {
		return;
	}
	for (i = 0; i < c->n; i++) {
		if (strcmp(c->bare[i], bare) == 0) {
			return;
		}
	}
	c->bare[c->n++] = xstrdup(bare);
}

static const char *
run_online(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	const char *max = form_value(x, "max_items");
	struct online_ctx c = { NULL, 0, ADHOC_MAX_LISTED };
	struct xml_node *rx, *f;
	size_t i;

	(void)bare;
	if (max != NULL && strcmp(max, "none") != 0 && atoi(max) > 0 &&
	    (size_t)atoi(max) < c.max) {
		c.max = (size_t)atoi(max);
	}
	c.bare = xcalloc(c.max, sizeof(*c.bare));
	route_foreach_session(online_cb, &c);
	rx = xml_add(cmd, "x", NS_DATA);
	xml_set_attr(rx, "type", "result");
	f = add_field(rx, "FORM_TYPE", "hidden", NULL, 0);
	xml_add_text_child(f, "value", NULL, FORM_TYPE_ADMIN);
	f = add_field(rx, "onlineuserjids", "jid-multi",
	    "The list of all online users", 0);
	for (i = 0; i < c.n; i++) {
		xml_add_text_child(f, "value", NULL, c.bare[i]);
		free(c.bare[i]);
	}
	free(c.bare);
	snprintf(note, cap, "%zu user(s) online, %zu session(s)", c.n,
	    route_session_count());
	return NULL;
}

static void
form_announce(struct xml_node *x)
{
	add_field(x, "subject", "text-single", "Subject", 0);
	add_field(x, "announcement", "text-multi", "Announcement", 1);
}

struct announce_ctx {
	struct route_prepared	 p;
	size_t			 n;
};

static void
announce_cb(void *ud, const char *full)
{
	struct announce_ctx *c = ud;

	route_prepared_send(&c->p, full);
	c->n++;
}

static const char *
run_announce(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	const struct xml_node *f = form_field(x, "announcement"), *v;
	const char *subject = form_value(x, "subject");
	struct announce_ctx c = { .n = 0 };
	struct xml_node *msg;
	struct buf body;

	(void)cmd;
	(void)bare;
	buf_init(&body, 0);
	/* text-multi: one <value/> a line (XEP-0004 §3.3) */
	for (v = f != NULL ? xml_child(f, "value", NS_DATA) : NULL; v != NULL;
	    v = xml_next(v, "value", NS_DATA)) {
		buf_printf(&body, "%s%s", body.len > 0 ? "\n" : "",
		    xml_text(v));
	}
	if (body.err || body.len == 0) {
		buf_free(&body);
		snprintf(note, cap, "No announcement given");
		return "bad-request";
	}
	msg = xml_new("message", XML_NS_CLIENT);
	xml_set_attr(msg, "from", config_get()->domain);
	xml_set_attr(msg, "type", "normal");
	if (subject != NULL && *subject != '\0') {
		xml_add_text_child(msg, "subject", NULL, subject);
	}
	xml_add_text_child(msg, "body", NULL, body.data);
	buf_free(&body);
	/* serialized once, sent to every session */
	route_prepare(&c.p, msg);
	route_foreach_session(announce_cb, &c);
	route_prepared_free(&c.p);
	xml_free(msg);
	log_info("adhoc: announcement to %zu session(s)", c.n);
	snprintf(note, cap, "Announcement sent to %zu session(s)", c.n);
	return NULL;
}

/* ---- invitations (as Prosody's mod_invites_adhoc, which
 * Conversations' "invite" button runs) ---- */

#define INVITE_ADHOC_TTL_S	(7L * 86400)

/* A result form with the new invite's uri and expire (XEP-0082). */
static const char *
invite_result(const char *inviter, struct xml_node *cmd, char *note,
    size_t cap)
{
	char token[INVITE_TOKEN_LEN + 1], uri[JID_MAX + 128], when[32];
	struct invite inv;
	struct xml_node *rx, *f;
	struct tm tm;

	if (invite_create(inviter, NULL, 0, INVITE_ADHOC_TTL_S, token,
	    sizeof(token)) != 0 || invite_get(token, &inv) != 0) {
		snprintf(note, cap, "Could not store the invitation");
		return "resource-constraint";
	}
	invite_uri(token, &inv, uri, sizeof(uri));
	gmtime_r(&inv.expires, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rx = xml_add(cmd, "x", NS_DATA);
	xml_set_attr(rx, "type", "result");
	f = add_field(rx, "uri", "text-single", "Invite URI", 0);
	xml_add_text_child(f, "value", NULL, uri);
	f = add_field(rx, "expire", "text-single", "Expires", 0);
	xml_add_text_child(f, "value", NULL, when);
	log_info("adhoc: invite created%s%s", inviter ? " by " : "",
	    inviter ? inviter : "");
	snprintf(note, cap, "Invitation valid until %s", when);
	return NULL;
}

/* urn:xmpp:invite#invite: the requester's contact invite */
static const char *
run_user_invite(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	(void)x;
	return invite_result(bare, cmd, note, cap);
}

/* urn:xmpp:invite#create-account: an account invite (admins) */
static const char *
run_account_invite(const struct xml_node *x, struct xml_node *cmd,
    const char *bare, char *note, size_t cap)
{
	(void)x;
	(void)bare;
	return invite_result(NULL, cmd, note, cap);
}

static const struct adhoc_cmd commands[] = {
	{ ADMIN_NODE("add-user"), "Add User", 1, form_add_user,
	    run_add_user },
	{ ADMIN_NODE("delete-user"), "Delete User", 1, form_accounts,
	    run_delete_user },
	{ ADMIN_NODE("change-user-password"), "Change User Password", 1,
	    form_change_password, run_change_password },
	{ ADMIN_NODE("get-online-users-list"), "Get List of Online Users", 1,
	    form_online, run_online },
	{ ADMIN_NODE("announce"), "Send Announcement to Online Users", 1,
	    form_announce, run_announce },
	{ ADMIN_NODE("end-user-session"), "End User Session", 1,
	    form_accounts, run_end_session },
	{ "urn:xmpp:invite#invite", "Invite someone", 0, NULL,
	    run_user_invite },
	{ "urn:xmpp:invite#create-account", "Create an account invitation",
	    1, NULL, run_account_invite },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/* May bare (a local account, or NULL) run c? */
static int
adhoc_allowed(const struct adhoc_cmd *c, const char *bare)
{
	if (bare == NULL) {
		return 0;
	}
	if (adhoc_is_admin(bare)) {
		return 1;
	}
	return !c->admin_only && config_get()->allow_user_invites > 0;
}

void
adhoc_items(struct xml_node *query, const char *bare)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		struct xml_node *it;

		if (!adhoc_allowed(&commands[i], bare)) {
			continue;
		}
		it = xml_add(query, "item", NULL);
		xml_set_attr(it, "jid", config_get()->domain);
		xml_set_attr(it, "node", commands[i].node);
		xml_set_attr(it, "name", commands[i].name);
	}
}

static void
send_error(const struct xml_node *iq, const char *cond, const char *text)
{
	struct xml_node *e = stanza_error_reply(iq, NULL, cond, text);

	route_stanza(e);
	xml_free(e);
}

void
adhoc_command(const struct xml_node *iq, const struct xml_node *cmd,
    const char *bare)
{
	const char *node = xml_attr(cmd, "node");
	const char *action = xml_attr(cmd, "action");
	const struct xml_node *x = xml_child(cmd, "x", NS_DATA);
	const struct adhoc_cmd *c = NULL;
	struct xml_node *reply, *rc, *fx, *n;
	unsigned char raw[8];
	char sid[2 * sizeof(raw) + 1], note[512];
	const char *cond;
	size_t i;

	for (i = 0; node != NULL && i < NCOMMANDS; i++) {
		if (strcmp(commands[i].node, node) == 0) {
			c = &commands[i];
		}
	}
	if (c == NULL) {
		send_error(iq, "item-not-found", NULL);
		return;
	}
	/* XEP-0133 §3: only the service's administrators */
	if (!adhoc_allowed(c, bare)) {
		send_error(iq, "forbidden", NULL);
		return;
	}
	if (xml_attr(cmd, "sessionid") != NULL) {
		snprintf(sid, sizeof(sid), "%.16s", xml_attr(cmd, "sessionid"));
	} else {
		if (tls_random(raw, sizeof(raw)) != 0) {
			send_error(iq, "internal-server-error", NULL);
			return;
		}
		hex_encode(raw, sizeof(raw), sid);
	}
	reply = stanza_result(iq);
	rc = xml_add(reply, "command", NS_COMMANDS);
	xml_set_attr(rc, "node", c->node);
	xml_set_attr(rc, "sessionid", sid);
	if (action != NULL && strcmp(action, "cancel") == 0) {
		/* XEP-0050 §3.4.3 */
		xml_set_attr(rc, "status", "canceled");
	} else if (c->form != NULL && (x == NULL ||
	    xml_attr(x, "type") == NULL ||
	    strcmp(xml_attr(x, "type"), "submit") != 0)) {
		/* the first step: the form */
		xml_set_attr(rc, "status", "executing");
		n = xml_add(rc, "actions", NULL);
		xml_set_attr(n, "execute", "complete");
		xml_add(n, "complete", NULL);
		fx = xml_add(rc, "x", NS_DATA);
		xml_set_attr(fx, "type", "form");
		xml_add_text_child(fx, "title", NULL, c->name);
		n = add_field(fx, "FORM_TYPE", "hidden", NULL, 0);
		xml_add_text_child(n, "value", NULL, FORM_TYPE_ADMIN);
		c->form(fx);
	} else {
		note[0] = '\0';
		cond = c->run(x, rc, bare, note, sizeof(note));
		if (cond != NULL) {
			xml_free(reply);
			send_error(iq, cond, note);
			return;
		}
		xml_set_attr(rc, "status", "completed");
		n = xml_add_text_child(rc, "note", NULL, note);
		xml_set_attr(n, "type", "info");
	}
	route_stanza(reply);
	xml_free(reply);
}
