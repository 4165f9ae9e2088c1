#!/bin/sh
# tests/enumeration-test.sh - SCRAM must not tell which accounts exist:
# an unknown user's salt is as stable as a real user's, across a restart
# too (keyed by data_dir/scram-fake-salt-key, mode 0600), with the same
# length and the same iteration count.  Probes: tests/scram-probe.py.
# Prints PASS/FAIL lines and "N passed, N failed".
TEST_NAME=enumeration
. "$(dirname "$0")/lib.sh"
new_port port

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = none
log_file = $tmp/log
scram_iterations = 5000
EOC
mkdir -p "$tmp/data"
echo password | "$UXMPPD" -c "$tmp/conf" adduser "romeo@localhost" >/dev/null

# probe RUN: both mechanisms, the real user and two unknown ones
probe() {
	for m in SCRAM-SHA-1 SCRAM-SHA-256; do
		"$PY" "$ROOT/tests/scram-probe.py" "$port" "$m" romeo nobody \
		    ghost | sed "s/^/$m /"
	done >"$tmp/probe.$1"
	! grep -q FAIL "$tmp/probe.$1"
	check $? "probe-$1" "$(cat "$tmp/probe.$1")"
}
field() {	# field RUN MECH USER COLUMN
	awk -v m="$2" -v u="$3" -v c="$4" '$1 == m && $2 == u { print $c }' \
	    "$tmp/probe.$1"
}

start_server "$tmp/conf"
probe 1
probe 2
stop_server
start_server "$tmp/conf"
probe 3
stop_server

for m in SCRAM-SHA-1 SCRAM-SHA-256; do
	for u in romeo nobody ghost; do
		s1=$(field 1 $m $u 3) s2=$(field 2 $m $u 3) s3=$(field 3 $m $u 3)
		[ -n "$s1" ] && [ "$s1" = "$s2" ] && [ "$s1" = "$s3" ]
		check $? "salt-stable-$m-$u" "$s1 / $s2 / after restart $s3"
		i=$(field 3 $m $u 4)
		[ "$i" = 5000 ]
		check $? "iterations-$m-$u" "i=$i, romeo has 5000"
		r=$(field 3 $m romeo 3)
		[ "${#s3}" -eq "${#r}" ]
		check $? "salt-length-$m-$u" "$s3 vs romeo's $r"
	done
	[ "$(field 3 $m nobody 3)" != "$(field 3 $m ghost 3)" ]
	check $? "salts-differ-$m" "two unknown users share a salt"
done
mode=$(stat -c %a "$tmp/data/scram-fake-salt-key" 2>/dev/null)
[ "$mode" = 600 ]
check $? "key-file-0600" "mode '$mode'"
finish
