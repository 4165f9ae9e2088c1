#!/bin/sh
# tests/compliance/stream-features.sh - the compliance checks on the stream
# itself (stream features, direct TLS), which scansion scenarios cannot see:
# a fresh uxmppd with a STARTTLS and a direct-TLS listener and the
# generated certificate, one account, then stream-features.py (see there
# for what each check looks for).  Prints "PASS name: ..." or
# "FAIL name: ..." per check; exits 0 when the server started, the login
# worked and the server exited cleanly on SIGTERM (whatever the checks
# said), 1 otherwise.
TEST_NAME=compliance
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"

die() {
	echo "stream-features: $1"
	for f in "$tmp/stderr" "$tmp/log"; do
		[ -s "$f" ] && tail -n 15 "$f" | sed 's/^/    | /'
	done
	exit 1
}

port=$("$SCANSION" --free-port) || die "no free port"
dport=$("$SCANSION" --free-port) || die "no free port"
cat >"$tmp/uxmppd.conf" <<EOF
domain = localhost
muc_domain = conference.localhost
c2s_listen = 127.0.0.1:$port
c2s_direct_tls_listen = 127.0.0.1:$dport
data_dir = $tmp/data
store_sync = none
log_level = debug
log_file = $tmp/log
EOF
mkdir -p "$tmp/data"
printf 'password\n' | "$UXMPPD" -c "$tmp/uxmppd.conf" adduser romeo@localhost \
    >"$tmp/adduser.out" 2>&1 ||
	die "adduser failed: $(tail -n 1 "$tmp/adduser.out")"
server_up "$tmp/uxmppd.conf" "$port" 2>/dev/null ||
    die "server did not listen on $port"
"$SCANSION" --wait-port "127.0.0.1:$dport" --wait-pid "$srv_pid" \
    --timeout 10 2>/dev/null || die "server did not listen on $dport"

"$PY" "$ROOT/tests/compliance/stream-features.py" "$port" "$dport" \
    "$tmp/data/tls-cert.pem" romeo@localhost password
rc=$?

kill -TERM "$srv_pid"
wait_child "$srv_pid" 10
srv_pid=
[ "$st" != timeout ] || die "server did not exit on SIGTERM"
[ "$rc" -eq 0 ] || die "the login failed (exit $rc)"
[ "$st" -eq 0 ] || die "server exit status $st"
if sanitizer_report "$tmp/stderr" "$tmp/log"; then
	die "sanitizer report"
fi
exit 0
