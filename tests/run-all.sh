#!/bin/sh
# make test: every unit test binary, the fuzz corpus replay, the runner's
# self-test and every scenario; the totals as the last line.
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Each step prints lines ending in "N passed, N failed"; add them up.
count() {
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	set -- "$1" $(printf '%s\n' "$line" |
	    sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/')
	if [ -z "$line" ]; then
		# a step that died without a summary counts as one failure
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
	grep -v -E '^\s*$' "$log" | grep -E 'FAIL|failed|passed|SKIP|error' | tail -n 40
	count $rc
}

for t in "$@"; do
	step "$t"
done
for s in tests/fuzz-replay.sh tests/runner-selftest.sh tests/run-scenarios.sh \
    tests/tls-test.sh; do
	[ -x "$s" ] && step "$s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
