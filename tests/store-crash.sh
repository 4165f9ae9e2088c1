#!/bin/sh
# store-crash.sh - kill -9 the server while a client is changing the store,
# over several rounds on the same data directory, and check that nothing
# acknowledged is ever lost.
#
# A round: tests/crash_driver (see its header) logs in as the owner of a
# persistent room and streams affiliation changes, room configuration
# changes and in-band account registrations, printing each change once
# its iq result has arrived; after a random 50-500 ms the server gets
# kill -9.  Then:
#   - `uxmppd store-check` exits 0 (a torn last record is allowed: it is
#     an unacknowledged write, truncated at the next start);
#   - a few offline `adduser` runs are killed at random moments (an
#     account whose run printed "done" counts as acknowledged);
#   - the server starts again on the same store;
#   - `uxmppd store-dump` matches the journal of every round so far: for
#     each key, the latest acknowledged value (a deleted affiliation is an
#     absent record), or the value of a change still in flight at the kill,
#     which may or may not have landed; whatever a round finds for such a
#     key becomes the value later rounds must find.  Records of those kinds
#     that no request explains are failures too.
# While the server runs, a second process must be refused the store,
# naming the server's pid.  A kill -9 leaves the page cache intact: a
# power cut (the fdatasync half of durability) is not covered.
#
# usage: tests/store-crash.sh [ROUNDS]     (default 3; make store-crash
#        STORE_CRASH_ROUNDS=50 for a long run)
# Environment: UXMPPD (default ./uxmppd), CRASH_DRIVER (default
# $BUILD/crash_driver), SCANSION (default tests/scansion), KEEP=1 keeps
# the temporary directory.  Prints one PASS/FAIL line per round, then
# "N passed, N failed"; exits non-zero on any failure.
cd "$(dirname "$0")/.." || exit 1
BIN=${UXMPPD:-./uxmppd}
DRIVER=${CRASH_DRIVER:-${BUILD:-build}/crash_driver}
SCANSION=${SCANSION:-tests/scansion}
ROUNDS=${1:-3}
ADDUSER_PER_ROUND=2
OWNER=owner@localhost
ROOM=crash@conference.localhost
for b in "$BIN" "$DRIVER" "$SCANSION"; do
	[ -x "$b" ] || { echo "store-crash: $b missing (make first)"; exit 1; }
done

dir=$(mktemp -d /tmp/store-crash.XXXXXX) || exit 1
spid=''
dpid=''
cleanup() {
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "store-crash: kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A random number 0..65535 without $RANDOM.
rand16() {
	od -An -N2 -tu2 /dev/urandom | tr -d ' \n'
}
# Sleep $1 milliseconds.
sleep_ms() {
	sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

port=$("$SCANSION" --free-port) || exit 1
conf=$dir/uxmppd.conf
cat >"$conf" <<EOF
domain = localhost
muc_domain = conference.localhost
data_dir = $dir/data
c2s_listen = 127.0.0.1:$port
log_file = $dir/uxmppd.log
store_sync = always
allow_registration = yes
EOF
journal=$dir/journal
mkdir -p "$dir/data"
if ! printf 'ownerpw\n' | "$BIN" -c "$conf" adduser "$OWNER" \
    >"$dir/add.out" 2>&1; then
	echo "store-crash: adduser $OWNER: $(cat "$dir/add.out")"
	exit 1
fi
echo "ack acct $OWNER - yes" >"$journal"

# Start the server on the store; 0 once it listens.
start_server() {
	"$BIN" -c "$conf" >>"$dir/server.out" 2>&1 &
	spid=$!
	"$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$spid" \
	    --timeout 10 2>/dev/null
}

# Add to the reason this round fails.
because() {
	reason="${reason:+$reason; }$*"
}

# Wait for pid $1 up to $2 s, else kill -9 it; sets st (or st=timeout).
wait_pid() {
	if "$SCANSION" --wait-exit "$1" --timeout "$2" 2>/dev/null; then
		wait "$1"
		st=$?
	else
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		st=timeout
	fi
}

# store-dump -> "KIND OBJ ATTR VALUE" lines, as in the driver's journal,
# for the records the driver writes: accounts, the affiliation (the value
# up to its first tab), and the room (it exists; its name, description).
dump_state() {
	awk -F '\t' '
	$1 == "account" { print "acct", $2, "-", "yes" }
	$1 == "muc_aff" {
		split($2, k, " ")
		v = $3
		sub(/\\t.*/, "", v)
		print "aff", k[1], k[2], v
	}
	$1 == "muc_room" {
		print "cfg", $2, "persistent", 1
		n = split($3, kv, /\\n/)
		for (i = 1; i <= n; i++) {
			if (split(kv[i], f, /\\t/) == 2 &&
			    (f[1] == "name" || f[1] == "desc"))
				print "cfg", $2, f[1], f[2]
		}
	}' "$1"
}

# check JOURNAL STATE RESOLVED: print the differences, one per line, and
# write "seen KEY VALUE" to RESOLVED for every key a change was in flight
# for or that differs (so a loss is reported in the round it happened
# only).  "-" is an absent record (so is affiliation "none").
check_state() {
	awk -v resolved="$3" '
	function norm(kind, v) {
		return kind == "aff" && v == "none" ? "-" : v
	}
	function show(k, v) {
		sub(/ -$/, "", k)
		return k " = " (v == "-" ? "(absent)" : v)
	}
	FNR == NR {
		k = $2 " " $3 " " $4
		v = norm($2, $5)
		known[k] = 1
		if ($1 == "ack" || $1 == "seen") {
			base[k] = v
			acked[k] = ($1 == "ack") || acked[k]
			maybe[k] = ""
		} else if ($1 == "sent") {
			maybe[k] = maybe[k] " " v
		}
		next
	}
	{ have[$1 " " $2 " " $3] = $4 }
	END {
		for (k in have) {
			if (!(k in known)) {
				print "unexpected record " show(k, have[k])
				print "seen", k, have[k] > resolved
			}
		}
		for (k in known) {
			v = (k in have) ? have[k] : "-"
			b = (k in base) ? base[k] : "-"
			ok = v == b || index(maybe[k] " ", " " v " ") > 0
			if (maybe[k] != "" || !ok)
				print "seen", k, v > resolved
			if (ok)
				continue
			if (acked[k])
				print "lost acknowledged " show(k, b) \
				    ", store has " (v == "-" ? "none" : v)
			else
				print "unexpected " show(k, v) ", expected " \
				    (b == "-" ? "none" : b)
		}
	}' "$1" "$2"
}

passed=0 failed=0 acks=0 torn=0
if ! start_server; then
	echo "store-crash: the server did not start: $(tail -n 3 "$dir/server.out")"
	echo "0 passed, 1 failed"
	exit 1
fi
round=1
while [ "$round" -le "$ROUNDS" ]; do
	reason=

	# the lock: a second process opening the store is refused, naming
	# the server (account commands go through the control socket)
	if "$BIN" -c "$conf" store-compact >"$dir/lock.out" 2>&1; then
		because "store-compact ran beside the server"
	elif ! grep -q "pid $spid" "$dir/lock.out"; then
		because "lock message: $(cat "$dir/lock.out")"
	fi

	# the client, and kill -9 at a random moment
	"$DRIVER" -s "$(rand16)$(rand16)" -t "r$round" "127.0.0.1:$port" \
	    "$OWNER" ownerpw "$ROOM" >"$dir/round.out" 2>"$dir/driver.err" &
	dpid=$!
	ms=$((50 + $(rand16) % 451))
	sleep_ms "$ms"
	kill -9 "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
	wait_pid "$dpid" 10
	dpid=
	# 3: the connection was lost, as it should be
	if [ "$st" != 3 ]; then
		because "driver exit $st: $(grep -v seed "$dir/driver.err" |
		    tail -n 1)"
	fi
	if grep -q -E 'Sanitizer|runtime error' "$dir/driver.err"; then
		because "sanitizer report from the driver"
	fi
	cat "$dir/round.out" >>"$journal"
	n=$(grep -c '^ack' "$dir/round.out")
	acks=$((acks + n))

	# the store is sound
	if ! "$BIN" -c "$conf" store-check >"$dir/check.out" 2>&1; then
		because "store-check: $(head -n 2 "$dir/check.out" | tr '\n' ' ')"
	elif grep -q 'torn last record' "$dir/check.out"; then
		torn=$((torn + 1))
	fi

	# offline account creations killed at random moments
	i=1
	while [ "$i" -le "$ADDUSER_PER_ROUND" ]; do
		jid="r$round-a$i@localhost"
		echo "sent acct $jid - yes" >>"$journal"
		printf 'secret\n' | "$BIN" -c "$conf" adduser "$jid" \
		    >"$dir/add.out" 2>&1 &
		apid=$!
		sleep_ms $(($(rand16) % 8))
		kill -9 "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
		if grep -q "done" "$dir/add.out"; then
			echo "ack acct $jid - yes" >>"$journal"
		fi
		i=$((i + 1))
	done

	# it starts again and holds everything acknowledged
	if ! start_server; then
		echo "FAIL round $round: the server did not restart:" \
		    "$(tail -n 3 "$dir/server.out")"
		failed=$((failed + 1))
		kill -9 "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		spid=
		break
	fi
	if "$BIN" -c "$conf" store-dump >"$dir/dump.out" 2>&1; then
		dump_state "$dir/dump.out" >"$dir/state"
		: >"$dir/resolved"
		check_state "$journal" "$dir/state" "$dir/resolved" \
		    >"$dir/diff"
		cat "$dir/resolved" >>"$journal"
		if [ -s "$dir/diff" ]; then
			because "$(wc -l <"$dir/diff") difference(s):" \
			    "$(sort "$dir/diff" | head -n 3 | sed 's/$/;/' |
			    tr '\n' ' ')"
		fi
	else
		because "store-dump: $(head -n 1 "$dir/dump.out")"
	fi
	if [ -z "$reason" ]; then
		echo "PASS round $round: killed after $ms ms, $n changes" \
		    "acknowledged"
		passed=$((passed + 1))
	else
		echo "FAIL round $round (killed after $ms ms, $n acknowledged):" \
		    "$reason"
		failed=$((failed + 1))
	fi
	round=$((round + 1))
done

# a clean stop at the end leaves a sound store
if [ -n "$spid" ]; then
	kill -TERM "$spid"
	wait_pid "$spid" 10
	spid=
	if [ "$st" != 0 ]; then
		echo "FAIL final stop: server exit $st"
		failed=$((failed + 1))
	elif ! "$BIN" -c "$conf" store-check >"$dir/check.out" 2>&1; then
		echo "FAIL final stop: store-check: $(head -n 1 "$dir/check.out")"
		failed=$((failed + 1))
	fi
fi
if [ "$acks" -eq 0 ]; then
	echo "FAIL the driver had no change acknowledged in any round"
	failed=$((failed + 1))
fi
if grep -q -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$dir/server.out" \
    "$dir/uxmppd.log" 2>/dev/null; then
	echo "FAIL sanitizer report from the server"
	failed=$((failed + 1))
fi
echo "store-crash: $acks changes acknowledged, $torn torn tail(s) seen"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
