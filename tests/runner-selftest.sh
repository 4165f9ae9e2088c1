#!/bin/sh
# tests/runner-selftest.sh - checks that the scenario runner can fail.
# Every tests/runner-selftest/*.scs is run against a fresh uxmppd by
# run-scenarios.sh --selftest: files marked "# expect: pass" must pass, the
# others must fail at the action after their "# expect-fail-here" comment
# (a deliberately wrong expectation).  Timeouts are short because most
# files wait for a stanza that never matches.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCANSION_OPTS=${SCANSION_OPTS:-"--timeout 1 --nothing-wait 0.5"}
export SCANSION_OPTS
echo "runner self-test:"
exec sh "$ROOT/tests/run-scenarios.sh" --selftest "$@" \
    "$ROOT"/tests/runner-selftest/*.scs
