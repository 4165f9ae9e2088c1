#!/bin/sh
# tests/adhoc-test.sh - the XEP-0133 admin commands over XEP-0050 from
# slixmpp (tests/adhoc-client.py): each command run by an admin
# (`admins`) with its effect checked, refused for a non-admin with
# forbidden; the invite command's contact invite used by a new account.
# SKIP without slixmpp.  Prints PASS/FAIL/SKIP lines and
# "N passed, N failed".
TEST_NAME=adhoc
. "$(dirname "$0")/lib.sh"
new_port port
CLIENT_PY=${SLIXMPP_PYTHON:-/usr/bin/python3}

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = always
log_file = $tmp/log
admins = admin@localhost
EOC
mkdir -p "$tmp/data"
echo adminpw | "$UXMPPD" -c "$tmp/conf" adduser admin@localhost \
    >/dev/null 2>&1 || abort "adduser admin"
echo bobpw | "$UXMPPD" -c "$tmp/conf" adduser bob@localhost \
    >/dev/null 2>&1 || abort "adduser bob"
start_server "$tmp/conf"
if ! "$CLIENT_PY" -c 'import slixmpp' 2>/dev/null; then
	skip "adhoc" "python3-slixmpp not installed for $CLIENT_PY"
else
	"$CLIENT_PY" "$ROOT/tests/adhoc-client.py" "$port" >"$tmp/out" 2>&1
	rc=$?
	while read -r word name rest; do
		case $word in
		PASS) pass "$name" ;;
		FAIL) fail "$name" "$rest" ;;
		esac
	done <"$tmp/out"
	grep -q '^PASS adhoc-invite' "$tmp/out" ||
	    fail "client-finished" "rc=$rc: $(tail -c 400 "$tmp/out")"
	# the invite from the ad-hoc command works: dave registers with it
	# and has the admin on his roster, subscription both
	token=$(sed -n 's/^URI .*preauth=\([0-9a-f]*\).*/\1/p' "$tmp/out")
	"$CLIENT_PY" "$ROOT/tests/invite-client.py" "$port" "$token" dave \
	    secret admin@localhost >"$tmp/out" 2>/dev/null
	check $? "adhoc-invite-used" "$(cat "$tmp/out")"

	# allow_user_invites: every account may invite its contacts
	stop_server
	echo "allow_user_invites = yes" >>"$tmp/conf"
	start_server "$tmp/conf"
	"$CLIENT_PY" "$ROOT/tests/adhoc-client.py" "$port" user-invites \
	    >"$tmp/out" 2>&1
	while read -r word name rest; do
		case $word in
		PASS) pass "$name" ;;
		FAIL) fail "$name" "$rest" ;;
		esac
	done <"$tmp/out"
	grep -q '^PASS user-invite-not-admin' "$tmp/out" ||
	    fail "user-invites-finished" "$(tail -c 400 "$tmp/out")"
fi
stop_server
finish
