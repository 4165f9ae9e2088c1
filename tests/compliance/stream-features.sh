#!/bin/sh
# tests/compliance/stream-features.sh - the compliance checks on the stream
# itself (stream features, direct TLS), which scansion scenarios cannot see:
# a fresh uxmppd with a STARTTLS and a direct-TLS listener and the
# generated certificate, one account, then stream-features.py (see there
# for what each check looks for).  Prints "PASS name: ..." or
# "FAIL name: ..." per check; exits 0 when the server started, the login
# worked and the server exited cleanly on SIGTERM (whatever the checks
# said), 1 otherwise.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
PY=${PYTHON:-python3}
srv_pid=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uxmppd-compliance.XXXXXX")
cleanup() {
	[ -n "$srv_pid" ] && kill -KILL "$srv_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "stream-features: $1"
	for f in "$tmp/server.out" "$tmp/uxmppd.log"; do
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
log_file = $tmp/uxmppd.log
EOF
mkdir -p "$tmp/data"
printf 'password\n' | "$UXMPPD" -c "$tmp/uxmppd.conf" adduser romeo@localhost \
    >"$tmp/adduser.out" 2>&1 ||
	die "adduser failed: $(tail -n 1 "$tmp/adduser.out")"
"$UXMPPD" -c "$tmp/uxmppd.conf" >"$tmp/server.out" 2>&1 &
srv_pid=$!
for p in "$port" "$dport"; do
	"$SCANSION" --wait-port "127.0.0.1:$p" --wait-pid "$srv_pid" \
	    --timeout 10 2>/dev/null || die "server did not listen on $p"
done

"$PY" "$ROOT/tests/compliance/stream-features.py" "$port" "$dport" \
    "$tmp/data/tls-cert.pem" romeo@localhost password
rc=$?

kill -TERM "$srv_pid"
"$SCANSION" --wait-exit "$srv_pid" --timeout 10 2>/dev/null ||
	die "server did not exit on SIGTERM"
wait "$srv_pid"
st=$?
srv_pid=
[ "$rc" -eq 0 ] || die "the login failed (exit $rc)"
[ "$st" -eq 0 ] || die "server exit status $st"
if grep -q -E 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' \
    "$tmp/server.out" "$tmp/uxmppd.log" 2>/dev/null; then
	die "sanitizer report"
fi
exit 0
