#!/bin/sh
# tests/run-scenarios.sh [--selftest] [--prosody] [--keep]
#                         [--list NAMES --dir DIR] [FILE...]
#
# Runs each scenario (.scs, see ../shared/specs/SCANSION.md) against a
# freshly started server: a new data directory, the accounts of the
# scenario's [Client] blocks, the server on a free loopback port, the run
# (tests/scansion), then SIGTERM and a check that the server exited cleanly
# (status 0, no sanitizer report).  Prints one line per scenario,
# "PASS name" or "FAIL name: reason", then "N passed, N failed"; exits
# non-zero on any failure.  Without FILE it runs tests/scenarios/*.scs.
#
#   --selftest  judge each file by its "# expect: pass" comment, or else
#               expect the runner to fail (exit 1) at the first action after
#               a "# expect-fail-here" comment (anywhere without one); the
#               server must stay healthy either way.
#
# The server's configuration mirrors Prosody's suite setup
# (../shared/peer-scenarios/prosody/prosody.cfg.lua): admin@localhost is an
# administrator, only administrators create pubsub nodes, and the pubsub
# service names items' publishers.  A scenario adds keys of its own with
# "# config: KEY = VALUE" lines before its separator.
#   --prosody   run Prosody 0.12 instead of uxmppd (as root; uses
#               ../shared/peer-scenarios/prosody-0.12.cfg.lua), to check
#               the runner against the server the files were written for.
#   --keep      keep the temporary directories (as KEEP=1).
#   --list NAMES --dir DIR
#               also run DIR/NAME.scs for each name listed in the file
#               NAMES (one per line, '#' comments); with --dir missing,
#               say so and skip them (exit 0).
#
# Environment: UXMPPD (server binary, default ./uxmppd), SCANSION (runner,
# default tests/scansion), SCANSION_OPTS (extra runner options, e.g.
# "--timeout 5" or "-v"), START_TIMEOUT (seconds to wait for the port, 10),
# STOP_TIMEOUT (seconds to wait for a graceful exit, 10), SCANSION_TLS
# (starttls: every client negotiates STARTTLS and the server requires
# encryption; direct: every client uses a direct-TLS port, XEP-0368),
# VALGRIND (yes: the server runs under valgrind memcheck, make valgrind;
# any error it reports, or a definite or indirect leak at the exit after
# SIGTERM, fails the scenario, with the report in the output).

TEST_NAME=scs
. "$(dirname "$0")/lib.sh"
SCANSION_OPTS=${SCANSION_OPTS:-}
START_TIMEOUT=${START_TIMEOUT:-10}
STOP_TIMEOUT=${STOP_TIMEOUT:-10}
SCANSION_TLS=${SCANSION_TLS:-}
case $SCANSION_TLS in
''|starttls|direct) ;;
*) echo "run-scenarios: SCANSION_TLS must be starttls or direct" >&2; exit 2 ;;
esac
VALGRIND=${VALGRIND:-}
if [ -n "$VALGRIND" ]; then
	command -v valgrind >/dev/null 2>&1 || {
		echo "SKIP valgrind: valgrind not installed"
		echo "0 passed, 0 failed"
		exit 0
	}
	# Everything is slower under memcheck (about 20x), the leak check at
	# exit too.
	START_TIMEOUT=${START_TIMEOUT_VG:-60}
	STOP_TIMEOUT=${STOP_TIMEOUT_VG:-60}
	SCANSION_OPTS="--timeout 15 $SCANSION_OPTS"
fi
PROSODY_CFG=${PROSODY_CFG:-$ROOT/../shared/peer-scenarios/prosody-0.12.cfg.lua}

selftest=0
backend=uxmppd
list=
dir=
while [ $# -gt 0 ]; do
	case $1 in
	--list) list=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--selftest) selftest=1; shift ;;
	--prosody) backend=prosody; shift ;;
	--keep) KEEP=1; shift ;;
	--) shift; break ;;
	-*) echo "usage: $0 [--selftest] [--prosody] [--keep] [FILE...]" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ -n "$list" ]; then
	if [ ! -d "$dir" ]; then
		echo "run-scenarios: $dir not found; skipping the scenarios listed in $list"
		exit 0
	fi
	names=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list")
	if [ -z "$names" ] && [ $# -eq 0 ]; then
		echo "run-scenarios: no scenario names in $list"
		echo "0 passed, 0 failed"
		exit 0
	fi
	for n in $names; do
		set -- "$@" "$dir/$n.scs"
	done
elif [ $# -eq 0 ]; then
	set -- "$ROOT"/tests/scenarios/*.scs
	if [ ! -e "$1" ]; then
		echo "no scenarios in $ROOT/tests/scenarios"
		echo "0 passed, 0 failed"
		exit 0
	fi
fi
if [ ! -x "$SCANSION" ]; then
	echo "run-scenarios: $SCANSION missing (run make)" >&2
	exit 2
fi
if [ "$backend" = uxmppd ] && [ ! -x "$UXMPPD" ]; then
	echo "run-scenarios: $UXMPPD missing (run make)" >&2
	exit 2
fi

reason=
sdir=
tport=

uxmppd_setup() {
	conf=$sdir/uxmppd.conf
	cat >"$conf" <<EOF
domain = localhost
muc_domain = conference.localhost
c2s_listen = 127.0.0.1:$port
data_dir = $sdir/data
admins = admin@localhost
store_sync = none
log_level = debug
log_file = $sdir/uxmppd.log
pubsub_create_nodes = admins
pubsub_expose_publisher = yes
EOF
	cat "$ROOT/tests/scenario-extra.conf" >>"$conf"
	# A scenario's own settings: "# config: KEY = VALUE" lines (ours),
	# before the separator.
	sed -n -e '/^---/q' -e 's/^# *config: *//p' "$file" >>"$conf"
	if [ -n "$SCANSION_TLS" ]; then
		echo "require_encryption = yes" >>"$conf"
	fi
	if [ -n "$tport" ]; then
		echo "c2s_direct_tls_listen = 127.0.0.1:$tport" >>"$conf"
	fi
	mkdir -p "$sdir/data"
	while read -r jid pass; do
		if ! printf '%s\n' "$pass" | "$UXMPPD" -c "$conf" adduser "$jid" \
		    >>"$sdir/adduser.out" 2>&1; then
			reason="adduser $jid failed: $(tail -n 1 "$sdir/adduser.out")"
			return 1
		fi
	done <"$sdir/accounts"
	return 0
}

# Memcheck's own status 99 marks its errors; the server's own failures
# keep theirs.  Still-reachable blocks at exit are not leaks: what the
# process holds when it exits (the config, the listeners) is not lost.
VG_STATUS=99
uxmppd_start() {
	if [ -n "$VALGRIND" ]; then
		valgrind --tool=memcheck --error-exitcode=$VG_STATUS \
		    --leak-check=full --show-leak-kinds=definite,indirect,possible \
		    --errors-for-leak-kinds=definite,indirect,possible \
		    --track-origins=yes --num-callers=30 \
		    --log-file="$sdir/valgrind.log" \
		    "$UXMPPD" -c "$sdir/uxmppd.conf" >"$sdir/server.out" 2>&1 &
	else
		"$UXMPPD" -c "$sdir/uxmppd.conf" >"$sdir/server.out" 2>&1 &
	fi
	srv_pid=$!
}

prosody_setup() {
	mkdir -p "$sdir/certs"
	chown -R prosody: "$sdir"
	chmod 755 "$tmp" "$sdir"
	while read -r jid pass; do
		user=${jid%@*}
		host=${jid#*@}
		if ! SUITE_DATA=$sdir SUITE_PORT=$port prosodyctl \
		    --config "$PROSODY_CFG" register "$user" "$host" "$pass" \
		    >>"$sdir/adduser.out" 2>&1; then
			reason="prosodyctl register $jid failed"
			return 1
		fi
	done <"$sdir/accounts"
	return 0
}

prosody_start() {
	setpriv --reuid=prosody --regid=prosody --init-groups \
	    env SUITE_DATA="$sdir" SUITE_PORT="$port" \
	    prosody --config "$PROSODY_CFG" -F >"$sdir/server.out" 2>&1 &
	srv_pid=$!
}

server_log() {
	if [ "$backend" = uxmppd ]; then
		echo "$sdir/uxmppd.log"
	else
		echo "$sdir/prosody.log"
	fi
}

# One scenario: sets reason and returns non-zero on failure.
run_one() {
	file=$1
	"$SCANSION" --accounts "$file" >"$sdir/accounts" 2>"$sdir/scansion.out" || {
		reason="scenario does not parse: $(head -n 1 "$sdir/scansion.out")"
		return 1
	}
	tries=0
	while :; do
		tries=$((tries + 1))
		port=$("$SCANSION" --free-port) || { reason="no free port"; return 1; }
		tport=
		if [ "$SCANSION_TLS" = direct ]; then
			tport=$("$SCANSION" --free-port) || { reason="no free port"; return 1; }
		fi
		rm -rf "$sdir/data"
		"${backend}_setup" || return 1
		"${backend}_start"
		if "$SCANSION" --wait-port "127.0.0.1:${tport:-$port}" --wait-pid "$srv_pid" \
		    --timeout "$START_TIMEOUT" 2>>"$sdir/scansion.out"; then
			break
		fi
		# Lost a race for the port, or the server did not start.
		kill -KILL "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
		srv_pid=
		if [ $tries -ge 3 ]; then
			reason="server did not start listening on port $port"
			return 1
		fi
	done
	# shellcheck disable=SC2086
	"$SCANSION" $SCANSION_OPTS ${SCANSION_TLS:+--tls $SCANSION_TLS} \
	    --connect "127.0.0.1:${tport:-$port}" "$file" \
	    >"$sdir/scansion.out" 2>&1
	scs_rc=$?
	kill -TERM "$srv_pid" 2>/dev/null
	wait_child "$srv_pid" "$STOP_TIMEOUT"
	srv_pid=
	srv_st=$st
	res=0
	if [ "$selftest" = 1 ]; then
		expect=$(sed -n 's/^# *expect: *//p' "$file" | head -n 1)
		case $expect in
		pass)
			if [ $scs_rc -ne 0 ]; then
				reason=$(grep -m 1 '^FAIL' "$sdir/scansion.out" | sed 's/^FAIL [^ ]*: //')
				[ -n "$reason" ] || reason="runner exit $scs_rc"
				res=1
			fi ;;
		*)
			# The failing action is the first one after the
			# "# expect-fail-here" marker.
			line=$(awk '/^# *expect-fail-here/ { m = 1; next }
			    m && NF && !/^#/ { print NR; exit }' "$file")
			fl=$(grep -m 1 '^FAIL' "$sdir/scansion.out")
			if [ $scs_rc -ne 1 ]; then
				reason="expected a failure, runner exit $scs_rc"
				res=1
			elif [ -n "$line" ] && ! echo "$fl" | grep -q ":$line: "; then
				reason="expected a failure at line $line, got: $fl"
				res=1
			fi ;;
		esac
	elif [ $scs_rc -ne 0 ]; then
		reason=$(grep -m 1 '^FAIL' "$sdir/scansion.out" | sed 's/^FAIL [^ ]*: //')
		[ -n "$reason" ] || reason="runner exit $scs_rc: $(head -n 1 "$sdir/scansion.out")"
		res=1
	fi
	if [ -n "$VALGRIND" ] && [ "$srv_st" = $VG_STATUS ]; then
		reason="${reason:+$reason; }valgrind: $(grep -m 1 'ERROR SUMMARY' \
		    "$sdir/valgrind.log" | sed 's/^==[0-9]*== //')"
		res=1
	elif [ "$srv_st" = timeout ]; then
		reason="${reason:+$reason; }server did not exit within ${STOP_TIMEOUT}s of SIGTERM"
		res=1
	elif [ "$srv_st" -ne 0 ]; then
		reason="${reason:+$reason; }server exit status $srv_st"
		res=1
	fi
	if grep -q -E 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' \
	    "$sdir/server.out" "$(server_log)" 2>/dev/null; then
		reason="${reason:+$reason; }sanitizer report"
		res=1
	fi
	return $res
}

# After each scenario: a server left running is killed; its directory
# goes unless KEEP=1 (tests/lib.sh removes the rest at exit).
cleanup() {
	if [ -n "$srv_pid" ]; then
		kill -KILL "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
		srv_pid=
	fi
	if [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$sdir"
	fi
}

i=0
for file in "$@"; do
	name=$(basename "$file" .scs)
	reason=
	i=$((i + 1))
	sdir=$tmp/$i-$name
	mkdir "$sdir"
	if run_one "$file"; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $reason"
		failed=$((failed + 1))
		if [ -s "$sdir/scansion.out" ]; then
			sed 's/^/    | /' "$sdir/scansion.out" | head -n 40
		fi
		if [ -n "$VALGRIND" ] && grep -q 'ERROR SUMMARY: [1-9]' \
		    "$sdir/valgrind.log" 2>/dev/null; then
			echo "    --- valgrind.log:"
			sed -e '1,/^==[0-9]*== Parent PID/d' -e '/LEAK SUMMARY/,$d' \
			    "$sdir/valgrind.log" | head -n 120 | sed 's/^/    | /'
		fi
		log=$(server_log)
		for f in "$sdir/server.out" "$log"; do
			if [ -s "$f" ]; then
				echo "    --- tail of $(basename "$f"):"
				tail -n 15 "$f" | sed 's/^/    | /'
			fi
		done
		if [ "${KEEP:-0}" = 1 ]; then
			echo "    (kept $sdir)"
		fi
	fi
	cleanup
done
summary
