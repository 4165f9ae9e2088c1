#!/bin/sh
# make test: the unit test binaries named as arguments, every fuzz corpus
# replayed through its target, the runner's self-test, our scenarios, the
# Prosody scenarios uxmppd claims (tests/peer-expected.txt), the TLS
# checks, the per-connection limits and the rate limits over real
# sockets, HTTP and XMPP over
# WebSocket over real sockets (tests/http-test.sh), XEP-0363 uploads over
# HTTP with curl (tests/upload-test.sh, a 100 MB file with flat RSS),
# account commands against a running server, invitations, the admin
# ad-hoc commands, a graceful shutdown with clients connected, a few
# rounds of the kill -9 crash test, a few hundred power-cut crash points
# (tests/powercut.py) and Converse.js in headless Chromium (SKIP without
# it).  Each step prints
# "N passed, N failed" (tests/lib.sh's count_step adds it up); the last
# line is the sum.
#   --unit   only the binaries named as arguments (make unit)
TEST_NAME=run-all
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
PEER_DIR=${PEER_DIR:-../shared/peer-scenarios/prosody}
unit=0
if [ "${1:-}" = --unit ]; then
	unit=1
	shift
fi

step() {
	"$@" >"$tmp/step" 2>&1
	rc=$?
	grep -E 'FAIL|SKIP|passed, [0-9]+ failed' "$tmp/step" | tail -n 40
	count_step $rc "$tmp/step"
}

for t in "$@"; do
	step "$t"
done
if [ "$unit" = 1 ]; then
	summary
	exit
fi
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
step sh tests/membudget-test.sh
step sh tests/enumeration-test.sh
step sh tests/diskfull-test.sh
step sh tests/ratelimit-test.sh
step sh tests/http-test.sh
step sh tests/upload-test.sh
step sh tests/control-test.sh
step sh tests/invite-test.sh
step sh tests/adhoc-test.sh
step sh tests/shutdown-test.sh
step sh tests/store-crash.sh 3
step python3 tests/powercut.py --seed 1 --points 300 --ops 150
step sh tests/browser-test.sh
summary
