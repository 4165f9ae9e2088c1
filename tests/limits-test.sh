#!/bin/sh
# tests/limits-test.sh - per-connection limits against a real uxmppd over
# real sockets: a slow reader is dropped when its output queue passes
# max_output_bytes (the sender keeps being served), an oversize stanza gets
# <policy-violation/>, an unauthenticated connection times out, idle
# connections do not block others.  The probes are tests/limits-probe.py.
# Prints PASS/FAIL lines and "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
PY=${PYTHON:-python3}
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uxmppd-limits.XXXXXX")
srv_pid=

cleanup() {
	[ -n "$srv_pid" ] && kill -KILL "$srv_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

result() {
	if [ "$1" -eq 0 ]; then
		echo "PASS $2"
		passed=$((passed + 1))
	else
		echo "FAIL $2: $3"
		failed=$((failed + 1))
	fi
}

port=$("$SCANSION" --free-port) || { echo "no free port"; echo "0 passed, 1 failed"; exit 1; }
cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = none
log_level = info
log_file = $tmp/log
max_output_bytes = 65536
max_stanza_bytes = 16384
auth_timeout_s = 2
EOC
mkdir -p "$tmp/data"
for u in romeo juliet; do
	echo password | "$UXMPPD" -c "$tmp/conf" adduser "$u@localhost" >/dev/null
done
ulimit -n 4096 2>/dev/null
"$UXMPPD" -c "$tmp/conf" >"$tmp/stderr" 2>&1 &
srv_pid=$!
"$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$srv_pid" --timeout 10 ||
    { echo "server did not start"; echo "0 passed, 1 failed"; exit 1; }

for c in slow-reader oversize auth-timeout many-idle; do
	out=$("$PY" "$ROOT/tests/limits-probe.py" "$port" "$c" 2>&1)
	result $? "$c" "$out"
done
grep -q "output over 65536 bytes" "$tmp/log"
result $? "slow-reader-logged" "no 'output over' line in the log"

kill -TERM "$srv_pid"
wait "$srv_pid"
rc=$?
srv_pid=
result $rc "clean-exit" "exit status $rc"
if grep -q -E "AddressSanitizer|runtime error:" "$tmp/stderr" "$tmp/log"; then
	result 1 "sanitizers" "$(grep -m1 -E 'AddressSanitizer|runtime error:' "$tmp/stderr" "$tmp/log")"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
