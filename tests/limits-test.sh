#!/bin/sh
# tests/limits-test.sh - per-connection limits against a real uxmppd over
# real sockets: a slow reader is dropped when its output queue passes
# max_output_bytes (the sender keeps being served), an oversize stanza gets
# <policy-violation/>, an unauthenticated connection times out, idle
# connections do not block others.  The probes are tests/limits-probe.py.
# Prints PASS/FAIL lines and "N passed, N failed".
TEST_NAME=limits
. "$(dirname "$0")/lib.sh"
new_port port

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
start_server "$tmp/conf"

for c in slow-reader oversize auth-timeout many-idle; do
	out=$("$PY" "$ROOT/tests/limits-probe.py" "$port" "$c" 2>&1)
	check $? "$c" "$out"
done
grep -q "output over 65536 bytes" "$tmp/log"
check $? "slow-reader-logged" "no 'output over' line in the log"

stop_server
rc=$?
check $rc "clean-exit" "exit status $rc"
finish
