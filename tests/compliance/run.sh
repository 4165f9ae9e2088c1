#!/bin/sh
# tests/compliance/run.sh - the 21 scored server checks of the Conversations
# compliance tester (iNPUTmice/caas), each against a fresh uxmppd:
#   - tests/compliance/*.scs (disco and iq checks), through
#     tests/run-scenarios.sh: one new server per file;
#   - tests/compliance/stream-features.sh (stream features and direct TLS,
#     which scenarios cannot see): one new server for its 5 checks.
# Prints one line per check, "PASS name" or
# "MISSING name (arrives with issue N)", then "compliance: K of 21",
# then "N passed, N failed", where a check passes when it behaves as
# expected-missing.txt says: a listed check must fail, any other must pass.
# So the run fails when a check not in the list fails, when a listed check
# passes (remove it from the list), or when a server did not start or exit
# cleanly.  README.md has the table.
TEST_NAME=compliance-run
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib.sh"
DIR=$ROOT/tests/compliance
EXPECTED=$DIR/expected-missing.txt
SCORED=21

# name -> issue, from the list ("name issue  # comment").
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$EXPECTED" >"$tmp/expected"

sh "$ROOT/tests/run-scenarios.sh" "$DIR"/*.scs >"$tmp/scs.out" 2>&1
sh "$DIR/stream-features.sh" >"$tmp/sf.out" 2>&1
sf_rc=$?

# "PASS name..." / "FAIL name: reason" of both, one per check.
sed -n -E 's/^(PASS|FAIL) ([A-Za-z0-9_]+)(:.*)?$/\1 \2 \3/p' \
    "$tmp/scs.out" "$tmp/sf.out" >"$tmp/results"

ok=0
bad=0
score=0
total=0
while read -r st name reason; do
	total=$((total + 1))
	issue=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/expected")
	if [ "$st" = PASS ]; then
		score=$((score + 1))
		echo "PASS $name"
		if [ -n "$issue" ]; then
			echo "    unexpected: expected-missing.txt lists it" \
			    "(issue $issue); remove it there"
			bad=$((bad + 1))
		else
			ok=$((ok + 1))
		fi
		continue
	fi
	case $reason in
	*"server exit status"*|*"server did not"*|*"sanitizer report"*|\
	*"does not parse"*|*"adduser"*|*"no free port"*|*"runner exit"*)
		echo "FAIL $name (the server or the runner failed$reason)"
		bad=$((bad + 1))
		continue ;;
	esac
	if [ -n "$issue" ]; then
		case $issue in
		-) echo "MISSING $name (expected; no issue brings it yet)" ;;
		*) echo "MISSING $name (expected; arrives with issue $issue)" ;;
		esac
		ok=$((ok + 1))
	else
		echo "FAIL $name (unexpected: not in expected-missing.txt$reason)"
		bad=$((bad + 1))
	fi
done <"$tmp/results"

# Every listed name must be a check that ran.
for name in $(awk '{ print $1 }' "$tmp/expected"); do
	if ! awk -v n="$name" '$2 == n { f = 1 } END { exit !f }' "$tmp/results"; then
		echo "FAIL $name (listed in expected-missing.txt but no such check ran)"
		bad=$((bad + 1))
	fi
done
if [ "$sf_rc" -ne 0 ]; then
	echo "FAIL stream-features.sh:"
	sed 's/^/    | /' "$tmp/sf.out" | tail -n 20
	bad=$((bad + 1))
fi
if [ "$total" -ne "$SCORED" ]; then
	echo "FAIL checks: $total ran, the tester scores $SCORED"
	bad=$((bad + 1))
fi
if [ "$bad" -ne 0 ]; then
	echo "--- scenario runner output:"
	grep -v -E '^PASS ' "$tmp/scs.out" | sed 's/^/    | /' | head -n 80
fi
echo "compliance: $score of $SCORED"
echo "$ok passed, $bad failed"
[ "$bad" -eq 0 ]
