#!/bin/sh
# store-crash.sh - kill -9 the server and the account commands at random
# moments.  After every round:
#   - `uxmppd store-check` exits 0 (a torn last record is allowed: it is
#     an unacknowledged write, reported and truncated at the next start);
#   - every account whose `adduser` printed "done" is in `store-dump`;
#   - a second process can't open the store while the server holds it.
# A kill -9 leaves the page cache intact; a real power cut is not covered.
#
# usage: tests/store-crash.sh [ROUNDS]   (runs $UXMPPD or ./uxmppd: make first)
cd "$(dirname "$0")/.." || exit 1
BIN=${UXMPPD:-./uxmppd}
ROUNDS=${1:-10}
PER_ROUND=8
[ -x "$BIN" ] || { echo "store-crash: build $BIN first"; exit 1; }

dir=$(mktemp -d /tmp/store-crash.XXXXXX) || exit 1
spid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

seed=$$
rnd() {	# rnd MAX_SECONDS: a random delay
	seed=$((seed + 1))
	awk -v s="$seed" -v m="$1" 'BEGIN { srand(s); printf "%.3f", rand() * m }'
}

port=$((20000 + $$ % 20000))
conf=$dir/uxmppd.conf
cat >"$conf" <<EOF
domain = localhost
data_dir = $dir/data
c2s_listen = 127.0.0.1:$port
log_file = $dir/uxmppd.log
store_sync = always
EOF

passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "store-crash: FAIL: $*"; }

acked=$dir/acked
: >"$acked"
n=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
	# the server: replays the store at start, killed at a random moment
	"$BIN" -c "$conf" >>"$dir/server.out" 2>&1 &
	spid=$!
	sleep 0.2
	if kill -0 "$spid" 2>/dev/null; then
		# the lock: a second process is refused, naming the server
		if printf 'pw\n' | "$BIN" -c "$conf" adduser lock@localhost \
		    >"$dir/lock.out" 2>&1; then
			bad "round $round: adduser ran beside the server"
		elif grep -q "pid $spid" "$dir/lock.out"; then
			ok
		else
			bad "round $round: lock message: $(cat "$dir/lock.out")"
		fi
	else
		bad "round $round: the server did not start:" \
		    "$(tail -n 3 "$dir/server.out")"
	fi
	sleep "$(rnd 0.3)"
	kill -9 "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=

	# writers killed at random moments
	i=0
	while [ "$i" -lt "$PER_ROUND" ]; do
		n=$((n + 1))
		jid="user$n@localhost"
		printf 'secret%d\n' "$n" | "$BIN" -c "$conf" adduser "$jid" \
		    >"$dir/add.out" 2>&1 &
		apid=$!
		sleep "$(rnd 0.006)"
		kill -9 "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
		if grep -q "done" "$dir/add.out"; then
			echo "$jid" >>"$acked"
		fi
		i=$((i + 1))
	done

	# the store is sound and holds every acknowledged account
	if "$BIN" -c "$conf" store-check >"$dir/check.out" 2>&1; then
		ok
	else
		bad "round $round: store-check: $(cat "$dir/check.out")"
	fi
	if "$BIN" -c "$conf" store-dump >"$dir/dump.out" 2>&1; then
		missing=0
		while read -r jid; do
			if ! grep -q "^account	$jid	" "$dir/dump.out"; then
				missing=$((missing + 1))
				bad "round $round: acknowledged $jid is missing"
			fi
		done <"$acked"
		[ "$missing" -eq 0 ] && ok
	else
		bad "round $round: store-dump: $(cat "$dir/dump.out")"
	fi
	round=$((round + 1))
done
echo "store-crash: $(wc -l <"$acked") of $n adduser runs acknowledged"
echo "store-crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
