#!/bin/sh
# tests/soak-test.sh [SECONDS] - the soak test (make soak): the mixed
# workload of tests/soak_client.c (logins, MUC chatter, presence storms,
# joins and leaves, slow readers, drops and stream resumption, a probe
# pair timing round trips) against one server for SECONDS (SOAK_SECONDS,
# default 600), then:
#   - the workload's own checks (soak_client.c: RSS within 10% of its
#     plateau under the same load and after it, every probe answered,
#     resumptions that worked, no stream error for a well-behaved client);
#   - no file descriptor leaked: /proc/PID/fd counted before the load and
#     after it, once every session is gone; the open message archives
#     (archive.c keeps up to ARCHIVE_MAX_OPEN of them open, 4 fds each)
#     are counted apart and must stay within that cache;
#   - a clean exit at SIGTERM (status 0), no sanitizer report (make soak
#     runs the ASan build, whose LeakSanitizer checks at exit).
# Environment: UXMPPD, SCANSION (tests/lib.sh), SOAK_CLIENT (default
# $BUILD/soak_client), SOAK_USERS (30), SOAK_SLOW (3 slow readers).
TEST_NAME=soak
. "$(dirname "$0")/lib.sh"
seconds=${1:-${SOAK_SECONDS:-600}}
users=${SOAK_USERS:-30}
slow=${SOAK_SLOW:-3}
SOAK_CLIENT=${SOAK_CLIENT:-$ROOT/${BUILD:-build}/soak_client}
need "$UXMPPD" "$SCANSION" "$SOAK_CLIENT"
# ASan: a small quarantine, or freed memory held there looks like growth.
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=1:detect_leaks=1}
export ASAN_OPTIONS
new_port port

# A small output cap so the slow readers are cut off within the run; a
# short resumption window so no session outlives the load for long.
cat >"$tmp/conf" <<EOC
domain = localhost
muc_domain = conference.localhost
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = none
log_level = info
log_file = $tmp/log
max_output_bytes = 65536
sm_resume_timeout_s = 20
EOC
mkdir -p "$tmp/data"
i=0
while [ $i -lt "$users" ]; do
	echo soak | "$UXMPPD" -c "$tmp/conf" adduser "soak$i@localhost" \
	    >>"$tmp/stderr" 2>&1 || abort "adduser soak$i failed"
	i=$((i + 1))
done
i=0
while [ $i -lt "$slow" ]; do
	echo soak | "$UXMPPD" -c "$tmp/conf" adduser "slow$i@localhost" \
	    >>"$tmp/stderr" 2>&1 || abort "adduser slow$i failed"
	i=$((i + 1))
done
start_server "$tmp/conf"

# The server's fds outside the archive cache, and those in it.
fds() {
	ls -l "/proc/$srv_pid/fd" 2>/dev/null | grep -c -v -e "$tmp/data/archive/" -e '^total'
}
archive_fds() {
	ls -l "/proc/$srv_pid/fd" 2>/dev/null | grep -c "$tmp/data/archive/"
}
arc_cache=$(sed -n 's/^#define ARCHIVE_MAX_OPEN[[:space:]]*\([0-9]*\).*/\1/p' \
    "$ROOT/uxlimits.h")
# The server up and listening, nobody connected (--wait-port's probe
# connection closed).
sleep 1
fd0=$(fds)
SERVER_PID=$srv_pid "$SOAK_CLIENT" 127.0.0.1 "$port" "$seconds" "$users" \
    "$slow" >"$tmp/client.out" 2>&1
rc=$?
grep '^soak:' "$tmp/client.out"
check $rc workload "$(grep -m 3 -e FAIL -e soak_client "$tmp/client.out")"

# Every connection is closed; wait for the server to free them.
n=0
fd1=$(fds)
while [ "$fd1" -gt "$fd0" ] && [ $n -lt 20 ]; do
	sleep 1
	n=$((n + 1))
	fd1=$(fds)
done
afd=$(archive_fds)
echo "soak: server file descriptors $fd0 before, $fd1 after, and $afd of open archives"
if [ "$fd1" -le "$fd0" ] && [ "$afd" -le $((4 * ${arc_cache:-0})) ]; then
	pass fds "$fd0 before, $fd1 after; $afd archive fds"
else
	ls -l "/proc/$srv_pid/fd" >"$tmp/out" 2>&1
	fail fds "$fd0 before the load, $fd1 after; $afd archive fds (cache: $arc_cache archives)"
	: >"$tmp/out"
fi
stop_server
rc=$?
check $rc clean-exit "exit status $rc: $(tail -n 5 "$tmp/stderr")"
finish
