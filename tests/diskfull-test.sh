#!/bin/sh
# tests/diskfull-test.sh - a full disk under a running uxmppd: data_dir is
# a small tmpfs that tests/diskfull-probe.py fills up.  Changes are
# refused with resource-constraint, the reply of the change whose flush
# failed waits until it is on disk, reads work, clients that change
# nothing keep chatting, and writing resumes by itself when space
# returns; after a restart every acknowledged change is there.  Needs
# root for the mount: otherwise a SKIP.  Prints "N passed, N failed".
TEST_NAME=diskfull
. "$(dirname "$0")/lib.sh"
new_port port

mkdir -p "$tmp/data"
if ! mount -t tmpfs -o size=4m,mode=0700 tmpfs "$tmp/data" 2>/dev/null; then
	skip "diskfull" "cannot mount a tmpfs here (not root?)"
	COUNT_SKIPS=1
	finish
fi
disk_cleanup() {
	if [ -n "$srv_pid" ]; then
		kill -KILL "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
		srv_pid=
	fi
	umount "$tmp/data" 2>/dev/null
	lib_cleanup
}
trap disk_cleanup EXIT

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = always
log_file = $tmp/log
log_level = info
EOC
for u in romeo carol alice bob; do
	echo password | "$UXMPPD" -c "$tmp/conf" adduser "$u@localhost" >/dev/null
done
start_server "$tmp/conf"

run_probe() {
	"$PY" "$ROOT/tests/diskfull-probe.py" "$port" "$tmp/data" "$1" \
	    >"$tmp/probe.$1" 2>&1
	rc=$?
	while read -r st name rest; do
		case $st in
		OK)	pass "$name" ;;
		FAIL)	fail "${name%:}" "$rest" ;;
		*)	;;
		esac
	done <"$tmp/probe.$1"
	[ "$rc" -eq 0 ] || grep -q '^FAIL' "$tmp/probe.$1" ||
	    fail "probe-$1" "exit $rc: $(tail -n 3 "$tmp/probe.$1")"
}
run_probe full
grep -q "store flush failed" "$tmp/log"
check $? "failure-logged" "no 'store flush failed' line"
grep -q "writable again" "$tmp/log"
check $? "recovery-logged" "no 'writable again' line"
kill -0 "$srv_pid" 2>/dev/null
check $? "server-alive" "the server stopped"
stop_server
check $? "clean-exit" "exit status not 0"
start_server "$tmp/conf"
run_probe after-restart
stop_server
finish
