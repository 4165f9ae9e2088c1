#!/bin/sh
# tests/invite-test.sh - invitations (XEP-0401 with the XEP-0379 pre-auth
# token) end to end, with open registration off: `uxmppd invite` through
# the control socket of a running server and straight on the store of a
# stopped one; a real client (slixmpp, tests/invite-client.py) registers
# with the token; the token is refused a second time, after expiry and
# after `invite revoke`; a contact invite (--user) gives the new account
# and the inviter a subscription both ways, and an existing account that
# sends the inviter a subscription request with it (XEP-0379,
# tests/invite-subscribe.py) ends the same; `invite list`; the QR line
# on a terminal.  Prints PASS/FAIL/SKIP lines and "N passed, N failed".
TEST_NAME=invite
. "$(dirname "$0")/lib.sh"
new_port port
CLIENT_PY=${SLIXMPP_PYTHON:-/usr/bin/python3}

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = always
log_file = $tmp/log
EOC
mkdir -p "$tmp/data"

# The token of the URI on the first line of $tmp/cmd.
token_of() {
	head -n 1 "$tmp/cmd" | sed -n 's/.*preauth=\([0-9a-f]*\).*/\1/p'
}

# Register $2 with token $1 through slixmpp ($3: a contact expected on
# its roster, subscription both); the status is the client's.
use_invite() {
	"$CLIENT_PY" "$ROOT/tests/invite-client.py" "$port" "$@" \
	    >"$tmp/out" 2>/dev/null
}

# Made with the server stopped: straight on the store.
echo pw | "$UXMPPD" -c "$tmp/conf" adduser bob@localhost >/dev/null 2>&1 ||
    abort "adduser bob"
"$UXMPPD" -c "$tmp/conf" invite --expires 1d >"$tmp/cmd" 2>&1
grep -q '^xmpp:localhost?register;preauth=[0-9a-f]\{24\}$' "$tmp/cmd"
check $? "invite-offline" "$(cat "$tmp/cmd")"
offline=$(token_of)

start_server "$tmp/conf"

if ! "$CLIENT_PY" -c 'import slixmpp' 2>/dev/null; then
	skip "slixmpp" "python3-slixmpp not installed for $CLIENT_PY: the" \
	    "registration checks did not run"
else
	use_invite "$offline" alice secret
	check $? "register-with-offline-invite" "$(cat "$tmp/out")"
	use_invite "$offline" mallory secret
	[ $? -eq 3 ]
	check $? "token-single-use" "$(cat "$tmp/out")"

	"$UXMPPD" -c "$tmp/conf" invite --user bob >"$tmp/cmd" 2>&1
	grep -q '^xmpp:bob@localhost?roster;preauth=[0-9a-f]*;ibr=y$' \
	    "$tmp/cmd"
	check $? "contact-invite-uri" "$(cat "$tmp/cmd")"
	use_invite "$(token_of)" carol secret bob@localhost
	check $? "contact-invite-mutual" "$(cat "$tmp/out")"

	# XEP-0379: an existing account (alice) uses bob's contact invite
	"$UXMPPD" -c "$tmp/conf" invite --user bob >"$tmp/cmd" 2>&1
	existing=$(token_of)
	"$CLIENT_PY" "$ROOT/tests/invite-subscribe.py" "$port" "$existing" \
	    alice secret bob@localhost >"$tmp/out" 2>/dev/null
	check $? "contact-invite-existing-account" "$(cat "$tmp/out")"
	! "$UXMPPD" -c "$tmp/conf" invite list 2>&1 | grep -q "$existing"
	check $? "contact-invite-existing-used" "token still listed"

	"$UXMPPD" -c "$tmp/conf" invite --expires 1s >"$tmp/cmd" 2>&1
	short=$(token_of)
	# wait for the expiry (the list leaves out expired invites)
	i=0
	while "$UXMPPD" -c "$tmp/conf" invite list 2>&1 | grep -q "$short" &&
	    [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	use_invite "$short" late secret
	[ $? -eq 3 ]
	check $? "token-expired" "$(cat "$tmp/out")"

	"$UXMPPD" -c "$tmp/conf" invite --username dora >"$tmp/cmd" 2>&1
	dora=$(token_of)
	grep -q '^xmpp:dora@localhost?register;preauth=' "$tmp/cmd"
	check $? "username-invite-uri" "$(cat "$tmp/cmd")"
	"$UXMPPD" -c "$tmp/conf" invite list >"$tmp/list" 2>&1
	grep -q "^$dora [0-9]* - - dora$" "$tmp/list"
	check $? "invite-list" "$(cat "$tmp/list")"
	"$UXMPPD" -c "$tmp/conf" invite revoke "$dora" >"$tmp/cmd" 2>&1
	check $? "invite-revoke" "$(cat "$tmp/cmd")"
	use_invite "$dora" dora secret
	[ $? -eq 3 ]
	check $? "token-revoked" "$(cat "$tmp/out")"
	! "$UXMPPD" -c "$tmp/conf" invite list 2>&1 | grep -q "$dora"
	check $? "revoked-not-listed" "still listed"
fi

"$UXMPPD" -c "$tmp/conf" invite --user nobody >"$tmp/cmd" 2>&1
[ $? -ne 0 ] && grep -q "no such account: nobody@localhost" "$tmp/cmd"
check $? "contact-invite-needs-account" "$(cat "$tmp/cmd")"
"$UXMPPD" -c "$tmp/conf" invite --expires soon >"$tmp/cmd" 2>&1
[ $? -ne 0 ]
check $? "bad-expiry-refused" "$(cat "$tmp/cmd")"

# On a terminal: a QR code, or the line saying qrencode is missing.
if ! command -v script >/dev/null 2>&1; then
	skip "qr" "script(1) missing: no terminal to run invite on"
elif ! script -qec "'$UXMPPD' -c '$tmp/conf' invite" /dev/null \
    >"$tmp/tty" 2>&1; then
	fail "qr" "invite on a terminal failed: $(head -c 300 "$tmp/tty")"
elif command -v qrencode >/dev/null 2>&1; then
	grep -q '█' "$tmp/tty"
	check $? "qr-code" "$(head -c 300 "$tmp/tty")"
else
	grep -q "install qrencode" "$tmp/tty"
	check $? "qr-missing-said" "$(head -c 300 "$tmp/tty")"
fi

stop_server
finish
