#!/bin/sh
# make test: the unit test binaries named as arguments, every fuzz corpus
# replayed through its target, the runner's self-test, our scenarios, the
# Prosody scenarios uxmppd claims (tests/peer-expected.txt), the TLS
# checks, the per-connection limits over real sockets, account commands
# against a running server, a graceful shutdown with clients connected and
# a few rounds of the kill -9 crash test.  Each step prints "N passed, N failed"; the last line is the sum.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PEER_DIR=${PEER_DIR:-../shared/peer-scenarios/prosody}
passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Add up a step's summary; a step that fails without one counts as one
# failure, and so does a non-zero exit with "0 failed".
count() {
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	set -- "$1" $(printf '%s\n' "$line" |
	    sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/')
	if [ -z "$line" ]; then
		set -- "$1" 0 1
	elif [ "$1" -ne 0 ] && [ "$3" -eq 0 ]; then
		set -- "$1" "$2" 1
	fi
	passed=$((passed + $2))
	failed=$((failed + $3))
}

step() {
	"$@" >"$log" 2>&1
	rc=$?
	grep -E 'FAIL|SKIP|passed, [0-9]+ failed' "$log" | tail -n 40
	count $rc
}

for t in "$@"; do
	step "$t"
done
for r in "$BUILD"/fuzz_*_replay; do
	[ -x "$r" ] || continue
	name=${r##*/fuzz_}
	name=${name%_replay}
	step "$r" tests/fuzz/corpus/"$name"/*
done
step sh tests/runner-selftest.sh
step sh tests/run-scenarios.sh
step sh tests/run-scenarios.sh --list tests/peer-expected.txt --dir "$PEER_DIR"
step sh tests/tls-test.sh
step sh tests/limits-test.sh
step sh tests/control-test.sh
step sh tests/shutdown-test.sh
step sh tests/store-crash.sh 3
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
