# tests/lib.sh - shared by the shell tests that run a real uxmppd:
# sourced, it sets ROOT, UXMPPD, SCANSION, PY, a temporary directory $tmp
# removed at exit (with any server still running), a free loopback $port,
# and these functions:
#   check RC NAME REASON   count a PASS (RC 0) or a FAIL with REASON
#   start_server CONF      run uxmppd -c CONF until it accepts on $port
#   stop_server            SIGTERM, wait; RC is the server's exit status
#   finish                 a FAIL for any sanitizer report in the server's
#                          output, then "N passed, N failed" and the exit
# Set TEST_NAME before sourcing (names the temporary directory).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
PY=${PYTHON:-python3}
passed=0
failed=0
srv_pid=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uxmppd-${TEST_NAME:-test}.XXXXXX")

lib_cleanup() {
	[ -n "$srv_pid" ] && kill -KILL "$srv_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap lib_cleanup EXIT

check() {
	if [ "$1" -eq 0 ]; then
		echo "PASS $2"
		passed=$((passed + 1))
	else
		echo "FAIL $2: $3"
		failed=$((failed + 1))
	fi
}

finish() {
	if grep -q -E "AddressSanitizer|runtime error:" "$tmp"/stderr \
	    "$tmp"/log 2>/dev/null; then
		check 1 sanitizers "$(grep -h -m1 -E \
		    'AddressSanitizer|runtime error:' "$tmp"/stderr "$tmp"/log)"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

port=$("$SCANSION" --free-port) || { echo "no free port"; echo "0 passed, 1 failed"; exit 1; }

start_server() {
	"$UXMPPD" -c "$1" >"$tmp/stderr" 2>&1 &
	srv_pid=$!
	if ! "$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$srv_pid" \
	    --timeout 10; then
		echo "server did not start: $(tail -n 3 "$tmp/stderr")"
		echo "0 passed, 1 failed"
		exit 1
	fi
}

stop_server() {
	kill -TERM "$srv_pid"
	wait "$srv_pid"
	_rc=$?
	srv_pid=
	return $_rc
}
