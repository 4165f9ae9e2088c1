#!/bin/sh
# store-crash.sh - kill -9 the server while a client is changing the store,
# over several rounds on the same data directory, and check that nothing
# acknowledged is ever lost.
#
# A round: tests/crash_driver (see its header) logs in as the owner of a
# persistent room and streams affiliation changes, room configuration
# changes, PEP publishes, in-band account registrations, groupchat
# messages (archived by the room) and chat messages to a second account
# logged in beside it (archived in both accounts' archives), printing each
# change once its iq result (or the message's reflection, or its arrival
# at the other account) has arrived; after a random 50-500 ms the server
# gets kill -9.  Then:
#   - `uxmppd store-check` exits 0 (a torn last record is allowed: it is
#     an unacknowledged write, truncated at the next start);
#   - a few offline `adduser` runs are killed at random moments (an
#     account whose run printed "done" counts as acknowledged);
#   - the server starts again on the same store;
#   - `uxmppd store-dump` and the `uxmppd archive-dump` of the room, the
#     owner and the chat peer match the journal of every round so far: for
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
# Environment (and tests/lib.sh): UXMPPD, CRASH_DRIVER (default
# $BUILD/crash_driver), SCANSION, KEEP=1 keeps
# the temporary directory.  Prints one PASS/FAIL line per round, then
# "N passed, N failed"; exits non-zero on any failure.
TEST_NAME=store-crash
. "$(dirname "$0")/lib.sh"
DRIVER=${CRASH_DRIVER:-$ROOT/${BUILD:-build}/crash_driver}
ROUNDS=${1:-3}
ADDUSER_PER_ROUND=2
OWNER=owner@localhost
PEER=peer@localhost
ROOM=crash@conference.localhost
need "$UXMPPD" "$DRIVER" "$SCANSION"
new_port port
dpid=''
# The driver too, on the way out.
trap '[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null; lib_cleanup' EXIT

# A random number 0..65535 without $RANDOM.
rand16() {
	od -An -N2 -tu2 /dev/urandom | tr -d ' \n'
}
# Sleep $1 milliseconds.
sleep_ms() {
	sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

conf=$tmp/uxmppd.conf
cat >"$conf" <<EOF
domain = localhost
muc_domain = conference.localhost
data_dir = $tmp/data
c2s_listen = 127.0.0.1:$port
log_file = $tmp/log
store_sync = always
allow_registration = yes
EOF
journal=$tmp/journal
mkdir -p "$tmp/data"
printf 'ownerpw\n' | "$UXMPPD" -c "$conf" adduser "$OWNER" \
    >"$tmp/add.out" 2>&1 || abort "adduser $OWNER: $(cat "$tmp/add.out")"
printf 'peerpw\n' | "$UXMPPD" -c "$conf" adduser "$PEER" \
    >"$tmp/add.out" 2>&1 || abort "adduser $PEER: $(cat "$tmp/add.out")"
printf 'ack acct %s - yes\n' "$OWNER" "$PEER" >"$journal"

# Add to the reason this round fails.
because() {
	reason="${reason:+$reason; }$*"
}

# store-dump -> "KIND OBJ ATTR VALUE" lines, as in the driver's journal,
# for the records the driver writes: accounts, the affiliation (the value
# up to its first tab), the room (it exists; its name, description), and
# PEP items (the text of the one each node keeps).
dump_state() {
	awk -F '\t' '
	$1 == "account" { print "acct", $2, "-", "yes" }
	$1 == "muc_aff" {
		split($2, k, " ")
		v = $3
		sub(/\\t.*/, "", v)
		print "aff", k[1], k[2], v
	}
	$1 == "ps-item" {
		split($2, k, " ")
		v = $3
		sub(/^[^>]*>/, "", v)
		sub(/<.*$/, "", v)
		print "pep", k[1], k[2], v
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

acks=0 torn=0
server_up "$conf" 2>/dev/null ||
    abort "the server did not start: $(tail -n 3 "$tmp/stderr")"
round=1
while [ "$round" -le "$ROUNDS" ]; do
	reason=

	# the lock: a second process opening the store is refused, naming
	# the server (account commands go through the control socket)
	if "$UXMPPD" -c "$conf" store-compact >"$tmp/lock.out" 2>&1; then
		because "store-compact ran beside the server"
	elif ! grep -q "pid $srv_pid" "$tmp/lock.out"; then
		because "lock message: $(cat "$tmp/lock.out")"
	fi

	# the client, and kill -9 at a random moment
	"$DRIVER" -s "$(rand16)$(rand16)" -t "r$round" -c "$PEER" -w peerpw \
	    "127.0.0.1:$port" "$OWNER" ownerpw "$ROOM" >"$tmp/round.out" \
	    2>"$tmp/driver.err" &
	dpid=$!
	ms=$((50 + $(rand16) % 451))
	sleep_ms "$ms"
	kill -9 "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	srv_pid=
	wait_child "$dpid" 10
	dpid=
	# 3: the connection was lost, as it should be
	if [ "$st" != 3 ]; then
		because "driver exit $st: $(grep -v seed "$tmp/driver.err" |
		    tail -n 1)"
	fi
	if grep -q -E 'Sanitizer|runtime error' "$tmp/driver.err"; then
		because "sanitizer report from the driver"
	fi
	cat "$tmp/round.out" >>"$journal"
	n=$(grep -c '^ack' "$tmp/round.out")
	acks=$((acks + n))

	# the store is sound
	if ! "$UXMPPD" -c "$conf" store-check >"$tmp/check.out" 2>&1; then
		because "store-check: $(head -n 2 "$tmp/check.out" | tr '\n' ' ')"
	elif grep -q 'torn last record' "$tmp/check.out"; then
		torn=$((torn + 1))
	fi

	# offline account creations killed at random moments
	i=1
	while [ "$i" -le "$ADDUSER_PER_ROUND" ]; do
		jid="r$round-a$i@localhost"
		echo "sent acct $jid - yes" >>"$journal"
		printf 'secret\n' | "$UXMPPD" -c "$conf" adduser "$jid" \
		    >"$tmp/add.out" 2>&1 &
		apid=$!
		sleep_ms $(($(rand16) % 8))
		kill -9 "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
		if grep -q "done" "$tmp/add.out"; then
			echo "ack acct $jid - yes" >>"$journal"
		fi
		i=$((i + 1))
	done

	# it starts again and holds everything acknowledged
	if ! server_up "$conf" 2>/dev/null; then
		echo "FAIL round $round: the server did not restart:" \
		    "$(tail -n 3 "$tmp/stderr")"
		failed=$((failed + 1))
		kill -9 "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
		srv_pid=
		break
	fi
	arc_ok=1
	: >"$tmp/arcs"
	for a in "$ROOM" "$OWNER" "$PEER"; do
		# the archived messages: their body is their id
		if "$UXMPPD" -c "$conf" archive-dump "$a" >"$tmp/arc.out" \
		    2>"$tmp/arc.err"; then
			sed -n "s|.*<body>\([^<]*\)</body>.*|msg $a \1 yes|p" \
			    "$tmp/arc.out" >>"$tmp/arcs"
		else
			arc_ok=
		fi
	done
	if "$UXMPPD" -c "$conf" store-dump >"$tmp/dump.out" 2>&1 &&
	    [ -n "$arc_ok" ]; then
		dump_state "$tmp/dump.out" >"$tmp/state"
		cat "$tmp/arcs" >>"$tmp/state"
		: >"$tmp/resolved"
		check_state "$journal" "$tmp/state" "$tmp/resolved" \
		    >"$tmp/diff"
		cat "$tmp/resolved" >>"$journal"
		if [ -s "$tmp/diff" ]; then
			because "$(wc -l <"$tmp/diff") difference(s):" \
			    "$(sort "$tmp/diff" | head -n 3 | sed 's/$/;/' |
			    tr '\n' ' ')"
		fi
	else
		because "store-dump or archive-dump: $(head -n 1 "$tmp/dump.out")" \
		    "$(head -n 1 "$tmp/arc.err" 2>/dev/null)"
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
if [ -n "$srv_pid" ]; then
	kill -TERM "$srv_pid"
	wait_child "$srv_pid" 10
	srv_pid=
	if [ "$st" != 0 ]; then
		echo "FAIL final stop: server exit $st"
		failed=$((failed + 1))
	elif ! "$UXMPPD" -c "$conf" store-check >"$tmp/check.out" 2>&1; then
		echo "FAIL final stop: store-check: $(head -n 1 "$tmp/check.out")"
		failed=$((failed + 1))
	fi
fi
if [ "$acks" -eq 0 ]; then
	echo "FAIL the driver had no change acknowledged in any round"
	failed=$((failed + 1))
fi
if sanitizer_report "$tmp/stderr" "$tmp/log"; then
	echo "FAIL sanitizer report from the server"
	failed=$((failed + 1))
fi
echo "store-crash: $acks changes acknowledged, $torn torn tail(s) seen"
summary
