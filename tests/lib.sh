# tests/lib.sh - sourced by every shell test (and tests/run-all.sh).  It
# sets ROOT, UXMPPD, SCANSION, PY, the counters passed, failed and
# skipped, and a temporary directory $tmp, removed at exit together with
# any server ($srv_pid) still running; KEEP=1 keeps it (the path is
# printed).  Set TEST_NAME before sourcing (names the temporary
# directory), and ROOT when the script is not in tests/ itself
# (tests/compliance/, tests/interop/).
#
# Counting, one line per check:
#   pass NAME [DETAIL]     "PASS NAME[: DETAIL]", counted
#   fail NAME REASON       "FAIL NAME: REASON", counted; the first lines of
#                          $tmp/out follow when it is not empty
#   skip NAME REASON       "SKIP NAME: REASON", counted in skipped (not a
#                          pass or a failure)
#   check RC NAME REASON   pass NAME when RC is 0, else fail NAME REASON
#   summary                "N passed, N failed"; status 0 when none failed;
#                          with COUNT_SKIPS=1 (set before sourcing) it and
#                          abort end ", N skipped" (tests/interop/run.sh)
#   finish                 fail "sanitizers" for a sanitizer report in
#                          $tmp/stderr or $tmp/log, then summary and exit
#   count_step RC FILE     add the last "N passed, N failed" in FILE, the
#                          output of a step that exited with RC (a test
#                          binary, another script): no such line is one
#                          failure, and so is RC non-zero with 0 failed;
#                          sets step_passed, step_failed and step_line
#   abort REASON           "FAIL setup: REASON", "0 passed, 1 failed" and
#                          exit 1 (a test that cannot start still counts)
# A server:
#   new_port VAR           a free loopback port into VAR (or abort)
#   need FILE...           abort unless each FILE is executable
#   server_up CONF [PORT]  run uxmppd -c CONF (output appended to
#                          $tmp/stderr) until it accepts on PORT (default
#                          $port); status 1 if it did not
#   start_server CONF [PORT]  server_up, or abort
#   stop_server            SIGTERM, wait; the status is the server's
#   wait_child PID SEC     wait up to SEC for PID, else SIGKILL it; sets st
#                          to its exit status or to "timeout"
#   sanitizer_report FILE...  status 0 if a FILE holds a sanitizer report
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
PY=${PYTHON:-python3}
passed=0
failed=0
skipped=0
srv_pid=
# The summary line of counts $1 passed, $2 failed, $3 skipped.
lib_counts() {
	if [ "${COUNT_SKIPS:-0}" = 1 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/uxmppd-${TEST_NAME:-test}.XXXXXX") ||
    { lib_counts 0 1 0; exit 1; }

lib_cleanup() {
	if [ -n "$srv_pid" ]; then
		kill -KILL "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
		srv_pid=
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "${TEST_NAME:-test}: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap lib_cleanup EXIT
trap 'exit 130' HUP INT TERM
trap 'exit 141' PIPE

pass() {
	echo "PASS $1${2:+: $2}"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
	if [ -s "$tmp/out" ]; then
		sed 's/^/    | /' "$tmp/out" | head -n 20
	fi
}

skip() {
	echo "SKIP $1: $2"
	skipped=$((skipped + 1))
}

check() {
	if [ "$1" -eq 0 ]; then
		echo "PASS $2"
		passed=$((passed + 1))
	else
		echo "FAIL $2: $3"
		failed=$((failed + 1))
	fi
}

summary() {
	lib_counts "$passed" "$failed" "$skipped"
	[ "$failed" -eq 0 ]
}

SANITIZER_RE='ERROR: [A-Za-z]+Sanitizer|AddressSanitizer|runtime error:'
sanitizer_report() {
	grep -q -E "$SANITIZER_RE" "$@" 2>/dev/null
}

finish() {
	if sanitizer_report "$tmp"/stderr "$tmp"/log; then
		check 1 sanitizers "$(grep -h -m1 -E "$SANITIZER_RE" \
		    "$tmp"/stderr "$tmp"/log 2>/dev/null | head -n 1)"
	fi
	summary
	exit
}

count_step() {
	step_line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	set -- "$1" $(printf '%s\n' "$step_line" |
	    sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/')
	if [ -z "$step_line" ]; then
		set -- "$1" 0 1
	elif [ "$1" -ne 0 ] && [ "$3" -eq 0 ]; then
		set -- "$1" "$2" 1
	fi
	step_passed=$2
	step_failed=$3
	passed=$((passed + $2))
	failed=$((failed + $3))
}

abort() {
	echo "FAIL setup: $*"
	lib_counts 0 1 0
	exit 1
}

need() {
	for _f in "$@"; do
		[ -x "$_f" ] || abort "$_f missing (run make)"
	done
}

new_port() {
	_p=$("$SCANSION" --free-port) || abort "no free port"
	eval "$1=\$_p"
}

server_up() {
	"$UXMPPD" -c "$1" >>"$tmp/stderr" 2>&1 &
	srv_pid=$!
	"$SCANSION" --wait-port "127.0.0.1:${2:-$port}" --wait-pid "$srv_pid" \
	    --timeout 10
}

start_server() {
	server_up "$@" ||
	    abort "server did not start: $(tail -n 3 "$tmp/stderr")"
}

stop_server() {
	kill -TERM "$srv_pid"
	wait "$srv_pid"
	_rc=$?
	srv_pid=
	return $_rc
}

wait_child() {
	if "$SCANSION" --wait-exit "$1" --timeout "$2" 2>/dev/null; then
		wait "$1"
		st=$?
	else
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		st=timeout
	fi
}
