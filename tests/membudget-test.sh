#!/bin/sh
# tests/membudget-test.sh - the memory budget (max_memory_mb, mem.h) over
# real sockets: a server with a 4 MiB budget, slow readers flooded until
# their output queues pass it; new connections are refused with
# <resource-constraint/>, the slow readers are closed for the budget, a
# well-behaved pair keeps exchanging messages within 1 s throughout, and
# the server is never killed (tests/membudget-probe.py).  Prints PASS/FAIL
# lines and "N passed, N failed".
TEST_NAME=membudget
. "$(dirname "$0")/lib.sh"
new_port port
nslow=8

# max_output_bytes above the budget: the budget, not the per-client cap,
# is what cuts the slow readers off.
cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = none
log_level = ${MEMBUDGET_LOG_LEVEL:-info}
log_file = $tmp/log
max_memory_mb = 4
max_output_bytes = 8388608
EOC
mkdir -p "$tmp/data"
users="alice bob flood probe"
i=0
while [ $i -lt $nslow ]; do
	users="$users slow$i"
	i=$((i + 1))
done
for u in $users; do
	echo password | "$UXMPPD" -c "$tmp/conf" adduser "$u@localhost" \
	    >>"$tmp/stderr" 2>&1 || abort "adduser $u failed"
done
start_server "$tmp/conf"

grep -q "memory budget 4 MiB" "$tmp/log"
check $? "budget-logged" "no 'memory budget 4 MiB' line at start"
out=$("$PY" "$ROOT/tests/membudget-probe.py" "$port" $nslow "$tmp/log" 2>&1)
check $? "flood" "$out"
echo "$out" | grep '^OK' | sed 's/^/    /'
kill -0 "$srv_pid" 2>/dev/null
check $? "alive" "the server is gone: $(tail -n 3 "$tmp/stderr")"
grep -q "refusing new connections" "$tmp/log"
check $? "refusal-logged" "no 'refusing new connections' line"
stop_server
rc=$?
check $rc "clean-exit" "exit status $rc"
finish
